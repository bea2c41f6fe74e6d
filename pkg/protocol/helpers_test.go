package protocol

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// requireEqual fails the test if got != want (reflect.DeepEqual).
func requireEqual[T any](t testing.TB, got, want T, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

// outcome is everything a parse of a byte stream produced: the commands in
// order, the protocol error that ended it (text, "" if none), and how many
// trailing bytes were left unconsumed as an incomplete request.
type outcome struct {
	Cmds     [][]string
	Err      string
	Leftover int
}

func (o outcome) String() string {
	var b strings.Builder
	for _, c := range o.Cmds {
		fmt.Fprintf(&b, "%q ", c)
	}
	fmt.Fprintf(&b, "err=%q leftover=%d", o.Err, o.Leftover)
	return b.String()
}

func copyArgs(args [][]byte) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

// parseWhole parses in as one buffer, the way a server would on a single
// read, and checks the Reader's contract along the way.
func parseWhole(t testing.TB, r *Reader, in []byte) outcome {
	t.Helper()
	return feed(t, r, in, []int{len(in)})
}

// feed delivers in as a stream of reads ending at the given cut offsets
// (ascending, the last one len(in)) to a simulated event loop: the pending
// bytes are copied into a fresh buffer on every read, so any slice the
// Reader kept across calls would read stale memory, and every Parse is
// checked against the contract: incomplete returns nothing, Need is never
// more than the bytes that make progress, a consumed prefix is > 0.
func feed(t testing.TB, r *Reader, in []byte, cuts []int) outcome {
	t.Helper()
	var o outcome
	var pending []byte
	prev := 0
	for _, cut := range cuts {
		// A fresh buffer, as when the caller's ring buffer grows or moves.
		nb := make([]byte, len(pending)+cut-prev)
		copy(nb, pending)
		copy(nb[len(pending):], in[prev:cut])
		pending = nb
		prev = cut
		for {
			need := r.Need()
			args, n, err := r.Parse(pending)
			if err != nil {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("Parse returned %T %v, want *Error", err, err)
				}
				if args != nil || n != 0 {
					t.Fatalf("Parse error %q with args=%q n=%d", err, args, n)
				}
				o.Err = err.Error()
				return o
			}
			if n == 0 {
				if args != nil {
					t.Fatalf("incomplete Parse returned args %q", args)
				}
				if r.Need() <= len(pending) {
					t.Fatalf("incomplete Parse of %d bytes but Need()=%d", len(pending), r.Need())
				}
				break
			}
			if len(pending) < need {
				t.Fatalf("Parse made progress (n=%d) with %d bytes but Need() was %d", n, len(pending), need)
			}
			if n > len(pending) {
				t.Fatalf("Parse consumed %d of %d bytes", n, len(pending))
			}
			if args != nil {
				if len(args) == 0 {
					t.Fatalf("Parse returned a non-nil empty args")
				}
				o.Cmds = append(o.Cmds, copyArgs(args))
			}
			pending = pending[n:]
		}
	}
	o.Leftover = len(pending)
	return o
}

// everyCut returns the cut lists that split in into two reads at each byte.
func everyCut(in []byte) [][]int {
	var out [][]int
	for i := 0; i <= len(in); i++ {
		out = append(out, []int{i, len(in)})
	}
	return out
}

// byteByByte returns the cut list delivering in one byte per read.
func byteByByte(in []byte) []int {
	cuts := make([]int, len(in))
	for i := range cuts {
		cuts[i] = i + 1
	}
	if len(cuts) == 0 {
		cuts = []int{0}
	}
	return cuts
}

// encodeCmd encodes args as a RESP multibulk request with the writer.
func encodeCmd(dst []byte, args ...string) []byte {
	dst = AppendArrayLen(dst, len(args))
	for _, a := range args {
		dst = AppendBulkString(dst, a)
	}
	return dst
}

func cmds(c ...[]string) [][]string { return c }
func cmd(args ...string) []string   { return args }
