package protocol

import (
	"bytes"
	"math"
)

// Default limits, Redis 7.0's.
const (
	// DefaultMaxBulkLen is proto-max-bulk-len: 512 MiB.
	DefaultMaxBulkLen int64 = 512 << 20
	// DefaultMaxArgs is the largest multibulk count accepted: 1,048,576,
	// the cap of Redis <= 6.2.5. Redis 7.0 accepts up to INT_MAX
	// (processMultibulkBuffer rejects ll > INT_MAX); ToonStore keeps the
	// 1M cap as a deliberate, documented deviation so that one command's
	// argument table stays bounded (24 MiB of slice headers). Counts above
	// it get Redis's "invalid multibulk length" error.
	DefaultMaxArgs = 1 << 20
	// DefaultMaxInline is PROTO_INLINE_MAX_SIZE: 64 KiB.
	DefaultMaxInline = 64 << 10

	// Redis 7.0's limits for a client that still has to authenticate.
	unauthMaxArgs    = 10
	unauthMaxBulkLen = 16384

	// maxBulkLimit caps MaxBulkLen so that offset arithmetic cannot overflow.
	maxBulkLimit int64 = 1 << 62
	// keepCap is the largest argument list kept for reuse after a command
	// (4096 slots, 160 KB per connection at most): a one-off command of a
	// million arguments should not pin its 40 MB of lists.
	keepCap = 1 << 12
)

// Reader parses RESP requests, multibulk ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and
// inline ("GET k\r\n"), exactly as Redis 7.0's processMultibulkBuffer and
// processInlineBuffer do. It is incremental and zero-copy; see Parse.
//
// The zero value is ready to use: a zero limit means the default. A Reader
// holds the progress of one connection's request stream and is not safe for
// concurrent use.
//
// Compatibility notes, each matching Redis 7.0.15 as observed:
//   - The CR of a "*" or "$" line is followed by one byte that is skipped
//     unchecked, and the two bytes after a bulk's data are skipped unchecked:
//     "*1\r\n$4\r\nPINGxy" is PING.
//   - Lines are searched with C's strchr, so a NUL byte in an inline request
//     or in a "*"/"$" line hides its terminator: the request never completes
//     and ends in a "too big" error once MaxInline+1 bytes are buffered.
//     Bulk data is binary-safe.
//   - A line is "too big" when its first MaxInline+1 bytes hold no
//     terminator. Redis checks what it has buffered, so for a line whose
//     terminator lies just beyond MaxInline its answer depends on how reads
//     split the line; this Reader gives the same answer however the input
//     is split.
type Reader struct {
	// MaxBulkLen is the largest bulk length accepted (proto-max-bulk-len);
	// zero means DefaultMaxBulkLen.
	MaxBulkLen int64
	// MaxArgs is the largest multibulk count accepted; zero means
	// DefaultMaxArgs.
	MaxArgs int
	// MaxInline bounds inline requests and "*"/"$" lines; zero means
	// DefaultMaxInline.
	MaxInline int
	// Unauthenticated applies Redis's limits for a client that has not
	// authenticated yet: at most 10 elements and bulks of at most 16384
	// bytes. It is read when a request's header line is parsed, so the
	// server may change it between Parse calls (after AUTH succeeds).
	Unauthenticated bool

	// Progress of the request being parsed; every offset is relative to the
	// first byte of the request (buf[0]), never a slice, since the caller's
	// buffer may move between calls.
	state state
	scan  int   // the current line has been searched for its terminator up to here
	nul   bool  // a NUL byte was met before the current line's terminator
	pos   int   // start of the next element's "$" line (multibulk)
	left  int   // elements still to read (multibulk)
	bulk  int64 // length of the bulk being read; -1 before its "$" line
	seen  int   // len(buf) when Parse last returned incomplete
	need  int   // see Need
	spans []span

	// Reused by every Parse: args is the returned slice, scratch holds
	// inline arguments that needed unescaping.
	args    [][]byte
	scratch []byte
}

type state uint8

const (
	stateStart  state = iota // no byte of the request examined yet
	stateInline              // inline request: searching for its LF
	stateCount               // multibulk: searching for the "*" line's CR
	stateBulks               // multibulk: reading elements
)

type span struct{ off, n int }

