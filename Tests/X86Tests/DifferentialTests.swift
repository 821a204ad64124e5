// Differential tests: the processor model against the host CPU on generated user-mode sequences.
import Testing
import X86
import X86Testing

@Suite struct DifferentialTests {
    /// ~2,000 random sequences (a debug build runs them in a few seconds), split over 64-, 32- and 16-bit code, must
    /// agree with the host, on each execution path forced (the debug build also checks the block path's promises by
    /// assertion there).
    @Test(.enabled(if: HostCPU.isAvailable, "needs an x86-64 Linux host"), arguments: ExecutionPath.allCases)
    func modelMatchesHostCPU(path: ExecutionPath) {
        let report = runDifferential(count: 2_000, seed: 0xD1FF, keep: 3, path: path, modes: CodeSegmentMode.allCases)
        #expect(report.unavailableModes.isEmpty)
        #expect(!report.oracleUnavailable)
        #expect(report.passed + report.failed == 2_000)
        let listing = report.failures.map(\.description).joined(separator: "\n\n")
        #expect(report.failed == 0, "\(report.failed) sequences differ; first ones:\n\n\(listing)")
    }

    /// A few hundred sequences per code-segment mode (64-bit, 32-bit compatibility mode, 16-bit code with 16-bit
    /// data and stack segments) agree with the host running them in the same kind of segment.
    @Test(.enabled(if: HostCPU.isAvailable, "needs an x86-64 Linux host"), arguments: CodeSegmentMode.allCases)
    func modelMatchesHostCPUInEachMode(mode: CodeSegmentMode) {
        let report = runDifferential(count: 300, seed: 0x5E6, keep: 3, modes: [mode])
        #expect(!report.oracleUnavailable)
        #expect(report.unavailableModes.isEmpty, "the host cannot run \(mode) code (modify_ldt refused?)")
        let tally = report.perMode[mode] ?? ModeTally()
        #expect(tally.passed == report.passed && tally.failed == report.failed)
        #expect(report.passed + report.failed == 300)
        let listing = report.failures.map(\.description).joined(separator: "\n\n")
        #expect(report.failed == 0, "\(report.failed) \(mode) sequences differ; first ones:\n\n\(listing)")
    }

    /// Encodings that mean different things per mode run the same on the host and the model: 40 is INC EAX
    /// outside 64-bit mode, B8 takes an imm16 in 16-bit code, [BX+SI] addresses the 16-bit data segment.
    @Test(.enabled(if: HostCPU.isAvailable(.mode16) && HostCPU.isAvailable(.mode32), "needs an x86-64 Linux host with modify_ldt"))
    func modeSpecificEncodings() throws {
        let zeros = [UInt8](repeating: 0, count: HostCPU.dataSize)
        for mode in [CodeSegmentMode.mode32, .mode16] {
            let machine = try UserModeMachine(mode: mode)
            var gpr = [UInt64](repeating: 0, count: 16)
            gpr[0] = 41
            gpr[3] = mode.dataBase + 0x100
            gpr[4] = mode.dataBase + 0x8000
            let state = HostState(gpr: gpr, rip: mode.codeBase, rflags: 0x202)
            // inc eax/ax; mov ecx/cx, 0x1234 (imm32 / imm16); mov [ebx]/[bx+si], eax/ax; push eax/ax
            let code: [UInt8] = mode == .mode32 ? [0x40, 0xB9, 0x34, 0x12, 0, 0, 0x89, 0x03, 0x50]
                                                : [0x40, 0xB9, 0x34, 0x12, 0x89, 0x00, 0x50]
            let model = machine.run(code: code, state: state, data: zeros)
            let host = HostCPU.runDetailed(code: code, state: state, data: zeros, mode: mode)
            #expect(model.outcome == .completed && host.outcome == .completed)
            #expect(model.gpr[0] & 0xFFFF_FFFF == 42 && host.state.gpr[0] & 0xFFFF_FFFF == 42)
            #expect(model.gpr[1] & 0xFFFF == 0x1234 && host.state.gpr[1] & 0xFFFF == 0x1234)
            #expect(model.rip == mode.codeBase + UInt64(code.count) && host.state.rip == model.rip)
            #expect(model.gpr[4] == host.state.gpr[4])
            #expect(machine.data[0x100] == 42 && host.data[0x100] == 42)
            #expect(machine.dataEquals(host.data))
        }
    }

