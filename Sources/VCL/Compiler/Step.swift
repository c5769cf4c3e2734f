/// How a compiled statement ends: carry on, return an action, or leave a custom sub (`return;`).
enum Flow {
    case proceed
    case exit(VCLAction)
    case leave
}

/// A compiled statement or block.
typealias Step = @Sendable (VCLContext) -> Flow

/// A step held as a struct field, where a closure keeps its own calling convention.
private struct StepCall: Sendable {
    let run: Step
}

enum Steps {
    /// Runs steps in order; stops at a return, and fails the request if VCL failed at run time.
    static func block(_ steps: [Step]) -> Step {
        switch steps.count {
        case 0: return { _ in .proceed }
        case 1:
            let only = steps[0]
            return { context in
                let flow = only(context)
                if case .proceed = flow, context.failure != nil { return .exit(.fail) }
                return flow
            }
        default:
            // Each closure in a struct: an array of bare closures holds them at the generic
            // abstraction, and every call would go through a reabstraction thunk.
            let steps = steps.map(StepCall.init)
            return { context in
                // Indexing the buffer avoids retaining each closure as a `for step in steps` copy would.
                steps.withUnsafeBufferPointer { buffer in
                    for index in buffer.indices {
                        let flow = buffer[index].run(context)
                        if case .proceed = flow {
                            if context.failure != nil { return .exit(.fail) }
                            continue
                        }
                        return flow
                    }
                    return .proceed
                }
            }
        }
    }
}
