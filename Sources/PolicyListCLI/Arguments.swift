import PolicyListCore

/// One option of a command's specification.
public struct OptionSpec: Sendable {
    /// Long name without dashes, e.g. `db`.
    public let name: String
    /// Value placeholder (`PATH`); nil for a flag.
    public let value: String?
    /// One-line help.
    public let help: String
    /// Whether the option may repeat.
    public let repeatable: Bool

    /// A flag (no value).
    public static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, value: nil, help: help, repeatable: false)
    }
    /// An option with a value.
    public static func option(_ name: String, _ value: String, _ help: String, repeatable: Bool = false)
        -> OptionSpec
    {
        OptionSpec(name: name, value: value, help: help, repeatable: repeatable)
    }
}

/// Options that every command takes.
public let commonOptions: [OptionSpec] = [
    .option("db", "PATH", "SQLite database (default ./policylist.sqlite)"),
    .flag("json", "print one JSON summary object on stdout; human text goes to stderr"),
    .option("now", "INSTANT", "RFC 3339 instant that replaces the system clock"),
    .flag("quiet", "no progress or informational messages on stderr"),
    .flag("help", "show this help"),
    .flag("version", "show the version"),
]

/// Parsed command-line arguments.
public struct ParsedArguments: Sendable {
    /// Option values by name (flags map to `["true"]`).
    public private(set) var values: [String: [String]] = [:]
    /// Positional arguments in order.
    public private(set) var positionals: [String] = []

    /// Parses `args` against `specs` (common options are always accepted).
    public init(_ args: [String], specs: [OptionSpec]) throws(UsageError) {
        let all = specs + commonOptions
        var index = 0
        var onlyPositionals = false
        while index < args.count {
            let arg = args[index]
            index += 1
            if onlyPositionals || !arg.hasPrefix("--") || arg == "-" {
                if !onlyPositionals, arg.hasPrefix("-"), arg != "-", arg.count > 1 {
                    throw UsageError("unknown option '\(arg)' (options are spelled --name)")
                }
                positionals.append(arg)
                continue
            }
            if arg == "--" {
                onlyPositionals = true
                continue
            }
            var name = String(arg.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let spec = all.first(where: { $0.name == name }) else {
                throw UsageError("unknown option '--\(name)'")
            }
            if spec.value == nil {
                if inline != nil { throw UsageError("option '--\(name)' takes no value") }
                values[name] = ["true"]
                continue
            }
            let value: String
            if let inline {
                value = inline
            } else {
                guard index < args.count else {
                    throw UsageError("option '--\(name)' needs a value (\(spec.value ?? "VALUE"))")
                }
                value = args[index]
                index += 1
            }
            if spec.repeatable {
                values[name, default: []].append(value)
            } else {
                if values[name] != nil { throw UsageError("option '--\(name)' given twice") }
                values[name] = [value]
            }
        }
    }

    /// Whether a flag was given.
    public func flag(_ name: String) -> Bool { values[name] != nil }
    /// The single value of an option.
    public func value(_ name: String) -> String? { values[name]?.last }
    /// Every value of a repeatable option.
    public func all(_ name: String) -> [String] { values[name] ?? [] }
    /// The database path (`--db`, default `./policylist.sqlite`).
    public var databasePath: String { value("db") ?? "./policylist.sqlite" }
    /// Whether `--json` was given.
    public var json: Bool { flag("json") }

    /// An integer option within bounds.
    public func int(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(UsageError) -> Int {
        guard let raw = value(name) else { return fallback }
        guard let parsed = Int(raw), range.contains(parsed) else {
            throw UsageError(
                "--\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(raw)'")
        }
        return parsed
    }
}

/// Renders a help text from a usage line, a description and option specs.
public func helpText(usage: [String], about: String, specs: [OptionSpec], footer: String = "") -> String {
    var out = "USAGE:\n" + usage.map { "  " + $0 }.joined(separator: "\n") + "\n\n" + about + "\n\nOPTIONS:\n"
    for spec in specs + commonOptions {
        let left = "  --" + spec.name + (spec.value.map { " " + $0 } ?? "")
        let pad = max(1, 30 - left.count)
        out += left + String(repeating: " ", count: pad) + spec.help + (spec.repeatable ? " (repeatable)" : "") + "\n"
    }
    out +=
        "\nEXIT CODES:\n  0 ok, 1 failure, 64 usage, 65 some input rejected, 69 unavailable, 74 I/O, 75 temporary (retry)\n"
    if !footer.isEmpty { out += "\n" + footer + "\n" }
    return out
}
