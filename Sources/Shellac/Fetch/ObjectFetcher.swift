import NIOCore
import NIOHTTP1
import NIOPosix
import ShellacCache
import ShellacLog
import VCL

/// Receives a backend response into a `CachedObject`, applying the built-in
/// `vcl_backend_response` policy: lifetime from the headers, hit-for-miss (or, from VCL,
/// hit-for-pass) for what may not be shared, and byte accounting against the store. Readers
/// stream from the object meanwhile. One fetcher serves one attempt of a `BackendTransaction`.
final class ObjectFetcher: FetchSink {
    enum Mode {
        /// A lookup miss: store the response if the policy allows.
        case store
        /// A pass: the response is for its own client only.
        case pass
    }

    /// How an attempt ended with nothing stored, when what follows is the transaction's to decide.
    enum Unfinished {
        /// No response head: no connection, a timeout, an invalid response.
        case noResponse(String)
        /// `vcl_backend_response` said `return (retry)`.
        case retry
        /// `vcl_backend_response` said `return (error(...))`.
        case error(status: Int, reason: String)
    }

    let object: CachedObject
    let mode: Mode
    let context: ServerContext
    private let xid: UInt64
    /// The fetch's transaction log records (its `BackendTransaction`'s buffer), and when the
    /// transaction began (its timestamps count from there).
    let log: VSLBuffer
    let logStart: Double
    /// For `BereqAcct`: the request head's bytes, the response head's, the body's as received.
    private let requestHeadBytes: Int
    var responseHeadBytes = 0
    var receivedBodyBytes = 0
    /// The request fields named by a response's Vary are taken from here.
    private let requestHeaders: HeaderList
    /// The backend request is a HEAD (a pass's): the response has no body.
    var isHeadRequest = false
    /// VCL left `Connection: close` in beresp: the backend connection is not reused.
    private(set) var closesConnection = false
    /// vcl_backend_response ended the attempt (`return (error)`, or `std.rollback(bereq)`):
    /// the rest of the response is not read and the connection closes, as Varnish closes it.
    private(set) var dropsResponse = false
    /// A 304 for a stale object whose body is still arriving: taken once that body is whole.
    private var pendingNotModified: HTTPResponseHead?
    /// The 304's exchange ended while it waited for the stale body.
    private var finishedWhilePending = false
    /// `nuke_limit` as the fetch began.
    private var nukeLimit = Int.max
    /// The store area the object goes to (`CacheStore.areaNames`), chosen with its head.
    var storageArea = 0
    private var storing = false
    /// A body held for its readers outgrew its store: the fetch fails (see `appendBody`).
    private var outOfStorage = false
    /// A small cacheable response gathered whole before it is published (see `inlineBodyLimit`).
    private var held: (metadata: ObjectMetadata, lifetime: ObjectLifetime, body: [UInt8], publishes: Bool)?
    /// Bodies up to this size are stored inline with their headers.
    static let inlineBodyLimit = 4096
    /// How far a private object's one reader (a pass, a hit-for-miss fetch) may fall behind
    /// before the fetch stops reading from the backend: the memory a slow client can cost.
    static let privateWindow = 1 << 20
    /// Whether the object is private, so its fetch follows its reader's pace.
    private var followsReader = false
    /// What a private object's bytes have cost Transient so far (see `chargeTransient`).
    var transientCharge = 0
    private let allocator = ByteBufferAllocator()

    /// The VCL's `vcl_backend_response`, when a VCL with user code drives this request.
    private let vcl: VCLBackendPolicy?
    /// Set when VCL abandoned the response: the rest of the body is dropped.
    private var abandoned = false
    private var receivedHead = false
    /// `beresp.do_esi` on a body that is not compressed.
    var doESI = false
    /// `beresp.do_stream = false` (or ESI): clients get the object once it is complete.
    var holdsReaders = false
    private let unfinished: (Unfinished) -> Void
    /// The counters of the loop the fetch runs on.
    let counters: CounterBlock
    /// The expired object this fetch revalidates: a 304 makes the new object from it.
    private let stale: CachedObject?
    /// After a 304: the stale object's body, which becomes the new object's.
    private var revalidatedBody: [ByteBuffer] = []
    private var revalidatedBodyUsed = false
    /// The `Range` the backend request asked for (a pass forwards the client's).
    private let requestRange: String?
    /// What happens to the body's content coding on its way into the store.
    var coding = FetchCoding.none
    /// An ESI page to be stored gzipped: the body as received, until it is complete.
    private var gathered: [ByteBuffer] = []
    private var gatheredBytes = 0

