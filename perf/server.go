package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Server names, used as keys of the results and in the report.
const (
	nameTstd     = "tstd"
	nameRedis    = "redis"
	nameRedisAOF = "redis-aof"
)

// serverNames lists the servers in the order the report prints them.
func serverNames() []string { return []string{nameTstd, nameRedis, nameRedisAOF} }

// serverLabels are the column titles of each server in the report.
func serverLabel(name string) string {
	switch name {
	case nameTstd:
		return "tstd"
	case nameRedis:
		return "Redis"
	case nameRedisAOF:
		return "Redis+AOF"
	}
	return name
}

// server is one running server process on a loopback port.
type server struct {
	name string
	cmd  *exec.Cmd
	port int
	dir  string
	done chan struct{} // closed when the process has exited
}

func (s *server) pid() int     { return s.cmd.Process.Pid }
func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// launcher starts fresh servers: each gets a free loopback port and a new
// directory under root. It is safe for concurrent use (the interrupt
// handler calls stopAll).
type launcher struct {
	tstdBin string
	root    string

	mu    sync.Mutex
	seq   int              // guarded by mu
	procs string           // guarded by mu: tstd's event loops and GOMAXPROCS, from its first start-up log line
	live  map[*server]bool // guarded by mu: started and not yet stopped
}

// start starts a fresh server of the given name and waits until it answers
// PING. Its output goes to a log file in its directory.
func (l *launcher) start(name string) (*server, error) {
	l.mu.Lock()
	l.seq++
	dir := filepath.Join(l.root, fmt.Sprintf("%s-%d", name, l.seq))
	l.mu.Unlock()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	ps := strconv.Itoa(port)
	var cmd *exec.Cmd
	switch name {
	case nameTstd:
		cmd = exec.Command(l.tstdBin, "--port", ps, "--data", filepath.Join(dir, "data"))
	case nameRedis:
		cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", ps, "--dir", dir,
			"--save", "", "--appendonly", "no", "--maxclients", "10000")
	case nameRedisAOF:
		cmd = exec.Command("redis-server", "--bind", "127.0.0.1", "--port", ps, "--dir", dir,
			"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--maxclients", "10000")
	default:
		return nil, fmt.Errorf("perf: unknown server %q", name)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// The server dies with the harness, even if the harness is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("perf: start %s: %w", name, err)
	}
	s := &server{name: name, cmd: cmd, port: port, dir: dir, done: make(chan struct{})}
	go func() { cmd.Wait(); logf.Close(); close(s.done) }()
	l.mu.Lock()
	l.live[s] = true
	l.mu.Unlock()
	for i := 0; i < 300; i++ {
		if reply, err := command(s.addr(), "PING"); err == nil && reply == "+PONG" {
			if name == nameTstd {
				l.noteProcs(logf.Name())
			}
			return s, nil
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(logf.Name())
			l.stop(s)
			return nil, fmt.Errorf("%w: %s exited: %s", ErrNotStarted, name, firstLine(string(log)))
		case <-time.After(100 * time.Millisecond):
		}
	}
	l.stop(s)
	return nil, fmt.Errorf("%w: %s on port %d", ErrNotStarted, name, port)
}

// procsRE matches what tstd's start-up line says of its loops and
// GOMAXPROCS (it sets GOMAXPROCS itself unless the environment does).
var procsRE = regexp.MustCompile(`"loops": (\d+), "gomaxprocs": (\d+)`)

// noteProcs records, from the first tstd started, how many event loops and
// processors it runs with, as its log says (it logs the line just after it
// starts answering: wait up to 5 s for it).
func (l *launcher) noteProcs(logPath string) {
	l.mu.Lock()
	done := l.procs != ""
	l.mu.Unlock()
	if done {
		return
	}
	for i := 0; i < 50; i++ {
		b, _ := os.ReadFile(logPath)
		if m := procsRE.FindSubmatch(b); m != nil {
			l.mu.Lock()
			l.procs = fmt.Sprintf("%s event loop(s), GOMAXPROCS %s (from its start-up log)", m[1], m[2])
			l.mu.Unlock()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop asks the server to exit (SIGTERM), kills it after 60 s, and removes
// its directory.
func (l *launcher) stop(s *server) {
	l.mu.Lock()
	delete(l.live, s)
	l.mu.Unlock()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	os.RemoveAll(s.dir)
}

// stopAll stops every server still running.
func (l *launcher) stopAll() {
	l.mu.Lock()
	var ss []*server
	for s := range l.live {
		ss = append(ss, s)
	}
	l.mu.Unlock()
	for _, s := range ss {
		l.stop(s)
	}
}

// command sends one command to addr as a RESP array and returns the first
// line of the reply without its CRLF. Only replies of one line (simple
// strings, errors, integers) are read in full.
func command(addr string, args ...string) (string, error) {
	return roundTrip(addr, args, func(r *bufio.Reader) (string, error) {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	})
}

// roundTrip sends args to addr on a fresh connection (1 s to connect, 30 s
// for the exchange) and returns what read makes of the reply.
func roundTrip(addr string, args []string, read func(*bufio.Reader) (string, error)) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(encodeCommand(args)); err != nil {
		return "", err
	}
	return read(bufio.NewReader(c))
}

// encodeCommand is args as a RESP array of bulk strings.
func encodeCommand(args []string) []byte {
	var b []byte
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	return b
}

// intCommand sends a command whose reply is an integer and returns it.
func intCommand(addr string, args ...string) (int64, error) {
	reply, err := command(addr, args...)
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(reply, ":") {
		return 0, fmt.Errorf("%w to %s: %q", ErrReply, strings.Join(args, " "), reply)
	}
	return strconv.ParseInt(reply[1:], 10, 64)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// raiseFileLimit raises the soft limit on open files to the hard limit, so
// that redis-benchmark (a child, which inherits it) and the servers can
// open 500 connections each. It returns the resulting soft limit.
func raiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, err
		}
	}
	return rl.Cur, nil
}
