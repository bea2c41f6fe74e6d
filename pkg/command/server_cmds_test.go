package command

import (
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func TestTimeLastSave(t *testing.T) {
	s, cl := newConnServer(t, nil)
	before := time.Now().Unix()
	r := do(t, s, cl, "time")
	m := regexp.MustCompile(`^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$`).FindStringSubmatch(r)
	if m == nil {
		t.Fatalf("TIME = %q", r)
	}
	sec, _ := strconv.ParseInt(m[1], 10, 64)
	usec, _ := strconv.ParseInt(m[2], 10, 64)
	if sec < before || sec > time.Now().Unix() || usec < 0 || usec > 999999 {
		t.Fatalf("TIME = %d.%06d, now %d", sec, usec, before)
	}
	require_Equal(t, do(t, s, cl, "time", "x"), "-ERR wrong number of arguments for 'time' command\r\n")
	require_Equal(t, do(t, s, cl, "lastsave"), ":"+strconv.FormatInt(s.Start.Unix(), 10)+"\r\n")
	s.NoteSave(time.Unix(1700000000, 0))
	require_Equal(t, do(t, s, cl, "lastsave"), ":1700000000\r\n")
}

func TestSaveCommands(t *testing.T) {
	s, cl := newConnServer(t, nil)
	// Without hooks, Redis's failure reply.
	require_Equal(t, do(t, s, cl, "save"), "-ERR\r\n")
	require_Equal(t, do(t, s, cl, "bgsave"), "-ERR\r\n")

	saves, bgsaves := 0, 0
	var fail error
	s.Hooks.Save = func() error { saves++; return fail }
	s.Hooks.BGSave = func() error { bgsaves++; return fail }
	s.lastSave.Store(1)
	require_Equal(t, do(t, s, cl, "save"), "+OK\r\n")
	require_Equal(t, saves, 1)
	if s.lastSave.Load() < time.Now().Unix()-5 {
		t.Fatalf("SAVE did not update LASTSAVE: %d", s.lastSave.Load())
	}
	require_Equal(t, do(t, s, cl, "bgsave"), "+Background saving started\r\n")
	// While it runs (until the wiring calls EndSave): Redis's error, for
	// SAVE, BGSAVE and BGSAVE SCHEDULE, and INFO shows it.
	require_Equal(t, do(t, s, cl, "bgsave"), "-ERR Background save already in progress\r\n")
	require_Equal(t, do(t, s, cl, "bgsave", "schedule"), "-ERR Background save already in progress\r\n")
	require_Equal(t, do(t, s, cl, "save"), "-ERR Background save already in progress\r\n")
	if info := do(t, s, cl, "info", "persistence"); !regexp.MustCompile(`rdb_bgsave_in_progress:1\r\n(.|\r\n)*rdb_current_bgsave_time_sec:0\r\n`).MatchString(info) {
		t.Fatalf("INFO during a BGSAVE:\n%s", info)
	}
	s.EndSave(time.Now(), nil)
	if info := do(t, s, cl, "info", "persistence"); !regexp.MustCompile(`rdb_bgsave_in_progress:0\r\n(.|\r\n)*rdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:0\r\nrdb_current_bgsave_time_sec:-1\r\n`).MatchString(info) {
		t.Fatalf("INFO after a BGSAVE:\n%s", info)
	}
	require_Equal(t, do(t, s, cl, "BGSAVE", "SCHEDULE"), "+Background saving started\r\n")
	s.EndSave(time.Now(), errors.New("disk full"))
	if info := do(t, s, cl, "info", "persistence"); !regexp.MustCompile(`rdb_last_bgsave_status:err\r\n`).MatchString(info) {
		t.Fatalf("INFO after a failed BGSAVE:\n%s", info)
	}
	require_Equal(t, bgsaves, 2)
	require_Equal(t, do(t, s, cl, "bgsave", "foo"), "-ERR syntax error\r\n")
	require_Equal(t, do(t, s, cl, "bgsave", "schedule", "x"), "-ERR syntax error\r\n")
	require_Equal(t, do(t, s, cl, "save", "x"), "-ERR wrong number of arguments for 'save' command\r\n")
	require_Equal(t, bgsaves, 2)

	fail = errors.New("disk full")
	s.lastSave.Store(1)
	require_Equal(t, do(t, s, cl, "save"), "-ERR\r\n")
	require_Equal(t, s.lastSave.Load(), int64(1))
	require_Equal(t, do(t, s, cl, "bgsave"), "-ERR\r\n")
}

func TestShutdown(t *testing.T) {
	cases := []struct {
		cmd      []string
		want     string
		called   bool
		wantSave bool
	}{
		{[]string{"shutdown"}, "", true, true},
		{[]string{"shutdown", "NOSAVE"}, "", true, false},
		{[]string{"shutdown", "save", "now", "force"}, "", true, true},
		{[]string{"shutdown", "nosave", "now"}, "", true, false},
		{[]string{"shutdown", "foo"}, "-ERR syntax error\r\n", false, false},
		{[]string{"shutdown", "nosave", "save"}, "-ERR syntax error\r\n", false, false},
		{[]string{"shutdown", "abort", "now"}, "-ERR syntax error\r\n", false, false},
		{[]string{"shutdown", "abort"}, "-ERR No shutdown in progress.\r\n", false, false},
	}
	for _, tc := range cases {
		s, cl := newConnServer(t, nil)
		called, save := false, false
		s.Hooks.Shutdown = func(sv bool) error { called, save = true, sv; return nil }
		require_Equal(t, do(t, s, cl, tc.cmd...), tc.want)
		require_Equal(t, called, tc.called)
		require_Equal(t, save, tc.wantSave)
		require_Equal(t, cl.CloseAfterReply, tc.called)
	}
	s, cl := newConnServer(t, nil)
	require_Equal(t, do(t, s, cl, "shutdown"), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n")
	s.Hooks.Shutdown = func(bool) error { return errors.New("refused") }
	require_Equal(t, do(t, s, cl, "shutdown"), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n")
	require_Equal(t, cl.CloseAfterReply, false)
}
