package cache

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/toonstore/toonstore/pkg/store"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		want      URLConfig
		bad       bool
	}{
		{"seed form", "file://./data?capacity=10000", URLConfig{Dir: "./data", Cache: Options{Capacity: 10000}}, false},
		{"default capacity", "file://./data", URLConfig{Dir: "./data"}, false},
		{"absolute", "file:///var/lib/tstd?capacity=5", URLConfig{Dir: "/var/lib/tstd", Cache: Options{Capacity: 5}}, false},
		{"bare relative", "file://data", URLConfig{Dir: "data"}, false},
		{"escaped", "file://./my%20data", URLConfig{Dir: "./my data"}, false},
		{"empty query", "file://./data?", URLConfig{Dir: "./data"}, false},
		{"all params", "file://d?capacity=7&maxbytes=1024&shards=16&databases=4&sync=always",
			URLConfig{Dir: "d", Cache: Options{Capacity: 7, MaxBytes: 1024, Shards: 16},
				Store: store.Options{Databases: 4, Sync: store.SyncAlways}}, false},
		{"sync no", "file://d?sync=no", URLConfig{Dir: "d", Store: store.Options{Sync: store.SyncNo}}, false},
		{"sync everysec", "file://d?sync=everysec", URLConfig{Dir: "d", Store: store.Options{Sync: store.SyncEverySec}}, false},

		{"no scheme", "./data", URLConfig{}, true},
		{"other scheme", "redis://127.0.0.1:6379", URLConfig{}, true},
		{"one slash", "file:/data", URLConfig{}, true},
		{"empty dir", "file://", URLConfig{}, true},
		{"empty dir with query", "file://?capacity=1", URLConfig{}, true},
		{"capacity zero", "file://d?capacity=0", URLConfig{}, true},
		{"capacity negative", "file://d?capacity=-3", URLConfig{}, true},
		{"capacity not a number", "file://d?capacity=lots", URLConfig{}, true},
		{"capacity empty", "file://d?capacity=", URLConfig{}, true},
		{"capacity twice", "file://d?capacity=1&capacity=2", URLConfig{}, true},
		{"unknown param", "file://d?capacty=10", URLConfig{}, true},
		{"shards not power of two", "file://d?shards=6", URLConfig{}, true},
		{"bad sync", "file://d?sync=sometimes", URLConfig{}, true},
		{"negative maxbytes", "file://d?maxbytes=-1", URLConfig{}, true},
		{"fragment", "file://d#frag", URLConfig{}, true},
		{"bad escape", "file://d%zz", URLConfig{}, true},
		{"bad query escape", "file://d?capacity=%zz", URLConfig{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseURL(tc.url)
			if tc.bad {
				if !errors.Is(err, ErrBadURL) {
					t.Fatalf("ParseURL(%q) = %+v, %v; want ErrBadURL", tc.url, got, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tc.url, err)
			}
			if got.Dir != tc.want.Dir || got.Store != tc.want.Store ||
				got.Cache.Capacity != tc.want.Cache.Capacity || got.Cache.MaxBytes != tc.want.Cache.MaxBytes ||
				got.Cache.Shards != tc.want.Cache.Shards {
				t.Errorf("ParseURL(%q) = %+v, want %+v", tc.url, got, tc.want)
			}
		})
	}
}

func TestOpenURL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, err := OpenURL("file://" + dir + "?capacity=123")
	if err != nil {
		t.Fatalf("OpenURL: %v", err)
	}
	total := 0
	for i := range c.shards {
		total += c.shards[i].capacity
	}
	if total != 123 {
		t.Errorf("capacity %d, want 123", total)
	}
	mustSet(t, c, 0, []byte("k"), []byte("v"), 0)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = OpenURL("file://" + dir)
	if err != nil {
		t.Fatalf("OpenURL without capacity: %v", err)
	}
	defer c.Close()
	wantGet(t, c, 0, []byte("k"), []byte("v"))
	if _, err := OpenURL("file://" + dir + "?capacity=x"); !errors.Is(err, ErrBadURL) {
		t.Errorf("bad capacity: %v, want ErrBadURL", err)
	}
	if _, err := OpenURL("file://" + dir); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second open of a locked dir: %v, want store.ErrLocked", err)
	}
}

func TestNew(t *testing.T) {
	dir := t.TempDir()
	c, err := New(dir, 0)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	mustSet(t, c, 0, []byte("k"), []byte("v"), 0)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c, err = New(dir, 10)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer c.Close()
	wantGet(t, c, 0, []byte("k"), []byte("v"))
}

// FuzzParseURL: whatever ParseURL accepts, its canonical form parses back
// to the same configuration; whatever it rejects wraps ErrBadURL.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"file://./data?capacity=10000", "file://./data", "file:///abs/x y?sync=no&shards=8",
		"file://d?maxbytes=1&databases=2", "file://%3F?capacity=1", "file://",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cfg, err := ParseURL(s)
		if err != nil {
			if !errors.Is(err, ErrBadURL) {
				t.Fatalf("ParseURL(%q) = %v, not ErrBadURL", s, err)
			}
			return
		}
		canon := cfg.String()
		again, err := ParseURL(canon)
		if err != nil {
			t.Fatalf("ParseURL(%q) ok, its canonical form %q fails: %v", s, canon, err)
		}
		if again.Dir != cfg.Dir || again.Store != cfg.Store || again.Cache.Capacity != cfg.Cache.Capacity ||
			again.Cache.MaxBytes != cfg.Cache.MaxBytes || again.Cache.Shards != cfg.Cache.Shards {
			t.Fatalf("ParseURL(%q) = %+v, canonical %q parses to %+v", s, cfg, canon, again)
		}
	})
}
