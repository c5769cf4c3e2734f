import ShellacLog
import VCL

extension VCLContext {
    /// Hands what VCL logged since the last call to its destinations and forgets it:
    /// `std.log()` lines (`VCL_Log`) and a run-time failure (`VCL_Error`) to the transaction
    /// log, `std.syslog()` lines to the system logger. Costs three empty checks when nothing
    /// was logged.
    func flushLogs(xid: UInt64, side: VSLSide, to log: VSLBuffer) {
        if !logLines.isEmpty {
            log.vxid = xid
            log.side = side
            for line in logLines { log.record(.vclLog, line) }
            logLines.removeAll(keepingCapacity: true)
        }
        if !syslogLines.isEmpty {
            for line in syslogLines { SystemLog.write(priority: line.priority, text: line.text) }
            syslogLines.removeAll(keepingCapacity: true)
        }
        if let failure {
            // Read only by the run that failed, which has returned `.fail` by now.
            log.vxid = xid
            log.side = side
            log.record(.vclError, failure)
            self.failure = nil
        }
    }
}
