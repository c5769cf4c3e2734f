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

/// What a hit does to a connection's `resp` list: refill it from stored lines, add, remove
/// framing fields, write it out in one pass.
@Suite struct HeaderListDeliveryTests {
    /// `write(to:)` into exactly `serializedCount` bytes.
    static func written(_ list: HeaderList) -> String {
        let count = list.serializedCount
        var bytes = [UInt8](repeating: 0, count: count)
        let wrote = bytes.withUnsafeMutableBytes { list.write(to: $0.baseAddress!) }
        #expect(wrote == count)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func oneWriteEqualsTheFieldByFieldForm() {
        var list = HeaderListTests.stored()
        #expect(Self.written(list) == HeaderListTests.wire(list))
        list.add("Age", "0")
        list.add("X-Varnish", "1002 1001")
        #expect(Self.written(list) == HeaderListTests.wire(list))
        list.remove("set-cookie")
        list.set("X-Cache", "HIT")
        #expect(Self.written(list) == "Server: origin\r\nContent-Type: text/html\r\nETag: \"x\"\r\n"
            + "Age: 0\r\nX-Varnish: 1002 1001\r\nX-Cache: HIT\r\n")
        #expect(Self.written(HeaderList()) == "")
    }

    @Test func resetToStoredForgetsEveryChange() {
        var list = HeaderListTests.stored()
        list.add("Age", "5")
        list.remove("Server")
        list.set("Content-Type", "text/plain")  // decodes the stored lines
        let fresh = HeaderListTests.stored()
        list.reset(toStored: RawHeaderLines(bytes: Array(HeaderListTests.storedText.utf8),
                                            range: 0..<HeaderListTests.storedText.utf8.count))
        #expect(list == fresh)
        #expect(list["Age"] == nil)
        #expect(list["server"] == "origin")
        #expect(HeaderListTests.wire(list) == HeaderListTests.storedText)
    }

    @Test func removeAddedLeavesStoredLinesAndDropsAddedOnes() {
        var list = HeaderListTests.stored()
        list.add("Content-Length", "12")
        list.add("X-Other", "1")
        list.add("content-length", "13")
        list.removeAdded("CONTENT-LENGTH")
        list.removeAdded("Transfer-Encoding")
        #expect(HeaderListTests.wire(list) == HeaderListTests.storedText + "X-Other: 1\r\n")
    }

    /// The added-names summary may only skip a scan when the field is truly absent: every way
    /// a name gets into the added fields must be found afterwards.
    @Test func everyAddedNameIsFoundAgain() {
        var built = HeaderList([("Host", "a"), ("Cookie", "c=1")])
        #expect(built.contains("cookie") && built["HOST"] == "a")
        built.remove("Cookie")
        #expect(!built.contains("Cookie"))
        built.set("cookie", "d=2")
        #expect(built["Cookie"] == "d=2")
        var stored = HeaderListTests.stored()
        stored.set("ETag", "\"y\"")  // decodes: stored names become added ones
        #expect(stored["Server"] == "origin" && stored["etag"] == "\"y\"")
        stored.remove("server")
        #expect(stored["Server"] == nil && stored.count == 4)
        stored.add("Via", "1.1 x")
        stored.removeAll { $0.name == "Via" }
        #expect(stored["via"] == nil)
    }

    @Test func summaryFromTheStoreMatchesTheScannedOne() throws {
        // Lines that come with the store's summary of their names behave as lines that
        // make their own summary by scanning.
        let text = HeaderListTests.storedText
        let summary = ["Server", "Content-Type", "Set-Cookie", "set-cookie", "ETag"]
            .reduce(UInt64(0)) { $0 | RawHeaderLines.nameBit($1.utf8) }
        var given = HeaderList(raw: RawHeaderLines(bytes: Array(text.utf8), range: 0..<text.utf8.count, nameSummary: summary))
        var scanned = HeaderList(raw: RawHeaderLines(bytes: Array(text.utf8), range: 0..<text.utf8.count))
        for list in [given, scanned] { #expect(list["etag"] == "\"x\"" && list.contains("Set-Cookie")) }
        given.set("Server", "a"); scanned.set("Server", "a")
        given.remove("set-cookie"); scanned.remove("set-cookie")
        given.set("X-New", "1"); scanned.set("X-New", "1")
        #expect(given == scanned)
        #expect(HeaderListTests.wire(given) == HeaderListTests.wire(scanned))
    }
}

@Suite struct DecimalStringTests {
    @Test func matchesTheStandardFormatting() {
        for value in [0, 7, 10, 99, 100, 12_345, -1, -907, Int.max, Int.min, 999_999_999_999_999, 1_000_000_000_000_000] {
            #expect(String(decimal: value) == String(value))
        }
    }

    @Test func twoNumbersWithASpace() {
        #expect(String(decimal: 1002, 1001) == "1002 1001")
        #expect(String(decimal: 0, 0) == "0 0")
        #expect(String(decimal: UInt64.max, 5) == "\(UInt64.max) 5")
    }
}

/// Whether a program reads `obj.http.*` / `obj.reason`: when none does, the server skips
/// making them on a hit, so a wrong "no" would show VCL stale or empty object fields.
@Suite struct ObjectReadAnalysisTests {
    @Test func programsThatReadObjectFieldsSayYes() throws {
        let reads = [
            "sub vcl_hit { if (obj.http.X-A) { return (pass); } }",
            "sub vcl_hit { if (obj.reason == \"Gone\") { return (pass); } }",
            "sub vcl_hit { if (regsub(obj.http.Content-Type, \"/.*\", \"\") == \"image\") { return (pass); } }",
        ]
        for body in reads {
            let program = try Support.compile("vcl 4.1;\nbackend default { .host = \"127.0.0.1\"; }\n" + body)
            #expect(program.readsObjectHeaders, "\(body)")
        }
    }

    @Test func programsThatDoNotSayNo() throws {
        let program = try Support.compile(
            """
            vcl 4.1;
            backend default { .host = "127.0.0.1"; }
            sub vcl_deliver {
                if (obj.hits > 0) { set resp.http.X-Cache-Hits = obj.hits; }
                set resp.http.X-Type = resp.http.Content-Type;
            }
            """)
        #expect(!program.readsObjectHeaders)
    }
}
