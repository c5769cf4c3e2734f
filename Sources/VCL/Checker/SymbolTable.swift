/// The named things of one VCL after checking: subs (same-name subs concatenated), backends,
/// probes, ACLs, director objects, and the built-in subroutines each sub can run in.
struct SymbolTable {
    var backends: [BackendDecl] = []
    var probes: [String: ProbeDecl] = [:]
    var acls: [String: ACLDecl] = [:]
    var subs: [String: SubDecl] = [:]
    /// Subs in declaration order.
    var subOrder: [String] = []
    /// Director objects from `new name = directors.kind();`.
    var directors: [String: (kind: VCLDirector.Kind, location: SourceLocation)] = [:]
    var imports: Set<String> = []
    /// For each sub, the built-in subroutines from which it can be reached.
    var contexts: [String: SubMask] = [:]
    /// Set when subs call each other in a cycle; the compiler must not run then.
    var hasRecursion = false

    func isBackend(_ name: String) -> Bool { backends.contains { $0.name == name } }
}
