extension String {
    /// `value` in decimal. Made directly rather than through the generic integer formatter: a
    /// hit formats a few numbers (Age, X-Varnish, `obj.hits`), and up to 15 characters the
    /// result is a small string, with no allocation.
    public init(decimal value: Int) {
        let count = Self.decimalDigits(value.magnitude) + (value < 0 ? 1 : 0)
        self.init(unsafeUninitializedCapacity: count) { buffer in
            Self.writeDecimal(value.magnitude, endingAt: count, in: buffer)
            if value < 0 { buffer[0] = UInt8(ascii: "-") }
            return count
        }
    }

    /// Two numbers with a space between, as X-Varnish has on a hit (`1234 1001`).
    public init(decimal first: UInt64, _ second: UInt64) {
        let firstCount = Self.decimalDigits(UInt(first))
        let count = firstCount + 1 + Self.decimalDigits(UInt(second))
        self.init(unsafeUninitializedCapacity: count) { buffer in
            Self.writeDecimal(UInt(first), endingAt: firstCount, in: buffer)
            buffer[firstCount] = UInt8(ascii: " ")
            Self.writeDecimal(UInt(second), endingAt: count, in: buffer)
            return count
        }
    }

    private static func decimalDigits(_ value: UInt) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        return digits
    }

    private static func writeDecimal(_ value: UInt, endingAt end: Int, in buffer: UnsafeMutableBufferPointer<UInt8>) {
        var rest = value
        var index = end
        repeat {
            index -= 1
            buffer[index] = UInt8(truncatingIfNeeded: rest % 10) &+ UInt8(ascii: "0")
            rest /= 10
        } while rest > 0
    }
}
