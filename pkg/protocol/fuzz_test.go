package protocol

import (
	"bytes"
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"testing"
)

// FuzzParse, in the manner of nats-server's parser fuzzing, checks three
// properties of any input:
//
//  1. Parsing never panics, and the Reader's contract holds at every call
//     (checked by feed).
//  2. The input split at random points, as TCP splits a stream, parses
//     exactly as the whole input: same commands, same error, same leftover.
//     Checked with Redis's limits and with tiny ones, which reach the "too
//     big" paths.
//  3. Round trip, an oracle independent of the Reader: the input read as a
//     list of arguments, encoded with the writer as a multibulk request and
//     as an inline request with every byte escaped, parses back to exactly
//     that list.
//
// Seeds: the table cases plus testdata/fuzz/FuzzParse, which plain `go
// test` replays.
func FuzzParse(f *testing.F) {
	for _, tc := range parseCases {
		if len(tc.in) < 4096 {
			f.Add([]byte(tc.in))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := fnv.New64a()
		h.Write(data)
		rng := rand.New(rand.NewPCG(h.Sum64(), uint64(len(data))))

		for _, limits := range []Reader{{}, {MaxInline: 7, MaxBulkLen: 9, MaxArgs: 5}, {Unauthenticated: true}} {
			r := limits
			whole := parseWhole(t, &r, data)
			plans := [][]int{randomCuts(rng, len(data)), randomCuts(rng, len(data))}
			if len(data) <= 256 {
				plans = append(plans, byteByByte(data))
			}
			for _, cuts := range plans {
				// The same Reader, reused after the whole parse, as a
				// connection's Reader is reused across requests.
				r.Reset()
				if got := feed(t, &r, data, cuts); !equalOutcome(got, whole) {
					t.Fatalf("limits %+v, cuts %v:\nsplit %v\nwhole %v", limits, cuts, got, whole)
				}
			}
		}

		args := fuzzArgs(data)
		if len(args) == 0 {
			return
		}
		want := outcome{Cmds: [][]string{args}}
		mb := encodeCmd(nil, args...)
		if got := feed(t, new(Reader), mb, randomCuts(rng, len(mb))); !equalOutcome(got, want) {
			t.Fatalf("multibulk round trip of %q:\n got %v", args, got)
		}
		il := encodeInline(nil, args)
		if len(il) <= DefaultMaxInline {
			if got := feed(t, new(Reader), il, randomCuts(rng, len(il))); !equalOutcome(got, want) {
				t.Fatalf("inline round trip of %q via %q:\n got %v", args, il, got)
			}
		}
	})
}

// fuzzArgs reads data as an argument list: the first byte is the
// separator, the rest is split on it.
func fuzzArgs(data []byte) []string {
	if len(data) < 2 {
		return nil
	}
	parts := bytes.Split(data[1:], data[:1])
	args := make([]string, len(parts))
	for i, p := range parts {
		args[i] = string(p)
	}
	return args
}

// encodeInline writes args as one inline request, each argument in double
// quotes with every byte that is not a plain letter or digit as \xHH.
func encodeInline(dst []byte, args []string) []byte {
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = append(dst, '"')
		for j := 0; j < len(a); j++ {
			c := a[j]
			if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
				dst = append(dst, c)
				continue
			}
			dst = append(dst, '\\', 'x')
			if c < 16 {
				dst = append(dst, '0')
			}
			dst = strconv.AppendUint(dst, uint64(c), 16)
		}
		dst = append(dst, '"')
	}
	return append(dst, '\r', '\n')
}
