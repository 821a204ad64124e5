import Testing
@testable import Devices

// Intel VT-d remapping (IntelIOMMU) and QEMU's edu device. The tables are built the way kvm-unit-tests'
// lib/x86/intel-iommu.c and Linux's intel-iommu driver build them (VT-d spec 9.1–9.3, 9.10).

private final class MessageRecorder: APICInterruptSink {
    var messages: [APICInterruptMessage] = []
    func deliver(_ message: APICInterruptMessage) -> Bool { messages.append(message); return true }
}

/// A unit over 1 MiB of memory with root table at 0x10000, a context table at 0x11000, second-level tables
/// at 0x12000…, an interrupt remapping table at 0x20000 and an invalidation queue at 0x30000.
private struct Platform {
    let memory = ArrayPhysicalMemory(size: 1 << 20)
    let apics = MessageRecorder()
    let unit: IntelIOMMU
    static let root: UInt64 = 0x10000, context: UInt64 = 0x11000, level3: UInt64 = 0x12000
    static let level2: UInt64 = 0x13000, level1: UInt64 = 0x14000
    static let irt: UInt64 = 0x20000, queue: UInt64 = 0x30000
    /// 00:03.0.
    static let edu: UInt16 = 0x18

    init() {
        unit = IntelIOMMU(memory: memory, apics: apics)
    }

    func writeq(_ offset: UInt64, _ value: UInt64) { unit.write(offset: offset, size: 8, value: value) }
    func writel(_ offset: UInt64, _ value: UInt32) { unit.write(offset: offset, size: 4, value: UInt64(value)) }
    func readl(_ offset: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: unit.read(offset: offset, size: 4)) }
    func readq(_ offset: UInt64) -> UInt64 { unit.read(offset: offset, size: 8) }

    /// Sets one GCMD bit the way software does: the current status with the bit added.
    func command(_ bit: UInt32) { writel(VTdRegister.GCMD_REG, readl(VTdRegister.GSTS_REG) | bit) }

    /// Root and context entries for `sid` (3-level, domain 1) and a 4 KiB mapping iova → pa with `rw`.
    func map(sid: UInt16, iova: UInt64, to pa: UInt64, rw: UInt64 = 3, faultProcessingDisabled: Bool = false) {
        memory.store(Self.context | 1, at: Self.root + UInt64(sid >> 8) * 16)
        memory.store(Self.level3 | 1 | (faultProcessingDisabled ? 2 : 0), at: Self.context + UInt64(sid & 0xFF) * 16)
        memory.store(1 | 1 << 8, at: Self.context + UInt64(sid & 0xFF) * 16 + 8)        // AW 39-bit, DID 1
        memory.store(Self.level2 | 3, at: Self.level3 + ((iova >> 30) & 0x1FF) * 8)
        memory.store(Self.level1 | 3, at: Self.level2 + ((iova >> 21) & 0x1FF) * 8)
        memory.store(pa | rw, at: Self.level1 + ((iova >> 12) & 0x1FF) * 8)
    }

    /// Root table, translation, QI and interrupt remapping on.
    func enableAll() {
        writeq(VTdRegister.RTADDR_REG, Self.root)
        command(VTdGlobal.rootTablePointer)
        writeq(VTdRegister.IQA_REG, Self.queue)
        command(VTdGlobal.queuedInvalidation)
        writeq(VTdRegister.IRTA_REG, Self.irt | 7)                                       // 256 entries
        command(VTdGlobal.interruptRemapTablePointer)
        command(VTdGlobal.translationEnable)
        command(VTdGlobal.interruptRemapping)
    }

    /// A remapped-format, xAPIC-mode IRTE.
    func irte(_ index: UInt64, vector: UInt8, destination: UInt8, sid: UInt16, verify: UInt64 = 1, level: Bool = false) {
        memory.store(1 | (level ? 1 << 4 : 0) | UInt64(vector) << 16 | UInt64(destination) << 40, at: Self.irt + index * 16)
        memory.store(UInt64(sid) | verify << 18, at: Self.irt + index * 16 + 8)
    }
}