    /// In 16-bit code the stack segment's B bit picks SP or ESP: with ESP 0x1C000, PUSH AX writes at SS:0xBFFE and
    /// keeps ESP's upper half under a 16-bit SS, and faults (#SS, ESP beyond the 64 KiB limit) under a 32-bit one.
    @Test(.enabled(if: HostCPU.isAvailable(.mode16), "needs an x86-64 Linux host with modify_ldt"))
    func stackSizeIn16BitCode() throws {
        let machine = try UserModeMachine(mode: .mode16)
        let zeros = [UInt8](repeating: 0, count: HostCPU.dataSize)
        var gpr = [UInt64](repeating: 0, count: 16)
        gpr[0] = 0xBEEF
        gpr[4] = 0x1_C000
        let state = HostState(gpr: gpr, rip: 0, rflags: 0x202)
        for stack32 in [false, true] {
            let model = machine.run(code: [0x50], state: state, data: zeros, stack32: stack32)
            let host = HostCPU.runDetailed(code: [0x50], state: state, data: zeros, mode: .mode16, stack32: stack32)
            #expect(model.outcome == DifferentialOutcome(host.outcome))
            #expect(model.gpr[4] & 0xFFFF_FFFF == host.state.gpr[4] & 0xFFFF_FFFF)
            if stack32 {
                #expect(model.outcome == .exception(vector: 12, faultRIP: 0))
            } else {
                #expect(model.outcome == .completed && model.gpr[4] == 0x1_BFFE)
                #expect(machine.data[0xBFFE] == 0xEF && host.data[0xBFFE] == 0xEF)
            }
        }
    }

    /// Generated sequences of every mode are well formed (branch targets, no REX outside 64-bit mode, reproducible).
    @Test func generatedSequencesAreWellFormed() {
        let failures = generatorChecks(count: 300)
        #expect(failures.isEmpty, "\(failures.prefix(3).joined(separator: "\n"))")
    }

    /// AAS subtracts 6 from AX, not AL: a borrow out of AL decrements AH as well as the AH − 1 (SDM Vol. 2A AAS;
    /// found by the 32-bit differential run, seed 5). AX 0x0102 with AF=1: 0x0102 − 6 = 0x00FC, AH − 1 → 0xFFFC,
    /// AL & 0x0F → 0xFF0C, CF = AF = 1.
    @Test(.enabled(if: HostCPU.isAvailable(.mode32), "needs an x86-64 Linux host"))
    func aasBorrowsFromAH() throws {
        let machine = try UserModeMachine(mode: .mode32)
        var gpr = [UInt64](repeating: 0, count: 16)
        gpr[0] = 0x0102
        gpr[4] = HostCPU.dataAddress + 0x8000
        let state = HostState(gpr: gpr, rip: HostCPU.codeAddress, rflags: 0x202 | HostFlags.af)
        let zeros = [UInt8](repeating: 0, count: HostCPU.dataSize)
        let model = machine.run(code: [0x3F], state: state, data: zeros)
        let host = HostCPU.runDetailed(code: [0x3F], state: state, data: zeros, mode: .mode32)
        #expect(model.outcome == .completed && host.outcome == .completed)
        #expect(model.gpr[0] & 0xFFFF == 0xFF0C)
        #expect(model.gpr[0] & 0xFFFF == host.state.gpr[0] & 0xFFFF)
        #expect(model.rflags & (HostFlags.cf | HostFlags.af) == HostFlags.cf | HostFlags.af)
    }

