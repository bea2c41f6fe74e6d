// Package protocol reads and writes RESP, the Redis serialization protocol,
// in both its versions (RESP2 and RESP3).
//
// The reader is incremental and zero-copy: the arguments of a parsed command
// alias the caller's input buffer, and a command split across reads at any
// byte is resumed where parsing stopped. The writer is append-style: every
// function appends one element to a caller-owned slice.
//
// # Reading requests
//
// A connection owns one Reader. Its event loop, on each batch of inbound
// bytes buf (the unconsumed input, starting at a request boundary):
//
//	for len(buf) >= r.Need() {
//		args, n, err := r.Parse(buf)
//		if err != nil { // *Error: reply, then close, as Redis does
//			out = protocol.AppendError(out, "ERR "+err.Error())
//			closeAfterWrite()
//			break
//		}
//		if n == 0 { // incomplete: keep buf, wait for more bytes
//			break
//		}
//		if args != nil {
//			execute(args) // args are valid until the next Parse
//		}
//		buf = buf[n:] // discard n bytes
//	}
//
// Parse follows Redis 7.0's processMultibulkBuffer and processInlineBuffer
// (with sdssplitargs) byte for byte, including their error messages and
// their leniencies; the Reader's doc comment lists them. Every protocol
// error closes the connection in Redis, and must in the server.
//
// # Writing replies
//
// Append* functions encode one element each; those whose encoding differs
// between RESP2 and RESP3 take the connection's protocol version. Doubles
// are formatted as Redis's addReplyDouble does (C's "%.17g").
//
// The package imports only the standard library and nothing of ToonStore's.
package protocol
