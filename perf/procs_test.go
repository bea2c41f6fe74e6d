package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestNoteProcs: the loops and GOMAXPROCS are read from tstd's start-up line
// (the format cmd/tstd's TestLoopsAndProcsLogged pins), once.
func TestNoteProcs(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "a.log")
	line := `2026-11-26T05:30:00.000Z	INFO	tstd listening; loading the dataset	{"version": "0.1.0", "addr": "127.0.0.1:1", "loops": 1, "gomaxprocs": 1, "dir": "d"}` + "\n"
	if err := os.WriteFile(first, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &launcher{}
	l.noteProcs(first)
	if want := "1 event loop(s), GOMAXPROCS 1 (from its start-up log)"; l.procs != want {
		t.Fatalf("procs = %q, want %q", l.procs, want)
	}
	second := filepath.Join(dir, "b.log")
	if err := os.WriteFile(second, []byte(`{"loops": 4, "gomaxprocs": 8}`), 0o644); err != nil {
		t.Fatal(err)
	}
	l.noteProcs(second)
	if l.procs[0] != '1' {
		t.Fatalf("a later server replaced the first reading: %q", l.procs)
	}
}
