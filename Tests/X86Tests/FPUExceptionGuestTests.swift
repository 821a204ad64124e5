import Testing
import X86
import X86Assembler

// The floating-point exception paths, driven by a small 64-bit ring-0 guest written with the assembler:
// it loads its own GDT and IDT (handlers for #UD, #NM, #MF and #XM), then triggers each path in turn and
// logs (vector, RIP pushed by the processor) from its handlers; the test checks the log and the values
// the guest stored.
//
//   #NM   CR0.TS = 1 and an x87 instruction; CR0.TS = 1 and an SSE instruction; WAIT with CR0.MP = TS = 1
//         (and no fault for WAIT with TS = 1, MP = 0). The handler executes CLTS and returns, so the
//         instruction runs again: Linux's lazy FPU switch (SDM Vol. 3A §2.5 CR0.TS, §6.15 #NM).
//   #MF   CR0.NE = 1: an unmasked x87 zero-divide sets FSW.ES; the fault comes at the next waiting x87
//         instruction (not at FNSTSW, which does not wait), with FIP naming the FDIVP (SDM Vol. 1 §8.6,
//         Vol. 3A §6.15 #MF). The handler executes FNCLEX and returns.
//         CR0.NE = 0: the processor would signal FERR# to an external interrupt controller (IRQ 13). The
//         model does not wire FERR#, so no exception is raised and execution continues with FSW.ES set.
//   #XM   CR4.OSXMMEXCPT = 1: an unmasked SSE zero-divide raises #XM at the DIVSS itself (SDM Vol. 1 §11.5);
//         the handler masks the exception in MXCSR and returns, so DIVSS delivers the masked result (+∞).
//   #UD   CR4.OSXMMEXCPT = 0: the same unmasked SSE exception raises #UD instead.

/// Guest memory layout (all inside one identity-mapped 2 MiB page).
private enum Layout {
    static let code: UInt64 = 0x10_0000
    static let log: UInt64 = 0x18_0000        // 16-byte entries: vector, RIP
    static let count: UInt64 = 0x18_0200      // number of log entries
    static let controlWord: UInt64 = 0x18_0300      // FCW with ZE unmasked
    static let mxcsrUnmasked: UInt64 = 0x18_0308    // MXCSR with ZE unmasked
    static let mxcsrMasked: UInt64 = 0x18_030C      // MXCSR default (all masked)
    static let floatOne: UInt64 = 0x18_0310
    static let mfStatus: UInt64 = 0x18_0320         // FSW seen by the #MF handler
    static let mfEnvironment: UInt64 = 0x18_0330    // FNSTENV image in the #MF handler (28 bytes)
    static let nonWaitingStatus: UInt64 = 0x18_0360 // FNSTSW between the faulting FDIVP and FWAIT
    static let neClearStatus: UInt64 = 0x18_0368    // FSW after FWAIT with CR0.NE = 0
    static let xmMXCSR: UInt64 = 0x18_0370          // MXCSR seen by the #XM handler
    static let udMXCSR: UInt64 = 0x18_0378          // MXCSR seen by the #UD handler
    static let fld1Result: UInt64 = 0x18_0380       // FLD1 re-executed after #NM, stored as m64
    static let xmResult: UInt64 = 0x18_0388         // DIVSS re-executed after #XM
    static let udResult: UInt64 = 0x18_038C         // DIVSS re-executed after #UD
    static let sseNMResult: UInt64 = 0x18_0390      // ADDPS re-executed after #NM (low lane)
    static let idt: UInt64 = 0x18_1000
    static let gdt: UInt64 = 0x18_2000
    static let stackTop: UInt64 = 0x19_0000
    static let pml4: UInt64 = 0x1_0000
}

/// ModRM (mod 00, rm 100) + SIB (no base, no index) + disp32: an absolute address for a raw instruction.
private func absolute(_ reg: UInt8, _ address: UInt64) -> [UInt8] {
    [0x04 | reg << 3, 0x25] + (0..<4).map { UInt8(truncatingIfNeeded: address >> (8 * $0)) }
}

