package difftest

import (
	"fmt"
	"strconv"
	"testing"
)

// Pub/sub needs several connections per server and replies that arrive on
// a connection other than the one that sent the command. A psStep sends
// one command on connection conn, then reads one complete reply from each
// connection listed in reads, in that order, and compares every reply
// byte for byte (or under mode, as in the scripts). Reads block until the
// reply arrives (replyTimeout), so delivery across event loops needs no
// sleep; every case ends with a PING on each of its connections, which
// also catches a message that one server sent and the other did not.
type psStep struct {
	conn  int
	cmd   string // split as script lines are
	reads []int  // nil: one reply from conn
	mode  string
}

type psCase struct {
	name  string
	proto int // 0: run in RESP2 and RESP3; else only in this protocol
	steps []psStep
}

// s is a step reading one reply from its own connection; sr one that
// reads from the given connections instead.
func s(conn int, cmd string) psStep { return psStep{conn: conn, cmd: cmd} }
func sr(conn int, cmd string, reads ...int) psStep {
	return psStep{conn: conn, cmd: cmd, reads: reads}
}
func smode(conn int, mode, cmd string) psStep { return psStep{conn: conn, cmd: cmd, mode: mode} }

func pubsubCases() []psCase {
	return []psCase{
		{"basic", 0, []psStep{
			s(2, "SUBSCRIBE ch"),
			sr(1, "PUBLISH ch hello", 1, 2),
			sr(1, "PUBLISH other x", 1),
			sr(1, `PUBLISH ch "bin\x00\r\nary"`, 1, 2),
			sr(1, "PUBLISH ch ''", 1, 2),
			s(2, "UNSUBSCRIBE ch"),
			sr(1, "PUBLISH ch gone", 1),
		}},
		{"multi-channel confirmations", 0, []psStep{
			sr(2, "SUBSCRIBE a b a c", 2, 2, 2, 2),
			sr(2, "PSUBSCRIBE x* y?", 2, 2),
			sr(2, "UNSUBSCRIBE b nosuch", 2, 2),
			sr(2, "PUNSUBSCRIBE x* nosuch", 2, 2),
			sr(2, "UNSUBSCRIBE a c", 2, 2),
			s(2, "PUNSUBSCRIBE"),
			s(2, "UNSUBSCRIBE"),
			s(2, "PUNSUBSCRIBE"),
			s(2, "SUNSUBSCRIBE"),
			s(2, "GET k"),
		}},
		{"patterns", 0, []psStep{
			s(2, "PSUBSCRIBE news.*"),
			s(3, "PSUBSCRIBE n[aeiou]ws.?"),
			s(3, "SUBSCRIBE news.a"),
			sr(1, "PUBLISH news.a 1", 1, 2, 3, 3),
			sr(1, "PUBLISH news.bb 2", 1, 2),
			sr(1, "PUBLISH nows.c 3", 1, 3),
			sr(1, "PUBLISH other 4", 1),
			s(1, "PUBSUB NUMPAT"),
			smode(1, "sort", "PUBSUB CHANNELS"),
			s(1, "PUBSUB NUMSUB news.a news.* none"),
			s(2, "PUNSUBSCRIBE news.*"),
			sr(1, "PUBLISH news.a 5", 1, 3, 3),
		}},
		// In RESP2 a subscriber cannot PUBLISH (subscribed mode).
		{"publisher subscribed to itself", 3, []psStep{
			s(1, "SUBSCRIBE me"),
			s(2, "SUBSCRIBE me"),
			// The message comes before the integer reply.
			sr(1, "PUBLISH me self", 1, 1, 2),
			s(1, "PSUBSCRIBE m*"),
			sr(1, "PUBLISH me again", 1, 1, 1, 2),
		}},
		{"subscribed mode", 0, []psStep{
			s(2, "SUBSCRIBE a"),
			s(2, "PING"),
			s(2, "PING hi"),
			s(2, "PING a b"),
			s(2, "GET a"),
			s(2, "SET a b"),
			s(2, "CONFIG GET maxclients"),
			s(2, "CLIENT GETNAME"),
			s(2, "NOSUCHCMD x"),
			s(2, "GET"),
			s(2, "PUBLISH a b"),
			s(2, "PUBSUB NUMSUB a"),
			s(2, "SSUBSCRIBE s"),
			s(2, "UNSUBSCRIBE a"),
			s(2, "GET a"),
			s(2, "SUNSUBSCRIBE s"),
			s(2, "GET a"),
			s(2, "PING"),
		}},
		{"shard channels", 0, []psStep{
			s(2, "SSUBSCRIBE s1"),
			sr(2, "SSUBSCRIBE s1 s2", 2, 2),
			s(3, "SUBSCRIBE s1"),
			sr(1, "SPUBLISH s1 m", 1, 2),
			sr(1, "PUBLISH s1 m", 1, 3),
			s(1, "PUBSUB SHARDNUMSUB s1 s2 s3"),
			s(1, "PUBSUB NUMSUB s1 s2"),
			smode(1, "sort", "PUBSUB SHARDCHANNELS"),
			s(1, "PUBSUB SHARDCHANNELS s2*"),
			s(1, "PUBSUB CHANNELS s*"),
			sr(2, "SUNSUBSCRIBE s1 s2", 2, 2),
			s(2, "GET x"),
		}},
		{"reset and quit", 0, []psStep{
			s(2, "SUBSCRIBE a"),
			s(2, "PSUBSCRIBE b*"),
			s(2, "RESET"),
			s(2, "GET a"),
			sr(1, "PUBLISH a x", 1),
			s(1, "PUBSUB NUMSUB a"),
			s(1, "PUBSUB NUMPAT"),
			s(3, "SUBSCRIBE q"),
			s(3, "QUIT"),
			s(1, "PUBSUB NUMSUB q"),
		}},
		{"pubsub container", 0, []psStep{
			s(1, "PUBSUB HELP"),
			s(1, "PUBSUB"),
			s(1, "PUBSUB NOPE"),
			s(1, "PUBSUB NUMPAT extra"),
			s(1, "PUBSUB CHANNELS a b"),
			s(1, "PUBSUB SHARDCHANNELS a b"),
			s(1, "PUBSUB NUMSUB"),
			s(1, "PUBSUB SHARDNUMSUB"),
			s(1, "PUBSUB CHANNELS"),
			s(1, "SUBSCRIBE"),
			s(1, "PSUBSCRIBE"),
			s(1, "SSUBSCRIBE"),
			s(1, "PUBLISH a"),
			s(1, "SPUBLISH a"),
			s(1, "PUBLISH a b c"),
		}},
	}
}