    init(
        object: CachedObject, mode: Mode, context: ServerContext, xid: UInt64, requestHeaders: HeaderList,
        stale: CachedObject? = nil, requestRange: String? = nil, vcl: VCLBackendPolicy?, counters: CounterBlock,
        log: VSLBuffer, logStart: Double, requestHeadBytes: Int = 0, unfinished: @escaping (Unfinished) -> Void
    ) {
        self.requestHeadBytes = requestHeadBytes
        self.counters = counters
        self.log = log
        self.logStart = logStart
        self.vcl = vcl
        self.stale = stale
        self.requestRange = requestRange
        self.unfinished = unfinished
        self.object = object
        self.mode = mode
        self.context = context
        self.xid = xid
        self.requestHeaders = requestHeaders
    }

    deinit { releaseTransient() }

    func fetchDidReceiveHead(_ head: HTTPResponseHead) {
        if head.status.code == 304, mode == .store, let stale, stale.phase == .streaming {
            // The stale body becomes the new object's: wait until it is whole (Varnish's
            // vbf_stp_condfetch waits for the stale object's fetch to finish too).
            receivedHead = true
            pendingNotModified = head
            return awaitStaleBody(stale)
        }
        receivedHead = true
        let now = HTTPDate.currentTime()
        log.stamp("Beresp", now: now, start: logStart)
        logResponseHead(head)
        var status = Int(head.status.code)
        var reason = head.status.reasonPhrase
        var rawHeaders = HeaderList(head.headers.map { ($0.name, $0.value) })
        var declaredLength = head.headers.first(name: "content-length").flatMap { Int($0) }
        var was304 = false
        if status == 304, mode == .store, let stale, let staleMetadata = stale.metadata,
            BackendRequest.revalidates(staleMetadata), let revalidated = Self.revalidate(stale, with: rawHeaders)
        {
            (status, reason, rawHeaders, revalidatedBody) = revalidated
            declaredLength = revalidatedBody.reduce(0) { $0 + $1.readableBytes }
            was304 = true
        }
        if status == 304, mode == .store, !was304 {
            // A miss asked for no 304 (it sends conditions only to revalidate a stale object):
            // there is nothing to update, and nothing to give the client. As Varnish.
            log.record(.fetchError, "304 response but not conditional fetch")
            return giveUp(.noResponse("304 response but not conditional fetch"))
        }
        if [500, 502, 503, 504].contains(status), mode == .store, Self.staleIfErrorAllows(stale, now: now) {
            return giveUp(.noResponse("backend answered \(status); serving the stale object (stale-if-error)"))
        }
        var headers = HopByHop.endToEnd(rawHeaders, alsoDropping: ["content-length", "age"])
        if !headers.contains("Date") { headers.add("Date", HTTPDate.format(Int64(now))) }
        let parameters = context.parameters
        nukeLimit = parameters.nukeLimit
        // A targeted field (RFC 9213, e.g. CDN-Cache-Control) stands in for Cache-Control
        // and Expires in this cache's own decisions.
        let targeted = TargetedCacheControl.select(rawHeaders, targets: parameters.targetedCacheControl)
        let lifetime = FreshnessLifetime.compute(
            status: status, headers: targeted == nil ? rawHeaders : TargetedCacheControl.withoutExpires(rawHeaders),
            cacheControl: targeted ?? CacheControl(rawHeaders), now: now,
            defaults: FreshnessDefaults(ttl: parameters.defaultTTL, grace: parameters.defaultGrace, keep: parameters.defaultKeep))
        var objectLifetime = ObjectLifetime(
            entered: now, ttl: lifetime.ttl, grace: lifetime.grace, keep: lifetime.keep, originAge: Double(lifetime.originAge))
        logTTL(objectLifetime, now: now, rawHeaders: rawHeaders)
        if mode == .pass || lifetime.source == .uncacheableStatus {
            // Varnish gives these a TTL of -1, which VCL reads (beresp.ttl, then obj.ttl) as 0
            // less the backend's Age; a pass's object has no grace or keep either.
            objectLifetime.ttl = -Double(lifetime.originAge)
            if mode == .pass {
                objectLifetime.grace = 0
                objectLifetime.keep = 0
            }
        }
        var varyOn = rawHeaders
        var uncacheable: Bool
        var hitForMissTTL = parameters.hitForMissTTL
        var hitForPass = false
        var storage: String?
        if let vcl {
            // vcl_backend_response decides (the built-in VCL holds the usual rules).
            let decision: VCLBackendPolicy.Decision
            // beresp is the response as it came, hop-by-hop fields too (Varnish drops them when
            // it stores the object, after vcl_backend_response: below).
            var berespHeaders = rawHeaders
            berespHeaders.remove("Content-Length")
            berespHeaders.remove("Age")
            if !berespHeaders.contains("Date"), let date = headers["Date"] { berespHeaders.add("Date", date) }
            switch vcl.backendResponse(
                status: status, reason: reason, headers: berespHeaders, lifetime: objectLifetime, isPass: mode == .pass,
                was304: was304)
            {
            case .deliver(let made): decision = made
            case .retry: return giveUp(.retry)
            case .error(let status, let reason):
                dropsResponse = true
                return giveUp(.error(status: status, reason: reason))
            case .fetch, .abandon: return abandon()
            }
            status = decision.status
            reason = decision.reason
            headers = HopByHop.endToEnd(decision.headers, alsoDropping: ["content-length", "age"])
            varyOn = decision.headers
            objectLifetime = decision.lifetime
            uncacheable = decision.uncacheable
            hitForMissTTL = max(decision.lifetime.ttl, 0)
            hitForPass = decision.hitForPass
            storage = decision.storage
            closesConnection = BackendFetch.saysClose(decision.headers.values("Connection"))
            doESI = decision.doESI
            if was304 {
                // The stored body is already as it is kept: checked again, not coded again;
                // its ESI reading is the stale object's.
                coding = revalidationCoding()
                doESI = doESI && reusedESI != nil
            } else { do {
                var doGzip = decision.doGzip
                var doGunzip = decision.doGunzip
                if let filters = decision.filters {
                    guard let named = FetchCoding.flags(forFilters: filters, headers: headers) else {
                        throw GzipError("beresp.filters: no such filter chain here: \"\(filters)\"")
                    }
                    (doGzip, doGunzip, doESI) = named
                }
                coding = filtersNameNone(decision.filters) ? .none : try FetchCoding.choose(
                    status: status, declaredLength: declaredLength, headers: &headers, doGzip: doGzip,
                    doGunzip: doGunzip, doESI: &doESI, parameters: parameters,
                    explicitFilters: decision.filters != nil)
            } catch {
                log.record(.fetchError, "\(error)")
                return abandon()
            } }
            if doESI && status == 206 {
                // A part of a page cannot be read as ESI (Varnish fails the fetch too).
                log.record(.fetchError, "ESI on a partial (206) response")
                return giveUp(.noResponse("ESI on a partial (206) response"))
            }
            holdsReaders = doESI || !decision.doStream
            countCoding()
        } else {
            uncacheable = Cacheability.uncacheableReason(headers: rawHeaders, ttl: lifetime.ttl, cacheControl: targeted) != nil
            // The built-in vcl_backend_response, in Swift.
            log.record(.vclCall, "BACKEND_RESPONSE")
            log.record(.vclReturn, "deliver")
            var noESI = false
            coding = was304 ? revalidationCoding() : (try? FetchCoding.choose(
                status: status, declaredLength: declaredLength, headers: &headers, doGzip: false, doGunzip: false,
                doESI: &noESI, parameters: parameters)) ?? .none
            countCoding()
        }
        if mode == .store, !uncacheable, Self.hasOverlongVaryName(varyOn) {
            // Varnish keeps a Vary name's length in a signed byte: a longer name makes the
            // response a pass (a hit-for-miss), after VCL.
            log.record(.error, "Illegal 'Vary' header from backend, making this a pass.")
            uncacheable = true
        }
        if parameters.httpRangeSupport, !ByteRange.backendResponseIsConsistent(
            requestRange: requestRange, contentRange: rawHeaders["Content-Range"], contentLength: declaredLength,
            status: status)
        {
            return giveUp(.noResponse("invalid or unexpected Content-Range from the backend"))
        }
        storageArea = mode == .pass || uncacheable ? context.store.transientArea : context.store.area(
            for: storage, lifetime: objectLifetime, shortlived: parameters.shortlived)
        logBodyPlan(head: head, uncacheable: uncacheable, now: now)
        countStorage(uncacheable: uncacheable, lifetime: objectLifetime)
        if coding.changesBytes { declaredLength = nil }
        // A status above 999 is VCL's own signal (`set beresp.status = 1206`): the checks above
        // saw it whole, the object keeps it modulo 1000, as Varnish's status line does.
        var metadata = ObjectMetadata(
            status: status % 1000, reason: reason, headers: headers, declaredLength: declaredLength,
            variant: Self.variant(of: varyOn, request: requestHeaders, gzipSupport: parameters.httpGzipSupport))
        metadata.isGzip = coding.storesGzip
        metadata.fromHTTP10 = head.version.minor == 0
        metadata.changedCoding = coding.changesBytes
        if was304, let stale = stale?.metadata {
            metadata.isGzip = stale.isGzip
            metadata.changedCoding = stale.changedCoding
        }

        switch mode {
        case .pass:
            object.makePrivate()
            followsReader = true
        case .store:
            if uncacheable {
                context.store.mark(
                    hitForPass ? .hitForPass : .hitForMiss, key: object.key, replacing: object, xid: xid, now: now,
                    ttl: hitForMissTTL, grace: objectLifetime.grace)
                object.makePrivate()
                followsReader = true
            } else if let declaredLength, declaredLength > context.store.capacity(ofArea: storageArea) {
                context.store.refuse(area: storageArea)
                context.store.remove(object)
                object.makePrivate()
            } else if let declaredLength, declaredLength <= Self.inlineBodyLimit, !coding.changesBytes {
                // Small: gather the body first and publish it inline with the headers (one
                // exact-size allocation). Waiters wait microseconds longer; nothing to stream.
                held = (metadata, objectLifetime, [], true)
                held?.body.reserveCapacity(declaredLength)
                if !holdsReaders, let eventLoop = MultiThreadedEventLoopGroup.currentEventLoop {
                    // A body that did not come with the head (the backend is slow to send it)
                    // streams after all: the object is visible at its headers, as in Varnish,
                    // so that requests read it as it comes (or revalidate it) instead of waiting.
                    let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
                    eventLoop.execute { loopBound.value.streamHeldBody() }
                }
                return
            } else if holdsReaders {
                // Readers wait for the whole body anyway (do_stream off, or ESI): it is kept
                // here until complete, so that a body that fails can still go to
                // vcl_backend_error (and be retried), as in Varnish.
                held = (metadata, objectLifetime, [], true)
                return
            } else {
                object.beginStreaming(metadata: metadata, lifetime: objectLifetime, expectsESI: doESI, holdsReaders: holdsReaders)
                storing = context.store.publish(object, area: storageArea, nukeLimit: nukeLimit) {
                    $0.variant == metadata.variant
                }
                if !storing { object.makePrivate() }
                return
            }
        }
        if followsReader { chargeTransient(CachedObject.recordBytes + metadata.chargedBytes) }
        if holdsReaders && !isHeadRequest {
            held = (metadata, objectLifetime, [], false)  // (a private object: see above)
            return
        }
        object.beginStreaming(metadata: metadata, lifetime: objectLifetime, expectsESI: doESI, holdsReaders: holdsReaders)
    }

