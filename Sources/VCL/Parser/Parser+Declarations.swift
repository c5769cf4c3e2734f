extension Parser {
    /// Parses a whole file into declarations, splicing in `include`d files.
    mutating func parseFile() -> [Declaration] {
        var declarations: [Declaration] = []
        while current.kind != .endOfFile {
            do {
                declarations += try parseDeclaration()
            } catch {
                recoverAtTop()
            }
        }
        return declarations
    }

    mutating func parseDeclaration() throws -> [Declaration] {
        let token = current
        guard let keyword = token.identifier else {
            throw fail(token.location, "Expected 'vcl', 'import', 'include', 'backend', 'probe', 'acl' or 'sub', found \(token.display)")
        }
        advance()
        switch keyword {
        case "vcl":
            switch current.kind {
            case .real, .integer: break
            default: throw fail(current.location, "Expected a VCL version (4.0 or 4.1), found \(current.display)")
            }
            // As vcc: the version is written N.N, exactly three characters.
            let versionToken = advance()
            let file = versionToken.location.file
            let version = String(decoding: file.bytes[file.offset(of: versionToken.location)...]
                .prefix { Lexer.isDigit($0) || $0 == UInt8(ascii: ".") }, as: UTF8.self)
            let wellFormed = version.utf8.count == 3 && Array(version.utf8)[1] == UInt8(ascii: ".")
            if !wellFormed {
                sink.error(versionToken.location, "Don't play silly buggers with VCL version numbers (write 4.0 or 4.1)")
            }
            guard accept(";") else { throw fail(token.location, "Expected 'vcl N.N;' found no semi-colon") }
            if wellFormed && version != "4.0" && version != "4.1" {
                sink.error(versionToken.location, "VCL version \(version) not supported. (Shellac reads 4.0 and 4.1)")
            }
            return [.version(wellFormed ? version : "4.1", token.location)]
        case "import":
            let (name, location) = try expectIdentifier("a VMOD name")
            if current.isIdentifier("from") {
                advance()
                advance()
            }
            try expect(";", "after import")
            return [.import(name: name, location: location)]
        case "include":
            guard case .string(let path) = current.kind else {
                throw fail(current.location, "Expected a file name string after include, found \(current.display)")
            }
            let pathLocation = advance().location
            try expect(";", "after include")
            return parseInclude(path, at: pathLocation)
        case "backend":
            return [.backend(try parseBackend(at: token.location))]
        case "probe":
            let (name, _) = try expectIdentifier("a probe name")
            return [.probe(try parseProbeBody(name: name, at: token.location))]
        case "acl":
            return [.acl(try parseACL(at: token.location))]
        case "sub":
            let (name, location) = try expectIdentifier("a subroutine name")
            let body = try parseBlock()
            return [.sub(SubDecl(name: name, body: body, location: location))]
        case "director":
            throw fail(token.location, "Legacy 'director' declarations are not supported; use 'new x = directors.round_robin();' in vcl_init")
        default:
            throw fail(token.location, "Expected 'vcl', 'import', 'include', 'backend', 'probe', 'acl' or 'sub', found \(token.display)")
        }
    }

    mutating func parseInclude(_ path: String, at location: SourceLocation) -> [Declaration] {
        guard let includes else {
            sink.error(location, "include is not available here")
            return []
        }
        switch includes.load(path, from: location.file.name) {
        case .failure(let message):
            sink.error(location, message)
            return []
        case .success(let file):
            if includeStack.contains(file.name) {
                sink.error(location, "Recursive include of \"\(path)\"")
                return []
            }
            var parser = Parser(file: file, sink: sink, includes: includes, includeStack: includeStack,
                                allowInlineC: allowInlineC)
            return parser.parseFile()
        }
    }

    mutating func parseFields(owner: String) throws -> [FieldDecl] {
        try expect("{", "to open the \(owner)")
        var fields: [FieldDecl] = []
        while !accept("}") {
            if current.kind == .endOfFile { throw fail(current.location, "Unterminated \(owner), expected '}'") }
            do {
                let dotLocation = current.location
                try expect(".", "before a \(owner) field name")
                let (name, _) = try expectIdentifier("a field name")
                try expect("=", "after .\(name)")
                if name == "probe" && current.isSymbol("{") {
                    let probe = try parseProbeBody(name: "", at: current.location)
                    fields.append(FieldDecl(name: name, value: .probe(probe), location: dotLocation))
                    _ = accept(";")
                    continue
                }
                if case .blob(let bytes) = current.kind {
                    advance()
                    fields.append(FieldDecl(name: name, value: .blob(bytes), location: dotLocation))
                } else if case .string = current.kind, case .string = peek().kind {
                    var parts: [String] = []
                    while case .string(let text) = current.kind {
                        parts.append(text)
                        advance()
                    }
                    fields.append(FieldDecl(name: name, value: .strings(parts), location: dotLocation))
                } else {
                    let value = try parseExpression()
                    fields.append(FieldDecl(name: name, value: .expr(value), location: dotLocation))
                }
                try expect(";", "after the value of .\(name)")
            } catch {
                recoverInBlock()
            }
        }
        return fields
    }

    mutating func parseBackend(at location: SourceLocation) throws -> BackendDecl {
        let (name, _) = try expectIdentifier("a backend name")
        if (current.isIdentifier("none") || current.isIdentifier("None")) && peek().isSymbol(";") {
            // `backend NAME none;` (Varnish 6.4+): a backend that is never healthy.
            advance()
            advance()
            return BackendDecl(name: name, fields: [], location: location, isNone: true)
        }
        return BackendDecl(name: name, fields: try parseFields(owner: "backend"), location: location)
    }

    mutating func parseProbeBody(name: String, at location: SourceLocation) throws -> ProbeDecl {
        ProbeDecl(name: name, fields: try parseFields(owner: "probe"), location: location)
    }

    /// `acl NAME [+flag|-flag ...] { entry; ... }` as vcc reads it (`vcc_acl.c`). The flags
    /// are `log`, `pedantic` and `table`; only `pedantic` changes what Shellac does (`log`
    /// asks for `VCL_acl` records, `table` for another code layout).
    mutating func parseACL(at location: SourceLocation) throws -> ACLDecl {
        let (name, _) = try expectIdentifier("an ACL name")
        var pedantic = true
        if accept("(") {
            while !accept(")") {
                if current.kind == .endOfFile { throw fail(current.location, "Unterminated ACL flags") }
                advance()
            }
        }
        while current.isSymbol("+") || current.isSymbol("-") {
            let sign = advance()
            // The flag's name follows its sign without a space, as in `+log`.
            guard current.location.line == sign.location.line, current.location.column == sign.location.column + 1 else {
                throw fail(sign.location, "Expected a flag at: \(sign.vccText) (write +log, -pedantic, +table with no space)")
            }
            let (flag, flagLocation) = try expectIdentifier("an ACL flag")
            switch flag {
            case "pedantic": pedantic = sign.isSymbol("+")
            case "log", "table": break
            default: throw fail(flagLocation, "Unknown ACL flag: '\(flag)' (the flags are log, pedantic and table)")
            }
        }
        try expect("{", "to open the ACL")
        var entries: [ACLDecl.Entry] = []
        while !accept("}") {
            if current.kind == .endOfFile { throw fail(current.location, "Unterminated acl, expected '}'") }
            do {
                entries.append(try parseACLEntry())
            } catch {
                recoverInBlock()
            }
        }
        return ACLDecl(name: name, entries: entries, pedantic: pedantic, location: location)
    }

    /// `[!] [(] [!] "address[/mask]" [/ mask] [)] ;`: in parentheses, a name that does not
    /// resolve is skipped.
    private mutating func parseACLEntry() throws -> ACLDecl.Entry {
        var negated = accept("!")
        let optional = accept("(")
        if !negated { negated = accept("!") }
        guard case .string(var address) = current.kind else {
            throw fail(current.location, "Expected CSTR got \(current.vccText) (an address string in the ACL)")
        }
        let addressLocation = advance().location
        var mask: Int?
        if let slash = address.firstIndex(of: "/") {
            let digits = address[address.index(after: slash)...]
            guard digits.utf8.allSatisfy(Lexer.isDigit) else {
                throw fail(addressLocation, ".../mask is not numeric. (\"\(address)\")")
            }
            mask = digits.isEmpty ? 0 : Int(digits) ?? Int.max
            address = String(address[..<slash])
            if current.isSymbol("/") {
                throw fail(current.location, "/mask only allowed once. (the string already has one)")
            }
        } else if accept("/") {
            guard case .integer(let bits) = current.kind else {
                throw fail(current.location, "Expected CNUM got \(current.vccText) (a mask length after '/')")
            }
            advance()
            mask = Int(clamping: bits)
        }
        if optional { try expect(")", "after the optional ACL entry") }
        try expect(";", "after the ACL entry")
        return ACLDecl.Entry(negated: negated, address: address, maskBits: mask, optional: optional, location: addressLocation)
    }
}
