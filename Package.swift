// swift-tools-version:6.1
import PackageDescription

/// Release builds skip Swift's run-time exclusivity checks (debug builds, which the tests
/// use, keep them): on the request path they cost about 4% of the CPU (perf, bench/vcl-hits).
let serverSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Shellac",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "shellac", targets: ["shellac"]),
        .library(name: "Shellac", targets: ["Shellac"]),
        .library(name: "VCL", targets: ["VCL"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        // PCRE2 (8-bit) from Debian's libpcre2-dev, for VCL regular expressions with JIT.
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"])]
        ),
        // zlib from Debian's zlib1g-dev: gzip and gunzip of stored bodies (Varnish uses zlib too).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "VCL",
            dependencies: ["CPCRE2"],
            swiftSettings: serverSettings
        ),
        .target(
            name: "ShellacCache",
            dependencies: [
                "VCL",
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: serverSettings
        ),
        // The transaction log (VSL): the ring in shared memory, its writer and readers, and
        // what the log tools make of it. Knows nothing of NIO.
        .target(
            name: "ShellacLog",
            dependencies: [.product(name: "Atomics", package: "swift-atomics")],
            swiftSettings: serverSettings
        ),
        .target(
            name: "Shellac",
            dependencies: [
                "VCL",
                "ShellacCache",
                "ShellacLog",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            swiftSettings: serverSettings
        ),
        .executableTarget(
            name: "shellac",
            dependencies: [
                "Shellac",
                "ShellacCache",
                "ShellacLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "VCLTests", dependencies: ["VCL"], resources: [.copy("Corpus")]),
        .testTarget(name: "ShellacCacheTests", dependencies: ["ShellacCache"]),
        .testTarget(name: "ShellacLogTests", dependencies: ["ShellacLog"]),
        .testTarget(
            name: "ShellacTests",
            dependencies: [
                "Shellac",
                "ShellacLog",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
