/// Timestamps as the original backend's exports print them: PostgreSQL `timestamp` (no zone, UTC by the
/// backend's convention) in `row_to_json` (`2020-04-21T09:15:02.123456`) or CSV (`2020-04-21 09:15:02`)
/// form, `timestamptz` (`… +00` or `…+00:00`), and Go's `time.Time` JSON (RFC 3339 with any offset).
public enum BackendTime {
    /// Parses one timestamp; a missing zone means UTC. Whole seconds and up to 9 fraction digits.
    public static func parse(_ text: String) -> Result<Instant, TimestampError> {
        var bytes = Array(text.utf8)
        if bytes.count > 10 && bytes[10] == 0x20 { bytes[10] = UInt8(ascii: "T") }
        // PostgreSQL prints a whole-hour offset as `+00`; RFC 3339 wants `+00:00`.
        let count = bytes.count
        if count >= 22, bytes[count - 3] == 0x2B || bytes[count - 3] == 0x2D, bytes[count - 4] != 0x3A,
            bytes[(count - 2)...].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        {
            bytes += Array(":00".utf8)
        }
        switch TimestampParser.parse(string: String(decoding: bytes, as: UTF8.self)) {
        case .success(let time): return .success(time.instant)
        case .failure(let error): return .failure(error)
        }
    }
}
