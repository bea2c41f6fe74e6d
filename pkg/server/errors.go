package server

import "errors"

// Errors returned by Start.
var (
	// ErrBadAddr is returned for a listen address that is not host:port.
	ErrBadAddr = errors.New("server: bad listen address")
	// ErrStopped is returned by WaitReady when the server stopped before
	// its dataset was loaded.
	ErrStopped = errors.New("server: stopped before the dataset was loaded")
)

// lockFile is the store's lock file in the data directory (pkg/store
// doc.go), checked by Start before it listens.
const lockFile = "LOCK"

// Errors returned by configuration hooks (CONFIG SET); their text is what
// the client sees after "ERR CONFIG SET failed (possibly related to
// argument '...') - ".
var (
	errRuntimeListen = errors.New("changing bind or port at runtime is not supported; restart tstd")
	errStarting      = errors.New("server: still starting")
	errLoading       = errors.New("server: the dataset is still loading")
)
