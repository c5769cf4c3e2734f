import Dispatch
import Foundation
import NIOCore
import Synchronization

/// True exactly once, for whichever caller claims it first.
final class OnceFlag: Sendable {
    private let claimed = Atomic<Bool>(false)
    func claim() -> Bool { claimed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged }
}

/// `127.0.0.1:6081` or `[::1]:6081`.
struct SocketAddressDescription {
    let text: String
    init(address: SocketAddress) {
        let ip = address.ipAddress ?? "?"
        let port = address.port ?? 0
        text = ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
