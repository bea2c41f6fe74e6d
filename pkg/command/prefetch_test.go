package command

import (
	"strings"
	"testing"
)

// TestPrefetchKeyValue checks PrefetchKey's key, whether the command
// reads the key's value (only commands that replace or delete a key
// without looking at it, SET without GET, SETEX, PSETEX, MSET, DEL and
// UNLINK, do not) and whether it may write it.
func TestPrefetchKeyValue(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	for _, tc := range []struct {
		cmd           string
		key           string
		reads, writes bool
	}{
		{"SET k v", "k", false, true},
		{"set k v EX 10", "k", false, true},
		{"SET k v NX GET", "k", true, true},
		{"SET k v get", "k", true, true},
		{"SETEX k 10 v", "k", false, true},
		{"PSETEX k 10 v", "k", false, true},
		{"MSET k v k2 v2", "k", false, true},
		{"DEL k k2", "k", false, true},
		{"UNLINK k", "k", false, true},
		{"GET k", "k", true, false},
		{"STRLEN k", "k", true, false},
		{"INCR k", "k", true, true},
		{"APPEND k v", "k", true, true},
		{"LPUSH k v", "k", true, true},
		{"GETSET k v", "k", true, true},
		{"PING x", "", false, false},
		{"NOSUCH k", "", false, false},
		{"SET k", "", false, false}, // wrong arity
	} {
		var args [][]byte
		for _, a := range strings.Fields(tc.cmd) {
			args = append(args, []byte(a))
		}
		key, _, reads, writes := s.PrefetchKey(cl, args)
		if string(key) != tc.key || key != nil && (reads != tc.reads || writes != tc.writes) {
			t.Errorf("PrefetchKey(%s) = %q, %v, %v; want %q, %v, %v", tc.cmd, key, reads, writes, tc.key, tc.reads, tc.writes)
		}
	}
}

// TestPrefetchKeyMember checks the member PrefetchKey returns with the
// key: the first member a collection command looks up, nil for commands
// that look up none (or whose arity is wrong: no key either).
func TestPrefetchKeyMember(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	for _, tc := range []struct{ cmd, key, member string }{
		{"HSET h f v", "h", "f"},
		{"HSET h f v f2 v2", "h", "f"},
		{"hsetnx h f v", "h", "f"},
		{"HGET h f", "h", "f"},
		{"HMGET h f f2", "h", "f"},
		{"HDEL h f", "h", "f"},
		{"HINCRBY h f 1", "h", "f"},
		{"HEXISTS h f", "h", "f"},
		{"SADD s m", "s", "m"},
		{"SADD s m m2", "s", "m"},
		{"SISMEMBER s m", "s", "m"},
		{"SREM s m", "s", "m"},
		{"ZADD z 1 m", "z", "m"},
		{"ZADD z NX CH 1 m 2 m2", "z", "m2"},
		{"ZINCRBY z 2 m", "z", "m"},
		{"ZSCORE z m", "z", "m"},
		{"ZRANK z m", "z", "m"},
		{"ZREM z m", "z", "m"},
		{"HGETALL h", "h", ""},
		{"HLEN h", "h", ""},
		{"SMEMBERS s", "s", ""},
		{"LPUSH l v", "l", ""},
		{"SET k v", "k", ""},
		{"ZRANGE z 0 -1", "z", ""},
		{"HGET h", "", ""}, // wrong arity
	} {
		var args [][]byte
		for _, a := range strings.Fields(tc.cmd) {
			args = append(args, []byte(a))
		}
		key, member, _, _ := s.PrefetchKey(cl, args)
		if string(key) != tc.key || string(member) != tc.member || (tc.member == "") != (member == nil) {
			t.Errorf("PrefetchKey(%s) = %q, %q; want %q, %q", tc.cmd, key, member, tc.key, tc.member)
		}
	}
}
