/// The result of reading one snapshot: the list if it is usable, and every anomaly found.
public struct SnapshotReading: Sendable {
    /// The list, or nil when the snapshot is rejected.
    public let list: PolicyList?
    /// Every anomaly, warnings and errors, in the order found.
    public let anomalies: [Anomaly]
    /// Number of raw keys in `policies` (duplicates counted).
    public let rawPolicyKeys: Int

    /// The first error, which is why the snapshot was rejected.
    public var rejection: Anomaly? { anomalies.first { $0.severity == .error } }
    /// Distinct anomaly kinds of severity warning.
    public var warningKinds: Set<String> { Set(anomalies.filter { $0.severity == .warning }.map(\.kind)) }
}

/// Reads and validates a policy-list snapshot against schema 0.1 and the list's rules (accept, warn, reject),
/// keeping every string exactly as written.
public enum ListReader {
    /// Reads `bytes` as a `policy.json`.
    public static func read(_ bytes: [UInt8]) -> SnapshotReading {
        read(bytes, maxBytes: ListLimits.maxSnapshotBytes)
    }

    /// Reads a list back from the store: the size limit is ``ListLimits/maxStoredListBytes``.
    public static func readStored(_ bytes: [UInt8]) -> SnapshotReading {
        read(bytes, maxBytes: ListLimits.maxStoredListBytes)
    }

    /// Reads `bytes` with another size limit than ``ListLimits/maxSnapshotBytes``: for lists this program
    /// wrote itself (a reconciled candidate of a million domains is ~100 MB in the publisher's style).
    public static func read(_ bytes: [UInt8], maxBytes: Int) -> SnapshotReading {
        var state = ReadState(bytes: bytes, maxBytes: maxBytes)
        let list = state.run()
        return SnapshotReading(
            list: state.anomalies.contains { $0.severity == .error } ? nil : list, anomalies: state.anomalies,
            rawPolicyKeys: state.rawPolicyKeys)
    }
}

private struct ReadState {
    let bytes: [UInt8]
    var anomalies: [Anomaly] = []
    var rawPolicyKeys = 0
    /// Offsets of repeated keys inside `policies`, sorted (the JSON reader reports them): the later occurrences
    /// are skipped, so the entries need no set of their own to find them.
    var repeatedPolicyKeys: [Int] = []

    /// Whether the `policies` member whose key is at `offset` repeats an earlier key.
    func isRepeatedPolicyKey(_ offset: Int) -> Bool {
        if repeatedPolicyKeys.isEmpty { return false }
        var low = 0
        var high = repeatedPolicyKeys.count
        while low < high {
            let middle = (low + high) / 2
            if repeatedPolicyKeys[middle] < offset { low = middle + 1 } else { high = middle }
        }
        return low < repeatedPolicyKeys.count && repeatedPolicyKeys[low] == offset
    }

    /// Offsets where lines start, built on the first anomaly: `lineAndColumn` scans from byte 0, so calling it per
    /// anomaly made a list with many duplicate keys quadratic (10,000 repeats of one key: 27 s in a debug build).
    var lineStarts: [Int]?

    let maxBytes: Int

    init(bytes: [UInt8], maxBytes: Int) {
        self.bytes = bytes
        self.maxBytes = maxBytes
    }

    /// Positions asked for so far: the first few are counted straight from the bytes (most lists have a few
    /// anomalies, and building the index of every line start was 7 % of reading the real history); past
    /// ``countedPositions`` the index is built, so many anomalies stay O(log lines) each.
    var positionsAsked = 0
    static let countedPositions = 8
    /// Where the last counted position stopped (anomalies mostly come in byte order).
    var counted = StrictJSONReader.LineCount()

