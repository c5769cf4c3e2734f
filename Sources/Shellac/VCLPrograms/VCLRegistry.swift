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
        /// `auto`, `cold` or `warm` (`label` for a label) and `warm` or `cold`.
        public var state = "auto"
        public var temperature = "warm"
    }

    public enum RegistryError: Error, Equatable, CustomStringConvertible {
        case nameTaken(String)
        case badName(String)
        case unknown(String)
        case discardingActive(String)
        case labelled(String, by: String)
        case labelOfLabel(String)
        /// `vcl.use` or `vcl.label` on a program set cold.
        case cold(String)
        case labelsAlwaysWarm
        case labelledCold
        case activeCold

        public var description: String {
            switch self {
            case .labelled(let name, let label): "Cannot discard labeled (\(label)) VCL program \(name)"
            case .labelOfLabel(let name): "VCL labels cannot point to labels (\(name) is one)"
            case .nameTaken(let name): "Already a VCL named \(name)"
            case .badName(let name): "Illegal VCL name \"\(name)\": use letters, digits, '_', '-' and '.', starting with a letter"
            case .unknown(let name): "No VCL named \(name) known"
            case .discardingActive(let name): "Cannot discard active VCL program \(name)"
            case .cold(let name): "VCL '\(name)' is cold - set to auto or warm first"
            case .labelsAlwaysWarm: "Labels are always warm"
            case .labelledCold: "A labeled VCL cannot be set cold"
            case .activeCold: "Cannot set the active VCL cold."
            }
        }

        /// varnishd's status for it: 300 (cannot) where the request was valid but the state
        /// forbids it, else 106 (parameter).
        public var isRefusal: Bool {
            switch self {
            case .discardingActive, .cold, .labelledCold, .activeCold: true
            default: false
            }
        }
    }

    private struct State {
        var loaded: [Loaded]
        var active: Loaded
        /// `vcl.label`: label → program name.
        var labels: [String: String] = [:]
        /// By program name.
        var temperatures: [String: VCLTemperature] = [:]

        func isLabelled(_ name: String) -> Bool { labels.values.contains(name) }

        /// Restarts the cooldown of `name` as things stand now.
        mutating func resetCooldown(_ name: String, now: Double) {
            let isActive = active.name == name
            let isLabelled = isLabelled(name)
            temperatures[name]?.resetCooldown(now: now, isActive: isActive, isLabelled: isLabelled)
        }
    }

    private let state: Mutex<State>

    /// Told after a program becomes warm (loaded, or warmed again) and after it stops being
    /// warm (gone cold, or discarded): the probes follow them.
    public struct Observer: Sendable {
        public var warmed: @Sendable (Loaded) -> Void
        public var cooled: @Sendable (Loaded) -> Void

        public init(warmed: @escaping @Sendable (Loaded) -> Void, cooled: @escaping @Sendable (Loaded) -> Void) {
            self.warmed = warmed
            self.cooled = cooled
        }
    }

    private let observer = Mutex<Observer?>(nil)

    /// Sets the one observer, and tells it of every warm program so far.
    public func observe(_ newObserver: Observer) {
        observer.withLock { $0 = newObserver }
        for entry in warmPrograms() { newObserver.warmed(entry) }
    }

    /// The programs that are warm now, in load order.
    public func warmPrograms() -> [Loaded] {
        state.withLock { state in state.loaded.filter { state.temperatures[$0.name]?.isWarm ?? true } }
    }

    /// A registry whose only (and active) program is `boot`, named `name`.
    public init(boot: VCLProgram, name: String = "boot", source: String? = nil) {
        let first = Loaded(name: name, program: boot, loadedAt: Date().timeIntervalSince1970, source: source)
        var initial = State(loaded: [first], active: first)
        initial.temperatures[name] = VCLTemperature(now: first.loadedAt)
        state = Mutex(initial)
    }

    /// The active program and its name; take it once per request and keep it.
    public var current: Loaded { state.withLock { $0.active } }

    /// The active program.
    public var active: VCLProgram { current.program }

    public var activeName: String { current.name }

    /// Every loaded program in load order, marking the active one, then the labels.
    public func list() -> [Listing] {
        state.withLock { state in
            state.loaded.map { entry in
                let temperature = state.temperatures[entry.name]
                return Listing(
                    name: entry.name, isActive: entry === state.active, state: temperature?.setting.rawValue ?? "auto",
                    temperature: temperature?.temperatureName ?? "warm")
            }
                + state.labels.sorted { $0.key < $1.key }.map { Listing(name: $0.key, isActive: false, labelTarget: $0.value) }
        }
    }

    /// `vcl.label LABEL NAME`: LABEL names program NAME from now on (a label may be moved).
    public func label(_ label: String, to name: String) throws(RegistryError) {
        guard Self.isValidName(label) else { throw .badName(label) }
        let now = Date().timeIntervalSince1970
        let outcome = state.withLock { state -> Result<Loaded?, RegistryError> in
            if state.labels[name] != nil { return .failure(.labelOfLabel(name)) }
            guard let entry = state.loaded.first(where: { $0.name == name }) else { return .failure(.unknown(name)) }
            if state.loaded.contains(where: { $0.name == label }) { return .failure(.nameTaken(label)) }
            // A label's program must be warm, and stays warm while labelled.
            guard var temperature = state.temperatures[name] else { return .failure(.unknown(name)) }
            if temperature.setting == .cold { return .failure(.cold(name)) }
            let wasWarm = temperature.isWarm
            temperature.warmForUse(now: now, isLabelled: true)
            state.temperatures[name] = temperature
            if let old = state.labels[label] {
                state.labels[label] = name
                state.resetCooldown(old, now: now)
            }
            state.labels[label] = name
            return .success(wasWarm ? nil : entry)
        }
        switch outcome {
        case .failure(let error): throw error
        case .success(let warmed): if let warmed { observer.withLock { $0 }?.warmed(warmed) }
        }
    }

    /// The program a name or a label stands for.
    public func resolve(_ name: String) -> Loaded? {
        state.withLock { state in
            let target = state.labels[name] ?? name
            return state.loaded.first { $0.name == target }
        }
    }

    /// How many programs are loaded (labels not counted), as `max_vcl` counts them.
    public var programCount: Int { state.withLock { $0.loaded.count } }

    public func program(named name: String) -> VCLProgram? {
        state.withLock { $0.loaded.first { $0.name == name }?.program }
    }

    /// The loaded program named `name`.
    public func loaded(named name: String) -> Loaded? {
        state.withLock { $0.loaded.first { $0.name == name } }
    }

    /// Adds `program` (compiled from `source`) as `name` (not active yet), in state `setting`.
    public func load(
        _ program: VCLProgram, as name: String, source: String? = nil, setting: VCLTemperature.Setting = .auto
    ) throws(RegistryError) {
        guard Self.isValidName(name) else { throw .badName(name) }
        let entry = Loaded(name: name, program: program, loadedAt: Date().timeIntervalSince1970, source: source)
        let taken = state.withLock { state -> Bool in
            if state.loaded.contains(where: { $0.name == name }) { return true }
            state.loaded.append(entry)
            state.temperatures[name] = VCLTemperature(setting: setting, now: entry.loadedAt)
            state.resetCooldown(name, now: entry.loadedAt)
            return false
        }
        if taken { throw .nameTaken(name) }
        if setting != .cold { observer.withLock { $0 }?.warmed(entry) }
    }

    /// Makes `name` the active program for every request that starts from now on; a program
    /// gone cold warms again first (one set `cold` is refused).
    public func use(_ name: String) throws(RegistryError) {
        let now = Date().timeIntervalSince1970
        let outcome = state.withLock { state -> Result<Loaded?, RegistryError> in
            let target = state.labels[name] ?? name
            guard let entry = state.loaded.first(where: { $0.name == target }) else { return .failure(.unknown(name)) }
            guard var temperature = state.temperatures[target] else { return .failure(.unknown(name)) }
            if temperature.setting == .cold { return .failure(.cold(target)) }
            let wasWarm = temperature.isWarm
            let previous = state.active
            state.active = entry
            temperature.warmForUse(now: now, isLabelled: state.isLabelled(target))
            state.temperatures[target] = temperature
            state.resetCooldown(previous.name, now: now)
            return .success(wasWarm ? nil : entry)
        }
        switch outcome {
        case .failure(let error): throw error
        case .success(let warmed): if let warmed { observer.withLock { $0 }?.warmed(warmed) }
        }
    }

    /// `vcl.state NAME auto|cold|warm`.
    public func setState(_ name: String, to setting: VCLTemperature.Setting) throws(RegistryError) {
        let now = Date().timeIntervalSince1970
        let outcome = state.withLock { state -> Result<(Loaded, Bool, Bool), RegistryError> in
            if state.labels[name] != nil { return .failure(.labelsAlwaysWarm) }
            guard let entry = state.loaded.first(where: { $0.name == name }),
                  var temperature = state.temperatures[name] else { return .failure(.unknown(name)) }
            let isActive = state.active === entry
            let isLabelled = state.isLabelled(name)
            if setting == .cold && isLabelled { return .failure(.labelledCold) }
            if setting == .cold && isActive { return .failure(.activeCold) }
            let wasWarm = temperature.isWarm
            temperature.set(setting, isActive: isActive, isLabelled: isLabelled, now: now)
            state.temperatures[name] = temperature
            return .success((entry, wasWarm, temperature.isWarm))
        }
        switch outcome {
        case .failure(let error): throw error
        case .success(let (entry, wasWarm, isWarm)):
            if wasWarm && !isWarm { observer.withLock { $0 }?.cooled(entry) }
            if !wasWarm && isWarm { observer.withLock { $0 }?.warmed(entry) }
        }
    }

    /// Lets auto programs unused for `cooldown` seconds go cold (varnishd's VCL poker, here
    /// on the housekeeping tick).
    public func cool(now: Double, cooldown: Double) {
        let cooled = state.withLock { state in
            state.loaded.filter { entry in state.temperatures[entry.name]?.cool(now: now, cooldown: cooldown) ?? false }
        }
        guard !cooled.isEmpty, let observer = observer.withLock({ $0 }) else { return }
        cooled.forEach(observer.cooled)
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
            let previous = state.active
            state.loaded.append(entry)
            state.active = entry
            state.temperatures[name] = VCLTemperature(now: entry.loadedAt)
            state.resetCooldown(previous.name, now: entry.loadedAt)
            return entry
        }
        observer.withLock { $0 }?.warmed(entry)
        return entry.name
    }

    /// Forgets `name`; the active program cannot be discarded.
    public func discard(_ name: String) throws(RegistryError) {
        let now = Date().timeIntervalSince1970
        let outcome = state.withLock { state -> Result<Loaded?, RegistryError> in
            if let target = state.labels.removeValue(forKey: name) {
                state.resetCooldown(target, now: now)
                return .success(nil)
            }
            guard let index = state.loaded.firstIndex(where: { $0.name == name }) else { return .failure(.unknown(name)) }
            if state.loaded[index] === state.active { return .failure(.discardingActive(name)) }
            if let label = state.labels.first(where: { $0.value == name })?.key { return .failure(.labelled(name, by: label)) }
            state.temperatures[name] = nil
            return .success(state.loaded.remove(at: index))
        }
        switch outcome {
        case .failure(let error): throw error
        case .success(let entry):
            if let entry { observer.withLock { $0 }?.cooled(entry) }
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
