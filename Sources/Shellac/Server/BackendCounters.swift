import Synchronization
import VCL

/// varnishstat's per-backend counters (`VBE.<vcl>.<backend>.*`), by backend name: requests
/// sent, connections that failed (and why), and the probe's view. Written once per backend
/// request (a miss's or a pass's), never on a hit.
public final class BackendCounters: Sendable {
    public enum Field: Int, CaseIterable, Sendable {
        case req, fail, failConnectionRefused, failTimedOut, failOther, helddown
        /// Bytes of request heads and bodies sent, of response heads and bodies received
        /// (bodies as decoded from their chunked framing).
        case bereqHeaderBytes, bereqBodyBytes, berespHeaderBytes, berespBodyBytes
        /// Connections open now (a gauge).
        case conn

        public var name: String {
            switch self {
            case .req: "req"
            case .fail: "fail"
            case .failConnectionRefused: "fail_econnrefused"
            case .failTimedOut: "fail_etimedout"
            case .failOther: "fail_other"
            case .helddown: "helddown"
            case .bereqHeaderBytes: "bereq_hdrbytes"
            case .bereqBodyBytes: "bereq_bodybytes"
            case .berespHeaderBytes: "beresp_hdrbytes"
            case .berespBodyBytes: "beresp_bodybytes"
            case .conn: "conn"
            }
        }
    }

    private let counts = Mutex<[String: [Int]]>([:])

    public init() {}

    func increment(_ field: Field, backend: String) {
        add(field, 1, backend: backend)
    }

    func add(_ field: Field, _ amount: Int, backend: String) {
        counts.withLock { counts in
            counts[backend, default: Array(repeating: 0, count: Field.allCases.count)][field.rawValue] += amount
        }
    }

    /// One exchange's byte counts, added under one lock.
    func addBytes(backend: String, sentHead: Int, sentBody: Int, receivedHead: Int, receivedBody: Int) {
        counts.withLock { counts in
            counts[backend, default: Array(repeating: 0, count: Field.allCases.count)].withUnsafeMutableBufferPointer { values in
                values[Field.bereqHeaderBytes.rawValue] += sentHead
                values[Field.bereqBodyBytes.rawValue] += sentBody
                values[Field.berespHeaderBytes.rawValue] += receivedHead
                values[Field.berespBodyBytes.rawValue] += receivedBody
            }
        }
    }

    /// The counters of `backends` as reported under `vcl`, each with `happy`, its probe's
    /// history of good pokes as a bitmap (newest in bit 0; 0 without a probe).
    func named(vcl: String, backends: [BackendHealth]) -> [(name: String, value: Int)] {
        let counts = self.counts.withLock { $0 }
        var result: [(name: String, value: Int)] = []
        for backend in backends {
            let values = counts[backend.name] ?? Array(repeating: 0, count: Field.allCases.count)
            let prefix = "VBE.\(vcl).\(backend.name)."
            for field in Field.allCases { result.append((prefix + field.name, values[field.rawValue])) }
            let happy = backend.snapshot.history?.happy ?? 0
            result.append((prefix + "happy", Int(truncatingIfNeeded: happy)))
        }
        return result
    }
}
