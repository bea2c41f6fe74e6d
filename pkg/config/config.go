package config

import (
	"slices"
	"strings"
	"sync"

	"github.com/toonstore/toonstore/pkg/glob"
)

// Config is the directive registry with its current values. All methods
// are safe for concurrent use. Values are kept normalized, exactly as
// CONFIG GET prints them ("1048576" for maxmemory 1mb, "yes" for YES).
//
// Set, SetArgs and the loaders are serialized by setMu; hooks run with
// setMu held but mu released, so a hook may call Value, Int, Get and the
// other readers, but must not call Set (it would deadlock).
type Config struct {
	dirs   []Directive           // sorted by Name; never modified after New
	byName map[string]*Directive // lower-case name or alias -> directive
	names  []string              // every name and alias, sorted, for Get patterns

	setMu sync.Mutex // serializes writers (Set, SetArgs, LoadFile, LoadEnv)

	mu      sync.RWMutex                          // guards the fields below
	vals    map[string]string                     // canonical name -> normalized value
	hooks   map[string][]func(value string) error // canonical name -> OnChange hooks
	loaded  map[string]bool                       // loaded from file/flags/env at least once
	renames [][2]string                           // rename-command lines, in order
	users   [][]string                            // user lines (arguments after "user"), in order
}

// New returns a Config holding every directive at tstd's default.
func New() *Config {
	c := &Config{
		byName: make(map[string]*Directive),
		vals:   make(map[string]string),
		hooks:  make(map[string][]func(string) error),
		loaded: make(map[string]bool),
	}
	c.dirs = builtins()
	slices.SortFunc(c.dirs, func(a, b Directive) int { return strings.Compare(a.Name, b.Name) })
	for i := range c.dirs {
		d := &c.dirs[i]
		c.byName[d.Name] = d
		c.names = append(c.names, d.Name)
		if d.Alias != "" {
			c.byName[d.Alias] = d
			c.names = append(c.names, d.Alias)
		}
		v := d.Default
		if d.Name == "dir" {
			v, _ = parseDir(&setCtx{}, []string{d.Default}) // absolute, as CONFIG GET prints it
		}
		c.vals[d.Name] = v
	}
	slices.Sort(c.names)
	return c
}

// lookup finds a directive by name or alias, in any case. reg is the name
// it is registered under (the alias when found by alias), which is how
// Redis names it in errors.
func (c *Config) lookup(name string) (d *Directive, reg string) {
	reg = strings.ToLower(name)
	d = c.byName[reg]
	return d, reg
}

// Lookup returns the description of a directive by name or alias.
func (c *Config) Lookup(name string) (Directive, bool) {
	d, _ := c.lookup(name)
	if d == nil {
		return Directive{}, false
	}
	return *d, true
}

// Directives returns every directive, sorted by name, for building
// command-line flags and --help. The slice is a copy.
func (c *Config) Directives() []Directive {
	return slices.Clone(c.dirs)
}

// Get implements CONFIG GET for one pattern, as Redis 7.0 does: a pattern
// without any of "[*?" is looked up by exact name or alias (any case, and
// hidden directives included) and reported under the name as given;
// otherwise every name and alias that is not hidden is matched with
// Redis's glob, case-insensitively. Pairs are [name, value], sorted by name.
func (c *Config) Get(pattern string) [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !strings.ContainsAny(pattern, "[*?") {
		d, _ := c.lookup(pattern)
		if d == nil {
			return nil
		}
		return [][2]string{{pattern, c.vals[d.Name]}}
	}
	var out [][2]string
	for _, name := range c.names {
		d := c.byName[name]
		if d.Flags&Hidden != 0 || !glob.MatchString(pattern, name, true) {
			continue
		}
		out = append(out, [2]string{name, c.vals[d.Name]})
	}
	return out
}

// GetAll is CONFIG GET with several patterns: the union of Get over them,
// each name reported once, in order of first match.
func (c *Config) GetAll(patterns ...string) [][2]string {
	var out [][2]string
	seen := make(map[string]bool)
	for _, p := range patterns {
		for _, kv := range c.Get(p) {
			if !seen[kv[0]] {
				seen[kv[0]] = true
				out = append(out, kv)
			}
		}
	}
	return out
}

