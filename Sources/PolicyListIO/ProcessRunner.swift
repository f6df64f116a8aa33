import Glibc
import PolicyListCore

/// How a child process ended.
public enum Termination: Sendable, Equatable, CustomStringConvertible {
    /// It exited with this status.
    case exited(Int32)
    /// It was killed by this signal.
    case signaled(Int32)

    /// `"exit status 2"` or `"signal 9"`.
    public var description: String {
        switch self {
        case .exited(let code): return "exit status \(code)"
        case .signaled(let signal): return "signal \(signal)"
        }
    }
}

/// The outcome of `runProcess`.
public struct ProcessResult: Sendable, Equatable {
    /// How the process ended.
    public let termination: Termination
    /// Everything it wrote to stdout.
    public let stdout: [UInt8]
    /// Everything it wrote to stderr.
    public let stderr: [UInt8]
    /// True when it was killed because the timeout passed.
    public let timedOut: Bool

    /// True when it exited with status 0 (and did not time out).
    public var succeeded: Bool { termination == .exited(0) && !timedOut }

    /// Stderr as text, trimmed, for messages.
    public var stderrText: String {
        String(decoding: stderr, as: UTF8.self).trimmingWhitespace()
    }
}

/// Why a process could not be run at all.
public enum ProcessError: ExitCodeError, Equatable {
    /// The executable is not on PATH (or not executable).
    case notFound(executable: String)
    /// The process could not be started or talked to.
    case system(executable: String, operation: String, errno: Int32)

    /// A missing program is `.unavailable` (69); a system failure is `.failure` (1).
    public var exitCode: ExitCode {
        if case .notFound = self { return .unavailable }
        return .failure
    }

    /// `"git: executable not found on PATH"` and the like.
    public var message: String {
        switch self {
        case .notFound(let executable): return "\(executable): executable not found on PATH"
        case .system(let executable, let operation, let code):
            return "\(executable): \(operation): \(errorText(code))"
        }
    }
}

