package difftest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/toonstore/toonstore/internal/redistest"
	"github.com/toonstore/toonstore/pkg/config"
)

// Script format (testdata/*.txt)
//
// One command per line, split as redis-cli splits its input: whitespace
// separates arguments; "double quotes" understand \n \r \t \b \a \\ \" and
// \xHH; 'single quotes' understand only \'. Blank lines and lines whose
// first non-blank character is # are ignored.
//
// A line may start with directives, words beginning with @. Modifiers apply
// to the command on the same line, or, on a line of their own, to the next
// command:
//
//	@sort    the reply is an aggregate compared as a sorted multiset (KEYS)
//	@type    compare only the reply's type byte (INFO, COMMAND COUNT)
//	@shape   compare types and aggregate lengths, recursively (TIME, HELLO)
//	@sortdeep  like @sort at every level: each aggregate is compared as a
//	         multiset of its (recursively sorted) elements, map pairs kept
//	         together; for replies built from unordered tables (COMMAND
//	         INFO of a container lists its subcommands in dict order)
//	@skip    send to both servers, compare nothing
//	@scan    a SCAN-family command: iterate each server from the given
//	         cursor back to 0 and compare the sorted union of the elements
//
// Actions run where they appear:
//
//	@sleep MS    sleep MS milliseconds before the next command
//	@proto N     send HELLO N to both servers on the current connection
//	@conn N      switch to connection N (opened on first use, in the run's
//	             protocol); connection 1 is the default
//
// File-level: "@requires cmd..." skips the whole script, with a reason,
// when the server under test answers one of the commands, sent without
// arguments, with "unknown command".
//
// An argument {id:N} is replaced, per server, by the CLIENT ID of
// connection N on that server (CLIENT KILL ID {id:2}).

// step is one command of a script with its directives.
type step struct {
	line  int
	text  string // the source line, for messages
	mode  string // "", "sort", "type", "shape", "skip", "scan"
	sleep time.Duration
	proto int // >0: send HELLO proto before the command
	conn  int // >0: switch to this connection before the command
	args  [][]byte
}

// script is a parsed testdata file.
type script struct {
	name     string
	requires []string
	steps    []step
}

var errSplit = errors.New("difftest: bad quoting")

// splitArgs splits a line as redis-cli does, with Redis's sdssplitargs
// (config.SplitArgs, which follows it to the byte).
func splitArgs(line string) ([][]byte, error) {
	words, ok := config.SplitArgs(line)
	if !ok {
		return nil, fmt.Errorf("%w: unbalanced quotes, or a closing quote not followed by a space", errSplit)
	}
	args := make([][]byte, len(words))
	for i, w := range words {
		args[i] = []byte(w)
	}
	return args, nil
}

// parseScript parses the text of one script file.
func parseScript(name, text string) (*script, error) {
	s := &script{name: name}
	var pending step
	for n, raw := range strings.Split(text, "\n") {
		lineNo := n + 1
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "@requires "); ok {
			s.requires = append(s.requires, strings.Fields(rest)...)
			continue
		}
		for strings.HasPrefix(line, "@") {
			word, rest, _ := strings.Cut(line, " ")
			rest = strings.TrimSpace(rest)
			switch word {
			case "@sort", "@sortdeep", "@type", "@shape", "@skip", "@scan":
				if pending.mode != "" {
					return nil, fmt.Errorf("%s:%d: two comparison modes", name, lineNo)
				}
				pending.mode = word[1:]
			case "@sleep", "@proto", "@conn":
				arg, after, _ := strings.Cut(rest, " ")
				v, err := strconv.Atoi(arg)
				if err != nil || v < 0 {
					return nil, fmt.Errorf("%s:%d: %s wants a number, got %q", name, lineNo, word, arg)
				}
				switch word {
				case "@sleep":
					pending.sleep += time.Duration(v) * time.Millisecond
				case "@proto":
					pending.proto = v
				case "@conn":
					if v == 0 {
						return nil, fmt.Errorf("%s:%d: connections are numbered from 1", name, lineNo)
					}
					pending.conn = v
				}
				rest = strings.TrimSpace(after)
			default:
				return nil, fmt.Errorf("%s:%d: unknown directive %s", name, lineNo, word)
			}
			line = rest
		}
		if line == "" {
			continue
		}
		args, err := splitArgs(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		pending.line, pending.text, pending.args = lineNo, strings.TrimSpace(raw), args
		s.steps = append(s.steps, pending)
		pending = step{}
	}
	if pending.mode != "" || pending.sleep > 0 || pending.proto > 0 || pending.conn > 0 {
		if pending.mode != "" {
			return nil, fmt.Errorf("%s: directive @%s at the end of the file applies to no command", name, pending.mode)
		}
		// Trailing actions (a final @sleep or @proto) run on their own.
		pending.line = -1
		s.steps = append(s.steps, pending)
	}
	return s, nil
}

