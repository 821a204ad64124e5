// Intel VT-d DMA-remapping hardware unit (Intel Virtualization Technology for Directed I/O, Architecture
// Specification), as QEMU's intel-iommu with intremap=on, eim=off places it on Q35: registers at 0xFED90000.
//
// Modelled: legacy-mode DMA remapping (root table → context table → second-level page tables, 3-level /
// 39-bit AGAW, 2 MiB and 1 GiB superpages, pass-through contexts), primary fault logging with four fault
// recording registers and the fault event interrupt, register-based context-cache and IOTLB invalidation,
// the invalidation queue (context-cache, IOTLB, interrupt-entry-cache and wait descriptors, the wait's status
// write and invalidation completion interrupt), and interrupt remapping of xAPIC-mode IRTEs (remappable MSI
// and I/O APIC messages, source-id verification, compatibility-format blocking unless CFIS).
// Not modelled: scalable mode, first-level tables, device-TLBs, advanced fault logging, protected memory
// regions, posted interrupts, x2APIC-mode IRTEs (ECAP.EIM = 0), page-request queues. Nothing is cached:
// every request walks the tables in memory, so every invalidation completes at once.

/// The VT-d register offsets (VT-d spec 10.4).
public enum VTdRegister {
    /// Version.
    public static let VER_REG: UInt64 = 0x00
    /// Capability.
    public static let CAP_REG: UInt64 = 0x08
    /// Extended capability.
    public static let ECAP_REG: UInt64 = 0x10
    /// Global command.
    public static let GCMD_REG: UInt64 = 0x18
    /// Global status.
    public static let GSTS_REG: UInt64 = 0x1C
    /// Root table address.
    public static let RTADDR_REG: UInt64 = 0x20
    /// Context command.
    public static let CCMD_REG: UInt64 = 0x28
    /// Fault status.
    public static let FSTS_REG: UInt64 = 0x34
    /// Fault event control.
    public static let FECTL_REG: UInt64 = 0x38
    /// Fault event data.
    public static let FEDATA_REG: UInt64 = 0x3C
    /// Fault event address.
    public static let FEADDR_REG: UInt64 = 0x40
    /// Fault event upper address.
    public static let FEUADDR_REG: UInt64 = 0x44
    /// Invalidation queue head.
    public static let IQH_REG: UInt64 = 0x80
    /// Invalidation queue tail.
    public static let IQT_REG: UInt64 = 0x88
    /// Invalidation queue address.
    public static let IQA_REG: UInt64 = 0x90
    /// Invalidation completion status.
    public static let ICS_REG: UInt64 = 0x9C
    /// Invalidation event control.
    public static let IECTL_REG: UInt64 = 0xA0
    /// Invalidation event data.
    public static let IEDATA_REG: UInt64 = 0xA4
    /// Invalidation event address.
    public static let IEADDR_REG: UInt64 = 0xA8
    /// Invalidation event upper address.
    public static let IEUADDR_REG: UInt64 = 0xAC
    /// Interrupt remapping table address.
    public static let IRTA_REG: UInt64 = 0xB8
    /// IVA_REG: at ECAP.IRO × 16.
    public static let IVA_REG: UInt64 = 0xF0
    /// IOTLB_REG: IVA_REG + 8.
    public static let IOTLB_REG: UInt64 = 0xF8
    /// The first fault recording register: at CAP.FRO × 16.
    public static let FRCD_REG: UInt64 = 0x200
}

/// GCMD_REG / GSTS_REG bits (VT-d spec 10.4.4, 10.4.5).
public enum VTdGlobal {
    /// TE / TES: translation enable.
    public static let translationEnable: UInt32 = 1 << 31
    /// SRTP / RTPS: set root table pointer.
    public static let rootTablePointer: UInt32 = 1 << 30
    /// SFL / FLS: set fault log.
    public static let faultLog: UInt32 = 1 << 29
    /// EAFL / AFLS: advanced fault logging.
    public static let advancedFaultLog: UInt32 = 1 << 28
    /// WBF / WBFS: write buffer flush.
    public static let writeBufferFlush: UInt32 = 1 << 27
    /// QIE / QIES: queued invalidation enable.
    public static let queuedInvalidation: UInt32 = 1 << 26
    /// IRE / IRES: interrupt remapping enable.
    public static let interruptRemapping: UInt32 = 1 << 25
    /// SIRTP / IRTPS: set interrupt remap table pointer.
    public static let interruptRemapTablePointer: UInt32 = 1 << 24
    /// CFI / CFIS: compatibility format interrupt (pass through unremapped while remapping is on).
    public static let compatibilityFormatInterrupt: UInt32 = 1 << 23
}

