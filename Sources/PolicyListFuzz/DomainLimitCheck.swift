import PolicyListCore

/// The `ListLimits.maxDomains` check, too slow for a debug test run: 5,000,001 distinct short keys fit under the
/// 64 MiB byte limit (about 50 MB), so the count limit is reachable and must be the error reported.
public enum DomainLimitCheck {
    /// Reads a list with one domain too many; returns the first error anomaly as `kind: detail`.
    public static func run() -> String {
        var bytes = Array(#"{"timestamp":"2020-01-01T00:00:00Z","expires":"2020-01-15T00:00:00Z","policies":{"#.utf8)
        bytes.reserveCapacity(52_000_000)
        for index in 0...ListLimits.maxDomains {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes += Array("\"\(String(index, radix: 36))\":0".utf8)
        }
        bytes += Array("}}".utf8)
        let reading = ListReader.read(bytes)
        let error = reading.anomalies.first { $0.kind == "too-many-domains" } ?? reading.rejection
        return error.map { "\($0.kind): \($0.detail) (\(bytes.count) bytes)" } ?? "accepted"
    }
}