// side is one server's connections within a script run.
type side struct {
	name  string
	addr  string
	proto int
	conns map[int]*conn
	ids   map[int][]byte
}

// get returns connection n, dialing it if it is not open.
func (s *side) get(n int) (*conn, error) {
	if c := s.conns[n]; c != nil {
		return c, nil
	}
	c, err := dial(s.addr)
	if err != nil {
		return nil, err
	}
	s.conns[n] = c
	delete(s.ids, n)
	return c, nil
}

// drop closes connection n; the next get dials it afresh.
func (s *side) drop(n int) {
	if c := s.conns[n]; c != nil {
		c.Close()
		delete(s.conns, n)
	}
}

func (s *side) closeAll() {
	for n := range s.conns {
		s.drop(n)
	}
}

var idPlaceholder = regexp.MustCompile(`^\{id:([0-9]+)\}$`)

// expand replaces {id:N} arguments by the CLIENT ID of connection N.
func (s *side) expand(args [][]byte) ([][]byte, error) {
	out, copied := args, false
	for i, a := range args {
		m := idPlaceholder.FindSubmatch(a)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(string(m[1]))
		id, ok := s.ids[n]
		if !ok {
			c, err := s.get(n)
			if err != nil {
				return nil, err
			}
			rep, err := c.DoStrings("CLIENT", "ID")
			if err != nil {
				return nil, err
			}
			if len(rep) < 4 || rep[0] != ':' {
				return nil, fmt.Errorf("%s: CLIENT ID answered %q", s.name, rep)
			}
			id = rep[1 : len(rep)-2]
			s.ids[n] = id
		}
		if !copied {
			out, copied = append([][]byte(nil), args...), true
		}
		out[i] = id
	}
	return out, nil
}

// do runs args on connection n, applying the step's mode: for "scan" it
// iterates to cursor 0 and returns a synthetic reply listing the sorted
// union of the elements. A closed connection is dropped and reported as
// closedReply.
func (s *side) do(n int, mode string, args [][]byte) ([]byte, error) {
	c, err := s.get(n)
	if err != nil {
		return nil, err
	}
	args, err = s.expand(args)
	if err != nil {
		return nil, err
	}
	rep, err := c.Do(args...)
	if err != nil {
		s.drop(n)
		return nil, err
	}
	if string(rep) == closedReply {
		s.drop(n)
		return rep, nil
	}
	if mode != "scan" {
		return rep, nil
	}
	return s.scanAll(c, args, rep)
}

