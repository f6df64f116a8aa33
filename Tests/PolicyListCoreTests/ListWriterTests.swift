import Testing

@testable import PolicyListCore

/// The byte writers against the `JSONValue` paths they replaced: `ListWriter.bytes` must equal
/// `JSONWriter.pythonIndented(ListWriter.jsonValue(list))` and `PostfixMap.bytes` the `String`-sorting map writer
/// (kept below as the reference), for lists with every escape, empty parts and repeated domains.
@Suite struct ListWriterTests {
    static func time(_ text: String) -> ListTime { ReconcileRuleTests.time(text) }

    static let awkward = [
        "plain.example", "quote\"d", "back\\slash", "tab\there", "new\nline", "bell\u{07}", "del\u{7F}", "é.example",
        "日本.example", "emoji😀", "", "\u{0C}\u{08}\r",
    ]

    static func lists() -> [PolicyList] {
        var lists: [PolicyList] = []
        var base = ReconcileRuleTests.baseline()
        lists.append(base)
        base.author = nil
        lists.append(base)
        base.aliases = []
        base.policies = []
        lists.append(base)
        var weird = ReconcileRuleTests.baseline()
        weird.author = "EFF 😀 \"quoted\" \\ \u{01}"
        weird.aliases.append(PolicyAlias(name: "ünïcode", definition: PolicyDefinition(mode: .enforce, mxs: [])))
        weird.policies += Self.awkward.enumerated().map { index, text in
            switch index % 3 {
            case 0: PolicyEntry(domain: text, value: .explicit(PolicyDefinition(mode: .enforce, mxs: [text, ".x"])))
            case 1: PolicyEntry(domain: text, value: .alias(text))
            default: PolicyEntry(domain: text, value: .explicit(PolicyDefinition(mode: .testing, mxs: [])))
            }
        }
        lists.append(weird)
        var epoch = ReconcileRuleTests.baseline()
        epoch.timestamp =
            (try? TimestampParser.parse(.number("1589995512")).get()) ?? ReconcileRuleTests.time("2020-05-20T17:25:12Z")
        epoch.policies.append(epoch.policies[0])
        lists.append(epoch)
        return lists
    }

    @Test func bytesEqualThePythonIndentedValue() {
        for (index, list) in Self.lists().enumerated() {
            let reference = Array(JSONWriter.pythonIndented(ListWriter.jsonValue(list)).utf8)
            #expect(ListWriter.bytes(list) == reference, "list \(index)")
        }
    }

    @Test func appendStringEqualsWriteString() {
        for text in Self.awkward {
            for asciiOnly in [false, true] {
                var bytes: [UInt8] = []
                JSONWriter.appendString(text, asciiOnly: asciiOnly, into: &bytes)
                var string = ""
                JSONWriter.writeString(text, asciiOnly: asciiOnly, into: &string)
                #expect(bytes == Array(string.utf8), "\(text) asciiOnly \(asciiOnly)")
            }
        }
    }

    /// The map writer before it sorted packed bytes (the reference).
    static func referenceMap(_ list: PolicyList) throws(UnsafeFieldError) -> String {
        let effective = list.effectiveByDomain()
        let domains = list.policies.map(\.domain).sorted {
            Array($0.unicodeScalars.map(\.value)).lexicographicallyPrecedes($1.unicodeScalars.map(\.value))
        }
        let width = domains.map(\.count).max() ?? 0
        var lines: [String] = []
        for domain in domains {
            guard HostSyntax.isSafeField(domain) else { throw UnsafeFieldError(domain: domain, value: domain) }
            guard let definition = effective[domain] else { continue }
            let padded = domain + String(repeating: " ", count: width - domain.count) + " "
            switch definition.mode {
            case .enforce:
                for mx in definition.mxs where !HostSyntax.isSafeField(mx) {
                    throw UnsafeFieldError(domain: domain, value: mx)
                }
                lines.append(padded + " secure match=" + definition.mxs.joined(separator: ":"))
            case .testing:
                lines.append("# " + padded + "undefined due to testing policy")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func outcome(_ body: () throws(UnsafeFieldError) -> String) -> String {
        do { return try body() } catch { return "error: \(error.description)" }
    }

    @Test func postfixMapEqualsTheReference() {
        var random = ReconcileReferenceTests.SplitMix(state: 7)
        let names = [
            "a.example", "b.example", "A.example", "a-b.example", "ab.example", "a.exampl", "z", "mx1.a.example",
            ".a.example", "bad name", "bad\nline", "é.example", "aa",
        ]
        func name() -> String { names[Int.random(in: 0..<names.count, using: &random)] }
        var compared = 0
        var threw = 0
        for _ in 0..<3000 {
            var list = ReconcileRuleTests.baseline()
            if Bool.random(using: &random) {
                list.aliases.append(
                    PolicyAlias(name: "second", definition: PolicyDefinition(mode: .enforce, mxs: [name()])))
            }
            list.policies = (0..<Int.random(in: 0...8, using: &random)).map { _ in
                let domain = name()
                switch Int.random(in: 0..<4, using: &random) {
                case 0:
                    return PolicyEntry(domain: domain, value: .alias(Bool.random(using: &random) ? "google" : "gone"))
                case 1: return PolicyEntry(domain: domain, value: .alias("second"))
                default:
                    return PolicyEntry(
                        domain: domain,
                        value: .explicit(
                            PolicyDefinition(
                                mode: Bool.random(using: &random) ? .enforce : .testing,
                                mxs: (0..<Int.random(in: 0...2, using: &random)).map { _ in name() })))
                }
            }
            let expected = Self.outcome { () throws(UnsafeFieldError) in try Self.referenceMap(list) }
            #expect(Self.outcome { () throws(UnsafeFieldError) in try PostfixMap.text(list) } == expected)
            compared += 1
            if expected.hasPrefix("error: ") { threw += 1 }
        }
        #expect(threw > 100 && compared - threw > 100)
    }
}
