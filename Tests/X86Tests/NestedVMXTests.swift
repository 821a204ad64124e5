import Testing
@testable import X86
import X86Assembler
import Guests
import X86Testing
@testable import Hypervisor

/// The Swift VMM side (L0) of a nested run: the guest hypervisor's image in 4 MiB of RAM (optionally with
/// an unmapped page), its vCPU from `makeGuestHypervisorVCPU`.
func makeNestedMachine(_ image: GuestHypervisor, nested: Bool = true, hole: UInt64? = nil) throws -> (VirtualMachine, VCPU) {
    let vm = VirtualMachine()
    if let hole {
        // RAM with one unmapped page (an address L0 serves itself).
        try vm.allocate(guestPhysical: 0, size: hole)
        try vm.allocate(guestPhysical: hole + 0x1000, size: GuestHypervisor.ramSize - hole - 0x1000)
    } else {
        try vm.allocate(guestPhysical: 0, size: GuestHypervisor.ramSize)
    }
    let vcpu = makeGuestHypervisorVCPU(vm, chunks: image.chunks, cr3: GuestHypervisor.cr3, entry: GuestHypervisor.entry,
                                       stackTop: GuestHypervisor.stackTop, nested: nested)
    return (vm, vcpu)
}

@Test func guestHypervisorRunsL2AndHandlesItsExits() throws {
    let (_, vcpu) = try makeNestedMachine(try GuestHypervisor(cpuidCount: 3))
    let e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .hlt, "\(e)")
    #expect(!e.fromNestedGuest)
    #expect(vcpu.read(.r15) == GuestHypervisor.done, "R15 \(String(vcpu.read(.r15), radix: 16)) \(vcpu.lastNestedEntryFailure.map { "\($0.failure)" } ?? "")")
    #expect(vcpu.read(.r12) == 3)                          // three CPUID exits handled by L1
    #expect(vcpu.read(.r8) == GuestHypervisor.cpuidAnswer) // what L2 saw: L1's answer
    #expect(vcpu.read(.r13) == 0x80)                       // the I/O exit's port, from L1's VMREAD
    #expect(vcpu.read(.r14) == 0x42)
    // L2's exits went to L1 inside the model: L0 saw only L1's final HLT.
    #expect(vcpu.exitCounts == [.hlt: 1])
}

@Test func brokenGuestHypervisorGetsVMfailValid7AndTheNamedCheck() throws {
    let (_, vcpu) = try makeNestedMachine(try GuestHypervisor(broken: true))
    var failures: [(EntryFailure, UInt32)] = []
    vcpu.onNestedEntryFailure = { failures.append(($0, $1)) }
    let e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .hlt)
    #expect(vcpu.read(.r15) == GuestHypervisor.failed | 7)
    #expect(vcpu.lastNestedEntryFailure?.failure.check == .pinBasedControlsReserved)
    #expect(vcpu.lastNestedEntryFailure?.error == 7)
    #expect(failures.count == 1)
    #expect(failures.first?.0.description.contains("pinBasedControlsReserved") == true)
}

@Test func vmxIsOfferedOnlyWithNesting() throws {
    let (_, off) = try makeNestedMachine(try GuestHypervisor(), nested: false)
    #expect(off.supportedCPUID(leaf: 1, subleaf: 0).ecx & (1 << 5) == 0)
    #expect(off.readMSR(0x480) == nil)
    // Without nesting the guest hypervisor's read of IA32_VMX_BASIC raises #GP, as on a processor without VMX.
    try off.write(.exceptionBitmap, 1 << 13)
    let e = try off.run(instructionBudget: 1_000_000)
    #expect(e.reason == .exceptionOrNMI)
    #expect(e.interruptionInformation.vector == 13)
    let (_, on) = try makeNestedMachine(try GuestHypervisor())
    #expect(on.supportedCPUID(leaf: 1, subleaf: 0).ecx & (1 << 5) != 0)
    #expect(on.readMSR(0x480) == VMXCapability.basic)
    // EPT is offered to the guest hypervisor, with execute-only translations.
    let secondary = SecondaryProcessorControls(rawValue: UInt32(truncatingIfNeeded: (on.readMSR(0x48B) ?? 0) >> 32))
    #expect(secondary.contains(.enableEPT))
    #expect((on.readMSR(0x48C) ?? 0) & 1 == 1)
}

