import ShellacCache
import Synchronization

/// The parameters of a running server, which `param.set` may change.
///
/// Readers on the request path keep their own copy and refresh it when `version` moves (one
/// relaxed atomic load per request); rarer readers take `current`.
public final class LiveParameters: Sendable {
    private let storage: Mutex<Parameters>
    private let changes = Atomic<Int>(0)

    public init(_ initial: Parameters) {
        storage = Mutex(initial)
        HTTPDate.acceptsOneDigitDay.store(initial.httpDatePostel, ordering: .relaxed)
    }

    public var current: Parameters { storage.withLock { $0 } }

    /// Moves on every change.
    var version: Int { changes.load(ordering: .acquiring) }

    /// Applies `name=value` to the running server; the value is checked first, as by `-p`.
    public func set(_ name: String, _ value: String) throws(Parameters.SetError) -> Parameters {
        let updated = try storage.withLock { (parameters: inout Parameters) throws(Parameters.SetError) -> Parameters in
            try parameters.set(name, value)
            return parameters
        }
        HTTPDate.acceptsOneDigitDay.store(updated.httpDatePostel, ordering: .relaxed)
        changes.add(1, ordering: .releasing)
        return updated
    }
}
