import PolicyListCLI
import PolicyListCore
import PolicyListStore

/// `policylist-reconcile explain DOMAIN`: why a domain is (or is not) on the list, with these MXs.
public enum Explain {
    /// Builds the explanation from the stored decisions and the history.
    public static func run(_ context: StageContext, domain rawDomain: String) throws -> StageOutcome {
        let domain = HostSyntax.lowercased(rawDomain.hasSuffix(".") ? String(rawDomain.dropLast()) : rawDomain)
        let decisions = DecisionStore(context.db)
        let chain = try decisions.decisions(for: domain)
        var entryText: String?
        var entryJSON: JSONValue = .null
        var current: String = "no reconcile has run yet"
        if let newest = try decisions.newestCandidate() {
            let list = ListReader.readStored(try context.blobs.get(newest.listSHA256)).list
            let published =
                try context.db.scalar(
                    "SELECT 1 FROM publications WHERE candidate_id = ?", [.int(newest.id)], as: Int64.self) != nil
            let state =
                "candidate \(newest.id) as of \(newest.asOf.rfc3339)\(published ? ", published" : ", not yet published")"
            if let entry = list?.policies.first(where: { $0.domain == domain }), let list {
                let effective = list.effective(entry.value)
                switch entry.value {
                case .explicit(let definition):
                    entryText = "\(definition.mode.rawValue) [\(definition.mxs.joined(separator: ", "))]"
                case .alias(let name):
                    entryText =
                        "alias \(name) → \(effective.map { "\($0.mode.rawValue) [\($0.mxs.joined(separator: ", "))]" } ?? "?")"
                }
                entryJSON = .object([
                    JSONMember("mode", .optional(effective?.mode.rawValue)),
                    JSONMember("mxs", .strings(effective?.mxs ?? [])),
                    JSONMember("alias", .optional(entry.value.aliasName)),
                ])
                current = "on the list (\(state))"
            } else {
                current = "not on the list (\(state))"
            }
        }
        let first = try context.db.query(
            """
            SELECT s.name, s.pub_seq, s.timestamp_raw FROM snapshot_entries e JOIN snapshots s ON s.id = e.snapshot_id
            WHERE e.domain = ? AND s.pub_seq IS NOT NULL ORDER BY s.pub_seq LIMIT 1
            """, [.text(domain)]
        ).first
        var lines = ["\(domain): \(current)"]
        if let entryText { lines.append("  entry: \(entryText)") }
        if let first {
            lines.append(
                "  first published in snapshot \(try first.get(0, as: String.self)) (seq \(try first.get(1, as: Int64.self)), "
                    + "timestamp \(try first.get(2, as: String.self)))")
        }
        if chain.isEmpty { lines.append("  no decision mentions this domain") }
        for stored in chain {
            let decision = stored.decision
            lines.append(
                "  candidate \(stored.candidateID) as of \(stored.asOf.rfc3339)\(stored.published ? " (published)" : ""): "
                    + "\(decision.action.rawValue) by \(decision.rule): \(decision.detail)")
            for evidence in decision.evidence {
                lines.append(
                    "    \(evidence.kind) \(evidence.ref)\(evidence.at.map { " at \($0.rfc3339)" } ?? ""): \(evidence.summary)"
                )
            }
        }
        let summary: JSONValue = .object([
            JSONMember("schemaVersion", 1), JSONMember("command", "explain"), JSONMember("domain", .string(domain)),
            JSONMember("status", .string(current)), JSONMember("entry", entryJSON),
            JSONMember(
                "firstPublished",
                try first.map {
                    .object([
                        JSONMember("snapshot", .string(try $0.get(0))),
                        JSONMember("seq", .int(try $0.get(1, as: Int64.self))),
                        JSONMember("timestamp", .string(try $0.get(2))),
                    ])
                } ?? .null),
            JSONMember(
                "decisions",
                .array(
                    chain.map { stored in
                        .object([
                            JSONMember("candidate", .int(stored.candidateID)),
                            JSONMember("asOf", .string(stored.asOf.rfc3339)),
                            JSONMember("published", .bool(stored.published)),
                            JSONMember("action", .string(stored.decision.action.rawValue)),
                            JSONMember("rule", .string(stored.decision.rule)),
                            JSONMember("detail", .string(stored.decision.detail)),
                            JSONMember(
                                "evidence",
                                .array(
                                    stored.decision.evidence.map {
                                        .object([
                                            JSONMember("kind", .string($0.kind)), JSONMember("ref", .string($0.ref)),
                                            JSONMember("at", .optional($0.at?.rfc3339)),
                                            JSONMember("summary", .string($0.summary)),
                                        ])
                                    })),
                        ])
                    })),
        ])
        return StageOutcome(summary: summary, human: lines, exitCode: .ok)
    }
}

extension PolicyValue {
    var aliasName: String? {
        if case .alias(let name) = self { return name }
        return nil
    }
}
