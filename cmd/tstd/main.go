// Command tstd is the ToonStore server: a persistent, Redis-compatible
// database speaking RESP2/RESP3 on port 6379.
//
//	tstd [config-file] [--directive value ...]
//	tstd health [--addr host:port] [--password pw] [--loading-ok]
//	tstd check [--fix] DIR
//	tstd backup --to FILE [--addr host:port] [--password pw] | [--data DIR]
//	tstd restore FILE --data DIR [--force]
//
// Configuration is resolved as defaults < config file < TSTD_* environment
// < command-line flags. Every directive of the registry (pkg/config) is
// accepted as --name value; the seed's flags --bind host:port, --data dir
// and --capacity n stay. Only this package reads flags and environment,
// builds the logger, installs signal handlers and exits the process.
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sys/unix"

	"github.com/toonstore/toonstore/pkg/command"
	"github.com/toonstore/toonstore/pkg/config"
	"github.com/toonstore/toonstore/pkg/eventloop"
	"github.com/toonstore/toonstore/pkg/server"
)

func main() {
	os.Exit(run(os.Args, os.Environ(), os.Stdout, os.Stderr))
}

// seedFlags are the flags with their own handling; every other directive
// gets a generated --name flag.
var seedFlags = []string{"bind", "port", "data", "capacity", "appendfsync", "requirepass", "loglevel", "log-format", "health"}

