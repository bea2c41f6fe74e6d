package types

import "errors"

// Errors returned when decoding images and operation records. Every
// decoding failure wraps ErrCorrupt, so callers can tell damaged data
// (errors.Is(err, ErrCorrupt)) from ordinary failures.
var (
	// ErrCorrupt means an image or an operation record is malformed:
	// truncated, of the wrong kind or version, with trailing bytes,
	// duplicate members, a NaN score, or an operation that does not fit
	// the state it is applied to (an index out of range, say).
	ErrCorrupt = errors.New("types: corrupt encoding")
)

// Errors returned by the range-spec parsers. They carry Redis's exact
// error reply, which pkg/command obtains with errors.As on a ReplyError.
var (
	// ErrScoreRange is returned by ParseScoreRange for an argument that
	// is not a float (or is NaN), as ZRANGEBYSCORE and friends reject it.
	ErrScoreRange error = &ReplyError{msg: "types: min or max is not a float", reply: "ERR min or max is not a float"}
	// ErrLexRange is returned by ParseLexRange for an argument that is
	// not "-", "+", or a string starting with "[" or "(".
	ErrLexRange error = &ReplyError{msg: "types: min or max not valid string range item", reply: "ERR min or max not valid string range item"}
)

// ReplyError is an error that Redis reports to clients with a fixed
// message. Error returns the package-prefixed text; Reply returns the
// exact Redis error reply (without the leading '-' and CRLF).
type ReplyError struct {
	msg   string
	reply string
}

// Error implements error.
func (e *ReplyError) Error() string { return e.msg }

// Reply is the exact error reply Redis 7.0 sends for this error.
func (e *ReplyError) Reply() string { return e.reply }
