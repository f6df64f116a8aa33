/// A point in time with nanosecond precision (seconds since the Unix epoch, UTC). No clock is read here:
/// the current instant always comes in from the caller.
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Whole seconds since 1970-01-01T00:00:00Z (may be negative).
    public let seconds: Int64
    /// Nanoseconds within the second, 0…999_999_999.
    public let nanoseconds: Int32

    /// Creates an instant, normalising nanoseconds into range.
    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        var sec = seconds
        var nano = Int64(nanoseconds)
        sec += nano / 1_000_000_000
        nano %= 1_000_000_000
        if nano < 0 {
            nano += 1_000_000_000
            sec -= 1
        }
        self.seconds = sec
        self.nanoseconds = Int32(nano)
    }

    /// Orders instants in time.
    public static func < (lhs: Instant, rhs: Instant) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// This instant moved by `seconds` (and optional nanoseconds).
    public func adding(seconds delta: Int64, nanoseconds nanoDelta: Int32 = 0) -> Instant {
        Instant(seconds: seconds + delta, nanoseconds: nanoseconds + nanoDelta)
    }

    /// The signed difference `self - other` in nanoseconds.
    public func nanoseconds(since other: Instant) -> Int64 {
        (seconds - other.seconds) * 1_000_000_000 + Int64(nanoseconds - other.nanoseconds)
    }

    /// The difference `self - other` in seconds as a Double (for statistics, never for ordering).
    public func secondsDouble(since other: Instant) -> Double {
        Double(nanoseconds(since: other)) / 1e9
    }

    /// RFC 3339 in UTC, `Z`, fraction trimmed of trailing zeros (none when whole).
    public var rfc3339: String { format(offsetSeconds: 0, fractionDigits: nil) }

    /// RFC 3339 in UTC with whole seconds only (`2020-04-15T07:20:35Z`).
    public var rfc3339Seconds: String { format(offsetSeconds: 0, fractionDigits: 0) }

    /// The UTC RFC 3339 form.
    public var description: String { rfc3339 }

    /// Formats with a fixed offset; `fractionDigits` nil = minimal digits, 0 = none, 1…9 = exactly that many.
    public func format(offsetSeconds: Int, fractionDigits: Int?) -> String {
        let local = seconds + Int64(offsetSeconds)
        let days = floorDiv(local, 86_400)
        let secOfDay = local - days * 86_400
        let (year, month, day) = civilFromDays(days)
        if (0...9999).contains(year) && (0...9).contains(fractionDigits ?? 0) {
            return formatBytes(year, month, day, secOfDay, offsetSeconds: offsetSeconds, fractionDigits: fractionDigits)
        }
        var out = pad(year, 4) + "-" + pad(Int64(month), 2) + "-" + pad(Int64(day), 2)
        out += "T" + pad(secOfDay / 3600, 2) + ":" + pad(secOfDay / 60 % 60, 2) + ":" + pad(secOfDay % 60, 2)
        var fraction = pad(Int64(nanoseconds), 9)
        if let digits = fractionDigits {
            fraction = String(fraction.prefix(digits))
        } else {
            while fraction.hasSuffix("0") { fraction.removeLast() }
        }
        if !fraction.isEmpty { out += "." + fraction }
        if offsetSeconds == 0 {
            out += fractionDigits == nil || offsetSeconds == 0 ? "Z" : "+00:00"
        } else {
            let sign = offsetSeconds < 0 ? "-" : "+"
            let magnitude = Int64(abs(offsetSeconds))
            out += sign + pad(magnitude / 3600, 2) + ":" + pad(magnitude / 60 % 60, 2)
        }
        return out
    }
}

extension Instant {
    /// `format` for four-digit years, written into one byte buffer (the string-concatenating form cost more
    /// than the rest of storing an observation's timestamp); same output.
    fileprivate func formatBytes(
        _ year: Int64, _ month: Int, _ day: Int, _ secOfDay: Int64, offsetSeconds: Int, fractionDigits: Int?
    ) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(36)
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(0x30 + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        out.append(0x2D)
        digits(Int64(month), 2)
        out.append(0x2D)
        digits(Int64(day), 2)
        out.append(0x54)
        digits(secOfDay / 3600, 2)
        out.append(0x3A)
        digits(secOfDay / 60 % 60, 2)
        out.append(0x3A)
        digits(secOfDay % 60, 2)
        var count = fractionDigits ?? 9
        var nanos = Int64(nanoseconds)
        if fractionDigits == nil {
            if nanos == 0 {
                count = 0
            } else {
                while nanos % 10 == 0 {
                    nanos /= 10
                    count -= 1
                }
            }
        } else {
            for _ in count..<9 { nanos /= 10 }
        }
        if count > 0 {
            out.append(0x2E)
            digits(nanos, count)
        }
        if offsetSeconds == 0 {
            out.append(0x5A)
        } else {
            out.append(offsetSeconds < 0 ? 0x2D : 0x2B)
            let magnitude = Int64(abs(offsetSeconds))
            digits(magnitude / 3600, 2)
            out.append(0x3A)
            digits(magnitude / 60 % 60, 2)
        }
        return String(decoding: out, as: UTF8.self)
    }
}

func pad(_ value: Int64, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's civil algorithm).
func daysFromCivil(_ year: Int64, _ month: Int, _ day: Int) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = floorDiv(y, 400)
    let yoe = y - era * 400
    let m = Int64(month)
    let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// The calendar date of a day number (inverse of `daysFromCivil`).
func civilFromDays(_ days: Int64) -> (Int64, Int, Int) {
    let z = days + 719_468
    let era = floorDiv(z, 146_097)
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let day = Int(doy - (153 * mp + 2) / 5 + 1)
    let month = Int(mp < 10 ? mp + 3 : mp - 9)
    return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
}

func isLeapYear(_ year: Int64) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

func daysInMonth(_ year: Int64, _ month: Int) -> Int {
    switch month {
    case 2: isLeapYear(year) ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
}
