/// varnishlog's `-g` modes.
public enum VSLGrouping: String, Sendable, CaseIterable {
    /// Every record alone, records of no transaction (vxid 0) included.
    case raw
    /// Every transaction alone, when its `End` arrives.
    case vxid
    /// A client request with the backend requests, ESI subrequests and restarts it started.
    case request
    /// A client connection with all its requests and what they started.
    case session

    /// The mode a `-g` argument names: the whole name or a prefix of one name, ignoring case
    /// (`-g req` is request); nil when none or several match.
    public init?(argument: String) {
        let wanted = argument.lowercased()
        if let exact = Self.allCases.first(where: { $0.rawValue == wanted }) {
            self = exact
            return
        }
        let candidates = Self.allCases.filter { !wanted.isEmpty && $0.rawValue.hasPrefix(wanted) }
        guard candidates.count == 1, let only = candidates.first else { return nil }
        self = only
    }
}

/// Groups log records, as they arrive interleaved, into what varnishlog's `-g` reports, with
/// varnishlog's rules (lib/libvarnishapi/vsl_dispatch.c):
///
/// - `Begin` (`TYPE PARENT REASON`) starts a transaction; `End` completes it; `Link`
///   (`TYPE CHILD REASON`) names a child. A parent or child named before its own records
///   arrive gets a placeholder, as in varnishlog.
/// - A group is reported once its top and every transaction below it have ended.
/// - `request` mode ignores sessions (their records are dropped) and starts a group at each
///   `rxreq` request; `session` mode reports sessions only; a group whose top is of another
///   type (say a backend fetch whose request was never seen) is dropped, as varnishlog does.
/// - Records of no transaction (vxid 0) only appear in `raw` mode.
/// - Records for a vxid the grouper holds nothing for, other than `Begin`, are dropped.
/// - Memory is bounded like `-L`: when more than `maxIncomplete` transactions are held, the
///   oldest unfinished one is given up on ("store overflow"), and like `-T` when a `timeout`
///   is set. A transaction given up on gets a `VSL` record with the reason and a made-up
///   `End synth` (and `Begin TYPE 0 synth` if it had none), then reports normally.
public struct VSLGrouper: Sendable {
    public let mode: VSLGrouping
    /// varnishlog's `-L`: how many transactions may be held before the oldest unfinished one
    /// is forced out.
    public let maxIncomplete: Int
    /// varnishlog's `-T`: seconds, on the clock given to `add(_:at:)`, after which an
    /// unfinished transaction is forced out; nil for never.
    public let timeout: Double?

    /// One transaction being collected (varnishlog's vtx).
    private struct Pending: Sendable {
        var vxid: UInt64
        /// Tells this transaction from an earlier one of the same vxid in `incomplete`.
        var serial: UInt64
        var startTime: Double
        var type: VSLTransactionType = .unknown
        var reason: VSLReason = .unknown
        var records: [VSLRecord] = []
        /// How many of `records` have been looked at for Begin/Link/End.
        var scanned = 0
        var sawBegin = false
        var sawEnd = false
        /// Ended (or forced); no more links are taken.
        var complete = false
        var parent: UInt64?
        var children: [UInt64] = []
        var readyChildren = 0
    }

    private var pending: [UInt64: Pending] = [:]
    /// Unfinished transactions, oldest first; entries whose transaction completed or went
    /// are skipped when met.
    private var incomplete: [(vxid: UInt64, serial: UInt64)] = []
    private var incompleteHead = 0
    /// Tops whose whole tree has ended, in the order they did.
    private var ready: [UInt64] = []
    private var nextSerial: UInt64 = 0
    private var now: Double = 0

    /// - Parameters:
    ///   - maxIncomplete: varnishlog's `-L` (default 1000); values below 1 count as 1.
    ///   - timeout: varnishlog's `-T` in seconds of the clock passed to `add(_:at:)` (varnishlog
    ///     defaults to 120 on its own clock); nil never times out.
    public init(mode: VSLGrouping, maxIncomplete: Int = 1000, timeout: Double? = nil) {
        self.mode = mode
        self.maxIncomplete = max(1, maxIncomplete)
        self.timeout = timeout
    }

    /// How many transactions are held (what `maxIncomplete` bounds).
    public var heldTransactions: Int { pending.count }

    /// Takes the next record in log order; returns the groups it completes.
    /// - Parameter time: the reader's clock in seconds, for `timeout` (any monotonic count).
    public mutating func add(_ record: VSLRecord, at time: Double = 0) -> [VSLGroup] {
        if mode == .raw { return [VSLGroup(raw: record)] }
        now = time
        if record.vxid != 0 { take(record) }

        if let timeout {
            while let oldest = oldestIncomplete(), now - (pending[oldest]?.startTime ?? now) >= timeout {
                force(oldest, reason: "timeout")
            }
        }
        var groups: [VSLGroup] = []
        while pending.count > maxIncomplete, let oldest = oldestIncomplete() {
            force(oldest, reason: "store overflow")
            groups += takeReady()
        }
        groups += takeReady()
        return groups
    }

