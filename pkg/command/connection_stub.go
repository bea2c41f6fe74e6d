package command

// Stub: replaced by the real group.
func connectionCommands() []*Command { return nil }
