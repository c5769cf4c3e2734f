import ArgumentParser
import Shellac

/// varnishd's `-a [name=][address][:port][,PROTO][,user=…][,group=…][,mode=…]`: a TCP
/// address, or the path of a Unix domain socket (`/…`) whose file gets `mode`; `PROXY`
/// makes its connections start with a PROXY protocol header. The name is VCL's
/// `local.socket`; `user=` and `group=` are accepted and not applied.
enum ListenOption {
    static func endpoint(_ text: String) throws -> Endpoint {
        var parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var address = parts.removeFirst()
        var name: String?
        if let equals = address.firstIndex(of: "="), !address[..<equals].contains(where: { "/:[".contains($0) }) {
            name = String(address[..<equals])
            address = String(address[address.index(after: equals)...])
        }
        var mode: UInt16?
        var proxy = false
        for option in parts {
            if option == "PROXY" { proxy = true }
            if option.hasPrefix("mode=") {
                guard let parsed = UInt16(option.dropFirst(5), radix: 8), parsed <= 0o777 else {
                    throw ValidationError("-a \(text): mode= expects an octal mode such as 0660")
                }
                mode = parsed
            }
        }
        var endpoint: Endpoint
        if address.hasPrefix("/") {
            endpoint = Endpoint(unixPath: address, mode: mode)
        } else {
            guard let parsed = Endpoint(parsing: address, defaultPort: 80) else {
                throw ValidationError("-a \(text): expected [host]:port or /path/to/socket")
            }
            endpoint = parsed
        }
        endpoint.expectsProxyHeader = proxy
        endpoint.name = name
        return endpoint
    }
}
