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

    @Option(help: "Execution layers of the model: general (one instruction at a time, no blocks, no specialised forms), blocks (blocks without specialised forms), all (the default) or jit (all, with blocks translated to host code).")
    var path: ExecutionPath = .all

    @Option(help: "interpreter or jit: the same as --path all or --path jit.")
    var engine: String?

    @Flag(help: "Print progress every 100,000 sequences.")
    var progress = false

    @Option(help: "Code-segment mode: 16, 32, 64 or all (the default: the count split evenly over the three).")
    var mode: ModeChoice = .all

    @Option(help: "Print the listings of N sequences of each mode (and nothing else), then stop.")
    var list: Int = 0

    @Option(help: "With --list: the index of the first sequence listed.")
    var from: UInt64 = 0

    @Option(help: "With --list: also print 16 bytes of each listed sequence's initial data area from this offset.")
    var data: Int?

    func run() throws {
        var path = path
        if let engine {
            guard let p = ExecutionPath(engine: engine) else { throw ValidationError("--engine must be interpreter or jit") }
            path = p
        }
        #if arch(x86_64) && os(Linux)
        if list > 0 {
            for m in mode.modes {
                var gen = SequenceGenerator(seed: seed)
                gen.mode = m
                gen.index = from
                for _ in 0..<list {
                    let seq = gen.next()
                    print(seq.listing)
                    if let off = data, off >= 0, off + 16 <= seq.initialData.count {
                        let bytes = seq.initialData[off..<off + 16].map { String($0, radix: 16) }.joined(separator: " ")
                        print("  data +0x\(String(off, radix: 16)): \(bytes)\n")
                    }
                }
            }
            return
        }
        let showProgress = progress
        let report = runDifferential(count: count, seed: seed, keep: max(show, 0), collectMix: mix,
                                     path: path, modes: mode.modes, progressInterval: 100_000) { done, failed in
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
        for m in mode.modes {
            if report.unavailableModes.contains(m) {
                print("\(m) code: not run (the host refused the 16-bit LDT segments: modify_ldt(2) failed)")
            } else {
                let t = report.perMode[m] ?? ModeTally()
                print("\(m) code: \(t.passed + t.failed) sequences, \(t.passed) passed, \(t.failed) failed")
            }
        }
        print("\(report.passed) passed, \(report.failed) failed")
        if report.failed != 0 || !report.unavailableModes.isEmpty { throw ExitCode(1) }
        #else
        print("host CPU oracle unavailable on this architecture")
        throw ExitCode(1)
        #endif
    }
}

extension ExecutionPath: ExpressibleByArgument {}

/// `--mode`: one code-segment mode or all three.
enum ModeChoice: String, ExpressibleByArgument, CaseIterable {
    case m16 = "16", m32 = "32", m64 = "64", all

    /// The modes to run, in the order sequences cycle through them.
    var modes: [CodeSegmentMode] {
        switch self {
        case .m16: return [.mode16]
        case .m32: return [.mode32]
        case .m64: return [.mode64]
        case .all: return [.mode64, .mode32, .mode16]
        }
    }
}
