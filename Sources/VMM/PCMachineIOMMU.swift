// The PCI devices behind `--device`: Intel VT-d remapping hardware (QEMU's intel-iommu, intremap=on, eim=off)
// and QEMU's edu device, on the machine's PCI bus 0 with configuration mechanism #1.
//
// What of QEMU's Q35 this models: only what those devices need of it — the remapping unit's registers at
// 0xFED90000 (where Q35 puts them) and its place between bus 0's masters and memory and the APICs, and INTA#
// routed as firmware routes a PIRQ (to ISA IRQ 11: the 8259A input and I/O APIC pin 11, whose number the
// Interrupt Line register holds). Not modelled: the Q35 host bridge (MCH) and its PCIe ECAM, ICH9's LPC bridge
// and PIRQ routing registers, and PCI Express; the host bridge stays the 440FX.
import Devices
import Hypervisor
import X86

extension PCLayout {
    /// Where firmware assigns 32-bit memory BARs: the start of the hole below 4 GiB.
    public static let pciMemory: UInt64 = 0xC000_0000
    /// The ISA IRQ that INTA# of a device on bus 0 is routed to.
    public static let irqPCI = 11
    /// The edu device's address: 00:03.0.
    public static let eduSlot: UInt8 = 3
}

/// Guest RAM as a bus master sees it: mapped regions with read (write) permission; the VMM-private pages and
/// anything unmapped are out of reach.
final class GuestPhysicalMemory: PhysicalMemoryAccess {
    private let memory: PhysicalMemory
    init(_ memory: PhysicalMemory) { self.memory = memory }

    /// Whether all `count` bytes at `address` lie in one region with `permission`.
    private func reachable(_ address: UInt64, _ count: Int, _ permission: PhysicalMemory.Permissions) -> Bool {
        guard count >= 0 else { return false }
        guard count > 0 else { return true }
        return memory.regions.contains { r in
            r.permissions.contains(permission) && address >= r.base && address &- r.base < r.size
                && UInt64(count) <= r.size - (address &- r.base)
        }
    }

    func readPhysical(at address: UInt64, count: Int) -> [UInt8]? {
        guard reachable(address, count, .read) else { return nil }
        return memory.read(at: address, count: count)
    }

    func writePhysical(_ bytes: [UInt8], at address: UInt64) -> Bool {
        guard reachable(address, bytes.count, .write) else { return false }
        return memory.write(bytes, at: address)
    }
}

extension PCMachine {
    /// Creates the configured PCI devices and plugs them in: the remapping unit on the MMIO bus (and between
    /// the I/O APIC and the local APICs), the edu device on bus 0 with BAR0 assigned as firmware would.
    func mapPCIDevices(_ pci: PCIHost) throws(MachineError) {
        guard configuration.intelIOMMU || configuration.edu else { return }
        let memory = GuestPhysicalMemory(vm.memory)
        let apics: (any APICInterruptSink)? = apicBus.map { $0 } ?? localAPIC
        guard let apics, let ioAPIC else { throw MachineError("--device intel-iommu and --device edu need the APICs") }
        var upstream: any BusMasterAccess = DirectPlatformAccess(memory: memory, apics: apics)
        if configuration.intelIOMMU {
            let unit = IntelIOMMU(memory: memory, apics: apics)
            do { try mmio.map(unit, at: IntelIOMMU.baseAddress, length: 0x1000) } catch {
                throw MachineError("internal: intel-iommu: \(error)")
            }
            ioAPIC.messageSink = unit
            intelIOMMU = unit
            upstream = unit
        }
        if configuration.edu {
            guard let address = PCIAddress(device: PCLayout.eduSlot) else { throw MachineError("internal: edu address") }
            let device = EduDevice(address: address, upstream: upstream, intx: irqLine(PCLayout.irqPCI),
                                   interruptLine: UInt8(PCLayout.irqPCI))
            var mapped: UInt64?
            device.barChanged = { [weak self, weak device] base in
                guard let self, let device else { return }
                if let old = mapped { _ = self.mmio.unmap(at: old); mapped = nil }
                // A BAR moved onto another device (as while software sizes it) decodes nothing.
                if let base, (try? self.mmio.map(device, at: base, length: EduDevice.barSize)) != nil { mapped = base }
            }
            do { try pci.register(device, at: address) } catch {
                throw MachineError("internal: edu: \(error)")
            }
            device.assignBAR(PCLayout.pciMemory)
            edu = device
        }
    }
}
