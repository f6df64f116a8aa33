import Glibc
import PolicyListCore

/// The outcome of checking one detached signature.
public enum SignatureCheck: Sendable, Equatable {
    /// A good signature by `fingerprint` (the signing subkey), whose primary key is `primaryFingerprint`,
    /// made at `created` (Unix seconds).
    case good(fingerprint: String, primaryFingerprint: String, created: Int64)
    /// The signature does not match the data (or the key is expired/revoked); `reason` says which.
    case bad(String)
    /// The signing key is not in the keyring.
    case unknownKey(String)
    /// The signature could not be checked (malformed, unsupported, gpgv failed).
    case error(String)
}

/// Why `gpg`/`gpgv` could not be run or signing failed.
public enum GPGError: ExitCodeError, Equatable {
    /// gpg/gpgv is missing, or a temp file could not be made.
    case unavailable(String)
    /// `gpg` failed to sign.
    case signingFailed(String)

    /// Missing tools are `.unavailable` (69); a signing failure is `.failure` (1).
    public var exitCode: ExitCode {
        if case .unavailable = self { return .unavailable }
        return .failure
    }

    /// What went wrong.
    public var message: String {
        switch self {
        case .unavailable(let detail): return "gpg: \(detail)"
        case .signingFailed(let detail): return "gpg: signing failed: \(detail)"
        }
    }
}

/// Verifies a detached signature with `gpgv --status-fd 1 --keyring KEYRING` in a throw-away home
/// directory (removed afterwards). The keyring may be a binary `.gpg` export; a relative path is made
/// absolute. Never throws for a bad or unverifiable signature: those are `SignatureCheck` cases.
public func verifyDetached(
    data: [UInt8], signature: [UInt8], keyring: String, timeout: Duration = .seconds(60)
) throws(GPGError) -> SignatureCheck {
    let home = try makeTempDirectory(prefix: "plgpgv")
    defer { removeTree(home) }
    let dataPath = home + "/data"
    let sigPath = home + "/data.asc"
    do throws(FileError) {
        try writeFileAtomically(data, to: dataPath, mode: 0o600)
        try writeFileAtomically(signature, to: sigPath, mode: 0o600)
    } catch {
        throw .unavailable("cannot write temp files: \(error.message)")
    }
    var keyringPath = keyring
    if !keyring.hasPrefix("/"), let cwd = currentDirectory() { keyringPath = cwd + "/" + keyring }
    guard access(keyringPath, R_OK) == 0 else {
        return .error("keyring \(keyring): \(errorText(errno))")
    }
    let result: ProcessResult
    do throws(ProcessError) {
        result = try runProcess(
            "gpgv",
            arguments: ["--homedir", home, "--status-fd", "1", "--keyring", keyringPath, sigPath, dataPath],
            environment: ["GNUPGHOME": home, "LC_ALL": "C"], timeout: timeout)
    } catch {
        throw .unavailable(error.message)
    }
    if result.timedOut { return .error("gpgv timed out") }
    return parseGPGStatus(String(decoding: result.stdout, as: UTF8.self), stderr: result.stderrText)
}

