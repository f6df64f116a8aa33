/// A duplicated key found while reading an object.
public struct DuplicateKey: Sendable, Equatable {
    /// Path of the object holding the key, e.g. `policies` (empty for the top level).
    public let path: String
    /// The duplicated key.
    public let key: String
    /// Byte offset of the repeated key.
    public let offset: Int
    /// Byte offset of the first occurrence.
    public let firstOffset: Int
    /// Whether both values are identical (a harmless repeat) or differ (ambiguous input).
    public let identical: Bool
}

/// A document read by `StrictJSONReader`, with what it noticed on the way.
public struct JSONDocument: Sendable {
    /// The top-level value; objects keep every member, duplicates included, in document order.
    public let value: JSONValue
    /// Keys that occur more than once in one object.
    public let duplicates: [DuplicateKey]
}

/// A syntax error: where, and what was expected there.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Byte offset of the problem.
    public let offset: Int
    /// 1-based line of the problem.
    public let line: Int
    /// 1-based column (in bytes) of the problem.
    public let column: Int
    /// What was expected or what is wrong.
    public let reason: String

    /// `byte 4711 (line 20:5): expected ',' or '}' after an object member`.
    public var description: String { "byte \(offset) (line \(line):\(column)): \(reason)" }
}

/// A strict JSON reader (RFC 8259) written for inputs we must not misread: it rejects trailing commas,
/// invalid UTF-8, a byte order mark, lone surrogates, control characters in strings, trailing data and nesting
/// beyond a limit, and it reports duplicate keys with byte offsets (Foundation's decoders keep one silently).
public enum StrictJSONReader {
    /// Default nesting limit (objects and arrays).
    public static let defaultMaxDepth = 64

    /// Reads one JSON document from `bytes`.
    public static func read(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONSyntaxError) -> JSONDocument {
        let outcome: Result<JSONDocument, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = Parser(bytes: buffer, maxDepth: maxDepth)
            do throws(JSONSyntaxError) {
                let value = try parser.parseDocument()
                return .success(JSONDocument(value: value, duplicates: parser.duplicates))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Computes the 1-based line and column of a byte offset.
    public static func lineAndColumn(of offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> (line: Int, column: Int) {
        let found = lineAndColumn(of: offset, in: bytes, from: LineCount())
        return (found.line, found.column)
    }

    /// Line feeds counted in the bytes before `end`: lets a caller that asks for several positions in byte order
    /// count each stretch once.
    public struct LineCount: Sendable {
        /// The offset the count reached.
        public var end = 0
        /// The line feeds before `end`.
        public var lineFeeds = 0

        /// No bytes counted yet.
        public init() {}
    }

    /// ``lineAndColumn(of:in:)`` counting on from `from` when it does not lie past `offset` (from the start
    /// otherwise); also returns the count up to `offset`, to resume from. Line feeds are counted eight bytes at
    /// a time (the exact zero-byte test on the word XOR 0x0A…0A, then a popcount); the line's start is found
    /// by scanning back from `offset`.
    public static func lineAndColumn(
        of offset: Int, in bytes: UnsafeBufferPointer<UInt8>, from: LineCount
    ) -> (line: Int, column: Int, count: LineCount) {
        let end = min(max(offset, 0), bytes.count)
        let lows: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let feeds: UInt64 = 0x0A0A_0A0A_0A0A_0A0A
        var count = from.end <= end ? from : LineCount()
        var index = count.end
        let raw = UnsafeRawBufferPointer(bytes)
        while index + 8 <= end {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) ^ feeds
            // High bit of each byte set exactly where the byte is zero (no borrow between bytes).
            count.lineFeeds += (~(((word & lows) &+ lows) | word | lows)).nonzeroBitCount
            index += 8
        }
        while index < end {
            if bytes[index] == 0x0A { count.lineFeeds += 1 }
            index += 1
        }
        count.end = end
        var lineStart = end
        while lineStart > 0, bytes[lineStart - 1] != 0x0A { lineStart -= 1 }
        return (1 + count.lineFeeds, offset - lineStart + 1, count)
    }
}

/// One step of the path to the value being read; formatted (`policies.x`, `mxs.[0]`) only when a duplicate
/// key needs it, not once per member and element.
private enum PathStep {
    case key(String)
    case index(Int)
}

private struct Parser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var pos = 0
    var depth = 0
    var path: [PathStep] = []
    var duplicates: [DuplicateKey] = []

    /// The current path as `DuplicateKey.path` spells it: keys and `[index]` steps joined by `.`.
    var pathText: String {
        path.map { step in
            switch step {
            case .key(let key): key
            case .index(let index): "[\(index)]"
            }
        }.joined(separator: ".")
    }

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func fail(_ reason: String, at offset: Int? = nil) -> JSONSyntaxError {
        let location = offset ?? pos
        let (line, column) = StrictJSONReader.lineAndColumn(of: location, in: bytes)
        return JSONSyntaxError(offset: location, line: line, column: column, reason: reason)
    }

    func describeByte(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            throw fail("unexpected UTF-8 byte order mark; expected a JSON value", at: 0)
        }
        skipWhitespace()
        if pos >= bytes.count { throw fail("empty input; expected a JSON value") }
        let value = try parseValue()
        skipWhitespace()
        if pos < bytes.count {
            throw fail("expected end of input after the top-level value, found \(describeByte(at: pos))")
        }
        return value
    }

    mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard pos < bytes.count else { throw fail("unexpected end of input; expected a value") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default:
            if bytes[pos] == UInt8(ascii: "<") {
                throw fail("found '<' (HTML?); expected a JSON value")
            }
            throw fail("expected a value, found \(describeByte(at: pos))")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        let start = pos
        guard pos + count <= bytes.count else { throw fail("expected '\(literal)'", at: start) }
        let base = literal.utf8Start
        for index in 0..<count where bytes[pos + index] != base[index] {
            throw fail("expected '\(literal)'", at: start)
        }
        pos += count
    }

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > maxDepth { throw fail("nesting deeper than \(maxDepth) levels") }
    }

    mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        pos += 1
        var members: [JSONMember] = []
        // Duplicate detection: a linear scan while the object is small (most are: a policy entry has two
        // members), a dictionary once it has more than eight (building one per small object cost more than
        // the scan).
        var index: KeyIndex?
        members.reserveCapacity(4)
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else {
                if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
                    throw fail("trailing comma before '}'; expected a string key")
                }
                throw fail("expected a string key, found \(describeByte(at: pos))")
            }
            let keyOffset = pos
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else {
                throw fail("expected ':' after key \"\(key)\", found \(describeByte(at: pos))")
            }
            pos += 1
            skipWhitespace()
            path.append(.key(key))
            let value = try parseValue()
            path.removeLast()
            let firstIndex: Int?
            if index != nil {
                firstIndex = index?.firstOrInsert(key, at: members.count, in: members)
            } else {
                firstIndex = members.firstIndex { $0.key == key }
            }
            if let firstIndex {
                let first = members[firstIndex]
                duplicates.append(
                    DuplicateKey(
                        path: pathText, key: key, offset: keyOffset, firstOffset: first.offset,
                        identical: first.value == value))
            } else if index == nil && members.count >= 8 {
                var built = KeyIndex()
                for (position, member) in members.enumerated() {
                    _ = built.firstOrInsert(member.key, at: position, in: members)
                }
                _ = built.firstOrInsert(key, at: members.count, in: members)
                index = built
            }
            members.append(JSONMember(key, value, offset: keyOffset))
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of input; expected ',' or '}'") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if bytes[pos] == UInt8(ascii: "}") {
                pos += 1
                depth -= 1
                return .object(members)
            }
            throw fail("expected ',' or '}' after the value of \"\(key)\", found \(describeByte(at: pos))")
        }
    }

    mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        pos += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
                throw fail("trailing comma before ']'; expected a value")
            }
            path.append(.index(elements.count))
            elements.append(try parseValue())
            path.removeLast()
            skipWhitespace()
            guard pos < bytes.count else { throw fail("unexpected end of input; expected ',' or ']'") }
            if bytes[pos] == UInt8(ascii: ",") {
                pos += 1
                continue
            }
            if bytes[pos] == UInt8(ascii: "]") {
                pos += 1
                depth -= 1
                return .array(elements)
            }
            throw fail("expected ',' or ']' in an array, found \(describeByte(at: pos))")
        }
    }

    mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = pos
        if bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("expected a digit in a number") }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count && isDigit(bytes[pos]) { throw fail("leading zero in a number", at: start) }
        } else {
            while pos < bytes.count && isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count && bytes[pos] == UInt8(ascii: ".") {
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("expected a digit after '.'") }
            while pos < bytes.count && isDigit(bytes[pos]) { pos += 1 }
        }
        if pos < bytes.count && (bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E")) {
            pos += 1
            if pos < bytes.count && (bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else { throw fail("expected a digit in an exponent") }
            while pos < bytes.count && isDigit(bytes[pos]) { pos += 1 }
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    mutating func parseString() throws(JSONSyntaxError) -> String {
        let open = pos
        pos += 1
        let start = pos
        var ascii = true
        // Fast scan: find the closing quote; fall back to the slow path on the first escape.
        while pos < bytes.count {
            let byte = bytes[pos]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<pos])
                pos += 1
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let text = String(validating: slice, as: UTF8.self) else {
                    throw fail("invalid UTF-8 in a string", at: firstInvalidUTF8(from: start, to: pos - 1))
                }
                return text
            }
            if byte == UInt8(ascii: "\\") { return try parseEscapedString(open: open, start: start) }
            if byte < 0x20 {
                throw fail("control character 0x\(String(byte, radix: 16)) in a string; expected \\u escape")
            }
            if byte >= 0x80 { ascii = false }
            pos += 1
        }
        throw fail("unterminated string", at: open)
    }

    func firstInvalidUTF8(from start: Int, to end: Int) -> Int {
        var index = start
        while index < end {
            let byte = bytes[index]
            let length: Int
            switch byte {
            case 0x00..<0x80: length = 1
            case 0xC2..<0xE0: length = 2
            case 0xE0..<0xF0: length = 3
            case 0xF0..<0xF5: length = 4
            default: return index
            }
            if index + length > end { return index }
            let slice = UnsafeBufferPointer(rebasing: bytes[index..<index + length])
            if String(validating: slice, as: UTF8.self) == nil { return index }
            index += length
        }
        return start
    }

    mutating func parseEscapedString(open: Int, start: Int) throws(JSONSyntaxError) -> String {
        // The decoded UTF-8 is built in one byte buffer: runs between escapes are copied whole (and validated
        // when they hold non-ASCII bytes), escapes appended as their UTF-8. (Appending to a
        // `String.UnicodeScalarView` cost a scalar at a time; MTA-STS bodies in observation lines are full of
        // `\n`.)
        var out: [UInt8] = []
        out.reserveCapacity(pos - start + 64)
        var runStart = start
        var runASCII = true
        func flush(_ parser: Parser, _ from: Int, _ to: Int, ascii: Bool, into out: inout [UInt8]) -> Bool {
            if from == to { return true }
            let slice = UnsafeBufferPointer(rebasing: parser.bytes[from..<to])
            if !ascii && String(validating: slice, as: UTF8.self) == nil { return false }
            out.append(contentsOf: slice)
            return true
        }
        // The fast scan stopped at the first backslash; the bytes before it are the first run.
        for index in start..<pos where bytes[index] >= 0x80 {
            runASCII = false
            break
        }
        while pos < bytes.count {
            let byte = bytes[pos]
            if byte == UInt8(ascii: "\"") {
                guard flush(self, runStart, pos, ascii: runASCII, into: &out) else {
                    throw fail("invalid UTF-8 in a string", at: firstInvalidUTF8(from: runStart, to: pos))
                }
                pos += 1
                return String(decoding: out, as: UTF8.self)
            }
            if byte < 0x20 {
                throw fail("control character 0x\(String(byte, radix: 16)) in a string; expected \\u escape")
            }
            if byte != UInt8(ascii: "\\") {
                if byte >= 0x80 { runASCII = false }
                pos += 1
                continue
            }
            guard flush(self, runStart, pos, ascii: runASCII, into: &out) else {
                throw fail("invalid UTF-8 in a string", at: firstInvalidUTF8(from: runStart, to: pos))
            }
            let escapeAt = pos
            pos += 1
            guard pos < bytes.count else { break }
            let code = bytes[pos]
            pos += 1
            switch code {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(code)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                let unit = try parseHex4(escapeAt: escapeAt)
                if unit >= 0xD800 && unit < 0xDC00 {
                    guard pos + 1 < bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u")
                    else { throw fail("lone high surrogate \\u\(String(unit, radix: 16)) in a string", at: escapeAt) }
                    pos += 2
                    let low = try parseHex4(escapeAt: pos - 2)
                    guard low >= 0xDC00 && low < 0xE000 else {
                        throw fail("high surrogate not followed by a low surrogate", at: escapeAt)
                    }
                    let value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    guard let scalar = Unicode.Scalar(value) else { throw fail("invalid \\u escape", at: escapeAt) }
                    append(scalar, to: &out)
                } else if unit >= 0xDC00 && unit < 0xE000 {
                    throw fail("lone low surrogate \\u\(String(unit, radix: 16)) in a string", at: escapeAt)
                } else {
                    guard let scalar = Unicode.Scalar(unit) else { throw fail("invalid \\u escape", at: escapeAt) }
                    append(scalar, to: &out)
                }
            default:
                throw fail("invalid escape '\\\(Character(Unicode.Scalar(code)))' in a string", at: escapeAt)
            }
            runStart = pos
            runASCII = true
        }
        throw fail("unterminated string", at: open)
    }

    /// Appends the UTF-8 encoding of `scalar`.
    func append(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        for unit in UTF8.encode(scalar) ?? UTF8.EncodedScalar() { out.append(unit) }
    }

    mutating func parseHex4(escapeAt: Int) throws(JSONSyntaxError) -> UInt16 {
        guard pos + 4 <= bytes.count else { throw fail("truncated \\u escape", at: escapeAt) }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[pos]
            let digit: UInt16
            switch byte {
            case 0x30...0x39: digit = UInt16(byte - 0x30)
            case 0x41...0x46: digit = UInt16(byte - 0x41 + 10)
            case 0x61...0x66: digit = UInt16(byte - 0x61 + 10)
            default: throw fail("expected 4 hex digits after \\u", at: escapeAt)
            }
            value = value << 4 | digit
            pos += 1
        }
        return value
    }
}

