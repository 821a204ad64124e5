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

    @Argument(help: "Number of cases.")
    var count: UInt64 = 10000

    @Option(help: "Seed of the case stream (case i of seed S is always the same case).")
    var seed: UInt64 = 1

    @Option(help: "Worker processes to run at once (default: the number of processors).")
    var jobs: Int?

    @Option(help: "Cases per worker process.")
    var chunk: UInt64 = 5000

    @Option(help: "Print every failing case's details up to this many.")
    var show: Int = 40

    @Option(help: .hidden)
    var worker: String?

    func run() throws {
        if let w = worker {
            let parts = w.split(separator: ":").compactMap { UInt64($0) }
            guard parts.count == 2, parts[0] <= parts[1] else { throw ValidationError("--worker wants start:end") }
            runWorker(parts[0]..<parts[1])
            return
        }
        guard chunk > 0 else { throw ValidationError("--chunk must be positive") }
        let driver = FuzzDriver(seed: seed, count: count, chunk: chunk,
                                jobs: max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount))
        driver.subcommand = "fuzz-vmcs"
        let start = Date()
        driver.runAll()
        let seconds = Date().timeIntervalSince(start)
        let failures = driver.state.failures.sorted { $0.index < $1.index }
        for f in failures.prefix(show) {
            print("FAIL case \(f.index): \(f.message)")
            print("  replay: swiftvmx-dev fuzz-vmcs --seed \(seed) --worker \(f.index):\(f.index + 1)")
        }
        if failures.count > show { print("... and \(failures.count - show) more failures") }
        let s = driver.state
        print(String(format: "%.1f s, %.0f cases/s; last entry: %llu exit, %llu VMfailValid, %llu entry-failure exit, %llu re-entered to the end; %llu crashes",
                     seconds, Double(count) / max(seconds, 1e-9), s.outcomes[0], s.outcomes[1], s.outcomes[2], s.outcomes[3], s.crashes))
        print("\(s.passed) passed, \(s.failures.count) failed")
        if !failures.isEmpty { throw ExitCode(1) }
    }

    /// Runs cases in this process with the `fuzz` worker protocol on stdout:
    /// `C i` (every case below i is reported), `F i message`, `S a b c d` (outcome counts), `E end`.
    func runWorker(_ range: Range<UInt64>) {
        func emit(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
        var outcomes: [UInt64] = [0, 0, 0, 0]
        for i in range {
            if (i - range.lowerBound) % 16 == 0 { emit("C \(i)") }
            // A case that takes this long is a hang in the model: SIGALRM ends the worker, the driver replays.
            alarm(20)
            let r = VMCSFuzzer.run(seed: seed, index: i)
            outcomes[r.outcome.rawValue] += 1
            if let v = r.violation {
                emit("F \(i) \(r.shape.rawValue), \(r.mutations) mutations, entries [\(r.trace)]: \(v)")
            }
        }
        alarm(0)
        emit("S \(outcomes.map(String.init).joined(separator: " "))")
        emit("E \(range.upperBound)")
    }
}
