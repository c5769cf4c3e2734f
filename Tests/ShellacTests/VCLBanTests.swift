import Testing
import VCL

@testable import Shellac
import ShellacLog
@testable import ShellacCache

/// `ban()` in VCL: valid bans go on the store's ban list; one that does not parse is reported
/// as a `VCL_Error` record (as Varnish logs it) and the request goes on.
@Suite("VCL ban()")
struct VCLBanTests {
    @Test("a ban() that does not parse is a VCL_Error record; the valid one reaches the ban list")
    func malformedBanIsReported() throws {
        let program = try VCLCompiler.compile(
            source: """
                vcl 4.1;
                backend default { .host = "127.0.0.1"; }
                sub vcl_recv {
                    ban("req.url ~");
                    ban("req.url ~ ^/news/");
                    return (hash);
                }
                """, name: "ban.vcl")
        let log = TransactionLog()
        let buffer = VSLBuffer(ring: log.ring)
        let session = VCLSession(loaded: VCLRegistry(boot: program).current, log: buffer)
        var head = RequestHead(
            method: "GET", uri: "/", minorVersion: 1, headers: HeaderList([("Host", "a")]), body: .none,
            expectsContinue: false, keepAlive: true)
        session.begin(head, xid: 1005, client: nil, local: nil)
        let store = CacheStore(capacity: 1 << 20)
        #expect(session.receive(&head, store: store) == .hash)
        #expect(store.pendingBans == 1)
        buffer.flush()
        let errors = log.read(from: 0, limit: 10).records.filter { $0.tag == .vclError }
        #expect(errors.count == 1)
        #expect(errors.first?.vxid == 1005)
        #expect(errors.first?.text.hasPrefix("ban(): ") == true, "\(errors)")
    }
}
