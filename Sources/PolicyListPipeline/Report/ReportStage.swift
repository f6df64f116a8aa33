import PolicyListCLI
import PolicyListCore
import PolicyListIO
import PolicyListStore

/// `policylist-report`: reads the store, computes the figures in Core, writes the outputs atomically.
public enum ReportStage {
    /// The four files of one report.
    struct ReportFiles {
        var json: JSONValue
        var csv: String
        var document: ReportDocument
    }

    /// Writes `NAME.json`, `NAME.csv`, `NAME.md` and `NAME.html` into `directory`; returns the paths written.
    static func write(_ files: ReportFiles, name: String, to directory: String) throws -> [String] {
        do {
            try createDirectory(directory)
        } catch {
            throw PathError(path: directory, error)
        }
        let outputs: [(String, String)] = [
            ("\(name).json", JSONWriter.pythonIndented(files.json) + "\n"),
            ("\(name).csv", files.csv),
            ("\(name).md", MarkdownRenderer.render(files.document, htmlName: "\(name).html")),
            ("\(name).html", HTMLRenderer.render(files.document)),
        ]
        // Leftovers of a report killed while writing (the crash harness found them).
        removeStaleTemporaries(in: directory, names: outputs.map(\.0))
        var written: [String] = []
        for (file, text) in outputs {
            let path = directory.hasSuffix("/") ? directory + file : directory + "/" + file
            do {
                try writeFileAtomically(text, to: path)
            } catch {
                throw PathError(path: path, error)
            }
            written.append(path)
        }
        return written
    }

    /// Every ingested version with its parsed list, its stored anomalies and its raw bytes' metadata.
    package static func loadVersions(_ context: StageContext) throws -> [HistoryVersionInput] {
        let queries = ReportQueries(context.db)
        let anomalies = try queries.anomalies()
        return try queries.versions().map { record in
            let bytes = try context.blobs.get(record.sha256)
            guard let list = ListReader.read(bytes).list else {
                throw CommandError(
                    .dataError, "snapshot \(record.name) (\(record.sha256)): stored bytes no longer read as a list")
            }
            let keys = (try? StrictJSONReader.read(bytes))?.value.objectMembers?.map(\.key) ?? []
            return HistoryVersionInput(
                name: record.name, sha256: record.sha256, byteCount: record.size, pubSeq: record.pubSeq,
                landed: record.landed, commit: record.commit, list: list, topLevelKeys: keys,
                signature: record.signature, signatureCreated: record.signatureCreated.map { Instant(seconds: $0) },
                anomalies: anomalies[record.id] ?? [])
        }
    }

    /// `history --out DIR`.
    public static func history(_ context: StageContext, out: String) throws -> StageOutcome {
        let versions = try loadVersions(context)
        guard !versions.isEmpty else {
            throw CommandError(.dataError, "\(context.options.databasePath): no snapshots ingested; nothing to report")
        }
        let report = HistoryReport.build(versions, generatedAt: context.now)
        let written = try write(
            ReportFiles(json: report.json, csv: report.csv, document: report.document), name: "history", to: out)
        let s = report.summary
        let summary: JSONValue = .object([
            JSONMember("schemaVersion", 1), JSONMember("command", "report history"),
            JSONMember("out", .string(out)), JSONMember("files", .strings(written)),
            JSONMember("versions", .int(report.rows.count)), JSONMember("published", .int(s.publishedVersions)),
            JSONMember("offSequence", .int(s.offSequenceVersions)),
            JSONMember("first", .optional(s.firstTimestamp?.rfc3339)),
            JSONMember("last", .optional(s.lastTimestamp?.rfc3339)),
            JSONMember("finalDomains", .int(s.finalDomains)), JSONMember("lapses", .int(s.lapses.count)),
            JSONMember("lapseDays", ReportFormat.number(s.lapseSeconds / 86_400)),
        ])
        let human = [
            "report history: \(report.rows.count) versions (\(s.publishedVersions) published), final list "
                + "\(s.finalDomains) domains, \(s.lapses.count) lapses (\(ReportFormat.days(s.lapseSeconds)) days); "
                + "wrote \(written.count) files to \(out)"
        ]
        return StageOutcome(summary: summary, human: human, exitCode: .ok)
    }
}

