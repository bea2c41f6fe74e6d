package command

// buildTable assembles the command table from the per-group registrations.
// Each group file (strings.go, keys.go, server.go, connection.go, ...) has a
// function returning its commands; add new groups here.
func buildTable() map[string]*Command {
	t := make(map[string]*Command)
	for _, group := range [][]*Command{
		stringCommands(),
		keyCommands(),
		connectionCommands(),
		serverCommands(),
		hashCommands(),
		listCommands(),
		setCommands(),
		zsetCommands(),
		transactionCommands(),
		pubsubCommands(),
		moveCopyCommands(),
		blockingCommands(),
	} {
		for _, c := range group {
			if _, dup := t[c.Name]; dup {
				panic("command: duplicate command " + c.Name)
			}
			meta, ok := redisCommands[c.Name]
			if !ok {
				panic("command: no Redis metadata for " + c.Name)
			}
			applyMeta(c, meta.Info)
			c.docs = meta.Docs
			for _, sub := range c.Subcommands {
				sub.Parent = c
			}
			t[c.Name] = c
		}
	}
	return t
}
