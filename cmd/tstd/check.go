package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/toonstore/toonstore/pkg/store"
)

// check runs store.Check on dir, drawing a progress bar on stderr, prints
// every problem and a summary on stdout, and exits 0 when the directory
// opens cleanly (after --fix, when the repair succeeded), 1 otherwise.
func check(dir string, fix, progress bool, stdout, stderr io.Writer) error {
	opts := store.CheckOptions{Fix: fix}
	if progress {
		opts.Progress = progressBar(stderr)
	}
	rep, err := store.Check(dir, opts)
	if progress {
		fmt.Fprintln(stderr)
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, p.String())
	}
	fmt.Fprintf(stdout, "%d segments, %d bytes, %d valid records, %d problems\n",
		rep.Segments, rep.Bytes, rep.Records, len(rep.Problems))
	if rep.Fixed {
		fmt.Fprintf(stdout, "fixed: kept %d records, dropped %d bytes\n", rep.Salvaged, rep.Dropped)
	}
	switch {
	case err != nil:
		return cli.Exit("tstd check: "+err.Error(), 1)
	case rep.Fixed, rep.OK():
		fmt.Fprintln(stdout, "ok")
		return nil
	default:
		return cli.Exit("tstd check: damaged; run `tstd check --fix "+dir+"` to keep every intact record", 1)
	}
}

// progressBar returns a store.CheckOptions.Progress that redraws a bar of
// 40 cells on w.
func progressBar(w io.Writer) func(done, total int64) {
	last := -1
	return func(done, total int64) {
		pct := 100
		if total > 0 {
			pct = int(done * 100 / total)
		}
		if pct == last {
			return
		}
		last = pct
		cells := pct * 40 / 100
		fmt.Fprintf(w, "\rchecking [%s%s] %3d%%", strings.Repeat("#", cells), strings.Repeat(".", 40-cells), pct)
	}
}