// scanAll continues a SCAN-family iteration whose first reply is first and
// returns "*N" followed by the sorted elements, or first itself when it is
// not a cursor reply (an error, say).
func (s *side) scanAll(c *conn, args [][]byte, first []byte) ([]byte, error) {
	cursorAt := 2
	if strings.EqualFold(string(args[0]), "scan") {
		cursorAt = 1
	}
	var all []string
	rep := first
	for iter := 0; ; iter++ {
		v, err := parseValue(rep)
		if err != nil {
			return nil, err
		}
		if v.typ != '*' || len(v.elems) != 2 || v.elems[0].typ != '$' || v.elems[1].typ != '*' {
			if iter == 0 {
				return rep, nil
			}
			return nil, fmt.Errorf("%s: SCAN iteration %d answered %q", s.name, iter, rep)
		}
		for _, e := range v.elems[1].elems {
			all = append(all, string(e.raw))
		}
		cursor := v.elems[0].str
		if string(cursor) == "0" {
			break
		}
		if iter > 100000 {
			return nil, fmt.Errorf("%s: SCAN did not end after %d calls", s.name, iter)
		}
		next := append([][]byte(nil), args...)
		next[cursorAt] = cursor
		if rep, err = c.Do(next...); err != nil {
			return nil, err
		}
	}
	sort.Strings(all)
	out := []byte("*" + strconv.Itoa(len(all)) + "\r\n")
	for _, e := range all {
		out = append(out, e...)
	}
	return out, nil
}

// compare reports whether replies a and b agree under mode, and if not a
// short explanation.
func compare(mode string, a, b []byte) (bool, string) {
	if bytes.Equal(a, b) {
		return true, ""
	}
	switch mode {
	case "skip":
		return true, ""
	case "", "scan":
		return false, "replies differ"
	}
	if string(a) == closedReply || string(b) == closedReply {
		return false, "replies differ"
	}
	va, err := parseValue(a)
	if err != nil {
		return false, err.Error()
	}
	vb, err := parseValue(b)
	if err != nil {
		return false, err.Error()
	}
	switch mode {
	case "type":
		if va.typ == vb.typ {
			return true, ""
		}
		return false, fmt.Sprintf("types differ: %q vs %q", va.typ, vb.typ)
	case "shape":
		sa, sb := shape(va), shape(vb)
		if sa == sb {
			return true, ""
		}
		return false, fmt.Sprintf("shapes differ: %s vs %s", sa, sb)
	case "sort":
		ea, oka := sortedElems(va)
		eb, okb := sortedElems(vb)
		if !oka || !okb || va.typ != vb.typ || len(ea) != len(eb) {
			return false, "replies differ"
		}
		for i := range ea {
			if ea[i] != eb[i] {
				return false, fmt.Sprintf("sorted elements differ: %q vs %q", ea[i], eb[i])
			}
		}
		return true, ""
	case "sortdeep":
		ca, cb := canonical(va), canonical(vb)
		if ca == cb {
			return true, ""
		}
		return false, "replies differ even with every aggregate sorted"
	}
	return false, "unknown mode " + mode
}

