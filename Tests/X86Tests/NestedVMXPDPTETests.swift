import Testing
@testable import X86
@testable import Hypervisor

// The PDPTEs of a PAE guest at VM entry and exit (SDM Vol. 3C §26.3.1.6, §26.3.2.4, §27.3.4): without EPT the
// entry checks the table guest CR3 names in memory (kvm-unit-tests' vmx_pae_test, "PDPTEs from CR3"); with
// L1's EPT the entry loads the PDPTE registers from the VMCS and the PAE walk uses them ("PDPTEs from VMCS").

/// A VMCS for a 32-bit guest with PAE paging and without EPT, its PDPTE table at 10000h (CR3 bits 4:0 set:
/// they are ignored), and RAM holding one present PDPTE there.
private func paeGuestWithoutEPT() throws -> (VirtualMachine, VMCS) {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)
    var v = VCPU.defaultVMCS()
    v[.secondaryProcessorBasedControls] = 0
    v[.guestCR0] |= CR0.pe.rawValue | CR0.pg.rawValue
    v[.guestCR4] |= CR4.pae.rawValue
    v[.guestCR3] = 0x10000 | 0x1F
    vm.memory.writeInteger(0x20001, at: 0x10000, size: 8)
    return (vm, v)
}

@Test func vmEntryWithoutEPTChecksThePDPTEsAtGuestCR3() throws {
    let (vm, v) = try paeGuestWithoutEPT()
    #expect(CPU.checkVMEntry(v, memory: vm.memory) == nil)
    for i: UInt64 in 0..<4 {
        let entry = vm.memory.readInteger(at: 0x10000 + 8 * i, size: 8) | 1
        // Reserved: bits 2:1, 8:5, and 63:MAXPHYADDR (40 here), bit 63 whatever EFER.NXE says.
        for bit: UInt64 in [1, 2, 5, 6, 7, 8, 40, 51, 52, 62, 63] {
            vm.memory.writeInteger(entry | 1 << bit, at: 0x10000 + 8 * i, size: 8)
            let f = CPU.checkVMEntry(v, memory: vm.memory)
            #expect(f?.check == .guestPDPTEReserved, "PDPTE\(i) bit \(bit): \(f?.description ?? "passed")")
            #expect(f?.kind == .vmExit(.entryFailureGuestState))
            #expect(f?.exitQualification == 2)      // "a problem loading the PDPTEs" (§26.8)
        }
        // Bits 11:9 are ignored; a PDPTE that is not present is not checked.
        for bit: UInt64 in [9, 10, 11] {
            vm.memory.writeInteger(entry | 1 << bit, at: 0x10000 + 8 * i, size: 8)
            #expect(CPU.checkVMEntry(v, memory: vm.memory) == nil, "PDPTE\(i) bit \(bit)")
        }
        vm.memory.writeInteger(0xFFFF_FFFF_FFFF_FFFE, at: 0x10000 + 8 * i, size: 8)
        #expect(CPU.checkVMEntry(v, memory: vm.memory) == nil, "PDPTE\(i) not present")
        vm.memory.writeInteger(i == 0 ? 0x20001 : 0, at: 0x10000 + 8 * i, size: 8)
    }
    // The memory check alone (a VMCS whose fields passed before) sees a PDPTE changed without a VMWRITE.
    vm.memory.writeInteger(0x20001 | 1 << 7, at: 0x10018, size: 8)
    #expect(CPU.checkEntryMemory(v, memory: vm.memory)?.check == .guestPDPTEReserved)
    // With EPT the table in memory is not the guest's PDPTEs: the VMCS fields are (zero here, valid).
    var ept = v
    ept[.secondaryProcessorBasedControls] = UInt64(SecondaryProcessorControls.enableEPT.rawValue)
    #expect(CPU.checkVMEntry(ept, memory: vm.memory) == nil)
    ept[.guestPDPTE1] = 0x30001 | 1 << 52
    #expect(CPU.checkVMEntry(ept, memory: vm.memory)?.exitQualification == 2)
    // 32-bit paging (CR4.PAE clear): no PDPTEs.
    var flat = v
    flat[.guestCR4] &= ~CR4.pae.rawValue
    #expect(CPU.checkVMEntry(flat, memory: vm.memory) == nil)
}

