import Testing
@testable import X86
import X86Assembler

// The software TLB's flushes by generation and its PCID tagging (MMU.swift `TLB`, PCID.swift): the TLB class
// on its own, then guest code that sees a stale translation exactly when the SDM lets a processor keep one.

private let pageA: UInt64 = 0x5000, pageB: UInt64 = 0x9000

/// Fills the supervisor read slot of `la` with a translation to `la`.
private func fill(_ tlb: TLB, _ la: UInt64, global: Bool) -> Int {
    let s = TLB.slot(la, .read, false)
    tlb.fill(s, page: la, host: nil, physical: la, global: global)
    return s
}

/// Whether the TLB holds `la` at slot `s` for the fast paths, or for the slow paths (a global translation
/// `revalidate` takes back).
private func holds(_ tlb: TLB, _ s: Int, _ la: UInt64) -> Bool {
    tlb.tags[s] == tlb.key(la) || tlb.revalidate(s, page: la)
}

@Test func nonGlobalFlushKeepsGlobalTranslationsAndWholeFlushDropsThem() {
    let tlb = TLB()
    let a = fill(tlb, pageA, global: false), b = fill(tlb, pageB, global: true)
    #expect(tlb.tags[a] == tlb.key(pageA) && tlb.tags[b] == tlb.key(pageB))
    let epoch = tlb.epoch.pointee
    tlb.flushNonGlobal()                                     // a CR3 load
    #expect(tlb.epoch.pointee != epoch)
    #expect(tlb.tags[a] != tlb.key(pageA) && tlb.tags[b] != tlb.key(pageB))    // neither hits inline
    #expect(!holds(tlb, a, pageA))
    #expect(tlb.revalidate(b, page: pageB))                  // the global one comes back on the slow path
    #expect(tlb.tags[b] == tlb.key(pageB))
    #expect(!tlb.revalidate(b, page: pageA))                 // another page in the slot is not it
    tlb.flushAll()                                           // a CR4.PGE toggle
    #expect(!holds(tlb, b, pageB))
}

@Test func invlpgDropsAGlobalTranslationWhateverItsGeneration() {
    let tlb = TLB()
    let b = fill(tlb, pageB, global: true)
    tlb.flushNonGlobal()
    tlb.flush(page: pageB | 0x123)
    #expect(!holds(tlb, b, pageB))
    // Its victim slot too.
    let s = fill(tlb, pageB, global: true)
    tlb.fill(s, page: pageB + (UInt64(TLB.size) << 12), host: nil, physical: 0, global: false)
    #expect(tlb.promote(s, page: pageB))
    tlb.flush(page: pageB)
    #expect(!tlb.promote(s, page: pageB))
}

@Test func generationWrapClearsTheSlots() {
    // After every generation has been used the numbering starts again: a translation of the first round must
    // not hit when its generation comes round, global or not.
    let tlb = TLB()
    let g = tlb.generation.pointee
    let a = fill(tlb, pageA, global: false), b = fill(tlb, pageB, global: true)
    var flushes = 0
    repeat {
        tlb.flushNonGlobal()
        flushes += 1
    } while tlb.generation.pointee != g && flushes < 10_000
    #expect(tlb.generation.pointee == g && flushes > 1000)
    #expect(!holds(tlb, a, pageA))
    #expect(!holds(tlb, b, pageB))
    // A translation made after the wrap hits as ever.
    let c = fill(tlb, pageA, global: false)
    #expect(tlb.tags[c] == tlb.key(pageA))
}

@Test func pcidsKeepTheirTranslationsAcrossSwitches() {
    let tlb = TLB()
    tlb.switchPCID(to: 1, from: 0, flush: true)
    let a = fill(tlb, pageA, global: false)
    tlb.switchPCID(to: 2, from: 1, flush: false)             // PCID 2 never used: nothing of PCID 1 hits
    #expect(!holds(tlb, a, pageA))
    let b = fill(tlb, pageB, global: false)
    tlb.switchPCID(to: 1, from: 2, flush: false)             // CR3 bit 63 set: PCID 1's translation is back
    #expect(tlb.tags[a] == tlb.key(pageA))
    #expect(!holds(tlb, b, pageB))
    tlb.flushPCID(2, isCurrent: false)                       // INVPCID type 1 for another PCID
    tlb.switchPCID(to: 2, from: 1, flush: false)
    #expect(!holds(tlb, b, pageB))
    tlb.switchPCID(to: 1, from: 2, flush: false)
    #expect(tlb.tags[a] == tlb.key(pageA))
    tlb.switchPCID(to: 1, from: 1, flush: true)              // CR3 load without bit 63: dropped
    #expect(!holds(tlb, a, pageA))
}

