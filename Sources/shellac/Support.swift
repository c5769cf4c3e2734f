import NIOCore

/// `127.0.0.1:6081` or `[::1]:6081`.
struct SocketAddressDescription {
    let text: String
    init(address: SocketAddress) {
        if case .unixDomainSocket = address, let path = address.pathname {
            text = path
            return
        }
        let ip = address.ipAddress ?? "?"
        let port = address.port ?? 0
        text = ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
