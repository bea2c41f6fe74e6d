package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// removeFile removes a temporary file, ignoring errors (the whole
// temporary directory is removed at the end anyway).
func removeFile(path string) { os.Remove(path) }

// keyName returns the 16-byte key of index i: "key:" and 12 digits, the
// names redis-benchmark's -r 1000000 uses for SET and GET.
func keyName(dst []byte, i int) []byte {
	dst = append(dst, "key:"...)
	var d [12]byte
	for j := 11; j >= 0; j-- {
		d[j] = byte('0' + i%10)
		i /= 10
	}
	return append(dst, d[:]...)
}

// valueFunc writes the value of key i.
type valueFunc func(dst []byte, i int) []byte

// fillValue returns a valueFunc of size bytes of 'x', redis-benchmark's own
// SET payload.
func fillValue(size int) valueFunc {
	v := bytes.Repeat([]byte{'x'}, size)
	return func(dst []byte, _ int) []byte { return append(dst, v...) }
}

// distinctValue returns a valueFunc of size printable bytes that differ
// from key to key (a cheap xorshift of the index), so that no server can
// share or compress equal values.
func distinctValue(size int) valueFunc {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	return func(dst []byte, i int) []byte {
		x := uint64(i)*0x9E3779B97F4A7C15 + 1
		for j := 0; j < size; j++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			dst = append(dst, alphabet[x&63])
		}
		return dst
	}
}

// appendSet appends SET key value as a RESP array.
func appendSet(dst, key, val []byte) []byte {
	dst = append(dst, "*3\r\n$3\r\nSET\r\n$"...)
	dst = strconv.AppendInt(dst, int64(len(key)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, key...)
	dst = append(dst, "\r\n$"...)
	dst = strconv.AppendInt(dst, int64(len(val)), 10)
	dst = append(dst, "\r\n"...)
	dst = append(dst, val...)
	return append(dst, "\r\n"...)
}

// writeSets writes SET commands for the keys [lo, hi) to path as RESP,
// the input of redis-cli --pipe, and returns the file's size.
func writeSets(path string, lo, hi int, value valueFunc) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var key, val, buf []byte
	for i := lo; i < hi; i++ {
		key = keyName(key[:0], i)
		val = value(val[:0], i)
		buf = appendSet(buf[:0], key, val)
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return 0, err
	}
	return st.Size(), f.Close()
}

// parsePipeOutput returns the error and reply counts of the summary line
// redis-cli --pipe prints last: "errors: 0, replies: 5000000".
func parsePipeOutput(out []byte) (errs, replies int64, err error) {
	for _, l := range strings.Split(string(out), "\n") {
		if _, err := fmt.Sscanf(strings.TrimSpace(l), "errors: %d, replies: %d", &errs, &replies); err == nil {
			return errs, replies, nil
		}
	}
	return 0, 0, fmt.Errorf("%w in %q", ErrPipeSummary, firstLine(string(out)))
}

// loadResult is one redis-cli --pipe load into one server.
type loadResult struct {
	Keys    int
	Seconds float64 // wall time of redis-cli --pipe
	CPU     float64 // server CPU seconds during the load
}

func (l loadResult) keysPerSec() float64 { return float64(l.Keys) / l.Seconds }
func (l loadResult) keysPerCPU() float64 { return ratio(float64(l.Keys), l.CPU) }

// pipeLoad sends the commands in path (keys SET commands) to s with
// redis-cli --pipe and times it. Every command must get a reply and none
// may be an error.
func pipeLoad(s *server, path string, keys int) (loadResult, error) {
	in, err := os.Open(path)
	if err != nil {
		return loadResult{}, err
	}
	defer in.Close()
	cmd := exec.Command("redis-cli", "-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "--pipe")
	cmd.Stdin = in
	before, err := cpuSeconds(s.pid())
	if err != nil {
		return loadResult{}, err
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	secs := time.Since(start).Seconds()
	after, cerr := cpuSeconds(s.pid())
	if err != nil {
		return loadResult{}, fmt.Errorf("perf: redis-cli --pipe into %s: %w: %s", s.name, err, firstLine(string(out)))
	}
	if cerr != nil {
		return loadResult{}, cerr
	}
	errs, replies, err := parsePipeOutput(out)
	if err != nil {
		return loadResult{}, err
	}
	if errs != 0 || replies != int64(keys) {
		return loadResult{}, fmt.Errorf("%w: %s: %d errors, %d replies for %d commands", ErrPipeErrors, s.name, errs, replies, keys)
	}
	return loadResult{Keys: keys, Seconds: secs, CPU: cpuSince(before, after)}, nil
}

// checkKeys checks that s holds exactly want keys (or at least want, if
// atLeast) and that the last loaded key has a value of size bytes.
func checkKeys(s *server, want int64, atLeast bool, lastKey int, size int) error {
	n, err := intCommand(s.addr(), "DBSIZE")
	if err != nil {
		return fmt.Errorf("perf: DBSIZE of %s: %w", s.name, err)
	}
	if n != want && !(atLeast && n > want) {
		return fmt.Errorf("%w: %s DBSIZE %d, want %d", ErrDBSize, s.name, n, want)
	}
	k := string(keyName(nil, lastKey))
	l, err := intCommand(s.addr(), "STRLEN", k)
	if err != nil {
		return fmt.Errorf("perf: STRLEN of %s: %w", s.name, err)
	}
	if l != int64(size) {
		return fmt.Errorf("%w: %s STRLEN %s = %d, want %d", ErrDBSize, s.name, k, l, size)
	}
	return nil
}
