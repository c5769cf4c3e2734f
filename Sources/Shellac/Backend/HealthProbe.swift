import Foundation
import NIOCore
import NIOPosix
import Synchronization
import VCL

/// Polls one backend on its probe's schedule, as Varnish's `cache_backend_probe.c` does: every
/// `.interval`, a fresh connection, the probe's request, then everything the backend sends
/// until it closes or `.timeout` runs out. The poke is good when the status line is
/// `HTTP/x.y <.expected_response>`. Each poke goes into the backend's `ProbeHistory`, whose
/// last `.window` pokes decide its health against `.threshold`.
///
/// A probe runs on one event loop and uses its own connections, never the fetch pools, so
/// it measures the backend and not our queues.
final class HealthProbe: Sendable {
    let health: BackendHealth
    private let probe: VCLProbe
    private let host: String
    private let port: Int
    private let unixPath: String?
    private let request: ByteBuffer
    /// `.proxy_header` of the backend: a probe sends the PROXY header too (its own addresses).
    private let proxyHeader: Int?
    private let eventLoop: EventLoop
    private let stopped = Atomic<Bool>(false)
    /// At most this much of the response is kept (its first line decides).
    static let responseLimit = 128

    init(health: BackendHealth, probe: VCLProbe, backend: VCLBackend, eventLoop: EventLoop) {
        self.health = health
        self.probe = probe
        self.host = backend.host
        self.port = Int(backend.port) ?? 80
        self.unixPath = backend.path
        self.eventLoop = eventLoop
        self.request = ByteBuffer(string: Self.requestText(probe: probe, backend: backend))
        self.proxyHeader = backend.proxyHeader
    }

    /// `.request`'s lines, each ended by CRLF, then an empty line; or a GET of `.url` with
    /// the backend's Host and `Connection: close`.
    static func requestText(probe: VCLProbe, backend: VCLBackend) -> String {
        if let lines = probe.request { return lines.map { $0 + "\r\n" }.joined() + "\r\n" }
        let host = backend.hostHeader ?? (backend.path != nil ? "0.0.0.0" : backend.host)
        return "GET \(probe.url) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
    }

    func start() {
        eventLoop.execute { self.poke() }
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    private var interval: Double { probe.interval > 0 ? probe.interval : 5 }
    private var timeout: Double { probe.timeout > 0 ? probe.timeout : 2 }

    private func poke() {
        guard !stopped.load(ordering: .relaxed) else { return }
        let started = Date().timeIntervalSince1970
        let deadline = NIODeadline.now() + .nanoseconds(Int64(timeout * 1e9))
        let outcome = eventLoop.makePromise(of: ProbeOutcome.self)
        outcome.futureResult.whenSuccess { [self] result in
            guard !stopped.load(ordering: .relaxed) else { return }
            let now = Date().timeIntervalSince1970
            health.recordPoke(now: now) { history in result.apply(to: &history, took: now - started, expected: probe.expectedResponse) }
            let next = max(started + interval - now, 0)
            eventLoop.scheduleTask(in: .nanoseconds(Int64(next * 1e9))) { self.poke() }
        }
        let reader = ProbeResponseReader(outcome: outcome)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.nanoseconds(Int64(timeout * 1e9)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader) }
            }
        let connected = unixPath.map { bootstrap.connect(unixDomainSocketPath: $0) } ?? bootstrap.connect(host: host, port: port)
        connected.whenComplete { [self] result in
                switch result {
                case .failure(let error):
                    outcome.succeed(ProbeOutcome(family: nil, sent: false, response: nil, error: "Open error (\(error))"))
                case .success(let channel):
                    reader.connected(family: channel.remoteAddress?.protocol)
                    let timer = eventLoop.scheduleTask(deadline: deadline) {
                        reader.timedOut(after: self.timeout)
                        channel.close(promise: nil)
                    }
                    outcome.futureResult.whenComplete { _ in timer.cancel() }
                    var request = request
                    if let version = proxyHeader,
                       var header = ProxyHeaderWriter.header(
                           version: version, client: channel.localAddress, server: channel.remoteAddress)
                    {
                        header.writeImmutableBuffer(request)
                        request = header
                    }
                    channel.writeAndFlush(request).whenComplete { written in
                        if case .failure(let error) = written { reader.failedToSend("Write error (\(error))") } else { reader.sent() }
                    }
                }
            }
    }
}

