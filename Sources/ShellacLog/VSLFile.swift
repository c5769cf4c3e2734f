/// varnishlog's `-w`/`-r` files, Shellac's kind: an 8-byte magic, then records laid out as in
/// the ring (a 4-byte tag and length word, a 4-byte side word, the vxid in 8 bytes, the
/// payload padded to 8). A file outlives the ring, for looking back after an incident.
public enum VSLFile {
    public static let magic: [UInt8] = Array("SHLCVSLF".utf8)

    /// Appends `record` to `out` in the file's layout.
    public static func encode(_ record: VSLRecord, into out: inout [UInt8]) {
        let length = min(record.payload.count, 0xFF_FFFF)
        let word = UInt32(record.tag.rawValue) << 24 | UInt32(length)
        withUnsafeBytes(of: word.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt32(record.side.rawValue).littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: record.vxid.littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: record.payload.prefix(length))
        let padding = (8 - length % 8) % 8
        out.append(contentsOf: repeatElement(0, count: padding))
    }

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The records of a whole file.
    public static func decode(_ bytes: [UInt8]) throws(FormatError) -> [VSLRecord] {
        guard bytes.count >= magic.count, Array(bytes.prefix(magic.count)) == magic else {
            throw FormatError(description: "not a shellac log file (written by shellac log -w)")
        }
        var records: [VSLRecord] = []
        VSLReader.decode(Array(bytes.dropFirst(magic.count)), into: &records)
        return records
    }
}
