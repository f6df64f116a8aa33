import Glibc
import PolicyListCore
import Testing

@testable import PolicyListIO

@Suite("ProcessRunner")
struct ProcessRunnerTests {
    @Test("exit statuses are reported as they are", arguments: [0, 1, 3, 64, 255])
    func exitStatus(code: Int32) throws {
        let result = try runProcess("sh", arguments: ["-c", "exit \(code)"])
        #expect(result.termination == .exited(code))
        #expect(result.succeeded == (code == 0))
    }

    @Test("stdout and stderr are captured separately")
    func capture() throws {
        let result = try runProcess("sh", arguments: ["-c", "printf out; printf err >&2"])
        #expect(result.stdout == Array("out".utf8))
        #expect(result.stderr == Array("err".utf8))
    }

    @Test("arguments are passed verbatim, never through a shell")
    func noShell() throws {
        let result = try runProcess("printf", arguments: ["%s|", "$HOME", "a b", "; rm -rf /", "*"])
        #expect(String(decoding: result.stdout, as: UTF8.self) == "$HOME|a b|; rm -rf /|*|")
    }

    @Test("stdin larger than any pipe buffer round-trips through cat without deadlock")
    func stdinRoundTrip() throws {
        let input = pseudoRandomBytes(3 << 20)
        let result = try runProcess("cat", arguments: [], stdin: input, timeout: .seconds(60))
        #expect(result.succeeded)
        #expect(result.stdout == input)
    }

    @Test("a child that ignores its stdin does not kill the parent with SIGPIPE")
    func childIgnoresStdin() throws {
        let result = try runProcess("true", arguments: [], stdin: pseudoRandomBytes(4 << 20))
        #expect(result.termination == .exited(0))
    }

    @Test("a missing executable is an unavailable error naming it")
    func missing() throws {
        #expect(throws: ProcessError.notFound(executable: "policylist-no-such-tool")) {
            try runProcess("policylist-no-such-tool", arguments: [])
        }
        #expect(ProcessError.notFound(executable: "x").exitCode == .unavailable)
        #expect(ProcessError.notFound(executable: "x").message == "x: executable not found on PATH")
    }

    @Test("the timeout kills the process group and says so")
    func timeout() throws {
        let start = ContinuousClock.now
        let result = try runProcess("sh", arguments: ["-c", "sleep 30 & sleep 30"], timeout: .milliseconds(300))
        #expect(result.timedOut)
        #expect(result.termination == .signaled(SIGKILL))
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test("a signal death is reported as a signal")
    func signaled() throws {
        let result = try runProcess("sh", arguments: ["-c", "kill -TERM $$"])
        #expect(result.termination == .signaled(SIGTERM))
    }

    @Test("working directory and extra environment reach the child")
    func directoryAndEnvironment() throws {
        let directory = try temporaryDirectory()
        defer { removeTree(directory) }
        let result = try runProcess(
            "sh", arguments: ["-c", "pwd; printf %s \"$POLICYLIST_TEST\""],
            environment: ["POLICYLIST_TEST": "value with spaces"], workingDirectory: directory)
        let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n")
        #expect(lines.first.map(String.init) == directory)
        #expect(lines.last == "value with spaces")
    }
}
