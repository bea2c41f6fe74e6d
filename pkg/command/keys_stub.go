package command

// Stub: replaced by the real group.
func keyCommands() []*Command { return nil }
