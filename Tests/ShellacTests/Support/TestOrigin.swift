// A small programmable HTTP/1.1 origin server for integration tests.
//
// It listens on 127.0.0.1 on an ephemeral port, hands every complete request to a handler
// closure, and writes the response the handler describes. Responses are serialised here by
// hand (only the request side uses NIOHTTP1's decoder) so a test can ask for exact framing:
// Content-Length, chunked, close-delimited, streamed with pauses, delayed headers, raw bytes,
// a dropped connection, or no answer at all.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

public final class TestOrigin: Sendable {
    public typealias Handler = @Sendable (Request) async throws -> Response

    /// A request as the origin received it.
    public struct Request: Sendable {
        public let method: String
        public let uri: String
        public let version: HTTPVersion
        public let headers: HTTPHeaders
        public let body: [UInt8]
        /// Which accepted TCP connection carried it (1-based, in accept order).
        public let connectionID: Int
        /// 0 for the first request on its connection, 1 for the second, and so on.
        public let indexOnConnection: Int
        public let receivedAt: ContinuousClock.Instant

        /// The URI without its query string.
        public var path: String {
            if let q = uri.firstIndex(of: "?") { return String(uri[..<q]) }
            return uri
        }
        public var query: String? {
            guard let q = uri.firstIndex(of: "?") else { return nil }
            return String(uri[uri.index(after: q)...])
        }
        public var bodyString: String { String(decoding: body, as: UTF8.self) }
        /// First value of a header (case-insensitive), or nil.
        public func header(_ name: String) -> String? { headers.first(name: name) }
    }

    /// What the origin does with a request.
    public struct Response: Sendable {
        public enum Framing: Sendable, Equatable {
            /// `Content-Length` (added when the headers do not already carry one).
            case contentLength
            /// `Transfer-Encoding: chunked`, one HTTP chunk per element of `chunks`.
            case chunked
            /// Neither; the body ends when the origin closes the connection.
            case closeDelimited
        }

        enum Action: Sendable {
            case http
            case neverRespond
            case dropConnection
            case raw([UInt8], close: Bool)
        }

        public var status: HTTPResponseStatus
        public var headers: HTTPHeaders
        /// The body, as the pieces that are written (and flushed) one at a time.
        public var chunks: [[UInt8]]
        public var framing: Framing
        /// Pause before the status line is written (first-byte timeouts, coalescing).
        public var delayBeforeHeaders: Duration
        /// Pause between two consecutive body pieces (streaming, between-bytes timeouts).
        /// The headers and the first piece are written together.
        public var delayBetweenChunks: Duration
        /// Close the connection after this response (adds `Connection: close` unless
        /// the headers already say something about Connection).
        public var closeConnection: Bool
        var action: Action

        public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: String = "") {
            self.init(status: status, headers: headers, bytes: Array(body.utf8))
        }

