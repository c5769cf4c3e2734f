import NIOCore
import VCL

/// A backend server: where misses and passes are fetched from.
public struct Backend: Sendable, Hashable {
    public var name: String
    public var host: String
    public var port: Int
    /// `.max_connections`: fetches using it at once (nil: no limit).
    public var maxConnections: Int?
    /// A Unix domain socket (`.path`, `-b /path`): used instead of host and port.
    public var unixPath: String?
    /// `.preamble`: bytes sent first on every new connection (a BLOB literal in VCL).
    public var preamble: [UInt8]?
    /// `.host_header`: the Host a request without one is sent with.
    public var hostHeader: String?
    /// `.proxy_header`: the PROXY protocol version sent first on each connection (which is
    /// then never reused: it speaks for one client).
    public var proxyHeader: Int?

    /// The Host field for a backend request that has none (HTTP/1.1 needs one): the
    /// `.host_header`, else the address as declared (`0.0.0.0` for a Unix socket), as Varnish.
    public var defaultHost: String { hostHeader ?? (unixPath != nil ? "0.0.0.0" : host) }

    public init(name: String = "default", host: String, port: Int, maxConnections: Int? = nil) {
        self.name = name
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
    }

    public init(name: String = "default", unixPath: String, maxConnections: Int? = nil) {
        self.init(name: name, host: "", port: 0, maxConnections: maxConnections)
        self.unixPath = unixPath
    }

    /// The backend a VCL declares.
    public init?(_ declared: VCLBackend) {
        if let path = declared.path {
            self.init(name: declared.name, unixPath: path, maxConnections: declared.maxConnections)
            preamble = declared.preamble
            hostHeader = declared.hostHeader
            proxyHeader = declared.proxyHeader
            return
        }
        guard let port = Int(declared.port) else { return nil }
        self.init(name: declared.name, host: declared.host, port: port, maxConnections: declared.maxConnections)
        preamble = declared.preamble
        hostHeader = declared.hostHeader
        proxyHeader = declared.proxyHeader
    }

    /// How it is written in logs: `host:port` or the socket's path.
    public var text: String { unixPath ?? Endpoint(host: host, port: port).text }

    /// `host:port`, `[v6]:port`, `host` (port 80), or `/path/to.sock`, as varnishd's `-b`.
    public init?(parsing text: String, name: String = "default") {
        if text.hasPrefix("/") {
            self.init(name: name, unixPath: text)
            return
        }
        guard let endpoint = Endpoint(parsing: text, defaultPort: 80), !endpoint.host.isEmpty else { return nil }
        self.init(name: name, host: endpoint.host, port: endpoint.port)
    }
}

/// A host and port written as `host:port`, `:port`, `[::1]:port` or `host`; or, for a
/// listener, the path of a Unix domain socket.
public struct Endpoint: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// A Unix domain socket's path (`-a /path/to.sock`); host and port are then unused.
    public var unixPath: String?
    /// The permissions of a Unix domain socket's file (`-a /path,mode=0660`).
    public var unixMode: UInt16?
    /// A listener whose connections start with a PROXY protocol header (`-a ...,PROXY`).
    public var expectsProxyHeader = false
    /// A listener's name (`-a name=...`), VCL's `local.socket`; nil: `a0`.
    public var name: String?

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(unixPath: String, mode: UInt16? = nil) {
        self.host = ""
        self.port = 0
        self.unixPath = unixPath
        self.unixMode = mode
    }

    /// How the address is written back: `host:port`, `[v6]:port` or the socket's path.
    public var text: String {
        if let unixPath { return unixPath }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public init?(parsing text: String, defaultPort: Int?) {
        var host = Substring(text)
        var portText: Substring?
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if rest.hasPrefix(":") { portText = rest.dropFirst() } else if !rest.isEmpty { return nil }
        } else if let colon = host.lastIndex(of: ":") {
            guard host.firstIndex(of: ":") == colon else { return nil }  // bare IPv6 needs brackets
            portText = host[host.index(after: colon)...]
            host = host[..<colon]
        }
        let port: Int
        if let portText {
            guard let parsed = Int(portText), (0...65535).contains(parsed) else { return nil }
            port = parsed
        } else {
            guard let defaultPort else { return nil }
            port = defaultPort
        }
        guard !host.contains(where: { $0 == " " || $0 == "/" }) else { return nil }
        self.init(host: String(host), port: port)
    }
}
