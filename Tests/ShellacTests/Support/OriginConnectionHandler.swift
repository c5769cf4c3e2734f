// The per-connection side of `TestOrigin`: decodes requests and writes the responses they get.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
// MARK: - per-connection handler (event-loop confined)

final class OriginConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    private let state: TestOrigin.SharedState
    private let configuration: TestOrigin.Configuration
    private let connectionID: Int

    private var currentHead: HTTPRequestHead?
    private var currentBody: [UInt8] = []
    private var queue: [TestOrigin.Request] = []
    private var busy = false
    private var requestIndex = 0
    private var closed = false
    private var idleTimer: Scheduled<Void>?

    init(state: TestOrigin.SharedState, configuration: TestOrigin.Configuration, connectionID: Int) {
        self.state = state
        self.configuration = configuration
        self.connectionID = connectionID
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        idleTimer?.cancel()
        idleTimer = nil
        switch unwrapInboundIn(data) {
        case .head(let head):
            currentHead = head
            currentBody = []
            if configuration.sendContinue, !busy, queue.isEmpty,
               head.headers[canonicalForm: "expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                writeBytes(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), context: context)
            }
        case .body(var buffer):
            if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                currentBody.append(contentsOf: bytes)
            }
        case .end:
            guard let head = currentHead else { return }
            currentHead = nil
            let request = TestOrigin.Request(
                method: head.method.rawValue, uri: head.uri, version: head.version,
                headers: head.headers, body: currentBody, connectionID: connectionID,
                indexOnConnection: requestIndex, receivedAt: .now)
            requestIndex += 1
            currentBody = []
            state.record(request)
            queue.append(request)
            processNext(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        idleTimer?.cancel()
        idleTimer = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Malformed request or socket error: the origin just hangs up.
        closed = true
        context.close(promise: nil)
    }

    private func processNext(context: ChannelHandlerContext) {
        guard !busy, !closed, !queue.isEmpty else { return }
        busy = true
        let request = queue.removeFirst()
        let handler = state.handler(for: request.path)
        let promise = context.eventLoop.makePromise(of: TestOrigin.Response.self)
        promise.completeWithTask { try await handler(request) }
        promise.futureResult.assumeIsolated().whenComplete { result in
            let response: TestOrigin.Response
            switch result {
            case .success(let r): response = r
            case .failure(let error):
                response = TestOrigin.Response(status: .internalServerError, body: "handler threw: \(error)\n")
            }
            self.respond(response, to: request, context: context)
        }
    }

    private func respond(_ response: TestOrigin.Response, to request: TestOrigin.Request, context: ChannelHandlerContext) {
        guard !closed else { return }
        switch response.action {
        case .neverRespond:
            return  // stays busy: later pipelined requests are never answered either
        case .dropConnection:
            closed = true
            context.close(promise: nil)
        case .raw(let bytes, let close):
            writeBytes(bytes, context: context)
            finish(close: close, context: context)
        case .http:
            if response.delayBeforeHeaders > .zero {
                context.eventLoop.assumeIsolated().scheduleTask(in: response.delayBeforeHeaders.timeAmount) {
                    self.writeHTTP(response, to: request, context: context)
                }
            } else {
                writeHTTP(response, to: request, context: context)
            }
        }
    }

    private func writeHTTP(_ response: TestOrigin.Response, to request: TestOrigin.Request, context: ChannelHandlerContext) {
        guard !closed else { return }
        var headers = response.headers
        let code = response.status.code
        let bodyAllowed = !(code < 200 || code == 204 || code == 304)
        let sendBody = bodyAllowed && request.method != "HEAD"
        let clientWantsClose = !keepAlive(request)
        let close = response.closeConnection || clientWantsClose || response.framing == .closeDelimited

        switch response.framing {
        case .contentLength:
            if bodyAllowed, !headers.contains(name: "content-length") {
                headers.add(name: "Content-Length", value: String(response.bodyLength))
            }
        case .chunked:
            if bodyAllowed, !headers.contains(name: "transfer-encoding") {
                headers.add(name: "Transfer-Encoding", value: "chunked")
            }
        case .closeDelimited:
            break
        }
        if close, !headers.contains(name: "connection") {
            headers.add(name: "Connection", value: "close")
        }

        var head = "HTTP/1.1 \(code) \(response.status.reasonPhrase)\r\n"
        for (name, value) in headers {
            head += "\(name): \(value)\r\n"
        }
        head += "\r\n"
        var pending = Array(head.utf8)

        guard sendBody else {
            writeBytes(pending, context: context)
            finish(close: close, context: context)
            return
        }
        let chunked = response.framing == .chunked
        let pieces = response.chunks.filter { !$0.isEmpty }
        // Bounded by the number of pieces; each step is scheduled after the previous one.
        func writePiece(_ index: Int) {
            guard !closed else { return }
            if index < pieces.count {
                pending += chunked ? frameChunk(pieces[index]) : pieces[index]
                if index == pieces.count - 1, chunked { pending += Array("0\r\n\r\n".utf8) }
                writeBytes(pending, context: context)
                pending = []
                if index == pieces.count - 1 {
                    finish(close: close, context: context)
                } else if response.delayBetweenChunks > .zero {
                    context.eventLoop.assumeIsolated().scheduleTask(in: response.delayBetweenChunks.timeAmount) {
                        writePiece(index + 1)
                    }
                } else {
                    writePiece(index + 1)
                }
            } else {
                // No pieces at all.
                if chunked { pending += Array("0\r\n\r\n".utf8) }
                writeBytes(pending, context: context)
                finish(close: close, context: context)
            }
        }
        writePiece(0)
    }

    private func frameChunk(_ bytes: [UInt8]) -> [UInt8] {
        Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
    }

    private func keepAlive(_ request: TestOrigin.Request) -> Bool {
        let tokens = request.headers[canonicalForm: "connection"].map { $0.lowercased() }
        if tokens.contains("close") { return false }
        if request.version.major == 1, request.version.minor == 0 { return tokens.contains("keep-alive") }
        return true
    }

    private func writeBytes(_ bytes: [UInt8], context: ChannelHandlerContext) {
        guard !closed, !bytes.isEmpty else { return }
        var buffer = context.channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }

    private func finish(close: Bool, context: ChannelHandlerContext) {
        guard !closed else { return }
        if close {
            closed = true
            // An empty write completes after everything before it has been written.
            let flushed = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: flushed)
            flushed.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        busy = false
        if !queue.isEmpty {
            processNext(context: context)
        } else if let idle = configuration.idleTimeout, currentHead == nil {
            idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: idle.timeAmount) {
                guard !self.busy, self.queue.isEmpty, self.currentHead == nil, !self.closed else { return }
                self.closed = true
                context.close(promise: nil)
            }
        }
    }
}

/// Shorthand used by the integration tests: `Response(body: "x")` is an origin response.
typealias Response = TestOrigin.Response
