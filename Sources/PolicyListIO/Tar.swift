import PolicyListCore

/// A fatal tar problem: the archive cannot be read past it.
public enum TarError: ExitCodeError, Equatable {
    /// The archive ends inside a header or member; `offset` is where the missing bytes start.
    case truncated(offset: Int, expected: String)
    /// The header at `offset` has a wrong checksum (not a tar archive, or corrupt).
    case badChecksum(offset: Int)
    /// A numeric header field at `offset` is malformed.
    case badField(offset: Int, field: String)
    /// A pax extended header at `offset` is malformed.
    case badPax(offset: Int, detail: String)
    /// More members than the limit.
    case tooManyMembers(limit: Int)
    /// The member sizes add up past the limit.
    case totalTooLarge(limit: Int)
    /// The writer was given a name it refuses to store.
    case unsafeName(name: String, reason: String)
    /// The writer was given a member too large for a ustar header.
    case memberTooLarge(name: String, size: Int)

    /// Always bad input (65).
    public var exitCode: ExitCode { .dataError }

    /// `"tar: truncated archive at byte 1024 (expected a 512-byte header)"` and the like.
    public var message: String {
        switch self {
        case .truncated(let offset, let expected):
            return "tar: truncated archive at byte \(offset) (expected \(expected))"
        case .badChecksum(let offset): return "tar: header checksum mismatch at byte \(offset) (not a tar archive?)"
        case .badField(let offset, let field): return "tar: malformed \(field) field in header at byte \(offset)"
        case .badPax(let offset, let detail): return "tar: malformed pax header at byte \(offset): \(detail)"
        case .tooManyMembers(let limit): return "tar: more than \(limit) members (member count limit)"
        case .totalTooLarge(let limit): return "tar: members add up past \(describeBytes(limit)) limit"
        case .unsafeName(let name, let reason): return "tar: refusing member name '\(name)': \(reason)"
        case .memberTooLarge(let name, let size): return "tar: member '\(name)' too large for ustar (\(size) bytes)"
        }
    }
}

/// A regular file read from a tar archive.
public struct TarFile: Sendable, Equatable {
    /// The normalized member name (no leading `./`, no empty components).
    public let name: String
    /// The member's contents.
    public let bytes: [UInt8]
    /// The byte offset of the member's header in the (uncompressed) archive.
    public let offset: Int
}

/// A member that was not extracted, and why.
public struct TarRejection: Sendable, Equatable {
    /// The member name as stored.
    public let name: String
    /// The kind of member (`symlink`, `hardlink`, `directory`, `file`, …).
    public let kind: String
    /// Why it was not extracted, e.g. "path escapes the archive".
    public let reason: String
    /// The byte offset of the member's header in the (uncompressed) archive.
    public let offset: Int
    /// The member's data when it was a regular file (so a caller can keep it), else empty.
    public let bytes: [UInt8]

    /// `"member '../../x': path escapes the archive"`.
    public var message: String { "member '\(name)': \(reason)" }
}

/// The readable content of a tar archive.
public struct TarContents: Sendable, Equatable {
    /// Regular files with safe names, in archive order.
    public var files: [TarFile] = []
    /// Members not extracted, in archive order.
    public var rejected: [TarRejection] = []
}

/// Checks a member name; returns the normalized name or the reason it is unsafe.
public func normalizeMemberName(_ name: String) -> Result<String, TarNameProblem> {
    if name.isEmpty { return .failure(.empty) }
    if name.utf8.contains(0) { return .failure(.nul) }
    if name.hasPrefix("/") { return .failure(.absolute) }
    var parts: [Substring] = []
    for part in name.split(separator: "/", omittingEmptySubsequences: true) {
        if part == ".." { return .failure(.escapes) }
        if part == "." { continue }
        parts.append(part)
    }
    if parts.isEmpty { return .failure(.empty) }
    return .success(parts.joined(separator: "/"))
}

/// Why a member name is refused.
public enum TarNameProblem: Error, Equatable, Sendable {
    /// The name is empty (or only `.` and `/`).
    case empty
    /// The name contains a NUL byte.
    case nul
    /// The name starts with `/`.
    case absolute
    /// The name has a `..` component.
    case escapes

