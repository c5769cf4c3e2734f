import NIOCore

/// Incrementally decodes a chunked request body (RFC 9112 §7.1): sizes in hex, optional
/// extensions (ignored), trailers (dropped). Refuses oversized or malformed framing.
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

    /// Consumes what it can from `input`, appending decoded data to `output`.
    mutating func decode(_ input: inout ByteBuffer, into output: inout ByteBuffer) -> Outcome {
        while true {
            switch state {
            case .size:
                guard let line = readLine(&input) else { return input.readableBytes > maxLineLength ? .failure : .needMore }
                var size = 0
                var digits = 0
                for byte in line.utf8 {
                    if byte == UInt8(ascii: ";") || byte == .space || byte == .tab { break }
                    guard let digit = hexValue(byte), digits < 15 else { return .failure }
                    size = size * 16 + digit
                    digits += 1
                }
                guard digits > 0 else { return .failure }
                state = size == 0 ? .trailers : .data(remaining: size)
            case .data(let remaining):
                guard input.readableBytes > 0 else { return .needMore }
                let take = min(remaining, input.readableBytes)
                if var slice = input.readSlice(length: take) { output.writeBuffer(&slice) }
                state = take == remaining ? .dataEnd : .data(remaining: remaining - take)
            case .dataEnd:
                guard let line = readLine(&input) else { return input.readableBytes > 2 ? .failure : .needMore }
                guard line.isEmpty else { return .failure }
                state = .size
            case .trailers:
                guard let line = readLine(&input) else { return input.readableBytes > maxLineLength ? .failure : .needMore }
                if line.isEmpty { state = .done }
            case .done:
                return .done
            }
        }
    }

    private func readLine(_ input: inout ByteBuffer) -> String? {
        guard let lf = input.readableBytesView.firstIndex(of: .lf) else { return nil }
        let length = lf - input.readerIndex
        guard var line = input.readString(length: length) else { return nil }
        input.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        return line
    }

    private func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }
}
