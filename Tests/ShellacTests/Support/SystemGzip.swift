import Foundation

/// Debian's `gzip` command, as an independent gzip encoder and decoder for the tests (so a
/// test never checks Shellac's zlib use with that same use).
enum SystemGzip {
    /// `bytes` compressed by `gzip -c -<level>`.
    static func compress(_ bytes: [UInt8], level: Int = 6) throws -> [UInt8] {
        try run(["-c", "-n", "-\(level)"], input: bytes)
    }

    /// `bytes` decompressed by `gzip -dc`; throws when gzip finds them invalid.
    static func decompress(_ bytes: [UInt8]) throws -> [UInt8] {
        try run(["-dc"], input: bytes)
    }

    struct Failed: Error { var status: Int32 }

    private static func run(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        signal(SIGPIPE, SIG_IGN)  // gzip may exit (bad input) before it has read all of it
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Write from another thread: gzip's output pipe may fill before its input is taken.
        let writer = Thread {
            try? stdin.fileHandleForWriting.write(contentsOf: Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Failed(status: process.terminationStatus) }
        return Array(output)
    }
}
