import Testing
@testable import Devices

/// A software-enabled APIC switched to x2APIC mode (xAPIC first, as IA32_APIC_BASE requires).
private func x2APIC(id: UInt8 = 0) -> LocalAPIC {
    let apic = LocalAPIC(id: id)
    apic.writeRegister(.spuriousInterruptVector, 0x1FF)
    apic.apicBaseChanged(from: 0xFEE0_0900, to: 0xFEE0_0D00)
    return apic
}

@Test func x2APICRegistersAreMSRsAndTheMMIOPageIsOff() {
    let apic = x2APIC(id: 0x13)
    #expect(apic.x2APICMode)
    #expect(apic.readX2APICMSR(0x802) == 0x13)                          // 32-bit ID, not ID << 24
    #expect(apic.readX2APICMSR(0x803) == UInt64(LocalAPIC.versionValue))
    #expect(apic.readX2APICMSR(0x80D) == 1 << 16 | 1 << 3)               // cluster 1, bit 3
    #expect(apic.readX2APICMSR(0x80F) == 0x1FF)
    // The MMIO page reads all ones (nothing answers, as kvm-unit-tests' apic_disable checks) and ignores writes.
    #expect(apic.read(offset: 0x20, size: 4) == 0xFFFF_FFFF)
    apic.write(offset: 0x80, size: 4, value: 0x40)
    #expect(apic.taskPriority == 0)
    #expect(apic.writeX2APICMSR(0x808, 0x40))
    #expect(apic.taskPriority == 0x40)
    #expect(apic.readX2APICMSR(0x808) == 0x40)
}

@Test func x2APICFaultsOnReservedReadOnlyAndWriteOnlyAccesses() {
    let apic = x2APIC()
    for reserved: UInt32 in [0x800, 0x801, 0x804, 0x809, 0x80C, 0x80E, 0x829, 0x831, 0x83A, 0x840, 0x8FF] {
        #expect(apic.readX2APICMSR(reserved) == nil, "read \(reserved)")
        #expect(!apic.writeX2APICMSR(reserved, 0), "write \(reserved)")
    }
    for readOnly: UInt32 in [0x802, 0x803, 0x80A, 0x80D, 0x810, 0x818, 0x820, 0x839] {
        #expect(apic.readX2APICMSR(readOnly) != nil)
        #expect(!apic.writeX2APICMSR(readOnly, 0), "write \(readOnly)")
    }
    #expect(apic.readX2APICMSR(0x80B) == nil)                            // EOI: write-only
    #expect(apic.readX2APICMSR(0x83F) == nil)                            // SELF IPI: write-only
    #expect(!apic.writeX2APICMSR(0x80B, 1))                              // EOI takes only 0
    #expect(!apic.writeX2APICMSR(0x828, 1))                              // ESR takes only 0
    #expect(!apic.writeX2APICMSR(0x808, 0x100))                          // TPR bits 31:8 reserved
    #expect(!apic.writeX2APICMSR(0x808, 1 << 32))                        // bits 63:32 reserved
    #expect(!apic.writeX2APICMSR(0x83F, 0x120))                          // SELF IPI bits 31:8 reserved
    // Not in x2APIC mode: every x2APIC MSR faults.
    let xAPIC = LocalAPIC()
    #expect(xAPIC.readX2APICMSR(0x802) == nil)
    #expect(!xAPIC.writeX2APICMSR(0x808, 0))
}