/// L1 code after VMXON (a 64-bit guest hypervisor fragment), run with nesting on; L1 halts at the end.
func runL1Fragment(_ build: (Assembler) -> Void) throws -> VCPU {
    let a = Assembler(mode: .bits64, origin: GuestHypervisor.entry)
    GuestHypervisor.enterVMXOperation(a)
    build(a)
    a.hlt()
    let image = try GuestHypervisor()
    let (vm, vcpu) = try makeNestedMachine(image)
    vm.memory.write(try a.finish(), at: GuestHypervisor.entry)
    let e = try vcpu.run(instructionBudget: 100_000)
    #expect(e.reason == .hlt, "\(e)")
    return vcpu
}

@Test func vmxInstructionErrorsAndFlags() throws {
    let vcpu = try runL1Fragment { a in
        // VMREAD without a current VMCS: VMfailInvalid (CF).
        a.mov(.eax, 0x4402)
        a.vmread(.rbx, .rax)
        a.setc(.r8b)
        a.vmptrld(.qword[.absolute(0x22008)])
        // VMWRITE to a read-only field (exit reason): VMfailValid 13.
        a.mov(.eax, 0x4402)
        a.vmwrite(.rax, .rbx)
        a.setz(.r9b)
        a.mov(.eax, 0x4400)
        a.vmread(.r10, .rax)
        // An unsupported field: error 12. VMRESUME of a clear VMCS: error 5.
        a.mov(.eax, 0x7FFE)
        a.vmread(.rbx, .rax)
        a.mov(.eax, 0x4400)
        a.vmread(.r11, .rax)
        a.vmresume()
        a.mov(.eax, 0x4400)
        a.vmread(.r12, .rax)
        // The high half of a 64-bit field; VMPTRST.
        a.mov(.eax, 0x2800)                  // VMCS link pointer (full)
        a.mov(.rbx, .imm(0x1234_5678_9ABC_DEF0))
        a.vmwrite(.rax, .rbx)
        a.mov(.eax, 0x2801)                  // its high half
        a.vmread(.r13, .rax)
        a.vmptrst(.qword[.absolute(0x22010)])
        a.mov(.r14, .qword[.absolute(0x22010)])
        // VMXON again in VMX root operation: error 15.
        a.vmxon(.qword[.absolute(0x22000)])
        a.mov(.eax, 0x4400)
        a.vmread(.r15, .rax)
    }
    #expect(vcpu.read(.r8) & 0xFF == 1)
    #expect(vcpu.read(.r9) & 0xFF == 1)
    #expect(vcpu.read(.r10) == 13)
    #expect(vcpu.read(.r11) == 12)
    #expect(vcpu.read(.r12) == 5)
    #expect(vcpu.read(.r13) == 0x1234_5678)
    #expect(vcpu.read(.r14) == GuestHypervisor.vmcsRegion)
    #expect(vcpu.read(.r15) == 15)
}

@Test func l0sMemoryMapExitComesFromL2AndL2Continues() throws {
    // L2 reads a page L0 has not mapped: an EPT violation only L0 wants, returned by run() from L2.
    let (vm, vcpu) = try makeNestedMachine(try GuestHypervisor(cpuidCount: 2, l2Load: 0x1F_0008), hole: 0x1F_0000)
    let e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .eptViolation, "\(e)")
    #expect(e.fromNestedGuest)
    #expect(e.guestPhysicalAddress == 0x1F_0008)
    #expect(vcpu.read(.guestRIP) >= GuestHypervisor.l2Entry)        // L0 sees L2's registers
    // L0 maps the page and resumes: L2 completes under L1.
    let page = try vm.allocate(guestPhysical: 0x1F_0000, size: 0x1000)
    page.storeBytes(of: UInt64(0x5EED), toByteOffset: 8, as: UInt64.self)
    let e2 = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e2.reason == .hlt)
    #expect(!e2.fromNestedGuest)
    #expect(vcpu.read(.r10) == 0x5EED)
    #expect(vcpu.read(.r15) == GuestHypervisor.done)
    #expect(vcpu.read(.r12) == 2)
}