/// Where each key of a large object was first seen: open addressing over FNV-1a hashes of the keys' UTF-8,
/// one `UInt64` per slot (hash high, member index + 1 low; 0 = empty). `[String: Int]` hashed every key of a
/// 100,000-member `policies` object with SipHash and cost ~8 % of reading a list.
private struct KeyIndex {
    private var slots = [UInt64](repeating: 0, count: 64)
    private var count = 0

    static func hash(_ key: String) -> UInt32 {
        var key = key
        return key.withUTF8 { bytes in
            var hash: UInt32 = 0x811C_9DC5
            for byte in bytes { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
            return hash
        }
    }

    /// The index of the first member keyed `key`, or nil after recording `position` as its first occurrence.
    mutating func firstOrInsert(_ key: String, at position: Int, in members: [JSONMember]) -> Int? {
        let hash = Self.hash(key)
        var mask = slots.count - 1
        var slot = Int(hash) & mask
        while slots[slot] != 0 {
            let entry = slots[slot]
            if UInt32(truncatingIfNeeded: entry >> 32) == hash {
                let earlier = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if members[earlier].key == key { return earlier }
            }
            slot = (slot + 1) & mask
        }
        slots[slot] = UInt64(hash) << 32 | UInt64(position + 1)
        count += 1
        if count * 2 > slots.count {
            let old = slots
            slots = [UInt64](repeating: 0, count: old.count * 2)
            mask = slots.count - 1
            for entry in old where entry != 0 {
                var index = Int(truncatingIfNeeded: entry >> 32) & mask
                while slots[index] != 0 { index = (index + 1) & mask }
                slots[index] = entry
            }
        }
        return nil
    }
}
