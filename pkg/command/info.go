package command

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// INFO [section [section ...]]: Redis 7.0's sections and field names, plus
// a "# ToonStore" section. A bulk string in RESP2, a verbatim "txt" string
// in RESP3, as Redis.

// infoSection is one INFO section: its selector, whether "default" and
// "all" include it ("everything" includes every section), and its writer.
type infoSection struct {
	name      string // lower-case selector
	inDefault bool
	inAll     bool // in "all"; "everything" adds modules' own sections (none)
	gen       func(s *Server, b []byte, e *infoEnv) []byte
}

// infoEnv carries values computed once per INFO call.
type infoEnv struct {
	now     time.Time
	mem     runtime.MemStats
	memRead bool
}

func (e *infoEnv) memStats() *runtime.MemStats {
	if !e.memRead {
		runtime.ReadMemStats(&e.mem)
		e.memRead = true
	}
	return &e.mem
}

// infoSectionTable returns the sections in output order: Redis's, then
// ToonStore's.
func infoSectionTable() []infoSection {
	return []infoSection{
		{"server", true, true, infoServer},
		{"clients", true, true, infoClients},
		{"memory", true, true, infoMemory},
		{"persistence", true, true, infoPersistence},
		{"stats", true, true, infoStats},
		{"replication", true, true, infoReplication},
		{"cpu", true, true, infoCPU},
		{"modules", true, true, func(_ *Server, b []byte, _ *infoEnv) []byte { return append(b, "# Modules\r\n"...) }},
		{"commandstats", false, true, func(_ *Server, b []byte, _ *infoEnv) []byte { return append(b, "# Commandstats\r\n"...) }},
		{"errorstats", true, true, func(_ *Server, b []byte, _ *infoEnv) []byte { return append(b, "# Errorstats\r\n"...) }},
		{"latencystats", false, true, func(_ *Server, b []byte, _ *infoEnv) []byte { return append(b, "# Latencystats\r\n"...) }},
		{"cluster", true, true, func(_ *Server, b []byte, _ *infoEnv) []byte {
			return append(b, "# Cluster\r\ncluster_enabled:0\r\n"...)
		}},
		{"keyspace", true, true, infoKeyspace},
		{"toonstore", true, true, infoToonStore},
	}
}

// Info returns the INFO text for the given section selectors (none means
// "default"), exactly as the INFO command replies it.
func (s *Server) Info(selectors ...string) []byte {
	table := infoSectionTable()
	want := make(map[string]bool)
	all, everything := false, false
	if len(selectors) == 0 {
		selectors = []string{"default"}
	}
	for _, sel := range selectors {
		switch sel = strings.ToLower(sel); sel {
		case "all":
			all = true
		case "everything":
			everything = true
		case "default":
			for _, sec := range table {
				if sec.inDefault {
					want[sec.name] = true
				}
			}
		case "module_list":
			want["modules"] = true
		default:
			want[sel] = true
		}
	}
	e := &infoEnv{now: time.Now()}
	var b []byte
	n := 0
	for _, sec := range table {
		if !(everything || (all && sec.inAll) || want[sec.name]) {
			continue
		}
		if n > 0 {
			b = append(b, "\r\n"...)
		}
		n++
		b = sec.gen(s, b, e)
	}
	return b
}

func infoCmd(x *Ctx) {
	x.S.FlushStats(x.C) // this client's commands so far count
	sel := make([]string, 0, len(x.Args)-1)
	for _, a := range x.Args[1:] {
		sel = append(sel, string(a))
	}
	x.Verbatim(x.S.Info(sel...))
}

// field appends "name:value\r\n".
func field(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = append(b, value...)
	return append(b, '\r', '\n')
}

func fieldInt(b []byte, name string, v int64) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = strconv.AppendInt(b, v, 10)
	return append(b, '\r', '\n')
}

func fieldUint(b []byte, name string, v uint64) []byte {
	b = append(b, name...)
	b = append(b, ':')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '\r', '\n')
}

// bytesToHuman is Redis's bytesToHuman: 1023B, 1.00K, 1.50M, 2.00G, ...
func bytesToHuman(n uint64) string {
	f := func(unit uint64, suffix string) string {
		return strconv.FormatFloat(float64(n)/float64(unit), 'f', 2, 64) + suffix
	}
	switch {
	case n < 1<<10:
		return strconv.FormatUint(n, 10) + "B"
	case n < 1<<20:
		return f(1<<10, "K")
	case n < 1<<30:
		return f(1<<20, "M")
	case n < 1<<40:
		return f(1<<30, "G")
	case n < 1<<50:
		return f(1<<40, "T")
	case n < 1<<60:
		return f(1<<50, "P")
	}
	return strconv.FormatUint(n, 10) + "B"
}

