// swift-tools-version:6.0
// policylist: a batch pipeline for the STARTTLS policy list in its wind-down.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

let package = Package(
    name: "policylist",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "policylist-ingest", targets: ["policylist-ingest"])
    ],
    targets: [
        // System libraries: a module map and a small shim header each.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CResolv", providers: [.apt(["libc6-dev"])]),

        // Pure core: values in, values out. Foundation only.
        .target(name: "PolicyListCore", swiftSettings: strict),
        .target(
            name: "PolicyListStore",
            dependencies: ["PolicyListCore", "CSQLite", "CZlib", "CCrypto"],
            swiftSettings: strict),
        .target(
            name: "PolicyListIO",
            dependencies: ["PolicyListCore", "CZlib", "CCurl", "CResolv", "CCrypto"],
            swiftSettings: strict),
        .target(name: "PolicyListCLI", dependencies: ["PolicyListCore"], swiftSettings: strict),

        .executableTarget(
            name: "policylist-ingest",
            dependencies: ["PolicyListCore", "PolicyListStore", "PolicyListIO", "PolicyListCLI"],
            swiftSettings: strict),

        .testTarget(name: "PolicyListCoreTests", dependencies: ["PolicyListCore"]),
        .testTarget(name: "PolicyListStoreTests", dependencies: ["PolicyListStore", "PolicyListCore"]),
        .testTarget(name: "PolicyListIOTests", dependencies: ["PolicyListIO", "PolicyListCore"]),
        .testTarget(name: "EndToEndTests", dependencies: ["PolicyListCore"]),
        .testTarget(name: "PeerTests", dependencies: ["PolicyListCore"], exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
