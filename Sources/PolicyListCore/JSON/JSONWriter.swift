/// Serialises `JSONValue`s. One writer for every format we publish.
public enum JSONWriter {
    /// Python's `json.dumps(value, indent=2)` bytes: two-space indent, `", "`-free line ends, `": "`
    /// separators, `\uXXXX` escapes for everything outside printable ASCII, no trailing newline.
    /// This is the byte format of the published policy list, which its signatures cover.
    public static func pythonIndented(_ value: JSONValue, indent: Int = 2) -> String {
        var out = ""
        out.reserveCapacity(4096)
        writeIndented(value, indent: indent, level: 0, into: &out)
        return out
    }

    /// Compact one-line JSON (`{"a":1,"b":[2,3]}`), non-ASCII kept as UTF-8. For summaries and JSONL.
    public static func compact(_ value: JSONValue) -> String {
        var out = ""
        writeCompact(value, into: &out)
        return out
    }

    private static func writeIndented(_ value: JSONValue, indent: Int, level: Int, into out: inout String) {
        switch value {
        case .array(let elements):
            if elements.isEmpty {
                out += "[]"
                return
            }
            out += "[\n"
            let pad = String(repeating: " ", count: indent * (level + 1))
            for (index, element) in elements.enumerated() {
                out += pad
                writeIndented(element, indent: indent, level: level + 1, into: &out)
                out += index + 1 < elements.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent * level) + "]"
        case .object(let members):
            if members.isEmpty {
                out += "{}"
                return
            }
            out += "{\n"
            let pad = String(repeating: " ", count: indent * (level + 1))
            for (index, member) in members.enumerated() {
                out += pad
                writeString(member.key, asciiOnly: true, into: &out)
                out += ": "
                writeIndented(member.value, indent: indent, level: level + 1, into: &out)
                out += index + 1 < members.count ? ",\n" : "\n"
            }
            out += String(repeating: " ", count: indent * level) + "}"
        default:
            writeScalar(value, asciiOnly: true, into: &out)
        }
    }

    private static func writeCompact(_ value: JSONValue, into out: inout String) {
        switch value {
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                writeCompact(element, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += "," }
                writeString(member.key, asciiOnly: false, into: &out)
                out += ":"
                writeCompact(member.value, into: &out)
            }
            out += "}"
        default:
            writeScalar(value, asciiOnly: false, into: &out)
        }
    }

    private static func writeScalar(_ value: JSONValue, asciiOnly: Bool, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let raw): out += raw
        case .string(let text): writeString(text, asciiOnly: asciiOnly, into: &out)
        case .array, .object: break
        }
    }

    private static let hexDigits = Array("0123456789abcdef")

    private static func appendEscape(_ unit: UInt16, into out: inout String) {
        out += "\\u"
        out.append(hexDigits[Int(unit >> 12) & 0xF])
        out.append(hexDigits[Int(unit >> 8) & 0xF])
        out.append(hexDigits[Int(unit >> 4) & 0xF])
        out.append(hexDigits[Int(unit) & 0xF])
    }

    /// Appends `text` quoted and escaped exactly as ``writeString(_:asciiOnly:into:)`` writes it, as UTF-8 bytes:
    /// the byte writers (`ListWriter.bytes`, the evidence JSON of decisions) build no intermediate `String`.
    public static func appendString(_ text: String, asciiOnly: Bool, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            out.append(0x22)
            // Fast path: nothing to escape.
            if utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
                out.append(contentsOf: utf8)
                out.append(0x22)
                return
            }
            var escaped = ""
            writeString(String(decoding: utf8, as: UTF8.self), asciiOnly: asciiOnly, into: &escaped)
            escaped.withUTF8 { out.append(contentsOf: $0.dropFirst()) }
        }
    }

    /// Writes a quoted, escaped string. With `asciiOnly`, like Python's `ensure_ascii=True`.
    static func writeString(_ text: String, asciiOnly: Bool, into out: inout String) {
        out += "\""
        // Fast path: nothing to escape.
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x5C }) {
            out += text
            out += "\""
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                let v = scalar.value
                if v < 0x20 || (asciiOnly && v >= 0x7F) {
                    if v > 0xFFFF {
                        let u = v - 0x10000
                        appendEscape(UInt16(0xD800 + (u >> 10)), into: &out)
                        appendEscape(UInt16(0xDC00 + (u & 0x3FF)), into: &out)
                    } else {
                        appendEscape(UInt16(v), into: &out)
                    }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
