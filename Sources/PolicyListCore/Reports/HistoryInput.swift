/// An anomaly as stored with a version: where it was found (`content`, `sequence`, `signature`) and what.
public struct VersionAnomaly: Sendable, Hashable {
    /// `content`, `sequence` or `signature`.
    public let origin: String
    /// Kebab-case kind.
    public let kind: String
    /// `warning` or `error`.
    public let severity: String
    /// Human detail.
    public let detail: String

    /// Creates an anomaly record.
    public init(origin: String, kind: String, severity: String, detail: String) {
        self.origin = origin
        self.kind = kind
        self.severity = severity
        self.detail = detail
    }
}

/// One ingested list version, as the history report needs it.
public struct HistoryVersionInput: Sendable {
    /// File name or commit label.
    public let name: String
    /// SHA-256 of the original bytes.
    public let sha256: String
    /// Size of the original bytes.
    public let byteCount: Int
    /// Place in the publication order (nil: never published, an off-sequence version).
    public let pubSeq: Int?
    /// When it was published, when known.
    public let landed: Instant?
    /// The git commit, when known.
    public let commit: String?
    /// The parsed list.
    public let list: PolicyList
    /// The document's top-level keys in order (so that metadata-only changes such as a dropped field show).
    public let topLevelKeys: [String]
    /// Signature status (`good`, `bad`, `missing`, `unknown-key`, `error`, `not-checked`).
    public let signature: String
    /// When a good signature was made.
    public let signatureCreated: Instant?
    /// Stored anomalies of every origin.
    public let anomalies: [VersionAnomaly]

    /// Creates an input version.
    public init(
        name: String, sha256: String, byteCount: Int, pubSeq: Int?, landed: Instant?, commit: String?,
        list: PolicyList, topLevelKeys: [String], signature: String, signatureCreated: Instant?,
        anomalies: [VersionAnomaly]
    ) {
        self.name = name
        self.sha256 = sha256
        self.byteCount = byteCount
        self.pubSeq = pubSeq
        self.landed = landed
        self.commit = commit
        self.list = list
        self.topLevelKeys = topLevelKeys
        self.signature = signature
        self.signatureCreated = signatureCreated
        self.anomalies = anomalies
    }

    /// When the version became the current list: its landing time when known, else its `timestamp`.
    public var publishedAt: Instant { landed ?? list.timestamp.instant }
}
