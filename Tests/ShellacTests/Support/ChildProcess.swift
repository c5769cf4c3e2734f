// Runs an executable (the built `shellac` daemon, curl, a shell) as a child process for
// integration tests: captures stdout and stderr, waits for a line such as
// "listening on 127.0.0.1:PORT", sends signals, and waits for exit with a timeout.

import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

public final class ChildProcess: Sendable {
    public struct ExitStatus: Sendable, Equatable, CustomStringConvertible {
        /// The exit code, or the signal number when `signaled`.
        public let code: Int32
        /// Whether the process was ended by a signal it did not handle.
        public let signaled: Bool

        public static func exited(_ code: Int32) -> ExitStatus { ExitStatus(code: code, signaled: false) }
        public static func killed(by signal: Int32) -> ExitStatus { ExitStatus(code: signal, signaled: true) }
        public var description: String { signaled ? "killed by signal \(code)" : "exit \(code)" }
    }

    public enum ChildError: Error, CustomStringConvertible {
        case executableNotFound(String)
        case timeout(waitingFor: String, stdout: String, stderr: String)
        case exitedEarly(ExitStatus, waitingFor: String, stdout: String, stderr: String)

        public var description: String {
            switch self {
            case .executableNotFound(let path):
                "no executable at \(path)"
            case .timeout(let what, let out, let err):
                "timed out waiting for \(what)\n--- stdout\n\(out)\n--- stderr\n\(err)"
            case .exitedEarly(let status, let what, let out, let err):
                "process ended (\(status)) while waiting for \(what)\n--- stdout\n\(out)\n--- stderr\n\(err)"
            }
        }
    }

    public enum Stream: Sendable { case stdout, stderr, either }

    struct State {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var stdoutEOF = false
        var stderrEOF = false
        var exit: ExitStatus?
    }

    final class Box: Sendable {
        let state = Mutex(State())
    }

    public let pid: Int32
    public let executable: String
    public let arguments: [String]
    private let box: Box
    // Keeps the Process (and with it the pipes and termination handler) alive; only
    // touched at launch and under the lock afterwards.
    private let process: Mutex<Process>

    /// Starts `executable` with `arguments`. `environment` entries are added to (and
    /// override) this process's environment.
    public static func launch(
        _ executable: String, _ arguments: [String] = [],
        environment: [String: String] = [:], currentDirectory: String? = nil
    ) throws -> ChildProcess {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw ChildError.executableNotFound(executable)
        }
        let box = Box()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let outPipe = Pipe()
        let errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice

