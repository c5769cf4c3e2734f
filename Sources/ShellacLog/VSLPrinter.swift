/// varnishlog's text output, byte for byte (lib/libvarnishapi/vsl.c, VSL_PrintTransactions).
///
/// Grouped modes print, for each transaction of a group in breadth-first order, a header
/// `*   << Request  >> 2         ` (level stars padded to 3 and a space, the 14-column label,
/// a space, the vxid left-aligned in 10) and its records `-   ReqURL         /` (level dashes
/// padded to 3 and a space, the tag padded to 14 and a space, the payload); below level 3
/// the markers read `*4* ` and `-4- `. A blank line ends each group that printed a header.
/// `-g raw` prints `%10u %-14s %c payload`: vxid right-aligned in 10, tag, side, payload.
/// `-v` adds the raw columns to grouped records and pads headers to match.
///
/// Payloads print as they are up to any NUL byte, except for tags Varnish marks unsafe
/// (Debug, HttpGarbage, Hash), which print quoted with `%xx` for bytes outside `' '...'~'`
/// and end in `%00` (the terminator Varnish stores with them), and binary tags (H2*), which
/// print as hex in brackets.
///
/// Not `Sendable` when its filter holds patterns (Swift's `Regex` is not).
public struct VSLPrinter {
    public var filter: VSLRecordFilter
    /// `-v`: the vxid and side columns on every record of a group.
    public var verbose: Bool

    public init(filter: VSLRecordFilter = VSLRecordFilter(), verbose: Bool = false) {
        self.filter = filter
        self.verbose = verbose
    }

    /// The group as varnishlog prints it.
    public func text(for group: VSLGroup) -> String {
        String(decoding: bytes(for: group), as: UTF8.self)
    }

    /// The group as varnishlog prints it, as bytes (payloads are not always UTF-8).
    public func bytes(for group: VSLGroup) -> [UInt8] {
        var output: [UInt8] = []
        write(group, to: &output)
        return output
    }

    /// Appends the group as varnishlog prints it.
    public func write(_ group: VSLGroup, to output: inout [UInt8]) {
        var printedHeader = false
        for transaction in group.transactions where filter.shows(transaction) {
            let level = transaction.level
            let longForm = level == 0 || verbose
            if level > 0 {
                appendMarker(star: true, level: level, to: &output)
                if longForm { output += repeatElement(0x20, count: 11) }
                output += Array("<< \(pad(transaction.type.label, 8)) >>".utf8)
                output.append(0x20)
                if longForm { output += [0x20, 0x20] }
                output += Array(pad(String(transaction.vxid), 10).utf8)
                output.append(0x0A)
                printedHeader = true
            }
            for record in transaction.records where filter.matches(record) {
                if level > 0 { appendMarker(star: false, level: level, to: &output) }
                appendRecord(record, longForm: longForm, to: &output)
            }
        }
        if printedHeader { output.append(0x0A) }
    }

    /// `*`/`-` repeated `level` times padded to 3, or `*N*`/`-N-` past level 3; then a space.
    private func appendMarker(star: Bool, level: Int, to output: inout [UInt8]) {
        let mark = star ? "*" : "-"
        let text = level > 3 ? "\(mark)\(level)\(mark)" : pad(String(repeating: mark, count: level), 3)
        output += Array(text.utf8)
        output.append(0x20)
    }

    private func appendRecord(_ record: VSLRecord, longForm: Bool, to output: inout [UInt8]) {
        if longForm {
            output += Array(padLeft(String(record.vxid), 10).utf8)
            output.append(0x20)
        }
        output += Array(pad(record.tag.name, 14).utf8)
        output.append(0x20)
        if longForm {
            output.append(record.side.marker.asciiValue ?? UInt8(ascii: "-"))
            output.append(0x20)
        }
        if record.tag.isUnsafe {
            output.append(UInt8(ascii: "\""))
            for byte in record.payload + [0] {
                if byte >= 0x20 && byte <= 0x7E {
                    output.append(byte)
                } else {
                    output += Array("%\(hex2(byte))".utf8)
                }
            }
            output += Array("\"\n".utf8)
        } else if record.tag.isBinary {
            output.append(UInt8(ascii: "["))
            for byte in record.payload { output += Array(hex2(byte).utf8) }
            output += Array("]\n".utf8)
        } else {
            output += record.payload.prefix { $0 != 0 }
            output.append(0x0A)
        }
    }
}

/// `s` padded with spaces on the right to `width` (printf's `%-Ns`).
func pad(_ s: String, _ width: Int) -> String {
    let count = s.utf8.count
    return count >= width ? s : s + String(repeating: " ", count: width - count)
}

/// `s` padded with spaces on the left to `width` (printf's `%Ns`).
func padLeft(_ s: String, _ width: Int) -> String {
    let count = s.utf8.count
    return count >= width ? s : String(repeating: " ", count: width - count) + s
}

/// Two lowercase hex digits.
func hex2(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
}
