import Dispatch
import Foundation

/// The signals the daemon acts on, delivered as a stream: SIGINT and SIGTERM stop it, SIGHUP
/// reloads the VCL. Installed before the daemon announces itself, so a signal sent as soon as
/// "listening on" appears is never lost (nor fatal, as SIGHUP's default action would be).
final class ProcessSignals {
    enum Event: Sendable { case stop, hangUp }

    let events: AsyncStream<Event>
    private let sources: [DispatchSourceSignal]

    init() {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        self.events = events
        let queue = DispatchQueue(label: "shellac.signals")
        var sources: [DispatchSourceSignal] = []
        for (number, event) in [(SIGINT, Event.stop), (SIGTERM, .stop), (SIGHUP, .hangUp)] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(event) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
