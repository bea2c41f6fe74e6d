package command

// HAND-WRITTEN, NOT GENERATED. This file holds command metadata that Redis
// 7.0.15 lacks, so internal/cmdgen cannot produce it. Each entry copies the
// COMMAND INFO and COMMAND DOCS of the Redis version that introduced the
// command (src/commands/*.json there), in the node form of
// zz_redis_commands.go. Keep entries few and cite their source.

// extraSubcommandMeta returns the metadata of a subcommand that Redis 7.0
// does not have, by full name ("client|setinfo"). applyMeta consults it
// when the generated container entry does not list the subcommand.
func extraSubcommandMeta(full string) (commandMeta, bool) {
	switch full {
	case "client|setinfo":
		// Redis 7.2.0 src/commands/client-setinfo.json: arity 4, flags
		// NOSCRIPT LOADING STALE (SENTINEL is not reported), ACL category
		// CONNECTION (+@slow, as the command is not FAST), no tips, no keys.
		return commandMeta{
			Info: A(B("client|setinfo"), I(4), Set(S("noscript"), S("loading"), S("stale")), I(0), I(0), I(0),
				Set(S("@slow"), S("@connection")), Set(), Set(), Set()),
			Docs: M(B("summary"), B("Sets information specific to the client or connection."),
				B("since"), B("7.2.0"), B("group"), B("connection"), B("complexity"), B("O(1)"),
				B("arguments"), A(M(B("name"), B("attr"), B("type"), B("oneof"), B("arguments"), A(
					M(B("name"), B("libname"), B("type"), B("string"), B("token"), B("lib-name")),
					M(B("name"), B("libver"), B("type"), B("string"), B("token"), B("lib-ver")))))),
		}, true
	}
	return commandMeta{}, false
}
