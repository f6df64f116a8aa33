import PolicyListStore

/// A canonical text dump of a database: every table's rows, sorted, without the columns that hold the wall
/// clock of a run (ingest/ledger timestamps) and without the run ledger. Two stores with the same dump hold the
/// same data.
enum StoreDump {
    /// Columns that record when something was done, not what.
    static let clockColumns: Set<String> = ["ingested_at", "recorded_at", "set_at", "created_at", "applied_at"]
    /// The runner's ledger: what ran when, not the pipeline's data.
    static let ledgerTables: Set<String> = ["runs", "run_stages"]

    static func dump(_ path: String) throws -> [String] {
        let db = try Database(path: path, mode: .readOnly)
        defer { db.close() }
        var lines: [String] = []
        let tables: [String] = try db.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        ).map { try $0.get(0) }
        for table in tables where !ledgerTables.contains(table) {
            let columns: [(String, String)] = try db.query(
                "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", [.text(table)]
            ).map { (try $0.get(0), try $0.get(1)) }
            let kept = columns.filter { !clockColumns.contains($0.0) }
            // BLOB columns (zlib data) compare by length: their key is the SHA-256 of the content.
            let parts = kept.map { name, type in
                type.uppercased() == "BLOB" ? "length(\"\(name)\")" : "quote(\"\(name)\")"
            }
            let sql = "SELECT \(parts.joined(separator: " || '|' || ")) FROM \"\(table)\" ORDER BY 1"
            lines.append("## \(table) (\(kept.map(\.0).joined(separator: ",")))")
            var rows: [String] = try db.query(sql).map { try $0.get(0) }
            rows.sort()
            lines += rows
        }
        return lines
    }
}
