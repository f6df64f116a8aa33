/// A `timestamp`/`expires` value of a policy list: the original text and the instant it denotes.
public struct ListTime: Sendable, Equatable {
    /// How the value was written.
    public enum Form: String, Sendable {
        /// An RFC 3339 string.
        case rfc3339
        /// A non-negative integer of epoch seconds.
        case epochSeconds = "epoch-seconds"
    }

    /// The value exactly as written (for integers, their digits).
    public let raw: String
    /// The instant, full precision.
    public let instant: Instant
    /// How it was written.
    public let form: Form
    /// The UTC offset written in the string, in seconds (nil for epoch integers and naive times).
    public let offsetSeconds: Int?
    /// Number of fraction digits written.
    public let fractionDigits: Int
    /// Accepted deviations from RFC 3339, as kebab-case codes with detail.
    public let warnings: [String]
}

/// Why a timestamp value was refused.
public struct TimestampError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `a float (1589995512.5); expected an RFC 3339 string or integer epoch seconds`.
    public let reason: String
    /// The reason.
    public var description: String { reason }
}

/// Parses list timestamps: RFC 3339 with 0–9 fraction digits and `Z` or `±HH:MM`; colon-less offsets and naive
/// times with a warning (naive = UTC, as the publisher's consumer reads them); integer epoch seconds. Floats,
/// booleans, negative numbers, digit strings and anything unparsable are refused.
public enum TimestampParser {
    /// Parses a JSON value found under `timestamp` or `expires`.
    public static func parse(_ value: JSONValue) -> Result<ListTime, TimestampError> {
        switch value {
        case .string(let text):
            return parse(string: text)
        case .number(let raw):
            if raw.hasPrefix("-") {
                return .failure(TimestampError(reason: "a negative number (\(raw)); expected an RFC 3339 string"))
            }
            guard raw.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seconds = Int64(raw) else {
                return .failure(
                    TimestampError(
                        reason: "a float (\(raw)); expected an RFC 3339 string or integer epoch seconds"))
            }
            guard seconds <= 253_402_300_799 else {
                return .failure(TimestampError(reason: "epoch seconds \(raw) beyond year 9999"))
            }
            return .success(
                ListTime(
                    raw: raw, instant: Instant(seconds: seconds), form: .epochSeconds, offsetSeconds: nil,
                    fractionDigits: 0, warnings: []))
        case .bool(let flag):
            return .failure(TimestampError(reason: "a boolean (\(flag)); expected an RFC 3339 string"))
        case .null:
            return .failure(TimestampError(reason: "null; expected an RFC 3339 string"))
        case .array, .object:
            return .failure(TimestampError(reason: "\(value.typeDescription); expected an RFC 3339 string"))
        }
    }

    /// Parses an RFC 3339 string (with the tolerated deviations).
    public static func parse(string text: String) -> Result<ListTime, TimestampError> {
        let b = Array(text.utf8)
        func bad(_ why: String) -> Result<ListTime, TimestampError> {
            .failure(TimestampError(reason: "\"\(text)\": \(why)"))
        }
        if !b.isEmpty && b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            return bad("a digit string; expected an RFC 3339 string (or an unquoted integer)")
        }
        func digits(_ from: Int, _ count: Int) -> Int64? {
            guard from + count <= b.count else { return nil }
            var value: Int64 = 0
            for index in from..<from + count {
                let byte = b[index]
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard b.count >= 19, let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
            b[7] == UInt8(ascii: "-"), let day = digits(8, 2), let hour = digits(11, 2),
            b[13] == UInt8(ascii: ":"), let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return bad("expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)") }
        var warnings: [String] = []
        switch b[10] {
        case UInt8(ascii: "T"): break
        case UInt8(ascii: "t"): warnings.append("timestamp-lowercase-t: \(text)")
        default: return bad("expected 'T' between date and time")
        }
        guard (1...12).contains(month) else { return bad("month \(month) out of range") }
        guard day >= 1 && day <= Int64(daysInMonth(year, Int(month))) else {
            return bad("day \(day) does not exist in \(pad(year, 4))-\(pad(month, 2))")
        }
        guard hour <= 23, minute <= 59 else { return bad("time of day out of range") }
        guard second <= 59 else { return bad("second \(second) out of range (leap seconds are not accepted)") }
        var pos = 19
        var nanos: Int64 = 0
        var fractionDigits = 0
        if pos < b.count && b[pos] == UInt8(ascii: ".") {
            pos += 1
            while pos < b.count && b[pos] >= 0x30 && b[pos] <= 0x39 {
                fractionDigits += 1
                guard fractionDigits <= 9 else { return bad("more than 9 fraction digits") }
                nanos = nanos * 10 + Int64(b[pos] - 0x30)
                pos += 1
            }
            guard fractionDigits > 0 else { return bad("expected digits after '.'") }
            for _ in fractionDigits..<9 { nanos *= 10 }
        }
        var offset: Int?
        if pos == b.count {
            warnings.append("timestamp-naive: \(text) has no UTC offset; read as UTC")
            offset = nil
        } else if b[pos] == UInt8(ascii: "Z") || b[pos] == UInt8(ascii: "z") {
            if b[pos] == UInt8(ascii: "z") { warnings.append("timestamp-lowercase-z: \(text)") }
            offset = 0
            pos += 1
        } else if b[pos] == UInt8(ascii: "+") || b[pos] == UInt8(ascii: "-") {
            let sign: Int64 = b[pos] == UInt8(ascii: "-") ? -1 : 1
            guard let offHours = digits(pos + 1, 2) else { return bad("expected ±HH:MM offset") }
            var offMinutes: Int64
            if pos + 3 < b.count && b[pos + 3] == UInt8(ascii: ":") {
                guard let value = digits(pos + 4, 2) else { return bad("expected ±HH:MM offset") }
                offMinutes = value
                pos += 6
            } else {
                guard let value = digits(pos + 3, 2) else { return bad("expected ±HH:MM offset") }
                offMinutes = value
                pos += 5
                warnings.append("timestamp-colonless-offset: \(text)")
            }
            guard offHours <= 23, offMinutes <= 59 else { return bad("UTC offset out of range") }
            offset = Int(sign * (offHours * 3600 + offMinutes * 60))
        } else {
            return bad("expected 'Z' or ±HH:MM after the time")
        }
        guard pos == b.count else { return bad("unexpected text after the UTC offset") }
        let days = daysFromCivil(year, Int(month), Int(day))
        let local = days * 86_400 + hour * 3600 + minute * 60 + second
        let instant = Instant(seconds: local - Int64(offset ?? 0), nanoseconds: Int32(nanos))
        return .success(
            ListTime(
                raw: text, instant: instant, form: .rfc3339, offsetSeconds: offset, fractionDigits: fractionDigits,
                warnings: warnings))
    }

    /// Parses an instant given on a command line (`--now`, `--as-of`): RFC 3339 with an offset or `Z`.
    public static func parseInstant(_ text: String) -> Result<Instant, TimestampError> {
        switch parse(string: text) {
        case .success(let time) where time.offsetSeconds == nil:
            return .failure(TimestampError(reason: "\"\(text)\": needs a UTC offset or 'Z'"))
        case .success(let time): return .success(time.instant)
        case .failure(let error): return .failure(error)
        }
    }
}