@Test func intelIOMMURegistersReportWhatTheTestAndLinuxRead() {
    let p = Platform()
    #expect(p.readl(VTdRegister.VER_REG) == 0x10)
    let cap = p.readq(VTdRegister.CAP_REG)
    #expect(cap >> 8 & 0x1F == 0b10)                    // SAGAW: 39-bit only
    #expect(cap >> 16 & 0x3F == 38)                     // MGAW
    #expect(cap >> 34 & 3 == 3)                         // SLLPS: 2 MiB and 1 GiB
    #expect((cap >> 24 & 0x3FF) * 16 == VTdRegister.FRCD_REG)
    let ecap = p.readq(VTdRegister.ECAP_REG)
    #expect(ecap & 0b1010 == 0b1010)                    // QI, IR
    #expect(ecap & 1 << 4 == 0)                         // EIM: eim=off
    #expect((ecap >> 8 & 0x3FF) * 16 == VTdRegister.IVA_REG)
    #expect(p.readl(VTdRegister.GSTS_REG) == 0)
    #expect(p.readl(VTdRegister.FSTS_REG) == 0)
    p.enableAll()
    let status = p.readl(VTdRegister.GSTS_REG)
    for bit in [VTdGlobal.translationEnable, VTdGlobal.rootTablePointer, VTdGlobal.queuedInvalidation,
                VTdGlobal.interruptRemapping, VTdGlobal.interruptRemapTablePointer] {
        #expect(status & bit != 0)
    }
    #expect(p.readl(VTdRegister.GCMD_REG) == 0)
    #expect(p.readq(VTdRegister.RTADDR_REG) == Platform.root)
    // Clearing TE turns translation off again.
    p.writel(VTdRegister.GCMD_REG, p.readl(VTdRegister.GSTS_REG) & ~VTdGlobal.translationEnable)
    #expect(p.readl(VTdRegister.GSTS_REG) & VTdGlobal.translationEnable == 0)
    // Odd sizes and offsets neither trap nor change anything.
    for size in [0, 1, 2, 3, 5, 16, -1] { p.unit.write(offset: 0x18, size: size, value: ~0); _ = p.unit.read(offset: 0x1D, size: size) }
    for offset: UInt64 in [0x1, 0xFFF, 0x1000, .max] { p.unit.write(offset: offset, size: 4, value: ~0) }
    #expect(p.readl(VTdRegister.GSTS_REG) & VTdGlobal.translationEnable == 0)
}

@Test func intelIOMMUTranslatesThroughRootContextAndSecondLevelTables() {
    let p = Platform()
    p.enableAll()
    p.map(sid: Platform.edu, iova: 0x4000_1000, to: 0x50000)
    p.memory.store(0x1122_3344_5566_7788, at: 0x50010)
    #expect(p.unit.translate(0x4000_1010, requester: Platform.edu, write: false) == .address(0x50010, span: 0xFF0))
    #expect(p.unit.dmaRead(at: 0x4000_1010, count: 8, requester: Platform.edu) == [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11])
    #expect(p.unit.dmaWrite([1, 2, 3, 4], at: 0x4000_1FFC, requester: Platform.edu))
    #expect(p.memory.load(at: 0x50FFC, size: 4) == 0x0403_0201)
    // A 2 MiB superpage at level 2.
    p.memory.store(0x20_0000 | 1 << 7 | 1, at: Platform.level2 + 1 * 8)
    #expect(p.unit.translate(0x4020_1234, requester: Platform.edu, write: false) == .address(0x20_1234, span: 0x1F_EDCC))
    #expect(p.readl(VTdRegister.FSTS_REG) == 0)
    // Without translation enabled, bus addresses are physical addresses.
    p.writel(VTdRegister.GCMD_REG, p.readl(VTdRegister.GSTS_REG) & ~VTdGlobal.translationEnable)
    #expect(p.unit.translate(0x4000_1010, requester: Platform.edu, write: false) == .address(0x4000_1010, span: 0xFF0))
}

