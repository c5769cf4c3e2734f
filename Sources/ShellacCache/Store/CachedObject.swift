import NIOCore
import Synchronization
import VCL

/// Where an object is in its life. A `busy` object exists from the moment a miss starts its
/// fetch: clients that find it wait on it instead of asking the backend again (coalescing).
public enum ObjectPhase: Sendable, Equatable {
    /// Fetch under way, no response headers yet.
    case busy
    /// Headers known; body bytes arriving and readable as they come.
    case streaming
    /// Whole body stored.
    case complete
    /// The fetch failed; readers answer with an error.
    case failed
    /// The response may not be shared (pass, hit-for-miss): waiters must fetch for themselves.
    case abandoned
}

/// What a reader sees when it asks an object for news past a cursor.
public enum ObjectRead: Sendable {
    /// Nothing new; the listener given will be called once when something changes.
    case waiting
    /// Headers (when first known), the chunks from the cursor on, and the phase after them.
    case progress(metadata: ObjectMetadata, chunks: ArraySlice<ByteBuffer>, phase: ObjectPhase)
    case failed
    case abandoned
}

/// A cached response (or one being fetched), shared read-only by every client delivering it.
///
/// The body is a list of ByteBuffers appended by the fetch; readers keep a chunk cursor, so a
/// hit writes the very same buffers with no copy.
public final class CachedObject: @unchecked Sendable {
    // @unchecked: `state` is a Mutex; the `index*` fields are only touched under CacheStore's lock.

    /// Transaction id of the fetch that made this object (`X-Varnish`'s second number).
    public let xid: UInt64
    public let digest: CacheDigest
    public let hits = Atomic<Int>(0)

    struct State {
        var metadata: ObjectMetadata?
        var lifetime: ObjectLifetime
        var chunks: [ByteBuffer] = []
        var bodyBytes = 0
        /// Chunks the one reader of a private object has sent and let go (`discardRead`):
        /// a reader's cursor counts them, `chunks` no longer holds them.
        var discardedChunks = 0
        /// Body bytes `chunks` holds now.
        var heldBytes = 0
        /// Set while the fetch is paused because the reader is too far behind.
        var resumeFetch: (@Sendable () -> Void)?
        /// The key's bytes until the metadata takes them over (see `ObjectMetadata.keyBytes`).
        var pendingKey: [UInt8]
        var listeners: [@Sendable () -> Void] = []
        /// The body read as ESI, once complete (nil: not ESI).
        var esi: ESIDocument?
        /// Where a gzip body's deflate data lies, once complete.
        var gzip: GzipBits?
        // The small fields last, so they pack together.
        var phase: ObjectPhase = .busy
        var isPrivate = false
        /// Why it failed, when the failure stands for vcl_backend_error's page (its reason).
        var failureReason: String?
        /// VCL asked for ESI (the body is parsed when complete) or turned streaming off:
        /// readers wait for the whole body.
        var holdsReaders = false

        init(lifetime: ObjectLifetime, pendingKey: [UInt8]) {
            self.lifetime = lifetime
            self.pendingKey = pendingKey
        }
    }

    let state: Mutex<State>

    /// What the store charges each object for its record, besides its header section and
    /// body: less than the record takes (its fields, the header array's and chunks' own
    /// headers), about what Varnish charges for its `struct object`, so that a store of a
    /// given size holds what Varnish's would.
    public static let recordBytes = 128

    // Guarded by CacheStore's lock.
    var indexNextVariant: CachedObject?
    var lruPrevious: CachedObject?
    var lruNext: CachedObject?
    var chargedBytes = 0
    /// The area (`CacheStore.areaNames`) its bytes are charged to.
    var storageArea = 0
    /// The newest ban this object has been tested against (or is newer than); once
    /// published, it holds a reference on that ban (`holdsBanReference`, `BanList.Entry.refs`).
    var bansChecked = 0
    /// When a hit last moved this object to the front of the LRU list.
    var lruMovedAt = -Double.infinity
    var isIndexed = false
    var isInLRU = false
    /// Counted in the `refs` of ban `bansChecked`: from publishing until it is unlinked.
    var holdsBanReference = false
    /// The area (`CacheStore.areaNames`) it was published in. Written once, under the store's
    /// lock, before a lookup can find the object; read after one.
    public var storageAreaIndex: Int { storageArea }
    /// Where the object sits in the store's `ExpiryHeap` (-1: not in it).
    var expiryIndex = -1
    /// The surrogate keys it is indexed under (see `SurrogateKeys`).
    var surrogateKeys: [String]?
    /// While busy: the variant its response is expected to be (the miss's request values of
    /// the Vary fields of a variant already stored), so that requests of another variant do
    /// not wait on it (Varnish's predictive Vary, `boc->vary`). Set before it is linked.
    var expectedVariant: VariantKey?
    /// Set when this is no response but a marker (hit-for-miss or hit-for-pass) for its key.
    /// (Declared with the other small fields so they pack together.)
    public let marker: LookupMarker?

