// swiftvmx-dev: developer tools — differential testing against the host CPU, fuzzing, benchmarks.
import ArgumentParser

@main
struct SwiftVMXDev: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftvmx-dev",
        abstract: "Developer tools for SwiftVMX: differential testing, fuzzing and benchmarks.",
        subcommands: [Differential.self, Lockstep.self, Fuzz.self, FuzzVMCS.self, Bench.self, BenchVMExit.self, WriteTestKernel.self, X87Table.self])
}