/// Fault reasons (VT-d spec appendix A; legacy mode).
public enum VTdFaultReason: UInt8, Sendable {
    case rootEntryNotPresent = 0x1
    case contextEntryNotPresent = 0x2
    case contextEntryInvalid = 0x3
    case addressBeyondAGAW = 0x4
    case writeNotPermitted = 0x5
    case readNotPermitted = 0x6
    case pageTableAddressInvalid = 0x7
    case rootTableAddressInvalid = 0x8
    case contextTableAddressInvalid = 0x9
    case rootEntryReserved = 0xA
    case contextEntryReserved = 0xB
    case pageTableEntryReserved = 0xC
    case interruptReservedField = 0x20
    case interruptIndexBeyondTable = 0x21
    case interruptEntryNotPresent = 0x22
    case interruptTableAddressInvalid = 0x23
    case interruptEntryReserved = 0x24
    case compatibilityFormatBlocked = 0x25
    case interruptSourceIDInvalid = 0x26
}

/// One primary fault record (FRCD_REG, VT-d spec 10.4.14).
public struct VTdFaultRecord: Hashable, Codable, Sendable {
    /// FI: the faulting page address (DMA) or the interrupt index in bits 63:48 (interrupt requests).
    public var faultInfo: UInt64
    /// SID: the requester.
    public var sourceID: UInt16
    /// FR: the reason.
    public var reason: UInt8
    /// T: true for a read request (or an interrupt request), false for a write.
    public var read: Bool

    /// The 128-bit register with F set: (low, high).
    var raw: (UInt64, UInt64) {
        (faultInfo & ~0xFFF, UInt64(sourceID) | UInt64(reason) << 32 | (read ? 1 << 62 : 0) | 1 << 63)
    }
}

/// One interrupt-event register group (VT-d spec 10.4.9–10.4.12 for fault events, 10.4.25–10.4.28 for
/// invalidation events): control (IM, bit 31; IP, bit 30), data, address and upper address, at four
/// consecutive DWORDs. The fault event and the invalidation event behave alike.
public struct VTdEventRegisters: Hashable, Codable, Sendable {
    /// FECTL / IECTL: IM (bit 31) set at reset, IP (bit 30) set while an event waits behind IM.
    public var control: UInt32 = 1 << 31
    /// FEDATA / IEDATA.
    public var data: UInt32 = 0
    /// FEADDR / IEADDR (bits 1:0 are zero).
    public var address: UInt32 = 0
    /// FEUADDR / IEUADDR.
    public var upperAddress: UInt32 = 0

    static let interruptMask: UInt32 = 1 << 31
    static let interruptPending: UInt32 = 1 << 30

    /// The register at DWORD `index` (0 control, 1 data, 2 address, 3 upper address).
    func read(_ index: UInt64) -> UInt32 {
        switch index {
        case 0: return control
        case 1: return data
        case 2: return address
        default: return upperAddress
        }
    }

    /// Writes the register at DWORD `index`; returns true when the write unmasked a pending event, which
    /// must now be sent (IP clears).
    mutating func write(_ index: UInt64, _ value: UInt32) -> Bool {
        switch index {
        case 0:
            control = (control & ~Self.interruptMask) | (value & Self.interruptMask)
            guard value & Self.interruptMask == 0 && control & Self.interruptPending != 0 else { return false }
            control &= ~Self.interruptPending
            return true
        case 1: data = value
        case 2: address = value & ~3
        default: upperAddress = value
        }
        return false
    }

    /// An event: returns true when it must be sent now, or sets IP and returns false while IM masks it.
    mutating func raise() -> Bool {
        if control & Self.interruptMask != 0 {
            control |= Self.interruptPending
            return false
        }
        return true
    }

    /// The interrupt message the group describes (compatibility format).
    var message: APICInterruptMessage? {
        CompatibilityInterruptMessage.decode(address: UInt64(upperAddress) << 32 | UInt64(address), data: data)
    }
}

