import Testing
import ShellacLog

/// Records as `varnishlog -g raw` lists them, one per line: `VXID Tag side payload` (side
/// `c`, `b` or `-`; the payload is the rest of the line, possibly empty).
func records(_ text: String) -> [VSLRecord] {
    text.split(separator: "\n").compactMap { line in
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, let vxid = UInt64(parts[0]), let tag = VSLTag(name: String(parts[1])) else {
            Issue.record("bad fixture line: \(line)")
            return nil
        }
        let side: VSLSide = parts[2] == "c" ? .client : parts[2] == "b" ? .backend : .none
        return VSLRecord(vxid: vxid, tag: tag, side: side, text: parts.count > 3 ? String(parts[3]) : "")
    }
}

/// Feeds the records in order, as varnishlog reads a file: incomplete groups are not flushed.
func groups(_ records: [VSLRecord], _ mode: VSLGrouping, maxIncomplete: Int = 1000) -> [VSLGroup] {
    var grouper = VSLGrouper(mode: mode, maxIncomplete: maxIncomplete)
    return records.flatMap { grouper.add($0) }
}

/// The groups as varnishlog prints them.
func printed(_ groups: [VSLGroup], _ printer: VSLPrinter = VSLPrinter()) -> String {
    groups.map { printer.text(for: $0) }.joined()
}

/// Expected output lines, each ending in a newline.
func text(_ lines: [String]) -> String {
    lines.map { $0 + "\n" }.joined()
}

/// One client request (vxid 2) of a session (1) with its backend fetch (3), a health probe
/// record (vxid 0) in between: a real varnishd 7.1 exchange, shortened.
let sampleLog = records(
    """
    1 Begin c sess 0 HTTP/1
    1 SessOpen c 127.0.0.1 39654 a0 127.0.0.1 16081 1796082843.442204 20
    1 Link c req 2 rxreq
    2 Begin c req 1 rxreq
    2 Timestamp c Start: 1796082843.442249 0.000000 0.000000
    2 Timestamp c Req: 1796082843.442249 0.000000 0.000000
    2 VCL_use c boot
    2 ReqStart c 127.0.0.1 39654 a0
    2 ReqMethod c GET
    2 ReqURL c /
    2 ReqProtocol c HTTP/1.1
    2 ReqHeader c Host: 127.0.0.1:16081
    2 ReqHeader c User-Agent: curl/7.88.1
    2 ReqHeader c Accept: */*
    2 VCL_call c RECV
    2 VCL_return c hash
    2 VCL_call c HASH
    2 VCL_return c lookup
    2 VCL_call c MISS
    2 VCL_return c fetch
    2 Link c bereq 3 fetch
    3 Begin b bereq 2 fetch
    3 Timestamp b Start: 1796082843.442338 0.000000 0.000000
    3 BereqMethod b GET
    3 BereqURL b /
    3 BereqProtocol b HTTP/1.1
    3 BereqHeader b Host: 127.0.0.1:16081
    3 VCL_call b BACKEND_FETCH
    3 VCL_return b fetch
    3 BackendOpen b 23 default 127.0.0.1 18080 127.0.0.1 50926 connect
    3 Timestamp b Beresp: 1796082843.443590 0.001251 0.001137
    3 BerespProtocol b HTTP/1.0
    3 BerespStatus b 200
    3 BerespReason b OK
    3 BerespHeader b Content-Length: 294
    3 Timestamp b BerespBody: 1796082843.443713 0.001374 0.000106
    3 BereqAcct b 144 0 144 155 294 449
    3 End b
    2 RespProtocol c HTTP/1.1
    2 RespStatus c 200
    2 RespReason c OK
    2 RespHeader c Content-Length: 294
    2 VCL_call c DELIVER
    2 VCL_return c deliver
    2 Timestamp c Process: 1796082843.443722 0.001473 0.000016
    2 Filters c
    2 Timestamp c Resp: 1796082843.443745 0.001495 0.000022
    2 ReqAcct c 79 0 79 255 294 549
    2 End c
    0 Backend_health - default Still healthy 4---X-RH 5 3 5 0.001 0.002 HTTP/1.1 200 OK
    1 SessClose c REM_CLOSE 0.002
    1 End c
    """)

/// Two requests (2, 7) of one session (1): request 2 has a fetch (3), an ESI include (4) with
/// its own fetch (5) and a restart (6); a background fetch (9) whose request is not in the
/// log; a request (10) that never ends. Links often come before the child's Begin.
let esiLog = records(
    """
    1 Begin c sess 0 HTTP/1
    1 Link c req 2 rxreq
    2 Begin c req 1 rxreq
    2 ReqURL c /a
    2 Link c bereq 3 fetch
    3 Begin b bereq 2 fetch
    3 End b
    2 Link c req 4 esi
    4 Begin c req 2 esi
    4 Link c bereq 5 fetch
    5 Begin b bereq 4 fetch
    5 End b
    4 End c
    2 Link c req 6 restart
    2 End c
    6 Begin c req 2 restart
    6 End c
    1 Link c req 7 rxreq
    7 Begin c req 1 rxreq
    7 Link c bereq 8 fetch
    8 Begin b bereq 7 fetch
    8 End b
    7 End c
    1 End c
    9 Begin b bereq 99 bgfetch
    9 End b
    10 Begin c req 1000 rxreq
    10 ReqURL c /incomplete
    """)
