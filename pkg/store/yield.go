package store

import (
	"runtime"
	"sync/atomic"
)

// yieldEvery is how many bytes of background work (compaction's passes,
// the index snapshot) go between two yields of the processor.
const yieldEvery = 64 << 10

// yielder lets a background goroutine give its processor to the event
// loops every yieldEvery bytes of work. With one processor (tstd's default
// on two CPUs, GOMAXPROCS = loops), a loop whose epoll_wait returns while
// compaction runs would otherwise wait for the processor until the Go
// scheduler preempts compaction, up to 10 ms; runtime.Gosched puts the
// background goroutine behind it in the run queue (and costs well under a
// microsecond when nothing else is runnable). No lock may be held across
// add.
type yielder struct{ n int64 }

// yields counts the yields (tests read it; an atomic add per 64 KiB of
// work costs nothing measurable).
var yields atomic.Int64

// gosched is runtime.Gosched, counted.
func gosched() {
	yields.Add(1)
	runtime.Gosched()
}

func (y *yielder) add(n int64) {
	y.n += n
	if y.n >= yieldEvery {
		y.n = 0
		gosched()
	}
}
