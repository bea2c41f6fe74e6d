package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestBackupRestoreCLI: `tstd backup` of a running server (BGSAVE through
// the server) while a client writes, `tstd restore` into a new directory
// (refused over a store without --force), a server on the restored
// directory serving every write acknowledged before the backup; the
// offline form refused while the server runs and working once it stopped;
// a truncated backup file refused with a clear error.
func TestBackupRestoreCLI(t *testing.T) {
	dir := t.TempDir()
	p := startTstd(t, dir, nil, "--requirepass", "pw")
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: p.addr, Password: "pw", DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	for i := range 1000 {
		if err := c.Set(ctx, fmt.Sprintf("before:%d", i), fmt.Sprint(i), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// A writer that keeps going during the backup.
	var steps atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.Set(ctx, fmt.Sprintf("during:%d", i), fmt.Sprint(i), 0).Err(); err != nil {
				t.Errorf("writer: %v", err)
				return
			}
			steps.Store(int64(i + 1))
		}
	}()

	out := t.TempDir()
	file := filepath.Join(out, "backup.tar.gz")
	code, text := runTstd(t, nil, "backup", "--to", file, "--addr", p.addr, "--password", "pw")
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(text, "backup written to "+file) {
		t.Fatalf("tstd backup: exit %d\n%s", code, text)
	}
	if code, text := runTstd(t, nil, "backup", "--to", file, "--addr", p.addr); code != 1 || !strings.Contains(text, "NOAUTH") {
		t.Fatalf("tstd backup without the password: exit %d\n%s", code, text)
	}
	if code, text := runTstd(t, nil, "backup", "--to", filepath.Join(out, "x"), "--data", dir); code != 1 || !strings.Contains(text, "running tstd") {
		t.Fatalf("offline tstd backup of a running server's directory: exit %d\n%s", code, text)
	}

	rdir := filepath.Join(t.TempDir(), "restored")
	if code, text := runTstd(t, nil, "restore", file, "--data", rdir); code != 0 || !strings.Contains(text, "restored") {
		t.Fatalf("tstd restore: exit %d\n%s", code, text)
	}
	if code, text := runTstd(t, nil, "restore", file, "--data", rdir); code != 1 || !strings.Contains(text, "--force") {
		t.Fatalf("tstd restore over a store: exit %d\n%s", code, text)
	}
	if code, text := runTstd(t, nil, "restore", "--force", file, "--data", rdir); code != 0 {
		t.Fatalf("tstd restore --force: exit %d\n%s", code, text)
	}
	q := startTstd(t, rdir, nil)
	rc := client(t, q.addr, 0)
	for i := range 1000 {
		if v, err := rc.Get(ctx, fmt.Sprintf("before:%d", i)).Result(); err != nil || v != fmt.Sprint(i) {
			t.Fatalf("restored before:%d = %q, %v", i, v, err)
		}
	}
	// The writes during the backup: a prefix of them, no gap.
	n := 0
	for ; ; n++ {
		if rc.Exists(ctx, fmt.Sprintf("during:%d", n)).Val() == 0 {
			break
		}
	}
	for i := n + 1; i <= int(steps.Load()); i++ {
		if rc.Exists(ctx, fmt.Sprintf("during:%d", i)).Val() != 0 {
			t.Fatalf("during:%d restored but not during:%d", i, n)
		}
	}
	t.Logf("%d of %d writes made during the backup are in it", n, steps.Load())

	// Offline, once the server is stopped.
	p.signal(syscall.SIGTERM)
	if code := p.wait(); code != 0 {
		t.Fatalf("tstd exit %d on SIGTERM", code)
	}
	offline := filepath.Join(out, "offline.tar.gz")
	if code, text := runTstd(t, nil, "backup", "--data", dir, "--to", offline); code != 0 || !strings.Contains(text, "backup written") {
		t.Fatalf("offline tstd backup: exit %d\n%s", code, text)
	}
	odir := t.TempDir()
	if code, text := runTstd(t, nil, "restore", offline, "--data", odir); code != 0 {
		t.Fatalf("tstd restore of the offline backup: exit %d\n%s", code, text)
	}
	o := startTstd(t, odir, nil)
	if v := client(t, o.addr, 0).DBSize(ctx).Val(); v != int64(1000+int(steps.Load())) && v != int64(1001+int(steps.Load())) {
		t.Fatalf("offline backup restored %d keys, want every key the server had (%d)", v, 1000+steps.Load())
	}

	// A truncated backup is refused, and the target is left alone.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	torn := filepath.Join(out, "torn.tar.gz")
	if err := os.WriteFile(torn, b[:len(b)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	tdir := t.TempDir()
	if code, text := runTstd(t, nil, "restore", torn, "--data", tdir); code != 1 || !strings.Contains(text, "not a valid backup") || !strings.Contains(text, "truncated") {
		t.Fatalf("tstd restore of a truncated file: exit %d\n%s", code, text)
	}
	if ents, _ := os.ReadDir(tdir); len(ents) > 1 { // LOCK only
		t.Fatalf("files left in the target after a refused restore: %v", ents)
	}
}
