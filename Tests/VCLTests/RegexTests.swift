import Testing
@testable import VCL

@Suite struct RegexTests {
    @Test func staticFilePattern() throws {
        let regex = try VCLRegex(#"\.(png|gif|jpg|ico|jpeg|swf|css|js|mp3)$"#)
        for url in ["/a.png", "/b/c.gif", "/x.jpg", "/favicon.ico", "/p.jpeg", "/m.swf", "/s.css", "/app.js", "/song.mp3"] {
            #expect(regex.matches(url), "\(url)")
        }
        for url in ["/a.png?x=1", "/page.html", "/js", "/a.pngx", "/mp3", "", "/a.PNG", "/a.json"] {
            #expect(!regex.matches(url), "\(url)")
        }
        let scratch = VCLRegex.Scratch()
        #expect(regex.matches("/static/app.css", scratch: scratch))
        #expect(!regex.matches("/static/app.css.map", scratch: scratch))
    }

    @Test func compileErrorHasOffset() {
        #expect(throws: VCLRegex.CompileError.self) { try VCLRegex("a(b") }
        do {
            _ = try VCLRegex("ab)")
        } catch {
            #expect(error.offset == 2)
        }
    }

    @Test func substituteFirstAndAll() throws {
        let regex = try VCLRegex("o")
        #expect(regex.substitute(in: "foo boo", with: "0", all: false) == "f0o boo")
        #expect(regex.substitute(in: "foo boo", with: "0", all: true) == "f00 b00")
        #expect(regex.substitute(in: "xyz", with: "0", all: true) == "xyz")
    }

    @Test func backReferences() throws {
        let host = try VCLRegex("^(www\\.)?([^:]+)(:[0-9]+)?$")
        #expect(host.substitute(in: "www.example.com:8080", with: "\\2", all: false) == "example.com")
        #expect(host.substitute(in: "example.com", with: "[\\1|\\2|\\3]", all: false) == "[|example.com|]")
        let swap = try VCLRegex("(\\w+)=(\\w+)")
        #expect(swap.substitute(in: "a=1&b=2", with: "\\2=\\1", all: true) == "1=a&2=b")
        #expect(swap.substitute(in: "a=1", with: "\\0\\0", all: false) == "a=1a=1")
        #expect(swap.substitute(in: "a=1", with: "\\x", all: false) == "x")  // a backslash escapes any byte, as Varnish's
        #expect(swap.substitute(in: "a=1", with: "\\\\\\&", all: false) == "\\&")
    }

    @Test func emptyMatchesAdvance() throws {
        let regex = try VCLRegex("x*")
        #expect(regex.substitute(in: "abc", with: "-", all: true) == "-a-b-c-")
    }

    @Test func caseInsensitiveInline() throws {
        #expect(try VCLRegex("(?i)no-cache").matches("No-Cache"))
        #expect(try VCLRegex("private", caseInsensitive: true).matches("PRIVATE"))
    }

    @Test func concurrentMatching() async throws {
        let regex = try VCLRegex(#"\.(png|gif|jpg)$"#)
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    let scratch = VCLRegex.Scratch()
                    var count = 0
                    for i in 0..<2000 where regex.matches("/img/\(i).png", scratch: scratch) { count += 1 }
                    return count
                }
            }
            for await count in group { #expect(count == 2000) }
        }
    }
}
