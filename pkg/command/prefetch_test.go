package command

import (
	"strings"
	"testing"
)

// TestPrefetchKeyValue checks PrefetchKey's key and whether the command
// reads the key's value: only commands that replace or delete a key
// without looking at it (SET without GET, SETEX, PSETEX, MSET, DEL,
// UNLINK) may skip its record.
func TestPrefetchKeyValue(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	for _, tc := range []struct {
		cmd   string
		key   string
		value bool
	}{
		{"SET k v", "k", false},
		{"set k v EX 10", "k", false},
		{"SET k v NX GET", "k", true},
		{"SET k v get", "k", true},
		{"SETEX k 10 v", "k", false},
		{"PSETEX k 10 v", "k", false},
		{"MSET k v k2 v2", "k", false},
		{"DEL k k2", "k", false},
		{"UNLINK k", "k", false},
		{"GET k", "k", true},
		{"INCR k", "k", true},
		{"APPEND k v", "k", true},
		{"LPUSH k v", "k", true},
		{"GETSET k v", "k", true},
		{"PING x", "", false},
		{"NOSUCH k", "", false},
		{"SET k", "", false}, // wrong arity
	} {
		var args [][]byte
		for _, a := range strings.Fields(tc.cmd) {
			args = append(args, []byte(a))
		}
		key, value := s.PrefetchKey(cl, args)
		if string(key) != tc.key || key != nil && value != tc.value {
			t.Errorf("PrefetchKey(%s) = %q, %v; want %q, %v", tc.cmd, key, value, tc.key, tc.value)
		}
	}
}
