import Testing
import X86
import X86Assembler

// Protected-mode system architecture: task switching, call gates, privilege levels, fault error
// codes, double/triple faults (SDM Vol. 3A chapters 5–8).

/// Encodes a code/data or system segment descriptor (SDM Vol. 3A §3.4.5, Figure 3-8).
/// `flags` is the G, D/B, L, AVL nibble (0xC: 4 KiB granularity, 32-bit).
func segmentDescriptor(base: UInt32, limit: UInt32, access: UInt8, flags: UInt8 = 0xC) -> UInt64 {
    UInt64(limit & 0xFFFF) | UInt64(base & 0xFF_FFFF) << 16 | UInt64(access) << 40 |
        UInt64((limit >> 16) & 0xF) << 48 | UInt64(flags & 0xF) << 52 | UInt64(base >> 24) << 56
}

/// Encodes a call, interrupt, trap or task gate (SDM Vol. 3A Figures 5-8, 6-2).
func gateDescriptor(selector: UInt16, offset: UInt32, access: UInt8, params: UInt8 = 0) -> UInt64 {
    UInt64(offset & 0xFFFF) | UInt64(selector) << 16 | UInt64(params & 0x1F) << 32 | UInt64(access) << 40 |
        UInt64(offset >> 16) << 48
}

/// A flat 32-bit protected-mode machine at CPL 0 with a GDT, an IDT and two 32-bit TSSs.
///
/// GDT: 08 code0, 10 data0, 18 code3, 20 data3, 28 TSS A (current, busy), 30 TSS B,
/// 38 task gate → 30, 40 16-bit TSS C. Tests add more from 48 on.
final class PMMachine {
    static let gdt: UInt64 = 0x800, idt: UInt64 = 0x10000
    static let tssA: UInt64 = 0x4000, tssB: UInt64 = 0x7000, tssC: UInt64 = 0x7800
    static let code: UInt64 = 0x20000, data: UInt64 = 0x30000
    static let ioMapOffset: UInt64 = 0x88
    let mem = PhysicalMemory(ramSize: 16 << 20)
    let bus = DebugPortBus()
    let cpu: CPU