    func fetchDidReceiveBody(_ buffer: ByteBuffer, from fetch: BackendFetch) {
        receivedBodyBytes += buffer.readableBytes
        if abandoned { return }
        receive(buffer, from: fetch)
    }

    /// Body bytes from the backend (or a 304's stale body), through the content coding.
    private func receive(_ buffer: ByteBuffer, from fetch: BackendFetch?) {
        do {
            switch coding {
            case .none:
                appendBody(buffer, from: fetch)
            case .testGunzip(let gunzipper):
                try gunzipper.push(buffer) { _ in }
                appendBody(buffer, from: fetch)
            case .gunzip(let gunzipper):
                try gunzipper.push(buffer) { appendBody($0, from: fetch) }
            case .gzip(let gzipper):
                gzipper.push(buffer) { appendBody($0, from: fetch) }
            case .esiGzip(let gunzipper):
                if let gunzipper {
                    try gunzipper.push(buffer) { try? gather($0) }
                } else {
                    try gather(buffer)
                }
            }
            if outOfStorage { throw StorageFailure() }
        } catch {
            log.record(.fetchError, "\(error)")
            abandoned = true
            Self.fail(object, mode: mode, store: context.store, reason: failureReason)
            fetch?.abort("\(error)")
        }
    }

    /// Keeps plain bytes of an ESI page to be stored gzipped (up to the store's size).
    private func gather(_ buffer: ByteBuffer) throws {
        gatheredBytes += buffer.readableBytes
        guard gatheredBytes <= context.store.capacity else { throw GzipError("ESI page larger than the store") }
        gathered.append(buffer)
    }