@Test func paeWalkUsesThePDPTERegistersWhileThePagingStateHolds() {
    // A page directory at 20000h mapping 0–2 MiB to 200000h with one 2-MiB page; the table at CR3 (30000h)
    // is empty, so a walk that reads it finds PDPTE0 not present.
    let mem = PhysicalMemory(ramSize: 4 << 20)
    mem.writeInteger(0x20_0000 | 0x83, at: 0x20000, size: 8)
    let cpu = CPU(memory: mem)
    let cr0 = CR0.pe.rawValue | CR0.pg.rawValue, cr4 = CR4.pae.rawValue
    #expect(cpu.probeTranslation(0x1234, cr0: cr0, cr3: 0x30000, cr4: cr4, efer: 0) == nil)
    cpu.vmx.nested.pdptes = PDPTERegisters(cr0: cr0, cr3: 0x30000, cr4: cr4, entries: (0x20001, 0, 0, 0))
    #expect(cpu.probeTranslation(0x1234, cr0: cr0, cr3: 0x30000, cr4: cr4, efer: 0) == 0x20_1234)
    // CR0.TS is not a bit whose change loads the PDPTEs; CR3 and CR0.CD are.
    #expect(cpu.probeTranslation(0x1234, cr0: cr0 | CR0.ts.rawValue, cr3: 0x30000, cr4: cr4, efer: 0) == 0x20_1234)
    #expect(cpu.probeTranslation(0x1234, cr0: cr0, cr3: 0x30020, cr4: cr4, efer: 0) == nil)
    #expect(cpu.probeTranslation(0x1234, cr0: cr0 | 1 << 30, cr3: 0x30000, cr4: cr4, efer: 0) == nil)
    // The walk takes PDPTE3 for linear addresses from C0000000h.
    cpu.vmx.nested.pdptes = PDPTERegisters(cr0: cr0, cr3: 0x30000, cr4: cr4, entries: (0, 0, 0, 0x20001))
    #expect(cpu.probeTranslation(0xC000_1234, cr0: cr0, cr3: 0x30000, cr4: cr4, efer: 0) == 0x20_1234)
    #expect(cpu.probeTranslation(0x1234, cr0: cr0, cr3: 0x30000, cr4: cr4, efer: 0) == nil)
}

// An intercepted #DB (exception bitmap bit 1) leaves DR6 alone and reports exactly its causes in the exit
// qualification (SDM Vol. 3C §27.1, Table 27-1; kvm-unit-tests' vmx_db_test): no stale DR6 bits leak in.
@Test func interceptedSingleStepLeavesDR6AndReportsOnlyBS() throws {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)
    vm.memory.write([0x90, 0x90, 0xF4], at: 0x1000)           // NOP, NOP, HLT
    let vcpu = vm.makeVCPU()
    var v = VCPU.defaultVMCS()
    v[.guestRIP] = 0x1000
    v[.guestRFLAGS] = 2 | RFLAGS.tf.rawValue
    v[.exceptionBitmap] = 1 << 1
    vcpu.vmcs = v
    let stale: UInt64 = 0xFFFF_0FF0 | 1 << 13 | 1 << 3 | 1 << 1   // BD, B3, B1 left from before
    vcpu.cpu.dr[6] = stale
    let e = try vcpu.run(instructionBudget: 100)
    #expect(e.reason == .exceptionOrNMI, "\(e)")
    #expect(e.interruptionInformation.vector == 1)
    #expect(e.qualification == 1 << 14, "qualification \(String(e.qualification, radix: 16))")
    #expect(vcpu.cpu.dr[6] == stale, "DR6 \(String(vcpu.cpu.dr[6], radix: 16))")
    #expect(vcpu.read(.guestRIP) == 0x1001)
    // Not intercepted, the trap writes DR6: B0–B3 rewritten (none matched), BS set, BD kept.
    try vcpu.write(.exceptionBitmap, 0)
    try vcpu.write(.guestRFLAGS, 2 | RFLAGS.tf.rawValue)
    vcpu.cpu.dr[6] = stale
    _ = try vcpu.run(instructionBudget: 1)
    #expect(vcpu.cpu.dr[6] == (stale & ~0xF) | 1 << 14, "DR6 \(String(vcpu.cpu.dr[6], radix: 16))")
}

