package config

import (
	"math"
	"strconv"
	"strings"
)

// Type is how a directive's value is parsed and printed.
type Type uint8

// Directive types, mirroring Redis 7.0's config.c.
const (
	TypeBool          Type = iota + 1 // yes/no, any case; printed yes/no
	TypeInt                           // decimal integer within [Min, Max]
	TypeOctal                         // octal integer (unixsocketperm)
	TypeMemory                        // bytes with optional unit b k kb m mb g gb; printed in bytes
	TypeMemoryPercent                 // memory value or "N%" (maxmemory-clients)
	TypeEnum                          // one of Enum, any case; printed canonically
	TypeString                        // any string, validated per directive
	TypeSpecial                       // own syntax: save, bind, client-output-buffer-limit, ...
)

var typeNames = [...]string{"", "bool", "int", "octal", "memory", "memory-or-percent", "enum", "string", "special"}

// String returns a short name for --help: "bool", "int", "memory", ...
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "type(" + itoa(int64(t)) + ")"
}

// Flag describes how a directive may be changed.
type Flag uint16

// Directive flags. The first five are Redis's own.
const (
	Immutable   Flag = 1 << iota // CONFIG SET refuses it: "can't set immutable config"
	Protected                    // CONFIG SET refuses it unless enable-protected-configs allows
	Sensitive                    // value is a secret: never log it
	Hidden                       // CONFIG GET returns it only when asked by exact name
	MultiArg                     // takes several arguments (save, bind, ...)
	DenyLoading                  // Redis refuses to set it while loading data
	Tstd                         // tstd's own directive; Redis does not have it
)

// Directive describes one configuration directive. The registry is data:
// New builds every Config from the same table (see table.go).
type Directive struct {
	Name  string // canonical, lower case
	Alias string // older name Redis still accepts, or ""
	Type  Type
	Flags Flag
	// Default is the value as CONFIG GET prints it on a fresh tstd.
	Default string
	// Min and Max bound numeric types. When Unsigned is set they are
	// compared as uint64 (Redis's unsigned int, size_t and unsigned long
	// long configs), so Max == -1 stands for 2^64-1.
	Min, Max int64
	Unsigned bool
	// Enum lists the accepted words of an enum, in Redis's order. A
	// MultiArg enum takes several words and combines them as flags.
	Enum []string
	// Usage is a one-line description, set for the directives tstd acts
	// on; the others are accepted, validated and reported like Redis.
	Usage string

	enumVals []int                                           // values of Enum, parallel
	validate func(v string) string                           // extra check on the normalized value; returns Redis's reason
	fix      func(v string, runtime bool) string             // adjusts a valid value after set, as Redis's apply functions do
	special  func(c *setCtx, args []string) (string, string) // TypeSpecial: args -> (value, reason)
}

// Mutable reports whether CONFIG SET may change the directive (ignoring
// Protected, which depends on enable-protected-configs).
func (d *Directive) Mutable() bool { return d.Flags&Immutable == 0 }

// setCtx carries what a special directive's parser needs beyond its
// arguments: the current value and where the value comes from.
type setCtx struct {
	cur     string // current normalized value
	loading bool   // from a file, flags or environment (not CONFIG SET)
	first   bool   // loading, and the first time this directive is loaded
	runtime bool   // CONFIG SET: e.g. dir must exist
}

// parse turns arguments into the normalized value (as CONFIG GET prints
// it) or returns Redis's reason text.
func (d *Directive) parse(c *setCtx, args []string) (string, string) {
	if d.Type == TypeSpecial {
		v, reason := d.special(c, args)
		if reason != "" {
			return "", reason
		}
		return v, ""
	}
	if d.Type == TypeEnum {
		return d.parseEnum(args)
	}
	v := args[0]
	var out string
	switch d.Type {
	case TypeBool:
		b, ok := yesNo(v)
		if !ok {
			return "", "argument must be 'yes' or 'no'"
		}
		out = "no"
		if b {
			out = "yes"
		}
	case TypeString:
		out = v
	default:
		n, reason := d.parseNumber(v)
		if reason != "" {
			return "", reason
		}
		out = d.formatNumber(n)
	}
	if d.validate != nil {
		if reason := d.validate(out); reason != "" {
			return "", reason
		}
	}
	if d.fix != nil {
		out = d.fix(out, c.runtime)
	}
	return out, ""
}

