package eventloop

import (
	"testing"

	"github.com/toonstore/toonstore/pkg/cache"
	"github.com/toonstore/toonstore/pkg/command"
	"github.com/toonstore/toonstore/pkg/store"
)

// realServer returns a command server over a real store and cache in a
// temporary directory.
func realServer(t testing.TB) *command.Server {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{Sync: store.SyncNo})
	if err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(st, cache.Options{NoActiveExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return command.NewServer(c, nil, nil)
}

var (
	getSetBatch = []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
	getBatch    = []byte("*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
	setBatch    = []byte("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
)

// Known allocations on the hot path outside this package, as budgets that
// fail on any regression. Lower them as they are removed:
//   - command.(*Server).Execute: none (the Ctx is reused from the Client).
//   - SET of a key whose decoded copy is cached: the cache keeps its own
//     copy of the new value (cache.Value owns its bytes). A SET of a key
//     that is not cached allocates nothing (writes go around the cache).
const (
	execAllocs     = 0
	setValueAllocs = 1
)

// TestHotPathAllocs measures the decode -> execute -> encode path of GET
// and SET with the real command table, cache and store: the event loop's
// part allocates nothing (TestOnTrafficAllocs), so the totals must stay
// within the budgets above.
func TestHotPathAllocs(t *testing.T) {
	h := newTestHandler(t, Options{Server: realServer(t)})
	f := open(t, h)
	tests := []struct {
		name   string
		batch  []byte
		want   string
		budget float64
	}{
		{"SET", setBatch, "+OK\r\n", execAllocs + setValueAllocs},
		{"GET", getBatch, "$5\r\nvalue\r\n", execAllocs},
		{"SET+GET", getSetBatch, "+OK\r\n$5\r\nvalue\r\n", 2*execAllocs + setValueAllocs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := func() {
				f.in = append(f.in[:0], tc.batch...)
				f.out = f.out[:0]
				h.OnTraffic(f)
			}
			run()
			if string(f.out) != tc.want {
				t.Fatalf("replies %q, want %q", f.out, tc.want)
			}
			allocs := testing.AllocsPerRun(1000, run)
			if allocs > tc.budget {
				t.Errorf("%s allocates %.1f times per batch, budget %.0f", tc.name, allocs, tc.budget)
			}
			t.Logf("%s: %.1f allocations per batch (budget %.0f)", tc.name, allocs, tc.budget)
		})
	}
}

func BenchmarkHotPathGetSet(b *testing.B) {
	h := newTestHandler(b, Options{Server: realServer(b)})
	f := open(b, h)
	b.ReportAllocs()
	b.SetBytes(int64(len(getSetBatch)))
	for b.Loop() {
		f.in = append(f.in[:0], getSetBatch...)
		f.out = f.out[:0]
		h.OnTraffic(f)
	}
}
