/// The challenge-response authentication of varnishd's CLI: the server sends 32 random
/// lowercase letters; the client proves it knows the secret file's contents by answering
/// `auth` with the SHA-256 (hex) of challenge, newline, secret, challenge, newline.
public struct AdminChallenge: Sendable, Equatable {
    public let text: String

    public init(text: String) { self.text = text }

    /// A fresh challenge from the system's random source.
    public static func random() -> AdminChallenge {
        var generator = SystemRandomNumberGenerator()
        let letters = (0..<32).map { _ in Character(Unicode.Scalar(UInt8.random(in: 97...122, using: &generator))) }
        return AdminChallenge(text: String(letters))
    }

    /// The body of the `107` response that carries the challenge.
    public var body: String { text + "\n\nAuthentication required.\n" }

    /// The answer a client holding `secret` (the secret file's bytes) must send.
    public func response(secret: [UInt8]) -> String {
        var message = Array(text.utf8)
        message.append(0x0a)
        message += secret
        message += Array(text.utf8)
        message.append(0x0a)
        return SHA256.hexDigest(message)
    }

    /// True when `answer` is the response for `secret`, compared in constant time.
    public func accepts(_ answer: String, secret: [UInt8]) -> Bool {
        let expected = Array(response(secret: secret).utf8)
        let given = Array(answer.lowercased().utf8)
        guard expected.count == given.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        return difference == 0
    }

    /// Extracts the challenge from a `107` body; nil when it does not start with one.
    public init?(body: String) {
        let first = body.prefix(32)
        guard first.count == 32, first.allSatisfy({ $0.isASCII && $0.isLowercase }) else { return nil }
        self.text = String(first)
    }
}
