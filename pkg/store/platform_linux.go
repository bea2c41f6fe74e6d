package store

import (
	"bufio"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fallocate reserves size bytes of disk for f (mode 0: blocks allocated,
// file size extended, contents read as zeros).
func fallocate(f *os.File, size int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, 0, size)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// pwriteHeld writes p at off in f with pwrite system calls made as raw
// system calls: the calling goroutine keeps its Go processor throughout,
// where os.File.WriteAt tells the scheduler it entered a system call. A
// write to the page cache is not expected to block long, but one of a few
// MiB takes a few hundred microseconds, and the runtime's monitor thread
// takes the processor away from a system call it finds running twice, 20
// us apart, when no other processor is idle (tstd runs one): the event
// loop then gets a processor back on another thread, and the monitor,
// having found work, keeps waking every 20 us (perf/results/hotpath.md,
// "The flush's pwrite keeps the processor"). The cost: the other
// goroutines of a one-processor program wait for the write. The caller
// keeps f open.
func pwriteHeld(f *os.File, p []byte, off int64) (int, error) {
	fd := f.Fd()
	n := 0
	for n < len(p) {
		r, _, e := unix.RawSyscall6(unix.SYS_PWRITE64, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n), uintptr(off+int64(n)), 0, 0)
		switch {
		case e == unix.EINTR:
		case e != 0:
			return n, &os.PathError{Op: "write", Path: f.Name(), Err: e}
		case r == 0:
			return n, &os.PathError{Op: "write", Path: f.Name(), Err: io.ErrShortWrite}
		default:
			n += int(r)
		}
	}
	runtime.KeepAlive(f)
	return n, nil
}

// errNoFallocate reports whether err means the filesystem cannot
// preallocate, so zeros must be written instead.
func errNoFallocate(err error) bool {
	return errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS)
}

// fdatasync flushes f's data, including pages dirtied through a shared
// mapping (Linux writes those back on fdatasync of the file).
func fdatasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}

// hugeFolios reports whether transparent huge pages are available for
// madvise (THP "always" or "madvise"), read once.
var hugeFolios = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && !strings.Contains(string(b), "[never]")
})

// rechunk rebuilds the page cache of f, mapped at m, in 2 MiB folios
// (rechunk.go), for the whole 2 MiB chunks of m in [lo, hi) (multiples of
// 2 MiB): it makes f durable (so that no page of those chunks is dirty),
// advises huge pages for them, then per chunk unmaps its pages, drops them
// from the page cache and reads them back through m: for a huge-page range
// that reads the file into a 2 MiB folio and maps it with one entry.
// Nothing is lost if a step fails: the file is durable before any page is
// dropped, and a page not read back is read at its next access. The
// chunks must not be written during the call (a page dirtied meanwhile
// would only stay in the page cache); m must stay mapped and start on a
// 2 MiB boundary, else rechunk does nothing.
func rechunk(f *os.File, m []byte, lo, hi int) error {
	const huge = 2 << 20
	hi = min(hi, len(m)&^(huge-1))
	if lo >= hi || uintptr(unsafe.Pointer(unsafe.SliceData(m)))%huge != 0 {
		return nil
	}
	if err := fdatasync(f); err != nil {
		return err
	}
	// Only the chunks rebuilt: a fault on a page missing from the page
	// cache in a huge-page range reads ahead a whole 2 MiB folio, which
	// the active segment's unwritten tail must not get (small writes into
	// it would then walk its 512 buffer heads each).
	if err := unix.Madvise(m[lo:hi], unix.MADV_HUGEPAGE); err != nil {
		return err
	}
	// 2 MiB at a time, so that a reader finds at most one chunk out of
	// the page cache (and reads it from the disk) at any moment.
	for off := lo; off+huge <= hi; off += huge {
		c := m[off : off+huge]
		if err := unix.Madvise(c, unix.MADV_DONTNEED); err != nil {
			return err
		}
		if err := unix.Fadvise(int(f.Fd()), int64(off), huge, unix.FADV_DONTNEED); err != nil {
			return err
		}
		if err := unix.Madvise(c, unix.MADV_POPULATE_READ); err != nil {
			return err
		}
	}
	return nil
}

// pmdMappedKB returns the FilePmdMapped figure (KiB of the file mapped with
// huge entries) of the mapping of this process that starts where m does,
// from /proc/self/smaps; -1 if it finds none.
func pmdMappedKB(m []byte) int { return smapsKB(m, "FilePmdMapped:") }

// smapsKB returns the figure of field (e.g. "Rss:") of the mapping of this
// process that starts where m does, from /proc/self/smaps, in KiB; -1 if
// it finds none.
func smapsKB(m []byte, field string) int {
	v, ok := smapsField(uintptr(unsafe.Pointer(unsafe.SliceData(m))), field)
	if !ok {
		return -1
	}
	kb, err := strconv.Atoi(strings.Fields(v)[0])
	if err != nil {
		return -1
	}
	return kb
}

// smapsField returns the text after field (e.g. "Rss:", "VmFlags:") in the
// /proc/self/smaps entry of the mapping that starts at addr, trimmed;
// false if no mapping starts there or it has no such field.
func smapsField(addr uintptr, field string) (string, bool) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", false
	}
	defer f.Close()
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		head, rest, _ := strings.Cut(line, " ")
		if lo, _, ok := strings.Cut(head, "-"); ok && !strings.HasSuffix(head, ":") {
			a, err := strconv.ParseUint(lo, 16, 64)
			in = err == nil && uintptr(a) == addr
			continue
		}
		if in && head == field {
			v := strings.TrimSpace(rest)
			return v, v != ""
		}
	}
	return "", false
}