// configValue returns directive name's value, or def if there is no
// registry or the value is empty.
func (s *Server) configValue(name, def string) string {
	if s.Config == nil {
		return def
	}
	if v := s.Config.Value(name); v != "" {
		return v
	}
	return def
}

func infoServer(s *Server, b []byte, e *infoEnv) []byte {
	b = append(b, "# Server\r\n"...)
	b = field(b, "redis_version", RedisVersion)
	b = field(b, "tstd_version", Version)
	b = field(b, "redis_git_sha1", "00000000")
	b = field(b, "redis_git_dirty", "0")
	b = field(b, "redis_build_id", "0")
	b = field(b, "redis_mode", "standalone")
	b = field(b, "os", osName())
	b = fieldInt(b, "arch_bits", strconv.IntSize)
	b = field(b, "monotonic_clock", "POSIX clock_gettime")
	b = field(b, "multiplexing_api", multiplexingAPI())
	b = field(b, "atomicvar_api", "c11-builtin")
	b = field(b, "go_version", runtime.Version())
	b = fieldInt(b, "process_id", int64(os.Getpid()))
	b = field(b, "process_supervised", "no")
	b = field(b, "run_id", s.RunID())
	b = field(b, "tcp_port", s.configValue("port", "0"))
	b = fieldInt(b, "server_time_usec", e.now.UnixMicro())
	up := int64(e.now.Sub(s.Start) / time.Second)
	b = fieldInt(b, "uptime_in_seconds", up)
	b = fieldInt(b, "uptime_in_days", up/86400)
	hz := s.configValue("hz", "10")
	b = field(b, "hz", hz)
	b = field(b, "configured_hz", hz)
	b = fieldInt(b, "lru_clock", e.now.Unix()&(1<<24-1))
	exe, _ := os.Executable()
	b = field(b, "executable", exe)
	cf := ""
	if rw, ok := s.Config.(ConfigRewriter); ok {
		cf = rw.ConfigFile()
	}
	b = field(b, "config_file", cf)
	b = field(b, "io_threads_active", "0")
	return b
}

func infoClients(s *Server, b []byte, e *infoEnv) []byte {
	var maxIn, maxOut int64
	for _, c := range s.Clients.Snapshot() {
		maxIn = max(maxIn, c.QueryBuf.Load())
		maxOut = max(maxOut, c.OutBuf.Load())
	}
	b = append(b, "# Clients\r\n"...)
	b = fieldInt(b, "connected_clients", s.Stats.ConnectedClients.Load())
	b = field(b, "cluster_connections", "0")
	b = field(b, "maxclients", s.configValue("maxclients", "10000"))
	b = fieldInt(b, "client_recent_max_input_buffer", maxIn)
	b = fieldInt(b, "client_recent_max_output_buffer", maxOut)
	blocked, inTimeout := s.blockedCounts()
	b = fieldInt(b, "blocked_clients", int64(blocked))
	b = field(b, "tracking_clients", "0")
	b = fieldInt(b, "clients_in_timeout_table", int64(inTimeout))
	return b
}

func infoMemory(s *Server, b []byte, e *infoEnv) []byte {
	ms := e.memStats()
	used := ms.Alloc
	peak := s.srv.notePeak(used)
	rss := residentBytes()
	if rss == 0 {
		rss = ms.Sys
	}
	b = append(b, "# Memory\r\n"...)
	b = fieldUint(b, "used_memory", used)
	b = field(b, "used_memory_human", bytesToHuman(used))
	b = fieldUint(b, "used_memory_rss", rss)
	b = field(b, "used_memory_rss_human", bytesToHuman(rss))
	b = fieldUint(b, "used_memory_peak", peak)
	b = field(b, "used_memory_peak_human", bytesToHuman(peak))
	b = field(b, "used_memory_peak_perc", strconv.FormatFloat(float64(used)*100/float64(max(peak, 1)), 'f', 2, 64)+"%")
	total := totalSystemMemory()
	b = fieldUint(b, "total_system_memory", total)
	b = field(b, "total_system_memory_human", bytesToHuman(total))
	maxmem, _ := strconv.ParseUint(s.configValue("maxmemory", "0"), 10, 64)
	b = fieldUint(b, "maxmemory", maxmem)
	b = field(b, "maxmemory_human", bytesToHuman(maxmem))
	b = field(b, "maxmemory_policy", s.configValue("maxmemory-policy", "noeviction"))
	b = field(b, "mem_fragmentation_ratio", strconv.FormatFloat(float64(rss)/float64(max(used, 1)), 'f', 2, 64))
	b = field(b, "mem_allocator", "go-"+runtime.Version())
	b = fieldUint(b, "go_heap_sys", ms.HeapSys)
	b = fieldUint(b, "go_num_gc", uint64(ms.NumGC))
	b = field(b, "lazyfree_pending_objects", "0")
	return b
}

