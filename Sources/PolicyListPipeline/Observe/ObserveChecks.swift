import Foundation
import PolicyListCore
import PolicyListIO

/// `policylist-observe check-policy` and `check-txt` (CONTRACT.md): one JSON line per input on stdout.
///
/// Exit codes: 0 when every input is strictly valid; 65 when any is not; 74 when an input file could not be
/// read (its line says so with `valid: false` and a `read-error: …` error), which takes precedence over 65.
public enum ObserveChecks {
    /// The output lines and the exit code.
    public struct Output: Sendable, Equatable {
        /// One compact JSON object per input, in input order.
        public var lines: [String]
        /// The exit code.
        public var exitCode: ExitCode
    }

    /// Lints policy files; `-` reads standard input (through `readStdin`).
    public static func checkPolicy(inputs: [String], readStdin: () throws -> [UInt8] = readStandardInput)
        -> Output
    {
        var lines: [String] = []
        var exitCode = ExitCode.ok
        for input in inputs {
            let bytes: [UInt8]
            do {
                bytes = input == "-" ? try readStdin() : try readInputFile(input)
            } catch {
                let message = (error as? any ExitCodeError)?.message ?? "\(error)"
                lines.append(JSONWriter.compact(unreadablePolicy(input: input, message: message)))
                exitCode = .ioError
                continue
            }
            let line = MTASTS.lintPolicy(input: input, body: bytes)
            if line["valid"] != .bool(true) && exitCode == .ok { exitCode = .dataError }
            lines.append(JSONWriter.compact(line))
        }
        return Output(lines: lines, exitCode: exitCode)
    }

    /// Lints TXT records given as text.
    public static func checkTXT(records: [String]) -> Output {
        var exitCode = ExitCode.ok
        let lines = records.map { record in
            let line = MTASTS.lintTXT(record: record)
            if line["valid"] != .bool(true) { exitCode = .dataError }
            return JSONWriter.compact(line)
        }
        return Output(lines: lines, exitCode: exitCode)
    }

    /// The check-policy line for an input that could not be read: the usual keys, `valid: false`.
    static func unreadablePolicy(input: String, message: String) -> JSONValue {
        .object([
            "input": .string(input), "valid": false, "lenientValid": false, "version": nil, "mode": nil,
            "maxAge": nil, "mx": nil, "errors": .strings(["read-error: \(message)"]), "warnings": [],
        ])
    }

    /// Standard input, up to 64 MiB.
    public static func readStandardInput() throws -> [UInt8] {
        let limit = Limits.default.maxInputFileBytes
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileError(path: "-", operation: "read", errno: errno)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            if bytes.count > limit {
                throw FileError(path: "-", operation: "read", detail: "standard input is larger than \(limit) bytes")
            }
        }
    }
}