/// Interprets `--status-fd` output of gpgv/gpg --verify for one signature.
public func parseGPGStatus(_ status: String, stderr: String = "") -> SignatureCheck {
    var good = false
    var valid: (fingerprint: String, created: Int64, primary: String)?
    var bad: String?
    var missingKey: String?
    var error: String?
    for line in status.split(separator: "\n") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard fields.count >= 2, fields[0] == "[GNUPG:]" else { continue }
        let arguments = Array(fields.dropFirst(2))
        switch fields[1] {
        case "GOODSIG": good = true
        case "VALIDSIG":
            guard arguments.count >= 3 else { continue }
            let created = parseStatusTime(arguments[2]) ?? 0
            valid = (arguments[0], created, arguments.count >= 10 ? arguments[9] : arguments[0])
        case "BADSIG": bad = "bad signature (key \(arguments.first ?? "?"))"
        case "EXPKEYSIG": bad = "signed by an expired key (\(arguments.first ?? "?"))"
        case "REVKEYSIG": bad = "signed by a revoked key (\(arguments.first ?? "?"))"
        case "EXPSIG": bad = "signature expired (key \(arguments.first ?? "?"))"
        case "NO_PUBKEY": missingKey = arguments.first ?? "?"
        case "ERRSIG":
            if arguments.count >= 6 && arguments[5] == "9" {
                missingKey = missingKey ?? arguments[0]
            } else {
                error = "signature could not be checked (ERRSIG rc \(arguments.count >= 6 ? arguments[5] : "?"))"
            }
        case "NODATA": error = error ?? "no signature found (NODATA \(arguments.first ?? ""))"
        case "FAILURE": error = error ?? "gpgv failure (\(arguments.joined(separator: " ")))"
        default: continue
        }
    }
    if let bad { return .bad(bad) }
    if let missingKey { return .unknownKey(missingKey) }
    if let error { return .error(error) }
    if good, let valid {
        return .good(fingerprint: valid.fingerprint, primaryFingerprint: valid.primary, created: valid.created)
    }
    let detail = stderr.split(separator: "\n").last.map(String.init) ?? "no verdict in gpgv output"
    return .error(detail)
}

/// A status-line time: Unix seconds, or ISO 8601 basic (`20180618T164553`) in UTC.
private func parseStatusTime(_ text: String) -> Int64? {
    if let seconds = Int64(text) { return seconds }
    let digits = text.filter(\.isNumber)
    guard text.contains("T"), digits.count == 14 else { return nil }
    let chars = Array(digits)
    func number(_ from: Int, _ length: Int) -> Int { Int(String(chars[from..<from + length])) ?? 0 }
    var parts = tm()
    parts.tm_year = Int32(number(0, 4) - 1900)
    parts.tm_mon = Int32(number(4, 2) - 1)
    parts.tm_mday = Int32(number(6, 2))
    parts.tm_hour = Int32(number(8, 2))
    parts.tm_min = Int32(number(10, 2))
    parts.tm_sec = Int32(number(12, 2))
    return Int64(timegm(&parts))
}

/// Makes a detached, armored signature of `data` with `gpg --batch --yes --armor --detach-sign --local-user
/// KEYID`, using `gnupgHome` as `--homedir` when given. Key material is never logged.
public func signDetached(
    data: [UInt8], keyID: String, gnupgHome: String? = nil, timeout: Duration = .seconds(120)
) throws(GPGError) -> [UInt8] {
    guard !keyID.isEmpty, !keyID.hasPrefix("-") else { throw .signingFailed("invalid key id '\(keyID)'") }
    var arguments = [
        "--batch", "--yes", "--no-tty", "--armor", "--detach-sign", "--local-user", keyID, "--output", "-",
    ]
    if let gnupgHome { arguments = ["--homedir", gnupgHome] + arguments }
    let result: ProcessResult
    do throws(ProcessError) {
        result = try runProcess(
            "gpg", arguments: arguments, stdin: data, environment: ["LC_ALL": "C"], timeout: timeout)
    } catch {
        throw .unavailable(error.message)
    }
    if result.timedOut { throw .signingFailed("timed out") }
    guard result.succeeded, !result.stdout.isEmpty else {
        throw .signingFailed("\(result.termination): \(result.stderrText)")
    }
    return result.stdout
}

/// Creates a fresh private directory under TMPDIR (or /tmp).
func makeTempDirectory(prefix: String) throws(GPGError) -> String {
    let base = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
    var template = Array("\(base)/\(prefix).XXXXXX".utf8CString)
    let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
    guard made != nil else { throw .unavailable("mkdtemp in \(base): \(errorText(errno))") }
    return String(decoding: template.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// Removes a directory tree (no symlinks followed).
func removeTree(_ path: String) {
    var info = stat()
    guard lstat(path, &info) == 0 else { return }
    if info.st_mode & S_IFMT == S_IFDIR {
        if let handle = opendir(path) {
            var names: [String] = []
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            closedir(handle)
            for name in names { removeTree(path + "/" + name) }
        }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// The process's current directory.
func currentDirectory() -> String? {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    guard getcwd(&buffer, buffer.count) != nil else { return nil }
    return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
