/// Which side of the cache wrote a record: varnishlog's `c` and `b` columns (`-` for
/// neither, e.g. a session's or a probe's records).
public enum VSLSide: UInt8, Sendable {
    case none = 0
    case client = 1
    case backend = 2

    /// The column varnishlog prints in `-g raw`.
    public var marker: Character {
        switch self {
        case .none: "-"
        case .client: "c"
        case .backend: "b"
        }
    }
}

/// One record of the transaction log, as a reader sees it.
public struct VSLRecord: Sendable, Equatable {
    /// The transaction (vxid) the record belongs to; 0 for records of no transaction.
    public var vxid: UInt64
    public var tag: VSLTag
    public var side: VSLSide
    /// The payload, as written (text for every tag Shellac writes).
    public var payload: [UInt8]

    public init(vxid: UInt64, tag: VSLTag, side: VSLSide, payload: [UInt8]) {
        self.vxid = vxid
        self.tag = tag
        self.side = side
        self.payload = payload
    }

    public init(vxid: UInt64, tag: VSLTag, side: VSLSide, text: String) {
        self.init(vxid: vxid, tag: tag, side: side, payload: Array(text.utf8))
    }

    /// The payload as text.
    public var text: String { String(decoding: payload, as: UTF8.self) }
}
