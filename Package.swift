// swift-tools-version:6.1
import PackageDescription

// Dependency direction (one way only):
//   BusWire ← BusRuntime ← services ← Gateway / videobus CLI;  Storage beside them.
// Targets are added as the pieces they hold are built; there are no empty placeholders.
let package = Package(
    name: "videobus",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "videobus", targets: ["videobus"]),
        .library(name: "BusWire", targets: ["BusWire"]),
        .library(name: "BusRuntime", targets: ["BusRuntime"]),
        .library(name: "Storage", targets: ["Storage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Already built as Hummingbird's dependencies; named because the gateway's connection guard uses them directly.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // System zlib, plus a shim for the init macros Swift cannot import.
        .target(
            name: "CZlib",
            linkerSettings: [.linkedLibrary("z")]
        ),
        // Frames, header codec, compression, limits. Pure: no sockets.
        .target(
            name: "BusWire",
            dependencies: [
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // One BusNode per process: serve methods, call other services.
        .target(
            name: "BusRuntime",
            dependencies: [
                "BusWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // libpq from the system, for PostgreSQL.
        .systemLibrary(
            name: "CLibPQ",
            providers: [.apt(["libpq-dev"])]
        ),
        // Each service's database: SQLite (GRDB) or PostgreSQL (libpq) behind
        // one interface, migrations, outbox and inbox. Knows nothing of the bus.
        .target(
            name: "Storage",
            dependencies: [
                "CLibPQ",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // What services share on top of the bus and their databases: service
        // definitions and their host, the outbox relay's bus publisher,
        // exactly-once event consumption, idempotent writes, keyset pages.
        .target(
            name: "ServiceKit",
            dependencies: [
                "BusRuntime",
                "BusWire",
                "Contracts",
                "Storage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What each service promises: typed method and event descriptors,
        // their messages with JSON schemas, and REST routes as data. Shared by
        // the services and their callers (the gateway). Foundation only.
        .target(name: "Contracts"),
        // The analysis-store service: video analyses, their search, their events.
        .target(
            name: "AnalysisStore",
            dependencies: [
                "Contracts",
                "ServiceKit",
                "Storage",
                "BusRuntime",
                "BusWire",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The ingest service: tenants, users, API keys (and authentication).
        .target(
            name: "Ingest",
            dependencies: [
                "Contracts",
                "ServiceKit",
                "Storage",
                "BusRuntime",
                "BusWire",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The prediction service: model registry, predictions, actuals, error per version.
        .target(
            name: "Prediction",
            dependencies: [
                "Contracts",
                "ServiceKit",
                "Storage",
                "BusRuntime",
                "BusWire",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The conversion service: campaigns, A/B experiments, conversions, attribution.
        .target(
            name: "Conversion",
            dependencies: [
                "Contracts",
                "ServiceKit",
                "Storage",
                "BusRuntime",
                "BusWire",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Every service of this build, in one list: what the CLI and the gateway iterate.
        .target(
            name: "Catalog",
            dependencies: ["AnalysisStore", "Ingest", "Prediction", "Conversion", "Contracts", "ServiceKit"]
        ),
        // The HTTP gateway: REST calls translated into bus calls.
        .target(
            name: "Gateway",
            dependencies: [
                "BusRuntime",
                "BusWire",
                "Contracts",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // The registry service: who serves what, where; leases and watch.
        .target(
            name: "Registry",
            dependencies: [
                "BusRuntime",
                "BusWire",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The load-test harness: drives the bus directly with its own node.
        .target(
            name: "LoadTest",
            dependencies: [
                "BusRuntime",
                "BusWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .executableTarget(
            name: "videobus",
            dependencies: [
                "BusWire",
                "BusRuntime",
                "LoadTest",
                "Registry",
                "ServiceKit",
                "Storage",
                "Catalog",
                "Contracts",
                "Gateway",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "BusRuntimeTests",
            dependencies: [
                "TestSupport",
                "BusRuntime",
                "BusWire",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RegistryTests",
            dependencies: [
                "TestSupport",
                "Registry",
                "BusRuntime",
                "BusWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // What tests share: fresh SQLite and PostgreSQL databases, waiting with a deadline.
        .target(
            name: "TestSupport",
            dependencies: ["Storage"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "StorageTests",
            dependencies: [
                "Storage",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // A test helper process: publishes and consumes events through the
        // outbox and inbox, and can kill itself at chosen points.
        .executableTarget(
            name: "outbox-probe",
            dependencies: [
                "ServiceKit",
                "BusRuntime",
                "BusWire",
                "Storage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/OutboxProbe"
        ),
        .testTarget(
            name: "AnalysisStoreTests",
            dependencies: [
                "AnalysisStore",
                "Contracts",
                "BusRuntime",
                "BusWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                "ServiceKit",
                "Storage",
                "TestSupport",
            ]
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "Ingest",
                "Contracts",
                "BusRuntime",
                "BusWire",
                "ServiceKit",
                "Storage",
                "TestSupport",
            ]
        ),
        .testTarget(
            name: "PredictionTests",
            dependencies: [
                "Prediction",
                "Contracts",
                "BusRuntime",
                "BusWire",
                "ServiceKit",
                "Storage",
                "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ConversionTests",
            dependencies: ["Conversion", "Contracts", "TestSupport"]
        ),
        .testTarget(
            name: "ServiceKitTests",
            dependencies: [
                "ServiceKit",
                "Contracts",
                "BusRuntime",
                "BusWire",
                "Storage",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The catalog and its definitions agree with proto/ and with each other.
        .testTarget(
            name: "CatalogTests",
            dependencies: [
                "Catalog",
                "Contracts",
                "ServiceKit",
                "Gateway",
                "BusRuntime",
                "BusWire",
            ]
        ),
        // The gateway in process: its pieces, and its router against services that answer from memory.
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway",
                "BusWire",
                "BusRuntime",
                "Catalog",
                "Contracts",
                "TestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        // Real processes of the built `videobus` executable.
        .testTarget(
            name: "SystemTests",
            dependencies: [
                "BusRuntime",
                "BusWire",
                "Storage",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "LoadTestTests",
            dependencies: [
                "LoadTest",
                "BusRuntime",
                "BusWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "BusWireTests",
            dependencies: [
                "BusWire",
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
    ]
)