    /// Adds body bytes to the object (`fetch` is nil for the stale body of a 304).
    private func appendBody(_ buffer: ByteBuffer, from fetch: BackendFetch?) {
        if followsReader { chargeTransient(buffer.readableBytes) }
        if let count = held?.body.count {
            // Held until complete (do_stream off, ESI, or small), in memory: no more than
            // its store could take, else the fetch fails as in Varnish (a 503).
            guard count + buffer.readableBytes <= context.store.capacity(ofArea: storageArea) else {
                outOfStorage = true
                return
            }
            held?.body.append(contentsOf: buffer.readableBytesView)
            return
        }
        // Copy into a right-sized buffer: the decoder's slice would pin its whole read buffer.
        var copy = allocator.buffer(capacity: buffer.readableBytes)
        copy.writeImmutableBuffer(buffer)
        if outOfStorage { return }
        if storing && !context.store.charge(object, bytes: copy.readableBytes, nukeLimit: nukeLimit) {
            // Too large for the store: readers already on it go on uncached. (A body held for
            // its readers never comes here: it is `held`, bounded above.)
            storing = false
        }
        let held = object.append(copy)
        // (Not while readers wait for the whole body: they would never catch up.)
        if followsReader && !holdsReaders && held > Self.privateWindow, let fetch {
            // The client is slow: read no more from the backend until it has caught up.
            fetch.pauseReading()
            let loopBound = NIOLoopBound(fetch, eventLoop: fetch.eventLoop)
            let eventLoop = fetch.eventLoop
            object.pauseFetch(window: Self.privateWindow) {
                eventLoop.execute { loopBound.value.resumeReading() }
            }
        }
    }

