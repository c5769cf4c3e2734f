import NIOCore

/// The PROXY protocol header (v1 text or v2 binary) a backend declared with `.proxy_header`
/// gets first on each connection: the client's address and the address it connected to, as
/// Varnish sends them. Written by hand: the format is a few bytes and no library here has it.
enum ProxyHeaderWriter {
    /// The header for `client` → `server`, or nil when either address is not an IP one.
    static func header(version: Int, client: SocketAddress?, server: SocketAddress?) -> ByteBuffer? {
        guard let client, let server, let clientIP = client.ipAddress, let serverIP = server.ipAddress,
              let clientPort = client.port, let serverPort = server.port else { return nil }
        let isV6 = clientIP.contains(":") || serverIP.contains(":")
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        if version == 1 {
            buffer.writeString("PROXY \(isV6 ? "TCP6" : "TCP4") \(clientIP) \(serverIP) \(clientPort) \(serverPort)\r\n")
            return buffer
        }
        guard let clientBytes = Self.bytes(of: client, asV6: isV6), let serverBytes = Self.bytes(of: server, asV6: isV6)
        else { return nil }
        buffer.writeBytes([0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A])
        buffer.writeInteger(UInt8(0x21))  // version 2, PROXY
        buffer.writeInteger(UInt8(isV6 ? 0x21 : 0x11))  // TCP over IPv6 or IPv4
        buffer.writeInteger(UInt16(clientBytes.count * 2 + 4))
        buffer.writeBytes(clientBytes)
        buffer.writeBytes(serverBytes)
        buffer.writeInteger(UInt16(clientPort))
        buffer.writeInteger(UInt16(serverPort))
        return buffer
    }

    /// The address's bytes, an IPv4 one mapped into IPv6 when the other end is IPv6.
    private static func bytes(of address: SocketAddress, asV6: Bool) -> [UInt8]? {
        switch address {
        case .v4(let v4):
            let value = UInt32(bigEndian: v4.address.sin_addr.s_addr)
            let four = [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
            return asV6 ? Array(repeating: 0, count: 10) + [0xFF, 0xFF] + four : four
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }
}
