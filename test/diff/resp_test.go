package difftest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/toonstore/toonstore/internal/redistest"
)

// replyTimeout bounds the wait for one reply. Generous: a slow CI box must
// not turn into a false mismatch, and a server that never answers must
// still fail the test instead of hanging it.
const replyTimeout = 10 * time.Second

// closedReply stands for "the server closed the connection instead of
// replying"; it never collides with a RESP reply, which starts with a type
// byte.
const closedReply = "<connection closed>"

// conn is a raw RESP connection: it writes commands as RESP arrays and reads
// back exactly one complete reply at a time as its raw bytes (with
// internal/redistest's strict reader), reporting a connection the server
// closed as closedReply. Not safe for concurrent use.
type conn struct {
	addr string
	nc   net.Conn
	r    *bufio.Reader
}

// dial connects to addr.
func dial(addr string) (*conn, error) {
	nc, err := net.DialTimeout("tcp", addr, replyTimeout)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	return &conn{addr: addr, nc: nc, r: bufio.NewReader(nc)}, nil
}

// Close closes the connection.
func (c *conn) Close() error { return c.nc.Close() }

// Do sends one command and returns its raw reply. A connection closed by the
// server yields closedReply and a nil error; other I/O failures and
// malformed replies are errors.
func (c *conn) Do(args ...[]byte) ([]byte, error) {
	if err := c.Send(args...); err != nil {
		if isClosed(err) {
			return []byte(closedReply), nil
		}
		return nil, err
	}
	return c.Read()
}

// DoStrings is Do with string arguments.
func (c *conn) DoStrings(args ...string) ([]byte, error) {
	bs := make([][]byte, len(args))
	for i, a := range args {
		bs[i] = []byte(a)
	}
	return c.Do(bs...)
}

// Send writes one command without reading its reply.
func (c *conn) Send(args ...[]byte) error {
	_ = c.nc.SetWriteDeadline(time.Now().Add(replyTimeout))
	_, err := c.nc.Write(redistest.AppendCommand(nil, args...))
	return err
}

// Read reads exactly one complete reply and returns its raw bytes.
func (c *conn) Read() ([]byte, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(replyTimeout))
	raw, err := redistest.ReadReply(c.r, nil)
	if err != nil {
		if isClosed(err) && len(raw) == 0 {
			return []byte(closedReply), nil
		}
		return nil, fmt.Errorf("read reply from %s (got %q so far): %w", c.addr, raw, err)
	}
	return raw, nil
}

// isClosed reports whether err means the peer closed the connection.
func isClosed(err error) bool {
	var ne *net.OpError
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) ||
		(errors.As(err, &ne) && !ne.Timeout())
}

// value is a parsed reply: enough structure to compare shapes and to
// compare aggregates as multisets. raw is the value's own bytes.
type value struct {
	typ   byte
	raw   []byte
	head  []byte  // first line without CRLF, e.g. "*3" or "$5"
	str   []byte  // body of a bulk, verbatim or blob error; line rest otherwise
	elems []value // aggregate elements (pairs flattened for maps)
}

// parseValue parses one complete raw reply.
func parseValue(raw []byte) (value, error) {
	v, rest, err := parseOne(raw)
	if err != nil {
		return value{}, err
	}
	if len(rest) != 0 {
		return value{}, fmt.Errorf("%w: %d trailing bytes", redistest.ErrMalformed, len(rest))
	}
	return v, nil
}

func parseOne(b []byte) (value, []byte, error) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 1 {
		return value{}, nil, fmt.Errorf("%w: %q", redistest.ErrMalformed, b)
	}
	v := value{typ: b[0], head: b[:i], str: b[1:i]}
	rest := b[i+2:]
	switch v.typ {
	case '$', '!', '=':
		n, err := strconv.Atoi(string(v.str))
		if err != nil {
			return value{}, nil, fmt.Errorf("%w: %q", redistest.ErrMalformed, v.head)
		}
		if n >= 0 {
			if len(rest) < n+2 {
				return value{}, nil, fmt.Errorf("%w: short bulk", redistest.ErrMalformed)
			}
			v.str = rest[:n]
			rest = rest[n+2:]
		}
	case '*', '~', '>', '%', '|':
		n, err := strconv.Atoi(string(v.str))
		if err != nil {
			return value{}, nil, fmt.Errorf("%w: %q", redistest.ErrMalformed, v.head)
		}
		if v.typ == '%' || v.typ == '|' {
			n *= 2
		}
		for j := 0; j < n; j++ {
			var e value
			e, rest, err = parseOne(rest)
			if err != nil {
				return value{}, nil, err
			}
			v.elems = append(v.elems, e)
		}
		if v.typ == '|' {
			var e value
			e, rest, err = parseOne(rest)
			if err != nil {
				return value{}, nil, err
			}
			v.elems = append(v.elems, e)
		}
	}
	v.raw = b[:len(b)-len(rest)]
	return v, rest, nil
}

// shape renders a value's structure without its contents: type bytes and
// aggregate lengths, recursively ("*2[$,$]", "%3[$:$,$:],..." ). Two replies
// of the same shape differ only in their scalar contents.
func shape(v value) string {
	var b bytes.Buffer
	writeShape(&b, v)
	return b.String()
}

func writeShape(b *bytes.Buffer, v value) {
	b.WriteByte(v.typ)
	switch v.typ {
	case '*', '~', '>', '%', '|':
		b.WriteString(strconv.Itoa(len(v.elems)))
		b.WriteByte('[')
		for i, e := range v.elems {
			if i > 0 {
				b.WriteByte(',')
			}
			writeShape(b, e)
		}
		b.WriteByte(']')
	case '$':
		if v.head[1] == '-' {
			b.WriteString("-1")
		}
	}
}

// sortedElems returns an aggregate's elements as a sorted list of raw
// strings; map pairs stay together. ok is false for a non-aggregate.
func sortedElems(v value) (elems []string, ok bool) {
	switch v.typ {
	case '*', '~', '>':
		for _, e := range v.elems {
			elems = append(elems, string(e.raw))
		}
	case '%':
		for i := 0; i+1 < len(v.elems); i += 2 {
			elems = append(elems, string(v.elems[i].raw)+string(v.elems[i+1].raw))
		}
	default:
		return nil, false
	}
	sort.Strings(elems)
	return elems, true
}

// canonical renders v with every aggregate's elements sorted, recursively;
// map and attribute pairs stay together. Equal canonical forms mean equal
// replies up to the order of elements in every aggregate.
func canonical(v value) string {
	switch v.typ {
	case '*', '~', '>':
		parts := make([]string, len(v.elems))
		for i, e := range v.elems {
			parts[i] = canonical(e)
		}
		sort.Strings(parts)
		return string(v.head) + "[" + strings.Join(parts, ",") + "]"
	case '%', '|':
		var parts []string
		for i := 0; i+1 < len(v.elems); i += 2 {
			parts = append(parts, canonical(v.elems[i])+"=>"+canonical(v.elems[i+1]))
		}
		sort.Strings(parts)
		s := string(v.head) + "{" + strings.Join(parts, ",") + "}"
		if v.typ == '|' && len(v.elems)%2 == 1 {
			s += canonical(v.elems[len(v.elems)-1])
		}
		return s
	}
	return string(v.raw)
}
