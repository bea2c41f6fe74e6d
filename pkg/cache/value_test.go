package cache

import (
	"testing"
	"unsafe"
)

// TestValueSize: Value's size stays a multiple of 16 bytes, so that the
// copies made as it is returned through Tx.Get and the command layer are
// whole 16-byte pieces (see Value).
func TestValueSize(t *testing.T) {
	if n := unsafe.Sizeof(Value{}); n%16 != 0 {
		t.Errorf("cache.Value is %d bytes, not a multiple of 16", n)
	}
}
