/// Why a tag name, glob or list selects no tag, in varnishlog's terms.
enum VSLTagLookupFailure: Error, Equatable {
    /// "matches zero tags"
    case noMatch
    /// "is ambiguous": a prefix of several tag names, none of them exactly.
    case ambiguous
    /// "Syntax error": more than one `*`.
    case syntax
}

extension VSLTag {
    /// The tag a name selects as varnishlog reads one: the tag of exactly that name, else the
    /// one tag whose name starts with it (`ReqUR` is ReqURL), ignoring case.
    static func named(prefix name: some StringProtocol) throws(VSLTagLookupFailure) -> VSLTag {
        let wanted = Array(name.utf8)
        guard !wanted.isEmpty else { throw .noMatch }
        var found: VSLTag?
        var several = false
        for tag in VSLTag.allCases {
            let tagName = Array(tag.name.utf8)
            guard tagName.count >= wanted.count, asciiCaseEqual(tagName[..<wanted.count], wanted[...]) else {
                continue
            }
            if tagName.count == wanted.count { return tag }
            if found == nil { found = tag } else { several = true }
        }
        if several { throw .ambiguous }
        guard let found else { throw .noMatch }
        return found
    }

    /// The tags a glob selects: a name (as `named(prefix:)`), or a pattern with one `*`
    /// standing for any run of characters (`Req*`, `*Header`, `Req*URL`, `*`), ignoring case.
    static func matching(glob: some StringProtocol) throws(VSLTagLookupFailure) -> [VSLTag] {
        let pattern = Array(glob.utf8)
        guard !pattern.isEmpty else { throw .noMatch }
        guard let star = pattern.firstIndex(of: UInt8(ascii: "*")) else {
            return [try named(prefix: glob)]
        }
        let head = pattern[..<star]
        let tail = pattern[(star + 1)...]
        if tail.contains(UInt8(ascii: "*")) { throw .syntax }
        let tags = VSLTag.allCases.filter { tag in
            let name = Array(tag.name.utf8)
            guard name.count - head.count >= tail.count else { return false }
            return asciiCaseEqual(name[..<head.count], head)
                && asciiCaseEqual(name[(name.count - tail.count)...], tail)
        }
        if tags.isEmpty { throw .noMatch }
        return tags
    }

    /// The tags a comma-separated list of globs selects (`-i ReqURL,Resp*`).
    static func matching(list: some StringProtocol) throws(VSLTagLookupFailure) -> [VSLTag] {
        var tags: [VSLTag] = []
        for element in list.split(separator: ",", omittingEmptySubsequences: true) {
            tags += try matching(glob: element)
        }
        if tags.isEmpty { throw .noMatch }
        return tags
    }

    /// Tags varnishlog prints quoted with `%xx` escapes (their payload may hold anything).
    var isUnsafe: Bool { self == .debug || self == .httpGarbage || self == .hash }

    /// Tags varnishlog prints as hex in brackets.
    var isBinary: Bool {
        self == .h2RxHdr || self == .h2RxBody || self == .h2TxHdr || self == .h2TxBody
    }

    /// Tags Varnish 7.1 declares but never writes (`SLT_F_UNUSED`).
    var isUnused: Bool {
        switch self {
        case .respMethod, .berespMethod, .objMethod, .respURL, .berespURL, .objURL,
            .reqStatus, .bereqStatus, .reqReason, .bereqReason,
            .reqLost, .respLost, .bereqLost, .berespLost, .objLost:
            true
        default:
            false
        }
    }

    /// Whether Varnish gives the tag any flag (unsafe, binary or unused): varnishncsa skips
    /// such records outside JSON mode.
    var hasFlags: Bool { isUnsafe || isBinary || isUnused }
}

/// ASCII case-insensitive equality of two byte runs of the same length (C's strncasecmp).
func asciiCaseEqual(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
    guard a.count == b.count else { return false }
    return zip(a, b).allSatisfy { asciiLower($0) == asciiLower($1) }
}

@inline(__always)
func asciiLower(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte + 0x20 : byte
}
