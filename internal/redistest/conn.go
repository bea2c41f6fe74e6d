package redistest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// Timeout bounds each Conn read and write, and Dial: generous, so that a
// slow CI machine is not a failure, while a server that never answers still
// fails the test instead of hanging it.
const Timeout = 30 * time.Second

// Conn is a minimal RESP client connection for tests. Its methods return
// errors rather than failing a test, so they may be called from any
// goroutine; Write may run concurrently with Read or ReadRaw (to pipeline
// more than the socket buffers hold), but not with another Write, and reads
// not with reads.
type Conn struct {
	nc net.Conn
	br *bufio.Reader
}

// Dial connects to addr, failing t if it cannot, and closes the connection
// in t.Cleanup.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	return &Conn{nc: nc, br: bufio.NewReader(nc)}
}

// Close closes the connection; closing it again is harmless.
func (c *Conn) Close() error { return c.nc.Close() }

// Do sends one command and reads its reply, decoded: a simple or bulk
// string is a string, an integer an int64, a null bulk string or array nil,
// an array []any of these. An error reply is returned as an Error; an
// error inside an array is an Error element. RESP3 types are an
// ErrNotRESP2 error (use DoRaw).
func (c *Conn) Do(args ...string) (any, error) {
	if err := c.Write(AppendCommand(nil, args...)); err != nil {
		return nil, err
	}
	return c.Read()
}

// DoRaw sends one command and returns its reply's exact bytes, any RESP2
// or RESP3 type. An error reply is a reply here, not an error.
func (c *Conn) DoRaw(args ...string) ([]byte, error) {
	if err := c.Write(AppendCommand(nil, args...)); err != nil {
		return nil, err
	}
	return c.ReadRaw()
}

// Write writes raw bytes: inline commands, pipelines, or deliberately
// malformed input.
func (c *Conn) Write(raw []byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(Timeout))
	_, err := c.nc.Write(raw)
	return err
}

// ReadRaw reads exactly one complete reply and returns its bytes. If the
// server closed the connection before sending any byte of it, the error is
// io.EOF; on any error the bytes are what was read so far (see ReadReply).
func (c *Conn) ReadRaw() ([]byte, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(Timeout))
	return ReadReply(c.br, nil)
}

// Read reads one reply and decodes it as Do does.
func (c *Conn) Read() (any, error) {
	raw, err := c.ReadRaw()
	if err != nil {
		return nil, err
	}
	v, rest, err := decode(raw)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 { // ReadReply returned more than one reply: a bug here
		return nil, fmt.Errorf("%w: %d bytes after the reply", ErrMalformed, len(rest))
	}
	if e, ok := v.(Error); ok {
		return nil, e
	}
	return v, nil
}

// decode decodes the RESP2 reply at the start of raw, which ReadReply has
// validated, and returns the bytes after it.
func decode(raw []byte) (v any, rest []byte, err error) {
	i := 0
	for i+1 < len(raw) && (raw[i] != '\r' || raw[i+1] != '\n') {
		i++
	}
	if i == 0 || i+1 >= len(raw) {
		return nil, nil, fmt.Errorf("%w: %q", ErrMalformed, raw)
	}
	typ, body, rest := raw[0], string(raw[1:i]), raw[i+2:]
	switch typ {
	case '+':
		return body, rest, nil
	case '-':
		return Error(body), rest, nil
	case ':':
		n, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: integer %q", ErrMalformed, body)
		}
		return n, rest, nil
	case '$':
		n, _ := strconv.Atoi(body) // validated by ReadReply
		if n < 0 {
			return nil, rest, nil
		}
		return string(rest[:n]), rest[n+2:], nil
	case '*':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, rest, nil
		}
		out := make([]any, n)
		for j := range out {
			if out[j], rest, err = decode(rest); err != nil {
				return nil, nil, err
			}
		}
		return out, rest, nil
	}
	return nil, nil, fmt.Errorf("%w: type %q", ErrNotRESP2, typ)
}