func infoPersistence(s *Server, b []byte, e *infoEnv) []byte {
	var writes, rewrites uint64
	var disk int64
	writeStatus := "ok"
	rewriting := "0"
	if c := s.readyCache(); c != nil {
		st := c.Store().Stats()
		writes, disk, rewrites = st.Writes, st.DiskBytes, st.Compactions
		if st.LastSyncError != nil {
			writeStatus = "err"
		}
		if st.Compacting {
			rewriting = "1" // BGREWRITEAOF is the store's compaction
		}
	}
	changes := writes - min(writes, s.srv.writesAtSave())
	b = append(b, "# Persistence\r\n"...)
	loading := s.Loading()
	if loading {
		b = field(b, "loading", "1")
	} else {
		b = field(b, "loading", "0")
	}
	b = field(b, "async_loading", "0")
	b = fieldUint(b, "rdb_changes_since_last_save", changes)
	saving, saveStatus, lastSecs, curSecs := s.srv.saveInfo(time.Now())
	b = fieldInt(b, "rdb_bgsave_in_progress", int64(saving))
	b = fieldInt(b, "rdb_last_save_time", s.lastSave.Load())
	b = field(b, "rdb_last_bgsave_status", saveStatus)
	b = fieldInt(b, "rdb_last_bgsave_time_sec", lastSecs)
	b = fieldInt(b, "rdb_current_bgsave_time_sec", curSecs)
	b = field(b, "aof_enabled", "1")
	b = field(b, "aof_rewrite_in_progress", rewriting)
	b = field(b, "aof_rewrite_scheduled", "0")
	b = field(b, "aof_last_rewrite_time_sec", "-1")
	b = field(b, "aof_current_rewrite_time_sec", "-1")
	b = field(b, "aof_last_bgrewrite_status", "ok")
	b = fieldUint(b, "aof_rewrites", rewrites)
	b = field(b, "aof_last_write_status", writeStatus)
	b = fieldInt(b, "aof_current_size", disk)
	if loading {
		b = s.infoLoading(b, e.now)
	}
	return b
}

func infoStats(s *Server, b []byte, e *infoEnv) []byte {
	st := &s.Stats
	var expired uint64
	if c := s.readyCache(); c != nil {
		expired = c.Stats().ExpiredKeys
	}
	b = append(b, "# Stats\r\n"...)
	b = fieldUint(b, "total_connections_received", st.ConnectionsReceived.Load())
	b = fieldUint(b, "total_commands_processed", st.CommandsProcessed.Load())
	b = fieldInt(b, "instantaneous_ops_per_sec", s.opsPerSec(e.now.UnixMilli()))
	b = fieldUint(b, "total_net_input_bytes", st.NetInputBytes.Load())
	b = fieldUint(b, "total_net_output_bytes", st.NetOutputBytes.Load())
	b = field(b, "total_net_repl_input_bytes", "0")
	b = field(b, "total_net_repl_output_bytes", "0")
	b = fieldUint(b, "rejected_connections", st.RejectedConnections.Load())
	b = field(b, "sync_full", "0")
	b = field(b, "sync_partial_ok", "0")
	b = field(b, "sync_partial_err", "0")
	b = fieldUint(b, "expired_keys", expired)
	b = field(b, "expired_stale_perc", "0.00")
	b = field(b, "expired_time_cap_reached_count", "0")
	// Cache evictions drop decoded copies only (the store keeps the data),
	// so no key is ever evicted in Redis's sense; see # ToonStore.
	b = field(b, "evicted_keys", "0")
	b = field(b, "evicted_clients", "0")
	b = fieldUint(b, "keyspace_hits", st.KeyspaceHits.Load())
	b = fieldUint(b, "keyspace_misses", st.KeyspaceMisses.Load())
	chans, pats, shard := s.pubsubCounts()
	b = fieldInt(b, "pubsub_channels", int64(chans))
	b = fieldInt(b, "pubsub_patterns", int64(pats))
	b = fieldInt(b, "pubsubshard_channels", int64(shard))
	b = field(b, "latest_fork_usec", "0")
	b = field(b, "total_forks", "0")
	return b
}

