import NIOCore
import NIOPosix
import Synchronization

/// varnishd's connect holddown: after a backend refused a connection or was unreachable, no
/// new connection to it is tried for `backend_remote_error_holddown` (0.25 s by default);
/// after a local error (no address or port to connect from, no permission), for
/// `backend_local_error_holddown` (10 s). Fetches that would connect in that time fail at once
/// (`VBE.*.helddown`). Idle connections are still reused. Shared by every loop; consulted only
/// when a new connection is needed.
final class BackendHolddown: Sendable {
    /// Until when each backend (by address) is held down.
    private let until = Mutex<[String: Double]>([:])

    /// The fetch that finds the backend held down fails with this.
    struct HeldDown: Error {}

    func isHeld(_ backend: Backend, now: Double) -> Bool {
        until.withLock { until in
            guard let end = until[backend.text] else { return false }
            if now < end { return true }
            until[backend.text] = nil
            return false
        }
    }

    /// Holds `backend` down after `error`, for as long as the kind of error asks (not at all
    /// for a timeout or an error of another kind).
    func hold(_ backend: Backend, after error: Error, now: Double, remote: Double, local: Double) {
        guard let seconds = Self.holddown(for: error, remote: remote, local: local), seconds > 0 else { return }
        until.withLock { $0[backend.text] = now + seconds }
    }

    static func holddown(for error: Error, remote: Double, local: Double) -> Double? {
        for error in BackendFetch.connectErrors(error) {
            guard let io = error as? IOError else { continue }
            switch io.errnoCode {
            case ECONNREFUSED, ENETUNREACH: return remote
            case EACCES, EPERM, EADDRNOTAVAIL: return local
            default: continue
            }
        }
        return nil
    }
}
