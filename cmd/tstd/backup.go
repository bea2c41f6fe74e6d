package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/urfave/cli/v2"

	"github.com/toonstore/toonstore/pkg/store"
)

// backupCommand is `tstd backup --to FILE`: through a running server
// (BGSAVE, then a copy of the file it wrote), or of a stopped server's
// directory with --data.
func backupCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:  "backup",
		Usage: "write a point-in-time backup (tar.gz) of a running tstd (--addr) or of a stopped one's data directory (--data)",
		Description: "Online (default): sends BGSAVE to the server at --addr, waits for it, and copies the file it " +
			"wrote (CONFIG GET dir + dbfilename) to --to; the server's files must be reachable from here (same " +
			"host or shared filesystem). Offline (--data DIR): opens DIR itself; refused while a server runs on it. " +
			"Restore with `tstd restore FILE --data DIR`.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Required: true, Usage: "backup file to write (replaced atomically)"},
			&cli.StringFlag{Name: "data", Aliases: []string{"dir"}, Usage: "back up this data directory of a stopped server instead of asking a running one"},
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:6379", Usage: "address host:port of the running server"},
			&cli.StringFlag{Name: "password", Aliases: []string{"requirepass"}, Usage: "send AUTH with this password first"},
			&cli.DurationFlag{Name: "timeout", Value: time.Hour, Usage: "give up waiting for the server's save after this long"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return cli.Exit("tstd backup: unexpected argument "+c.Args().First()+" (the file goes in --to)", 2)
			}
			to := c.String("to")
			if dir := c.String("data"); dir != "" {
				return backupOffline(dir, to, stdout)
			}
			return backupOnline(c.String("addr"), c.String("password"), to, c.Duration("timeout"), stdout)
		},
	}
}

// restoreCommand is `tstd restore FILE --data DIR [--force]`.
func restoreCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "make a data directory hold exactly the state of a backup (tstd must not be running on it)",
		ArgsUsage: "FILE (- for standard input)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data", Aliases: []string{"dir"}, Required: true, Usage: "data directory to restore into (created if missing)"},
			&cli.BoolFlag{Name: "force", Usage: "replace a store already in the directory"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return cli.Exit("tstd restore: exactly one backup file expected", 2)
			}
			return restore(c.Args().First(), c.String("data"), c.Bool("force"), os.Stdin, stdout)
		},
	}
}

func backupOffline(dir, to string, stdout io.Writer) error {
	info, err := store.BackupDir(dir, to, store.Options{})
	switch {
	case errors.Is(err, store.ErrLocked):
		return cli.Exit("tstd backup: "+dir+" is in use by a running tstd; back it up through the server: tstd backup --to "+to+" --addr HOST:PORT", 1)
	case err != nil:
		return cli.Exit("tstd backup: "+err.Error(), 1)
	}
	printBackup(stdout, to, info)
	return nil
}

