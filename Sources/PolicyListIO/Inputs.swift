import Glibc
import PolicyListCore

/// One snapshot found among the inputs: a `.json` or `.json.gz` file or archive member.
public struct InputItem: Sendable, Equatable {
    /// Where it came from: a file path, or `archive.tar.gz:member/name.json` for archive members.
    public let displayPath: String
    /// The base name without `.gz` (e.g. `20180620T185653Z-6dcbbb2.policy.json`).
    public let name: String
    /// The (decompressed) contents.
    public let bytes: [UInt8]
    /// True when the input was gzip-compressed.
    public let wasCompressed: Bool
    /// The detached signature (`NAME.json.asc`), when present.
    public let ascBytes: [UInt8]?
    /// Where the signature came from, when present.
    public let ascPath: String?
}

/// An input that could not be used; never thrown, always recorded.
public struct InputRejection: Sendable, Equatable, CustomStringConvertible {
    /// The file, or `archive:member`.
    public let path: String
    /// What went wrong (without the path).
    public let error: String
    /// The exit code class of the failure.
    public let exitCode: ExitCode
    /// The raw bytes, when they were read, so the caller can keep them.
    public let bytes: [UInt8]?

    /// `"PATH: error"`.
    public var description: String { "\(path): \(error)" }
}

/// A file that was looked at and deliberately ignored.
public struct SkippedInput: Sendable, Equatable {
    /// The file, or `archive:member`.
    public let path: String
    /// Why it was ignored.
    public let reason: String
}

/// Everything `collectSnapshotInputs` found.
public struct InputBatch: Sendable, Equatable {
    /// Usable snapshots, in input order (directories sorted by path, archive members in archive order).
    public var items: [InputItem] = []
    /// Inputs that failed.
    public var rejections: [InputRejection] = []
    /// Files ignored (not snapshot files, directory members of archives, orphan signatures, symlinks in
    /// directories).
    public var skipped: [SkippedInput] = []

    /// How many files were ignored.
    public var skippedCount: Int { skipped.count }
}

/// What a file name says it is.
enum InputKind: Equatable {
    case json
    case jsonGz
    case signature
    case archive(gzipped: Bool)
    case other

    init(name: String) {
        let lower = name.lowercased()
        if lower.hasSuffix(".json") {
            self = .json
        } else if lower.hasSuffix(".json.gz") {
            self = .jsonGz
        } else if lower.hasSuffix(".asc") {
            self = .signature
        } else if lower.hasSuffix(".tar") {
            self = .archive(gzipped: false)
        } else if lower.hasSuffix(".tar.gz") || lower.hasSuffix(".tgz") {
            self = .archive(gzipped: true)
        } else {
            self = .other
        }
    }
}

/// The signature name for a snapshot name: `NAME.json` → `NAME.json.asc`, `NAME.json.gz` → `NAME.json.asc`.
func signatureName(for name: String) -> String {
    (name.lowercased().hasSuffix(".gz") ? String(name.dropLast(3)) : name) + ".asc"
}

/// Expands snapshot PATH arguments (files, directories recursively, `.tar`/`.tar.gz`/`.tgz` archives) into
/// items with their sibling `.asc`. Failures are recorded in the batch, never thrown.
public func collectSnapshotInputs(paths: [String], limits: Limits = .default) -> InputBatch {
    var batch = InputBatch()
    for path in paths {
        var info = stat()
        guard stat(path, &info) == 0 else {
            batch.rejections.append(
                InputRejection(
                    path: path, error: FileError(path: path, operation: "stat", errno: errno).operationMessage,
                    exitCode: .ioError, bytes: nil))
            continue
        }
        if info.st_mode & S_IFMT == S_IFDIR {
            collectDirectory(path, limits: limits, into: &batch)
        } else {
            collectFile(path, explicit: true, limits: limits, into: &batch)
        }
    }
    return batch
}

private func collectDirectory(_ root: String, limits: Limits, into batch: inout InputBatch) {
    var files: [String] = []
    walk(root, files: &files, batch: &batch)
    files.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    for file in files { collectFile(file, explicit: false, limits: limits, into: &batch) }
}