    /// MINPS under DAZ returns the zero a denormal operand became, not the denormal (SDM Vol. 1 §10.2.3.4; found by
    /// the random-MXCSR differential run, seed 5). Lanes of +0 against [denormal, −denormal, 1.0, +0]: the two zeros
    /// compare equal and the second operand is returned, so +0, −0, +0, +0.
    @Test(.enabled(if: HostCPU.isAvailable, "needs an x86-64 Linux host"))
    func minpsReturnsDAZZero() throws {
        let machine = try UserModeMachine()
        var data = [UInt8](repeating: 0, count: HostCPU.dataSize)
        func put(_ v: UInt32, _ at: Int) { for k in 0..<4 { data[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) } }
        put(0x1FC0, 0x100)                                            // MXCSR: all masked, DAZ
        for (k, v) in [UInt32(0x0000_3FC0), 0x8000_0001, 0x3F80_0000, 0].enumerated() { put(v, 0x200 + 4 * k) }
        func abs(_ reg: UInt8, _ off: UInt32) -> [UInt8] {
            let a = UInt32(HostCPU.dataAddress) + off
            return [reg << 3 | 4, 0x25, UInt8(a & 0xFF), UInt8(a >> 8 & 0xFF), UInt8(a >> 16 & 0xFF), UInt8(a >> 24)]
        }
        let code: [UInt8] = [0x0F, 0xAE] + abs(2, 0x100)              // ldmxcsr [0x100]
            + [0x0F, 0x57, 0xC0]                                      // xorps xmm0, xmm0
            + [0x0F, 0x5D] + abs(0, 0x200)                            // minps xmm0, [0x200]
            + [0x0F, 0x11] + abs(0, 0x300)                            // movups [0x300], xmm0
        var gpr = [UInt64](repeating: 0, count: 16)
        gpr[4] = HostCPU.dataAddress + 0x8000
        let state = HostState(gpr: gpr, rip: HostCPU.codeAddress, rflags: 0x202)
        let model = machine.run(code: code, state: state, data: data)
        let host = HostCPU.runDetailed(code: code, state: state, data: data)
        #expect(model.outcome == .completed && host.outcome == .completed)
        let expected: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(Array(machine.data[0x300..<0x310]) == expected)
        #expect(Array(host.data[0x300..<0x310]) == expected)
    }

    /// FSQRT of a negative denormal or pseudo-denormal is an invalid operation, which outranks the denormal operand
    /// (SDM Vol. 1 §4.9.2): FSW shows IE without DE (found by the 16-bit differential run, seed 21, sequence 17660).
    /// A positive denormal still reports DE.
    @Test(.enabled(if: HostCPU.isAvailable, "needs an x86-64 Linux host"))
    func fsqrtInvalidOutranksDenormal() throws {
        let machine = try UserModeMachine()
        func abs(_ op: [UInt8], _ reg: UInt8, _ off: UInt32) -> [UInt8] {
            let a = UInt32(HostCPU.dataAddress) + off
            return op + [reg << 3 | 4, 0x25, UInt8(a & 0xFF), UInt8(a >> 8 & 0xFF), UInt8(a >> 16 & 0xFF), UInt8(a >> 24)]
        }
        // fninit; fld tbyte [0x100]; fsqrt; fnstsw [0x200]; fninit
        let code: [UInt8] = [0xDB, 0xE3] + abs([0xDB], 5, 0x100) + [0xD9, 0xFA] + abs([0xDD], 7, 0x200) + [0xDB, 0xE3]
        var gpr = [UInt64](repeating: 0, count: 16)
        gpr[4] = HostCPU.dataAddress + 0x8000
        let state = HostState(gpr: gpr, rip: HostCPU.codeAddress, rflags: 0x202)
        for (sig, se, expectDE) in [(UInt64(0x867A_CE4D_8301_0D97), UInt16(0x8000), false),   // −pseudo-denormal
                                    (0x067A_CE4D_8301_0D97, 0x8000, false),                    // −denormal
                                    (0x067A_CE4D_8301_0D97, 0x0000, true)] {                   // +denormal
            var data = [UInt8](repeating: 0, count: HostCPU.dataSize)
            for k in 0..<8 { data[0x100 + k] = UInt8(truncatingIfNeeded: sig >> (8 * UInt64(k))) }
            data[0x108] = UInt8(se & 0xFF)
            data[0x109] = UInt8(se >> 8)
            let model = machine.run(code: code, state: state, data: data)
            let host = HostCPU.runDetailed(code: code, state: state, data: data)
            #expect(model.outcome == .completed && host.outcome == .completed)
            let modelFSW = machine.data[0x200], hostFSW = host.data[0x200]
            #expect(modelFSW & 3 == hostFSW & 3)
            #expect((modelFSW & 2 != 0) == expectDE)
            #expect((modelFSW & 1 != 0) == !expectDE)
        }
    }

