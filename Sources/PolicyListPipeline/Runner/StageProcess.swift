import Glibc
import PolicyListCore
import PolicyListIO

/// Write end of the self-pipe the signal handler writes to; set once before the handlers are installed.
nonisolated(unsafe) private var signalPipeWriteFD: Int32 = -1

/// SIGINT, SIGTERM and SIGHUP turned into bytes on a pipe the runner polls (the self-pipe trick): the
/// handler only calls `write(2)`, which is async-signal-safe; everything else happens in the poll loop.
public final class SignalPipe {
    /// The signals the runner handles.
    public static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// The read end.
    let readFD: Int32
    private let writeFD: Int32

    /// Creates the pipe and installs the handlers (once per process).
    public init() throws(ProcessError) {
        var pair: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, type, 0, &pair) == 0 else {
            throw .system(executable: "policylist", operation: "socketpair", errno: errno)
        }
        readFD = pair[0]
        writeFD = pair[1]
        signalPipeWriteFD = writeFD
        for signalNumber in Self.handled {
            _ = signal(signalNumber) { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = send(signalPipeWriteFD, &byte, 1, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
        }
    }

    deinit {
        for signalNumber in Self.handled { _ = signal(signalNumber, SIG_DFL) }
        close(readFD)
        close(writeFD)
    }

    /// The signals received since the last call (without waiting).
    public func drain() -> [Int32] {
        var out: [Int32] = []
        var buffer = [UInt8](repeating: 0, count: 64)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(readFD, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return out }
            out += buffer[0..<count].map { Int32($0) }
        }
    }
}

/// The name of a signal for messages (`SIGTERM`).
public func signalName(_ number: Int32) -> String {
    switch number {
    case SIGINT: "SIGINT"
    case SIGTERM: "SIGTERM"
    case SIGHUP: "SIGHUP"
    case SIGKILL: "SIGKILL"
    case SIGQUIT: "SIGQUIT"
    case SIGABRT: "SIGABRT"
    case SIGSEGV: "SIGSEGV"
    case SIGPIPE: "SIGPIPE"
    case SIGBUS: "SIGBUS"
    default: "signal \(number)"
    }
}

/// How a stage process ended, with what it printed on stdout.
struct StageExecution {
    /// How it ended.
    var termination: Termination
    /// Its stdout (at most `StageProcess.stdoutLimit` bytes).
    var stdout: [UInt8]
    /// True when stdout was longer than the limit.
    var stdoutTruncated: Bool
    /// The signal the runner received and forwarded, if any.
    var interruptedBy: Int32?
    /// The last non-empty line it wrote to stderr.
    var lastStderrLine: String?
}

/// Starts one stage and streams it: stderr line by line to the runner's stderr with a `[name] ` prefix,
/// stdout captured. Never through a shell.
enum StageProcess {
    /// How much stdout is kept (a stage's summary is one line; more is drained and dropped).
    static let stdoutLimit = 1 << 20
    /// How long a stage may take to exit after a forwarded signal before it is killed.
    static let gracePeriod: Duration = .seconds(10)

