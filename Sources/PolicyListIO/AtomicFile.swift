import Glibc
import PolicyListCore

/// Writes `bytes` to `path` atomically: a temp file `DIR/.NAME.tmp-<pid>-<random>` is written, fsynced and
/// renamed over `path`, then the directory is fsynced. On any failure the temp file is removed, an existing
/// file at `path` is left as it was, and the error names the path (ENOSPC/EDQUOT say "disk full").
public func writeFileAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(FileError) {
    try writeFileAtomically(bytes, to: path, mode: mode, write: { fd, pointer, count in write(fd, pointer, count) })
}

/// The writer with its `write(2)` replaceable, so tests can inject ENOSPC without filling a disk.
func writeFileAtomically(
    _ bytes: [UInt8], to path: String, mode: mode_t,
    write: (Int32, UnsafeRawPointer?, Int) -> Int
) throws(FileError) {
    try StagedFile(bytes, for: path, mode: mode, write: write).commit()
}

/// A file written and fsynced under a temporary name (`DIR/.NAME.tmp-<pid>-<random>`) beside its final path but
/// not yet visible there. Staging every file of a publication first and renaming them only when all are on disk
/// means a full disk or a crash while writing leaves the previous publication untouched.
public struct StagedFile: Sendable {
    /// The final path.
    public let path: String
    /// The temporary path holding the bytes.
    public let temporaryPath: String

    /// Writes and fsyncs `bytes` to a fresh temporary file beside `path`; on failure nothing is left behind.
    public init(_ bytes: [UInt8], for path: String, mode: mode_t = 0o644) throws(FileError) {
        try self.init(bytes, for: path, mode: mode, write: { fd, pointer, count in Glibc.write(fd, pointer, count) })
    }

    init(
        _ bytes: [UInt8], for path: String, mode: mode_t, write: (Int32, UnsafeRawPointer?, Int) -> Int
    ) throws(FileError) {
        let (directory, name) = splitPath(path)
        var random = SystemRandomNumberGenerator()
        let suffix = String(random.next() as UInt64, radix: 16)
        let temp = "\(directory)/.\(name).tmp-\(getpid())-\(suffix)"

        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(path: path, operation: "create temp file", errno: errno) }
        var failure: FileError?
        var offset = 0
        bytes.withUnsafeBytes { raw in
            while offset < raw.count {
                let count = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = FileError(path: path, operation: "write", errno: errno)
                    return
                }
                offset += count
            }
        }
        if failure == nil && fsync(fd) != 0 { failure = FileError(path: path, operation: "fsync", errno: errno) }
        // close can report a deferred write error (NFS, quotas).
        if close(fd) != 0 && failure == nil { failure = FileError(path: path, operation: "close", errno: errno) }
        if let failure {
            unlink(temp)
            throw failure
        }
        self.path = path
        self.temporaryPath = temp
    }

    /// Renames the temporary file over `path` and fsyncs the directory; on failure the temporary file is removed
    /// and an existing file at `path` is left as it was.
    public func commit() throws(FileError) {
        if rename(temporaryPath, path) != 0 {
            let failure = FileError(path: path, operation: "rename", errno: errno)
            unlink(temporaryPath)
            throw failure
        }
        try syncDirectory(splitPath(path).directory)
    }

    /// Removes the temporary file (the final path is not touched).
    public func discard() {
        unlink(temporaryPath)
    }
}

/// Removes temporary files (`.NAME.tmp-<pid>-<random>`) left in `directory` by writers that were killed, for the
/// given final names. A temporary file whose pid is still running is kept: it may be another writer's.
public func removeStaleTemporaries(in directory: String, names: [String]) {
    guard let handle = opendir(directory) else { return }
    var stale: [String] = []
    while let entry = readdir(handle) {
        let entryName = withUnsafeBytes(of: entry.pointee.d_name) {
            String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        for name in names where entryName.hasPrefix(".\(name).tmp-") {
            let rest = entryName.dropFirst(".\(name).tmp-".count)
            guard let pid = rest.split(separator: "-").first.flatMap({ Int32($0) }) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { stale.append(entryName) }
        }
    }
    closedir(handle)
    for entryName in stale { unlink("\(directory)/\(entryName)") }
}

/// Writes a UTF-8 string atomically (see `writeFileAtomically(_:to:mode:)`).
public func writeFileAtomically(_ text: String, to path: String, mode: mode_t = 0o644) throws(FileError) {
    try writeFileAtomically(Array(text.utf8), to: path, mode: mode)
}

/// Creates `path` and any missing parents (mode 0755); an existing directory is fine.
public func createDirectory(_ path: String) throws(FileError) {
    if path.isEmpty { throw FileError(path: path, operation: "mkdir", detail: "empty path") }
    var info = stat()
    if stat(path, &info) == 0 {
        if info.st_mode & S_IFMT == S_IFDIR { return }
        throw FileError(path: path, operation: "mkdir", errno: ENOTDIR)
    }
    let (parent, _) = splitPath(path)
    if parent != path && parent != "." && parent != "/" { try createDirectory(parent) }
    if mkdir(path, 0o755) != 0 && errno != EEXIST { throw FileError(path: path, operation: "mkdir", errno: errno) }
}

/// Fsyncs a directory so a rename in it survives a crash.
private func syncDirectory(_ directory: String) throws(FileError) {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw FileError(path: directory, operation: "open directory", errno: errno) }
    defer { close(fd) }
    // Some filesystems cannot fsync a directory (EINVAL); the rename has happened, so that is not an error.
    if fsync(fd) != 0 && errno != EINVAL && errno != EROFS {
        throw FileError(path: directory, operation: "fsync directory", errno: errno)
    }
}

/// Splits a path into its directory (`.` when none) and last component.
func splitPath(_ path: String) -> (directory: String, name: String) {
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return (".", String(trimmed)) }
    let directory = trimmed[..<slash]
    return (directory.isEmpty ? "/" : String(directory), String(trimmed[trimmed.index(after: slash)...]))
}

/// Reads a whole file, refusing files larger than `limit` bytes.
public func readFile(_ path: String, limit: Int = Limits.default.maxInputFileBytes) throws(FileError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileError(path: path, operation: "open", errno: errno) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw FileError(path: path, operation: "stat", errno: errno) }
    if info.st_mode & S_IFMT == S_IFDIR { throw FileError(path: path, operation: "read", errno: EISDIR) }
    if Int(info.st_size) > limit {
        throw FileError(
            path: path, operation: "read", detail: "\(info.st_size) bytes exceeds the \(describeBytes(limit)) limit")
    }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Int(info.st_size))
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { continue }
            throw FileError(path: path, operation: "read", errno: errno)
        }
        if count == 0 { break }
        bytes.append(contentsOf: buffer[0..<count])
        if bytes.count > limit {
            throw FileError(path: path, operation: "read", detail: "more than the \(describeBytes(limit)) limit")
        }
    }
    return bytes
}
