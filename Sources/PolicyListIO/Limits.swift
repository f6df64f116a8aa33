/// Named size limits for everything PolicyListIO reads; every bound on untrusted input lives here.
public struct Limits: Sendable, Equatable {
    /// Largest output one gzip stream may inflate to (default 256 MiB).
    public var maxDecompressedBytes: Int
    /// Largest inflated/compressed ratio accepted once the output passes `ratioCheckAfterBytes` (default 1000).
    public var maxCompressionRatio: Int
    /// Output size from which the ratio limit applies (default 1 MiB).
    public var ratioCheckAfterBytes: Int
    /// Largest single input file read from disk (default 64 MiB).
    public var maxInputFileBytes: Int
    /// Longest line `LineReader` yields (default 16 MiB).
    public var maxLineBytes: Int
    /// Largest single tar member (default 64 MiB).
    public var maxTarMemberBytes: Int
    /// Largest sum of tar member sizes in one archive (default 256 MiB).
    public var maxTarTotalBytes: Int
    /// Most members (of any kind) in one archive (default 100 000).
    public var maxTarMembers: Int

    /// Creates limits; every parameter defaults to the documented default.
    public init(
        maxDecompressedBytes: Int = 256 << 20,
        maxCompressionRatio: Int = 1000,
        ratioCheckAfterBytes: Int = 1 << 20,
        maxInputFileBytes: Int = 64 << 20,
        maxLineBytes: Int = 16 << 20,
        maxTarMemberBytes: Int = 64 << 20,
        maxTarTotalBytes: Int = 256 << 20,
        maxTarMembers: Int = 100_000
    ) {
        self.maxDecompressedBytes = maxDecompressedBytes
        self.maxCompressionRatio = maxCompressionRatio
        self.ratioCheckAfterBytes = ratioCheckAfterBytes
        self.maxInputFileBytes = maxInputFileBytes
        self.maxLineBytes = maxLineBytes
        self.maxTarMemberBytes = maxTarMemberBytes
        self.maxTarTotalBytes = maxTarTotalBytes
        self.maxTarMembers = maxTarMembers
    }

    /// The documented defaults.
    public static let `default` = Limits()
}

/// Formats a byte count for messages: whole MiB/KiB when exact, bytes otherwise.
func describeBytes(_ count: Int) -> String {
    if count >= 1 << 20 && count % (1 << 20) == 0 { return "\(count >> 20) MiB" }
    if count >= 1 << 10 && count % (1 << 10) == 0 { return "\(count >> 10) KiB" }
    return "\(count) bytes"
}
