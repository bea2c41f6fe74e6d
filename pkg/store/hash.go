package store

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
)

// hashKey keys the index's hash of keys (sum). It is drawn at random
// when a store starts without a usable index snapshot and is saved in
// every snapshot, so that a snapshot holds each key's hash rather than the
// key: writing one then reads no record, and loading one hashes nothing.
// (hash/maphash cannot serve here: its seeds cannot be saved, and its
// output differs between processes.) The key is what keeps clients from
// choosing keys that collide in the index (long probe runs): it never
// leaves the data directory, whose readers can read every key anyway.
type hashKey [4]uint64

// newHashKey returns 32 random bytes from the operating system.
func newHashKey() hashKey {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: no randomness for the index hash key: " + err.Error())
	}
	var k hashKey
	for i := range k {
		k[i] = binary.LittleEndian.Uint64(b[8*i:])
	}
	return k
}

// sum returns the hash of p: wyhash, as Go's runtime hashes map keys (and
// hash/maphash hashes) on CPUs without AES instructions, with k as its
// secret. Its output is part of the snapshot format: changing it needs a
// new snapFormatVersion.
func (k *hashKey) sum(p []byte) uint64 {
	const m5 = 0x1d8e4e27c47d124f
	n := uint64(len(p))
	seed := k[0]
	var a, b uint64
	if n > 16 {
		if n > 48 {
			seed1, seed2 := seed, seed
			for len(p) > 48 {
				seed = wymix(r8(p)^k[1], r8(p[8:])^seed)
				seed1 = wymix(r8(p[16:])^k[2], r8(p[24:])^seed1)
				seed2 = wymix(r8(p[32:])^k[3], r8(p[40:])^seed2)
				p = p[48:]
			}
			seed ^= seed1 ^ seed2
		}
		for len(p) > 16 {
			seed = wymix(r8(p)^k[1], r8(p[8:])^seed)
			p = p[16:]
		}
	}
	i := uint64(len(p))
	switch {
	case i == 0:
		return wymix(m5^n, seed)
	case i < 4:
		a = uint64(p[0])<<16 | uint64(p[i>>1])<<8 | uint64(p[i-1])
	default:
		j := (i >> 3) << 2
		a = r4(p)<<32 | r4(p[j:])
		b = r4(p[i-4:])<<32 | r4(p[i-4-j:])
	}
	return wymix(m5^n, wymix(a^k[1], b^seed))
}

func r4(p []byte) uint64 { return uint64(binary.LittleEndian.Uint32(p)) }
func r8(p []byte) uint64 { return binary.LittleEndian.Uint64(p) }

func wymix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}
