import Testing
import X86
import X86Assembler

// The RFLAGS image an exception pushes (RF = 1 for faults, SDM Vol. 3A §17.3.1.1) and the canonical-base
// checks of LTR and LLDT in IA-32e mode (Vol. 2A "LTR", "LLDT"), run by guest code (LongModeMachine:
// AccessProtectionTests.swift).

@Test func faultsPushRFAndTrapsDoNot() throws {
    // #UD (no error code: RFLAGS at [rsp+16]) and #GP (error code: at [rsp+24]) push RF = 1; INT3 pushes it as
    // it was (0). Each handler copies the image to a register and halts.
    func run(_ vector: UInt8, imageOffset: Int, _ body: (Assembler) -> Void) throws -> UInt64 {
        let m = LongModeMachine()
        m.cpu.exceptionIntercept = 0
        let handler = try m.place(0x10_8000) { a in
            a.mov(.rbx, .qword[.rsp + imageOffset])
            a.hlt()
        }
        m.setInterruptGate(vector, handler)
        #expect(try m.run(body) == .halted)
        return m.cpu.gpr(.rbx)
    }
    let rf = RFLAGS.rf.rawValue
    #expect(try run(6, imageOffset: 16) { a in a.ud2() } & rf != 0)
    #expect(try run(13, imageOffset: 24) { a in a.mov(.rax, Operand.imm(UInt64(1) << 40)); a.mov(.cr4, .rax) } & rf != 0)
    #expect(try run(3, imageOffset: 16) { _ in } & rf == 0)
}

@Test(arguments: [true, false])
func ltrAndLLDTRejectNonCanonicalBases(_ canonical: Bool) throws {
    let base: UInt64 = canonical ? 0xFFFF_8000_0000_0000 : 0x0000_8000_0000_0000
    let m = LongModeMachine()
    m.setSystemDescriptor(0x20, base: base, limit: 0x67, type: 0x9)      // 64-bit TSS, available
    m.setSystemDescriptor(0x30, base: base, limit: 0xFFF, type: 0x2)     // LDT
    let r = try m.run { a in
        a.mov(.eax, 0x30)
        a.lldt(.ax)
        a.mov(.eax, 0x20)
        a.ltr(.ax)
    }
    #expect(r == (canonical ? .exception(vector: 3, errorCode: nil) : .exception(vector: 13, errorCode: 0x30)))
    if canonical {
        #expect(m.cpu.segment(.tr).base == base)
        #expect(m.cpu.segment(.ldtr).base == base)
    }
}