    /// `byte N (line L:C)`, as `StrictJSONReader.lineAndColumn` computes it.
    mutating func position(_ offset: Int) -> String {
        positionsAsked += 1
        if lineStarts == nil, positionsAsked <= Self.countedPositions {
            let found = bytes.withUnsafeBufferPointer {
                StrictJSONReader.lineAndColumn(of: offset, in: $0, from: counted)
            }
            counted = found.count
            return "byte \(offset) (line \(found.line):\(found.column))"
        }
        let starts: [Int]
        if let lineStarts {
            starts = lineStarts
        } else {
            var found = [0]
            bytes.withUnsafeBytes { buffer in
                // Eight bytes at a time: a word with no LF is skipped whole (the usual has-zero-byte test on
                // the word XOR 0x0A…0A).
                var index = 0
                let ones: UInt64 = 0x0101_0101_0101_0101
                let highs: UInt64 = 0x8080_8080_8080_8080
                while index + 8 <= buffer.count {
                    let word = buffer.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ (ones &* 0x0A)
                    if (word &- ones) & ~word & highs != 0 {
                        for at in index..<index + 8 where buffer[at] == 0x0A { found.append(at + 1) }
                    }
                    index += 8
                }
                while index < buffer.count {
                    if buffer[index] == 0x0A { found.append(index + 1) }
                    index += 1
                }
            }
            lineStarts = found
            starts = found
        }
        // The number of line starts at or before `offset` is the line; the last of them starts it.
        var low = 0
        var high = starts.count
        while low < high {
            let middle = (low + high) / 2
            if starts[middle] <= offset { low = middle + 1 } else { high = middle }
        }
        let line = max(1, low)
        return "byte \(offset) (line \(line):\(offset - starts[line - 1] + 1))"
    }

    mutating func warn(_ kind: String, _ detail: String, at offset: Int? = nil, domain: String? = nil) {
        let text = offset.map { position($0) + ": " + detail } ?? detail
        anomalies.append(Anomaly(kind, .warning, text, offset: offset, domain: domain))
    }

    mutating func reject(_ kind: String, _ detail: String, at offset: Int? = nil, domain: String? = nil) {
        let text = offset.map { position($0) + ": " + detail } ?? detail
        anomalies.append(Anomaly(kind, .error, text, offset: offset, domain: domain))
    }

    mutating func run() -> PolicyList? {
        guard bytes.count <= maxBytes else {
            reject("too-large", "\(bytes.count) bytes; the limit is \(maxBytes)")
            return nil
        }
        let document: JSONDocument
        do {
            document = try StrictJSONReader.read(bytes, maxDepth: ListLimits.maxDepth)
        } catch {
            anomalies.append(
                Anomaly("invalid-json", .error, error.description, offset: error.offset))
            return nil
        }
        for duplicate in document.duplicates {
            if duplicate.path == "policies" { repeatedPolicyKeys.append(duplicate.offset) }
            let place = duplicate.path.isEmpty ? "at the top level" : "in \(duplicate.path)"
            let first = position(duplicate.firstOffset)
            if duplicate.identical {
                warn(
                    "duplicate-key", "duplicate key \"\(duplicate.key)\" \(place) (same value as at \(first))",
                    at: duplicate.offset, domain: duplicate.path == "policies" ? duplicate.key : nil)
            } else {
                reject(
                    "duplicate-key-conflict",
                    "duplicate key \"\(duplicate.key)\" \(place) with a different value than at \(first)",
                    at: duplicate.offset, domain: duplicate.path == "policies" ? duplicate.key : nil)
            }
        }
        repeatedPolicyKeys.sort()
        guard case .object(let top) = document.value else {
            reject(
                "not-an-object", "the top-level value is \(document.value.typeDescription); expected an object", at: 0)
            return nil
        }
        var fields: [String: JSONMember] = [:]
        for member in top where fields[member.key] == nil { fields[member.key] = member }
        for member in top {
            switch member.key {
            case "timestamp", "expires", "version", "author", "policy-aliases", "policies": break
            case "pinsets":
                warn("pinsets-field", "retired top-level field \"pinsets\" (schema 0.1 forbids it)", at: member.offset)
            default:
                warn("unknown-field", "unknown top-level field \"\(member.key)\"", at: member.offset)
            }
        }
        let timestamp = readTime("timestamp", fields)
        let expires = readTime("expires", fields)
        if let timestamp, let expires {
            if expires.instant <= timestamp.instant {
                reject(
                    "expires-not-after-timestamp",
                    "expires \(expires.raw) is not after timestamp \(timestamp.raw)",
                    at: fields["expires"]?.offset)
            }
            if let a = timestamp.offsetSeconds, let b = expires.offsetSeconds, a != b {
                warn("mixed-offsets", "timestamp and expires use different UTC offsets", at: fields["expires"]?.offset)
            }
        }
        var version: String?
        if let member = fields["version"] {
            if case .string(let text) = member.value {
                version = text
                if text != "0.1" {
                    warn("unexpected-version", "version \"\(text)\"; expected \"0.1\"", at: member.offset)
                }
            } else {
                reject(
                    "invalid-version", "version is \(member.value.typeDescription); expected \"0.1\"", at: member.offset
                )
            }
        } else {
            warn("missing-version", "no \"version\" field (schema 0.1 requires \"0.1\")")
        }
        var author: String?
        if let member = fields["author"] {
            if case .string(let text) = member.value {
                author = text
            } else {
                reject(
                    "invalid-author", "author is \(member.value.typeDescription); expected a string", at: member.offset)
            }
        }
        let aliases = readAliases(fields["policy-aliases"])
        let policies = readPolicies(fields["policies"], aliases: aliases)
        guard let timestamp, let expires, let aliases, let policies else { return nil }
        return PolicyList(
            timestamp: timestamp, expires: expires, version: version, author: author, aliases: aliases,
            policies: policies)
    }

