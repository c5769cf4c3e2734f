import VCL

extension VCLContext {
    /// Hands what VCL logged since the last call to its destinations and forgets it:
    /// `std.log()` lines and a run-time failure to the transaction log, `std.syslog()` lines
    /// to the system logger. Costs three empty checks when nothing was logged.
    func flushLogs(xid: UInt64, side: TransactionLog.Side, to log: TransactionLog) {
        if !logLines.isEmpty {
            log.append(xid: xid, side: side, tag: .vclLog, texts: logLines)
            logLines.removeAll(keepingCapacity: true)
        }
        if !syslogLines.isEmpty {
            for line in syslogLines { SystemLog.write(priority: line.priority, text: line.text) }
            syslogLines.removeAll(keepingCapacity: true)
        }
        if let failure {
            // Read only by the run that failed, which has returned `.fail` by now.
            log.append(xid: xid, side: side, tag: .vclError, texts: CollectionOfOne(failure))
            self.failure = nil
        }
    }
}