// AppendCommand appends args to dst as one RESP multibulk request and
// returns the extended slice.
func AppendCommand[S ~string | ~[]byte](dst []byte, args ...S) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// ReadReply reads exactly one complete RESP2 or RESP3 reply from r, appends
// its bytes to dst and returns the extended slice. An attribute (|) is read
// together with the value it annotates, so it never stands alone.
//
// On error the slice holds what was read so far. The error is io.EOF if r
// ended before the reply's first byte, io.ErrUnexpectedEOF if it ended
// inside the reply, ErrMalformed (wrapped) if the bytes are not RESP, or
// r's own read error.
func ReadReply(r *bufio.Reader, dst []byte) ([]byte, error) {
	start := len(dst)
	dst, line, err := readLine(r, dst)
	if err != nil {
		if err == io.EOF && len(dst) > start {
			err = io.ErrUnexpectedEOF
		}
		return dst, err
	}
	if len(line) == 0 {
		return dst, fmt.Errorf("%w: empty line", ErrMalformed)
	}
	typ, rest := line[0], line[1:]
	switch typ {
	case '+', '-', ':', '_', ',', '#', '(':
		return dst, nil
	case '$', '!', '=':
		n, err := strconv.Atoi(string(rest))
		if err != nil || n < -1 || (n == -1 && typ != '$') {
			return dst, fmt.Errorf("%w: bad length %q", ErrMalformed, line)
		}
		if n < 0 {
			return dst, nil
		}
		body := len(dst)
		dst = append(dst, make([]byte, n+2)...)
		m, err := io.ReadFull(r, dst[body:])
		dst = dst[:body+m]
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return dst, err
		}
		if dst[body+n] != '\r' || dst[body+n+1] != '\n' {
			return dst, fmt.Errorf("%w: bulk of %d bytes not followed by CRLF", ErrMalformed, n)
		}
		return dst, nil
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(rest))
		if err != nil || n < -1 || (n == -1 && typ != '*') {
			return dst, fmt.Errorf("%w: bad aggregate length %q", ErrMalformed, line)
		}
		if typ == '%' || typ == '|' {
			n *= 2
		}
		if typ == '|' {
			n++ // the annotated value
		}
		for range max(n, 0) {
			if dst, err = readElem(r, dst); err != nil {
				return dst, err
			}
		}
		return dst, nil
	}
	return dst, fmt.Errorf("%w: unknown type byte in %q", ErrMalformed, line)
}

// readElem is ReadReply for an element of an aggregate: there, an end of
// input is unexpected even before the element's first byte.
func readElem(r *bufio.Reader, dst []byte) ([]byte, error) {
	dst, err := ReadReply(r, dst)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return dst, err
}

// readLine reads one CRLF-terminated line, appends it (with the CRLF) to
// dst, and returns the extended slice and the line without its
// terminator, which aliases the slice.
func readLine(r *bufio.Reader, dst []byte) (out, line []byte, err error) {
	b, err := r.ReadBytes('\n')
	start := len(dst)
	dst = append(dst, b...)
	if err != nil {
		return dst, nil, err
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return dst, nil, fmt.Errorf("%w: line %q not terminated by CRLF", ErrMalformed, b)
	}
	return dst, dst[start : len(dst)-2], nil
}

// Sample is a named, valid, complete reply.
type Sample struct {
	Name string
	Raw  string
}

// Samples returns a valid reply of every RESP2 and RESP3 type, with their
// edge cases (empty, null, binary, nested, an attribute before its value),
// for tests of reply parsers. ReadReply reads each whole. The slice is
// fresh on every call.
func Samples() []Sample {
	return []Sample{
		{"simple", "+OK\r\n"},
		{"error", "-ERR x\r\n"},
		{"int", ":-12\r\n"},
		{"bulk", "$3\r\na\r\n\r\n"},
		{"bulk empty", "$0\r\n\r\n"},
		{"bulk null", "$-1\r\n"},
		{"bulk binary", "$4\r\n\x00\r\n\xff\r\n"},
		{"array", "*2\r\n$1\r\na\r\n:1\r\n"},
		{"array null", "*-1\r\n"},
		{"array empty", "*0\r\n"},
		{"nested", "*2\r\n*1\r\n+a\r\n*0\r\n"},
		{"null", "_\r\n"},
		{"double", ",3.14\r\n"},
		{"bool", "#t\r\n"},
		{"bignum", "(123456789012345678901234567890\r\n"},
		{"blob error", "!5\r\nERR x\r\n"},
		{"verbatim", "=7\r\ntxt:abc\r\n"},
		{"map", "%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"},
		{"set", "~2\r\n+a\r\n+b\r\n"},
		{"push", ">2\r\n+message\r\n+x\r\n"},
		{"attribute then value", "|1\r\n+key\r\n+val\r\n:5\r\n"},
	}
}
