import NIOHTTP1
import ShellacCache
import ShellacLog
import VCL

/// The fetch's log records and counters: `TTL`, `Filters`, `Storage`, `Fetch_Body`, `Gzip`
/// and the `Beresp*` head, as Varnish writes them.
extension ObjectFetcher {
    /// `TTL RFC`: what the response's own fields gave (ttl, grace, keep, now, when it was
    /// stored, its Date, Expires, max-age, and whether it may be stored), as Varnish logs it.
    func logTTL(_ lifetime: ObjectLifetime, now: Double, rawHeaders: HeaderList) {
        guard log.open(.ttl) else { return }
        log.put("RFC ")
        for value in [lifetime.ttl, lifetime.grace, lifetime.keep, now, lifetime.entered] {
            log.put(Int(value.rounded()))
            log.put(byte: UInt8(ascii: " "))
        }
        let date = rawHeaders["Date"].flatMap { HTTPDate.parse($0) }.map(Double.init) ?? now
        log.put(Int(date.rounded()))
        log.put(" 0 0 ")
        log.put(lifetime.ttl > 0 ? "cacheable" : "uncacheable")
        log.close()
    }

    /// The records between `vcl_backend_response` and the body: `Timestamp Process`,
    /// `Filters`, `Storage`, `Fetch_Body` (how the body is framed).
    func logBodyPlan(head: HTTPResponseHead, uncacheable: Bool, now: Double) {
        log.stamp("Process", now: now, start: logStart)
        if log.open(.filters) {
            switch coding {
            case .none: break
            case .testGunzip: log.put("testgunzip")
            case .gunzip: log.put("gunzip")
            case .gzip: log.put("gzip")
            case .esiGzip: log.put("esi_gzip")
            }
            if doESI, !coding.isESIGzip { log.put(" esi") }
            log.close()
        }
        if log.open(.storage) {
            log.put("malloc ")
            log.put(context.store.areaNames[storageArea])
            log.close()
        }
        let framing: StaticString
        switch head.status.code {
        case _ where isHeadRequest: counters.increment(.fetchHead); framing = "0 none"
        case 100..<200: counters.increment(.fetch1xx); framing = "0 none"
        case 204: counters.increment(.fetch204); framing = "0 none"
        case 304: counters.increment(.fetch304); framing = "0 none"
        default:
            if head.headers.contains(name: "transfer-encoding") {
                counters.increment(.fetchChunked)
                framing = "2 chunked"
            } else if head.headers.contains(name: "content-length") {
                counters.increment(.fetchLength)
                framing = "3 length"
            } else {
                counters.increment(.fetchEOF)
                framing = "4 eof"
            }
        }
        guard log.open(.fetchBody) else { return }
        log.put(framing)
        log.put(holdsReaders ? " -" : " stream")
        log.close()
    }

    /// `beresp_uncacheable` (a pass or an uncacheable response) and `beresp_shortlived`
    /// (TTL + grace + keep under `shortlived`), as Varnish counts them when it picks Transient.
    func countStorage(uncacheable: Bool, lifetime: ObjectLifetime) {
        if mode == .pass || uncacheable {
            counters.increment(.uncacheable)
        } else if lifetime.ttl + lifetime.grace + lifetime.keep < context.parameters.shortlived {
            counters.increment(.shortlived)
        }
    }

    /// `Gzip`, as Varnish writes it when a fetch filter is done: what it did (`G` gzip, `U`
    /// gunzip, `u` test-gunzip), `F` (fetch), `E` for ESI or `-`, bytes in and out, and the
    /// start, last and stop bits of the stored gzip stream (0 when it is not gzip).
    func logGzip(_ bits: GzipBits?) {
        let letter: StaticString
        switch coding {
        case .none: return
        case .testGunzip: letter = "u F "
        case .gunzip: letter = "U F "
        case .gzip: letter = "G F "
        case .esiGzip: letter = "G F "
        }
        guard log.open(.gzip) else { return }
        log.put(letter)
        log.put(doESI ? "E " : "- ")
        log.put(receivedBodyBytes)
        log.put(byte: UInt8(ascii: " "))
        log.put(max(object.bodyBytes, object.metadata?.inlineBody.count ?? 0))
        for value in [bits?.startBit ?? 0, bits?.lastBit ?? 0, bits?.stopBit ?? 0] {
            log.put(byte: UInt8(ascii: " "))
            log.put(value)
        }
        log.close()
    }

    /// `BerespProtocol`, `BerespStatus`, `BerespReason` and a `BerespHeader` per field, as
    /// the backend sent them.
    func logResponseHead(_ head: HTTPResponseHead) {
        log.record(.berespProtocol, head.version.minor == 0 ? "HTTP/1.0" : "HTTP/1.1")
        if log.open(.berespStatus) {
            log.put(Int(head.status.code))
            log.close()
        }
        log.record(.berespReason, head.status.reasonPhrase)
        // The head's bytes as received, if the backend wrote it the usual way ("Name: value").
        responseHeadBytes = 17 + head.status.reasonPhrase.utf8.count
        for field in head.headers {
            log.header(.berespHeader, name: field.name, value: field.value)
            responseHeadBytes += field.name.utf8.count + field.value.utf8.count + 4
        }
    }

    /// Counts the zlib streams the coding starts (varnishstat's `n_gzip`, `n_gunzip`, `n_test_gunzip`).
    func countCoding() {
        switch coding {
        case .none: break
        case .testGunzip: counters.increment(.testGunzips)
        case .gunzip: counters.increment(.gunzips)
        case .gzip: counters.increment(.gzips)
        case .esiGzip(let gunzipper):
            counters.increment(.gzips)
            if gunzipper != nil { counters.increment(.gunzips) }
        }
    }
}
