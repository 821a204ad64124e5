import Testing
import X86
import X86Assembler
@testable import Hypervisor

/// A 64-bit guest at CPL 0: identity-mapped first 2 MiB (one large page), code at 0x10000.
func makeLongModeGuest(_ build: (Assembler) -> Void) throws -> (VirtualMachine, VCPU) {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 4 << 20)
    vm.memory.writeInteger(0x2000 | 3, at: 0x1000, size: 8)     // PML4[0] -> PDPT
    vm.memory.writeInteger(0x3000 | 3, at: 0x2000, size: 8)     // PDPT[0] -> PD
    vm.memory.writeInteger(0x83, at: 0x3000, size: 8)           // PD[0] -> 2 MiB page
    let a = Assembler(mode: .bits64, origin: 0x10000)
    build(a)
    vm.memory.write(try a.finish(), at: 0x10000)
    let vcpu = vm.makeVCPU()
    var v = vcpu.vmcs
    v[.guestCR0] = CR0.pe.rawValue | CR0.ne.rawValue | CR0.et.rawValue | CR0.pg.rawValue
    v[.guestCR3] = 0x1000
    v[.guestCR4] = CR4.pae.rawValue | CR4.vmxe.rawValue
    v.entryControls.insert(.ia32eModeGuest)
    v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
    v[.guestRIP] = 0x10000
    v[.guestRSP] = 0x8000
    vcpu.vmcs = v
    return (vm, vcpu)
}

@Test func tprShadowExitsOnlyBelowThreshold() throws {
    let (vm, vcpu) = try makeLongModeGuest { a in
        a.mov(.rax, 5)
        a.mov(.cr8, .rax)      // VTPR 5 ≥ threshold 3: no exit
        a.mov(.rbx, .cr8)      // reads 5 without an exit
        a.mov(.rax, 2)
        a.mov(.cr8, .rax)      // VTPR 2 < 3: exit 43 after the instruction
        a.hlt()
    }
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls)
        | UInt64(PrimaryProcessorControls.useTPRShadow.rawValue | PrimaryProcessorControls.hltExiting.rawValue))
    try vcpu.write(.virtualAPICAddress, 0x5000)
    vm.memory.writeInteger(0x30, at: 0x5080, size: 1)   // VTPR 3: the threshold may not exceed VTPR[7:4]
    try vcpu.write(.tprThreshold, 3)
    let e = try vcpu.run()
    #expect(e.reason == .tprBelowThreshold)
    #expect(vcpu.read(.rbx) == 5)
    #expect(vm.memory.readInteger(at: 0x5080, size: 1) == 0x20)   // VTPR[7:4] = 2
    let afterMov = vcpu.read(.guestRIP)
    // A VMM lowers the threshold after exit 43 (entry requires threshold ≤ VTPR[7:4], SDM §26.2.1.1).
    try vcpu.write(.tprThreshold, 2)
    let e2 = try vcpu.run()
    #expect(e2.reason == .hlt)
    #expect(vcpu.read(.guestRIP) == afterMov)                     // the exit was trap-like: HLT is next
    #expect(vcpu.exitCounts[.controlRegisterAccess] == nil)
}

@Test func guestSystemCallsRunWithoutExits() throws {
    // SYSCALL/SYSRET and SYSENTER use the guest's MSRs from the VMCS and the CPU; no VM exit.
    let (vm, vcpu) = try makeLongModeGuest { a in
        a.mov(.ecx, 0xC000_0082)     // IA32_LSTAR
        a.mov(.eax, 0x10100)
        a.xor(.edx, .edx)
        a.wrmsr()                    // exits: RDMSR/WRMSR without MSR bitmaps
        a.syscall()
        a.hlt()
    }
    let h = Assembler(mode: .bits64, origin: 0x10100)
    h.mov(.rdx, 0x77)
    h.hlt()
    vm.memory.write(try h.finish(), at: 0x10100)
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.hltExiting.rawValue))
    var entry = VMEntryControls(rawValue: UInt32(vcpu.read(.vmEntryControls)))
    entry.insert(.loadIA32EFER)
    try vcpu.write(.vmEntryControls, UInt64(entry.rawValue))
    try vcpu.write(.guestIA32EFER, EFER.lme.rawValue | EFER.lma.rawValue | EFER.sce.rawValue)
    let e = try vcpu.run()
    #expect(e.reason == .wrmsr)
    // The VMM emulates the write by skipping it after setting LSTAR in the guest itself: here we let the
    // guest's WRMSR run by turning on MSR bitmaps with an all-zero bitmap.
    try vcpu.write(.msrBitmap, 0x6000)
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.useMSRBitmaps.rawValue))
    let e2 = try vcpu.run()
    #expect(e2.reason == .hlt)
    #expect(vcpu.read(.rdx) == 0x77)
    #expect(vcpu.read(.guestRIP) == 0x10107)
    #expect(vcpu.read(.rcx) == 0x10010)          // SYSCALL saved the return RIP
    #expect(vcpu.exitCounts[.wrmsr] == 1)
}

@Test func unrealModeSegmentCacheSurvivesExitAndEntry() throws {
    // An unrestricted guest in real mode whose DS cache holds a 4 GiB limit (unreal mode): the hidden
    // state is saved in the VMCS on exit and loaded again on entry.
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 4 << 20)
    let a = Assembler(mode: .bits16, origin: 0x7C00)
    a.mov(.ebx, 0x20_0000)
    a.mov(.eax, .dword[.ebx])        // beyond 64 KiB: works only with the big limit
    a.cpuid()                        // exits
    a.mov(.ecx, .dword[.ebx + 4])    // after re-entry: still works
    a.hlt()
    vm.memory.write(try a.finish(), at: 0x7C00)
    vm.memory.writeInteger(0x1234_5678, at: 0x20_0000, size: 4)
    vm.memory.writeInteger(0x9ABC_DEF0, at: 0x20_0004, size: 4)
    let vcpu = vm.makeVCPU()
    var v = vcpu.vmcs
    v[.guestCR0] = CR0.ne.rawValue | CR0.et.rawValue
    v.setGuestSegment(.cs, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x9B))
    v.setGuestSegment(.ds, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF_FFFF, accessRights: 0x8093))
    for s in [SegmentRegisterName.ss, .es, .fs, .gs] { v.setGuestSegment(s, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x93)) }
    v[.guestRIP] = 0x7C00
    v[.guestRSP] = 0x7000
    v.primary.insert(.hltExiting)
    vcpu.vmcs = v
    let e = try vcpu.run()
    #expect(e.reason == .cpuid)
    #expect(vcpu.read(.rax) == 0x1234_5678)
    #expect(vcpu.vmcs.guestSegment(.ds).limit == 0xFFFF_FFFF)
    try vcpu.write(.guestRIP, vcpu.read(.guestRIP) + UInt64(e.instructionLength))
    let e2 = try vcpu.run()
    #expect(e2.reason == .hlt)
    #expect(vcpu.read(.rcx) == 0x9ABC_DEF0)
}
