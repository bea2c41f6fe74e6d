package config

import (
	"os"
	"path/filepath"
	"strings"
)

// SplitArgs splits a configuration line as Redis's sdssplitargs does:
// blanks separate arguments; "double quotes" support \n \r \t \b \a \xHH
// and \<any>; 'single quotes' support \'; a closing quote must be followed
// by a blank or the end. ok is false for unbalanced quotes. A NUL byte ends
// the line, as it ends a C string.
func SplitArgs(line string) (args []string, ok bool) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		line = line[:i]
	}
	at := func(i int) byte {
		if i < len(line) {
			return line[i]
		}
		return 0
	}
	args = []string{}
	p := 0
	for {
		for p < len(line) && isSpace(line[p]) {
			p++
		}
		if p >= len(line) {
			return args, true
		}
		var cur []byte
		inq, insq, done := false, false, false
		for !done {
			c := at(p)
			switch {
			case inq:
				switch {
				case c == '\\' && at(p+1) == 'x' && isHex(at(p+2)) && isHex(at(p+3)):
					cur = append(cur, unhex(at(p+2))<<4|unhex(at(p+3)))
					p += 3
				case c == '\\' && at(p+1) != 0:
					p++
					switch e := at(p); e {
					case 'n':
						cur = append(cur, '\n')
					case 'r':
						cur = append(cur, '\r')
					case 't':
						cur = append(cur, '\t')
					case 'b':
						cur = append(cur, '\b')
					case 'a':
						cur = append(cur, '\a')
					default:
						cur = append(cur, e)
					}
				case c == '"':
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					cur = append(cur, c)
				}
			case insq:
				switch {
				case c == '\\' && at(p+1) == '\'':
					p++
					cur = append(cur, '\'')
				case c == '\'':
					if n := at(p + 1); n != 0 && !isSpace(n) {
						return nil, false
					}
					done = true
				case c == 0:
					return nil, false
				default:
					cur = append(cur, c)
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
					cur = append(cur, c)
				}
			}
			if p < len(line) {
				p++
			}
		}
		args = append(args, string(cur))
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
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

// LoadFile reads a redis.conf-style file: one directive per line with its
// arguments (quoted as SplitArgs describes), '#' comments, blank lines,
// "include path" (a glob pattern includes every match, in order, and
// matching nothing is fine; a relative path is relative to the working
// directory, as in Redis), repeated "save" lines that add up, repeated
// "bind" lines of which the last wins, "rename-command" and "user" lines
// kept for the server (Renames, Users), and Redis's deprecated directives
// ignored. Immutable directives may be set here. OnChange hooks do not run.
//
// Loading stops at the first bad line with a *FileError carrying the file,
// line number, line and Redis's reason text (the text redis-server prints
// under "*** FATAL CONFIG FILE ERROR ***"); values loaded before it stay.
// tstd refuses loadmodule and sentinel lines, which it cannot honour.
func (c *Config) LoadFile(path string) error {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	if err := c.loadFile(path, 0); err != nil {
		return err
	}
	return c.sanity(path)
}

// maxIncludeDepth bounds include recursion (Redis has none and overflows
// its stack on an include loop).
const maxIncludeDepth = 32

func (c *Config) loadFile(path string, depth int) error {
	if depth > maxIncludeDepth {
		return &FileError{File: path, Reason: "include nesting too deep (include loop?)"}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &FileError{File: path, Reason: "Fatal error, can't open config file '" + path + "'", Err: err}
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.Trim(line, " \t\r\n")
		if line == "" || line[0] == '#' {
			continue
		}
		args, ok := SplitArgs(line)
		if !ok {
			return &FileError{File: path, Line: i + 1, Text: line, Reason: "Unbalanced quotes in configuration line"}
		}
		if len(args) == 0 {
			continue
		}
		args[0] = strings.ToLower(args[0])
		if args[0] == "include" && len(args) == 2 && c.byName["include"] == nil {
			if err := c.include(args[1], depth); err != nil {
				return err
			}
			continue
		}
		if reason := c.line(args); reason != "" {
			return &FileError{File: path, Line: i + 1, Text: line, Reason: reason}
		}
	}
	return nil
}

func (c *Config) include(pattern string, depth int) error {
	if !strings.ContainsAny(pattern, "*?[") {
		return c.loadFile(pattern, depth+1)
	}
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return nil // glob(3) failing is "no match" for Redis
	}
	for _, m := range matches {
		if err := c.loadFile(m, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// sanity is the check Redis runs after loading a configuration.
func (c *Config) sanity(file string) error {
	if c.Value("cluster-enabled") == "yes" && c.Value("replicaof") != "" {
		return &FileError{File: file, Reason: "replicaof directive not allowed in cluster mode"}
	}
	return nil
}

// line applies one configuration line (args[0] is the lower-case
// directive) with loadServerConfigFromString's rules and returns Redis's
// reason text on failure.
func (c *Config) line(args []string) string {
	name, argc := args[0], len(args)
	if d := c.byName[name]; d != nil {
		if d.Flags&MultiArg == 0 && argc != 2 {
			return "wrong number of arguments"
		}
		c.mu.RLock()
		ctx := &setCtx{cur: c.vals[d.Name], loading: true, first: !c.loaded[d.Name]}
		c.mu.RUnlock()
		v, reason := d.parse(ctx, args[1:])
		if reason != "" {
			return reason
		}
		c.mu.Lock()
		c.vals[d.Name] = v
		c.loaded[d.Name] = true
		c.mu.Unlock()
		return ""
	}
	switch {
	case deprecatedArgc(name) == argc:
		return ""
	case name == "rename-command" && argc == 3:
		c.mu.Lock()
		c.renames = append(c.renames, [2]string{args[1], args[2]})
		c.mu.Unlock()
		return ""
	case name == "user" && argc >= 2:
		c.mu.Lock()
		c.users = append(c.users, append([]string(nil), args[1:]...))
		c.mu.Unlock()
		return ""
	case name == "loadmodule" && argc >= 2:
		return "tstd does not load Redis modules"
	case strings.Contains(name, "."):
		if argc != 2 {
			return "Module config specified without value"
		}
		return "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting"
	case name == "sentinel":
		if argc != 1 {
			return "sentinel directive while not in sentinel mode"
		}
		return "tstd does not implement Sentinel"
	}
	return "Bad directive or wrong number of arguments"
}

// deprecatedArgc returns the argument count (with the name) at which
// Redis 7.0 silently ignores a removed directive, or -1.
func deprecatedArgc(name string) int {
	switch name {
	case "list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands":
		return 2
	}
	return -1
}

// SetArgs applies one directive at start-up as the configuration line
// "name args..." would: this is how command-line flags (--maxmemory 1gb,
// --save 900 1 300 10) reach the registry, as redis-server appends its
// flags to the configuration. "include" is honoured. Immutable directives
// may be set; OnChange hooks do not run. Errors are *FileError with Line 0.
func (c *Config) SetArgs(name string, args ...string) error {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	all := append([]string{strings.ToLower(name)}, args...)
	text := strings.Join(all, " ")
	if all[0] == "include" && len(all) == 2 {
		return c.include(all[1], 0)
	}
	if reason := c.line(all); reason != "" {
		return &FileError{Text: text, Reason: reason}
	}
	return nil
}

// envName maps TSTD_MAXMEMORY to maxmemory and TSTD_SERVER_CPULIST to
// server_cpulist (Redis's few underscore names); "" if not a directive.
func (c *Config) envName(key string) string {
	if !strings.HasPrefix(key, "TSTD_") {
		return ""
	}
	base := strings.ToLower(key[len("TSTD_"):])
	if n := strings.ReplaceAll(base, "_", "-"); c.byName[n] != nil {
		return n
	}
	if c.byName[base] != nil {
		return base
	}
	return ""
}

// LoadEnv applies TSTD_<DIRECTIVE>=value variables from environ (as
// os.Environ returns it): the name is upper case with '-' written '_'
// (TSTD_MAXMEMORY=1gb, TSTD_APPENDFSYNC=always). A multi-argument value is
// split on spaces as CONFIG SET splits it (TSTD_SAVE="900 1 300 10").
// Variables that name no directive are ignored (see UnknownEnv); the first
// bad value stops loading with a *FileError whose File is "environment".
// Immutable directives may be set; OnChange hooks do not run.
func (c *Config) LoadEnv(environ []string) error {
	c.setMu.Lock()
	defer c.setMu.Unlock()
	for _, kv := range environ {
		key, val, _ := strings.Cut(kv, "=")
		name := c.envName(key)
		if name == "" {
			continue
		}
		args := []string{val}
		if c.byName[name].Flags&MultiArg != 0 {
			args = splitSpaces(val)
			if len(args) == 0 {
				args = []string{""}
			}
		}
		if reason := c.line(append([]string{name}, args...)); reason != "" {
			return &FileError{File: "environment", Text: kv, Reason: reason}
		}
	}
	return c.sanity("environment")
}

// UnknownEnv returns the TSTD_ variables of environ that name no
// directive, so that the caller can warn about typos.
func (c *Config) UnknownEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		key, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(key, "TSTD_") && c.envName(key) == "" {
			out = append(out, key)
		}
	}
	return out
}
