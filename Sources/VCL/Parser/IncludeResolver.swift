import Foundation

/// Finds and reads `include`d files: relative to the including file first, then along a search path.
public struct IncludeResolver: Sendable {
    public enum Result: Sendable {
        case success(SourceFile)
        case failure(String)
    }

    public var searchPath: [String]
    /// In-memory files by name, consulted before the file system (for tests and `vcl.inline`).
    public var virtualFiles: [String: String]

    public init(searchPath: [String] = [], virtualFiles: [String: String] = [:]) {
        self.searchPath = searchPath
        self.virtualFiles = virtualFiles
    }

    func load(_ path: String, from includer: String) -> Result {
        var candidates: [String] = []
        if path.hasPrefix("/") {
            candidates = [path]
        } else {
            let directory = (includer as NSString).deletingLastPathComponent
            candidates.append(directory.isEmpty ? path : directory + "/" + path)
            candidates += searchPath.map { $0 + "/" + path }
            candidates.append(path)
        }
        for candidate in candidates {
            if let text = virtualFiles[candidate] { return .success(SourceFile(name: candidate, text: text)) }
        }
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate) {
            guard let data = FileManager.default.contents(atPath: candidate) else {
                return .failure("Cannot read include file \"\(candidate)\"")
            }
            return .success(SourceFile(name: candidate, text: String(decoding: data, as: UTF8.self)))
        }
        return .failure("Cannot find include file \"\(path)\" (looked in: \(candidates.joined(separator: ", ")))")
    }
}
