import ArgumentParser
import Shellac
import ShellacCache

/// varnishd's `-s [name=]KIND[,options]`, repeatable: each is a memory store of its own, with
/// its own LRU list, named as given or `s0`, `s1`, … in order. `Transient` (short-lived and
/// uncacheable objects) is bounded too: by its `-s` size, or `defaultBytes`. `file` stores are
/// memory stores of the size they name.
enum StorageOption {
    static let defaultBytes = 256 << 20

    /// The stores `specs` ask for (one `s0` of `defaultBytes` when none is given).
    static func layout(_ specs: [String]) throws -> StorageLayout {
        var areas: [(name: String, capacity: Int)] = []
        var unnamed = 0
        for spec in specs {
            let (given, kind, written) = split(spec)
            // varnishd's `debug` store is malloc with test hooks (`lessspace` hands out one
            // byte less than asked); here it is a memory store like malloc.
            let options = kind == "debug" ? written.filter { $0 != "lessspace" } : written
            // malloc and default take one size at most; file takes a path and a size (and,
            // in varnishd, a granularity and an advice, which mean nothing here).
            let shapeIsValid = kind == "file" ? (2...4).contains(options.count) && !options[0].isEmpty
                : (kind == "malloc" || kind == "default" || kind == "debug") && options.count <= 1
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
            var name: String
            if let given {
                guard !given.isEmpty, given.utf8.allSatisfy({ $0 == 0x5F || $0 == 0x2D || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0 & ~0x20) })
                else { throw ValidationError("-s \(spec): a store name is letters, digits, - and _") }
                name = given
            } else {
                name = "s\(unnamed)"
                unnamed += 1
            }
            if given?.lowercased() == "transient" { name = StorageLayout.transient }
            guard !areas.contains(where: { $0.name == name }) else {
                throw ValidationError("-s \(spec): a store named \(name) is already defined")
            }
            areas.append((name, bytes))
        }
        if !areas.contains(where: { $0.name != StorageLayout.transient }) { areas.insert(("s0", defaultBytes), at: 0) }
        return StorageLayout(areas, transientCapacity: defaultBytes)
    }

    /// What the stores do differently from what `specs` ask for.
    static func notices(_ specs: [String]) -> [String] {
        specs.compactMap { spec in
            split(spec).kind == "file" ? "-s \(spec): a memory store of that size (no file store yet)" : nil
        }
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
