package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of size bytes on a fresh directory for the
// test. It needs root (CAP_SYS_ADMIN): without it the test skips, saying
// why, unless TSTD_REQUIRE_ROOT=1 (CI), where it fails.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		if os.Getenv("TSTD_REQUIRE_ROOT") == "1" {
			t.Fatalf("mount tmpfs (TSTD_REQUIRE_ROOT=1): %v", err)
		}
		t.Skipf("skipping: mounting a size-limited tmpfs needs root: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestDiskFull fills a 12 MiB filesystem: writes then fail with Redis's
// MISCONF error instead of crashing (segments are allocated before they are
// mapped, so a full disk is never a SIGBUS), reads keep working, no
// acknowledged value is lost or damaged, and once space is freed writes
// resume; after a restart everything acknowledged is back.
func TestDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, 12<<20)
	dir := filepath.Join(mnt, "data")
	// Ballast that the test deletes later to free space.
	ballast := filepath.Join(mnt, "ballast")
	if err := os.WriteFile(ballast, make([]byte, 4<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Options{Dir: dir, SegmentSize: 1 << 20, AppendFsync: "no"})
	c := dialRaw(t, s.Addr())
	value := strings.Repeat("v", 4000)

	acked := 0
	var full string
	for i := 0; i < 10000 && full == ""; i++ {
		c.send(fmt.Sprintf("SET key:%d %s\r\n", i, value))
		line := c.readLine()
		switch {
		case line == "+OK":
			acked++
		case strings.HasPrefix(line, "-MISCONF "):
			full = line
		default:
			t.Fatalf("SET key:%d: unexpected reply %q", i, line)
		}
	}
	if full == "" {
		t.Fatalf("wrote %d keys of 4 KB into a 12 MiB filesystem without an error", acked)
	}
	if full != "-MISCONF Errors writing to the AOF file: No space left on device" {
		t.Fatalf("disk full reply %q", full)
	}
	t.Logf("disk full after %d acknowledged SETs: %s", acked, full)

	// Reads keep working, and every acknowledged value is intact.
	for _, i := range []int{0, acked / 2, acked - 1} {
		c.send(fmt.Sprintf("GET key:%d\r\n", i))
		c.expect(fmt.Sprintf("$%d\r\n%s\r\n", len(value), value))
	}
	c.send(fmt.Sprintf("SET key:%d %s\r\n", acked, value))
	if line := c.readLine(); !strings.HasPrefix(line, "-MISCONF ") {
		t.Fatalf("SET while still full: %q, want MISCONF", line)
	}

	// Free space: writes resume.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.send(fmt.Sprintf("SET key:%d %s\r\n", acked, value))
		line := c.readLine()
		if line == "+OK" {
			acked++
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes did not resume after freeing space: %q", line)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.send("DBSIZE\r\n")
	c.expect(fmt.Sprintf(":%d\r\n", acked))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = startServer(t, Options{Dir: dir, SegmentSize: 1 << 20})
	c = dialRaw(t, s.Addr())
	c.send("DBSIZE\r\n")
	c.expect(fmt.Sprintf(":%d\r\n", acked))
	c.send(fmt.Sprintf("GET key:%d\r\n", acked-1))
	c.expect(fmt.Sprintf("$%d\r\n%s\r\n", len(value), value))
}

// readLine reads one reply line (without CRLF).
func (c *rawConn) readLine() string {
	c.t.Helper()
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return strings.TrimSuffix(line, "\r\n")
}
