package command

// Stub: replaced by the real group.
func stringCommands() []*Command { return nil }
