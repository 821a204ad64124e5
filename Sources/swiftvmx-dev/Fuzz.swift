import ArgumentParser

/// Placeholder until the subcommand is written.
struct Fuzz: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fuzz", abstract: "Not written yet.")
    func run() throws { throw ExitCode(2) }
}
