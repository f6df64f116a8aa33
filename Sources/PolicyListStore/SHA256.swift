import CCrypto

/// SHA-256 through libcrypto.
public enum SHA256 {
    /// The lowercase hex SHA-256 of `bytes` (64 characters).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let raw =
            bytes.withContiguousStorageIfAvailable { digest(UnsafeRawBufferPointer($0)) }
            ?? Array(bytes).withUnsafeBytes { digest($0) }
        return hexString(raw)
    }

    /// SHA-256 fetched from the default provider once. `EVP_sha256()` is a legacy handle that makes every
    /// `EVP_Digest` call fetch the implementation again (a locked lookup in OpenSSL 3's method store), which
    /// cost more than hashing a 300-byte observation line; a fetched `EVP_MD` is immutable and thread-safe.
    private nonisolated(unsafe) static let fetched: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

    /// The raw 32-byte SHA-256 of `bytes`.
    static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        // EVP_Digest accepts a nil pointer only with a zero count, which is what an empty buffer has.
        let ok = output.withUnsafeMutableBufferPointer { out in
            EVP_Digest(bytes.baseAddress, bytes.count, out.baseAddress, &length, fetched ?? EVP_sha256(), nil)
        }
        // Only a broken libcrypto installation (no default provider) fails here; there is no sane fallback.
        precondition(ok == 1 && length == 32, "libcrypto EVP_Digest(SHA-256) failed")
        return Array(output.prefix(32))
    }

    private static let digits = Array("0123456789abcdef".utf8)

    private static func hexString(_ bytes: [UInt8]) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            utf8.append(digits[Int(byte >> 4)])
            utf8.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }
}
