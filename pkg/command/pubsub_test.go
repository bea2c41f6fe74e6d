package command

import (
	"strings"
	"sync/atomic"
	"testing"
)

// psClient returns a registered client whose Kill is counted.
func psClient(s *Server) (*Client, *atomic.Int32) {
	c := s.NewClient()
	kills := new(atomic.Int32)
	c.Kill = func() { kills.Add(1) }
	s.Clients.Add(c)
	return c, kills
}

func inbox(c *Client) string {
	out, _ := c.TakeInbox(nil)
	return string(out)
}

func TestPubSubDelivery(t *testing.T) {
	s := newTestServer(t, nil)
	pub, _ := psClient(s)
	sub, _ := psClient(s)
	psub, _ := psClient(s)

	require_Equal(t, do(t, s, sub, "SUBSCRIBE", "a", "b"),
		"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n")
	require_Equal(t, do(t, s, psub, "HELLO", "3")[:1], "%")
	require_Equal(t, do(t, s, psub, "PSUBSCRIBE", "a*"), ">3\r\n$10\r\npsubscribe\r\n$2\r\na*\r\n:1\r\n")

	require_Equal(t, do(t, s, pub, "PUBLISH", "a", "m1"), ":2\r\n")
	require_Equal(t, inbox(sub), "*3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nm1\r\n")
	require_Equal(t, inbox(psub), ">4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$1\r\na\r\n$2\r\nm1\r\n")
	require_Equal(t, do(t, s, pub, "PUBLISH", "zz", "m"), ":0\r\n")
	require_Equal(t, inbox(sub)+inbox(psub), "")

	// Subscribed mode (RESP2 only) and its PING.
	require_Equal(t, do(t, s, sub, "GET", "k"),
		"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n")
	require_Equal(t, do(t, s, sub, "PING"), "*2\r\n$4\r\npong\r\n$0\r\n\r\n")
	require_Equal(t, do(t, s, psub, "GET", "k"), "_\r\n")

	// INFO and CLIENT LIST see the subscriptions.
	info := do(t, s, pub, "INFO", "stats")
	for _, want := range []string{"pubsub_channels:2\r\n", "pubsub_patterns:1\r\n", "pubsubshard_channels:0\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO stats lacks %q", want)
		}
	}
	list := do(t, s, pub, "CLIENT", "LIST", "TYPE", "pubsub")
	if !strings.Contains(list, "flags=P db=0 sub=2 psub=0 ssub=0") || !strings.Contains(list, "sub=0 psub=1 ssub=0") ||
		strings.Count(list, "id=") != 2 {
		t.Errorf("CLIENT LIST TYPE pubsub:\n%s", list)
	}

	// Disconnection forgets every subscription.
	s.Disconnected(sub)
	s.Disconnected(psub)
	require_Equal(t, do(t, s, pub, "PUBLISH", "a", "m2"), ":0\r\n")
	require_Equal(t, do(t, s, pub, "PUBSUB", "NUMSUB", "a", "b"), "*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:0\r\n")
	require_Equal(t, do(t, s, pub, "PUBSUB", "NUMPAT"), ":0\r\n")
	require_Equal(t, do(t, s, pub, "PUBSUB", "CHANNELS"), "*0\r\n")
}

func TestPubSubReset(t *testing.T) {
	s := newTestServer(t, nil)
	c, _ := psClient(s)
	do(t, s, c, "SUBSCRIBE", "a")
	do(t, s, c, "SSUBSCRIBE", "a")
	do(t, s, c, "PSUBSCRIBE", "*")
	require_Equal(t, do(t, s, c, "RESET"), "+RESET\r\n")
	require_Equal(t, do(t, s, c, "GET", "a"), "$-1\r\n")
	require_Equal(t, do(t, s, c, "UNSUBSCRIBE"), "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n")
	ch, pat, sh := s.pubsubCounts()
	require_Equal(t, ch+pat+sh, 0)
}

// TestPubSubOutputLimit: a subscriber whose pending output (inbox plus
// the loop's OutBuf) reaches the hard limit is killed once and gets
// nothing more; the publisher and other subscribers carry on.
func TestPubSubOutputLimit(t *testing.T) {
	cfg := newFakeConfig("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 1000 0 0")
	s := newTestServer(t, cfg)
	pub, _ := psClient(s)
	slow, slowKills := psClient(s)
	fast, fastKills := psClient(s)
	do(t, s, slow, "SUBSCRIBE", "c")
	do(t, s, fast, "SUBSCRIBE", "c")
	msg := strings.Repeat("x", 100)
	for i := 0; i < 50; i++ {
		do(t, s, pub, "PUBLISH", "c", msg)
		inbox(fast) // fast reads everything
	}
	require_Equal(t, slowKills.Load(), 1)
	require_Equal(t, fastKills.Load(), 0)
	if !slow.Killed() {
		t.Fatal("slow subscriber not marked killed")
	}
	if n := len(inbox(slow)); n > 1000+200 {
		t.Errorf("slow subscriber's inbox holds %d bytes, over the 1000-byte limit by more than one message", n)
	}
	// OutBuf counts too: a subscriber whose loop holds output is cut at once.
	stuck, stuckKills := psClient(s)
	do(t, s, stuck, "SUBSCRIBE", "c")
	stuck.OutBuf.Store(5000)
	do(t, s, pub, "PUBLISH", "c", "m")
	require_Equal(t, stuckKills.Load(), 1)
}

func TestObufLimitReached(t *testing.T) {
	l := obufLimit{hard: 100, soft: 50, secs: 10}
	c := &Client{}
	steps := []struct {
		name    string
		pending int64
		now     int64
		want    bool
	}{
		{"under both", 10, 1000, false},
		{"soft first seen", 60, 1000, false},
		{"soft within seconds", 60, 1010, false},
		{"soft past seconds", 60, 1011, true},
		{"back under resets", 10, 1012, false},
		{"soft seen again", 60, 1013, false},
		{"hard at once", 100, 1013, true},
	}
	for _, st := range steps {
		if got := l.reached(c, st.pending, st.now); got != st.want {
			t.Fatalf("%s: reached(%d, %d) = %v, want %v", st.name, st.pending, st.now, got, st.want)
		}
	}
	if (obufLimit{}).reached(c, 1<<40, 0) {
		t.Fatal("zero limits must never be reached")
	}
}

func TestPubSubLimitConfig(t *testing.T) {
	cfg := newFakeConfig("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")
	s := newTestServer(t, cfg)
	l := s.pubsubLimit()
	require_Equal(t, [3]int64{l.hard, l.soft, l.secs}, [3]int64{32 << 20, 8 << 20, 60})
	cfg.Set([][2]string{{"client-output-buffer-limit", "normal 0 0 0 slave 1 2 3 pubsub 10 5 2"}})
	l = s.pubsubLimit()
	require_Equal(t, [3]int64{l.hard, l.soft, l.secs}, [3]int64{10, 5, 2})
}
