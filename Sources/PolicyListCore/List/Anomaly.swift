/// How serious an anomaly is.
public enum Severity: String, Sendable, Hashable {
    /// Recorded; the input is still used.
    case warning
    /// The input (snapshot, entry or line) is rejected.
    case error
}

/// Something noticed about an input: a kebab-case kind, a severity and a detail naming where.
public struct Anomaly: Sendable, Hashable {
    /// Kebab-case kind, e.g. `duplicate-key`, `pinsets-field`, `uppercase-mx`.
    public let kind: String
    /// Warning or error.
    public let severity: Severity
    /// Human detail (includes the byte offset / line:column when known).
    public let detail: String
    /// Byte offset in the input, when known.
    public let offset: Int?
    /// The domain concerned, when there is one.
    public let domain: String?

    /// Creates an anomaly.
    public init(_ kind: String, _ severity: Severity, _ detail: String, offset: Int? = nil, domain: String? = nil) {
        self.kind = kind
        self.severity = severity
        self.detail = detail
        self.offset = offset
        self.domain = domain
    }
}

/// Named limits of the list reader.
public enum ListLimits {
    /// Largest snapshot accepted, in bytes.
    public static let maxSnapshotBytes = 64 << 20
    /// Largest list read back from the store (lists this program wrote or already accepted; a reconciled
    /// list of a million domains is ~100 MB in the publisher's style).
    public static let maxStoredListBytes = 1 << 30
    /// Most domains accepted in one snapshot.
    public static let maxDomains = 5_000_000
    /// Most MX patterns in one entry.
    public static let maxMXsPerEntry = 1_000
    /// Deepest JSON nesting accepted.
    public static let maxDepth = 16
}
