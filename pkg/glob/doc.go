// Package glob is an exact port of Redis 7.0's glob-style matcher,
// stringmatchlen in src/util.c, used by KEYS, SCAN MATCH, PSUBSCRIBE,
// CONFIG GET and every other place where Redis matches a pattern.
//
// Syntax, as Redis implements it (not as a shell does):
//
//   - any run of bytes, including none; consecutive stars collapse
//     ?        exactly one byte
//     [abc]    one byte among a, b, c
//     [^abc]   one byte not among them
//     [a-z]    one byte in the range; reversed ends ("[z-a]") are swapped
//     \x       the byte x literally, outside or inside brackets
//
// The empty string matches only the empty pattern: not even "*" matches
// it (Redis's KEYS special-cases a lone "*" before calling the matcher).
// An unterminated class ("[abc") behaves as if closed at the end of the
// pattern. A trailing backslash matches a literal backslash. With nocase,
// ASCII letters compare case-insensitively, except for an escaped byte
// inside brackets, which Redis compares exactly.
//
// Byte-level quirks are kept on purpose, because clients see them through
// KEYS and SCAN: range ends and the subject byte are compared as C's signed
// char (so "[a-\xff]" covers 0x00..'a' plus 0xff), and with nocase they go
// through glibc's tolower, which maps negative chars to 128..255 after the
// ends were ordered. Recursion depth is capped at 1000 nested stars, past
// which the pattern does not match, and once the tail after a star fails
// at every offset, earlier stars give up too (Redis's skipLongerMatches),
// which keeps the worst case polynomial.
//
// Match and MatchString never allocate and are safe for concurrent use.
package glob
