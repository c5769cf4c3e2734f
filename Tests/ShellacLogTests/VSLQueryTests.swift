import Testing
import ShellacLog

/// Four client requests, as request groups: 10 a cache miss for an image, 20 a POST the
/// backend failed (503), 30 a PUT answered 404 with Basic credentials, 40 a hit whose ESI
/// include (41) fetched from a failing backend (42).
let trafficGroups = groups(
    records(
        """
        10 Begin c req 1 rxreq
        10 Timestamp c Start: 1796082843.100000 0.000000 0.000000
        10 ReqStart c 192.0.2.10 51000 a0
        10 ReqMethod c GET
        10 ReqURL c /media/cat.jpg
        10 ReqProtocol c HTTP/1.1
        10 ReqHeader c Host: shop.example
        10 ReqHeader c User-Agent: curl/8.5.0
        10 VCL_call c RECV
        10 VCL_call c MISS
        10 Link c bereq 11 fetch
        11 Begin b bereq 10 fetch
        11 BereqMethod b GET
        11 BereqURL b /media/cat.jpg
        11 BerespStatus b 200
        11 End b
        10 RespStatus c 200
        10 RespHeader c Content-Type: image/jpeg
        10 Timestamp c Process: 1796082843.101000 0.001000 0.001000
        10 Timestamp c Resp: 1796082843.102000 0.002000 0.001000
        10 ReqAcct c 80 0 80 300 5120 5420
        10 End c
        20 Begin c req 2 rxreq
        20 Timestamp c Start: 1796082844.000000 0.000000 0.000000
        20 ReqStart c 198.51.100.7 40000 a0
        20 ReqMethod c POST
        20 ReqURL c /api/upload?big=1
        20 ReqProtocol c HTTP/1.1
        20 ReqHeader c Host: shop.example
        20 ReqHeader c User-Agent: Mozilla/5.0 (X11; Linux x86_64)
        20 ReqHeader c Content-Length: 1048576
        20 VCL_call c RECV
        20 VCL_call c PASS
        20 Link c bereq 21 pass
        21 Begin b bereq 20 pass
        21 BereqMethod b POST
        21 BerespStatus b 503
        21 FetchError b backend write error: 104 (Connection reset by peer)
        21 End b
        20 RespStatus c 503
        20 Timestamp c Resp: 1796082845.500000 1.500000 1.499000
        20 ReqAcct c 200 1048576 1048776 250 300 550
        20 End c
        30 Begin c req 3 rxreq
        30 Timestamp c Start: 1796082846.000000 0.000000 0.000000
        30 ReqMethod c PUT
        30 ReqURL c /api/item/7
        30 ReqHeader c Host: shop.example
        30 ReqHeader c User-Agent: curl/8.5.0
        30 ReqHeader c Authorization: Basic YWRtaW46c2VjcmV0
        30 VCL_call c RECV
        30 VCL_call c MISS
        30 Link c bereq 31 fetch
        31 Begin b bereq 30 fetch
        31 BerespStatus b 404
        31 End b
        30 RespStatus c 404
        30 Timestamp c Resp: 1796082846.300000 0.300000 0.001000
        30 End c
        40 Begin c req 4 rxreq
        40 Timestamp c Start: 1796082847.000000 0.000000 0.000000
        40 ReqMethod c GET
        40 ReqURL c /
        40 ReqHeader c Host: shop.example
        40 ReqHeader c User-Agent: curl/8.5.0
        40 VCL_call c RECV
        40 VCL_call c HIT
        40 Link c req 41 esi
        41 Begin c req 40 esi
        41 ReqURL c /esi/basket
        41 VCL_call c MISS
        41 Link c bereq 42 fetch
        42 Begin b bereq 41 fetch
        42 BerespStatus b 500
        42 Timestamp b Beresp: 1796082847.900000 0.900000 0.900000
        42 End b
        41 RespStatus c 200
        41 Timestamp c Process: 1796082848.100000 1.100000 0.200000
        41 End c
        40 RespStatus c 200
        40 Timestamp c Resp: 1796082848.200000 1.200000 0.100000
        40 End c
        """), .request)

