import NIOCore
import NIOHTTP1
import ShellacCache
import VCL

/// Receives a backend response into a `CachedObject`, applying the built-in
/// `vcl_backend_response` policy: lifetime from the headers, hit-for-miss for what may not be
/// shared, and byte accounting against the store. Readers stream from the object meanwhile.
final class ObjectFetcher: FetchSink {
    enum Mode {
        /// A lookup miss: store the response if the policy allows.
        case store
        /// A pass: the response is for its own client only.
        case pass
    }

    private let object: CachedObject
    private let mode: Mode
    private let context: ServerContext
    private let xid: UInt64
    /// The request fields named by a response's Vary are taken from here.
    private let requestHeaders: HeaderList
    private var storing = false
    /// A small cacheable response gathered whole before it is published (see `inlineBodyLimit`).
    private var held: (metadata: ObjectMetadata, lifetime: ObjectLifetime, body: [UInt8])?
    /// Bodies up to this size are stored inline with their headers.
    static let inlineBodyLimit = 4096
    private let allocator = ByteBufferAllocator()

    /// The VCL's `vcl_backend_response`, when a VCL with user code drives this request.
    private let vcl: VCLBackendPolicy?
    /// Set when VCL abandoned the response: the rest of the body is dropped.
    private var abandoned = false

    init(
        object: CachedObject, mode: Mode, context: ServerContext, xid: UInt64, requestHeaders: HeaderList,
        vcl: VCLBackendPolicy? = nil
    ) {
        self.vcl = vcl
        self.object = object
        self.mode = mode
        self.context = context
        self.xid = xid
        self.requestHeaders = requestHeaders
    }

    func fetchDidReceiveHead(_ head: HTTPResponseHead) {
        let now = HTTPDate.currentTime()
        var headers = HopByHop.endToEnd(head.headers, alsoDropping: ["content-length", "age"])
        let declaredLength = head.headers.first(name: "content-length").flatMap { Int($0) }
        if !headers.contains("Date") { headers.add("Date", HTTPDate.format(Int64(now))) }
        var status = Int(head.status.code)
        var reason = head.status.reasonPhrase
        let rawHeaders = HeaderList(head.headers.map { ($0.name, $0.value) })
        let parameters = context.parameters
        let lifetime = FreshnessLifetime.compute(
            status: status, headers: rawHeaders, now: now,
            defaults: FreshnessDefaults(ttl: parameters.defaultTTL, grace: parameters.defaultGrace, keep: parameters.defaultKeep))
        var objectLifetime = ObjectLifetime(
            entered: now, ttl: lifetime.ttl, grace: lifetime.grace, keep: lifetime.keep, originAge: Double(lifetime.originAge))
        var varyOn = rawHeaders
        let uncacheable: Bool
        var hitForMissTTL = parameters.hitForMissTTL
        if let vcl {
            // vcl_backend_response decides (the built-in VCL holds the usual rules).
            guard let decision = vcl.backendResponse(
                status: status, reason: reason, headers: headers, lifetime: objectLifetime, isPass: mode == .pass)
            else {
                abandon()
                return
            }
            status = decision.status
            reason = decision.reason
            headers = HopByHop.endToEnd(decision.headers, alsoDropping: ["content-length", "age"])
            varyOn = decision.headers
            objectLifetime = decision.lifetime
            uncacheable = decision.uncacheable
            hitForMissTTL = max(decision.lifetime.ttl, 0)
        } else {
            uncacheable = Cacheability.uncacheableReason(headers: rawHeaders, ttl: lifetime.ttl) != nil
        }
        let metadata = ObjectMetadata(
            status: status, reason: reason, headers: headers, declaredLength: declaredLength,
            variant: Self.variant(of: varyOn, request: requestHeaders))

        switch mode {
        case .pass:
            object.makePrivate()
        case .store:
            if uncacheable {
                context.store.markHitForMiss(
                    key: object.key, replacing: object, xid: xid, now: now, ttl: hitForMissTTL)
                object.makePrivate()
            } else if let declaredLength, declaredLength > context.store.capacity {
                context.store.remove(object)
                object.makePrivate()
            } else if let declaredLength, declaredLength <= Self.inlineBodyLimit {
                // Small: gather the body first and publish it inline with the headers (one
                // exact-size allocation). Waiters wait microseconds longer; nothing to stream.
                held = (metadata, objectLifetime, [])
                held?.body.reserveCapacity(declaredLength)
                return
            } else {
                object.beginStreaming(metadata: metadata, lifetime: objectLifetime)
                storing = context.store.publish(object) { $0.variant == metadata.variant }
                if !storing { object.makePrivate() }
                return
            }
        }
        object.beginStreaming(metadata: metadata, lifetime: objectLifetime)
    }

    func fetchDidReceiveBody(_ buffer: ByteBuffer) {
        if abandoned { return }
        if held != nil {
            held?.body.append(contentsOf: buffer.readableBytesView)
            return
        }
        // Copy into a right-sized buffer: the decoder's slice would pin its whole read buffer.
        var copy = allocator.buffer(capacity: buffer.readableBytes)
        copy.writeImmutableBuffer(buffer)
        if storing && !context.store.charge(object, bytes: copy.readableBytes) {
            storing = false  // too large for the store: readers already on it go on uncached
        }
        object.append(copy)
    }

    func fetchDidFinish() {
        if abandoned { return }
        if let (metadata, lifetime, body) = held {
            held = nil
            let complete = metadata.withInlineBody(body)
            object.beginStreaming(metadata: complete, lifetime: lifetime)
            if !context.store.publish(object, replacing: { $0.variant == complete.variant }) { object.makePrivate() }
        }
        object.finish()
    }

    /// VCL said `abandon` (or failed): readers get the fetch-failed answer.
    private func abandon() {
        abandoned = true
        if mode == .store { context.store.remove(object) }
        object.fail()
    }

    func fetchDidFail(_ reason: String) {
        if abandoned { return }
        if mode == .store { context.store.remove(object) }
        object.fail()
    }

    /// The request values of the fields the response's Vary names (`Vary: *` is never stored).
    static func variant(of response: HeaderList, request: HeaderList) -> VariantKey {
        guard case .fields(let names) = VaryFields(response), !names.isEmpty else { return VariantKey(entries: []) }
        return VariantKey(fields: names, request: request)
    }
}
