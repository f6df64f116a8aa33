import PolicyListCore

/// A pipeline file's definition error: which file, where in it (key path, byte offset) and what is wrong.
/// The file is the runner's command, so a wrong one is a usage error (exit 64): nothing has run.
public struct PipelineFileError: ExitCodeError, Equatable, CustomStringConvertible {
    /// The pipeline file as given on the command line.
    public let file: String
    /// The key path inside the file (`stages[2].run[1]`), empty for the document itself.
    public let keyPath: String
    /// Byte offset of the offending key or value, when known.
    public let offset: Int?
    /// What is wrong.
    public let problem: String

    /// Creates an error.
    public init(file: String, keyPath: String, offset: Int? = nil, problem: String) {
        self.file = file
        self.keyPath = keyPath
        self.offset = offset
        self.problem = problem
    }

    /// Always `.usage` (64).
    public var exitCode: ExitCode { .usage }
    /// `"pipelines/x.json: byte 120: stages[0]: unknown key \"rnu\" (…)"`.
    public var message: String {
        var parts = [file]
        if let offset { parts.append("byte \(offset)") }
        if !keyPath.isEmpty { parts.append(keyPath) }
        return parts.joined(separator: ": ") + ": " + problem
    }
    /// Same as `message`.
    public var description: String { message }
}

/// One stage of a pipeline file, as written (variables not yet expanded).
public struct PipelineStage: Sendable, Equatable {
    /// The stage's name: unique in the file, `[a-z0-9][a-z0-9._-]*`; used by `--from` and the `[name]` prefix.
    public var name: String
    /// What the stage does, for people.
    public var description: String?
    /// The command: the executable and its arguments, each element one argument (never a shell line).
    public var run: [String]
    /// Exit codes that count as success (default `[0]`); any other ends the run.
    public var allowExitCodes: [Int32]
    /// Files that must exist after the stage succeeded (variables allowed); a missing one fails the stage.
    public var expectFiles: [String]
    /// Overrides the file's `standardOptions` for this stage.
    public var standardOptions: Bool?
    /// Overrides the file's `passNow` for this stage.
    public var passNow: Bool?
}

/// A parsed and validated pipeline file (`schemaVersion` 1).
public struct PipelineFile: Sendable, Equatable {
    /// The only schema version this build reads.
    public static let schemaVersion = 1
    /// The pipeline's name (recorded in the ledger).
    public var name: String
    /// What the pipeline does, for people.
    public var description: String?
    /// Variables the file defines, in document order (values may reference other variables).
    public var variables: [(name: String, value: String)]
    /// Whether stages get `--db ${DB} --json` appended (default true).
    public var standardOptions: Bool
    /// Whether stages get `--now ${NOW}` appended (default false).
    public var passNow: Bool
    /// The stages, in the order they run.
    public var stages: [PipelineStage]

    /// Equal when every field is equal (variables compared in order).
    public static func == (lhs: PipelineFile, rhs: PipelineFile) -> Bool {
        lhs.name == rhs.name && lhs.description == rhs.description
            && lhs.variables.map(\.name) == rhs.variables.map(\.name)
            && lhs.variables.map(\.value) == rhs.variables.map(\.value) && lhs.standardOptions == rhs.standardOptions
            && lhs.passNow == rhs.passNow && lhs.stages == rhs.stages
    }

    /// Variables the runner defines itself; a file or `--var` cannot set them.
    public static let reservedVariables: Set<String> = ["DB", "NOW"]
    /// Options the runner appends; a stage that appends them must not also spell them.
    static let standardOptionNames = ["--db", "--json", "--now"]

    /// Reads a pipeline file strictly: valid JSON without duplicate keys, known keys only, right types.
    /// `file` is only used in error messages.
    public static func parse(_ bytes: [UInt8], file: String) throws(PipelineFileError) -> PipelineFile {
        let document: JSONDocument
        do {
            document = try StrictJSONReader.read(bytes)
        } catch {
            throw PipelineFileError(file: file, keyPath: "", offset: error.offset, problem: error.reason)
        }
        if let duplicate = document.duplicates.first {
            throw PipelineFileError(
                file: file, keyPath: duplicate.path, offset: duplicate.offset,
                problem: "duplicate key \"\(duplicate.key)\" (first at byte \(duplicate.firstOffset))")
        }
        var reader = Reader(file: file)
        return try reader.pipeline(document.value)
    }