    init() {
        cpu = CPU(memory: mem, bus: bus)
        setGDT(0x08, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9A))
        setGDT(0x10, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x92))
        setGDT(0x18, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0xFA))
        setGDT(0x20, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0xF2))
        let tssALimit = UInt32(PMMachine.ioMapOffset) + 0x2000
        setGDT(0x28, segmentDescriptor(base: UInt32(PMMachine.tssA), limit: tssALimit, access: 0x8B, flags: 0))
        setGDT(0x30, segmentDescriptor(base: UInt32(PMMachine.tssB), limit: 0x67, access: 0x89, flags: 0))
        setGDT(0x38, gateDescriptor(selector: 0x30, offset: 0, access: 0x85))
        setGDT(0x40, segmentDescriptor(base: UInt32(PMMachine.tssC), limit: 0x2B, access: 0x81, flags: 0))
        // TSS A: SS0:ESP0 = 10:8000, I/O map base, all ports allowed, terminating byte.
        mem.writeInteger(0x8000, at: PMMachine.tssA + 4, size: 4)
        mem.writeInteger(0x10, at: PMMachine.tssA + 8, size: 2)
        mem.writeInteger(PMMachine.ioMapOffset, at: PMMachine.tssA + 0x66, size: 2)
        mem.writeInteger(0xFF, at: PMMachine.tssA + PMMachine.ioMapOffset + 0x2000, size: 1)
        cpu.gdtr = DescriptorTableRegister(base: PMMachine.gdt, limit: 0xFF)
        cpu.idtr = DescriptorTableRegister(base: PMMachine.idt, limit: 0x7FF)
        cpu.cr0 = CR0.pe.rawValue
        setCPL0()
        cpu.setSegment(.tr, SegmentRegister(selector: 0x28, base: PMMachine.tssA, limit: tssALimit, accessRights: 0x8B))
        cpu.setSegment(.ldtr, .null)
        cpu.setGPR(.rsp, 0x9000)
        cpu.rflags = 2
        cpu.rip = PMMachine.code
    }

    /// Flat ring-0 CS/SS/DS/ES/FS/GS through the descriptor caches.
    func setCPL0() {
        cpu.setSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC09B))
        for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] {
            cpu.setSegment(s, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
        }
    }

    /// Flat ring-3 CS/SS/DS/ES/FS/GS through the descriptor caches.
    func setCPL3() {
        cpu.setSegment(.cs, SegmentRegister(selector: 0x1B, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0FB))
        for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] {
            cpu.setSegment(s, SegmentRegister(selector: 0x23, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0F3))
        }
    }

    func setGDT(_ selector: UInt16, _ d: UInt64) {
        mem.writeInteger(d, at: PMMachine.gdt + UInt64(selector & 0xFFF8), size: 8)
    }
    func gdtType(_ selector: UInt16) -> UInt64 {
        mem.readInteger(at: PMMachine.gdt + UInt64(selector & 0xFFF8) + 5, size: 1) & 0xF
    }
    func setIDT(_ vector: UInt8, _ d: UInt64) {
        mem.writeInteger(d, at: PMMachine.idt + UInt64(vector) * 8, size: 8)
    }
    /// An interrupt gate to ring-0 code.
    func setInterruptGate(_ vector: UInt8, _ offset: UInt64, dpl: UInt8 = 0) {
        setIDT(vector, gateDescriptor(selector: 0x08, offset: UInt32(offset), access: 0x8E | dpl << 5))
    }

    /// Fills a 32-bit TSS with flat ring-0 state starting at `eip`.
    func setTSS32(_ base: UInt64, eip: UInt64, esp: UInt64, eax: UInt64 = 0, eflags: UInt64 = 2,
                  cs: UInt16 = 0x08, ss: UInt16 = 0x10, ds: UInt16 = 0x10, cr3: UInt64 = 0, ldt: UInt16 = 0) {
        mem.writeInteger(cr3, at: base + 0x1C, size: 4)
        mem.writeInteger(eip, at: base + 0x20, size: 4)
        mem.writeInteger(eflags, at: base + 0x24, size: 4)
        mem.writeInteger(eax, at: base + 0x28, size: 4)
        mem.writeInteger(esp, at: base + 0x38, size: 4)
        for (i, s) in [ds, cs, ss, ds, ds, ds].enumerated() {
            mem.writeInteger(UInt64(s), at: base + 0x48 + UInt64(i) * 4, size: 2)
        }
        mem.writeInteger(UInt64(ldt), at: base + 0x60, size: 2)
    }

    /// Assembles and loads code at `PMMachine.code`.
    @discardableResult
    func load(_ a: Assembler, at address: UInt64 = PMMachine.code) throws -> [UInt8] {
        let bytes = try a.finish()
        _ = mem.write(bytes, at: address)
        return bytes
    }

    func address(_ a: Assembler, _ l: Label) -> UInt64 { a.address(of: l) ?? 0 }
    func u32(_ at: UInt64) -> UInt64 { mem.readInteger(at: at, size: 4) }
    func u16(_ at: UInt64) -> UInt64 { mem.readInteger(at: at, size: 2) }
}

// MARK: - Task switching

@Test func taskSwitchByJmpSavesStateAndMovesBusyBit() throws {
    let m = PMMachine()
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.mov(.ebx, 0xB0B)
    a.jmpFar(selector: 0x30, offset: 0)
    let after = a.here()
    a.hlt()
    let taskB = a.here()
    a.mov(.ecx, .ebx)
    a.hlt()
    try m.load(a)
    m.setTSS32(PMMachine.tssB, eip: m.address(a, taskB), esp: 0x9800, eax: 0x1234, eflags: 0x202)
    let r = m.cpu.run(instructionLimit: 100)
    #expect(r == .halted)
    #expect(m.cpu.segment(.tr).selector == 0x30)
    #expect(m.cpu.segment(.tr).base == PMMachine.tssB)
    #expect(m.cpu.gpr(.rax) == 0x1234)
    #expect(m.cpu.gpr(.rcx) == 0)           // EBX came from TSS B
    #expect(m.cpu.gpr(.rsp) == 0x9800)
    #expect(m.cpu.rflags & RFLAGS.if.rawValue != 0)
    #expect(m.cpu.rflags & RFLAGS.nt.rawValue == 0)
    #expect(m.cpu.cr0 & CR0.ts.rawValue != 0)
    // Old state saved in TSS A.
    #expect(m.u32(PMMachine.tssA + 0x20) == m.address(a, after))
    #expect(m.u32(PMMachine.tssA + 0x34) == 0xB0B)
    #expect(m.u32(PMMachine.tssA + 0x38) == 0x9000)
    #expect(m.u16(PMMachine.tssA + 0x4C) == 0x08)
    // JMP: old task available, new busy, no back link.
    #expect(m.gdtType(0x28) == 9)
    #expect(m.gdtType(0x30) == 11)
    #expect(m.u16(PMMachine.tssB) == 0)
}