// run is main without os.Exit, returning the exit status.
func run(args, environ []string, stdout, stderr io.Writer) int {
	// A config file may come first, as with redis-server: "tstd tstd.conf
	// --port 7000" (the flag parser stops at the first positional).
	var confFile string
	if len(args) > 1 && args[1] != "" && !strings.HasPrefix(args[1], "-") && !slices.Contains([]string{"health", "check", "backup", "restore", "help", "h"}, args[1]) {
		confFile = args[1]
		args = append([]string{args[0]}, args[2:]...)
	}
	if len(args) > 2 && (args[1] == "backup" || args[1] == "restore") {
		args = append(args[:2:2], flagsFirst(args[2:], "to", "data", "dir", "addr", "password", "requirepass", "timeout")...)
	}
	registry := config.New() // only for the list of directives
	app := &cli.App{
		Name:      "tstd",
		Usage:     "ToonStore, a persistent Redis-compatible database",
		Version:   command.Version,
		ArgsUsage: "[config-file]",
		Description: "Configuration: defaults < config file (redis.conf syntax) < TSTD_<DIRECTIVE> " +
			"environment variables < flags. Every redis.conf directive is accepted as --name value " +
			"(multi-word values quoted: --save \"900 1 300 10\"); --help lists those tstd acts on.",
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           append(baseFlags(), directiveFlags(registry)...),
		ExitErrHandler:  func(*cli.Context, error) {}, // run returns the status itself
		Action: func(c *cli.Context) error {
			file := confFile
			switch {
			case c.NArg() > 1 || (c.NArg() == 1 && file != ""):
				return cli.Exit("tstd: at most one config file; got "+strings.Join(append([]string{file}, c.Args().Slice()...), " "), 1)
			case c.NArg() == 1:
				file = c.Args().First()
			}
			cfg, err := resolveConfig(c, file, environ, registry, stderr)
			if err != nil {
				return err
			}
			if c.Bool("health") {
				return health(healthAddr(cfg.Value("bind"), cfg.Value("port")), cfg.Value("requirepass"), 3*time.Second, false, stdout)
			}
			return serve(c, cfg, stderr)
		},
		Commands: []*cli.Command{{
			Name:  "health",
			Usage: "PING a running tstd over RESP; exit 0 if it answers +PONG, 1 otherwise",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "addr", Value: "127.0.0.1:6379", Usage: "server address host:port"},
				&cli.StringFlag{Name: "password", Aliases: []string{"requirepass"}, Usage: "send AUTH with this password first"},
				&cli.DurationFlag{Name: "timeout", Value: 3 * time.Second, Usage: "give up after this long"},
				&cli.BoolFlag{Name: "loading-ok", Usage: "exit 0 for a server still loading its dataset (-LOADING): alive, for liveness probes"},
			},
			Action: func(c *cli.Context) error {
				return health(c.String("addr"), c.String("password"), c.Duration("timeout"), c.Bool("loading-ok"), stdout)
			},
		}, {
			Name:      "check",
			Usage:     "verify every record of a data directory (tstd must not be running on it); --fix salvages every intact record",
			ArgsUsage: "DIR",
			Flags: []cli.Flag{
				&cli.BoolFlag{Name: "fix", Usage: "rewrite the directory keeping every intact record (crash-safe)"},
				&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "no progress bar"},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 {
					return cli.Exit("tstd check: exactly one data directory expected", 2)
				}
				return check(c.Args().First(), c.Bool("fix"), !c.Bool("quiet"), stdout, stderr)
			},
		}, backupCommand(stdout), restoreCommand(stdout)},
	}
	err := app.Run(args)
	if err == nil {
		return 0
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := ec.Error(); msg != "" {
			fmt.Fprintln(stderr, msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(stderr, "tstd:", err)
	return 1
}

// offFlag is server.Options.RoundSpin or RoundWait for --round-spin or
// --round-wait d: 0 (off) is negative there, where 0 means the default.
func offFlag(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

// sizeLoops returns the number of event loops tstd runs and the GOMAXPROCS
// it sets (0: leave Go's). flag is --loops (0 or less: the default,
// eventloop.LoopsFor(procs)), env the GOMAXPROCS environment variable
// (set: Go's value stands) and procs Go's processor count at start. Each
// loop gets a processor and no more: an idle processor is what the Go
// scheduler keeps waking a thread for (perf/results/hotpath.md).
func sizeLoops(flag int, env string, procs int) (loops, setProcs int) {
	loops = flag
	if loops <= 0 {
		loops = eventloop.LoopsFor(procs)
	}
	if env != "" {
		return loops, 0
	}
	return loops, min(loops, procs)
}

func baseFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "bind", Value: "127.0.0.1:6379", Usage: "listen address host:port (or Redis-style bind addresses)"},
		&cli.IntFlag{Name: "port", Value: 6379, Usage: "TCP port; overrides the port of --bind"},
		&cli.StringFlag{Name: "data", Aliases: []string{"dir"}, Value: "./data", Usage: "data directory (the dir directive)"},
		&cli.IntFlag{Name: "capacity", Value: 10000, Usage: "decoded values kept in the in-memory cache (entries)"},
		&cli.StringFlag{Name: "appendfsync", Value: "everysec", Usage: "when the log is fsynced: always, everysec or no"},
		&cli.StringFlag{Name: "requirepass", Usage: "password for the default user (AUTH)"},
		&cli.StringFlag{Name: "loglevel", Value: "notice", Usage: "debug, verbose, notice or warning"},
		&cli.StringFlag{Name: "log-format", Value: "console", Usage: "json or console"},
		&cli.BoolFlag{Name: "health", Usage: "PING the configured server and exit 0 if it answers (as the health subcommand)"},
		&cli.StringFlag{Name: "pprof", Usage: "serve Go's net/http/pprof profiles on this loopback address (e.g. 127.0.0.1:6060)"},
		&cli.IntFlag{Name: "loops", Usage: "number of event loops; 0 means half the CPUs Go may use (the CPU count or the container's CPU limit), at least one. Unless the GOMAXPROCS environment variable is set, tstd also runs Go with that many processors (GOMAXPROCS = loops, at most the CPU count): on 2 CPUs shared with the clients, one loop on one processor used a third less CPU per request than two (perf/results/hotpath.md)"},
		&cli.DurationFlag{Name: "round-spin", Value: server.DefaultRoundSpin, Usage: "how long an event loop keeps busy after a round of single commands from several clients (pipeline 1), so that their next requests meet a running loop; 0 turns it off (costs CPU; see perf/results/hotpath.md)"},
		&cli.DurationFlag{Name: "round-wait", Value: server.DefaultRoundWait, Usage: "after such a round, how long an event loop may wait for its next events while keeping its Go processor (other goroutines wait meanwhile), instead of waiting in gnet's poll, where the Go runtime takes the processor away; 0 turns it off (Linux 5.11 or later; see perf/results/hotpath.md)"},
		&cli.BoolFlag{Name: "lock-os-thread", Usage: "pin each event loop to an OS thread (measured worse with one client connection; see perf/results/hotpath.md)"},
		&cli.BoolFlag{Name: "rechunk", Usage: "rebuild the page cache of sealed log segments in 2 MiB folios, read back from the disk (measured worse on a virtual machine; see perf/results/hotpath.md)"},
	}
}

