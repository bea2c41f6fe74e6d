package cache

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/toonstore/toonstore/pkg/store"
)

// URLConfig is what a connection string such as
// "file://./data?capacity=10000" describes: see ParseURL.
type URLConfig struct {
	Dir   string
	Cache Options
	Store store.Options
}

// ParseURL parses the seed's connection string
//
//	file://DIR[?param=value&...]
//
// DIR is everything between "file://" and "?", percent-decoded: file://./data
// is the relative directory ./data, file:///var/lib/tstd the absolute
// /var/lib/tstd. Parameters: capacity (decoded entries, > 0; default
// DefaultCapacity), maxbytes (>= 0), shards (a power of two), databases
// (> 0) and sync (always, everysec or no). Anything else, an empty DIR, a
// fragment or a repeated parameter is an error wrapping ErrBadURL.
func ParseURL(s string) (URLConfig, error) {
	var cfg URLConfig
	rest, ok := strings.CutPrefix(s, "file://")
	if !ok {
		return cfg, fmt.Errorf("%w %q: want file://DIR[?capacity=N]", ErrBadURL, s)
	}
	if strings.Contains(rest, "#") {
		return cfg, fmt.Errorf("%w %q: a fragment is not allowed", ErrBadURL, s)
	}
	path, query, _ := strings.Cut(rest, "?")
	dir, err := url.PathUnescape(path)
	if err != nil {
		return cfg, fmt.Errorf("%w %q: %w", ErrBadURL, s, err)
	}
	if dir == "" {
		return cfg, fmt.Errorf("%w %q: no directory", ErrBadURL, s)
	}
	cfg.Dir = dir
	params, err := url.ParseQuery(query)
	if err != nil {
		return cfg, fmt.Errorf("%w %q: %w", ErrBadURL, s, err)
	}
	for name, vals := range params {
		if len(vals) != 1 {
			return cfg, fmt.Errorf("%w %q: parameter %s given %d times", ErrBadURL, s, name, len(vals))
		}
		val := vals[0]
		bad := func() error { return fmt.Errorf("%w %q: bad %s %q", ErrBadURL, s, name, val) }
		switch name {
		case "capacity":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return cfg, bad()
			}
			cfg.Cache.Capacity = n
		case "maxbytes":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil || n < 0 {
				return cfg, bad()
			}
			cfg.Cache.MaxBytes = n
		case "shards":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 || n&(n-1) != 0 {
				return cfg, bad()
			}
			cfg.Cache.Shards = n
		case "databases":
			n, err := strconv.Atoi(val)
			if err != nil || n <= 0 {
				return cfg, bad()
			}
			cfg.Store.Databases = n
		case "sync":
			switch val {
			case "always":
				cfg.Store.Sync = store.SyncAlways
			case "everysec":
				cfg.Store.Sync = store.SyncEverySec
			case "no":
				cfg.Store.Sync = store.SyncNo
			default:
				return cfg, bad()
			}
		default:
			return cfg, fmt.Errorf("%w %q: unknown parameter %q", ErrBadURL, s, name)
		}
	}
	return cfg, nil
}

// String returns the canonical connection string of cfg, which ParseURL
// maps back to cfg: parameters left at zero are omitted, the others appear
// in a fixed order.
func (cfg URLConfig) String() string {
	var b strings.Builder
	b.WriteString("file://")
	b.WriteString((&url.URL{Path: cfg.Dir}).EscapedPath())
	q := url.Values{}
	if cfg.Cache.Capacity != 0 {
		q.Set("capacity", strconv.Itoa(cfg.Cache.Capacity))
	}
	if cfg.Cache.MaxBytes != 0 {
		q.Set("maxbytes", strconv.FormatInt(cfg.Cache.MaxBytes, 10))
	}
	if cfg.Cache.Shards != 0 {
		q.Set("shards", strconv.Itoa(cfg.Cache.Shards))
	}
	if cfg.Store.Databases != 0 {
		q.Set("databases", strconv.Itoa(cfg.Store.Databases))
	}
	switch cfg.Store.Sync {
	case store.SyncAlways:
		q.Set("sync", "always")
	case store.SyncNo:
		q.Set("sync", "no")
	}
	if len(q) > 0 {
		b.WriteByte('?')
		b.WriteString(q.Encode())
	}
	return b.String()
}

// OpenURL opens "file://./data?capacity=10000" (the seed's connection
// string; "file://./data" means the default capacity): see ParseURL for
// the syntax. A malformed string returns an error wrapping ErrBadURL;
// store errors are returned wrapped.
func OpenURL(u string) (*Cache, error) {
	cfg, err := ParseURL(u)
	if err != nil {
		return nil, err
	}
	s, err := store.Open(cfg.Dir, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("cache: open %s: %w", cfg.Dir, err)
	}
	c, err := Open(s, cfg.Cache)
	if err != nil {
		s.Close()
		return nil, err
	}
	return c, nil
}
