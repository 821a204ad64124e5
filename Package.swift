// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "SwiftVMX",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "X86", targets: ["X86"]),
        .library(name: "X86Assembler", targets: ["X86Assembler"]),
        .library(name: "Hypervisor", targets: ["Hypervisor"]),
        .library(name: "Devices", targets: ["Devices"]),
        .library(name: "Loaders", targets: ["Loaders"]),
        .library(name: "VMM", targets: ["VMM"]),
        .executable(name: "swiftvmx", targets: ["swiftvmx"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` (the DocC catalogs in Sources/Hypervisor and Sources/X86).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The x86-64 processor model: registers, decoder, interpreter, MMU/TLB, exceptions.
        // No unsafeFlags in any target a product contains (SwiftPM refuses them in versioned dependencies):
        // the hot stored properties that dynamic exclusivity checks cost time on carry
        // `@exclusivity(unchecked)` instead (BENCHMARKS.md, "Exclusivity checks").
        .target(name: "X86"),
        // The embedding API: virtual machines, vCPUs, VMCS fields by name, run() returning a VM exit.
        .target(name: "Hypervisor", dependencies: ["X86"]),
        // Devices: UART, PIC, PIT, RTC, debug ports… each blind to the CPU, behind one protocol.
        .target(name: "Devices"),
        // Loaders: bzImage (Linux boot protocol), multiboot v1, ELF, flat binaries, firmware ROMs.
        .target(name: "Loaders"),
        // The virtual machine monitor: machine assembly and the exit-handling loop (the demo VMM so far).
        .target(name: "VMM", dependencies: ["Hypervisor", "Guests", "X86", "Devices", "Loaders"]),
        // A small assembler for writing guest code in Swift.
        .target(name: "X86Assembler"),
        // Runs user-mode instruction sequences on the host processor (x86-64 hosts only):
        // the oracle of the differential tests.
        .target(name: "CHostCPU"),
        // Guest programs written with the assembler: the boot demo, test kernels, benchmark workloads.
        .target(name: "Guests", dependencies: ["X86Assembler"]),
        // Random instruction generators, the differential comparator and the fuzzer.
        .target(name: "X86Testing", dependencies: ["X86", "X86Assembler", "CHostCPU", "Hypervisor"]),
        // Test support: synthetic kernel images for the loader, VMM and CLI tests.
        .target(name: "ImageBuilders", dependencies: ["Loaders"]),
        // The command-line tool.
        .executableTarget(
            name: "swiftvmx",
            dependencies: ["X86", "X86Assembler", "Hypervisor", "VMM", "Guests", "Devices", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Developer tool: differential testing, fuzzing, benchmarks.
        .executableTarget(
            name: "swiftvmx-dev",
            dependencies: ["X86", "X86Assembler", "X86Testing", "Hypervisor", "Guests", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "X86Tests", dependencies: ["X86", "X86Assembler", "X86Testing", "Guests", "Hypervisor", "VMM"]),
        .testTarget(name: "X86AssemblerTests", dependencies: ["X86Assembler"]),
        .testTarget(name: "DevicesTests", dependencies: ["Devices"]),
        .testTarget(name: "LoadersTests", dependencies: ["Loaders", "X86Assembler", "ImageBuilders"]),
        .testTarget(name: "HypervisorTests", dependencies: ["Hypervisor", "X86", "X86Assembler"]),
        .testTarget(name: "VMMTests", dependencies: ["VMM", "Devices", "Loaders", "Guests", "Hypervisor", "X86", "ImageBuilders"]),
    ],
    swiftLanguageModes: [.v6]
)
