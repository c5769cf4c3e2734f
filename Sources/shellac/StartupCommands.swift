import Foundation
import Shellac

/// varnishd's `-I clifile`: admin CLI commands run before Shellac serves, one per line. A
/// failing command stops the start, unless the line begins with `-` (its failure is ignored,
/// as varnishd does). Empty lines and `#` comments are skipped.
enum StartupCommands {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(file: String, with commands: AdminCommands) throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Failure(description: "cannot read the file")
        }
        for (number, rawLine) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let mayFail = line.hasPrefix("-")
            if mayFail { line.removeFirst() }
            let words: [String]
            do {
                words = try AdminWords.split(line)
            } catch {
                throw Failure(description: "line \(number + 1): \(error)")
            }
            let response = commands.execute(words)
            if response.status != 200 && !mayFail {
                throw Failure(description: "line \(number + 1): \(line): \(response.status) \(response.body)")
            }
        }
    }
}
