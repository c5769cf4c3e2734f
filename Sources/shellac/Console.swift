import Foundation
import VCL

/// Writes to standard error and standard output at once (tests and scripts wait for lines).
enum Console {
    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Every diagnostic as `file:line:col: message`, the source line and a caret, on stderr.
    static func diagnostics(_ diagnostics: [VCLDiagnostic]) {
        for diagnostic in diagnostics { error(diagnostic.description) }
    }
}
