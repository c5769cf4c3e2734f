import Foundation
import Synchronization
import VCL

/// The loaded VCL programs by name (`boot`, then the names given to `vcl.load` or a SIGHUP
/// reload) and which one is active.
///
/// Switching is atomic: a request reads `current` (or `active`) once when it starts and keeps
/// that reference, so requests in flight finish on the program they started with while new
/// requests get the new one. A discarded program lives on until its last request lets go.
public final class VCLRegistry: Sendable {
    /// One loaded program with its name and load time. A class, so a reader takes one reference.
    public final class Loaded: Sendable {
        public let name: String
        public let program: VCLProgram
        /// Seconds since 1970 when it was loaded.
        public let loadedAt: Double
        /// The VCL text it was compiled from (`vcl.show`); nil for the built-in VCL of `-b`.
        public let source: String?
        /// The backend its built-in fetches and pipes go to: the one named `default`, else the
        /// first declared (nil: it declares none).
        public let defaultBackend: Backend?

        init(name: String, program: VCLProgram, loadedAt: Double, source: String?) {
            self.name = name
            self.program = program
            self.defaultBackend = VCLLoader.defaultBackend(of: program)
            self.loadedAt = loadedAt
            self.source = source
        }
    }

    /// One line of `vcl.list`: a program, or a label (`labelTarget` set).
    public struct Listing: Sendable, Equatable {
        public let name: String
        public let isActive: Bool
        /// For a label: the program it names.
        public var labelTarget: String?
    }

    public enum RegistryError: Error, Equatable, CustomStringConvertible {
        case nameTaken(String)
        case badName(String)
        case unknown(String)
        case discardingActive(String)
        case labelled(String, by: String)
        case labelOfLabel(String)

        public var description: String {
            switch self {
            case .labelled(let name, let label): "Cannot discard labeled (\(label)) VCL program \(name)"
            case .labelOfLabel(let name): "VCL labels cannot point to labels (\(name) is one)"
            case .nameTaken(let name): "Already a VCL named \(name)"
            case .badName(let name): "Illegal VCL name \"\(name)\": use letters, digits, '_', '-' and '.', starting with a letter"
            case .unknown(let name): "No VCL named \(name) known"
            case .discardingActive(let name): "Cannot discard active VCL program \(name)"
            }
        }
    }

    private struct State {
        var loaded: [Loaded]
        var active: Loaded
        /// `vcl.label`: label → program name.
        var labels: [String: String] = [:]
    }

    private let state: Mutex<State>

    /// Told of each program loaded and discarded after it happens (the probes follow them).
    public struct Observer: Sendable {
        public var loaded: @Sendable (Loaded) -> Void
        public var discarded: @Sendable (Loaded) -> Void

        public init(loaded: @escaping @Sendable (Loaded) -> Void, discarded: @escaping @Sendable (Loaded) -> Void) {
            self.loaded = loaded
            self.discarded = discarded
        }
    }

    private let observer = Mutex<Observer?>(nil)

    /// Sets the one observer, and tells it of every program loaded so far.
    public func observe(_ newObserver: Observer) {
        observer.withLock { $0 = newObserver }
        for entry in state.withLock({ $0.loaded }) { newObserver.loaded(entry) }
    }

    /// A registry whose only (and active) program is `boot`, named `name`.
    public init(boot: VCLProgram, name: String = "boot", source: String? = nil) {
        let first = Loaded(name: name, program: boot, loadedAt: Date().timeIntervalSince1970, source: source)
        state = Mutex(State(loaded: [first], active: first))
    }

    /// The active program and its name; take it once per request and keep it.
    public var current: Loaded { state.withLock { $0.active } }

    /// The active program.
    public var active: VCLProgram { current.program }

    public var activeName: String { current.name }

    /// Every loaded program in load order, marking the active one, then the labels.
    public func list() -> [Listing] {
        state.withLock { state in
            state.loaded.map { Listing(name: $0.name, isActive: $0 === state.active) }
                + state.labels.sorted { $0.key < $1.key }.map { Listing(name: $0.key, isActive: false, labelTarget: $0.value) }
        }
    }

