import Testing
import X86
import X86Assembler

// Single-step #DB traps with RFLAGS.TF (SDM Vol. 3B §18.3.1.4), run by guest code in 64-bit mode
// (LongModeMachine: AccessProtectionTests.swift). The #DB handler logs the RIP each trap pushed and DR6.

/// Runs `body` after a POPFQ that sets TF (its own trap is one instruction late); the #DB handler appends
/// the pushed RIP to a log at 7000h (RBX is its pointer: `body` must leave RBX alone) and keeps DR6 at
/// 6000h. Returns the logged RIPs and the labels' addresses.
private func singleStep(_ body: (Assembler) -> [Label]) throws -> (log: [UInt64], labels: [UInt64], dr6: UInt64,
                                                                 stop: StopReason) {
    let m = LongModeMachine()
    m.cpu.exceptionIntercept = 0
    let handler = try m.place(0x10_8000) { a in
        a.push(.rdx)
        a.mov(.rdx, .qword[.rsp + 8])
        a.mov(.qword[.rbx], .rdx)
        a.add(.rbx, 8)
        a.mov(.rdx, .dr6)
        a.mov(.qword[0x6000], .rdx)
        a.pop(.rdx)
        a.iretq()
    }
    m.setInterruptGate(1, handler)
    m.setInterruptGate(3, try m.place(0x10_8100) { a in a.iretq() })     // #BP: return
    m.cpu.setGPR(.rbx, 0x7000)
    let a = Assembler(mode: .bits64, origin: LongModeMachine.code)
    a.pushfq()
    a.pop(.rax)
    a.mov(.rcx, .rax)
    a.or(.rax, 0x100)
    a.push(.rcx)                 // the flags without TF, for the POPFQ that ends the test
    a.push(.rax)
    a.popfq()                    // TF = 1 from here on
    let labels = body(a)
    a.popfq()                    // TF = 0: still trapped (TF was set when it started)
    let end = a.here()
    a.hlt()
    _ = m.mem.write(try a.finish(), at: LongModeMachine.code)
    let stop = m.cpu.run(instructionLimit: 200)
    let count = Int((m.cpu.gpr(.rbx) - 0x7000) / 8)
    let log = (0..<max(0, min(count, 16))).map { m.mem.readInteger(at: 0x7000 + UInt64($0) * 8, size: 8) }
    let addresses = (labels + [end]).map { a.address(of: $0) ?? 0 }
    return (log, addresses, m.mem.readInteger(at: 0x6000, size: 8), stop)
}

@Test func singleStepTrapsAfterEachInstructionFromTheOneAfterPOPF() throws {
    let r = try singleStep { a in
        a.nop()
        let b = a.here()
        a.nop()
        let c = a.here()
        return [b, c]
    }
    #expect(r.stop == .halted)
    #expect(r.log == r.labels)                        // after the first NOP, the second, and the POPFQ
    #expect(r.dr6 & 0x400F == 0x4000)                 // BS, no breakpoint match
}

@Test func movSSHoldsTheSingleStepTrapBackForOneInstruction() throws {
    let r = try singleStep { a in
        a.db(0x8C, 0xD0)             // mov eax, ss
        let b = a.here()
        a.db(0x8E, 0xD0)             // mov ss, eax: no trap after it
        a.nop()
        let d = a.here()
        return [b, d]
    }
    #expect(r.stop == .halted)
    #expect(r.log == r.labels)
}

@Test func noSingleStepTrapAfterAnInstructionThatRaisesAnException() throws {
    // INT3's delivery clears TF (the pushed image keeps it), so no trap follows INT3 and none follows the
    // handler's IRETQ, which sets TF again; the NOP after INT3 traps.
    let r = try singleStep { a in
        a.int3()
        a.nop()
        let c = a.here()
        return [c]
    }
    #expect(r.stop == .halted)
    #expect(r.log == r.labels)
}
