// swiftvmx: the command-line tool.
import ArgumentParser

/// The root command; each subcommand lives in its own file.
@main
struct SwiftVMX: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftvmx",
        abstract: "SwiftVMX: an x86-64 processor model with Intel VMX, in Swift.",
        subcommands: [Run.self, Demo.self])
}