/// Lists regular files under `directory` recursively without following symlinks.
private func walk(_ directory: String, files: inout [String], batch: inout InputBatch) {
    guard let handle = opendir(directory) else {
        batch.rejections.append(
            InputRejection(
                path: directory, error: FileError(path: directory, operation: "opendir", errno: errno).operationMessage,
                exitCode: .ioError, bytes: nil))
        return
    }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    for name in names {
        let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
        var info = stat()
        guard lstat(path, &info) == 0 else {
            batch.rejections.append(
                InputRejection(
                    path: path, error: FileError(path: path, operation: "lstat", errno: errno).operationMessage,
                    exitCode: .ioError, bytes: nil))
            continue
        }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: walk(path, files: &files, batch: &batch)
        case S_IFREG: files.append(path)
        case S_IFLNK: batch.skipped.append(SkippedInput(path: path, reason: "symbolic link not followed"))
        default: batch.skipped.append(SkippedInput(path: path, reason: "not a regular file"))
        }
    }
}

private func collectFile(_ path: String, explicit: Bool, limits: Limits, into batch: inout InputBatch) {
    let (directory, name) = splitPath(path)
    switch InputKind(name: name) {
    case .other:
        if explicit {
            batch.rejections.append(
                InputRejection(
                    path: path, error: "unsupported file type (expected .json, .json.gz, .tar, .tar.gz or .tgz)",
                    exitCode: .dataError, bytes: nil))
        } else {
            batch.skipped.append(SkippedInput(path: path, reason: "not a snapshot file"))
        }
    case .signature:
        let base = String(name.dropLast(4))
        let hasSnapshot = [base, base + ".gz"].contains { exists("\(directory)/\($0)") }
        if !hasSnapshot {
            batch.skipped.append(SkippedInput(path: path, reason: "signature without a matching .json"))
        } else if explicit {
            batch.skipped.append(SkippedInput(path: path, reason: "signature; read next to its .json"))
        }
    case .json, .jsonGz:
        let compressed = InputKind(name: name) == .jsonGz
        let raw: [UInt8]
        do throws(FileError) {
            raw = try readFile(path, limit: limits.maxInputFileBytes)
        } catch {
            batch.rejections.append(
                InputRejection(path: path, error: error.operationMessage, exitCode: error.exitCode, bytes: nil))
            return
        }
        var bytes = raw
        if compressed {
            do throws(GzipError) {
                bytes = try gunzip(raw, limits: limits)
            } catch {
                batch.rejections.append(
                    InputRejection(path: path, error: error.message, exitCode: error.exitCode, bytes: raw))
                return
            }
        }
        let ascName = signatureName(for: name)
        let ascPath = directory == "." && !path.hasPrefix("./") ? ascName : "\(directory)/\(ascName)"
        var ascBytes: [UInt8]?
        if exists(ascPath) {
            do throws(FileError) {
                ascBytes = try readFile(ascPath, limit: limits.maxInputFileBytes)
            } catch {
                batch.rejections.append(
                    InputRejection(path: ascPath, error: error.operationMessage, exitCode: error.exitCode, bytes: nil))
            }
        }
        batch.items.append(
            InputItem(
                displayPath: path, name: compressed ? String(name.dropLast(3)) : name, bytes: bytes,
                wasCompressed: compressed, ascBytes: ascBytes, ascPath: ascBytes == nil ? nil : ascPath))
    case .archive(let gzipped):
        collectArchive(path, gzipped: gzipped, limits: limits, into: &batch)
    }
}

