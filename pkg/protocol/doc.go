// Package protocol reads and writes RESP, the Redis serialization protocol,
// in both its versions (RESP2 and RESP3).
//
// The reader is incremental and zero-copy: the arguments of a parsed command
// alias the caller's input buffer, and a command split across reads at any
// byte is resumed where parsing stopped. The writer is append-style: every
// function appends one element to a caller-owned slice.
//
// The package imports only the standard library and nothing of ToonStore's.
package protocol