        public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], bytes: [UInt8]) {
            self.status = status
            self.headers = headers
            self.chunks = bytes.isEmpty ? [] : [bytes]
            self.framing = .contentLength
            self.delayBeforeHeaders = .zero
            self.delayBetweenChunks = .zero
            self.closeConnection = false
            self.action = .http
        }

        /// A `Transfer-Encoding: chunked` response, one HTTP chunk per element.
        public static func chunked(
            status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], chunks: [String],
            delayBetweenChunks: Duration = .zero
        ) -> Response {
            streamed(status: status, headers: headers, chunks: chunks,
                     delayBetweenChunks: delayBetweenChunks, framing: .chunked)
        }

        /// A body written piece by piece with a pause between pieces, framed as asked
        /// (`.contentLength` announces the total length up front).
        public static func streamed(
            status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], chunks: [String],
            delayBetweenChunks: Duration, framing: Framing = .chunked
        ) -> Response {
            var r = Response(status: status, headers: headers, bytes: [])
            r.chunks = chunks.map { Array($0.utf8) }
            r.framing = framing
            r.delayBetweenChunks = delayBetweenChunks
            return r
        }

        /// A body of `size` bytes of a repeating printable pattern (see `TestOrigin.body(size:)`).
        public static func sized(_ size: Int, status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:]) -> Response {
            Response(status: status, headers: headers, bytes: TestOrigin.body(size: size))
        }

        /// Read the request and never answer; the connection stays open until the peer
        /// closes it or the origin shuts down.
        public static var neverRespond: Response {
            var r = Response()
            r.action = .neverRespond
            return r
        }

        /// Close the connection without writing anything (a backend that closed a reused
        /// keep-alive connection just as the request arrived).
        public static var dropConnection: Response {
            var r = Response()
            r.action = .dropConnection
            return r
        }

        /// Write these exact bytes as the response, then close if asked.
        public static func raw(_ text: String, thenClose: Bool = false) -> Response {
            raw(bytes: Array(text.utf8), thenClose: thenClose)
        }

        public static func raw(bytes: [UInt8], thenClose: Bool = false) -> Response {
            var r = Response()
            r.action = .raw(bytes, close: thenClose)
            return r
        }

        /// The same response, with its status line held back for `delay`.
        public func delayed(by delay: Duration) -> Response {
            var r = self
            r.delayBeforeHeaders = delay
            return r
        }

        /// The same response, closing the connection after it.
        public func closingConnection() -> Response {
            var r = self
            r.closeConnection = true
            return r
        }

        public func withHeader(_ name: String, _ value: String) -> Response {
            var r = self
            r.headers.add(name: name, value: value)
            return r
        }

        public var bodyLength: Int { chunks.reduce(0) { $0 + $1.count } }
    }

    public struct Configuration: Sendable {
        /// Close a keep-alive connection that has been idle (no request in progress) this long
        /// after a response. nil: keep it open until the peer closes it.
        public var idleTimeout: Duration?
        /// Answer `Expect: 100-continue` with `100 Continue` before reading the body.
        public var sendContinue: Bool

        public init(idleTimeout: Duration? = nil, sendContinue: Bool = true) {
            self.idleTimeout = idleTimeout
            self.sendContinue = sendContinue
        }
    }

    public let host: String
    public let port: Int
    public let configuration: Configuration
    private let serverChannel: any Channel
    let state: SharedState

    /// `http://127.0.0.1:PORT`
    public var baseURL: String { "http://\(host):\(port)" }
    /// `127.0.0.1:PORT`, as for `-b`.
    public var address: String { "\(host):\(port)" }
    public func url(_ path: String) -> String { baseURL + path }

    private init(host: String, port: Int, configuration: Configuration, serverChannel: any Channel, state: SharedState) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.serverChannel = serverChannel
        self.state = state
    }

    /// Starts an origin on 127.0.0.1 with an ephemeral port.
    /// `handler` answers every request whose path has no route (default: 404).
    public static func start(
        configuration: Configuration = .init(),
        routes: [String: Handler] = [:],
        handler: @escaping Handler = { _ in Response(status: .notFound, body: "no route\n") }
    ) async throws -> TestOrigin {
        let state = SharedState(defaultHandler: handler, routes: routes)
        let host = "127.0.0.1"
        let config = configuration
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = state.connectionOpened(channel)
                    channel.closeFuture.whenComplete { _ in state.connectionClosed(id) }
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(
                        OriginConnectionHandler(state: state, configuration: config, connectionID: id))
                }
            }
            .bind(host: host, port: 0).get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw OriginError.noPort
        }
        return TestOrigin(host: host, port: port, configuration: config, serverChannel: channel, state: state)
    }

    /// Starts an origin that answers every request with the same response.
    public static func start(configuration: Configuration = .init(), always response: Response) async throws -> TestOrigin {
        try await start(configuration: configuration) { _ in response }
    }

    enum OriginError: Error { case noPort }

    // MARK: routes

    /// Answers requests whose path (URI without query) equals `path`; replaces an earlier route.
    public func route(_ path: String, _ handler: @escaping Handler) {
        state.setRoute(path, handler)
    }

    /// Answers `path` with a fixed response.
    public func route(_ path: String, _ response: Response) {
        state.setRoute(path) { _ in response }
    }

    /// Replaces the handler for requests without a route.
    public func setDefaultHandler(_ handler: @escaping Handler) {
        state.setDefaultHandler(handler)
    }

    // MARK: observation

    /// Every request received so far, in arrival order.
    public var requests: [Request] { state.log.withLock { $0.requests } }
    public var requestCount: Int { state.log.withLock { $0.requests.count } }
    public func requestCount(path: String) -> Int {
        state.log.withLock { $0.requests.lazy.filter { $0.path == path }.count }
    }
    public func requests(path: String) -> [Request] {
        state.log.withLock { $0.requests.filter { $0.path == path } }
    }
    /// TCP connections accepted since start (or the last `resetLog()`).
    public var connectionCount: Int { state.log.withLock { $0.accepted } }
    /// TCP connections open right now.
    public var openConnectionCount: Int { state.log.withLock { $0.open.count } }

    /// Forgets requests and the accepted-connection count (open connections stay open).
    public func resetLog() {
        state.log.withLock {
            $0.requests.removeAll()
            $0.accepted = 0
        }
    }

    /// Waits until at least `count` requests (for `path`, if given) have arrived; returns
    /// whether they did within `timeout`.
    @discardableResult
    public func waitForRequests(_ count: Int, path: String? = nil, timeout: Duration = .seconds(5)) async -> Bool {
        await pollUntil(timeout: timeout) {
            if let path { return self.requestCount(path: path) >= count }
            return self.requestCount >= count
        }
    }

    /// Waits until the number of open connections is `count`; returns whether it was reached.
    @discardableResult
    public func waitForOpenConnections(_ count: Int, timeout: Duration = .seconds(5)) async -> Bool {
        await pollUntil(timeout: timeout) { self.openConnectionCount == count }
    }

    // MARK: lifecycle

    /// Stops listening and closes every open connection. Safe to call twice.
    public func shutdown() async {
        try? await serverChannel.close()
        let open = state.log.withLock { Array($0.open.values) }
        for channel in open {
            try? await channel.close()
        }
    }

    deinit {
        // A test that forgot shutdown() must not leak the listener or its connections.
        serverChannel.close(promise: nil)
        for channel in state.log.withLock({ Array($0.open.values) }) {
            channel.close(promise: nil)
        }
    }

    // MARK: helpers

    /// A deterministic printable body of exactly `size` bytes ("0123456789abcdef..." repeating,
    /// with a newline every 64 bytes).
    public static func body(size: Int) -> [UInt8] {
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/".utf8)
        var out = [UInt8]()
        out.reserveCapacity(size)
        for i in 0..<max(0, size) {
            out.append(i % 64 == 63 ? UInt8(ascii: "\n") : alphabet[i % 64])
        }
        return out
    }

    /// An IMF-fixdate (RFC 9110 §5.6.7) for Date / Expires / Last-Modified headers.
    public static func httpDate(_ date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}