    /// Whether `text` is a valid stage or pipeline name.
    static func isValidName(_ text: String) -> Bool {
        guard let first = text.utf8.first, isLowerAlnum(first), text.utf8.count <= 64 else { return false }
        return text.utf8.allSatisfy {
            isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

/// Walks the JSON value with a key path, so every error says where it is.
private struct Reader {
    let file: String

    func fail(_ path: String, _ offset: Int?, _ problem: String) -> PipelineFileError {
        PipelineFileError(file: file, keyPath: path, offset: offset, problem: problem)
    }

    func object(_ value: JSONValue, _ path: String, _ offset: Int?, known: [String]) throws(PipelineFileError)
        -> [String: (value: JSONValue, offset: Int)]
    {
        guard let members = value.objectMembers else {
            throw fail(path, offset, "expected an object, got \(value.typeDescription)")
        }
        var out: [String: (value: JSONValue, offset: Int)] = [:]
        for member in members {
            guard known.contains(member.key) else {
                throw fail(
                    join(path, member.key), member.offset,
                    "unknown key \"\(member.key)\" (known keys: \(known.joined(separator: ", ")))")
            }
            out[member.key] = (member.value, member.offset)
        }
        return out
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : path + "." + key }

    func string(_ entry: (value: JSONValue, offset: Int)?, _ path: String) throws(PipelineFileError) -> String? {
        guard let entry else { return nil }
        guard let text = entry.value.stringValue else {
            throw fail(path, entry.offset, "expected a string, got \(entry.value.typeDescription)")
        }
        return text
    }

    func bool(_ entry: (value: JSONValue, offset: Int)?, _ path: String) throws(PipelineFileError) -> Bool? {
        guard let entry else { return nil }
        guard case .bool(let flag) = entry.value else {
            throw fail(path, entry.offset, "expected true or false, got \(entry.value.typeDescription)")
        }
        return flag
    }

    func strings(_ entry: (value: JSONValue, offset: Int)?, _ path: String) throws(PipelineFileError) -> [String]? {
        guard let entry else { return nil }
        guard let elements = entry.value.arrayValue else {
            throw fail(path, entry.offset, "expected an array of strings, got \(entry.value.typeDescription)")
        }
        var out: [String] = []
        for (index, element) in elements.enumerated() {
            guard let text = element.stringValue else {
                throw fail("\(path)[\(index)]", entry.offset, "expected a string, got \(element.typeDescription)")
            }
            out.append(text)
        }
        return out
    }

    mutating func pipeline(_ value: JSONValue) throws(PipelineFileError) -> PipelineFile {
        let top = try object(
            value, "", 0,
            known: ["schemaVersion", "name", "description", "variables", "standardOptions", "passNow", "stages"])
        guard let version = top["schemaVersion"] else {
            throw fail(
                "", 0, "missing \"schemaVersion\" (this build reads schemaVersion \(PipelineFile.schemaVersion))")
        }
        guard version.value == .number(String(PipelineFile.schemaVersion)) else {
            throw fail(
                "schemaVersion", version.offset,
                "unsupported schemaVersion \(JSONWriter.compact(version.value)) (this build reads \(PipelineFile.schemaVersion))"
            )
        }
        guard let name = try string(top["name"], "name") else { throw fail("", 0, "missing \"name\"") }
        guard PipelineFile.isValidName(name) else {
            throw fail(
                "name", top["name"]?.offset, "\"\(name)\" is not a valid name (use [a-z0-9][a-z0-9._-]*, at most 64)")
        }
        let description = try string(top["description"], "description")
        var variables: [(name: String, value: String)] = []
        if let entry = top["variables"] {
            guard let members = entry.value.objectMembers else {
                throw fail(
                    "variables", entry.offset, "expected an object of strings, got \(entry.value.typeDescription)")
            }
            for member in members {
                let path = "variables." + member.key
                guard VariableExpander.isValidName(member.key) else {
                    throw fail(
                        path, member.offset, "\"\(member.key)\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)")
                }
                guard !PipelineFile.reservedVariables.contains(member.key) else {
                    throw fail(
                        path, member.offset,
                        "${\(member.key)} is set by the runner (--\(member.key.lowercased())), not by the pipeline file"
                    )
                }
                guard let text = member.value.stringValue else {
                    throw fail(path, member.offset, "expected a string, got \(member.value.typeDescription)")
                }
                variables.append((member.key, text))
            }
        }
        let standardOptions = try bool(top["standardOptions"], "standardOptions") ?? true
        let passNow = try bool(top["passNow"], "passNow") ?? false
        guard let stagesEntry = top["stages"] else { throw fail("", 0, "missing \"stages\"") }
        guard let elements = stagesEntry.value.arrayValue, !elements.isEmpty else {
            throw fail("stages", stagesEntry.offset, "expected a non-empty array of stages")
        }
        var stages: [PipelineStage] = []
        var names: Set<String> = []
        for (index, element) in elements.enumerated() {
            let stage = try self.stage(element, "stages[\(index)]", stagesEntry.offset, standardOptions, passNow)
            guard names.insert(stage.name).inserted else {
                throw fail("stages[\(index)].name", stagesEntry.offset, "stage name \"\(stage.name)\" is used twice")
            }
            stages.append(stage)
        }
        return PipelineFile(
            name: name, description: description, variables: variables, standardOptions: standardOptions,
            passNow: passNow, stages: stages)
    }

    func stage(_ value: JSONValue, _ path: String, _ offset: Int, _ standardDefault: Bool, _ passNowDefault: Bool)
        throws(PipelineFileError) -> PipelineStage
    {
        let fields = try object(
            value, path, offset,
            known: ["name", "description", "run", "allowExitCodes", "expectFiles", "standardOptions", "passNow"])
        guard let name = try string(fields["name"], path + ".name") else {
            throw fail(path, offset, "missing \"name\"")
        }
        guard PipelineFile.isValidName(name) else {
            throw fail(
                path + ".name", fields["name"]?.offset,
                "\"\(name)\" is not a valid stage name (use [a-z0-9][a-z0-9._-]*, at most 64)")
        }
        guard let run = try strings(fields["run"], path + ".run") else { throw fail(path, offset, "missing \"run\"") }
        guard let executable = run.first, !executable.isEmpty else {
            throw fail(path + ".run", fields["run"]?.offset, "needs at least the executable, a non-empty string")
        }
        var allowed: [Int32] = [0]
        if let entry = fields["allowExitCodes"] {
            guard let elements = entry.value.arrayValue, !elements.isEmpty else {
                throw fail(path + ".allowExitCodes", entry.offset, "expected a non-empty array of exit codes (0-255)")
            }
            allowed = []
            for (index, element) in elements.enumerated() {
                guard case .number(let raw) = element, let code = Int32(raw), (0...255).contains(code) else {
                    throw fail(
                        "\(path).allowExitCodes[\(index)]", entry.offset,
                        "expected an exit code from 0 to 255, got \(JSONWriter.compact(element))")
                }
                if !allowed.contains(code) { allowed.append(code) }
            }
        }
        let expectFiles = try strings(fields["expectFiles"], path + ".expectFiles") ?? []
        let standardOptions = try bool(fields["standardOptions"], path + ".standardOptions")
        let passNow = try bool(fields["passNow"], path + ".passNow")
        let appends = standardOptions ?? standardDefault
        let appendsNow = passNow ?? passNowDefault
        for (index, argument) in run.enumerated().dropFirst() {
            if argument == "--" { break }
            for option in PipelineFile.standardOptionNames
            where (argument == option || argument.hasPrefix(option + "="))
                && (option == "--now" ? appendsNow : appends)
            {
                throw fail(
                    "\(path).run[\(index)]", fields["run"]?.offset,
                    "\(option) is appended by the runner; remove it here or set "
                        + (option == "--now" ? "\"passNow\": false" : "\"standardOptions\": false") + " on the stage")
            }
        }
        return PipelineStage(
            name: name, description: try string(fields["description"], path + ".description"), run: run,
            allowExitCodes: allowed, expectFiles: expectFiles, standardOptions: standardOptions, passNow: passNow)
    }
}
