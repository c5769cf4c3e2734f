import Testing
@testable import VCL

@Suite struct BanTests {
    func object(status: Int = 200, headers: [(String, String)] = [], ttl: Double = 60) -> VCLObject {
        var object = VCLObject()
        object.status = status
        object.headers = HeaderList(headers.map { (name: $0.0, value: $0.1) })
        object.ttl = ttl
        return object
    }

    func request(_ url: String, host: String = "example.com") -> VCLClientRequest {
        var request = VCLClientRequest()
        request.url = url
        request.headers = HeaderList([("Host", host)])
        return request
    }

    @Test func urlRegex() throws {
        let ban = try VCLBan("req.url ~ ^/news/")
        #expect(ban.usesRequest)
        #expect(ban.matches(object: object(), request: request("/news/1")))
        #expect(!ban.matches(object: object(), request: request("/sport/1")))
        #expect(!ban.matches(object: object(), request: nil))
    }

    @Test func conjunctionsAndHeaders() throws {
        let ban = try VCLBan("obj.http.X-Tag == sport && req.http.host != other.com && obj.status >= 200")
        #expect(ban.conditions.count == 3)
        #expect(ban.matches(object: object(headers: [("x-tag", "sport")]), request: request("/")))
        #expect(!ban.matches(object: object(headers: [("x-tag", "news")]), request: request("/")))
        #expect(!ban.matches(object: object(headers: [("x-tag", "sport")]), request: request("/", host: "other.com")))
    }

    @Test func objectOnlyBansAreLurkerFriendly() throws {
        let ban = try VCLBan("obj.http.X-Url ~ \"^/a b\" && obj.ttl > 30s")
        #expect(!ban.usesRequest)
        #expect(ban.matches(object: object(headers: [("X-Url", "/a b/c")], ttl: 60), request: nil))
        #expect(!ban.matches(object: object(headers: [("X-Url", "/a b/c")], ttl: 10), request: nil))
    }

    @Test func whatVCLIssuesParses() throws {
        let program = try Support.compile("""
            vcl 4.1;
            sub vcl_recv { ban("req.url ~ " + req.url); ban("obj.status == 404 && req.http.host == " + req.http.host); }
            """)
        let context = Support.request(program, "GET", "/a", headers: [("Host", "h")])
        _ = program.run(.recv, context)
        let bans = try context.bans.map { text throws(VCLBan.ParseError) in try VCLBan(text) }
        #expect(bans[0].matches(object: object(), request: request("/a/b")))
        #expect(bans[1].matches(object: object(status: 404), request: request("/x", host: "h")))
    }

    @Test func errors() {
        #expect(throws: VCLBan.ParseError.self) { try VCLBan("") }
        #expect(throws: VCLBan.ParseError.self) { try VCLBan("req.nothing == 1") }
        #expect(throws: VCLBan.ParseError.self) { try VCLBan("req.url = /") }
        #expect(throws: VCLBan.ParseError.self) { try VCLBan("req.url ~") }
        #expect(throws: VCLBan.ParseError.self) { try VCLBan("req.url ~ (") }
        #expect(throws: VCLBan.ParseError.self) { try VCLBan("req.url == / || obj.status == 1") }
        #expect(throws: VCLBan.ParseError.self) { try VCLBan("obj.status > abc") }
        #expect(throws: VCLBan.ParseError.self) { try VCLBan("req.url == \"open") }
        do {
            _ = try VCLBan("req.url ~ a(b")
        } catch {
            #expect(error.offset == 13)
        }
    }
}
