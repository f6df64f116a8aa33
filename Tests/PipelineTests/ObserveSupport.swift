import Foundation
import PolicyListCore
import PolicyListPipeline

/// A fresh directory under the system temp dir, removed after `body` returns.
func withObserveTempDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("policylist-observe-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// A stage context on a new database in `dir`, with a fixed clock.
func observeContext(_ dir: String, name: String = "store.sqlite") throws -> StageContext {
    try StageContext(
        StageOptions(databasePath: dir + "/" + name, now: Instant(seconds: 1_700_000_000), quiet: true))
}

/// Writes `text` to `dir/name` and returns the path.
func writeFixture(_ dir: String, _ name: String, _ text: String) throws -> String {
    let path = dir + "/" + name
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

/// The repository root (for `data/`).
let observeRepositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A native observation line for `domain` at `at` with the given policy `mode` (valid unless `txt` fails).
func nativeLine(
    _ domain: String, at: String, mode: String = "enforce", mx: [String] = ["mx.example.net"], txtStatus: String = "ok",
    source: String = "live"
) -> String {
    let body =
        (["version: STSv1", "mode: \(mode)"] + mx.map { "mx: \($0)" } + ["max_age: 604800"])
        .joined(separator: "\\n") + "\\n"
    let records = txtStatus == "ok" ? #"["v=STSv1; id=1"]"# : "[]"
    return
        #"{"domain":"\#(domain)","observedAt":"\#(at)","source":"\#(source)","txt":{"status":"\#(txtStatus)","records":\#(records)},"policy":{"status":"ok","httpStatus":200,"contentType":"text/plain","body":"\#(body)"}}"#
}

/// A realistic `aggregated_scans` CSV export (`\copy aggregated_scans TO … CSV HEADER`): daily LOCAL rows at
/// UTC midnight (attempted 0) and TOP_DOMAINS rows from the offline scanner, plus one duplicate (time, source)
/// written later with other counts (first write wins) and one broken row.
let aggregatedScansCSV = """
    id,time,source,attempted,with_mxs,mta_sts_testing,mta_sts_enforce
    1,2019-06-14 00:00:00,LOCAL,0,1423,61,22
    2,2019-06-14 17:03:12.481516,TOP_DOMAINS,1000000,781233,812,402
    3,2019-06-15 00:00:00,LOCAL,0,1431,62,22
    4,2019-06-15 00:00:00,LOCAL,0,9999,0,0
    5,2019-06-16 00:00:00,LOCAL,zero,1433,62,23
    6,2019-06-16 00:00:00,LOCAL,0,1433,62,23

    """

/// The same statistics as Go JSON lines over the schema history (domain-spec §4.4): `DomainTotals` with
/// `Connected` and lists, the 2019-05 window with zero counts and full lists, and the current schema with a
/// local offset.
let aggregatedScansJSONL = """
    {"Time":"2019-02-01T10:00:00.123+01:00","Source":"top-1m.csv","Attempted":1000,"Connected":700,"MTASTSTesting":["a.com"],"MTASTSEnforce":["b.com","c.com"]}
    {"Time":"2019-05-20T00:00:00Z","Source":"TOP_DOMAINS","Attempted":10,"WithMXs":8,"MTASTSTesting":0,"MTASTSTestingList":["a.com","b.com"],"MTASTSEnforce":0,"MTASTSEnforceList":["c.com"]}
    {"Time":"2019-06-14T10:03:12.481516-07:00","Source":"TOP_DOMAINS","Attempted":1000000,"WithMXs":781233,"MTASTSTesting":812,"MTASTSTestingList":null,"MTASTSEnforce":402,"MTASTSEnforceList":null}
    {"Time":"not a time","Source":"TOP_DOMAINS","Attempted":1,"WithMXs":1,"MTASTSTesting":0,"MTASTSEnforce":0}

    """
