package command

// Stub: replaced by the real group.
func serverCommands() []*Command { return nil }
