package server

import "errors"

// Errors returned by Start.
var (
	// ErrBadAddr is returned for a listen address that is not host:port.
	ErrBadAddr = errors.New("server: bad listen address")
)

// Errors returned by configuration hooks (CONFIG SET); their text is what
// the client sees after "ERR CONFIG SET failed (possibly related to
// argument '...') - ".
var (
	errRuntimeListen = errors.New("changing bind or port at runtime is not supported; restart tstd")
	errStarting      = errors.New("server: still starting")
)