@Test func x2APICSelfIPIAndICRDeliverAndEOIRetires() {
    let apic = x2APIC(id: 2)
    #expect(apic.writeX2APICMSR(0x83F, 0x40))
    #expect(apic.pendingVector() == 0x40)
    #expect(apic.acknowledge() == 0x40)
    #expect(apic.readX2APICMSR(0x810 + 2) == 1)                          // ISR bit 64 (register 2, bit 0)
    #expect(apic.writeX2APICMSR(0x80B, 0))
    #expect(apic.highestInServiceVector == nil)
    // ICR: fixed, physical destination 2 (this APIC) in bits 63:32.
    #expect(apic.writeX2APICMSR(0x830, 2 << 32 | 0x51))
    #expect(apic.pendingVector() == 0x51)
    #expect(apic.readX2APICMSR(0x830) == 2 << 32 | 0x51)
    _ = apic.acknowledge(); apic.endOfInterrupt()
    // Another APIC's ID reaches nothing here; the broadcast FFFF_FFFFH does; logical cluster 0 bit 2 does.
    #expect(apic.writeX2APICMSR(0x830, 3 << 32 | 0x52))
    #expect(apic.pendingVector() == nil)
    #expect(apic.writeX2APICMSR(0x830, 0xFFFF_FFFF << 32 | 0x53))
    #expect(apic.pendingVector() == 0x53)
    _ = apic.acknowledge(); apic.endOfInterrupt()
    #expect(apic.writeX2APICMSR(0x830, 0x4 << 32 | 1 << 11 | 0x54))
    #expect(apic.pendingVector() == 0x54)
    _ = apic.acknowledge(); apic.endOfInterrupt()
    #expect(apic.writeX2APICMSR(0x830, 0x1_0004 << 32 | 1 << 11 | 0x55))   // cluster 1: not this APIC
    #expect(apic.pendingVector() == nil)
}

@Test func x2APICTSCDeadlineTimerThroughMSRs() {
    let apic = x2APIC()
    #expect(apic.writeX2APICMSR(0x832, 2 << 17 | 0xEC))                  // LVT timer: TSC-deadline, vector 0xEC
    #expect(apic.timerMode == .tscDeadline)
    apic.writeTSCDeadline(5_000)
    #expect(apic.advance(to: 4_999) == 5_000)
    #expect(apic.pendingVector() == nil)
    _ = apic.advance(to: 5_000)
    #expect(apic.pendingVector() == 0xEC)
    #expect(apic.readTSCDeadline() == 0)                                 // cleared when it fires
}

@Test func x2APICModeEndsOnlyThroughDisabledWhichResets() {
    let apic = x2APIC(id: 1)
    #expect(apic.writeX2APICMSR(0x808, 0x20))
    apic.apicBaseChanged(from: 0xFEE0_0D00, to: 0xFEE0_0000)             // x2APIC to disabled: reset
    #expect(!apic.x2APICMode)
    #expect(apic.taskPriority == 0)
    #expect(!apic.softwareEnabled)
    apic.apicBaseChanged(from: 0xFEE0_0000, to: 0xFEE0_0800)             // back to xAPIC: MMIO again
    #expect(apic.read(offset: 0x20, size: 4) == 0x0100_0000)
    #expect(apic.readX2APICMSR(0x802) == nil)
}

/// The x2APIC ID is the hardware-assigned initial ID, whatever software wrote to the xAPIC ID register before
/// entering x2APIC mode; disabling and re-enabling the APIC brings the xAPIC ID back to it (kvm-unit-tests'
/// "sane x2apic id" and "correct xapic id after reset").
@Test func x2APICIDIsTheInitialIDAndADisableRestoresIt() {
    let apic = LocalAPIC(id: 1)
    apic.write(offset: 0x20, size: 4, value: 2 << 24)                   // xAPIC ID writable: now 2
    #expect(apic.read(offset: 0x20, size: 4) == 2 << 24)
    apic.apicBaseChanged(from: 0xFEE0_0800, to: 0xFEE0_0C00)             // to x2APIC mode
    #expect(apic.readX2APICMSR(0x802) == 1)
    apic.apicBaseChanged(from: 0xFEE0_0C00, to: 0xFEE0_0000)             // disabled: power-up state
    apic.apicBaseChanged(from: 0xFEE0_0000, to: 0xFEE0_0800)             // enabled again in xAPIC mode
    #expect(apic.read(offset: 0x20, size: 4) == 1 << 24)
}