@Test(arguments: [true, false])
func interruptL0InjectsWhileL2Runs(l1Intercepts: Bool) throws {
    let (_, vcpu) = try makeNestedMachine(try GuestHypervisor(cpuidCount: 100_000, externalInterruptExiting: l1Intercepts))
    // Run until L2 is under way (the budget ends while L2 runs: an exit L0 gets, from L2).
    var e = try vcpu.run(instructionBudget: 2_000)
    #expect(e.reason == .vmxPreemptionTimerExpired)
    #expect(e.fromNestedGuest)
    // L0 injects an external interrupt into "its guest", which is running L2.
    try vcpu.write(.vmEntryInterruptionInformation, UInt64(InterruptionInfo(vector: 0x30, type: .external).rawValue))
    e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .hlt)
    if l1Intercepts {
        // L1's external-interrupt exiting: exit 1 to L1 (which calls it unexpected and halts).
        #expect(vcpu.read(.r15) == GuestHypervisor.unexpected | 1)
    } else {
        // Delivered in L2, which has no IDT: a triple fault, exit 2 to L1.
        #expect(vcpu.read(.r15) == GuestHypervisor.unexpected | 2)
    }
}

@Test func vmcsFuzzerReachesL2FromGuestCode() {
    // The nested cases of the VMCS fuzzer drive the VMX instructions from guest code; some must get as far
    // as running L2 (an exit L0 gets from L2), or the fuzzer tests only VMXON's neighbourhood.
    var fromL2 = 0, violations: [String] = []
    for i in 0..<300 {
        let r = VMCSFuzzer.run(seed: 1, index: UInt64(i))
        if r.trace.contains("@L2") { fromL2 += 1 }
        if let v = r.violation { violations.append("case \(i): \(v) [\(r.trace)]") }
    }
    #expect(violations.isEmpty, "\(violations.prefix(3))")
    #expect(fromL2 >= 5, "\(fromL2) of 300 cases reached L2")
}

@Test func l1sEPTTranslatesL2sGuestPhysicalAddresses() throws {
    let load = GuestHypervisor.eptPage + 8
    let (vm, vcpu) = try makeNestedMachine(try GuestHypervisor(l2Load: load, ept: .remapped))
    vm.memory.writeInteger(0x1111, at: load, size: 8)
    vm.memory.writeInteger(0x2222, at: GuestHypervisor.eptTarget + 8, size: 8)
    let e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .hlt)
    #expect(vcpu.read(.r15) == GuestHypervisor.done, "R15 \(String(vcpu.read(.r15), radix: 16))")
    #expect(vcpu.read(.r10) == 0x2222)                                  // read through L1's EPT
    // Accessed flags set in L1's EPT entries (the EPTP enables them); the PT entry's dirty flag stays clear.
    let pte = vm.memory.readInteger(at: 0x27000 + (GuestHypervisor.eptPage >> 12) * 8, size: 8)
    #expect(pte & (1 << 8) != 0 && pte & (1 << 9) == 0)
}

@Test(arguments: [(GuestHypervisor.EPT.notPresent, UInt64(48)), (.misconfigured, 49), (.reservedBit, 49)])
func l1sEPTFaultsAreL1sExits(variant: GuestHypervisor.EPT, reason: UInt64) throws {
    let (_, vcpu) = try makeNestedMachine(try GuestHypervisor(l2Load: GuestHypervisor.eptPage + 8, ept: variant))
    let e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .hlt)
    #expect(vcpu.read(.r15) == GuestHypervisor.unexpected | reason)     // L1 got exit 48 / 49, not L0
    #expect(vcpu.exitCounts == [.hlt: 1])
}

@Test func l1sPreemptionTimerWakesAHaltedL2() throws {
    // L1 arms its VMX-preemption timer for L2 and lets L2's HLT through: L2 halts with nothing to wake it.
    let timer: UInt64 = 500_000
    let (_, vcpu) = try makeNestedMachine(try GuestHypervisor(cpuidCount: 2, preemptionTimer: UInt32(timer)))
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.useTSCOffsetting.rawValue))
    #expect(vcpu.nestedGuestTimerTicks == nil)
    let e = try vcpu.run(instructionBudget: 1_000_000)
    // L0 gets the HLT (from L2) and how long until L1's timer fires: the timer counted only while L2 ran.
    #expect(e.reason == .hlt && e.fromNestedGuest, "\(e)")
    let ticks = try #require(vcpu.nestedGuestTimerTicks)
    #expect(ticks > timer - 1_000 && ticks < timer, "\(ticks)")
    // Running again without letting time pass: still halted, the same wait.
    let again = try vcpu.run(instructionBudget: 1_000)
    #expect(again.reason == .hlt && again.fromNestedGuest)
    #expect(vcpu.nestedGuestTimerTicks == ticks)
    // L0 skips time short of the deadline (its TSC offset for L1): the timer counts it.
    try vcpu.write(.tscOffset, ticks - 10)
    _ = try vcpu.run(instructionBudget: 1_000)
    #expect(vcpu.nestedGuestTimerTicks == 10)
    // And then past it: the next run exits to L1 (reason 52) before L2 runs, L2's activity state HLT saved.
    try vcpu.write(.tscOffset, ticks)
    #expect(vcpu.nestedGuestTimerTicks == 0)
    let last = try vcpu.run(instructionBudget: 1_000_000)
    #expect(last.reason == .hlt && !last.fromNestedGuest)
    #expect(vcpu.read(.r15) == GuestHypervisor.preempted, "R15 \(String(vcpu.read(.r15), radix: 16))")
    #expect(vcpu.read(.r13) == 1)       // activity state HLT
    #expect(vcpu.read(.r14) == 0)       // the saved timer value: expired
    #expect(vcpu.read(.r12) == 2)
}

