import Testing
import X86
import X86Assembler

// SMEP, SMAP (STAC/CLAC), protection keys (CR4.PKE/PKRU, CR4.PKS/IA32_PKRS) and UMIP, run by guest code in
// 64-bit mode (SDM Vol. 3A §2.5, §4.6). Faults stop the run through `exceptionIntercept`.

/// A 64-bit machine at CPL 0: 4 KiB pages identity-mapping the first 2 MiB (supervisor, writable), code at
/// 100000h, a GDT at 20000h (08 64-bit code, 10 data) and an IDT of 16-byte gates at 21000h.
final class LongModeMachine {
    static let code: UInt64 = 0x10_0000, pt: UInt64 = 0x13000, gdt: UInt64 = 0x20000, idt: UInt64 = 0x21000
    let mem = PhysicalMemory(ramSize: 4 << 20)
    let cpu: CPU

    init() {
        mem.writeInteger(0x11000 | 7, at: 0x10000, size: 8)      // PML4[0] → PDPT
        mem.writeInteger(0x12000 | 7, at: 0x11000, size: 8)      // PDPT[0] → PD
        mem.writeInteger(0x13000 | 7, at: 0x12000, size: 8)      // PD[0] → PT
        for i: UInt64 in 0..<512 { mem.writeInteger(i << 12 | 3, at: LongModeMachine.pt + i * 8, size: 8) }
        cpu = CPU(memory: mem, bus: DebugPortBus())
        cpu.cr3 = 0x10000
        cpu.cr4 = CR4.pae.rawValue
        cpu.efer = EFER.lme.rawValue | EFER.lma.rawValue | EFER.nxe.rawValue
        cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue | CR0.wp.rawValue
        cpu.setSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
        cpu.setSegment(.ss, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
        cpu.setGPR(.rsp, 0x8000)
        cpu.rip = LongModeMachine.code
        cpu.exceptionIntercept = 1 << 3 | 1 << 6 | 1 << 13 | 1 << 14
        mem.writeInteger(0x00AF_9A00_0000_FFFF, at: LongModeMachine.gdt + 8, size: 8)
        mem.writeInteger(0x00CF_9200_0000_FFFF, at: LongModeMachine.gdt + 0x10, size: 8)
        cpu.gdtr = DescriptorTableRegister(base: LongModeMachine.gdt, limit: 0xFF)
        cpu.idtr = DescriptorTableRegister(base: LongModeMachine.idt, limit: 0xFFF)
    }

    /// A 64-bit interrupt gate to code selector 08.
    func setInterruptGate(_ vector: UInt8, _ offset: UInt64) {
        let at = LongModeMachine.idt + UInt64(vector) * 16
        mem.writeInteger(offset & 0xFFFF | 0x08 << 16 | 0x8E << 40 | (offset >> 16 & 0xFFFF) << 48, at: at, size: 8)
        mem.writeInteger(offset >> 32, at: at + 8, size: 8)
    }

    /// Stores a 16-byte system descriptor (a 64-bit TSS or an LDT) at GDT offset `selector`.
    func setSystemDescriptor(_ selector: UInt16, base: UInt64, limit: UInt32, type: UInt8) {
        let at = LongModeMachine.gdt + UInt64(selector)
        let low = UInt64(limit & 0xFFFF) | (base & 0xFF_FFFF) << 16 | UInt64(0x80 | type) << 40 |
            UInt64(limit >> 16 & 0xF) << 48 | (base >> 24 & 0xFF) << 56
        mem.writeInteger(low, at: at, size: 8)
        mem.writeInteger(base >> 32, at: at + 8, size: 8)
    }

    /// Assembles `body` at `origin` into memory; returns its address.
    func place(_ origin: UInt64, _ body: (Assembler) -> Void) throws -> UInt64 {
        let a = Assembler(mode: .bits64, origin: origin)
        body(a)
        _ = mem.write(try a.finish(), at: origin)
        return origin
    }

    /// Sets the PTE of linear page `la` (identity-mapped) with `flags` (P = 1 is added) and protection key `key`.
    func setPage(_ la: UInt64, flags: UInt64, key: UInt64 = 0) {
        mem.writeInteger(la & ~0xFFF | flags | 1 | key << 59, at: LongModeMachine.pt + (la >> 12) * 8, size: 8)
    }

    /// Runs `body` (then INT3) and returns how the run stopped.
    func run(_ body: (Assembler) -> Void) throws -> StopReason {
        let a = Assembler(mode: .bits64, origin: LongModeMachine.code)
        body(a)
        a.int3()
        _ = mem.write(try a.finish(), at: LongModeMachine.code)
        return cpu.run(instructionLimit: 200)
    }
}

private let done = StopReason.exception(vector: 3, errorCode: nil)

/// OR `bits` into CR4 with MOV CR4 (the checks of the instruction, not the test's setter).
private func setCR4(_ a: Assembler, _ bits: UInt64) {
    a.mov(.rax, .cr4)
    a.or(.eax, Operand.imm(bits))
    a.mov(.cr4, .rax)
}
private func stac(_ a: Assembler) { a.db(0x0F, 0x01, 0xCB) }
private func clac(_ a: Assembler) { a.db(0x0F, 0x01, 0xCA) }
private func rdpkru(_ a: Assembler) { a.db(0x0F, 0x01, 0xEE) }
private func wrpkru(_ a: Assembler) { a.db(0x0F, 0x01, 0xEF) }

@Test func cpuidReportsAccessProtectionsAndOSPKEFollowsCR4() {
    let m = LongModeMachine()
    var r = m.cpu.cpuid(leaf: 7, subleaf: 0)
    #expect(r.ebx & (1 << 7) != 0)           // SMEP
    #expect(r.ebx & (1 << 20) != 0)          // SMAP
    #expect(r.ecx & 0x8000_000C == 0x8000_000C)  // UMIP, PKU, PKS
    #expect(r.ecx & (1 << 4) == 0)           // OSPKE: CR4.PKE is clear
    m.cpu.cr4 = CR4.pae.rawValue | CR4.pke.rawValue
    r = m.cpu.cpuid(leaf: 7, subleaf: 0)
    #expect(r.ecx & (1 << 4) != 0)
}

@Test func cr4ReservedBitFaultsAndNewBitsAreAccepted() throws {
    let m = LongModeMachine()
    #expect(try m.run { a in
        setCR4(a, CR4.smep.rawValue | CR4.smap.rawValue | CR4.pke.rawValue | CR4.pks.rawValue | CR4.umip.rawValue)
    } == done)
    #expect(m.cpu.cr4 & CR4.pks.rawValue != 0)
    let m2 = LongModeMachine()
    #expect(try m2.run { a in setCR4(a, 1 << 23) } == .exception(vector: 13, errorCode: 0))    // CET: not offered
}

