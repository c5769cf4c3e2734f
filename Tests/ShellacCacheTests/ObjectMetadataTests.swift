import Testing
import VCL

@testable import ShellacCache

/// The stored status line and header lines, read back in place (what a hit's VCL starts from).
@Suite struct ObjectMetadataTests {
    static let headers = HeaderList([("Server", "origin"), ("Content-Type", "text/html"), ("ETag", "\"x\"")])

    static func metadata(status: Int = 200, reason: String = "OK") -> ObjectMetadata {
        ObjectMetadata(status: status, reason: reason, headers: headers, declaredLength: 4, variant: VariantKey(entries: []))
    }

    @Test func statusLineReasonAndLinesSurviveKeyAndInlineBody() {
        for reason in ["OK", "", "Not Found Here", "Ünïcode reason"] {
            let plain = Self.metadata(status: 404, reason: reason)
            let stored = plain.withInlineBody(Array("body".utf8)).prefixed(withKey: Array("/key\u{0}host\u{0}".utf8))
            for metadata in [plain, stored] {
                #expect(String(decoding: metadata.statusLine, as: UTF8.self) == "HTTP/1.1 404 \(reason)\r\n")
                #expect(metadata.reason == reason)
                #expect(metadata.headers == Self.headers)
                #expect(metadata.headers["etag"] == "\"x\"")
            }
        }
    }

    /// The summary the store keeps must hold every stored name: a missing bit would make VCL
    /// believe a stored field absent.
    @Test func nameSummaryCoversEveryStoredName() throws {
        let lines = Self.metadata().rawHeaderLines
        let summary = try #require(lines.nameSummary)
        for name in ["Server", "content-type", "ETAG"] {
            #expect(summary & RawHeaderLines.nameBit(name.utf8) != 0)
        }
        var list = HeaderList(raw: lines)
        list.set("content-type", "text/plain")
        list.remove("SERVER")
        #expect(list.fields.map(\.name) == ["Content-Type", "ETag"])
    }
}
