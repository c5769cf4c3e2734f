import ArgumentParser
import Shellac

/// varnishd's `-s [name=]KIND[,options]`, repeatable. Shellac has one memory store: every
/// store given adds its size to it. `file` stores are memory stores of the size they name;
/// the `Transient` store (short-lived and uncacheable objects) is not kept apart.
enum StorageOption {
    static let defaultBytes = 256 << 20

    /// The memory store's size for all the `-s` given (256 MiB when none is).
    static func totalBytes(_ specs: [String]) throws -> Int {
        var total = 0
        var counted = 0
        for spec in specs {
            let (name, kind, options) = split(spec)
            // malloc and default take one size at most; file takes a path and a size (and,
            // in varnishd, a granularity and an advice, which mean nothing here).
            let shapeIsValid = kind == "file" ? (2...4).contains(options.count) && !options[0].isEmpty
                : (kind == "malloc" || kind == "default") && options.count <= 1
            guard shapeIsValid else {
                throw ValidationError("-s \(spec): expected [name=]malloc[,SIZE] (for example malloc,256m) or file,PATH,SIZE")
            }
            let sizeText = kind == "file" ? options[1] : options.first
            var bytes = defaultBytes
            if let sizeText {
                guard let parsed = Parameters.parseBytes(sizeText) else {
                    throw ValidationError("-s \(spec): expected a size such as 256m, got '\(sizeText)'")
                }
                bytes = parsed
            }
            if name?.lowercased() == "transient" { continue }
            total += bytes
            counted += 1
        }
        return counted == 0 ? defaultBytes : total
    }

    /// What the store does differently from what `specs` ask for.
    static func notices(_ specs: [String]) -> [String] {
        specs.compactMap { spec in
            let (name, kind, _) = split(spec)
            if name?.lowercased() == "transient" { return "-s \(spec): accepted; Shellac keeps no Transient store apart" }
            if kind == "file" { return "-s \(spec): a memory store of that size (no file store yet)" }
            return nil
        } + (stores(specs) > 1 ? ["-s: \(stores(specs)) stores given; Shellac keeps one memory store of their sizes together"] : [])
    }

    /// The stores given other than Transient.
    private static func stores(_ specs: [String]) -> Int {
        specs.filter { split($0).name?.lowercased() != "transient" }.count
    }

    private static func split(_ spec: String) -> (name: String?, kind: String?, options: [String]) {
        var text = Substring(spec)
        var name: String?
        if let equals = text.firstIndex(of: "=") {
            name = String(text[..<equals])
            text = text[text.index(after: equals)...]
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return (name, parts.first, Array(parts.dropFirst()))
    }
}
