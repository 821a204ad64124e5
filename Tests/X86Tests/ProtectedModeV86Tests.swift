import Testing
import X86
import X86Assembler

// Virtual-8086 mode and I/O permissions (SDM Vol. 3A chapter 20, Vol. 1 §19.5).

/// Puts the machine in virtual-8086 mode at `cs:ip`, all data segments and SS at 3000h.
private func enterV86(_ m: PMMachine, cs: UInt16 = 0x5000, ip: UInt64 = 0, iopl: UInt64, interrupts: Bool = true) {
    for s in [SegmentRegisterName.es, .ss, .ds, .fs, .gs] {
        m.cpu.setSegment(s, SegmentRegister(selector: 0x3000, base: 0x30000, limit: 0xFFFF, accessRights: 0xF3))
    }
    m.cpu.setSegment(.cs, SegmentRegister(selector: cs, base: UInt64(cs) << 4, limit: 0xFFFF, accessRights: 0xFB))
    m.cpu.rflags = 2 | RFLAGS.vm.rawValue | iopl << 12 | (interrupts ? RFLAGS.if.rawValue : 0)
    m.cpu.setGPR(.rsp, 0x1000)
    m.cpu.rip = ip
}

@Test func v86EntryByIretAndExitThroughRing0Handler() throws {
    let m = PMMachine()
    let v = Assembler(mode: .bits16, origin: 0)
    v.mov(.ax, 0x1234)
    v.mov(.bx, .word[.absolute(0x10)])      // DS = 3000h: linear 30010h
    let cli = v.here()
    v.cli()                                   // IOPL 0: #GP(0) to the ring-0 handler
    try m.load(v, at: 0x50000)
    m.mem.writeInteger(0xBEEF, at: 0x30010, size: 2)
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    for value: Int64 in [0x4000, 0x3800, 0x3000, 0x2000, 0x2800, 0x100, 0x2_0202, 0x5000, 0] {
        a.push(.imm(value))                   // GS FS DS ES SS ESP EFLAGS(VM, IF) CS EIP
    }
    a.iretd()
    let handler = a.here()
    a.hlt()
    try m.load(a)
    m.setInterruptGate(13, m.address(a, handler))
    #expect(m.cpu.run(instructionLimit: 100) == .halted)
    #expect(m.cpu.mode == .protected)
    #expect(m.cpu.cpl == 0)
    #expect(m.cpu.gpr(.rax) & 0xFFFF == 0x1234)
    #expect(m.cpu.gpr(.rbx) & 0xFFFF == 0xBEEF)
    #expect(m.cpu.rflags & RFLAGS.vm.rawValue == 0)
    #expect(m.cpu.rflags & RFLAGS.if.rawValue == 0)       // interrupt gate
    for s in [SegmentRegisterName.ds, .es, .fs, .gs] { #expect(m.cpu.segment(s).selector == 0) }
    #expect(m.cpu.segment(.ss).selector == 0x10)
    #expect(m.cpu.gpr(.rsp) == 0x8000 - 40)
    let frame = (0..<10).map { m.u32(0x8000 - 40 + UInt64($0) * 4) }
    let cliIP = v.address(of: cli) ?? 99
    // EFLAGS image: VM, IF, and RF (a #GP is a fault: SDM Vol. 3A §17.3.1.1).
    #expect(frame == [0, cliIP, 0x5000, 0x2_0202 | RFLAGS.rf.rawValue, 0x100, 0x2800, 0x2000, 0x3000, 0x3800, 0x4000])
}

/// IOPL-sensitive instructions in virtual-8086 mode (SDM Vol. 3A §20.2.7).
@Test(arguments: ["cli", "sti", "pushf", "popf", "int 21h", "iret", "pushfd", "popfd"])
func v86IOPLSensitiveInstructionsFaultAtIOPL0(_ name: String) throws {
    let m = PMMachine()
    let v = Assembler(mode: .bits16, origin: 0)
    switch name {
    case "cli": v.cli()
    case "sti": v.sti()
    case "pushf": v.pushf()
    case "popf": v.popf()
    case "int 21h": v.int(0x21)
    case "iret": v.iret()
    case "pushfd": v.pushfd()
    default: v.popfd()
    }
    v.int3()
    try m.load(v, at: 0x50000)
    enterV86(m, iopl: 0)
    m.cpu.exceptionIntercept = 1 << 13 | 1 << 3
    #expect(m.cpu.run(instructionLimit: 10) == .exception(vector: 13, errorCode: 0))
    #expect(m.cpu.rip == 0)
    #expect(m.cpu.mode == .virtual8086)
    #expect(m.cpu.gpr(.rsp) == 0x1000)
}

@Test func v86IOPL3AllowsFlagInstructionsAndSendsIntToRing0() throws {
    let m = PMMachine()
    let v = Assembler(mode: .bits16, origin: 0)
    v.cli()
    v.pushf()
    v.pop(.bx)
    v.sti()
    v.pushf()
    v.pop(.cx)
    v.push(0x0002)
    v.popf()                  // clears IF
    v.pushf()
    v.pop(.dx)
    v.int(0x21)               // IOPL 3: through the IDT to ring 0
    try m.load(v, at: 0x50000)
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    let handler = a.here()
    a.hlt()
    try m.load(a)
    m.setInterruptGate(0x21, m.address(a, handler), dpl: 3)
    enterV86(m, iopl: 3)
    #expect(m.cpu.run(instructionLimit: 100) == .halted)
    #expect(m.cpu.gpr(.rbx) & 0x200 == 0)
    #expect(m.cpu.gpr(.rcx) & 0x200 != 0)
    #expect(m.cpu.gpr(.rdx) & 0xFFFF == 0x3002)     // IOPL unchanged by POPF in v86 mode
    #expect(m.cpu.cpl == 0)
    #expect(m.u32(0x8000 - 32) == 0x5000)           // saved CS
}

@Test func v86IOPermissionBitmap() throws {
    let m = PMMachine()
    // Deny port E8h.
    m.mem.writeInteger(1, at: PMMachine.tssA + PMMachine.ioMapOffset + 0xE8 / 8, size: 1)
    let v = Assembler(mode: .bits16, origin: 0)
    v.mov(.al, 0x41)
    v.out(0xE9, .al)
    v.mov(.dx, 0xE7)
    v.out(0xE7, .al)
    let denied = v.here()
    v.out(.dx, .ax)           // ports E7h–E8h: E8h denied
    v.int3()
    try m.load(v, at: 0x50000)
    enterV86(m, iopl: 3)      // IOPL does not matter for I/O in v86 mode: the bitmap does
    m.cpu.exceptionIntercept = 1 << 13 | 1 << 3
    #expect(m.cpu.run(instructionLimit: 10) == .exception(vector: 13, errorCode: 0))
    #expect(m.bus.output == [0x41])
    #expect(m.cpu.rip == v.address(of: denied))
}

@Test func protectedModeIOPermissionAtCPL3() throws {
    func run(iopl: UInt64, tssLimit: UInt32? = nil, _ body: (Assembler) -> Void) throws -> (StopReason, [UInt8]) {
        let m = PMMachine()
        m.mem.writeInteger(1, at: PMMachine.tssA + PMMachine.ioMapOffset + 0xE8 / 8, size: 1)
        if let l = tssLimit {
            m.cpu.setSegment(.tr, SegmentRegister(selector: 0x28, base: PMMachine.tssA, limit: l, accessRights: 0x8B))
        }
        let a = Assembler(mode: .bits32, origin: PMMachine.code)
        a.mov(.al, 0x55)
        body(a)
        a.int3()
        try m.load(a)
        m.setCPL3()
        m.cpu.rflags = 2 | iopl << 12
        m.cpu.exceptionIntercept = 1 << 13 | 1 << 3
        return (m.cpu.run(instructionLimit: 10), m.bus.output)
    }
    let ok = try run(iopl: 0) { a in a.out(0xE9, .al) }
    #expect(ok.0 == .exception(vector: 3, errorCode: nil) && ok.1 == [0x55])
    let denied = try run(iopl: 0) { a in a.out(0xE8, .al) }
    #expect(denied.0 == .exception(vector: 13, errorCode: 0) && denied.1 == [])
    let iopl3 = try run(iopl: 3) { a in a.out(0xE8, .al) }
    #expect(iopl3.0 == .exception(vector: 3, errorCode: nil))
    let noBitmap = try run(iopl: 0, tssLimit: 0x67) { a in a.out(0xE9, .al) }
    #expect(noBitmap.0 == .exception(vector: 13, errorCode: 0))
    let cli = try run(iopl: 0) { a in a.cli() }
    #expect(cli.0 == .exception(vector: 13, errorCode: 0))
}

@Test func v86ModeExtensionsVirtualInterruptFlagAndRedirection() throws {
    let m = PMMachine()
    let v = Assembler(mode: .bits16, origin: 0)
    v.cli()                   // VME: clears VIF, not IF
    v.pushf()
    v.pop(.bx)                // IF image = VIF = 0, IOPL image = 3
    v.sti()
    v.pushf()
    v.pop(.cx)                // IF image = VIF = 1
    v.int(0x21)               // redirected to the 8086 IVT
    v.int3()
    try m.load(v, at: 0x50000)
    // IVT[21h] = 6000:0010, a real-mode style handler.
    m.mem.writeInteger(0x6000_0010, at: 0x21 * 4, size: 4)
    let h = Assembler(mode: .bits16, origin: 0x10)
    h.mov(.dx, 0x9999)
    h.pushf()
    h.pop(.si)
    h.iret()
    try m.load(h, at: 0x60010)
    m.cpu.cr4 = CR4.vme.rawValue
    enterV86(m, iopl: 0)
    m.cpu.exceptionIntercept = 1 << 13 | 1 << 3
    #expect(m.cpu.run(instructionLimit: 100) == .exception(vector: 3, errorCode: nil))
    #expect(m.cpu.mode == .virtual8086)
    #expect(m.cpu.gpr(.rbx) & 0x3200 == 0x3000)
    #expect(m.cpu.gpr(.rcx) & 0x3200 == 0x3200)
    #expect(m.cpu.gpr(.rdx) & 0xFFFF == 0x9999)
    #expect(m.cpu.gpr(.rsi) & 0x200 == 0)           // VIF cleared by the redirected INT
    #expect(m.cpu.rflags & RFLAGS.if.rawValue != 0)  // real IF untouched throughout
    #expect(m.cpu.rflags & RFLAGS.vif.rawValue != 0) // restored by IRET from the pushed image
    #expect(m.cpu.gpr(.rsp) == 0x1000)

    // The same INT with its redirection bit set, at IOPL 0: #GP(0).
    let m2 = PMMachine()
    let w = Assembler(mode: .bits16, origin: 0)
    w.int(0x21)
    try m2.load(w, at: 0x50000)
    m2.mem.writeInteger(1 << (0x21 & 7), at: PMMachine.tssA + PMMachine.ioMapOffset - 32 + 0x21 / 8, size: 1)
    m2.cpu.cr4 = CR4.vme.rawValue
    enterV86(m2, iopl: 0)
    m2.cpu.exceptionIntercept = 1 << 13
    #expect(m2.cpu.run(instructionLimit: 10) == .exception(vector: 13, errorCode: 0))
}

/// A 16-bit IRET under CR4.VME at IOPL < 3 takes the popped FLAGS image but keeps RFLAGS' reserved bits
/// 3, 5 and 15 clear (found by `swiftvmx-dev fuzz --seed 7`, case 28332).
@Test func v86VMEIretKeepsReservedFlagBitsClear() throws {
    let m = PMMachine()
    let v = Assembler(mode: .bits16, origin: 0)
    v.push(.imm(0x8029))        // FLAGS image: CF and the reserved bits 3, 5, 15
    v.push(.imm(0x5000))        // CS
    v.push(.imm(0x20))          // IP
    v.iret()
    try m.load(v, at: 0x50000)
    let t = Assembler(mode: .bits16, origin: 0x20)
    t.int3()
    try m.load(t, at: 0x50020)
    m.cpu.cr4 = CR4.vme.rawValue
    enterV86(m, iopl: 0)
    m.cpu.exceptionIntercept = 1 << 13 | 1 << 3
    #expect(m.cpu.run(instructionLimit: 10) == .exception(vector: 3, errorCode: nil))
    #expect(m.cpu.rip == 0x21)      // INT3 traps: RIP is past it
    #expect(m.cpu.rflags & 0x8028 == 0)
    #expect(m.cpu.rflags & RFLAGS.cf.rawValue != 0)
    #expect(m.cpu.rflags & 2 != 0)
}
