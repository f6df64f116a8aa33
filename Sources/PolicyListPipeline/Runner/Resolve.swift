import PolicyListCore

/// One stage ready to run: variables expanded, the runner's options appended.
public struct ResolvedStage: Sendable, Equatable {
    /// The stage's index in the pipeline file (0-based); the ledger's `position`.
    public let position: Int
    /// The stage's name.
    public let name: String
    /// The arguments, `argv[0]` being the executable as written (resolved to a path when the run starts).
    public let argv: [String]
    /// Exit codes that count as success.
    public let allowExitCodes: [Int32]
    /// Files that must exist after the stage succeeded.
    public let expectFiles: [String]
}

/// A pipeline with every variable resolved: what a run records and executes.
public struct ResolvedPipeline: Sendable, Equatable {
    /// The pipeline's name.
    public let name: String
    /// SHA-256 (hex) of the pipeline file's bytes.
    public let sha256: String
    /// Every variable's final value (built-ins, the file's, `--var`).
    public let variables: [String: String]
    /// Whether `${NOW}` came from the clock rather than `--now`.
    public let nowFromClock: Bool
    /// The stages in file order.
    public let stages: [ResolvedStage]

    /// The variables as a compact JSON object with sorted keys (what the ledger stores).
    public var variablesJSON: String {
        JSONWriter.compact(.object(variables.keys.sorted().map { JSONMember($0, .string(variables[$0] ?? "")) }))
    }

    /// Whether a run recorded with `sha256`, `variables` and `nowFromClock` is the same job as this one:
    /// the same file bytes and the same variables, where `${NOW}` only counts when it was given with `--now`.
    public func isSameJob(sha256 other: String, variables recorded: [String: String], nowFromClock recordedClock: Bool)
        -> Bool
    {
        guard other == sha256, recordedClock == nowFromClock else { return false }
        if nowFromClock {
            return recorded.filter { $0.key != "NOW" } == variables.filter { $0.key != "NOW" }
        }
        return recorded == variables
    }

    /// The stage named `name`, if any.
    public func stage(named name: String) -> ResolvedStage? { stages.first { $0.name == name } }
}

/// Turns a parsed pipeline file plus the command line into a `ResolvedPipeline`.
public enum PipelineResolver {
    /// `${DATA}`'s default: the `data` directory beside the nearest `pipelines` directory that holds the
    /// pipeline file (`repo/pipelines/examples/x.json` → `repo/data`), or, when the file is not inside a
    /// directory named `pipelines`, `data` beside the file. Computed on the path as given, without touching
    /// the file system, so a relative pipeline path gives a relative `${DATA}` (relative to the current
    /// directory, like every relative path a stage receives).
    public static func defaultDataDirectory(pipelinePath: String) -> String {
        var components = pipelinePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast()  // the file name
        if let index = components.lastIndex(of: "pipelines") {
            components.removeSubrange(index...)
        }
        let base = components.joined(separator: "/")
        if components == [""] { return "/data" }
        return base.isEmpty ? "data" : base + "/data"
    }

    /// `${OUT}`'s default, relative to the current directory.
    public static let defaultOutDirectory = "out"

