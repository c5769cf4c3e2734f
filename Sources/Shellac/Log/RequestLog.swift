#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import ShellacCache
import ShellacLog
import VCL

/// A client request's records in the transaction log, with Varnish's tags and payloads:
/// `Begin`, `Timestamp`, `ReqStart`, `Req*`, `VCL_call`/`VCL_return` per state, `Hit`,
/// `Link`, `Resp*`, `ReqAcct`, `End`. They go to the loop's buffer (no lock, no allocation)
/// and reach the ring when the transaction ends.
extension RequestStateMachine {
    /// Points the loop's buffer at this request.
    @inline(__always)
    func logAsRequest() {
        vsl.vxid = xid
        vsl.side = .client
    }

    /// The opening records: who asked what.
    func logBegin(now: Double, vcl: String) {
        if vsl.mask != parameters.vslMask { vsl.mask = parameters.vslMask }
        vsl.recordLimit = parameters.vslRecordLimit
        requestStart = now
        lastTimestamp = now
        responseHeadBytes = 0
        responseBodyBytes = 0
        handling = .synth
        logOpen = true
        logAsRequest()
        if vsl.open(.begin) {
            vsl.put("req ")
            vsl.put(logParent.xid)
            vsl.put(byte: UInt8(ascii: " "))
            vsl.put(logParent.reason)
            vsl.close()
        }
        vsl.timestamp("Start", now: now, start: now, last: now)
        vsl.timestamp("Req", now: now, start: now, last: now)
        vsl.record(.vclUse, vcl)
        let client = clientText
        if esiLevel == 0, vsl.open(.reqStart) {
            vsl.put(client.ip)
            vsl.put(byte: UInt8(ascii: " "))
            vsl.put(client.port)
            vsl.put(" a0")
            vsl.close()
        }
        vsl.record(.reqMethod, request.method)
        vsl.record(.reqURL, request.uri)
        vsl.record(.reqProtocol, request.minorVersion == 1 ? "HTTP/1.1" : "HTTP/1.0")
        var forwarded = false
        if let raw = rawHead {
            rawHead = nil
            forwarded = logRequestFields(raw)
        } else {
            for field in request.headers {
                if field.name.utf8.count == 15, field.name.lowercased() == "x-forwarded-for" {
                    forwarded = true
                    continue  // written below, with the client's address added
                }
                vsl.header(.reqHeader, name: field.name, value: field.value)
            }
        }
        // As Varnish sets it before vcl_recv: every X-Forwarded-For the client sent, then its
        // address (Shellac adds it to the backend request; the log shows the same field).
        if esiLevel == 0, vsl.open(.reqHeader) {
            vsl.put("X-Forwarded-For: ")
            if forwarded {
                vsl.put(request.headers.values("X-Forwarded-For").joined(separator: ", "))
                vsl.put(", ")
            }
            vsl.put(client.ip)
            vsl.close()
        }
    }