    func fetchDidFinish() {
        if pendingNotModified != nil {
            finishedWhilePending = true
            return
        }
        if abandoned { return }
        if !revalidatedBody.isEmpty {
            let body = revalidatedBody
            revalidatedBody = []
            revalidatedBodyUsed = true
            for buffer in body { receive(buffer, from: nil) }
            if abandoned { return }
        }
        var bits: GzipBits?
        var gzipESI: ESIDocument?
        do {
            switch coding {
            case .none: break
            case .testGunzip(let gunzipper): bits = try gunzipper.finish()
            case .gunzip(let gunzipper): _ = try gunzipper.finish()
            case .gzip(let gzipper): bits = try gzipper.finish { appendBody($0, from: nil) }
            case .esiGzip(let gunzipper):
                _ = try gunzipper?.finish()
                if gatheredBytes > context.store.capacity { throw GzipError("ESI page larger than the store") }
                (gzipESI, bits) = try storeESIGzip()
            }
            if outOfStorage { throw StorageFailure() }
        } catch {
            log.record(.fetchError, "\(error)")
            abandoned = true
            return Self.fail(object, mode: mode, store: context.store, reason: failureReason)
        }
        if let (metadata, lifetime, body, publishes) = held {
            held = nil
            let complete = metadata.withInlineBody(body)
            // Whether the object itself (its record and header section) has room as things
            // stand: Varnish makes the object first, then asks for its body's storage.
            // (Only a held-for-readers body asks: a small inline one does not take the lock.)
            let recordFits = holdsReaders && (context.store.space(ofArea: context.store.areaNames[storageArea])?.free ?? 0)
                >= CachedObject.recordBytes + metadata.headerLength
            object.beginStreaming(metadata: complete, lifetime: lifetime, expectsESI: doESI, holdsReaders: holdsReaders)
            if publishes, !context.store.publish(
                object, area: storageArea, nukeLimit: nukeLimit, replacing: { $0.variant == complete.variant })
            {
                if recordFits {
                    // Held for its readers (do_stream off), it has reached nobody: as in Varnish,
                    // a body the store cannot take (nuke_limit reached) fails the fetch (a 503).
                    // (An object with no room even for itself is delivered uncached: Varnish
                    // salvages it into Transient with no TTL.)
                    log.record(.fetchError, "\(StorageFailure())")
                    abandoned = true
                    return Self.fail(object, mode: mode, store: context.store, reason: failureReason)
                }
                object.makePrivate()
            }
        }
        // `beresp.do_esi`: the body is read as ESI once, now (gzipped bodies are left as they are).
        var esi = gzipESI
        if revalidatedBodyUsed {
            esi = doESI ? reusedESI : nil
        } else if doESI && !coding.isESIGzip {
            esi = ESIDocument.parse(
                object.bodyBytes(inline: object.metadata?.inlineBody ?? []), checkXML: !context.parameters.esiSkipsXMLCheck,
                removeBOM: context.parameters.esiRemoveBOM, ignoreOtherElements: context.parameters.esiIgnoresOtherElements)
        }
        for error in esi?.errors ?? [] {
            log.record(.esiXMLError, error)
            counters.increment(.esiErrors)
        }
        object.finish(esi: esi, gzip: bits)
        // As Varnish at the end of every fetch that completes: the stale object it was given
        // (the graced or kept one it refreshed) is done with, whatever the new response became
        // (stored, hit-for-miss, or an object with no TTL).
        if mode == .store, let stale { context.store.remove(stale) }
        logGzip(bits)
        log.stamp("BerespBody", now: HTTPDate.currentTime(), start: logStart)
        if log.open(.length) {
            log.put(max(object.bodyBytes, object.metadata?.inlineBody.count ?? 0))
            log.close()
        }
        log.accounting(
            .bereqAcct, sentHead: requestHeadBytes, sentBody: 0, receivedHead: responseHeadBytes,
            receivedBody: receivedBodyBytes)
    }