func infoReplication(s *Server, b []byte, e *infoEnv) []byte {
	_, replID := s.srv.ids()
	b = append(b, "# Replication\r\n"...)
	b = field(b, "role", "master")
	b = field(b, "connected_slaves", "0")
	b = field(b, "master_failover_state", "no-failover")
	b = field(b, "master_replid", replID)
	b = field(b, "master_replid2", "0000000000000000000000000000000000000000")
	b = field(b, "master_repl_offset", "0")
	b = field(b, "second_repl_offset", "-1")
	b = field(b, "repl_backlog_active", "0")
	b = field(b, "repl_backlog_size", "1048576")
	b = field(b, "repl_backlog_first_byte_offset", "0")
	b = field(b, "repl_backlog_histlen", "0")
	return b
}

// cpuSeconds formats a CPU time as Redis's "%ld.%06ld".
func cpuSeconds(d time.Duration) string {
	us := d.Microseconds()
	frac := strconv.FormatInt(us%1000000, 10)
	return strconv.FormatInt(us/1000000, 10) + "." + strings.Repeat("0", 6-len(frac)) + frac
}

func infoCPU(s *Server, b []byte, e *infoEnv) []byte {
	sys, user, csys, cuser := cpuTimes()
	b = append(b, "# CPU\r\n"...)
	b = field(b, "used_cpu_sys", cpuSeconds(sys))
	b = field(b, "used_cpu_user", cpuSeconds(user))
	b = field(b, "used_cpu_sys_children", cpuSeconds(csys))
	b = field(b, "used_cpu_user_children", cpuSeconds(cuser))
	return b
}

func infoKeyspace(s *Server, b []byte, e *infoEnv) []byte {
	b = append(b, "# Keyspace\r\n"...)
	c := s.readyCache()
	if c == nil {
		return b
	}
	for db := 0; db < c.Databases(); db++ {
		keys := c.DBSize(db)
		if keys == 0 {
			continue
		}
		b = append(b, "db"...)
		b = strconv.AppendInt(b, int64(db), 10)
		b = append(b, ":keys="...)
		b = strconv.AppendInt(b, int64(keys), 10)
		b = append(b, ",expires="...)
		b = strconv.AppendInt(b, int64(c.Expires(db)), 10)
		b = append(b, ",avg_ttl=0\r\n"...)
	}
	return b
}

// infoToonStore is ToonStore's own section: the cache (ToonCache) and the
// storage engine (ToonStore) counters.
func infoToonStore(s *Server, b []byte, e *infoEnv) []byte {
	b = append(b, "# ToonStore\r\n"...)
	c := s.readyCache()
	if c == nil {
		return b
	}
	cs := c.Stats()
	b = fieldInt(b, "cache_entries", int64(cs.Entries))
	b = fieldInt(b, "cache_shards", int64(c.Shards()))
	b = fieldUint(b, "cache_hits", cs.Hits)
	b = fieldUint(b, "cache_misses", cs.Misses)
	b = fieldUint(b, "cache_inserts", cs.Inserts)
	b = fieldUint(b, "cache_evictions", cs.Evictions)
	st := c.Store().Stats()
	b = fieldInt(b, "store_keys", st.Keys)
	b = fieldInt(b, "store_segments", int64(st.Segments))
	b = fieldInt(b, "store_disk_bytes", st.DiskBytes)
	b = fieldInt(b, "store_live_bytes", st.LiveBytes)
	b = fieldUint(b, "store_writes", st.Writes)
	b = fieldUint(b, "store_syncs", st.Syncs)
	b = fieldInt(b, "store_recovered_keys", st.Recovered)
	b = fieldInt(b, "store_truncated_tail_bytes", st.TruncatedTail)
	b = fieldInt(b, "store_compacting", boolInt(st.Compacting))
	b = fieldInt(b, "store_compact_done_bytes", st.CompactDone)
	b = fieldInt(b, "store_compact_total_bytes", st.CompactTotal)
	b = fieldUint(b, "store_compactions", st.Compactions)
	b = fieldInt(b, "store_reclaimed_bytes", st.Reclaimed)
	b = fieldUint(b, "store_snapshots", st.Snapshots)
	b = fieldInt(b, "store_loaded_snapshot", boolInt(st.LoadedSnapshot))
	b = field(b, "appendfsync", s.configValue("appendfsync", "everysec"))
	return b
}

func boolInt(v bool) int64 {
	if v {
		return 1
	}
	return 0
}
