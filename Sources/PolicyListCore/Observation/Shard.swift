/// Partitioning of domains into shards, so N machines or N batch jobs can each observe or import one part.
///
/// **Stable forever**: the shard of a domain is FNV-1a 64 (offset basis 0xcbf29ce484222325, prime
/// 0x100000001b3) of the domain's UTF-8 bytes with ASCII letters lower-cased, modulo the shard count, plus
/// one. Shards written by one version must be mergeable with shards written by any other, so this function
/// never changes; a different partition would be a new, separately named function.
public enum Shard {
    /// The 1-based shard (1…`count`) of `domain` among `count` shards; `count` below 1 is treated as 1.
    public static func of(domain: String, count: Int) -> Int {
        guard count > 1 else { return 1 }
        return Int(fnv1a64(domain) % UInt64(count)) + 1
    }

    /// FNV-1a 64 of the ASCII-lower-cased UTF-8 bytes of `text`.
    public static func fnv1a64(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            let lowered = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            hash ^= UInt64(lowered)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// A `--shard K/N` selection: shard `index` (1-based) of `count`.
    public struct Selection: Sendable, Hashable, CustomStringConvertible {
        /// The 1-based shard kept.
        public let index: Int
        /// The number of shards.
        public let count: Int

        /// Creates a selection; `nil` unless 1 ≤ `index` ≤ `count`.
        public init?(index: Int, count: Int) {
            guard count >= 1, (1...count).contains(index) else { return nil }
            self.index = index
            self.count = count
        }

        /// Parses `K/N` (1 ≤ K ≤ N, N ≤ 1 000 000).
        public static func parse(_ text: String) -> Selection? {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
                let index = Int(parts[0]), let count = Int(parts[1]), count <= 1_000_000
            else { return nil }
            return Selection(index: index, count: count)
        }

        /// Whether `domain` (already normalised) belongs to this shard.
        public func contains(domain: String) -> Bool {
            Shard.of(domain: domain, count: count) == index
        }

        /// `K/N`.
        public var description: String { "\(index)/\(count)" }
    }
}
