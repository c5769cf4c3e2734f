#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where `std.syslog()` writes: the system logger through syslog(3), with the priority the VCL
/// gave (facility plus level, e.g. `8 + 3` for user.err), as Varnish does.
enum SystemLog {
    static func write(priority: Int, text: String) {
        text.withCString { line in
            withVaList([line]) { vsyslog(Int32(truncatingIfNeeded: priority), "%s", $0) }
        }
    }
}
