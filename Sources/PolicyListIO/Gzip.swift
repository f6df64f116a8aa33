import CZlib
import PolicyListCore

/// Why a gzip stream could not be inflated.
public enum GzipError: ExitCodeError, Equatable {
    /// The input was empty.
    case empty
    /// The output grew past the size limit.
    case tooLarge(limit: Int)
    /// The output grew past the ratio limit (output bytes, compressed bytes consumed so far).
    case ratioExceeded(ratio: Int, output: Int, consumed: Int)
    /// The stream ended before the gzip trailer; `offset` is the compressed size read.
    case truncated(offset: Int)
    /// The stream is not valid gzip/deflate at the compressed byte `offset`.
    case corrupt(offset: Int, detail: String)
    /// Bytes after the last member that are neither a gzip member nor zero padding.
    case trailingGarbage(offset: Int)
    /// zlib itself failed (out of memory, version mismatch).
    case zlib(code: Int32)

    /// Corrupt or oversized data is bad input (65); a zlib failure is internal (1).
    public var exitCode: ExitCode {
        if case .zlib = self { return .failure }
        return .dataError
    }

    /// `"gzip: inflates past 256 MiB limit (gzip bomb?)"` and the like.
    public var message: String {
        switch self {
        case .empty: return "gzip: empty input"
        case .tooLarge(let limit): return "gzip: inflates past \(describeBytes(limit)) limit (gzip bomb?)"
        case .ratioExceeded(let ratio, let output, let consumed):
            return
                "gzip: inflates past \(ratio):1 ratio limit (\(output) bytes from \(consumed) compressed bytes; gzip bomb?)"
        case .truncated(let offset): return "gzip: truncated stream: input ends at compressed byte \(offset)"
        case .corrupt(let offset, let detail): return "gzip: corrupt stream at compressed byte \(offset): \(detail)"
        case .trailingGarbage(let offset): return "gzip: trailing garbage after the last member at byte \(offset)"
        case .zlib(let code): return "gzip: zlib failure (code \(code))"
        }
    }
}

/// True when `bytes` start with the gzip magic number.
public func looksGzipped(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
}

/// Inflates a whole gzip file (all members) with the size and ratio limits of `limits`.
public func gunzip(_ bytes: [UInt8], limits: Limits = .default) throws(GzipError) -> [UInt8] {
    try gunzip(
        bytes, limit: limits.maxDecompressedBytes, maxRatio: limits.maxCompressionRatio,
        ratioCheckAfter: limits.ratioCheckAfterBytes)
}

/// Inflates a whole gzip file (all members); output is capped at `limit` bytes and, past `ratioCheckAfter`
/// bytes, at `maxRatio` times the compressed bytes consumed (`maxRatio` 0 disables the ratio check).
public func gunzip(
    _ bytes: [UInt8], limit: Int, maxRatio: Int = Limits.default.maxCompressionRatio,
    ratioCheckAfter: Int = Limits.default.ratioCheckAfterBytes
) throws(GzipError) -> [UInt8] {
    let (output, error) = gunzipSalvaging(bytes, limit: limit, maxRatio: maxRatio, ratioCheckAfter: ratioCheckAfter)
    if let error { throw error }
    return output
}

/// Like `gunzip`, but returns what inflated before an error together with the error (a truncated archive
/// still yields its complete leading members).
public func gunzipSalvaging(
    _ bytes: [UInt8], limit: Int = Limits.default.maxDecompressedBytes,
    maxRatio: Int = Limits.default.maxCompressionRatio, ratioCheckAfter: Int = Limits.default.ratioCheckAfterBytes
) -> ([UInt8], GzipError?) {
    if bytes.isEmpty { return ([], .empty) }
    var output: [UInt8] = []
    do throws(GzipError) {
        let inflater = try Inflater(limit: limit, maxRatio: maxRatio, ratioCheckAfter: ratioCheckAfter)
        output.reserveCapacity(min(limit, bytes.count * 4))
        try bytes.withUnsafeBufferPointer { (input) throws(GzipError) in
            try inflater.feed(input) { output.append(contentsOf: $0) }
        }
        try inflater.finish()
        return (output, nil)
    } catch {
        return (output, error)
    }
}

/// Compresses `bytes` as one deterministic gzip member: level 9, mtime 0, no name, OS byte 3 (Unix).
public func gzip(_ bytes: [UInt8]) -> [UInt8] {
    let deflater = Deflater()
    var output: [UInt8] = []
    bytes.withUnsafeBufferPointer { deflater.feed($0) { output.append(contentsOf: $0) } }
    deflater.finish { output.append(contentsOf: $0) }
    return output
}

