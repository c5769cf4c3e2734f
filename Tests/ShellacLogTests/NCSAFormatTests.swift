import Testing
import ShellacLog

/// The client request (vxid 2) and backend fetch (3) of the sample, as vxid groups.
let sampleRequest = groups(sampleLog, .vxid)[1].root
let sampleFetch = groups(sampleLog, .vxid)[0].root

/// Every transaction of the traffic fixture, in request-group order.
let trafficTransactions = trafficGroups.flatMap(\.transactions)

/// A format using (nearly) every code varnishncsa 7.1 has.
let everyCode = #"%{Varnish:vxid}x %{Varnish:side}x %m %U%q %H %s %b %I %O %T %D %{ms}T %{sec}t %{msec}t %{usec}t %{msec_frac}t %{usec_frac}t %{%Y-%m-%dT%H:%M:%S}t %{Varnish:time_firstbyte}x %{Varnish:hitmiss}x %{Varnish:handling}x [%{Content-Type}o] [%{VSL:ReqHeader:User-Agent[1]}x] [%{VSL:Timestamp:Resp[2]}x] %u\t|"#

/// The lines a format gives for the traffic fixture's client requests.
func trafficLines(_ format: NCSAFormat) -> [String] {
    trafficGroups.compactMap { format.line(for: $0.root) }
}

