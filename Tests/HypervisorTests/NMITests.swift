import Testing
import X86
import X86Assembler
@testable import Hypervisor

/// A 32-bit guest with an IDT whose NMI gate (vector 2) points at a handler that counts in ESI and IRETs.
func makeNMIGuest() throws -> (VirtualMachine, VCPU) {
    let (vm, vcpu) = try makeGuest { a in
        let l = a.here()
        a.inc(.edi)
        a.cmp(.edi, 1000)
        a.jb(l)
        a.hlt()
    }
    let h = Assembler(mode: .bits32, origin: 0x1800)
    h.inc(.esi)
    h.iretd()
    vm.memory.write(try h.finish(), at: 0x1800)
    vm.memory.writeInteger(0x00CF_9B00_0000_FFFF, at: 0x2008, size: 8)
    vm.memory.writeInteger(0x00CF_9300_0000_FFFF, at: 0x2010, size: 8)
    vm.memory.writeInteger(0x0000_8E00_0008_1800, at: 0x3000 + 2 * 8, size: 8)
    try vcpu.write(.guestGDTRBase, 0x2000); try vcpu.write(.guestGDTRLimit, 0x17)
    try vcpu.write(.guestIDTRBase, 0x3000); try vcpu.write(.guestIDTRLimit, 0x7FF)
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.hltExiting.rawValue))
    return (vm, vcpu)
}

@Test func nmiGoesToTheGuestWithoutNMIExiting() throws {
    let (_, vcpu) = try makeNMIGuest()
    vcpu.raiseNMI()
    let e = try vcpu.run()
    #expect(e.reason == .hlt)
    #expect(vcpu.read(.rsi) == 1)      // the guest's NMI handler ran once
}

@Test func nmiExitingTurnsTheNMIIntoAnExit() throws {
    let (_, vcpu) = try makeNMIGuest()
    try vcpu.write(.pinBasedControls, vcpu.read(.pinBasedControls) | UInt64(PinBasedControls.nmiExiting.rawValue))
    vcpu.raiseNMI()
    let e = try vcpu.run()
    #expect(e.reason == .exceptionOrNMI)
    #expect(e.interruptionInformation.type == .nmi)
    #expect(e.interruptionInformation.vector == 2)
    #expect(vcpu.read(.rsi) == 0)
}

@Test func virtualNMIBlockingAndNMIWindow() throws {
    let (_, vcpu) = try makeNMIGuest()
    try vcpu.write(.pinBasedControls, vcpu.read(.pinBasedControls)
        | UInt64(PinBasedControls.nmiExiting.rawValue | PinBasedControls.virtualNMIs.rawValue))
    // Inject a virtual NMI: the handler runs with virtual-NMI blocking until its IRET.
    try vcpu.write(.vmEntryInterruptionInformation, UInt64(InterruptionInfo(vector: 2, type: .nmi).rawValue))
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.nmiWindowExiting.rawValue))
    let e = try vcpu.run()
    #expect(e.reason == .nmiWindow)
    #expect(vcpu.read(.rsi) == 1)                        // the handler ran and its IRET unblocked NMIs
    #expect(vcpu.read(.guestInterruptibilityState) & 8 == 0)
    // An exit inside the handler shows the blocking in the interruptibility state.
    let (_, v2) = try makeNMIGuest()
    try v2.write(.pinBasedControls, v2.read(.pinBasedControls) | UInt64(PinBasedControls.nmiExiting.rawValue | PinBasedControls.virtualNMIs.rawValue))
    try v2.write(.vmEntryInterruptionInformation, UInt64(InterruptionInfo(vector: 2, type: .nmi).rawValue))
    let e2 = try v2.run(instructionBudget: 1)
    #expect(e2.reason == .vmxPreemptionTimerExpired)
    #expect(v2.read(.guestRIP) == 0x1801)                 // inside the handler, after INC ESI
    #expect(v2.read(.guestInterruptibilityState) & 8 == 8)
}

/// Without virtual NMIs, bit 3 of the interruptibility state is blocking by NMI itself (SDM Vol. 3C Table
/// 24-3): an exit inside the guest's NMI handler saves it, and a VMM that writes the VMCS there and re-enters
/// (so that entry reloads the guest state from the fields) keeps the second NMI blocked until the IRET.
@Test func nmiBlockingSurvivesAnExitWithoutVirtualNMIs() throws {
    let (_, vcpu) = try makeNMIGuest()
    vcpu.raiseNMI()
    let e = try vcpu.run(instructionBudget: 1)                 // delivery, then INC ESI in the handler
    #expect(e.reason == .vmxPreemptionTimerExpired)
    #expect(vcpu.read(.guestRIP) == 0x1801)
    #expect(vcpu.read(.guestInterruptibilityState) & 8 == 8)
    try vcpu.write(.tscOffset, 0x1000)                         // any VMCS write: the next entry reloads the state
    vcpu.raiseNMI()                                            // blocked until the handler's IRET
    let e2 = try vcpu.run()
    #expect(e2.reason == .hlt)
    #expect(vcpu.read(.rsi) == 2)                              // the second NMI ran after the first IRET, not nested
}
