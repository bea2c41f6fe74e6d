package command

// The CONFIG container: GET, SET, RESETSTAT, REWRITE, HELP, over the
// Server.Config registry.

func configCommand() *Command {
	return &Command{Name: "config", Subcommands: map[string]*Command{
		"get":       {Run: configGet},
		"set":       {Run: configSet},
		"resetstat": {Run: configResetStat},
		"rewrite":   {Run: configRewrite},
		"help":      {Run: configHelp},
	}}
}

// ConfigRewriter is implemented by a Config that knows the file it was
// loaded from. CONFIG REWRITE and INFO's config_file use it when the
// Server's Config implements it.
type ConfigRewriter interface {
	// ConfigFile returns the absolute path of the configuration file, or ""
	// when the server runs without one.
	ConfigFile() string
	// Rewrite rewrites the configuration file with the current values. Its
	// error text is Redis's, without the leading "ERR ".
	Rewrite() error
}

// CONFIG GET parameter [parameter ...]: name/value pairs of every directive
// matching any pattern, each name once (a map in RESP3).
func configGet(x *Ctx) {
	var pairs [][2]string
	if x.S.Config != nil {
		seen := map[string]bool{}
		for _, pat := range x.Args[2:] {
			for _, kv := range x.S.Config.Get(string(pat)) {
				if !seen[kv[0]] {
					seen[kv[0]] = true
					pairs = append(pairs, kv)
				}
			}
		}
	}
	x.Map(len(pairs))
	for _, kv := range pairs {
		x.BulkString(kv[0])
		x.BulkString(kv[1])
	}
}

// CONFIG SET parameter value [parameter value ...]: applied atomically by
// the registry; its error becomes "ERR " + text.
func configSet(x *Ctx) {
	if len(x.Args)%2 != 0 {
		x.ErrSyntax()
		return
	}
	if x.S.Config == nil {
		x.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + cString(x.Args[2]) + "'")
		return
	}
	pairs := make([][2]string, 0, (len(x.Args)-2)/2)
	for i := 2; i+1 < len(x.Args); i += 2 {
		pairs = append(pairs, [2]string{string(x.Args[i]), string(x.Args[i+1])})
	}
	if err := x.S.Config.Set(pairs); err != nil {
		x.Error("ERR " + err.Error())
		return
	}
	x.OK()
}

// ResetStats zeroes the INFO counters (CONFIG RESETSTAT): the server's
// Stats except the connected-clients gauge, and the cache's counters.
func (s *Server) ResetStats() {
	st := &s.Stats
	st.ConnectionsReceived.Store(0)
	st.RejectedConnections.Store(0)
	st.CommandsProcessed.Store(0)
	st.NetInputBytes.Store(0)
	st.NetOutputBytes.Store(0)
	st.KeyspaceHits.Store(0)
	st.KeyspaceMisses.Store(0)
	if c := s.readyCache(); c != nil {
		c.ResetStats()
	}
	s.srv.mu.Lock()
	s.srv.sampleMs, s.srv.sampleCmds, s.srv.opsPerSec = 0, 0, 0
	s.srv.peakMem = 0
	s.srv.mu.Unlock()
}

// CONFIG RESETSTAT.
func configResetStat(x *Ctx) {
	x.S.FlushStats(x.C) // reset this client's pending counts too
	x.S.ResetStats()
	x.OK()
}

// CONFIG REWRITE: needs a Config loaded from a file (ConfigRewriter).
func configRewrite(x *Ctx) {
	rw, ok := x.S.Config.(ConfigRewriter)
	if !ok || rw.ConfigFile() == "" {
		x.Error("ERR The server is running without a config file")
		return
	}
	if err := rw.Rewrite(); err != nil {
		x.Error("ERR " + err.Error())
		return
	}
	x.OK()
}

// configHelpLines returns Redis 7.0's CONFIG HELP text.
func configHelpLines() []string {
	return []string{
		"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
		"HELP",
		"    Prints this help.",
	}
}

func configHelp(x *Ctx) { helpReply(x, configHelpLines()) }