extension ReportStage {
    /// `archive --out FILE.tar.gz`: every ingested version's original bytes and `.asc`, `index.json` and a README,
    /// as a reproducible gzip'd ustar archive (sorted members, fixed mtime, deterministic gzip header).
    public static func archive(_ context: StageContext, out: String) throws -> StageOutcome {
        let records = try ReportQueries(context.db).versions()
        guard !records.isEmpty else {
            throw CommandError(.dataError, "\(context.options.databasePath): no snapshots ingested; nothing to archive")
        }
        let versions = try loadVersions(context)
        let layout = ArchiveLayout.build(
            zip(versions, records).map { (version: $0.0, ascSHA256: $0.1.ascSHA256) })
        var entries = [
            TarEntry(name: "\(ArchiveLayout.root)/README.md", bytes: Array(layout.readme.utf8)),
            TarEntry(name: "\(ArchiveLayout.root)/index.json", bytes: Array(layout.index.utf8)),
        ]
        var signatures = 0
        for member in layout.members {
            entries.append(TarEntry(name: member.path, bytes: try context.blobs.get(member.sha256)))
            if let path = member.ascPath, let hash = member.ascSHA256 {
                entries.append(TarEntry(name: path, bytes: try context.blobs.get(hash)))
                signatures += 1
            }
        }
        entries.sort { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        let tar: [UInt8]
        do {
            tar = try writeTar(entries, mtime: Int(layout.mtime))
        } catch {
            throw PathError(path: out, error)
        }
        let bytes = gzip(tar)
        let directory = out.lastIndex(of: "/").map { String(out[..<$0]) } ?? ""
        if !directory.isEmpty {
            do { try createDirectory(directory) } catch { throw PathError(path: directory, error) }
        }
        if let slash = out.lastIndex(of: "/") {
            removeStaleTemporaries(
                in: directory.isEmpty ? "/" : directory, names: [String(out[out.index(after: slash)...])])
        } else {
            removeStaleTemporaries(in: ".", names: [out])
        }
        do {
            try writeFileAtomically(bytes, to: out)
        } catch {
            throw PathError(path: out, error)
        }
        let hash = SHA256.hex(bytes)
        let summary: JSONValue = .object([
            JSONMember("schemaVersion", 1), JSONMember("command", "report archive"), JSONMember("out", .string(out)),
            JSONMember("sha256", .string(hash)), JSONMember("bytes", .int(bytes.count)),
            JSONMember("versions", .int(layout.members.count)), JSONMember("signatures", .int(signatures)),
            JSONMember("members", .int(entries.count)),
        ])
        let human = [
            "report archive: \(layout.members.count) versions, \(signatures) signatures, \(entries.count) members; "
                + "wrote \(out) (\(bytes.count) bytes, sha256 \(hash))"
        ]
        return StageOutcome(summary: summary, human: human, exitCode: .ok)
    }
}

extension ReportStage {
    /// `deprecation --out DIR [--as-of INSTANT]`: the newest publication at or before `asOf` (else the newest
    /// published snapshot), the decisions of the published candidates, and adoption from the latest observations.
    public static func deprecation(_ context: StageContext, out: String, asOf: Instant?) throws -> StageOutcome {
        let queries = ReportQueries(context.db)
        let basis: DeprecationBasis
        var decisions: [DeprecationDecision] = []
        var freeze: Instant?
        if let publication = try queries.newestPublication(asOf: asOf) {
            let bytes = try context.blobs.get(publication.policySHA256)
            guard let list = ListReader.read(bytes).list else {
                throw CommandError(.dataError, "publication \(publication.id): stored bytes no longer read as a list")
            }
            basis = DeprecationBasis(
                kind: "publication", ref: "#\(publication.id) (\(publication.outDir))",
                sha256: publication.policySHA256,
                list: list)
            (decisions, freeze) = try queries.publishedDecisions(upTo: publication.candidateID)
        } else {
            let published = try loadVersions(context).filter { version in
                version.pubSeq != nil && (asOf.map { version.publishedAt <= $0 } ?? true)
            }
            guard let last = published.last else {
                throw CommandError(
                    .dataError,
                    "\(context.options.databasePath): no publication and no published snapshot"
                        + (asOf.map { " at or before \($0.rfc3339)" } ?? ""))
            }
            basis = DeprecationBasis(
                kind: "snapshot", ref: "#\(last.pubSeq ?? 0) \(last.name)", sha256: last.sha256, list: last.list)
        }
        let observedAsOf = asOf ?? context.now
        let report = DeprecationReport.build(
            basis: basis, decisions: decisions, freeze: freeze,
            observations: try queries.latestAdoption(asOf: observedAsOf),
            aggregated: try queries.aggregatedScans(asOf: observedAsOf), asOf: asOf, generatedAt: context.now)
        let written = try write(
            ReportFiles(json: report.json, csv: report.csv, document: report.document), name: "deprecation", to: out)
        let counts = report.adoptionCounts
        let needless = report.entries.filter { report.noLongerNeedsList($0.domain) }.count
        let summary: JSONValue = .object([
            JSONMember("schemaVersion", 1), JSONMember("command", "report deprecation"),
            JSONMember("out", .string(out)),
            JSONMember("files", .strings(written)), JSONMember("basis", .string(basis.kind)),
            JSONMember("asOf", .optional(asOf?.rfc3339)), JSONMember("domains", .int(report.entries.count)),
            JSONMember("addedAtFreeze", .int(report.domains("added-at-freeze").count)),
            JSONMember("removedOnRequest", .int(report.domains("removed-on-request").count)),
            JSONMember("refreshedToEnforce", .int(report.domains("refreshed-to-enforce").count)),
            JSONMember("refused", .int(report.domains("refused").count)),
            JSONMember("adoptionObserved", .bool(report.adoption != nil)),
            JSONMember("mtaStsEnforce", .int(counts[.enforce] ?? 0)),
            JSONMember("noLongerNeedList", .int(needless)),
        ])
        let human = [
            "report deprecation: \(basis.kind) \(basis.ref), \(report.entries.count) domains; "
                + "\(report.domains("added-at-freeze").count) added at the freeze, "
                + "\(report.domains("removed-on-request").count) removed on request, "
                + "\(report.domains("refreshed-to-enforce").count) refreshed to enforce; wrote \(written.count) files to \(out)"
        ]
        return StageOutcome(summary: summary, human: human, exitCode: .ok)
    }
}
