import PolicyListCore

/// `${NAME}` expansion over a set of variable definitions.
///
/// Grammar: `${NAME}` (NAME is `[A-Za-z_][A-Za-z0-9_]*`) is replaced by the variable's value; `$$` is one
/// literal `$`; any other `$` is kept as it is. A `${` that is not a well-formed reference is an error, as
/// is a reference to a variable that is not defined. Values defined in the pipeline file may themselves
/// reference variables (expanded on use, cycles are errors); `--var` values are taken literally.
public struct VariableExpander: Sendable {
    /// A variable's definition: its raw text and whether that text is expanded.
    public struct Definition: Sendable, Equatable {
        /// The text as defined.
        public var text: String
        /// Whether `${…}` references in `text` are expanded (file variables) or kept (`--var`, built-ins).
        public var expands: Bool
        /// Where it was defined, for messages (`variables.OUT`, `--var OUT`, `built-in`).
        public var origin: String

        /// Creates a definition.
        public init(text: String, expands: Bool, origin: String) {
            self.text = text
            self.expands = expands
            self.origin = origin
        }
    }

    /// Every definition by name.
    public let definitions: [String: Definition]

    /// Creates an expander over `definitions`.
    public init(definitions: [String: Definition]) {
        self.definitions = definitions
    }

    /// Whether `name` is a valid variable name.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isNameStart(first) else { return false }
        return name.utf8.allSatisfy { isNameStart($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || byte == UInt8(ascii: "_")
    }

    /// The names `text` references, in order of first appearance (malformed references are ignored here).
    public static func references(in text: String) -> [String] {
        var names: [String] = []
        _ = try? scan(text) { name throws(VariableError) in
            if !names.contains(name) { names.append(name) }
            return ""
        }
        return names
    }

    /// Expands `text`; `location` (`stages[1].run[2]`) is quoted in errors.
    public func expand(_ text: String, at location: String) throws(VariableError) -> String {
        var visiting: [String] = []
        return try expand(text, at: location, visiting: &visiting)
    }

    /// The final value of every defined variable, by name.
    public func resolvedValues() throws(VariableError) -> [String: String] {
        var out: [String: String] = [:]
        for name in definitions.keys.sorted() {
            out[name] = try value(of: name, at: definitions[name]?.origin ?? name)
        }
        return out
    }

    /// The final value of one variable.
    public func value(of name: String, at location: String) throws(VariableError) -> String {
        var visiting: [String] = []
        return try value(of: name, at: location, visiting: &visiting)
    }

    private func value(of name: String, at location: String, visiting: inout [String]) throws(VariableError)
        -> String
    {
        guard let definition = definitions[name] else {
            throw .unknown(name: name, location: location, known: definitions.keys.sorted())
        }
        guard definition.expands else { return definition.text }
        if let start = visiting.firstIndex(of: name) {
            throw .cycle(Array(visiting[start...]) + [name])
        }
        visiting.append(name)
        defer { visiting.removeLast() }
        return try expand(definition.text, at: definition.origin, visiting: &visiting)
    }

    private func expand(_ text: String, at location: String, visiting: inout [String]) throws(VariableError)
        -> String
    {
        try Self.scan(text, location: location) { name throws(VariableError) in
            try value(of: name, at: location, visiting: &visiting)
        }
    }

    /// Walks `text`, calling `replace` for each `${NAME}` and rebuilding the string.
    private static func scan(
        _ text: String, location: String = "", replace: (String) throws(VariableError) -> String
    ) throws(VariableError) -> String {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "$"), index + 1 < bytes.count else {
                out.append(byte)
                index += 1
                continue
            }
            let next = bytes[index + 1]
            if next == UInt8(ascii: "$") {
                out.append(byte)
                index += 2
            } else if next == UInt8(ascii: "{") {
                guard let close = bytes[(index + 2)...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw .malformed(text: text, location: location, reason: "\"${\" without a closing \"}\"")
                }
                let name = String(decoding: bytes[(index + 2)..<close], as: UTF8.self)
                guard isValidName(name) else {
                    throw .malformed(
                        text: text, location: location,
                        reason:
                            "\"${\(name)}\" is not a variable reference ([A-Za-z_][A-Za-z0-9_]*; write $$ for a literal $)"
                    )
                }
                out.append(contentsOf: try replace(name).utf8)
                index = close + 1
            } else {
                out.append(byte)
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A variable problem: a reference to an undefined variable, a cycle, or a malformed `${`.
public enum VariableError: ExitCodeError, Equatable {
    /// `${name}` at `location` names no variable.
    case unknown(name: String, location: String, known: [String])
    /// Variables defined in terms of each other.
    case cycle([String])
    /// `text` at `location` has a `${` that is not `${NAME}`.
    case malformed(text: String, location: String, reason: String)
    /// A `--var` argument that is not `KEY=VALUE`, or sets a reserved or unused name.
    case badOverride(argument: String, reason: String)

    /// Always `.usage` (64): the pipeline file or the command line is wrong; nothing has run.
    public var exitCode: ExitCode { .usage }

    /// One line naming the variable and where it was used.
    public var message: String {
        switch self {
        case .unknown(let name, let location, let known):
            "\(location): unknown variable ${\(name)} (defined: \(known.joined(separator: ", "))); "
                + "define it in \"variables\" or pass --var \(name)=VALUE"
        case .cycle(let names):
            "variables defined in terms of each other: " + names.map { "${\($0)}" }.joined(separator: " -> ")
        case .malformed(let text, let location, let reason):
            "\(location): \(reason) in \"\(text)\""
        case .badOverride(let argument, let reason):
            "--var \(argument): \(reason)"
        }
    }
}
