import ArgumentParser

/// Placeholder until the subcommand is written.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Not written yet.")
    func run() throws { throw ExitCode(2) }
}
