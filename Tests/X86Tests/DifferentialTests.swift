// Differential tests: the processor model against the host CPU on generated user-mode sequences.
import Testing
import X86
import X86Testing

@Suite struct DifferentialTests {
    /// ~2,000 random sequences (a debug build runs them in a few seconds) must agree with the host, on each
    /// execution path forced (the debug build also checks the block path's promises by assertion there).
    @Test(.enabled(if: HostCPU.isAvailable, "needs an x86-64 Linux host"), arguments: ExecutionPath.allCases)
    func modelMatchesHostCPU(path: ExecutionPath) {
        let report = runDifferential(count: 2_000, seed: 0xD1FF, keep: 3, path: path)
        #expect(!report.oracleUnavailable)
        #expect(report.passed + report.failed == 2_000)
        let listing = report.failures.map(\.description).joined(separator: "\n\n")
        #expect(report.failed == 0, "\(report.failed) sequences differ; first ones:\n\n\(listing)")
    }

    /// The machine recognises the end of a sequence and reports faults at the faulting instruction.
    @Test func userModeMachineOutcomes() throws {
        let machine = try UserModeMachine()
        let base = HostCPU.codeAddress
        let zeros = [UInt8](repeating: 0, count: HostCPU.dataSize)
        func state(_ regs: [Int: UInt64]) -> HostState {
            var gpr = [UInt64](repeating: 0, count: 16)
            gpr[4] = HostCPU.dataAddress + 0x8000
            for (k, v) in regs { gpr[k] = v }
            return HostState(gpr: gpr, rip: base, rflags: 0x202)
        }
        let inc = machine.run(code: [0x48, 0xFF, 0xC0], state: state([0: 41]), data: zeros)   // inc rax
        #expect(inc.outcome == .completed)
        #expect(inc.gpr[0] == 42)
        #expect(inc.rip == base + 3)
        let ud = machine.run(code: [0x90, 0x0F, 0x0B], state: state([:]), data: zeros)        // nop; ud2
        #expect(ud.outcome == .exception(vector: 6, faultRIP: base + 1))
        // A 32-bit IDIV of 0x80000000_00000000 by -1 overflows: #DE, not a crash of the host.
        let de = machine.run(code: [0xF7, 0xF9], state: state([0: 0, 2: 0x8000_0000, 1: 0xFFFF_FFFF]), data: zeros)
        #expect(de.outcome == .exception(vector: 0, faultRIP: base))
        // A store lands in the data area at the host runner's address.
        let store = machine.run(code: [0x48, 0x89, 0x04, 0x25, 0x00, 0x01, 0x01, 0x10],     // mov [0x10010100], rax
                                state: state([0: 0x1122_3344_5566_7788]), data: zeros)
        #expect(store.outcome == .completed)
        #expect(machine.data[0x100..<0x108].elementsEqual([0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]))
    }
}
