package hugemem

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// smaps returns the fields of the mapping of this process that starts at
// addr, from /proc/self/smaps (nil if none does).
func smaps(t *testing.T, addr uintptr) map[string]string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatalf("no /proc/self/smaps: %v", err)
	}
	defer f.Close()
	var fields map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		head, rest, _ := strings.Cut(sc.Text(), " ")
		if lo, _, ok := strings.Cut(head, "-"); ok && !strings.HasSuffix(head, ":") {
			if fields != nil {
				return fields
			}
			if a, err := strconv.ParseUint(lo, 16, 64); err == nil && uintptr(a) == addr {
				fields = map[string]string{}
			}
			continue
		}
		if fields != nil {
			fields[strings.TrimSuffix(head, ":")] = strings.TrimSpace(rest)
		}
	}
	return fields
}

// A Slice of Threshold bytes or more is advised for huge pages (its 2 MiB-
// aligned interior becomes a mapping of its own, flagged hg), and where
// THP is available, touching it is backed by huge pages.
func TestSliceAdvisesHugePages(t *testing.T) {
	s := Slice[byte](16 << 20)[:16<<20]
	for i := 0; i < len(s); i += 4096 {
		s[i] = 1
	}
	const huge = 2 << 20
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	m := smaps(t, p+(huge-p%huge)%huge)
	if m == nil || !strings.Contains(" "+m["VmFlags"]+" ", " hg ") {
		t.Fatalf("no mapping advised for huge pages at the slice's interior: %v", m)
	}
	thp, _ := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	kb, _ := strconv.Atoi(strings.Fields(m["AnonHugePages"] + " 0")[0])
	t.Logf("THP %q; AnonHugePages of the advised mapping: %d kB", strings.TrimSpace(string(thp)), kb)
	if !strings.Contains(string(thp), "[never]") && kb == 0 {
		t.Error("THP is available but the touched slice has no huge page")
	}
}
