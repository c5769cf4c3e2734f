/// Runs `body` with an origin and a Shellac in front of it, and stops both afterwards even
/// when the body throws.
func withProxy(
    origin: TestOrigin, parameters: [String] = [], storageBytes: Int = 64 << 20, threads: Int = 2,
    vclFile: String? = nil, keepBackends: Bool = false, _ body: (ShellacFixture) async throws -> Void
) async throws {
    do {
        try await withProxy(
            backendPort: origin.port, parameters: parameters, storageBytes: storageBytes, threads: threads,
            vclFile: vclFile, keepBackends: keepBackends, body)
    } catch {
        await origin.shutdown()
        throw error
    }
    await origin.shutdown()
}

/// Runs `body` with a Shellac in front of `backendPort` (say, one nothing listens on), and
/// stops it afterwards even when the body throws.
func withProxy(
    backendPort: Int, parameters: [String] = [], storageBytes: Int = 64 << 20, threads: Int = 2,
    vclFile: String? = nil, keepBackends: Bool = false, _ body: (ShellacFixture) async throws -> Void
) async throws {
    let proxy = try await ShellacFixture.start(
        backendPort: backendPort, parameters: parameters, storageBytes: storageBytes, threads: threads,
        vclFile: vclFile, keepBackends: keepBackends)
    do {
        try await body(proxy)
    } catch {
        await proxy.stop()
        throw error
    }
    await proxy.stop()
}
