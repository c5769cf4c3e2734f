/// One VCL source text and its name, with a table of line starts for positions.
public final class SourceFile: Sendable {
    /// The name shown in diagnostics (usually the path as given).
    public let name: String
    /// The full text, as UTF-8 bytes.
    public let bytes: [UInt8]
    /// Byte offset of the first byte of each line.
    let lineStarts: [Int]

    public init(name: String, text: String) {
        self.name = name
        self.bytes = Array(text.utf8)
        var starts = [0]
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            starts.append(index + 1)
        }
        self.lineStarts = starts
    }

    /// The text of line `line` (1-based), without its newline.
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    /// The byte offset of a location in this file.
    public func offset(of location: SourceLocation) -> Int {
        guard location.line >= 1, location.line <= lineStarts.count else { return bytes.count }
        return min(bytes.count, lineStarts[location.line - 1] + location.column - 1)
    }

    /// The location of a byte offset.
    public func location(at offset: Int) -> SourceLocation {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return SourceLocation(file: self, line: low + 1, column: offset - lineStarts[low] + 1)
    }
}

/// A position in a VCL source: file, 1-based line and 1-based column (in bytes).
public struct SourceLocation: Sendable, CustomStringConvertible {
    public let file: SourceFile
    public let line: Int
    public let column: Int

    public var description: String { "\(file.name):\(line):\(column)" }
}
