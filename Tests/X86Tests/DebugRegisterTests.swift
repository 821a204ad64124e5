import Testing
import X86
import X86Assembler

// Breakpoints in DR0–DR3 and DR7.GD (SDM Vol. 3B §18.2–§18.3), run by guest code in 64-bit mode
// (LongModeMachine: AccessProtectionTests.swift). The #DB handler logs the RIP each #DB pushed and DR6,
// then sets RF in the pushed RFLAGS (as a debugger's handler does to go on past an instruction breakpoint).

/// Runs `body` (which must leave RBX alone), then HLT; returns the logged (RIP, DR6) pairs, the labels'
/// addresses and the final RCX.
private func debugRun(_ body: (Assembler) -> [Label]) throws -> (log: [(rip: UInt64, dr6: UInt64)], labels: [UInt64],
                                                                  rcx: UInt64, dr7: UInt64) {
    let m = LongModeMachine()
    m.cpu.exceptionIntercept = 0
    let handler = try m.place(0x10_8000) { a in
        a.push(.rdx)
        a.mov(.rdx, .qword[.rsp + 8])
        a.mov(.qword[.rbx], .rdx)
        a.mov(.rdx, .dr6)
        a.mov(.qword[.rbx + 8], .rdx)
        a.add(.rbx, 16)
        a.mov(.edx, 0x1_0000)
        a.or(.qword[.rsp + 24], .rdx)          // RF in the pushed RFLAGS
        a.pop(.rdx)
        a.iretq()
    }
    m.setInterruptGate(1, handler)
    m.cpu.setGPR(.rbx, 0x7000)
    let a = Assembler(mode: .bits64, origin: LongModeMachine.code)
    a.xor(.ecx, .ecx)
    let labels = body(a)
    a.hlt()
    _ = m.mem.write(try a.finish(), at: LongModeMachine.code)
    #expect(m.cpu.run(instructionLimit: 500) == .halted)
    let count = Int((m.cpu.gpr(.rbx) - 0x7000) / 16)
    let log = (0..<max(0, min(count, 8))).map {
        (m.mem.readInteger(at: 0x7000 + UInt64($0) * 16, size: 8), m.mem.readInteger(at: 0x7008 + UInt64($0) * 16, size: 8))
    }
    return (log, labels.map { a.address(of: $0) ?? 0 }, m.cpu.gpr(.rcx), m.cpu.dr[7])
}

/// Loads DRn with `address` and DR7 with `dr7` (through RAX).
private func arm(_ a: Assembler, _ register: Operand, _ address: UInt64, dr7: UInt64) {
    a.mov(.rax, .imm(address)); a.mov(register, .rax)
    a.mov(.rax, .imm(dr7)); a.mov(.dr7, .rax)
}

@Test func instructionBreakpointFaultsBeforeTheInstructionOnceWithRF() throws {
    let r = try debugRun { a in
        let target = a.label()
        a.lea(.rax, .qword[.rip + target]); a.mov(.dr2, .rax)
        a.mov(.eax, 0x420); a.mov(.dr7, .rax)        // G2
        a.bind(target)
        a.inc(.rcx)                                  // the breakpoint: #DB before it, then it runs once
        a.inc(.rcx)
        return [target]
    }
    #expect(r.log.count == 1)
    #expect(r.log.first?.rip == r.labels[0])
    #expect(r.log.first.map { $0.dr6 & 0x600F } == 0x4)          // B2 only, no BS/BD
    #expect(r.rcx == 2)
}

@Test func dataBreakpointsTrapAfterMatchingWritesAndReads() throws {
    let r = try debugRun { a in
        // DR1: 4-byte write breakpoint at 8000h (L1, R/W1 = 01, LEN1 = 11).
        arm(a, .dr1, 0x8000, dr7: 0x00D0_0404)
        a.mov(.eax, 7)
        a.mov(.dword[0x8004], .eax)                   // next to it: nothing
        a.mov(.eax, .dword[0x8000])                   // a read: write breakpoints do not match
        a.mov(.word[0x8002], .ax)                     // overlaps: trap after it
        let afterWrite = a.here()
        // DR3: 8-byte read-or-write breakpoint at 8010h, given unaligned (L3, R/W3 = 11, LEN3 = 10).
        arm(a, .dr3, 0x8013, dr7: 0xB000_0440)
        a.mov(.al, .byte[0x8017])                     // a read inside the 8 bytes
        let afterRW = a.here()
        a.mov(.al, .byte[0x8018])                     // past them: nothing
        return [afterWrite, afterRW]
    }
    #expect(r.log.map(\.rip) == r.labels)
    #expect(r.log.map { $0.dr6 & 0xF } == [0x2, 0x8])
}

@Test func dataBreakpointKeepsDR6BSAndGeneralDetectFaults() throws {
    let r = try debugRun { a in
        a.mov(.eax, 0x4000); a.mov(.dr6, .rax)           // BS set by software
        arm(a, .dr0, 0x8000, dr7: 0x0001_0401)           // L0, R/W0 = 01, LEN0 = 1 byte
        a.mov(.byte[0x8000], .al)
        let afterWrite = a.here()
        a.mov(.eax, 0x2400); a.mov(.dr7, .rax)           // DR7.GD (no breakpoint)
        let movDR = a.here()
        a.mov(.rax, .dr6)                                // #DB fault (BD); GD clears, so it then runs
        a.inc(.rcx)
        return [afterWrite, movDR]
    }
    #expect(r.log.map(\.rip) == r.labels)
    #expect(r.log.first.map { $0.dr6 & 0x600F } == 0x4001)       // B0 with the BS software left
    #expect(r.log.last.map { $0.dr6 & 0x2000 } == 0x2000)        // BD
    #expect(r.dr7 & 0x2000 == 0)
    #expect(r.rcx == 1)
}

@Test func instructionBreakpointAfterMovSSIsInhibited() throws {
    // Intel processors inhibit code breakpoints while MOV SS blocking is active (kvm-unit-tests' emulator
    // checks it): the INC after MOV SS runs without a #DB; the second INC, with the same breakpoint
    // moved to it, faults.
    let r = try debugRun { a in
        let first = a.label(), second = a.label()
        a.lea(.rax, .qword[.rip + first]); a.mov(.dr0, .rax)
        a.mov(.eax, 0x402); a.mov(.dr7, .rax)        // G0
        a.db(0x8C, 0xD0)                             // mov eax, ss
        a.db(0x8E, 0xD0)                             // mov ss, eax
        a.bind(first)
        a.inc(.rcx)
        a.lea(.rax, .qword[.rip + second]); a.mov(.dr0, .rax)
        a.bind(second)
        a.inc(.rcx)
        return [second]
    }
    #expect(r.log.map(\.rip) == r.labels)
    #expect(r.rcx == 2)
}