@Test func flushesOfEveryPCIDKeepOrDropGlobalTranslations() {
    let tlb = TLB()
    tlb.switchPCID(to: 3, from: 0, flush: true)
    let a = fill(tlb, pageA, global: false), g = fill(tlb, pageB, global: true)
    tlb.switchPCID(to: 4, from: 3, flush: true)
    #expect(holds(tlb, g, pageB))                            // a global translation serves every PCID
    tlb.flushNonGlobalAllPCIDs()                             // INVPCID type 3
    tlb.switchPCID(to: 3, from: 4, flush: false)
    #expect(!holds(tlb, a, pageA))
    #expect(holds(tlb, g, pageB))
    tlb.flushAll()                                           // INVPCID type 2
    #expect(!holds(tlb, g, pageB))
    // A whole flush forgets which PCID the current generation was: PCID 3 later starts afresh.
    let c = fill(tlb, pageA, global: false)
    tlb.switchPCID(to: 5, from: 3, flush: false)
    tlb.switchPCID(to: 3, from: 5, flush: false)
    #expect(tlb.tags[c] == tlb.key(pageA))
}

// MARK: - Guest code

private let done = StopReason.exception(vector: 3, errorCode: nil)
private let pcidMask: UInt64 = 1 << 63

/// MOV CR4, (CR4 | bits) or (CR4 & ~bits).
private func changeCR4(_ a: Assembler, set bits: UInt64, clear: Bool = false) {
    a.mov(.rax, .cr4)
    if clear { a.and(.rax, Operand.imm(Int64(bitPattern: ~bits))) } else { a.or(.rax, Operand.imm(Int64(bits))) }
    a.mov(.cr4, .rax)
}

/// INVPCID RAX, [RDI] with the type in RAX and the descriptor at `descriptor`.
private func invpcid(_ a: Assembler, type: Int64, descriptor: Int64) {
    a.mov(.rax, .imm(type))
    a.mov(.rdi, .imm(descriptor))
    a.db(0x66, 0x0F, 0x38, 0x82, 0x07)
}

/// A long-mode machine with linear page 5000h mapped to physical 5000h (holding 11h) and 6000h holding 22h,
/// an INVPCID descriptor for PCID `pcid` and linear address 5000h at 7000h, and CR3 = 10000h.
private func machine(global: Bool = false, pcid: UInt64 = 0) -> LongModeMachine {
    let m = LongModeMachine()
    m.setPage(0x5000, flags: global ? 0x103 : 3)
    m.mem.writeInteger(0x11, at: 0x5000, size: 8)
    m.mem.writeInteger(0x22, at: 0x6000, size: 8)
    m.mem.writeInteger(pcid, at: 0x7000, size: 8)
    m.mem.writeInteger(0x5000, at: 0x7008, size: 8)
    return m
}

/// Guest code remapping linear 5000h to physical 6000h (PTE write; nothing flushed).
private func remap(_ a: Assembler, global: Bool = false) {
    a.mov(.rax, .imm(Int64(0x6000 | (global ? 0x103 : 3))))
    a.mov(.qword[.absolute(Int64(LongModeMachine.pt + 5 * 8))], .rax)
}

