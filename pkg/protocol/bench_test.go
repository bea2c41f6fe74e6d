package protocol

import (
	"strings"
	"testing"
)

// BenchmarkParse measures the Reader on typical requests. SetBytes is the
// request size, so MB/s is input throughput; every sub-benchmark must
// report 0 allocs/op.
func BenchmarkParse(b *testing.B) {
	get := encodeCmd(nil, "GET", "key:000000000001")
	set := encodeCmd(nil, "SET", "key:000000000001", strings.Repeat("v", 1024))
	var pipe []byte
	for i := range 64 {
		if i%2 == 0 {
			pipe = encodeCmd(pipe, "GET", "key:000000000001")
		} else {
			pipe = encodeCmd(pipe, "SET", "key:000000000001", "value-value-value")
		}
	}
	cases := []struct {
		name string
		in   []byte
	}{
		{"cmd=get", get},
		{"cmd=set-1KB", set},
		{"cmd=inline-get", []byte("GET key:000000000001\r\n")},
		{"pipeline=64", pipe},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.in)))
			var r Reader
			for b.Loop() {
				buf := tc.in
				for len(buf) > 0 {
					args, n, err := r.Parse(buf)
					if err != nil || n == 0 || len(args) == 0 {
						b.Fatalf("Parse = %d args, %d, %v", len(args), n, err)
					}
					buf = buf[n:]
				}
			}
		})
	}
	// 100k arguments arriving in 4 KB reads: resumed parsing keeps the
	// cost proportional to the bytes, not to bytes x reads.
	b.Run("split=4KB/args=100k", func(b *testing.B) {
		in := AppendArrayLen(nil, 100000)
		for range 100000 {
			in = AppendBulkString(in, "member")
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		var r Reader
		for b.Loop() {
			for end := 4096; ; end += 4096 {
				end = min(end, len(in))
				_, n, err := r.Parse(in[:end])
				if err != nil {
					b.Fatal(err)
				}
				if n != 0 {
					break
				}
			}
		}
	})
	// A 1 MB bulk arriving in 4 KB reads, Need-gated as an event loop
	// would: two Parse calls, whatever the number of reads.
	b.Run("split=4KB/bulk=1MB", func(b *testing.B) {
		in := encodeCmd(nil, "SET", "k", strings.Repeat("x", 1<<20))
		b.ReportAllocs()
		b.SetBytes(int64(len(in)))
		var r Reader
		for b.Loop() {
			for end := 4096; ; end += 4096 {
				end = min(end, len(in))
				if end < r.Need() && end < len(in) {
					continue
				}
				_, n, err := r.Parse(in[:end])
				if err != nil {
					b.Fatal(err)
				}
				if n != 0 {
					break
				}
			}
		}
	})
}

// BenchmarkAppend measures the writer building a typical reply batch into
// a reused buffer.
func BenchmarkAppend(b *testing.B) {
	val := []byte(strings.Repeat("v", 100))
	for _, proto := range []int{2, 3} {
		b.Run("proto="+string(rune('0'+proto)), func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf = buf[:0]
				buf = AppendOK(buf)
				buf = AppendBulk(buf, val)
				buf = AppendNull(buf, proto)
				buf = AppendInt(buf, 123456789)
				buf = AppendMapLen(buf, 2, proto)
				buf = AppendBulkString(buf, "field")
				buf = AppendDouble(buf, 3.14, proto)
				buf = AppendBulkString(buf, "other")
				buf = AppendDouble(buf, 1e20, proto)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}
