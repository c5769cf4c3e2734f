import NIOCore

/// Writes the per-delivery part of a response head. Integers are written digit by digit: no
/// String is made on the hit path.
extension ByteBuffer {
    mutating func writeDecimal(_ value: Int) {
        var value = value
        if value < 0 {
            writeInteger(UInt8(ascii: "-"))
            value = -value
        }
        if value < 10 {
            writeInteger(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            var remaining = value
            while remaining > 0 {
                raw[23 - count] = UInt8(ascii: "0") &+ UInt8(remaining % 10)
                remaining /= 10
                count += 1
            }
            writeBytes(UnsafeRawBufferPointer(rebasing: raw[(24 - count)...]))
        }
    }

    mutating func writeDecimal(_ value: UInt64) { writeDecimal(Int(truncatingIfNeeded: value)) }

    /// `N\r\n` in hex, the size line of a chunk.
    mutating func writeChunkSize(_ size: Int) {
        let hex = String(size, radix: 16)
        writeString(hex)
        writeStaticString("\r\n")
    }
}
