import ShellacCache

/// A private object (a pass, a hit-for-miss or hit-for-pass fetch) is kept in Transient, as
/// varnishd keeps it: its record and header section, then each piece of body, is one
/// allocation there (`SMA.Transient.c_req`, `c_bytes`, `g_bytes`). What it cost is given
/// back when its fetch is done with (the fetcher goes); by then the one reader has the bytes.
/// A charge Transient cannot take is counted (`c_fail`) and the object is delivered anyway:
/// varnishd would fail the fetch, but the bytes are in memory already here.
extension ObjectFetcher {
    func chargeTransient(_ bytes: Int) {
        guard bytes > 0, context.store.reserve(bytes, inArea: nil) != nil else { return }
        transientCharge += bytes
    }

    func releaseTransient() {
        guard transientCharge > 0 else { return }
        context.store.release(transientCharge, fromArea: context.store.transientArea)
        transientCharge = 0
    }
}
