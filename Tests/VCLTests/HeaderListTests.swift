import Testing
import VCL

/// A list that starts from stored lines must behave exactly like one built field by field.
@Suite struct HeaderListTests {
    static let storedText = "Server: origin\r\nContent-Type: text/html\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nETag: \"x\"\r\n"

    /// The stored lines behind some prefix bytes (a cache key and a status line, as in the store).
    static func stored() -> HeaderList {
        let prefix = Array("key\u{0}HTTP/1.1 200 OK\r\n".utf8)
        let bytes = prefix + Array(storedText.utf8) + Array("inline body".utf8)
        return HeaderList(raw: RawHeaderLines(bytes: bytes, range: prefix.count..<(prefix.count + storedText.utf8.count)))
    }

    static let eager = HeaderList([
        ("Server", "origin"), ("Content-Type", "text/html"), ("Set-Cookie", "a=1"), ("set-cookie", "b=2"),
        ("ETag", "\"x\""),
    ])

    /// Writes a list the way the server does, into one string.
    static func wire(_ list: HeaderList) -> String {
        var bytes: [UInt8] = []
        list.serialize(
            rawRun: { bytes.append(contentsOf: $0) },
            field: { bytes.append(contentsOf: "\($0.name): \($0.value)\r\n".utf8) })
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func readsStoredFieldsCaseInsensitively() {
        let list = Self.stored()
        #expect(list["content-type"] == "text/html")
        #expect(list["SET-COOKIE"] == "a=1")
        #expect(list.values("Set-Cookie") == ["a=1", "b=2"])
        #expect(list.contains("etag"))
        #expect(!list.contains("Age"))
        #expect(list["Age"] == nil)
        #expect(list.count == 5)
        #expect(list == Self.eager)
    }

    @Test func untouchedListSerialisesToTheStoredBytes() {
        #expect(Self.wire(Self.stored()) == Self.storedText)
    }

    @Test func addingKeepsStoredLinesAndAppends() {
        var list = Self.stored()
        list.add("Age", "3")
        list.set("X-Cache", "HIT")
        #expect(Self.wire(list) == Self.storedText + "Age: 3\r\nX-Cache: HIT\r\n")
        #expect(list["x-cache"] == "HIT")
        #expect(list.count == 7)
    }

    @Test func removingStoredFieldsDropsEveryLineOfThatName() {
        var list = Self.stored()
        list.remove("set-cookie")
        list.remove("Server")
        #expect(list["Set-Cookie"] == nil)
        #expect(!list.contains("server"))
        #expect(Self.wire(list) == "Content-Type: text/html\r\nETag: \"x\"\r\n")
        list.add("Set-Cookie", "c=3")
        #expect(list.values("Set-Cookie") == ["c=3"])
        #expect(Self.wire(list) == "Content-Type: text/html\r\nETag: \"x\"\r\nSet-Cookie: c=3\r\n")
    }

    @Test func settingAStoredFieldMatchesTheEagerList() {
        var lazy = Self.stored()
        var eager = Self.eager
        for list in [0, 1] {
            if list == 0 { lazy.set("Set-Cookie", "z=9") } else { eager.set("Set-Cookie", "z=9") }
        }
        #expect(lazy == eager)
        #expect(Self.wire(lazy) == Self.wire(eager))
        #expect(lazy.values("set-cookie") == ["z=9"])
    }

    @Test func removeAllWherePredicateSeesStoredFields() {
        var lazy = Self.stored()
        var eager = Self.eager
        lazy.removeAll { $0.name.hasPrefix("S") || $0.name.hasPrefix("s") }
        eager.removeAll { $0.name.hasPrefix("S") || $0.name.hasPrefix("s") }
        #expect(lazy == eager)
        #expect(Self.wire(lazy) == "Content-Type: text/html\r\nETag: \"x\"\r\n")
    }

    @Test func iterationDecodesInOrder() {
        var list = Self.stored()
        list.remove("ETag")
        list.add("Via", "1.1 shellac")
        #expect(list.map(\.name) == ["Server", "Content-Type", "Set-Cookie", "set-cookie", "Via"])
    }

    @Test func emptyStoredSection() {
        var list = HeaderList(raw: RawHeaderLines(bytes: Array("HTTP/1.1 204 No Content\r\n".utf8), range: 25..<25))
        #expect(list.isEmpty)
        list.add("A", "b")
        #expect(Self.wire(list) == "A: b\r\n")
    }
}

/// Compiled VCL reading and changing `obj.http` / `resp.http` built on stored lines.
@Suite struct StoredHeaderVCLTests {
    @Test func deliverSeesAndChangesStoredFields() throws {
        let program = try Support.compile(
            """
            vcl 4.1;
            backend default { .host = "127.0.0.1"; }
            sub vcl_hit {
                if (obj.http.content-type != "text/html" || obj.http.set-cookie != "a=1") { return (pass); }
            }
            sub vcl_deliver {
                set resp.http.X-Type = resp.http.content-type + "/" + resp.http.ETAG;
                unset resp.http.set-cookie;
                set resp.http.Server = "shellac";
                if (!resp.http.Age) { set resp.http.X-No-Age = "1"; }
                set resp.http.X-Via-Seen = resp.http.x-type;
            }
            """)
        let context = Support.request(program)
        context.obj.headers = HeaderListTests.stored()
        context.resp.headers = HeaderListTests.stored()
        #expect(program.run(.hit, context) == .deliver)
        #expect(program.run(.deliver, context) == .deliver)
        let headers = context.resp.headers
        #expect(headers["X-Type"] == "text/html/\"x\"")
        #expect(headers.values("Set-Cookie").isEmpty)
        #expect(headers.values("server") == ["shellac"])
        #expect(headers["X-No-Age"] == "1")
        #expect(headers["X-Via-Seen"] == "text/html/\"x\"")
        #expect(context.obj.headers == HeaderListTests.eager)
    }
}

/// `reset` between requests clears everything a request changed, the backend side included.
@Suite struct ContextResetTests {
    @Test func resetClearsChangedBackendSideAndKeepsDefaults() throws {
        let program = try Support.compile("vcl 4.1;\nbackend b1 { .host = \"127.0.0.1\"; }\n")
        let context = Support.request(program)
        context.bereq.url = "/changed"
        context.beresp.status = 404
        context.req.url = "/x"
        program.resetContext(context)
        #expect(context.bereq.url == "/")
        #expect(context.beresp.status == 200)
        #expect(context.req.url == "/")
        #expect(context.req.backendHint == "b1" && context.bereq.backend == "b1")
        // A client-side request that never touches bereq leaves it as reset left it.
        context.req.url = "/y"
        program.resetContext(context)
        #expect(context.bereq.url == "/" && context.bereq.backend == "b1")
    }
}