private func collectArchive(_ path: String, gzipped: Bool, limits: Limits, into batch: inout InputBatch) {
    let raw: [UInt8]
    do throws(FileError) {
        raw = try readFile(path, limit: limits.maxInputFileBytes)
    } catch {
        batch.rejections.append(
            InputRejection(path: path, error: error.operationMessage, exitCode: error.exitCode, bytes: nil))
        return
    }
    var tarBytes = raw
    if gzipped {
        let (output, error) = gunzipSalvaging(
            raw, limit: limits.maxDecompressedBytes, maxRatio: limits.maxCompressionRatio,
            ratioCheckAfter: limits.ratioCheckAfterBytes)
        if let error {
            batch.rejections.append(
                InputRejection(path: path, error: error.message, exitCode: error.exitCode, bytes: raw))
            // A truncated or corrupt stream still holds its complete leading members; a bomb is not salvaged.
            switch error {
            case .truncated, .corrupt, .trailingGarbage: break
            default: return
            }
        }
        tarBytes = output
    }
    let (contents, tarError) = readTarSalvaging(tarBytes, limits: limits)
    if let tarError, batch.rejections.last?.path != path {
        batch.rejections.append(
            InputRejection(path: path, error: tarError.message, exitCode: tarError.exitCode, bytes: raw))
    }
    for rejection in contents.rejected {
        let memberPath = "\(path):\(rejection.name)"
        if rejection.kind == "directory" {
            batch.skipped.append(SkippedInput(path: memberPath, reason: "directory member"))
        } else {
            batch.rejections.append(
                InputRejection(
                    path: path, error: rejection.message, exitCode: .dataError,
                    bytes: rejection.bytes.isEmpty ? nil : rejection.bytes))
        }
    }
    var byName: [String: TarFile] = [:]
    for file in contents.files { byName[file.name] = file }
    for file in contents.files {
        let memberPath = "\(path):\(file.name)"
        let (_, base) = splitPath(file.name)
        switch InputKind(name: base) {
        case .json, .jsonGz:
            let compressed = InputKind(name: base) == .jsonGz
            var bytes = file.bytes
            if compressed {
                do throws(GzipError) {
                    bytes = try gunzip(file.bytes, limits: limits)
                } catch {
                    batch.rejections.append(
                        InputRejection(
                            path: memberPath, error: error.message, exitCode: error.exitCode, bytes: file.bytes))
                    continue
                }
            }
            let ascMember = signatureName(for: file.name)
            let asc = byName[ascMember]
            batch.items.append(
                InputItem(
                    displayPath: memberPath, name: compressed ? String(base.dropLast(3)) : base, bytes: bytes,
                    wasCompressed: compressed, ascBytes: asc?.bytes, ascPath: asc.map { "\(path):\($0.name)" }))
        case .signature:
            let snapshot = String(file.name.dropLast(4))
            if byName[snapshot] == nil && byName[snapshot + ".gz"] == nil {
                batch.skipped.append(SkippedInput(path: memberPath, reason: "signature without a matching .json"))
            }
        case .archive:
            batch.skipped.append(SkippedInput(path: memberPath, reason: "nested archive not expanded"))
        case .other:
            batch.skipped.append(SkippedInput(path: memberPath, reason: "not a snapshot file"))
        }
    }
}

/// True when `path` names an existing regular file (symlinks followed).
private func exists(_ path: String) -> Bool {
    var info = stat()
    return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
}

extension FileError {
    /// The message without the leading path (for records that carry the path separately).
    var operationMessage: String {
        let full = message
        let prefix = "\(path): "
        return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : full
    }
}

/// Reads a file, transparently inflating it when its name ends in `.gz`.
public func readInputFile(_ path: String, limits: Limits = .default) throws(PathError) -> [UInt8] {
    let raw: [UInt8]
    do throws(FileError) {
        raw = try readFile(path, limit: limits.maxInputFileBytes)
    } catch {
        throw PathError(path: path, FileErrorWithoutPath(error))
    }
    guard path.lowercased().hasSuffix(".gz") else { return raw }
    do throws(GzipError) {
        return try gunzip(raw, limits: limits)
    } catch {
        throw PathError(path: path, error)
    }
}

/// A `FileError` whose message leaves out the path (the wrapping `PathError` adds it).
struct FileErrorWithoutPath: ExitCodeError {
    let error: FileError
    init(_ error: FileError) { self.error = error }
    var exitCode: ExitCode { error.exitCode }
    var message: String { error.operationMessage }
}
