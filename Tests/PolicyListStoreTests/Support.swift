import Foundation
import PolicyListCore
import PolicyListStore
import Testing

/// A fresh directory under the system temp dir, removed after `body` returns.
func withTempDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("policylist-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// A migrated read-write database in a fresh temp directory.
func withMigratedDatabase<T>(_ body: (Database) throws -> T) throws -> T {
    try withTempDirectory { dir in
        let db = try Database(path: dir + "/store.sqlite")
        defer { db.close() }
        try Migrations.migrate(db, now: "2024-01-02T03:04:05Z")
        return try body(db)
    }
}

/// Expects `body` to throw a `StoreError` and returns it for further checks.
func expectStoreError(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void
) -> StoreError? {
    do {
        try body()
        Issue.record("expected a StoreError, nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        return error
    } catch {
        Issue.record("expected a StoreError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// Deterministic pseudo-random bytes (SplitMix64), so a failure reproduces.
func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 8)
    while bytes.count < count {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        withUnsafeBytes(of: z) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
}

struct Marker: Error, Equatable {}