@Test func taskCallThroughGateAndIretBack() throws {
    let m = PMMachine()
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.mov(.ebx, 0xAAAA)
    a.callFar(selector: 0x38, offset: 0)
    a.mov(.esi, 0x5151)
    a.hlt()
    let taskB = a.here()
    a.pushfd()
    a.pop(.dword[.absolute(Int64(PMMachine.data))])
    a.str(.ax)
    a.mov(.word[.absolute(Int64(PMMachine.data + 4))], .ax)
    a.mov(.ebx, 0x7777)
    a.iretd()
    let afterIret = a.here()
    a.hlt()
    try m.load(a)
    m.setTSS32(PMMachine.tssB, eip: m.address(a, taskB), esp: 0x9800)
    let r = m.cpu.run(instructionLimit: 100)
    #expect(r == .halted)
    #expect(m.cpu.segment(.tr).selector == 0x28)
    #expect(m.cpu.gpr(.rbx) == 0xAAAA)        // restored from TSS A
    #expect(m.cpu.gpr(.rsi) == 0x5151)
    #expect(m.cpu.rflags & RFLAGS.nt.rawValue == 0)
    #expect(m.u32(PMMachine.data) & UInt64(RFLAGS.nt.rawValue) != 0)   // NT set inside task B
    #expect(m.u16(PMMachine.data + 4) == 0x30)                      // STR in task B
    #expect(m.u16(PMMachine.tssB) == 0x28)                         // back link
    #expect(m.gdtType(0x28) == 11)                                  // caller still busy
    #expect(m.gdtType(0x30) == 9)                                   // IRET freed task B
    // Task B's saved state: EIP after IRET, EBX, NT cleared in its EFLAGS image.
    #expect(m.u32(PMMachine.tssB + 0x20) == m.address(a, afterIret))
    #expect(m.u32(PMMachine.tssB + 0x34) == 0x7777)
    #expect(m.u32(PMMachine.tssB + 0x24) & UInt64(RFLAGS.nt.rawValue) == 0)
}

@Test func callToBusyTaskIsGPAndIretWithoutBusyLinkIsTS() throws {
    let m = PMMachine()
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.callFar(selector: 0x28, offset: 0)     // TSS A is busy (the current task)
    try m.load(a)
    m.cpu.exceptionIntercept = 1 << 13 | 1 << 10
    #expect(m.cpu.run(instructionLimit: 10) == .exception(vector: 13, errorCode: 0x28))
    #expect(m.cpu.rip == PMMachine.code)

    // IRET with NT whose back link names an available TSS: #TS(link).
    let m2 = PMMachine()
    let b = Assembler(mode: .bits32, origin: PMMachine.code)
    b.iretd()
    try m2.load(b)
    m2.mem.writeInteger(0x30, at: PMMachine.tssA, size: 2)
    m2.cpu.rflags = 2 | RFLAGS.nt.rawValue
    m2.cpu.exceptionIntercept = 1 << 10
    #expect(m2.cpu.run(instructionLimit: 10) == .exception(vector: 10, errorCode: 0x30))
}

@Test func exceptionThroughTaskGatePushesErrorCode() throws {
    let m = PMMachine()
    m.setIDT(13, gateDescriptor(selector: 0x30, offset: 0, access: 0x85))
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.mov(.eax, 0x100)
    let faulting = a.here()
    a.mov(.ds, .ax)           // selector 100h is beyond the GDT limit: #GP(100h)
    a.hlt()
    let handler = a.here()
    a.pop(.edx)
    a.hlt()
    try m.load(a)
    m.setTSS32(PMMachine.tssB, eip: m.address(a, handler), esp: 0x9800)
    let r = m.cpu.run(instructionLimit: 100)
    #expect(r == .halted)
    #expect(m.cpu.gpr(.rdx) == 0x100)
    #expect(m.cpu.gpr(.rsp) == 0x9800)
    #expect(m.cpu.segment(.tr).selector == 0x30)
    #expect(m.cpu.rflags & RFLAGS.nt.rawValue != 0)
    #expect(m.u16(PMMachine.tssB) == 0x28)
    #expect(m.u32(PMMachine.tssA + 0x20) == m.address(a, faulting))
    #expect(m.gdtType(0x28) == 11 && m.gdtType(0x30) == 11)
}

