/// Process exit codes (sysexits.h); each means one thing.
public enum ExitCode: Int32, Sendable {
    /// Everything went through.
    case ok = 0
    /// An internal failure not caused by the input.
    case failure = 1
    /// The command line was wrong.
    case usage = 64
    /// Some input was rejected; the rest was processed.
    case dataError = 65
    /// A network peer or a required program was unavailable.
    case unavailable = 69
    /// Reading or writing a file failed.
    case ioError = 74
    /// A temporary condition (e.g. a lock held by another run); retry later.
    case tempFail = 75
}

/// An error that knows its exit code and its one-line message. Lives in Core so every library can say
/// what its failures mean for the process without importing the CLI.
public protocol ExitCodeError: Error {
    /// The exit code the process ends with.
    var exitCode: ExitCode { get }
    /// A message naming what went wrong and where.
    var message: String { get }
}

/// A usage error (exit 64).
public struct UsageError: ExitCodeError, Equatable {
    /// What was wrong with the command line.
    public let message: String
    /// Always `.usage`.
    public var exitCode: ExitCode { .usage }
    /// Creates a usage error.
    public init(_ message: String) { self.message = message }
}

/// A generic error with an explicit exit code.
public struct CommandError: ExitCodeError, Equatable {
    /// The exit code.
    public let exitCode: ExitCode
    /// The message.
    public let message: String
    /// Creates an error.
    public init(_ exitCode: ExitCode, _ message: String) {
        self.exitCode = exitCode
        self.message = message
    }
}
