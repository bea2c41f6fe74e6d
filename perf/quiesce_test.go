package main

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestRewriting(t *testing.T) {
	idle := "# Persistence\r\nloading:0\r\nrdb_bgsave_in_progress:0\r\naof_enabled:1\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\n"
	if rewriting(idle) {
		t.Fatalf("idle server reported as rewriting")
	}
	for _, field := range []string{"aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress"} {
		busy := strings.Replace(idle, field+":0", field+":1", 1)
		if !rewriting(busy) {
			t.Errorf("%s:1 not seen as a rewrite", field)
		}
	}
	if rewriting("aof_rewrites:3\r\naof_last_rewrite_time_sec:2\r\n") {
		t.Errorf("counters of past rewrites taken for a running one")
	}
}

func TestReadBulk(t *testing.T) {
	got, err := readBulk(bufio.NewReader(strings.NewReader("$12\r\nhello\r\nworld\r\n")))
	if err != nil || got != "hello\r\nworld" {
		t.Fatalf("readBulk = %q, %v", got, err)
	}
	for _, in := range []string{"-ERR unknown command\r\n", "$-1\r\n", "$x\r\n"} {
		if _, err := readBulk(bufio.NewReader(strings.NewReader(in))); !errors.Is(err, ErrReply) {
			t.Errorf("readBulk(%q) error %v, want ErrReply", in, err)
		}
	}
	if _, err := readBulk(bufio.NewReader(strings.NewReader("$10\r\nshort\r\n"))); err == nil {
		t.Errorf("a truncated bulk string read without error")
	}
}
