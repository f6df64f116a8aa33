import Foundation
import PolicyListCore
import Testing

/// `HostSyntax.isSchemaName` is a hand-written scanner (it runs for every MX of every snapshot); this checks it
/// against schema 0.1's own regular expression on names built to hit every branch.
@Suite("HostSyntax.isSchemaName agrees with schema 0.1's pattern")
struct HostSyntaxTests {
    static func regexAccepts(_ name: String, allowLeadingDot: Bool) throws -> Bool {
        let pattern = try NSRegularExpression(
            pattern: #"^\.?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9]{2,63}$"#)
        if !allowLeadingDot && name.hasPrefix(".") { return false }
        if name.utf8.count > 1024 + (name.hasPrefix(".") ? 1 : 0) { return false }
        let range = NSRange(name.startIndex..., in: name)
        return pattern.firstMatch(in: name, range: range) != nil
    }

    static let names: [String] = {
        var names = [
            "", ".", "..", "a", "a.b", "a.bc", "ab.c1", "example.com", ".example.com", "..example.com", "example.com.",
            "-a.com", "a-.com", "a-b.com", "a--b.com", "a.b-c", "a.b_c", "a_b.com", "A.COM", "xn--bcher-kva.de",
            "mx1.mail.example.co.uk", "*.example.com", "a..b.com", "a.com ", " a.com", "ä.com", "a.c0", "1.23",
            String(repeating: "a", count: 63) + ".com", String(repeating: "a", count: 64) + ".com",
            "a." + String(repeating: "b", count: 63), "a." + String(repeating: "b", count: 64),
            Array(repeating: "abcdefghi", count: 103).joined(separator: ".") + ".com",
        ]
        // Every string of up to five characters over a small alphabet that covers each character class.
        let alphabet = ["a", "9", "-", ".", "_"]
        var level = [""]
        for _ in 1...5 {
            level = level.flatMap { prefix in alphabet.map { prefix + $0 } }
            names += level
        }
        return names
    }()

    @Test("every probe name, with and without a leading dot allowed")
    func agrees() throws {
        for name in Self.names {
            for allowLeadingDot in [false, true] {
                #expect(
                    HostSyntax.isSchemaName(name, allowLeadingDot: allowLeadingDot)
                        == (try Self.regexAccepts(name, allowLeadingDot: allowLeadingDot)),
                    "\(name.debugDescription) allowLeadingDot: \(allowLeadingDot)")
            }
        }
    }
}