// directiveFlags returns a --name flag for every directive without a seed
// flag, and its alias where that names no other flag. Directives tstd does
// not act on are hidden from --help but accepted.
func directiveFlags(cfg *config.Config) []cli.Flag {
	used := map[string]bool{"help": true, "h": true, "version": true, "v": true, "dir": true}
	for _, n := range seedFlags {
		used[n] = true
	}
	dirs := cfg.Directives()
	for _, d := range dirs {
		used[d.Name] = used[d.Name] || slices.Contains(seedFlags, d.Name)
	}
	var out []cli.Flag
	for _, d := range dirs {
		if slices.Contains(seedFlags, d.Name) || d.Name == "dir" {
			continue
		}
		f := &cli.StringFlag{Name: d.Name, Usage: d.Usage, Hidden: d.Usage == "", Category: "Directives"}
		if d.Alias != "" && !used[d.Alias] {
			f.Aliases = []string{d.Alias}
			used[d.Alias] = true
		}
		used[d.Name] = true
		out = append(out, f)
	}
	return out
}

// resolveConfig builds the configuration: defaults, then the file, then
// TSTD_* variables, then the flags the user set.
func resolveConfig(c *cli.Context, file string, environ []string, registry *config.Config, stderr io.Writer) (*config.Config, error) {
	cfg := config.New()
	fatal := func(err error) error {
		var fe *config.FileError
		if errors.As(err, &fe) {
			return cli.Exit(fe.Fatal(command.Version), 1)
		}
		return cli.Exit("tstd: "+err.Error(), 1)
	}
	if file != "" {
		if err := cfg.LoadFile(file); err != nil {
			return nil, fatal(err)
		}
	}
	if err := cfg.LoadEnv(environ); err != nil {
		return nil, fatal(err)
	}
	for _, name := range cfg.UnknownEnv(environ) {
		fmt.Fprintf(stderr, "tstd: warning: %s names no directive; ignored\n", name)
	}
	set := func(name string, args ...string) error {
		if err := cfg.SetArgs(name, args...); err != nil {
			return fatal(err)
		}
		return nil
	}
	// Generated directive flags first, so that the seed flags (which
	// overlap bind/port/dir) have the last word.
	for _, d := range registry.Directives() {
		if slices.Contains(seedFlags, d.Name) || d.Name == "dir" || !c.IsSet(d.Name) {
			continue
		}
		v := c.String(d.Name)
		args := []string{v}
		if d.Flags&config.MultiArg != 0 {
			if args = strings.Fields(v); len(args) == 0 {
				args = []string{""}
			}
		}
		if err := set(d.Name, args...); err != nil {
			return nil, err
		}
	}
	if c.IsSet("bind") {
		b := c.String("bind")
		if host, port, err := net.SplitHostPort(b); err == nil && !strings.Contains(host, " ") {
			if err := set("bind", host); err != nil {
				return nil, err
			}
			if err := set("port", port); err != nil {
				return nil, err
			}
		} else if err := set("bind", strings.Fields(b)...); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct{ flag, directive string }{
		{"port", "port"}, {"data", "dir"}, {"capacity", "capacity"}, {"appendfsync", "appendfsync"},
		{"requirepass", "requirepass"}, {"loglevel", "loglevel"},
	} {
		if c.IsSet(f.flag) {
			if err := set(f.directive, c.String(f.flag)); err != nil {
				return nil, err
			}
		}
	}
	if lf := c.String("log-format"); lf != "json" && lf != "console" {
		return nil, cli.Exit("tstd: --log-format must be json or console, not "+strconv.Quote(lf), 1)
	}
	return cfg, nil
}

// serve runs the server until SIGTERM, SIGINT or SHUTDOWN.
func serve(c *cli.Context, cfg *config.Config, stderr io.Writer) error {
	level := zap.NewAtomicLevel()
	if l, ok := server.ZapLevel(cfg.Value("loglevel")); ok {
		level.SetLevel(l)
	}
	log, err := buildLogger(c.String("log-format"), cfg.Value("logfile"), level)
	if err != nil {
		return cli.Exit("tstd: logger: "+err.Error(), 1)
	}
	defer func() { _ = log.Sync() }()
	raiseFileLimit(log, int(cfg.Int("maxclients")))

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	if addr := c.String("pprof"); addr != "" {
		if err := servePprof(addr, log); err != nil {
			return cli.Exit("tstd: --pprof: "+err.Error(), 1)
		}
	}

	loops, procs := sizeLoops(c.Int("loops"), os.Getenv("GOMAXPROCS"), runtime.GOMAXPROCS(0))
	if procs > 0 {
		runtime.GOMAXPROCS(procs)
	}
	srv, err := server.Start(server.Options{Config: cfg, Logger: log, LogLevel: &level, Loops: loops, LockOSThread: c.Bool("lock-os-thread"), Rechunk: c.Bool("rechunk"), RoundSpin: offFlag(c.Duration("round-spin")), RoundWait: offFlag(c.Duration("round-wait"))})
	if err != nil {
		log.Error("start failed", zap.Error(err))
		return cli.Exit("tstd: "+err.Error(), 1)
	}
	log.Info("tstd listening; loading the dataset (clients get -LOADING until it is loaded)",
		zap.String("version", command.Version),
		zap.String("addr", srv.Addr()),
		zap.Int("loops", srv.Loops()),
		zap.Int("gomaxprocs", runtime.GOMAXPROCS(0)),
		zap.String("dir", srv.Dir()),
		zap.String("appendfsync", cfg.Value("appendfsync")),
		zap.Int("pid", os.Getpid()))

	progress := time.NewTicker(5 * time.Second)
	defer progress.Stop()
	ready := srv.Ready()
	var sig os.Signal
wait:
	for {
		select {
		case sig = <-sigs:
			break wait
		case <-srv.Done():
			break wait
		case <-progress.C:
			if srv.Loading() {
				done, total := srv.LoadProgress()
				log.Info("loading the dataset", zap.Int64("loaded_bytes", done), zap.Int64("total_bytes", total),
					zap.String("percent", strconv.FormatFloat(float64(done)*100/float64(max(total, 1)), 'f', 1, 64)))
			}
		case <-ready:
			ready = nil
			progress.Stop()
			log.Info("tstd ready to accept connections",
				zap.Int("keys_recovered", srv.Keys()),
				zap.Duration("load_time", srv.LoadTime()))
		}
	}
	if sig != nil {
		log.Info("received signal; shutting down", zap.String("signal", sig.String()))
		go func() {
			// A second signal while closing gives up on a clean shutdown.
			sig := <-sigs
			log.Error("second signal during shutdown; exiting now", zap.String("signal", sig.String()))
			_ = log.Sync()
			os.Exit(1)
		}()
	}
	if err := srv.Close(); err != nil {
		log.Error("tstd stopped with an error", zap.Error(err))
		return cli.Exit("tstd: "+err.Error(), 1)
	}
	log.Info("tstd stopped; bye")
	return nil
}

func buildLogger(format, logfile string, level zap.AtomicLevel) (*zap.Logger, error) {
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	if format == "console" {
		enc = zap.NewDevelopmentEncoderConfig()
	}
	out := "stdout"
	if logfile != "" {
		out = logfile
	}
	zc := zap.Config{
		Level:            level,
		Encoding:         format,
		EncoderConfig:    enc,
		OutputPaths:      []string{out},
		ErrorOutputPaths: []string{"stderr"},
	}
	return zc.Build()
}

// raiseFileLimit lifts the soft open-files limit towards maxclients plus
// the server's own descriptors, as redis-server does: gnet's acceptor stops
// the server on EMFILE.
func raiseFileLimit(log *zap.Logger, maxclients int) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	want := uint64(maxclients) + 64
	if lim.Cur >= want {
		return
	}
	old := lim.Cur
	lim.Cur = min(want, lim.Max)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("could not raise the open files limit", zap.Uint64("limit", old), zap.Error(err))
		return
	}
	if lim.Cur < want {
		log.Warn("open files limit below maxclients; lower maxclients or raise the hard limit",
			zap.Uint64("limit", lim.Cur), zap.Int("maxclients", maxclients))
	}
}