@Test func switchTo16BitTSS() throws {
    let m = PMMachine()
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.jmpFar(selector: 0x40, offset: 0)
    let task16 = a.here()
    a.setMode(.bits16)
    a.mov(.cx, 0x1616)
    a.hlt()
    try m.load(a)
    // A 16-bit code segment for task C.
    m.setGDT(0x48, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0x8))
    let c = PMMachine.tssC
    m.mem.writeInteger(m.address(a, task16), at: c + 0x0E, size: 2)
    m.mem.writeInteger(0x0002, at: c + 0x10, size: 2)
    m.mem.writeInteger(0x4242, at: c + 0x12, size: 2)   // AX
    m.mem.writeInteger(0x9400, at: c + 0x1A, size: 2)   // SP
    for (off, sel) in [(0x22, 0x10), (0x24, 0x48), (0x26, 0x10), (0x28, 0x10)] {
        m.mem.writeInteger(UInt64(sel), at: c + UInt64(off), size: 2)
    }
    // Code must be below 64 KiB for a 16-bit IP: put the 16-bit task at a copy in low memory.
    let low = Assembler(mode: .bits16, origin: 0x6000)
    low.mov(.cx, 0x1616)
    low.hlt()
    try m.load(low, at: 0x6000)
    m.mem.writeInteger(0x6000, at: c + 0x0E, size: 2)
    let r = m.cpu.run(instructionLimit: 100)
    #expect(r == .halted)
    #expect(m.cpu.segment(.tr).selector == 0x40)
    #expect(m.cpu.gdtr.base == PMMachine.gdt)
    #expect(m.gdtType(0x40) == 3)                         // 16-bit busy TSS
    #expect(m.cpu.gpr(.rax) & 0xFFFF == 0x4242)
    #expect(m.cpu.gpr(.rcx) & 0xFFFF == 0x1616)
    #expect(m.cpu.gpr(.rsp) & 0xFFFF == 0x9400)
    #expect(m.cpu.segment(.cs).selector == 0x48)
    #expect(m.u32(PMMachine.tssA + 0x20) == m.address(a, task16))   // saved EIP after the JMP
}

@Test func taskSwitchFaultsAfterCommitBelongToNewTask() throws {
    // Task B's CS is a data segment: #TS(10h) raised in task B's context.
    let m = PMMachine()
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.jmpFar(selector: 0x30, offset: 0)
    try m.load(a)
    m.setTSS32(PMMachine.tssB, eip: 0x12345, esp: 0x9800, cs: 0x10)
    m.cpu.exceptionIntercept = 1 << 10
    #expect(m.cpu.run(instructionLimit: 10) == .exception(vector: 10, errorCode: 0x10))
    #expect(m.cpu.segment(.tr).selector == 0x30)
    #expect(m.cpu.rip == 0x12345)
    #expect(m.cpu.segment(.cs).selector == 0x10)

    // Task B's DS is not present: #NP(58h) after the commit point.
    let m2 = PMMachine()
    m2.setGDT(0x58, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x12))
    try m2.load(a)
    m2.setTSS32(PMMachine.tssB, eip: 0x20000, esp: 0x9800, ds: 0x58)
    m2.cpu.exceptionIntercept = 1 << 11
    #expect(m2.cpu.run(instructionLimit: 10) == .exception(vector: 11, errorCode: 0x58))
    #expect(m2.cpu.segment(.tr).selector == 0x30)
    #expect(m2.cpu.segment(.ss).selector == 0x10)
    #expect(m2.cpu.segment(.ds).selector == 0x58)

    // TSS B's limit too small: #TS(30h) before the commit point, nothing changed.
    let m3 = PMMachine()
    m3.setGDT(0x30, segmentDescriptor(base: UInt32(PMMachine.tssB), limit: 0x40, access: 0x89, flags: 0))
    try m3.load(a)
    m3.cpu.exceptionIntercept = 1 << 10
    #expect(m3.cpu.run(instructionLimit: 10) == .exception(vector: 10, errorCode: 0x30))
    #expect(m3.cpu.segment(.tr).selector == 0x28)
    #expect(m3.cpu.rip == PMMachine.code)
    #expect(m3.gdtType(0x28) == 11)
}

