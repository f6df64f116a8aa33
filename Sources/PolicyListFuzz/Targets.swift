import PolicyListCore
import PolicyListIO

/// The input formats the fuzzer mutates; each names its seed directory under `fuzz/corpus/`.
public enum FuzzFormat: String, Sendable, CaseIterable {
    /// A `policy.json` snapshot (ListReader, hence StrictJSONReader).
    case snapshot
    /// An MTA-STS policy body (`MTASTS.evaluatePolicy`).
    case policy
    /// A `_mta-sts` TXT record (`MTASTS.evaluateTXT`).
    case txt
    /// The backend's `domains.csv` (`QueueExport.parse`).
    case domainsCSV = "domains-csv"
    /// The backend's `scans.jsonl` (`BackendScan.read(jsonLine:)`).
    case scansJSONL = "scans-jsonl"
    /// Native observation JSONL (`Observation.read(jsonLine:)`).
    case observationJSONL = "observation-jsonl"
    /// Any of the above, gzipped, through `gunzip` with the default limits.
    case gzip

    var ordinal: Int { Self.allCases.firstIndex(of: self) ?? 0 }
}

/// What a parser said about one input.
public enum FuzzOutcome: Sendable, Equatable {
    /// Accepted (possibly with warnings).
    case accepted
    /// Rejected, with the messages given.
    case rejected([String])
    /// A property that must hold did not (an empty message, a round trip that changed the data).
    case violation(String)
}

/// Runs one input through the parser for its format, in process, and checks what must hold.
public enum FuzzTarget {
    /// Parses `bytes` as `format`.
    public static func run(_ format: FuzzFormat, _ bytes: [UInt8]) -> FuzzOutcome {
        switch format {
        case .snapshot: return snapshot(bytes)
        case .policy: return policy(bytes)
        case .txt: return txt(bytes)
        case .domainsCSV: return domainsCSV(bytes)
        case .scansJSONL:
            return lines(bytes) { line throws(RecordError) in _ = try BackendScan.read(jsonLine: line) }
        case .observationJSONL:
            return lines(bytes) { line throws(RecordError) in _ = try Observation.read(jsonLine: line) }
        case .gzip: return gzip(bytes)
        }
    }

    /// A rejection whose messages are all non-empty, or a violation saying which one is empty.
    static func rejection(_ messages: [String], _ what: String) -> FuzzOutcome {
        if messages.isEmpty { return .violation("\(what): rejected without any message") }
        if messages.contains(where: { $0.allSatisfy(\.isWhitespace) }) {
            return .violation("\(what): a rejection message is empty")
        }
        return .rejected(messages)
    }

    static func snapshot(_ bytes: [UInt8]) -> FuzzOutcome {
        // The JSON reader on its own: an accepted document written compactly reads back to the same value.
        switch Result(catching: { () throws(JSONSyntaxError) in try StrictJSONReader.read(bytes) }) {
        case .success(let document):
            let again = Array(JSONWriter.compact(document.value).utf8)
            guard let reread = try? StrictJSONReader.read(again), reread.value == document.value else {
                return .violation("JSON round trip changed the value")
            }
        case .failure(let error):
            if error.reason.isEmpty { return .violation("JSON syntax error without a reason") }
        }
        let reading = ListReader.read(bytes)
        if let problem = reading.anomalies.first(where: { $0.detail.isEmpty || $0.kind.isEmpty }) {
            return .violation("anomaly without a message: \(problem.kind)")
        }
        guard let list = reading.list else {
            return rejection(reading.anomalies.filter { $0.severity == .error }.map(\.detail), "snapshot")
        }
        // An accepted list written by our writer reads back as the same content.
        let written = ListWriter.bytes(list)
        guard let back = ListReader.read(written).list else {
            return .violation("an accepted list, written by ListWriter, is rejected when read back")
        }
        if ListWriter.contentBytes(back) != ListWriter.contentBytes(list) {
            return .violation("an accepted list changes content when written and read back")
        }
        return .accepted
    }

    static func policy(_ bytes: [UInt8]) -> FuzzOutcome {
        let verdicts = MTASTS.evaluatePolicy(body: bytes)
        var messages: [String] = []
        for verdict in [verdicts.strict, verdicts.lenient] {
            if verdict.isValid {
                guard verdict.parsed != nil else { return .violation("a valid policy verdict without content") }
            } else if let reason = verdict.reason {
                messages.append(reason.description)
            }
        }
        return messages.isEmpty ? .accepted : rejection(messages, "policy")
    }

    static func txt(_ bytes: [UInt8]) -> FuzzOutcome {
        // One RR per line, its character-strings cut at tabs: exercises the multi-string and multi-RR paths.
        let rrset = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { rr in
            rr.split(separator: 0x09, omittingEmptySubsequences: false).map(Array.init)
        }
        let verdicts = MTASTS.evaluateTXT(rrset: rrset)
        var messages: [String] = []
        for verdict in [verdicts.strict, verdicts.lenient] where !verdict.isValid {
            guard let reason = verdict.reason else { return .violation("an invalid TXT verdict without a reason") }
            messages.append(reason.description)
        }
        return messages.isEmpty ? .accepted : rejection(messages, "txt")
    }

    static func domainsCSV(_ bytes: [UInt8]) -> FuzzOutcome {
        let (rows, rejected, warnings) = QueueExport.parse(bytes, source: "domains.csv")
        if let empty = (rejected + warnings).first(where: { $0.reason.isEmpty || $0.location.isEmpty }) {
            return .violation("a domains.csv problem without a message at '\(empty.location)'")
        }
        // E-mail addresses are read past and never returned.
        if rows.contains(where: { $0.ref.contains("@") }) { return .violation("an e-mail address in a row ref") }
        return rejected.isEmpty ? .accepted : rejection(rejected.map(\.description), "domains.csv")
    }

    static func lines(_ bytes: [UInt8], _ parse: ([UInt8]) throws(RecordError) -> Void) -> FuzzOutcome {
        var messages: [String] = []
        for line in bytes.split(separator: 0x0A) {
            do throws(RecordError) {
                try parse(Array(line))
            } catch {
                messages.append(error.description)
            }
        }
        return messages.isEmpty ? .accepted : rejection(messages, "jsonl")
    }

    static func gzip(_ bytes: [UInt8]) -> FuzzOutcome {
        do throws(GzipError) {
            _ = try gunzip(bytes)
            return .accepted
        } catch {
            return rejection([error.message], "gzip")
        }
    }
}
