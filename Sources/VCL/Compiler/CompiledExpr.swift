/// A type-checked expression lowered to a closure over the request context.
enum CompiledExpr: Sendable {
    typealias Fn<T> = @Sendable (VCLContext) -> T

    case string(Fn<String?>)
    case int(Fn<Int64>)
    case real(Fn<Double>)
    case duration(Fn<Double>)
    case bytes(Fn<Int64>)
    case bool(Fn<Bool>)
    case ip(Fn<VCLIP?>)
    case time(Fn<Double>)
    case backend(Fn<String?>)
    case acl(VCLACL)
    case void(Fn<Void>)

    var type: VCLType {
        switch self {
        case .string: .string
        case .int: .int
        case .real: .real
        case .duration: .duration
        case .bytes: .bytes
        case .bool: .bool
        case .ip: .ip
        case .time: .time
        case .backend: .backend
        case .acl: .acl
        case .void: .void
        }
    }

    /// The expression converted to STRING, as VCL does for concatenation and string variables.
    var asString: Fn<String?>? {
        switch self {
        case .string(let f): return f
        case .int(let f): return { String(decimal: Int(f($0))) }
        case .real(let f): return { ValueFormat.real(f($0)) }
        case .duration(let f): return { ValueFormat.real(f($0)) }
        case .bytes(let f): return { String(f($0)) }
        case .bool(let f): return { f($0) ? "true" : "false" }
        case .ip(let f): return { f($0)?.description }
        case .time(let f):
            return { context in
                let time = f(context)
                // As VRT_TIME_string: a TIME gmtime cannot break down fails the VCL.
                guard ValueFormat.isFormattable(time) else {
                    context.fail("Unformatable VCL_TIME")
                    return nil
                }
                return ValueFormat.httpDate(time)
            }
        case .backend(let f): return { f($0) }
        case .acl(let acl): let name = acl.name; return { _ in name }
        case .void: return nil
        }
    }

    /// The expression as a BOOL condition, as Varnish's VCC folds them: BOOL itself, "is set"
    /// for STRING and BACKEND, non-zero for INT, positive for DURATION (REAL is not folded:
    /// comparing it to zero is left to the user, as in Varnish).
    var asBool: Fn<Bool>? {
        switch self {
        case .bool(let f): return f
        case .string(let f): return { f($0) != nil }
        case .backend(let f): return { f($0) != nil }
        case .int(let f): return { f($0) != 0 }
        case .duration(let f): return { f($0) > 0 }
        default: return nil
        }
    }

    /// The expression as a REAL (for INT, REAL); nil otherwise.
    var asReal: Fn<Double>? {
        switch self {
        case .real(let f): return f
        case .int(let f): return { Double(f($0)) }
        default: return nil
        }
    }
}
