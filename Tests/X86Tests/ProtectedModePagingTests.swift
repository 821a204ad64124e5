import Testing
import X86
import X86Assembler

// Paging (SDM Vol. 3A chapter 4), unreal mode and real-mode interrupts, run by guest code.

/// 32-bit paging tables: PD at 100000h, one PT at 101000h identity-mapping the first 4 MiB
/// (`flags` on every PTE), and a 4 MiB page at linear 400000h → physical 800000h.
private func build32BitTables(_ m: PMMachine, flags: UInt64 = 3, pdeFlags: UInt64 = 3) {
    m.mem.writeInteger(0x101000 | pdeFlags, at: 0x100000, size: 4)
    m.mem.writeInteger(0x800000 | 0x83, at: 0x100004, size: 4)
    for i: UInt64 in 0..<1024 { m.mem.writeInteger(i << 12 | flags, at: 0x101000 + i * 4, size: 4) }
}
private func setPTE(_ m: PMMachine, _ la: UInt64, _ value: UInt64) {
    m.mem.writeInteger(value, at: 0x101000 + (la >> 12) * 4, size: 4)
}
private func pte(_ m: PMMachine, _ la: UInt64) -> UInt64 { m.u32(0x101000 + (la >> 12) * 4) }

/// A #PF handler that stores the error code at data+0 and CR2 at data+4, then halts.
private func pageFaultHandler(_ a: Assembler) -> Label {
    let h = a.here()
    a.pop(.dword[.absolute(Int64(PMMachine.data))])
    a.mov(.eax, .cr2)
    a.mov(.dword[.absolute(Int64(PMMachine.data + 4))], .eax)
    a.pop(.dword[.absolute(Int64(PMMachine.data + 8))])      // faulting EIP
    a.hlt()
    return h
}

@Test(arguments: [true, false])
func paging32BitLargePagesWriteProtectAndAccessedDirty(_ wp: Bool) throws {
    let m = PMMachine()
    build32BitTables(m)
    setPTE(m, 0x300000, 0x300000 | 1)        // read-only, supervisor
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.mov(.eax, 0x100000)
    a.mov(.cr3, .eax)
    a.mov(.eax, .cr4)
    a.or(.eax, Operand.imm(CR4.pse.rawValue))
    a.mov(.cr4, .eax)
    a.mov(.eax, .cr0)
    a.or(.eax, Operand.imm(CR0.pg.rawValue | (wp ? CR0.wp.rawValue : 0)))
    a.mov(.cr0, .eax)
    a.mov(.dword[.absolute(0x400010)], 0x0CAF_EBAB)
    a.mov(.ebx, .dword[.absolute(0x301000)])
    let store = a.here()
    a.mov(.dword[.absolute(0x300000)], 1)
    a.hlt()
    let handler = pageFaultHandler(a)
    try m.load(a)
    m.setInterruptGate(14, m.address(a, handler))
    m.mem.writeInteger(0x5151, at: 0x301000, size: 4)
    #expect(m.cpu.run(instructionLimit: 100) == .halted)
    #expect(m.mem.readInteger(at: 0x800010, size: 4) == 0x0CAF_EBAB)    // through the 4 MiB page
    #expect(m.mem.readInteger(at: 0x400010, size: 4) == 0)
    #expect(m.cpu.gpr(.rbx) == 0x5151)
    #expect(m.u32(0x100004) & 0x60 == 0x60)                              // 4 MiB PDE accessed + dirty
    #expect(pte(m, 0x301000) & 0x60 == 0x20)                             // read: accessed, not dirty
    #expect(m.u32(0x100000) & 0x20 != 0)
    if wp {
        #expect(m.u32(PMMachine.data) == 3)                              // P | W, supervisor
        #expect(m.u32(PMMachine.data + 4) == 0x300000)
        #expect(m.u32(PMMachine.data + 8) == m.address(a, store))
        #expect(m.mem.readInteger(at: 0x300000, size: 4) == 0)
    } else {
        #expect(m.mem.readInteger(at: 0x300000, size: 4) == 1)           // CR0.WP = 0: supervisor may write
        #expect(pte(m, 0x300000) & 0x60 == 0x60)
        #expect(m.cpu.cr2 == 0)
    }
}