    /// The gathered ESI page, read as ESI and stored as an `ESIGzip` page (or, when it holds
    /// no ESI, as plain gzip). Returns its document and bits.
    private func storeESIGzip() throws -> (ESIDocument?, GzipBits) {
        let parameters = context.parameters
        var plain: [UInt8] = []
        plain.reserveCapacity(gatheredBytes)
        for buffer in gathered { plain.append(contentsOf: buffer.readableBytesView) }
        gathered = []
        let document = ESIDocument.parse(
            plain, checkXML: !parameters.esiSkipsXMLCheck, removeBOM: parameters.esiRemoveBOM,
            ignoreOtherElements: parameters.esiIgnoresOtherElements)
        let made = try ESIGzip.compress(
            plain, document: document ?? ESIDocument(segments: [.verbatim(0..<plain.count)]),
            level: parameters.gzipLevel, bufferSize: parameters.gzipBuffer, allocator: allocator)
        for buffer in made.body { appendBody(buffer, from: nil) }
        var stored = made.document
        stored.errors = document?.errors ?? []
        return (document == nil ? nil : stored, made.bits)
    }

    /// `beresp.filters = ""`: the body is stored as it comes, unchecked.
    private func filtersNameNone(_ filters: String?) -> Bool {
        filters.map { $0.split(separator: " ").isEmpty } ?? false
    }

