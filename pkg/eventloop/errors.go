package eventloop

import "errors"

// Errors returned by Start.
var (
	// ErrNoServer is returned when Options.Server is nil.
	ErrNoServer = errors.New("eventloop: no command server")
	// ErrStopped is returned when the engine stopped before it was ready.
	ErrStopped = errors.New("eventloop: engine stopped before it was ready")
)
