/// The kind of work a transaction records: the first word of its `Begin` record.
public enum VSLTransactionType: Sendable, Equatable, CaseIterable {
    /// A transaction whose `Begin` was never seen, or named no known type.
    case unknown
    /// A client connection (`sess`).
    case session
    /// A client request (`req`), including ESI subrequests and restarts.
    case request
    /// A backend request (`bereq`).
    case backendRequest
    /// One record on its own, as `-g raw` reports every record.
    case raw

    /// The word `Begin` and `Link` records use: `sess`, `req`, `bereq` (and `unknown`, `raw`).
    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .session: "sess"
        case .request: "req"
        case .backendRequest: "bereq"
        case .raw: "raw"
        }
    }

    /// The word varnishlog shows in a group header: Session, Request, BeReq, Record, Unknown.
    public var label: String {
        switch self {
        case .unknown: "Unknown"
        case .session: "Session"
        case .request: "Request"
        case .backendRequest: "BeReq"
        case .raw: "Record"
        }
    }

    /// The type a `Begin`/`Link` word names (exact and case-sensitive, as varnishlog compares);
    /// `.unknown` for any other word.
    public init(name: some StringProtocol) {
        self = Self.allCases.first { $0 != .unknown && $0.name == name } ?? .unknown
    }
}

/// Why a transaction was started: the last word of its `Begin` record.
public enum VSLReason: Sendable, Equatable, CaseIterable {
    case unknown
    /// A session speaking HTTP/1 (`HTTP/1`).
    case http1
    /// A request received from the client (`rxreq`): the top of a request group.
    case rxreq
    /// An ESI include (`esi`).
    case esi
    /// A VCL restart of the parent request (`restart`): shown at the parent's level.
    case restart
    case pass
    case fetch
    case bgfetch
    case pipe

    /// The word as logged.
    public var name: String {
        switch self {
        case .unknown: "unknown"
        case .http1: "HTTP/1"
        case .rxreq: "rxreq"
        case .esi: "esi"
        case .restart: "restart"
        case .pass: "pass"
        case .fetch: "fetch"
        case .bgfetch: "bgfetch"
        case .pipe: "pipe"
        }
    }

    /// The reason a word names (exact, case-sensitive); `.unknown` for any other word.
    public init(name: some StringProtocol) {
        self = Self.allCases.first { $0 != .unknown && $0.name == name } ?? .unknown
    }
}

/// One transaction (vxid) with its records and, in grouped modes, the transactions it
/// started: what varnishlog prints as one `<< Request >>` block and the blocks below it.
public struct VSLTransaction: Sendable, Equatable {
    public var vxid: UInt64
    public var type: VSLTransactionType
    public var reason: VSLReason
    /// The vxid of the transaction above this one in its group; 0 for the top of a group (as
    /// varnishlog's API reports it, even when the `Begin` record names a parent).
    public var parentVXID: UInt64
    /// 1 for the top of a group, one more for each "started by" step, except that a restart
    /// stays at its parent's level; 0 in `-g raw`.
    public var level: Int
    /// The records in log order, with any records the grouper added (`VSL` notes, and the
    /// `Begin`/`End` it made up for a transaction it had to give up on).
    public var records: [VSLRecord]
    /// The transactions this one started, in the order the grouper linked them.
    public var children: [VSLTransaction]

    public init(
        vxid: UInt64, type: VSLTransactionType, reason: VSLReason = .unknown, parentVXID: UInt64 = 0,
        level: Int = 1, records: [VSLRecord] = [], children: [VSLTransaction] = []
    ) {
        self.vxid = vxid
        self.type = type
        self.reason = reason
        self.parentVXID = parentVXID
        self.level = level
        self.records = records
        self.children = children
    }

    /// This transaction and all below it, in the order varnishlog prints and queries them:
    /// breadth first (this one, then its children, then their children, ...).
    public var breadthFirst: [VSLTransaction] {
        var order = [self]
        var next = 0
        while next < order.count {
            order.append(contentsOf: order[next].children)
            next += 1
        }
        return order
    }
}

/// What the grouper hands out: one record (`-g raw`) or one tree of transactions.
public struct VSLGroup: Sendable, Equatable {
    /// The top transaction; in `-g raw` a `.raw` transaction of level 0 holding the one record.
    public var root: VSLTransaction

    public init(root: VSLTransaction) {
        self.root = root
    }

    /// A `-g raw` group: the record alone, as varnishlog wraps it.
    public init(raw record: VSLRecord) {
        self.root = VSLTransaction(vxid: record.vxid, type: .raw, level: 0, records: [record])
    }

    public var isRaw: Bool { root.type == .raw }

    /// Every transaction of the group in varnishlog's order (breadth first).
    public var transactions: [VSLTransaction] { root.breadthFirst }
}