/// The requests (group tops) a query selects.
func selected(_ query: String, caseInsensitive: Bool = false) throws -> [UInt64] {
    let parsed = try VSLQuery(query, caseInsensitive: caseInsensitive)
    return trafficGroups.filter(parsed.matches).map(\.root.vxid)
}

@Suite struct VSLQueryTests {
    /// Each query with the requests real varnishlog 7.1 (`-g request -q`) reports for this log.
    static let varnishlogAnswers: [(String, [UInt64])] = [
        ("RespStatus >= 500", [20]),
        ("ReqURL ~ \"^/media\"", [10]),
        ("Timestamp:Resp[2] > 1.0", [20, 40]),
        ("ReqHeader:User-Agent ~ \"curl\" and not RespStatus == 200", [30]),
        ("VCL_call eq \"MISS\"", [10, 30, 40]),
        ("(ReqMethod eq \"POST\" or ReqMethod eq \"PUT\") and BerespStatus >= 400", [20, 30]),
        ("BerespStatus >= 500", [20, 40]),
        ("{1}BerespStatus >= 500", []),
        ("{2+}BerespStatus >= 500", [20, 40]),
        ("{2-}ReqURL ~ \"esi\"", [40]),
        ("{3}BerespStatus == 500", [40]),
        ("ReqHeader:user-agent", [10, 20, 30, 40]),
        ("not ReqHeader:Authorization", [10, 20, 40]),
        ("ReqHeader:host eq \"SHOP.EXAMPLE\"", []),
        ("ReqHeader:Content-Length > 1000000", [20]),
        ("ReqAcct[5] >= 5000", [10]),
        ("Timestamp:Process[2] > 0.8", [40]),
        ("BerespStatus >= 500 or {2+}Timestamp:Process[2] > 1.", [20, 40]),
        ("vxid == 31", [30]),
        ("vxid >= 40", [40]),
        ("*Error", [20]),
        ("Req*URL ~ \"api\"", [20, 30]),
        ("ReqURL,RespStatus eq \"404\"", [30]),
        ("RespStatus != 200", [20, 30]),
        ("RespStatus ne 200", [20, 30]),
        ("ReqURL !~ \"^/api\"", [10, 40]),
        ("FetchError[4] eq \"write\"", []),
        ("Timestamp:Resp[2] == 1", [20, 40]),
        ("Timestamp:Resp[2] == 1.5", [20]),
        ("Timestamp:Start[1] < 1796082845", [10, 20]),
        ("Timestamp:Start[1] < 1796082845.0", [10, 20]),
        ("VCL_call eq \"miss\"", []),
    ]

    @Test(arguments: varnishlogAnswers)
    func selectsWhatVarnishlogSelects(query: String, expected: [UInt64]) throws {
        #expect(try selected(query) == expected)
    }

    @Test func theFixtureHasFourRequestGroups() {
        #expect(trafficGroups.map(\.root.vxid) == [10, 20, 30, 40])
    }

    @Test func dashCMakesStringsAndPatternsIgnoreCase() throws {
        #expect(try selected("VCL_call eq \"miss\"", caseInsensitive: true) == [10, 30, 40])
        #expect(try selected("ReqURL ~ \"MEDIA\"", caseInsensitive: true) == [10])
        #expect(try selected("ReqURL ~ \"MEDIA\"") == [])
    }

    @Test func linesAreOredAndCommentsAndContinuationsIgnored() throws {
        #expect(try selected("# failed backends\nBerespStatus >= 500\n\nvxid == 10") == [10, 20, 40])
        #expect(try selected("RespStatus \\\n>= \\\n 500") == [20])
        #expect(try selected("ReqURL ~ '^/api' # the API\n") == [20, 30])
    }

    @Test func keywordsAreLowercaseWords() throws {
        #expect(try selected("ReqMethod eq PUT or ReqMethod eq POST") == [20, 30])
        #expect(throws: VSLQueryError.self) { try VSLQuery("ReqMethod EQ PUT") }
    }