// parseNumber is numericParseString followed by numericBoundaryCheck.
func (d *Directive) parseNumber(v string) (int64, string) {
	var n int64
	parsed := false
	if d.Type == TypeMemory || d.Type == TypeMemoryPercent {
		if u, ok := memtoull(v); ok {
			n, parsed = int64(u), true
		}
	}
	if !parsed && d.Type == TypeMemoryPercent && len(v) > 1 && v[len(v)-1] == '%' {
		if p, ok := string2ll(v[:len(v)-1]); ok && p >= 0 {
			n, parsed = -p, true // Redis stores a percentage as a negative number
		}
	}
	if !parsed && d.Type == TypeOctal {
		if o, rest, overflow := strtoll(v, 8); !overflow && rest == "" {
			n, parsed = o, true
		}
	}
	if !parsed && d.Type == TypeInt {
		n, parsed = string2ll(v)
	}
	if !parsed {
		switch d.Type {
		case TypeMemoryPercent:
			return 0, "argument must be a memory or percent value"
		case TypeMemory:
			return 0, "argument must be a memory value"
		case TypeOctal:
			return 0, "argument couldn't be parsed as an octal number"
		}
		return 0, "argument couldn't be parsed into an integer"
	}
	if d.Unsigned {
		u, lo, hi := uint64(n), uint64(d.Min), uint64(d.Max)
		if u > hi || u < lo {
			if d.Type == TypeOctal {
				return 0, "argument must be between " + strconv.FormatUint(lo, 8) + " and " + strconv.FormatUint(hi, 8) + " inclusive"
			}
			return 0, "argument must be between " + strconv.FormatUint(lo, 10) + " and " + strconv.FormatUint(hi, 10) + " inclusive"
		}
		return n, ""
	}
	if d.Type == TypeMemoryPercent && n < 0 {
		if n < d.Min {
			return 0, "percentage argument must be less or equal to " + itoa(-d.Min)
		}
		return n, ""
	}
	if n > d.Max || n < d.Min {
		return 0, "argument must be between " + itoa(d.Min) + " and " + itoa(d.Max) + " inclusive"
	}
	return n, ""
}

// formatNumber is numericConfigGet.
func (d *Directive) formatNumber(n int64) string {
	switch {
	case d.Type == TypeMemoryPercent && n < 0:
		return itoa(-n) + "%"
	case d.Type == TypeMemory || d.Type == TypeMemoryPercent:
		return strconv.FormatUint(uint64(n), 10)
	case d.Type == TypeOctal:
		return strconv.FormatUint(uint64(n), 8)
	}
	return itoa(n)
}

// parseEnum is enumConfigSet with Redis 7.0.15's bit-flag enums.
func (d *Directive) parseEnum(args []string) (string, string) {
	bitflags := d.Flags&MultiArg != 0
	val, ok := 0, len(args) > 0 && (bitflags || len(args) == 1)
	for _, a := range args {
		if !ok {
			break
		}
		matched := false
		for i, name := range d.Enum {
			if strings.EqualFold(a, name) {
				val |= d.enumVals[i]
				matched = true
			}
		}
		ok = matched
	}
	if !ok {
		return "", "argument(s) must be one of the following: " + strings.Join(d.Enum, ", ")
	}
	name := d.enumName(val, bitflags)
	if d.validate != nil {
		if reason := d.validate(name); reason != "" {
			return "", reason
		}
	}
	return name, ""
}

// enumName is configEnumGetName: the first word with this exact value, or
// for flags the words covering its bits.
func (d *Directive) enumName(val int, bitflags bool) string {
	var names []string
	unmatched := val
	for i, name := range d.Enum {
		v := d.enumVals[i]
		if v == val {
			return name
		}
		if bitflags && v != 0 && v == unmatched&v {
			names = append(names, name)
			unmatched &^= v
		}
	}
	if len(names) == 0 || unmatched != 0 {
		return "unknown"
	}
	return strings.Join(names, " ")
}

// int64Of parses a normalized numeric value back (see Config.Int).
func (d *Directive) int64Of(v string) int64 {
	switch d.Type {
	case TypeOctal:
		n, _ := strconv.ParseInt(v, 8, 64)
		return n
	case TypeMemory, TypeMemoryPercent:
		if strings.HasSuffix(v, "%") {
			n, _ := strconv.ParseInt(strings.TrimSuffix(v, "%"), 10, 64)
			return -n
		}
		u, _ := strconv.ParseUint(v, 10, 64)
		if u > math.MaxInt64 {
			return math.MaxInt64
		}
		return int64(u)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}
