import Testing
@testable import VCL

@Suite struct HeaderKeyTests {
    @Test func matchesIgnoringCase() {
        let key = HeaderKey("X-Forwarded-For")
        #expect(key.matches("x-forwarded-for"))
        #expect(key.matches("X-FORWARDED-FOR"))
        #expect(!key.matches("X-Forwarded-Fo"))
        #expect(!key.matches("X-Forwarded_For"))
        #expect(HeaderKey("a[").matches("A["))
        #expect(!HeaderKey("a[").matches("A{"))
    }

    @Test func firstAndRemove() {
        var headers = HeaderList([("Via", "1"), ("Host", "h"), ("via", "2")])
        #expect(headers.first(HeaderKey("VIA")) == "1")
        headers.remove(HeaderKey("vIa"))
        #expect(headers.count == 1 && headers["host"] == "h")
    }
}
