/// Byte-level mutations of a seed: bit flips, truncation, splicing, duplication, deletion and insertion of
/// tokens that have broken parsers before (huge numbers, deep nesting, NUL, invalid UTF-8, overlong lines).
public enum Mutator {
    /// Tokens inserted verbatim.
    static let nastyTokens: [[UInt8]] = {
        let text: [String] = [
            "1e99999", "-1e-99999", "-0", "123456789012345678901234567890", "9223372036854775808",
            "-9223372036854775809", "18446744073709551616", "1.7976931348623157e309", "0x10", "NaN", "Infinity",
            "01", "1.", ".5", "1e", "\\u0000", "\\ud800", "\\udfff\\ud800", "\\u00", "\\uZZZZ", "\\x41", "\"", "\\",
            ",,", "}}", "]]", "{}", "[]", "null", "true", "false", "\"\"", ":", ",\"", "\"\"\"", "\r\n", "\r", "\n\n",
            "\t", " ", "mode: enforce\n", "mode: none\n", "mode: testing\n", "max_age: 99999999999999999999\n",
            "max_age: -1\n", "mx: *.*.example\n", "mx: [1.2.3.4]\n", "mx: .example.com\n", "version: STSv1\n",
            "version: STSv2\n", ": ", "v=STSv1;", "v=STSv1", "id=", ";;", "id=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "postmaster@example.com", "\"policy-alias\": \"x\"", "\"mode\"", "\"mxs\"", "\"policies\"",
            "\"timestamp\": \"2020-01-01T00:00:00Z\"", "2020-02-30T25:61:61Z", "0000-00-00 00:00:00",
            "2020-04-15 07:20:35.123456", "queued", "added", "unvalidated", "failed", "t", "f", "*.", "..", "xn--",
            "../../etc/passwd", "$(touch /tmp/pwned)", "`id`", "; rm -rf /", "<script>", "&amp;", "|", "%s%n",
        ]
        var tokens = text.map { Array($0.utf8) }
        tokens += [
            [0x00], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF, 0xFE], [0xEF, 0xBB, 0xBF],
            [0xE2, 0x80, 0xA8], [0x80], [0xC3], [0xF0, 0x9F, 0x98], [0x7F], [0x1B, 0x5B, 0x32, 0x4A],
        ]
        for depth in [17, 65, 300, 5_000, 100_000] {
            tokens.append([UInt8](repeating: UInt8(ascii: "["), count: depth))
        }
        tokens.append(Array(String(repeating: "{\"a\":", count: 200).utf8))
        return tokens
    }()

    /// Bytes used for single-byte overwrites.
    static let interestingBytes: [UInt8] = [
        0x00, 0xFF, 0x7F, 0x80, 0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x0A, 0x0D, 0x3B, 0x3D, 0x20, 0x09,
        0x2E, 0x2A, 0x30, 0x39, 0x2D, 0x65,
    ]

    /// Applies one to four random mutations to `seed`; `others` are seeds of the same format for splicing.
    public static func mutate(_ seed: [UInt8], others: [[UInt8]], rng: inout SplitMix64) -> [UInt8] {
        var bytes = seed
        let rounds = 1 + Int(rng.next() % 4)
        for _ in 0..<rounds { mutateOnce(&bytes, others: others, rng: &rng) }
        return bytes
    }

    static func mutateOnce(_ bytes: inout [UInt8], others: [[UInt8]], rng: inout SplitMix64) {
        func position(_ inclusiveEnd: Bool = false) -> Int {
            let range = bytes.count + (inclusiveEnd ? 1 : 0)
            return range == 0 ? 0 : Int(rng.next() % UInt64(range))
        }
        func chunk() -> Range<Int> {
            let start = position(true)
            let length = Int(rng.next() % UInt64(min(64, bytes.count - start) + 1))
            return start..<(start + length)
        }
        switch rng.next() % 13 {
        case 0 where !bytes.isEmpty:  // bit flip
            let at = position()
            bytes[at] ^= 1 << UInt8(rng.next() % 8)
        case 1 where !bytes.isEmpty:  // interesting byte
            bytes[position()] = interestingBytes[Int(rng.next() % UInt64(interestingBytes.count))]
        case 2:  // truncation
            bytes.removeSubrange(position(true)...)
        case 3:  // deletion
            bytes.removeSubrange(chunk())
        case 4:  // duplication
            let range = chunk()
            bytes.insert(contentsOf: bytes[range], at: position(true))
        case 5 where !others.isEmpty:  // splice with another seed
            let other = others[Int(rng.next() % UInt64(others.count))]
            let cut = position(true)
            let from = other.isEmpty ? 0 : Int(rng.next() % UInt64(other.count))
            bytes = Array(bytes[..<cut]) + other[from...]
        case 6, 7, 8:  // nasty token
            bytes.insert(contentsOf: nastyTokens[Int(rng.next() % UInt64(nastyTokens.count))], at: position(true))
        case 9:  // a number run replaced by a huge number
            if let start = bytes.indices.dropFirst(position()).first(where: { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 })
            {
                var end = start
                while end < bytes.count && bytes[end] >= 0x30 && bytes[end] <= 0x39 { end += 1 }
                let huge = Array(String(repeating: "9", count: 20 + Int(rng.next() % 400)).utf8)
                bytes.replaceSubrange(start..<end, with: huge)
            }
        case 10:  // line operations: duplicate, delete or swap a line
            var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            guard lines.count > 1 else { return }
            let a = Int(rng.next() % UInt64(lines.count))
            let b = Int(rng.next() % UInt64(lines.count))
            switch rng.next() % 3 {
            case 0: lines.insert(lines[a], at: b)
            case 1: lines.remove(at: a)
            default: lines.swapAt(a, b)
            }
            bytes = Array(lines.joined(separator: [0x0A]))
        case 11:  // overlong line: mostly just past the 64 KiB policy limit, rarely past the 1 MiB line limit
            let length = rng.next() % 64 == 0 ? (1 << 20) + 1 + Int(rng.next() % 1024) : 1 + Int(rng.next() % 70_000)
            bytes.insert(contentsOf: [UInt8](repeating: UInt8(ascii: "a"), count: length), at: position(true))
        default:  // random bytes
            let count = 1 + Int(rng.next() % 8)
            bytes.insert(contentsOf: (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: position(true))
        }
    }
}