    /// `vcl.label LABEL NAME`: LABEL names program NAME from now on (a label may be moved).
    public func label(_ label: String, to name: String) throws(RegistryError) {
        guard Self.isValidName(label) else { throw .badName(label) }
        let outcome = state.withLock { state -> RegistryError? in
            if state.labels[name] != nil { return .labelOfLabel(name) }
            guard state.loaded.contains(where: { $0.name == name }) else { return .unknown(name) }
            if state.loaded.contains(where: { $0.name == label }) { return .nameTaken(label) }
            state.labels[label] = name
            return nil
        }
        if let outcome { throw outcome }
    }

    /// The program a name or a label stands for.
    public func resolve(_ name: String) -> Loaded? {
        state.withLock { state in
            let target = state.labels[name] ?? name
            return state.loaded.first { $0.name == target }
        }
    }

    public func program(named name: String) -> VCLProgram? {
        state.withLock { $0.loaded.first { $0.name == name }?.program }
    }

    /// The loaded program named `name`.
    public func loaded(named name: String) -> Loaded? {
        state.withLock { $0.loaded.first { $0.name == name } }
    }

    /// Adds `program` (compiled from `source`) as `name` (not active yet).
    public func load(_ program: VCLProgram, as name: String, source: String? = nil) throws(RegistryError) {
        guard Self.isValidName(name) else { throw .badName(name) }
        let entry = Loaded(name: name, program: program, loadedAt: Date().timeIntervalSince1970, source: source)
        let taken = state.withLock { state -> Bool in
            if state.loaded.contains(where: { $0.name == name }) { return true }
            state.loaded.append(entry)
            return false
        }
        if taken { throw .nameTaken(name) }
        observer.withLock { $0 }?.loaded(entry)
    }

    /// Makes `name` the active program for every request that starts from now on.
    public func use(_ name: String) throws(RegistryError) {
        let found = state.withLock { state -> Bool in
            let target = state.labels[name] ?? name
            guard let entry = state.loaded.first(where: { $0.name == target }) else { return false }
            state.active = entry
            return true
        }
        if !found { throw .unknown(name) }
    }

    /// Loads `program` under a fresh name starting with `prefix` and makes it active in one
    /// step (SIGHUP). Returns the name used.
    @discardableResult
    public func loadAndUse(_ program: VCLProgram, namePrefix prefix: String, source: String? = nil) -> String {
        let entry = state.withLock { state in
            var name = prefix
            var suffix = 1
            while state.loaded.contains(where: { $0.name == name }) {
                suffix += 1
                name = "\(prefix)_\(suffix)"
            }
            let entry = Loaded(name: name, program: program, loadedAt: Date().timeIntervalSince1970, source: source)
            state.loaded.append(entry)
            state.active = entry
            return entry
        }
        observer.withLock { $0 }?.loaded(entry)
        return entry.name
    }

    /// Forgets `name`; the active program cannot be discarded.
    public func discard(_ name: String) throws(RegistryError) {
        let outcome = state.withLock { state -> Result<Loaded?, RegistryError> in
            if state.labels.removeValue(forKey: name) != nil { return .success(nil) }
            guard let index = state.loaded.firstIndex(where: { $0.name == name }) else { return .failure(.unknown(name)) }
            if state.loaded[index] === state.active { return .failure(.discardingActive(name)) }
            if let label = state.labels.first(where: { $0.value == name })?.key { return .failure(.labelled(name, by: label)) }
            return .success(state.loaded.remove(at: index))
        }
        switch outcome {
        case .failure(let error): throw error
        case .success(let entry):
            if let entry { observer.withLock { $0 }?.discarded(entry) }
        }
    }

    /// VCL names as varnishd accepts them: a letter, then letters, digits, `_`, `-`, `.`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter, name.utf8.count <= 128 else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" || $0 == "." }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}