/// A streaming gzip inflater: multi-member, zero padding after the last member tolerated, limits enforced.
final class Inflater {
    private enum State {
        case inMember
        case betweenMembers
        case padding
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private let limit: Int
    private let maxRatio: Int
    private let ratioCheckAfter: Int
    private var state = State.inMember
    private var consumed = 0
    private var produced = 0
    private var outBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    init(limit: Int, maxRatio: Int, ratioCheckAfter: Int) throws(GzipError) {
        self.limit = limit
        self.maxRatio = maxRatio
        self.ratioCheckAfter = ratioCheckAfter
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let code = policylist_inflateInit2(stream, 15 + 32)
        if code != Z_OK {
            stream.deallocate()
            throw .zlib(code: code)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Total compressed bytes fed so far.
    var compressedBytes: Int { consumed }

    /// Inflates `input`, handing each output chunk to `sink`.
    func feed(_ input: UnsafeBufferPointer<UInt8>, sink: ([UInt8]) throws(GzipError) -> Void) throws(GzipError) {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        var index = 0
        while index < input.count {
            switch state {
            case .padding:
                if let nonZero = input[index...].firstIndex(where: { $0 != 0 }) {
                    throw .trailingGarbage(offset: consumed + nonZero - index)
                }
                consumed += input.count - index
                return
            case .betweenMembers:
                if input[index] == 0 {
                    state = .padding
                    continue
                }
                if input[index] != 0x1f { throw .trailingGarbage(offset: consumed) }
                inflateReset(stream)
                state = .inMember
            case .inMember:
                let used = try inflateSome(base + index, count: input.count - index, sink: sink)
                index += used
            }
        }
    }

    /// Runs inflate over one slice until it is consumed or the member ends; returns bytes consumed.
    private func inflateSome(
        _ pointer: UnsafePointer<UInt8>, count: Int, sink: ([UInt8]) throws(GzipError) -> Void
    ) throws(GzipError) -> Int {
        stream.pointee.next_in = UnsafeMutablePointer(mutating: pointer)
        stream.pointee.avail_in = UInt32(min(count, Int(UInt32.max)))
        let offered = Int(stream.pointee.avail_in)
        var code: Int32 = Z_OK
        repeat {
            let startIn = Int(stream.pointee.avail_in)
            code = outBuffer.withUnsafeMutableBufferPointer { out -> Int32 in
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = UInt32(out.count)
                return CZlib.inflate(stream, Z_NO_FLUSH)
            }
            consumed += startIn - Int(stream.pointee.avail_in)
            let have = outBuffer.count - Int(stream.pointee.avail_out)
            switch code {
            case Z_OK, Z_STREAM_END, Z_BUF_ERROR: break
            case Z_DATA_ERROR:
                let detail = stream.pointee.msg.map { String(cString: $0) } ?? "invalid deflate data"
                throw .corrupt(offset: consumed, detail: detail)
            case Z_MEM_ERROR: throw .zlib(code: code)
            default: throw .corrupt(offset: consumed, detail: "zlib code \(code)")
            }
            if have > 0 {
                produced += have
                if produced > limit { throw .tooLarge(limit: limit) }
                if maxRatio > 0 && produced > ratioCheckAfter && produced / max(consumed, 1) > maxRatio {
                    throw .ratioExceeded(ratio: maxRatio, output: produced, consumed: consumed)
                }
                try sink(Array(outBuffer[0..<have]))
            }
            if code == Z_STREAM_END {
                state = .betweenMembers
                break
            }
            // Z_BUF_ERROR or no progress: more input is needed.
            if code == Z_BUF_ERROR || (have == 0 && stream.pointee.avail_in == 0) { break }
        } while stream.pointee.avail_in > 0 || stream.pointee.avail_out == 0
        return offered - Int(stream.pointee.avail_in)
    }

    /// Checks that the input ended at a member boundary.
    func finish() throws(GzipError) {
        if consumed == 0 { throw .empty }
        if state == .inMember { throw .truncated(offset: consumed) }
    }
}

/// A streaming gzip deflater producing deterministic output (see `gzip(_:)`).
final class Deflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let header: UnsafeMutablePointer<gz_header>
    private var outBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var usable = true

    init() {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        header = .allocate(capacity: 1)
        header.initialize(to: gz_header())
        header.pointee.os = 3
        header.pointee.time = 0
        if policylist_deflateInit2(stream, 9, 15 + 16) != Z_OK || deflateSetHeader(stream, header) != Z_OK {
            usable = false
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        header.deallocate()
    }

    /// Compresses `input`, handing output chunks to `sink`.
    func feed(_ input: UnsafeBufferPointer<UInt8>, sink: ([UInt8]) -> Void) {
        guard let base = input.baseAddress, !input.isEmpty else { return }
        run(base, count: input.count, flush: Z_NO_FLUSH, sink: sink)
    }

    /// Ends the stream, handing the remaining output to `sink`.
    func finish(sink: ([UInt8]) -> Void) {
        var empty: UInt8 = 0
        run(&empty, count: 0, flush: Z_FINISH, sink: sink)
    }

    private func run(_ pointer: UnsafePointer<UInt8>, count: Int, flush: Int32, sink: ([UInt8]) -> Void) {
        guard usable else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: pointer)
        stream.pointee.avail_in = UInt32(count)
        var code: Int32
        repeat {
            code = outBuffer.withUnsafeMutableBufferPointer { out -> Int32 in
                stream.pointee.next_out = out.baseAddress
                stream.pointee.avail_out = UInt32(out.count)
                return deflate(stream, flush)
            }
            let have = outBuffer.count - Int(stream.pointee.avail_out)
            if have > 0 { sink(Array(outBuffer[0..<have])) }
        } while stream.pointee.avail_out == 0 || (flush == Z_FINISH && code == Z_OK)
    }
}