/// The x87 and SSE instructions the guest needs, as bytes (the assembler has no FP mnemonics; it emits
/// them through `emit`).
private enum FP {
    static let fninit: [UInt8] = [0xDB, 0xE3]
    static let fnclex: [UInt8] = [0xDB, 0xE2]
    static let fld1: [UInt8] = [0xD9, 0xE8]
    static let fldz: [UInt8] = [0xD9, 0xEE]
    static let fdivp: [UInt8] = [0xDE, 0xF9]            // fdivp st(1), st
    static let fwait: [UInt8] = [0x9B]
    static func fldcw(_ a: UInt64) -> [UInt8] { [0xD9] + absolute(5, a) }
    static func fnstsw(_ a: UInt64) -> [UInt8] { [0xDD] + absolute(7, a) }
    static func fnstenv(_ a: UInt64) -> [UInt8] { [0xD9] + absolute(6, a) }
    static func fstpQword(_ a: UInt64) -> [UInt8] { [0xDD] + absolute(3, a) }
    static func ldmxcsr(_ a: UInt64) -> [UInt8] { [0x0F, 0xAE] + absolute(2, a) }
    static func stmxcsr(_ a: UInt64) -> [UInt8] { [0x0F, 0xAE] + absolute(3, a) }
    static func movssLoad(_ xmm: UInt8, _ a: UInt64) -> [UInt8] { [0xF3, 0x0F, 0x10] + absolute(xmm, a) }
    static func movssStore(_ a: UInt64, _ xmm: UInt8) -> [UInt8] { [0xF3, 0x0F, 0x11] + absolute(xmm, a) }
    static let xorpsXmm1: [UInt8] = [0x0F, 0x57, 0xC9]
    static let divssXmm0Xmm1: [UInt8] = [0xF3, 0x0F, 0x5E, 0xC1]
    static let addpsXmm0Xmm0: [UInt8] = [0x0F, 0x58, 0xC0]
}

/// The guest and the addresses of the instructions expected to fault.
private struct ExceptionGuest {
    let code: [UInt8]
    let nmX87: UInt64, nmSSE: UInt64, nmWait: UInt64, mfWait: UInt64, mfDivide: UInt64, xmDivide: UInt64, udDivide: UInt64
}

