// `swiftvmx-dev fuzz-vmcs`: enters random VMCS configurations (valid and invalid) with random guest code,
// in worker processes (the `fuzz` driver's machinery) so that a trap in the model is counted, not fatal.
import ArgumentParser
import Foundation
import X86Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Robustness fuzzing of VM entry, the entry checks and VM exits.
struct FuzzVMCS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz-vmcs",
        abstract: "Enter random VMCS configurations with random guest code; none may trap the host process.",
        discussion: "The last line printed is `N passed, M failed`; the exit status is 0 only if M is 0.")

    @OptionGroup var options: FuzzOptions

    func run() throws {
        if let range = try options.workerRange() {
            runFuzzWorker(range) { i in
                let r = VMCSFuzzer.run(seed: options.seed, index: i)
                return (r.outcome.rawValue, r.violation.map { "\(r.shape.rawValue), \(r.mutations) mutations, entries [\(r.trace)]: \($0)" })
            }
            return
        }
        try options.runDriver(subcommand: "fuzz-vmcs") { s, seconds in
            String(format: "%.1f s, %.0f cases/s; last entry: %llu exit, %llu VMfailValid, %llu entry-failure exit, %llu re-entered to the end; %llu crashes",
                   seconds, Double(options.count) / max(seconds, 1e-9), s.outcomes[0], s.outcomes[1], s.outcomes[2], s.outcomes[3], s.crashes)
        }
    }
}