/// What one poke saw.
struct ProbeOutcome: Sendable {
    var family: NIOBSDSocket.ProtocolFamily?
    var sent: Bool
    /// The bytes received (nil: a receive error or timeout).
    var response: [UInt8]?
    var error: String?

    /// Sets the history's bits for this poke (as Varnish's `vbp_poke`).
    func apply(to history: inout ProbeHistory, took seconds: Double, expected: Int) {
        switch family {
        case .some(.inet): history.goodIPv4 |= 1
        case .some(.inet6): history.goodIPv6 |= 1
        case .some(.unix): history.goodUnix |= 1
        default: break
        }
        if family != nil {
            if sent { history.goodXmit |= 1 } else { history.errorXmit |= 1 }
        }
        guard sent else {
            history.response = error ?? ""
            return
        }
        guard let response else {
            history.errorRecv |= 1
            history.response = error ?? ""
            return
        }
        guard !response.isEmpty else {
            history.response = "Empty response"
            return
        }
        history.goodRecv |= 1
        history.last = seconds
        let line = response.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        history.response = String(decoding: line, as: UTF8.self)
        if Self.status(of: line) == expected { history.happy |= 1 }
    }

    /// The status of `HTTP/<number> <status>` (what `sscanf("HTTP/%*f %u ")` accepts), or nil.
    static func status(of line: ArraySlice<UInt8>) -> Int? {
        guard line.starts(with: "HTTP/".utf8) else { return nil }
        var rest = line.dropFirst(5)
        let version = rest.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: ".") }
        guard version.contains(where: { $0 != UInt8(ascii: ".") }) else { return nil }
        rest = rest.dropFirst(version.count).drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        let digits = rest.prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard !digits.isEmpty, digits.count < 10 else { return nil }
        return Int(String(decoding: digits, as: UTF8.self))
    }
}

/// Collects what the backend answers a probe with, until it closes the connection.
private final class ProbeResponseReader: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private struct State {
        var outcome = ProbeOutcome(family: nil, sent: false, response: [], error: nil)
        var done = false
    }

    // Touched on the probe's event loop only; the Mutex makes that checkable.
    private let state = Mutex(State())
    private let promise: EventLoopPromise<ProbeOutcome>

    init(outcome: EventLoopPromise<ProbeOutcome>) {
        self.promise = outcome
    }

    func connected(family: NIOBSDSocket.ProtocolFamily?) {
        state.withLock { $0.outcome.family = family }
    }

    func sent() {
        state.withLock { $0.outcome.sent = true }
    }

    func failedToSend(_ error: String) {
        finish { $0.error = error; $0.response = nil }
    }

    func timedOut(after seconds: Double) {
        finish { $0.response = nil; $0.error = String(format: "Poll timeout %.3fs exceeded", seconds) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        state.withLock { state in
            let room = HealthProbe.responseLimit - (state.outcome.response?.count ?? 0)
            if room > 0 { state.outcome.response?.append(contentsOf: buffer.readableBytesView.prefix(room)) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish { $0.response = nil; $0.error = "Read error (\(error))" }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish { _ in }
    }

    private func finish(_ change: (inout ProbeOutcome) -> Void) {
        let outcome: ProbeOutcome? = state.withLock { state in
            guard !state.done else { return nil }
            state.done = true
            change(&state.outcome)
            return state.outcome
        }
        if let outcome { promise.succeed(outcome) }
    }
}