/// The complete register state of the remapping unit: comparable, serializable.
public struct IntelIOMMUState: Hashable, Codable, Sendable {
    /// GSTS_REG.
    public var globalStatus: UInt32 = 0
    /// RTADDR_REG as last written.
    public var rootTableAddressRegister: UInt64 = 0
    /// The root table address latched by SRTP.
    public var rootTable: UInt64 = 0
    /// CCMD_REG.
    public var contextCommand: UInt64 = 0
    /// FSTS_REG.
    public var faultStatus: UInt32 = 0
    /// FECTL_REG, FEDATA_REG, FEADDR_REG, FEUADDR_REG.
    public var faultEvent = VTdEventRegisters()
    /// The fault recording registers (nil: F clear).
    public var faultRecords: [VTdFaultRecord?] = Array(repeating: nil, count: IntelIOMMU.faultRecordCount)
    /// Where the next fault is recorded.
    public var nextFaultRecord = 0
    /// IQH_REG.
    public var invalidationQueueHead: UInt64 = 0
    /// IQT_REG.
    public var invalidationQueueTail: UInt64 = 0
    /// IQA_REG.
    public var invalidationQueueAddress: UInt64 = 0
    /// ICS_REG.
    public var invalidationCompletionStatus: UInt32 = 0
    /// IECTL_REG, IEDATA_REG, IEADDR_REG, IEUADDR_REG.
    public var invalidationEvent = VTdEventRegisters()
    /// IRTA_REG as last written.
    public var interruptRemapTableAddressRegister: UInt64 = 0
    /// The interrupt remap table address and size latched by SIRTP.
    public var interruptRemapTable: UInt64 = 0
    /// IVA_REG.
    public var invalidateAddress: UInt64 = 0
    /// IOTLB_REG.
    public var iotlbCommand: UInt64 = 0
    /// Counts of what the guest asked for (invalidation descriptors processed, interrupts remapped, faults).
    public var descriptorsProcessed: UInt64 = 0
    /// Interrupt requests remapped.
    public var interruptsRemapped: UInt64 = 0
    /// Faults recorded.
    public var faultsRecorded: UInt64 = 0

    /// The reset state.
    public init() {}
}

/// The remapping unit. Map it on the MMIO bus at `IntelIOMMU.baseAddress` (length 0x1000); give the PCI
/// devices behind it the unit as their `BusMasterAccess`, and the I/O APIC as its message sink.
///
/// Registers take 32- and 64-bit accesses (a 64-bit access acts as the low then the high DWORD); other sizes
/// read 0 and are ignored.
public final class IntelIOMMU: Device, BusMasterAccess {
    /// Where Q35 (and QEMU) put the unit.
    public static let baseAddress: UInt64 = 0xFED9_0000
    /// Fault recording registers (CAP.NFR + 1).
    public static let faultRecordCount = 4
    /// VER_REG: version 1.0.
    public static let version: UInt32 = 0x10
    /// Adjusted guest address width: 39 bits, 3-level tables (the only SAGAW bit set).
    public static let addressWidth = 39
    /// CAP_REG: ND = 6 (65536 domains), SAGAW = 39-bit, MGAW = 38, FRO, SLLPS = 2 MiB and 1 GiB, PSI,
    /// NFR, MAMV = 9, DWD, DRD.
    public static let capability: UInt64 = 6 | 0b00010 << 8 | UInt64(addressWidth - 1) << 16
        | (VTdRegister.FRCD_REG / 16) << 24 | 0b11 << 34 | 1 << 39 | UInt64(faultRecordCount - 1) << 40
        | 9 << 48 | 1 << 54 | 1 << 55
    /// ECAP_REG: C, QI, IR, PT, IRO, MHMV = 15 (EIM clear: xAPIC-mode IRTEs only).
    public static let extendedCapability: UInt64 = 1 << 0 | 1 << 1 | 1 << 3 | 1 << 6
        | (VTdRegister.IVA_REG / 16) << 8 | 0xF << 20

    /// The register state.
    @exclusivity(unchecked) public internal(set) var state = IntelIOMMUState()
    let physicalMemory: any PhysicalMemoryAccess
    let apicSink: any APICInterruptSink

    /// Creates the unit in its reset state, walking tables in `memory` and delivering interrupts to `apics`.
    public init(memory: any PhysicalMemoryAccess, apics: any APICInterruptSink) {
        physicalMemory = memory
        apicSink = apics
    }

