package difftest

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Blocking commands (BLPOP & co) with several connections per server: the
// same scenario runs against redis-server and tstd, step by step, and
// every reply is compared byte for byte. A step either sends a command
// without reading (the command blocks), reads the reply a connection is
// owed, or does both; before another client pushes, the scenario waits
// until both servers report the expected number of blocked clients (INFO
// blocked_clients), so the order of events is the same on both and no
// step depends on timing. Connection 0 is the control connection.

// bstep is one step of a blocking scenario.
type bstep struct {
	op   byte // 'd' do, 's' send, 'r' read, 'w' wait blocked, 'c' close, 'k' do without comparing, 'f' flags, 'p' pause, 'i' remember the client id
	conn int
	args []string
	n    int // 'w': blocked clients; 'p': milliseconds
}

func bDo(conn int, args ...string) bstep   { return bstep{op: 'd', conn: conn, args: args} }
func bSend(conn int, args ...string) bstep { return bstep{op: 's', conn: conn, args: args} }
func bRead(conn int) bstep                 { return bstep{op: 'r', conn: conn} }
func bWait(n int) bstep                    { return bstep{op: 'w', n: n} }
func bHangup(conn int) bstep               { return bstep{op: 'c', conn: conn} }
func doSkip(conn int, args ...string) bstep {
	return bstep{op: 'k', conn: conn, args: args}
}

// flags compares the flags= and cmd= fields of CLIENT LIST for conn.
func flags(conn int) bstep { return bstep{op: 'f', conn: conn} }
func pause(ms int) bstep   { return bstep{op: 'p', n: ms} }
func resp3(conn int) bstep { return doSkip(conn, "HELLO", "3") }

