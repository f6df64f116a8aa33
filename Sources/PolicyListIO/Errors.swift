import Glibc
import PolicyListCore

/// An error that happened while handling one file; its message starts with the path.
public struct PathError: ExitCodeError, CustomStringConvertible {
    /// The file (or `archive:member`) the error is about.
    public let path: String
    /// What went wrong.
    public let underlying: any ExitCodeError

    /// Wraps `underlying` with the path it happened at.
    public init(path: String, _ underlying: any ExitCodeError) {
        self.path = path
        self.underlying = underlying
    }

    /// The underlying error's exit code.
    public var exitCode: ExitCode { underlying.exitCode }
    /// `"PATH: message"`.
    public var message: String { "\(path): \(underlying.message)" }
    /// Same as `message`.
    public var description: String { message }
}

/// A failed system call on a file: the operation, the errno and a readable reason.
public struct FileError: ExitCodeError, Equatable, CustomStringConvertible {
    /// The file involved.
    public let path: String
    /// The operation that failed (`open`, `read`, `write`, `fsync`, `rename`, …).
    public let operation: String
    /// The errno value, or 0 when the failure is not a system error.
    public let errno: Int32
    /// Extra detail when `errno` is 0.
    public let detail: String

    /// Creates a file error from an errno value.
    public init(path: String, operation: String, errno: Int32) {
        self.path = path
        self.operation = operation
        self.errno = errno
        self.detail = ""
    }

    /// Creates a file error that is not a system error (e.g. a size limit).
    public init(path: String, operation: String, detail: String) {
        self.path = path
        self.operation = operation
        self.errno = 0
        self.detail = detail
    }

    /// True when the error means the disk (or quota) is full.
    public var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }

    /// I/O errors exit 74; size limits (no errno) mean bad input (65).
    public var exitCode: ExitCode { errno == 0 ? .dataError : .ioError }

    /// `"PATH: write: disk full (No space left on device)"`.
    public var message: String {
        if errno == 0 { return "\(path): \(operation): \(detail)" }
        let reason = errorText(errno)
        if errno == ENOSPC { return "\(path): \(operation): disk full (\(reason))" }
        if errno == EDQUOT { return "\(path): \(operation): disk full: quota exceeded (\(reason))" }
        return "\(path): \(operation): \(reason)"
    }

    /// Same as `message`.
    public var description: String { message }
}

/// The C library's text for an errno value.
func errorText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
