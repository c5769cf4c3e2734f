import Testing
import ShellacLog

@Suite struct VSLPrinterTests {
    @Test func requestGroupLayoutMatchesVarnishlog() {
        #expect(printed(groups(sampleLog, .request)) == text(
            [
            "*   << Request  >> 2         ",
            "-   Begin          req 1 rxreq",
            "-   Timestamp      Start: 1796082843.442249 0.000000 0.000000",
            "-   Timestamp      Req: 1796082843.442249 0.000000 0.000000",
            "-   VCL_use        boot",
            "-   ReqStart       127.0.0.1 39654 a0",
            "-   ReqMethod      GET",
            "-   ReqURL         /",
            "-   ReqProtocol    HTTP/1.1",
            "-   ReqHeader      Host: 127.0.0.1:16081",
            "-   ReqHeader      User-Agent: curl/7.88.1",
            "-   ReqHeader      Accept: */*",
            "-   VCL_call       RECV",
            "-   VCL_return     hash",
            "-   VCL_call       HASH",
            "-   VCL_return     lookup",
            "-   VCL_call       MISS",
            "-   VCL_return     fetch",
            "-   Link           bereq 3 fetch",
            "-   RespProtocol   HTTP/1.1",
            "-   RespStatus     200",
            "-   RespReason     OK",
            "-   RespHeader     Content-Length: 294",
            "-   VCL_call       DELIVER",
            "-   VCL_return     deliver",
            "-   Timestamp      Process: 1796082843.443722 0.001473 0.000016",
            "-   Filters        ",
            "-   Timestamp      Resp: 1796082843.443745 0.001495 0.000022",
            "-   ReqAcct        79 0 79 255 294 549",
            "-   End            ",
            "**  << BeReq    >> 3         ",
            "--  Begin          bereq 2 fetch",
            "--  Timestamp      Start: 1796082843.442338 0.000000 0.000000",
            "--  BereqMethod    GET",
            "--  BereqURL       /",
            "--  BereqProtocol  HTTP/1.1",
            "--  BereqHeader    Host: 127.0.0.1:16081",
            "--  VCL_call       BACKEND_FETCH",
            "--  VCL_return     fetch",
            "--  BackendOpen    23 default 127.0.0.1 18080 127.0.0.1 50926 connect",
            "--  Timestamp      Beresp: 1796082843.443590 0.001251 0.001137",
            "--  BerespProtocol HTTP/1.0",
            "--  BerespStatus   200",
            "--  BerespReason   OK",
            "--  BerespHeader   Content-Length: 294",
            "--  Timestamp      BerespBody: 1796082843.443713 0.001374 0.000106",
            "--  BereqAcct      144 0 144 155 294 449",
            "--  End            ",
            "",
        ]))
    }

    @Test func sessionGroupLayoutMatchesVarnishlog() {
        #expect(printed(groups(sampleLog, .session)) == text(
            [
            "*   << Session  >> 1         ",
            "-   Begin          sess 0 HTTP/1",
            "-   SessOpen       127.0.0.1 39654 a0 127.0.0.1 16081 1796082843.442204 20",
            "-   Link           req 2 rxreq",
            "-   SessClose      REM_CLOSE 0.002",
            "-   End            ",
            "**  << Request  >> 2         ",
            "--  Begin          req 1 rxreq",
            "--  Timestamp      Start: 1796082843.442249 0.000000 0.000000",
            "--  Timestamp      Req: 1796082843.442249 0.000000 0.000000",
            "--  VCL_use        boot",
            "--  ReqStart       127.0.0.1 39654 a0",
            "--  ReqMethod      GET",
            "--  ReqURL         /",
            "--  ReqProtocol    HTTP/1.1",
            "--  ReqHeader      Host: 127.0.0.1:16081",
            "--  ReqHeader      User-Agent: curl/7.88.1",
            "--  ReqHeader      Accept: */*",
            "--  VCL_call       RECV",
            "--  VCL_return     hash",
            "--  VCL_call       HASH",
            "--  VCL_return     lookup",
            "--  VCL_call       MISS",
            "--  VCL_return     fetch",
            "--  Link           bereq 3 fetch",
            "--  RespProtocol   HTTP/1.1",
            "--  RespStatus     200",
            "--  RespReason     OK",
            "--  RespHeader     Content-Length: 294",
            "--  VCL_call       DELIVER",
            "--  VCL_return     deliver",
            "--  Timestamp      Process: 1796082843.443722 0.001473 0.000016",
            "--  Filters        ",
            "--  Timestamp      Resp: 1796082843.443745 0.001495 0.000022",
            "--  ReqAcct        79 0 79 255 294 549",
            "--  End            ",
            "*** << BeReq    >> 3         ",
            "--- Begin          bereq 2 fetch",
            "--- Timestamp      Start: 1796082843.442338 0.000000 0.000000",
            "--- BereqMethod    GET",
            "--- BereqURL       /",
            "--- BereqProtocol  HTTP/1.1",
            "--- BereqHeader    Host: 127.0.0.1:16081",
            "--- VCL_call       BACKEND_FETCH",
            "--- VCL_return     fetch",
            "--- BackendOpen    23 default 127.0.0.1 18080 127.0.0.1 50926 connect",
            "--- Timestamp      Beresp: 1796082843.443590 0.001251 0.001137",
            "--- BerespProtocol HTTP/1.0",
            "--- BerespStatus   200",
            "--- BerespReason   OK",
            "--- BerespHeader   Content-Length: 294",
            "--- Timestamp      BerespBody: 1796082843.443713 0.001374 0.000106",
            "--- BereqAcct      144 0 144 155 294 449",
            "--- End            ",
            "",
        ]))
    }

    @Test func vxidLayoutPrintsEachTransactionAsItsOwnGroup() {
        #expect(printed(groups(sampleLog, .vxid)) == text(
            [
            "*   << BeReq    >> 3         ",
            "-   Begin          bereq 2 fetch",
            "-   Timestamp      Start: 1796082843.442338 0.000000 0.000000",
            "-   BereqMethod    GET",
            "-   BereqURL       /",
            "-   BereqProtocol  HTTP/1.1",
            "-   BereqHeader    Host: 127.0.0.1:16081",
            "-   VCL_call       BACKEND_FETCH",
            "-   VCL_return     fetch",
            "-   BackendOpen    23 default 127.0.0.1 18080 127.0.0.1 50926 connect",
            "-   Timestamp      Beresp: 1796082843.443590 0.001251 0.001137",
            "-   BerespProtocol HTTP/1.0",
            "-   BerespStatus   200",
            "-   BerespReason   OK",
            "-   BerespHeader   Content-Length: 294",
            "-   Timestamp      BerespBody: 1796082843.443713 0.001374 0.000106",
            "-   BereqAcct      144 0 144 155 294 449",
            "-   End            ",
            "",
            "*   << Request  >> 2         ",
            "-   Begin          req 1 rxreq",
            "-   Timestamp      Start: 1796082843.442249 0.000000 0.000000",
            "-   Timestamp      Req: 1796082843.442249 0.000000 0.000000",
            "-   VCL_use        boot",
            "-   ReqStart       127.0.0.1 39654 a0",
            "-   ReqMethod      GET",
            "-   ReqURL         /",
            "-   ReqProtocol    HTTP/1.1",
            "-   ReqHeader      Host: 127.0.0.1:16081",
            "-   ReqHeader      User-Agent: curl/7.88.1",
            "-   ReqHeader      Accept: */*",
            "-   VCL_call       RECV",
            "-   VCL_return     hash",
            "-   VCL_call       HASH",
            "-   VCL_return     lookup",
            "-   VCL_call       MISS",
            "-   VCL_return     fetch",
            "-   Link           bereq 3 fetch",
            "-   RespProtocol   HTTP/1.1",
            "-   RespStatus     200",
            "-   RespReason     OK",
            "-   RespHeader     Content-Length: 294",
            "-   VCL_call       DELIVER",
            "-   VCL_return     deliver",
            "-   Timestamp      Process: 1796082843.443722 0.001473 0.000016",
            "-   Filters        ",
            "-   Timestamp      Resp: 1796082843.443745 0.001495 0.000022",
            "-   ReqAcct        79 0 79 255 294 549",
            "-   End            ",
            "",
            "*   << Session  >> 1         ",
            "-   Begin          sess 0 HTTP/1",
            "-   SessOpen       127.0.0.1 39654 a0 127.0.0.1 16081 1796082843.442204 20",
            "-   Link           req 2 rxreq",
            "-   SessClose      REM_CLOSE 0.002",
            "-   End            ",
            "",
        ]))
    }

    @Test func rawLayoutRightAlignsTheVXIDAndShowsTheSide() throws {
        #expect(printed(groups(sampleLog, .raw)) == text(
            [
            "         1 Begin          c sess 0 HTTP/1",
            "         1 SessOpen       c 127.0.0.1 39654 a0 127.0.0.1 16081 1796082843.442204 20",
            "         1 Link           c req 2 rxreq",
            "         2 Begin          c req 1 rxreq",
            "         2 Timestamp      c Start: 1796082843.442249 0.000000 0.000000",
            "         2 Timestamp      c Req: 1796082843.442249 0.000000 0.000000",
            "         2 VCL_use        c boot",
            "         2 ReqStart       c 127.0.0.1 39654 a0",
            "         2 ReqMethod      c GET",
            "         2 ReqURL         c /",
            "         2 ReqProtocol    c HTTP/1.1",
            "         2 ReqHeader      c Host: 127.0.0.1:16081",
            "         2 ReqHeader      c User-Agent: curl/7.88.1",
            "         2 ReqHeader      c Accept: */*",
            "         2 VCL_call       c RECV",
            "         2 VCL_return     c hash",
            "         2 VCL_call       c HASH",
            "         2 VCL_return     c lookup",
            "         2 VCL_call       c MISS",
            "         2 VCL_return     c fetch",
            "         2 Link           c bereq 3 fetch",
            "         3 Begin          b bereq 2 fetch",
            "         3 Timestamp      b Start: 1796082843.442338 0.000000 0.000000",
            "         3 BereqMethod    b GET",
            "         3 BereqURL       b /",
            "         3 BereqProtocol  b HTTP/1.1",
            "         3 BereqHeader    b Host: 127.0.0.1:16081",
            "         3 VCL_call       b BACKEND_FETCH",
            "         3 VCL_return     b fetch",
            "         3 BackendOpen    b 23 default 127.0.0.1 18080 127.0.0.1 50926 connect",
            "         3 Timestamp      b Beresp: 1796082843.443590 0.001251 0.001137",
            "         3 BerespProtocol b HTTP/1.0",
            "         3 BerespStatus   b 200",
            "         3 BerespReason   b OK",
            "         3 BerespHeader   b Content-Length: 294",
            "         3 Timestamp      b BerespBody: 1796082843.443713 0.001374 0.000106",
            "         3 BereqAcct      b 144 0 144 155 294 449",
            "         3 End            b ",
            "         2 RespProtocol   c HTTP/1.1",
            "         2 RespStatus     c 200",
            "         2 RespReason     c OK",
            "         2 RespHeader     c Content-Length: 294",
            "         2 VCL_call       c DELIVER",
            "         2 VCL_return     c deliver",
            "         2 Timestamp      c Process: 1796082843.443722 0.001473 0.000016",
            "         2 Filters        c ",
            "         2 Timestamp      c Resp: 1796082843.443745 0.001495 0.000022",
            "         2 ReqAcct        c 79 0 79 255 294 549",
            "         2 End            c ",
            "         0 Backend_health - default Still healthy 4---X-RH 5 3 5 0.001 0.002 HTTP/1.1 200 OK",
            "         1 SessClose      c REM_CLOSE 0.002",
            "         1 End            c ",
        ]))
        let some = VSLPrinter(filter: try tagFilter("Begin,SessOpen,BereqMethod"))
        #expect(printed(groups(sampleLog, .raw), some) == text(
            [
            "         1 Begin          c sess 0 HTTP/1",
            "         1 SessOpen       c 127.0.0.1 39654 a0 127.0.0.1 16081 1796082843.442204 20",
            "         2 Begin          c req 1 rxreq",
            "         3 Begin          b bereq 2 fetch",
            "         3 BereqMethod    b GET",
        ]))
    }

    @Test func verboseAddsTheRawColumnsToGroups() {
        #expect(printed(groups(sampleLog, .request), VSLPrinter(verbose: true)) == text(
            [
            "*              << Request  >>   2         ",
            "-            2 Begin          c req 1 rxreq",
            "-            2 Timestamp      c Start: 1796082843.442249 0.000000 0.000000",
            "-            2 Timestamp      c Req: 1796082843.442249 0.000000 0.000000",
            "-            2 VCL_use        c boot",
            "-            2 ReqStart       c 127.0.0.1 39654 a0",
            "-            2 ReqMethod      c GET",
            "-            2 ReqURL         c /",
            "-            2 ReqProtocol    c HTTP/1.1",
            "-            2 ReqHeader      c Host: 127.0.0.1:16081",
            "-            2 ReqHeader      c User-Agent: curl/7.88.1",
            "-            2 ReqHeader      c Accept: */*",
            "-            2 VCL_call       c RECV",
            "-            2 VCL_return     c hash",
            "-            2 VCL_call       c HASH",
            "-            2 VCL_return     c lookup",
            "-            2 VCL_call       c MISS",
            "-            2 VCL_return     c fetch",
            "-            2 Link           c bereq 3 fetch",
            "-            2 RespProtocol   c HTTP/1.1",
            "-            2 RespStatus     c 200",
            "-            2 RespReason     c OK",
            "-            2 RespHeader     c Content-Length: 294",
            "-            2 VCL_call       c DELIVER",
            "-            2 VCL_return     c deliver",
            "-            2 Timestamp      c Process: 1796082843.443722 0.001473 0.000016",
            "-            2 Filters        c ",
            "-            2 Timestamp      c Resp: 1796082843.443745 0.001495 0.000022",
            "-            2 ReqAcct        c 79 0 79 255 294 549",
            "-            2 End            c ",
            "**             << BeReq    >>   3         ",
            "--           3 Begin          b bereq 2 fetch",
            "--           3 Timestamp      b Start: 1796082843.442338 0.000000 0.000000",
            "--           3 BereqMethod    b GET",
            "--           3 BereqURL       b /",
            "--           3 BereqProtocol  b HTTP/1.1",
            "--           3 BereqHeader    b Host: 127.0.0.1:16081",
            "--           3 VCL_call       b BACKEND_FETCH",
            "--           3 VCL_return     b fetch",
            "--           3 BackendOpen    b 23 default 127.0.0.1 18080 127.0.0.1 50926 connect",
            "--           3 Timestamp      b Beresp: 1796082843.443590 0.001251 0.001137",
            "--           3 BerespProtocol b HTTP/1.0",
            "--           3 BerespStatus   b 200",
            "--           3 BerespReason   b OK",
            "--           3 BerespHeader   b Content-Length: 294",
            "--           3 Timestamp      b BerespBody: 1796082843.443713 0.001374 0.000106",
            "--           3 BereqAcct      b 144 0 144 155 294 449",
            "--           3 End            b ",
            "",
        ]))
    }

    @Test func levelsPastThreeAreNumbered() throws {
        #expect(printed(groups(esiLog, .session), VSLPrinter(filter: try tagFilter("Begin"))) == text(
            [
            "*   << Session  >> 1         ",
            "-   Begin          sess 0 HTTP/1",
            "**  << Request  >> 2         ",
            "--  Begin          req 1 rxreq",
            "**  << Request  >> 7         ",
            "--  Begin          req 1 rxreq",
            "*** << BeReq    >> 3         ",
            "--- Begin          bereq 2 fetch",
            "*** << Request  >> 4         ",
            "--- Begin          req 2 esi",
            "**  << Request  >> 6         ",
            "--  Begin          req 2 restart",
            "*** << BeReq    >> 8         ",
            "--- Begin          bereq 7 fetch",
            "*4* << BeReq    >> 5         ",
            "-4- Begin          bereq 4 fetch",
            "",
        ]))
    }

    @Test func unsafeAndBinaryPayloadsAreEscapedAsVarnishlogDoes() {
        let log = [
            VSLRecord(vxid: 5, tag: .begin, side: .client, text: "req 1 rxreq"),
            VSLRecord(vxid: 5, tag: .hash, side: .client, payload: Array("/".utf8) + [0x01] + Array("ab".utf8)),
            VSLRecord(vxid: 5, tag: .debug, side: .client, payload: Array("tab\there \"quoted\" 100%".utf8)),
            VSLRecord(vxid: 5, tag: .h2RxHdr, side: .client, payload: [0, 0, 4, 1, 5, 0, 0, 0, 1]),
            VSLRecord(vxid: 5, tag: .reqURL, side: .client, payload: Array("/a".utf8) + [0] + Array("hidden".utf8)),
            VSLRecord(vxid: 5, tag: .end, side: .client, text: ""),
        ]
        #expect(printed(groups(log, .raw)) == text(
            [
            "         5 Begin          c req 1 rxreq",
            "         5 Hash           c \"/%01ab%00\"",
            "         5 Debug          c \"tab%09here \"quoted\" 100%%00\"",
            "         5 H2RxHdr        c [000004010500000001]",
            "         5 ReqURL         c /a",
            "         5 End            c ",
        ]))
        #expect(printed(groups(log, .vxid)) == text(
            [
            "*   << Request  >> 5         ",
            "-   Begin          req 1 rxreq",
            "-   Hash           \"/%01ab%00\"",
            "-   Debug          \"tab%09here \"quoted\" 100%%00\"",
            "-   H2RxHdr        [000004010500000001]",
            "-   ReqURL         /a",
            "-   End            ",
            "",
        ]))
    }

    @Test func tagListsShowAndHideInTheOrderGiven() throws {
        var filter = VSLRecordFilter()
        try filter.include(tags: "Req*,Timestamp")
        try filter.exclude(tags: "ReqHeader")
        #expect(printed(groups(sampleLog, .request), VSLPrinter(filter: filter)) == text(
            [
            "*   << Request  >> 2         ",
            "-   Timestamp      Start: 1796082843.442249 0.000000 0.000000",
            "-   Timestamp      Req: 1796082843.442249 0.000000 0.000000",
            "-   ReqStart       127.0.0.1 39654 a0",
            "-   ReqMethod      GET",
            "-   ReqURL         /",
            "-   ReqProtocol    HTTP/1.1",
            "-   Timestamp      Process: 1796082843.443722 0.001473 0.000016",
            "-   Timestamp      Resp: 1796082843.443745 0.001495 0.000022",
            "-   ReqAcct        79 0 79 255 294 549",
            "**  << BeReq    >> 3         ",
            "--  Timestamp      Start: 1796082843.442338 0.000000 0.000000",
            "--  Timestamp      Beresp: 1796082843.443590 0.001251 0.001137",
            "--  Timestamp      BerespBody: 1796082843.443713 0.001374 0.000106",
            "",
        ]))

        var hideFirst = VSLRecordFilter()
        try hideFirst.exclude(tags: "Begin")
        try hideFirst.include(tags: "Begin,Link")
        #expect(sampleLog.allSatisfy(hideFirst.matches))
    }

    @Test func payloadPatternsSelectRecords() throws {
        var filter = VSLRecordFilter()
        try filter.include(matching: "ReqHeader:curl")
        try filter.include(tags: "Begin")
        #expect(printed(groups(sampleLog, .raw), VSLPrinter(filter: filter)) == text(
            [
            "         1 Begin          c sess 0 HTTP/1",
            "         2 Begin          c req 1 rxreq",
            "         2 ReqHeader      c User-Agent: curl/7.88.1",
            "         3 Begin          b bereq 2 fetch",
        ]))

        var timestamps = VSLRecordFilter()
        try timestamps.exclude(matching: "Timestamp:^(Start|Req|Process|Resp|Beresp|BerespBody):")
        try timestamps.include(tags: "Timestamp")
        #expect(printed(groups(sampleLog, .vxid), VSLPrinter(filter: timestamps)) == text(
            [
            "*   << BeReq    >> 3         ",
            "-   Begin          bereq 2 fetch",
            "-   BereqMethod    GET",
            "-   BereqURL       /",
            "-   BereqProtocol  HTTP/1.1",
            "-   BereqHeader    Host: 127.0.0.1:16081",
            "-   VCL_call       BACKEND_FETCH",
            "-   VCL_return     fetch",
            "-   BackendOpen    23 default 127.0.0.1 18080 127.0.0.1 50926 connect",
            "-   BerespProtocol HTTP/1.0",
            "-   BerespStatus   200",
            "-   BerespReason   OK",
            "-   BerespHeader   Content-Length: 294",
            "-   BereqAcct      144 0 144 155 294 449",
            "-   End            ",
            "",
            "*   << Request  >> 2         ",
            "-   Begin          req 1 rxreq",
            "-   VCL_use        boot",
            "-   ReqStart       127.0.0.1 39654 a0",
            "-   ReqMethod      GET",
            "-   ReqURL         /",
            "-   ReqProtocol    HTTP/1.1",
            "-   ReqHeader      Host: 127.0.0.1:16081",
            "-   ReqHeader      User-Agent: curl/7.88.1",
            "-   ReqHeader      Accept: */*",
            "-   VCL_call       RECV",
            "-   VCL_return     hash",
            "-   VCL_call       HASH",
            "-   VCL_return     lookup",
            "-   VCL_call       MISS",
            "-   VCL_return     fetch",
            "-   Link           bereq 3 fetch",
            "-   RespProtocol   HTTP/1.1",
            "-   RespStatus     200",
            "-   RespReason     OK",
            "-   RespHeader     Content-Length: 294",
            "-   VCL_call       DELIVER",
            "-   VCL_return     deliver",
            "-   Filters        ",
            "-   ReqAcct        79 0 79 255 294 549",
            "-   End            ",
            "",
            "*   << Session  >> 1         ",
            "-   Begin          sess 0 HTTP/1",
            "-   SessOpen       127.0.0.1 39654 a0 127.0.0.1 16081 1796082843.442204 20",
            "-   Link           req 2 rxreq",
            "-   SessClose      REM_CLOSE 0.002",
            "-   End            ",
            "",
        ]))
    }

    @Test func patternsAreCaseSensitiveUnlessDashC() throws {
        var exact = VSLRecordFilter()
        try exact.include(matching: "ReqURL,ReqHeader:CURL")
        #expect(printed(groups(sampleLog, .raw), VSLPrinter(filter: exact)) == "")

        var caseless = VSLRecordFilter()
        try caseless.apply(option: "C")
        try caseless.apply(option: "I", argument: "ReqURL,ReqHeader:CURL")
        #expect(printed(groups(sampleLog, .raw), VSLPrinter(filter: caseless)) == text(
            [
            "         2 ReqHeader      c User-Agent: curl/7.88.1",
        ]))
    }

    @Test func patternsSeeTheStoredTerminatorSoDollarNeverMatchesAtTheEnd() throws {
        var filter = VSLRecordFilter()
        try filter.include(matching: "ReqURL:/$")
        #expect(!filter.matches(VSLRecord(vxid: 2, tag: .reqURL, side: .client, text: "/")))
        var anchored = VSLRecordFilter()
        try anchored.include(matching: "ReqURL:^/")
        #expect(anchored.matches(VSLRecord(vxid: 2, tag: .reqURL, side: .client, text: "/")))
    }

    @Test func clientAndBackendOptionsKeepTheirSideAndStillPrintHeaders() throws {
        var client = try tagFilter("Begin,End")
        client.clientOnly = true
        #expect(printed(groups(sampleLog, .session), VSLPrinter(filter: client)) == text(
            [
            "**  << Request  >> 2         ",
            "--  Begin          req 1 rxreq",
            "--  End            ",
            "",
        ]))

        var backend = try tagFilter("Begin,End")
        try backend.apply(option: "b")
        #expect(printed(groups(sampleLog, .session), VSLPrinter(filter: backend)) == text(
            [
            "*** << BeReq    >> 3         ",
            "--- Begin          bereq 2 fetch",
            "--- End            ",
            "",
        ]))

        var both = VSLRecordFilter()
        both.clientOnly = true
        both.backendOnly = true
        #expect(printed(groups(sampleLog, .request), VSLPrinter(filter: both)) == text(
            [
            "*   << Request  >> 2         ",
            "**  << BeReq    >> 3         ",
            "",
        ]))
    }

    @Test func esiSubrequestsNeedDashEWithDashC() {
        var client = VSLRecordFilter()
        client.clientOnly = true
        let group = groups(esiLog, .request)[0]
        #expect(group.transactions.filter(client.shows).map(\.vxid) == [2, 6])
        var withESI = VSLRecordFilter()
        try? withESI.apply(option: "E")
        #expect(group.transactions.filter(withESI.shows).map(\.vxid) == [2, 4, 6])
    }

    @Test func badTagListsAreReportedAsVarnishlogDoes() {
        var filter = VSLRecordFilter()
        #expect(throws: VSLOptionError(message: "-i: \"Foo\" matches zero tags")) {
            try filter.include(tags: "Foo")
        }
        #expect(throws: VSLOptionError(message: "-i: \"ReqU\" is ambiguous")) {
            try filter.include(tags: "ReqU")
        }
        #expect(throws: VSLOptionError(message: "-x: Syntax error in \"*Req*\"")) {
            try filter.exclude(tags: "*Req*")
        }
        #expect(throws: VSLOptionError(message: "-I: \"Nope\" matches zero tags")) {
            try filter.include(matching: "Nope:x")
        }
        #expect(throws: Never.self) {
            try filter.include(tags: "requr,Req*URL,*header")
        }
    }
}