    /// Gives up on every unfinished transaction (reason "flush") and returns all groups.
    public mutating func flush() -> [VSLGroup] {
        while let oldest = oldestIncomplete() {
            force(oldest, reason: "flush")
        }
        return takeReady()
    }

    // MARK: - Taking records

    private mutating func take(_ record: VSLRecord) {
        if pending[record.vxid] == nil {
            guard record.tag == .begin, startsGroupable(record) else { return }
            addPending(record.vxid)
        }
        pending[record.vxid]?.records.append(record)
        scan(record.vxid)
    }

    /// Whether a `Begin` record is worth collecting in this mode (varnishlog's candidates).
    private func startsGroupable(_ begin: VSLRecord) -> Bool {
        guard mode == .request else { return true }
        guard let link = VSLLinkPayload(begin.payload), link.type != .unknown else { return false }
        return link.type != .session
    }

    @discardableResult
    private mutating func addPending(_ vxid: UInt64) -> UInt64 {
        nextSerial += 1
        pending[vxid] = Pending(vxid: vxid, serial: nextSerial, startTime: now)
        incomplete.append((vxid, nextSerial))
        return vxid
    }

    /// Looks at the records not yet scanned for Begin, Link and End, until the transaction
    /// completes.
    private mutating func scan(_ vxid: UInt64) {
        while let record = nextUnscanned(vxid) {
            switch record.tag {
            case .begin:
                if pending[vxid]?.sawBegin == true {
                    note(vxid, "duplicate begin", record)
                } else {
                    scanBegin(vxid, record)
                    pending[vxid]?.sawBegin = true
                }
            case .link:
                scanLink(vxid, record)
            case .end:
                pending[vxid]?.sawEnd = true
                markComplete(vxid)
            default:
                break
            }
        }
    }

    /// The next record to scan, unless the transaction completed or all were scanned.
    private mutating func nextUnscanned(_ vxid: UInt64) -> VSLRecord? {
        guard let index = pending[vxid]?.scanned, pending[vxid]?.complete == false,
            let count = pending[vxid]?.records.count, index < count
        else { return nil }
        pending[vxid]?.scanned += 1
        return pending[vxid]?.records[index]
    }

    private mutating func scanBegin(_ vxid: UInt64, _ record: VSLRecord) {
        guard let begin = VSLLinkPayload(record.payload) else {
            note(vxid, "parse error", record)
            return
        }
        if begin.type == .unknown { note(vxid, "unknown vxid type", record) }
        if let current = pending[vxid]?.type, current != .unknown, current != begin.type {
            note(vxid, "type mismatch", record)
        }
        pending[vxid]?.type = begin.type
        pending[vxid]?.reason = begin.reason

        let parentVXID = begin.vxid
        if parentVXID == 0 { return }
        if parentVXID == vxid {
            note(vxid, "link to self", record)
            return
        }
        if mode == .vxid { return }
        if mode == .request, begin.type == .request, begin.reason == .rxreq { return }

        if let existing = pending[vxid]?.parent {
            if existing != parentVXID { note(vxid, "link mismatch", record) }
            return
        }
        if let parent = pending[parentVXID] {
            if parent.complete {
                note(vxid, "link too late", record)
                return
            }
        } else {
            addPending(parentVXID)
        }
        link(parent: parentVXID, child: vxid)
    }

    private mutating func scanLink(_ vxid: UInt64, _ record: VSLRecord) {
        guard let link = VSLLinkPayload(record.payload) else {
            note(vxid, "parse error", record)
            return
        }
        if link.type == .unknown { note(vxid, "unknown vxid type", record) }
        if mode == .vxid { return }
        if mode == .request, pending[vxid]?.type == .session { return }
        let childVXID = link.vxid
        if childVXID == 0 {
            note(vxid, "illegal link vxid", record)
            return
        }
        if childVXID == vxid {
            note(vxid, "link to self", record)
            return
        }
        guard let child = pending[childVXID] else {
            addPending(childVXID)
            pending[childVXID]?.type = link.type
            pending[childVXID]?.reason = link.reason
            self.link(parent: vxid, child: childVXID)
            return
        }
        if child.parent == vxid { return }
        if child.parent != nil {
            note(vxid, "duplicate link", record)
            return
        }
        if child.complete {
            note(vxid, "link too late", record)
            return
        }
        if child.type != .unknown, child.type != link.type { note(vxid, "type mismatch", record) }
        pending[childVXID]?.type = link.type
        pending[childVXID]?.reason = link.reason
        self.link(parent: vxid, child: childVXID)
    }

    private mutating func link(parent: UInt64, child: UInt64) {
        pending[child]?.parent = parent
        pending[parent]?.children.append(child)
    }