    /// FSCALE of a pseudo-denormal ST(0) (exponent field 0, J bit 1) signals the denormal operand (DE) as the
    /// host processor does, with a normal, denormal and zero scale; found by the 16-bit differential run
    /// (seed 25, sequence 85190).
    @Test func fscaleSignalsDenormalOperand() throws {
        let machine = try UserModeMachine()
        func abs(_ op: [UInt8], _ reg: UInt8, _ off: UInt32) -> [UInt8] {
            let a = UInt32(HostCPU.dataAddress) + off
            return op + [reg << 3 | 4, 0x25, UInt8(a & 0xFF), UInt8(a >> 8 & 0xFF), UInt8(a >> 16 & 0xFF), UInt8(a >> 24)]
        }
        // fninit; fldcw [0x300]; fild word [0x110]; fld tbyte [0x100]; fscale; fnstsw [0x200];
        // fstp tbyte [0x210]; fninit
        let code: [UInt8] = [0xDB, 0xE3] + abs([0xD9], 5, 0x300) + abs([0xDF], 0, 0x110) + abs([0xDB], 5, 0x100)
            + [0xD9, 0xFD] + abs([0xDD], 7, 0x200) + abs([0xDB], 7, 0x210) + [0xDB, 0xE3]
        var gpr = [UInt64](repeating: 0, count: 16)
        gpr[4] = HostCPU.dataAddress + 0x8000
        let state = HostState(gpr: gpr, rip: HostCPU.codeAddress, rflags: 0x202)
        for (sig, se, scale, cw) in [(UInt64(0x9BBC_7381_B800_986A), UInt16(0x0000), UInt16(8011), UInt16(0x67F)),
                                     (0x9BBC_7381_B800_986A, 0x8000, 3, 0x37F),
                                     (0x1BBC_7381_B800_986A, 0x0000, 8011, 0x37F),
                                     (0x9BBC_7381_B800_986A, 0x0000, 0, 0x37F),
                                     (0x9BBC_7381_B800_986A, 0x0000, 0xFFFF, 0x37F)] {   // scale −1
            var data = [UInt8](repeating: 0, count: HostCPU.dataSize)
            for k in 0..<8 { data[0x100 + k] = UInt8(truncatingIfNeeded: sig >> (8 * UInt64(k))) }
            data[0x108] = UInt8(se & 0xFF); data[0x109] = UInt8(se >> 8)
            data[0x110] = UInt8(scale & 0xFF); data[0x111] = UInt8(scale >> 8)
            data[0x300] = UInt8(cw & 0xFF); data[0x301] = UInt8(cw >> 8)
            let model = machine.run(code: code, state: state, data: data)
            let host = HostCPU.runDetailed(code: code, state: state, data: data)
            #expect(model.outcome == .completed && host.outcome == .completed)
            #expect(machine.data[0x200] & 0x3F == host.data[0x200] & 0x3F, "FSW flags, scale \(scale)")
            #expect(machine.data[0x200] & 2 != 0, "DE for the denormal operand, scale \(scale)")
            #expect(Array(machine.data[0x210..<0x21A]) == Array(host.data[0x210..<0x21A]), "result, scale \(scale)")
        }
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
