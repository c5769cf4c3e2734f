import Foundation

/// A health probe, as declared (`probe name { ... }` or inline in a backend).
public struct VCLProbe: Sendable, Equatable {
    public var name: String
    public var url = "/"
    /// Raw request lines from `.request`; nil means a GET of `url`.
    public var request: [String]?
    public var expectedResponse = 200
    public var timeout: Double = 2
    public var interval: Double = 5
    public var window = 8
    public var threshold = 3
    public var initial: Int?

    public init(name: String) { self.name = name }
}

/// A backend, as declared.
public struct VCLBackend: Sendable, Equatable {
    public var name: String
    public var host: String
    public var port: String = "80"
    /// `.path`: a Unix domain socket to connect to instead of `.host` and `.port`.
    public var path: String?
    public var hostHeader: String?
    public var connectTimeout: Double?
    public var firstByteTimeout: Double?
    public var betweenBytesTimeout: Double?
    public var maxConnections: Int?
    public var probe: VCLProbe?
    /// `.preamble`: bytes to send on every newly opened connection, before the first request.
    public var preamble: [UInt8]?
    /// `.proxy_header`: the PROXY protocol version (1 or 2) sent first on each connection.
    public var proxyHeader: Int?

    public init(name: String, host: String) {
        self.name = name
        self.host = host
    }
}

/// An access control list; the most specific matching entry decides, as in Varnish.
public struct VCLACL: Sendable {
    public struct Entry: Sendable {
        public let negated: Bool
        public let network: VCLIP
        public let bits: Int
    }

    public let name: String
    public let entries: [Entry]

    /// True when `ip` matches the ACL.
    public func matches(_ ip: VCLIP) -> Bool {
        var best: Entry?
        for entry in entries where ip.matches(network: entry.network, bits: entry.bits) {
            if best.map({ entry.bits > $0.bits }) ?? true { best = entry }
        }
        return best.map { !$0.negated } ?? false
    }
}
