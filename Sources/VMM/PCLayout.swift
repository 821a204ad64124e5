// The PC machine's address map in one place (like Firecracker's layout.rs): guest-physical addresses of
// RAM, firmware tables and memory-mapped devices, and the I/O ports of every device.
import Loaders

/// Guest-physical layout and I/O ports of the PC machine `swiftvmx run` builds.
public enum PCLayout {
    // MARK: Memory

    /// RAM below 4 GiB ends here at most (the rest of RAM starts at 4 GiB): the 32-bit PCI hole.
    public static let lowRAMLimit: UInt64 = 0xC000_0000
    /// The start of memory above 4 GiB.
    public static let highRAMStart: UInt64 = 0x1_0000_0000
    /// The legacy video and option-ROM hole (0xA0000–0xDFFFF): backed by RAM here, reported to the guest
    /// as neither RAM nor reserved (as on a PC).
    public static let legacyHole = 0xA_0000..<UInt64(0xE_0000)
    /// The ACPI tables (RSDP first, inside the 0xE0000–0xFFFFF range the kernel scans).
    public static let acpiTables: UInt64 = 0xE_0000
    /// Size reserved for the ACPI tables.
    public static let acpiTablesSize: UInt64 = 0x1_0000
    /// The BIOS area (reserved; a `--firmware` ROM's last 64 KiB are mirrored here).
    public static let biosArea: UInt64 = 0xF_0000
    /// A firmware ROM ends at 4 GiB (its last byte at 0xFFFFFFFF; the reset vector at 0xFFFFFFF0).
    public static let firmwareTop: UInt64 = 0x1_0000_0000
    /// The I/O APIC's registers (82093AA default).
    public static let ioAPIC: UInt64 = 0xFEC0_0000
    /// The local APIC's registers (IA32_APIC_BASE default, SDM Vol. 3A 11.4.1).
    public static let localAPIC: UInt64 = 0xFEE0_0000
    /// VMM-private pages the processor reads for VMX (MSR bitmap, virtual-APIC page): mapped with no
    /// permissions, so a guest access is an EPT violation while VMX's own reads see them.
    public static let vmmPrivate: UInt64 = 0xFEF0_0000
    /// The MSR bitmap (SDM Vol. 3C 24.6.9).
    public static let msrBitmap: UInt64 = vmmPrivate
    /// The virtual-APIC page (SDM Vol. 3C 24.6.8): VTPR at offset 0x80.
    public static let virtualAPICPage: UInt64 = vmmPrivate + 0x1000
    /// Size of the VMM-private range of a one-processor machine.
    public static let vmmPrivateSize: UInt64 = 0x2000
    /// Most processors a machine has (`--smp`): each has a virtual-APIC page in the VMM-private range.
    public static let maximumProcessors = 16
    /// Size of the VMM-private range for `processors` processors: the MSR bitmap, then one virtual-APIC
    /// page per processor.
    public static func vmmPrivateSize(processors: Int) -> UInt64 { 0x1000 + 0x1000 * UInt64(max(processors, 1)) }
    /// The virtual-APIC page of processor `index` (processor 0's is `virtualAPICPage`).
    public static func virtualAPICPage(processor index: Int) -> UInt64 { virtualAPICPage + 0x1000 * UInt64(index) }

    /// The guest's e820 memory map for `ramSize` bytes of RAM: RAM below 640 KiB (minus the EBDA), the
    /// ACPI tables and BIOS area reserved, RAM from 1 MiB to min(RAM, 3 GiB), the rest above 4 GiB.
    public static func memoryMap(ramSize: UInt64) -> MemoryMap {
        var map = MemoryMap.standardPC(ramSize: ramSize)
        map.regions.append(MemoryRegion(start: acpiTables, size: acpiTablesSize, type: .acpi))
        map.regions.sort { $0.start < $1.start }
        return map
    }

    // MARK: I/O ports

    /// The master 8259A (command 0x20, data 0x21).
    public static let masterPIC: UInt16 = 0x20
    /// The slave 8259A (0xA0, 0xA1).
    public static let slavePIC: UInt16 = 0xA0
    /// The edge/level control registers of both PICs (0x4D0, 0x4D1).
    public static let elcr: UInt16 = 0x4D0
    /// The 8254 PIT (counters 0x40–0x42, control word 0x43).
    public static let pit: UInt16 = 0x40
    /// System control port B (PIT channel 2 gate and output).
    public static let systemControlPortB: UInt16 = 0x61
    /// The i8042 keyboard controller's data port.
    public static let i8042Data: UInt16 = 0x60
    /// The i8042 keyboard controller's status/command port.
    public static let i8042Command: UInt16 = 0x64
    /// The MC146818 RTC and CMOS (index 0x70, data 0x71).
    public static let rtc: UInt16 = 0x70
    /// System control port A (fast A20 and fast reset).
    public static let systemControlPortA: UInt16 = 0x92
    /// The Bochs/QEMU debug console.
    public static let debugConsole: UInt16 = 0xE9
    /// QEMU's isa-debug-exit.
    public static let isaDebugExit: UInt16 = 0xF4
    /// pc-testdev's test register (ports 0xE0–0xE3, and byte-wise 0xE8–0xEB).
    public static let testDeviceRegister: UInt16 = 0xE0
    /// pc-testdev's flush-page port.
    public static let testDeviceFlushPage: UInt16 = 0xE4
    /// pc-testdev's byte-wise view of the test register (0xE8 only: 0xE9 is the debug console).
    public static let testDeviceRegisterBytes: UInt16 = 0xE8
    /// pc-testdev's interrupt-line ports (0x2000 + line).
    public static let testDeviceInterruptLines: UInt16 = 0x2000
    /// pc-testdev's 64 KiB of MMIO storage.
    public static let testDeviceMemory: UInt64 = 0xFF00_0000
    /// COM1, a 16550A.
    public static let com1: UInt16 = 0x3F8
    /// QEMU's fw_cfg (selector 0x510, data 0x511).
    public static let fwCfg: UInt16 = 0x510
    /// ACPI fixed hardware (PM1a event, PM1a control, PM timer).
    public static let acpiPM: UInt16 = 0x600
    /// PCI configuration mechanism #1 (CONFIG_ADDRESS 0xCF8, CONFIG_DATA 0xCFC).
    public static let pciConfigAddress: UInt16 = 0xCF8
    /// The reset control register.
    public static let resetControl: UInt16 = 0xCF9

    // MARK: Clocks

    /// The TSC rate: one tick per guest nanosecond (guest time counts retired instructions, 1 ns each).
    public static let tscFrequency: UInt64 = 1_000_000_000
    /// The local APIC timer's input clock (the "bus" clock before the divide configuration).
    public static let apicBusFrequency: UInt64 = 100_000_000

    // MARK: Interrupt lines (ISA IRQs on the 8259A pair)

    /// The I/O APIC pin of an ISA IRQ: identity, except IRQ 0 (the PIT) on pin 2 as the MADT's interrupt
    /// source override says (the PC/AT wiring of the 8254 to the I/O APIC).
    public static func ioAPICPin(irq: Int) -> Int { irq == 0 ? 2 : irq }


    /// PIT channel 0.
    public static let irqTimer = 0
    /// i8042 keyboard.
    public static let irqKeyboard = 1
    /// COM1.
    public static let irqCOM1 = 4
    /// RTC.
    public static let irqRTC = 8
    /// ACPI SCI.
    public static let irqSCI = 9
    /// i8042 auxiliary (mouse).
    public static let irqMouse = 12
}
