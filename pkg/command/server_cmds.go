package command

import (
	"errors"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// The server group: COMMAND (commandcmd.go), CONFIG (configcmd.go), INFO
// (info.go), TIME, LASTSAVE, SAVE, BGSAVE, SHUTDOWN.

func serverCommands() []*Command {
	return []*Command{
		commandCommand(),
		configCommand(),
		{Name: "info", Run: infoCmd},
		{Name: "time", Run: timeCmd},
		{Name: "lastsave", Run: lastSaveCmd},
		{Name: "save", Run: saveCmd},
		{Name: "bgsave", Run: bgSaveCmd},
		{Name: "bgrewriteaof", Run: bgRewriteAOFCmd},
		{Name: "shutdown", Run: shutdownCmd},
	}
}

// TIME: [seconds, microseconds] as bulk strings.
func timeCmd(x *Ctx) {
	now := time.Now()
	x.Array(2)
	x.BulkString(strconv.FormatInt(now.Unix(), 10))
	x.BulkString(strconv.FormatInt(int64(now.Nanosecond()/1000), 10))
}

// LASTSAVE: Unix time of the last successful save.
func lastSaveCmd(x *Ctx) { x.Int(x.S.lastSave.Load()) }

// SAVE: Hooks.Save (which writes the backup), then +OK; "-ERR" if it
// fails or there is no hook, as Redis replies when rdbSave fails, and
// Redis's error while another save runs.
func saveCmd(x *Ctx) {
	if x.S.Hooks.Save == nil {
		x.Error("ERR")
		return
	}
	if !x.S.BeginSave(time.Now()) {
		x.Error(errSaveInProgress)
		return
	}
	err := x.S.Hooks.Save()
	x.S.EndSave(time.Now(), err)
	if err != nil {
		x.S.Log.Warn("SAVE failed", zap.Error(err))
		x.Error("ERR")
		return
	}
	x.OK()
}

// errSaveInProgress is Redis's reply to SAVE and BGSAVE while a save runs.
const errSaveInProgress = "ERR Background save already in progress"

// BGSAVE [SCHEDULE]: Hooks.BGSave starts a background save and returns;
// the wiring calls Server.EndSave when it completes. While a save runs,
// Redis's error (SCHEDULE too: Redis schedules only behind an AOF rewrite,
// and ToonStore's rewrite, the compaction, simply waits for the save).
func bgSaveCmd(x *Ctx) {
	if len(x.Args) > 1 && (len(x.Args) != 2 || !optIs(x.Args[1], "schedule")) {
		x.ErrSyntax()
		return
	}
	if x.S.Hooks.BGSave == nil {
		x.Error("ERR")
		return
	}
	if !x.S.BeginSave(time.Now()) {
		x.Error(errSaveInProgress)
		return
	}
	if err := x.S.Hooks.BGSave(); err != nil {
		x.S.EndSave(time.Now(), err)
		x.S.Log.Warn("BGSAVE failed", zap.Error(err))
		x.Error("ERR")
		return
	}
	x.Simple("Background saving started")
}

// BGREWRITEAOF: ToonStore's log is its AOF, and rewriting it is the
// store's compaction (live records into new segments, dead ones dropped),
// started in the background by Hooks.BGRewrite.
func bgRewriteAOFCmd(x *Ctx) {
	if x.S.Hooks.BGRewrite == nil {
		x.Error("ERR Background append only file rewriting error")
		return
	}
	switch err := x.S.Hooks.BGRewrite(); {
	case errors.Is(err, ErrRewriteInProgress):
		x.Error("ERR Background append only file rewriting already in progress")
	case err != nil:
		x.S.Log.Warn("BGREWRITEAOF failed", zap.Error(err))
		x.Error("ERR Background append only file rewriting error")
	default:
		x.Simple("Background append only file rewriting started")
	}
}

// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]. On success there is no
// reply: Hooks.Shutdown stops the server and the connection closes. NOW and
// FORCE are accepted; ToonStore has no shutdown wait to skip or save error
// to force past. ABORT always finds no shutdown in progress, since a
// shutdown that Hooks.Shutdown accepted does not wait.
func shutdownCmd(x *Ctx) {
	var save, nosave, abort, other bool
	for _, a := range x.Args[1:] {
		switch {
		case optIs(a, "nosave"):
			nosave = true
		case optIs(a, "save"):
			save = true
		case optIs(a, "now"), optIs(a, "force"):
			other = true
		case optIs(a, "abort"):
			abort = true
		default:
			x.ErrSyntax()
			return
		}
	}
	if (abort && (save || nosave || other)) || (save && nosave) {
		x.ErrSyntax()
		return
	}
	if abort {
		x.Error("ERR No shutdown in progress.")
		return
	}
	if x.S.Hooks.Shutdown == nil {
		x.Error("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	if err := x.S.Hooks.Shutdown(!nosave); err != nil {
		x.S.Log.Warn("SHUTDOWN refused", zap.Error(err))
		x.Error("ERR Errors trying to SHUTDOWN. Check logs.")
		return
	}
	x.C.CloseAfterReply = true
}
