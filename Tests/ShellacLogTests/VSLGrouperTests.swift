import Testing
import ShellacLog

@Suite struct VSLGrouperTests {
    @Test func rawModeReportsEveryRecordAloneIncludingThoseOfNoTransaction() {
        let result = groups(sampleLog, .raw)
        #expect(result.count == sampleLog.count)
        #expect(result.allSatisfy { $0.isRaw && $0.root.level == 0 && $0.root.records.count == 1 })
        #expect(result.map { $0.root.records[0] } == sampleLog)
        #expect(result.contains { $0.root.vxid == 0 && $0.root.records[0].tag == .backendHealth })
    }

    @Test func vxidModeReportsEachTransactionWhenItEnds() {
        let result = groups(sampleLog, .vxid)
        #expect(result.map(\.root.vxid) == [3, 2, 1])
        #expect(result.map(\.root.type) == [.backendRequest, .request, .session])
        #expect(result.allSatisfy { $0.root.children.isEmpty && $0.root.level == 1 })
        #expect(result[1].root.reason == .rxreq)
        #expect(result[1].root.records.first?.text == "req 1 rxreq")
        #expect(result[1].root.records.last?.tag == .end)
    }

    @Test func requestModeNestsTheFetchUnderItsRequestAndDropsTheSession() {
        let result = groups(sampleLog, .request)
        #expect(result.count == 1)
        let request = result[0].root
        #expect(request.vxid == 2)
        #expect(request.parentVXID == 0)
        #expect(request.children.map(\.vxid) == [3])
        #expect(request.children[0].level == 2)
        #expect(request.children[0].parentVXID == 2)
        #expect(request.children[0].reason == .fetch)
        #expect(!result[0].transactions.contains { $0.records.contains { $0.vxid == 0 } })
    }

    @Test func sessionModeReportsTheWholeConnection() {
        let result = groups(sampleLog, .session)
        #expect(result.count == 1)
        #expect(result[0].transactions.map(\.vxid) == [1, 2, 3])
        #expect(result[0].transactions.map(\.level) == [1, 2, 3])
        #expect(result[0].transactions.map(\.type) == [.session, .request, .backendRequest])
    }

    @Test func groupsListTransactionsBreadthFirstAndRestartsKeepTheirLevel() {
        let requests = groups(esiLog, .request)
        #expect(requests.map(\.root.vxid) == [2, 7])
        #expect(requests[0].transactions.map(\.vxid) == [2, 3, 4, 6, 5])
        #expect(requests[0].transactions.map(\.level) == [1, 2, 2, 1, 3])
        #expect(requests[0].transactions.map(\.reason) == [.rxreq, .fetch, .esi, .restart, .fetch])

        let sessions = groups(esiLog, .session)
        #expect(sessions.map(\.root.vxid) == [1])
        #expect(sessions[0].transactions.map(\.vxid) == [1, 2, 7, 3, 4, 6, 8, 5])
        #expect(sessions[0].transactions.map(\.level) == [1, 2, 2, 3, 3, 2, 3, 4])
    }

    @Test func aFetchWhoseRequestIsNotInTheLogOnlyShowsInVXIDMode() {
        #expect(groups(esiLog, .vxid).map(\.root.vxid).contains(9))
        #expect(!groups(esiLog, .request).flatMap(\.transactions).contains { $0.vxid == 9 })
        #expect(!groups(esiLog, .session).flatMap(\.transactions).contains { $0.vxid == 9 })
    }

    @Test func anUnfinishedTransactionWaitsUntilFlushedThenGetsMadeUpRecords() {
        var grouper = VSLGrouper(mode: .request)
        let reported = esiLog.flatMap { grouper.add($0) }
        #expect(!reported.map(\.root.vxid).contains(10))
        // Request 10, fetch 9 (ended) and the placeholder for its request 99.
        #expect(grouper.heldTransactions == 3)
        let flushed = grouper.flush()
        #expect(flushed.map(\.root.vxid) == [10])
        #expect(flushed[0].root.records.map(\.text) == ["req 1000 rxreq", "/incomplete", "flush", "synth"])
        #expect(flushed[0].root.records.map(\.tag) == [.begin, .reqURL, .vsl, .end])
        #expect(flushed[0].root.records.allSatisfy { $0.side == .client })
        #expect(grouper.heldTransactions == 0)
    }

