/// SplitMix64: a random number generator that gives the same numbers for the same seed, so a
/// randomised test that fails fails again.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    /// `bytes` cut into consecutive pieces of 1...maxPiece bytes, as reads might deliver them.
    mutating func pieces(of bytes: [UInt8], upTo maxPiece: Int) -> [ArraySlice<UInt8>] {
        var pieces: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + Int.random(in: 1...maxPiece, using: &self))
            pieces.append(bytes[start..<end])
            start = end
        }
        return pieces
    }
}
