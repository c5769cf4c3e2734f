/// The commands the admin CLI knows: syntax, help text and how many arguments each takes.
struct AdminCommandSpec: Sendable {
    let name: String
    let syntax: String
    let help: String
    let minArguments: Int
    let maxArguments: Int

    static let all: [AdminCommandSpec] = [
        AdminCommandSpec(name: "help", syntax: "help [<command>]", help: "Show command/protocol help.", minArguments: 0, maxArguments: 1),
        AdminCommandSpec(name: "ping", syntax: "ping [<timestamp>]", help: "Keep connection alive.", minArguments: 0, maxArguments: 1),
        AdminCommandSpec(name: "auth", syntax: "auth <response>", help: "Authenticate.", minArguments: 1, maxArguments: 1),
        AdminCommandSpec(name: "quit", syntax: "quit", help: "Close connection.", minArguments: 0, maxArguments: 0),
        AdminCommandSpec(name: "banner", syntax: "banner", help: "Print welcome banner.", minArguments: 0, maxArguments: 0),
        AdminCommandSpec(name: "status", syntax: "status [-j]", help: "Check status of the cache process.", minArguments: 0, maxArguments: 1),
        AdminCommandSpec(name: "vcl.load", syntax: "vcl.load <configname> <filename>",
                         help: "Compile and load the VCL file under the name provided.", minArguments: 2, maxArguments: 2),
        AdminCommandSpec(name: "vcl.use", syntax: "vcl.use <configname>",
                         help: "Switch to the named configuration immediately; requests in flight finish on the one they started with.",
                         minArguments: 1, maxArguments: 1),
        AdminCommandSpec(name: "vcl.discard", syntax: "vcl.discard <configname>",
                         help: "Unload the named configuration (it must not be active).", minArguments: 1, maxArguments: 1),
        AdminCommandSpec(name: "vcl.list", syntax: "vcl.list", help: "List all loaded configurations.", minArguments: 0, maxArguments: 0),
        AdminCommandSpec(name: "ban", syntax: "ban <field> <operator> <arg> [&& <field> <oper> <arg> ...]",
                         help: "Ban the objects stored before now that match the expression (req.url, req.http.*, obj.status, obj.http.*, obj.ttl/age/grace/keep): each goes when a lookup finds it.",
                         minArguments: 3, maxArguments: Int.max),
        AdminCommandSpec(name: "debug.xid", syntax: "debug.xid [<xid> [<chunk>]]",
                         help: "Restart transaction ids after <xid>, handed out <chunk> at a time (1 by default).",
                         minArguments: 0, maxArguments: 2),
        AdminCommandSpec(name: "stat", syntax: "stat",
                         help: "Every counter, one 'NAME VALUE' line each (what shellac stat reads; not in varnishd).",
                         minArguments: 0, maxArguments: 0),
        AdminCommandSpec(name: "param.show", syntax: "param.show [-l] [<param>]",
                         help: "Show parameters and their values.", minArguments: 0, maxArguments: 2),
        AdminCommandSpec(name: "param.set", syntax: "param.set <param> <value>",
                         help: "Set a parameter value: new requests, fetches and objects use it at once.",
                         minArguments: 2, maxArguments: 2),
        AdminCommandSpec(name: "log.read", syntax: "log.read [<cursor> [<limit>]]",
                         help: "Transaction log records from the cursor on (0: the oldest kept; none: from now), after a line 'next <cursor> missed <count>'. What shellac log polls.",
                         minArguments: 0, maxArguments: 2),
        AdminCommandSpec(name: "ban.list", syntax: "ban.list", help: "List the active bans.", minArguments: 0, maxArguments: 1),
        AdminCommandSpec(name: "backend.list", syntax: "backend.list [-j] [-p] [<backend_pattern>]",
                         help: "List backends (-p: with their probes' history).", minArguments: 0, maxArguments: 3),
        AdminCommandSpec(name: "backend.set_health", syntax: "backend.set_health <backend_pattern> [auto|healthy|sick]",
                         help: "Set the health of the matching backends: forced healthy or sick, or auto (its probe decides).",
                         minArguments: 2, maxArguments: 2),
        AdminCommandSpec(name: "vcl.inline", syntax: "vcl.inline <configname> <quoted_VCLstring> [auto|cold|warm]",
                         help: "Compile and load the VCL given inline under the name provided.", minArguments: 2, maxArguments: 3),
        AdminCommandSpec(name: "vcl.show", syntax: "vcl.show [-v] <configname>",
                         help: "Show the text of the named VCL (-v: with the built-in VCL).", minArguments: 1, maxArguments: 2),
        AdminCommandSpec(name: "param.reset", syntax: "param.reset <param>", help: "Reset a parameter to its default.",
                         minArguments: 1, maxArguments: 1),
        AdminCommandSpec(name: "xkey.purge", syntax: "xkey.purge [-s] <key> ...",
                         help: "Purge the objects tagged with these surrogate keys (xkey or Surrogate-Key headers); -s: soft, kept for grace.",
                         minArguments: 1, maxArguments: 64),
        AdminCommandSpec(name: "storage.list", syntax: "storage.list", help: "List the storage devices.", minArguments: 0, maxArguments: 1),
        AdminCommandSpec(name: "panic.show", syntax: "panic.show", help: "Show the last panic, if any.", minArguments: 0, maxArguments: 1),
        AdminCommandSpec(name: "panic.clear", syntax: "panic.clear [-z]", help: "Clear the last panic, if any.", minArguments: 0, maxArguments: 1),
        AdminCommandSpec(name: "start", syntax: "start", help: "Start the cache process (it always runs).", minArguments: 0, maxArguments: 0),
        AdminCommandSpec(name: "stop", syntax: "stop", help: "Stop the cache process (refused: Shellac has one process).", minArguments: 0, maxArguments: 0),
    ]

    static func named(_ name: String) -> AdminCommandSpec? { all.first { $0.name == name } }
}