    @Test func quotedOperandsTakeBackslashEscapes() throws {
        let group = VSLGroup(root: VSLTransaction(vxid: 5, type: .request, records: [
            VSLRecord(vxid: 5, tag: .reqHeader, side: .client, text: #"X-Quote: say "hi" \ bye"#),
        ]))
        #expect(try VSLQuery(#"ReqHeader:X-Quote eq "say \"hi\" \\ bye""#).matches(group))
        #expect(try VSLQuery(#"ReqHeader:X-Quote eq 'say "hi" \\ bye'"#).matches(group))
    }

    @Test func numbersAreReadTheVarnishWay() throws {
        func holds(_ query: String, _ payload: String) throws -> Bool {
            let group = VSLGroup(root: VSLTransaction(vxid: 5, type: .request, records: [
                VSLRecord(vxid: 5, tag: .reqHeader, side: .client, text: "X-N: " + payload),
            ]))
            return try VSLQuery(query).matches(group)
        }
        #expect(try holds("ReqHeader:X-N == 1.234", "1.23456"))  // three fraction digits count
        #expect(try holds("ReqHeader:X-N == 1", "1.9"))  // integers drop the fraction
        #expect(try holds("ReqHeader:X-N == 12", "12abc"))  // what follows is ignored
        #expect(try holds("ReqHeader:X-N == 0.5", ".5"))
        #expect(try holds("ReqHeader:X-N == 8", "8"))
        #expect(try holds("ReqHeader:X-N == 010", "8"))  // C octal
        #expect(try holds("ReqHeader:X-N == 0x10", "16"))  // C hex
        #expect(try !holds("ReqHeader:X-N == 0", "abc"))  // not a number: no match
        #expect(try !holds("ReqHeader:X-N > 0", "1234567890123456"))  // more than 15 digits
        #expect(try !holds("ReqHeader:X-N > 0.0", "1000000000000.5"))  // past a Varnish decimal
        #expect(try holds("ReqHeader:X-N[2] == -3", "a -3 b"))
    }

    @Test func fieldsMayBeQuoted() throws {
        let group = VSLGroup(root: VSLTransaction(vxid: 5, type: .request, records: [
            VSLRecord(vxid: 5, tag: .vclLog, side: .client, text: #"note "two words" last"#),
        ]))
        #expect(try VSLQuery(#"VCL_Log[2] eq "two words""#).matches(group))
        #expect(try VSLQuery("VCL_Log[3] eq last").matches(group))
        #expect(try !VSLQuery("VCL_Log[4]").matches(group))
    }

    @Test func rawGroupsAreLevelZero() throws {
        let record = VSLGroup(raw: VSLRecord(vxid: 0, tag: .error, side: .none, text: "oops"))
        #expect(try VSLQuery("vxid == 0 and Error").matches(record))
        #expect(try VSLQuery("{0}Error").matches(record))
        #expect(try !VSLQuery("{1}Error").matches(record))
    }

    /// Parse errors, worded, positioned and marked exactly as varnishlog 7.1 prints them.
    static let varnishlogErrors: [(String, String)] = [
        ("ReqURL ~", "Query expression error:\nExpected regular expression got '' (Pos 9)\nReqURL ~\n--------\n\n\n"),
        ("ReqURL eq \"abc", "Query expression error:\nUnterminated string (Pos 15)\nReqURL eq \"abc\n----------####\n\n\n"),
        ("RespStatus >= abc", "Query expression error:\nInteger parse error (Pos 15)\nRespStatus >= abc\n--------------###\n\n\n"),
        ("Foo == 1", "Query expression error:\nTag name matches zero tags (Pos 1)\nFoo == 1\n###-----\n\n\n"),
        ("Req == 1", "Query expression error:\nTag name is ambiguous (Pos 1)\nReq == 1\n###-----\n\n\n"),
        ("(ReqURL", "Query expression error:\nExpected ')' got end of input (Pos 8)\n(ReqURL\n-------\n\n\n"),
        ("ReqURL = 1", "Query expression error:\nSyntax error (Pos 8)\nReqURL = 1\n-------#--\n\n\n"),
        ("vxid", "Query expression error:\nExpected vxid operator got '' (Pos 5)\nvxid\n----\n\n\n"),
        ("{x}ReqURL", "Query expression error:\nSyntax error in level limit (Pos 2)\n{x}ReqURL\n-#-------\n\n\n"),
        ("ReqURL and", "Query expression error:\nExpected VSL tag name got '' (Pos 11)\nReqURL and\n----------\n\n\n"),
        ("Timestamp:Resp[0] > 1", "Query expression error:\nExpected positive integer (Pos 16)\nTimestamp:Resp[0] > 1\n---------------#-----\n\n\n"),
        ("RespStatus == 1e3", "Query expression error:\nInteger parse error (Pos 15)\nRespStatus == 1e3\n--------------###\n\n\n"),
        ("vxid == 1.5", "Query expression error:\nExpected integer got '1.5' (Pos 9)\nvxid == 1.5\n--------^##\n\n\n"),
        ("ReqHeader:Host eq foo bar", "Query expression error:\nExpected EOI got 'bar' (Pos 23)\nReqHeader:Host eq foo bar\n----------------------###\n\n\n"),
        ("", "Query expression error:\n\n"),
        ("  # only a comment", "Query expression error:\n\n"),
        ("ReqURL=1", "Query expression error:\nSyntax error (Pos 7)\nReqURL=1\n------^-\n\n\n"),
        ("not not ReqURL", "Query expression error:\nExpected VSL tag name got 'not' (Pos 5)\nnot not ReqURL\n----###-------\n\n\n"),
        ("{2", "Query expression error:\nExpected '}' got end of input (Pos 3)\n{2\n--\n\n\n"),
        ("ReqURL,", "Query expression error:\nExpected VSL tag name got '' (Pos 8)\nReqURL,\n-------\n\n\n"),
        ("ReqURL[", "Query expression error:\nExpected integer got '' (Pos 8)\nReqURL[\n-------\n\n\n"),
        ("ReqURL:", "Query expression error:\nExpected string got '' (Pos 8)\nReqURL:\n-------\n\n\n"),
        ("ReqURL eq 'a\nb'", "Query expression error:\nUnterminated string (Pos 13)\nReqURL eq 'a b'\n----------##---\n\n\n"),
        ("{-1}ReqURL", "Query expression error:\nExpected positive integer (Pos 2)\n{-1}ReqURL\n-##-------\n\n\n"),
        ("vxid[1] == 2", "Query expression error:\nUnexpected taglist selection for vxid (Pos 9)\nvxid[1] == 2\n--------##--\n\n\n"),
        ("ReqURL == 08", "Query expression error:\nInteger parse error (Pos 11)\nReqURL == 08\n----------##\n\n\n"),
        ("ReqURL == 1.2.3", "Query expression error:\nFloating point parse error (Pos 11)\nReqURL == 1.2.3\n----------#####\n\n\n"),
        ("ReqURL\nRespStatus ==", "Query expression error:\nExpected number got '' (Pos 21)\nReqURL RespStatus ==\n--------------------\n\n\n"),
        ("RespStatus > 1 )", "Query expression error:\nExpected EOI got ')' (Pos 16)\nRespStatus > 1 )\n---------------#\n\n\n"),
        ("*Req* == 1", "Query expression error:\nSyntax error in tag name (Pos 1)\n*Req* == 1\n#####-----\n\n\n"),
        ("ReqURL !! 2", "Query expression error:\nSyntax error (Pos 8)\nReqURL !! 2\n-------#---\n\n\n"),
    ]

    @Test(arguments: varnishlogErrors)
    func refusesWhatVarnishlogRefuses(query: String, report: String) {
        #expect { try VSLQuery(query) } throws: { error in
            (error as? VSLQueryError).map { String(describing: $0) + "\n" } == report
        }
    }

    @Test func errorsNameTheColumn() {
        #expect { try VSLQuery("RespStatus >= abc") } throws: { error in
            (error as? VSLQueryError)?.position == 15
        }
    }
}