    mutating func readTime(_ name: String, _ fields: [String: JSONMember]) -> ListTime? {
        guard let member = fields[name] else {
            reject("missing-field", "required field \"\(name)\" is missing")
            return nil
        }
        switch TimestampParser.parse(member.value) {
        case .success(let time):
            for warning in time.warnings {
                let kind = String(warning.prefix { $0 != ":" })
                warn(kind, "\(name): \(warning)", at: member.offset)
            }
            if time.form == .epochSeconds {
                warn("timestamp-epoch-integer", "\(name) is integer epoch seconds \(time.raw)", at: member.offset)
            }
            if time.fractionDigits > 6 {
                warn(
                    "timestamp-sub-microsecond", "\(name) has \(time.fractionDigits) fraction digits",
                    at: member.offset)
            }
            return time
        case .failure(let error):
            reject("invalid-timestamp", "\(name) is \(error.reason)", at: member.offset)
            return nil
        }
    }

    mutating func readDefinition(
        _ value: JSONValue, at offset: Int, context: @autoclosure () -> String, domain: String?
    ) -> PolicyDefinition? {
        guard case .object(let members) = value else {
            reject(
                "invalid-entry", "\(context()) is \(value.typeDescription); expected an object", at: offset,
                domain: domain)
            return nil
        }
        var mode: ListMode?
        var mxs: [String]?
        var ok = true
        for member in members {
            switch member.key {
            case "mode":
                guard case .string(let text) = member.value else {
                    reject(
                        "invalid-mode",
                        "\(context()).mode is \(member.value.typeDescription); expected \"testing\" or \"enforce\"",
                        at: member.offset, domain: domain)
                    ok = false
                    continue
                }
                guard let parsed = ListMode(rawValue: text) else {
                    reject(
                        "invalid-mode",
                        "\(context()).mode \"\(text)\"; expected \"testing\" or \"enforce\" (exact case)",
                        at: member.offset, domain: domain)
                    ok = false
                    continue
                }
                mode = parsed
            case "mxs":
                mxs = readMXs(member, context: context(), domain: domain)
                if mxs == nil { ok = false }
            case "policy-alias":
                break
            default:
                warn(
                    "unknown-entry-field", "\(context()) has unknown field \"\(member.key)\"", at: member.offset,
                    domain: domain)
            }
        }
        if members.first(where: { $0.key == "mxs" }) == nil {
            reject("missing-mxs", "\(context()) has no \"mxs\"", at: offset, domain: domain)
            return nil
        }
        if mode == nil && ok && members.first(where: { $0.key == "mode" }) == nil {
            warn("missing-mode", "\(context()) has no \"mode\"; read as \"testing\"", at: offset, domain: domain)
            mode = .testing
        }
        guard ok, let mode, let mxs else { return nil }
        return PolicyDefinition(mode: mode, mxs: mxs)
    }

