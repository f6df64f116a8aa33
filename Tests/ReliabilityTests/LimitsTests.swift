import Foundation
import PolicyListCore
import PolicyListIO
import Testing

/// Every named resource limit, at its default value, produces its own clear error (docs/reliability.md lists
/// them). Smaller-limit variants are in GzipTests, TarTests and InputsTests of PolicyListIOTests.
@Suite("Resource limits")
struct LimitsTests {
    @Test("decompression ratio: a 1000:1 gzip bomb stops at the ratio limit")
    func decompressionRatio() {
        let bomb = gzip([UInt8](repeating: 0, count: 8 << 20))
        #expect(throws: GzipError.self) { try gunzip(bomb) }
        do {
            _ = try gunzip(bomb)
        } catch {
            #expect(error.message.contains("1000:1 ratio limit"))
            #expect(error.message.contains("gzip bomb?"))
            #expect(error.exitCode == .dataError)
        }
    }

    @Test("decompression size: output past maxDecompressedBytes stops with the limit named")
    func decompressionSize() {
        #expect(Limits.default.maxDecompressedBytes == 256 << 20)
        let bomb = gzip([UInt8](repeating: 0, count: 3 << 20))
        #expect(throws: GzipError.tooLarge(limit: 2 << 20)) { try gunzip(bomb, limit: 2 << 20, maxRatio: 0) }
        #expect(GzipError.tooLarge(limit: 2 << 20).message == "gzip: inflates past 2 MiB limit (gzip bomb?)")
    }

    @Test("JSON nesting depth: 64 levels in the JSON reader, 16 in a policy list")
    func nestingDepth() async throws {
        let deep = Array(String(repeating: "[", count: 65).utf8) + Array(String(repeating: "]", count: 65).utf8)
        #expect(throws: JSONSyntaxError.self) { try StrictJSONReader.read(deep) }
        do {
            _ = try StrictJSONReader.read(deep)
        } catch {
            #expect(error.description.contains("nesting deeper than 64 levels"))
        }
        // 64 levels are fine; 100,000 opening brackets fail at level 65 without exhausting the stack.
        _ = try StrictJSONReader.read(Array(deep.dropFirst().dropLast()))
        #expect(throws: JSONSyntaxError.self) {
            try StrictJSONReader.read([UInt8](repeating: UInt8(ascii: "["), count: 100_000))
        }
        let list = #"{"timestamp":"2020-01-01T00:00:00Z","policies":"# + String(repeating: "[", count: 17)
        let reading = ListReader.read(Array(list.utf8))
        #expect(reading.list == nil)
        #expect(reading.rejection?.detail.contains("nesting deeper than 16 levels") == true)
    }

    @Test("line length: an observation or scan line over 1 MiB is refused with its length and the limit")
    func lineLength() {
        let line = Array(#"{"domain":""#.utf8) + [UInt8](repeating: 0x61, count: 1 << 20) + Array(#""}"#.utf8)
        #expect(throws: RecordError(field: nil, "line is 1048589 bytes, longer than the 1048576-byte limit")) {
            try Observation.read(jsonLine: line)
        }
        #expect(throws: RecordError(field: nil, "line is 1048589 bytes, longer than the 1048576-byte limit")) {
            try BackendScan.read(jsonLine: line)
        }
        #expect(Limits.default.maxLineBytes == 16 << 20)  // LineReader: see InputsTests.lineReaderOverlong
    }

    @Test("body size: an MTA-STS policy over 64 KiB is too-large under both profiles")
    func policyBodySize() {
        let body = Array("version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 86400\n".utf8)
        let big = body + [UInt8](repeating: 0x20, count: MTASTS.maxPolicyBytes + 1 - body.count)
        let verdicts = MTASTS.evaluatePolicy(body: big)
        #expect(verdicts.strict.reason?.description == "too-large: 65537 bytes")
        #expect(verdicts.lenient.reason?.description == "too-large: 65537 bytes")
        #expect(MTASTS.evaluatePolicy(body: body).strict.isValid)
    }

    @Test("snapshot size: a policy.json over 64 MiB is rejected before it is parsed")
    func snapshotSize() {
        let reading = ListReader.read([UInt8](repeating: 0x20, count: ListLimits.maxSnapshotBytes + 1))
        #expect(reading.rejection?.kind == "too-large")
        #expect(reading.rejection?.detail == "67108865 bytes; the limit is 67108864")
    }

    @Test("input file size: a file over 64 MiB is refused without being read")
    func inputFileSize() async throws {
        let dir = NSTemporaryDirectory() + "policylist-limits-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/huge.json"
        // A sparse file: 64 MiB + 1 of apparent size, no disk used.
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(Limits.default.maxInputFileBytes + 1))
        try handle.close()
        #expect(throws: FileError(path: path, operation: "read", detail: "67108865 bytes exceeds the 64 MiB limit")) {
            try readFile(path)
        }
    }

    // Number of domains (ListLimits.maxDomains): a 30 MB list takes minutes in a debug build, so
    // `policylist-fuzz --domain-limit` (release, run by `make fuzz`) checks it; see docs/reliability.md.

    @Test("archives: member size, total size and member count (defaults; small-limit behaviour in TarTests)")
    func archiveLimits() {
        #expect(Limits.default.maxTarMemberBytes == 64 << 20)
        #expect(Limits.default.maxTarTotalBytes == 256 << 20)
        #expect(Limits.default.maxTarMembers == 100_000)
        #expect(TarError.tooManyMembers(limit: 100_000).message.contains("100000"))
    }
}

/// Found by the domain-count check: every anomaly's `byte N (line L:C)` scanned the input from byte 0, so a list
/// repeating one key 10,000 times took 27 s and 40,000 times 420 s (debug) to read.
@Suite("Many anomalies")
struct ManyAnomaliesTests {
    @Test("20,000 repeats of one key read in linear time, positions as lineAndColumn computes them")
    func manyDuplicateKeys() throws {
        let entry = #""a.example": {"mode": "testing", "mxs": ["mx.a.example"]}"#
        let text =
            #"{"timestamp": "2020-01-01T00:00:00Z", "expires": "2020-01-15T00:00:00Z", "version": "0.1","#
            + "\n\"policies\": {\n" + Array(repeating: entry, count: 20_000).joined(separator: ",\n") + "}}"
        let bytes = Array(text.utf8)
        let clock = ContinuousClock()
        var reading: SnapshotReading?
        let elapsed = clock.measure { reading = ListReader.read(bytes) }
        print("20,000 duplicate keys: \(elapsed)")
        let duplicates = reading?.anomalies.filter { $0.kind == "duplicate-key" } ?? []
        #expect(duplicates.count == 19_999)
        #expect(elapsed < .seconds(20))
        if let last = duplicates.last, let offset = last.offset {
            let (line, column) = bytes.withUnsafeBufferPointer { StrictJSONReader.lineAndColumn(of: offset, in: $0) }
            #expect(last.detail.hasPrefix("byte \(offset) (line \(line):\(column)): "))
            #expect(last.detail.contains("same value as at byte 105 (line 3:1)"))
        }
    }
}