    @Test func tooManyHeldTransactionsForceOutTheOldestAsVarnishlogDashL() throws {
        let request = VSLPrinter(filter: try tagFilter("Begin,VSL,End"))
        #expect(printed(groups(esiLog, .request, maxIncomplete: 2), request) == text(
            [
        "*   << Request  >> 2         ",
        "-   Begin          req 1 rxreq",
        "-   VSL            store overflow",
        "-   End            synth",
        "**  << BeReq    >> 3         ",
        "--  Begin          bereq 2 fetch",
        "--  End            ",
        "**  << Request  >> 4         ",
        "--  Begin          req 0 synth",
        "--  VSL            store overflow",
        "--  End            synth",
        "",
        "*   << Request  >> 7         ",
        "-   Begin          req 1 rxreq",
        "-   End            ",
        "**  << BeReq    >> 8         ",
        "--  Begin          bereq 7 fetch",
        "--  End            ",
        "",
    ]))
        #expect(printed(groups(esiLog, .session, maxIncomplete: 2)) == text(
            [
        "*   << Session  >> 1         ",
        "-   Begin          sess 0 HTTP/1",
        "-   Link           req 2 rxreq",
        "-   VSL            store overflow",
        "-   End            synth",
        "**  << Request  >> 2         ",
        "--  Begin          req 1 rxreq",
        "--  ReqURL         /a",
        "--  Link           bereq 3 fetch",
        "--  VSL            store overflow",
        "--  End            synth",
        "*** << BeReq    >> 3         ",
        "--- Begin          bereq 0 synth",
        "--- VSL            store overflow",
        "--- End            synth",
        "",
    ]))
    }

    @Test func aTimeoutGivesUpOnOldTransactions() {
        var grouper = VSLGrouper(mode: .vxid, timeout: 10)
        #expect(grouper.add(VSLRecord(vxid: 5, tag: .begin, side: .client, text: "req 1 rxreq"), at: 100).isEmpty)
        #expect(grouper.add(VSLRecord(vxid: 6, tag: .begin, side: .client, text: "req 1 rxreq"), at: 105).isEmpty)
        let late = grouper.add(VSLRecord(vxid: 0, tag: .cli, side: .none, text: "Rd ping"), at: 110)
        #expect(late.map(\.root.vxid) == [5])
        #expect(late[0].root.records.map(\.text) == ["req 1 rxreq", "timeout", "synth"])
        #expect(grouper.heldTransactions == 1)
    }

    @Test func recordsOfUnknownTransactionsAreDroppedAndLateRecordsKept() {
        let log = records(
            """
            99 ReqURL c /nobody-began-this
            2 Begin c req 1 rxreq
            2 Link c bereq 3 fetch
            2 End c
            2 Debug c after end, while the fetch runs
            3 Begin b bereq 2 fetch
            3 End b
            """)
        let result = groups(log, .request)
        #expect(result.count == 1)
        #expect(result[0].root.records.map(\.tag) == [.begin, .link, .end, .debug])
        #expect(result[0].transactions.map(\.vxid) == [2, 3])
    }

    @Test func inconsistentRecordsGetAVSLNoteAsInVarnishlog() {
        let log = records(
            """
            2 Begin c req 1 rxreq
            2 Begin c req 1 rxreq
            2 Link c bereq x fetch
            2 Link c bereq 2 fetch
            2 End c
            """)
        let notes = groups(log, .request).flatMap(\.root.records).filter { $0.tag == .vsl }.map(\.text)
        #expect(notes == [
            "duplicate begin (2:Begin \"req 1 rxreq\")",
            "parse error (2:Link \"bereq x fetch\")",
            "link to self (2:Link \"bereq 2 fetch\")",
        ])
    }

    @Test func groupingNamesAcceptUniquePrefixes() {
        #expect(VSLGrouping(argument: "request") == .request)
        #expect(VSLGrouping(argument: "req") == .request)
        #expect(VSLGrouping(argument: "S") == .session)
        #expect(VSLGrouping(argument: "RAW") == .raw)
        #expect(VSLGrouping(argument: "r") == nil)
        #expect(VSLGrouping(argument: "x") == nil)
    }
}

/// A filter showing only these tags (`-i`).
func tagFilter(_ list: String) throws -> VSLRecordFilter {
    var filter = VSLRecordFilter()
    try filter.include(tags: list)
    return filter
}
