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

    /// The `policy.json` bytes.
    public static func bytes(_ list: PolicyList) -> [UInt8] {
        Array(JSONWriter.pythonIndented(jsonValue(list)).utf8)
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
