// The JIT against the interpreter, in lockstep (Sources/X86Testing/Lockstep.swift), and the JIT's exits.
import Testing
@testable import X86
import X86Testing

@Suite struct JITLockstepTests {
    @Test func jitMatchesInterpreterInLockstep() throws {
        let interpreter = try UserModeMachine(path: .all)
        let jit = try UserModeMachine(path: .jit)
        var failures: [String] = []
        var instructions: UInt64 = 0
        for i in 0..<UInt64(150) {
            let r = runLockstep(seed: 0x10C5, index: i, interpreter: interpreter, jit: jit)
            instructions += r.instructions
            if !r.differences.isEmpty { failures.append("case \(i): " + r.differences.joined(separator: "; ")) }
        }
        #expect(failures.isEmpty, "\(failures.prefix(3))")
        #expect(instructions > 10_000)
        if ExecutionPath.jitAvailable, let s = jit.cpu.jitStatistics {
            // The cases really exercise translations: most of what the JIT side retired ran as host code.
            #expect(s.translated > 100 && s.retired > Int(instructions / 4), "\(s) for \(instructions) instructions")
        }
    }

    /// The JIT really runs translations (on an x86-64 Linux host): a loop of translated forms retires through it.
    @Test(.enabled(if: ExecutionPath.jitAvailable, "needs an x86-64 Linux host"))
    func translationsRun() throws {
        let m = try UserModeMachine(path: .jit)
        // mov ecx, 1000; L: add rax, rcx; xor rdx, rax; dec ecx; jnz L
        let code: [UInt8] = [0xB9, 0xE8, 0x03, 0, 0, 0x48, 0x01, 0xC8, 0x48, 0x31, 0xC2, 0xFF, 0xC9, 0x75, 0xF6]
        m.instructionLimit = 100_000
        let r = m.run(code: code, state: HostState(gpr: [UInt64](repeating: 0, count: 16), rip: HostCPU.codeAddress,
                                                   rflags: 0x202), data: [])
        #expect(r.outcome == .completed)
        #expect(r.gpr[0] == 500_500)
        #expect(m.cpu.executionPath == .jit)
        #expect((m.cpu.jitStatistics?.retired ?? 0) > 3000)
    }

    /// With a threshold, a block runs that many times in the interpreter before it is translated: a loop of N
    /// iterations below the threshold translates nothing, one above it translates its body and retires the rest
    /// of the iterations through the translation.
    @Test(.enabled(if: ExecutionPath.jitAvailable, "needs an x86-64 Linux host"))
    func blocksAreTranslatedOnceHot() throws {
        func run(iterations: UInt8) throws -> (translated: Int, retired: Int, rax: UInt64) {
            let m = try UserModeMachine(path: .jit)
            m.cpu.jitHotRuns = 8
            // mov ecx, N; L: add rax, rcx; xor rdx, rax; dec ecx; jnz L
            let code: [UInt8] = [0xB9, iterations, 0, 0, 0, 0x48, 0x01, 0xC8, 0x48, 0x31, 0xC2, 0xFF, 0xC9, 0x75, 0xF6]
            m.instructionLimit = 100_000
            let r = m.run(code: code, state: HostState(gpr: [UInt64](repeating: 0, count: 16), rip: HostCPU.codeAddress,
                                                       rflags: 0x202), data: [])
            #expect(r.outcome == .completed)
            let s = m.cpu.jitStatistics ?? (0, 0, 0)
            return (s.translated, s.retired, r.gpr[0])
        }
        let cold = try run(iterations: 5)
        #expect(cold.translated == 0 && cold.retired == 0, "\(cold)")
        #expect(cold.rax == 15)
        let hot = try run(iterations: 100)
        #expect(hot.translated > 0, "\(hot)")
        #expect(hot.rax == 5050)
        #if DEBUG
        // Debug builds count what translations retired: the loop's last ~90 iterations (4 instructions each).
        #expect(hot.retired >= 4 * 80, "\(hot)")
        #endif
    }
}
