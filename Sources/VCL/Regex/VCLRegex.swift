import CPCRE2

/// A PCRE2 regular expression compiled once (with JIT when available), matched from many threads.
///
/// Matching needs scratch space (a match data block); callers on a hot path pass a
/// `VCLRegex.Scratch` they own (one per request context), others get a fresh one per call.
public final class VCLRegex: @unchecked Sendable {
    // @unchecked: the compiled pcre2_code is immutable after init and PCRE2 documents concurrent
    // matching with it as safe when each thread uses its own match data.
    private let code: OpaquePointer
    private let jitted: Bool
    public let pattern: String
    /// The number of capture groups in the pattern.
    public let captureCount: Int

    /// A compile failure: PCRE2's message and the byte offset in the pattern.
    public struct CompileError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public let offset: Int
        public var description: String { "\(message) (at offset \(offset))" }
    }

    public init(_ pattern: String, caseInsensitive: Bool = false) throws(CompileError) {
        var errorCode: Int32 = 0
        var errorOffset: Int = 0
        let options: UInt32 = caseInsensitive ? UInt32(PCRE2_CASELESS) : 0
        let compiled = pattern.utf8CString.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            buffer.baseAddress.flatMap { base in
                base.withMemoryRebound(to: UInt8.self, capacity: buffer.count) { bytes in
                    pcre2_compile_8(bytes, buffer.count - 1, options, &errorCode, &errorOffset, nil)
                }
            }
        }
        guard let compiled else {
            var message = [UInt8](repeating: 0, count: 256)
            let length = pcre2_get_error_message_8(errorCode, &message, message.count)
            let text = String(decoding: message.prefix(max(0, Int(length))), as: UTF8.self)
            throw CompileError(message: text, offset: errorOffset)
        }
        code = compiled
        jitted = pcre2_jit_compile_8(compiled, UInt32(PCRE2_JIT_COMPLETE)) == 0
        self.pattern = pattern
        var captures: UInt32 = 0
        pcre2_pattern_info_8(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &captures)
        captureCount = Int(captures)
    }

    deinit { pcre2_code_free_8(code) }

    /// Per-thread (per-request) match space; not Sendable, never share it between threads.
    public final class Scratch {
        let matchData: OpaquePointer?
        let pairs: Int

        /// Room for `pairs` capture pairs (the whole match plus groups); 10 covers \0-\9.
        public init(pairs: Int = 10) {
            self.pairs = pairs
            matchData = pcre2_match_data_create_8(UInt32(pairs), nil)
        }

        deinit { if let matchData { pcre2_match_data_free_8(matchData) } }
    }

    /// True when the pattern matches somewhere in `subject`.
    public func matches(_ subject: String) -> Bool {
        matches(subject, scratch: Scratch(pairs: 1))
    }

    /// True when the pattern matches somewhere in `subject`, using the caller's scratch space.
    public func matches(_ subject: String, scratch: Scratch) -> Bool {
        withBytes(subject) { bytes in
            self.run(bytes, from: 0, scratch: scratch) >= 0
        }
    }

    /// Runs one match from `start`; returns pcre2's result (>= 0 on a match; 0 means the
    /// match data had no room for every group).
    private func run(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, scratch: Scratch) -> Int32 {
        guard let matchData = scratch.matchData else { return -1 }
        guard let base = bytes.baseAddress else {
            // An empty subject may have no storage; PCRE2 needs a non-null pointer even for length 0.
            var zero: UInt8 = 0
            return pcre2_match_8(code, &zero, 0, 0, 0, matchData, nil)
        }
        if jitted {
            return pcre2_jit_match_8(code, base, bytes.count, start, 0, matchData, nil)
        }
        return pcre2_match_8(code, base, bytes.count, start, 0, matchData, nil)
    }

    private func withBytes<R>(_ subject: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let result = subject.utf8.withContiguousStorageIfAvailable(body) { return result }
        return Array(subject.utf8).withUnsafeBufferPointer(body)
    }

    /// Varnish's regsub/regsuball: replaces the first (or every) match with `replacement`,
    /// where `\0`-`\9` insert capture groups; nil when nothing matched (the caller keeps the input).
    public func substitute(in subject: String, with replacement: String, all: Bool, scratch: Scratch? = nil) -> String {
        let scratch = scratch ?? Scratch()
        return withBytes(subject) { bytes -> String in
            guard let matchData = scratch.matchData else { return subject }
            var output: [UInt8] = []
            var position = 0
            var copied = 0
            var matched = false
            while position <= bytes.count {
                let result = run(bytes, from: position, scratch: scratch)
                if result < 0 { break }
                matched = true
                let vector = pcre2_get_ovector_pointer_8(matchData)
                let pairCount = result == 0 ? scratch.pairs : Int(result)
                guard let vector else { break }
                let matchStart = vector[0], matchEnd = vector[1]
                output.append(contentsOf: bytes[copied..<matchStart])
                appendReplacement(replacement, bytes: bytes, vector: vector, pairs: pairCount, to: &output)
                copied = matchEnd
                if !all { break }
                if matchEnd == matchStart {
                    if matchEnd >= bytes.count { break }
                    output.append(bytes[matchEnd])
                    copied = matchEnd + 1
                    position = matchEnd + 1
                } else {
                    position = matchEnd
                }
            }
            if !matched { return subject }
            output.append(contentsOf: bytes[min(copied, bytes.count)...])
            return String(decoding: output, as: UTF8.self)
        }
    }

    private func appendReplacement(_ replacement: String, bytes: UnsafeBufferPointer<UInt8>,
                                   vector: UnsafeMutablePointer<Int>, pairs: Int, to output: inout [UInt8]) {
        var iterator = replacement.utf8.makeIterator()
        var pending = iterator.next()
        while let byte = pending {
            pending = iterator.next()
            // As VRE_sub: a backslash quotes the byte after it (`\\` is one backslash, `\&` is
            // `&`), `\0`-`\9` insert a group, and a backslash that ends the text stays.
            guard byte == UInt8(ascii: "\\"), let next = pending else {
                output.append(byte)
                continue
            }
            pending = iterator.next()
            guard next >= UInt8(ascii: "0"), next <= UInt8(ascii: "9") else {
                output.append(next)
                continue
            }
            let group = Int(next - UInt8(ascii: "0"))
            if group < pairs {
                let start = vector[2 * group], end = vector[2 * group + 1]
                // PCRE2_UNSET is ~0: an unset group inserts nothing.
                if start >= 0, start <= end, end <= bytes.count { output.append(contentsOf: bytes[start..<end]) }
            }
        }
    }
}
