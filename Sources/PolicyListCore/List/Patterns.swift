/// Host-name syntax checks shared by list validation and the writers.
public enum HostSyntax {
    /// Whether `name` matches schema 0.1's domain pattern
    /// `^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9]{2,63}$`
    /// (with `allowLeadingDot`, the MX pattern form `^\.?…`).
    public static func isSchemaName(_ name: String, allowLeadingDot: Bool = false) -> Bool {
        var bytes = Array(name.utf8)
        if allowLeadingDot, bytes.first == UInt8(ascii: ".") { bytes.removeFirst() }
        guard !bytes.isEmpty, bytes.count <= 1024 else { return false }
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for (index, label) in labels.enumerated() {
            guard !label.isEmpty, label.count <= 63 else { return false }
            let isLast = index == labels.count - 1
            if isLast {
                guard label.count >= 2, label.allSatisfy(isAlnum) else { return false }
            } else {
                guard let first = label.first, let last = label.last, isAlnum(first), isAlnum(last),
                    label.allSatisfy({ isAlnum($0) || $0 == UInt8(ascii: "-") })
                else { return false }
            }
        }
        return true
    }

    /// Whether a string is safe to write as one field of a line-oriented file (no whitespace, controls, `#`, `,`
    /// `:` or non-ASCII). Schema-valid names always are.
    public static func isSafeField(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static func isAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// Whether the name has an ASCII upper-case letter.
    public static func hasUppercase(_ text: String) -> Bool {
        text.utf8.contains { $0 >= 0x41 && $0 <= 0x5A }
    }

    /// ASCII lower-casing (DNS names are compared case-insensitively, ASCII only).
    public static func lowercased(_ text: String) -> String {
        guard hasUppercase(text) else { return text }
        return String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
