import Testing
import VCL

@testable import Shellac

/// Every varnishd 7.1 parameter name is accepted: those Shellac acts on change its
/// behaviour, the others are checked as varnishd checks their kind, kept and listed.
@Suite("Parameters")
struct ParametersTests {
    /// varnishd 7.1's parameter names (`varnishd -x parameter`).
    static let varnishNames = """
        accept_filter acceptor_sleep_decay acceptor_sleep_incr acceptor_sleep_max auto_restart backend_idle_timeout
        backend_local_error_holddown backend_remote_error_holddown ban_cutoff ban_dups ban_lurker_age ban_lurker_batch
        ban_lurker_holdoff ban_lurker_sleep between_bytes_timeout cc_command cc_warnings cli_limit cli_timeout clock_skew
        clock_step connect_timeout critbit_cooloff debug default_grace default_keep default_ttl experimental feature
        fetch_chunksize fetch_maxchunksize first_byte_timeout gzip_buffer gzip_level gzip_memlevel h2_header_table_size
        h2_initial_window_size h2_max_concurrent_streams h2_max_frame_size h2_max_header_list_size h2_rx_window_increment
        h2_rx_window_low_water h2_rxbuf_storage http1_iovs http_gzip_support http_max_hdr http_range_support
        http_req_hdr_len http_req_size http_resp_hdr_len http_resp_size idle_send_timeout listen_depth lru_interval
        max_esi_depth max_restarts max_retries max_vcl max_vcl_handling nuke_limit pcre2_depth_limit pcre2_jit_compilation
        pcre2_match_limit ping_interval pipe_sess_max pipe_timeout pool_req pool_sess pool_vbo prefer_ipv6 rush_exponent
        send_timeout shortlived sigsegv_handler syslog_cli_traffic tcp_fastopen tcp_keepalive_intvl tcp_keepalive_probes
        tcp_keepalive_time thread_pool_add_delay thread_pool_destroy_delay thread_pool_fail_delay thread_pool_max
        thread_pool_min thread_pool_reserve thread_pool_stack thread_pool_timeout thread_pool_watchdog thread_pools
        thread_queue_limit thread_stats_rate timeout_idle timeout_linger vary_notice vcc_allow_inline_c vcc_err_unref
        vcc_unsafe_path vcl_cooldown vcl_path vmod_path vsl_buffer vsl_mask vsl_reclen vsl_space vsm_free_cooldown
        workspace_backend workspace_client workspace_session workspace_thread
        """.split(whereSeparator: \.isWhitespace).map(String.init)

    @Test("every varnishd 7.1 parameter is known and listed once, in name order")
    func everyNameKnown() {
        let listed = Parameters().listing().map(\.name)
        #expect(Set(Self.varnishNames).subtracting(listed).isEmpty, "missing: \(Set(Self.varnishNames).subtracting(listed).sorted())")
        #expect(listed == listed.sorted() && Set(listed).count == listed.count)
        for name in Self.varnishNames { #expect(Parameters().value(of: name) != nil, "\(name)") }
    }

    @Test("accepted values are kept and shown; the listing says they have no effect",
          arguments: [
            ("thread_pools", "2"), ("feature", "+esi_disable_xml_check"), ("debug", "+syncvsl,-workspace"),
            ("pcre2_match_limit", "5000"), ("vcc_unsafe_path", "false"), ("workspace_client", "128k"),
            ("timeout_linger", "0.1"), ("pool_req", "10,100,10"), ("vcl_path", "/etc/varnish"),
          ])
    func acceptedValues(_ name: String, _ value: String) throws {
        // (see flagsAccumulate for how feature and debug combine)
        var parameters = Parameters()
        try parameters.set("\(name)=\(value)")
        let shown = try #require(parameters.listing().first { $0.name == name })
        let expected = switch name {
        case "vcc_unsafe_path": "off"
        case "feature": "+validate_headers,+esi_disable_xml_check"  // flags add to the defaults
        case "debug": "+syncvsl"
        default: value
        }
        #expect(shown.value == expected)
        #expect(shown.help.contains("no effect in Shellac"))
    }

    @Test("vcc_err_unref and vcc_allow_inline_c reach the VCL compiler; on and off by default, as in varnishd")
    func vccParameters() throws {
        var parameters = Parameters()
        #expect(parameters.vclCompileOptions == VCLCompileOptions(unusedIsError: true, allowInlineC: false))
        try parameters.set("vcc_err_unref=false")
        try parameters.set("vcc_allow_inline_c=true")
        #expect(parameters.vclCompileOptions == VCLCompileOptions(unusedIsError: false, allowInlineC: true))
        #expect(parameters.listing().first { $0.name == "vcc_err_unref" }?.help.contains("no effect") == false)
    }

    @Test("bad values for accepted parameters are refused as varnishd refuses them",
          arguments: [
            ("thread_pools", "lots"), ("feature", "+bad name"), ("accept_filter", "maybe"), ("workspace_client", "big"),
            ("pool_req", "10,100"), ("timeout_linger", "-1"), ("debug", "+,"),
          ])
    func badValues(_ name: String, _ value: String) {
        var parameters = Parameters()
        #expect(throws: Parameters.SetError.badValue(name: name, value: value)) { try parameters.set(name, value) }
    }

    @Test("an unknown name is still refused")
    func unknownName() {
        var parameters = Parameters()
        #expect(throws: Parameters.SetError.unknownName("no_such_param")) { try parameters.set("no_such_param", "1") }
    }
}

@Suite("Flag parameters")
struct FlagParameterTests {
    @Test("feature and debug flags accumulate as varnishd's do: +x on, -x off, none clears; ESI's xml check follows")
    func flagsAccumulate() throws {
        var parameters = Parameters()
        try parameters.set("feature=+esi_disable_xml_check")
        try parameters.set("feature=+esi_include_onerror")
        #expect(parameters.value(of: "feature") == "+validate_headers,+esi_disable_xml_check,+esi_include_onerror")
        #expect(parameters.esiSkipsXMLCheck)
        try parameters.set("feature=-esi_disable_xml_check")
        #expect(!parameters.esiSkipsXMLCheck)
        try parameters.set("feature=none")
        #expect(parameters.value(of: "feature") == "none")
    }
}
