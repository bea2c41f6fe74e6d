package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Parsers of Redis's special directives (createSpecialConfig in config.c).
// Each takes the arguments (split by spaces for CONFIG SET, by sdssplitargs
// for a file line) and returns the value as CONFIG GET prints it, or
// Redis's reason text.

const wrongArgs = "wrong number of arguments"

// parseSave is setConfigSaveOption / getConfigSaveOption. While loading,
// the first "save" line replaces the defaults and later lines append.
func parseSave(c *setCtx, args []string) (string, string) {
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	if len(args)%2 == 1 {
		return "", "Invalid save parameters"
	}
	var parts []string
	for j, a := range args {
		v, rest, _ := strtoll(a, 10)
		if rest != "" || (j%2 == 0 && v < 1) || (j%2 == 1 && v < 0) {
			return "", "Invalid save parameters"
		}
		if j%2 == 1 {
			v = int64(int32(v)) // "changes" is a C int
		}
		parts = append(parts, itoa(v))
	}
	out := strings.Join(parts, " ")
	if c.loading && !c.first && c.cur != "" {
		if out == "" {
			return c.cur, ""
		}
		return c.cur + " " + out, ""
	}
	return out, ""
}

// parseClientOutputBufferLimit is updateClientOutputBufferLimit: groups of
// <class> <hard> <soft> <soft-seconds>, applied over the current limits.
func parseClientOutputBufferLimit(c *setCtx, args []string) (string, string) {
	if len(args)%4 != 0 {
		return "", "Wrong number of arguments in buffer limit configuration."
	}
	// cur is "normal h s t slave h s t pubsub h s t"
	cur := strings.Fields(c.cur)
	for j := 0; j < len(args); j += 4 {
		var slot int
		switch strings.ToLower(args[j]) {
		case "normal":
			slot = 0
		case "slave", "replica":
			slot = 1
		case "pubsub":
			slot = 2
		default:
			return "", "Invalid client class specified in buffer limit configuration."
		}
		hard, ok1 := memtoull(args[j+1])
		soft, ok2 := memtoull(args[j+2])
		secs, rest, _ := strtoll(args[j+3], 10)
		secs = int64(int32(secs)) // "soft_seconds" is a C int
		if !ok1 || !ok2 || secs < 0 || rest != "" {
			return "", "Error in hard, soft or soft_seconds setting in buffer limit configuration."
		}
		cur[slot*4+1] = strconv.FormatUint(hard, 10)
		cur[slot*4+2] = strconv.FormatUint(soft, 10)
		cur[slot*4+3] = itoa(secs)
	}
	return strings.Join(cur, " "), ""
}

// parseOOMScoreAdjValues is setConfigOOMScoreAdjValuesOption.
func parseOOMScoreAdjValues(_ *setCtx, args []string) (string, string) {
	if len(args) != 3 {
		return "", wrongArgs
	}
	parts := make([]string, 3)
	for i, a := range args {
		v, rest, _ := strtoll(a, 10)
		if rest != "" || v < -2000 || v > 2000 {
			return "", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
		}
		parts[i] = itoa(v)
	}
	return strings.Join(parts, " "), ""
}

// Keyspace notification classes (notify.c).
const (
	notifyKeyspace = 1 << 0  // K
	notifyKeyevent = 1 << 1  // E
	notifyGeneric  = 1 << 2  // g
	notifyString   = 1 << 3  // $
	notifyList     = 1 << 4  // l
	notifySet      = 1 << 5  // s
	notifyHash     = 1 << 6  // h
	notifyZset     = 1 << 7  // z
	notifyExpired  = 1 << 8  // x
	notifyEvicted  = 1 << 9  // e
	notifyStream   = 1 << 10 // t
	notifyKeyMiss  = 1 << 11 // m
	notifyModule   = 1 << 12 // d
	notifyNew      = 1 << 13 // n
	notifyAll      = notifyGeneric | notifyString | notifyList | notifySet | notifyHash |
		notifyZset | notifyExpired | notifyEvicted | notifyStream | notifyModule // A
)

// NotifyFlags parses a notify-keyspace-events value into Redis's class
// bits (keyspaceEventsStringToFlags); ok is false on an unknown letter.
func NotifyFlags(classes string) (flags int, ok bool) {
	for i := 0; i < len(classes); i++ {
		switch classes[i] {
		case 'A':
			flags |= notifyAll
		case 'g':
			flags |= notifyGeneric
		case '$':
			flags |= notifyString
		case 'l':
			flags |= notifyList
		case 's':
			flags |= notifySet
		case 'h':
			flags |= notifyHash
		case 'z':
			flags |= notifyZset
		case 'x':
			flags |= notifyExpired
		case 'e':
			flags |= notifyEvicted
		case 'K':
			flags |= notifyKeyspace
		case 'E':
			flags |= notifyKeyevent
		case 't':
			flags |= notifyStream
		case 'm':
			flags |= notifyKeyMiss
		case 'd':
			flags |= notifyModule
		case 'n':
			flags |= notifyNew
		default:
			return 0, false
		}
	}
	return flags, true
}

