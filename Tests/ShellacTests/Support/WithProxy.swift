/// Runs `body` with an origin and a Shellac in front of it, and stops both afterwards even
/// when the body throws.
func withProxy(
    origin: TestOrigin, parameters: [String] = [], storageBytes: Int = 64 << 20, vclFile: String? = nil,
    _ body: (ShellacFixture) async throws -> Void
) async throws {
    let proxy = try await ShellacFixture.start(
        backendPort: origin.port, parameters: parameters, storageBytes: storageBytes, vclFile: vclFile)
    do {
        try await body(proxy)
    } catch {
        await proxy.stop()
        await origin.shutdown()
        throw error
    }
    await proxy.stop()
    await origin.shutdown()
}
