/// Escaping for every output format the reports write. Every string that came from an input (domain, alias name,
/// author, anomaly detail) goes through one of these.
public enum ReportEscape {
    /// Text for HTML element content and double- or single-quoted attribute values.
    public static func html(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" {
                    out += "&#xFFFD;"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Text for Markdown (CommonMark/GFM): inline markup and raw HTML neutralised, table pipes escaped, line
    /// breaks turned into spaces so a cell or list item cannot break out of its structure.
    public static func markdown(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "|": out += "\\|"
            case "\\", "`", "*", "_", "[", "]", "#", "!", "~": out += "\\" + String(scalar)
            case "\n", "\r", "\t": out += " "
            default:
                if scalar.value < 0x20 { out += "\u{FFFD}" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }

    /// One CSV cell (RFC 4180): quoted when needed; a cell a spreadsheet would run as a formula (starting with
    /// `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'` so it stays text.
    public static func csv(_ text: String) -> String {
        var cell = text
        if let first = cell.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) {
            cell = "'" + cell
        }
        let needsQuotes = cell.unicodeScalars.contains { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }
        guard needsQuotes else { return cell }
        var out = "\""
        for character in cell {
            out += character == "\"" ? "\"\"" : String(character)
        }
        return out + "\""
    }

    /// A CSV document: header and rows, CRLF line ends (RFC 4180).
    public static func csvDocument(columns: [String], rows: [[String]]) -> String {
        var out = columns.map(csv).joined(separator: ",") + "\r\n"
        for row in rows { out += row.map(csv).joined(separator: ",") + "\r\n" }
        return out
    }
}
