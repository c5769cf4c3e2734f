import NIOCore
import Synchronization
import VCL

/// The running probes of every loaded VCL, by VCL name: started when a VCL is loaded (and at
/// start for the boot VCL), stopped when it is discarded and when the server stops.
final class HealthProbes: Sendable {
    private let group: EventLoopGroup
    private let running = Mutex<[String: [HealthProbe]]>([:])

    init(group: EventLoopGroup) {
        self.group = group
    }

    /// Starts a probe for each probed backend of `loaded`.
    func start(_ loaded: VCLRegistry.Loaded) {
        let program = loaded.program
        let probes: [HealthProbe] = program.backends.compactMap { backend in
            guard let probe = backend.probe, let health = program.health[backend.name] else { return nil }
            return HealthProbe(health: health, probe: probe, backend: backend, eventLoop: group.next())
        }
        guard !probes.isEmpty else { return }
        let replaced = running.withLock { running in
            defer { running[loaded.name] = probes }
            return running[loaded.name]
        }
        replaced?.forEach { $0.stop() }
        probes.forEach { $0.start() }
    }

    func stop(vclNamed name: String) {
        running.withLock { $0.removeValue(forKey: name) }?.forEach { $0.stop() }
    }

    func stopAll() {
        let all = running.withLock { running in
            defer { running = [:] }
            return running
        }
        for probes in all.values { probes.forEach { $0.stop() } }
    }
}
