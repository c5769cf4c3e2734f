import NIOCore
import ShellacCache
import VCL

/// One object's way to the client: the cursor into its body and how it is framed.
struct Delivery {
    var object: CachedObject
    var isHit: Bool
    /// This client's own fetch (a miss or a pass): it may read the object while private.
    var isOwner: Bool
    var cursor = 0
    var headersSent = false
    var chunked = false
    /// Parked until the client's connection is writable again.
    var waitsForClient = false
}

/// deliver and transmit: `vcl_deliver`, then the object's bytes as they arrive and as fast
/// as the client takes them (framing, 304, HEAD, streaming wake-ups, flow control).
extension RequestStateMachine {
    /// Fields a 304 repeats from the stored response (RFC 9110 §15.4.5).
    private static let keptOn304 = ["Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Last-Modified", "Vary"]

    func deliver(_ object: CachedObject, isHit: Bool, isOwner: Bool) -> RequestStep {
        delivery = Delivery(object: object, isHit: isHit, isOwner: isOwner)
        deliveryGeneration += 1
        return .transmit
    }

    /// The client's connection became writable: a delivery parked on it goes on.
    func clientBecameWritable() {
        guard delivery?.waitsForClient == true else { return }
        delivery?.waitsForClient = false
        run(.transmit)
    }

    /// Sends what the object has past the cursor, while the client can take it. Parks on the
    /// object (a wake-up when it changes) or on the client (its writability).
    func transmit() -> RequestStep {
        guard var current = delivery else { return .done }
        while true {
            // Most reads find data (every hit does): only a read that finds nothing new pays for
            // a wake-up closure, and it repeats the read with it so no change is missed.
            var read = current.object.read(
                from: current.cursor, headersSeen: current.headersSent, isOwner: current.isOwner, listener: nil)
            if case .waiting = read {
                read = current.object.read(
                    from: current.cursor, headersSeen: current.headersSent, isOwner: current.isOwner,
                    listener: makeWakeUp())
            }
            switch read {
            case .waiting:
                delivery = current
                return .waiting
            case .failed:
                delivery = nil
                if current.headersSent {
                    keepAlive = false
                    return .done
                }
                // As in Varnish, a failed fetch (VCL abandoned it, or vcl_backend_error gave
                // up) is a 503 made by vcl_synth on the client side.
                return .synth(status: 503, reason: "Backend fetch failed")
            case .abandoned:
                // The object we waited on turned out private: look up again (which now finds
                // the hit-for-miss mark and fetches for us alone).
                return lookUpAgain()
            case .progress(let metadata, let chunks, let phase):
                if !current.headersSent {
                    if !current.isOwner && !metadata.variant.isEmpty && !metadata.variant.matches(request.headers) {
                        return lookUpAgain()
                    }
                    if current.isHit, phase == .complete, request.isConditional,
                        ConditionalRequest.isNotModified(
                            method: request.method, request: request.headers, status: metadata.status,
                            response: metadata.headers, storedAt: current.object.lifetime.entered)
                    {
                        delivery = nil
                        writeNotModified(metadata, object: current.object)
                        return .done
                    }
                    let action = writeHead(
                        metadata, object: current.object, isHit: current.isHit, phase: phase, chunks: chunks,
                        chunked: &current.chunked)
                    guard action == .deliver else {
                        // vcl_deliver restarted, or answered with a synth: this object is not sent.
                        delivery = nil
                        return otherwise(action)
                    }
                    current.headersSent = true
                }
                let sendsBody = request.method != "HEAD" && ResponseStatus.hasBody(metadata.status)
                let sent = sendsBody ? writeBody(chunks, chunked: current.chunked) : chunks.count
                current.cursor += sent
                if current.isOwner && !current.isHit {
                    current.object.discardRead(upTo: current.cursor, window: ObjectFetcher.privateWindow)
                }
                if sent < chunks.count {
                    // The client takes no more for now: wait until it has drained.
                    current.waitsForClient = true
                    delivery = current
                    channel.flush()
                    return .waiting
                }
                if phase == .complete {
                    if current.chunked && sendsBody { write(ByteBuffer(staticString: "0\r\n\r\n")) }
                    delivery = nil
                    return .done
                }
                channel.flush()
            }
        }
    }

