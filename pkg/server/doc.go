// Package server wires ToonStore's layers into a running tstd: it opens the
// store and the cache named by the configuration, builds the command
// server, starts the gnet event loops, applies configuration changes live
// (CONFIG SET) and shuts everything down in order. cmd/tstd and the
// integration tests use it; it reads no flags or environment, installs no
// signal handlers and never exits the process.
//
// # Lifecycle
//
// Start returns once the listener is bound and the event loops run; the
// store and cache open (recover) on a goroutine meanwhile, as Redis loads
// its dataset after it starts listening. Until they are loaded the command
// server answers -LOADING to every command without Redis's loading flag
// (command.Server.BeginLoading), INFO persistence reports loading:1 and
// the loading_* progress, Ready stays open and Keys is 0. Then Ready is
// closed (WaitReady returns). If loading fails, the server stops and Done,
// Err and WaitReady report the error; SHUTDOWN during the load is
// accepted and takes effect once the store is open (Open cannot be
// interrupted), without a save, as in Redis. The server stops on Close or
// on SHUTDOWN (a client's command): no further
// command is parsed, the replies of executed commands are written, the
// connections and the listener are closed, the log is synced and the store
// is closed cleanly (metadata records a clean shutdown). Done is closed
// when all of that is finished.
//
// # Durability policy
//
// The store is opened with store.SyncNo and the server applies appendfsync
// itself, so that CONFIG SET appendfsync takes effect at once:
//
//	always    the event loop calls Store.Sync after each batch that ran a
//	          write command, before writing its replies (group-committed)
//	everysec  a goroutine of the server calls Store.Sync once a second
//	no        nothing; the OS writes back when it likes
//
// Store.Close syncs whatever the policy.
//
// # Saves
//
// SAVE syncs the log, then writes a backup of the store (Store.BackupFile:
// a point-in-time tar.gz, see pkg/store's backup.go) to Server.BackupPath,
// the dbfilename directive in dir, where Redis writes dump.rdb; BGSAVE
// does the same in a goroutine and reports the outcome with
// command.Server.EndSave (LASTSAVE, INFO's rdb_* fields). The command
// layer lets one save run at a time. `tstd backup` drives BGSAVE from
// outside and copies the file.
package server