// rememberID records conn's CLIENT ID for {id:N} arguments: it must run
// before conn blocks (a blocked connection answers nothing).
func rememberID(conn int) bstep { return bstep{op: 'i', conn: conn} }
func idOf(conn int) string      { return fmt.Sprintf("{id:%d}", conn) }
func blocked(n int) string      { return fmt.Sprintf("blocked_clients:%d\r\n", n) }
func bargs(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func blockingScenarios() map[string][]bstep {
	return map[string][]bstep{
		"immediate": {
			bDo(1, "RPUSH", "l", "a", "b", "c"),
			bDo(1, "ZADD", "z", "1", "x", "2", "y", "3", "w"),
			bDo(1, "SET", "s", "v"),
			bDo(1, "BLPOP", "none", "l", "0"),
			bDo(1, "BRPOP", "l", "0"),
			bDo(1, "BLPOP", "s", "l", "0"),
			bDo(1, "BLPOP", "l", "s", "0"),
			bDo(1, "RPUSH", "l", "a", "b", "c"),
			bDo(1, "BLMPOP", "0", "2", "none", "l", "RIGHT", "COUNT", "2"),
			bDo(1, "BLMOVE", "l", "d", "LEFT", "RIGHT", "0"),
			bDo(1, "BRPOPLPUSH", "d", "d", "0"),
			bDo(1, "BLMOVE", "d", "s", "LEFT", "RIGHT", "0"),
			bDo(1, "BZPOPMIN", "none", "z", "0"),
			bDo(1, "BZPOPMAX", "z", "0"),
			bDo(1, "BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"),
			bDo(1, "BZPOPMIN", "s", "0"),
			bDo(1, "BZMPOP", "0", "2", "l", "s", "MAX"),
			bDo(1, "EXISTS", "l", "z", "d"),
		},
		"errors": {
			bDo(1, "BLPOP", "k", "-1"),
			bDo(1, "BLPOP", "k", "abc"),
			bDo(1, "BLPOP", "k", "inf"),
			bDo(1, "BLPOP", "k", "nan"),
			bDo(1, "BLPOP", "k", "1e16"),
			bDo(1, "BLPOP", "k", "1e400"),
			bDo(1, "BLPOP", "k", "9223372036854775807"),
			bDo(1, "BRPOP", "k", "-0.5"),
			bDo(1, "BRPOP", "k", " 1"),
			bDo(1, "BLMOVE", "a", "b", "UP", "LEFT", "x"),
			bDo(1, "BLMOVE", "a", "b", "LEFT", "DOWN", "x"),
			bDo(1, "BLMOVE", "a", "b", "LEFT", "LEFT", "x"),
			bDo(1, "BRPOPLPUSH", "a", "b", "-1"),
			bDo(1, "BLMPOP", "x", "0", "a", "LEFT"),
			bDo(1, "BLMPOP", "x", "1", "a", "LEFT"),
			bDo(1, "BLMPOP", "0", "2", "a", "LEFT"),
			bDo(1, "BLMPOP", "0", "1", "a", "LEFT", "COUNT", "0"),
			bDo(1, "BLMPOP", "0", "1", "a", "UP"),
			bDo(1, "BZMPOP", "0", "1", "a", "UP"),
			bDo(1, "BZMPOP", "x", "1", "a", "MIN"),
			bDo(1, "BZMPOP", "0", "1", "a", "MIN", "COUNT", "1", "COUNT", "2"),
			bDo(1, "BZPOPMIN", "a", "x"),
			bDo(1, "BLPOP", "k"),
			bDo(1, "BLMOVE", "a", "b", "LEFT", "LEFT"),
			bDo(1, "CLIENT", "UNBLOCK", "1", "maybe"),
			bDo(1, "CLIENT", "UNBLOCK", "x"),
			bDo(1, "CLIENT", "UNBLOCK", "x", "maybe"),
			bDo(1, "CLIENT", "UNBLOCK", "1", "timeout", "extra"),
			bDo(1, "CLIENT", "UNBLOCK", "999999"),
			bDo(1, "CLIENT", "UNBLOCK", idOf(1)),
		},
		"serve one": {
			rememberID(1),
			bSend(1, "BLPOP", "k", "0"),
			bWait(1),
			flags(1),
			bDo(0, "INFO", "clients"), // compared: blocked_clients and the rest
			bDo(2, "LPUSH", "k", "x", "y"),
			bRead(1),
			bWait(0),
			flags(1),
			bDo(2, "LRANGE", "k", "0", "-1"),
		},
		"fifo": {
			bSend(1, "BLPOP", "k", "0"),
			bWait(1),
			bSend(2, "BRPOP", "k", "0"),
			bWait(2),
			bSend(3, "BLPOP", "other", "k", "0"),
			bWait(3),
			bDo(4, "RPUSH", "k", "a", "b"),
			bRead(1),
			bRead(2),
			bWait(1),
			bDo(4, "EXISTS", "k"),
			bDo(4, "RPUSH", "k", "c", "d"),
			bRead(3),
			bDo(4, "LRANGE", "k", "0", "-1"),
		},
		"pipeline after block": {
			bSend(1, "BLPOP", "k", "0"),
			bSend(1, "LLEN", "k"),
			bSend(1, "PING"),
			bWait(1),
			bDo(2, "RPUSH", "k", "a", "b"),
			bRead(1),
			bRead(1),
			bRead(1),
		},
		"multi key": {
			bSend(1, "BLPOP", "k1", "k2", "k3", "0"),
			bWait(1),
			bDo(2, "RPUSH", "k3", "c"),
			bRead(1),
			bSend(1, "BRPOP", "k1", "k1", "k2", "0"),
			bWait(1),
			bDo(2, "RPUSH", "k1", "a"),
			bRead(1),
			bWait(0),
			bDo(2, "RPUSH", "k2", "b"),
			bDo(2, "LLEN", "k2"),
		},
		"timeouts": {
			bDo(1, "BLPOP", "k", "0.1"),
			bDo(1, "BRPOP", "k", "k2", "0.05"),
			bDo(1, "BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"),
			bDo(1, "BRPOPLPUSH", "k", "d", "0.05"),
			bDo(1, "BLMPOP", "0.05", "1", "k", "LEFT"),
			bDo(1, "BZPOPMIN", "z", "0.05"),
			bDo(1, "BZPOPMAX", "z", "0.05"),
			bDo(1, "BZMPOP", "0.05", "1", "z", "MIN"),
			bDo(1, "BLPOP", "k", "0.0001"),
			resp3(1),
			bDo(1, "BLPOP", "k", "0.05"),
			bDo(1, "BLMOVE", "k", "d", "LEFT", "LEFT", "0.05"),
			bDo(1, "BZMPOP", "0.05", "1", "z", "MIN"),
		},
		"blmove chain": {
			bSend(1, "BLMOVE", "a", "b", "RIGHT", "LEFT", "0"),
			bWait(1),
			bSend(2, "BRPOPLPUSH", "b", "c", "0"),
			bWait(2),
			bSend(3, "BLMPOP", "0", "1", "c", "LEFT", "COUNT", "3"),
			bWait(3),
			bDo(4, "LPUSH", "a", "x"),
			bRead(1),
			bRead(2),
			bRead(3),
			bDo(4, "EXISTS", "a", "b", "c"),
		},
		"blmove wrongtype destination": {
			bDo(4, "SET", "str", "v"),
			bSend(1, "BLMOVE", "src", "str", "LEFT", "LEFT", "0"),
			bWait(1),
			bSend(2, "BLPOP", "src", "0"),
			bWait(2),
			bDo(4, "RPUSH", "src", "e"),
			bRead(1),
			bRead(2),
			bDo(4, "EXISTS", "src"),
		},
		"zset": {
			bSend(1, "BZPOPMIN", "z", "0"),
			bWait(1),
			bSend(2, "BZMPOP", "0", "2", "other", "z", "MAX", "COUNT", "2"),
			bWait(2),
			bSend(3, "BZPOPMAX", "z", "0"),
			bWait(3),
			bDo(4, "ZADD", "z", "1", "a", "2", "b", "3.5", "c"),
			bRead(1),
			bRead(2),
			bWait(1),
			bDo(4, "ZADD", "z", "-1", "m"),
			bRead(3),
		},
		"type changes while waiting": {
			bSend(1, "BLPOP", "k", "0"),
			bWait(1),
			bSend(2, "BZPOPMIN", "k", "0"),
			bWait(2),
			bDo(3, "SET", "k", "v"),
			bWait(2),
			bDo(3, "DEL", "k"),
			bDo(3, "SADD", "k", "m"),
			bWait(2),
			bDo(3, "DEL", "k"),
			bDo(3, "ZADD", "k", "1", "m"),
			bRead(2),
			bWait(1),
			bDo(3, "RPUSH", "k", "e"),
			bRead(1),
			bDo(1, "SET", "s", "v"),
			bDo(1, "BLPOP", "s", "0"),
			bDo(1, "BZPOPMIN", "s", "0"),
		},
		"disconnect": {
			bSend(1, "BLPOP", "k", "0"),
			bWait(1),
			bHangup(1),
			bWait(0),
			bDo(2, "RPUSH", "k", "v"),
			bDo(2, "LLEN", "k"),
		},
		"client unblock": {
			rememberID(1),
			bSend(1, "BLPOP", "k", "0"),
			bWait(1),
			bDo(2, "CLIENT", "UNBLOCK", idOf(1), "TIMEOUT"),
			bRead(1),
			bWait(0),
			bSend(1, "BLMOVE", "k", "d", "LEFT", "LEFT", "0"),
			bWait(1),
			bDo(2, "CLIENT", "UNBLOCK", idOf(1)),
			bRead(1),
			bSend(1, "BZPOPMIN", "k", "0"),
			bWait(1),
			bDo(2, "CLIENT", "UNBLOCK", idOf(1), "error"),
			bRead(1),
			bDo(2, "CLIENT", "UNBLOCK", idOf(1), "ERROR"),
			bDo(2, "CLIENT", "UNBLOCK", idOf(2)),
			bDo(1, "PING"),
		},
		"swapdb and flush": {
			bSend(1, "BLPOP", "k", "0"),
			bWait(1),
			bDo(2, "SELECT", "1"),
			bDo(2, "RPUSH", "k", "v"),
			bWait(1),
			bDo(2, "SWAPDB", "0", "1"),
			bRead(1),
			bDo(2, "LLEN", "k"),
			bSend(1, "BLPOP", "k", "0"),
			bWait(1),
			bDo(2, "FLUSHALL"),
			bWait(1),
			bDo(2, "SELECT", "0"),
			bDo(2, "RPUSH", "k", "w"),
			bRead(1),
		},
		"expired key": {
			bDo(2, "RPUSH", "k", "v"),
			bDo(2, "PEXPIRE", "k", "30"),
			pause(100),
			bDo(1, "BLPOP", "k", "0.05"),
			bSend(1, "BLPOP", "k", "0"),
			bWait(1),
			bDo(2, "RPUSH", "k", "w"),
			bDo(2, "PEXPIRE", "k", "100000"),
			bRead(1),
		},
		"resp3": {
			resp3(1),
			bSend(1, "BZPOPMIN", "z", "0"),
			bWait(1),
			bDo(2, "ZADD", "z", "1.5", "a"),
			bRead(1),
			bSend(1, "BZMPOP", "0", "1", "z", "MIN"),
			bWait(1),
			bDo(2, "ZADD", "z", "2", "b"),
			bRead(1),
			bSend(1, "BLMPOP", "0", "1", "l", "RIGHT"),
			bWait(1),
			bDo(2, "RPUSH", "l", "x"),
			bRead(1),
			rememberID(1),
			bSend(1, "BLPOP", "l", "0"),
			bWait(1),
			bDo(2, "CLIENT", "UNBLOCK", idOf(1), "TIMEOUT"),
			bRead(1),
		},
	}
}

// clientListField extracts name=value fields of a CLIENT LIST line.
var clientListField = regexp.MustCompile(`\b(flags|cmd|db)=(\S*)`)

func TestBlocking(t *testing.T) {
	p := startPair(t)
	for name, steps := range blockingScenarios() {
		t.Run(name, func(t *testing.T) {
			ref := &side{name: p.refName, addr: p.ref, conns: map[int]*conn{}, ids: map[int][]byte{}}
			sut := &side{name: p.sutName, addr: p.sut, conns: map[int]*conn{}, ids: map[int][]byte{}}
			defer ref.closeAll()
			defer sut.closeAll()
			for _, s := range []*side{ref, sut} {
				if _, err := s.do(0, "", bargs([]string{"FLUSHALL"})); err != nil {
					t.Fatal(err)
				}
			}
			for i, st := range steps {
				where := fmt.Sprintf("step %d (%c conn %d %q)", i, st.op, st.conn, st.args)
				var got [2][]byte
				for j, s := range []*side{ref, sut} {
					rep, err := runBlockStep(s, st)
					if err != nil {
						t.Fatalf("%s on %s: %v", where, s.name, err)
					}
					got[j] = rep
				}
				if st.op == 'd' || st.op == 'r' || st.op == 'f' {
					a, b := got[0], got[1]
					if st.op == 'd' && len(st.args) > 0 && strings.EqualFold(st.args[0], "INFO") {
						a, b = infoLine(a, "blocked_clients"), infoLine(b, "blocked_clients")
					}
					if !bytes.Equal(a, b) {
						t.Fatalf("%s:\n%s: %q\n%s: %q", where, ref.name, a, sut.name, b)
					}
				}
			}
		})
	}
}

// infoLine returns the line of an INFO reply that starts with field.
func infoLine(rep []byte, field string) []byte {
	for _, l := range strings.Split(string(rep), "\r\n") {
		if strings.HasPrefix(l, field+":") {
			return []byte(l)
		}
	}
	return nil
}

// runBlockStep runs st on one server and returns the reply to compare.
func runBlockStep(s *side, st bstep) ([]byte, error) {
	switch st.op {
	case 'd', 'k':
		return s.do(st.conn, "", bargs(st.args))
	case 's':
		c, err := s.get(st.conn)
		if err != nil {
			return nil, err
		}
		args, err := s.expand(bargs(st.args))
		if err != nil {
			return nil, err
		}
		return nil, c.Send(args...)
	case 'r':
		c, err := s.get(st.conn)
		if err != nil {
			return nil, err
		}
		return c.Read()
	case 'i':
		_, err := s.expand(bargs([]string{idOf(st.conn)}))
		return nil, err
	case 'c':
		s.drop(st.conn)
		return nil, nil
	case 'p':
		time.Sleep(time.Duration(st.n) * time.Millisecond)
		return nil, nil
	case 'w':
		want := blocked(st.n)
		deadline := time.Now().Add(replyTimeout)
		for {
			rep, err := s.do(0, "", bargs([]string{"INFO", "clients"}))
			if err != nil {
				return nil, err
			}
			if bytes.Contains(rep, []byte(want)) {
				return nil, nil
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("waiting for %q: INFO clients = %q", want, rep)
			}
			time.Sleep(2 * time.Millisecond)
		}
	case 'f':
		rep, err := s.do(0, "", bargs([]string{"CLIENT", "LIST", "ID", idOf(st.conn)}))
		if err != nil {
			return nil, err
		}
		return []byte(fmt.Sprint(clientListField.FindAllString(string(rep), -1))), nil
	}
	return nil, fmt.Errorf("unknown step %q", st.op)
}
