import ShellacCache

/// Where a request is in its life: the steps of Varnish's `cache_req_fsm.c`. Each step is a
/// method of `RequestStateMachine` (one file per step or small group of steps, named after
/// it) that does its work, asks the request's `RequestPolicy` what now, and returns the next
/// step. `RequestStateMachine.run(_:)` is the loop that goes from step to step.
///
/// ```
///            recv ──────────────┬──────────┬──────────┬──────────┐
///             │ hash            │ pass     │ pipe     │ purge    │ synth
///            hash               │          │          │          │
///             │                 │          │          │          │
///           lookup ─ hit-for-pass ─▶ pass   pipe ─▶ done     purge ──▶ synth
///        ┌────┼────────┐           │                           │       │
///       hit  miss   busy/grace     │                           │       │
///        │    │ fetch  │           │ fetch                     │       │
///        ▼    ▼        ▼           ▼                           ▼       ▼
///       deliver ◀──────────────────┘ ◀── (a failed fetch: synth 503)   deliver
///        │
///      transmit ⟲ (waiting for the object or the client)
///        │
///       done        restart (from any step VCL sends there) ─▶ recv
/// ```
enum RequestStep {
    /// `vcl_recv`: classify the request.
    case recv
    /// `vcl_hash`: make the cache key.
    case hash
    /// Look the key up in the store (the key made by `hash`).
    case lookup(CacheKey)
    /// `vcl_hit`: a fresh object was found, or a stale one inside its grace; then `refresh`
    /// is the busy object of its background fetch (nil when one already runs).
    case hit(CachedObject, refresh: CachedObject?)
    /// `vcl_miss`: nothing usable was found; `object` is the busy object to fetch into, and
    /// `stale` an expired object kept for a conditional fetch.
    case miss(CachedObject, stale: CachedObject?)
    /// `vcl_pass`: fetch for this client alone.
    case pass
    /// `vcl_pipe`: hand the connection to the backend.
    case pipe
    /// `vcl_purge`: remove the key's objects.
    case purge
    /// `vcl_synth`: answer with a response made here.
    case synth(status: Int, reason: String?)
    /// `vcl_deliver`: start delivering an object (cached, streaming or private).
    case deliver(CachedObject, isHit: Bool, isOwner: Bool)
    /// Send the delivered object's bytes as far as they have arrived and the client takes them.
    case transmit
    /// Send an ESI page: its verbatim bytes, and each include through a request of its own.
    case esi
    /// `return (restart)`: back to `recv` with the request as VCL left it.
    case restart
    /// Parked: a wake-up (an object's news, the client's writability) resumes the request.
    case waiting
    /// The response is written: the connection goes on to its next request.
    case done
}
