import Foundation

/// A fresh directory under the system's temporary directory, for VCL and secret files.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "shellac-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// Writes `contents` to `name` in the directory; returns the full path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let file = path + "/" + name
        try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
