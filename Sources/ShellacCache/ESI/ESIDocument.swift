/// A stored body read as ESI (Varnish's `cache_esi_parse.c`), once, when the object is
/// complete: the bytes to send as they are, and the includes between them. Delivery walks
/// the segments and never scans the body again.
///
/// Understood: `<esi:include src="..." [onerror="continue"]/>`, `<esi:remove>...</esi:remove>`,
/// `<!--esi ... -->` (the markers go, the content stays and is read too), `<esi:comment .../>`.
/// Other `esi:` elements are dropped. XML entity references in `src` are decoded.
public struct ESIDocument: Sendable, Equatable {
    public enum Segment: Sendable, Equatable {
        /// Body bytes `range` (offsets into the whole stored body), sent as they are.
        case verbatim(Range<Int>)
        /// A fragment fetched through VCL: `src` as written (decoded), and whether the page
        /// goes on when it fails (`onerror="continue"`).
        case include(src: String, continueOnError: Bool)
        /// A gzipped page's verbatim run: bytes `range` of the stored body are deflate blocks
        /// that stand alone (see `GzipStream`), of `plainLength` bytes with CRC `crc` inflated.
        case compressed(Range<Int>, crc: UInt32, plainLength: Int)
    }

    public var segments: [Segment]
    /// What the parse found wrong, as Varnish's `ESI_xmlerror` records word it
    /// (`ERR after 37 ESI 1.0 Nested <!--esi element in <esi:remove>`): each counts in
    /// `esi_errors`. Not part of what the document is (equality ignores it).
    public var errors: [String] = []

    public init(segments: [Segment]) { self.segments = segments }

    public static func == (lhs: ESIDocument, rhs: ESIDocument) -> Bool { lhs.segments == rhs.segments }

    /// Parses `body`. With `checkXML` (Varnish's default), a body whose first non-blank byte
    /// is not `<` is not ESI: nil. Nil also when nothing in it is ESI (send it as it is).
    /// With `removeBOM`, a UTF-8 byte order mark at the start is not sent. A tag that is not
    /// ESI is skipped whole, up to its `>` (so `<a href="<esi:include .../>">` includes
    /// nothing), unless `ignoreOtherElements` (`feature=+esi_ignore_other_elements`): then
    /// only its `<` is, and ESI elements inside it count.
    public static func parse(
        _ body: [UInt8], checkXML: Bool = true, removeBOM: Bool = false, ignoreOtherElements: Bool = false
    ) -> ESIDocument? {
        if checkXML {
            guard let first = body.first(where: { !isBlank($0) }), first == UInt8(ascii: "<") else { return nil }
        }
        var parser = Parser(body: body)
        parser.skipsOtherTags = !ignoreOtherElements
        if removeBOM && body.starts(with: [0xEF, 0xBB, 0xBF]) {
            parser.index = 3
            parser.runStart = 3
        }
        parser.run()
        guard parser.sawESI else { return nil }
        var document = ESIDocument(segments: parser.segments)
        document.errors = parser.errors
        return document
    }

