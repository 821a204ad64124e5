// IA32_APIC_BASE relocates the xAPIC page (SDM Vol. 3A §11.4.4): the machine's local-APIC window follows it.
import Devices
import Testing
import X86
@testable import VMM

@Test(arguments: [1, 2])
func apicBaseWriteMovesTheXAPICPage(processors: Int) throws {
    let machine = try SMPMachineTests.bringUpMachine(processors: processors)
    let version = machine.mmio.read(address: 0xFEE0_0030, size: 4)       // the APIC version register
    #expect(machine.mmio.device(at: 0xFEE0_0030) != nil)
    #expect(machine.writeX2APICMSR(MSRIndex.apicBase, 0xFED4_0900))
    #expect(machine.mmio.device(at: 0xFEE0_0030) == nil)
    #expect(machine.mmio.read(address: 0xFED4_0030, size: 4) == version)
    // Onto the I/O APIC's page: the bus refuses the overlap and the window stays where it is.
    #expect(machine.writeX2APICMSR(MSRIndex.apicBase, 0xFEC0_0900))
    #expect(machine.mmio.device(at: 0xFED4_0030) != nil)
    // Back home from there.
    #expect(machine.writeX2APICMSR(MSRIndex.apicBase, 0xFEE0_0900))
    #expect(machine.mmio.device(at: 0xFEE0_0030) != nil && machine.mmio.device(at: 0xFED4_0030) == nil)
}