    /// A `ReqHeader` per field line of the head as read (the request line skipped), but for
    /// X-Forwarded-For, which `logBegin` writes with the client's address added. Returns
    /// whether the client sent one.
    private func logRequestFields(_ raw: ByteBuffer) -> Bool {
        var forwarded = false
        raw.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var index = 0
            var isRequestLine = true
            while index < bytes.count {
                var end = bytes.count
                if let found = memchr(base + index, 10, bytes.count - index) { end = UnsafeRawPointer(found) - base }
                var lineEnd = end
                if lineEnd > index && bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
                if lineEnd == index && !isRequestLine { break }  // the empty line
                let line = UnsafeRawBufferPointer(start: base + index, count: lineEnd - index)
                if isRequestLine {
                    isRequestLine = false
                } else if line.count > 16 && Self.isForwardedFor(line) {
                    forwarded = true
                } else if vsl.open(.reqHeader) {
                    vsl.put(line)
                    vsl.close()
                }
                index = end + 1
            }
        }
        return forwarded
    }

    /// Whether a field line is X-Forwarded-For (any case).
    private static func isForwardedFor(_ line: UnsafeRawBufferPointer) -> Bool {
        let name = "x-forwarded-for:".utf8
        var index = 0
        for expected in name {
            if line[index] | 0x20 != expected | 0x20 { return false }
            index += 1
        }
        return true
    }

    /// `VCL_call NAME` and `VCL_return action`, with what VCL logged in between.
    func logCall(_ name: StaticString, _ action: VCLAction) {
        logAsRequest()
        vsl.record(.vclCall, name)
        if let session = vclSession { session.context.flushLogs(xid: xid, side: .client, to: vsl) }
        guard vsl.open(.vclReturn) else { return }
        switch action {
        case .hash: vsl.put("hash")
        case .lookup: vsl.put("lookup")
        case .deliver: vsl.put("deliver")
        case .fetch: vsl.put("fetch")
        case .pass: vsl.put("pass")
        default: vsl.put(action.returnName)
        }
        vsl.close()
    }

    /// `Hash`: each `hash_data` part of the key (masked by default, as in Varnish).
    func logHash(_ key: CacheKey) {
        guard !vsl.mask.isMasked(.hash) else { return }
        logAsRequest()
        key.bytes.withUnsafeBytes { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte == 0 {
                if vsl.open(.hash) {
                    vsl.put(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
                    vsl.close()
                }
                start = index + 1
            }
        }
    }

    /// `ExpBan`: a ban found at lookup removed this object.
    func logBanned(_ objectXID: UInt64) {
        logAsRequest()
        guard vsl.open(.expBan) else { return }
        vsl.put(objectXID)
        vsl.put(" banned lookup")
        vsl.close()
    }

    /// `RespUnset`: a field the delivery drops (Content-Encoding when it inflates).
    func logResponseUnset(_ name: StaticString, value: String) {
        logAsRequest()
        guard vsl.open(.respUnset) else { return }
        vsl.put(name)
        vsl.put(": ")
        vsl.put(value)
        vsl.close()
    }

    /// `Hit`: the object's transaction and its TTL, grace and keep left.
    func logHit(_ object: CachedObject, now: Double) {
        logAsRequest()
        guard vsl.open(.hit) else { return }
        let lifetime = object.lifetime
        vsl.put(object.xid)
        vsl.put(byte: UInt8(ascii: " "))
        vsl.put(seconds: lifetime.ttl - (now - lifetime.entered))
        vsl.put(byte: UInt8(ascii: " "))
        vsl.put(seconds: lifetime.grace)
        vsl.put(byte: UInt8(ascii: " "))
        vsl.put(seconds: lifetime.keep)
        vsl.close()
    }

    /// `Link TYPE VXID REASON` in this request: a fetch or an include it began.
    func logLink(_ type: StaticString, xid child: UInt64, reason: StaticString) {
        logAsRequest()
        guard vsl.open(.link) else { return }
        vsl.put(type)
        vsl.put(byte: UInt8(ascii: " "))
        vsl.put(child)
        vsl.put(byte: UInt8(ascii: " "))
        vsl.put(reason)
        vsl.close()
    }

    /// `Filters`: the delivery processors the body goes through, as Varnish names them.
    func logFilters(esi: Bool, gunzip: Bool, range: Bool) {
        logAsRequest()
        guard vsl.open(.filters) else { return }
        if esi { vsl.put("esi") }
        if gunzip { vsl.put(esi ? " gunzip" : "gunzip") }
        if range { vsl.put(esi || gunzip ? " range" : "range") }
        vsl.close()
    }

    /// The client's address and port as the log writes them, converted once per connection.
    var clientText: (ip: String, port: Int) {
        if let cached = clientTextCache { return cached }
        let address = clientAddress
        let text = (address?.ipAddress ?? "-", address?.port ?? 0)
        clientTextCache = text
        return text
    }

    /// A `Timestamp` of this request, since its start and since the last one.
    func logTimestamp(_ label: StaticString, at now: Double = HTTPDate.currentTime()) {
        logAsRequest()
        vsl.timestamp(label, now: now, start: requestStart, last: lastTimestamp)
        lastTimestamp = now
    }

    /// The response head in `head` from byte `from` on: its status line (when it starts
    /// there) as `RespProtocol`, `RespStatus` and `RespReason`, each field as `RespHeader`.
    /// `storedHTTP10`: the object came in HTTP/1.0; its protocol is logged first, then
    /// HTTP/1.1 where the cache's own fields begin, as Varnish does.
    func logResponseHead(_ head: ByteBuffer, from start: Int, storedHTTP10: Bool = false) {
        logAsRequest()
        head.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            var index = start
            var isStatusLine = start == 0
            while index < bytes.count {
                // Lines end in CRLF (the heads here are written by Shellac): find each CR.
                var end = bytes.count
                if let found = memchr(base + index, 13, bytes.count - index) {
                    end = UnsafeRawPointer(found) - base
                }
                if end == index { break }  // the empty line: the head is over
                let line = UnsafeRawBufferPointer(start: base + index, count: end - index)
                if isStatusLine {
                    logStatusLine(line, storedHTTP10: storedHTTP10)
                    isStatusLine = false
                } else {
                    if storedHTTP10 && line.starts(with: "Age: ".utf8) {
                        // Where the stored fields end and the cache's own begin: Varnish logs
                        // the protocol it answers with here.
                        vsl.record(.respProtocol, "HTTP/1.1")
                    }
                    if vsl.open(.respHeader) {
                        vsl.put(line)
                        vsl.close()
                    }
                }
                index = end + 2
            }
        }
    }

    private func logStatusLine(_ line: UnsafeRawBufferPointer, storedHTTP10: Bool) {
        let first = line.firstIndex(of: UInt8(ascii: " ")) ?? line.count
        let rest = first < line.count ? first + 1 : line.count
        let second = line[rest...].firstIndex(of: UInt8(ascii: " ")) ?? line.count
        if vsl.open(.respProtocol) {
            if storedHTTP10 { vsl.put("HTTP/1.0") } else { vsl.put(UnsafeRawBufferPointer(rebasing: line[0..<first])) }
            vsl.close()
        }
        if vsl.open(.respStatus) {
            vsl.put(UnsafeRawBufferPointer(rebasing: line[rest..<second]))
            vsl.close()
        }
        if vsl.open(.respReason) {
            vsl.put(UnsafeRawBufferPointer(rebasing: line[min(second + 1, line.count)..<line.count]))
            vsl.close()
        }
    }

    /// The closing records: `Timestamp Resp`, `ReqAcct`, `End`; the buffer goes to the ring.
    func logEnd() {
        guard logOpen else { return }
        logOpen = false
        logTimestamp("Resp")
        if esiLevel == 0 { times.record(handling, seconds: lastTimestamp - requestStart) }
        vsl.accounting(
            .reqAcct, sentHead: request.headLength, sentBody: requestBodyBytes, receivedHead: responseHeadBytes,
            receivedBody: responseBodyBytes)
        requestBodyBytes = 0  // (counted from before the request begins: not reset at Begin)
        vsl.record(.end, "")
        if esiLevel == 0 { vsl.flush() }
    }

    /// Bytes of the request body read from the client (counted, and kept for `ReqAcct`).
    func countRequestBody(_ count: Int) {
        counters.add(.requestBodyBytes, count)
        requestBodyBytes += count
    }

    /// Bytes of a response head written to the client (counted, and kept for `ReqAcct`).
    func countHeadBytes(_ count: Int) {
        counters.add(.responseHeaderBytes, count)
        responseHeadBytes += count
    }

    func countBodyBytes(_ count: Int) {
        counters.add(.responseBodyBytes, count)
        responseBodyBytes += count
    }
}

