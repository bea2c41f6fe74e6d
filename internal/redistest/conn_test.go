package redistest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"
	"testing"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		name, in string
		err      error // nil: in is one valid reply
	}{
		{"bulk longer than the buffer", "$5000\r\n" + strings.Repeat("x", 5000) + "\r\n", nil},
		{"unknown type", "?x\r\n", ErrMalformed},
		{"no crlf", "+OK\n", ErrMalformed},
		{"bulk without crlf", "$2\r\nabcd", ErrMalformed},
		{"bad length", "$x\r\n", ErrMalformed},
		{"bulk -2", "$-2\r\n", ErrMalformed},
		{"blob error null", "!-1\r\n", ErrMalformed},
		{"map null", "%-1\r\n", ErrMalformed},
		{"empty line", "\r\n", ErrMalformed},
		{"nothing", "", io.EOF},
		{"partial line", "+O", io.ErrUnexpectedEOF},
		{"short bulk", "$5\r\nab\r\n", io.ErrUnexpectedEOF},
		{"bulk body missing", "$5\r\n", io.ErrUnexpectedEOF},
		{"truncated array", "*2\r\n+a\r\n", io.ErrUnexpectedEOF},
		{"attribute without value", "|1\r\n+key\r\n+val\r\n", io.ErrUnexpectedEOF},
	}
	for _, sm := range Samples() {
		tests = append(tests, struct {
			name, in string
			err      error
		}{sm.Name, sm.Raw, nil})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if tc.err == nil {
				in += "+NEXT\r\n" // must stay unread: ReadReply takes exactly one
			}
			r := bufio.NewReaderSize(strings.NewReader(in), 16)
			got, err := ReadReply(r, []byte("pre"))
			if !strings.HasPrefix(string(got), "pre") {
				t.Fatalf("ReadReply(%q) = %q: lost what dst held", tc.in, got)
			}
			got = got[3:]
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("ReadReply(%q) = %q, %v; want error %v", tc.in, got, err, tc.err)
				}
				if !strings.HasPrefix(tc.in, string(got)) {
					t.Errorf("ReadReply(%q) returned %q, not a prefix of the input", tc.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadReply(%q): %v", tc.in, err)
			}
			if string(got) != tc.in {
				t.Errorf("ReadReply(%q) = %q", tc.in, got)
			}
			if rest, _ := io.ReadAll(r); string(rest) != "+NEXT\r\n" {
				t.Errorf("after the reply %q remains, want the next reply", rest)
			}
		})
	}
}

func TestAppendCommand(t *testing.T) {
	want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n"
	if got := AppendCommand(nil, "SET", "k", "a\r\nb"); string(got) != want {
		t.Errorf("strings: %q, want %q", got, want)
	}
	if got := AppendCommand([]byte("x"), []byte("SET"), []byte("k"), []byte("a\r\nb")); string(got) != "x"+want {
		t.Errorf("bytes: %q, want %q", got, "x"+want)
	}
	if got := AppendCommand[string](nil); string(got) != "*0\r\n" {
		t.Errorf("no args: %q", got)
	}
}

// serve answers every command read on a loopback connection with the next
// of replies, raw, and returns the address.
func serve(t *testing.T, replies ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for _, r := range replies {
			if _, err := ReadReply(br, nil); err != nil {
				return
			}
			if _, err := c.Write([]byte(r)); err != nil {
				return
			}
		}
	}()
	return l.Addr().String()
}

func TestDo(t *testing.T) {
	tests := []struct {
		name, reply string
		want        any
		err         error
	}{
		{"simple", "+OK\r\n", "OK", nil},
		{"bulk", "$3\r\na\x00b\r\n", "a\x00b", nil},
		{"bulk empty", "$0\r\n\r\n", "", nil},
		{"null bulk", "$-1\r\n", nil, nil},
		{"int", ":-42\r\n", int64(-42), nil},
		{"null array", "*-1\r\n", nil, nil},
		{"array", "*4\r\n$1\r\na\r\n:1\r\n$-1\r\n*1\r\n+x\r\n", []any{"a", int64(1), nil, []any{"x"}}, nil},
		{"error in array", "*1\r\n-ERR inner\r\n", []any{Error("ERR inner")}, nil},
		{"error", "-ERR syntax error\r\n", nil, Error("ERR syntax error")},
		{"resp3 map", "%1\r\n+a\r\n+b\r\n", nil, ErrNotRESP2},
		{"resp3 in array", "*1\r\n_\r\n", nil, ErrNotRESP2},
		{"malformed", "*x\r\n", nil, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Dial(t, serve(t, tc.reply))
			got, err := c.Do("CMD", "arg")
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Do = %#v, %v; want error %v", got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Do = %#v, %v; want %#v", got, err, tc.want)
			}
		})
	}
}

func TestDoRaw(t *testing.T) {
	replies := []string{"-ERR x\r\n", "%1\r\n+a\r\n*1\r\n:1\r\n", "$-1\r\n"}
	c := Dial(t, serve(t, replies...))
	for _, want := range replies {
		got, err := c.DoRaw("CMD")
		if err != nil || string(got) != want {
			t.Fatalf("DoRaw = %q, %v; want %q", got, err, want)
		}
	}
	// The server closes the connection after the last reply. Our write
	// may reach the closed socket first, so its reset is the same answer.
	if got, err := c.DoRaw("CMD"); err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("DoRaw on a closed connection = %q, %v; want io.EOF or a reset", got, err)
	}
}
