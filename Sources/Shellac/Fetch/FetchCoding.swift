import NIOCore
import ShellacCache
import VCL

/// What a fetch does to the body's content coding before it is stored (Varnish's gzip fetch
/// filters, chosen as its `vbf_default_filter_list` chooses them). Shellac stores gzip when
/// the backend sends gzip, so that one copy serves every client: delivery inflates it for a
/// client that does not accept gzip.
enum FetchCoding {
    /// Stored as received.
    case none
    /// Stored as received (gzip), inflated on the side to check it and learn its bits.
    case testGunzip(Gunzipper)
    /// `beresp.do_gunzip`: stored inflated.
    case gunzip(Gunzipper)
    /// `beresp.do_gzip`: stored deflated.
    case gzip(Gzipper)
    /// `beresp.do_esi` on a body that is (or is to be) gzip: gathered plain (a gzip body is
    /// inflated as it arrives, so corruption shows at once), read as ESI when complete, and
    /// stored as an `ESIGzip` page.
    case esiGzip(inflating: Gunzipper?)

    /// Whether the stored body is gzip.
    var storesGzip: Bool {
        switch self {
        case .testGunzip, .gzip, .esiGzip: true
        case .none, .gunzip: false
        }
    }

    var isESIGzip: Bool {
        if case .esiGzip = self { return true }
        return false
    }

    /// Whether the stored body has other bytes than the backend sent.
    var changesBytes: Bool {
        switch self {
        case .gunzip, .gzip, .esiGzip: true
        case .none, .testGunzip: false
        }
    }

    /// The coding for a response with `headers` (after `vcl_backend_response`), and the
    /// fields as they are to be stored: `Content-Encoding` as the stored body is, `Vary`
    /// naming Accept-Encoding where the coding depends on it, and a weak `ETag` where the
    /// bytes differ from the backend's. `doESI` comes back false when the body cannot be read
    /// as ESI (a coding other than gzip).
    static func choose(
        status: Int, declaredLength: Int?, headers: inout HeaderList, doGzip: Bool, doGunzip: Bool,
        doESI: inout Bool, parameters: Parameters, explicitFilters: Bool = false
    ) throws -> FetchCoding {
        let encoding = headers["Content-Encoding"]
        let hasBody = ResponseStatus.hasBody(status) && declaredLength != 0
        guard hasBody, status != 206 else {
            if hasBody == false { headers.remove("Content-Encoding") }
            doESI = doESI && encoding == nil
            return .none
        }
        let isGzip = encoding.map { $0.trimmingCharacters(in: .whitespaces).lowercased() == "gzip" } ?? false
        let isPlain = encoding == nil
        // `http_gzip_support` off turns off the do_* flags, not a chain `beresp.filters` names.
        let support = parameters.httpGzipSupport || explicitFilters
        let gzip = doGzip && support && isPlain
        let gunzip = doGunzip && support && isGzip
        let buffer = parameters.gzipBuffer
        if doESI {
            if gzip || (isGzip && !gunzip) {
                headers.set("Content-Encoding", "gzip")
                weakenETag(&headers)
                addVaryAcceptEncoding(&headers)
                return .esiGzip(inflating: isGzip ? try Gunzipper(bufferSize: buffer) : nil)
            }
            if gunzip {
                headers.remove("Content-Encoding")
                weakenETag(&headers)
                return .gunzip(try Gunzipper(bufferSize: buffer))
            }
            doESI = isPlain
            return .none
        }
        if gzip {
            headers.set("Content-Encoding", "gzip")
            weakenETag(&headers)
            addVaryAcceptEncoding(&headers)
            return .gzip(try Gzipper(level: parameters.gzipLevel, memoryLevel: parameters.gzipMemoryLevel, bufferSize: buffer))
        }
        if gunzip {
            headers.remove("Content-Encoding")
            weakenETag(&headers)
            return .gunzip(try Gunzipper(bufferSize: buffer))
        }
        if isGzip && support {
            addVaryAcceptEncoding(&headers)
            return .testGunzip(try Gunzipper(tracksBits: true, bufferSize: buffer))
        }
        return .none
    }

    /// The `do_gzip`, `do_gunzip` and `do_esi` that make the chain `filters` names (the
    /// chains Varnish's default lists hold); nil for any other chain.
    static func flags(forFilters filters: String, headers: HeaderList) -> (gzip: Bool, gunzip: Bool, esi: Bool)? {
        let isGzip = headers["Content-Encoding"].map { $0.lowercased() == "gzip" } ?? false
        let names = filters.split(separator: " ")
        if !names.isEmpty, names.allSatisfy({ $0 == "gzip" || $0 == "gunzip" || $0 == "testgunzip" }) {
            return netCoding(of: names, isGzip: isGzip, isEncoded: headers["Content-Encoding"] != nil)
        }
        switch names.joined(separator: " ") {
        case "": return (false, false, false)
        case "esi": return isGzip ? nil : (false, false, true)
        case "gunzip esi": return (false, true, true)
        case "esi_gzip": return isGzip ? nil : (true, false, true)
        case "gunzip esi_gzip": return isGzip ? (false, false, true) : nil
        default: return nil
        }
    }

    /// A chain of `gzip`, `gunzip` and `testgunzip` as one step, as each filter in Varnish
    /// steps aside where it has nothing to do (`gzip` on a body with any coding, `gunzip`
    /// or `testgunzip` on one that is not gzip): "gzip gunzip gzip" on a plain body is "gzip".
    private static func netCoding(
        of names: [Substring], isGzip: Bool, isEncoded: Bool
    ) -> (gzip: Bool, gunzip: Bool, esi: Bool) {
        var gzip = isGzip
        var encoded = isEncoded
        for name in names {
            if name == "gzip", !encoded {
                (gzip, encoded) = (true, true)
            } else if name == "gunzip", gzip {
                (gzip, encoded) = (false, false)
            }
        }
        return (!isGzip && gzip, isGzip && !gzip, false)
    }

    /// `ETag: "x"` becomes `W/"x"` (RFC 9110 §8.8.3: other bytes, same meaning).
    static func weakenETag(_ headers: inout HeaderList) {
        guard let tag = headers["ETag"], tag.hasPrefix("\"") else { return }
        headers.set("ETag", "W/" + tag)
    }

    /// Adds Accept-Encoding to `Vary` unless it is named already.
    static func addVaryAcceptEncoding(_ headers: inout HeaderList) {
        guard let vary = headers["Vary"] else { return headers.set("Vary", "Accept-Encoding") }
        let names = vary.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if !names.contains("accept-encoding") && !names.contains("*") { headers.set("Vary", vary + ", Accept-Encoding") }
    }
}
