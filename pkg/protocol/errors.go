package protocol

// Protocol errors, returned by Reader.Parse when a request is malformed.
//
// Unlike the rest of ToonStore's errors, their text carries no package prefix:
// Error() returns exactly the message Redis 7.0 puts after "-ERR ", because
// the server sends it to the client verbatim:
//
//	dst = protocol.AppendError(dst, "ERR "+err.Error())
//
// Redis closes the connection after every one of these replies (they all go
// through setProtocolError, which sets CLIENT_CLOSE_AFTER_REPLY), so must the
// server: the input after a protocol error is never parsed.
//
// Test with errors.Is against the sentinels below; the '$' error carries the
// offending byte, so its text varies but errors.Is(err, ErrExpectedDollar)
// holds for every byte.
var (
	// ErrTooBigInline: an inline request ran MaxInline+1 bytes without a LF.
	ErrTooBigInline = &Error{kind: kindTooBigInline, msg: "Protocol error: too big inline request"}
	// ErrUnbalancedQuotes: an inline request has an unterminated quote, or a
	// closing quote followed by something other than a space.
	ErrUnbalancedQuotes = &Error{kind: kindUnbalanced, msg: "Protocol error: unbalanced quotes in request"}
	// ErrTooBigMbulk: a "*" count line ran MaxInline+1 bytes without a CR.
	ErrTooBigMbulk = &Error{kind: kindTooBigMbulk, msg: "Protocol error: too big mbulk count string"}
	// ErrInvalidMbulk: the "*" count is not an integer or exceeds MaxArgs.
	ErrInvalidMbulk = &Error{kind: kindInvalidMbulk, msg: "Protocol error: invalid multibulk length"}
	// ErrUnauthMbulk: an unauthenticated client declared more than 10 elements.
	ErrUnauthMbulk = &Error{kind: kindUnauthMbulk, msg: "Protocol error: unauthenticated multibulk length"}
	// ErrExpectedDollar: an element of a multibulk request does not start
	// with '$'. Returned errors name the actual byte; this sentinel's own
	// text has none.
	ErrExpectedDollar = &Error{kind: kindExpectedDollar, msg: "Protocol error: expected '$'"}
	// ErrTooBigBulk: a "$" length line ran MaxInline+1 bytes without a CR.
	ErrTooBigBulk = &Error{kind: kindTooBigBulk, msg: "Protocol error: too big bulk count string"}
	// ErrInvalidBulk: a "$" length is not an integer, is negative, or
	// exceeds MaxBulkLen.
	ErrInvalidBulk = &Error{kind: kindInvalidBulk, msg: "Protocol error: invalid bulk length"}
	// ErrUnauthBulk: an unauthenticated client declared a bulk over 16384 bytes.
	ErrUnauthBulk = &Error{kind: kindUnauthBulk, msg: "Protocol error: unauthenticated bulk length"}
)

type errorKind uint8

const (
	kindTooBigInline errorKind = iota + 1
	kindUnbalanced
	kindTooBigMbulk
	kindInvalidMbulk
	kindUnauthMbulk
	kindExpectedDollar
	kindTooBigBulk
	kindInvalidBulk
	kindUnauthBulk
)

// Error is a RESP protocol error. Its Error text is Redis 7.0's message,
// byte for byte, without the "ERR " code; see the sentinels above.
type Error struct {
	kind errorKind
	msg  string
}

// Error returns the message Redis sends after "-ERR ". It never contains CR
// or LF.
func (e *Error) Error() string { return e.msg }

// Is reports whether target is a protocol *Error of the same kind, so that
// errors.Is(err, ErrExpectedDollar) holds whatever byte err names.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.kind == e.kind
}

// expectedDollar builds the error for an element starting with c instead of
// '$'. Redis formats it with "%c" and then, like every error reply, turns CR
// and LF into spaces (addReplyErrorFormat), so c == '\r' or '\n' reads ' '.
func expectedDollar(c byte) *Error {
	if c == '\r' || c == '\n' {
		c = ' '
	}
	return &Error{kind: kindExpectedDollar, msg: "Protocol error: expected '$', got '" + string([]byte{c}) + "'"}
}