// TestPubSub runs every pub/sub case on fresh connections of both servers,
// in RESP2 and in RESP3 (each connection sends HELLO 3 first).
func TestPubSub(t *testing.T) {
	p := startPair(t)
	for _, proto := range []int{2, 3} {
		for _, tc := range pubsubCases() {
			if tc.proto != 0 && tc.proto != proto {
				continue
			}
			t.Run(fmt.Sprintf("RESP%d/%s", proto, tc.name), func(t *testing.T) {
				runPubSubCase(t, p, tc, proto)
			})
		}
	}
}

func runPubSubCase(t *testing.T, p pair, tc psCase, proto int) {
	ref := &side{name: p.refName, addr: p.ref, proto: proto, conns: map[int]*conn{}, ids: map[int][]byte{}}
	sut := &side{name: p.sutName, addr: p.sut, proto: proto, conns: map[int]*conn{}, ids: map[int][]byte{}}
	defer ref.closeAll()
	defer sut.closeAll()
	used := map[int]bool{}
	open := func(n int) {
		if used[n] {
			return
		}
		used[n] = true
		if proto == 3 {
			psExchange(t, "HELLO 3", "shape", ref, sut, n, []string{"HELLO", "3"}, []int{n})
		}
	}
	for i, st := range tc.steps {
		open(st.conn)
		reads := st.reads
		if reads == nil {
			reads = []int{st.conn}
		}
		for _, r := range reads {
			open(r)
		}
		words, err := splitArgs(st.cmd)
		if err != nil {
			t.Fatalf("step %d: %s: %v", i, st.cmd, err)
		}
		args := make([]string, len(words))
		for j, w := range words {
			args[j] = string(w)
		}
		if !psExchange(t, fmt.Sprintf("step %d: %d> %s", i, st.conn, st.cmd), st.mode, ref, sut, st.conn, args, reads) {
			return // the streams are out of step: later steps would only repeat it
		}
	}
	for n := range used {
		if ref.conns[n] == nil { // closed (QUIT)
			continue
		}
		if !psExchange(t, fmt.Sprintf("final PING on %d", n), "", ref, sut, n, []string{"PING"}, []int{n}) {
			return
		}
	}
}

// psExchange sends cmd on connection n of both sides, reads one reply
// from each connection of reads on both, and compares them in order.
func psExchange(t *testing.T, what, mode string, ref, sut *side, n int, cmd []string, reads []int) bool {
	t.Helper()
	args := make([][]byte, len(cmd))
	for i, a := range cmd {
		args[i] = []byte(a)
	}
	var got [2][][]byte
	for i, sd := range []*side{ref, sut} {
		c, err := sd.get(n)
		if err != nil {
			t.Fatalf("%s: %s: %v", what, sd.name, err)
		}
		if err := c.Send(args...); err != nil {
			t.Fatalf("%s: %s: send: %v", what, sd.name, err)
		}
		for _, r := range reads {
			rc, err := sd.get(r)
			if err != nil {
				t.Fatalf("%s: %s: %v", what, sd.name, err)
			}
			rep, err := rc.Read()
			if err != nil {
				t.Errorf("%s: %s: reading conn %d: %v", what, sd.name, r, err)
				return false
			}
			if string(rep) == closedReply {
				sd.drop(r)
			}
			got[i] = append(got[i], rep)
		}
	}
	ok := true
	for j := range reads {
		if same, why := compare(mode, got[0][j], got[1][j]); !same {
			t.Errorf("%s: reply %d (conn %d) %s\n    %s: %s\n    %s: %s", what, j, reads[j], why,
				ref.name, strconv.Quote(string(got[0][j])), sut.name, strconv.Quote(string(got[1][j])))
			ok = false
		}
	}
	return ok
}
