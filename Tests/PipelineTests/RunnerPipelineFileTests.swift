import Foundation
import PolicyListCore
import Testing

@testable import PolicyListPipeline

private func parse(_ text: String) throws(PipelineFileError) -> PipelineFile {
    try PipelineFile.parse(Array(text.utf8), file: "p.json")
}

private func parseError(_ text: String) -> PipelineFileError? {
    do {
        _ = try parse(text)
        return nil
    } catch {
        return error
    }
}

private let minimal = #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["true"]}]}"#

@Suite("Runner: pipeline file format")
struct RunnerPipelineFileTests {
    @Test("a full file reads with defaults and overrides")
    func fullFile() throws {
        let file = try parse(
            #"""
            {"schemaVersion":1,"name":"refresh","description":"d","variables":{"A":"x","B":"${A}/y"},
             "passNow":true,"stages":[
              {"name":"ingest","run":["policylist-ingest","snapshots","${B}"],"allowExitCodes":[0,65]},
              {"name":"tool","run":["sleep","1"],"standardOptions":false,"passNow":false,"expectFiles":["${OUT}/x"]}]}
            """#)
        #expect(file.name == "refresh")
        #expect(file.variables.map(\.name) == ["A", "B"])
        #expect(file.standardOptions && file.passNow)
        #expect(file.stages[0].allowExitCodes == [0, 65])
        #expect(file.stages[1].standardOptions == false)
        #expect(file.stages[1].expectFiles == ["${OUT}/x"])
        #expect(try parse(minimal).stages[0].allowExitCodes == [0])
    }

    @Test(
        "invalid files are refused with the key path and what is wrong",
        arguments: [
            (
                #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["true"]}],"stagse":[]}"#,
                "stagse: unknown key"
            ),
            (#"{"schemaVersion":1,"name":"p","stages":[{"name":"a","rnu":["true"]}]}"#, "stages[0].rnu: unknown key"),
            (#"{"schemaVersion":1,"name":"p","name":"q","stages":[]}"#, "duplicate key \"name\""),
            (#"{"schemaVersion":2,"name":"p","stages":[{"name":"a","run":["true"]}]}"#, "unsupported schemaVersion 2"),
            (#"{"name":"p","stages":[{"name":"a","run":["true"]}]}"#, "missing \"schemaVersion\""),
            (#"{"schemaVersion":1,"name":"p","stages":[]}"#, "stages: expected a non-empty array"),
            (
                #"{"schemaVersion":1,"name":"P Q","stages":[{"name":"a","run":["true"]}]}"#,
                "name: \"P Q\" is not a valid name"
            ),
            (
                #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["true"]},{"name":"a","run":["true"]}]}"#,
                "stages[1].name: stage name \"a\" is used twice"
            ),
            (
                #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":[]}]}"#,
                "stages[0].run: needs at least the executable"
            ),
            (
                #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":"true"}]}"#,
                "stages[0].run: expected an array of strings"
            ),
            (
                #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["x",1]}]}"#,
                "stages[0].run[1]: expected a string"
            ),
            (
                #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["x"],"allowExitCodes":[0,256]}]}"#,
                "stages[0].allowExitCodes[1]: expected an exit code from 0 to 255, got 256"
            ),
            (
                #"{"schemaVersion":1,"name":"p","variables":{"DB":"x"},"stages":[{"name":"a","run":["x"]}]}"#,
                "variables.DB: ${DB} is set by the runner"
            ),
            (
                #"{"schemaVersion":1,"name":"p","variables":{"A":1},"stages":[{"name":"a","run":["x"]}]}"#,
                "variables.A: expected a string"
            ),
            (
                #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["policylist-ingest","--db","x"]}]}"#,
                "stages[0].run[1]: --db is appended by the runner"
            ),
            (
                #"{"schemaVersion":1,"name":"p","passNow":true,"stages":[{"name":"a","run":["x","--now=1"]}]}"#,
                "stages[0].run[1]: --now is appended by the runner"
            ),
            (
                #"{"schemaVersion":1,"name":"p","standardOptions":"yes","stages":[{"name":"a","run":["x"]}]}"#,
                "standardOptions: expected true or false"
            ),
            (#"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["x"]}],}"#, "p.json: byte"),
        ])
    func invalid(text: String, expected: String) {
        let error = parseError(text)
        #expect(error?.message.contains(expected) == true, "got: \(error?.message ?? "no error")")
        #expect(error?.exitCode == .usage)
    }

    @Test("an unknown key's error carries its byte offset")
    func offset() {
        let text = #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["x"]}],"oops":1}"#
        let error = parseError(text)
        let expected = text.range(of: #""oops""#).map { text.utf8.distance(from: text.startIndex, to: $0.lowerBound) }
        #expect(error?.offset == expected)
        #expect(error?.message.hasPrefix("p.json: byte \(expected ?? -1): oops: unknown key") == true)
    }

    @Test("the standard options may be spelled by a stage that opts out of them, and after --")
    func optOut() throws {
        _ = try parse(
            #"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["x","--db","y"],"standardOptions":false}]}"#)
        _ = try parse(#"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["x","--","--db"]}]}"#)
        _ = try parse(#"{"schemaVersion":1,"name":"p","stages":[{"name":"a","run":["x","--now","y"]}]}"#)
    }
}

@Suite("Runner: variables")
struct RunnerVariableTests {
    static let expander = VariableExpander(definitions: [
        "A": .init(text: "a", expands: false, origin: "built-in"),
        "B": .init(text: "${A}/b", expands: true, origin: "variables.B"),
        "C": .init(text: "${B}/c", expands: true, origin: "variables.C"),
        "L": .init(text: "${A}", expands: false, origin: "--var L"),
    ])

    @Test(
        "expansion",
        arguments: [
            ("plain", "plain"), ("${A}", "a"), ("x${A}y${A}", "xaya"), ("${C}", "a/b/c"), ("$$", "$"),
            ("$${A}", "${A}"), ("cost $5", "cost $5"), ("$", "$"), ("${L}", "${A}"), ("", ""),
        ])
    func expansion(input: String, output: String) throws {
        #expect(try Self.expander.expand(input, at: "t") == output)
    }

    @Test("an unknown variable names itself, where it was used, and how to define it")
    func unknown() {
        #expect(throws: VariableError.unknown(name: "NOPE", location: "stages[1].run[2]", known: ["A", "B", "C", "L"]))
        {
            try Self.expander.expand("x/${NOPE}", at: "stages[1].run[2]")
        }
        let message = VariableError.unknown(name: "NOPE", location: "stages[1].run[2]", known: ["A"]).message
        #expect(message.contains("unknown variable ${NOPE}") && message.contains("--var NOPE=VALUE"))
    }

    @Test("malformed references and cycles are errors", arguments: ["${", "${A", "${1A}", "${A-B}", "${}"])
    func malformed(text: String) {
        #expect(throws: VariableError.self) { try Self.expander.expand(text, at: "t") }
    }

    @Test("a cycle is reported with its path")
    func cycle() {
        let expander = VariableExpander(definitions: [
            "X": .init(text: "${Y}", expands: true, origin: "variables.X"),
            "Y": .init(text: "${X}", expands: true, origin: "variables.Y"),
        ])
        #expect(throws: VariableError.cycle(["X", "Y", "X"])) { try expander.value(of: "X", at: "t") }
    }

    @Test(
        "DATA defaults to the data directory beside the pipelines directory",
        arguments: [
            ("pipelines/refresh.json", "data"), ("./pipelines/examples/hello.json", "./data"),
            ("/repo/pipelines/x.json", "/repo/data"), ("/a/pipelines/b/pipelines/c/x.json", "/a/pipelines/b/data"),
            ("x.json", "data"), ("/tmp/t/x.json", "/tmp/t/data"), ("/x.json", "/data"), ("/pipelines/x.json", "/data"),
            ("../other/pipelines/x.json", "../other/data"),
        ])
    func dataDefault(path: String, data: String) {
        #expect(PipelineResolver.defaultDataDirectory(pipelinePath: path) == data)
    }
}

@Suite("Runner: resolving a pipeline")
struct RunnerResolveTests {
    static let file: PipelineFile = {
        let text = #"""
            {"schemaVersion":1,"name":"p","variables":{"REPORTS":"${OUT}/reports","SRC":"${DATA}/in"},
             "stages":[
              {"name":"a","run":["policylist-report","history","--out","${REPORTS}"]},
              {"name":"b","run":["tool","${SRC}","--","--literal"],"passNow":true},
              {"name":"c","run":["echo","${NOW}","${DB}","$${OUT}"],"standardOptions":false,"expectFiles":["${OUT}/f"]}]}
            """#
        return (try? PipelineFile.parse(Array(text.utf8), file: "p.json"))
            ?? PipelineFile(name: "broken", variables: [], standardOptions: true, passNow: false, stages: [])
    }()

    func resolve(_ overrides: [String] = [], clock: Bool = true) throws -> ResolvedPipeline {
        try PipelineResolver.resolve(
            Self.file, sha256: String(repeating: "0", count: 64), pipelinePath: "repo/pipelines/p.json",
            database: "db.sqlite", now: "2020-05-01T00:00:00Z", nowFromClock: clock,
            overrides: try PipelineResolver.parseOverrides(overrides))
    }

    @Test("variables expand, the runner's options are appended (before a --), expectFiles expand")
    func stages() throws {
        let resolved = try resolve()
        #expect(
            resolved.stages[0].argv == [
                "policylist-report", "history", "--out", "out/reports", "--db", "db.sqlite", "--json",
            ])
        #expect(
            resolved.stages[1].argv == [
                "tool", "repo/data/in", "--db", "db.sqlite", "--json", "--now", "2020-05-01T00:00:00Z", "--",
                "--literal",
            ])
        #expect(resolved.stages[2].argv == ["echo", "2020-05-01T00:00:00Z", "db.sqlite", "${OUT}"])
        #expect(resolved.stages[2].expectFiles == ["out/f"])
        #expect(
            resolved.variables == [
                "DATA": "repo/data", "OUT": "out", "DB": "db.sqlite", "NOW": "2020-05-01T00:00:00Z",
                "REPORTS": "out/reports", "SRC": "repo/data/in",
            ])
    }

    @Test("--var overrides a built-in and every variable defined from it; its value is literal")
    func overrides() throws {
        let resolved = try resolve(["OUT=/srv/out", "SRC=${X}"])
        #expect(resolved.variables["REPORTS"] == "/srv/out/reports")
        #expect(resolved.stages[1].argv[1] == "${X}")
    }

    @Test(
        "bad --var arguments are usage errors",
        arguments: [
            ("NOPE=1", "neither defines nor uses ${NOPE}"), ("DB=x", "set with --db"), ("NOW=x", "set with --now"),
            ("novalue", "expected KEY=VALUE"), ("1X=2", "not a variable name"),
        ])
    func badOverride(argument: String, expected: String) {
        do {
            _ = try resolve([argument])
            Issue.record("no error for --var \(argument)")
        } catch let error as VariableError {
            #expect(error.message.contains(expected), "got: \(error.message)")
            #expect(error.exitCode == .usage)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("a repeated --var is refused")
    func repeated() {
        #expect(throws: VariableError.self) { try PipelineResolver.parseOverrides(["OUT=a", "OUT=b"]) }
    }

    @Test("the same job: same bytes and variables; NOW only counts when given with --now")
    func sameJob() throws {
        let resolved = try resolve()
        var variables = resolved.variables
        variables["NOW"] = "2019-01-01T00:00:00Z"
        #expect(resolved.isSameJob(sha256: resolved.sha256, variables: variables, nowFromClock: true))
        #expect(!resolved.isSameJob(sha256: resolved.sha256, variables: variables, nowFromClock: false))
        #expect(
            !resolved.isSameJob(sha256: String(repeating: "1", count: 64), variables: variables, nowFromClock: true))
        variables["OUT"] = "elsewhere"
        #expect(!resolved.isSameJob(sha256: resolved.sha256, variables: variables, nowFromClock: true))
        let pinned = try resolve(clock: false)
        #expect(pinned.isSameJob(sha256: pinned.sha256, variables: pinned.variables, nowFromClock: false))
        variables = pinned.variables
        variables["NOW"] = "2019-01-01T00:00:00Z"
        #expect(!pinned.isSameJob(sha256: pinned.sha256, variables: variables, nowFromClock: false))
    }

    @Test(
        "shell quoting for display",
        arguments: [
            (["a", "b/c", "--x=1"], "a b/c --x=1"), (["a b"], "'a b'"), (["it's"], #"'it'\''s'"#), ([""], "''"),
            (["$HOME", "*"], "'$HOME' '*'"), (["ü"], "'ü'"),
        ])
    func quoting(argv: [String], text: String) {
        #expect(shellQuoted(argv) == text)
    }
}

@Suite("Runner: the shipped example pipeline")
struct RunnerExamplePipelineTests {
    @Test("pipelines/examples/hello.json is valid and resolves with DATA beside pipelines/")
    func hello() throws {
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let path = repo + "/pipelines/examples/hello.json"
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let file = try PipelineFile.parse(Array(bytes), file: path)
        let resolved = try PipelineResolver.resolve(
            file, sha256: "", pipelinePath: path, database: "db.sqlite", now: "2020-05-01T00:00:00Z",
            nowFromClock: false, overrides: [])
        #expect(resolved.variables["DATA"] == repo + "/data")
        #expect(resolved.variables["GREETING"] == "hello from \(repo)/data")
        #expect(resolved.stages.map(\.name) == ["show-env", "greet", "make-out", "touch-marker"])
        #expect(resolved.stages[3].expectFiles == ["out/hello.txt"])
    }
}
