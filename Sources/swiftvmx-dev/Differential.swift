import ArgumentParser

/// Placeholder until the subcommand is written.
struct Differential: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "differential", abstract: "Not written yet.")
    func run() throws { throw ExitCode(2) }
}
