import Testing
import VCL
@testable import ShellacCache

@Suite("Accept-Encoding normalisation (RFC 9110 §12.5.3)")
struct AcceptEncodingTests {
    @Test(arguments: [
        "gzip", "GZIP", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8, *;q=0.1", "deflate,gzip", "  gzip  ",
        "gzip;q=1", "gzip;q=1.0", "gzip;q=1.000", "gzip;q=0.001", "gzip; q=0.5", "gzip ;q=0.5", "gzip;Q=0.5",
        "x-gzip", "*", "*;q=0.5", "br, *", "identity, *;q=1", ",,gzip,,", "gzip, gzip;q=0",
        "gzip;level=9", "gzip;level=9;q=0.2", "br;q=0, gzip",
    ])
    func acceptsGzip(value: String) {
        #expect(normalizedAcceptEncoding(value) == "gzip")
    }

    @Test(arguments: [
        "", " ", "br", "deflate, br", "identity", "gzip;q=0", "gzip;q=0.0", "gzip;q=0.000", "gzip; q=0",
        "gzip;q=0, *", "*;q=0", "*;q=0, br", "gzipx", "xgzip", "gzip-ish", "gzip;q=1.5", "gzip;q=2",
        "gzip;q=1.001", "gzip;q=0.0001", "gzip;q=-1", "gzip;q=.5", "gzip;q=", "gzip;q", "gzip;q=0.5;q=1",
        "gzip q=1", "gzip;;", "gzip;q=0.5x", "\"gzip\"", "compress, x-compress", "gzip;q=0, x-gzip",
    ])
    func refusesGzip(value: String) {
        #expect(normalizedAcceptEncoding(value) == nil)
    }

    @Test func absentStaysAbsent() {
        #expect(normalizedAcceptEncoding(nil) == nil)
        #expect(AcceptEncoding.normalized(HeaderList()) == nil)
    }

    @Test func severalLines() {
        #expect(AcceptEncoding.normalized(HeaderList([("Accept-Encoding", "br"), ("accept-encoding", "gzip")])) == "gzip")
        #expect(AcceptEncoding.normalized(HeaderList([("Accept-Encoding", "gzip;q=0"), ("Accept-Encoding", "gzip")])) == nil)
    }

    @Test(arguments: [
        ("0", 0), ("0.", 0), ("0.5", 500), ("0.25", 250), ("0.125", 125), ("1", 1000), ("1.", 1000), ("1.000", 1000),
    ] as [(String, Int)])
    func qvalues(text: String, thousandths: Int) {
        #expect(AcceptEncoding.qvalue(text) == thousandths)
    }

    @Test(arguments: ["", "2", "0.1234", "1.1", "01", ".5", "0,5", "1.0000", "-0", "0.a"])
    func invalidQvalues(text: String) {
        #expect(AcceptEncoding.qvalue(text) == nil)
    }
}
