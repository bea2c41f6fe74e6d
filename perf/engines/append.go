package main

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// appendFileSize is the size of the files of the append calibration: the
// store's default segment size.
const appendFileSize = 64 << 20

// runAppend measures the Put calibration: the least any log-structured
// engine that writes each value into the page cache through a mapping
// must do per Put. One goroutine appends records (a 40-byte header, the
// 1 KiB value, a CRC32C over both, 8-byte aligned, as ToonStore's records)
// sequentially into preallocated (fallocate), memory-mapped 64 MiB files,
// starting a fresh file when one is full. No index, no fsync, no lock: an
// upper bound on ToonStore's Put on this machine in this run.
func runAppend(cfg config, pool valuePool) (v sample, err error) {
	dir, err := os.MkdirTemp(cfg.tmp, "engines-append-")
	if err != nil {
		return sample{}, err
	}
	defer func() {
		if rerr := os.RemoveAll(dir); err == nil {
			err = rerr
		}
	}()
	var (
		data  []byte
		off   int
		files int
		seq   uint64
	)
	unmap := func() {
		if data != nil {
			unix.Munmap(data)
			data = nil
		}
	}
	defer unmap()
	next := func() error {
		unmap()
		files++
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("data-%06d", files)))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := unix.Fallocate(int(f.Fd()), 0, 0, appendFileSize); err != nil {
			return fmt.Errorf("fallocate: %w", err)
		}
		data, err = unix.Mmap(int(f.Fd()), 0, appendFileSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		off = 32
		return err
	}
	if err := next(); err != nil {
		return sample{}, err
	}
	table := crc32.MakeTable(crc32.Castagnoli)
	n := len(pool) / valueSize
	const recLen = 40 + valueSize // 8-byte aligned already
	return measure(1, cfg.dur, func(r *rand.Rand, buf []byte) ([]byte, error) {
		if off+recLen > len(data) {
			if err := next(); err != nil {
				return buf, err
			}
		}
		rec := data[off : off+recLen]
		seq++
		binary.LittleEndian.PutUint32(rec[4:], recLen)
		binary.LittleEndian.PutUint64(rec[8:], seq)
		binary.LittleEndian.PutUint32(rec[36:], valueSize)
		copy(rec[40:], pool.value(r.IntN(n)))
		binary.LittleEndian.PutUint32(rec, crc32.Checksum(rec[4:], table))
		off += recLen
		return buf, nil
	})
}
