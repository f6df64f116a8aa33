import PolicyListCore

/// One version of a file in a git repository's first-parent history.
public struct GitVersion: Sendable, Equatable {
    /// The first-parent commit at which this content became the tip's content.
    public let commit: String
    /// The commit's author date (strict ISO 8601 / RFC 3339, with the author's offset).
    public let authorDate: String
    /// The commit's committer date (strict ISO 8601 / RFC 3339).
    public let committerDate: String
    /// The commit's subject line.
    public let subject: String
    /// The blob id of the file at that commit.
    public let blob: String
    /// The file's contents.
    public let bytes: [UInt8]
    /// The contents of `PATH.asc` at the same commit, when present.
    public let ascBytes: [UInt8]?
}

/// Why the git history could not be read.
public enum GitError: ExitCodeError, Equatable {
    /// `git` is not installed.
    case unavailable(String)
    /// An argument that would be unsafe to pass to git.
    case invalidArgument(String)
    /// A git command failed.
    case commandFailed(command: String, status: String, stderr: String)
    /// git's output could not be parsed.
    case unexpectedOutput(String)
    /// A version is larger than the input file limit.
    case tooLarge(commit: String, size: Int, limit: Int)

    /// Missing git is `.unavailable` (69); everything else is bad input (65).
    public var exitCode: ExitCode {
        if case .unavailable = self { return .unavailable }
        return .dataError
    }

    /// What went wrong, quoting git's stderr.
    public var message: String {
        switch self {
        case .unavailable(let detail): return detail
        case .invalidArgument(let detail): return "git: \(detail)"
        case .commandFailed(let command, let status, let stderr): return "\(command): \(status): \(stderr)"
        case .unexpectedOutput(let detail): return "git: unexpected output: \(detail)"
        case .tooLarge(let commit, let size, let limit):
            return "git: version at \(commit) is \(size) bytes, past the \(describeBytes(limit)) limit"
        }
    }
}

/// The versions of `path` along the first-parent history of `ref`, oldest first. A version is a commit on
/// the first-parent chain whose content of `path` differs from the previous first-parent commit's, so a
/// change that landed through a merge is attributed to the merge commit (where it became the tip's
/// content), not to the side-branch commit that made it. Deletions end a run; a later re-add (even of older
/// content) is a new version.
public func firstParentVersions(
    repo: String, path: String, ref: String = "HEAD", limits: Limits = .default
) throws(GitError) -> [GitVersion] {
    guard !ref.isEmpty, !ref.hasPrefix("-"), !ref.contains("\n") else {
        throw .invalidArgument("invalid ref '\(ref)'")
    }
    guard !path.isEmpty, !path.contains("\n"), !path.hasPrefix("/") else {
        throw .invalidArgument("invalid path '\(path)' (relative to the repository root)")
    }
    let cleanPath = path.hasPrefix("./") ? String(path.dropFirst(2)) : path

    let log = try git(
        repo,
        ["log", "--first-parent", "--reverse", "--no-show-signature", "--format=%H%x1f%aI%x1f%cI%x1f%s", ref, "--"])
    struct Commit {
        let id: String
        let authorDate: String
        let committerDate: String
        let subject: String
    }
    var commits: [Commit] = []
    for line in log.split(separator: UInt8(ascii: "\n")) {
        let fields = line.split(separator: 0x1f, maxSplits: 3, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard fields.count == 4 else { throw .unexpectedOutput("log line '\(String(decoding: line, as: UTF8.self))'") }
        commits.append(Commit(id: fields[0], authorDate: fields[1], committerDate: fields[2], subject: fields[3]))
    }

    // One batch-check for the file and its signature at every commit.
    var query: [UInt8] = []
    for commit in commits {
        query += Array("\(commit.id):\(cleanPath)\n\(commit.id):\(cleanPath).asc\n".utf8)
    }
    let check = try git(repo, ["cat-file", "--batch-check"], stdin: query)
    let answers = check.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        .map { String(decoding: $0, as: UTF8.self) }
    guard answers.count >= commits.count * 2 else {
        throw .unexpectedOutput("cat-file --batch-check gave \(answers.count) lines for \(commits.count * 2) queries")
    }
    func blob(_ answer: String) -> (id: String, size: Int)? {
        let parts = answer.split(separator: " ")
        guard parts.count == 3, parts[1] == "blob", let size = Int(parts[2]) else { return nil }
        return (String(parts[0]), size)
    }

    var chosen: [(commit: Commit, blob: String, asc: String?)] = []
    var previous: String?
    for (index, commit) in commits.enumerated() {
        let file = blob(answers[index * 2])
        if let file, file.id != previous {
            if file.size > limits.maxInputFileBytes {
                throw .tooLarge(commit: commit.id, size: file.size, limit: limits.maxInputFileBytes)
            }
            let asc = blob(answers[index * 2 + 1]).flatMap { $0.size <= limits.maxInputFileBytes ? $0.id : nil }
            chosen.append((commit, file.id, asc))
        }
        previous = file?.id
    }
    if chosen.isEmpty { return [] }

    var wanted: [String] = []
    var seen = Set<String>()
    for version in chosen {
        for id in [version.blob, version.asc].compactMap({ $0 }) where seen.insert(id).inserted { wanted.append(id) }
    }
    let contents = try readBlobs(repo, wanted)
    return try chosen.map { (version) throws(GitError) -> GitVersion in
        guard let bytes = contents[version.blob] else { throw .unexpectedOutput("blob \(version.blob) not returned") }
        return GitVersion(
            commit: version.commit.id, authorDate: version.commit.authorDate,
            committerDate: version.commit.committerDate, subject: version.commit.subject, blob: version.blob,
            bytes: bytes, ascBytes: version.asc.flatMap { contents[$0] })
    }
}

/// Reads blobs with one `git cat-file --batch`.
private func readBlobs(_ repo: String, _ ids: [String]) throws(GitError) -> [String: [UInt8]] {
    let output = try git(repo, ["cat-file", "--batch"], stdin: Array(ids.map { $0 + "\n" }.joined().utf8))
    var result: [String: [UInt8]] = [:]
    var index = 0
    for id in ids {
        guard let newline = output[index...].firstIndex(of: UInt8(ascii: "\n")) else {
            throw .unexpectedOutput("cat-file --batch ended early")
        }
        let header = String(decoding: output[index..<newline], as: UTF8.self).split(separator: " ")
        guard header.count == 3, header[0] == id, let size = Int(header[2]), newline + 1 + size <= output.count else {
            throw .unexpectedOutput("cat-file --batch header for \(id)")
        }
        result[id] = Array(output[(newline + 1)..<(newline + 1 + size)])
        index = newline + 1 + size + 1
    }
    return result
}

/// Runs `git -C repo ARGS`, returning stdout or throwing with git's stderr.
private func git(_ repo: String, _ arguments: [String], stdin: [UInt8]? = nil) throws(GitError) -> [UInt8] {
    let result: ProcessResult
    do throws(ProcessError) {
        result = try runProcess(
            "git", arguments: ["-C", repo, "-c", "core.quotePath=false"] + arguments, stdin: stdin,
            environment: ["LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"], timeout: .seconds(300))
    } catch {
        throw .unavailable(error.message)
    }
    guard result.succeeded else {
        let command = "git -C \(repo) \(arguments.first ?? "")"
        let status = result.timedOut ? "timed out" : result.termination.description
        throw .commandFailed(command: command, status: status, stderr: result.stderrText)
    }
    return result.stdout
}
