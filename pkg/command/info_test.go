package command

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// infoSectionsOf returns the section headers of an INFO text, in order.
func infoSectionsOf(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\r\n") {
		if strings.HasPrefix(l, "# ") {
			out = append(out, strings.ToLower(l[2:]))
		}
	}
	return out
}

// infoFields parses "name:value" lines.
func infoFields(text string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(text, "\r\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, "#") {
			m[k] = v
		}
	}
	return m
}

func TestInfoSections(t *testing.T) {
	s, _ := newConnServer(t, nil)
	def := "server clients memory persistence stats replication cpu modules errorstats cluster keyspace toonstore"
	all := "server clients memory persistence stats replication cpu modules commandstats errorstats latencystats cluster keyspace toonstore"
	every := all
	cases := []struct {
		sel  []string
		want string
	}{
		{nil, def},
		{[]string{"default"}, def},
		{[]string{"DEFAULT"}, def},
		{[]string{"all"}, all},
		{[]string{"everything"}, every},
		{[]string{"server"}, "server"},
		{[]string{"keyspace", "Server"}, "server keyspace"},
		{[]string{"commandstats"}, "commandstats"},
		{[]string{"all", "modules"}, every},
		{[]string{"cpu", "nosuch"}, "cpu"},
		{[]string{"nosuch"}, ""},
		{[]string{"toonstore"}, "toonstore"},
	}
	for _, tc := range cases {
		got := strings.Join(infoSectionsOf(string(s.Info(tc.sel...))), " ")
		if got != tc.want {
			t.Errorf("INFO %v: sections %q, want %q", tc.sel, got, tc.want)
		}
	}
}

func TestInfoFormat(t *testing.T) {
	s, cl := newConnServer(t, newFakeConfig("port", "6390", "maxmemory", "1048576", "hz", "15"))
	// Redis's framing: CRLF lines, one blank line between sections, none at
	// the end; RESP2 bulk, RESP3 verbatim txt.
	r := do(t, s, cl, "info", "cpu", "cluster")
	body := bulkBody(t, r)
	if !regexp.MustCompile(`^# CPU\r\nused_cpu_sys:\d+\.\d{6}\r\nused_cpu_user:\d+\.\d{6}\r\nused_cpu_sys_children:\d+\.\d{6}\r\nused_cpu_user_children:\d+\.\d{6}\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n$`).MatchString(body) {
		t.Fatalf("INFO cpu cluster = %q", body)
	}
	require_Equal(t, do(t, s, cl, "info", "nosuch"), "$0\r\n\r\n")
	cl.Proto = 3
	require_Equal(t, do(t, s, cl, "info", "nosuch"), "=4\r\ntxt:\r\n")
	require_Equal(t, do(t, s, cl, "info", "cluster"), "=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n")

	f := infoFields(string(s.Info("everything")))
	for k, re := range map[string]string{
		"redis_version":               `^7\.0\.15$`,
		"tstd_version":                `^` + regexp.QuoteMeta(Version) + `$`,
		"redis_mode":                  `^standalone$`,
		"arch_bits":                   `^(32|64)$`,
		"process_id":                  `^[1-9]\d*$`,
		"run_id":                      `^[0-9a-f]{40}$`,
		"master_replid":               `^[0-9a-f]{40}$`,
		"tcp_port":                    `^6390$`,
		"hz":                          `^15$`,
		"uptime_in_seconds":           `^\d+$`,
		"uptime_in_days":              `^0$`,
		"used_memory":                 `^[1-9]\d*$`,
		"used_memory_human":           `^\d+\.\d\dM$|^\d+\.\d\dK$`,
		"maxmemory":                   `^1048576$`,
		"maxmemory_human":             `^1\.00M$`,
		"maxmemory_policy":            `^noeviction$`,
		"loading":                     `^0$`,
		"aof_enabled":                 `^1$`,
		"rdb_last_save_time":          `^[1-9]\d*$`,
		"total_commands_processed":    `^\d+$`,
		"instantaneous_ops_per_sec":   `^\d+$`,
		"keyspace_hits":               `^0$`,
		"role":                        `^master$`,
		"connected_slaves":            `^0$`,
		"connected_clients":           `^0$`,
		"cluster_enabled":             `^0$`,
		"used_cpu_user":               `^\d+\.\d{6}$`,
		"rdb_changes_since_last_save": `^0$`,
	} {
		if !regexp.MustCompile(re).MatchString(f[k]) {
			t.Errorf("INFO %s = %q, want match %s", k, f[k], re)
		}
	}
	require_Equal(t, f["run_id"], s.RunID())
	require_Equal(t, f["run_id"] != f["master_replid"], true)
	s2, _ := newConnServer(t, nil)
	require_Equal(t, s2.RunID() != s.RunID(), true)
}