// healthAddr is where --health connects for the configured bind and port:
// a wildcard bind is reached through loopback.
func healthAddr(bind, port string) string {
	host := "127.0.0.1"
	if f := strings.Fields(bind); len(f) > 0 {
		host = strings.TrimPrefix(f[0], "-")
	}
	switch host {
	case "*", "0.0.0.0":
		host = "127.0.0.1"
	case "::*", "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// health sends [AUTH password] and PING over RESP and expects +PONG.
// A server that answers -LOADING is reported as loading with its progress:
// unhealthy (exit 1, not ready for traffic) unless loadingOK, for liveness
// probes, which must not restart a server that is loading.
func health(addr, password string, timeout time.Duration, loadingOK bool, stdout io.Writer) error {
	fail := func(format string, args ...any) error {
		return cli.Exit(fmt.Sprintf("unhealthy: "+addr+": "+format, args...), 1)
	}
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return fail("%v", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(timeout))
	buf := make([]byte, 0, 128)
	if password != "" {
		buf = appendCommand(buf, "AUTH", password)
	}
	buf = appendCommand(buf, "PING")
	if _, err := conn.Write(buf); err != nil {
		return fail("%v", err)
	}
	r := newLineReader(conn)
	if password != "" {
		line, err := r.line()
		if err != nil {
			return fail("AUTH: %v", err)
		}
		if line != "+OK" {
			return fail("AUTH: %s", line)
		}
	}
	line, err := r.line()
	if err != nil {
		return fail("PING: %v", err)
	}
	if strings.HasPrefix(line, "-LOADING") {
		// Alive but not serving yet: say how far the load is.
		status := "loading the dataset"
		if p := loadingProgress(conn, r); p != "" {
			status += " (" + p + ")"
		}
		if loadingOK {
			fmt.Fprintf(stdout, "alive: %s is %s\n", addr, status)
			return nil
		}
		return fail("%s; not serving yet", status)
	}
	if line != "+PONG" {
		return fail("PING: %s", line)
	}
	fmt.Fprintf(stdout, "healthy: %s answered PONG\n", addr)
	return nil
}

// loadingProgress asks INFO persistence of a loading server and returns
// "N.NN% of B bytes, eta S s", or "" if the reply does not say.
func loadingProgress(conn net.Conn, r *lineReader) string {
	if _, err := conn.Write(appendCommand(nil, "INFO", "persistence")); err != nil {
		return ""
	}
	head, err := r.line()
	n, convErr := strconv.Atoi(strings.TrimPrefix(head, "$"))
	if err != nil || convErr != nil || !strings.HasPrefix(head, "$") {
		return ""
	}
	f := map[string]string{}
	for read := 0; read < n; {
		line, err := r.line()
		if err != nil {
			return ""
		}
		read += len(line) + 2
		if k, v, ok := strings.Cut(line, ":"); ok {
			f[k] = v
		}
	}
	if f["loading"] != "1" || f["loading_loaded_perc"] == "" {
		return ""
	}
	return f["loading_loaded_perc"] + "% of " + f["loading_total_bytes"] + " bytes, eta " + f["loading_eta_seconds"] + " s"
}

func appendCommand(b []byte, args ...string) []byte {
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

// lineReader reads CRLF-terminated reply lines.
type lineReader struct {
	r   io.Reader
	buf []byte
}

func newLineReader(r io.Reader) *lineReader { return &lineReader{r: r} }

func (l *lineReader) line() (string, error) {
	for {
		if i := strings.Index(string(l.buf), "\r\n"); i >= 0 {
			s := string(l.buf[:i])
			l.buf = l.buf[i+2:]
			return s, nil
		}
		if len(l.buf) > 4096 {
			return "", errors.New("reply line too long")
		}
		var tmp [512]byte
		n, err := l.r.Read(tmp[:])
		l.buf = append(l.buf, tmp[:n]...)
		if err != nil && n == 0 {
			return "", err
		}
	}
}