@Test func globalPageSurvivesCR3LoadAndNotACR4PGEToggle() throws {
    let m = machine(global: true)
    let r = try m.run { a in
        changeCR4(a, set: CR4.pge.rawValue)
        a.mov(.rbx, .qword[0x5000])
        remap(a, global: true)
        a.mov(.rax, .cr3)
        a.mov(.cr3, .rax)
        a.mov(.rcx, .qword[0x5000])                           // stale: a CR3 load keeps global translations
        changeCR4(a, set: CR4.pge.rawValue, clear: true)
        changeCR4(a, set: CR4.pge.rawValue)
        a.mov(.rdx, .qword[0x5000])                           // re-walked after the PGE toggle
    }
    #expect(r == done)
    #expect(m.cpu.gpr(.rbx) == 0x11 && m.cpu.gpr(.rcx) == 0x11 && m.cpu.gpr(.rdx) == 0x22)
}

@Test func cr0WPToggleDropsWriteTranslations() throws {
    // vmexit_cr0_wp's operation: each toggle of CR0.WP drops the cached write permissions.
    let m = machine()
    m.setPage(0x5000, flags: 1)                               // read-only
    let r = try m.run { a in
        a.mov(.rax, .cr0)
        a.and(.rax, Operand.imm(Int64(bitPattern: ~CR0.wp.rawValue)))
        a.mov(.cr0, .rax)
        a.mov(.qword[0x5000], .imm(0x33))                    // WP = 0: a supervisor write to a read-only page
        a.or(.rax, Operand.imm(Int64(CR0.wp.rawValue)))
        a.mov(.cr0, .rax)
        a.mov(.qword[0x5000], .imm(0x44))                    // WP = 1: #PF
    }
    #expect(r == .exception(vector: 14, errorCode: 3))
    #expect(m.mem.readInteger(at: 0x5000, size: 8) == 0x33)
}

@Test func cpuidReportsPCIDAndINVPCIDAndPCIDEFollowsTheRules() throws {
    let m = machine()
    #expect(m.cpu.cpuid(leaf: 1, subleaf: 0).ecx & (1 << 17) != 0)
    #expect(m.cpu.cpuid(leaf: 7, subleaf: 0).ebx & (1 << 10) != 0)
    // CR4.PCIDE with CR3[11:0] != 0: #GP.
    m.cpu.cr3 = 0x10001
    #expect(try m.run { a in changeCR4(a, set: CR4.pcide.rawValue) } == .exception(vector: 13, errorCode: 0))
    let m2 = machine()
    #expect(try m2.run { a in changeCR4(a, set: CR4.pcide.rawValue) } == done)
    #expect(m2.cpu.cr4 & CR4.pcide.rawValue != 0)
    // Without PCID in CPUID, CR4.PCIDE is reserved.
    let m3 = machine()
    m3.cpu.pcidSupported = false
    #expect(m3.cpu.cpuid(leaf: 1, subleaf: 0).ecx & (1 << 17) == 0)
    #expect(try m3.run { a in changeCR4(a, set: CR4.pcide.rawValue) } == .exception(vector: 13, errorCode: 0))
    // CR3 bit 63 is reserved with CR4.PCIDE clear.
    let m4 = machine()
    #expect(try m4.run { a in
        a.mov(.rax, .cr3)
        a.bts(.rax, 63)
        a.mov(.cr3, .rax)
    } == .exception(vector: 13, errorCode: 0))
}

@Test func cr3BitSixtyThreeKeepsThePCIDsTranslations() throws {
    let m = machine()
    let r = try m.run { a in
        changeCR4(a, set: CR4.pcide.rawValue)
        a.mov(.rbx, .qword[0x5000])                           // PCID 0 caches 5000h → 5000h
        remap(a)
        a.mov(.rax, .imm(0x10001))
        a.mov(.cr3, .rax)                                     // PCID 1, flushed
        a.mov(.rcx, .qword[0x5000])
        a.mov(.rax, .imm(0x10000))
        a.bts(.rax, 63)
        a.mov(.cr3, .rax)                                     // back to PCID 0, kept
        a.mov(.rdx, .qword[0x5000])
        a.mov(.rax, .imm(0x10000))
        a.mov(.cr3, .rax)                                     // PCID 0 again, flushed
        a.mov(.rsi, .qword[0x5000])
    }
    #expect(r == done)
    #expect(m.cpu.gpr(.rbx) == 0x11 && m.cpu.gpr(.rcx) == 0x22 && m.cpu.gpr(.rdx) == 0x11 && m.cpu.gpr(.rsi) == 0x22)
    #expect(m.cpu.cr3 == 0x10000)                             // bit 63 is not stored
}