// Parse parses the one request at the start of buf.
//
//   - Complete: args are its arguments and n the bytes it took. Multibulk
//     arguments, and inline arguments that needed no unescaping, alias buf;
//     inline arguments with quotes or escapes resolved live in a buffer the
//     Reader owns. The args slice itself is reused too. Everything returned
//     is valid until the next Parse or Reset, and only while buf is
//     unmodified.
//   - Consumed without a request (an empty or blank inline line, "*0\r\n",
//     "*-1\r\n"): args is nil and n > 0; discard n bytes and call again.
//   - Incomplete: (nil, 0, nil). The Reader remembers how far it got, so the
//     next call must pass a buffer holding the same request from its first
//     byte, with at least as many bytes (more arrived); it resumes where it
//     stopped, so a request arriving in many reads costs O(its length). A
//     shorter buffer restarts parsing from scratch. Need tells how many
//     bytes the next call requires to make any progress.
//   - Malformed: err is an *Error (see errors.go) and n is 0. The server
//     replies "-ERR "+err.Error() and closes the connection, as Redis does.
//     The Reader is reset.
func (r *Reader) Parse(buf []byte) (args [][]byte, n int, err error) {
	if len(buf) < r.seen {
		r.Reset()
	}
	if len(buf) == 0 {
		r.need = 1
		return nil, 0, nil
	}
	if r.state == stateStart {
		if buf[0] == '*' {
			if args, n, ok := r.parseComplete(buf); ok {
				return args, n, nil
			}
		}
		r.scan, r.nul = 0, false
		if buf[0] == '*' {
			r.state = stateCount
		} else {
			r.state = stateInline
		}
	}
	switch r.state {
	case stateInline:
		args, n, err = r.parseInline(buf)
	default:
		args, n, err = r.parseMultibulk(buf)
	}
	if n == 0 && err == nil {
		r.seen = len(buf)
		return nil, 0, nil
	}
	r.done()
	if err != nil {
		return nil, 0, err
	}
	return args, n, nil
}

// Need returns the buffered length below which the next Parse cannot make
// progress: after an incomplete Parse it is len(buf)+1 while a line is
// awaited, or the end of a bulk whose header was read (a "$104857600" line
// makes it that bulk's end), so the caller may skip parsing until that many
// bytes are buffered. Otherwise it is 1.
func (r *Reader) Need() int {
	if r.need < 1 {
		return 1
	}
	return r.need
}

// Reset forgets the request in progress, as before a new connection's
// first byte. Limits and Unauthenticated are kept.
func (r *Reader) Reset() {
	r.state = stateStart
	r.scan, r.nul, r.pos, r.left, r.bulk, r.seen, r.need = 0, false, 0, 0, -1, 0, 1
	r.spans = r.spans[:0]
}

// done ends the current request, keeping the reusable buffers unless a
// huge request grew them.
func (r *Reader) done() {
	r.Reset()
	if cap(r.spans) > keepCap {
		r.spans = nil
	}
}

func (r *Reader) maxInline() int {
	switch {
	case r.MaxInline <= 0:
		return DefaultMaxInline
	case r.MaxInline > math.MaxInt32:
		return math.MaxInt32 // keeps start+limit+1 from overflowing
	}
	return r.MaxInline
}

func (r *Reader) maxArgs() int64 {
	if r.MaxArgs > 0 {
		return int64(r.MaxArgs)
	}
	return DefaultMaxArgs
}

func (r *Reader) maxBulkLen() int64 {
	switch {
	case r.MaxBulkLen <= 0:
		return DefaultMaxBulkLen
	case r.MaxBulkLen > maxBulkLimit:
		return maxBulkLimit
	}
	return r.MaxBulkLen
}

// findLine searches the line starting at start for its terminator c,
// resuming at r.scan. It returns the terminator's offset, or -1 if the line
// is incomplete (r.need set), or -2 if it is too big: its first
// MaxInline+1 bytes hold no terminator. As C's strchr does in Redis, a NUL
// byte ends the search, so a line holding a NUL before c is never complete.
func (r *Reader) findLine(buf []byte, start int, c byte) int {
	limit := start + r.maxInline() + 1
	end := min(len(buf), limit)
	if !r.nul && r.scan < end {
		seg := buf[r.scan:end]
		// Header lines are short: a plain loop over the first bytes beats
		// two IndexByte calls. Longer lines take the vectorized path.
		i, j, short := -1, 0, min(len(seg), 32)
		for ; j < short; j++ {
			if seg[j] == c {
				i = j
				break
			}
			if seg[j] == 0 {
				r.nul = true
				break
			}
		}
		if j == short && short < len(seg) {
			rest := seg[short:]
			k := bytes.IndexByte(rest, c)
			if k >= 0 {
				rest = rest[:k]
			}
			if bytes.IndexByte(rest, 0) >= 0 {
				r.nul = true
			} else if k >= 0 {
				i = short + k
			}
		}
		if i >= 0 {
			r.scan += i
			return r.scan
		}
		r.scan = end
	}
	if len(buf) >= limit {
		return -2
	}
	if r.nul {
		r.need = limit
	} else {
		r.need = len(buf) + 1
	}
	return -1
}

