/// Raw inputs as they came: zlib-compressed, addressed by the SHA-256 of the uncompressed bytes.
public struct BlobStore {
    /// The connection the blobs live in.
    public let db: Database

    /// A blob store over `db` (which must be migrated).
    public init(_ db: Database) {
        self.db = db
    }

    /// Stores `bytes` unless already present; returns their hash and whether this call added them.
    @discardableResult
    public func put(_ bytes: [UInt8]) throws -> (hash: String, isNew: Bool) {
        let hash = SHA256.hex(bytes)
        // Skip the compression work for bytes we already hold; the insert below still settles races.
        if try contains(hash) { return (hash, false) }
        let compressed = try bytes.withUnsafeBytes { try Zlib.compress($0, level: Self.level(bytes.count)) }
        try db.execute(
            "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            [.text(hash), .int(Int64(bytes.count)), .blob(compressed)])
        return (hash, db.changes == 1)
    }

    /// The zlib level for `count` bytes: 1 below 16 KiB (observation lines and policy bodies, where level 6
    /// spends about three times the CPU for a few bytes less), zlib's default 6 above (snapshots, archives).
    static func level(_ count: Int) -> Int32 { count < 16 * 1024 ? 1 : 6 }

    /// Stores a blob hashed and compressed beforehand (possibly on another thread) without first asking
    /// whether it is there; returns whether this call added it.
    @discardableResult
    public func put(_ prepared: PreparedBlob) throws -> Bool {
        try db.execute(
            "INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING",
            [.text(prepared.hash), .int(Int64(prepared.size)), .blob(prepared.compressed)])
        return db.changes == 1
    }

    /// The uncompressed bytes stored under `hash`, checked against their recorded size and their hash.
    public func get(_ hash: String) throws -> [UInt8] {
        let rows = try db.query("SELECT size, data FROM blobs WHERE sha256 = ?", [.text(hash)])
        guard let row = rows.first else { throw StoreError.blobNotFound(hash: hash) }
        let size: Int64 = try row.get(0)
        let data: [UInt8] = try row.get(1)
        // Deflate cannot expand data more than ~1032:1; a larger recorded size is corruption, not a reason to
        // allocate it.
        guard size >= 0, size <= Int64(data.count) * 1032 + 1024 else {
            throw StoreError.corruptBlob(
                hash: hash, problem: "recorded size \(size) is impossible for \(data.count) compressed bytes")
        }
        let bytes: [UInt8]
        switch data.withUnsafeBytes({ Zlib.decompress($0, size: Int(size)) }) {
        case .success(let inflated): bytes = inflated
        case .failure(let problem): throw StoreError.corruptBlob(hash: hash, problem: problem.text)
        }
        let actual = SHA256.hex(bytes)
        guard actual == hash else {
            throw StoreError.corruptBlob(hash: hash, problem: "content hashes to \(actual)")
        }
        return bytes
    }

    /// Whether a blob is stored under `hash`.
    public func contains(_ hash: String) throws -> Bool {
        try db.scalar("SELECT EXISTS (SELECT 1 FROM blobs WHERE sha256 = ?)", [.text(hash)], as: Bool.self) ?? false
    }
}

/// Bytes made ready for the blob store away from the database: their SHA-256 and their zlib stream. Pure
/// and `Sendable`, so an importer can prepare blobs on one thread while its single writer stores on another.
public struct PreparedBlob: Sendable, Equatable {
    /// The hex SHA-256 of the uncompressed bytes.
    public let hash: String
    /// The uncompressed size.
    public let size: Int
    /// The zlib stream stored in `blobs.data`.
    let compressed: [UInt8]

    /// Hashes and compresses `bytes` (at the store's level for their size).
    public init(_ bytes: [UInt8]) throws {
        hash = SHA256.hex(bytes)
        size = bytes.count
        compressed = try bytes.withUnsafeBytes { buffer in
            // Below ``storedBelow`` bytes, deflate's setup costs more than the few bytes it saves.
            bytes.count < Self.storedBelow
                ? Zlib.stored(buffer) : try Zlib.compress(buffer, level: BlobStore.level(bytes.count))
        }
    }

    /// Blobs shorter than this (observation policy bodies, mostly) are kept as zlib *stored* blocks.
    static let storedBelow = 512
}