    static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0xEF || byte == 0xBB || byte == 0xBF
    }

    private struct Parser {
        let body: [UInt8]
        var segments: [Segment] = []
        var sawESI = false
        /// Where the current verbatim run started.
        var runStart = 0
        var index = 0
        /// Inside `<esi:remove>`: bytes are dropped until its end tag.
        var removing = false
        /// A tag that is not ESI is passed over up to its `>` (Varnish's default).
        var skipsOtherTags = true
        var errors: [String] = []

        init(body: [UInt8]) { self.body = body }

        mutating func error(_ text: String) {
            errors.append("ERR after \(index) ESI 1.0 " + text)
        }

        mutating func run() {
            while index < body.count {
                guard body[index] == UInt8(ascii: "<") || (body[index] == UInt8(ascii: "-") && matches("-->")) else {
                    index += 1
                    continue
                }
                if matches("<!--esi") {
                    if removing { error("Nested <!--esi element in <esi:remove>") }
                    emit(upTo: index)
                    index += 7
                    runStart = index
                    sawESI = true
                    openComments += 1
                } else if openComments > 0 && matches("-->") {
                    emit(upTo: index)
                    index += 3
                    runStart = index
                    openComments -= 1
                } else if matches("</esi:remove>") {
                    if !removing { emit(upTo: index) }
                    removing = false
                    index += 13
                    runStart = index
                    sawESI = true
                } else if matches("<![CDATA[") {
                    // Character data: nothing in it is ESI (kept, unless inside a remove).
                    index = Self.find("]]>", in: body, from: index + 9).map { $0 + 3 } ?? body.count
                } else if matches("<esi:") {
                    element()
                } else if skipsOtherTags && body[index] == UInt8(ascii: "<") {
                    index = body[(index + 1)...].firstIndex(of: UInt8(ascii: ">")).map { $0 + 1 } ?? body.count
                } else {
                    index += 1
                }
            }
            emit(upTo: body.count)
        }

        var openComments = 0

        /// Where `text` next starts in `body` at or after `start`.
        static func find(_ text: StaticString, in body: [UInt8], from start: Int) -> Int? {
            let count = text.utf8CodeUnitCount
            guard start + count <= body.count else { return nil }
            return text.withUTF8Buffer { pattern in
                var index = start
                while index + count <= body.count {
                    if body[index] == pattern[0] && body[index..<(index + count)].elementsEqual(pattern) { return index }
                    index += 1
                }
                return nil
            }
        }

        mutating func matches(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= body.count else { return false }
            return text.withUTF8Buffer { pattern in
                for offset in 0..<count where body[index + offset] != pattern[offset] { return false }
                return true
            }
        }

        mutating func emit(upTo end: Int) {
            guard !removing, end > runStart else { return }
            segments.append(.verbatim(runStart..<end))
        }

        /// An `<esi:...>` element at `index`.
        mutating func element() {
            guard let close = body[index...].firstIndex(of: UInt8(ascii: ">")) else {
                error("unterminated <esi: element")
                index = body.count  // unterminated: the rest is dropped, as Varnish drops it
                runStart = index
                return
            }
            let tag = String(decoding: body[(index + 5)..<close], as: UTF8.self)
            sawESI = true
            if !removing { emit(upTo: index) }
            index = close + 1
            runStart = index
            let name = tag.prefix { !$0.isWhitespace && $0 != "/" && $0 != ">" }
            switch name {
            case "remove":
                if removing { error("<esi:remove> nested in <esi:remove>") }
                removing = true
            case "include":
                guard !removing else { return error("<esi:include> element nested in <esi:remove>") }
                let attributes = Self.attributes(of: tag)
                if let src = attributes["src"] {
                    segments.append(.include(src: Self.decodeEntities(src), continueOnError: attributes["onerror"] == "continue"))
                } else {
                    error("<esi:include> lacks src attr")
                }
                // `<esi:include ...></esi:include>`: drop the end tag too.
                if matches("</esi:include>") {
                    index += 14
                    runStart = index
                }
            default:
                break  // esi:comment and elements ESI 1.0 has but Varnish does not do: dropped
            }
        }

        /// `name="value"` and `name='value'` pairs of a tag.
        static func attributes(of tag: String) -> [String: String] {
            var result: [String: String] = [:]
            var rest = Substring(tag)
            while let equals = rest.firstIndex(of: "=") {
                let name = rest[..<equals].split(whereSeparator: { $0.isWhitespace }).last.map(String.init) ?? ""
                var value = rest[rest.index(after: equals)...].drop { $0.isWhitespace }
                guard let quote = value.first, quote == "\"" || quote == "'" else { break }
                value = value.dropFirst()
                guard let end = value.firstIndex(of: quote) else { break }
                result[name] = String(value[..<end])
                rest = value[value.index(after: end)...]
            }
            return result
        }

        /// The five XML entities (and numeric ones) in an attribute value.
        static func decodeEntities(_ text: String) -> String {
            guard text.contains("&") else { return text }
            var result = ""
            var rest = Substring(text)
            while let amp = rest.firstIndex(of: "&") {
                result += rest[..<amp]
                rest = rest[amp...]
                guard let semicolon = rest.firstIndex(of: ";") else { break }
                let entity = rest[rest.index(after: rest.startIndex)..<semicolon]
                switch entity {
                case "amp": result += "&"
                case "lt": result += "<"
                case "gt": result += ">"
                case "quot": result += "\""
                case "apos": result += "'"
                default:
                    if entity.hasPrefix("#x"), let code = UInt32(entity.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(code) {
                        result.unicodeScalars.append(scalar)
                    } else if entity.hasPrefix("#"), let code = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(code) {
                        result.unicodeScalars.append(scalar)
                    } else {
                        result += rest[...semicolon]
                    }
                }
                rest = rest[rest.index(after: semicolon)...]
            }
            return result + rest
        }
    }
}