func (r *Reader) parseInline(buf []byte) ([][]byte, int, error) {
	lf := r.findLine(buf, 0, '\n')
	switch lf {
	case -1:
		return nil, 0, nil
	case -2:
		return nil, 0, ErrTooBigInline
	}
	end := lf
	if end > 0 && buf[end-1] == '\r' {
		end--
	}
	if !r.splitArgs(buf[:end]) {
		return nil, 0, ErrUnbalancedQuotes
	}
	if len(r.args) == 0 {
		return nil, lf + 1, nil
	}
	return r.args, lf + 1, nil
}

func (r *Reader) parseMultibulk(buf []byte) ([][]byte, int, error) {
	if r.state == stateCount {
		cr := r.findLine(buf, 0, '\r')
		switch {
		case cr == -1:
			return nil, 0, nil
		case cr == -2:
			return nil, 0, ErrTooBigMbulk
		case cr+2 > len(buf):
			r.need = cr + 2
			return nil, 0, nil
		}
		count, ok := ParseInt(buf[1:cr])
		if !ok || count > r.maxArgs() {
			return nil, 0, ErrInvalidMbulk
		}
		if count > unauthMaxArgs && r.Unauthenticated {
			return nil, 0, ErrUnauthMbulk
		}
		if count <= 0 {
			return nil, cr + 2, nil
		}
		r.state = stateBulks
		r.left = int(count)
		r.pos = cr + 2
		r.scan, r.nul = r.pos, false
		r.bulk = -1
		r.spans = r.spans[:0]
	}
	for r.left > 0 {
		if r.bulk < 0 {
			cr := r.findLine(buf, r.pos, '\r')
			switch {
			case cr == -1:
				return nil, 0, nil
			case cr == -2:
				return nil, 0, ErrTooBigBulk
			case cr+2 > len(buf):
				r.need = cr + 2
				return nil, 0, nil
			}
			if buf[r.pos] != '$' {
				return nil, 0, expectedDollar(buf[r.pos])
			}
			n, ok := ParseInt(buf[r.pos+1 : cr])
			if !ok || n < 0 || n > r.maxBulkLen() {
				return nil, 0, ErrInvalidBulk
			}
			if n > unauthMaxBulkLen && r.Unauthenticated {
				return nil, 0, ErrUnauthBulk
			}
			r.bulk = n
			r.pos = cr + 2
		}
		// Invariant: r.bulk <= maxBulkLimit and r.pos <= len(buf), so
		// neither sum below overflows an int64.
		if int64(len(buf)-r.pos) < r.bulk+2 {
			end := int64(r.pos) + r.bulk + 2
			if end > math.MaxInt {
				end = math.MaxInt
			}
			r.need = int(end)
			return nil, 0, nil
		}
		r.spans = append(r.spans, span{r.pos, int(r.bulk)})
		r.pos += int(r.bulk) + 2
		r.scan, r.nul = r.pos, false
		r.bulk = -1
		r.left--
	}
	args := r.args[:0]
	if cap(args) > keepCap && len(r.spans) <= keepCap {
		args = nil
	}
	for _, s := range r.spans {
		args = append(args, buf[s.off:s.off+s.n:s.off+s.n])
	}
	r.args = args
	return args, r.pos, nil
}

// completeMaxArgs is the most arguments parseComplete takes; a longer
// request goes through parseMultibulk.
const completeMaxArgs = 16

// parseComplete parses, in one pass, a multibulk request that buf holds
// whole, of at most completeMaxArgs arguments, whose header lines are
// plain: digits as Redis writes them (no sign, no leading zero, at most
// nine), each line ending in CRLF. That is every request a client library
// sends in a pipeline. It leaves the Reader's resumable state untouched;
// ok false means: take the general path (parseMultibulk), which handles
// everything else, a partial request or an error, as Redis does. When ok,
// the result is the one parseMultibulk would return (FuzzParse compares
// requests parsed whole, which come here, with the same bytes split at
// random, which do not).
func (r *Reader) parseComplete(buf []byte) (args [][]byte, n int, ok bool) {
	if r.maxInline() < 16 {
		return nil, 0, false // a header line could be too long for the limit
	}
	count, p, ok := plainInt(buf, 1)
	if !ok || count == 0 || count > completeMaxArgs || int64(count) > r.maxArgs() ||
		count > unauthMaxArgs && r.Unauthenticated {
		return nil, 0, false
	}
	maxBulk := r.maxBulkLen()
	args = r.args[:0]
	if cap(args) > keepCap {
		args = nil
	}
	for range count {
		if p >= len(buf) || buf[p] != '$' {
			return nil, 0, false
		}
		l, q, ok := plainInt(buf, p+1)
		if !ok || int64(l) > maxBulk || l > unauthMaxBulkLen && r.Unauthenticated || q+l+2 > len(buf) {
			return nil, 0, false
		}
		// As in parseMultibulk (and Redis), the two bytes after a bulk
		// are skipped, not checked.
		args = append(args, buf[q:q+l:q+l])
		p = q + l + 2
	}
	r.args = args
	return args, p, true
}

