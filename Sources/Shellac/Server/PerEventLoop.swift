import NIOCore

/// One value per event loop of the server's group, each used only on its own loop (a backend
/// connection pool, a pool of VCL sessions), found by the loop a caller runs on.
final class PerEventLoop<Value>: Sendable {
    private let values: [ObjectIdentifier: (loop: EventLoop, box: NIOLoopBoundBox<Value>)]
    private let make: @Sendable (EventLoop) -> sending Value

    init(group: EventLoopGroup, make: @escaping @Sendable (EventLoop) -> sending Value) {
        var values: [ObjectIdentifier: (loop: EventLoop, box: NIOLoopBoundBox<Value>)] = [:]
        for loop in group.makeIterator() {
            values[ObjectIdentifier(loop)] = (loop, .makeBoxSendingValue(make(loop), eventLoop: loop))
        }
        self.values = values
        self.make = make
    }

    /// The value of `loop`; call on that loop. A loop outside the group (not expected) gets a
    /// value of its own each time, which still works.
    func value(on loop: EventLoop) -> Value {
        values[ObjectIdentifier(loop)]?.box.value ?? make(loop)
    }

    /// Runs `body` on every loop with that loop's value.
    func forEach(_ body: @escaping @Sendable (Value) -> Void) {
        for (loop, box) in values.values {
            loop.execute { body(box.value) }
        }
    }
}
