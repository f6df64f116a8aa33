import Glibc
import PolicyListCLI
import PolicyListCore
import PolicyListIO
import PolicyListStore

extension PublishStage {
    /// Writes every artifact atomically; `policy.json` and `SHA256SUMS` go last so a reader never sees a checksum
    /// file that does not match. Returns the file names written.
    static func writeFiles(
        _ context: StageContext, options: PublishOptions, list: PolicyList, bytes: [UInt8], signature: [UInt8]?,
        candidate: CandidateRecord, previous: PreviousList?, republication: Bool
    ) throws -> [String] {
        let out = options.outDir
        try createDirectory(out)
        try createDirectory(out + "/postfix")
        let store = DecisionStore(context.db)
        let postfix: [UInt8]
        do {
            postfix = try PostfixMap.bytes(list)
        } catch {
            throw CommandError(.dataError, error.description)
        }
        var files: [(String, [UInt8])] = []
        files.append(("postfix/tls_policy", postfix))
        let changelog = Changelog.markdown(
            list: list, previous: previous.map { ($0.timestamp.raw, $0.domains) },
            decisions: republication ? [] : try store.changes(candidate: candidate.id),
            republication: republication, publishedAt: context.now)
        files.append(("CHANGELOG.md", Array(changelog.utf8)))
        let manifest = try Manifest.json(
            context, list: list, bytes: bytes, signature: signature, candidate: candidate,
            rules: try store.ruleCounts(candidate: candidate.id), republication: republication)
        files.append(("manifest.json", Array((JSONWriter.pythonIndented(manifest) + "\n").utf8)))
        if let signature { files.append(("policy.json.asc", signature)) }
        files.append(("policy.json", bytes))
        let sums = files.sorted { $0.0 < $1.0 }.map { "\(SHA256.hex($0.1))  \($0.0)\n" }.joined()
        files.append(("SHA256SUMS", Array(sums.utf8)))
        // Leftovers of a publish that was killed while writing.
        removeStaleTemporaries(in: out, names: files.map(\.0))
        removeStaleTemporaries(in: out + "/postfix", names: ["tls_policy"])
        // Every file is written and fsynced before any is renamed: a full disk (or any write error) fails here
        // with the previous publication untouched. Then the renames, policy.json and SHA256SUMS last.
        var staged: [StagedFile] = []
        do {
            for (name, content) in files { staged.append(try StagedFile(content, for: out + "/" + name)) }
        } catch {
            for file in staged { file.discard() }
            throw error
        }
        for (index, file) in staged.enumerated() {
            do {
                try file.commit()
            } catch {
                for rest in staged[(index + 1)...] { rest.discard() }
                throw error
            }
        }
        if signature == nil { try removeIfPresent(out + "/policy.json.asc") }
        return files.dropLast().map(\.0).sorted() + ["SHA256SUMS"]
    }

    static func removeIfPresent(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw FileError(path: path, operation: "remove", errno: errno)
        }
    }
}

/// `CHANGELOG.md`: what changed since the previous publication and why (rule ids).
enum Changelog {
    static func markdown(
        list: PolicyList, previous: (timestamp: String, domains: Int)?, decisions: [Decision], republication: Bool,
        publishedAt: Instant
    ) -> String {
        let counts = list.modeCounts
        var out = "# policy.json \(list.timestamp.raw)\n\n"
        out += "Published \(publishedAt.rfc3339Seconds) by policylist \(policylistVersion). "
        out += "\(list.policies.count) domains: \(counts.enforce) enforce, \(counts.testing) testing, "
        out += "\(counts.aliasReferences) alias references. Expires \(list.expires.raw).\n\n"
        if let previous {
            out += "Previous list: timestamp \(previous.timestamp), \(previous.domains) domains.\n\n"
        }
        if republication {
            out += "Timestamp-only republication (R10): no entry changed.\n"
            return out
        }
        let sections: [(DecisionAction, String)] = [
            (.added, "Added"), (.removed, "Removed"), (.updated, "Updated"), (.refused, "Refused"),
        ]
        for (action, title) in sections {
            let rows = decisions.filter { $0.action == action }
            guard !rows.isEmpty else { continue }
            out += "## \(title) (\(rows.count))\n\n"
            for decision in rows {
                out += "- `\(markdownCode(decision.domain))` (\(decision.rule)): \(markdownText(decision.detail))\n"
            }
            out += "\n"
        }
        return out
    }

    /// Keeps a value inside an inline code span.
    static func markdownCode(_ text: String) -> String {
        String(text.map { $0 == "`" || $0 == "\n" ? "'" : $0 })
    }

