import CZlib

/// zlib (RFC 1950) compression in fixed-size chunks, so large inputs never need a second full-size buffer.
enum Zlib {
    private static let chunk = 256 * 1024
    /// zlib's counters are 32-bit; feed the input in slices below that.
    private static let maxFeed = 1 << 30

    /// Compresses `input` at `level` (6 = zlib's default trade-off).
    ///
    /// The window and hash table are sized to the input: a window larger than the input cannot find more
    /// matches, so a 300-byte observation line gets a 512-byte window and a small hash table instead of the
    /// ~256 KiB of state (allocated and cleared on every call) that the defaults cost. The output is a
    /// standard zlib stream that `decompress` (any window up to 32 KiB) reads; only its bytes differ.
    static func compress(_ input: UnsafeRawBufferPointer, level: Int32 = 6) throws -> [UInt8] {
        var stream = z_stream()
        let (windowBits, memLevel) = streamSize(input.count)
        var rc = policylist_deflateInit2Sized(&stream, level, windowBits, memLevel)
        guard rc == Z_OK else { throw StoreError.compression("deflateInit2 failed (\(rc))") }
        defer { deflateEnd(&stream) }
        // One output buffer that holds the whole result of a small input (no 256 KiB buffer per call).
        let capacity = min(chunk, Int(deflateBound(&stream, UInt(min(input.count, maxFeed)))) + 16)
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        var output: [UInt8] = []
        var offset = 0
        var flush = Z_NO_FLUSH
        repeat {
            let feed = min(input.count - offset, maxFeed)
            stream.next_in = input.baseAddress.map {
                UnsafeMutablePointer(mutating: $0.advanced(by: offset).assumingMemoryBound(to: UInt8.self))
            }
            stream.avail_in = UInt32(feed)
            offset += feed
            flush = offset == input.count ? Z_FINISH : Z_NO_FLUSH
            repeat {
                stream.next_out = buffer
                stream.avail_out = UInt32(capacity)
                rc = deflate(&stream, flush)
                guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                    throw StoreError.compression("deflate failed (\(rc))")
                }
                output.append(contentsOf: UnsafeBufferPointer(start: buffer, count: capacity - Int(stream.avail_out)))
            } while stream.avail_out == 0
        } while flush != Z_FINISH
        guard rc == Z_STREAM_END else { throw StoreError.compression("deflate did not finish (\(rc))") }
        return output
    }

    /// A zlib stream of `input` in deflate *stored* blocks (RFC 1950/1951: header, blocks of up to 65,535
    /// literal bytes, Adler-32): no deflate state at all, so for a body of a few hundred bytes — where
    /// compression saves a few dozen bytes — it costs a copy and a checksum instead of a `deflateInit`. Any
    /// inflater (``decompress(_:size:)``) reads it.
    static func stored(_ input: UnsafeRawBufferPointer) -> [UInt8] {
        let blocks = max(1, (input.count + 65_534) / 65_535)
        var output: [UInt8] = []
        output.reserveCapacity(2 + blocks * 5 + input.count + 4)
        output += [0x78, 0x01]
        var offset = 0
        for block in 0..<blocks {
            let length = min(65_535, input.count - offset)
            output.append(block == blocks - 1 ? 1 : 0)
            output += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)]
            if length > 0, let base = input.baseAddress {
                output.append(
                    contentsOf: UnsafeRawBufferPointer(start: base.advanced(by: offset), count: length))
            }
            offset += length
        }
        let checksum = adler32(1, input.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt32(input.count))
        output += [
            UInt8(checksum >> 24 & 0xFF), UInt8(checksum >> 16 & 0xFF), UInt8(checksum >> 8 & 0xFF),
            UInt8(checksum & 0xFF),
        ]
        return output
    }

    /// The smallest window (9…15 bits) that spans `count` bytes plus deflate's lookahead, and a hash table
    /// (memLevel 1…8) in proportion.
    static func streamSize(_ count: Int) -> (windowBits: Int32, memLevel: Int32) {
        var bits: Int32 = 9
        while bits < MAX_WBITS && (1 << bits) < count + 262 { bits += 1 }
        return (bits, max(1, min(8, bits - 7)))
    }

    /// Decompresses `input`, which must inflate to exactly `size` bytes and end there; otherwise says what
    /// is wrong. Never allocates more than `size` + 1 bytes, whatever the stream would produce.
    static func decompress(_ input: UnsafeRawBufferPointer, size: Int) -> Result<[UInt8], ZlibProblem> {
        var stream = z_stream()
        guard policylist_inflateInit2(&stream, MAX_WBITS) == Z_OK else {
            return .failure(ZlibProblem(text: "inflateInit2 failed"))
        }
        defer { inflateEnd(&stream) }
        var rc = Z_OK
        var offset = 0
        // One spare byte: if inflate writes into it, the stream is longer than the recorded size.
        let output = [UInt8](unsafeUninitializedCapacity: size + 1) { out, initialized in
            guard let base = out.baseAddress else { return }
            while true {
                if stream.avail_in == 0 && offset < input.count {
                    let feed = min(input.count - offset, maxFeed)
                    stream.next_in = input.baseAddress.map {
                        UnsafeMutablePointer(mutating: $0.advanced(by: offset).assumingMemoryBound(to: UInt8.self))
                    }
                    stream.avail_in = UInt32(feed)
                    offset += feed
                }
                if stream.avail_out == 0 {
                    let written = Int(stream.total_out)
                    if written >= out.count { break }
                    stream.next_out = base.advanced(by: written)
                    stream.avail_out = UInt32(min(out.count - written, maxFeed))
                }
                rc = inflate(&stream, Z_NO_FLUSH)
                if rc == Z_BUF_ERROR && stream.avail_out == 0 { continue }  // room ran out; loop refills or stops
                if rc != Z_OK { break }
            }
            initialized = Int(stream.total_out)
        }
        let problem: String
        if output.count > size {
            problem = "inflates to more than the recorded \(size) bytes"
        } else if rc == Z_STREAM_END {
            guard output.count == size else {
                return .failure(ZlibProblem(text: "inflates to \(output.count) bytes, recorded size is \(size)"))
            }
            guard stream.avail_in == 0 && offset == input.count else {
                return .failure(ZlibProblem(text: "data after the end of the zlib stream"))
            }
            return .success(output)
        } else if rc == Z_BUF_ERROR {
            problem = "zlib stream is truncated"
        } else {
            problem = "zlib: " + (stream.msg.map { String(cString: $0) } ?? "error \(rc)")
        }
        return .failure(ZlibProblem(text: problem))
    }
}

/// Why a stored stream did not inflate to what its row says.
struct ZlibProblem: Error {
    let text: String
}