@Test func taskSwitchLoadsCR3AndLDTAndDebugTrap() throws {
    let m = PMMachine()
    // 32-bit paging identity map of the first 4 MiB in two copies (two page directories).
    for pd: UInt64 in [0x100000, 0x102000] {
        m.mem.writeInteger(0x101000 | 3, at: pd, size: 4)
    }
    for i: UInt64 in 0..<1024 { m.mem.writeInteger(i << 12 | 3, at: 0x101000 + i * 4, size: 4) }
    m.cpu.cr3 = 0x100000
    m.cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue
    // An LDT with one data segment (selector 0Ch -> LDT entry 1).
    m.setGDT(0x50, segmentDescriptor(base: 0x5000, limit: 0x0F, access: 0x82, flags: 0))
    m.mem.writeInteger(segmentDescriptor(base: 0x1000, limit: 0xFFFF, access: 0x92, flags: 0), at: 0x5008, size: 8)
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.jmpFar(selector: 0x30, offset: 0)
    let taskB = a.here()
    a.mov(.ax, 0x0C)
    a.mov(.es, .ax)
    a.hlt()
    try m.load(a)
    m.setTSS32(PMMachine.tssB, eip: m.address(a, taskB), esp: 0x9800, cr3: 0x102000, ldt: 0x50)
    m.mem.writeInteger(1, at: PMMachine.tssB + 0x64, size: 2)     // T bit
    m.cpu.exceptionIntercept = 1 << 1
    #expect(m.cpu.run(instructionLimit: 10) == .exception(vector: 1, errorCode: nil))
    #expect(m.cpu.dr[6] & 0x8000 != 0)                             // DR6.BT
    #expect(m.cpu.rip == m.address(a, taskB))
    #expect(m.cpu.cr3 == 0x102000)
    #expect(m.cpu.segment(.ldtr).selector == 0x50)
    #expect(m.cpu.segment(.ldtr).base == 0x5000)
    m.cpu.exceptionIntercept = 0
    #expect(m.cpu.run(instructionLimit: 10) == .halted)
    #expect(m.cpu.segment(.es).base == 0x1000)
}

// MARK: - Call gates, privilege levels, conforming code

@Test func callGateToRing0CopiesParametersAndRetfToRing3NullsSegments() throws {
    let m = PMMachine()
    m.setGDT(0x50, gateDescriptor(selector: 0x08, offset: 0, access: 0xEC, params: 2))
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.push(0x1111_1111)
    a.push(0x2222_2222)
    a.callFar(selector: 0x53, offset: 0)
    let back = a.here()
    a.int3()
    let handler = a.here()
    a.mov(.dword[.absolute(Int64(PMMachine.data))], .esp)
    a.mov(.ax, .cs)
    a.mov(.word[.absolute(Int64(PMMachine.data + 4))], .ax)
    a.mov(.ax, .ss)
    a.mov(.word[.absolute(Int64(PMMachine.data + 6))], .ax)
    a.mov(.ax, 0x10)
    a.mov(.ds, .ax)          // DPL 0 data: nulled on return to ring 3
    a.mov(.ax, 0x23)
    a.mov(.es, .ax)          // DPL 3 data: kept
    a.mov(.ax, 0x08)
    a.mov(.fs, .ax)          // DPL 0 readable non-conforming code: nulled
    a.retf(8)
    try m.load(a)
    m.setGDT(0x50, gateDescriptor(selector: 0x08, offset: UInt32(m.address(a, handler)), access: 0xEC, params: 2))
    m.setCPL3()
    m.cpu.setGPR(.rsp, 0xA000)
    m.cpu.exceptionIntercept = 1 << 3
    let r = m.cpu.run(instructionLimit: 100)
    #expect(r == .exception(vector: 3, errorCode: nil))
    #expect(m.cpu.rip == m.address(a, back) + 1)
    #expect(m.cpu.cpl == 3)
    #expect(m.cpu.gpr(.rsp) == 0xA000)
    #expect(m.cpu.segment(.ss).selector == 0x23)
    #expect(m.cpu.segment(.ds).selector == 0 && m.cpu.segment(.ds).unusable)
    #expect(m.cpu.segment(.es).selector == 0x23)
    #expect(m.cpu.segment(.fs).selector == 0)
    // The ring-0 frame on the TSS stack 10:8000.
    #expect(m.u32(PMMachine.data) == 0x8000 - 24)
    #expect(m.u16(PMMachine.data + 4) == 0x08)
    #expect(m.u16(PMMachine.data + 6) == 0x10)
    #expect(m.u32(0x8000 - 4) == 0x23)
    #expect(m.u32(0x8000 - 8) == 0xA000 - 8)
    #expect(m.u32(0x8000 - 12) == 0x1111_1111)
    #expect(m.u32(0x8000 - 16) == 0x2222_2222)
    #expect(m.u32(0x8000 - 20) == 0x1B)
    #expect(m.u32(0x8000 - 24) == m.address(a, back))
}

