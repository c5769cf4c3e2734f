import Testing

@testable import ShellacCache

/// The ESI parse, on bytes: what is sent as it is, what is included, what goes.
@Suite("ESI parse")
struct ESIDocumentTests {
    /// The document as text: verbatim runs as they are, includes as `{src}` (`{src?}` with onerror).
    static func render(_ body: String, checkXML: Bool = true) -> String? {
        let bytes = Array(body.utf8)
        guard let document = ESIDocument.parse(bytes, checkXML: checkXML) else { return nil }
        return text(document, bytes)
    }

    static func text(_ document: ESIDocument, _ bytes: [UInt8]) -> String {
        document.segments.map { segment in
            switch segment {
            case .verbatim(let range): String(decoding: bytes[range], as: UTF8.self)
            case .include(let src, let onError): "{\(src)\(onError ? "?" : "")}"
            case .compressed: "<gz>"
            }
        }.joined()
    }

    @Test("include, remove, <!--esi -->, comment; entities in src; onerror")
    func elements() {
        #expect(Self.render("<p>a<esi:include src=\"/f\"/>b</p>") == "<p>a{/f}b</p>")
        #expect(Self.render("<p><esi:include src='/a?x=1&amp;y=2' onerror=\"continue\"/></p>") == "<p>{/a?x=1&y=2?}</p>")
        #expect(Self.render("<p>1<esi:remove>gone<esi:include src=\"/no\"/></esi:remove>2</p>") == "<p>12</p>")
        #expect(Self.render("<p><!--esi <b><esi:include src=\"/in\"/></b> -->x</p>") == "<p> <b>{/in}</b> x</p>")
        #expect(Self.render("<p><esi:comment text=\"hi\"/>z</p>") == "<p>z</p>")
        #expect(Self.render("<p><esi:include src=\"/f\"></esi:include>!</p>") == "<p>{/f}!</p>")
    }

    @Test("not ESI: no elements, or not XML (unless the check is off)")
    func notESI() {
        #expect(Self.render("<p>plain</p>") == nil)
        #expect(Self.render("text <esi:include src=\"/f\"/>") == nil)
        #expect(Self.render("text <esi:include src=\"/f\"/>", checkXML: false) == "text {/f}")
        #expect(Self.render("  \n<esi:include src=\"/f\"/>") == "  \n{/f}")
    }

    @Test("CDATA is character data: an end tag in it ends nothing; a byte order mark may go")
    func cdataAndBOM() {
        #expect(Self.render("<p><esi:remove>a<![CDATA[</esi:remove>]]>b</esi:remove>c</p>") == "<p>c</p>")
        #expect(Self.render("<p><![CDATA[<esi:include src=\"/no\"/>]]><esi:include src=\"/f\"/></p>")
            == "<p><![CDATA[<esi:include src=\"/no\"/>]]>{/f}</p>")
        let bom = "\u{FEFF}<p><esi:include src=\"/f\"/></p>"
        let bytes = Array(bom.utf8)
        let kept = ESIDocument.parse(bytes).map { Self.text($0, bytes) }
        let removed = ESIDocument.parse(bytes, removeBOM: true).map { Self.text($0, bytes) }
        #expect(kept == bom.replacingOccurrences(of: "<esi:include src=\"/f\"/>", with: "{/f}"))
        #expect(removed == "<p>{/f}</p>")
    }

    @Test("a tag that is not ESI is skipped whole to its '>', unless esi_ignore_other_elements (e00010)")
    func otherElements() {
        let page = "<p><a title=\"<esi:include src='/no'/>\">x</a><esi:include src=\"/f\"/></p>"
        let bytes = Array(page.utf8)
        let skipped = ESIDocument.parse(bytes).map { Self.text($0, bytes) }
        #expect(skipped == "<p><a title=\"<esi:include src='/no'/>\">x</a>{/f}</p>")
        let broken = Array("<f<esi?\n<esi:remove>bar</esi:remove>foo".utf8)
        #expect(ESIDocument.parse(broken).map { Self.text($0, broken) } == "<f<esi?\n<esi:remove>barfoo")
        #expect(ESIDocument.parse(broken, ignoreOtherElements: true).map { Self.text($0, broken) } == "<f<esi?\nfoo")
    }
}
