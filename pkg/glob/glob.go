package glob

// maxNesting is Redis's protection against abusive patterns: a star nested
// deeper than this many stars fails to match.
const maxNesting = 1000

// Match reports whether s matches the Redis glob pattern. With nocase,
// ASCII letters match either case. Neither slice is retained or modified.
func Match(pattern, s []byte, nocase bool) bool {
	skip := false
	return match(pattern, s, nocase, &skip, 0)
}

// MatchString is Match for strings; it does not convert or allocate.
func MatchString(pattern, s string, nocase bool) bool {
	skip := false
	return match(pattern, s, nocase, &skip, 0)
}

// at returns b[i], or 0 past the end: Redis's patterns are sds strings
// whose terminating NUL the C code reads at the boundary.
func at[T string | []byte](b T, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// lower is glibc's tolower in the C locale applied to a C char promoted to
// int: ASCII upper case folds, negative chars come back as 128..255.
func lower(c int) int {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	if c < 0 {
		return c + 256
	}
	return c
}

// eq compares two bytes as Redis's default case does.
func eq(a, b byte, nocase bool) bool {
	if !nocase {
		return a == b
	}
	return lower(int(a)) == lower(int(b))
}

// match is stringmatchlen_impl. p and s index into pattern and str; the
// structure follows the C code line for line so that its corner cases
// (unterminated classes, trailing backslashes, NUL bytes) carry over.
func match[T string | []byte](pattern, str T, nocase bool, skipLonger *bool, nesting int) bool {
	if nesting > maxNesting {
		return false
	}
	p, s := 0, 0
	plen, slen := len(pattern), len(str)
	for plen > 0 && slen > 0 {
		switch pattern[p] {
		case '*':
			for plen > 0 && at(pattern, p+1) == '*' {
				p++
				plen--
			}
			if plen == 1 {
				return true
			}
			for slen > 0 {
				if match(pattern[p+1:], str[s:], nocase, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				s++
				slen--
			}
			// The tail failed at every offset: a longer match for an
			// earlier star cannot help, so every caller stops too.
			*skipLonger = true
			return false
		case '?':
			s++
			slen--
		case '[':
			p++
			plen--
			not := at(pattern, p) == '^'
			if not {
				p++
				plen--
			}
			matched := false
			for {
				if at(pattern, p) == '\\' && plen >= 2 {
					p++
					plen--
					if pattern[p] == str[s] {
						matched = true
					}
				} else if at(pattern, p) == ']' {
					break
				} else if plen == 0 {
					p--
					plen++
					break
				} else if plen >= 3 && pattern[p+1] == '-' {
					// C chars are signed here: compare as int8.
					start := int(int8(pattern[p]))
					end := int(int8(pattern[p+2]))
					c := int(int8(str[s]))
					if start > end {
						start, end = end, start
					}
					if nocase {
						start, end, c = lower(start), lower(end), lower(c)
					}
					p += 2
					plen -= 2
					if c >= start && c <= end {
						matched = true
					}
				} else if eq(pattern[p], str[s], nocase) {
					matched = true
				}
				p++
				plen--
			}
			if not {
				matched = !matched
			}
			if !matched {
				return false
			}
			s++
			slen--
		case '\\':
			if plen >= 2 {
				p++
				plen--
			}
			fallthrough
		default:
			if !eq(pattern[p], str[s], nocase) {
				return false
			}
			s++
			slen--
		}
		p++
		plen--
		if slen == 0 {
			for at(pattern, p) == '*' {
				p++
				plen--
			}
			break
		}
	}
	return plen == 0 && slen == 0
}