/// Polls `condition` every 5 ms until it holds or `timeout` passes.
func pollUntil(timeout: Duration, _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    // Bounded: at most timeout / 5 ms iterations.
    while true {
        if condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        do { try await Task.sleep(for: .milliseconds(5)) } catch { return condition() }
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

// MARK: - shared state

extension TestOrigin {
    struct LogState {
        var requests: [Request] = []
        var accepted = 0
        var nextConnectionID = 1
        var open: [Int: any Channel] = [:]
    }

    struct RouteTable {
        var defaultHandler: Handler
        var routes: [String: Handler]
    }

    final class SharedState: Sendable {
        let log = Mutex(LogState())
        let routeTable: Mutex<RouteTable>

        init(defaultHandler: @escaping Handler, routes: [String: Handler]) {
            routeTable = Mutex(RouteTable(defaultHandler: defaultHandler, routes: routes))
        }

        func connectionOpened(_ channel: any Channel) -> Int {
            log.withLock {
                let id = $0.nextConnectionID
                $0.nextConnectionID += 1
                $0.accepted += 1
                $0.open[id] = channel
                return id
            }
        }

        func connectionClosed(_ id: Int) {
            _ = log.withLock { $0.open.removeValue(forKey: id) }
        }

        func record(_ request: Request) {
            log.withLock { $0.requests.append(request) }
        }

        func handler(for path: String) -> Handler {
            routeTable.withLock { $0.routes[path] ?? $0.defaultHandler }
        }

        func setRoute(_ path: String, _ handler: @escaping Handler) {
            routeTable.withLock { $0.routes[path] = handler }
        }

        func setDefaultHandler(_ handler: @escaping Handler) {
            routeTable.withLock { $0.defaultHandler = handler }
        }
    }
}
