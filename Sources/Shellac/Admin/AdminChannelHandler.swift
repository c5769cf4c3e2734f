import NIOCore

/// One admin CLI connection: the challenge (with `-S`) or the banner on connect, `auth`, then
/// one response per request line.
final class AdminChannelHandler: ChannelInboundHandler {
    typealias InboundIn = String
    typealias OutboundOut = ByteBuffer

    private let commands: AdminCommands
    /// The secret file's contents; nil when no `-S` was given (no authentication).
    private let secret: [UInt8]?
    private var challenge = AdminChallenge.random()
    private var isAuthenticated: Bool

    init(commands: AdminCommands, secret: [UInt8]?) {
        self.commands = commands
        self.secret = secret
        self.isAuthenticated = secret == nil
    }

    func channelActive(context: ChannelHandlerContext) {
        if isAuthenticated {
            send(AdminResponse(.ok, AdminCommands.banner), context: context)
        } else {
            send(AdminResponse(.authenticate, challenge.body), context: context)
        }
        context.fireChannelActive()
    }

    /// A command waiting for its here-document (`cmd args << NONCE`): its words, the nonce and
    /// the text so far.
    private var hereDocument: (words: [String], nonce: String, text: String)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if var pending = hereDocument {
            // As varnishd: the document ends where the nonce ends a line; it is the last argument.
            guard line.hasSuffix(pending.nonce) else {
                pending.text += line + "\n"
                hereDocument = pending
                return
            }
            hereDocument = nil
            pending.text += line.dropLast(pending.nonce.count)
            send(commands.execute(pending.words + [pending.text]), context: context)
            return
        }
        let words: [String]
        // As varnishd: a leading '-' (a CLI script's "ignore errors") is dropped, and a line
        // that is then empty is a syntax error, not a line to skip.
        let start = line.drop { $0 == " " || $0 == "\t" }
        let dashed = start.first == "-"
        do {
            words = try AdminWords.split(dashed ? String(start.dropFirst()) : line)
        } catch {
            send(AdminResponse(.syntax, error.description), context: context)
            return
        }
        guard let command = words.first else {
            if dashed { send(AdminResponse(.syntax, "Empty CLI command."), context: context) }
            return
        }
        switch command {
        case "quit":
            send(AdminResponse(.close, "Closing CLI connection"), context: context, thenClose: true)
        case "auth":
            authenticate(words, context: context)
        case _ where !isAuthenticated:
            send(AdminResponse(.authenticate, challenge.body), context: context)
        case _ where words.count >= 3 && words[words.count - 2] == "<<" && !words[words.count - 1].isEmpty:
            hereDocument = (Array(words.dropLast(2)), words[words.count - 1], "")
        default:
            send(commands.execute(words), context: context)
        }
    }

    private func authenticate(_ words: [String], context: ChannelHandlerContext) {
        guard let secret else {
            send(AdminResponse(.ok, AdminCommands.banner), context: context)
            return
        }
        guard words.count == 2 else {
            send(AdminResponse(words.count < 2 ? .tooFew : .tooMany, "Usage: auth <response>"), context: context)
            return
        }
        if challenge.accepts(words[1], secret: secret) {
            isAuthenticated = true
            send(AdminResponse(.ok, AdminCommands.banner), context: context)
        } else {
            // A wrong answer gets a new challenge, as varnishd does; the connection stays open.
            isAuthenticated = false
            challenge = AdminChallenge.random()
            send(AdminResponse(.authenticate, challenge.body), context: context)
        }
    }

    private func send(_ response: AdminResponse, context: ChannelHandlerContext, thenClose: Bool = false) {
        var buffer = context.channel.allocator.buffer(capacity: AdminResponse.headerLength + response.body.utf8.count + 1)
        response.write(to: &buffer)
        let written = context.writeAndFlush(wrapOutboundOut(buffer))
        if thenClose {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is AdminLineDecoder.LineTooLong {
            send(AdminResponse(.communication, "Request line too long"), context: context, thenClose: true)
        } else {
            context.close(promise: nil)
        }
    }
}
