// swift-tools-version:6.0
// policylist: a batch pipeline for the STARTTLS policy list in its wind-down.
import PackageDescription

let strict: [SwiftSetting] = [.enableUpcomingFeature("ExistentialAny")]

/// One executable per stage, so a scheduler can run, retry and time each one; `policylist` runs pipelines.
let stages = [
    "policylist-ingest", "policylist-observe", "policylist-reconcile", "policylist-publish", "policylist-report",
    "policylist",
]

let package = Package(
    name: "policylist",
    platforms: [.macOS(.v14)],
    products: stages.map { .executable(name: $0, targets: [$0]) },
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
        // The stages' logic: composes Core (rules), Store (state) and IO (edges). Mains stay thin.
        .target(
            name: "PolicyListPipeline",
            dependencies: ["PolicyListCore", "PolicyListStore", "PolicyListIO", "PolicyListCLI"],
            swiftSettings: strict),
        // The mutation fuzzer (docs/reliability.md): shared by `policylist-fuzz` and ReliabilityTests.
        .target(name: "PolicyListFuzz", dependencies: ["PolicyListCore", "PolicyListIO"], swiftSettings: strict),
        .executableTarget(
            name: "policylist-fuzz", dependencies: ["PolicyListFuzz", "PolicyListCore", "PolicyListCLI"],
            swiftSettings: strict),
    ]
        + stages.map { name in
            .executableTarget(
                name: name, dependencies: ["PolicyListCore", "PolicyListPipeline", "PolicyListCLI"],
                swiftSettings: strict)
        } + [
            // bench/run only: the core parsers timed in a loop on in-memory inputs (not a product, not a stage).
            .executableTarget(
                name: "policylist-bench", dependencies: ["PolicyListCore", "PolicyListIO", "PolicyListCLI"],
                swiftSettings: strict),
            .testTarget(name: "PolicyListCoreTests", dependencies: ["PolicyListCore"], exclude: ["Fixtures/reports"]),
            .testTarget(name: "PolicyListStoreTests", dependencies: ["PolicyListStore", "PolicyListCore"]),
            .testTarget(name: "PolicyListIOTests", dependencies: ["PolicyListIO", "PolicyListCore"]),
            .testTarget(
                name: "PipelineTests",
                dependencies: ["PolicyListPipeline", "PolicyListStore", "PolicyListIO", "PolicyListCore"]),
            .testTarget(name: "EndToEndTests", dependencies: ["PolicyListCore", "PolicyListIO", "PolicyListStore"]),
            .testTarget(name: "PeerTests", dependencies: ["PolicyListCore"], exclude: ["Fixtures"]),
            .testTarget(
                name: "ReliabilityTests",
                dependencies: [
                    "PolicyListFuzz", "PolicyListPipeline", "PolicyListStore", "PolicyListIO", "PolicyListCore",
                    "PolicyListCLI",
                ]),
        ],
    swiftLanguageModes: [.v6]
)
