import ArgumentParser
import Foundation
import X86
import X86Testing

/// `swiftvmx-dev differential <count>`: runs generated user-mode sequences on the processor model and on
/// the host CPU and compares the results. The last line is `N passed, M failed`; exit status 0 only if M == 0.
struct Differential: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "differential",
        abstract: "Compare the processor model with the host CPU on random user-mode instruction sequences.")

    @Argument(help: "Number of sequences to run.")
    var count: Int = 10_000

    @Option(help: "Generator seed (sequence k of seed S is always the same).")
    var seed: UInt64 = 1

    @Option(help: "Print the listings of at most this many failures.")
    var show: Int = 5

    @Flag(help: "Print how often each instruction was executed.")
    var mix = false

    @Option(help: "Execution layers of the model: general (one instruction at a time, no blocks, no specialised forms), blocks (blocks without specialised forms) or all (the default).")
    var path: ExecutionPath = .all

    @Flag(help: "Print progress every 100,000 sequences.")
    var progress = false

    func run() throws {
        #if arch(x86_64) && os(Linux)
        let showProgress = progress
        let report = runDifferential(count: count, seed: seed, keep: max(show, 0), collectMix: mix,
                                     path: path, progressInterval: 100_000) { done, failed in
            if showProgress { print("... \(done) sequences, \(failed) failed") }
        }
        if report.oracleUnavailable {
            print("host CPU oracle unavailable (the native runner could not be set up)")
            throw ExitCode(1)
        }
        for f in report.failures.prefix(show) {
            print(f.description)
            print("")
        }
        if mix {
            print("instruction mix (executed-path instructions in listings):")
            for (k, v) in report.mix.sorted(by: { $0.value > $1.value }) { print("  \(k): \(v)") }
        }
        let sequences = report.passed + report.failed
        func percent(_ n: Int, _ of: Int) -> String { of == 0 ? "0%" : String(format: "%.1f%%", 100 * Double(n) / Double(of)) }
        print("floating-point sequences: \(report.floatingPointSequences) of \(sequences) (\(percent(report.floatingPointSequences, sequences))); "
            + "x87/SSE/SSE2 instructions: \(report.floatingPointInstructions) of \(report.instructions) executed-path instructions "
            + "(\(percent(report.floatingPointInstructions, report.instructions)))")
        print("host outcomes: " + report.outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            .joined(separator: ", "))
        print("execution path: \(path.rawValue)")
        print("\(report.passed) passed, \(report.failed) failed")
        if report.failed != 0 { throw ExitCode(1) }
        #else
        print("host CPU oracle unavailable on this architecture")
        throw ExitCode(1)
        #endif
    }
}

extension ExecutionPath: ExpressibleByArgument {}
