/// One version in publication order, reduced to what cross-version checks need.
public struct SequencedVersion: Sendable, Equatable {
    /// A label for messages (file name or commit).
    public let label: String
    /// `timestamp` as written and as an instant.
    public let timestamp: ListTime
    /// `expires` as written and as an instant.
    public let expires: ListTime
    /// When the version was published (landed), when known.
    public let landed: Instant?
    /// A fingerprint of the content without `timestamp`/`expires` (aliases and policies).
    public let contentKey: String

    /// Creates a sequenced version.
    public init(label: String, timestamp: ListTime, expires: ListTime, landed: Instant?, contentKey: String) {
        self.label = label
        self.timestamp = timestamp
        self.expires = expires
        self.landed = landed
        self.contentKey = contentKey
    }
}

/// A period during which the newest published list had already expired.
public struct Lapse: Sendable, Equatable {
    /// Index (in the analysed sequence) of the version that had expired.
    public let expiredIndex: Int
    /// Index of the version that ended the lapse.
    public let nextIndex: Int
    /// Start of the lapse (the expired version's `expires`).
    public let from: Instant
    /// End of the lapse (when the next version was published: landing time, else its `timestamp`).
    public let until: Instant

    /// Length in seconds.
    public var seconds: Double { until.secondsDouble(since: from) }
}

/// Cross-version checks along the publication order.
public enum SequenceAnalysis {
    /// Anomalies per version index (`timestamp-not-bumped`, `timestamp-backwards`, `expired-when-published`,
    /// `lapse`) and the lapses themselves.
    public static func analyze(_ versions: [SequencedVersion]) -> (anomalies: [Int: [Anomaly]], lapses: [Lapse]) {
        var anomalies: [Int: [Anomaly]] = [:]
        var lapses: [Lapse] = []
        for (index, version) in versions.enumerated() {
            if let landed = version.landed, landed >= version.expires.instant {
                anomalies[index, default: []].append(
                    Anomaly(
                        "expired-when-published", .warning,
                        "published \(landed.rfc3339Seconds), already past its expires \(version.expires.raw)"))
            }
            guard index > 0 else { continue }
            let previous = versions[index - 1]
            if version.timestamp.instant < previous.timestamp.instant {
                anomalies[index, default: []].append(
                    Anomaly(
                        "timestamp-backwards", .warning,
                        "timestamp \(version.timestamp.raw) is before the previous version's \(previous.timestamp.raw)"
                    ))
            } else if version.timestamp.instant == previous.timestamp.instant
                && version.contentKey != previous.contentKey
            {
                anomalies[index, default: []].append(
                    Anomaly(
                        "timestamp-not-bumped", .warning,
                        "content changed but timestamp \(version.timestamp.raw) equals the previous version's"))
            }
            let published = version.landed ?? version.timestamp.instant
            if published > previous.expires.instant {
                let lapse = Lapse(
                    expiredIndex: index - 1, nextIndex: index, from: previous.expires.instant, until: published)
                lapses.append(lapse)
                anomalies[index, default: []].append(
                    Anomaly(
                        "lapse", .warning,
                        "the previous version expired \(previous.expires.instant.rfc3339Seconds), "
                            + "\(formatDuration(lapse.seconds)) before this one was published"))
            }
        }
        return (anomalies, lapses)
    }

    /// `3d 04h 12m` style duration.
    public static func formatDuration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let days = total / 86_400
        let hours = total % 86_400 / 3600
        let minutes = total % 3600 / 60
        if days > 0 { return "\(days)d \(pad(Int64(hours), 2))h \(pad(Int64(minutes), 2))m" }
        if hours > 0 { return "\(hours)h \(pad(Int64(minutes), 2))m" }
        return "\(minutes)m \(pad(Int64(total % 60), 2))s"
    }
}

extension ListWriter {
    /// The content that signatures and timestamps do not change: aliases and policies, in the publisher's format.
    public static func contentBytes(_ list: PolicyList) -> [UInt8] {
        let value: JSONValue = .object([
            JSONMember(
                "policy-aliases", .object(list.aliases.map { JSONMember($0.name, definitionValue($0.definition)) })),
            JSONMember("policies", .object(list.policies.map { JSONMember($0.domain, entryValue($0.value)) })),
        ])
        return Array(JSONWriter.compact(value).utf8)
    }
}