    /// Replaces the state (restoring a snapshot); a fault record array of the wrong length is reset.
    public func restore(_ state: IntelIOMMUState) {
        self.state = state
        if state.faultRecords.count != Self.faultRecordCount {
            self.state.faultRecords = Array(repeating: nil, count: Self.faultRecordCount)
        }
        self.state.nextFaultRecord = min(max(state.nextFaultRecord, 0), Self.faultRecordCount - 1)
    }

    func isSet(_ bit: UInt32) -> Bool { state.globalStatus & bit != 0 }

    // MARK: MMIO

    public func read(offset: UInt64, size: Int) -> UInt64 {
        switch size {
        case 4 where offset & 3 == 0: return UInt64(readDword(offset))
        case 8 where offset & 7 == 0: return UInt64(readDword(offset)) | UInt64(readDword(offset &+ 4)) << 32
        default: return 0
        }
    }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        switch size {
        case 4 where offset & 3 == 0: writeDword(offset, UInt32(truncatingIfNeeded: value))
        case 8 where offset & 7 == 0:
            writeDword(offset, UInt32(truncatingIfNeeded: value))
            writeDword(offset &+ 4, UInt32(truncatingIfNeeded: value >> 32))
        default: break
        }
    }

    private static func low(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v) }
    private static func high(_ v: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: v >> 32) }
    private static func replacing(_ old: UInt64, dword value: UInt32, high: Bool) -> UInt64 {
        high ? (old & 0xFFFF_FFFF) | UInt64(value) << 32 : (old & ~0xFFFF_FFFF) | UInt64(value)
    }

    /// Reads the DWORD at `offset` (0 where there is no register).
    public func readDword(_ offset: UInt64) -> UInt32 {
        typealias R = VTdRegister
        switch offset {
        case R.VER_REG: return Self.version
        case R.CAP_REG: return Self.low(Self.capability)
        case R.CAP_REG + 4: return Self.high(Self.capability)
        case R.ECAP_REG: return Self.low(Self.extendedCapability)
        case R.ECAP_REG + 4: return Self.high(Self.extendedCapability)
        case R.GSTS_REG: return state.globalStatus
        case R.RTADDR_REG: return Self.low(state.rootTableAddressRegister)
        case R.RTADDR_REG + 4: return Self.high(state.rootTableAddressRegister)
        case R.CCMD_REG: return Self.low(state.contextCommand)
        case R.CCMD_REG + 4: return Self.high(state.contextCommand)
        case R.FSTS_REG: return faultStatus
        case R.FECTL_REG, R.FEDATA_REG, R.FEADDR_REG, R.FEUADDR_REG:
            return state.faultEvent.read((offset - R.FECTL_REG) / 4)
        case R.IQH_REG: return Self.low(state.invalidationQueueHead)
        case R.IQT_REG: return Self.low(state.invalidationQueueTail)
        case R.IQA_REG: return Self.low(state.invalidationQueueAddress)
        case R.IQA_REG + 4: return Self.high(state.invalidationQueueAddress)
        case R.ICS_REG: return state.invalidationCompletionStatus
        case R.IECTL_REG, R.IEDATA_REG, R.IEADDR_REG, R.IEUADDR_REG:
            return state.invalidationEvent.read((offset - R.IECTL_REG) / 4)
        case R.IRTA_REG: return Self.low(state.interruptRemapTableAddressRegister)
        case R.IRTA_REG + 4: return Self.high(state.interruptRemapTableAddressRegister)
        case R.IVA_REG: return Self.low(state.invalidateAddress)
        case R.IVA_REG + 4: return Self.high(state.invalidateAddress)
        case R.IOTLB_REG: return Self.low(state.iotlbCommand)
        case R.IOTLB_REG + 4: return Self.high(state.iotlbCommand)
        case R.FRCD_REG..<(R.FRCD_REG + 16 * UInt64(Self.faultRecordCount)):
            let index = Int((offset - R.FRCD_REG) / 16)
            guard state.faultRecords.indices.contains(index), let record = state.faultRecords[index] else { return 0 }
            let (lo, hi) = record.raw
            switch (offset - R.FRCD_REG) % 16 {
            case 0: return Self.low(lo)
            case 4: return Self.high(lo)
            case 8: return Self.low(hi)
            default: return Self.high(hi)
            }
        default: return 0      // GCMD_REG reads 0; reserved and unsupported registers read 0
        }
    }

    /// FSTS_REG: PFO and the queue errors as stored, PPF and FRI from the fault records.
    private var faultStatus: UInt32 {
        var value = state.faultStatus & 0x7D
        if let first = state.faultRecords.firstIndex(where: { $0 != nil }) {
            value |= 1 << 1 | UInt32(first) << 8
        }
        return value
    }

    /// Writes the DWORD at `offset`; read-only registers and bits ignore it.
    public func writeDword(_ offset: UInt64, _ value: UInt32) {
        typealias R = VTdRegister
        switch offset {
        case R.GCMD_REG: globalCommand(value)
        case R.RTADDR_REG: state.rootTableAddressRegister = Self.replacing(state.rootTableAddressRegister, dword: value & ~0x3FF, high: false)
        case R.RTADDR_REG + 4: state.rootTableAddressRegister = Self.replacing(state.rootTableAddressRegister, dword: value, high: true)
        case R.CCMD_REG: state.contextCommand = Self.replacing(state.contextCommand, dword: value, high: false)
        case R.CCMD_REG + 4:
            state.contextCommand = Self.replacing(state.contextCommand, dword: value, high: true)
            if state.contextCommand & 1 << 63 != 0 {
                // ICC: the invalidation completes at once with the granularity asked for (CAIG = CIRG).
                let requested = (state.contextCommand >> 61) & 3
                state.contextCommand = state.contextCommand & ~(1 << 63 | 3 << 59) | requested << 59
            }
        case R.FSTS_REG:
            state.faultStatus &= ~(value & 0x7D)         // PFO, AFO, APF, IQE, ICE, ITE: write 1 to clear
            clearFaultEventIfServiced()
        case R.FECTL_REG, R.FEDATA_REG, R.FEADDR_REG, R.FEUADDR_REG:
            if state.faultEvent.write((offset - R.FECTL_REG) / 4, value) { send(state.faultEvent) }
        case R.IQT_REG:
            state.invalidationQueueTail = UInt64(value & 0x7FFF0)
            processInvalidationQueue()
        case R.IQA_REG: state.invalidationQueueAddress = Self.replacing(state.invalidationQueueAddress, dword: value & 0xFFFF_F007, high: false)
        case R.IQA_REG + 4: state.invalidationQueueAddress = Self.replacing(state.invalidationQueueAddress, dword: value, high: true)
        case R.ICS_REG: state.invalidationCompletionStatus &= ~(value & 1)
        case R.IECTL_REG, R.IEDATA_REG, R.IEADDR_REG, R.IEUADDR_REG:
            if state.invalidationEvent.write((offset - R.IECTL_REG) / 4, value) { send(state.invalidationEvent) }
        case R.IRTA_REG:
            // Bits 3:0 S, bits 63:12 the table; EIME (bit 11) is reserved without ECAP.EIM.
            state.interruptRemapTableAddressRegister = Self.replacing(state.interruptRemapTableAddressRegister,
                                                                      dword: value & 0xFFFF_F00F, high: false)
        case R.IRTA_REG + 4:
            state.interruptRemapTableAddressRegister = Self.replacing(state.interruptRemapTableAddressRegister, dword: value, high: true)
        case R.IVA_REG: state.invalidateAddress = Self.replacing(state.invalidateAddress, dword: value & 0xFFFF_F07F, high: false)
        case R.IVA_REG + 4: state.invalidateAddress = Self.replacing(state.invalidateAddress, dword: value, high: true)
        case R.IOTLB_REG: state.iotlbCommand = Self.replacing(state.iotlbCommand, dword: value, high: false)
        case R.IOTLB_REG + 4:
            state.iotlbCommand = Self.replacing(state.iotlbCommand, dword: value, high: true)
            if state.iotlbCommand & 1 << 63 != 0 {
                // IVT: completes at once; IAIG = IIRG.
                let requested = (state.iotlbCommand >> 60) & 3
                state.iotlbCommand = state.iotlbCommand & ~(1 << 63 | 3 << 57) | requested << 57
            }
        case R.FRCD_REG..<(R.FRCD_REG + 16 * UInt64(Self.faultRecordCount)):
            // F (bit 127) is write 1 to clear; the rest of the record is read only.
            let index = Int((offset - R.FRCD_REG) / 16)
            if (offset - R.FRCD_REG) % 16 == 12, value & 1 << 31 != 0, state.faultRecords.indices.contains(index) {
                state.faultRecords[index] = nil
                clearFaultEventIfServiced()
            }
        default: break
        }
    }

    /// GCMD_REG: software writes the status it wants with at most one command bit changed.
    private func globalCommand(_ value: UInt32) {
        typealias G = VTdGlobal
        func setStatus(_ bit: UInt32, _ on: Bool) {
            if on { state.globalStatus |= bit } else { state.globalStatus &= ~bit }
        }
        if value & G.rootTablePointer != 0 {
            state.rootTable = state.rootTableAddressRegister & ~0xFFF
            setStatus(G.rootTablePointer, true)
        }
        if value & G.interruptRemapTablePointer != 0 {
            state.interruptRemapTable = state.interruptRemapTableAddressRegister & ~0x7F0
            setStatus(G.interruptRemapTablePointer, true)
        }
        setStatus(G.translationEnable, value & G.translationEnable != 0)
        let queued = value & G.queuedInvalidation != 0
        if queued && !isSet(G.queuedInvalidation) { state.invalidationQueueHead = 0 }
        setStatus(G.queuedInvalidation, queued)
        setStatus(G.interruptRemapping, value & G.interruptRemapping != 0)
        setStatus(G.compatibilityFormatInterrupt, value & G.compatibilityFormatInterrupt != 0)
        // SFL, EAFL and WBF: no advanced fault log (CAP.AFL = 0) and no write buffer (CAP.RWBF = 0).
    }

    // MARK: Faults

    /// Records a primary fault unless the faulting entry disabled fault processing (FPD), then signals it.
    func recordFault(_ record: VTdFaultRecord, disabled: Bool) {
        guard !disabled else { return }
        state.faultsRecorded &+= 1
        guard state.faultStatus & 1 == 0 else { return }          // PFO: logging stopped until cleared
        let index = state.nextFaultRecord
        guard state.faultRecords.indices.contains(index) else { return }
        let wasPending = state.faultRecords.contains { $0 != nil }
        if state.faultRecords[index] != nil {
            state.faultStatus |= 1                                   // overflow: no free record
        } else {
            state.faultRecords[index] = record
            state.nextFaultRecord = (index + 1) % Self.faultRecordCount
        }
        if !wasPending || state.faultStatus & 1 != 0 { faultEvent() }
    }

    /// FECTL.IP falls once software has serviced every fault condition (VT-d spec 7.3.1): no record with F,
    /// and PFO, IQE, ICE and ITE clear.
    private func clearFaultEventIfServiced() {
        if faultStatus & 0x73 == 0 { state.faultEvent.control &= ~VTdEventRegisters.interruptPending }
    }

    /// A fault event: the interrupt, or IP if masked.
    func faultEvent() {
        if state.faultEvent.raise() { send(state.faultEvent) }
    }

    /// An invalidation completion event: the interrupt, or IP if masked.
    func invalidationEvent() {
        if state.invalidationEvent.raise() { send(state.invalidationEvent) }
    }

    /// Sends the interrupt an event register group describes.
    private func send(_ event: VTdEventRegisters) {
        if let message = event.message { _ = apicSink.deliver(message) }
    }

    // MARK: DMA remapping

    /// Reads a little-endian QWORD of the tables in memory; nil outside RAM.
    func loadQword(_ address: UInt64) -> UInt64? {
        guard let bytes = physicalMemory.readPhysical(at: address, count: 8), bytes.count == 8 else { return nil }
        return bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// The result of translating one request.
    public enum Translation: Equatable, Sendable {
        /// The host (guest-physical) address, and how many bytes from it the same translation covers.
        case address(UInt64, span: UInt64)
        /// The request faulted.
        case fault(VTdFaultReason)
    }

    /// Translates bus address `address` of a request by `requester` (write or read), recording a fault if it
    /// fails (VT-d spec 3.4 legacy mode, 3.7 second-level translation).
    public func translate(_ address: UInt64, requester: UInt16, write: Bool) -> Translation {
        guard isSet(VTdGlobal.translationEnable) else { return .address(address, span: 0x1000 - (address & 0xFFF)) }
        var fpd = false
        let result = walk(address, requester: requester, write: write, faultProcessingDisabled: &fpd)
        if case let .fault(reason) = result {
            recordFault(VTdFaultRecord(faultInfo: address, sourceID: requester, reason: reason.rawValue, read: !write),
                        disabled: fpd)
        }
        return result
    }

    private func walk(_ address: UInt64, requester: UInt16, write: Bool, faultProcessingDisabled fpd: inout Bool) -> Translation {
        let bus = UInt64(requester >> 8), devfn = UInt64(requester & 0xFF)
        guard let rootLow = loadQword(state.rootTable &+ bus * 16), let rootHigh = loadQword(state.rootTable &+ bus * 16 &+ 8) else {
            return .fault(.rootTableAddressInvalid)
        }
        guard rootLow & 1 != 0 else { return .fault(.rootEntryNotPresent) }
        guard rootLow & 0xFFE == 0, rootHigh == 0, rootLow >> Self.addressWidth == 0 else { return .fault(.rootEntryReserved) }
        let contextTable = rootLow & ~0xFFF
        guard let contextLow = loadQword(contextTable &+ devfn * 16), let contextHigh = loadQword(contextTable &+ devfn * 16 &+ 8) else {
            return .fault(.contextTableAddressInvalid)
        }
        guard contextLow & 1 != 0 else { return .fault(.contextEntryNotPresent) }
        fpd = contextLow & 2 != 0
        // Reserved: low bits 11:4 and above the host address width; high bits 6:3 are AVAIL (ignored), 7 and
        // 63:24 reserved.
        guard contextLow & 0xFF0 == 0, contextLow >> Self.addressWidth == 0, contextHigh & 0xFFFF_FFFF_FF00_0080 == 0 else {
            return .fault(.contextEntryReserved)
        }
        switch (contextLow >> 2) & 3 {
        case 0: break                                                       // second-level translation
        case 2: return .address(address, span: 0x1000 - (address & 0xFFF))  // pass-through (ECAP.PT)
        default: return .fault(.contextEntryInvalid)                        // device-TLBs: ECAP.DT = 0
        }
        guard contextHigh & 7 == 1 else { return .fault(.contextEntryInvalid) }   // AW: only 39-bit (SAGAW)
        guard address >> Self.addressWidth == 0 else { return .fault(.addressBeyondAGAW) }
        var table = contextLow & ~0xFFF
        var level = 3
        while true {
            let shift = UInt64(12 + 9 * (level - 1))
            let index = (address >> shift) & 0x1FF
            guard let entry = loadQword(table &+ index * 8) else { return .fault(.pageTableAddressInvalid) }
            let readable = entry & 1 != 0, writable = entry & 2 != 0
            guard readable || writable else { return .fault(write ? .writeNotPermitted : .readNotPermitted) }
            // Reserved: address bits above the host address width (51:39); PS at level 1 is ignored.
            guard (entry >> Self.addressWidth) & 0x1FFF == 0 else { return .fault(.pageTableEntryReserved) }
            let superpage = entry & 1 << 7 != 0 && level > 1
            if level == 1 || superpage {
                guard write ? writable : readable else { return .fault(write ? .writeNotPermitted : .readNotPermitted) }
                let size: UInt64 = 1 << shift
                let frame = entry & ((1 << UInt64(Self.addressWidth)) - 1) & ~(size - 1)
                let offset = address & (size - 1)
                return .address(frame | offset, span: size - offset)
            }
            table = entry & ((1 << UInt64(Self.addressWidth)) - 1) & ~0xFFF
            level -= 1
        }
    }

    public func dmaRead(at address: UInt64, count: Int, requester: UInt16) -> [UInt8]? {
        guard count >= 0 else { return nil }
        var result: [UInt8] = []
        result.reserveCapacity(count)
        var done = 0
        while done < count {
            guard case let .address(host, span) = translate(address &+ UInt64(done), requester: requester, write: false) else { return nil }
            let chunk = Int(min(UInt64(count - done), span, 0x1000))
            guard let bytes = physicalMemory.readPhysical(at: host, count: chunk) else { return nil }
            result += bytes
            done += chunk
        }
        return result
    }

    public func dmaWrite(_ bytes: [UInt8], at address: UInt64, requester: UInt16) -> Bool {
        // Translate every page first, so a fault part way writes nothing.
        var pieces: [(host: UInt64, range: Range<Int>)] = []
        var done = 0
        while done < bytes.count {
            guard case let .address(host, span) = translate(address &+ UInt64(done), requester: requester, write: true) else { return false }
            let chunk = Int(min(UInt64(bytes.count - done), span, 0x1000))
            pieces.append((host, done..<done + chunk))
            done += chunk
        }
        var ok = true
        for piece in pieces where !physicalMemory.writePhysical(Array(bytes[piece.range]), at: piece.host) { ok = false }
        return ok
    }
}
