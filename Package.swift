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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
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
            ]
        ),
        .executableTarget(
            name: "videobus",
            dependencies: [
                "BusWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "BusRuntimeTests",
            dependencies: [
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
