#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// ACL entries read as vcc reads them (`vcc_acl.c`): `"10.1.2"` is the network 10.1.2.0/24
/// (one to four dotted parts, each eight bits of mask), anything else goes to getaddrinfo
/// (every address found is an entry); a mask wider than the family, bits set past the mask
/// (unless `-pedantic`), and the same network both allowed and denied are errors.
extension Compiler {
    /// A network of an ACL: its address with the bits past the mask cleared, and the mask.
    private struct Network: Hashable {
        let address: VCLIP
        let bits: Int
    }

    func compileACL(_ declaration: ACLDecl) -> VCLACL {
        var entries: [VCLACL.Entry] = []
        var seen: [Network: ACLDecl.Entry] = [:]
        for entry in declaration.entries {
            var mask = entry.maskBits
            var addresses: [VCLIP] = []
            if let (address, parts) = Compiler.dottedNetwork(entry.address) {
                addresses = [address]
                if mask == nil { mask = 8 * parts }
            } else {
                let found = Compiler.resolve(entry.address)
                if let failure = found.failure {
                    if entry.optional {
                        sink.warning(entry.location, "\(entry.address) ignored -- \(failure) (an entry in parentheses may fail to resolve)")
                    } else {
                        sink.error(entry.location, "DNS lookup(\(entry.address)): \(failure)")
                    }
                    continue
                }
                addresses = found.addresses
                if let mask, addresses.contains(where: \.isIPv6), addresses.contains(where: { !$0.isIPv6 }) {
                    sink.error(entry.location, "Mask (/\(mask)) specified, but string resolves to both IPv4 and IPv6 addresses.")
                    continue
                }
            }
            for address in addresses {
                let width = address.isIPv6 ? 128 : 32
                let bits = mask ?? width
                guard bits <= width else {
                    sink.error(entry.location, "Too wide mask (/\(bits)) for IPv\(address.isIPv6 ? 6 : 4) address (\(address) takes /0 to /\(width))")
                    break
                }
                let network = Network(address: address.masked(to: bits), bits: bits)
                if declaration.pedantic && network.address != address {
                    sink.error(entry.location, "Non-zero bits in masked part, (maybe use \(network.address)/\(bits) ?) (or mark the ACL -pedantic)")
                    break
                }
                if let previous = seen[network] {
                    if previous.negated != entry.negated {
                        sink.error(entry.location, "Conflicting ACL entries: this one and the one at \(previous.location) name the same network, one with '!'")
                    }
                    continue
                }
                seen[network] = entry
                entries.append(VCLACL.Entry(negated: entry.negated, network: network.address, bits: bits))
            }
        }
        return VCLACL(name: declaration.name, entries: entries)
    }

    /// vcc's own reading of a dotted IPv4 network, for which getaddrinfo would give another
    /// address (`"192.168"` is 192.168.0.0, not 192.0.0.168): one to four decimal parts of
    /// 0 to 255. Returns the address and the number of parts; nil for anything else.
    static func dottedNetwork(_ text: String) -> (VCLIP, Int)? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.utf8.allSatisfy(Lexer.isDigit), let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return (VCLIP(ipv4: value << UInt32(8 * (4 - parts.count))), parts.count)
    }

    /// Resolves a name at load, as vcc does for ACL entries: the addresses found, or why
    /// none were (getaddrinfo's words).
    static func resolve(_ host: String) -> (addresses: [VCLIP], failure: String?) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &result)
        guard status == 0, let first = result else {
            return ([], status == 0 ? "no address" : String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [VCLIP] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            var buffer = [CChar](repeating: 0, count: 64)
            if info.pointee.ai_family == AF_INET, let raw = info.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var address = sin.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
                }
            } else if info.pointee.ai_family == AF_INET6, let raw = info.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var address = sin6.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
                }
            }
            let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let ip = VCLIP(text), !addresses.contains(ip) { addresses.append(ip) }
            cursor = info.pointee.ai_next
        }
        return (addresses, nil)
    }
}
