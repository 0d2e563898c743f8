// swift-tools-version: 6.0
// AstroPile — survey data from the archive to an analysis-ready HATS lake.
import PackageDescription

/// Arrow/Parquet C++ come from the pinned pyarrow wheel that `make setup` installs into `.venv`
/// and links at `.deps/pyarrow` (headers in `include/`, libraries beside them).
let arrowDir = Context.packageDirectory + "/.deps/pyarrow"

let package = Package(
    name: "AstroPile",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "astropile", targets: ["astropile"]),
        .library(name: "AstroPile", targets: ["Sky", "Table", "Formats", "RunEngine", "Registry", "Pipelines", "Fetch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C layer
        .target(name: "CArrowData"),
        .target(
            name: "CArrowShim",
            dependencies: ["CArrowData"],
            cxxSettings: [
                .unsafeFlags(["-I" + arrowDir + "/include", "-std=c++20", "-O2", "-Wno-deprecated-declarations"]),
            ],
            linkerSettings: [
                .linkedLibrary("stdc++"),
                .unsafeFlags([
                    "-L" + arrowDir, "-larrow", "-lparquet",
                    "-Xlinker", "-rpath", "-Xlinker", arrowDir,
                ]),
            ]
        ),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CFITSIO", pkgConfig: "cfitsio", providers: [.apt(["libcfitsio-dev"])]),
        .systemLibrary(name: "CWCSLib", pkgConfig: "wcslib", providers: [.apt(["wcslib-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBZip2", providers: [.apt(["libbz2-dev"])]),
        .systemLibrary(name: "CAvro", pkgConfig: "avro-c", providers: [.apt(["libavro-dev"])]),
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // Open MPI (always linked; MPI starts only under an MPI launcher: RunEngine/Cluster).
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),
        // Pure layer
        .target(name: "Sky"),
        // Hot loops (builders, decoders) on class-held buffers: dynamic exclusivity checks cost more
        // than the work there, so these two modules are built without them.
        .target(name: "Table", dependencies: ["CArrowData"], swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // I/O layer
        .target(name: "Formats", dependencies: ["Table", "Sky", "CArrowShim", "CArrowData", "CFITSIO", "CWCSLib", "CHDF5", "CPNG", "CZlib", "CBZip2", "COpenSSL", "CAvro", "CArchive"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // The run engine: work folder, completion records, stages, executor, interruption,
        // progress, the run report and exit statuses — under every pipeline.
        .target(name: "RunEngine", dependencies: ["Formats", "CMPI"]),
        // The registry of projects: sources, raw files, products, runs, per-source stage status —
        // one schema and code path over SQLite (GRDB) and PostgreSQL (PostgresNIO).
        .target(name: "Registry", dependencies: [
            "RunEngine", "Formats",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Pipelines
        .target(name: "Pipelines", dependencies: ["Sky", "Table", "Formats", "RunEngine", "Registry", "Fetch", .product(name: "Yams", package: "Yams"),
                                                .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Fetch", dependencies: [
            "RunEngine", "Formats", "Table", "COpenSSL",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        // CLI
        .target(name: "AstroPileCLI", dependencies: [
            "Pipelines", "Fetch", "Registry", "RunEngine", "Formats", "Table", "Sky",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .executableTarget(name: "astropile", dependencies: ["AstroPileCLI"]),
        // Tests
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SkyTests", dependencies: ["Sky", "TestSupport"]),
        .testTarget(name: "TableTests", dependencies: ["Table", "CArrowData"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "Table", "Sky", "TestSupport"]),
        .testTarget(name: "RunEngineTests", dependencies: ["RunEngine", "Formats", "TestSupport"]),
        .testTarget(name: "FetchTests", dependencies: ["Fetch", "RunEngine", "Formats", "TestSupport"], exclude: ["fetch_server.py"]),
        .testTarget(name: "PipelinesTests", dependencies: ["Pipelines", "Registry", "Fetch", "RunEngine", "Formats", "Table", "Sky", "AstroPileCLI", "TestSupport"],
                    exclude: ["Python"]),
    ],
    cxxLanguageStandard: .cxx20
)
