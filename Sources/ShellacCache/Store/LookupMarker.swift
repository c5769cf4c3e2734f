/// What a marker object in the index tells lookups about its key, instead of holding a response.
/// Both come from a response that may not be shared; they differ in what the next request does.
public enum LookupMarker: Sendable, Equatable {
    /// Fetch privately without waiting on anyone (Varnish's hit-for-miss): a later cacheable
    /// response may still be stored.
    case hitForMiss
    /// Pass (Varnish's hit-for-pass): no busy object, no coalescing, nothing stored, the
    /// request sent as the client made it.
    case hitForPass
}
