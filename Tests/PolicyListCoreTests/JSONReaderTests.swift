import Testing

@testable import PolicyListCore

@Suite struct JSONReaderTests {
    static let rejected: [(String, String, Int)] = [
        ("", "empty input", 0),
        ("   ", "empty input", 3),
        ("{\"a\":1,}", "trailing comma before '}'", 7),
        ("[1,2,]", "trailing comma before ']'", 5),
        ("{\"a\":1", "expected ',' or '}'", 6),
        ("{\"a\" 1}", "expected ':'", 5),
        ("\u{FEFF}{}", "byte order mark", 0),
        ("{} x", "expected end of input", 3),
        ("[01]", "leading zero", 1),
        ("[1.]", "expected a digit after '.'", 3),
        ("[\"a\u{01}\"]", "control character", 3),
        ("[\"\\x\"]", "invalid escape", 2),
        ("[\"\\ud800\"]", "lone high surrogate", 2),
        ("[\"\\udc00\"]", "lone low surrogate", 2),
        ("<html></html>", "HTML", 0),
        ("[tru]", "expected 'true'", 1),
        ("\"abc", "unterminated string", 0),
        ("{1:2}", "expected a string key", 1),
    ]

    @Test(arguments: rejected)
    func rejectsMalformed(input: String, reason: String, offset: Int) {
        #expect(throws: JSONSyntaxError.self) { try StrictJSONReader.read(Array(input.utf8)) }
        do {
            _ = try StrictJSONReader.read(Array(input.utf8))
        } catch {
            #expect(error.reason.contains(reason), "\(error.reason)")
            #expect(error.offset == offset, "\(error)")
        }
    }

    @Test("escaped strings: runs of ASCII and UTF-8 between escapes, every escape form, invalid UTF-8 after one")
    func escapedStrings() throws {
        let text = "[\"a\\nb\u{E9}\\t\\u00e9c\\ud83d\\ude00\u{1F600}\\/\\\"\\\\\\b\\f\\r\"]"
        let value = try StrictJSONReader.read(Array(text.utf8)).value
        #expect(value == .array([.string("a\nb\u{E9}\t\u{E9}c\u{1F600}\u{1F600}/\"\\\u{08}\u{0C}\r")]))
        // An invalid byte in the run after an escape is reported at that byte.
        let bytes: [UInt8] = Array("[\"x\\ny".utf8) + [0xC3, 0x28] + Array("\"]".utf8)
        do {
            _ = try StrictJSONReader.read(bytes)
            Issue.record("accepted invalid UTF-8 after an escape")
        } catch {
            #expect(error.reason.contains("invalid UTF-8"), "\(error)")
            #expect(error.offset == 6, "\(error)")
        }
    }

    @Test func rejectsInvalidUTF8WithOffset() {
        let bytes: [UInt8] = Array("{\"k\": \"ab".utf8) + [0xC3, 0x28] + Array("\"}".utf8)
        do {
            _ = try StrictJSONReader.read(bytes)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.reason.contains("invalid UTF-8"))
            #expect(error.offset == 9)
        }
    }

    @Test func reportsLineAndColumn() {
        do {
            _ = try StrictJSONReader.read(Array("{\n  \"a\": 1,\n  \"b\": ]\n}".utf8))
        } catch {
            #expect(error.line == 3)
            #expect(error.column == 8)
            #expect(error.description.hasPrefix("byte 19 (line 3:8): "))
        }
    }

    @Test("lineAndColumn, counted eight bytes at a time and resumed, equals a byte-by-byte count at every offset")
    func lineAndColumnMatchesByteCount() {
        // Deterministic bytes: stretches full of line feeds among look-alikes (0x0B XOR 0x0A is the 0x01 that
        // trips the usual approximate zero-byte test; 0x8A, 0x00), and stretches with none.
        let alphabet: [UInt8] = [0x0A, 0x0B, 0x8A, 0x00, 0x41, 0x20, 0xFF, 0x09]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var bytes: [UInt8] = []
        for index in 0..<3000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let dense = (index / 500) % 2 == 0
            bytes.append(alphabet[Int(state >> 61) & (dense ? 7 : 6) | (dense ? 0 : 1)])
        }
        bytes.withUnsafeBufferPointer { buffer in
            var count = StrictJSONReader.LineCount()
            for offset in [-3, 0] + Array(stride(from: 1, through: 3010, by: 7)) + [5, 2999, 3000, 4000] {
                var line = 1
                var lineStart = 0
                for index in 0..<min(max(offset, 0), buffer.count) where buffer[index] == 0x0A {
                    line += 1
                    lineStart = index + 1
                }
                let fresh = StrictJSONReader.lineAndColumn(of: offset, in: buffer)
                let resumed = StrictJSONReader.lineAndColumn(of: offset, in: buffer, from: count)
                count = resumed.count
                #expect(fresh.line == line && fresh.column == offset - lineStart + 1, "offset \(offset)")
                #expect(resumed.line == line && resumed.column == offset - lineStart + 1, "offset \(offset) resumed")
            }
        }
    }

    @Test func nestingLimit() throws {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        #expect(throws: JSONSyntaxError.self) { try StrictJSONReader.read(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
        _ = try StrictJSONReader.read(Array(ok.utf8))
    }

    @Test func duplicateKeysAreReported() throws {
        let text = "{\"p\": {\"a\": 1, \"b\": 2, \"a\": 1, \"b\": 3}}"
        let document = try StrictJSONReader.read(Array(text.utf8))
        #expect(document.duplicates.count == 2)
        #expect(
            document.duplicates[0] == DuplicateKey(path: "p", key: "a", offset: 23, firstOffset: 7, identical: true))
        #expect(document.duplicates[1].key == "b")
        #expect(document.duplicates[1].identical == false)
        // Members are all kept, in order.
        #expect(document.value["p"]?.objectMembers?.map(\.key) == ["a", "b", "a", "b"])
    }

    @Test func decodesEscapesAndUnicode() throws {
        let text = #"["a\"b\\c\/\n\t\u00e9\ud83d\ude00", "é€😀", -0.5e+3, true, false, null, {}]"#
        let document = try StrictJSONReader.read(Array(text.utf8))
        let items = try #require(document.value.arrayValue)
        #expect(items[0] == .string("a\"b\\c/\n\té😀"))
        #expect(items[1] == .string("é€😀"))
        #expect(items[2] == .number("-0.5e+3"))
        #expect(items[3] == .bool(true))
        #expect(items[5] == .null)
        #expect(items[6] == .object([]))
    }

    @Test func pythonIndentedWriterMatchesJsonDumps() {
        // Expected bytes from Python 3: json.dumps(v, indent=2)
        let value: JSONValue = .object([
            JSONMember("a", .array([])), JSONMember("b", .object([])),
            JSONMember("c", .array([.string("é\u{7F}\u{01}\"\\/"), .string("😀"), .number("1"), .null, .bool(true)])),
        ])
        let expected =
            "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    \"\\u00e9\\u007f\\u0001\\\"\\\\/\",\n    \"\\ud83d\\ude00\",\n    1,\n    null,\n    true\n  ]\n}"
        #expect(JSONWriter.pythonIndented(value) == expected)
        #expect(
            JSONWriter.compact(value) == "{\"a\":[],\"b\":{},\"c\":[\"é\u{7F}\\u0001\\\"\\\\/\",\"😀\",1,null,true]}")
    }
}
