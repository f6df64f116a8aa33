import PolicyListCore
import PolicyListIO

/// The domains a live run observes, streamed one at a time in input order: from a file (`--domains FILE`,
/// one per line, `#` starts a comment, `.gz` inflated) or the current list (`--listed`).
///
/// Each domain is normalised (ASCII lower case, no trailing dot); a line that is not a domain name is
/// rejected with its line number, a repeated domain is skipped (counted), and with a shard selection only
/// the shard's domains come out (the rest are counted).
final class LiveDomainFeed {
    /// One step of the feed.
    enum Item {
        /// A domain to observe.
        case domain(String)
        /// A line that is not a domain name.
        case reject(line: Int, bytes: [UInt8], error: String)
    }

    /// Where the domains come from, for messages (`FILE` or `publication 3 (…)`).
    let origin: String
    /// How many domains the source holds, when known up front (the list); drives the progress percentage.
    let total: Int?
    /// Domains skipped because they were seen before.
    private(set) var duplicates = 0
    /// Domains skipped because they belong to another shard.
    private(set) var otherShards = 0

    private let reader: LineReader?
    private var listed: [String]
    private var listedIndex = 0
    private let shard: Shard.Selection?
    private var seen = Set<String>()

    /// A feed over a domains file.
    init(path: String, shard: Shard.Selection?) throws(PathError) {
        reader = try LineReader(path: path)
        listed = []
        origin = path
        total = nil
        self.shard = shard
    }

    /// A feed over the domains of a list, in the list's order.
    init(list: [String], origin: String, shard: Shard.Selection?) {
        reader = nil
        listed = list
        self.origin = origin
        self.shard = shard
        total = shard == nil ? list.count : nil
    }

    /// The next domain or rejected line; nil at the end. Throws when the file cannot be read further.
    func next() throws(PathError) -> Item? {
        while true {
            guard let (line, bytes) = try nextLine() else { return nil }
            var text = bytes
            if let hash = text.firstIndex(of: UInt8(ascii: "#")) { text.removeSubrange(hash...) }
            while let first = text.first, first == 0x20 || first == 0x09 || first == 0x0D { text.removeFirst() }
            while let last = text.last, last == 0x20 || last == 0x09 || last == 0x0D { text.removeLast() }
            if text.isEmpty { continue }
            guard let raw = String(validating: text, as: UTF8.self), let domain = Observation.normalizedDomain(raw)
            else {
                let shown = String(decoding: text.prefix(80), as: UTF8.self)
                return .reject(
                    line: line, bytes: bytes,
                    error: "\"\(shown)\" is not a domain name (letters, digits, '-', '_', dots; labels of 1-63)")
            }
            if let shard, !shard.contains(domain: domain) {
                otherShards += 1
                continue
            }
            guard seen.insert(domain).inserted else {
                duplicates += 1
                continue
            }
            return .domain(domain)
        }
    }

    private func nextLine() throws(PathError) -> (Int, [UInt8])? {
        guard let reader else {
            guard listedIndex < listed.count else { return nil }
            listedIndex += 1
            return (listedIndex, Array(listed[listedIndex - 1].utf8))
        }
        while let item = try reader.next() {
            switch item {
            case .line(let number, let bytes): return (number, bytes)
            case .tooLong(let number, let length, _):
                return (number, Array("(a line of \(length) bytes)".utf8))
            }
        }
        return nil
    }
}

extension ReconcileStage {
    /// The domains of the current list, in its order: the newest publication, else the newest ingested
    /// snapshot (the baseline reconcile starts from), with where they came from.
    static func currentListDomains(_ context: StageContext) throws -> (domains: [String], origin: String) {
        let baseline = try loadBaseline(context, reference: nil)
        return (baseline.list.policies.map(\.domain), baseline.ref)
    }
}
