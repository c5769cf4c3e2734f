/// `beresp.filters` and `resp.filters`: the fetch and delivery filter lists as Varnish names
/// them. Reading gives the list the server would use for the current `beresp`/`resp` state;
/// setting one makes it explicit (the server then follows the list, or fails the fetch with
/// an error when it names a chain it does not have).
extension VCLBackendResponse {
    /// The fetch filters for this response as it stands (Varnish's `vbf_default_filter_list`).
    public var defaultFilters: String {
        let encoding = headers["Content-Encoding"]
        let isGzip = encoding.map { $0.lowercased() == "gzip" } ?? false
        let isPlain = encoding == nil
        let gzip = doGzip && isPlain
        let gunzip = doGunzip && isGzip
        var list: [String] = []
        if gunzip || (isGzip && doESI) { list.append("gunzip") }
        if doESI && (gzip || (isGzip && !gunzip)) {
            list.append("esi_gzip")
        } else if doESI {
            list.append("esi")
        } else {
            if gzip { list.append("gzip") }
            if isGzip && !gunzip { list.append("testgunzip") }
        }
        return list.joined(separator: " ")
    }

    /// `beresp.filters`: the explicit list if VCL set one, else the default.
    public var filters: String { explicitFilters ?? defaultFilters }
}

extension VCLResponse {
    /// `resp.filters`: the explicit list if VCL set one, else the delivery filters that apply.
    public var filters: String {
        if let explicitFilters { return explicitFilters }
        var list: [String] = []
        if doESI { list.append("esi") }
        if gunzipFilter { list.append("gunzip") }
        if rangeFilter { list.append("range") }
        return list.joined(separator: " ")
    }

    /// Which delivery filters run: the explicit list's words, or the flags.
    public var effectiveFilters: (esi: Bool, gunzip: Bool, range: Bool) {
        guard let explicitFilters else { return (doESI, gunzipFilter, rangeFilter) }
        let words = explicitFilters.split(separator: " ")
        return (words.contains("esi"), words.contains("gunzip"), words.contains("range"))
    }
}