    public init(key: CacheKey, xid: UInt64, lifetime: ObjectLifetime, marker: LookupMarker? = nil) {
        self.digest = key.digest
        self.xid = xid
        self.marker = marker
        self.state = Mutex(State(lifetime: lifetime, pendingKey: key.bytes.withUnsafeBufferPointer { Array($0) }))
        if marker != nil { state.withLock { $0.phase = .abandoned } }
    }

    /// Whether this is a marker rather than a response.
    public var isMarker: Bool { marker != nil }

    /// The object's cache key (rebuilt from the stored bytes; not for hot paths).
    public var key: CacheKey {
        state.withLock { state in
            CacheKey(bytes: state.metadata.map { Array($0.keyBytes) } ?? state.pendingKey, digest: digest)
        }
    }

    public var phase: ObjectPhase { state.withLock { $0.phase } }
    public var lifetime: ObjectLifetime { state.withLock { $0.lifetime } }
    public var metadata: ObjectMetadata? { state.withLock { $0.metadata } }
    public var bodyBytes: Int { state.withLock { $0.bodyBytes } }

    /// Reads what is new past `cursor` (a chunk index; `headersSeen` once the reader has had the
    /// metadata). With nothing new, registers `listener` to be called once on the next change,
    /// so no wake-up is ever lost.
    /// Only the `isOwner` reader (the client whose fetch it is) may read a private object.
    public func read(
        from cursor: Int, headersSeen: Bool, isOwner: Bool, listener: (@Sendable () -> Void)?
    ) -> ObjectRead {
        state.withLock { state in
            if state.isPrivate && !isOwner { return .abandoned }
            switch state.phase {
            case .failed: return .failed
            case .abandoned: return .abandoned
            case .busy:
                if let listener { state.listeners.append(listener) }
                return .waiting
            case .streaming where state.holdsReaders:
                if let listener { state.listeners.append(listener) }
                return .waiting
            case .streaming, .complete:
                guard let metadata = state.metadata else { return .failed }
                let held = state.chunks.count
                if headersSeen && cursor >= state.discardedChunks + held && state.phase == .streaming {
                    if let listener { state.listeners.append(listener) }
                    return .waiting
                }
                let from = min(max(cursor - state.discardedChunks, 0), held)
                return .progress(metadata: metadata, chunks: state.chunks[from...], phase: state.phase)
            }
        }
    }

    /// The fetch has response headers: readers may start.
    /// `expectsESI`: VCL set `beresp.do_esi`; with it, or with `holdsReaders` (VCL set
    /// `beresp.do_stream = false`), readers wait for `finish(esi:)`.
    public func beginStreaming(
        metadata: ObjectMetadata, lifetime: ObjectLifetime, expectsESI: Bool = false, holdsReaders: Bool = false
    ) {
        notify { state in
            var stored = metadata.prefixed(withKey: state.pendingKey)
            stored.mayBeESI = expectsESI
            state.metadata = stored
            state.pendingKey = []
            state.lifetime = lifetime
            state.phase = .streaming
            state.holdsReaders = expectsESI || holdsReaders
        }
    }

    /// The body read as ESI, once the object is complete (nil: send it as it is).
    public var esiDocument: ESIDocument? { state.withLock { $0.esi } }
    /// A complete gzip body's bits (nil: not gzip, or not complete yet).
    public var gzipBits: GzipBits? { state.withLock { $0.gzip } }

