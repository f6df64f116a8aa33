import Foundation
import PolicyListCore
import PolicyListIO
import PolicyListStore

/// The counts and the (capped) list of rejections of a line-by-line import, and its `--json` summary:
/// `{"schemaVersion":1,"command":…,"accepted":N,"alreadyKnown":N,"rejected":[{"path","line","error"}…],
/// "rejectedCount":N,"warnings":N}` (`rejected` holds the first ``maxListed``; `line` is `null` for a whole
/// file that could not be read).
public struct ImportTally: Sendable {
    /// How many rejections the summary and stderr list one by one.
    public static let maxListed = 100
    /// How many warnings stderr lists one by one.
    public static let maxWarningsListed = 20

    /// New rows stored.
    public var accepted = 0
    /// Rows already in the store (same identity and bytes).
    public var alreadyKnown = 0
    /// Lines (or files) rejected.
    public var rejectedCount = 0
    /// Warnings (e.g. unknown keys, ignored).
    public var warnings = 0
    /// The first ``maxListed`` rejections as summary objects.
    public private(set) var rejected: [JSONValue] = []
    /// Lines for stderr.
    public private(set) var human: [String] = []
    /// The worst file-level failure (an unreadable or corrupt file), if any.
    public private(set) var fileFailure: ExitCode?

    /// An empty tally.
    public init() {}

    /// Counts a rejected line (or, with `line == nil`, a whole file).
    public mutating func reject(path: String, line: Int?, error: String) {
        rejectedCount += 1
        guard rejectedCount <= Self.maxListed else { return }
        rejected.append(
            .object(["path": .string(path), "line": line.map { .int($0) } ?? .null, "error": .string(error)]))
        human.append(line.map { "\(path):\($0): \(error)" } ?? "\(path): \(error)")
    }

    /// Counts a file that could not be read (or stopped being readable) and remembers its exit code.
    public mutating func failFile(path: String, error: any ExitCodeError) {
        reject(path: path, line: nil, error: error.message)
        if fileFailure != .ioError { fileFailure = error.exitCode == .ioError ? .ioError : .dataError }
    }

    /// Counts a warning; the first few are listed on stderr.
    public mutating func warn(path: String, line: Int, _ text: String) {
        warnings += 1
        if warnings <= Self.maxWarningsListed { human.append("\(path):\(line): warning: \(text)") }
    }

    /// 74 when a file could not be read, else 65 when anything was rejected, else 0.
    public var exitCode: ExitCode {
        if let fileFailure { return fileFailure }
        return rejectedCount > 0 ? .dataError : .ok
    }

    /// The outcome: the summary object plus `extra` members, the listed messages and a closing count line.
    public func outcome(command: String, extra: [JSONMember] = []) -> StageOutcome {
        var members: [JSONMember] = [
            JSONMember("schemaVersion", 1), JSONMember("command", .string(command)),
            JSONMember("accepted", .int(accepted)), JSONMember("alreadyKnown", .int(alreadyKnown)),
            JSONMember("rejected", .array(rejected)), JSONMember("rejectedCount", .int(rejectedCount)),
            JSONMember("warnings", .int(warnings)),
        ]
        members += extra
        var lines = human
        if rejectedCount > Self.maxListed {
            lines.append("… and \(rejectedCount - Self.maxListed) more rejected (all are kept in rejected_inputs)")
        }
        if warnings > Self.maxWarningsListed {
            lines.append("… and \(warnings - Self.maxWarningsListed) more warnings")
        }
        lines.append(
            "\(command): \(accepted) accepted, \(alreadyKnown) already known, \(rejectedCount) rejected, "
                + "\(warnings) warnings")
        return StageOutcome(summary: .object(members), human: lines, exitCode: exitCode)
    }
}

/// How much of a rejected line is kept in the rejection ledger.
let rejectedLinePrefixBytes = 64 * 1024

/// The name used in evidence refs: the file's last path component (`scans.jsonl:42`).
func evidenceName(_ path: String) -> String {
    (path as NSString).lastPathComponent
}
