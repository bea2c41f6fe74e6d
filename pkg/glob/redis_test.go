package glob

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toonstore/toonstore/internal/redistest"
)

// alphabet is heavy in the matcher's metacharacters and edge bytes.
var alphabet = []byte("abcAB-^[]\\*?\x00\x7f\x80\xfe\xff09")

func randBytes(r *rand.Rand, maxLen int) string {
	n := r.IntN(maxLen + 1)
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// TestDifferentialKEYS stores random keys in a real redis-server and
// compares KEYS pattern with Match over the same keys.
func TestDifferentialKEYS(t *testing.T) {
	rc := redistest.Dial(t, redistest.Start(t, redistest.Options{}).Addr)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GLOB_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (replay with GLOB_SEED=%d)", seed, seed)
	r := rand.New(rand.NewPCG(seed, 0))

	keys := map[string]bool{}
	for len(keys) < 400 {
		keys[randBytes(r, 8)] = true
	}
	for _, k := range []string{"", "hello", "hallo", "h*llo", "[x]", `a\b`, "-", "^", strings.Repeat("a", 1001) + "b", strings.Repeat("a", 3000)} {
		keys[k] = true
	}
	for k := range keys {
		if _, err := rc.Do("SET", k, "1"); err != nil {
			t.Fatal(err)
		}
	}
	patterns := []string{"*", "**", "?", "[", "[^]", "[a-]", `\`, `[\`, "[]]", "[!-~]", "[\x80-a]",
		"[a-\xff]", "*\x00*", "h[^a]llo", `h\*llo`, "*[", "[^-]*",
		strings.Repeat("a*", 1000) + "b", strings.Repeat("a*", 1001) + "b", strings.Repeat("*a", 30) + "b"}
	for range 600 {
		patterns = append(patterns, randBytes(r, 6))
	}
	for _, p := range patterns {
		reply, err := rc.Do("KEYS", p)
		if err != nil {
			t.Fatalf("KEYS %q: %v", p, err)
		}
		var want []string
		for _, v := range reply.([]any) {
			want = append(want, v.(string))
		}
		var got []string
		for k := range keys {
			// KEYS skips the matcher for a lone "*".
			if p == "*" || MatchString(p, k, false) {
				got = append(got, k)
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		if fmt.Sprint(want) != fmt.Sprint(got) {
			t.Errorf("pattern %q: redis %q, Match %q", p, want, got)
		}
	}
}