private func buildGuest() throws -> ExceptionGuest {
    let a = Assembler(mode: .bits64, origin: Layout.code)
    let gdtr = a.label("gdtr"), idtr = a.label("idtr")
    let onUD = a.label("ud"), onNM = a.label("nm"), onMF = a.label("mf"), onXM = a.label("xm")
    let nmX87 = a.label(), nmSSE = a.label(), nmWait = a.label(), mfWait = a.label(), mfDivide = a.label()
    let xmDivide = a.label(), udDivide = a.label()

    // Descriptor tables: a GDT with 64-bit code (08) and data (10), and 64-bit interrupt gates built here.
    a.lgdt(.fword[gdtr])
    for (vector, handler) in [(UInt64(6), onUD), (7, onNM), (16, onMF), (19, onXM)] {
        let gate = Int64(Layout.idt + 16 * vector)
        a.mov(.rax, .label(handler))
        a.mov(.word[.absolute(gate)], .ax)                  // offset 15:0
        a.mov(.word[.absolute(gate + 2)], 0x08)             // selector
        a.mov(.word[.absolute(gate + 4)], 0x8E00)           // present, DPL 0, 64-bit interrupt gate
        a.shr(.rax, 16)
        a.mov(.word[.absolute(gate + 6)], .ax)              // offset 31:16
        a.shr(.rax, 16)
        a.mov(.dword[.absolute(gate + 8)], .eax)            // offset 63:32
        a.mov(.dword[.absolute(gate + 12)], 0)
    }
    a.lidt(.fword[idtr])
    a.mov(.rsp, Operand.imm(Layout.stackTop))
    a.mov(.qword[.absolute(Int64(Layout.count))], 0)
    a.mov(.dword[.absolute(Int64(Layout.controlWord))], 0x37B)
    a.mov(.dword[.absolute(Int64(Layout.mxcsrUnmasked))], 0x1D80)
    a.mov(.dword[.absolute(Int64(Layout.mxcsrMasked))], 0x1F80)
    a.mov(.dword[.absolute(Int64(Layout.floatOne))], 0x3F80_0000)

    func setCR0(_ bits: Int64) { a.mov(.rax, .cr0); a.or(.rax, Operand.imm(bits)); a.mov(.cr0, .rax) }
    func clearCR0(_ bits: Int64) { a.mov(.rax, .cr0); a.and(.rax, Operand.imm(~bits)); a.mov(.cr0, .rax) }
    let ts: Int64 = 1 << 3, mp: Int64 = 1 << 1, ne: Int64 = 1 << 5

    // 1. #NM: CR0.TS and an x87 instruction; the handler's CLTS lets FLD1 run again.
    a.emit(FP.fninit)
    setCR0(ts)
    a.bind(nmX87); a.emit(FP.fld1)
    a.emit(FP.fstpQword(Layout.fld1Result))
    // 2. #NM: CR0.TS and an SSE instruction.
    a.emit(FP.movssLoad(0, Layout.floatOne))
    setCR0(ts)
    a.bind(nmSSE); a.emit(FP.addpsXmm0Xmm0)
    a.emit(FP.movssStore(Layout.sseNMResult, 0))
    // 3. WAIT: no #NM with TS alone, #NM with MP and TS.
    setCR0(ts)
    a.emit(FP.fwait)
    setCR0(mp)
    a.bind(nmWait); a.emit(FP.fwait)
    clearCR0(mp)
    // 4. #MF with CR0.NE = 1: FDIVP by zero with ZE unmasked; FNSTSW does not wait; FWAIT faults.
    a.emit(FP.fninit)
    a.emit(FP.fldcw(Layout.controlWord))
    a.emit(FP.fld1); a.emit(FP.fldz)
    a.bind(mfDivide); a.emit(FP.fdivp)
    a.emit(FP.fnstsw(Layout.nonWaitingStatus))
    a.bind(mfWait); a.emit(FP.fwait)
    // 5. CR0.NE = 0: the same pending exception does not fault (FERR# is not wired in the model).
    clearCR0(ne)
    a.emit(FP.fninit)
    a.emit(FP.fldcw(Layout.controlWord))
    a.emit(FP.fld1); a.emit(FP.fldz); a.emit(FP.fdivp)
    a.emit(FP.fwait)
    a.emit(FP.fnstsw(Layout.neClearStatus))
    a.emit(FP.fnclex)
    setCR0(ne)
    a.emit(FP.fninit)
    // 6. #XM: DIVSS by zero with ZE unmasked and CR4.OSXMMEXCPT = 1.
    a.emit(FP.ldmxcsr(Layout.mxcsrUnmasked))
    a.emit(FP.movssLoad(0, Layout.floatOne)); a.emit(FP.xorpsXmm1)
    a.bind(xmDivide); a.emit(FP.divssXmm0Xmm1)
    a.emit(FP.movssStore(Layout.xmResult, 0))
    // 7. #UD: the same with CR4.OSXMMEXCPT = 0.
    a.mov(.rax, .cr4); a.and(.rax, Operand.imm(~Int64(1 << 10))); a.mov(.cr4, .rax)
    a.emit(FP.ldmxcsr(Layout.mxcsrUnmasked))
    a.emit(FP.movssLoad(0, Layout.floatOne))
    a.bind(udDivide); a.emit(FP.divssXmm0Xmm1)
    a.emit(FP.movssStore(Layout.udResult, 0))
    a.hlt()

    // Handlers: log (vector, RIP of the interrupted instruction), fix the cause, return to re-execute.
    func logEntry(_ vector: Int64) {
        a.push(.rax); a.push(.rcx)
        a.mov(.rcx, .qword[.absolute(Int64(Layout.count))])
        a.shl(.rcx, 4)
        a.mov(.qword[.rcx + Int(Layout.log)], Operand.imm(vector))
        a.mov(.rax, .qword[.rsp + 16])                      // RIP pushed by the processor
        a.mov(.qword[.rcx + Int(Layout.log + 8)], .rax)
        a.inc(.qword[.absolute(Int64(Layout.count))])
        a.pop(.rcx); a.pop(.rax)
    }
    a.bind(onNM)
    logEntry(7)
    a.clts()
    a.iretq()
    a.bind(onMF)
    logEntry(16)
    a.emit(FP.fnstsw(Layout.mfStatus))
    a.emit(FP.fnstenv(Layout.mfEnvironment))
    a.emit(FP.fnclex)
    a.iretq()
    a.bind(onXM)
    logEntry(19)
    a.emit(FP.stmxcsr(Layout.xmMXCSR))
    a.emit(FP.ldmxcsr(Layout.mxcsrMasked))
    a.iretq()
    a.bind(onUD)
    logEntry(6)
    a.emit(FP.stmxcsr(Layout.udMXCSR))
    a.emit(FP.ldmxcsr(Layout.mxcsrMasked))
    a.iretq()

    a.align(8)
    a.bind(gdtr); a.dw(23); a.dq(Layout.gdt)
    a.align(8)
    a.bind(idtr); a.dw(UInt16(256 * 16 - 1)); a.dq(Layout.idt)
    let code = try a.finish()
    func at(_ l: Label) -> UInt64 { a.address(of: l) ?? 0 }
    return ExceptionGuest(code: code, nmX87: at(nmX87), nmSSE: at(nmSSE), nmWait: at(nmWait), mfWait: at(mfWait),
                          mfDivide: at(mfDivide), xmDivide: at(xmDivide), udDivide: at(udDivide))
}