    /// Calls `listener` once the object is complete, failed or abandoned; false (and no call)
    /// when it already is.
    public func notifyWhenSettled(_ listener: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard state.phase == .busy || state.phase == .streaming else { return false }
            state.listeners.append(listener)
            return true
        }
    }

    /// The body as one array (for the ESI parse, once, when the fetch ends).
    public func bodyBytes(inline: ArraySlice<UInt8>) -> [UInt8] {
        state.withLock { state in
            var bytes = Array(inline)
            bytes.reserveCapacity(inline.count + state.bodyBytes)
            for chunk in state.chunks { bytes.append(contentsOf: chunk.readableBytesView) }
            return bytes
        }
    }

    /// Adds body bytes; returns how many body bytes the object holds now (for a private
    /// object, those its reader has not let go of yet).
    @discardableResult
    public func append(_ chunk: ByteBuffer) -> Int {
        guard chunk.readableBytes > 0 else { return state.withLock { $0.heldBytes } }
        var held = 0
        notify { state in
            state.chunks.append(chunk)
            state.bodyBytes += chunk.readableBytes
            state.heldBytes += chunk.readableBytes
            held = state.heldBytes
        }
        return held
    }

    // MARK: - Flow control of a private object (a pass)

    /// The fetch stops reading from the backend while its private object holds more than
    /// `window` unsent bytes; `resume` is called once the reader has brought that under half
    /// the window (at once if it already has). A shared object is never paused: its fetch
    /// fills the store for every reader, and each reads at its own pace.
    public func pauseFetch(window: Int, resume: @escaping @Sendable () -> Void) {
        let resumeNow = state.withLock { state -> Bool in
            guard state.isPrivate, state.heldBytes > window / 2 else { return true }
            state.resumeFetch = resume
            return false
        }
        if resumeNow { resume() }
    }

    /// The one reader of a private object has sent the chunks before `cursor`: they are let
    /// go, and a paused fetch resumes once less than half a window is held. Does nothing to a
    /// shared object.
    public func discardRead(upTo cursor: Int, window: Int) {
        let resume = state.withLock { state -> (@Sendable () -> Void)? in
            guard state.isPrivate else { return nil }
            let count = min(cursor - state.discardedChunks, state.chunks.count)
            guard count > 0 else { return nil }
            for chunk in state.chunks[..<count] { state.heldBytes -= chunk.readableBytes }
            state.chunks.removeFirst(count)
            state.discardedChunks += count
            guard state.heldBytes <= window / 2, let resume = state.resumeFetch else { return nil }
            state.resumeFetch = nil
            return resume
        }
        resume?()
    }

    /// Makes the object stale now (`ttl` from now, usually 0), keeping or setting its grace
    /// and keep (negative: unchanged), as a soft purge does. Returns its new lifetime.
    func expire(now: Double, ttl: Double, grace: Double, keep: Double) -> ObjectLifetime {
        state.withLock { state in
            var lifetime = state.lifetime
            lifetime.ttl = min(lifetime.ttl, now - lifetime.entered + max(ttl, 0))
            if grace >= 0 { lifetime.grace = grace }
            if keep >= 0 { lifetime.keep = keep }
            state.lifetime = lifetime
            return lifetime
        }
    }

    public func finish(esi: ESIDocument? = nil, gzip: GzipBits? = nil) {
        notify { state in
            state.esi = esi
            state.gzip = gzip
            state.phase = .complete
        }
    }
    /// Fails the object. `reason`: the reason phrase of the 503 its readers answer with, when
    /// the failure stands for vcl_backend_error's page; nil: a failed fetch with no page
    /// (Varnish answers "Service Unavailable").
    public func fail(reason: String? = nil) {
        notify { state in
            guard state.phase != .complete else { return }
            state.phase = .failed
            state.failureReason = reason
        }
    }

    public var failureReason: String? { state.withLock { $0.failureReason } }
    /// The response may not be shared (pass, hit-for-miss, too large to store): only its owner
    /// reads on; waiters are woken to go to the backend themselves.
    public func makePrivate() { notify { $0.isPrivate = true } }

    public var isPrivate: Bool { state.withLock { $0.isPrivate } }

    private func notify(_ change: (inout State) -> Void) {
        let listeners = state.withLock { state -> [@Sendable () -> Void] in
            change(&state)
            let listeners = state.listeners
            state.listeners = []
            return listeners
        }
        for listener in listeners { listener() }
    }
}