/// Finds `name` on `searchPath` (a PATH-style list); a name with a `/` is checked as given.
public func findExecutable(_ name: String, searchPath: String? = nil) -> String? {
    if name.isEmpty { return nil }
    if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
    let path = searchPath ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
    for directory in path.split(separator: ":", omittingEmptySubsequences: true) {
        let candidate = "\(directory)/\(name)"
        var info = stat()
        if stat(candidate, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(candidate, X_OK) == 0 {
            return candidate
        }
    }
    return nil
}

/// Runs `executable` (looked up on PATH) with `arguments` — never through a shell — feeding `stdin`,
/// with `environment` added to (or overriding) the inherited environment, in `workingDirectory`, killing it
/// (and its process group) after `timeout`. Captures stdout and stderr.
public func runProcess(
    _ executable: String, arguments: [String], stdin input: [UInt8]? = nil,
    environment: [String: String] = [:], workingDirectory: String? = nil, timeout: Duration? = nil,
    searchPath: String? = nil
) throws(ProcessError) -> ProcessResult {
    guard let path = findExecutable(executable, searchPath: searchPath) else {
        throw .notFound(executable: executable)
    }
    func fail(_ operation: String, _ code: Int32 = errno) -> ProcessError {
        .system(executable: executable, operation: operation, errno: code)
    }

    var outPipe: [Int32] = [-1, -1]
    var errPipe: [Int32] = [-1, -1]
    var inPair: [Int32] = [-1, -1]
    var opened: [Int32] = []
    defer { for fd in opened where fd >= 0 { close(fd) } }
    // Socket pairs instead of pipes: created close-on-exec atomically (pipe2 is not imported), and
    // send(MSG_NOSIGNAL) never raises SIGPIPE in this process when the child stops reading.
    let socketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    guard socketpair(AF_UNIX, socketType, 0, &outPipe) == 0 else { throw fail("socketpair") }
    opened += outPipe
    guard socketpair(AF_UNIX, socketType, 0, &errPipe) == 0 else { throw fail("socketpair") }
    opened += errPipe
    if input != nil {
        guard socketpair(AF_UNIX, socketType, 0, &inPair) == 0 else { throw fail("socketpair") }
    } else {
        inPair[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard inPair[0] >= 0 else { throw fail("open /dev/null") }
    }
    opened += inPair

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, inPair[0], 0)
    posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
    posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
    if let directory = workingDirectory {
        guard let addchdir = spawnAddChdir else { throw fail("chdir (needs glibc 2.29)", ENOSYS) }
        let code = directory.withCString { addchdir(&actions, $0) }
        guard code == 0 else { throw fail("chdir \(directory)", code) }
    }

    var attributes = posix_spawnattr_t()
    SpawnDefaults.configure(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    let envStrings = SpawnDefaults.environment(overriding: environment)

    var pid: pid_t = 0
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = envStrings.map { strdup($0) } + [nil]
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
    }
    let spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
    guard spawned == 0 else {
        if spawned == ENOENT || spawned == EACCES { throw .notFound(executable: executable) }
        throw fail("spawn", spawned)
    }
    // Close the child's ends so EOF arrives when it exits.
    close(outPipe[1])
    close(errPipe[1])
    close(inPair[0])
    opened = [outPipe[0], errPipe[0], input != nil ? inPair[1] : -1]

    var stdoutBytes: [UInt8] = []
    var stderrBytes: [UInt8] = []
    var timedOut = false
    let deadline = timeout.map { ContinuousClock.now + $0 }
    var inFD: Int32 = input != nil ? inPair[1] : -1
    var written = 0
    var outOpen = true
    var errOpen = true
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var killedAt: ContinuousClock.Instant?

    if inFD >= 0, let bytes = input, bytes.isEmpty {
        shutdown(inFD, Int32(SHUT_WR))
        inFD = -1
    }
    while outOpen || errOpen {
        var fds: [pollfd] = []
        if outOpen { fds.append(pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0)) }
        if errOpen { fds.append(pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)) }
        if inFD >= 0 { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
        var wait: Int32 = -1
        if let deadline, !timedOut {
            let left = deadline - ContinuousClock.now
            wait = Int32(max(0, min(Double(Int32.max), left.seconds * 1000).rounded(.up)))
        } else if let killedAt {
            // After a kill, give descendants that still hold the pipes 2 s, then stop reading.
            let left = killedAt + .seconds(2) - ContinuousClock.now
            if left <= .zero { break }
            wait = Int32((left.seconds * 1000).rounded(.up))
        }
        let ready = poll(&fds, nfds_t(fds.count), wait)
        if ready < 0 {
            if errno == EINTR { continue }
            let code = errno
            kill(-pid, SIGKILL)
            _ = reap(pid)
            throw fail("poll", code)
        }
        if ready == 0 {
            if let deadline, !timedOut, ContinuousClock.now >= deadline {
                timedOut = true
                kill(-pid, SIGKILL)
                kill(pid, SIGKILL)
                killedAt = ContinuousClock.now
                if inFD >= 0 {
                    close(inFD)
                    opened.removeAll { $0 == inFD }
                    inFD = -1
                }
            }
            continue
        }
        for entry in fds where entry.revents != 0 {
            if entry.fd == inFD, let bytes = input {
                let count = bytes.withUnsafeBytes { raw in
                    send(
                        inFD, raw.baseAddress.map { $0 + written }, bytes.count - written,
                        Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                if count > 0 { written += count }
                if count < 0 && errno != EAGAIN && errno != EINTR || written == bytes.count {
                    // Done, or the child stopped reading (EPIPE): either way, no more input.
                    close(inFD)
                    opened.removeAll { $0 == inFD }
                    inFD = -1
                }
                continue
            }
            let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if count <= 0 {
                if entry.fd == outPipe[0] { outOpen = false } else { errOpen = false }
                continue
            }
            if entry.fd == outPipe[0] {
                stdoutBytes.append(contentsOf: buffer[0..<count])
            } else {
                stderrBytes.append(contentsOf: buffer[0..<count])
            }
        }
    }
    if inFD >= 0 {
        close(inFD)
        opened.removeAll { $0 == inFD }
    }
    let status = reap(pid)
    return ProcessResult(termination: status, stdout: stdoutBytes, stderr: stderrBytes, timedOut: timedOut)
}

/// Waits for `pid` and decodes its wait status.
private func reap(_ pid: pid_t) -> Termination {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return .exited(-1) }
    }
    if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
    return .signaled(status & 0x7f)
}

/// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+), looked up at run time because the Glibc module
/// does not import it.
private let spawnAddChdir:
    (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")
        else { return nil }
        return unsafeBitCast(
            symbol,
            to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32)
                .self)
    }()

extension Duration {
    /// The duration in seconds as a Double.
    fileprivate var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}

extension String {
    /// The string without leading and trailing whitespace and newlines.
    func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
