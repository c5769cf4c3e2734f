import NIOCore
import ShellacCache
import VCL

/// Delivery of a gzip object to a client that does not accept gzip (Varnish's `gunzip`
/// delivery filter): the stored bytes inflated as they are sent, the head without
/// `Content-Encoding` and with a weak `ETag`, the length known once the object is complete.
extension RequestStateMachine {
    /// Whether `metadata`'s body goes to this client inflated.
    func deliversGunzipped(_ metadata: ObjectMetadata) -> Bool {
        metadata.isGzip && parameters.httpGzipSupport && AcceptEncoding.normalized(request.headers) == nil
    }

    /// A delivery decided to inflate (counted as Varnish counts its gunzip filters: a HEAD too).
    func countGunzip() { counters.increment(.gunzips) }

    /// Starts inflating for `delivery`; false if zlib could not start (the client is closed).
    func startGunzip(_ delivery: inout Delivery) -> Bool {
        guard let gunzipper = try? Gunzipper(bufferSize: parameters.gzipBuffer, allocator: channel.channel.allocator) else {
            return false
        }
        delivery.gunzip = gunzipper
        return true
    }

    /// Inflates and sends `chunks` (all of them: flow control waits for the next read);
    /// returns how many went, or nil when the stored body does not inflate.
    func writeGunzipped(_ chunks: ArraySlice<ByteBuffer>, delivery: inout Delivery) -> Int? {
        guard let gunzipper = delivery.gunzip else { return nil }
        var sent = 0
        for chunk in chunks {
            do {
                try gunzipper.push(chunk) { writeWindowed($0, delivery: &delivery) }
            } catch {
                return nil
            }
            sent += 1
            if !channel.channel.isWritable || (delivery.isRanged && delivery.bodyOffset >= delivery.rangeEnd) { break }
        }
        return sent
    }

    /// Sends `part`, or the piece of it inside the delivery's range.
    func writeWindowed(_ part: ByteBuffer, delivery: inout Delivery) {
        guard delivery.isRanged else { return writeBodyPart(part, chunked: delivery.chunked) }
        let start = delivery.bodyOffset
        let end = start + part.readableBytes
        delivery.bodyOffset = end
        let low = max(start, delivery.rangeLow)
        let high = min(end, delivery.rangeEnd)
        if low < high, let slice = part.getSlice(at: part.readerIndex + (low - start), length: high - low) {
            writeBodyPart(slice, chunked: false)
        }
    }

    /// The response head as `vcl_deliver` left it (status line and field lines), for a body
    /// other than the stored bytes (inflated, or an ESI page assembled): a strong `ETag` made
    /// weak, and for an inflated one `Content-Encoding` dropped.
    static func rewrittenHead(_ head: ByteBuffer, droppingContentEncoding: Bool) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(head.readableBytes + 2)
        let view = head.readableBytesView
        var lineStart = view.startIndex
        while lineStart < view.endIndex {
            let newline = view[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? (view.endIndex - 1)
            let line = view[lineStart...newline]
            lineStart = newline + 1
            if droppingContentEncoding && Self.lineHasName(line, "content-encoding") { continue }
            if Self.lineHasName(line, "etag"), let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                var value = line[(colon + 1)...].drop { $0 == 0x20 || $0 == 0x09 }
                if value.first == UInt8(ascii: "\"") {
                    out.writeBytes(line[..<(colon + 1)])
                    out.writeStaticString(" W/")
                    value = value[...]
                    out.writeBytes(value)
                    continue
                }
            }
            out.writeBytes(line)
        }
        return out
    }

    private static func lineHasName(_ line: ByteBufferView.SubSequence, _ name: StaticString) -> Bool {
        guard line.count > name.utf8CodeUnitCount, line[line.startIndex + name.utf8CodeUnitCount] == UInt8(ascii: ":")
        else { return false }
        var index = line.startIndex
        for byte in UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount) {
            guard line[index] | 0x20 == byte else { return false }
            index += 1
        }
        return true
    }
}
