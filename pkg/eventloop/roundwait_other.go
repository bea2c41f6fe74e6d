//go:build !linux

package eventloop

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// roundWaiter is Options.RoundWait's wait, which needs epoll_pwait2: off
// outside Linux.
type roundWaiter struct {
	waits, skips, kicked, events atomic.Int64
	waiting                      atomic.Bool
}

func newRoundWaiter(gnet.EventLoop, time.Duration) (*roundWaiter, error) {
	return nil, errors.New("eventloop: the round wait needs Linux")
}

func (*roundWaiter) wait()  {}
func (*roundWaiter) close() {}
func (*roundWaiter) kick()  {}
