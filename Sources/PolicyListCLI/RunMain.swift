import PolicyListCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The project's version, printed by `--version` and recorded in manifests.
public let policylistVersion = "0.1.0"

/// Writes all bytes of `text` to a file descriptor (unbuffered; retries short writes).
public func writeAll(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { buf in
            write(fd, buf.baseAddress.map { $0 + offset }, buf.count - offset)
        }
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += written
    }
    bytes.removeAll()
}

/// Writes a line to standard error.
public func printError(_ text: String) {
    writeAll(2, text.hasSuffix("\n") ? text : text + "\n")
}

/// Writes a line to standard output.
public func printOutput(_ text: String) {
    writeAll(1, text.hasSuffix("\n") ? text : text + "\n")
}

/// Whether standard error is a terminal (progress displays only draw there).
public var stderrIsTerminal: Bool { isatty(2) == 1 }

/// The single exit path of every executable: runs `body`, maps its result or error to an exit code.
public func runMain(
    _ name: String, _ body: ([String]) async throws -> ExitCode
) async -> Never {
    let args = Array(CommandLine.arguments.dropFirst())
    if args.contains("--version") {
        printOutput("\(name) \(policylistVersion)")
        exit(0)
    }
    let code: ExitCode
    do {
        code = try await body(args)
    } catch let error as UsageError {
        printError("\(name): \(error.message)\nTry '\(name) --help'.")
        code = .usage
    } catch let error as any ExitCodeError {
        printError("\(name): \(error.message)")
        code = error.exitCode
    } catch {
        printError("\(name): \(error)")
        code = .failure
    }
    exit(code.rawValue)
}
