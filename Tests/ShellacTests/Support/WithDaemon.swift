/// Runs `body` with the built `shellac` binary started with `arguments` in front of `origin`,
/// and stops both afterwards even when the body throws.
func withDaemon(
    origin: TestOrigin, _ arguments: [String], _ body: (ChildProcess) async throws -> Void
) async throws {
    let child = try ChildProcess.launch(ChildProcess.shellacExecutable(), arguments)
    do {
        try await body(child)
    } catch {
        await child.stop(grace: .seconds(2))
        await origin.shutdown()
        throw error
    }
    if child.isRunning { await child.stop(grace: .seconds(1)) }
    await origin.shutdown()
}
