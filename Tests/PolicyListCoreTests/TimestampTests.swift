import Testing

@testable import PolicyListCore

@Suite struct TimestampTests {
    static let accepted: [(String, String, Int, [String])] = [
        ("2018-03-30T19:45:16+00:00", "2018-03-30T19:45:16Z", 0, []),
        ("2018-06-18T09:41:50.264201364-07:00", "2018-06-18T16:41:50.264201364Z", 9, []),
        ("2018-07-30T08:44:05.93935487-07:00", "2018-07-30T15:44:05.93935487Z", 8, []),
        ("2020-05-20T10:25:12.710034-07:00", "2020-05-20T17:25:12.710034Z", 6, []),
        ("2020-04-15T07:20:35Z", "2020-04-15T07:20:35Z", 0, []),
        ("2020-02-29T23:59:59.5+05:30", "2020-02-29T18:29:59.5Z", 1, []),
        ("2015-08-01T12:00:00+0800", "2015-08-01T04:00:00Z", 0, ["timestamp-colonless-offset"]),
        ("2015-08-01T12:00:00", "2015-08-01T12:00:00Z", 0, ["timestamp-naive"]),
        ("1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z", 0, []),
    ]

    @Test(arguments: accepted)
    func parsesRFC3339(raw: String, utc: String, digits: Int, warnings: [String]) throws {
        let time = try TimestampParser.parse(.string(raw)).get()
        #expect(time.instant.rfc3339 == utc)
        #expect(time.raw == raw)
        #expect(time.fractionDigits == digits)
        #expect(time.warnings.map { String($0.prefix { $0 != ":" }) } == warnings)
    }

    static let refused: [(JSONValue, String)] = [
        (.number("1589995512.5"), "a float"),
        (.number("-1"), "negative"),
        (.bool(true), "a boolean"),
        (.string("4102444800"), "digit string"),
        (.string("2019-02-29T00:00:00Z"), "does not exist"),
        (.string("2020-13-01T00:00:00Z"), "month 13"),
        (.string("2020-01-01 00:00:00Z"), "expected 'T'"),
        (.string("2020-01-01T00:00:00.1234567890Z"), "more than 9"),
        (.string("2020-01-01T00:00:00+25:00"), "offset out of range"),
        (.string("yesterday"), "expected YYYY"),
        (.string("2020-01-01T00:00:60Z"), "leap seconds"),
        (.null, "null"),
    ]

    @Test(arguments: refused)
    func refusesBadValues(value: JSONValue, reason: String) {
        switch TimestampParser.parse(value) {
        case .success(let time): Issue.record("accepted \(time)")
        case .failure(let error): #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test func epochIntegers() throws {
        let time = try TimestampParser.parse(.number("1401414363")).get()
        #expect(time.form == .epochSeconds)
        #expect(time.instant.rfc3339 == "2014-05-30T01:46:03Z")
    }

    @Test func ordersByInstantNotText() throws {
        // 09:47-07:00 and 08:47-08:00 are the same instant: compare instants, never strings.
        let a = try TimestampParser.parse(string: "2018-10-24T09:47:12.1-07:00").get().instant
        let b = try TimestampParser.parse(string: "2018-10-24T08:47:12.2-08:00").get().instant
        #expect(a < b)
        #expect(b.nanoseconds(since: a) == 100_000_000)  // same wall-clock hour, different offsets
    }

    @Test func formatsWithOffsets() {
        let instant = Instant(seconds: 1_589_995_512, nanoseconds: 710_034_000)
        #expect(instant.format(offsetSeconds: -7 * 3600, fractionDigits: 6) == "2020-05-20T10:25:12.710034-07:00")
        #expect(instant.rfc3339Seconds == "2020-05-20T17:25:12Z")
    }
}