@Test func fpExceptionPathsInAssembledGuest() throws {
    let guest = try buildGuest()
    let mem = PhysicalMemory(ramSize: 4 << 20)
    // Identity map of the first 2 MiB (one large page, supervisor, writable).
    mem.writeInteger(0x2_0000 | 3, at: Layout.pml4, size: 8)
    mem.writeInteger(0x3_0000 | 3, at: 0x2_0000, size: 8)
    mem.writeInteger(0x83, at: 0x3_0000, size: 8)
    // GDT: null, 64-bit code (08), data (10).
    mem.writeInteger(0x00AF_9A00_0000_FFFF, at: Layout.gdt + 8, size: 8)
    mem.writeInteger(0x00CF_9200_0000_FFFF, at: Layout.gdt + 16, size: 8)
    mem.write(guest.code, at: Layout.code)
    let cpu = CPU(memory: mem)
    cpu.cr3 = Layout.pml4
    cpu.cr4 = CR4.pae.rawValue | CR4.osfxsr.rawValue | CR4.osxmmexcpt.rawValue
    cpu.efer = EFER.lme.rawValue | EFER.lma.rawValue
    cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue | CR0.ne.rawValue
    cpu.setSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
    for s in [SegmentRegisterName.ss, .ds, .es] {
        cpu.setSegment(s, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
    }
    cpu.rflags = 2
    cpu.rip = Layout.code

    let stop = cpu.run(instructionLimit: 10_000)
    #expect(stop == .halted)

    func u64(_ a: UInt64) -> UInt64 { mem.readInteger(at: a, size: 8) }
    func u32(_ a: UInt64) -> UInt64 { mem.readInteger(at: a, size: 4) }
    func u16(_ a: UInt64) -> UInt64 { mem.readInteger(at: a, size: 2) }
    let count = Int(u64(Layout.count))
    var log: [(UInt64, UInt64)] = []
    for k in 0..<min(count, 16) { log.append((u64(Layout.log + UInt64(16 * k)), u64(Layout.log + UInt64(16 * k) + 8))) }
    let expected: [(UInt64, UInt64)] = [(7, guest.nmX87), (7, guest.nmSSE), (7, guest.nmWait), (16, guest.mfWait),
                                        (19, guest.xmDivide), (6, guest.udDivide)]
    #expect(log.map(\.0) == expected.map(\.0), "vectors in order: #NM x87, #NM SSE, #NM WAIT, #MF, #XM, #UD")
    #expect(log.map(\.1) == expected.map(\.1), "faulting RIPs")

    // #NM: the handler's CLTS let the instructions run again.
    #expect(u64(Layout.fld1Result) == 0x3FF0_0000_0000_0000)           // FLD1 → 1.0
    #expect(u32(Layout.sseNMResult) == 0x4000_0000)                      // ADDPS 1.0 + 1.0
    #expect(cpu.cr0 & CR0.ts.rawValue == 0)
    // #MF: FNSTSW (non-waiting) saw ES and ZE without faulting; the handler saw them too, and FIP names the
    // FDIVP (FNSTENV's 32-bit layout: FIP at offset 12).
    #expect(u16(Layout.nonWaitingStatus) & 0x84 == 0x84)
    #expect(u16(Layout.mfStatus) & 0x84 == 0x84)
    #expect(u32(Layout.mfEnvironment + 12) == guest.mfDivide & 0xFFFF_FFFF)
    // CR0.NE = 0: no exception, FSW.ES and ZE still set after the FWAIT.
    #expect(u16(Layout.neClearStatus) & 0x84 == 0x84)
    // #XM / #UD: MXCSR shows the zero-divide flag with ZE unmasked; after masking, DIVSS gives +∞.
    #expect(u32(Layout.xmMXCSR) & 0x204 == 0x004)
    #expect(u32(Layout.udMXCSR) & 0x204 == 0x004)
    #expect(u32(Layout.xmResult) == 0x7F80_0000)
    #expect(u32(Layout.udResult) == 0x7F80_0000)
}