    /// A 304's coding: the stale body is checked (gzip) or taken as it is.
    private func revalidationCoding() -> FetchCoding {
        guard stale?.metadata?.isGzip == true, let check = try? Gunzipper(tracksBits: true) else { return .none }
        return .testGunzip(check)
    }

    /// The stale object's ESI reading, which a 304 keeps (its body is unchanged).
    private var reusedESI: ESIDocument? { stale?.esiDocument }

    /// VCL said `abandon` (or failed): readers get the fetch-failed answer.
    private func abandon() {
        abandoned = true
        Self.fail(object, mode: mode, store: context.store, reason: failureReason)
    }

    /// A small body held to be stored inline that was not complete by the end of the read
    /// that brought its head: the object is published now and the body streams into it.
    private func streamHeldBody() {
        guard !abandoned, let (metadata, lifetime, body, publishes) = held, publishes, !holdsReaders else { return }
        held = nil
        object.beginStreaming(metadata: metadata, lifetime: lifetime, expectsESI: doESI, holdsReaders: false)
        storing = context.store.publish(object, area: storageArea, nukeLimit: nukeLimit) { $0.variant == metadata.variant }
        if !storing { object.makePrivate() }
        if !body.isEmpty { appendBody(ByteBuffer(bytes: body), from: nil) }
    }

    /// Waits, on this loop, until `stale` is complete (or failed), then takes the pending 304.
    private func awaitStaleBody(_ stale: CachedObject) {
        guard let eventLoop = MultiThreadedEventLoopGroup.currentEventLoop else { return takePendingNotModified() }
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        // (Called on any change of the object: it looks again until it has settled.)
        let waits = stale.notifyWhenSettled {
            eventLoop.execute { loopBound.value.awaitStaleBody(stale) }
        }
        if !waits { takePendingNotModified() }
    }

    private func takePendingNotModified() {
        guard let head = pendingNotModified else { return }
        pendingNotModified = nil
        if stale?.phase == .failed {
            // The object the 304 was to renew failed: so does this fetch (Varnish's condfetch).
            log.record(.fetchError, "Template object failed")
            counters.increment(.fetchFailed)
            return giveUp(.noResponse("Template object failed"))
        }
        fetchDidReceiveHead(head)  // the stale object is whole now
        if finishedWhilePending {
            finishedWhilePending = false
            fetchDidFinish()
        }
    }

    /// Drops the rest of this attempt and hands the object back to the transaction.
    private func giveUp(_ reason: Unfinished) {
        abandoned = true
        unfinished(reason)
    }

    func fetchDidFail(_ reason: String) {
        pendingNotModified = nil
        if abandoned { return }
        // Before a response head the transaction decides (vcl_backend_error, or the 503);
        // once a response is on its way to readers, failing it is all there is left.
        // A body kept whole until complete has reached nobody yet: that too.
        // (Not a small body held only to store it inline: that one streams in Varnish.)
        if !receivedHead || (held != nil && holdsReaders) { return giveUp(.noResponse(reason)) }
        held = nil  // (a small body still held is not streamed after all: see `streamHeldBody`)
        Self.fail(object, mode: mode, store: context.store, reason: failureReason)
    }

    /// The reason its readers' 503 gives: with no VCL of the user's, the failure stands for the
    /// built-in vcl_backend_error ("Backend fetch failed"); with VCL, a fetch failed outside
    /// vcl_backend_error has no page (nil: "Service Unavailable"), as in Varnish.
    private var failureReason: String? { vcl == nil ? "Backend fetch failed" : nil }
}