// loadScripts parses every testdata/*.txt.
func loadScripts(t *testing.T) []*script {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata/*.txt: %v", err)
	}
	var out []*script
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := parseScript(filepath.Base(f), string(text))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// TestScripts runs every script against both servers, in RESP2 and RESP3.
func TestScripts(t *testing.T) {
	scripts := loadScripts(t)
	redistest.Require(t, "redis-server")
	total := 0
	for _, s := range scripts {
		total += len(s.steps)
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/resp%d", strings.TrimSuffix(s.name, ".txt"), proto), func(t *testing.T) {
				// Fresh servers per run: CONFIG SET, requirepass and client
				// kills cannot leak from one script into the next.
				runScript(t, startPair(t), s, proto)
			})
		}
	}
	t.Logf("%d scripts, %d commands, each run in RESP2 and RESP3, redis vs %s", len(scripts), total, *flagAgainst)
}

// runScript runs s on fresh connections from a FLUSHALL state and reports
// every mismatch.
func runScript(t *testing.T, p pair, s *script, proto int) {
	t.Helper()
	ref := &side{name: p.refName, addr: p.ref, proto: proto, conns: map[int]*conn{}, ids: map[int][]byte{}}
	sut := &side{name: p.sutName, addr: p.sut, proto: proto, conns: map[int]*conn{}, ids: map[int][]byte{}}
	defer ref.closeAll()
	defer sut.closeAll()

	if missing := missingCommands(t, sut, s.requires); len(missing) > 0 {
		// Every script's commands exist in tstd now: in CI a missing one
		// is a regression, not a reason to skip.
		msg := fmt.Sprintf("%s lacks %s, which %s @requires", p.sutName, strings.Join(missing, ", "), s.name)
		if os.Getenv("CI") != "" || os.Getenv("TSTD_REQUIRE_REDIS") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	for _, sd := range []*side{ref, sut} {
		rep, err := sd.do(1, "", [][]byte{[]byte("FLUSHALL")})
		if err != nil || string(rep) != "+OK\r\n" {
			t.Fatalf("%s: FLUSHALL: %q %v", sd.name, rep, err)
		}
		sd.drop(1)
	}

	cur := 1
	mismatches := 0
	for _, st := range s.steps {
		if st.sleep > 0 {
			time.Sleep(st.sleep)
		}
		if st.conn > 0 {
			cur = st.conn
		}
		where := fmt.Sprintf("%s:%d", s.name, st.line)
		if proto == 3 && (ref.conns[cur] == nil || sut.conns[cur] == nil) {
			// A new connection of a RESP3 run starts with HELLO 3, compared
			// like any command (it fails alike on both under requirepass).
			ref.drop(cur)
			sut.drop(cur)
			mismatches += step1(t, where, "HELLO 3 (new connection)", "shape", ref, sut, cur, [][]byte{[]byte("HELLO"), []byte("3")})
		}
		if st.proto > 0 {
			hello := [][]byte{[]byte("HELLO"), []byte(strconv.Itoa(st.proto))}
			mismatches += step1(t, where, "HELLO "+strconv.Itoa(st.proto), "shape", ref, sut, cur, hello)
		}
		if st.args == nil {
			continue
		}
		mismatches += step1(t, where, st.text, st.mode, ref, sut, cur, st.args)
	}
	if mismatches > 0 {
		t.Logf("%d mismatches in %s (RESP%d)", mismatches, s.name, proto)
	}
}

// step1 sends args to both sides and compares; it returns 1 on mismatch.
func step1(t *testing.T, where, text, mode string, ref, sut *side, n int, args [][]byte) int {
	t.Helper()
	a, errA := ref.do(n, mode, args)
	b, errB := sut.do(n, mode, args)
	if errA != nil {
		t.Fatalf("%s: %s: reference %s failed: %v", where, text, ref.name, errA)
	}
	if errB != nil {
		// Keep both sides in step: drop the reference connection too.
		ref.drop(n)
		t.Errorf("%s: %s\n    %s: %s\n    %s: error %v", where, text, ref.name, strconv.Quote(string(a)), sut.name, errB)
		return 1
	}
	if *flagVerbose {
		t.Logf("%s: %s -> %s", where, text, strconv.Quote(string(a)))
	}
	if ok, why := compare(mode, a, b); !ok {
		if string(a) == closedReply {
			sut.drop(n)
		}
		if string(b) == closedReply {
			ref.drop(n)
		}
		t.Errorf("%s: %s (%s)\n    %s: %s\n    %s: %s", where, text, why, ref.name, strconv.Quote(string(a)), sut.name, strconv.Quote(string(b)))
		return 1
	}
	return 0
}

// missingCommands returns the commands of names that the server behind sd
// does not implement: sent without arguments, they are answered "unknown
// command" rather than with an arity error. (COMMAND INFO cannot tell: a
// command table generated from Redis's may describe commands that are not
// implemented.)
func missingCommands(t *testing.T, sd *side, names []string) []string {
	t.Helper()
	var missing []string
	for _, name := range names {
		rep, err := sd.do(1, "", [][]byte{[]byte(name)})
		if err != nil {
			t.Fatalf("%s: %s: %v", sd.name, name, err)
		}
		if bytes.HasPrefix(rep, []byte("-ERR unknown command")) {
			missing = append(missing, name)
		}
	}
	return missing
}