// Value returns the current value of a directive (by name or alias, any
// case) as CONFIG GET prints it, or "" if there is no such directive.
func (c *Config) Value(name string) string {
	d, _ := c.lookup(name)
	if d == nil {
		return ""
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.vals[d.Name]
}

// String is Value.
func (c *Config) String(name string) string { return c.Value(name) }

// Bool reports whether a yes/no directive is "yes" (false if unknown).
func (c *Config) Bool(name string) bool { return c.Value(name) == "yes" }

// Int returns a numeric directive as an int64: bytes for memory values
// (clamped to MaxInt64), the negated percentage for "N%" values (as Redis
// stores maxmemory-clients), 0 for non-numeric or unknown directives.
func (c *Config) Int(name string) int64 {
	d, _ := c.lookup(name)
	if d == nil {
		return 0
	}
	return d.int64Of(c.Value(name))
}

// OnChange registers fn to apply a directive live: Set calls it, after
// all new values are stored, with the directive's new value, whenever a
// CONFIG SET changed that value. If fn returns an error, Set restores
// every value of the command, calls the hooks of the changed directives
// again with their old values (errors ignored) and fails with fn's error
// text, as Redis does with its apply functions. Hooks do not run for
// LoadFile, LoadEnv or SetArgs. OnChange panics if name is unknown: that
// is a programming error, not a user's.
func (c *Config) OnChange(name string, fn func(value string) error) {
	d, _ := c.lookup(name)
	if d == nil {
		panic("config: OnChange for unknown directive " + name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hooks[d.Name] = append(c.hooks[d.Name], fn)
}

// Set implements CONFIG SET name value [name value ...] for a client that
// is not local (see SetLocal). It is atomic: every pair is checked first
// (unknown name, immutable, protected, duplicate, then each value in
// order), then all values are stored and the OnChange hooks run; a failing
// hook rolls everything back. The error is a *SetError whose text is
// Redis's reply without "ERR ".
func (c *Config) Set(pairs [][2]string) error { return c.set(pairs, false) }

// SetLocal is Set for a client connected over loopback or a Unix socket,
// which may change protected directives (dir, dbfilename) when
// enable-protected-configs is "local".
func (c *Config) SetLocal(pairs [][2]string) error { return c.set(pairs, true) }

type job struct {
	d        *Directive
	reg      string // registered name used: canonical or alias
	old, new string
}

func (c *Config) set(pairs [][2]string, local bool) error {
	c.setMu.Lock()
	defer c.setMu.Unlock()

	// Phase 1: names, as configSetCommand's first loop. The first problem
	// wins.
	protectedOK := false
	switch c.Value("enable-protected-configs") {
	case "yes":
		protectedOK = true
	case "local":
		protectedOK = local
	}
	var jobs []job
	seen := make(map[string]bool)
	for _, p := range pairs {
		d, reg := c.lookup(p[0])
		if d == nil {
			return &SetError{Name: p[0], Kind: ErrUnknown}
		}
		if d.Flags&Immutable != 0 {
			return &SetError{Name: p[0], Reason: "can't set immutable config", Kind: ErrImmutable}
		}
		if d.Flags&Protected != 0 && !protectedOK {
			return &SetError{Name: p[0], Reason: "can't set protected config", Kind: ErrProtected}
		}
		// Redis compares registry entries, and a name and its alias are
		// distinct entries: "slave-priority 1 replica-priority 2" is fine.
		if seen[reg] {
			return &SetError{Name: p[0], Reason: "duplicate parameter", Kind: ErrDuplicate}
		}
		seen[reg] = true
		jobs = append(jobs, job{d: d, reg: reg})
	}

	// Phase 2: parse every value in order against the pending state.
	pending := make(map[string]string)
	c.mu.RLock()
	for i := range jobs {
		j := &jobs[i]
		j.old = c.vals[j.d.Name]
		cur, ok := pending[j.d.Name]
		if !ok {
			cur = j.old
		}
		args := []string{pairs[i][1]}
		if j.d.Flags&MultiArg != 0 {
			args = splitSpaces(pairs[i][1])
		}
		v, reason := j.d.parse(&setCtx{cur: cur, runtime: true}, args)
		if reason != "" {
			c.mu.RUnlock()
			return &SetError{Name: j.reg, Reason: reason, Kind: ErrInvalid}
		}
		j.new = v
		pending[j.d.Name] = v
	}
	// The first value a directive had is the one to restore.
	first := make(map[string]string)
	for _, j := range jobs {
		if _, ok := first[j.d.Name]; !ok {
			first[j.d.Name] = j.old
		}
	}
	c.mu.RUnlock()

	// Phase 3: store, then apply.
	c.mu.Lock()
	var changed []job
	done := make(map[string]bool)
	for _, j := range jobs {
		c.vals[j.d.Name] = pending[j.d.Name]
	}
	for _, j := range jobs {
		if !done[j.d.Name] && first[j.d.Name] != pending[j.d.Name] {
			done[j.d.Name] = true
			changed = append(changed, job{d: j.d, reg: j.reg, old: first[j.d.Name], new: pending[j.d.Name]})
		}
	}
	hooks := make(map[string][]func(string) error, len(changed))
	for _, j := range changed {
		hooks[j.d.Name] = slices.Clone(c.hooks[j.d.Name])
	}
	c.mu.Unlock()

	for _, j := range changed {
		for _, fn := range hooks[j.d.Name] {
			if err := fn(j.new); err != nil {
				c.mu.Lock()
				for name, v := range first {
					c.vals[name] = v
				}
				c.mu.Unlock()
				for _, r := range changed {
					for _, fn := range hooks[r.d.Name] {
						_ = fn(r.old) // best effort, as Redis's restoreBackupConfig
					}
				}
				return &SetError{Name: j.reg, Reason: err.Error(), Kind: ErrApply, Cause: err}
			}
		}
	}
	return nil
}

// Renames returns the rename-command lines loaded so far as [from, to]
// pairs, in order; to == "" removes the command. The server applies and
// validates them (Redis: "No such command in rename-command").
func (c *Config) Renames() [][2]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return slices.Clone(c.renames)
}

// Users returns the arguments of the "user" lines loaded so far (ACL
// rules, starting with the user name), in order, for the server to apply.
func (c *Config) Users() [][]string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([][]string, len(c.users))
	for i, u := range c.users {
		out[i] = slices.Clone(u)
	}
	return out
}