    /// Marks a transaction ended and walks up while whole subtrees are done; a top whose
    /// tree is done becomes ready.
    private mutating func markComplete(_ vxid: UInt64) {
        if pending[vxid]?.type == .unknown {
            note(vxid, "vtx of unknown type marked complete")
        }
        pending[vxid]?.complete = true
        var current = vxid
        while let done = subtreeDone(current), done {
            guard let parent = pending[current]?.parent else {
                ready.append(current)
                return
            }
            pending[parent]?.readyChildren += 1
            current = parent
        }
    }

    private func subtreeDone(_ vxid: UInt64) -> Bool? {
        guard let item = pending[vxid] else { return nil }
        return item.complete && item.readyChildren == item.children.count
    }

    /// Gives up waiting for a transaction's end: adds the records varnishlog makes up.
    private mutating func force(_ vxid: UInt64, reason: String) {
        guard pending[vxid]?.complete == false, let type = pending[vxid]?.type else { return }
        let sawBegin = pending[vxid]?.sawBegin ?? false
        let sawEnd = pending[vxid]?.sawEnd ?? false
        if !sawBegin {
            append(vxid, .begin, "\(type.name) 0 synth")
        }
        note(vxid, reason)
        if !sawEnd {
            append(vxid, .end, "synth")
        }
        scan(vxid)
    }

    // MARK: - Notes

    /// Adds a record the grouper wrote itself; sessions' get no side, as in varnishlog.
    private mutating func append(_ vxid: UInt64, _ tag: VSLTag, _ text: String) {
        guard let type = pending[vxid]?.type else { return }
        let side: VSLSide = type == .request ? .client : type == .backendRequest ? .backend : .none
        pending[vxid]?.records.append(VSLRecord(vxid: vxid, tag: tag, side: side, text: text))
    }

    /// Adds a `VSL` record explaining a problem, quoting the offending record if any.
    private mutating func note(_ vxid: UInt64, _ message: String, _ record: VSLRecord? = nil) {
        guard let record else {
            append(vxid, .vsl, message)
            return
        }
        append(vxid, .vsl, "\(message) (\(record.vxid):\(record.tag.name) \"\(record.text)\")")
    }

    // MARK: - Handing out

    private mutating func oldestIncomplete() -> UInt64? {
        while incompleteHead < incomplete.count {
            let entry = incomplete[incompleteHead]
            if let item = pending[entry.vxid], item.serial == entry.serial, !item.complete {
                return entry.vxid
            }
            incompleteHead += 1
        }
        if incompleteHead > 0 {
            incomplete.removeAll(keepingCapacity: true)
            incompleteHead = 0
        }
        return nil
    }

    private mutating func takeReady() -> [VSLGroup] {
        var groups: [VSLGroup] = []
        for top in ready {
            guard let item = pending[top] else { continue }
            let wanted: Bool
            switch mode {
            case .session: wanted = item.type == .session
            case .request: wanted = item.type == .request
            case .vxid, .raw: wanted = true
            }
            if wanted { groups.append(VSLGroup(root: tree(top, level: 1, parent: 0))) }
            retire(top)
        }
        ready.removeAll(keepingCapacity: true)
        compactIncomplete()
        return groups
    }

    private func tree(_ vxid: UInt64, level: Int, parent: UInt64) -> VSLTransaction {
        guard let item = pending[vxid] else {
            return VSLTransaction(vxid: vxid, type: .unknown, parentVXID: parent, level: level)
        }
        let children = item.children.map { child in
            let childLevel = pending[child]?.reason == .restart ? level : level + 1
            return tree(child, level: childLevel, parent: vxid)
        }
        return VSLTransaction(
            vxid: vxid, type: item.type, reason: item.reason, parentVXID: parent, level: level,
            records: item.records, children: children)
    }

    private mutating func retire(_ vxid: UInt64) {
        guard let item = pending.removeValue(forKey: vxid) else { return }
        for child in item.children { retire(child) }
    }

    /// Drops the skipped front of `incomplete` once it is most of the array.
    private mutating func compactIncomplete() {
        guard incompleteHead > 64, incompleteHead * 2 > incomplete.count else { return }
        incomplete.removeFirst(incompleteHead)
        incompleteHead = 0
    }
}

/// The payload of a `Begin` or `Link` record: `TYPE VXID REASON`.
struct VSLLinkPayload {
    var type: VSLTransactionType
    var vxid: UInt64
    var reason: VSLReason

    /// Nil unless all three words are there and the middle one is a number.
    init?(_ payload: [UInt8]) {
        let words = payload.split(whereSeparator: { isCSpace($0) })
        guard words.count >= 3, let vxid = UInt64(String(decoding: words[1], as: UTF8.self)) else {
            return nil
        }
        type = VSLTransactionType(name: String(decoding: words[0], as: UTF8.self))
        self.vxid = vxid
        reason = VSLReason(name: String(decoding: words[2], as: UTF8.self))
    }
}

/// C's `isspace` in the C locale.
@inline(__always)
func isCSpace(_ byte: UInt8) -> Bool {
    byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
}