    /// Splits `--var KEY=VALUE` arguments; rejects malformed ones, reserved names and repeats.
    public static func parseOverrides(_ arguments: [String]) throws(VariableError) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for argument in arguments {
            guard let equals = argument.firstIndex(of: "=") else {
                throw .badOverride(argument: argument, reason: "expected KEY=VALUE")
            }
            let name = String(argument[..<equals])
            let value = String(argument[argument.index(after: equals)...])
            guard VariableExpander.isValidName(name) else {
                throw .badOverride(
                    argument: argument, reason: "\"\(name)\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)")
            }
            guard !PipelineFile.reservedVariables.contains(name) else {
                throw .badOverride(
                    argument: argument, reason: "${\(name)} is set with --\(name.lowercased()), not with --var")
            }
            guard !out.contains(where: { $0.name == name }) else {
                throw .badOverride(argument: argument, reason: "\(name) is given twice")
            }
            out.append((name, value))
        }
        return out
    }

    /// Resolves `file`: built-ins (`DB`, `NOW`, `DATA`, `OUT`), then the file's variables (which may replace
    /// `DATA`/`OUT`), then `--var` overrides; expands every stage's `run` and `expectFiles` and appends the
    /// runner's options.
    public static func resolve(
        _ file: PipelineFile, sha256: String, pipelinePath: String, database: String, now: String,
        nowFromClock: Bool, overrides: [(name: String, value: String)]
    ) throws(VariableError) -> ResolvedPipeline {
        var definitions: [String: VariableExpander.Definition] = [
            "DB": .init(text: database, expands: false, origin: "--db"),
            "NOW": .init(text: now, expands: false, origin: nowFromClock ? "the clock" : "--now"),
            "DATA": .init(
                text: defaultDataDirectory(pipelinePath: pipelinePath), expands: false, origin: "built-in DATA"),
            "OUT": .init(text: defaultOutDirectory, expands: false, origin: "built-in OUT"),
        ]
        for variable in file.variables {
            definitions[variable.name] = .init(
                text: variable.value, expands: true, origin: "variables.\(variable.name)")
        }
        var used: Set<String> = ["DATA", "OUT"]
        for variable in file.variables {
            used.insert(variable.name)
            used.formUnion(VariableExpander.references(in: variable.value))
        }
        for stage in file.stages {
            for text in stage.run + stage.expectFiles { used.formUnion(VariableExpander.references(in: text)) }
        }
        for override in overrides {
            guard used.contains(override.name) else {
                throw .badOverride(
                    argument: "\(override.name)=\(override.value)",
                    reason: "pipeline \(file.name) neither defines nor uses ${\(override.name)}")
            }
            definitions[override.name] = .init(text: override.value, expands: false, origin: "--var \(override.name)")
        }
        let expander = VariableExpander(definitions: definitions)
        let values = try expander.resolvedValues()
        var stages: [ResolvedStage] = []
        for (position, stage) in file.stages.enumerated() {
            let path = "stages[\(position)]"
            var argv: [String] = []
            var optionsAt: Int?
            for (index, text) in stage.run.enumerated() {
                if text == "--" && index > 0 && optionsAt == nil { optionsAt = argv.count }
                argv.append(try expander.expand(text, at: "\(path).run[\(index)]"))
            }
            var appended: [String] = []
            if stage.standardOptions ?? file.standardOptions { appended += ["--db", database, "--json"] }
            if stage.passNow ?? file.passNow { appended += ["--now", now] }
            argv.insert(contentsOf: appended, at: optionsAt ?? argv.count)
            var expect: [String] = []
            for (index, text) in stage.expectFiles.enumerated() {
                expect.append(try expander.expand(text, at: "\(path).expectFiles[\(index)]"))
            }
            stages.append(
                ResolvedStage(
                    position: position, name: stage.name, argv: argv, allowExitCodes: stage.allowExitCodes,
                    expectFiles: expect))
        }
        return ResolvedPipeline(
            name: file.name, sha256: sha256, variables: values, nowFromClock: nowFromClock, stages: stages)
    }
}

/// Quotes `argv` for a POSIX shell, for people to read and copy (the runner itself never uses a shell).
public func shellQuoted(_ argv: [String]) -> String {
    argv.map { argument in
        let safe =
            !argument.isEmpty
            && argument.unicodeScalars.allSatisfy { scalar in
                scalar.isASCII
                    && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                        || "_@%+=:,./-".unicodeScalars.contains(scalar))
            }
        if safe { return argument }
        return "'" + argument.replacingSingleQuotes() + "'"
    }.joined(separator: " ")
}

extension String {
    fileprivate func replacingSingleQuotes() -> String {
        var out = ""
        for character in self {
            if character == "'" { out += "'\\''" } else { out.append(character) }
        }
        return out
    }
}