@Test func smapFaultsSupervisorDataAccessToUserPagesUnlessACIsSet() throws {
    // A read with AC = 1 succeeds (and may be cached); after CLAC the same read faults: the TLB must not
    // let the cached translation bypass the check.
    let m = LongModeMachine()
    m.setPage(0x5000, flags: 7)
    m.mem.writeInteger(0x1234, at: 0x5000, size: 8)
    let r = try m.run { a in
        setCR4(a, CR4.smap.rawValue)
        stac(a)
        a.mov(.rbx, .qword[0x5000])
        a.mov(.qword[0x5008], .rbx)
        clac(a)
        a.mov(.rcx, .qword[0x5000])
    }
    #expect(r == .exception(vector: 14, errorCode: 1))          // present, read, supervisor
    #expect(m.cpu.gpr(.rbx) == 0x1234)
    #expect(m.mem.readInteger(at: 0x5008, size: 8) == 0x1234)
    let w = LongModeMachine()
    w.setPage(0x5000, flags: 7)
    #expect(try w.run { a in setCR4(a, CR4.smap.rawValue); a.mov(.qword[0x5000], .rbx) }
        == .exception(vector: 14, errorCode: 3))
    // Without CR4.SMAP the access is permitted whatever AC says.
    let off = LongModeMachine()
    off.setPage(0x5000, flags: 7)
    #expect(try off.run { a in clac(a); a.mov(.rcx, .qword[0x5000]) } == done)
}

@Test func smapSTACAndCLACAreUndefinedAtCPL3() throws {
    let m = LongModeMachine()
    m.setPage(LongModeMachine.code, flags: 7)
    m.setPage(0x7000, flags: 7)
    m.cpu.setSegment(.cs, SegmentRegister(selector: 0x1B, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA0FB))
    m.cpu.setSegment(.ss, SegmentRegister(selector: 0x23, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0F3))
    #expect(try m.run { a in stac(a) } == .exception(vector: 6, errorCode: nil))
}

@Test func smepFaultsSupervisorFetchFromUserPage() throws {
    let m = LongModeMachine()
    m.setPage(0x6000, flags: 7)
    m.mem.writeInteger(0xCC, at: 0x6000, size: 1)          // INT3 there
    let r = try m.run { a in
        setCR4(a, CR4.smep.rawValue)
        a.mov(.eax, 0x6000)
        a.jmp(.rax)
    }
    #expect(r == .exception(vector: 14, errorCode: 0x11))       // present, instruction fetch
}

