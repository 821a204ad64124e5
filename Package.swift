// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "SwiftVMX",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "X86", targets: ["X86"]),
        .library(name: "X86Assembler", targets: ["X86Assembler"]),
        .library(name: "Hypervisor", targets: ["Hypervisor"]),
        .executable(name: "swiftvmx", targets: ["swiftvmx"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The x86-64 processor model: registers, decoder, interpreter, MMU/TLB, exceptions.
        // Dynamic exclusivity checks are off in this hot module only: its hot state lives behind raw pointers
        // and internal stored properties, and the fuzzers (scripts/fuzz, fuzz-vmcs, the machine fuzz test)
        // and the differential test run with this setting (BENCHMARKS.md, "What was tried").
        .target(name: "X86", swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // The embedding API: virtual machines, vCPUs, VMCS fields by name, run() returning a VM exit.
        .target(name: "Hypervisor", dependencies: ["X86"]),
        // Devices: UART, PIC, PIT, RTC, debug ports… each blind to the CPU, behind one protocol.
        // Dynamic exclusivity checks off, as in X86: the VMM reaches device and bus state (stored properties
        // of final classes) on every VM exit, and those checks were a sixth of an I/O exit's host
        // instructions (cachegrind: ~1,100 of 6,200 per OUT exit); the machine fuzz test and the device tests
        // run with this setting.
        .target(name: "Devices", swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        // Loaders: bzImage (Linux boot protocol), multiboot v1, ELF, flat binaries, firmware ROMs.
        .target(name: "Loaders"),
        // The virtual machine monitor: machine assembly and the exit-handling loop (the demo VMM so far).
        // Exclusivity checks off for the exit loop's machine state, as for Devices.
        .target(name: "VMM", dependencies: ["Hypervisor", "Guests", "X86", "Devices", "Loaders"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
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