@Test func pagingUserSupervisorChecks() throws {
    func run(_ body: (Assembler) -> Void) throws -> (StopReason, PMMachine) {
        let m = PMMachine()
        build32BitTables(m, flags: 7, pdeFlags: 7)
        setPTE(m, 0x300000, 0x300000 | 3)    // supervisor
        setPTE(m, 0x303000, 0x303000 | 5)    // user, read-only
        setPTE(m, 0x304000, 0)               // not present
        m.cpu.cr3 = 0x100000
        m.cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue | CR0.wp.rawValue
        let a = Assembler(mode: .bits32, origin: PMMachine.code)
        body(a)
        a.int3()
        try m.load(a)
        m.setCPL3()
        m.cpu.setGPR(.rsp, 0xA000)
        m.cpu.exceptionIntercept = 1 << 14 | 1 << 3
        return (m.cpu.run(instructionLimit: 20), m)
    }
    #expect(try run { a in a.mov(.eax, .dword[.absolute(0x301000)]) }.0 == .exception(vector: 3, errorCode: nil))
    #expect(try run { a in a.mov(.eax, .dword[.absolute(0x300000)]) }.0 == .exception(vector: 14, errorCode: 5))
    #expect(try run { a in a.mov(.dword[.absolute(0x303000)], .eax) }.0 == .exception(vector: 14, errorCode: 7))
    #expect(try run { a in a.mov(.dword[.absolute(0x304000)], .eax) }.0 == .exception(vector: 14, errorCode: 6))
    let (r, m) = try run { a in a.mov(.eax, .dword[.absolute(0x303000)]) }
    #expect(r == .exception(vector: 3, errorCode: nil))
    #expect(pte(m, 0x303000) & 0x60 == 0x20)
}

@Test func paePagingWithExecuteDisable() throws {
    let m = PMMachine()
    m.mem.writeInteger(0x103000 | 1, at: 0x102000, size: 8)                   // PDPTE 0
    m.mem.writeInteger(0x104000 | 3, at: 0x103000, size: 8)                   // PDE 0 → PT
    m.mem.writeInteger(0x600000 | 0x83 | 1 << 63, at: 0x103008, size: 8)      // PDE 1: 2 MiB, NX
    for i: UInt64 in 0..<512 { m.mem.writeInteger(i << 12 | 3, at: 0x104000 + i * 8, size: 8) }
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.mov(.eax, 0x102000)
    a.mov(.cr3, .eax)
    a.mov(.eax, Operand.imm(CR4.pae.rawValue))
    a.mov(.cr4, .eax)
    a.mov(.ecx, 0xC000_0080)
    a.rdmsr()
    a.or(.eax, Operand.imm(EFER.nxe.rawValue))
    a.wrmsr()
    a.mov(.eax, .cr0)
    a.or(.eax, Operand.imm(CR0.pg.rawValue))
    a.mov(.cr0, .eax)
    a.mov(.dword[.absolute(0x200100)], 0x1234_5678)
    a.mov(.ebx, .dword[.absolute(0x200100)])
    a.mov(.eax, 0x200100)
    a.jmp(.eax)                               // fetch from an NX page: #PF(P | I/D)
    let handler = pageFaultHandler(a)
    try m.load(a)
    m.setInterruptGate(14, m.address(a, handler))
    #expect(m.cpu.run(instructionLimit: 100) == .halted)
    #expect(m.cpu.gpr(.rbx) == 0x1234_5678)
    #expect(m.mem.readInteger(at: 0x600100, size: 4) == 0x1234_5678)
    #expect(m.u32(PMMachine.data) == 0x11)
    #expect(m.u32(PMMachine.data + 4) == 0x200100)
    #expect(m.u32(PMMachine.data + 8) == 0x200100)
    #expect(m.mem.readInteger(at: 0x103008, size: 8) & 0x60 == 0x60)
    #expect(m.cpu.efer & EFER.nxe.rawValue != 0)
}

@Test func globalPagesSurviveCR3LoadUntilINVLPG() throws {
    let m = PMMachine()
    build32BitTables(m)
    setPTE(m, 0x305000, 0x305000 | 0x103)     // global
    setPTE(m, 0x307000, 0x307000 | 3)
    for (pa, v): (UInt64, UInt64) in [(0x305000, 0x11), (0x306000, 0x22), (0x307000, 0x33), (0x308000, 0x44)] {
        m.mem.writeInteger(v, at: pa, size: 4)
    }
    m.cpu.cr3 = 0x100000
    m.cpu.cr4 = CR4.pge.rawValue | CR4.pse.rawValue
    m.cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.mov(.eax, .dword[.absolute(0x305000)])
    a.mov(.eax, .dword[.absolute(0x307000)])
    a.mov(.dword[.absolute(Int64(0x101000 + 0x305 * 4))], .imm(0x306103))
    a.mov(.dword[.absolute(Int64(0x101000 + 0x307 * 4))], .imm(0x308003))
    a.mov(.eax, .cr3)
    a.mov(.cr3, .eax)
    a.mov(.ecx, .dword[.absolute(0x305000)])   // stale global translation
    a.mov(.edx, .dword[.absolute(0x307000)])   // non-global: re-walked
    a.invlpg(.dword[.absolute(0x305000)])
    a.mov(.esi, .dword[.absolute(0x305000)])
    a.hlt()
    try m.load(a)
    #expect(m.cpu.run(instructionLimit: 100) == .halted)
    #expect(m.cpu.gpr(.rcx) == 0x11)
    #expect(m.cpu.gpr(.rdx) == 0x44)
    #expect(m.cpu.gpr(.rsi) == 0x22)
}