@Test func conformingCodeKeepsCPL() throws {
    let m = PMMachine()
    m.setGDT(0x58, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9E))   // conforming, DPL 0
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.callFar(selector: 0x5B, offset: 0)
    let target = a.here()
    a.mov(.ax, .cs)
    a.int3()
    let code = try m.load(a)
    // Patch the call's offset to the target (ptr16:32 = 9A offset32 selector16).
    #expect(code[0] == 0x9A)
    m.mem.writeInteger(m.address(a, target), at: PMMachine.code + 1, size: 4)
    m.setCPL3()
    m.cpu.setGPR(.rsp, 0xA000)
    m.cpu.exceptionIntercept = 1 << 3
    #expect(m.cpu.run(instructionLimit: 10) == .exception(vector: 3, errorCode: nil))
    #expect(m.cpu.cpl == 3)
    #expect(m.cpu.gpr(.rax) & 0xFFFF == 0x5B)
    #expect(m.cpu.gpr(.rsp) == 0xA000 - 8)          // no stack switch
    #expect(m.cpu.segment(.ss).selector == 0x23)

    // A direct JMP from ring 3 to non-conforming ring-0 code: #GP(08h).
    let m2 = PMMachine()
    let b = Assembler(mode: .bits32, origin: PMMachine.code)
    b.jmpFar(selector: 0x0B, offset: 0x20000)
    try m2.load(b)
    m2.setCPL3()
    m2.cpu.exceptionIntercept = 1 << 13
    #expect(m2.cpu.run(instructionLimit: 10) == .exception(vector: 13, errorCode: 0x08))
}

// MARK: - Fault error codes

/// Runs one ring-0 instruction sequence and returns the intercepted exception.
private func faultOf(_ setup: (PMMachine) -> Void = { _ in }, intercept: UInt32, _ body: (Assembler) -> Void) throws -> StopReason {
    let m = PMMachine()
    // 58: not-present data; 60: not-present code; 68: execute-only code.
    m.setGDT(0x58, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x12))
    m.setGDT(0x60, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x1A))
    m.setGDT(0x68, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x98))
    setup(m)
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    body(a)
    a.hlt()
    try m.load(a)
    m.cpu.exceptionIntercept = intercept
    return m.cpu.run(instructionLimit: 100)
}

@Test func segmentFaultErrorCodes() throws {
    // #NP(selector) for a not-present data segment.
    #expect(try faultOf(intercept: 1 << 11) { a in a.mov(.ax, 0x58); a.mov(.ds, .ax) } == .exception(vector: 11, errorCode: 0x58))
    // #SS(selector) for a not-present stack segment.
    #expect(try faultOf(intercept: 1 << 12) { a in a.mov(.ax, 0x58); a.mov(.ss, .ax) } == .exception(vector: 12, errorCode: 0x58))
    // #GP(selector) beyond the GDT limit, with TI for the LDT (no LDT: index 0 in LDT reports 4).
    #expect(try faultOf(intercept: 1 << 13) { a in a.mov(.ax, 0x103); a.mov(.ds, .ax) } == .exception(vector: 13, errorCode: 0x100))
    #expect(try faultOf(intercept: 1 << 13) { a in a.mov(.ax, 0x0C); a.mov(.ds, .ax) } == .exception(vector: 13, errorCode: 0x0C))
    // #GP(selector) for execute-only code loaded into DS; #GP(0) for a null SS.
    #expect(try faultOf(intercept: 1 << 13) { a in a.mov(.ax, 0x68); a.mov(.ds, .ax) } == .exception(vector: 13, errorCode: 0x68))
    #expect(try faultOf(intercept: 1 << 13) { a in a.mov(.ax, 0); a.mov(.ss, .ax) } == .exception(vector: 13, errorCode: 0))
    // #NP(selector) for a far jump to not-present code.
    #expect(try faultOf(intercept: 1 << 11) { a in a.jmpFar(selector: 0x60, offset: 0) } == .exception(vector: 11, errorCode: 0x60))
    // #TS(selector) from the TSS ring-0 stack of a call gate: SS0 is a ring-3 selector.
    #expect(try faultOf({ m in
        m.setGDT(0x50, gateDescriptor(selector: 0x08, offset: 0x20000, access: 0xEC))
        m.mem.writeInteger(0x23, at: PMMachine.tssA + 8, size: 2)
        m.setCPL3()
    }, intercept: 1 << 10) { a in a.callFar(selector: 0x53, offset: 0) } == .exception(vector: 10, errorCode: 0x20))
}

