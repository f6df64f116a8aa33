/// Host-name syntax checks shared by list validation and the writers.
public enum HostSyntax {
    /// Whether `name` matches schema 0.1's domain pattern
    /// `^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9]{2,63}$`
    /// (with `allowLeadingDot`, the MX pattern form `^\.?…`).
    public static func isSchemaName(_ name: String, allowLeadingDot: Bool = false) -> Bool {
        // One pass over the bytes, no arrays (this runs for every MX of every entry of every snapshot).
        var name = name
        return name.withUTF8 { isSchemaName(bytes: $0, allowLeadingDot: allowLeadingDot) }
    }

    private static func isSchemaName(bytes: UnsafeBufferPointer<UInt8>, allowLeadingDot: Bool) -> Bool {
        let dot = UInt8(ascii: ".")
        var start = 0
        if allowLeadingDot, bytes.first == dot { start = 1 }
        guard bytes.count > start, bytes.count - start <= 1024 else { return false }
        var labels = 0
        var labelStart = start
        while true {
            var end = labelStart
            while end < bytes.count && bytes[end] != dot { end += 1 }
            let length = end - labelStart
            guard length > 0, length <= 63 else { return false }
            labels += 1
            if end == bytes.count {
                // The last label: letters and digits only, at least two.
                guard labels >= 2, length >= 2 else { return false }
                for index in labelStart..<end where !isAlnum(bytes[index]) { return false }
                return true
            }
            guard isAlnum(bytes[labelStart]), isAlnum(bytes[end - 1]) else { return false }
            for index in labelStart..<end where !isAlnum(bytes[index]) && bytes[index] != UInt8(ascii: "-") {
                return false
            }
            labelStart = end + 1
        }
    }

    /// Whether `name` matches the schema's pattern (as ``isSchemaName(_:allowLeadingDot:)``) and whether it has
    /// an ASCII upper-case letter (as ``hasUppercase(_:)``), in one pass for the common, valid case.
    public static func classify(_ name: String, allowLeadingDot: Bool = false) -> (
        isSchemaName: Bool, hasUppercase: Bool
    ) {
        var name = name
        return name.withUTF8 { bytes in
            let dot = UInt8(ascii: ".")
            let hyphen = UInt8(ascii: "-")
            var start = 0
            if allowLeadingDot, bytes.first == dot { start = 1 }
            var valid = bytes.count > start && bytes.count - start <= 1024
            var upper = false
            var labels = 0
            var length = 0
            var first: UInt8 = 0
            var previous: UInt8 = 0
            var sawHyphen = false
            var index = start
            while valid && index < bytes.count {
                let byte = bytes[index]
                if byte == dot {
                    if length == 0 || length > 63 || first == hyphen || previous == hyphen {
                        valid = false
                    }
                    labels += 1
                    length = 0
                    sawHyphen = false
                } else if isAlnum(byte) {
                    if length == 0 { first = byte }
                    length += 1
                    previous = byte
                    if byte >= 0x41 && byte <= 0x5A { upper = true }
                } else if byte == hyphen {
                    if length == 0 { first = byte }
                    length += 1
                    previous = byte
                    sawHyphen = true
                } else {
                    valid = false
                }
                index += 1
            }
            // The last label: letters and digits only, at least two, and at least two labels in all.
            if valid && (length < 2 || length > 63 || sawHyphen || labels < 1) { valid = false }
            if !valid { upper = bytes.contains { $0 >= 0x41 && $0 <= 0x5A } }
            return (valid, upper)
        }
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
        var text = text
        return text.withUTF8 { bytes in bytes.contains { $0 >= 0x41 && $0 <= 0x5A } }
    }

    /// Whether two names are equal when ASCII letters are compared case-insensitively (as ``lowercased(_:)``
    /// folds them).
    static func equalsIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        var a = a
        var b = b
        return a.withUTF8 { x in
            b.withUTF8 { y in
                guard x.count == y.count else { return false }
                for index in 0..<x.count {
                    let p = x[index]
                    let q = y[index]
                    if p != q && (p | 0x20 != q | 0x20 || !((p | 0x20) >= 0x61 && (p | 0x20) <= 0x7A)) { return false }
                }
                return true
            }
        }
    }

    /// ASCII lower-casing (DNS names are compared case-insensitively, ASCII only).
    public static func lowercased(_ text: String) -> String {
        guard hasUppercase(text) else { return text }
        var text = text
        return text.withUTF8 { bytes in
            String(unsafeUninitializedCapacity: bytes.count) { out in
                for (index, byte) in bytes.enumerated() { out[index] = byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte }
                return bytes.count
            }
        }
    }
}
