/// The layout of the history archive: member names, `index.json` and the README. Pure: the caller supplies the
/// bytes and writes the tar.
public struct ArchiveLayout: Sendable {
    /// The archive's top-level directory.
    public static let root = "policylist-history"

    /// One version in the archive.
    public struct Member: Sendable, Equatable {
        /// The version's sha256 (of its original bytes).
        public let sha256: String
        /// Member path of the version's bytes.
        public let path: String
        /// Member path of its detached signature, when one was ingested.
        public let ascPath: String?
        /// SHA-256 of the signature bytes.
        public let ascSHA256: String?
    }

    /// The members, one per version, in publication order then off-sequence by name.
    public let members: [Member]
    /// `index.json` bytes.
    public let index: String
    /// `README.md` bytes.
    public let readme: String
    /// Modification time for every member: the newest `timestamp` among the versions (so it is fixed by the data).
    public let mtime: Int64

    /// Lays out the archive for `versions` (each with its `.asc` hash, if any).
    public static func build(_ versions: [(version: HistoryVersionInput, ascSHA256: String?)]) -> ArchiveLayout {
        var used: Set<String> = []
        var members: [Member] = []
        var entries: [JSONValue] = []
        for (version, asc) in versions {
            var file = safeFileName(version.name)
            if used.contains(file) { file = String(version.sha256.prefix(12)) + "-" + file }
            used.insert(file)
            let path = "\(root)/versions/\(file)"
            let ascPath = asc.map { _ in path + ".asc" }
            members.append(Member(sha256: version.sha256, path: path, ascPath: ascPath, ascSHA256: asc))
            let counts = version.list.modeCounts
            entries.append(
                .object([
                    JSONMember("file", .string("versions/\(file)")),
                    JSONMember("sha256", .string(version.sha256)),
                    JSONMember("bytes", .int(version.byteCount)),
                    JSONMember("asc", .optional(asc.map { _ in "versions/\(file).asc" })),
                    JSONMember("ascSha256", .optional(asc)),
                    JSONMember("seq", version.pubSeq.map { .int($0) } ?? .null),
                    JSONMember("published", .bool(version.pubSeq != nil)),
                    JSONMember("landed", .optional(version.landed?.rfc3339)),
                    JSONMember("commit", .optional(version.commit)),
                    JSONMember("timestamp", .string(version.list.timestamp.raw)),
                    JSONMember("expires", .string(version.list.expires.raw)),
                    JSONMember("domains", .int(EntryIndex(version.list).domains.count)),
                    JSONMember("enforce", .int(counts.enforce)),
                    JSONMember("testing", .int(counts.testing)),
                    JSONMember("aliasReferences", .int(counts.aliasReferences)),
                    JSONMember("aliases", .int(version.list.aliases.count)),
                    JSONMember("signature", .string(version.signature)),
                    JSONMember("signatureCreated", .optional(version.signatureCreated?.rfc3339)),
                    JSONMember(
                        "anomalies",
                        .array(
                            version.anomalies.map {
                                .object([
                                    JSONMember("origin", .string($0.origin)), JSONMember("kind", .string($0.kind)),
                                    JSONMember("severity", .string($0.severity)),
                                    JSONMember("detail", .string($0.detail)),
                                ])
                            })),
                ]))
        }
        let published = versions.filter { $0.version.pubSeq != nil }.count
        let index: JSONValue = .object([
            JSONMember("schemaVersion", 1),
            JSONMember("archive", .string(root)),
            JSONMember("versions", .int(versions.count)),
            JSONMember("published", .int(published)),
            JSONMember("entries", .array(entries)),
        ])
        let mtime = versions.map { $0.version.list.timestamp.instant.seconds }.max() ?? 0
        return ArchiveLayout(
            members: members, index: JSONWriter.pythonIndented(index) + "\n",
            readme: readme(count: versions.count, published: published), mtime: max(mtime, 0))
    }

    /// A flat, tar-safe file name: `/`, `\` and control characters become `_`; empty or dot names get a prefix.
    static func safeFileName(_ name: String) -> String {
        var out = String(
            String.UnicodeScalarView(
                name.unicodeScalars.map { $0 == "/" || $0 == "\\" || $0.value < 0x20 || $0.value == 0x7F ? "_" : $0 }))
        if out.isEmpty || out.hasPrefix(".") { out = "v" + out }
        return out
    }

    static func readme(count: Int, published: Int) -> String {
        """
        # STARTTLS policy list: history archive

        Every ingested version of the list (\(count) versions, \(published) of them published), exactly as it was
        ingested (original bytes), with its detached OpenPGP signature when one was found next to it.

        * `versions/NAME`: the original bytes of one version; `versions/NAME.asc`: its signature.
        * `index.json`: one entry per version, in publication order, then the versions that were never published
          (`"seq": null`): sha256, size, publication order and landing time, `timestamp`/`expires` as written,
          counts by mode, signature status at ingest, and the anomalies recorded for it.

        Verify a version (the signatures are detached and byte-exact):

            gpgv --keyring KEYRING.gpg versions/NAME.asc versions/NAME

        `sha256sum versions/NAME` gives the `sha256` in `index.json`. The archive is reproducible: members are
        sorted, owned by 0:0, mode 0644, and all carry the newest `timestamp` of the versions as their mtime.

        """
    }
}