// notifyString is keyspaceEventsFlagsToString.
func notifyFlagsString(flags int) string {
	var b []byte
	if flags&notifyAll == notifyAll {
		b = append(b, 'A')
	} else {
		for _, f := range []struct {
			bit int
			c   byte
		}{{notifyGeneric, 'g'}, {notifyString, '$'}, {notifyList, 'l'}, {notifySet, 's'},
			{notifyHash, 'h'}, {notifyZset, 'z'}, {notifyExpired, 'x'}, {notifyEvicted, 'e'},
			{notifyStream, 't'}, {notifyModule, 'd'}, {notifyNew, 'n'}} {
			if flags&f.bit != 0 {
				b = append(b, f.c)
			}
		}
	}
	if flags&notifyKeyspace != 0 {
		b = append(b, 'K')
	}
	if flags&notifyKeyevent != 0 {
		b = append(b, 'E')
	}
	if flags&notifyKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

func parseNotify(_ *setCtx, args []string) (string, string) {
	if len(args) != 1 {
		return "", wrongArgs
	}
	flags, ok := NotifyFlags(args[0])
	if !ok {
		return "", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
	}
	return notifyFlagsString(flags), ""
}

// parseBind is setConfigBindOption: up to 16 addresses, "" for none.
func parseBind(_ *setCtx, args []string) (string, string) {
	if len(args) > 16 {
		return "", "Too many bind addresses specified."
	}
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	return strings.Join(args, " "), ""
}

// parseReplicaOf is setConfigReplicaOfOption: "host port" or "no one".
func parseReplicaOf(_ *setCtx, args []string) (string, string) {
	if len(args) != 2 {
		return "", wrongArgs
	}
	if strings.EqualFold(args[0], "no") && strings.EqualFold(args[1], "one") {
		return "", ""
	}
	port, rest, _ := strtoll(args[1], 10)
	port = int64(int32(port)) // masterport is a C int
	if port < 0 || port > 65535 || rest != "" {
		return "", "Invalid master port"
	}
	return args[0] + " " + itoa(port), ""
}

// parsePercentiles is setConfigLatencyTrackingInfoPercentilesOutputOption.
func parsePercentiles(_ *setCtx, args []string) (string, string) {
	if len(args) == 1 && args[0] == "" {
		args = nil
	}
	parts := make([]string, 0, len(args))
	for _, a := range args {
		f, ok := string2d(a)
		if !ok {
			return "", "Invalid latency-tracking-info-percentiles parameters"
		}
		if f > 100 || f < 0 {
			return "", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
		}
		parts = append(parts, trimDouble(f))
	}
	return strings.Join(parts, " "), ""
}

// parseDir is setConfigDirOption, without the chdir: tstd keeps its data
// directory as an absolute path instead of changing the process's working
// directory. At run time (CONFIG SET) the directory must exist, as chdir
// requires; at start-up it may not exist yet, the store creates it.
func parseDir(c *setCtx, args []string) (string, string) {
	if len(args) != 1 {
		return "", wrongArgs
	}
	p := args[0]
	if c.runtime {
		fi, err := os.Stat(p)
		if err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) {
				return "", capitalize(errno.Error())
			}
			if errors.Is(err, fs.ErrNotExist) {
				return "", "No such file or directory"
			}
			return "", err.Error()
		}
		if !fi.IsDir() {
			return "", "Not a directory"
		}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err.Error()
	}
	return abs, ""
}

// capitalize turns Go's errno text ("no such file or directory") into
// strerror's ("No such file or directory").
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// validHostname is isValidAnnouncedHostname.
func validHostname(v string) string {
	if len(v) >= 256 {
		return "Hostnames must be less than 256 characters"
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "Hostnames may only contain alphanumeric characters, hyphens or dots"
		}
	}
	return ""
}

// validBaseName returns a validator for Redis's pathIsBaseName checks.
func validBaseName(name, what string, allowEmpty bool) func(string) string {
	return func(v string) string {
		if v == "" && !allowEmpty {
			return name + " can't be empty"
		}
		if strings.ContainsAny(v, "/\\") {
			return name + " can't be a path, just a " + what
		}
		return ""
	}
}

// validProcTitle approximates validateProcTitleTemplate: known {variables},
// balanced braces ("{{" and "}}" are literal), non-blank expansion.
func validProcTitle(v string) string {
	const bad = "template format is invalid or contains unknown variables"
	known := map[string]string{"title": "", "listen-addr": "*:6379", "server-mode": "",
		"port": "6379", "tls-port": "0", "unixsocket": "", "config-file": ""}
	var out strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '{' && i+1 < len(v) && v[i+1] == '{', c == '}' && i+1 < len(v) && v[i+1] == '}':
			out.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(v[i:], '}')
			if end < 0 {
				return bad
			}
			val, ok := known[v[i+1:i+end]]
			if !ok {
				return bad
			}
			out.WriteString(val)
			i += end
		case c == '}':
			return bad
		default:
			out.WriteByte(c)
		}
	}
	if strings.TrimSpace(out.String()) == "" {
		return bad
	}
	return ""
}