/// The session's records: `Begin sess`, `SessOpen`, a `Link` per request, `SessClose`, `End`.
extension RequestStateMachine {
    func logSessionOpen(listener: StaticString) {
        let session = makeXID()
        let now = HTTPDate.currentTime()
        logParent = (session, "rxreq")
        sessionXID = session
        sessionStart = now
        vsl.vxid = session
        vsl.side = .client
        vsl.record(.begin, "sess 0 HTTP/1")
        if vsl.open(.sessOpen) {
            let client = channel.channel.remoteAddress
            let local = channel.channel.localAddress
            vsl.put(client?.ipAddress ?? "-")
            vsl.put(byte: UInt8(ascii: " "))
            vsl.put(client?.port ?? 0)
            vsl.put(byte: UInt8(ascii: " "))
            vsl.put(listener)
            vsl.put(byte: UInt8(ascii: " "))
            vsl.put(local?.ipAddress ?? "-")
            vsl.put(byte: UInt8(ascii: " "))
            vsl.put(local?.port ?? 0)
            vsl.put(byte: UInt8(ascii: " "))
            vsl.put(seconds: now)
            vsl.put(" 0")
            vsl.close()
        }
    }

    /// The session's `Link` to the request beginning now.
    func logSessionLink() {
        vsl.vxid = logParent.xid
        vsl.side = .client
        guard vsl.open(.link) else { return }
        vsl.put("req ")
        vsl.put(xid)
        vsl.put(" rxreq")
        vsl.close()
    }

    func logSessionClose(_ reason: SessionCloseReason) {
        vsl.vxid = logParent.xid
        vsl.side = .client
        if vsl.open(.sessClose) {
            vsl.put(reason.name)
            vsl.put(byte: UInt8(ascii: " "))
            vsl.put(seconds: HTTPDate.currentTime() - sessionStart, decimals: 3)
            vsl.close()
        }
        vsl.record(.end, "")
        vsl.flush()
    }
}
