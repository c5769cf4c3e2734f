import NIOCore

/// The one deadline of a client connection: `timeout_idle` while it waits for a request (or
/// for more of a body), `timeout_req` for a head once its first bytes have come.
///
/// One timer serves every request: it is rescheduled only when the deadline moves earlier;
/// when it fires early it re-arms for the deadline. (Scheduling a task per response cost
/// allocations on the hit path.)
final class ConnectionDeadline {
    private let eventLoop: EventLoop
    /// Called on the loop when the deadline passes.
    private let expired: () -> Void
    private var timer: Scheduled<Void>?
    private var timerFiresAt = NIODeadline.distantFuture
    private var deadline: NIODeadline?
    private var requestTimerArmed = false

    init(eventLoop: EventLoop, expired: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.expired = expired
    }

    /// Waiting for a request, or for more of its body.
    func armIdle(_ seconds: Double) {
        requestTimerArmed = false
        schedule(after: seconds)
    }

    /// Part of a head has arrived: the whole head must follow in time (armed once per head).
    func armRequest(_ seconds: Double) {
        guard !requestTimerArmed else { return }
        requestTimerArmed = true
        schedule(after: seconds)
    }

    /// No deadline while a response is under way (the timer, if any, finds none and stops).
    func cancel() {
        deadline = nil
        requestTimerArmed = false
    }

    /// The connection is closing: no more timers.
    func stop() {
        cancel()
        timer?.cancel()
        timer = nil
    }

    private func schedule(after seconds: Double) {
        let deadline = eventLoop.now + .nanoseconds(Int64(seconds * 1e9))
        self.deadline = deadline
        if timer == nil || timerFiresAt > deadline { arm(at: deadline) }
    }

    private func arm(at when: NIODeadline) {
        timer?.cancel()
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        timerFiresAt = when
        timer = eventLoop.scheduleTask(deadline: when) {
            loopBound.value.fired()
        }
    }

    private func fired() {
        timer = nil
        guard let deadline else { return }
        if eventLoop.now < deadline {
            arm(at: deadline)
            return
        }
        self.deadline = nil
        expired()
    }
}
