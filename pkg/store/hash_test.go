package store

import (
	"fmt"
	"hash/maphash"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// TestHashKeyStable pins keyHash's output: index.toon (version 3) stores
// hashes, so a change to the function must come with a new snapshot
// format version.
func TestHashKeyStable(t *testing.T) {
	k := hashKey{0x0123456789abcdef, 0xfedcba9876543210, 0x0f1e2d3c4b5a6978, 0x8796a5b4c3d2e1f0}
	for _, tc := range []struct {
		key  string
		want uint64
	}{
		{"", 0x9d17065f3c59db08},
		{"a", 0x621dc01f511ca91c},
		{"mylist", 0x6e7b0cff14ac5408},
		{"key:000000000042", 0xe9156cb44599ed2c},
		{"a key of seventeen", 0x3b14d0b187ee1238},
		{string(make([]byte, 100)), 0x65078ade903c9ef1},
	} {
		if got := k.sum([]byte(tc.key)); got != tc.want {
			t.Errorf("sum(%q) = %#x, want %#x", abbrev(tc.key), got, tc.want)
		}
	}
}

// goWyhash is Go's hash/maphash (purego build) wyhash, as in
// $GOROOT/src/hash/maphash/maphash_purego.go (BSD licence), with its
// process key as a parameter and its seed zero.
func goWyhash(hashkey *hashKey, key []byte) uint64 {
	const m5 = 0x1d8e4e27c47d124f
	p := key
	i := uint64(len(key))
	n := i
	var a, b uint64
	seed := hashkey[0]
	if i > 16 {
		if i > 48 {
			seed1 := seed
			seed2 := seed
			for ; i > 48; i -= 48 {
				seed = wymix(r8(p)^hashkey[1], r8(p[8:])^seed)
				seed1 = wymix(r8(p[16:])^hashkey[2], r8(p[24:])^seed1)
				seed2 = wymix(r8(p[32:])^hashkey[3], r8(p[40:])^seed2)
				p = p[48:]
			}
			seed ^= seed1 ^ seed2
		}
		for ; i > 16; i -= 16 {
			seed = wymix(r8(p)^hashkey[1], r8(p[8:])^seed)
			p = p[16:]
		}
	}
	switch {
	case i == 0:
		return seed
	case i < 4:
		a = uint64(p[0])<<16 | uint64(p[i>>1])<<8 | uint64(p[i-1])
	default:
		n := (i >> 3) << 2
		a = r4(p)<<32 | r4(p[n:])
		b = r4(p[i-4:])<<32 | r4(p[i-4-n:])
	}
	return wymix(m5^n, wymix(a^hashkey[1], b^seed))
}

// TestHashKeyIsWyhash: for every length up to 200 (every branch of the
// function), keyHash equals Go's wyhash (except for the empty key, which
// Go's returns the seed for).
func TestHashKeyIsWyhash(t *testing.T) {
	k := newHashKey()
	r := rand.New(rand.NewPCG(testSeed(t), 1))
	for size := 1; size <= 200; size++ {
		for range 20 {
			key := randBytes(r, size)
			if got, want := k.sum(key), goWyhash(&k, key); got != want {
				t.Fatalf("size %d: %#x, Go's wyhash %#x", size, got, want)
			}
		}
	}
}

// TestHashKeySpread: the keys redis-benchmark makes (key:%012d), and
// keys differing in one byte at any length, spread over the low bits the
// index uses like random numbers do, and two random keys give different
// hashes of the same keys.
func TestHashKeySpread(t *testing.T) {
	k := newHashKey()
	const n, bucketsLog = 1 << 18, 16
	buckets := make([]int, 1<<bucketsLog)
	for i := range n {
		buckets[k.sum(fmt.Appendf(nil, "key:%012d", i))&(1<<bucketsLog-1)]++
	}
	// n keys in 2^16 buckets: 4 per bucket on average; chi-squared over
	// 65535 degrees of freedom has mean 65535 and deviation ~362.
	var chi float64
	for _, c := range buckets {
		d := float64(c) - n>>bucketsLog
		chi += d * d / (n >> bucketsLog)
	}
	if chi > 65535+8*362 {
		t.Fatalf("chi-squared %.0f over the low %d bits: not uniform", chi, bucketsLog)
	}
	// Avalanche: flipping any one bit of a key changes about half of the
	// hash's bits.
	for _, size := range []int{1, 3, 4, 8, 15, 16, 17, 33, 48, 49, 100} {
		key := make([]byte, size)
		for i := range key {
			key[i] = byte(i * 7)
		}
		h0 := k.sum(key)
		total := 0
		for i := range size * 8 {
			key[i/8] ^= 1 << (i % 8)
			total += bits.OnesCount64(h0 ^ k.sum(key))
			key[i/8] ^= 1 << (i % 8)
		}
		if avg := float64(total) / float64(size*8); avg < 24 || avg > 40 {
			t.Errorf("size %d: one flipped bit changes %.1f of 64 hash bits on average", size, avg)
		}
	}
	k2 := newHashKey()
	if k.sum([]byte("mylist")) == k2.sum([]byte("mylist")) {
		t.Fatal("two random keys hash a key alike")
	}
}

// BenchmarkHashKey compares the index's hash with hash/maphash (what it
// used before its hashes were saved in snapshots) on the key sizes of
// redis-benchmark and longer ones.
func BenchmarkHashKey(b *testing.B) {
	k := newHashKey()
	seed := maphash.MakeSeed()
	for _, size := range []int{6, 16, 40, 100} {
		key := make([]byte, size)
		b.Run(fmt.Sprintf("impl=wyhash/size=%d", size), func(b *testing.B) {
			var sink uint64
			for b.Loop() {
				sink += k.sum(key)
			}
			_ = sink
		})
		b.Run(fmt.Sprintf("impl=maphash/size=%d", size), func(b *testing.B) {
			var sink uint64
			for b.Loop() {
				sink += maphash.Bytes(seed, key)
			}
			_ = sink
		})
	}
}
