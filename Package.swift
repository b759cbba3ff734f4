// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "swipc",
  products: [
    .executable(name: "swipc", targets: ["swipc"]),
    .library(name: "SwipcCore", targets: ["SwipcCore"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
  ],
  targets: [
    .target(name: "CSwipc"),
    .target(
      name: "SwipcCore",
      dependencies: [
        "CSwipc",
        .product(name: "SystemPackage", package: "swift-system"),
      ]),
    // swipc bench: the table of mechanisms, the runner and its peer, the output.
    .target(name: "SwipcBench", dependencies: ["CSwipc", "SwipcCore"]),
    .executableTarget(
      name: "swipc",
      dependencies: [
        "SwipcCore",
        "SwipcBench",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // The parsers under libFuzzer (`make fuzz`), or a replay driver in a normal build.
    .executableTarget(name: "swipc-fuzz", dependencies: ["SwipcCore"]),
    .testTarget(name: "SwipcCoreTests", dependencies: ["SwipcCore"]),
    .testTarget(name: "EndToEndTests", dependencies: ["SwipcCore"]),
    // Checks of the executable's own tables (the fast reader's against argument-parser's); no root.
    .testTarget(name: "SwipcCLITests", dependencies: ["swipc"]),
    .testTarget(name: "SwipcBenchTests", dependencies: ["SwipcBench", "SwipcCore"]),
  ]
)
