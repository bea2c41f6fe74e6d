package eventloop

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Engine is a running gnet server. Its methods are safe for concurrent use,
// except that Stop must not be called from an event loop goroutine (it waits
// for the loops to exit): command hooks call it from a new goroutine.
type Engine struct {
	h     *handler
	addr  string
	loops int // event loops started

	done chan struct{} // closed when gnet.Run returned
	err  error         // gnet.Run's error, written before done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start starts gnet on opts.Addr in a goroutine and returns once the
// listener is bound and the event loops run. It returns the listen error
// (address in use, ...) if gnet fails to start.
func Start(opts Options) (*Engine, error) {
	if opts.Server == nil {
		return nil, ErrNoServer
	}
	opts.setDefaults()
	loops := opts.Loops
	if loops <= 0 {
		loops = DefaultLoops()
	}
	_, port, err := net.SplitHostPort(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("eventloop: listen address %q: %w", opts.Addr, err)
	}
	h := newHandler(opts)
	e := &Engine{h: h, loops: loops, done: make(chan struct{})}

	nodelay := gnet.TCPNoDelay
	if opts.TCPDelay {
		nodelay = gnet.TCPDelay
	}
	gopts := []gnet.Option{
		// An explicit count: gnet's multicore default is runtime.NumCPU(),
		// which ignores GOMAXPROCS (and so a container's CPU limit).
		gnet.WithNumEventLoop(loops),
		// With port 0 every SO_REUSEPORT listener would bind its own port.
		gnet.WithReusePort(opts.ReusePort && port != "0"),
		gnet.WithReuseAddr(true),
		gnet.WithLockOSThread(opts.LockOSThread),
		gnet.WithTCPNoDelay(nodelay),
		gnet.WithTicker(true),
		gnet.WithLogger(gnetLogger{opts.Logger.Named("gnet").Sugar()}),
	}
	if opts.TCPKeepAlive > 0 {
		gopts = append(gopts, gnet.WithTCPKeepAlive(opts.TCPKeepAlive))
	}
	go func() {
		e.err = gnet.Run(h, "tcp://"+opts.Addr, gopts...)
		h.closeWaiters()
		if h.syncer != nil {
			h.syncer.close()
		}
		close(e.done)
	}()
	select {
	case <-h.ready:
	case <-e.done:
		if e.err != nil {
			return nil, fmt.Errorf("eventloop: listen on %s: %w", opts.Addr, e.err)
		}
		return nil, ErrStopped
	}
	e.addr = opts.Addr
	if fd, err := h.eng.Dup(); err == nil {
		if sa, err := unix.Getsockname(fd); err == nil {
			if s := sockaddrString(sa); s != "" {
				e.addr = s
			}
		}
		_ = unix.Close(fd)
	}
	return e, nil
}

// Loops returns the number of event loops the engine runs.
func (e *Engine) Loops() int { return e.loops }

// Addr returns the address the engine listens on, host:port, with a
// requested port 0 resolved to the port the kernel chose.
func (e *Engine) Addr() string { return e.addr }

// Done is closed when the engine has stopped (Stop, or a fatal gnet error;
// see Err).
func (e *Engine) Done() <-chan struct{} { return e.done }

// Err returns the error gnet stopped with, after Done is closed.
func (e *Engine) Err() error {
	select {
	case <-e.done:
		return e.err
	default:
		return nil
	}
}

// BeginShutdown makes every event loop stop parsing commands: a batch in
// progress ends after the command it is executing, whose reply is still
// written. SHUTDOWN calls it (through the server's hook) on its own loop so
// that nothing after SHUTDOWN runs. Safe from any goroutine.
func (e *Engine) BeginShutdown() { e.h.stopping.Store(true) }

// Stop shuts the engine down gracefully: no further command is parsed, each
// loop finishes the event it is handling (whose replies are written), then
// gnet closes every connection, flushing pending output where the socket
// accepts it, and closes the listener. It returns when gnet has stopped or
// ctx is done. Calling it again returns the first call's result.
func (e *Engine) Stop(ctx context.Context) error {
	e.BeginShutdown()
	e.waitHeld(ctx)
	e.stopOnce.Do(func() {
		if err := e.h.eng.Stop(ctx); err != nil {
			// The engine may already be stopping on its own.
			select {
			case <-e.done:
			default:
				e.stopErr = fmt.Errorf("eventloop: stop: %w", err)
			}
		}
	})
	select {
	case <-e.done:
	case <-ctx.Done():
		if e.stopErr == nil {
			return ctx.Err()
		}
	}
	return e.stopErr
}

// waitHeld waits (bounded by ctx) until no connection holds replies for an
// appendfsync-always sync, so that Stop writes them before closing: held
// replies are acknowledgements of durable writes, and a client that never
// gets one retries.
func (e *Engine) waitHeld(ctx context.Context) {
	if e.h.syncer == nil {
		return
	}
	for e.h.held.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-e.done:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// SetSyncAlways switches appendfsync always on or off for the batches that
// start after the call.
func (e *Engine) SetSyncAlways(on bool) { e.h.syncAlways.Store(on) }

// SetRequirePass records whether a password is configured (requirepass):
// connections opened while one is start unauthenticated.
func (e *Engine) SetRequirePass(on bool) { e.h.requirePass.Store(on) }

// SetIdleTimeout sets the idle timeout (Redis's timeout); 0 turns it off.
func (e *Engine) SetIdleTimeout(d time.Duration) { e.h.idleTimeout.Store(int64(max(d, 0))) }

// SetMaxClients sets maxclients for connections accepted after the call.
func (e *Engine) SetMaxClients(n int) {
	if n > 0 {
		e.h.maxClients.Store(int64(n))
	}
}

// gnetLogger adapts zap to gnet's logging.Logger, demoting gnet's Info
// messages (start-up banners) to Debug and never exiting on Fatalf.
type gnetLogger struct{ s *zap.SugaredLogger }

func (l gnetLogger) Debugf(format string, args ...any) { l.s.Debugf(format, args...) }
func (l gnetLogger) Infof(format string, args ...any)  { l.s.Debugf(format, args...) }
func (l gnetLogger) Warnf(format string, args ...any)  { l.s.Warnf(format, args...) }
func (l gnetLogger) Errorf(format string, args ...any) { l.s.Errorf(format, args...) }
func (l gnetLogger) Fatalf(format string, args ...any) { l.s.Errorf(format, args...) }