    /// Writes chunks while the client's connection stays writable; returns how many went.
    private func writeBody(_ chunks: ArraySlice<ByteBuffer>, chunked: Bool) -> Int {
        var sent = 0
        for chunk in chunks {
            if chunk.readableBytes > 0 {
                if chunked {
                    var size = channel.channel.allocator.buffer(capacity: 10)
                    size.writeChunkSize(chunk.readableBytes)
                    write(size)
                    write(chunk)
                    write(ByteBuffer(staticString: "\r\n"))
                } else {
                    write(chunk)
                }
            }
            sent += 1
            if !channel.channel.isWritable { break }
        }
        return sent
    }

    /// The object found was not for this request after all: look up again, or pass after
    /// three tries.
    private func lookUpAgain() -> RequestStep {
        delivery = nil
        relookups += 1
        return relookups > 3 ? .pass : .hash
    }

    /// A one-shot callback that resumes this delivery on this connection's loop, unless the
    /// connection has moved on to another response since.
    private func makeWakeUp() -> @Sendable () -> Void {
        let generation = deliveryGeneration
        let loopBound = NIOLoopBound(self, eventLoop: channel.eventLoop)
        let eventLoop = channel.eventLoop
        return {
            eventLoop.execute {
                let machine = loopBound.value
                if machine.deliveryGeneration == generation, machine.delivery != nil { machine.run(.transmit) }
            }
        }
    }

    /// Writes the response head: `vcl_deliver`'s status line and fields, then the framing
    /// (`chunked` says whether the body goes chunked). Writes nothing, and returns what
    /// `vcl_deliver` said, unless that is `.deliver`.
    private func writeHead(
        _ metadata: ObjectMetadata, object: CachedObject, isHit: Bool, phase: ObjectPhase,
        chunks: ArraySlice<ByteBuffer>, chunked: inout Bool
    ) -> VCLAction {
        let head = request
        let sendsInlineBody = metadata.hasInlineBody && head.method != "HEAD" && ResponseStatus.hasBody(metadata.status)
        var out = channel.channel.allocator.buffer(
            capacity: (sendsInlineBody ? metadata.storedBytes.count : metadata.headerLength) + 160)
        let action = policy.writeDeliveryHead(
            object, metadata: metadata, xid: xid, isHit: isHit, now: HTTPDate.currentTime(), into: &out)
        guard action == .deliver else { return action }
        chunked = false
        if ResponseStatus.hasBody(metadata.status) {
            var length: Int?
            if metadata.hasInlineBody {
                length = metadata.inlineBody.count
            } else if head.method == "HEAD", let declared = metadata.declaredLength {
                length = declared  // a passed HEAD's object has no body to count
            } else if phase == .complete {
                length = chunks.reduce(0) { $0 + $1.readableBytes }
            } else if let declared = metadata.declaredLength {
                length = declared
            }
            if let length {
                out.writeStaticString("Content-Length: ")
                out.writeDecimal(length)
                out.writeStaticString("\r\n")
            } else if head.method == "HEAD" {
                // Length unknown yet: say nothing rather than guess.
            } else if head.minorVersion == 1 {
                out.writeStaticString("Transfer-Encoding: chunked\r\n")
                chunked = true
            } else {
                keepAlive = false  // HTTP/1.0 without a length: the close ends the body
            }
        }
        writeConnectionHeader(&out)
        out.writeStaticString("\r\n")
        if sendsInlineBody { out.writeBytes(metadata.inlineBody) }  // small objects: one write
        write(out)
        return .deliver
    }

    private func writeNotModified(_ metadata: ObjectMetadata, object: CachedObject) {
        var out = channel.channel.allocator.buffer(capacity: 256)
        out.writeStaticString("HTTP/1.1 304 Not Modified\r\n")
        for field in metadata.headers where Self.keptOn304.contains(where: { field.name.equalsIgnoringASCIICase($0) }) {
            out.writeString(field.name)
            out.writeStaticString(": ")
            out.writeString(field.value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Age: ")
        out.writeDecimal(object.lifetime.age(at: HTTPDate.currentTime()))
        out.writeStaticString("\r\nX-Varnish: ")
        out.writeDecimal(xid)
        out.writeStaticString(" ")
        out.writeDecimal(object.xid)
        out.writeStaticString("\r\nVia: 1.1 shellac\r\n")
        writeConnectionHeader(&out)
        out.writeStaticString("\r\n")
        write(out)
    }
}
