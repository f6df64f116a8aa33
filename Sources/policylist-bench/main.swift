// policylist-bench: the core parsers in a loop, for `bench/run` (not part of the CLI contract).
//
// The stage executables store everything they read, so their wall time includes SQLite, SHA-256 and zlib.
// The Python peers only parse and validate. To compare like with like, this tool reads its inputs into
// memory first and then times only the parse + validate loop, exactly as the peer harnesses in bench/peers/
// do; it prints one JSON object on stdout.
import Foundation
import PolicyListCLI
import PolicyListCore
import PolicyListIO

let usage = [
    "policylist-bench read-lists [--repeat N] FILE...   # ListReader.read (strict JSON + schema 0.1 + list rules)",
    "policylist-bench policies FILE                     # NUL-separated MTA-STS bodies, strict + lenient",
]

let specs: [OptionSpec] = [.option("repeat", "N", "run the timed loop N times (default 1); seconds is the total")]

/// A JSON number with six decimals.
func number(_ value: Double) -> JSONValue { .number(String(format: "%.6f", value)) }

func seconds(_ duration: Duration) -> Double {
    let (whole, atto) = duration.components
    return Double(whole) + Double(atto) / 1e18
}

/// Reads every list file, then times `ListReader.read` over all of them.
func readLists(_ paths: [String], repeats: Int) throws -> JSONValue {
    let files = try paths.map { path throws(PathError) in try readInputFile(path) }
    let bytes = files.reduce(0) { $0 + $1.count }
    var accepted = 0
    var rejected = 0
    var entries = 0
    let clock = ContinuousClock()
    let elapsed = clock.measure {
        for _ in 0..<repeats {
            accepted = 0
            rejected = 0
            entries = 0
            for file in files {
                let reading = ListReader.read(file)
                if let list = reading.list {
                    accepted += 1
                    entries += list.policies.count
                } else {
                    rejected += 1
                }
            }
        }
    }
    let total = seconds(elapsed)
    return .object([
        "command": "read-lists", "files": .int(files.count), "bytes": .int(bytes), "repeat": .int(repeats),
        "accepted": .int(accepted), "rejected": .int(rejected), "entries": .int(entries),
        "seconds": number(total),
        "mbPerSecond": number(total > 0 ? Double(bytes * repeats) / 1e6 / total : 0),
    ])
}

/// Splits a NUL-separated file of policy bodies, then times strict + lenient evaluation of each.
func policies(_ path: String, repeats: Int) throws -> JSONValue {
    let data = try readAll(path)
    var bodies: [Range<Int>] = []
    var start = 0
    for index in data.indices where data[index] == 0 {
        bodies.append(start..<index)
        start = index + 1
    }
    bodies.append(start..<data.count)
    var strict = 0
    var lenient = 0
    let clock = ContinuousClock()
    let elapsed = data.withUnsafeBufferPointer { buffer in
        clock.measure {
            for _ in 0..<repeats {
                strict = 0
                lenient = 0
                for range in bodies {
                    let body = UnsafeBufferPointer(rebasing: buffer[range])
                    let verdicts = MTASTS.evaluatePolicy(body: body)
                    if verdicts.strict.isValid { strict += 1 }
                    if verdicts.lenient.isValid { lenient += 1 }
                }
            }
        }
    }
    let total = seconds(elapsed)
    return .object([
        "command": "policies", "bodies": .int(bodies.count), "bytes": .int(data.count), "repeat": .int(repeats),
        "strictValid": .int(strict), "lenientValid": .int(lenient), "seconds": number(total),
        "perSecond": number(total > 0 ? Double(bodies.count * repeats) / total : 0),
    ])
}

/// A whole file without the stage input limit (the bodies file is larger than one input may be).
func readAll(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw CommandError(.ioError, "\(path): cannot read")
    }
    return [UInt8](data)
}

await runMain("policylist-bench") { args in
    let parsed = try ParsedArguments(args, specs: specs)
    if parsed.flag("help") {
        printOutput(
            helpText(
                usage: usage, about: "Times the core parsers on in-memory inputs for bench/run.", specs: specs))
        return .ok
    }
    let repeats = try parsed.int("repeat", default: 1, range: 1...1000)
    guard let command = parsed.positionals.first else { throw UsageError("missing subcommand") }
    let rest = Array(parsed.positionals.dropFirst())
    let result: JSONValue
    switch command {
    case "read-lists":
        guard !rest.isEmpty else { throw UsageError("read-lists needs at least one FILE") }
        result = try readLists(rest, repeats: repeats)
    case "policies":
        guard rest.count == 1 else { throw UsageError("policies needs exactly one FILE") }
        result = try policies(rest[0], repeats: repeats)
    default:
        throw UsageError("unknown subcommand '\(command)'")
    }
    printOutput(JSONWriter.compact(result))
    return .ok
}
