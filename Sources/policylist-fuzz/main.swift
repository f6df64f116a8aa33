import Foundation
import PolicyListCLI
import PolicyListCore
import PolicyListFuzz

let usage = [
    "policylist-fuzz [--cases N] [--seed S] [--format FORMAT]... [--corpus DIR] [--time-limit SECONDS]",
    "policylist-fuzz --reproduce FORMAT:INDEX [--seed S] [--corpus DIR] [--save FILE]",
]
let about = """
    The deterministic mutation fuzzer (docs/reliability.md): N cases in total, round robin over the formats
    (snapshot, policy, txt, domains-csv, scans-jsonl, observation-jsonl, gzip), each a seeded mutation of a seed
    in --corpus (default fuzz/corpus), run through the format's parser in process. A crash ends the process; a
    case over --time-limit (default 2 s), a rejection without a message or a broken round trip is a failure; a
    case 20 times over the limit is a hang and ends the process naming the case. Exit 0 when nothing failed, 1
    otherwise. --reproduce writes one case's input to --save (or stdout) and prints its outcome on stderr.
    """
let specs: [OptionSpec] = [
    .option("cases", "N", "total cases (default 1000000)"),
    .option("seed", "S", "master seed (default 1)"),
    .option("format", "FORMAT", "only this format (repeatable)", repeatable: true),
    .option("corpus", "DIR", "seed corpus (default fuzz/corpus)"),
    .option("time-limit", "SECONDS", "per-case time limit (default 2)"),
    .option("reproduce", "FORMAT:INDEX", "write one case's input and print its outcome"),
    .option("save", "FILE", "with --reproduce: where to write the input"),
    .flag("domain-limit", "check that a list of ListLimits.maxDomains + 1 domains is refused (about 30 MB; slow)"),
    .flag("json", "print a JSON summary on stdout"),
    .flag("help", "show this help"),
    .flag("version", "show the version"),
]

func format(_ name: String) throws -> FuzzFormat {
    guard let format = FuzzFormat(rawValue: name) else {
        throw UsageError(
            "unknown format '\(name)'; one of \(FuzzFormat.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    return format
}

await runMain("policylist-fuzz") { args in
    let parsed = try ParsedArguments(args, specs: specs)
    if parsed.flag("help") {
        printOutput(helpText(usage: usage, about: about, specs: specs))
        return .ok
    }
    let seed = try UInt64(parsed.value("seed") ?? "1") ?? { throw UsageError("--seed takes an unsigned integer") }()
    let cases = try parsed.int("cases", default: 1_000_000, range: 1...1_000_000_000)
    let limit = try parsed.int("time-limit", default: 2, range: 1...3600)
    let corpus = try FuzzCorpus(directory: parsed.value("corpus") ?? "fuzz/corpus")
    let campaign = FuzzCampaign(corpus: corpus, seed: seed, timeLimit: .seconds(limit))

    if parsed.flag("domain-limit") {
        let reading = DomainLimitCheck.run()
        printError("domain limit: \(reading)")
        return reading.hasPrefix("too-many-domains") ? .ok : .failure
    }

    if let target = parsed.value("reproduce") {
        let parts = target.split(separator: ":")
        guard parts.count == 2, let index = Int(parts[1]) else { throw UsageError("--reproduce takes FORMAT:INDEX") }
        let bytes = campaign.input(try format(String(parts[0])), index)
        if let save = parsed.value("save") {
            try Data(bytes).write(to: URL(fileURLWithPath: save))
        } else {
            FileHandle.standardOutput.write(Data(bytes))
        }
        printError("\(target): \(FuzzTarget.run(try format(String(parts[0])), bytes))")
        return .ok
    }

    let formats = try parsed.all("format").map(format)
    let chosen = formats.isEmpty ? FuzzFormat.allCases : formats
    let perFormat = max(1, (cases + chosen.count - 1) / chosen.count)  // at least --cases in total
    let report = campaign.run(casesPerFormat: perFormat, formats: chosen, progressEvery: max(1, perFormat / 20)) {
        printError("policylist-fuzz: \($0.total) cases, \(Int($0.casesPerSecond))/s, \($0.failures.count) failures")
    }
    printError(report.summary)
    for failure in report.failures.prefix(20) { printError("FAIL \(failure) (seed \(seed))") }
    if parsed.json {
        let summary: JSONValue = .object([
            JSONMember("schemaVersion", 1), JSONMember("command", "fuzz"), JSONMember("seed", .string("\(seed)")),
            JSONMember("cases", .int(report.total)), JSONMember("casesPerSecond", .int(Int(report.casesPerSecond))),
            JSONMember("failures", .int(report.failures.count)),
        ])
        printOutput(JSONWriter.compact(summary))
    }
    return report.failures.isEmpty ? .ok : .failure
}
