import NIOCore
import Synchronization

/// A backend's `.max_connections`: how many fetches may use a connection to it at once,
/// across every event loop, and the bounded queue of fetches waiting for one to free up
/// (`backend_wait_limit` entries, each for at most `backend_wait_timeout`, as Varnish 7.6
/// has them; with both 0, as by default, a fetch over the limit fails at once, as in 7.1).
/// Past the queue a fetch fails: never unbounded memory.
final class BackendGate: Sendable {
    private struct Waiter {
        let id: Int
        let grant: @Sendable (Bool) -> Void
    }

    private struct State {
        var inUse = 0
        /// Oldest first; bounded by the wait limit (a small array: removal from the front is cheap).
        var waiters: [Waiter] = []
        var nextID = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    var inUse: Int { state.withLock { $0.inUse } }

    /// Asks for a connection slot. `grant` runs on `loop` once: `true` when the fetch may go
    /// on (it must call `leave()` when it ends), `false` when the backend is busy (the queue
    /// is full, or the wait ran out).
    func enter(waitLimit: Int, timeout: Double, on loop: EventLoop, grant: @escaping @Sendable (Bool) -> Void) {
        enum Outcome { case granted, refused, queued(Int) }
        let onLoop: @Sendable (Bool) -> Void = { granted in loop.execute { grant(granted) } }
        let outcome = state.withLock { state -> Outcome in
            if state.inUse < limit {
                state.inUse += 1
                return .granted
            }
            guard state.waiters.count < waitLimit, timeout > 0 else { return .refused }
            state.nextID += 1
            state.waiters.append(Waiter(id: state.nextID, grant: onLoop))
            return .queued(state.nextID)
        }
        switch outcome {
        case .granted: grant(true)
        case .refused: grant(false)
        case .queued(let id):
            loop.scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) { [self] in
                let expired = state.withLock { state -> Waiter? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                    return state.waiters.remove(at: index)
                }
                expired?.grant(false)
            }
        }
    }

    /// A fetch that held a slot ended: the slot goes to the oldest waiter, if any.
    func leave() {
        let next = state.withLock { state -> Waiter? in
            if state.waiters.isEmpty {
                state.inUse = max(state.inUse - 1, 0)
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.grant(true)
    }
}
