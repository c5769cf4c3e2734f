import NIOCore
import ShellacCache
import ShellacLog
import VCL

/// What the request steps need from the HTTP/1 session they answer on.
protocol RequestOwner: AnyObject {
    /// Whether the server is stopping (every response then closes its connection).
    var isDraining: Bool { get }
    /// The response is written; `keepAlive` says whether the connection stays open.
    func requestFinished(keepAlive: Bool)
    /// The request became a pipe: from now on `pipe` carries the connection's bytes. Returns
    /// the client's bytes already read past the request.
    func startPiping(_ pipe: PipeSession) -> ByteBuffer?
    /// The pipe's backend connection could not be made: the connection closes with no
    /// answer (Varnish's `TX_ERROR`).
    func pipeFailed()
    /// VCL set `sess.timeout_idle`: the connection's idle timeout from now on.
    func setSessionIdleTimeout(_ seconds: Double)
    /// The client's and the server's addresses as a PROXY header gave them (nil: the
    /// connection's own).
    var proxiedAddresses: (client: SocketAddress?, server: SocketAddress?) { get }
    /// The listen socket the connection came in on.
    var listener: VCLListener { get }
}

/// The request being answered on one client connection, run step by step (`RequestStep`)
/// until its response is written. One per connection, reused for each of its requests, so a
/// hit allocates nothing for it. Lives on the connection's event loop; wake-ups from fetches
/// are hopped onto it.
///
/// The steps are extensions in files of their own: `Recv.swift` (recv, hash, purge,
/// restart), `Lookup.swift` (lookup, hit, miss), `Pass.swift` (pass and the fetch a miss or
/// pass starts), `Pipe.swift`, `Synth.swift`, `Deliver.swift` (deliver and transmission),
/// `BodyWait.swift` (an answer held until the client's body is in).
final class RequestStateMachine {
    unowned let owner: RequestOwner
    let server: ServerContext
    let channel: ChannelHandlerContext
    let counters: CounterBlock
    /// The owner's copy of the parameters, as they were when this request began.
    var parameters: Parameters

    // The request being answered.
    var request: RequestHead
    /// Its body: whole, or streaming in while the request runs.
    var body: RequestBody?
    var xid: UInt64 = 0
    var keepAlive = true
    /// Who answers "what now?": the built-in policy, or this request's VCL session.
    var policy: RequestPolicy = BuiltinPolicy.shared
    /// The VCL of this request when the active VCL has user code, borrowed from
    /// `vclSessions` until the response is done.
    var vclSession: VCLSession?
    /// When the lookup ran (the clock is read once for lookup and `vcl_hit`).
    var lookupTime = 0.0
    /// Whether the object `lookup` found is stale (served inside its grace).
    var hitIsStale = false
    /// Times the request went back to lookup because an object it waited on was not for it.
    var relookups = 0
    /// `vcl_hit` said pass: the response names the fetch's transaction after this one's in
    /// X-Varnish, as a hit does (Varnish's `req->is_hit`, cleared at each vcl_recv).
    var passedFromHit = false
    /// The transaction id of a busy object let go unused (a miss or a graced hit that went
    /// to pass): Varnish numbers a fetch only when it starts, so the next id made is this one.
    var spareXID: UInt64?
    /// The transmission under way, if any (see `Deliver.swift`).
    var delivery: Delivery?
    /// Bumped whenever a delivery starts or ends, so stale wake-ups find nothing to do.
    var deliveryGeneration = 0
    /// What the request does once its body is settled, while it waits for that
    /// (`BodyWait.swift`).
    var afterBody: (() -> RequestStep)?

    // ESI (see `ESIDelivery.swift`).
    /// The ESI page being delivered, and the include running for it now.
    var esi: ESIProgress?
    var esiChild: RequestStateMachine?
    /// The owner its includes report to (kept here: a machine holds its owner unowned).
    lazy var esiAdapter = ESIParent(parent: self)
    /// 0 for a client's request; an include is one deeper than its page.
    var esiLevel = 0
    /// The page's body is chunked: every piece written into it is framed so.
    var esiChunked = false
    /// An include said `onerror="continue"`; an include failed (with `esi_include_onerror`)
    /// and takes its page down with it.
    var esiContinueOnError = false
    var esiAborted = false
    /// An include's `req_top.*`: the client's request of the page tree.
    var esiTop: VCLTopRequest?
    /// The page goes out as one gzip stream (shared by the page and its includes).
    var esiGzip: ESIGzipStream?
    /// Set while an include starts, which may finish it at once.
    var startingInclude = false
    /// `return (vcl(label))` has moved this request to another VCL already.
    var switchedVCL = false