    /// Runs `path` with `argv` (argv[0] included) in its own process group, stdin `/dev/null`, the inherited
    /// environment plus `environment`. A signal on `signals` is forwarded to the stage's process group; a
    /// second one, or `gracePeriod` without exit, sends SIGKILL. `started` gets the pid once it runs.
    static func run(
        path: String, argv: [String], prefix: String, environment: [String: String], signals: SignalPipe?,
        inherit: Int32? = nil, started: (Int32) -> Void
    ) throws(ProcessError) -> StageExecution {
        let executable = argv.first ?? path
        func fail(_ operation: String, _ code: Int32 = errno) -> ProcessError {
            .system(executable: executable, operation: operation, errno: code)
        }
        var outPair: [Int32] = [-1, -1]
        var errPair: [Int32] = [-1, -1]
        var opened: [Int32] = []
        defer { for fd in opened where fd >= 0 { close(fd) } }
        let socketType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, socketType, 0, &outPair) == 0 else { throw fail("socketpair") }
        opened += outPair
        guard socketpair(AF_UNIX, socketType, 0, &errPair) == 0 else { throw fail("socketpair") }
        opened += errPair
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard devNull >= 0 else { throw fail("open /dev/null") }
        opened.append(devNull)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, devNull, 0)
        posix_spawn_file_actions_adddup2(&actions, outPair[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPair[1], 2)
        // The stage gets stdin, stdout, stderr and `inherit` (as fd 3) and nothing else: a descriptor the
        // runner inherited from its own parent (a scheduler's pipe) must not be held open by a stage that
        // outlives the runner.
        if let inherit { posix_spawn_file_actions_adddup2(&actions, inherit, 3) }
        if let closeFrom = spawnAddCloseFrom { _ = closeFrom(&actions, inherit == nil ? 3 : 4) }

        // Its own process group: a terminal's Ctrl-C reaches the runner only, which forwards it once; and
        // the runner can signal the stage together with whatever the stage started.
        var attributes = posix_spawnattr_t()
        SpawnDefaults.configure(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnv = SpawnDefaults.environment(overriding: environment).map { strdup($0) } + [nil]
        defer {
            for pointer in cArgv { free(pointer) }
            for pointer in cEnv { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, &attributes, cArgv, cEnv)
        guard spawned == 0 else {
            if spawned == ENOENT || spawned == EACCES { throw .notFound(executable: path) }
            throw fail("spawn", spawned)
        }
        close(outPair[1])
        close(errPair[1])
        close(devNull)
        opened = [outPair[0], errPair[0]]
        started(pid)

        var execution = StageExecution(
            termination: .exited(0), stdout: [], stdoutTruncated: false, interruptedBy: nil, lastStderrLine: nil)
        var lines = LinePrefixer(prefix: Array(prefix.utf8))
        var outOpen = true
        var errOpen = true
        var killDeadline: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while outOpen || errOpen {
            var fds: [pollfd] = []
            if outOpen { fds.append(pollfd(fd: outPair[0], events: Int16(POLLIN), revents: 0)) }
            if errOpen { fds.append(pollfd(fd: errPair[0], events: Int16(POLLIN), revents: 0)) }
            if let signals { fds.append(pollfd(fd: signals.readFD, events: Int16(POLLIN), revents: 0)) }
            var wait: Int32 = -1
            if let killDeadline {
                let left = killDeadline - ContinuousClock.now
                wait = max(
                    0, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            }
            let ready = poll(&fds, nfds_t(fds.count), wait)
            if ready < 0 {
                if errno == EINTR { continue }
                let code = errno
                kill(-pid, SIGKILL)
                _ = reap(pid)
                throw fail("poll", code)
            }
            if let deadline = killDeadline, ContinuousClock.now >= deadline {
                kill(-pid, SIGKILL)
                killDeadline = nil
            }
            for entry in fds where entry.revents != 0 {
                if let signals, entry.fd == signals.readFD {
                    for number in signals.drain() {
                        if execution.interruptedBy == nil {
                            execution.interruptedBy = number
                            kill(-pid, number)
                            killDeadline = ContinuousClock.now + gracePeriod
                        } else {
                            kill(-pid, SIGKILL)
                            killDeadline = nil
                        }
                    }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 {
                    if entry.fd == outPair[0] { outOpen = false } else { errOpen = false }
                    continue
                }
                if entry.fd == outPair[0] {
                    let room = max(0, stdoutLimit - execution.stdout.count)
                    execution.stdout.append(contentsOf: buffer[0..<min(room, count)])
                    if count > room { execution.stdoutTruncated = true }
                } else {
                    lines.feed(buffer[0..<count])
                }
            }
        }
        lines.finish()
        execution.lastStderrLine = lines.lastLine
        execution.termination = reap(pid)
        return execution
    }

    /// Waits for `pid` and decodes its status.
    private static func reap(_ pid: pid_t) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(-1) }
        }
        if status & 0x7f == 0 { return .exited((status >> 8) & 0xff) }
        return .signaled(status & 0x7f)
    }
}

/// `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34+), looked up at run time because the Glibc module
/// does not import it; without it the stage inherits the runner's non-close-on-exec descriptors.
private let spawnAddCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
    else { return nil }
    return unsafeBitCast(
        symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
}()

/// Splits a byte stream into lines and writes each to stderr with a prefix as soon as it is complete.
/// A line longer than `maxLine` is written in pieces, so memory stays bounded.
struct LinePrefixer {
    let prefix: [UInt8]
    var pending: [UInt8] = []
    var lastLine: String?
    static let maxLine = 64 * 1024

    init(prefix: [UInt8]) { self.prefix = prefix }

    mutating func feed(_ bytes: ArraySlice<UInt8>) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                emit()
            } else {
                pending.append(byte)
                if pending.count >= Self.maxLine { emit() }
            }
        }
    }

    mutating func finish() {
        if !pending.isEmpty { emit() }
    }

    private mutating func emit() {
        let text = String(decoding: pending, as: UTF8.self)
        if !text.allSatisfy(\.isWhitespace) { lastLine = text }
        writeBytes(2, prefix + pending + [UInt8(ascii: "\n")])
        pending.removeAll(keepingCapacity: true)
    }
}

/// Writes all of `bytes` to `fd` (retrying short writes; gives up on an error such as a closed stderr).
func writeBytes(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress.map { $0 + offset }, $0.count - offset) }
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += written
    }
}
