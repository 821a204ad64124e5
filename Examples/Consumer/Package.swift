// swift-tools-version: 6.1
// A package that depends on SwiftVMX by version, as an embedder's would. scripts/test-consumer runs it
// against a tagged clone: SWIFTVMX_URL is that clone's file:// URL, SWIFTVMX_VERSION the tag.
import Foundation
import PackageDescription

let environment = ProcessInfo.processInfo.environment
let swiftVMX = environment["SWIFTVMX_URL"] ?? "https://github.com/swiftvmx/swiftvmx"
let version = Version(environment["SWIFTVMX_VERSION"] ?? "0.1.0") ?? "0.1.0"

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: swiftVMX, from: version),
    ],
    targets: [
        .executableTarget(
            name: "Consumer",
            dependencies: [
                .product(name: "Hypervisor", package: "swiftvmx"),
                .product(name: "X86", package: "swiftvmx"),
                .product(name: "X86Assembler", package: "swiftvmx"),
                .product(name: "VMM", package: "swiftvmx"),
                .product(name: "Devices", package: "swiftvmx"),
                .product(name: "Loaders", package: "swiftvmx"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
