/// The varnishd parameters that change what vcc accepts, for `VCLCompiler.compile`. The
/// defaults keep the library lenient; a server passes its `vcc_*` parameters (varnishd's
/// own defaults are `unusedIsError: true`, `allowInlineC: false`).
public struct VCLCompileOptions: Sendable, Equatable {
    /// `vcc_err_unref`: an unused backend, probe, ACL or sub is an error ("Unused backend c,
    /// defined:"), as in varnishd by default; off, it is a warning.
    public var unusedIsError: Bool
    /// `vcc_allow_inline_c`: a `C{ }C` block is accepted when it holds nothing but C comments
    /// and white space (Shellac never runs C, so any other block is still an error).
    public var allowInlineC: Bool

    public init(unusedIsError: Bool = false, allowInlineC: Bool = false) {
        self.unusedIsError = unusedIsError
        self.allowInlineC = allowInlineC
    }
}