func TestInfoKeyspace(t *testing.T) {
	s := newTestServer(t, nil)
	cl := s.NewClient()
	require_Equal(t, string(s.Info("keyspace")), "# Keyspace\r\n")
	do(t, s, cl, "set", "a", "1")
	do(t, s, cl, "set", "b", "2", "EX", "100")
	do(t, s, cl, "select", "3")
	do(t, s, cl, "set", "c", "3")
	require_Equal(t, string(s.Info("keyspace")), "# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n")

	f := infoFields(string(s.Info("toonstore", "persistence")))
	for _, k := range []string{"cache_entries", "cache_shards", "cache_hits", "cache_misses", "cache_inserts",
		"cache_evictions", "store_keys", "store_segments", "store_disk_bytes", "store_live_bytes", "store_writes"} {
		if _, err := strconv.ParseUint(f[k], 10, 64); err != nil {
			t.Errorf("INFO toonstore %s = %q", k, f[k])
		}
	}
	require_Equal(t, f["store_keys"], "3")
	require_Equal(t, f["rdb_changes_since_last_save"], f["store_writes"])
	s.NoteSave(s.Start)
	require_Equal(t, infoFields(string(s.Info("persistence")))["rdb_changes_since_last_save"], "0")
}

func TestBytesToHuman(t *testing.T) {
	for n, want := range map[uint64]string{
		0: "0B", 1023: "1023B", 1024: "1.00K", 1536: "1.50K", 1 << 20: "1.00M",
		1559592: "1.49M", 25276026880: "23.54G", 1 << 40: "1.00T", 1 << 50: "1.00P", 1 << 60: "1152921504606846976B",
	} {
		require_Equal(t, bytesToHuman(n), want)
	}
}

// TestInfoSectionsDifferential compares the section headers INFO selects
// with redis-server 7.0's (ToonStore's own section aside).
func TestInfoSectionsDifferential(t *testing.T) {
	r := startSrvRedis(t)
	s, cl := newConnServer(t, nil)
	for _, sel := range []string{"", "default", "all", "everything", "server keyspace", "KEYSPACE server",
		"modules", "module_list", "commandstats", "latencystats errorstats", "cpu nosuch", "all default", "nosuch"} {
		args := []string{"info"}
		if sel != "" {
			args = append(args, strings.Split(sel, " ")...)
		}
		var got []string
		for _, h := range infoSectionsOf(bulkBody(t, do(t, s, cl, args...))) {
			if h != "toonstore" {
				got = append(got, h)
			}
		}
		want := infoSectionsOf(bulkBody(t, redisDo(t, r, args...)))
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("INFO %s: sections %q, want %q", sel, got, want)
		}
	}
}

// TestInfoFieldNamesDifferential checks that every field INFO prints in a
// Redis section is one Redis 7.0 prints there too, apart from the listed
// ToonStore additions.
func TestInfoFieldNamesDifferential(t *testing.T) {
	r := startSrvRedis(t, "--appendonly", "yes")
	s, cl := newConnServer(t, nil)
	extra := map[string]bool{"tstd_version": true, "go_version": true, "go_heap_sys": true, "go_num_gc": true}
	redisFields := map[string]string{} // name -> section
	section := ""
	for _, l := range strings.Split(bulkBody(t, redisDo(t, r, "info", "everything")), "\r\n") {
		if strings.HasPrefix(l, "# ") {
			section = l
		} else if k, _, ok := strings.Cut(l, ":"); ok {
			redisFields[k] = section
		}
	}
	section = ""
	for _, l := range strings.Split(bulkBody(t, do(t, s, cl, "info", "everything")), "\r\n") {
		if strings.HasPrefix(l, "# ") {
			section = l
			continue
		}
		k, _, ok := strings.Cut(l, ":")
		if !ok || section == "# ToonStore" || extra[k] {
			continue
		}
		if redisFields[k] != section {
			t.Errorf("INFO field %s in %q: Redis has it in %q", k, section, redisFields[k])
		}
	}
}
