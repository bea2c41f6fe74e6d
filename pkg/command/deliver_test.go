package command

import (
	"sync"
	"testing"
)

func TestDeliverTakeInbox(t *testing.T) {
	c := &Client{}
	wakes := 0
	c.Wake = func() { wakes++ }

	if out, blocked := c.TakeInbox(nil); len(out) != 0 || blocked {
		t.Fatalf("empty inbox: got %q blocked=%v", out, blocked)
	}
	c.Block()
	if !c.Blocked() {
		t.Fatal("Block: not blocked")
	}
	if _, blocked := c.TakeInbox(nil); !blocked {
		t.Fatal("TakeInbox: lost the blocked state")
	}
	if n := c.Deliver([]byte("+a\r\n"), false); n != 4 {
		t.Fatalf("Deliver returned %d, want 4", n)
	}
	c.Deliver([]byte("+b\r\n"), true) // one wake for both: the first is pending
	if wakes != 1 {
		t.Fatalf("wakes = %d, want 1 (coalesced)", wakes)
	}
	out, blocked := c.TakeInbox([]byte("+x\r\n"))
	if string(out) != "+x\r\n+a\r\n+b\r\n" || blocked {
		t.Fatalf("TakeInbox = %q blocked=%v", out, blocked)
	}
	c.Deliver([]byte("+c\r\n"), false)
	if wakes != 2 {
		t.Fatalf("wakes = %d, want 2 after the inbox was taken", wakes)
	}
}

// TestDeliverConcurrent delivers from several goroutines while the owner
// drains: every byte arrives once, in each sender's order.
func TestDeliverConcurrent(t *testing.T) {
	c := &Client{}
	c.Wake = func() {}
	const senders, each = 4, 1000
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				c.Deliver([]byte{byte('a' + s)}, false)
			}
		}()
	}
	var got []byte
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		got, _ = c.TakeInbox(got)
	}
	got, _ = c.TakeInbox(got)
	counts := map[byte]int{}
	for _, b := range got {
		counts[b]++
	}
	for s := range senders {
		if counts[byte('a'+s)] != each {
			t.Fatalf("sender %d: %d bytes arrived, want %d", s, counts[byte('a'+s)], each)
		}
	}
}
