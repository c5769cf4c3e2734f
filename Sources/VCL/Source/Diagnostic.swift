/// A compile error or warning at a position, printed the way vcc does with a caret line.
public struct VCLDiagnostic: Sendable, CustomStringConvertible, Error {
    public enum Severity: String, Sendable { case error, warning }

    public let severity: Severity
    public let location: SourceLocation
    public let message: String

    public init(_ severity: Severity, _ location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    /// `file:line:col: [warning: ]message`, the source line, and a caret under the column.
    public var description: String {
        let prefix = severity == .warning ? "warning: " : ""
        let line = location.file.lineText(location.line)
        // The column counts bytes; pad per character (tabs kept) so the caret lines up on screen.
        var caret = ""
        var offset = 0
        for character in line where offset < location.column - 1 {
            caret.append(character == "\t" ? "\t" : " ")
            offset += character.utf8.count
        }
        if location.column - 1 > offset {
            caret += String(repeating: " ", count: location.column - 1 - offset)
        }
        return "\(location): \(prefix)\(message)\n\(line)\n\(caret)^"
    }
}

/// A rejected VCL: every error found (and the warnings), each formatted as `VCLDiagnostic`.
public struct VCLCompileError: Error, Sendable, CustomStringConvertible {
    public let diagnostics: [VCLDiagnostic]

    public init(_ diagnostics: [VCLDiagnostic]) { self.diagnostics = diagnostics }

    public var errors: [VCLDiagnostic] { diagnostics.filter { $0.severity == .error } }
    public var warnings: [VCLDiagnostic] { diagnostics.filter { $0.severity == .warning } }

    public var description: String {
        diagnostics.map(\.description).joined(separator: "\n")
    }
}

/// Collects diagnostics across the compiler passes.
final class DiagnosticSink {
    private(set) var diagnostics: [VCLDiagnostic] = []

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }

    func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(VCLDiagnostic(.error, location, message))
    }

    func warning(_ location: SourceLocation, _ message: String) {
        diagnostics.append(VCLDiagnostic(.warning, location, message))
    }
}