// Pending debug exceptions in the guest-state area without STI or MOV SS blocking are a #DB trap before the
// guest's first instruction (SDM Vol. 3C §26.7.3; kvm-unit-tests' vmx_preemption_timer_zero_test): with #DB
// intercepted it is the exit, its qualification the pending bits, and no instruction ran.
@Test func pendingDebugExceptionsAtEntryAreADebugTrapFirst() throws {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)
    vm.memory.write([0x90, 0xF4], at: 0x1000)
    let vcpu = vm.makeVCPU()
    var v = VCPU.defaultVMCS()
    v[.guestRIP] = 0x1000
    v[.exceptionBitmap] = 1 << 1
    v[.guestPendingDebugExceptions] = 1 << 12 | 1 << 1      // an enabled breakpoint, B1
    vcpu.vmcs = v
    let e = try vcpu.run(instructionBudget: 100)
    #expect(e.reason == .exceptionOrNMI, "\(e)")
    #expect(e.interruptionInformation.vector == 1)
    #expect(e.qualification == 1 << 1, "qualification \(String(e.qualification, radix: 16))")
    #expect(vcpu.read(.guestRIP) == 0x1000)
    // Consumed: the next entry runs the guest.
    try vcpu.write(.exceptionBitmap, 0)
    let next = try vcpu.run(instructionBudget: 100)
    #expect(next.reason == .hlt, "\(next)")
}

// "Monitor trap flag": a fault the instruction raises is delivered first, and the MTF VM exit comes at the
// boundary after the delivery, RIP at the handler (SDM Vol. 3C §25.5.2; kvm-unit-tests' vmx_mtf_test, the
// #GP of MOV CR3). A real-mode guest: UD2 at 1000H, its #UD handler at 0000:3000H.
@Test func monitorTrapFlagExitFollowsAFaultsDelivery() throws {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)
    vm.memory.write([0x0F, 0x0B], at: 0x1000)                 // UD2
    vm.memory.write([0x90, 0xF4], at: 0x3000)                 // NOP, HLT
    vm.memory.writeInteger(0x3000, at: 6 * 4, size: 4)        // IVT[6] = 0000:3000
    let vcpu = vm.makeVCPU()
    var v = VCPU.defaultVMCS()
    v[.guestCR0] = CR0.ne.rawValue | CR0.et.rawValue
    v.setGuestSegment(.cs, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x9B))
    for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] {
        v.setGuestSegment(s, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x93))
    }
    v[.guestRIP] = 0x1000
    v[.guestRSP] = 0x8000
    v[.guestIDTRBase] = 0
    v[.guestIDTRLimit] = 0x3FF
    v[.primaryProcessorBasedControls] |= UInt64(PrimaryProcessorControls.monitorTrapFlag.rawValue)
    vcpu.vmcs = v
    let e = try vcpu.run(instructionBudget: 100)
    #expect(e.reason == .monitorTrapFlag, "\(e)")
    #expect(vcpu.read(.guestRIP) == 0x3000)
    // The next entry: one instruction of the handler, then the MTF exit again.
    let next = try vcpu.run(instructionBudget: 100)
    #expect(next.reason == .monitorTrapFlag, "\(next)")
    #expect(vcpu.read(.guestRIP) == 0x3001)
}
