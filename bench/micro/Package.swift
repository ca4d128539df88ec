// swift-tools-version:6.0
// Micro-benchmarks of libanyllm's hot paths with no network: request parse + encode per wire
// protocol, stream decode + chunk normalisation per protocol, non-streamed answer decode.
// Depends on the repository's package by path and reaches its internal APIs through
// `@testable import AnyLLM`, which a release build allows when AnyLLM is compiled with
// -enable-testing: `swift build -c release -Xswiftc -enable-testing` (bench/run.sh does this).
import PackageDescription

let package = Package(
    name: "anyllm-micro",
    dependencies: [.package(name: "anyllm", path: "../..")],
    targets: [
        .executableTarget(name: "micro", dependencies: [.product(name: "anyllm", package: "anyllm")],
                          path: "Sources/micro", swiftSettings: [.swiftLanguageMode(.v5)]),
    ]
)