@Test func preemptionTimerValueZeroExitsBeforeL2RunsAnInstruction() throws {
    let (_, vcpu) = try makeNestedMachine(try GuestHypervisor(cpuidCount: 2, preemptionTimer: 0))
    let e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .hlt && !e.fromNestedGuest)
    #expect(vcpu.read(.r15) == GuestHypervisor.preempted, "R15 \(String(vcpu.read(.r15), radix: 16))")
    #expect(vcpu.read(.r12) == 0)       // no CPUID of L2 ran
    #expect(vcpu.read(.r13) == 0)       // activity state active
}

@Test func l2sPageWalkEPTViolationWithAccessedDirtyFlagsIsAReadAndWrite() throws {
    // L1's EPTP enables accessed and dirty flags: the walk's access to L2's page directory counts as a write
    // for EPT, and the qualification says read and write, on a paging-structure entry (bit 7 set, bit 8 clear).
    let (_, vcpu) = try makeNestedMachine(try GuestHypervisor(ept: .pagingStructureNotPresent))
    let e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .hlt)
    #expect(vcpu.read(.r15) == GuestHypervisor.unexpected | 48, "R15 \(String(vcpu.read(.r15), radix: 16))")
    let q = vcpu.read(.r13)
    #expect(q & 7 == 3, "qualification \(String(q, radix: 16))")
    #expect(q & (1 << 7) != 0 && q & (1 << 8) == 0, "qualification \(String(q, radix: 16))")
}

@Test(arguments: [true, false])
func anInterruptL0InjectsExitsToL1WhateverL2sIF(l1Intercepts: Bool) throws {
    // L2 runs with RFLAGS.IF clear; with L1's external-interrupt exiting an interrupt L0 injects is L1's exit
    // all the same, which a VMM asks the vCPU about before injecting.
    let (_, vcpu) = try makeNestedMachine(try GuestHypervisor(cpuidCount: 100_000, externalInterruptExiting: l1Intercepts))
    #expect(!vcpu.nestedGuestExitsOnExternalInterrupt)
    let e = try vcpu.run(instructionBudget: 2_000)
    #expect(e.fromNestedGuest)
    #expect(vcpu.read(.guestRFLAGS) & RFLAGS.if.rawValue == 0)
    #expect(vcpu.nestedGuestExitsOnExternalInterrupt == l1Intercepts)
}

@Test func l2sPageWalkWithoutEPTAccessedDirtyFlagsReadsThenWritesForTheAccessedFlag() throws {
    // EPT accessed and dirty flags off, L2's page directory read-only in L1's EPT: reading the PDE is an EPT
    // read and succeeds; setting its accessed flag is an EPT write, reported as read and write (SDM Vol. 3C
    // §28.3.3.2), on a paging-structure entry (bit 7 set, bit 8 clear), readable (bit 3).
    let (_, vcpu) = try makeNestedMachine(try GuestHypervisor(ept: .pagingStructureReadOnlyWithoutAccessedDirty))
    let e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .hlt)
    #expect(vcpu.read(.r15) == GuestHypervisor.unexpected | 48, "R15 \(String(vcpu.read(.r15), radix: 16))")
    let q = vcpu.read(.r13)
    #expect(q & 0x3F == 0x0B, "qualification \(String(q, radix: 16))")
    #expect(q & (1 << 7) != 0 && q & (1 << 8) == 0, "qualification \(String(q, radix: 16))")
}

