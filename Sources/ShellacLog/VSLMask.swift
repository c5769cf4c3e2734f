/// Which tags are written: Varnish's `vsl_mask` (`-Debug,-Hash,...`). A masked tag costs one
/// bit test and is never formatted.
public struct VSLMask: Sendable, Equatable {
    private var bits: (UInt64, UInt64) = (0, 0)

    /// Varnish 7.1's default: everything but the debugging and per-object tags.
    public static let varnishDefault: VSLMask = {
        var mask = VSLMask()
        for tag in [
            VSLTag.debug, .objProtocol, .objStatus, .objReason, .objHeader, .vclTrace, .expKill, .workThread, .hash, .vfpAcct,
            .h2RxHdr, .h2RxBody, .h2TxHdr, .h2TxBody, .vdpAcct,
        ] {
            mask.set(tag, masked: true)
        }
        return mask
    }()

    public init() {}

    @inline(__always)
    public func isMasked(_ tag: VSLTag) -> Bool {
        let index = Int(tag.rawValue)
        return index < 64 ? bits.0 & (1 << UInt64(index)) != 0 : bits.1 & (1 << UInt64(index - 64)) != 0
    }

    public mutating func set(_ tag: VSLTag, masked: Bool) {
        let index = Int(tag.rawValue)
        if index < 64 {
            bits.0 = masked ? bits.0 | (1 << UInt64(index)) : bits.0 & ~(1 << UInt64(index))
        } else {
            bits.1 = masked ? bits.1 | (1 << UInt64(index - 64)) : bits.1 & ~(1 << UInt64(index - 64))
        }
    }

    /// `vsl_mask`'s syntax: comma-separated `-Tag` (mask), `+Tag` (log), `default`, `none`
    /// (log nothing... as Varnish: mask every tag) and `all` (log every tag).
    public init(parsing text: String) throws(VSLMaskError) {
        self = .varnishDefault
        try apply(text)
    }

    /// Applies `+Tag`/`-Tag` words (and `default`, `all`, `none`) to this mask.
    public mutating func apply(_ text: String) throws(VSLMaskError) {
        for word in text.split(separator: ",").map({ $0.trimmingCharacters(in: " ") }) where !word.isEmpty {
            switch word.lowercased() {
            case "default": self = .varnishDefault
            case "all": self = VSLMask()
            case "none":
                for tag in VSLTag.allCases { set(tag, masked: true) }
            default:
                guard let sign = word.first, sign == "-" || sign == "+", let tag = VSLTag(name: String(word.dropFirst()))
                else { throw VSLMaskError(word: String(word)) }
                set(tag, masked: sign == "-")
            }
        }
    }

    public static func == (lhs: VSLMask, rhs: VSLMask) -> Bool { lhs.bits == rhs.bits }
}

public struct VSLMaskError: Error, CustomStringConvertible {
    public let word: String
    public var description: String { "vsl_mask: \(word): expected +TAG or -TAG with one of varnishd's VSL tags" }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var slice = self[...]
        while slice.first == set { slice = slice.dropFirst() }
        while slice.last == set { slice = slice.dropLast() }
        return Substring(slice)
    }
}
