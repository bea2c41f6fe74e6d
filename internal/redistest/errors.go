package redistest

import "errors"

// ErrMalformed is returned (wrapped, with the offending bytes) by ReadReply
// and the Conn methods when a reply is not valid RESP.
var ErrMalformed = errors.New("redistest: malformed RESP reply")

// ErrNotRESP2 is returned (wrapped) by Conn.Do and Conn.Read for a RESP3
// reply type, which they do not decode; use DoRaw or ReadRaw.
var ErrNotRESP2 = errors.New("redistest: not a RESP2 reply")

// Error is a RESP error reply ("-ERR ..."), without the leading '-' and the
// trailing CRLF. Conn.Do returns it as its error for a top-level error
// reply, and as an element value for an error inside an array.
type Error string

// Error returns the error text as Redis sent it, e.g. "ERR syntax error".
func (e Error) Error() string { return string(e) }