@Test(arguments: [nil, GuestHypervisor.EPT.remapped])
func guestHypervisorWithVPIDRunsL2(ept: GuestHypervisor.EPT?) throws {
    // L1 gives L2 VPID 5: L2's translations live in their own TLB context across the round trips.
    let load = GuestHypervisor.eptPage + 8
    let (vm, vcpu) = try makeNestedMachine(try GuestHypervisor(cpuidCount: 50, l2Load: load, ept: ept, vpid: 5))
    vm.memory.writeInteger(0x1111, at: load, size: 8)
    vm.memory.writeInteger(0x2222, at: GuestHypervisor.eptTarget + 8, size: 8)
    let e = try vcpu.run(instructionBudget: 1_000_000)
    #expect(e.reason == .hlt, "\(e)")
    #expect(vcpu.read(.r15) == GuestHypervisor.done, "R15 \(String(vcpu.read(.r15), radix: 16))")
    #expect(vcpu.read(.r12) == 50)
    #expect(vcpu.read(.r10) == (ept == nil ? 0x1111 : 0x2222))
    #expect(vcpu.exitCounts == [.hlt: 1])
}

@Test func tlbContextsKeepTaggedTranslationsAndFlushByTag() {
    let tlb = TLB()
    let state = TLB.PagingState(cr0: 0x8000_0011, cr3: 0x1000, cr4: 0x20, efer: 0x500, pkru: 0, pkrs: 0)
    let s = TLB.slot(0x5000, .read, false)
    tlb.tags[s] = tlb.key(0x5000)                                        // context 0 (L1)
    let l2 = TLB.Tag(vpid: 1, ep4ta: 0)
    #expect(tlb.select(l2, leaving: state, now: state))         // a new context: its own, empty arrays
    #expect(tlb.tags[s] != tlb.key(0x5000))
    tlb.tags[s] = tlb.key(0x5000)
    #expect(tlb.select(nil, leaving: state, now: state))
    #expect(tlb.tags[s] == tlb.key(0x5000) && tlb.currentTag == nil)     // both kept across the switches
    #expect(tlb.select(l2, leaving: state, now: state))
    #expect(tlb.tags[s] == tlb.key(0x5000) && tlb.currentTag == l2)
    // Entering a context under another paging state than it was left with flushes it.
    var other = state
    other.cr3 = 0x2000
    #expect(tlb.select(nil, leaving: state, now: other))
    #expect(tlb.tags[s] != tlb.key(0x5000))
    // INVVPID-like flushes reach only the tagged contexts they name.
    tlb.tags[s] = tlb.key(0x5000)
    tlb.flushTagged { $0.vpid == 2 }
    _ = tlb.select(l2, leaving: other, now: state)
    #expect(tlb.tags[s] == tlb.key(0x5000))
    _ = tlb.select(nil, leaving: state, now: other)
    tlb.flushTagged { $0.vpid == 1 }
    #expect(tlb.tags[s] == tlb.key(0x5000))                               // context 0 untouched
    _ = tlb.select(l2, leaving: other, now: state)
    #expect(tlb.tags[s] != tlb.key(0x5000))
    // More tags than contexts: the least recently used one is taken over, flushed.
    tlb.tags[s] = tlb.key(0x5000)
    for vpid in 2...UInt16(TLB.taggedContexts + 1) { _ = tlb.select(TLB.Tag(vpid: vpid, ep4ta: 0), leaving: state, now: state) }
    _ = tlb.select(l2, leaving: state, now: state)
    #expect(tlb.tags[s] != tlb.key(0x5000))
}

@Test func instructionLengthOf16BitCodePastFFFFH() throws {
    // kvm-unit-tests' vmentry_unrestricted_guest_test: an unrestricted guest left with a 64-bit guest's CS
    // (D = 0, so 16-bit code outside IA-32e mode) runs at 405ED8H; its VMCALL is 3 bytes long although IP
    // wraps at FFFFH (the length was FFC00003H, and L1's RIP + length went past 4 GiB).
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 8 << 20)
    vm.memory.write([0x0F, 0x01, 0xC1], at: 0x40_5ED8)
    let vcpu = vm.makeVCPU()
    var v = VCPU.defaultVMCS()
    v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
    v[.guestRIP] = 0x40_5ED8
    vcpu.vmcs = v
    let e = try vcpu.run(instructionBudget: 10)
    #expect(e.reason == .vmcall, "\(e)")
    #expect(e.instructionLength == 3)
    #expect(vcpu.read(.guestRIP) == 0x40_5ED8)
}
