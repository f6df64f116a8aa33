/// Number and time formatting for reports: locale-free and deterministic, so golden files are stable.
public enum ReportFormat {
    /// `value` rounded half away from zero to `digits` decimals (`12.35`, `-0.5`, `3`).
    public static func decimal(_ value: Double, digits: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<max(0, digits) { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e15 else { return String(Int64(value)) }
        let units = Int64(scaled)
        let whole = units / Int64(scale)
        var text = String(whole)
        if digits > 0 {
            let fraction = String(units % Int64(scale))
            text += "." + String(repeating: "0", count: digits - fraction.count) + fraction
        }
        return (value < 0 && units != 0 ? "-" : "") + text
    }

    /// Seconds as days with two decimals (`50.97`).
    public static func days(_ seconds: Double) -> String { decimal(seconds / 86_400, digits: 2) }

    /// `part` of `whole` as a percentage with one decimal (`38.9%`); `-` when `whole` is 0.
    public static func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "n/a" : decimal(Double(part) * 100 / Double(whole), digits: 1) + "%"
    }

    /// Share as a JSON number (fraction 0…1, six decimals).
    public static func share(_ part: Int, of whole: Int) -> JSONValue {
        whole == 0 ? .null : .number(decimal(Double(part) / Double(whole), digits: 6))
    }

    /// A duration in words (`50d 23h 11m`).
    public static func duration(_ seconds: Double) -> String {
        seconds < 0 ? "-" + SequenceAnalysis.formatDuration(-seconds) : SequenceAnalysis.formatDuration(seconds)
    }

    /// A JSON number with up to three decimals (seconds, days).
    public static func number(_ value: Double, digits: Int = 3) -> JSONValue {
        var text = decimal(value, digits: digits)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return .number(text == "-0" ? "0" : text)
    }

    /// The UTC date of an instant (`2019-05-29`).
    public static func date(_ instant: Instant) -> String { String(instant.rfc3339Seconds.prefix(10)) }

    /// The median of sorted-or-not values (mean of the middle two for an even count); nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
