/// The record kinds of the transaction log, named and ordered as Varnish 7.1's VSL tags
/// (`varnishd -x vsl`), so that varnishlog users find the same names. The raw value is what
/// a record stores (0 is no tag).
public enum VSLTag: UInt8, CaseIterable, Sendable {
    case debug = 1
    case error = 2
    case cli = 3
    case sessOpen = 4
    case sessClose = 5
    case backendOpen = 6
    case backendReuse = 7
    case backendClose = 8
    case httpGarbage = 9
    case proxy = 10
    case proxyGarbage = 11
    case backend = 12
    case length = 13
    case fetchError = 14
    case reqMethod = 15
    case reqURL = 16
    case reqProtocol = 17
    case reqStatus = 18
    case reqReason = 19
    case reqHeader = 20
    case reqUnset = 21
    case reqLost = 22
    case respMethod = 23
    case respURL = 24
    case respProtocol = 25
    case respStatus = 26
    case respReason = 27
    case respHeader = 28
    case respUnset = 29
    case respLost = 30
    case bereqMethod = 31
    case bereqURL = 32
    case bereqProtocol = 33
    case bereqStatus = 34
    case bereqReason = 35
    case bereqHeader = 36
    case bereqUnset = 37
    case bereqLost = 38
    case berespMethod = 39
    case berespURL = 40
    case berespProtocol = 41
    case berespStatus = 42
    case berespReason = 43
    case berespHeader = 44
    case berespUnset = 45
    case berespLost = 46
    case objMethod = 47
    case objURL = 48
    case objProtocol = 49
    case objStatus = 50
    case objReason = 51
    case objHeader = 52
    case objUnset = 53
    case objLost = 54
    case bogoHeader = 55
    case lostHeader = 56
    case ttl = 57
    case fetchBody = 58
    case vclAcl = 59
    case vclCall = 60
    case vclTrace = 61
    case vclReturn = 62
    case reqStart = 63
    case hit = 64
    case hitPass = 65
    case expBan = 66
    case expKill = 67
    case expiryRearm = 68
    case expiryInbox = 69
    case expiryKill = 70
    case expiryWhen = 71
    case expiryExpired = 72
    case lruCand = 73
    case lru = 74
    case lruFail = 75
    case workThread = 76
    case esiXMLError = 77
    case hash = 78
    case backendHealth = 79
    case vclLog = 80
    case vclError = 81
    case gzip = 82
    case link = 83
    case begin = 84
    case end = 85
    case vsl = 86
    case storage = 87
    case timestamp = 88
    case reqAcct = 89
    case pipeAcct = 90
    case bereqAcct = 91
    case vfpAcct = 92
    case witness = 93
    case backendStart = 94
    case h2RxHdr = 95
    case h2RxBody = 96
    case h2TxHdr = 97
    case h2TxBody = 98
    case hitMiss = 99
    case filters = 100
    case sessError = 101
    case vclUse = 102
    case notice = 103
    case vdpAcct = 104

    /// The name varnishlog prints.
    public var name: String { Self.names[Int(rawValue) - 1] }

    private static let names: [String] = [
        "Debug", "Error", "CLI", "SessOpen", "SessClose", "BackendOpen", "BackendReuse",
        "BackendClose", "HttpGarbage", "Proxy", "ProxyGarbage", "Backend", "Length", "FetchError",
        "ReqMethod", "ReqURL", "ReqProtocol", "ReqStatus", "ReqReason", "ReqHeader", "ReqUnset",
        "ReqLost", "RespMethod", "RespURL", "RespProtocol", "RespStatus", "RespReason",
        "RespHeader", "RespUnset", "RespLost", "BereqMethod", "BereqURL", "BereqProtocol",
        "BereqStatus", "BereqReason", "BereqHeader", "BereqUnset", "BereqLost", "BerespMethod",
        "BerespURL", "BerespProtocol", "BerespStatus", "BerespReason", "BerespHeader",
        "BerespUnset", "BerespLost", "ObjMethod", "ObjURL", "ObjProtocol", "ObjStatus", "ObjReason",
        "ObjHeader", "ObjUnset", "ObjLost", "BogoHeader", "LostHeader", "TTL", "Fetch_Body",
        "VCL_acl", "VCL_call", "VCL_trace", "VCL_return", "ReqStart", "Hit", "HitPass", "ExpBan",
        "ExpKill", "EXP_Rearm", "EXP_Inbox", "EXP_Kill", "EXP_When", "EXP_Expired", "LRU_Cand",
        "LRU", "LRU_Fail", "WorkThread", "ESI_xmlerror", "Hash", "Backend_health", "VCL_Log",
        "VCL_Error", "Gzip", "Link", "Begin", "End", "VSL", "Storage", "Timestamp", "ReqAcct",
        "PipeAcct", "BereqAcct", "VfpAcct", "Witness", "BackendStart", "H2RxHdr", "H2RxBody",
        "H2TxHdr", "H2TxBody", "HitMiss", "Filters", "SessError", "VCL_use", "Notice", "VdpAcct",
    ]

    /// The tag with this name, ignoring case (as varnishlog reads `-i`).
    public init?(name: String) {
        let wanted = name.lowercased()
        guard let index = Self.names.firstIndex(where: { $0.lowercased() == wanted }) else { return nil }
        self.init(rawValue: UInt8(index + 1))
    }
}
