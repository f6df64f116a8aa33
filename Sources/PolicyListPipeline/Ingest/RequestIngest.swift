import PolicyListCLI
import PolicyListCore
import PolicyListIO
import PolicyListStore

/// `policylist-ingest queue` and `requests`.
public enum RequestIngest {
    /// Ingests a backend `domains` export. E-mail addresses stay only in the raw bytes kept in the blob store.
    public static func queue(_ context: StageContext, path: String) throws -> StageOutcome {
        let bytes = try readInputFile(path)
        let hash = SHA256.hex(bytes)
        let store = RequestStore(context.db)
        let source = baseName(path).hasSuffix(".gz") ? String(baseName(path).dropLast(3)) : baseName(path)
        if try store.hasQueueImport(sha256: hash) {
            return summary(
                "ingest queue", accepted: 0, alreadyKnown: 1, rejected: [], warnings: 0,
                detail: "\(path): already ingested")
        }
        let parsed = QueueExport.parse(bytes, source: source)
        let rejected = parsed.rejected.map { (path: path, error: "\(path): \($0.description)", location: $0.location) }
        try context.db.transaction { db in
            try context.blobs.put(bytes)
            for problem in rejected {
                try Rejections(db).record(
                    kind: "queue-row", source: path, location: problem.location, bytes: nil, error: problem.error,
                    at: context.nowText)
            }
            if !parsed.rows.isEmpty {
                try store.insertQueue(sha256: hash, source: source, rows: parsed.rows, at: context.nowText)
            }
        }
        for warning in parsed.warnings { context.info("\(path): \(warning.description)") }
        let states = Dictionary(grouping: parsed.rows, by: \.state).mapValues(\.count)
        let detail =
            "\(path): \(parsed.rows.count) rows ("
            + QueueState.allCases.map { "\(states[$0] ?? 0) \($0.rawValue)" }
            .joined(separator: ", ") + ")"
        return summary(
            "ingest queue", accepted: parsed.rows.count, alreadyKnown: 0,
            rejected: rejected.map { ($0.path, $0.error) },
            warnings: parsed.warnings.count, detail: detail)
    }

    /// Ingests `removals.json` / `edits.json` files.
    public static func requests(_ context: StageContext, paths: [String]) throws -> StageOutcome {
        var accepted = 0
        var known = 0
        var rejected: [(String, String)] = []
        var lines: [String] = []
        let store = RequestStore(context.db)
        for path in paths {
            let bytes: [UInt8]
            do {
                bytes = try readInputFile(path)
            } catch {
                rejected.append((path, error.message))
                continue
            }
            let hash = SHA256.hex(bytes)
            if try store.hasRequestFile(sha256: hash) {
                known += 1
                continue
            }
            let source = "\(baseName(path))@\(hash.prefix(8))"
            switch RequestFile.parse(bytes, source: source) {
            case .failure(let error):
                let message = "\(path): \(error.reason)"
                rejected.append((path, message))
                try Rejections(context.db).record(
                    kind: "request-file", source: path, location: nil, bytes: bytes, error: message, at: context.nowText
                )
            case .success(let parsed):
                try context.db.transaction { db in
                    try context.blobs.put(bytes)
                    try store.insertRequests(
                        sha256: hash, source: path, removals: parsed.removals, edits: parsed.edits, at: context.nowText)
                    for problem in parsed.rejected {
                        let message = "\(path): \(problem.description)"
                        rejected.append((path, message))
                        try Rejections(db).record(
                            kind: "request", source: path, location: problem.location, bytes: nil, error: message,
                            at: context.nowText)
                    }
                }
                accepted += parsed.removals.count + parsed.edits.count
                lines.append("\(path): \(parsed.removals.count) removals, \(parsed.edits.count) edits")
            }
        }
        return summary(
            "ingest requests", accepted: accepted, alreadyKnown: known, rejected: rejected, warnings: 0,
            detail: lines.joined(separator: "\n"))
    }

    static func summary(
        _ command: String, accepted: Int, alreadyKnown: Int, rejected: [(String, String)], warnings: Int, detail: String
    ) -> StageOutcome {
        let json: JSONValue = .object([
            JSONMember("schemaVersion", 1), JSONMember("command", .string(command)),
            JSONMember("accepted", .int(accepted)), JSONMember("alreadyKnown", .int(alreadyKnown)),
            JSONMember(
                "rejected", .array(rejected.map { .object(["path": .string($0.0), "error": .string($0.1)]) })),
            JSONMember("warnings", .int(warnings)),
        ])
        var human = rejected.map { "rejected: \($0.1)" }
        if !detail.isEmpty { human.append(detail) }
        human.append("\(command): \(accepted) accepted, \(alreadyKnown) already known, \(rejected.count) rejected")
        return StageOutcome(summary: json, human: human, exitCode: rejected.isEmpty ? .ok : .dataError)
    }
}

func baseName(_ path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? path
}
