import PolicyListCore
import Testing

@testable import PolicyListIO

@Suite("Gzip")
struct GzipTests {
    @Test("gzip then gunzip returns the input", arguments: [0, 1, 100, 70_000, 1_000_000])
    func roundTrip(size: Int) throws {
        let input = pseudoRandomBytes(size, seed: UInt64(size))
        #expect(try gunzip(gzip(input)) == input)
    }

    @Test("our output is read by the real gzip, and real gzip output by us")
    func interoperates() throws {
        let input = Array(String(repeating: "policy.json is a list of domains\n", count: 5000).utf8)
        #expect(try mustRun("gzip", ["-dc"], stdin: gzip(input)) == input)
        let theirs = try mustRun("gzip", ["-9", "-c"], stdin: input)
        #expect(try gunzip(theirs) == input)
    }

    @Test("the output is deterministic: mtime 0, no name, OS byte Unix")
    func deterministic() {
        let input = Array("same bytes".utf8)
        let first = gzip(input)
        #expect(first == gzip(input))
        #expect(Array(first[0..<4]) == [0x1f, 0x8b, 8, 0])  // magic, deflate, no FNAME/FEXTRA flags
        #expect(Array(first[4..<8]) == [0, 0, 0, 0])  // mtime
        #expect(first[9] == 3)
    }

    @Test("multi-member files inflate to the concatenation")
    func multiMember() throws {
        let first = Array("first member\n".utf8)
        let second = pseudoRandomBytes(100_000)
        #expect(try gunzip(gzip(first) + gzip(second)) == first + second)
        let real = try mustRun("gzip", ["-c"], stdin: first) + mustRun("gzip", ["-c"], stdin: second)
        #expect(try gunzip(real) == first + second)
    }

    @Test("zero padding after the last member is tolerated, other trailing bytes are not")
    func trailingBytes() throws {
        let body = gzip(Array("x".utf8))
        #expect(try gunzip(body + [UInt8](repeating: 0, count: 512)) == Array("x".utf8))
        #expect(throws: GzipError.trailingGarbage(offset: body.count)) { try gunzip(body + Array("junk".utf8)) }
        #expect(throws: GzipError.trailingGarbage(offset: body.count + 2)) { try gunzip(body + [0, 0, 7]) }
    }

    @Test("a truncated stream names the compressed offset where it ends", arguments: [1, 8, 200])
    func truncated(cut: Int) throws {
        let full = gzip(pseudoRandomBytes(5000))
        let short = Array(full.dropLast(cut))
        #expect(throws: GzipError.truncated(offset: short.count)) { try gunzip(short) }
        let message = GzipError.truncated(offset: short.count).message
        #expect(message == "gzip: truncated stream: input ends at compressed byte \(short.count)")
    }

    @Test("corrupt data is reported with an offset inside the input")
    func corrupt() throws {
        var bytes = gzip(Array(String(repeating: "abcdefgh", count: 4000).utf8))
        bytes[3] = 0xE0  // reserved flag bits set in the header
        do {
            _ = try gunzip(bytes)
            Issue.record("corrupt header accepted")
        } catch {
            guard case .corrupt(let offset, let detail) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(offset <= 10)
            #expect(!detail.isEmpty)
        }
        var body = gzip(pseudoRandomBytes(20_000))
        body[body.count - 6] ^= 0xff  // CRC
        #expect(throws: GzipError.self) { try gunzip(body) }
        #expect(throws: GzipError.empty) { try gunzip([]) }
        #expect(throws: GzipError.self) { try gunzip(Array("not gzip at all".utf8)) }
    }

    /// 300 MiB of zeros, compressed by streaming so the test never holds them.
    static let bomb: [UInt8] = {
        let deflater = Deflater()
        var output: [UInt8] = []
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        zeros.withUnsafeBufferPointer { chunk in
            for _ in 0..<300 { deflater.feed(chunk) { output += $0 } }
        }
        deflater.finish { output += $0 }
        return output
    }()

    @Test("a gzip bomb stops at the ratio limit long before it is inflated")
    func bombRatio() throws {
        let bomb = Self.bomb
        #expect(bomb.count < 400_000)
        do {
            _ = try gunzip(bomb)
            Issue.record("bomb accepted")
        } catch {
            guard case .ratioExceeded(let ratio, let output, let consumed) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(ratio == 1000)
            #expect(output < 4 << 20)
            #expect(consumed < 8192)
            #expect(error.message.hasSuffix("gzip bomb?)"))
            #expect(error.exitCode == .dataError)
        }
    }

    @Test("with the ratio check off, the size limit stops the bomb and says which limit")
    func bombSize() throws {
        #expect(throws: GzipError.tooLarge(limit: 16 << 20)) {
            try gunzip(Self.bomb, limit: 16 << 20, maxRatio: 0)
        }
        #expect(
            GzipError.tooLarge(limit: Limits.default.maxDecompressedBytes).message
                == "gzip: inflates past 256 MiB limit (gzip bomb?)")
        let error = PathError(path: "snapshots/x.json.gz", GzipError.tooLarge(limit: 256 << 20))
        #expect(error.message == "snapshots/x.json.gz: gzip: inflates past 256 MiB limit (gzip bomb?)")
    }
}