    mutating func readMXs(_ member: JSONMember, context: @autoclosure () -> String, domain: String?) -> [String]? {
        guard case .array(let items) = member.value else {
            reject(
                "invalid-mxs", "\(context()).mxs is \(member.value.typeDescription); expected an array of strings",
                at: member.offset, domain: domain)
            return nil
        }
        guard !items.isEmpty else {
            reject(
                "empty-mxs", "\(context()).mxs is empty; schema 0.1 requires at least one pattern", at: member.offset,
                domain: domain)
            return nil
        }
        guard items.count <= ListLimits.maxMXsPerEntry else {
            reject(
                "too-many-mxs", "\(context()).mxs has \(items.count) patterns; limit \(ListLimits.maxMXsPerEntry)",
                at: member.offset, domain: domain)
            return nil
        }
        var out: [String] = []
        out.reserveCapacity(items.count)
        // Repeats: an entry has one to a few patterns, so comparing with the ones already taken beats hashing
        // them into sets; sets only for long lists.
        let useSets = items.count > 16
        var seen = Set<String>()
        var seenFolded = Set<String>()
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item else {
                reject(
                    "invalid-mxs", "\(context()).mxs[\(index)] is \(item.typeDescription); expected a string",
                    at: member.offset, domain: domain)
                return nil
            }
            guard useSets ? seen.insert(text).inserted : !out.contains(text) else {
                reject(
                    "duplicate-mx", "\(context()).mxs repeats \"\(text)\" (schema: uniqueItems)", at: member.offset,
                    domain: domain)
                return nil
            }
            let foldedRepeat =
                useSets
                ? !seenFolded.insert(HostSyntax.lowercased(text)).inserted
                : out.contains { HostSyntax.equalsIgnoringASCIICase($0, text) }
            if foldedRepeat {
                warn(
                    "duplicate-mx-case", "\(context()).mxs repeats \"\(text)\" in another case", at: member.offset,
                    domain: domain)
            }
            let syntax = HostSyntax.classify(text, allowLeadingDot: true)
            if !syntax.isSchemaName {
                if text.utf8.contains(where: {
                    $0 < 0x21 || $0 == 0x7F || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "#")
                }) {
                    reject(
                        "invalid-mx",
                        "\(context()).mxs[\(index)] \(quoted(text)) contains whitespace, a control character, ',' or '#'",
                        at: member.offset, domain: domain)
                    return nil
                }
                warn(
                    "mx-not-schema-valid",
                    "\(context()).mxs[\(index)] \(quoted(text)) does not match the schema's pattern", at: member.offset,
                    domain: domain)
            } else if syntax.hasUppercase {
                warn(
                    "uppercase-mx", "\(context()).mxs[\(index)] \"\(text)\" has upper-case letters", at: member.offset,
                    domain: domain)
            }
            out.append(text)
        }
        return out
    }

    /// A `policies` key that cannot be a domain at all: empty, or with whitespace, a control character, `,` or
    /// `#` (rejected; a merely schema-invalid name is a warning).
    static func isInvalidDomainKey(_ domain: String) -> Bool {
        domain.isEmpty
            || domain.utf8.contains(where: {
                $0 < 0x21 || $0 == 0x7F || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "#")
            })
    }

    func quoted(_ text: String) -> String {
        JSONWriter.compact(.string(text))
    }

    mutating func readAliases(_ member: JSONMember?) -> [PolicyAlias]? {
        guard let member else {
            reject("missing-field", "required field \"policy-aliases\" is missing")
            return nil
        }
        guard case .object(let members) = member.value else {
            reject(
                "invalid-aliases", "policy-aliases is \(member.value.typeDescription); expected an object",
                at: member.offset)
            return nil
        }
        var out: [PolicyAlias] = []
        var names = Set<String>()
        var ok = true
        for alias in members where names.insert(alias.key).inserted {
            if case .object(let fields) = alias.value, fields.contains(where: { $0.key == "policy-alias" }) {
                reject(
                    "alias-of-alias", "policy-aliases.\(alias.key) refers to another alias (one level only)",
                    at: alias.offset)
                ok = false
                continue
            }
            if let definition = readDefinition(
                alias.value, at: alias.offset, context: "policy-aliases.\(alias.key)", domain: nil)
            {
                out.append(PolicyAlias(name: alias.key, definition: definition))
            } else {
                ok = false
            }
        }
        return ok ? out : nil
    }

    mutating func readPolicies(_ member: JSONMember?, aliases: [PolicyAlias]?) -> [PolicyEntry]? {
        guard let member else {
            reject("missing-field", "required field \"policies\" is missing")
            return nil
        }
        guard case .object(let members) = member.value else {
            reject(
                "invalid-policies", "policies is \(member.value.typeDescription); expected an object", at: member.offset
            )
            return nil
        }
        rawPolicyKeys = members.count
        guard members.count <= ListLimits.maxDomains else {
            reject(
                "too-many-domains", "\(members.count) domains; the limit is \(ListLimits.maxDomains)", at: member.offset
            )
            return nil
        }
        if members.isEmpty { warn("empty-policies", "policies is empty", at: member.offset) }
        let aliasNames = Set((aliases ?? []).map(\.name))
        var used = Set<String>()
        var out: [PolicyEntry] = []
        out.reserveCapacity(members.count)
        // Case-folded keys, kept only from the first key with an upper-case letter on: until then every key is
        // its own folded form, and exact repeats are skipped, so no folded collision can happen.
        var seenFolded: Set<String>?
        var ok = true
        for (position, entry) in members.enumerated() where !isRepeatedPolicyKey(entry.offset) {
            let domain = entry.key
            let syntax = HostSyntax.classify(domain)
            let hasUppercase = syntax.hasUppercase
            if !syntax.isSchemaName {
                if Self.isInvalidDomainKey(domain) {
                    reject(
                        "invalid-domain", "policies key \(quoted(domain)) is not a domain name", at: entry.offset,
                        domain: domain)
                    ok = false
                    continue
                }
                let kind = domain.hasSuffix(".") ? "domain-trailing-dot" : "domain-not-schema-valid"
                warn(
                    kind, "policies key \(quoted(domain)) does not match the schema's domain pattern", at: entry.offset,
                    domain: domain)
            } else if hasUppercase {
                warn(
                    "uppercase-domain", "policies key \"\(domain)\" has upper-case letters", at: entry.offset,
                    domain: domain)
            }
            if seenFolded == nil && hasUppercase {
                var folded = Set<String>()
                for earlier in members[..<position]
                where !isRepeatedPolicyKey(earlier.offset) && !Self.isInvalidDomainKey(earlier.key) {
                    folded.insert(earlier.key)
                }
                seenFolded = folded
            }
            if seenFolded?.insert(HostSyntax.lowercased(domain)).inserted == false {
                warn(
                    "duplicate-domain-case", "policies key \"\(domain)\" is listed again in another case",
                    at: entry.offset, domain: domain)
            }
            if case .object(let fields) = entry.value, let ref = fields.first(where: { $0.key == "policy-alias" }) {
                guard case .string(let name) = ref.value else {
                    reject(
                        "invalid-alias-reference",
                        "policies.\(domain).policy-alias is \(ref.value.typeDescription); expected a string",
                        at: ref.offset,
                        domain: domain)
                    ok = false
                    continue
                }
                if fields.count > 1 {
                    warn(
                        "alias-with-extra-fields",
                        "policies.\(domain) has policy-alias and other fields; the alias wins",
                        at: entry.offset, domain: domain)
                }
                if aliases != nil && !aliasNames.contains(name) {
                    reject(
                        "dangling-alias",
                        "policies.\(domain) refers to alias \"\(name)\", which policy-aliases does not define",
                        at: ref.offset,
                        domain: domain)
                    ok = false
                    continue
                }
                used.insert(name)
                out.append(PolicyEntry(domain: domain, value: .alias(name)))
                continue
            }
            if let definition = readDefinition(
                entry.value, at: entry.offset, context: "policies.\(domain)", domain: domain)
            {
                out.append(PolicyEntry(domain: domain, value: .explicit(definition)))
            } else {
                ok = false
            }
        }
        for alias in aliases ?? [] where !used.contains(alias.name) {
            warn("unused-alias", "alias \"\(alias.name)\" is not used by any domain")
        }
        return ok ? out : nil
    }
}
