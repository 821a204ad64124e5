import Testing
import X86
import X86Assembler
@testable import Hypervisor

/// An interrupt line with one pending vector, as a VMM's interrupt controller would raise it.
final class TestInterruptLine: InterruptController {
    var pending: UInt8?
    init(_ v: UInt8?) { pending = v }
    func hasInterrupt() -> Bool { pending != nil }
    func acknowledge() -> UInt8? { defer { pending = nil }; return pending }
}

@Test func externalInterruptExitsOnlyWithExternalInterruptExiting() throws {
    // The guest runs with IF = 0 in a loop; the host raises an interrupt.
    let (_, vcpu) = try makeGuest { a in
        a.cli()
        let l = a.here()
        a.jmp(l)
    }
    vcpu.interruptController = TestInterruptLine(0x30)
    let e = try vcpu.run(instructionBudget: 10_000)
    #expect(e.reason == .vmxPreemptionTimerExpired)    // no exit: IF = 0 blocks it and the control is off
    try vcpu.write(.pinBasedControls, vcpu.read(.pinBasedControls) | UInt64(PinBasedControls.externalInterruptExiting.rawValue))
    try vcpu.write(.vmExitControls, vcpu.read(.vmExitControls) | UInt64(VMExitControls.acknowledgeInterruptOnExit.rawValue))
    let e2 = try vcpu.run(instructionBudget: 10_000)
    #expect(e2.reason == .externalInterrupt)
    #expect(e2.interruptionInformation.valid)
    #expect(e2.interruptionInformation.vector == 0x30)
    #expect(e2.interruptionInformation.type == .external)
}

@Test func interruptWindowOpensAfterSTIShadow() throws {
    let (_, vcpu) = try makeGuest { a in
        a.cli()      // 0x1000
        a.sti()      // 0x1001
        a.nop()      // 0x1002: still blocked by STI
        a.hlt()      // 0x1003
    }
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.interruptWindowExiting.rawValue))
    let e = try vcpu.run()
    #expect(e.reason == .interruptWindow)
    #expect(vcpu.read(.guestRIP) == 0x1003)
    #expect(vcpu.read(.guestRFLAGS) & RFLAGS.if.rawValue != 0)
    #expect(vcpu.read(.guestInterruptibilityState) == 0)
}

@Test func injectedInterruptWakesHaltedGuest() throws {
    // IVT-less protected mode: use an IDT with one 32-bit interrupt gate at vector 0x40.
    let (vm, vcpu) = try makeGuest { a in
        a.sti()
        a.hlt()               // 0x1001: halts with IF = 1
        a.out(0xE9, .al)      // 0x1002: never reached before the handler runs
        a.hlt()
    }
    // Handler at 0x1800: mov al, 0x5A; out 0xE9, al; hlt (with HLT exiting on, this exits).
    let h = Assembler(mode: .bits32, origin: 0x1800)
    h.mov(.al, 0x5A)
    h.out(0xE9, .al)
    vm.memory.write(try h.finish(), at: 0x1800)
    // GDT: null, code 0x08, data 0x10. IDT at 0x3000 with gate 0x40 -> 0x08:0x1800.
    vm.memory.writeInteger(0x00CF_9B00_0000_FFFF, at: 0x2008, size: 8)
    vm.memory.writeInteger(0x00CF_9300_0000_FFFF, at: 0x2010, size: 8)
    vm.memory.writeInteger(0x0000_8E00_0008_1800, at: 0x3000 + 0x40 * 8, size: 8)
    try vcpu.write(.guestGDTRBase, 0x2000); try vcpu.write(.guestGDTRLimit, 0x17)
    try vcpu.write(.guestIDTRBase, 0x3000); try vcpu.write(.guestIDTRLimit, 0x7FF)
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.unconditionalIOExiting.rawValue))
    // The guest halts (HLT exiting off): the activity state becomes HLT and run() reports it.
    let e = try vcpu.run()
    #expect(e.reason == .hlt)
    #expect(vcpu.read(.guestActivityState) == 1)
    #expect(vcpu.read(.guestRIP) == 0x1002)
    // Inject vector 0x40 as an external interrupt: it wakes the guest, whose handler does OUT.
    try vcpu.write(.vmEntryInterruptionInformation, UInt64(InterruptionInfo(vector: 0x40, type: .external).rawValue))
    let e2 = try vcpu.run()
    #expect(e2.reason == .ioInstruction)
    #expect(vcpu.read(.guestRIP) == 0x1802)
    #expect(vcpu.read(.guestActivityState) == 0)
    // The frame the interrupt pushed: return EIP 0x1002, CS 0x08 (RPL 0).
    let esp = vcpu.read(.rsp)
    #expect(vm.memory.readInteger(at: esp, size: 4) == 0x1002)
    #expect(vm.memory.readInteger(at: esp + 4, size: 4) == 0x08)
}
