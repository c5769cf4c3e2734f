import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The admin HTTP listener (`-p admin_http=127.0.0.1:6085`, off by default): `/metrics` for
/// Prometheus, `/` the live dashboard, `/stats.json` what the dashboard reads. On its own
/// event loop, so a scrape never delays client traffic.
public final class MetricsServer: Sendable {
    private let commands: AdminCommands
    private let times: ResponseTimes
    private let misses: MissedURLs
    private let rates = DashboardRates()
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let listener = Mutex<Channel?>(nil)
    private let sampler = Mutex<RepeatedTask?>(nil)

    public init(commands: AdminCommands, times: ResponseTimes, misses: MissedURLs) {
        self.commands = commands
        self.times = times
        self.misses = misses
    }

    @discardableResult
    public func start(endpoint: Endpoint) async throws -> SocketAddress {
        let page = MetricsPage(commands: commands, times: times, misses: misses, rates: rates)
        let channel: Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(page: page))
                    }
                }
                .bind(host: endpoint.host.isEmpty ? "0.0.0.0" : endpoint.host, port: endpoint.port)
                .get()
        } catch {
            throw ListenError(endpoint: endpoint, underlying: error)
        }
        listener.withLock { $0 = channel }
        let misses = self.misses
        let rates = self.rates
        let commands = self.commands
        let task = group.next().scheduleRepeatedTask(initialDelay: .zero, delay: .seconds(1)) { _ in
            misses.update()
            rates.sample(commands.counters())
        }
        sampler.withLock { $0 = task }
        guard let address = channel.localAddress else {
            throw ListenError(endpoint: endpoint, underlying: ChannelError.inappropriateOperationForState)
        }
        return address
    }

    public func shutdown() async {
        sampler.withLock { $0 }?.cancel()
        let channel = listener.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
        try? await group.shutdownGracefully()
    }
}

/// What each path answers.
struct MetricsPage: Sendable {
    let commands: AdminCommands
    let times: ResponseTimes
    let misses: MissedURLs
    let rates: DashboardRates

    func answer(path: String) -> (status: HTTPResponseStatus, type: String, body: String) {
        switch path.split(separator: "?").first.map(String.init) ?? path {
        case "/metrics":
            let backends = commands.backends(matching: nil).map {
                PrometheusExposition.BackendState(vcl: $0.vcl, name: $0.health.name, healthy: $0.health.isHealthy)
            }
            return (.ok, "text/plain; version=0.0.4; charset=utf-8",
                    PrometheusExposition.render(counters: commands.counters(), backends: backends, times: times))
        case "/stats.json":
            return (.ok, "application/json", DashboardData.json(commands: commands, times: times, misses: misses, rates: rates.current))
        case "/", "/dashboard":
            return (.ok, "text/html; charset=utf-8", Dashboard.html)
        default:
            return (.notFound, "text/plain", "not found: try /metrics or /\n")
        }
    }
}

/// One HTTP/1 request on the admin listener: GET or HEAD of a path of `MetricsPage`.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let page: MetricsPage
    private var head: HTTPRequestHead?

    init(page: MetricsPage) {
        self.page = page
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request): head = request
        case .body: break
        case .end:
            guard let request = head else { return }
            head = nil
            var answer = page.answer(path: request.uri)
            if request.method != .GET && request.method != .HEAD {
                answer = (.methodNotAllowed, "text/plain", "GET only\n")
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: answer.type)
            headers.add(name: "Content-Length", value: String(answer.body.utf8.count))
            headers.add(name: "Cache-Control", value: "no-store")
            let keepAlive = request.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: answer.status, headers: headers))), promise: nil)
            if request.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: answer.body)))), promise: nil)
            }
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { context.close(promise: nil) }
            }
        }
    }
}
