import Testing
import X86

// IA32_APIC_BASE's mode transitions (SDM Vol. 3A §11.12.5, Figure 11-27): disabled (EN=0, EXTD=0), xAPIC
// (EN=1), x2APIC (EN=1, EXTD=1); EXTD without EN is invalid; x2APIC is entered only from xAPIC and left
// only to disabled.
@Test func apicBaseModeTransitions() {
    let cpu = LongModeMachine().cpu
    let base: UInt64 = 0xFEE0_0000, bsp: UInt64 = 0x100, en: UInt64 = 0x800, extd: UInt64 = 0x400
    #expect(cpu.guestMSR(MSRIndex.apicBase) == base | bsp | en)           // reset: xAPIC mode, BSP
    #expect(!cpu.setGuestMSR(MSRIndex.apicBase, base | bsp | extd))       // invalid state
    #expect(cpu.setGuestMSR(MSRIndex.apicBase, base | bsp | en | extd))   // xAPIC to x2APIC
    #expect(!cpu.setGuestMSR(MSRIndex.apicBase, base | bsp | en))         // x2APIC to xAPIC: #GP
    #expect(cpu.guestMSR(MSRIndex.apicBase) == base | bsp | en | extd)
    #expect(cpu.setGuestMSR(MSRIndex.apicBase, base | bsp))               // x2APIC to disabled
    #expect(!cpu.setGuestMSR(MSRIndex.apicBase, base | bsp | en | extd))  // disabled to x2APIC: #GP
    #expect(cpu.setGuestMSR(MSRIndex.apicBase, base | bsp | en))          // disabled to xAPIC
    #expect(!cpu.setGuestMSR(MSRIndex.apicBase, base | bsp | en | 0x200)) // bit 9 reserved
    #expect(!cpu.setGuestMSR(MSRIndex.apicBase, 1 << 63 | en))            // beyond MAXPHYADDR
}