@Test func intelIOMMURecordsTranslationFaults() {
    let p = Platform()
    p.enableAll()
    p.map(sid: Platform.edu, iova: 0x1000, to: 0x50000, rw: 1)                      // read only
    // A write to a read-only page: fault reason 5, recorded in FRCD 0 with the page, the SID and T = write.
    #expect(!p.unit.dmaWrite([0xAA], at: 0x1008, requester: Platform.edu))
    #expect(p.memory.load(at: 0x50008, size: 1) == 0)
    #expect(p.readl(VTdRegister.FSTS_REG) == 1 << 1)                                   // PPF, FRI 0
    let frcd = VTdRegister.FRCD_REG
    #expect(p.readq(frcd) == 0x1000)
    let high = p.readq(frcd + 8)
    #expect(high & 0xFFFF == UInt64(Platform.edu))
    #expect(high >> 32 & 0xFF == 5)
    #expect(high >> 62 & 1 == 0)
    #expect(high >> 63 == 1)
    // A requester with no context entry: reason 2, in the next record.
    #expect(p.unit.dmaRead(at: 0x1000, count: 4, requester: 0x20) == nil)
    #expect(p.readq(frcd + 16 + 8) >> 32 & 0xFF == 2)
    // Clearing F (write 1) empties the records; PPF falls.
    p.writel(frcd + 12, 1 << 31)
    p.writel(frcd + 16 + 12, 1 << 31)
    #expect(p.readl(VTdRegister.FSTS_REG) == 0)
    // With the fault event unmasked, a fault sends FEDATA to FEADDR.
    p.writel(VTdRegister.FEDATA_REG, 0x41)
    p.writel(VTdRegister.FEADDR_REG, 0xFEE0_0000)
    p.writel(VTdRegister.FECTL_REG, 0)
    #expect(p.unit.dmaRead(at: 1 << 39, count: 1, requester: Platform.edu) == nil)       // beyond the 39-bit AGAW
    #expect(p.readq(frcd + 32 + 8) >> 32 & 0xFF == 4)
    #expect(p.apics.messages == [APICInterruptMessage(vector: 0x41)])
    // FPD in the context entry: the fault is not recorded.
    p.map(sid: 0x28, iova: 0x1000, to: 0x50000, rw: 1, faultProcessingDisabled: true)
    #expect(!p.unit.dmaWrite([1], at: 0x1000, requester: 0x28))
    #expect(p.readq(frcd + 48 + 8) == 0)
}

@Test func intelIOMMUTableWalksStayInBoundsWhateverTheGuestWrites() {
    let p = Platform()
    // Tables pointing outside memory, at the top of the address space, with every bit set.
    for root: UInt64 in [0, 0xFFFF_FFFF_FFFF_F000, 0xF_FFF0] {
        p.writeq(VTdRegister.RTADDR_REG, root)
        p.command(VTdGlobal.rootTablePointer)
        p.command(VTdGlobal.translationEnable)
        for value: UInt64 in [~0, 0xFFFF_F001, 0x7FFF_FFFF_FFFF_F001] {
            p.memory.store(value, at: 0)
            p.memory.store(value, at: 8)
            for sid: UInt16 in [0, 0xFFFF] {
                _ = p.unit.dmaRead(at: .max - 2, count: 4096, requester: sid)
                _ = p.unit.dmaWrite([1, 2], at: .max, requester: sid)
            }
        }
    }
    #expect(p.unit.dmaRead(at: 0, count: -1, requester: 0) == nil)
    #expect(p.readl(VTdRegister.FSTS_REG) & 1 << 1 != 0)
}

