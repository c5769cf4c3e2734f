import ShellacLog
import ShellacCache
/// The VCL sessions of one event loop that no request is using.
///
/// A request borrows a session when it starts and gives it back when its response is done. A
/// hit runs recv, lookup and deliver without suspending, so every hit on a loop runs in the
/// same session, whose context stays in the CPU's cache however many connections there are.
/// A request that waits (a miss, a pass, a busy object) keeps its session until it finishes
/// and the next request takes another. Used only on its loop.
final class VCLSessionPool {
    /// The program the free sessions were made for; a new one empties the pool.
    private var loaded: VCLRegistry.Loaded?
    private var free: [VCLSession] = []
    /// More than this many idle sessions are let go (one per request waiting at once is kept).
    private let capacity: Int
    /// This loop's buffer of transaction log records (see `VSLBuffer`).
    let log: VSLBuffer
    private let store: CacheStore?

    init(log: VSLBuffer, store: CacheStore? = nil, capacity: Int = 64) {
        self.log = log
        self.store = store
        self.capacity = capacity
    }

    /// A session of `loaded`'s program: the one most recently given back, or a new one.
    func borrow(_ loaded: VCLRegistry.Loaded) -> VCLSession {
        if loaded !== self.loaded {
            self.loaded = loaded
            free.removeAll()
        }
        return free.popLast() ?? VCLSession(loaded: loaded, log: log, store: store)
    }

    /// Returns a session whose request has finished. Sessions of a replaced program are dropped.
    func giveBack(_ session: VCLSession) {
        guard session.loaded === loaded, free.count < capacity else { return }
        free.append(session)
    }
}