    /// A short reason for messages.
    public var reason: String {
        switch self {
        case .empty: return "empty name"
        case .nul: return "name contains a NUL byte"
        case .absolute: return "absolute path"
        case .escapes: return "path escapes the archive"
        }
    }
}

/// Reads a ustar/GNU/pax tar archive (already decompressed): regular files with safe names are returned,
/// everything else is listed as rejected. Throws when the archive itself cannot be read on.
public func readTar(_ bytes: [UInt8], limits: Limits = .default) throws(TarError) -> TarContents {
    let (contents, error) = readTarSalvaging(bytes, limits: limits)
    if let error { throw error }
    return contents
}

/// Like `readTar`, but returns the members read before a fatal error together with that error.
public func readTarSalvaging(_ bytes: [UInt8], limits: Limits = .default) -> (TarContents, TarError?) {
    var contents = TarContents()
    do throws(TarError) {
        try readMembers(bytes, limits: limits, into: &contents)
        return (contents, nil)
    } catch {
        return (contents, error)
    }
}

private func readMembers(_ bytes: [UInt8], limits: Limits, into contents: inout TarContents) throws(TarError) {
    var offset = 0
    var members = 0
    var total = 0
    var longName: String?
    var paxPath: String?
    var paxSize: Int?

    while true {
        if offset == bytes.count { break }  // no end-of-archive blocks: tolerated like GNU tar
        guard offset + 512 <= bytes.count else {
            throw .truncated(offset: offset, expected: "a 512-byte header")
        }
        let header = bytes[offset..<offset + 512]
        if header.allSatisfy({ $0 == 0 }) { break }  // end of archive
        try verifyChecksum(header, offset: offset)
        members += 1
        if members > limits.maxTarMembers { throw .tooManyMembers(limit: limits.maxTarMembers) }

        let type = header[header.startIndex + 156]
        var size = try parseNumber(header, 124, 12, offset: offset, field: "size")
        if let override = paxSize, type != UInt8(ascii: "x"), type != UInt8(ascii: "g") { size = override }
        let dataStart = offset + 512
        let padded = (size + 511) / 512 * 512
        guard size >= 0, dataStart + size <= bytes.count else {
            throw .truncated(offset: bytes.count, expected: "\(size) bytes of member data from byte \(dataStart)")
        }
        let data = bytes[dataStart..<dataStart + size]
        let next = min(dataStart + padded, bytes.count)

        switch type {
        case UInt8(ascii: "L"):
            longName = cString(data)
            offset = next
            continue
        case UInt8(ascii: "K"):  // GNU long link name: only relevant to links, which are rejected anyway
            offset = next
            continue
        case UInt8(ascii: "x"):
            let records = try parsePax(data, offset: offset)
            paxPath = records["path"]
            if let text = records["size"] {
                guard let value = Int(text), value >= 0 else { throw .badPax(offset: offset, detail: "size '\(text)'") }
                paxSize = value
            }
            offset = next
            continue
        case UInt8(ascii: "g"):
            _ = try parsePax(data, offset: offset)  // global defaults: validated, not applied
            offset = next
            continue
        default:
            break
        }

        let name = paxPath ?? longName ?? ustarName(header)
        longName = nil
        paxPath = nil
        paxSize = nil

        let kind: String
        switch type {
        case 0, UInt8(ascii: "0"), UInt8(ascii: "7"): kind = "file"
        case UInt8(ascii: "1"): kind = "hardlink"
        case UInt8(ascii: "2"): kind = "symlink"
        case UInt8(ascii: "3"): kind = "character device"
        case UInt8(ascii: "4"): kind = "block device"
        case UInt8(ascii: "5"): kind = "directory"
        case UInt8(ascii: "6"): kind = "fifo"
        default: kind = "type '\(String(UnicodeScalar(type)))'"
        }

        if kind != "file" {
            let target =
                kind == "symlink" || kind == "hardlink"
                ? " -> \(cString(header[(header.startIndex + 157)...].prefix(100)))" : ""
            contents.rejected.append(
                TarRejection(
                    name: name, kind: kind, reason: "\(kind)\(target) not extracted", offset: offset, bytes: []))
        } else if name.hasSuffix("/") {
            contents.rejected.append(
                TarRejection(
                    name: name, kind: kind, reason: "regular file with a directory name", offset: offset,
                    bytes: Array(data)))
        } else {
            switch normalizeMemberName(name) {
            case .failure(let problem):
                contents.rejected.append(
                    TarRejection(name: name, kind: kind, reason: problem.reason, offset: offset, bytes: Array(data)))
            case .success(let clean):
                if size > limits.maxTarMemberBytes {
                    contents.rejected.append(
                        TarRejection(
                            name: name, kind: kind,
                            reason: "\(size) bytes exceeds the \(describeBytes(limits.maxTarMemberBytes)) member limit",
                            offset: offset, bytes: []))
                } else {
                    total += size
                    if total > limits.maxTarTotalBytes { throw .totalTooLarge(limit: limits.maxTarTotalBytes) }
                    contents.files.append(TarFile(name: clean, bytes: Array(data), offset: offset))
                }
            }
        }
        offset = next
    }
}

