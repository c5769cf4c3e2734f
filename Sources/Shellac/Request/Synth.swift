import NIOCore
import VCL

/// synth: a response made here (`vcl_synth`, or the built-in error page).
extension RequestStateMachine {
    func synth(status: Int, reason: String?) -> RequestStep {
        counters.increment(.synths)
        delivery = nil
        var out = channel.channel.allocator.buffer(capacity: 1024)
        let unsent = esiLevel == 0 && self.body?.owesContinue == true
        guard let body = policy.synthesize(status: status, reason: reason, xid: xid, suggestingClose: unsent, into: &out) else {
            logCall("SYNTH", .restart)
            return .restart
        }
        logResponseHead(out, from: 0)
        logCall("SYNTH", .deliver)
        let vclEnd = out.writerIndex
        if vclSession?.synthClosesConnection ?? unsent { keepAlive = false }
        if esiLevel > 0 {
            // An include's synthetic answer: its body goes into the page, its head nowhere.
            if let stream = esiGzip {
                writeStoredBlocks(ByteBuffer(string: body), into: stream)
            } else {
                writeESIPart(ByteBuffer(string: body))
            }
            return .done
        }
        // The rest of a client body nobody sends is read first (a failure closes the
        // connection after this answer).
        let head = out
        return afterRequestBody(discarding: true) { self.sendSynth(head: head, vclEnd: vclEnd, page: body) }
    }

    /// The synthetic response as `vcl_synth` left it (`head`), framed and sent.
    private func sendSynth(head: ByteBuffer, vclEnd: Int, page: String) -> RequestStep {
        var out = head
        out.writeStaticString("Content-Length: ")
        out.writeDecimal(page.utf8.count)
        out.writeStaticString("\r\n")
        writeConnectionHeader(&out)
        out.writeStaticString("\r\n")
        logResponseHead(out, from: vclEnd)
        countHeadBytes(out.readableBytes)
        if request.method != "HEAD" {
            countBodyBytes(out.writeString(page))
        }
        write(out)
        return .done
    }
}