    /// Escapes Markdown and HTML metacharacters in running text.
    static func markdownText(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\", "`", "*", "_", "[", "]", "<", ">", "#", "|": out += "\\\(character)"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }
}

/// `manifest.json`: inputs with hashes, rule counts, tool version.
enum Manifest {
    static func json(
        _ context: StageContext, list: PolicyList, bytes: [UInt8], signature: [UInt8]?, candidate: CandidateRecord,
        rules: [String: Int], republication: Bool
    ) throws -> JSONValue {
        var inputs: [JSONValue] = []
        if candidate.baselineKind == "snapshot",
            let row = try context.db.query(
                "SELECT name, sha256 FROM snapshots WHERE id = ?", [.int(candidate.baselineID)]
            ).first
        {
            inputs.append(
                .object([
                    JSONMember("kind", "baseline-snapshot"), JSONMember("name", .string(try row.get(0))),
                    JSONMember("sha256", .string(try row.get(1))),
                ]))
        } else if let row = try context.db.query(
            "SELECT timestamp_raw, policy_sha256 FROM publications WHERE id = ?", [.int(candidate.baselineID)]
        ).first {
            inputs.append(
                .object([
                    JSONMember("kind", "baseline-publication"), JSONMember("timestamp", .string(try row.get(0))),
                    JSONMember("sha256", .string(try row.get(1))),
                ]))
        }
        for row in try context.db.query("SELECT source, sha256 FROM queue_imports ORDER BY id DESC LIMIT 1") {
            inputs.append(
                .object([
                    JSONMember("kind", "queue"), JSONMember("source", .string(try row.get(0))),
                    JSONMember("sha256", .string(try row.get(1))),
                ]))
        }
        for row in try context.db.query("SELECT source, sha256 FROM request_files ORDER BY id") {
            inputs.append(
                .object([
                    JSONMember("kind", "requests"), JSONMember("source", .string(try row.get(0))),
                    JSONMember("sha256", .string(try row.get(1))),
                ]))
        }
        inputs += try ObservationFeed.manifestInputs(context, asOf: candidate.asOf)
        let counts = list.modeCounts
        var members: [JSONMember] = [
            JSONMember("schemaVersion", 1), JSONMember("tool", .string("policylist \(policylistVersion)")),
            JSONMember("publishedAt", .string(context.now.rfc3339)),
            JSONMember("timestamp", .string(list.timestamp.raw)), JSONMember("expires", .string(list.expires.raw)),
            JSONMember(
                "policy",
                .object([
                    JSONMember("file", "policy.json"), JSONMember("sha256", .string(SHA256.hex(bytes))),
                    JSONMember("bytes", .int(bytes.count)), JSONMember("domains", .int(list.policies.count)),
                    JSONMember("enforce", .int(counts.enforce)), JSONMember("testing", .int(counts.testing)),
                    JSONMember("aliasReferences", .int(counts.aliasReferences)),
                ])),
        ]
        if let signature {
            members.append(
                JSONMember(
                    "signature",
                    .object([
                        JSONMember("file", "policy.json.asc"), JSONMember("sha256", .string(SHA256.hex(signature))),
                    ])))
        }
        members += [
            JSONMember("republication", .bool(republication)),
            JSONMember(
                "reconcile",
                .object([
                    JSONMember("candidate", .int(candidate.id)), JSONMember("asOf", .string(candidate.asOf.rfc3339)),
                    JSONMember("freeze", .optional(candidate.freeze?.rfc3339)),
                    JSONMember("baseline", .string(candidate.baselineRef)),
                    JSONMember("added", .int(candidate.counts.added)),
                    JSONMember("removed", .int(candidate.counts.removed)),
                    JSONMember("updated", .int(candidate.counts.updated)),
                    JSONMember("refused", .int(candidate.counts.refused)),
                    JSONMember(
                        "rules", .object(rules.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) })),
                ])),
            JSONMember("inputs", .array(inputs)),
        ]
        return .object(members)
    }
}

extension ObservationFeed {
    /// Observation inputs for the manifest: per source, how many were considered and the newest instant.
    static func manifestInputs(_ context: StageContext, asOf: Instant) throws -> [JSONValue] {
        try context.db.query(
            """
            SELECT source, COUNT(*), MAX(observed_at_ns) FROM observations WHERE observed_at_ns <= ?
            GROUP BY source ORDER BY source
            """, [.int(Observations.nanoseconds(asOf) ?? Int64.max)]
        ).map { row in
            let newest: Int64 = try row.get(2)
            return .object([
                JSONMember("kind", "observations"), JSONMember("source", .string(try row.get(0))),
                JSONMember("count", .int(try row.get(1, as: Int64.self))),
                JSONMember(
                    "newest",
                    .string(
                        Instant(seconds: newest / 1_000_000_000, nanoseconds: Int32(newest % 1_000_000_000)).rfc3339)),
            ])
        }
    }
}