// plainInt reads a non-negative number at buf[i:] written with one to
// nine digits and no leading zero, followed by CRLF, and returns it and
// the index after the CRLF.
func plainInt(buf []byte, i int) (v, next int, ok bool) {
	j := i
	for ; j < len(buf) && j-i < 10; j++ {
		c := buf[j] - '0'
		if c > 9 {
			break
		}
		v = v*10 + int(c)
	}
	if j == i || j-i > 9 || j+1 >= len(buf) || buf[j] != '\r' || buf[j+1] != '\n' || buf[i] == '0' && j-i > 1 {
		return 0, 0, false
	}
	return v, j + 2, true
}

// ParseInt is Redis's string2ll, which parses both the lengths of the
// protocol and integer arguments of commands: an optional '-', then digits
// without a leading zero (or a lone "0"), fitting an int64. No '+', no
// spaces, no "-0", nothing empty. It does not allocate.
func ParseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if b[0] < '1' || b[0] > '9' {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-uint64(c-'0') {
			return 0, false
		}
		v += uint64(c - '0')
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return -int64(v), true // -(1<<63) wraps to math.MinInt64, as wanted
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// splitArgs splits an inline request line into r.args exactly as Redis's
// sdssplitargs does, reporting false on unbalanced quotes. line holds no
// NUL (findLine guarantees it), so as in the C code "past the end" reads as
// NUL. Arguments copied verbatim from one run of line alias it; the others
// are built in r.scratch.
//
// Grammar: blanks (C isspace) separate arguments; a token ends at ' ', \n,
// \r, \t or the end; "..." may contain \xHH, \n, \r, \t, \b, \a and \c for
// any other c; '...' may contain \' only; a quote may open mid-token
// (ab"cd" is abcd) but a closing quote must be followed by a blank or the
// end.
func (r *Reader) splitArgs(line []byte) bool {
	r.args = r.args[:0]
	r.scratch = r.scratch[:0]
	n := len(line)
	at := func(i int) byte {
		if i < n {
			return line[i]
		}
		return 0
	}
	p := 0
	for {
		for p < n && isSpace(line[p]) {
			p++
		}
		if p >= n {
			return true
		}
		// Fast path: a plain token (no quote before its end) aliases line.
		q := p
		for q < n && !isTokenSpecial(line[q]) {
			q++
		}
		if q == n || line[q] != '"' && line[q] != '\'' {
			r.args = append(r.args, line[p:q:q])
			p = q
			if p < n {
				p++ // the separator, as the general path's "if (*p) p++"
			}
			continue
		}
		var (
			inq, insq, done bool
			// The token is line[ts:te] while aliased; once a byte breaks
			// the run it is r.scratch[ss:].
			aliased = true
			ts, te  = p, p
			ss      int
		)
		raw := func(i int) { // append line[i]
			if aliased {
				if te == i || ts == te {
					if ts == te {
						ts = i
					}
					te = i + 1
					return
				}
				aliased = false
				ss = len(r.scratch)
				r.scratch = append(r.scratch, line[ts:te]...)
			}
			r.scratch = append(r.scratch, line[i])
		}
		lit := func(c byte) { // append an unescaped byte
			if aliased {
				aliased = false
				ss = len(r.scratch)
				r.scratch = append(r.scratch, line[ts:te]...)
			}
			r.scratch = append(r.scratch, c)
		}
		for !done {
			c := at(p)
			switch {
			case inq:
				switch {
				case c == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)):
					lit(unhex(at(p+2))<<4 | unhex(at(p+3)))
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					switch e := line[p]; e {
					case 'n':
						lit('\n')
					case 'r':
						lit('\r')
					case 't':
						lit('\t')
					case 'b':
						lit('\b')
					case 'a':
						lit('\a')
					default:
						lit(e)
					}
				case c == '"':
					if at(p+1) != 0 && !isSpace(at(p+1)) {
						return false
					}
					done = true
				case c == 0:
					return false
				default:
					raw(p)
				}
			case insq:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					raw(p)
				case c == '\'':
					if at(p+1) != 0 && !isSpace(at(p+1)) {
						return false
					}
					done = true
				case c == 0:
					return false
				default:
					raw(p)
				}
			default:
				switch c {
				case ' ', '\n', '\r', '\t', 0:
					done = true
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					raw(p)
				}
			}
			if p < n {
				p++
			}
		}
		if aliased {
			r.args = append(r.args, line[ts:te:te])
		} else {
			r.args = append(r.args, r.scratch[ss:len(r.scratch):len(r.scratch)])
		}
	}
}

// isTokenSpecial reports whether c ends or changes an unquoted token.
func isTokenSpecial(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '"' || c == '\''
}

// isSpace is C's isspace in the "C" locale.
func isSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