@Test func protectionKeysForUserPages() throws {
    // Key 2 on a user page; PKRU AD for key 2 faults supervisor reads with PK set in the error code, after
    // a successful read left the translation in the TLB.
    let m = LongModeMachine()
    m.setPage(0x5000, flags: 7, key: 2)
    let r = try m.run { a in
        setCR4(a, CR4.pke.rawValue)
        a.mov(.rbx, .qword[0x5000])
        a.xor(.ecx, .ecx)
        a.xor(.edx, .edx)
        a.mov(.eax, 0x20)               // WD for key 2
        wrpkru(a)
        a.mov(.eax, 0)
        rdpkru(a)
        a.mov(.rsi, .rax)
        a.mov(.qword[0x5000], .rbx)     // supervisor write, CR0.WP = 1, WD: #PF
    }
    #expect(r == .exception(vector: 14, errorCode: 0x23))       // present, write, PK
    #expect(m.cpu.gpr(.rsi) == 0x20)
    let ad = LongModeMachine()
    ad.setPage(0x5000, flags: 7, key: 2)
    #expect(try ad.run { a in
        setCR4(a, CR4.pke.rawValue)
        a.xor(.ecx, .ecx); a.xor(.edx, .edx); a.mov(.eax, 0x10)     // AD for key 2
        wrpkru(a)
        a.mov(.rbx, .qword[0x4000])     // supervisor page: keys of user pages do not apply
        a.mov(.rbx, .qword[0x5000])
    } == .exception(vector: 14, errorCode: 0x21))
    // WRPKRU with ECX ≠ 0: #GP(0); without CR4.PKE: #UD.
    let gp = LongModeMachine()
    #expect(try gp.run { a in setCR4(a, CR4.pke.rawValue); a.mov(.ecx, 1); a.xor(.edx, .edx); wrpkru(a) }
        == .exception(vector: 13, errorCode: 0))
    let ud = LongModeMachine()
    #expect(try ud.run { a in a.xor(.ecx, .ecx); rdpkru(a) } == .exception(vector: 6, errorCode: nil))
}

@Test(arguments: [true, false])
func protectionKeysForSupervisorPages(_ wp: Bool) throws {
    // IA32_PKRS WD for key 2: a supervisor write to a key-2 supervisor page faults only while CR0.WP = 1.
    let m = LongModeMachine()
    m.setPage(0x5000, flags: 3, key: 2)
    if !wp { m.cpu.cr0 &= ~CR0.wp.rawValue }
    let r = try m.run { a in
        setCR4(a, CR4.pks.rawValue)
        a.mov(.qword[0x5000], .rbx)
        a.mov(.ecx, 0x6E1)
        a.mov(.eax, 0x20)
        a.xor(.edx, .edx)
        a.wrmsr()
        a.mov(.qword[0x5000], .rbx)
    }
    #expect(r == (wp ? .exception(vector: 14, errorCode: 0x23) : done))
    let reserved = LongModeMachine()
    #expect(try reserved.run { a in a.mov(.ecx, 0x6E1); a.mov(.edx, 1); a.xor(.eax, .eax); a.wrmsr() }
        == .exception(vector: 13, errorCode: 0))
}

@Test(arguments: [true, false])
func umipFaultsDescriptorTableStoresAtCPL3(_ umip: Bool) throws {
    let m = LongModeMachine()
    m.setPage(LongModeMachine.code, flags: 7)
    m.setPage(0x7000, flags: 7)
    if umip { m.cpu.cr4 |= CR4.umip.rawValue }
    m.cpu.setSegment(.cs, SegmentRegister(selector: 0x1B, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA0FB))
    m.cpu.setSegment(.ss, SegmentRegister(selector: 0x23, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0F3))
    let r = try m.run { a in a.sgdt(.qword[0x7000]) }
    #expect(r == (umip ? .exception(vector: 13, errorCode: 0) : done))
}

@Test func protectionKeyFlagIsSetWhenTheRWBitAlsoForbidsTheWrite() throws {
    // A read-only user page with key 2 and PKRU WD for key 2: the write is forbidden twice over; the #PF's PK
    // bit reports the key's verdict whatever else faults (SDM Vol. 3A §4.7). kvm-unit-tests' access test
    // (run by vmx_pf_exception_test) checks exactly this.
    let m = LongModeMachine()
    m.setPage(0x5000, flags: 5, key: 2)         // present, user, not writable
    let r = try m.run { a in
        setCR4(a, CR4.pke.rawValue)
        a.xor(.ecx, .ecx)
        a.xor(.edx, .edx)
        a.mov(.eax, 0x20)                       // WD for key 2
        wrpkru(a)
        a.mov(.qword[0x5000], .rbx)             // supervisor write, CR0.WP = 1
    }
    #expect(r == .exception(vector: 14, errorCode: 0x23))       // present, write, PK
    // Without the key's objection the same write faults without PK.
    let plain = LongModeMachine()
    plain.setPage(0x5000, flags: 5, key: 2)
    #expect(try plain.run { a in
        setCR4(a, CR4.pke.rawValue)
        a.mov(.qword[0x5000], .rbx)
    } == .exception(vector: 14, errorCode: 0x03))
}