@Test func interruptDeliveryErrorCodesCarryIDTAndEXT() throws {
    // INT 90h beyond the IDT limit: #GP(90h·8 + 2), EXT clear (software interrupt).
    #expect(try faultOf({ m in m.cpu.idtr.limit = 0x3FF }, intercept: 1 << 13) { a in a.int(0x90) }
            == .exception(vector: 13, errorCode: 0x90 * 8 + 2))
    // INT 40h through a DPL-0 gate from ring 3: #GP(40h·8 + 2).
    #expect(try faultOf({ m in m.setInterruptGate(0x40, 0x20000); m.setCPL3() }, intercept: 1 << 13) { a in a.int(0x40) }
            == .exception(vector: 13, errorCode: 0x40 * 8 + 2))
    // #UD through a not-present gate: #NP(6·8 + 2 + EXT).
    #expect(try faultOf({ m in m.setIDT(6, gateDescriptor(selector: 0x08, offset: 0, access: 0x0E)) }, intercept: 1 << 11) { a in a.ud2() }
            == .exception(vector: 11, errorCode: 6 * 8 + 3))
    // #UD through an IDT entry of an invalid type: #GP(6·8 + 2 + EXT).
    #expect(try faultOf(intercept: 1 << 13) { a in a.ud2() } == .exception(vector: 13, errorCode: 6 * 8 + 3))
    // #UD through a gate whose code segment is not present: #NP(60h + EXT).
    #expect(try faultOf({ m in m.setIDT(6, gateDescriptor(selector: 0x60, offset: 0, access: 0x8E)) }, intercept: 1 << 11) { a in a.ud2() }
            == .exception(vector: 11, errorCode: 0x61))
}

@Test func doubleFaultAndTripleFault() throws {
    // #NP whose gate names a selector beyond the GDT: #GP during #NP delivery -> #DF(0).
    let setup: (PMMachine) -> Void = { m in
        m.setIDT(11, gateDescriptor(selector: 0x200, offset: 0, access: 0x8E))
    }
    #expect(try faultOf(setup, intercept: 1 << 8) { a in a.mov(.ax, 0x58); a.mov(.ds, .ax) } == .exception(vector: 8, errorCode: 0))

    // #DF delivered to a real handler, which sees error code 0 and the faulting EIP.
    let m = PMMachine()
    m.setGDT(0x58, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x12))
    setup(m)
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.mov(.ax, 0x58)
    let faulting = a.here()
    a.mov(.ds, .ax)
    let handler = a.here()
    a.pop(.ecx)
    a.pop(.edx)
    a.hlt()
    try m.load(a)
    m.setInterruptGate(8, m.address(a, handler))
    #expect(m.cpu.run(instructionLimit: 100) == .halted)
    #expect(m.cpu.gpr(.rcx) == 0)
    #expect(m.cpu.gpr(.rdx) == m.address(a, faulting))

    // No usable #DF handler either: triple fault, shutdown.
    let m2 = PMMachine()
    m2.setGDT(0x58, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x12))
    setup(m2)
    let b = Assembler(mode: .bits32, origin: PMMachine.code)
    b.mov(.ax, 0x58)
    b.mov(.ds, .ax)
    b.hlt()
    try m2.load(b)
    #expect(m2.cpu.run(instructionLimit: 100) == .shutdown)
    #expect(m2.cpu.inShutdown)
    #expect(m2.cpu.run(instructionLimit: 100) == .shutdown)
}

// MARK: - LAR, LSL, VERR, VERW, ARPL

