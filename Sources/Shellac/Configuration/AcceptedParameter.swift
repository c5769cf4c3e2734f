/// The varnishd 7.1 parameters Shellac accepts without acting on them (thread pools,
/// workspaces, HTTP/2 windows, …), so that a varnishd start script or `param.set` runs
/// unchanged. Their values are checked as varnishd checks their kind, kept, and shown by
/// `param.show`, marked as having no effect. The parameters Shellac acts on are
/// `Parameters.table`. The descriptions are ours.
struct AcceptedParameter: Sendable {
    enum Kind: Sendable {
        case bool
        case duration
        case bytes
        case number
        /// `+name,-name` flag lists (`feature`, `debug`, `vsl_mask`, `experimental`).
        case flags
        /// `min,max,age` memory pool settings.
        case triple
        case text
    }

    let name: String
    let kind: Kind
    let defaultValue: String
    let unit: String
    let help: String

    init(_ name: String, _ kind: Kind, default defaultValue: String, unit: String, help: String) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.unit = unit
        self.help = help
    }

    /// The value as it is kept, or nil when varnishd would refuse it.
    func normalized(_ value: String) -> String? {
        let text = String(value.trimmingASCIISpaces())
        switch kind {
        case .bool:
            switch text.lowercased() {
            case "on", "true", "yes", "enable": return "on"
            case "off", "false", "no", "disable": return "off"
            default: return nil
            }
        case .duration: return Parameters.parseDuration(text) != nil ? text : nil
        case .bytes: return Parameters.parseBytes(text) != nil ? text : nil
        case .number:
            if text == "unlimited" && name == "thread_pool_max" { return text }
            return Double(text).map { $0 >= 0 } == true ? text : nil
        case .flags:
            let items = text.split(separator: ",", omittingEmptySubsequences: false)
            let valid = items.allSatisfy { item in
                let name = item.drop { $0 == "+" || $0 == "-" }
                return !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            }
            return valid ? text : nil
        case .triple:
            let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            return parts.count == 3 && parts.allSatisfy({ Double($0) != nil }) ? text : nil
        case .text:
            return text
        }
    }

    static let all: [AcceptedParameter] = [
        AcceptedParameter("accept_filter", .bool, default: "on", unit: "", help: "kernel accept filters"),
        AcceptedParameter("acceptor_sleep_decay", .number, default: "0.9", unit: "", help: "how fast the acceptor's back-off shrinks"),
        AcceptedParameter("acceptor_sleep_incr", .duration, default: "0.000", unit: "seconds", help: "back-off step of the acceptor when out of resources"),
        AcceptedParameter("acceptor_sleep_max", .duration, default: "0.050", unit: "seconds", help: "longest back-off of the acceptor"),
        AcceptedParameter("auto_restart", .bool, default: "on", unit: "", help: "restart the child process when it dies"),
        AcceptedParameter("backend_idle_timeout", .duration, default: "60.000", unit: "seconds", help: "how long an idle backend connection is kept"),
        AcceptedParameter("backend_local_error_holddown", .duration, default: "10.000", unit: "seconds", help: "pause after a local error connecting to a backend"),
        AcceptedParameter("backend_remote_error_holddown", .duration, default: "0.250", unit: "seconds", help: "pause after a backend refused a connection"),
        AcceptedParameter("ban_cutoff", .number, default: "0", unit: "bans", help: "most bans kept before old ones are cut"),
        AcceptedParameter("ban_dups", .bool, default: "on", unit: "", help: "drop older identical bans"),
        AcceptedParameter("ban_lurker_age", .duration, default: "60.000", unit: "seconds", help: "age a ban must reach before the lurker tests it"),
        AcceptedParameter("ban_lurker_batch", .number, default: "1000", unit: "", help: "objects the lurker tests before it sleeps"),
        AcceptedParameter("ban_lurker_holdoff", .duration, default: "0.010", unit: "seconds", help: "lurker pause when the ban list is contended"),
        AcceptedParameter("ban_lurker_sleep", .duration, default: "0.010", unit: "seconds", help: "lurker sleep between batches"),
        AcceptedParameter("cc_command", .text, default: "exec $CC $CFLAGS %w -shared -o %o %s", unit: "", help: "C compiler command for VCL (Shellac compiles VCL itself)"),
        AcceptedParameter("cc_warnings", .text, default: "-Wall -Werror", unit: "", help: "C compiler warnings for VCL (Shellac compiles VCL itself)"),
        AcceptedParameter("cli_limit", .bytes, default: "48k", unit: "bytes", help: "largest CLI answer"),
        AcceptedParameter("cli_timeout", .duration, default: "60.000", unit: "seconds", help: "time the manager waits for the child on the CLI"),
        AcceptedParameter("clock_skew", .duration, default: "10", unit: "seconds", help: "largest clock difference tolerated"),
        AcceptedParameter("clock_step", .duration, default: "1.000", unit: "seconds", help: "largest clock step tolerated"),
        AcceptedParameter("critbit_cooloff", .duration, default: "180.000", unit: "seconds", help: "critbit hasher cool-off"),
        AcceptedParameter("debug", .flags, default: "none", unit: "", help: "debug flags (+name,-name)"),
        AcceptedParameter("experimental", .flags, default: "none", unit: "", help: "experimental flags (+name,-name)"),
        AcceptedParameter("feature", .flags, default: "+validate_headers", unit: "", help: "feature flags (+name,-name)"),
        AcceptedParameter("esi_iovs", .number, default: "10", unit: "struct iovec", help: "io vectors per ESI delivery (Varnish 7.3's; Shellac writes the stored buffers as they are)"),
        AcceptedParameter("fetch_chunksize", .bytes, default: "16k", unit: "bytes", help: "storage chunk size for a fetch without a length"),
        AcceptedParameter("fetch_maxchunksize", .bytes, default: "0.25G", unit: "bytes", help: "largest storage chunk of a fetch"),
        AcceptedParameter("gzip_buffer", .bytes, default: "32k", unit: "bytes", help: "gzip buffer size"),
        AcceptedParameter("gzip_level", .number, default: "6", unit: "", help: "gzip compression level"),
        AcceptedParameter("gzip_memlevel", .number, default: "8", unit: "", help: "gzip memory level"),
        AcceptedParameter("h2_header_table_size", .bytes, default: "4k", unit: "bytes", help: "HTTP/2 header table size"),
        AcceptedParameter("h2_initial_window_size", .bytes, default: "65535b", unit: "bytes", help: "HTTP/2 initial window"),
        AcceptedParameter("h2_max_concurrent_streams", .number, default: "100", unit: "streams", help: "HTTP/2 concurrent streams"),
        AcceptedParameter("h2_max_frame_size", .bytes, default: "16k", unit: "bytes", help: "HTTP/2 largest frame"),
        AcceptedParameter("h2_max_header_list_size", .bytes, default: "2147483647b", unit: "bytes", help: "HTTP/2 largest header list"),
        AcceptedParameter("h2_rx_window_increment", .bytes, default: "1M", unit: "bytes", help: "HTTP/2 receive window increment"),
        AcceptedParameter("h2_rx_window_low_water", .bytes, default: "10M", unit: "bytes", help: "HTTP/2 receive window low water mark"),
        AcceptedParameter("h2_rxbuf_storage", .text, default: "Transient", unit: "", help: "storage for HTTP/2 receive buffers"),
        AcceptedParameter("http1_iovs", .number, default: "64", unit: "iovecs", help: "I/O vectors per HTTP/1 write"),
        AcceptedParameter("http_gzip_support", .bool, default: "on", unit: "", help: "gzip handling of responses"),
        AcceptedParameter("http_max_hdr", .number, default: "64", unit: "header lines", help: "most header lines in a message"),
        AcceptedParameter("http_range_support", .bool, default: "on", unit: "", help: "Range requests"),
        AcceptedParameter("idle_send_timeout", .duration, default: "60.000", unit: "seconds", help: "longest wait for a client to take more bytes"),
        AcceptedParameter("listen_depth", .number, default: "1024", unit: "connections", help: "listen queue length"),
        AcceptedParameter("max_esi_depth", .number, default: "5", unit: "levels", help: "deepest ESI include"),
        AcceptedParameter("max_vcl", .number, default: "100", unit: "", help: "most VCLs loaded before a warning"),
        AcceptedParameter("max_vcl_handling", .number, default: "1", unit: "", help: "what happens past max_vcl"),
        AcceptedParameter("nuke_limit", .number, default: "50", unit: "allocations", help: "objects evicted to make room for one"),
        AcceptedParameter("pcre2_depth_limit", .number, default: "20", unit: "", help: "PCRE2 backtracking depth limit"),
        AcceptedParameter("pcre2_jit_compilation", .bool, default: "on", unit: "", help: "PCRE2 JIT compilation"),
        AcceptedParameter("pcre2_match_limit", .number, default: "10000", unit: "", help: "PCRE2 match limit"),
        AcceptedParameter("ping_interval", .duration, default: "3", unit: "seconds", help: "manager-to-child ping interval"),
        AcceptedParameter("pipe_sess_max", .number, default: "0", unit: "connections", help: "most piped sessions at once (0: no limit)"),
        AcceptedParameter("pipe_timeout", .duration, default: "60.000", unit: "seconds", help: "idle timeout of a pipe"),
        AcceptedParameter("pool_req", .triple, default: "10,100,10", unit: "", help: "request memory pool (min,max,age)"),
        AcceptedParameter("pool_sess", .triple, default: "10,100,10", unit: "", help: "session memory pool (min,max,age)"),
        AcceptedParameter("pool_vbo", .triple, default: "10,100,10", unit: "", help: "backend object memory pool (min,max,age)"),
        AcceptedParameter("prefer_ipv6", .bool, default: "off", unit: "", help: "prefer IPv6 for backends with both addresses"),
        AcceptedParameter("rush_exponent", .number, default: "3", unit: "requests per request", help: "waiters woken per finished busy object"),
        AcceptedParameter("shortlived", .duration, default: "10.000", unit: "seconds", help: "objects with a shorter TTL go to Transient storage"),
        AcceptedParameter("sigsegv_handler", .bool, default: "on", unit: "", help: "install a SIGSEGV handler"),
        AcceptedParameter("syslog_cli_traffic", .bool, default: "on", unit: "", help: "log CLI traffic to syslog"),
        AcceptedParameter("tcp_fastopen", .bool, default: "off", unit: "", help: "TCP Fast Open on listeners"),
        AcceptedParameter("tcp_keepalive_intvl", .duration, default: "75.000", unit: "seconds", help: "TCP keepalive probe interval"),
        AcceptedParameter("tcp_keepalive_probes", .number, default: "9", unit: "probes", help: "TCP keepalive probes"),
        AcceptedParameter("tcp_keepalive_time", .duration, default: "7200.000", unit: "seconds", help: "TCP keepalive idle time"),
        AcceptedParameter("thread_pool_add_delay", .duration, default: "0.000", unit: "seconds", help: "wait after creating a worker thread"),
        AcceptedParameter("thread_pool_destroy_delay", .duration, default: "1.000", unit: "seconds", help: "wait before destroying an idle worker thread"),
        AcceptedParameter("thread_pool_fail_delay", .duration, default: "0.200", unit: "seconds", help: "wait after failing to create a worker thread"),
        AcceptedParameter("thread_pool_max", .number, default: "5000", unit: "threads", help: "most worker threads per pool"),
        AcceptedParameter("thread_pool_min", .number, default: "100", unit: "threads", help: "fewest worker threads per pool"),
        AcceptedParameter("thread_pool_reserve", .number, default: "0", unit: "threads", help: "worker threads kept for backend work"),
        AcceptedParameter("thread_pool_stack", .bytes, default: "80k", unit: "bytes", help: "worker thread stack size"),
        AcceptedParameter("thread_pool_timeout", .duration, default: "300.000", unit: "seconds", help: "idle time before a worker thread goes"),
        AcceptedParameter("thread_pool_watchdog", .duration, default: "60.000", unit: "seconds", help: "worker pool watchdog"),
        AcceptedParameter("thread_pools", .number, default: "2", unit: "pools", help: "worker thread pools"),
        AcceptedParameter("thread_queue_limit", .number, default: "20", unit: "requests", help: "requests queued when no thread is free"),
        AcceptedParameter("thread_stats_rate", .number, default: "10", unit: "requests", help: "requests between thread statistics updates"),
        AcceptedParameter("timeout_linger", .duration, default: "0.050", unit: "seconds", help: "time a session lingers for more bytes before it is parked"),
        AcceptedParameter("vary_notice", .number, default: "10", unit: "variants", help: "variants of one object before a notice"),
        AcceptedParameter("vcc_allow_inline_c", .bool, default: "off", unit: "", help: "allow inline C in VCL (Shellac never runs C)"),
        AcceptedParameter("vcc_err_unref", .bool, default: "on", unit: "", help: "unreferenced VCL objects are errors"),
        AcceptedParameter("vcc_unsafe_path", .bool, default: "on", unit: "", help: "allow absolute paths in include and import"),
        AcceptedParameter("vcl_cooldown", .duration, default: "600.000", unit: "seconds", help: "time before an unused VCL goes cold"),
        AcceptedParameter("vcl_path", .text, default: "${sysconfdir}/varnish:${datadir}/varnish/vcl", unit: "", help: "where VCL files are looked for"),
        AcceptedParameter("vmod_path", .text, default: "${libdir}/varnish/vmods", unit: "", help: "where VMODs are looked for"),
        AcceptedParameter("vsl_buffer", .bytes, default: "16k", unit: "bytes", help: "per-thread log buffer"),
        AcceptedParameter("vsl_mask", .flags, default: "-Debug,-ObjProtocol,-ObjStatus,-ObjReason,-ObjHeader,-VCL_trace,-ExpKill,-WorkThread,-Hash,-VfpAcct,-H2RxHdr,-H2RxBody,-H2TxHdr,-H2TxBody,-VdpAcct", unit: "", help: "log tags left out (+tag,-tag)"),
        AcceptedParameter("vsl_reclen", .bytes, default: "255b", unit: "bytes", help: "longest log record"),
        AcceptedParameter("vsl_space", .bytes, default: "80M", unit: "bytes", help: "size of the shared memory log"),
        AcceptedParameter("vsm_free_cooldown", .duration, default: "60.000", unit: "seconds", help: "time before freed shared memory is reused"),
        AcceptedParameter("workspace_backend", .bytes, default: "96k", unit: "bytes", help: "backend workspace size"),
        AcceptedParameter("workspace_client", .bytes, default: "96k", unit: "bytes", help: "client workspace size"),
        AcceptedParameter("workspace_session", .bytes, default: "0.75k", unit: "bytes", help: "session workspace size"),
        AcceptedParameter("workspace_thread", .bytes, default: "2k", unit: "bytes", help: "thread workspace size"),
    ]

    static let byName: [String: AcceptedParameter] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })
}
