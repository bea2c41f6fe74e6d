package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/toonstore/toonstore/pkg/store"
)

// TestBGSaveRestoreWhileWriting: BGSAVE while clients write produces
// dir/dbfilename, a backup that restores to a point in time between the
// BGSAVE and its completion: per writer, every write acknowledged before
// the BGSAVE, none started after it completed, and a gap-free prefix in
// between (with a counter that agrees with it, written after each step).
func TestBGSaveRestoreWhileWriting(t *testing.T) {
	s := startServer(t, Options{SegmentSize: 256 << 10})
	ctx := context.Background()
	c := newClient(t, s.Addr(), 2)
	// Some bulk first, so that the backup takes a while.
	pipe := c.Pipeline()
	big := strings.Repeat("x", 1000)
	for i := range 5000 {
		pipe.Set(ctx, fmt.Sprintf("bulk:%d", i), big, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}

	const writers = 3
	var acked [writers]atomic.Int64 // writes acknowledged per writer
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wc := newClient(t, s.Addr(), 2)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// The key, then the counter (MULTI may not exist): a backup
				// can fall between them.
				_, err := wc.Pipelined(ctx, func(p redis.Pipeliner) error {
					p.Set(ctx, fmt.Sprintf("w%d:%d", w, i), strconv.Itoa(i), 0)
					p.Incr(ctx, fmt.Sprintf("ctr:%d", w))
					return nil
				})
				if err != nil {
					t.Errorf("writer %d step %d: %v", w, i, err)
					return
				}
				acked[w].Store(int64(i + 1))
			}
		}()
	}
	backupWait(t, func() bool { return acked[0].Load() > 100 && acked[writers-1].Load() > 100 })

	last, err := c.LastSave(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	var before [writers]int64
	for w := range before {
		before[w] = acked[w].Load()
	}
	if got, err := c.BgSave(ctx).Result(); err != nil || got != "Background saving started" {
		t.Fatalf("BGSAVE = %q, %v", got, err)
	}
	if err := c.Do(ctx, "BGSAVE").Err(); err == nil || err.Error() != "ERR Background save already in progress" {
		// The save may already be over on a fast machine; then it must say so.
		if !strings.Contains(c.Info(ctx, "persistence").Val(), "rdb_bgsave_in_progress:0") {
			t.Fatalf("second BGSAVE: %v", err)
		}
	}
	backupWait(t, func() bool {
		return strings.Contains(c.Info(ctx, "persistence").Val(), "rdb_bgsave_in_progress:0")
	})
	var after [writers]int64
	for w := range after {
		after[w] = acked[w].Load() + 1 // the step in flight may have been applied
	}
	info := c.Info(ctx, "persistence").Val()
	if !strings.Contains(info, "rdb_last_bgsave_status:ok") {
		t.Fatalf("INFO after BGSAVE:\n%s", info)
	}
	if now, _ := c.LastSave(ctx).Result(); now < last {
		t.Fatalf("LASTSAVE went from %d to %d", last, now)
	}
	close(stop)
	wg.Wait()

	path := filepath.Join(s.Dir(), "dump.rdb")
	if s.BackupPath() != path {
		t.Fatalf("BackupPath = %s, want %s", s.BackupPath(), path)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("BGSAVE wrote no %s: %v", path, err)
	}
	defer f.Close()
	rdir := t.TempDir()
	binfo, err := store.Restore(f, rdir, store.RestoreOptions{})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	t.Logf("backup: %d segments, %d bytes, last sequence %d", binfo.Segments, binfo.Bytes, binfo.LastSequence)

	r := startServer(t, Options{Dir: rdir})
	rc := newClient(t, r.Addr(), 2)
	if n := rc.DBSize(ctx).Val(); n < 5000 {
		t.Fatalf("restored DBSIZE %d, want the 5000 bulk keys and more", n)
	}
	if v := rc.Get(ctx, "bulk:4999").Val(); v != big {
		t.Fatalf("restored bulk:4999 = %.20q", v)
	}
	for w := range writers {
		n := int64(0) // the steps of w in the backup: a prefix
		for ; n <= after[w]; n++ {
			v, err := rc.Get(ctx, fmt.Sprintf("w%d:%d", w, n)).Result()
			if err != nil {
				break
			}
			if v != strconv.FormatInt(n, 10) {
				t.Fatalf("writer %d: step %d holds %q", w, n, v)
			}
		}
		for i := n + 1; i <= after[w]+1; i++ {
			if err := rc.Get(ctx, fmt.Sprintf("w%d:%d", w, i)).Err(); err == nil {
				t.Fatalf("writer %d: step %d in the backup but not step %d: not a point in time", w, i, n)
			}
		}
		if n < before[w] || n > after[w] {
			t.Fatalf("writer %d: %d steps in the backup, want between %d (acknowledged before BGSAVE) and %d (when it completed)", w, n, before[w], after[w])
		}
		if ctr, _ := rc.Get(ctx, fmt.Sprintf("ctr:%d", w)).Int64(); ctr != n && ctr != n-1 {
			t.Fatalf("writer %d: counter %d with %d steps in the backup", w, ctr, n)
		}
	}
}

// TestSaveWritesBackup: SAVE writes the backup synchronously and a
// dbfilename naming a file of the store is refused.
func TestSaveWritesBackup(t *testing.T) {
	s := startServer(t, Options{})
	ctx := context.Background()
	c := newClient(t, s.Addr(), 2)
	c.Set(ctx, "k", "v", 0)
	if err := c.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(s.BackupPath())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if info, err := store.VerifyBackup(f); err != nil || info.LastSequence == 0 {
		t.Fatalf("VerifyBackup of SAVE's file: %+v, %v", info, err)
	}
	if err := s.Config().SetArgs("dbfilename", "metadata.toon"); err != nil {
		t.Fatal(err)
	}
	if err := c.Save(ctx).Err(); err == nil || err.Error() != "ERR" {
		t.Fatalf("SAVE over metadata.toon: %v, want ERR", err)
	}
	if v := c.Get(ctx, "k").Val(); v != "v" {
		t.Fatalf("k = %q after the refused SAVE", v)
	}
}

func backupWait(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if t.Failed() {
			t.FailNow()
		}
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