private func verifyChecksum(_ header: ArraySlice<UInt8>, offset: Int) throws(TarError) {
    let start = header.startIndex
    guard let stored = try? parseNumber(header, 148, 8, offset: offset, field: "checksum") else {
        throw .badChecksum(offset: offset)
    }
    var unsigned = 0
    var signed = 0
    for index in 0..<512 {
        let byte = (148..<156).contains(index) ? UInt8(ascii: " ") : header[start + index]
        unsigned += Int(byte)
        signed += Int(Int8(bitPattern: byte))
    }
    if stored != unsigned && stored != signed { throw .badChecksum(offset: offset) }
}

/// Parses an octal (or GNU base-256) numeric field.
private func parseNumber(
    _ header: ArraySlice<UInt8>, _ at: Int, _ length: Int, offset: Int, field: String
) throws(TarError) -> Int {
    let bytes = header[(header.startIndex + at)..<(header.startIndex + at + length)]
    if let first = bytes.first, first & 0x80 != 0 {
        // Base-256: big-endian, first byte's top bit is the marker. Negative values are refused.
        if first & 0x40 != 0 { throw .badField(offset: offset, field: field) }
        var value = Int(first & 0x3f)
        for byte in bytes.dropFirst() {
            guard value < Int.max >> 8 else { throw .badField(offset: offset, field: field) }
            value = value << 8 | Int(byte)
        }
        return value
    }
    var value = 0
    var seenDigit = false
    var ended = false
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "7"):
            if ended { throw TarError.badField(offset: offset, field: field) }
            guard value < Int.max >> 3 else { throw TarError.badField(offset: offset, field: field) }
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
            seenDigit = true
        case UInt8(ascii: " "), 0:
            if seenDigit { ended = true }
        default:
            throw TarError.badField(offset: offset, field: field)
        }
    }
    return value
}

/// The name from the ustar `prefix` and `name` fields.
private func ustarName(_ header: ArraySlice<UInt8>) -> String {
    let start = header.startIndex
    let name = cString(header[start..<start + 100])
    let magic = header[(start + 257)..<(start + 262)]
    if magic.elementsEqual("ustar".utf8) {
        let prefix = cString(header[(start + 345)..<(start + 500)])
        if !prefix.isEmpty { return prefix + "/" + name }
    }
    return name
}

/// Decodes bytes up to the first NUL (UTF-8, invalid bytes replaced).
private func cString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
    return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
}

/// Parses pax records `"LEN key=value\n"`.
private func parsePax(_ data: ArraySlice<UInt8>, offset: Int) throws(TarError) -> [String: String] {
    var records: [String: String] = [:]
    var index = data.startIndex
    while index < data.endIndex {
        if data[index] == 0 { break }
        guard let space = data[index...].firstIndex(of: UInt8(ascii: " ")),
            let length = Int(String(decoding: data[index..<space], as: UTF8.self)), length > 0,
            index + length <= data.endIndex, data[index + length - 1] == UInt8(ascii: "\n"),
            let equals = data[(space + 1)..<(index + length)].firstIndex(of: UInt8(ascii: "="))
        else { throw .badPax(offset: offset, detail: "bad record at byte \(index - data.startIndex)") }
        let key = String(decoding: data[(space + 1)..<equals], as: UTF8.self)
        let value = String(decoding: data[(equals + 1)..<(index + length - 1)], as: UTF8.self)
        records[key] = value
        index += length
    }
    return records
}