    // The transaction log (see `RequestLog.swift`).
    /// This loop's log buffer.
    let vsl: VSLBuffer
    /// What `Begin` names as the parent: the session (`rxreq`) or the page (`esi`).
    var logParent: (xid: UInt64, reason: StaticString) = (0, "rxreq")
    /// The session's transaction id (`sess.xid`); ESI includes inherit it.
    var sessionXID: UInt64 = 0
    var requestStart = 0.0
    var clientTextCache: (ip: String, port: Int)?
    /// The bytes of the request head being answered, as read (its `ReqHeader` records are
    /// cut from them); nil for an include or a request that could not be read.
    var rawHead: ByteBuffer?
    var sessionStart = 0.0
    var lastTimestamp = 0.0
    /// Response bytes written for `ReqAcct`.
    var responseHeadBytes = 0
    var requestBodyBytes = 0
    /// The status a request that could not be read was answered with.
    var rejectedStatus: Int?
    var responseBodyBytes = 0
    /// `Begin` is written and `End` not yet.
    var logOpen = false
    /// How the request was answered, for the response-time histograms.
    var handling = ResponseTimes.Handling.synth
    let times: ResponseTimes.Block

    private let vclSessions: VCLSessionPool
    private let transactionIDs: TransactionIDBlock
    /// The connection's addresses as VCL sees them, converted on its first VCL request.
    private var vclAddresses: (client: VCLIP?, local: VCLIP?)?

    init(owner: RequestOwner, server: ServerContext, channel: ChannelHandlerContext, parameters: Parameters) {
        self.owner = owner
        self.server = server
        self.channel = channel
        self.parameters = parameters
        self.counters = server.counters.value(on: channel.eventLoop)
        self.vclSessions = server.vclSessions.value(on: channel.eventLoop)
        self.vsl = vclSessions.log
        self.times = server.times.value(on: channel.eventLoop)
        self.transactionIDs = server.transactionIDs.value(on: channel.eventLoop)
        self.request = Self.noRequest
    }

    /// The request of a connection that has none yet, or whose head could not be read.
    private static let noRequest = RequestHead(
        method: "GET", uri: "/", minorVersion: 1, headers: HeaderList(), body: .none, expectsContinue: false,
        keepAlive: false)

    /// A new transaction id, from this loop's block.
    func makeXID() -> UInt64 {
        if let spare = spareXID {
            spareXID = nil
            return spare
        }
        return transactionIDs.make()
    }

    /// Answers a complete request (head and body read).
    func start(_ head: RequestHead, body: RequestBody?, xid: UInt64, parameters: Parameters) {
        self.parameters = parameters
        self.request = head
        self.body = body
        self.xid = xid
        self.keepAlive = head.keepAlive
        self.rejectedStatus = nil
        self.relookups = 0
        counters.increment(.clientRequests)
        switchedVCL = false
        if esiLevel == 0 { logSessionLink() }
        let loaded = server.vcl.current
        logBegin(now: HTTPDate.currentTime(), vcl: loaded.name)
        if loaded.program.hasUserCode { beginVCL(loaded) }
        // (Otherwise `policy` is the built-in one: every request leaves it so.)
        // RFC 9112 §3.2: an HTTP/1.1 request without Host is answered 400 whatever VCL would
        // do (Varnish leaves it to the built-in vcl_recv, which a VCL that returns skips);
        // vcl_synth makes the page, and the connection stays open.
        let lacksHost = esiLevel == 0 && head.minorVersion == 1 && !head.headers.contains("Host")
        run(lacksHost ? .synth(status: 400, reason: "Bad Request") : .recv)
    }

    /// Borrows a session of `loaded`'s program for this request and starts it.
    private func beginVCL(_ loaded: VCLRegistry.Loaded) {
        let session = vclSessions.borrow(loaded)
        let addresses = vclAddresses ?? (
            VCLSession.vclAddress(clientAddress), VCLSession.vclAddress(localAddress))
        vclAddresses = addresses
        session.begin(request, xid: xid, session: sessionXID, client: addresses.client, local: addresses.local,
                      listener: owner.listener)
        session.requestBodyLength = body.flatMap { $0.isStreaming ? nil : $0.declaredLength }
        session.maxRestarts = parameters.maxRestarts
        session.context.sessionTimeoutIdle = parameters.timeoutIdle
        if esiLevel > 0 {
            session.context.req.esiLevel = esiLevel
            session.context.req.top = esiTop
        }
        vclSession = session
        policy = session
    }

    /// `return (vcl(label))` from vcl_recv: the request goes on in the VCL the label names,
    /// from its vcl_recv, as VCL left it. Once per request; an unknown label fails it.
    func switchVCL(to label: String) -> RequestStep {
        guard !switchedVCL, let loaded = server.vcl.resolve(label) else { return vclFailed() }
        switchedVCL = true
        let restarts = vclSession?.context.req.restarts ?? 0
        releaseVCLSession()
        if loaded.program.hasUserCode {
            beginVCL(loaded)
            vclSession?.context.req.restarts = restarts
        }
        return .recv
    }