// MARK: - Real mode

@Test func unrealModeKeepsFourGigabyteLimit() throws {
    func run(unreal: Bool) throws -> (StopReason, CPU) {
        let mem = PhysicalMemory(ramSize: 4 << 20)
        let a = Assembler(mode: .bits16, origin: 0x7C00)
        let gdt = a.label("gdt"), desc = a.label("desc")
        a.cli()
        if unreal {
            a.lgdt(.fword[desc])
            a.mov(.eax, .cr0)
            a.or(.al, 1)
            a.mov(.cr0, .eax)
            a.mov(.bx, 0x10)
            a.mov(.ds, .bx)
            a.and(.al, 0xFE)
            a.mov(.cr0, .eax)
        }
        a.xor(.bx, .bx)
        a.mov(.ds, .bx)
        a.mov(.esi, 0x200000)
        a.mov(.ecx, .dword[.esi])               // 32-bit address: beyond 64 KiB
        a.hlt()
        a.align(8)
        a.bind(gdt)
        a.dq(0, 0x00CF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF)
        a.bind(desc)
        a.dw(23)
        a.dd(gdt)
        _ = mem.write(try a.finish(), at: 0x7C00)
        mem.writeInteger(0xFEED_F00D, at: 0x200000, size: 4)
        let cpu = CPU(memory: mem)
        cpu.setSegment(.cs, .realMode(selector: 0, code: true))
        cpu.rip = 0x7C00
        cpu.exceptionIntercept = 1 << 13
        return (cpu.run(instructionLimit: 100), cpu)
    }
    let (r, cpu) = try run(unreal: true)
    #expect(r == .halted)
    #expect(cpu.mode == .real)
    #expect(cpu.gpr(.rcx) == 0xFEED_F00D)
    #expect(cpu.segment(.ds).limit == 0xFFFF_FFFF)
    #expect(cpu.segment(.ds).base == 0 && cpu.segment(.ds).selector == 0)
    let (r2, cpu2) = try run(unreal: false)
    #expect(r2 == .exception(vector: 13, errorCode: 0))
    #expect(cpu2.gpr(.rcx) == 0)
}

@Test func realModeInterruptThroughIVT() throws {
    let mem = PhysicalMemory(ramSize: 1 << 20)
    let a = Assembler(mode: .bits16, origin: 0x7C00)
    a.xor(.ax, .ax)
    a.mov(.ss, .ax)
    a.mov(.sp, 0x7000)
    a.sti()
    a.int(0x21)
    let after = a.here()
    a.pushf()
    a.pop(.dx)
    a.hlt()
    let handler = a.here()
    a.mov(.bx, 0x4321)
    a.pushf()
    a.pop(.cx)
    a.iret()
    _ = mem.write(try a.finish(), at: 0x7C00)
    let handlerAddr = a.address(of: handler) ?? 0
    // IVT[21h] = 07C0:(handler − 7C00h), a non-zero segment.
    mem.writeInteger(0x07C0 << 16 | (handlerAddr - 0x7C00), at: 0x21 * 4, size: 4)
    let cpu = CPU(memory: mem)
    cpu.setSegment(.cs, .realMode(selector: 0, code: true))
    cpu.rip = 0x7C00
    #expect(cpu.run(instructionLimit: 100) == .halted)
    #expect(cpu.gpr(.rbx) & 0xFFFF == 0x4321)
    #expect(cpu.gpr(.rcx) & 0x200 == 0)              // IF cleared in the handler
    #expect(cpu.gpr(.rdx) & 0x200 != 0)              // restored by IRET
    #expect(cpu.gpr(.rsp) & 0xFFFF == 0x7000)
    #expect(cpu.segment(.cs).selector == 0)
    #expect(mem.readInteger(at: 0x7000 - 6, size: 2) == (a.address(of: after) ?? 0))
    #expect(mem.readInteger(at: 0x7000 - 4, size: 2) == 0)
    #expect(mem.readInteger(at: 0x7000 - 2, size: 2) & 0x200 != 0)
}
