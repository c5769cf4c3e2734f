import NIOCore

/// Incrementally decodes a chunked body (RFC 9112 §7.1): sizes in hex, optional extensions
/// (checked, then ignored), trailers (checked, then dropped). Refuses oversized or malformed
/// framing, and is strict wherever a lenient reading could let another parser on the path see
/// a different body ("funky chunks"): every line ends in CRLF (a bare LF or CR is refused), the
/// data is followed by exactly CRLF, a size has 1-15 hex digits and nothing but optional
/// whitespace and well-formed extensions after it, trailer lines are field lines, and a line
/// holds at most 4096 bytes however the input was split into reads.
///
/// A backend's response is read with `acceptsBareLF`: a line may also end in LF alone, as
/// RFC 9112 §2.2 allows a recipient and Varnish reads backends; everything else stays strict.
struct ChunkedDecoder {
    enum State {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailers
        case done
    }

    enum Outcome {
        case needMore
        case done
        case failure
    }

    private(set) var state = State.size
    private let maxLineLength = 4096
    /// Whether a line (and the end of chunk data) may end in LF without CR.
    let acceptsBareLF: Bool

    init(acceptsBareLF: Bool = false) {
        self.acceptsBareLF = acceptsBareLF
    }

    /// Consumes what it can from `input`, appending decoded data to `output`.
    mutating func decode(_ input: inout ByteBuffer, into output: inout ByteBuffer) -> Outcome {
        while true {
            switch state {
            case .size:
                switch readLine(&input) {
                case .needMore: return .needMore
                case .failure: return .failure
                case .line(let line):
                    guard let size = Self.chunkSize(line) else { return .failure }
                    state = size == 0 ? .trailers : .data(remaining: size)
                }
            case .data(let remaining):
                guard input.readableBytes > 0 else { return .needMore }
                let take = min(remaining, input.readableBytes)
                if var slice = input.readSlice(length: take) { output.writeBuffer(&slice) }
                state = take == remaining ? .dataEnd : .data(remaining: remaining - take)
            case .dataEnd:
                let view = input.readableBytesView
                if acceptsBareLF, view.first == .lf {
                    input.moveReaderIndex(forwardBy: 1)
                    state = .size
                    continue
                }
                guard view.count >= 2 else {
                    if let first = view.first, first != .cr { return .failure }
                    return .needMore
                }
                guard view[view.startIndex] == .cr, view[view.startIndex + 1] == .lf else { return .failure }
                input.moveReaderIndex(forwardBy: 2)
                state = .size
            case .trailers:
                switch readLine(&input) {
                case .needMore: return .needMore
                case .failure: return .failure
                case .line(let line):
                    if line.isEmpty {
                        state = .done
                    } else if !Self.isFieldLine(line) {
                        return .failure
                    }
                }
            case .done:
                return .done
            }
        }
    }

    private enum Line {
        case line(ByteBufferView)
        case needMore
        case failure
    }

    /// The next line, without its CRLF, consumed from `input`.
    private func readLine(_ input: inout ByteBuffer) -> Line {
        let view = input.readableBytesView
        guard let lf = view.firstIndex(of: .lf) else {
            // Up to maxLineLength bytes and the CR may wait for their LF.
            return view.count > maxLineLength + 1 ? .failure : .needMore
        }
        let hasCR = lf > view.startIndex && view[lf - 1] == .cr
        guard hasCR || acceptsBareLF else { return .failure }
        let line = view[view.startIndex..<(hasCR ? lf - 1 : lf)]
        guard line.count <= maxLineLength else { return .failure }
        input.moveReaderIndex(to: lf + 1)
        return .line(line)
    }

    /// `chunk-size [ chunk-ext ]`: the size, or nil when the line is not that.
    static func chunkSize(_ line: ByteBufferView) -> Int? {
        var size = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexValue(line[index]) {
            guard index - line.startIndex < 15 else { return nil }  // 15 digits fit in an Int
            size = size << 4 | digit
            index += 1
        }
        guard index > line.startIndex, isChunkExtensions(line[index...]) else { return nil }
        return size
    }

    /// `*( BWS ";" BWS name [ BWS "=" BWS value ] )` with a token name and a token or
    /// quoted-string value (RFC 9112 §7.1.1), allowing trailing whitespace.
    static func isChunkExtensions(_ bytes: ByteBufferView) -> Bool {
        var index = bytes.startIndex
        func skipWhitespace() {
            while index < bytes.endIndex, bytes[index] == .space || bytes[index] == .tab { index += 1 }
        }
        func skipToken() -> Bool {
            let start = index
            while index < bytes.endIndex, bytes[index].isTokenCharacter { index += 1 }
            return index > start
        }
        func skipQuotedString() -> Bool {
            index += 1  // the opening DQUOTE
            while index < bytes.endIndex {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return true
                }
                if byte == UInt8(ascii: "\\") { index += 1 }  // quoted-pair: the next byte is taken as is
                guard index < bytes.endIndex, bytes[index].isFieldContent else { return false }
                index += 1
            }
            return false
        }
        while true {
            skipWhitespace()
            if index == bytes.endIndex { return true }
            guard bytes[index] == UInt8(ascii: ";") else { return false }
            index += 1
            skipWhitespace()
            guard skipToken() else { return false }
            skipWhitespace()
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "=") else { continue }
            index += 1
            skipWhitespace()
            let valid = index < bytes.endIndex && bytes[index] == UInt8(ascii: "\"") ? skipQuotedString() : skipToken()
            guard valid else { return false }
        }
    }

    /// `field-name ":" field-value`, no control bytes but HTAB: what a trailer line must be.
    static func isFieldLine(_ line: ByteBufferView) -> Bool {
        guard let colon = line.firstIndex(of: .colon), colon > line.startIndex,
            line[..<colon].allSatisfy(\.isTokenCharacter)
        else { return false }
        return line[(colon + 1)...].allSatisfy(\.isFieldContent)
    }

    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
