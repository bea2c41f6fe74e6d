package command

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"
)

// Version is the ToonStore release, reported by INFO as tstd_version.
const Version = "0.1.0"

// RedisVersion is the Redis version ToonStore is compatible with, reported
// by HELLO and INFO (redis_version): clients gate features on it.
const RedisVersion = "7.0.15"

// srvState is the server-wide bookkeeping of the server command group:
// identities (run_id, master_replid), the instantaneous-ops sample,
// peak memory, the last save and shutdown state. Safe for concurrent use.
type srvState struct {
	idOnce sync.Once
	runID  string // 40 hex characters, random per Server
	replID string // 40 hex characters, random per Server

	mu          sync.Mutex // guards the fields below
	sampleMs    int64      // Unix ms of the last ops sample
	sampleCmds  uint64     // Stats.CommandsProcessed at sampleMs
	opsPerSec   int64      // rate measured between the last two samples
	peakMem     uint64     // highest used_memory INFO has seen
	savedWrites uint64     // store writes counted at the last save

	// The save in progress (SAVE or BGSAVE) and the last one's outcome,
	// for INFO's rdb_* fields (BeginSave, EndSave).
	saving       bool
	saveStart    time.Time
	saveWrites   uint64 // store writes counted when the save started
	lastSaveErr  bool   // the last save failed
	lastSaveSecs int64  // duration of the last save in seconds; -1 before the first
}

func randomHex40() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics
		// itself); keep a deterministic fallback rather than crash INFO.
		return "0000000000000000000000000000000000000000"
	}
	return hex.EncodeToString(b[:])
}

func (st *srvState) ids() (runID, replID string) {
	st.idOnce.Do(func() {
		st.runID = randomHex40()
		st.replID = randomHex40()
	})
	return st.runID, st.replID
}

// RunID returns the server's run_id: 40 random hex characters, fixed for
// the life of s.
func (s *Server) RunID() string { id, _ := s.srv.ids(); return id }

// NoteSave records that the data was made durable at t: LASTSAVE and
// INFO's rdb_last_save_time report it and rdb_changes_since_last_save
// restarts from zero. SAVE calls it; the server wiring calls it when a
// BGSAVE it started completes.
func (s *Server) NoteSave(t time.Time) {
	s.lastSave.Store(t.Unix())
	var writes uint64
	if c := s.readyCache(); c != nil {
		writes = c.Store().Stats().Writes
	}
	s.srv.mu.Lock()
	s.srv.savedWrites = writes
	s.srv.mu.Unlock()
}

// BeginSave marks a save (SAVE or BGSAVE) as started at t. It returns
// false, changing nothing, if one is already in progress: the caller then
// replies "ERR Background save already in progress". Every true return
// must be followed by one EndSave.
func (s *Server) BeginSave(t time.Time) bool {
	var writes uint64
	if c := s.readyCache(); c != nil {
		writes = c.Store().Stats().Writes
	}
	st := &s.srv
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.saving {
		return false
	}
	st.saving, st.saveStart, st.saveWrites = true, t, writes
	return true
}

// EndSave records the end, at t, of the save BeginSave started: on
// success (err nil) LASTSAVE becomes t and rdb_changes_since_last_save
// counts the writes since the save started; rdb_last_bgsave_status
// reports err and rdb_last_bgsave_time_sec the duration. The server wiring
// calls it when a BGSAVE it started completes; SAVE calls it itself.
func (s *Server) EndSave(t time.Time, err error) {
	st := &s.srv
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.saving {
		return
	}
	st.saving = false
	st.lastSaveErr = err != nil
	st.lastSaveSecs = int64(t.Sub(st.saveStart).Round(time.Second) / time.Second)
	if err == nil {
		st.savedWrites = st.saveWrites
		s.lastSave.Store(t.Unix())
	}
}

// saveInfo returns INFO's rdb_bgsave_in_progress, rdb_last_bgsave_status,
// rdb_last_bgsave_time_sec and rdb_current_bgsave_time_sec.
func (st *srvState) saveInfo(now time.Time) (inProgress int, status string, lastSecs, curSecs int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	status, lastSecs, curSecs = "ok", -1, -1
	if st.lastSaveErr {
		status = "err"
	}
	if !st.saveStart.IsZero() && !st.saving {
		lastSecs = st.lastSaveSecs
	}
	if st.saving {
		inProgress = 1
		curSecs = int64(now.Sub(st.saveStart) / time.Second)
	}
	return
}

// opsPerSec returns instantaneous_ops_per_sec: commands per second between
// the two most recent samples. Samples are taken when INFO runs, at most
// one per 100 ms (Redis samples every 100 ms in its cron; we have no cron
// in the command layer, so the figure is the rate since the previous INFO).
func (s *Server) opsPerSec(nowMs int64) int64 {
	cmds := s.Stats.CommandsProcessed.Load()
	st := &s.srv
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.sampleMs == 0 {
		st.sampleMs, st.sampleCmds = s.Start.UnixMilli(), 0
	}
	if d := nowMs - st.sampleMs; d >= 100 {
		st.opsPerSec = int64(cmds-st.sampleCmds) * 1000 / d
		st.sampleMs, st.sampleCmds = nowMs, cmds
	}
	return st.opsPerSec
}

// notePeak records m as used memory and returns the peak so far.
func (st *srvState) notePeak(m uint64) uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	if m > st.peakMem {
		st.peakMem = m
	}
	return st.peakMem
}

func (st *srvState) writesAtSave() uint64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.savedWrites
}
