import Testing
import X86
import X86Assembler
@testable import Hypervisor

@Test func monitorTrapFlagExitsAfterEachInstruction() throws {
    let (_, vcpu) = try makeGuest { a in
        a.mov(.eax, 1)      // 5 bytes
        a.inc(.eax)         // 1 byte
        a.inc(.eax)
        a.hlt()
    }
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.monitorTrapFlag.rawValue))
    var rips: [UInt64] = []
    for _ in 0..<3 {
        let e = try vcpu.run()
        #expect(e.reason == .monitorTrapFlag)
        rips.append(vcpu.read(.guestRIP))
    }
    #expect(rips == [0x1005, 0x1006, 0x1007])
    #expect(vcpu.read(.rax) == 3)
}

@Test func rdtscpNeedsEnableRDTSCP() throws {
    let (_, vcpu) = try makeGuest { a in a.rdtscp(); a.hlt() }
    try vcpu.write(.exceptionBitmap, 1 << 6)
    let e = try vcpu.run()
    #expect(e.reason == .exceptionOrNMI)
    #expect(e.interruptionInformation.vector == 6)
    let (_, v2) = try makeGuest { a in a.rdtscp(); a.hlt() }
    try v2.write(.secondaryProcessorBasedControls, v2.read(.secondaryProcessorBasedControls) | UInt64(SecondaryProcessorControls.enableRDTSCP.rawValue))
    try v2.write(.primaryProcessorBasedControls, v2.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.hltExiting.rawValue))
    #expect(try v2.run().reason == .hlt)
}

@Test func exitMSRStoreAreaRecordsGuestMSRs() throws {
    let (vm, vcpu) = try makeGuest { a in
        a.mov(.ecx, 0x174)   // IA32_SYSENTER_CS
        a.mov(.eax, 0x1234)
        a.xor(.edx, .edx)
        a.wrmsr()
        a.cpuid()
    }
    try vcpu.write(.msrBitmap, 0x6000)
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.useMSRBitmaps.rawValue))
    vm.memory.writeInteger(0x174, at: 0x7000, size: 4)
    try vcpu.write(.vmExitMSRStoreAddress, 0x7000)
    try vcpu.write(.vmExitMSRStoreCount, 1)
    let e = try vcpu.run()
    #expect(e.reason == .cpuid)
    #expect(vm.memory.readInteger(at: 0x7008, size: 8) == 0x1234)
    #expect(vcpu.read(.guestIA32SysenterCS) == 0x1234)
}