/// A member for `writeTar`.
public struct TarEntry: Sendable, Equatable {
    /// The member name (relative, no `..`).
    public let name: String
    /// The contents.
    public let bytes: [UInt8]

    /// Creates an entry.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }
}

/// Writes a deterministic ustar archive of regular files in the given order: mode 0644, uid/gid 0, no user
/// names, `mtime` for every member; names too long for ustar get a pax `path` record.
public func writeTar(_ entries: [TarEntry], mtime: Int = 0) throws(TarError) -> [UInt8] {
    var out: [UInt8] = []
    for entry in entries {
        guard case .success(let name) = normalizeMemberName(entry.name), name == entry.name else {
            let reason: String
            switch normalizeMemberName(entry.name) {
            case .failure(let problem): reason = problem.reason
            case .success: reason = "not in normal form (no './', '//' or trailing '/')"
            }
            throw .unsafeName(name: entry.name, reason: reason)
        }
        guard entry.bytes.count < 1 << 33 else { throw .memberTooLarge(name: name, size: entry.bytes.count) }
        let utf8 = Array(name.utf8)
        var nameField = utf8
        var prefixField: [UInt8] = []
        if utf8.count > 100 {
            if let split = ustarSplit(utf8) {
                prefixField = Array(utf8[..<split])
                nameField = Array(utf8[(split + 1)...])
            } else {
                let record = paxRecord(key: "path", value: utf8)
                let paxName = Array("PaxHeaders/\(String(decoding: utf8.suffix(80), as: UTF8.self))".utf8.prefix(100))
                out += header(name: paxName, prefix: [], size: record.count, mtime: mtime, type: UInt8(ascii: "x"))
                out += padded(record)
                nameField = Array(utf8.suffix(100))
            }
        }
        out += header(
            name: nameField, prefix: prefixField, size: entry.bytes.count, mtime: mtime, type: UInt8(ascii: "0"))
        out += padded(entry.bytes)
    }
    out += [UInt8](repeating: 0, count: 1024)
    return out
}

/// Finds a `/` that splits a long name into a ustar prefix (≤155) and name (≤100).
private func ustarSplit(_ name: [UInt8]) -> Int? {
    var index = min(name.count - 1, 155)
    while index > 0 {
        if name[index] == UInt8(ascii: "/") && name.count - index - 1 <= 100 && name.count - index - 1 > 0 {
            return index
        }
        index -= 1
    }
    return nil
}

/// One pax record; its length prefix counts itself.
private func paxRecord(key: String, value: [UInt8]) -> [UInt8] {
    let body = Array(" \(key)=".utf8) + value + [UInt8(ascii: "\n")]
    var length = body.count + 1
    while String(length).utf8.count + body.count != length { length = String(length).utf8.count + body.count }
    return Array(String(length).utf8) + body
}

private func padded(_ bytes: [UInt8]) -> [UInt8] {
    let pad = (512 - bytes.count % 512) % 512
    return bytes + [UInt8](repeating: 0, count: pad)
}

private func header(name: [UInt8], prefix: [UInt8], size: Int, mtime: Int, type: UInt8) -> [UInt8] {
    var block = [UInt8](repeating: 0, count: 512)
    func put(_ bytes: [UInt8], _ at: Int) {
        for (index, byte) in bytes.enumerated() { block[at + index] = byte }
    }
    func octal(_ value: Int, _ width: Int) -> [UInt8] {
        let digits = String(value, radix: 8)
        return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
    }
    put(name, 0)
    put(octal(0o644, 8), 100)
    put(octal(0, 8), 108)
    put(octal(0, 8), 116)
    put(octal(size, 12), 124)
    put(octal(max(0, mtime), 12), 136)
    put(Array("        ".utf8), 148)
    block[156] = type
    put(Array("ustar".utf8) + [0], 257)
    put(Array("00".utf8), 263)
    put(octal(0, 8), 329)
    put(octal(0, 8), 337)
    put(prefix, 345)
    let sum = block.reduce(0) { $0 + Int($1) }
    put(Array(String(sum, radix: 8).leftPadded(to: 6).utf8) + [0, UInt8(ascii: " ")], 148)
    return block
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
