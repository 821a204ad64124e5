import Testing
import X86
import X86Assembler
@testable import Hypervisor

/// A VM with 1 MiB of RAM at 0 and 32-bit guest code at 0x1000.
func makeGuest(_ build: (Assembler) -> Void) throws -> (VirtualMachine, VCPU) {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)
    let a = Assembler(mode: .bits32, origin: 0x1000)
    build(a)
    vm.memory.write(try a.finish(), at: 0x1000)
    let vcpu = vm.makeVCPU()
    try vcpu.write(.guestRIP, 0x1000)
    vcpu.write(.rsp, 0x8000)
    return (vm, vcpu)
}

@Test func guestRunsAtCPL0AndCPUIDExits() throws {
    let (_, vcpu) = try makeGuest { a in
        a.push(.cs)
        a.pop(.eax)
        a.cpuid()
        a.hlt()
    }
    let e = try vcpu.run()
    #expect(e.reason == .cpuid, "\(e.failedCheck?.description ?? "")")
    #expect(e.instructionLength == 2)
    #expect(vcpu.read(.guestRIP) == 0x1002)
    // PUSH CS shows RPL 0: the guest kernel runs at its intended privilege level.
    #expect(vcpu.read(.rax) & 3 == 0)
    #expect(vcpu.read(.rax) == 0x08)
    try vcpu.write(.guestRIP, vcpu.read(.guestRIP) + UInt64(e.instructionLength))
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.hltExiting.rawValue))
    let e2 = try vcpu.run()
    #expect(e2.reason == .hlt)
    #expect(e2.instructionLength == 1)
    #expect(vcpu.read(.exitReason) == 12)
}

@Test func ioExitQualification() throws {
    let (_, vcpu) = try makeGuest { a in
        a.mov(.al, 0x41)
        a.out(0xE9, .al)
        a.mov(.dx, 0x3F8)
        a.out(.dx, .ax)
        a.hlt()
    }
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.unconditionalIOExiting.rawValue))
    let e = try vcpu.run()
    #expect(e.reason == .ioInstruction)
    #expect(e.qualification == (0xE9 << 16) | (1 << 6))   // 1 byte, OUT, immediate port
    try vcpu.write(.guestRIP, vcpu.read(.guestRIP) + UInt64(e.instructionLength))
    let e2 = try vcpu.run()
    #expect(e2.reason == .ioInstruction)
    #expect(e2.qualification == (0x3F8 << 16) | 1)        // 2 bytes, OUT, port in DX
}

@Test func descriptorTableExiting() throws {
    let (vm, vcpu) = try makeGuest { a in
        a.sgdt(.mem[0x2000])
        a.sgdt(.mem[0x3000])
        a.hlt()
    }
    try vcpu.write(.guestGDTRBase, 0x5000)
    try vcpu.write(.guestGDTRLimit, 0x27)
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls)
        | UInt64(PrimaryProcessorControls.hltExiting.rawValue | PrimaryProcessorControls.activateSecondaryControls.rawValue))
    // First SGDT runs without an exit and stores the guest's own GDTR; enable the control at the HLT... (set after first run)
    let e = try vcpu.run()
    #expect(e.reason == .hlt)
    #expect(vm.memory.readInteger(at: 0x2000, size: 2) == 0x27)
    #expect(vm.memory.readInteger(at: 0x2002, size: 4) == 0x5000)
    try vcpu.write(.guestRIP, 0x1000)
    try vcpu.write(.secondaryProcessorBasedControls, vcpu.read(.secondaryProcessorBasedControls) | UInt64(SecondaryProcessorControls.descriptorTableExiting.rawValue))
    let e2 = try vcpu.run()
    #expect(e2.reason == .accessToGDTRorIDTR)
    #expect(e2.instructionInformation >> 28 == 0)     // SGDT
    #expect(e2.qualification == 0x2000)
}

@Test func invalidGuestStateIsNamed() throws {
    let (_, vcpu) = try makeGuest { a in a.hlt() }
    try vcpu.write(.guestCR0, 0x11)   // NE clear: violates IA32_VMX_CR0_FIXED0 even for an unrestricted guest
    let e = try vcpu.run()
    #expect(e.reason == .entryFailureGuestState)
    #expect(e.entryFailure)
    #expect(e.failedCheck?.check == .guestCR0FixedBits)
    #expect(vcpu.read(.exitReason) == 0x8000_0021)
}

@Test func invalidControlIsVMfailValid() throws {
    let (_, vcpu) = try makeGuest { a in a.hlt() }
    try vcpu.write(.pinBasedControls, 0)   // default1 bits clear
    #expect(throws: HypervisorError.self) { try vcpu.run() }
    do { _ = try vcpu.run() } catch {
        guard case .entryFailed(let f, let n) = error else { Issue.record("wrong error"); return }
        #expect(f.check == .pinBasedControlsReserved)
        #expect(n == 7)
    }
}

@Test func eptViolationOnUnmappedMemory() throws {
    let (_, vcpu) = try makeGuest { a in
        a.mov(.eax, .dword[0x20_0000])
        a.hlt()
    }
    let e = try vcpu.run()
    #expect(e.reason == .eptViolation)
    #expect(e.guestPhysicalAddress == 0x20_0000)
    #expect(e.qualification & 7 == 1)          // a read
    #expect(vcpu.read(.guestRIP) == 0x1000)    // the instruction did not complete
}

@Test func exceptionBitmapExit() throws {
    let (_, vcpu) = try makeGuest { a in a.ud2() }
    try vcpu.write(.exceptionBitmap, 1 << 6)
    let e = try vcpu.run()
    #expect(e.reason == .exceptionOrNMI)
    #expect(e.interruptionInformation.vector == 6)
    #expect(e.interruptionInformation.type == .hardwareException)
    #expect(e.interruptionInformation.valid)
}