@Test func intelIOMMUInvalidationQueueRunsWaitDescriptors() {
    let p = Platform()
    p.enableAll()
    #expect(p.readq(VTdRegister.IQH_REG) == 0)
    // Context-cache (global), IOTLB (global), IEC (global), then a wait with status write and IF.
    p.memory.store(1 | 1 << 4, at: Platform.queue)
    p.memory.store(2 | 1 << 4, at: Platform.queue + 16)
    p.memory.store(4, at: Platform.queue + 32)
    p.memory.store(5 | 1 << 5 | 1 << 4 | 0xCAFE_F00D << 32, at: Platform.queue + 48)
    p.memory.store(0x40000, at: Platform.queue + 56)
    p.writeq(VTdRegister.IQT_REG, 4 << 4)
    #expect(p.readq(VTdRegister.IQH_REG) == 4 << 4)
    #expect(p.memory.load(at: 0x40000, size: 4) == 0xCAFE_F00D)
    #expect(p.readl(VTdRegister.ICS_REG) == 1)
    #expect(p.readl(VTdRegister.IECTL_REG) == 1 << 31 | 1 << 30)                      // masked: IP set
    p.writel(VTdRegister.ICS_REG, 1)
    #expect(p.readl(VTdRegister.ICS_REG) == 0)
    // Unmasking the pending event sends it.
    p.writel(VTdRegister.IEDATA_REG, 0x42)
    p.writel(VTdRegister.IEADDR_REG, 0xFEE0_1000)
    p.writel(VTdRegister.IECTL_REG, 0)
    #expect(p.apics.messages == [APICInterruptMessage(vector: 0x42, destination: 1)])
    // An invalid descriptor (device-TLB: not supported) stops the queue at it with IQE.
    p.memory.store(3, at: Platform.queue + 64)
    p.writeq(VTdRegister.IQT_REG, 5 << 4)
    #expect(p.readq(VTdRegister.IQH_REG) == 4 << 4)
    #expect(p.readl(VTdRegister.FSTS_REG) & 1 << 4 != 0)
    // A tail beyond the queue is an error too, not an out-of-bounds read.
    p.writel(VTdRegister.FSTS_REG, 1 << 4)
    p.memory.store(5, at: Platform.queue + 64)
    p.writeq(VTdRegister.IQT_REG, 0x7FFF << 4)
    #expect(p.readl(VTdRegister.FSTS_REG) & 1 << 4 != 0)
}

@Test func intelIOMMURemapsMSIAndIOAPICInterrupts() {
    let p = Platform()
    p.enableAll()
    p.irte(1, vector: 0xEE, destination: 2, sid: Platform.edu)
    p.irte(300 % 256, vector: 0x31, destination: 0, sid: 0, verify: 0, level: true)
    // A remappable MSI with handle 1 (as kvm-unit-tests' vtd_setup_msi composes it).
    let msi: UInt64 = 0xFEE0_0000 | 1 << 5 | 1 << 4
    #expect(p.unit.deliverMSI(address: msi, data: 0, requester: Platform.edu))
    #expect(p.apics.messages.last == APICInterruptMessage(vector: 0xEE, destination: 2))
    // SHV: handle 0 plus subhandle 44.
    #expect(p.unit.remapInterrupt(address: 0xFEE0_0000 | 1 << 4 | 1 << 3, data: 44, requester: nil)
        == .message(APICInterruptMessage(vector: 0x31, levelTriggered: true)))
    // Source-id verification: another requester is refused (reason 0x26), and the fault names the index.
    #expect(!p.unit.deliverMSI(address: msi, data: 0, requester: 0x20))
    #expect(p.readq(VTdRegister.FRCD_REG) >> 48 == 1)
    #expect(p.readq(VTdRegister.FRCD_REG + 8) >> 32 & 0xFF == 0x26)
    // Not present (0x22), beyond the table (0x21), compatibility format blocked (0x25) unless CFIS.
    #expect(p.unit.remapInterrupt(address: 0xFEE0_0000 | 2 << 5 | 1 << 4, data: 0, requester: nil) == .fault(.interruptEntryNotPresent))
    #expect(p.unit.remapInterrupt(address: 0xFEE0_0000 | 256 << 5 | 1 << 4, data: 0, requester: nil) == .fault(.interruptIndexBeyondTable))
    #expect(p.unit.remapInterrupt(address: 0xFEE0_0000, data: 0x30, requester: nil) == .fault(.compatibilityFormatBlocked))
    p.command(VTdGlobal.compatibilityFormatInterrupt)
    #expect(p.unit.remapInterrupt(address: 0xFEE0_3000, data: 0x30, requester: nil) == .message(APICInterruptMessage(vector: 0x30, destination: 3)))
    // A posted-format IRTE is reserved here (no ECAP.PI).
    p.memory.store(1 | 1 << 15 | 0x50 << 16, at: Platform.irt + 5 * 16)
    #expect(p.unit.remapInterrupt(address: 0xFEE0_0000 | 5 << 5 | 1 << 4, data: 0, requester: nil) == .fault(.interruptEntryReserved))

    // Through an I/O APIC: a remappable-format RTE (bit 48, index in 63:49) reaches the IRTE.
    let ioapic = IOAPIC(sink: p.apics)
    ioapic.messageSink = p.unit
    ioapic.writeRegister(IOAPICRegister.redirectionLow(11), 0xED)
    ioapic.writeRegister(IOAPICRegister.redirectionHigh(11), 1 << 16 | 1 << 17)        // format 1, index 1
    p.irte(1, vector: 0xED, destination: 0, sid: Platform.edu)
    p.apics.messages.removeAll()
    ioapic.setPin(11, level: true)
    #expect(p.apics.messages == [APICInterruptMessage(vector: 0xED)])
}

