/// The one writer of `policy.json`: the publisher's exact byte format, Python's `json.dumps(obj, indent=2)`
/// with keys `timestamp, expires, version, author, policy-aliases, policies`, entry keys `mode, mxs`, no trailing
/// newline. Given the same list and timestamp strings it reproduces the published bytes, so the publisher's own
/// signatures verify our output.
public enum ListWriter {
    /// The list as a JSON value in the publisher's key order.
    public static func jsonValue(_ list: PolicyList) -> JSONValue {
        var top: [JSONMember] = [
            JSONMember("timestamp", timeValue(list.timestamp)),
            JSONMember("expires", timeValue(list.expires)),
            JSONMember("version", .string("0.1")),
        ]
        if let author = list.author { top.append(JSONMember("author", .string(author))) }
        top.append(
            JSONMember(
                "policy-aliases", .object(list.aliases.map { JSONMember($0.name, definitionValue($0.definition)) })))
        top.append(JSONMember("policies", .object(list.policies.map { JSONMember($0.domain, entryValue($0.value)) })))
        return .object(top)
    }

    /// The `policy.json` bytes: the bytes of `JSONWriter.pythonIndented(jsonValue(list))`, written straight into
    /// one buffer (a million-domain list is ~80 MB; building the `JSONValue` tree and a `String` first cost
    /// several copies of it and most of the time). `ListWriterTests` pins the two paths to the same bytes.
    public static func bytes(_ list: PolicyList) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(estimatedSize(list))
        out.append(contentsOf: "{\n  \"timestamp\": ".utf8)
        JSONWriter.appendString(timeText(list.timestamp), asciiOnly: true, into: &out)
        out.append(contentsOf: ",\n  \"expires\": ".utf8)
        JSONWriter.appendString(timeText(list.expires), asciiOnly: true, into: &out)
        out.append(contentsOf: ",\n  \"version\": \"0.1\",\n".utf8)
        if let author = list.author {
            out.append(contentsOf: "  \"author\": ".utf8)
            JSONWriter.appendString(author, asciiOnly: true, into: &out)
            out.append(contentsOf: ",\n".utf8)
        }
        out.append(contentsOf: "  \"policy-aliases\": ".utf8)
        if list.aliases.isEmpty {
            out.append(contentsOf: "{}".utf8)
        } else {
            out.append(contentsOf: "{\n".utf8)
            for (index, alias) in list.aliases.enumerated() {
                out.append(contentsOf: "    ".utf8)
                JSONWriter.appendString(alias.name, asciiOnly: true, into: &out)
                out.append(contentsOf: ": ".utf8)
                appendDefinition(alias.definition, into: &out)
                out.append(contentsOf: index + 1 < list.aliases.count ? ",\n".utf8 : "\n".utf8)
            }
            out.append(contentsOf: "  }".utf8)
        }
        out.append(contentsOf: ",\n  \"policies\": ".utf8)
        if list.policies.isEmpty {
            out.append(contentsOf: "{}".utf8)
        } else {
            out.append(contentsOf: "{\n".utf8)
            let last = list.policies.count - 1
            for (index, entry) in list.policies.enumerated() {
                out.append(contentsOf: "    ".utf8)
                JSONWriter.appendString(entry.domain, asciiOnly: true, into: &out)
                out.append(contentsOf: ": ".utf8)
                switch entry.value {
                case .explicit(let definition): appendDefinition(definition, into: &out)
                case .alias(let name):
                    out.append(contentsOf: "{\n      \"policy-alias\": ".utf8)
                    JSONWriter.appendString(name, asciiOnly: true, into: &out)
                    out.append(contentsOf: "\n    }".utf8)
                }
                out.append(contentsOf: index < last ? ",\n".utf8 : "\n".utf8)
            }
            out.append(contentsOf: "  }".utf8)
        }
        out.append(contentsOf: "\n}".utf8)
        return out
    }

    /// A definition as the value of a member at depth 2 (`policy-aliases.NAME`, `policies.DOMAIN`).
    static func appendDefinition(_ definition: PolicyDefinition, into out: inout [UInt8]) {
        out.append(contentsOf: "{\n      \"mode\": \"".utf8)
        out.append(contentsOf: definition.mode.rawValue.utf8)
        out.append(contentsOf: "\",\n      \"mxs\": ".utf8)
        if definition.mxs.isEmpty {
            out.append(contentsOf: "[]".utf8)
        } else {
            out.append(contentsOf: "[\n".utf8)
            for (index, mx) in definition.mxs.enumerated() {
                out.append(contentsOf: "        ".utf8)
                JSONWriter.appendString(mx, asciiOnly: true, into: &out)
                out.append(contentsOf: index + 1 < definition.mxs.count ? ",\n".utf8 : "\n".utf8)
            }
            out.append(contentsOf: "      ]".utf8)
        }
        out.append(contentsOf: "\n    }".utf8)
    }

    /// A first guess at the output size (the buffer still grows if it is short).
    static func estimatedSize(_ list: PolicyList) -> Int {
        var size = 256 + (list.author?.utf8.count ?? 0)
        for entry in list.policies.prefix(64) {
            size += 48 + entry.domain.utf8.count
            if case .explicit(let definition) = entry.value {
                for mx in definition.mxs { size += 12 + mx.utf8.count }
            }
        }
        let sampled = min(64, list.policies.count)
        return sampled == 0 ? size : size / sampled * list.policies.count + 4096
    }

    static func timeText(_ time: ListTime) -> String {
        switch time.form {
        case .rfc3339: time.raw
        case .epochSeconds: time.instant.format(offsetSeconds: 0, fractionDigits: nil)
        }
    }

    static func timeValue(_ time: ListTime) -> JSONValue {
        switch time.form {
        case .rfc3339: .string(time.raw)
        case .epochSeconds: .string(time.instant.format(offsetSeconds: 0, fractionDigits: nil))
        }
    }

    static func definitionValue(_ definition: PolicyDefinition) -> JSONValue {
        .object([JSONMember("mode", .string(definition.mode.rawValue)), JSONMember("mxs", .strings(definition.mxs))])
    }

    static func entryValue(_ value: PolicyValue) -> JSONValue {
        switch value {
        case .explicit(let definition): definitionValue(definition)
        case .alias(let name): .object([JSONMember("policy-alias", .string(name))])
        }
    }
}