    /// Answers a request that could not be read (malformed, too large): the error page, and
    /// the connection closes.
    func reject(status: Int, reason: String, xid: UInt64) {
        counters.increment(.badRequests)
        request = Self.noRequest
        body = nil
        self.xid = xid
        keepAlive = false
        rejectedStatus = status
        policy = BuiltinPolicy.shared
        logSessionLink()
        rawHead = nil
        logBegin(now: HTTPDate.currentTime(), vcl: server.vcl.current.name)
        run(.synth(status: status, reason: reason))
    }

    /// The step loop (`cache_req_fsm.c`'s `CNT_Request`): runs steps until the response is
    /// written or the request waits for something.
    func run(_ first: RequestStep) {
        var step = first
        while true {
            switch step {
            case .recv: step = recv()
            case .hash: step = hash()
            case .lookup(let key): step = lookup(key)
            case .hit(let object, let refresh): step = hit(object, refresh: refresh)
            case .miss(let object, let stale): step = miss(object, stale: stale)
            case .pass: step = pass()
            case .pipe: step = pipe()
            case .purge: step = purge()
            case .synth(let status, let reason): step = synth(status: status, reason: reason)
            case .deliver(let object, let isHit, let isOwner): step = deliver(object, isHit: isHit, isOwner: isOwner)
            case .transmit: step = transmit()
            case .esi: step = esiStep()
            case .restart: step = restart()
            case .waiting: return
            case .done:
                finish()
                return
            }
        }
    }

    /// The step a VCL action leads to where the state has no other use for it: a synthetic
    /// response, a restart, or (a failure, or an action the state does not allow) the 503
    /// Varnish gives for "VCL failed".
    func otherwise(_ action: VCLAction) -> RequestStep {
        switch action {
        case .synth(let status, let reason): return .synth(status: status, reason: reason)
        case .restart: return .restart
        default: return vclFailed()
        }
    }

    /// A VCL failure: the error page, without running VCL again.
    func vclFailed() -> RequestStep {
        policy = BuiltinPolicy.shared
        return .synth(status: 503, reason: "VCL failed")
    }

    /// The connection's local address, for the cache key of a request without Host.
    var serverAddress: String { localAddress?.ipAddress ?? "" }

    /// The client's address: a PROXY header's, or the connection's peer.
    var clientAddress: SocketAddress? { owner.proxiedAddresses.client ?? channel.channel.remoteAddress }

    /// The address the client connected to: a PROXY header's, or the connection's own.
    var localAddress: SocketAddress? { owner.proxiedAddresses.server ?? channel.channel.localAddress }

    /// Why the connection closes after this request, when it does.
    var closeReason: SessionCloseReason {
        if let rejectedStatus { return rejectedStatus == 431 ? .overflow : .badRequest }
        if handling == .pipe { return .pipe }
        if !request.keepAlive { return request.minorVersion == 0 ? .requestHTTP10 : .requestClose }
        return .responseClose
    }

    /// Writes `Connection` for this response, as keep-alive and the client's version need.
    func writeConnectionHeader(_ out: inout ByteBuffer) {
        if !keepAlive || owner.isDraining {
            keepAlive = false
            out.writeStaticString("Connection: close\r\n")
        } else if request.minorVersion == 0 {
            out.writeStaticString("Connection: keep-alive\r\n")
        }
    }

    func write(_ buffer: ByteBuffer) {
        channel.write(NIOAny(buffer), promise: nil)
    }

    /// Whether any of the response has been written.
    var hasStartedResponse: Bool { delivery?.headersSent ?? false }

    /// The connection closed: drop the request (a fetch under way goes on for its object).
    func abandon() {
        afterBody = nil
        logEnd()
        esiChild?.abandon()
        esiChild = nil
        esi = nil
        delivery = nil
        deliveryGeneration += 1
        releaseVCLSession()
    }

    private func finish() {
        logEnd()
        body = nil
        if let session = vclSession, session.context.sessionTimeoutIdleChanged {
            owner.setSessionIdleTimeout(session.context.sessionTimeoutIdle)
        }
        releaseVCLSession()
        owner.requestFinished(keepAlive: keepAlive)
    }

    /// Gives this request's VCL session back to the loop's pool.
    private func releaseVCLSession() {
        policy = BuiltinPolicy.shared
        guard let session = vclSession else { return }
        vclSession = nil
        session.releaseRequestBody()
        session.context.flushLogs(xid: xid, side: .client, to: vsl)
        vclSessions.giveBack(session)
    }
}
