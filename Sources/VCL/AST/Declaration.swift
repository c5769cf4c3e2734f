/// A top-level declaration of a VCL file (after includes are spliced in).
enum Declaration: Sendable {
    case version(String, SourceLocation)
    case `import`(name: String, location: SourceLocation)
    case backend(BackendDecl)
    case probe(ProbeDecl)
    case acl(ACLDecl)
    case sub(SubDecl)
}

/// A `.name = value;` field of a backend or probe.
struct FieldDecl: Sendable {
    enum Value: Sendable {
        case expr(Expr)
        /// Several strings in a row (a probe's `.request`).
        case strings([String])
        case probe(ProbeDecl)
        /// A BLOB literal, `:base64:` (a backend's `.preamble`), decoded.
        case blob([UInt8])
    }

    let name: String
    let value: Value
    let location: SourceLocation
}

struct BackendDecl: Sendable {
    let name: String
    let fields: [FieldDecl]
    let location: SourceLocation
    /// `backend NAME none;`: declared, but with no address.
    var isNone = false
}

struct ProbeDecl: Sendable {
    /// Empty for an inline probe.
    let name: String
    let fields: [FieldDecl]
    let location: SourceLocation
}

struct ACLDecl: Sendable {
    struct Entry: Sendable {
        let negated: Bool
        /// The address or name, without a `/mask` written inside the string.
        let address: String
        /// The mask, written `"1.2.3.0/24"` or `"1.2.3.0" / 24`; nil for none.
        let maskBits: Int?
        /// Written in parentheses: a name that does not resolve is ignored.
        let optional: Bool
        let location: SourceLocation
    }

    let name: String
    let entries: [Entry]
    /// `+pedantic` (vcc's default) or `-pedantic`: an entry with bits set past its mask is an
    /// error, or is quietly read as its network.
    var pedantic = true
    let location: SourceLocation
}

struct SubDecl: Sendable {
    var name: String
    var body: [Statement]
    let location: SourceLocation
    /// True for the subs of our own built-in VCL.
    var isBuiltin = false
}
