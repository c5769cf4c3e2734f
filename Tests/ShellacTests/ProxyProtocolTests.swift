import Foundation
import NIOCore
import Testing
import VCL

@testable import Shellac

/// The PROXY protocol on a listener (`-a addr,PROXY`): the header as bytes, then over a real
/// socket, where client.ip and X-Forwarded-For become the proxied client's.
@Suite("PROXY protocol")
struct ProxyProtocolTests {
    static func parse(_ bytes: [UInt8]) -> ProxyHeader.Outcome {
        ProxyHeader.parse(ByteBuffer(bytes: bytes))
    }

    @Test("version 1: TCP4, TCP6, UNKNOWN; partial lines wait; anything else is refused")
    func version1() throws {
        let line = Array("PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET".utf8)
        guard case .complete(let length, let client?, let server?) = Self.parse(line) else {
            Issue.record("not parsed")
            return
        }
        #expect(length == line.count - 3 && client.ipAddress == "192.0.2.7" && client.port == 56324)
        #expect(server.ipAddress == "198.51.100.1" && server.port == 443)
        guard case .complete(_, let six?, _) = Self.parse(Array("PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n".utf8)) else {
            Issue.record("TCP6 not parsed")
            return
        }
        #expect(six.ipAddress == "2001:db8::1")
        #expect(Self.parse(Array("PROXY UNKNOWN\r\n".utf8)) == .complete(length: 15, client: nil, server: nil))
        #expect(Self.parse(Array("PROXY TCP4 192.0.2.7".utf8)) == .needMore)
        #expect(Self.parse(Array("GET / HTTP/1.1\r\n".utf8)) == .invalid)
        #expect(Self.parse(Array("PROXY TCP4 nonsense 1 2 3\r\n".utf8)) == .invalid)
    }

    @Test("version 2: PROXY over TCP4, and LOCAL")
    func version2() {
        let signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
        let proxied = signature + [0x21, 0x11, 0x00, 0x0C, 192, 0, 2, 7, 198, 51, 100, 1, 0xDB, 0xC4, 0x01, 0xBB]
        guard case .complete(let length, let client?, let server?) = Self.parse(proxied) else {
            Issue.record("not parsed")
            return
        }
        #expect(length == 28 && client.ipAddress == "192.0.2.7" && client.port == 56260 && server.port == 443)
        #expect(Self.parse(signature + [0x20, 0x00, 0x00, 0x00]) == .complete(length: 16, client: nil, server: nil))
        #expect(Self.parse(Array(signature.prefix(8))) == .needMore)
    }

    @Test("over a socket: client.ip and X-Forwarded-For are the proxied client's; a connection without the header is closed")
    func listener() async throws {
        let origin = try await TestOrigin.start { request in
            TestOrigin.Response(headers: ["Cache-Control": "no-store"], body: request.header("X-Forwarded-For") ?? "")
        }
        let vcl = try VCLCompiler.compile(source: """
            vcl 4.1;
            backend origin { .host = "127.0.0.1"; .port = "\(origin.port)"; }
            sub vcl_deliver { set resp.http.X-Client = client.ip; set resp.http.X-Server = server.ip; }
            """, name: "proxy.vcl")
        var listen = Endpoint(host: "127.0.0.1", port: 0)
        listen.expectsProxyHeader = true
        let server = ShellacServer(configuration: ShellacConfiguration(
            listen: [listen], backend: Backend(host: "127.0.0.1", port: origin.port), vcl: vcl))
        let port = try #require(try await server.start().first?.port)
        do {
            let response = try await RawHTTPClient.exchange(
                port: port,
                "PROXY TCP4 192.0.2.7 198.51.100.1 56324 443\r\nGET /p HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n",
                timeout: .seconds(5))
            #expect(response.status == 200 && response.bodyString == "192.0.2.7")
            #expect(response.header("X-Client") == "192.0.2.7" && response.header("X-Server") == "198.51.100.1")
            let client = try await RawHTTPClient.connect(port: port)
            try await client.send("GET /p HTTP/1.1\r\nHost: example.com\r\n\r\n")
            #expect(await client.waitForClose(timeout: .seconds(2)))
            await client.close()
        } catch {
            await server.shutdown()
            await origin.shutdown()
            throw error
        }
        await server.shutdown()
        await origin.shutdown()
    }
}
