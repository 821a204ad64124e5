// swiftvmx: the command-line tool.
import ArgumentParser

/// The root command; each subcommand lives in its own file.
@main
struct SwiftVMX: ParsableCommand {
    /// The package version `swiftvmx --version` prints: the newest version in CHANGELOG.md (a test checks
    /// that they agree).
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "swiftvmx",
        abstract: "SwiftVMX: an x86-64 processor model with Intel VMX, in Swift.",
        discussion: """
            Exit status: 0 when the guest powers off (or halts for good, or asks for a reset), (V << 1) | 1 when \
            it writes V to isa-debug-exit (port 0xf4), 1 on a guest or VMM error (triple fault, instruction \
            limit, unreadable or malformed files), 64 on a usage error (an unknown option, a missing or \
            malformed value).
            """,
        version: version,
        subcommands: [Run.self, Demo.self])
}