/// Runs: PCIDE on, read 5000h into RBX, remap, INVPCID `type` (descriptor at 7000h), read 5000h into RCX.
private func invpcidRun(type: Int64, global: Bool = false, pcid: UInt64 = 0) throws -> (StopReason, UInt64) {
    let m = machine(global: global, pcid: pcid)
    let r = try m.run { a in
        if global { changeCR4(a, set: CR4.pge.rawValue) }
        changeCR4(a, set: CR4.pcide.rawValue)
        a.mov(.rbx, .qword[0x5000])
        remap(a, global: global)
        invpcid(a, type: type, descriptor: 0x7000)
        a.mov(.rcx, .qword[0x5000])
    }
    return (r, m.cpu.gpr(.rcx))
}

@Test func invpcidTypesDropWhatTheySay() throws {
    #expect(try invpcidRun(type: 0) == (done, 0x22))                    // the address, PCID 0
    #expect(try invpcidRun(type: 0, global: true) == (done, 0x22))      // global translations too
    #expect(try invpcidRun(type: 1) == (done, 0x22))                    // the current PCID
    #expect(try invpcidRun(type: 1, pcid: 5) == (done, 0x11))           // another PCID: kept
    #expect(try invpcidRun(type: 1, global: true) == (done, 0x11))      // a global one: kept
    #expect(try invpcidRun(type: 2, global: true) == (done, 0x22))      // everything
    #expect(try invpcidRun(type: 3) == (done, 0x22))                    // every non-global translation
    #expect(try invpcidRun(type: 3, global: true) == (done, 0x11))      // globals kept
    #expect(try invpcidRun(type: 4).0 == .exception(vector: 13, errorCode: 0))
    #expect(try invpcidRun(type: 0, pcid: 1 << 12).0 == .exception(vector: 13, errorCode: 0))  // reserved bits
}

@Test func invpcidFaults() throws {
    // PCID != 0 with CR4.PCIDE clear: #GP for types 0 and 1, not 2 and 3 (kvm-unit-tests' pcid.c).
    for (type, vector) in [(Int64(0), 13), (1, 13), (2, 3), (3, 3)] {
        let m = machine(pcid: 1)
        let r = try m.run { a in invpcid(a, type: type, descriptor: 0x7000) }
        #expect(r == (vector == 3 ? done : .exception(vector: 13, errorCode: 0)), "type \(type)")
    }
    // A non-canonical address for type 0.
    let m = machine()
    m.mem.writeInteger(0x8000_0000_0000_0000, at: 0x7008, size: 8)
    #expect(try m.run { a in invpcid(a, type: 0, descriptor: 0x7000) } == .exception(vector: 13, errorCode: 0))
    // Not reported: #UD.
    let m2 = machine()
    m2.cpu.invpcidSupported = false
    #expect(m2.cpu.cpuid(leaf: 7, subleaf: 0).ebx & (1 << 10) == 0)
    #expect(try m2.run { a in invpcid(a, type: 2, descriptor: 0x7000) } == .exception(vector: 6, errorCode: nil))
}

@Test func cr0WPToggleKeepsTheTLBWhenNoWriteDependedOnIt() throws {
    // Nothing was written with CR0.WP clear to a read-only page: the toggles keep the read translation.
    let m = machine()
    let r = try m.run { a in
        a.mov(.rbx, .qword[0x5000])
        a.mov(.rax, .cr0)
        a.and(.rax, Operand.imm(Int64(bitPattern: ~CR0.wp.rawValue)))
        a.mov(.cr0, .rax)
        a.or(.rax, Operand.imm(Int64(CR0.wp.rawValue)))
        a.mov(.cr0, .rax)
    }
    #expect(r == done)
    let s = TLB.slot(0x5000, .read, false)
    #expect(m.cpu.tlb.tags[s] == m.cpu.tlb.key(0x5000))
}
