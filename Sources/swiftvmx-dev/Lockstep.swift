// `swiftvmx-dev lockstep`: random JIT-shaped code run on the interpreter and the JIT side by side, compared after
// every step (Sources/X86Testing/Lockstep.swift).
import ArgumentParser
import X86
import X86Testing

struct Lockstep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lockstep",
        abstract: "Run random code on the interpreter and the JIT in lockstep and compare the whole state after every step.",
        discussion: "The last line printed is `N passed, M failed`; the exit status is 0 only if M is 0. "
            + "On a host without the JIT (not x86-64 Linux) both sides run the interpreter.")

    @Argument(help: "Number of cases.")
    var count: Int = 1000

    @Option(help: "Seed of the case stream.")
    var seed: UInt64 = 1

    @Option(help: "Print this many failing cases at most.")
    var show: Int = 3

    func run() throws {
        guard count >= 0 else { throw ValidationError("the count must not be negative") }
        let interpreter = try UserModeMachine(path: .all)
        let jit = try UserModeMachine(path: .jit)
        var passed = 0, failed = 0, instructions: UInt64 = 0, steps = 0
        for i in 0..<UInt64(count) {
            let r = runLockstep(seed: seed, index: i, interpreter: interpreter, jit: jit)
            instructions += r.instructions
            steps += r.steps
            if r.differences.isEmpty { passed += 1; continue }
            failed += 1
            if failed <= show {
                print("FAIL case \(i) (seed \(seed)): " + r.differences.joined(separator: "\n  "))
                print("  code: " + r.code.map { String($0, radix: 16) }.joined(separator: " "))
            }
        }
        let stats = jit.cpu.jitStatistics.map { "\($0.translated) blocks translated" } ?? "JIT unavailable on this host"
        print("\(steps) steps, \(instructions) instructions compared; \(stats)")
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }
}
