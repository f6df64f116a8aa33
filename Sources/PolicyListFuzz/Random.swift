/// SplitMix64: a small, fast, seedable generator, so every fuzz case is reproducible from (seed, format, index).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The generator for case `index` of `format` in a campaign seeded with `seed`.
    public static func forCase(seed: UInt64, format: FuzzFormat, index: Int) -> SplitMix64 {
        var mixer = SplitMix64(seed: seed ^ (UInt64(format.ordinal) &* 0x1000_0000_01B3))
        for _ in 0..<(1 + format.ordinal) { _ = mixer.next() }
        return SplitMix64(seed: mixer.next() ^ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
    }
}