@Suite struct NCSAFormatTests {
    @Test func defaultFormatIsNCSACombined() throws {
        let format = try NCSAFormat()
        #expect(format.line(for: sampleRequest)
            == #"127.0.0.1 - - [30/Nov/2026:23:54:03 +0000] "GET http://127.0.0.1:16081/ HTTP/1.1" 200 294 "-" "curl/7.88.1""#)
        #expect(trafficLines(format) == [
            "192.0.2.10 - - [30/Nov/2026:23:54:03 +0000] \"GET http://shop.example/media/cat.jpg HTTP/1.1\" 200 5120 \"-\" \"curl/8.5.0\"",
            "198.51.100.7 - - [30/Nov/2026:23:54:04 +0000] \"POST http://shop.example/api/upload?big=1 HTTP/1.1\" 503 300 \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"",
            "- - admin [30/Nov/2026:23:54:06 +0000] \"PUT http://shop.example/api/item/7 HTTP/1.0\" 404 - \"-\" \"curl/8.5.0\"",
            "- - - [30/Nov/2026:23:54:07 +0000] \"GET http://shop.example/ HTTP/1.0\" 200 - \"-\" \"curl/8.5.0\"",
        ])
    }

    @Test func backendModeLogsTheFetch() throws {
        let format = try NCSAFormat(side: .backend)
        #expect(format.line(for: sampleRequest) == nil)
        #expect(format.line(for: sampleFetch)
            == #"127.0.0.1 - - [30/Nov/2026:23:54:03 +0000] "GET http://127.0.0.1:16081/ HTTP/1.1" 200 294 "-" "-""#)
        #expect(try NCSAFormat().line(for: sampleFetch) == nil)
    }

    @Test func everyCodeMatchesVarnishncsa() throws {
        #expect(trafficLines(try NCSAFormat(everyCode)) == [
            "10 c GET /media/cat.jpg HTTP/1.1 200 5120 80 5420 0 2000 2 1796082843 1796082843100 1796082843100000 099 099999 2026-11-30T23:54:03 0.001000 miss miss [image/jpeg] [curl/8.5.0] [0.002000] -\u{9}|",
            "20 c POST /api/upload?big=1 HTTP/1.1 503 300 1048776 550 1 1500000 1500 1796082844 1796082844000 1796082844000000 000 000000 2026-11-30T23:54:04 - miss pass [-] [Mozilla/5.0] [1.500000] -\u{9}|",
            "30 c PUT /api/item/7 HTTP/1.0 404 - - - 0 299999 299 1796082846 1796082846000 1796082846000000 000 000000 2026-11-30T23:54:06 - miss miss [-] [curl/8.5.0] [0.300000] admin\u{9}|",
            "40 c GET / HTTP/1.0 200 - - - 1 1200000 1200 1796082847 1796082847000 1796082847000000 000 000000 2026-11-30T23:54:07 - hit hit [-] [curl/8.5.0] [1.200000] -\u{9}|",
        ])
        #expect(try NCSAFormat(everyCode, side: .backend).line(for: sampleFetch) == [
            "3 b GET / HTTP/1.1 200 294 144 449 0 1374 1 1796082843 1796082843442 1796082843442338 442 442337 2026-11-30T23:54:03 0.001251 - - [-] [-] [-] -\u{9}|",
        ].first)
    }

    @Test func timeCodesNeedAStartTimestamp() throws {
        // The traffic fixture's fetches log no Start: varnishncsa writes no line for them.
        let fetches = trafficTransactions.filter { $0.type == .backendRequest }
        #expect(fetches.compactMap { try? NCSAFormat(side: .backend).line(for: $0) }.isEmpty)
        #expect(fetches.compactMap { try? NCSAFormat("%s", side: .backend).line(for: $0) } == ["200", "503", "404", "500"])
    }

    @Test func jsonModeEscapesForJSONAndFillsGaps() throws {
        let format = try NCSAFormat(
            #"{"vxid": %{Varnish:vxid}x, "url": "%U", "referer": "%{Referer}i", "status": %s, "bytes": %b, "user": "%u"}"#,
            json: true)
        #expect(trafficLines(format) == [
            "{\"vxid\": 10, \"url\": \"/media/cat.jpg\", \"referer\": \"\", \"status\": 200, \"bytes\": 5120, \"user\": \"-\"}",
            "{\"vxid\": 20, \"url\": \"/api/upload\", \"referer\": \"\", \"status\": 503, \"bytes\": 300, \"user\": \"-\"}",
            "{\"vxid\": 30, \"url\": \"/api/item/7\", \"referer\": \"\", \"status\": 404, \"bytes\": 0, \"user\": \"admin\"}",
            "{\"vxid\": 40, \"url\": \"/\", \"referer\": \"\", \"status\": 200, \"bytes\": 0, \"user\": \"-\"}",
        ])
    }

    @Test func esiSubrequestsNeedIncludeESI() throws {
        let format = try NCSAFormat("%{Varnish:vxid}x %U %s %{Varnish:handling}x", includeESI: true)
        let lines = trafficTransactions.compactMap { format.line(for: $0) }
        #expect(lines == ["10 /media/cat.jpg 200 miss", "20 /api/upload 503 pass", "30 /api/item/7 404 miss",
            "40 / 200 hit", "41 /esi/basket 200 miss"])
        let plain = try NCSAFormat("%{Varnish:vxid}x")
        #expect(trafficTransactions.compactMap { plain.line(for: $0) } == ["10", "20", "30", "40"])
    }

    @Test func requestGroupingLogsEveryRequestOfTheGroup() throws {
        let format = try NCSAFormat("%{Varnish:vxid}x %{Varnish:side}x %U %s")
        #expect(trafficGroups.flatMap { format.lines(for: $0, grouping: .request) } == [
            "10 c /media/cat.jpg 200",
            "11 b /media/cat.jpg 200",
            "20 c /api/upload 503",
            "21 b - 503",
            "30 c /api/item/7 404",
            "31 b - 404",
            "40 c / 200",
            "41 c /esi/basket 200",
            "42 b - 500",
        ])
        #expect(trafficGroups.flatMap { format.lines(for: $0) } == ["10 c /media/cat.jpg 200", "20 c /api/upload 503",
            "30 c /api/item/7 404", "40 c / 200"])
    }

    @Test func valuesAreEscapedLastHeadersWinAndUnsetIsIgnored() throws {
        let log = records(
            """
            7 Begin c req 1 rxreq
            7 Timestamp c Start: 1796082843.000000 0.000000 0.000000
            7 ReqMethod c GET
            7 ReqURL c /café?q="x"
            7 ReqHeader c Referer: http://example.com/say "hi"\ttab\u{01}ctl\\back
            7 ReqHeader c User-Agent: first
            7 ReqHeader c User-Agent: second
            7 ReqUnset c User-Agent: second
            7 ReqHeader c Authorization: basic  Ym9iOnB3ZDpleHRyYQ==
            7 VCL_Log c origin: eu-west-1
            7 VCL_Log c origin: us-east-1
            7 VCL_call c RECV
            7 VCL_call c PASS
            7 VCL_return c pipe
            7 RespStatus c 200
            7 End c
            8 Begin c req 7 restart
            8 Timestamp c Start: 1796082843.000000 0.000000 0.000000
            8 VCL_return c restart
            8 End c
            9 Begin c req 1 rxreq
            9 ReqURL c /no-start
            9 End c
            """)
        let transactions = groups(log, .vxid).map(\.root)
        let format = #""%r" "%{Referer}i" "%{User-Agent}i" %u %{VCL_Log:origin}x %{Varnish:hitmiss}x %{Varnish:handling}x"#
        #expect(transactions.compactMap { try? NCSAFormat(format).line(for: $0) } == [
            "\"GET http://localhost/caf\\xc3\\xa9?q=\\\"x\\\" HTTP/1.0\" \"http://example.com/say \\\"hi\\\"\\ttab\\x01ctl\\\\back\" \"second\" bob eu-west-1 miss pipe",
            "\"- http://localhost/no-start HTTP/1.0\" \"-\" \"-\" -  - -",
        ])
        #expect(transactions.compactMap { try? NCSAFormat(format, json: true).line(for: $0) } == [
            "\"GET http://localhost/café?q=\\\"x\\\" HTTP/1.0\" \"http://example.com/say \\\"hi\\\"\\ttab\\u0001ctl\\\\back\" \"second\" bob eu-west-1 miss pipe",
            "\"- http://localhost/no-start HTTP/1.0\" \"\" \"\" -  - -",
        ])
    }

    @Test func basicCredentialsGiveTheUserName() throws {
        func user(_ header: String) throws -> String? {
            let request = VSLTransaction(vxid: 5, type: .request, records: [
                VSLRecord(vxid: 5, tag: .reqHeader, side: .client, text: header),
            ])
            return try NCSAFormat("%u").line(for: request)
        }
        #expect(try user("Authorization: Basic YWRtaW46c2VjcmV0") == "admin")
        #expect(try user("authorization:BASIC YWRtaW4=") == "admin")
        #expect(try user("Authorization: Bearer abc") == "-")
        #expect(try user("Authorization: Basic !!!!") == "-")
        #expect(try user("Authorization: Basic " + String(repeating: "QUFB", count: 50)) == "-")
    }

    @Test func literalTextAndEscapesInTheFormat() throws {
        let request = VSLTransaction(vxid: 5, type: .request, records: [])
        #expect(try NCSAFormat(#"%l\t\%m\n\"x\"%m"#).line(for: request) == "-\t%m\n\"x\"-")
        #expect(throws: NCSAFormatError(message: "Unknown format specifier at: %%")) { try NCSAFormat("%%") }
    }

    @Test func badFormatsAreRefusedAsVarnishncsaWordsIt() {
        let cases: [(String, String)] = [
            ("%", "Unknown format specifier at: %"),
            ("x %Z y", "Unknown format specifier at: %Z y"),
            ("%{Host", "Unmatched bracket at: %{Host"),
            ("%{Host}y", "Unknown format specifier at: %{Host}y"),
            ("%{xx}T", "Unknown specifier: %{xx}T"),
            ("%{Foo}x", "Unknown formatting extension: Foo"),
            ("%{VSL:}x", "Missing tag in VSL:"),
            ("%{VSL:Req}x", "Tag not unique: Req"),
            ("%{VSL:Nope[2]}x", "Unknown log tag: Nope"),
            ("%{VSL:ReqURL[0]}x", "Syntax error. Field specifier must be between 1 and 255: ReqURL[0]"),
            ("%{VSL:ReqURL[x]}x", "Syntax error: VSL:ReqURL[x]"),
            ("%{VSL:ReqURL[]}x", "Syntax error: VSL:ReqURL[]"),
            ("%{VSL:Hash}x", "Tag Hash can contain control characters"),
        ]
        for (format, message) in cases {
            #expect(throws: NCSAFormatError(message: message)) { try NCSAFormat(format) }
        }
        #expect(throws: Never.self) { try NCSAFormat("%{VSL:Hash}x", json: true) }
    }
}