@Test func larLslVerrVerwArpl() throws {
    let m = PMMachine()
    m.setGDT(0x68, segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x98))          // execute-only
    m.setGDT(0x50, gateDescriptor(selector: 0x08, offset: 0x1234, access: 0xEC, params: 2))
    m.setGDT(0x70, segmentDescriptor(base: 0x1000, limit: 0x123, access: 0x92, flags: 0x4))  // byte granular
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    let out = Int64(PMMachine.data)
    var slot: Int64 = 0
    func z() { a.setz(.byte[.absolute(out + slot)]); slot += 1 }
    a.mov(.eax, 0xFFFF_FFFF)
    a.mov(.ecx, 0x08); a.lar(.eax, .ecx); z()                      // ZF=1
    a.mov(.dword[.absolute(out + 0x10)], .eax)
    a.mov(.ecx, 0x1B); a.lar(.ebx, .ecx); z()                      // ring-3 code readable from ring 0
    a.mov(.dword[.absolute(out + 0x14)], .ebx)
    a.mov(.edx, 0x5A5A); a.mov(.ecx, 0x100); a.lar(.edx, .ecx); z()   // beyond limit: ZF=0, EDX kept
    a.mov(.dword[.absolute(out + 0x18)], .edx)
    a.mov(.ecx, 0x53); a.lar(.esi, .ecx); z()                      // call gate: valid for LAR
    a.mov(.dword[.absolute(out + 0x1C)], .esi)
    a.mov(.ecx, 0x70); a.lsl(.edi, .ecx); z()
    a.mov(.dword[.absolute(out + 0x20)], .edi)
    a.mov(.ecx, 0x28); a.lsl(.edi, .ecx); z()                      // TSS limit
    a.mov(.dword[.absolute(out + 0x24)], .edi)
    a.mov(.ecx, 0x53); a.lsl(.edi, .ecx); z()                      // call gate: invalid for LSL
    a.mov(.ecx, 0x08); a.verr(.cx); z()                            // readable code
    a.mov(.ecx, 0x08); a.verw(.cx); z()                            // code not writable
    a.mov(.ecx, 0x10); a.verw(.cx); z()
    a.mov(.ecx, 0x68); a.verr(.cx); z()                            // execute-only
    a.mov(.ecx, 0x28); a.verr(.cx); z()                            // system segment
    a.mov(.ax, 0x10); a.mov(.bx, 0x13); a.arpl(.ax, .bx); z()
    a.mov(.word[.absolute(out + 0x28)], .ax)
    a.arpl(.ax, .bx); z()
    a.hlt()
    try m.load(a)
    #expect(m.cpu.run(instructionLimit: 200) == .halted)
    let flags = m.mem.read(at: PMMachine.data, count: Int(slot))
    #expect(flags == [1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 0])
    // LAR: bits 19:16 are undefined (SDM Vol. 2A "LAR"): compare under the 00F0FF00h mask.
    #expect(m.u32(PMMachine.data + 0x10) & 0x00F0_FF00 == 0x00C0_9A00)
    #expect(m.u32(PMMachine.data + 0x14) & 0x00F0_FF00 == 0x00C0_FA00)
    #expect(m.u32(PMMachine.data + 0x10) & 0xFF00_00FF == 0)
    #expect(m.u32(PMMachine.data + 0x18) == 0x5A5A)
    #expect(m.u32(PMMachine.data + 0x1C) == 0x0000_EC00)
    #expect(m.u32(PMMachine.data + 0x20) == 0x123)
    #expect(m.u32(PMMachine.data + 0x24) == UInt64(PMMachine.ioMapOffset) + 0x2000)
    #expect(m.u16(PMMachine.data + 0x28) == 0x13)
}

/// LAR, LSL, VERR and VERW with the GDT on a non-present page: the descriptor read raises #PF (SDM Vol. 2A,
/// "Protected Mode Exceptions": #PF(fault-code)) at the instruction, with nothing changed, instead of
/// clearing ZF; a selector beyond the GDT limit still only clears ZF (no memory is read).
@Test(arguments: ["lar", "lsl", "verr", "verw"])
func descriptorChecksRaisePageFaults(_ instruction: String) throws {
    let m = PMMachine()
    // 32-bit paging with one 4 MiB page (identity, supervisor, writable) over 0–4 MiB; 4–8 MiB not present.
    let pageDirectory: UInt64 = 0x10_0000
    m.mem.writeInteger(0x83, at: pageDirectory, size: 4)
    m.cpu.cr3 = pageDirectory
    m.cpu.cr4 = CR4.pse.rawValue
    m.cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue
    let a = Assembler(mode: .bits32, origin: PMMachine.code)
    a.mov(.eax, 0x5A5A)
    a.mov(.ecx, 0x100)                  // beyond the limit: ZF=0, nothing read
    a.or(.edx, .edx)                    // ZF=1 unless the next instruction clears it
    func check() {
        switch instruction {
        case "lar": a.lar(.eax, .ecx)
        case "lsl": a.lsl(.eax, .ecx)
        case "verr": a.verr(.cx)
        default: a.verw(.cx)
        }
    }
    check()
    a.setz(.byte[.absolute(Int64(PMMachine.data))])
    a.mov(.ecx, 0x08)                   // within the limit: the descriptor lies on the non-present page
    let faulting = PMMachine.code + UInt64(a.bytes.count)
    check()
    a.hlt()
    try m.load(a)
    m.cpu.gdtr = DescriptorTableRegister(base: 0x40_0000, limit: 0xFF)
    m.cpu.exceptionIntercept = 1 << 14
    #expect(m.cpu.run(instructionLimit: 100) == .exception(vector: 14, errorCode: 0))   // supervisor read, not present
    #expect(m.cpu.rip == faulting)
    #expect(m.u32(PMMachine.data) & 0xFF == 0)
    #expect(m.cpu.gpr(.rax) == 0x5A5A)
}