// MARK: - edu

private final class DirectBus: BusMasterAccess {
    let memory = ArrayPhysicalMemory(size: 1 << 16)
    var msis: [(UInt64, UInt32, UInt16?)] = []
    var requesters: [UInt16] = []
    func dmaRead(at address: UInt64, count: Int, requester: UInt16) -> [UInt8]? {
        requesters.append(requester); return memory.readPhysical(at: address, count: count)
    }
    func dmaWrite(_ bytes: [UInt8], at address: UInt64, requester: UInt16) -> Bool {
        requesters.append(requester); return memory.writePhysical(bytes, at: address)
    }
    func deliverMSI(address: UInt64, data: UInt32, requester: UInt16?) -> Bool { msis.append((address, data, requester)); return true }
}

private func makeEdu() throws -> (EduDevice, DirectBus, RecordingInterruptLine) {
    let bus = DirectBus(), line = RecordingInterruptLine()
    let edu = EduDevice(address: try #require(PCIAddress(device: 3)), upstream: bus, intx: line, interruptLine: 11)
    return (edu, bus, line)
}

@Test func eduConfigurationSpaceIsQEMUs() throws {
    let (edu, _, _) = try makeEdu()
    #expect(edu.readConfiguration(register: 0) == 0x11E8_1234)
    #expect(edu.readConfiguration(register: 0x08) >> 8 == 0x00_FF00)                  // as QEMU: subclass FFh
    #expect(edu.readConfiguration(register: 0x3C) & 0xFFFF == 0x010B)                  // INTA#, line 11
    #expect(edu.readConfiguration(register: 0x34) & 0xFF == 0x40)
    #expect(edu.readConfiguration(register: 0x40) == 0x0080_0005)                      // MSI, 64-bit
    // BAR sizing: 1 MiB of 32-bit memory.
    edu.writeConfiguration(register: 0x10, value: ~0, byteEnables: 0xF)
    #expect(edu.readConfiguration(register: 0x10) == 0xFFF0_0000)
    var moves: [UInt64?] = []
    edu.barChanged = { moves.append($0) }
    edu.assignBAR(0xC000_0000)
    #expect(edu.barAddress == 0xC000_0000)
    #expect(moves == [0xC000_0000])
    edu.writeConfiguration(register: 0x04, value: 0, byteEnables: 3)                   // memory decoding off
    #expect(moves == [0xC000_0000, nil])
}

@Test func eduRegistersDMAAndInterrupts() throws {
    let (edu, bus, line) = try makeEdu()
    edu.assignBAR(0xC000_0000)
    #expect(edu.read(offset: 0, size: 4) == 0x0100_00ED)
    edu.write(offset: 4, size: 4, value: 0x1234_5678)
    #expect(edu.read(offset: 4, size: 4) == 0xEDCB_A987)
    edu.write(offset: 8, size: 4, value: 5)
    #expect(edu.read(offset: 8, size: 4) == 120)
    edu.write(offset: 8, size: 4, value: 0xFFFF_FFFF)                                  // ends at once, wraps to 0
    #expect(edu.read(offset: 8, size: 4) == 0)
    #expect(edu.read(offset: 0, size: 2) == 0xFFFF)
    // DMA needs bus mastering.
    bus.memory.store(0x1234_5678, at: 0x2000, size: 4)
    edu.write(offset: 0x80, size: 8, value: 0x2000)
    edu.write(offset: 0x88, size: 8, value: 0x40000)
    edu.write(offset: 0x90, size: 8, value: 4)
    edu.write(offset: 0x98, size: 4, value: 1)
    #expect(bus.requesters.isEmpty)
    edu.writeConfiguration(register: 0x04, value: 0x6, byteEnables: 3)
    edu.write(offset: 0x98, size: 4, value: 1)
    #expect(edu.read(offset: 0x98, size: 4) & 1 == 0)
    edu.write(offset: 0x80, size: 8, value: 0x40000)
    edu.write(offset: 0x88, size: 8, value: 0x2004)
    edu.write(offset: 0x98, size: 4, value: 3 | 4)                                     // to memory, then IRQ 100h
    #expect(bus.memory.load(at: 0x2004, size: 4) == 0x1234_5678)
    #expect(bus.requesters == [0x18, 0x18])
    #expect(edu.read(offset: 0x24, size: 4) == 0x100)
    #expect(line.level && line.risingEdges == 1)
    edu.write(offset: 0x64, size: 4, value: 0x100)
    #expect(!line.level)
    // Out-of-buffer or oversized transfers are dropped.
    edu.write(offset: 0x80, size: 8, value: 0x40FFF)
    edu.write(offset: 0x90, size: 8, value: 2)
    edu.write(offset: 0x98, size: 4, value: 3)
    edu.write(offset: 0x90, size: 8, value: .max)
    edu.write(offset: 0x98, size: 4, value: 1)
    #expect(bus.requesters.count == 2)
    // With MSI enabled the raise is a message with the device's source-id, and INTx stays low.
    edu.writeConfiguration(register: 0x44, value: 0xFEE0_0030, byteEnables: 0xF)
    edu.writeConfiguration(register: 0x4C, value: 0x77, byteEnables: 0xF)
    edu.writeConfiguration(register: 0x40, value: 1 << 16, byteEnables: 0x4)
    #expect(edu.msiEnabled)
    edu.write(offset: 0x60, size: 4, value: 1)
    #expect(bus.msis.count == 1 && bus.msis[0].0 == 0xFEE0_0030 && bus.msis[0].1 == 0x77 && bus.msis[0].2 == 0x18)
    #expect(!line.level)
}

@Test func pciConfigurationAddressLowBitsSelectTheByteAsInQEMU() throws {
    let host = PCIHost()
    let bus = Bus.portIO()
    try bus.map(host.addressPort, at: 0xCF8, length: 1)
    try bus.map(host.dataPort, at: 0xCFC, length: 4)
    // kvm-unit-tests' pci_config_readw(dev, 2): CONFIG_ADDRESS with register 2, a word from port 0xCFC.
    bus.write(address: 0xCF8, size: 4, value: 0x8000_0002)
    #expect(bus.read(address: 0xCFC, size: 2) == UInt64(I440FXHostBridge.deviceID))
    #expect(bus.read(address: 0xCF8, size: 4) == 0x8000_0000)
}