// backupOnline asks the server at addr for a BGSAVE, waits for it to
// finish, and copies (verifying it) the file it wrote to to. If a save is
// already running, it waits for that one and starts its own afterwards,
// so the backup is never older than the moment of the command.
func backupOnline(addr, password, to string, timeout time.Duration, stdout io.Writer) error {
	fail := func(format string, args ...any) error {
		return cli.Exit(fmt.Sprintf("tstd backup: "+addr+": "+format, args...), 1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	rdb := redis.NewClient(&redis.Options{
		Addr: addr, Password: password, Protocol: 2, DisableIdentity: true,
		DialTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, MaxRetries: -1,
	})
	defer rdb.Close()
	cfg, err := rdb.ConfigGet(ctx, "d*").Result()
	if err != nil {
		return fail("CONFIG GET: %v", err)
	}
	dir, file := cfg["dir"], cfg["dbfilename"]
	if dir == "" || file == "" {
		return fail("CONFIG GET reported no dir or dbfilename")
	}
	path := filepath.Join(dir, file)

	saving := func() (bool, error) {
		info, err := rdb.Info(ctx, "persistence").Result()
		if err != nil {
			return false, err
		}
		return !strings.Contains(info, "rdb_bgsave_in_progress:0"), nil
	}
	wait := func() (string, error) {
		for {
			busy, err := saving()
			if err != nil || !busy {
				if err != nil {
					return "", err
				}
				return rdb.Info(ctx, "persistence").Result()
			}
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	for {
		err := rdb.BgSave(ctx).Err()
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "already in progress") {
			return fail("BGSAVE: %v", err)
		}
		if _, err := wait(); err != nil { // someone else's save: wait, then ours
			return fail("waiting for the running save: %v", err)
		}
	}
	info, err := wait()
	if err != nil {
		return fail("waiting for BGSAVE: %v", err)
	}
	if !strings.Contains(info, "rdb_last_bgsave_status:ok") {
		return fail("BGSAVE failed (see the server's log)")
	}
	src, err := os.Open(path)
	if err != nil {
		return fail("the server wrote its backup to %s, which cannot be read from here (run tstd backup on the server's host): %v", path, err)
	}
	defer src.Close()
	binfo, err := copyVerified(src, to)
	if err != nil {
		return fail("%v", err)
	}
	printBackup(stdout, to, binfo)
	return nil
}

// copyVerified copies a backup from src to the file to (via to.tmp,
// fsynced, renamed), checking it as it goes: a damaged file is never
// installed.
func copyVerified(src io.Reader, to string) (_ store.BackupInfo, err error) {
	tmp := to + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return store.BackupInfo{}, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	info, err := store.VerifyBackup(io.TeeReader(src, f))
	if err != nil {
		return store.BackupInfo{}, err
	}
	if _, err = io.Copy(f, src); err != nil { // anything after the gzip stream (none expected)
		return store.BackupInfo{}, err
	}
	if err = f.Sync(); err != nil {
		return store.BackupInfo{}, err
	}
	if err = f.Close(); err != nil {
		return store.BackupInfo{}, err
	}
	if err = os.Rename(tmp, to); err != nil {
		return store.BackupInfo{}, err
	}
	if d, derr := os.Open(filepath.Dir(to)); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return info, nil
}

func restore(file, dir string, force bool, stdin io.Reader, stdout io.Writer) error {
	r := stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return cli.Exit("tstd restore: "+err.Error(), 1)
		}
		defer f.Close()
		r = f
	}
	info, err := store.Restore(r, dir, store.RestoreOptions{Force: force})
	switch {
	case errors.Is(err, store.ErrNotEmpty):
		return cli.Exit("tstd restore: "+err.Error()+"; add --force to replace it", 1)
	case errors.Is(err, store.ErrLocked):
		return cli.Exit("tstd restore: "+dir+" is in use by a running tstd; stop it first", 1)
	case err != nil:
		return cli.Exit("tstd restore: "+err.Error(), 1)
	}
	fmt.Fprintf(stdout, "restored %s into %s: %d segments, %d bytes, last sequence %d, taken %s\n",
		file, dir, info.Segments, info.Bytes, info.LastSequence, info.Created.Format(time.RFC3339))
	return nil
}

func printBackup(w io.Writer, to string, info store.BackupInfo) {
	fmt.Fprintf(w, "backup written to %s: %d segments, %d bytes, last sequence %d, taken %s\n",
		to, info.Segments, info.Bytes, info.LastSequence, info.Created.Format(time.RFC3339))
}

// flagsFirst moves the flags of a subcommand's arguments before its
// positional ones ("restore FILE --data DIR" as "restore --data DIR
// FILE"): urfave/cli stops parsing flags at the first positional. valued
// names the flags that take a separate value.
func flagsFirst(args []string, valued ...string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && i+1 < len(args) {
				for _, v := range valued {
					if name == v {
						i++
						flags = append(flags, args[i])
						break
					}
				}
			}
		default:
			pos = append(pos, a)
		}
	}
	return append(flags, pos...)
}
