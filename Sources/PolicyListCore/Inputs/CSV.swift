/// A CSV record with the 1-based line it started on.
public struct CSVRecord: Sendable, Equatable {
    /// Line number where the record starts.
    public let line: Int
    /// Fields; `nil` for an empty unquoted field (PostgreSQL's NULL), `""` for a quoted empty string.
    public let fields: [String?]
}

/// A CSV syntax error.
public struct CSVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Line of the problem.
    public let line: Int
    /// What was expected.
    public let reason: String
    /// `line 12: …`.
    public var description: String { "line \(line): \(reason)" }
}

/// RFC 4180 CSV as PostgreSQL's `\copy … CSV` writes it: quoted fields may hold commas, quotes (doubled) and
/// newlines; an empty unquoted field is NULL, `""` is the empty string.
public enum CSVReader {
    /// Parses every record; a malformed record is reported and parsing goes on with the next line.
    public static func parse(_ bytes: [UInt8]) -> (records: [CSVRecord], errors: [CSVError]) {
        var records: [CSVRecord] = []
        var errors: [CSVError] = []
        var pos = 0
        var line = 1
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { pos = 3 }
        while pos < bytes.count {
            let startLine = line
            var fields: [String?] = []
            var field: [UInt8] = []
            var quoted = false
            var wasQuoted = false
            var failure: String?
            var done = false
            while pos < bytes.count && !done {
                let byte = bytes[pos]
                if quoted {
                    if byte == UInt8(ascii: "\"") {
                        if pos + 1 < bytes.count && bytes[pos + 1] == UInt8(ascii: "\"") {
                            field.append(byte)
                            pos += 2
                            continue
                        }
                        quoted = false
                        pos += 1
                        if pos < bytes.count, ![UInt8(ascii: ","), 0x0A, 0x0D].contains(bytes[pos]) {
                            failure = "expected ',' or end of line after a closing quote"
                        }
                        continue
                    }
                    if byte == 0x0A { line += 1 }
                    field.append(byte)
                    pos += 1
                    continue
                }
                switch byte {
                case UInt8(ascii: ","):
                    fields.append(finish(field, wasQuoted))
                    field.removeAll(keepingCapacity: true)
                    wasQuoted = false
                    pos += 1
                case 0x0D where pos + 1 < bytes.count && bytes[pos + 1] == 0x0A:
                    pos += 1
                case 0x0A:
                    pos += 1
                    line += 1
                    done = true
                case UInt8(ascii: "\""):
                    if field.isEmpty && !wasQuoted {
                        quoted = true
                        wasQuoted = true
                    } else {
                        failure = failure ?? "unexpected '\"' inside an unquoted field"
                        field.append(byte)
                    }
                    pos += 1
                default:
                    field.append(byte)
                    pos += 1
                }
            }
            if quoted { failure = "unterminated quoted field" }
            fields.append(finish(field, wasQuoted))
            if let failure {
                errors.append(CSVError(line: startLine, reason: failure))
            } else if let invalid = fields.firstIndex(where: { $0 == "\u{FFFD}invalid" }) {
                errors.append(CSVError(line: startLine, reason: "field \(invalid + 1) is not valid UTF-8"))
            } else if !(fields.count == 1 && fields[0] == nil) {
                records.append(CSVRecord(line: startLine, fields: fields))
            }
        }
        return (records, errors)
    }

    private static func finish(_ field: [UInt8], _ wasQuoted: Bool) -> String? {
        if field.isEmpty && !wasQuoted { return nil }
        return String(validating: field, as: UTF8.self) ?? "\u{FFFD}invalid"
    }
}
