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
		key, reads, writes := s.PrefetchKey(cl, args)
		if string(key) != tc.key || key != nil && (reads != tc.reads || writes != tc.writes) {
			t.Errorf("PrefetchKey(%s) = %q, %v, %v; want %q, %v, %v", tc.cmd, key, reads, writes, tc.key, tc.reads, tc.writes)
		}
	}
}