        // Each pipe is drained by a blocking read loop on its own thread: Foundation's
        // readabilityHandler races libdispatch's teardown on Linux and crashed a test run.
        startReader(outPipe.fileHandleForReading, box: box, isStdout: true)
        startReader(errPipe.fileHandleForReading, box: box, isStdout: false)
        process.terminationHandler = { p in
            let status: ExitStatus = p.terminationReason == .uncaughtSignal
                ? .killed(by: p.terminationStatus) : .exited(p.terminationStatus)
            box.state.withLock { $0.exit = status }
        }
        // The child inherits the spawning thread's signal mask, and Swift concurrency /
        // Dispatch worker threads block SIGTERM, SIGHUP, SIGINT and others: a child started
        // from a test would never see the signals the test sends. Spawn with an empty mask.
        try withUnblockedSignals { try process.run() }
        let pid = process.processIdentifier
        return ChildProcess(pid: pid, executable: executable, arguments: arguments, box: box, process: process)
    }

    /// Reads `handle` until end of file on a dedicated thread, appending to the box.
    private static func startReader(_ handle: FileHandle, box: Box, isStdout: Bool) {
        let thread = Thread {
            let fd = handle.fileDescriptor
            var chunk = [UInt8](repeating: 0, count: 16384)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { break }
                box.state.withLock {
                    if isStdout { $0.stdout.append(contentsOf: chunk[0..<count]) } else { $0.stderr.append(contentsOf: chunk[0..<count]) }
                }
            }
            box.state.withLock { if isStdout { $0.stdoutEOF = true } else { $0.stderrEOF = true } }
            withExtendedLifetime(handle) {}
        }
        thread.start()
    }

    /// Runs `body` on this thread with no signals blocked, then restores the mask.
    private static func withUnblockedSignals<T>(_ body: () throws -> T) rethrows -> T {
        var empty = sigset_t()
        var saved = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &saved)
        defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
        return try body()
    }

    /// Signals blocked in the child, from /proc (Linux); nil where unavailable.
    public var blockedSignalMask: UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }) else { return nil }
        return UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16)
    }

    private init(pid: Int32, executable: String, arguments: [String], box: Box, process: sending Process) {
        self.pid = pid
        self.executable = executable
        self.arguments = arguments
        self.box = box
        self.process = Mutex(process)
    }

    deinit {
        // Never leak a child: kill it (by its own pid) if a test forgot to stop it.
        if box.state.withLock({ $0.exit == nil }) {
            kill(pid, SIGKILL)
        }
    }

    // MARK: output

    public var stdout: String { box.state.withLock { String(decoding: $0.stdout, as: UTF8.self) } }
    public var stderr: String { box.state.withLock { String(decoding: $0.stderr, as: UTF8.self) } }
    /// Complete lines seen so far on the chosen stream(s) (stdout lines first for `.either`).
    public func lines(_ stream: Stream = .either) -> [String] {
        let (out, err) = box.state.withLock { ($0.stdout, $0.stderr) }
        func split(_ bytes: [UInt8]) -> [String] {
            var text = String(decoding: bytes, as: UTF8.self)
            // Only lines that have ended; a partial last line is not a line yet.
            if let lastNewline = text.lastIndex(of: "\n") {
                text = String(text[..<lastNewline])
            } else {
                return []
            }
            return text.split(separator: "\n", omittingEmptySubsequences: false).map {
                $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
            }
        }
        switch stream {
        case .stdout: return split(out)
        case .stderr: return split(err)
        case .either: return split(out) + split(err)
        }
    }

    /// Whether the process has exited (as far as the termination handler has reported).
    public var exitStatus: ExitStatus? { box.state.withLock { $0.exit } }
    public var isRunning: Bool { exitStatus == nil }

    /// Waits for the first complete line (already printed or yet to come) for which
    /// `predicate` holds; returns it.
    public func waitForLine(
        in stream: Stream = .either, timeout: Duration = .seconds(10), description: String = "a matching line",
        where predicate: @Sendable (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        // Bounded by the deadline: one check every 10 ms.
        while true {
            if let line = lines(stream).first(where: predicate) { return line }
            if let status = exitStatus {
                // Give the pipes a moment to deliver the last output before giving up.
                _ = await pollUntil(timeout: .milliseconds(500)) { self.outputComplete }
                if let line = lines(stream).first(where: predicate) { return line }
                throw ChildError.exitedEarly(status, waitingFor: description, stdout: stdout, stderr: stderr)
            }
            if ContinuousClock.now >= deadline {
                throw ChildError.timeout(waitingFor: description, stdout: stdout, stderr: stderr)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Waits for a line containing `text`.
    public func waitForLine(containing text: String, in stream: Stream = .either, timeout: Duration = .seconds(10)) async throws -> String {
        try await waitForLine(in: stream, timeout: timeout, description: "a line containing \(text.debugDescription)") {
            $0.contains(text)
        }
    }

    /// Waits for a line matching the regular expression `pattern`.
    public func waitForLine(matching pattern: String, in stream: Stream = .either, timeout: Duration = .seconds(10)) async throws -> String {
        _ = try Regex(pattern)  // report a bad pattern at once
        return try await waitForLine(in: stream, timeout: timeout, description: "a line matching /\(pattern)/") { line in
            guard let regex = try? Regex(pattern) else { return false }
            return line.contains(regex)
        }
    }

    /// Waits for "listening on HOST:PORT" (case-insensitive, anywhere in a line, either
    /// stream) and returns the address. With several listeners, the first such line wins.
    public func waitForListening(timeout: Duration = .seconds(10)) async throws -> (host: String, port: Int) {
        let line = try await waitForLine(in: .either, timeout: timeout, description: "\"listening on HOST:PORT\"") {
            ChildProcess.parseListening($0) != nil
        }
        guard let address = ChildProcess.parseListening(line) else {
            throw ChildError.timeout(waitingFor: "a parsable listening line", stdout: stdout, stderr: stderr)
        }
        return address
    }

    /// Parses "listening on 127.0.0.1:6081", "Listening on [::1]:8080", "listening on :80"
    /// (case-insensitive, anywhere in the line). Returns nil when the line has no such address.
    public static func parseListening(_ line: String) -> (host: String, port: Int)? {
        guard let range = line.range(of: "listening on ", options: .caseInsensitive) else { return nil }
        let rest = line[range.upperBound...].drop { $0 == " " }
        let token = rest.prefix { !$0.isWhitespace && $0 != "," && $0 != ";" && $0 != ")" }
        var host: Substring
        var portText: Substring
        if token.hasPrefix("[") {
            guard let close = token.firstIndex(of: "]") else { return nil }
            host = token[token.index(after: token.startIndex)..<close]
            let after = token[token.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            portText = after.dropFirst()
        } else {
            guard let colon = token.lastIndex(of: ":") else { return nil }
            host = token[..<colon]
            portText = token[token.index(after: colon)...]
        }
        // Drop trailing punctuation such as a full stop.
        while let last = portText.last, !last.isNumber { portText = portText.dropLast() }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        if host.isEmpty { host = "0.0.0.0" }
        return (String(host), port)
    }

    // MARK: signals and exit

    /// Sends `signal` to the child (by its pid) if it is still running.
    public func send(signal: Int32) {
        guard isRunning else { return }
        kill(pid, signal)
    }

    public func terminate() { send(signal: SIGTERM) }
    public func hangUp() { send(signal: SIGHUP) }
    public func interrupt() { send(signal: SIGINT) }
    public func forceKill() { send(signal: SIGKILL) }

    /// Waits up to `timeout` for the child to exit; returns its status, or nil if it is
    /// still running. When it has exited, also waits (≤ 1 s) for the rest of its output.
    public func waitForExit(timeout: Duration = .seconds(10)) async -> ExitStatus? {
        guard await pollUntil(timeout: timeout, { !self.isRunning }) else { return nil }
        _ = await pollUntil(timeout: .seconds(1)) { self.outputComplete }
        return exitStatus
    }

    /// SIGTERM, wait up to `grace`, then SIGKILL; returns the final status.
    @discardableResult
    public func stop(grace: Duration = .seconds(5)) async -> ExitStatus? {
        terminate()
        if let status = await waitForExit(timeout: grace) { return status }
        forceKill()
        return await waitForExit(timeout: .seconds(5))
    }

    private var outputComplete: Bool { box.state.withLock { $0.stdoutEOF && $0.stderrEOF } }

    // MARK: locating executables

    /// The `shellac` executable to test: `$SHELLAC_BINARY` if set; else the `shellac` next to
    /// the running test bundle (same scratch path and configuration as the tests); else
    /// `<package root>/.build/debug/shellac`, the root found from this source file's path.
    public static func shellacExecutable(filePath: StaticString = #filePath) -> String {
        if let path = ProcessInfo.processInfo.environment["SHELLAC_BINARY"], !path.isEmpty {
            return path
        }
        if let bundleDirectory = testBundleDirectory() {
            let candidate = bundleDirectory + "/shellac"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return packageRoot(filePath: filePath) + "/.build/debug/shellac"
    }

    /// The directory holding the running test executable (e.g. `.build/debug`).
    public static func testBundleDirectory() -> String? {
        var path: String? = nil
        #if os(Linux)
        path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        #endif
        if path == nil { path = Bundle.main.executablePath }
        guard let exe = path else { return nil }
        // Linux: <dir>/ShellacPackageTests.xctest (a file); macOS: <dir>/X.xctest/Contents/MacOS/X.
        var components = exe.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if let bundle = components.firstIndex(where: { $0.hasSuffix(".xctest") }) {
            components = Array(components[..<bundle])
        } else {
            components = Array(components.dropLast())
        }
        return components.joined(separator: "/")
    }

    /// The package root: three directories above `Tests/ShellacTests/Support/<file>.swift`.
    public static func packageRoot(filePath: StaticString = #filePath) -> String {
        var url = URL(fileURLWithPath: "\(filePath)")
        // Climb until Package.swift is found; bounded by 8 levels.
        for _ in 0..<8 {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
        }
        return URL(fileURLWithPath: "\(filePath)").deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// The first executable named `name` on `$PATH` (or in /usr/bin, /bin), if any.
    public static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin", "/bin"] {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
