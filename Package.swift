// swift-tools-version:6.0
// libanyllm: one C-ABI shared library (libanyllm.so) that calls any LLM provider through one
// OpenAI-compatible completion API. Package.swift is the single source of truth for the build;
// CMakeLists.txt drives it for C consumers (install, pkg-config, find_package, ctest).
import PackageDescription

let package = Package(
    name: "anyllm",
    products: [
        .library(name: "anyllm", type: .dynamic, targets: ["AnyLLM"]),
        // The `anyllm` command-line tool (CMake installs it as bin/anyllm).
        .executable(name: "anyllm-cli", targets: ["anyllm-cli"]),
    ],
    targets: [
        // libcurl, imported through a system-library module map (Debian: libcurl4-openssl-dev).
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        // Typed wrappers around curl's variadic setopt/getinfo, which Swift cannot call. Hidden
        // visibility: they must not appear in libanyllm.so's exported symbols.
        .target(name: "CCurlShim", dependencies: ["CCurl"], path: "Sources/CCurlShim"),
        // The hand-written public C types (include/anyllm_types.h), shared by C callers and Swift.
        .systemLibrary(name: "CAnyLLMTypes", path: "Sources/CAnyLLMTypes"),
        .target(
            name: "AnyLLM",
            dependencies: ["CCurl", "CCurlShim", "CAnyLLMTypes"],
            path: "Sources/AnyLLM",
            swiftSettings: [
                // The raw header from the @c declarations; tools/gen_header.py turns it into include/anyllm.h.
                .unsafeFlags(["-emit-clang-header-path", ".build/anyllm-generated.h"]),
                // Release builds skip the run-time exclusivity checks (swift_beginAccess on every
                // access to a class's stored property: 35 per call, about 2.5k of a call's
                // instructions). Debug builds, which `swift test` runs, keep them.
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
            ],
            linkerSettings: [.unsafeFlags(["-Xlinker", "-soname=libanyllm.so"])]
        ),
        // Uses only the public C ABI (the @c functions of AnyLLM) and the public C types.
        .executableTarget(name: "anyllm-cli", dependencies: ["AnyLLM", "CAnyLLMTypes"], path: "Sources/anyllm-cli"),
        .testTarget(name: "AnyLLMTests", dependencies: ["AnyLLM"], path: "Tests/AnyLLMTests"),
    ]
)
