import Foundation

/// The work directory (`-n`): where a running shellac leaves what `shellac adm -n`,
/// `shellac stat -n` and `shellac log -n` need to reach its admin CLI, as varnishd leaves it
/// for varnishadm. `_.admin` holds the CLI address on its first line and the secret file's
/// path (or nothing) on the second; `_.secret` is the secret made when no `-S` was given.
struct WorkDirectory {
    let path: String

    var adminFile: String { path + "/_.admin" }
    var secretFile: String { path + "/_.secret" }

    /// Makes a random secret in `_.secret` (readable by the owner only) and returns its path.
    func makeSecret() throws -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255) }
        let text = bytes.map { String($0, radix: 16) }.joined() + "\n"
        guard FileManager.default.createFile(atPath: secretFile, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        else { throw CocoaError(.fileWriteUnknown) }
        return secretFile
    }

    func publish(address: String, secretFile: String?) {
        let text = address + "\n" + (secretFile.map { URL(fileURLWithPath: $0).path } ?? "") + "\n"
        FileManager.default.createFile(atPath: adminFile, contents: Data(text.utf8))
    }

    /// The address and secret file a running shellac left, if any.
    func published() -> (address: String, secretFile: String?)? {
        guard let data = FileManager.default.contents(atPath: adminFile) else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard let address = lines.first, !address.isEmpty else { return nil }
        let secret = lines.count > 1 && !lines[1].isEmpty ? String(lines[1]) : nil
        return (String(address), secret)
    }

    func withdraw() {
        try? FileManager.default.removeItem(atPath: adminFile)
    }
}
