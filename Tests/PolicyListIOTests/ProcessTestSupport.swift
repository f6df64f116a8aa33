import Foundation
import Glibc
import PolicyListCore
import Testing

@testable import PolicyListIO

/// The repository root (for `data/`).
let repositoryRoot: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
    return path
}()

/// A fresh temp directory, removed by the caller with `removeTree`.
func temporaryDirectory(_ prefix: String = "pliotest") throws -> String {
    try makeTempDirectory(prefix: prefix)
}

/// Runs a program and requires it to succeed; returns stdout.
@discardableResult
func mustRun(
    _ executable: String, _ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:],
    in directory: String? = nil
) throws -> [UInt8] {
    let result = try runProcess(
        executable, arguments: arguments, stdin: stdin, environment: environment, workingDirectory: directory,
        timeout: .seconds(120))
    if !result.succeeded {
        Issue.record(
            "\(executable) \(arguments.joined(separator: " ")) failed: \(result.termination) \(result.stderrText)")
        throw CommandError(.failure, "\(executable) failed")
    }
    return result.stdout
}

/// Writes a file, creating parent directories.
func put(_ bytes: [UInt8], _ path: String) throws {
    try createDirectory(splitPath(path).directory)
    try writeFileAtomically(bytes, to: path)
}

/// Writes a UTF-8 file, creating parent directories.
func put(_ text: String, _ path: String) throws {
    try put(Array(text.utf8), path)
}

/// Deterministic pseudo-random bytes (a small LCG) so failures reproduce.
func pseudoRandomBytes(_ count: Int, seed: UInt64 = 42) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return UInt8(truncatingIfNeeded: state >> 33)
    }
}
