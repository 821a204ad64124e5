// The local APIC (Intel SDM Vol. 3A chapter 11 "Advanced Programmable
// Interrupt Controller") in xAPIC mode. Its registers fill the 4 KiB page at
// IA32_APIC_BASE (0xFEE00000 by default); the device sees only the offset
// inside that page. It accepts fixed interrupts into IRR/TMR, prioritizes them
// against TPR/ISR (PPR), hands the VMM the vector to inject (the INTA cycle),
// retires them on EOI (reporting level-triggered EOIs to the I/O APIC), runs
// the APIC timer (one-shot, periodic, TSC-deadline), sends self-IPIs through
// the ICR and logs errors in the ESR. Time is injected (STYLE point 8): the
// timer is a function of guest time, and `advance(to:)` raises the timer
// interrupt at its exact deadline.

// MARK: - Register offsets and fields

/// The offset of a local APIC register inside its 4 KiB xAPIC page
/// (SDM Vol. 3A Table 11-1, "Local APIC Register Address Map"). Every register
/// is 32 bits wide at a 16-byte-aligned offset.
public struct LocalAPICRegister: RawRepresentable, Hashable, Codable, Sendable {
    /// The offset inside the page.
    public var rawValue: UInt64
    /// Names the register at `rawValue`.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Local APIC ID register, ID in bits 31:24 (SDM 11.4.6).
    public static let id = LocalAPICRegister(rawValue: 0x020)
    /// Local APIC version register: version, max LVT entry (SDM 11.4.8). Read only.
    public static let version = LocalAPICRegister(rawValue: 0x030)
    /// Task-priority register, TPR (SDM 11.8.3.1).
    public static let taskPriority = LocalAPICRegister(rawValue: 0x080)
    /// Arbitration-priority register, APR (SDM Table 11-1, P6-family definition). Read only.
    public static let arbitrationPriority = LocalAPICRegister(rawValue: 0x090)
    /// Processor-priority register, PPR (SDM 11.8.3.1). Read only.
    public static let processorPriority = LocalAPICRegister(rawValue: 0x0A0)
    /// EOI register (SDM 11.8.5). Write only; reads as 0.
    public static let endOfInterrupt = LocalAPICRegister(rawValue: 0x0B0)
    /// Remote read register, RRD (SDM Table 11-1). Read only; reads as 0 here.
    public static let remoteRead = LocalAPICRegister(rawValue: 0x0C0)
    /// Logical destination register, LDR, logical ID in bits 31:24 (SDM 11.6.2.2).
    public static let logicalDestination = LocalAPICRegister(rawValue: 0x0D0)
    /// Destination format register, DFR, model in bits 31:28 (SDM 11.6.2.2).
    public static let destinationFormat = LocalAPICRegister(rawValue: 0x0E0)
    /// Spurious-interrupt vector register, SVR, with the software-enable bit 8 (SDM 11.9).
    public static let spuriousInterruptVector = LocalAPICRegister(rawValue: 0x0F0)
    /// Error status register, ESR (SDM 11.5.3).
    public static let errorStatus = LocalAPICRegister(rawValue: 0x280)
    /// LVT corrected machine-check interrupt (CMCI) register (SDM 11.5.1).
    public static let lvtCMCI = LocalAPICRegister(rawValue: 0x2F0)
    /// Interrupt command register, bits 31:0 (SDM 11.6.1). Writing it sends the IPI.
    public static let interruptCommandLow = LocalAPICRegister(rawValue: 0x300)
    /// Interrupt command register, bits 63:32: destination in bits 31:24 (SDM 11.6.1).
    public static let interruptCommandHigh = LocalAPICRegister(rawValue: 0x310)
    /// LVT timer register (SDM 11.5.1, 11.5.4).
    public static let lvtTimer = LocalAPICRegister(rawValue: 0x320)
    /// LVT thermal sensor register (SDM 11.5.1).
    public static let lvtThermalSensor = LocalAPICRegister(rawValue: 0x330)
    /// LVT performance monitoring counters register (SDM 11.5.1).
    public static let lvtPerformanceCounter = LocalAPICRegister(rawValue: 0x340)
    /// LVT LINT0 register (SDM 11.5.1).
    public static let lvtLINT0 = LocalAPICRegister(rawValue: 0x350)
    /// LVT LINT1 register (SDM 11.5.1).
    public static let lvtLINT1 = LocalAPICRegister(rawValue: 0x360)
    /// LVT error register (SDM 11.5.1, 11.5.3).
    public static let lvtError = LocalAPICRegister(rawValue: 0x370)
    /// Timer initial-count register (SDM 11.5.4).
    public static let initialCount = LocalAPICRegister(rawValue: 0x380)
    /// Timer current-count register (SDM 11.5.4). Read only.
    public static let currentCount = LocalAPICRegister(rawValue: 0x390)
    /// Timer divide-configuration register (SDM 11.5.4, Figure 11-10).
    public static let divideConfiguration = LocalAPICRegister(rawValue: 0x3E0)

    /// In-service register `index` (0–7, wrapping), vectors 32·index to 32·index+31 (SDM 11.8.4).
    public static func inService(_ index: Int) -> LocalAPICRegister {
        LocalAPICRegister(rawValue: 0x100 + UInt64(index & 7) << 4)
    }
    /// Trigger-mode register `index` (0–7, wrapping), vectors 32·index to 32·index+31 (SDM 11.8.4).
    public static func triggerMode(_ index: Int) -> LocalAPICRegister {
        LocalAPICRegister(rawValue: 0x180 + UInt64(index & 7) << 4)
    }
    /// Interrupt request register `index` (0–7, wrapping), vectors 32·index to 32·index+31 (SDM 11.8.4).
    public static func interruptRequest(_ index: Int) -> LocalAPICRegister {
        LocalAPICRegister(rawValue: 0x200 + UInt64(index & 7) << 4)
    }
}

/// The delivery mode field (3 bits) of an LVT entry, the ICR, an interrupt
/// message or an I/O APIC redirection entry (SDM 11.5.1, 11.6.1; 82093AA 3.2.4).
public enum APICDeliveryMode: UInt8, Equatable, Codable, Sendable {
    /// 000b Fixed: deliver the vector.
    case fixed = 0
    /// 001b Lowest priority: deliver the vector to the lowest-priority processor of the destination.
    case lowestPriority = 1
    /// 010b SMI.
    case smi = 2
    /// 011b Reserved.
    case reserved3 = 3
    /// 100b NMI.
    case nmi = 4
    /// 101b INIT.
    case initialization = 5
    /// 110b Start-up (SIPI) in the ICR; reserved elsewhere.
    case startup = 6
    /// 111b ExtINT: the vector comes from an external 8259A-compatible controller.
    case extINT = 7

    /// Decodes the low three bits of `field`.
    public init(field: UInt64) {
        switch field & 7 {
        case 0: self = .fixed
        case 1: self = .lowestPriority
        case 2: self = .smi
        case 3: self = .reserved3
        case 4: self = .nmi
        case 5: self = .initialization
        case 6: self = .startup
        default: self = .extINT
        }
    }
}

/// The timer mode of the LVT timer register, bits 18:17 (SDM 11.5.4, Table 11-2).
public enum LocalAPICTimerMode: UInt8, Equatable, Codable, Sendable {
    /// 00b: count down once from the initial count.
    case oneShot = 0
    /// 01b: count down, reload the initial count, repeat.
    case periodic = 1
    /// 10b: fire when the TSC reaches IA32_TSC_DEADLINE (SDM 11.5.4.1).
    case tscDeadline = 2
}

/// A local vector table entry (SDM 11.5.1, Figure 11-8). Not every field
/// exists in every LVT register; the register's write mask keeps the others 0.
public struct LocalVectorTableEntry: RawRepresentable, Hashable, Codable, Sendable {
    /// The register value.
    public var rawValue: UInt32
    /// Wraps a register value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Bit 12: delivery status (always 0 here: delivery is instantaneous).
    public static let deliveryStatusBit: UInt32 = 1 << 12
    /// Bit 13: interrupt input pin polarity, 1 = active low (LINT0/LINT1).
    public static let polarityBit: UInt32 = 1 << 13
    /// Bit 14: remote IRR (LINT0/LINT1, read only).
    public static let remoteIRRBit: UInt32 = 1 << 14
    /// Bit 15: trigger mode, 1 = level (LINT0/LINT1).
    public static let triggerModeBit: UInt32 = 1 << 15
    /// Bit 16: mask.
    public static let maskBit: UInt32 = 1 << 16
    /// The reset value of every LVT register: only the mask bit set (SDM 11.4.7.1).
    public static let masked = LocalVectorTableEntry(rawValue: maskBit)

    /// Bits 7:0: the vector.
    public var vector: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    /// Bits 10:8: the delivery mode.
    public var deliveryMode: APICDeliveryMode { APICDeliveryMode(field: UInt64(rawValue >> 8)) }
    /// Bit 13: the input is active low.
    public var activeLow: Bool { rawValue & Self.polarityBit != 0 }
    /// Bit 15: the input is level-triggered.
    public var levelTriggered: Bool { rawValue & Self.triggerModeBit != 0 }
    /// Bit 16: the entry is masked.
    public var isMasked: Bool { rawValue & Self.maskBit != 0 }
    /// Bits 18:17 of the timer entry; the reserved encoding 11b behaves as one-shot.
    public var timerMode: LocalAPICTimerMode {
        switch (rawValue >> 17) & 3 {
        case 1: .periodic
        case 2: .tscDeadline
        default: .oneShot
        }
    }
}

/// Error bits of the error status register (SDM 11.5.3, Figure 11-9).
public struct LocalAPICErrors: OptionSet, Hashable, Codable, Sendable {
    /// The register value.
    public var rawValue: UInt32
    /// Creates the bit set.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Bit 0: send checksum error (P6 and Pentium only; never set here).
    public static let sendChecksum = LocalAPICErrors(rawValue: 1 << 0)
    /// Bit 1: receive checksum error (never set here).
    public static let receiveChecksum = LocalAPICErrors(rawValue: 1 << 1)
    /// Bit 2: send accept error (never set here).
    public static let sendAccept = LocalAPICErrors(rawValue: 1 << 2)
    /// Bit 3: receive accept error (never set here).
    public static let receiveAccept = LocalAPICErrors(rawValue: 1 << 3)
    /// Bit 4: redirectable IPI (never set here).
    public static let redirectableIPI = LocalAPICErrors(rawValue: 1 << 4)
    /// Bit 5: an IPI was sent with a vector in 0–15.
    public static let sendIllegalVector = LocalAPICErrors(rawValue: 1 << 5)
    /// Bit 6: an interrupt with a vector in 0–15 was received or generated locally.
    public static let receivedIllegalVector = LocalAPICErrors(rawValue: 1 << 6)
    /// Bit 7: a reserved register of the page was accessed.
    public static let illegalRegisterAddress = LocalAPICErrors(rawValue: 1 << 7)
}

/// 256 vector bits (IRR, ISR or TMR), as the eight 32-bit registers that show them.
public struct APICVectorSet: Hashable, Codable, Sendable {
    /// Register `i` holds vectors 32·i to 32·i+31, bit `v % 32` for vector `v`.
    public var registers: [UInt32] = Array(repeating: 0, count: 8)
    /// Creates an empty set.
    public init() {}

    /// Whether `vector` is in the set.
    public func contains(_ vector: UInt8) -> Bool {
        register(Int(vector >> 5)) & (1 << UInt32(vector & 31)) != 0
    }
    /// Adds `vector`.
    public mutating func insert(_ vector: UInt8) {
        let index = Int(vector >> 5)
        guard registers.indices.contains(index) else { return }
        registers[index] |= 1 << UInt32(vector & 31)
    }
    /// Removes `vector`.
    public mutating func remove(_ vector: UInt8) {
        let index = Int(vector >> 5)
        guard registers.indices.contains(index) else { return }
        registers[index] &= ~(1 << UInt32(vector & 31))
    }
    /// The highest vector in the set, or `nil` when it is empty.
    public var highest: UInt8? {
        // A plain countdown (the VMM asks on every exit; a `stride` loop here compiled to generic code).
        registers.withUnsafeBufferPointer { r in
            let n = min(r.count, 8)
            if n == 8 {
                // Two registers per test, highest first: an empty set (the usual IRR) costs four tests.
                var pair = 4
                while pair > 0 {
                    pair -= 1
                    let bits = UInt64(r[2 * pair + 1]) << 32 | UInt64(r[2 * pair])
                    if bits != 0 { return UInt8(truncatingIfNeeded: pair * 64 + 63 - bits.leadingZeroBitCount) }
                }
                return nil
            }
            var index = n
            while index > 0 {
                index -= 1
                let bits = r[index]
                if bits != 0 { return UInt8(truncatingIfNeeded: index * 32 + 31 - bits.leadingZeroBitCount) }
            }
            return nil
        }
    }
    /// Register `index` (0 outside 0–7).
    public func register(_ index: Int) -> UInt32 {
        registers.indices.contains(index) ? registers[index] : 0
    }
    /// The same bits in exactly eight registers (a decoded snapshot may have another count).
    var normalized: APICVectorSet {
        var set = APICVectorSet()
        for index in 0..<8 { set.registers[index] = register(index) }
        return set
    }
}

// MARK: - Interrupt messages

/// An interrupt message sent to local APICs: by an I/O APIC redirection
/// entry, an MSI or an IPI (SDM 11.6.1; 82093AA section 3.2.4).
public struct APICInterruptMessage: Hashable, Codable, Sendable {
    /// The vector.
    public var vector: UInt8
    /// The delivery mode.
    public var deliveryMode: APICDeliveryMode
    /// Destination mode: `true` logical (matched against LDR/DFR), `false` physical (APIC ID).
    public var logicalDestination: Bool
    /// The destination field (0xFF: broadcast in physical mode).
    public var destination: UInt8
    /// Trigger mode: `true` level (the EOI is reported back), `false` edge.
    public var levelTriggered: Bool

    /// Creates a message.
    public init(vector: UInt8, deliveryMode: APICDeliveryMode = .fixed, logicalDestination: Bool = false,
                destination: UInt8 = 0, levelTriggered: Bool = false) {
        self.vector = vector
        self.deliveryMode = deliveryMode
        self.logicalDestination = logicalDestination
        self.destination = destination
        self.levelTriggered = levelTriggered
    }
}

/// Where an I/O APIC (or an MSI source) sends interrupt messages: the local APICs.
public protocol APICInterruptSink: AnyObject {
    /// Delivers `message`; returns whether a local APIC accepted it into its IRR.
    func deliver(_ message: APICInterruptMessage) -> Bool
}

/// Who hears the EOI of a level-triggered interrupt (the I/O APICs, which
/// clear the remote IRR of the pins with that vector; SDM 11.8.5).
public protocol APICEOIListener: AnyObject {
    /// A local APIC retired level-triggered `vector`.
    func endOfInterrupt(vector: UInt8)
}

// MARK: - State

/// The complete state of a local APIC: comparable, serializable.
public struct LocalAPICState: Hashable, Codable, Sendable {
    /// APIC ID (ID register bits 31:24).
    public var id: UInt8
    /// Task priority (TPR bits 7:0).
    public var taskPriority: UInt8 = 0
    /// Logical destination register.
    public var logicalDestination: UInt32 = 0
    /// Destination format register (bits 27:0 always ones).
    public var destinationFormat: UInt32 = 0xFFFF_FFFF
    /// Spurious-interrupt vector register.
    public var spuriousInterruptVector: UInt32 = 0xFF
    /// In-service register.
    public var inService = APICVectorSet()
    /// Trigger-mode register (level-triggered vectors accepted into IRR).
    public var triggerMode = APICVectorSet()
    /// Interrupt request register.
    public var interruptRequest = APICVectorSet()
    /// The error status register as software reads it (updated by a write to it).
    public var errorStatus = LocalAPICErrors()
    /// Errors detected since the last write to the ESR, not yet visible.
    public var pendingErrors = LocalAPICErrors()
    /// LVT CMCI.
    public var lvtCMCI = LocalVectorTableEntry.masked
    /// LVT timer.
    public var lvtTimer = LocalVectorTableEntry.masked
    /// LVT thermal sensor.
    public var lvtThermalSensor = LocalVectorTableEntry.masked
    /// LVT performance monitoring counters.
    public var lvtPerformanceCounter = LocalVectorTableEntry.masked
    /// LVT LINT0.
    public var lvtLINT0 = LocalVectorTableEntry.masked
    /// LVT LINT1.
    public var lvtLINT1 = LocalVectorTableEntry.masked
    /// LVT error.
    public var lvtError = LocalVectorTableEntry.masked
    /// Interrupt command register bits 31:0 (delivery status never set).
    public var interruptCommandLow: UInt32 = 0
    /// Interrupt command register bits 63:32.
    public var interruptCommandHigh: UInt32 = 0
    /// Timer initial-count register.
    public var initialCount: UInt32 = 0
    /// Timer divide-configuration register (bits 0, 1 and 3).
    public var divideConfiguration: UInt32 = 0
    /// Guest time at which the current countdown segment started.
    public var timerSegmentStart: UInt64 = 0
    /// The current count at `timerSegmentStart` (0: the timer is stopped).
    public var timerSegmentCount: UInt32 = 0
    /// Timer expirations already accounted for in the current segment.
    public var timerExpirations: UInt64 = 0
    /// IA32_TSC_DEADLINE (0: disarmed).
    public var tscDeadline: UInt64 = 0
    /// The latest guest time the device has been advanced to.
    public var now: UInt64 = 0
    /// IPIs written to the ICR that reached no local APIC here (other
    /// destinations, all-excluding-self) or had another delivery mode than
    /// fixed (INIT, start-up, NMI, SMI…).
    public var ignoredIPIs: UInt64 = 0
    /// Interrupt messages refused: APIC software-disabled, destination not
    /// matching, or a delivery mode other than fixed and lowest priority.
    public var refusedInterrupts: UInt64 = 0
    /// x2APIC mode: registers are MSRs, the MMIO page is disabled (LocalAPICX2APIC.swift).
    public var x2APICMode = false

    /// The state after power-up or INIT (SDM 11.4.7.1), with APIC ID `id`.
    public init(id: UInt8 = 0) {
        self.id = id
    }
}

// MARK: - The device

/// The local APIC in xAPIC mode. Map it on the MMIO bus at the address in
/// IA32_APIC_BASE (0xFEE00000) with length 0x1000.
///
/// Registers are accessed as aligned 32-bit loads and stores (SDM 11.4.1): an
/// access of another size, or at an offset not a multiple of 16, reads 0 and
/// ignores writes. An aligned access to a register the SDM lists as reserved
/// (offsets 0x000–0x3F0) reads 0, ignores writes and sets the ESR's illegal
/// register address bit; offsets 0x400–0xFFF read 0 silently.
///
/// The VMM polls `pendingVector()`, and when it injects the interrupt calls
/// `acknowledge()`. After it writes a register or IA32_TSC_DEADLINE, the
/// timer's deadline may have moved: read `nextDeadline` (or call
/// `advance(to:)` again). Register state only changes at the guest time of the
/// latest `advance(to:)`.
public final class LocalAPIC: Device, APICInterruptSink {
    /// The version register: version 0x14 (integrated APIC), max LVT entry 6
    /// (seven LVT registers including CMCI), no EOI-broadcast suppression (SDM 11.4.8).
    public static let versionValue: UInt32 = 0x0006_0014
    /// The timer's input clock (the bus or core crystal clock), in Hz.
    public let busFrequencyHz: UInt64
    /// The guest TSC frequency, in Hz: the TSC reads `now * tscHz / 10^9` at guest time `now`.
    public let tscHz: UInt64

    /// The device state.
    @exclusivity(unchecked) public private(set) var state: LocalAPICState
    /// Hears the EOI of each level-triggered vector (the I/O APIC). Weak: the
    /// I/O APIC usually holds this APIC as its sink.
    public weak var eoiListener: (any APICEOIListener)?
    /// Raises the processor's NMI line: called for an NMI IPI this APIC sends to itself.
    public var nmiHandler: (() -> Void)?
    /// The APIC bus that connects this APIC to the others of a multiprocessor (nil: alone, IPIs reach only
    /// itself). Weak: the bus holds its APICs.
    public internal(set) weak var bus: APICBus?
    /// IA32_APIC_BASE bit 11, the APIC global enable (SDM 11.4.3), as the VMM last set it
    /// (`setHardwareEnabled`). While clear the processor behaves as one without an APIC: the APIC's page
    /// reads all ones and ignores writes, the APIC accepts no interrupt, and the 8259A reaches the
    /// processor directly (`lint0ExtINT`).
    public private(set) var hardwareEnabled = true

    /// Sets the APIC global enable (a write to IA32_APIC_BASE bit 11). Disabling resets the APIC to its
    /// power-up state (keeping its APIC ID), so that it comes back enabled in that state.
    public func setHardwareEnabled(_ enabled: Bool) {
        if !enabled && hardwareEnabled { reset(restoringInitialID: true) }
        hardwareEnabled = enabled
    }

    private static let nanosecondsPerSecond: UInt64 = 1_000_000_000

    /// Creates a local APIC in its power-up state with APIC ID `id`, a timer
    /// clocked at `busFrequencyHz` and a TSC running at `tscHz` (both at least 1 Hz).
    public init(id: UInt8 = 0, busFrequencyHz: UInt64 = 1_000_000_000, tscHz: UInt64 = 1_000_000_000) {
        self.busFrequencyHz = max(busFrequencyHz, 1)
        self.tscHz = max(tscHz, 1)
        self.state = LocalAPICState(id: id)
        self.initialID = id
    }

    /// The hardware-assigned APIC ID (the initial APIC ID of CPUID.1:EBX[31:24] and the x2APIC ID, which
    /// software cannot change, SDM 11.4.6 and 11.12.5.1).
    public let initialID: UInt8

    /// Replaces the state (restoring a snapshot). No interrupt is raised.
    public func restore(_ state: LocalAPICState) {
        var state = state
        state.inService = state.inService.normalized
        state.triggerMode = state.triggerMode.normalized
        state.interruptRequest = state.interruptRequest.normalized
        self.state = state
    }

    /// INIT reset (SDM 11.4.7.3): every register to its reset value except the APIC ID; the guest time is
    /// kept. With `restoringInitialID` (power-up, and a hardware disable through IA32_APIC_BASE, after which
    /// the APIC comes back in its power-up state, §11.4.3) the ID is the hardware-assigned `initialID` again,
    /// whatever software wrote to the xAPIC ID register.
    public func reset(restoringInitialID: Bool = false) {
        var fresh = LocalAPICState(id: restoringInitialID ? initialID : state.id)
        fresh.now = state.now
        state = fresh
    }

    // MARK: Status

    /// SVR bit 8: the APIC is software-enabled (SDM 11.4.3).
    public var softwareEnabled: Bool { state.spuriousInterruptVector & 0x100 != 0 }

    /// The task priority (TPR bits 7:0). A VMM that keeps the TPR in the VT-x
    /// virtual-APIC page copies it in before and out after running the guest.
    public var taskPriority: UInt8 {
        get { state.taskPriority }
        set { state.taskPriority = newValue }
    }

    /// The processor priority (SDM 11.8.3.1): the TPR when its class is at
    /// least the highest in-service vector's class, otherwise that class.
    public var processorPriority: UInt8 {
        let inService = state.inService.highest ?? 0
        return state.taskPriority >> 4 >= inService >> 4 ? state.taskPriority : inService & 0xF0
    }

    /// The arbitration priority, as the P6 family defines it: the TPR when its
    /// class is at least the highest requested class and above the highest
    /// in-service class, otherwise the highest of the three classes.
    public var arbitrationPriority: UInt8 {
        let task = state.taskPriority >> 4
        let inService = (state.inService.highest ?? 0) >> 4
        let requested = (state.interruptRequest.highest ?? 0) >> 4
        if task >= requested && task > inService { return state.taskPriority }
        return max(task, inService, requested) << 4
    }

    /// The highest vector in the IRR, whatever the priorities (for a VMM
    /// setting the VT-x TPR threshold).
    public var highestRequestedVector: UInt8? { state.interruptRequest.highest }

    /// The highest vector in the ISR (the interrupt being serviced).
    public var highestInServiceVector: UInt8? { state.inService.highest }

    /// Whether the VMM should take external interrupts from the 8259A instead
    /// (virtual wire mode through LINT0): the APIC is software-disabled (its
    /// state after reset, before firmware programs it), or LVT LINT0 is
    /// unmasked with delivery mode ExtINT. A hardware-disabled APIC
    /// (IA32_APIC_BASE bit 11 clear) is the VMM's business.
    public var lint0ExtINT: Bool {
        !hardwareEnabled || !softwareEnabled || (!state.lvtLINT0.isMasked && state.lvtLINT0.deliveryMode == .extINT)
    }

    /// IPIs that reached nothing here or had a delivery mode other than fixed.
    public var ignoredIPIs: UInt64 { state.ignoredIPIs }

    /// The timer mode from the LVT timer register.
    public var timerMode: LocalAPICTimerMode { state.lvtTimer.timerMode }

    // MARK: Interrupts

    /// Accepts a fixed interrupt (SDM 11.8.4): sets its IRR bit and sets (level)
    /// or clears (edge) its TMR bit. A software-disabled APIC refuses it; a
    /// vector in 0–15 is refused and logs "received illegal vector" in the ESR
    /// (SDM 11.5.2). Returns whether the interrupt entered the IRR. A vector
    /// already requested merges with the pending request.
    @discardableResult
    public func accept(vector: UInt8, levelTriggered: Bool) -> Bool {
        guard softwareEnabled, hardwareEnabled else {
            state.refusedInterrupts &+= 1
            return false
        }
        guard vector >= 16 else {
            recordError(.receivedIllegalVector)
            return false
        }
        request(vector, levelTriggered: levelTriggered)
        return true
    }

    /// Delivers an interrupt message (an I/O APIC pin, an MSI). Fixed and
    /// lowest-priority messages whose destination matches this APIC are
    /// accepted (`accept(vector:levelTriggered:)`); others are refused and counted.
    /// Physical destinations match the APIC ID or 0xFF (broadcast); logical
    /// ones match the LDR in the flat model (any common bit) or the cluster
    /// model (same cluster, a common bit in the low nibble) (SDM 11.6.2).
    public func deliver(_ message: APICInterruptMessage) -> Bool {
        switch message.deliveryMode {
        case .fixed, .lowestPriority:
            guard matchesDestination(message.destination, logical: message.logicalDestination) else {
                state.refusedInterrupts &+= 1
                return false
            }
            return accept(vector: message.vector, levelTriggered: message.levelTriggered)
        default:
            state.refusedInterrupts &+= 1
            return false
        }
    }

    /// Whether `destination` designates this APIC (SDM 11.6.2.1, 11.6.2.2).
    public func matchesDestination(_ destination: UInt8, logical: Bool) -> Bool {
        guard logical else { return destination == state.id || destination == 0xFF }
        let logicalID = UInt8(truncatingIfNeeded: state.logicalDestination >> 24)
        switch state.destinationFormat >> 28 {
        case 0xF:                                        // flat model
            return logicalID & destination != 0
        case 0x0:                                        // cluster model
            return logicalID >> 4 == destination >> 4 && logicalID & destination & 0xF != 0
        default:
            return false
        }
    }

    /// The vector the processor would take now: the highest requested vector
    /// whose priority class is above the PPR's class (SDM 11.8.3.1), or `nil`.
    public func pendingVector() -> UInt8? {
        guard let vector = state.interruptRequest.highest, vector >> 4 > processorPriority >> 4 else { return nil }
        return vector
    }

    /// The INTA cycle the VMM performs before injecting: moves the pending
    /// vector from IRR to ISR and returns it; `nil` when nothing is pending
    /// (a VMM that already committed to an injection would use the spurious
    /// vector, SVR bits 7:0).
    public func acknowledge() -> UInt8? {
        guard let vector = pendingVector() else { return nil }
        state.interruptRequest.remove(vector)
        state.inService.insert(vector)
        return vector
    }

    /// An EOI (a write to the EOI register, SDM 11.8.5): retires the highest
    /// in-service vector and, when its TMR bit is set, reports the EOI to
    /// `eoiListener`. No effect with nothing in service.
    public func endOfInterrupt() {
        guard let vector = state.inService.highest else { return }
        state.inService.remove(vector)
        if state.triggerMode.contains(vector) {
            eoiListener?.endOfInterrupt(vector: vector)
        }
    }

    private func request(_ vector: UInt8, levelTriggered: Bool) {
        state.interruptRequest.insert(vector)
        if levelTriggered { state.triggerMode.insert(vector) } else { state.triggerMode.remove(vector) }
    }

    /// Raises the local interrupt of an LVT entry with fixed delivery (timer, error).
    private func raiseLocal(_ entry: LocalVectorTableEntry) {
        guard softwareEnabled, !entry.isMasked else { return }
        guard entry.vector >= 16 else {
            recordError(.receivedIllegalVector)
            return
        }
        request(entry.vector, levelTriggered: false)
    }

    /// Logs `error` for the next ESR write and raises the LVT error interrupt (SDM 11.5.3).
    private func recordError(_ error: LocalAPICErrors) {
        state.pendingErrors.formUnion(error)
        let entry = state.lvtError
        guard softwareEnabled, !entry.isMasked else { return }
        guard entry.vector >= 16 else {
            state.pendingErrors.formUnion(.receivedIllegalVector)   // no recursion
            return
        }
        request(entry.vector, levelTriggered: false)
    }

    // MARK: Timer

    /// The timer divisor from the divide-configuration register: bits 3, 1, 0
    /// 000b…110b divide by 2…128, 111b by 1 (SDM Figure 11-10).
    public var timerDivisor: UInt64 {
        let value = state.divideConfiguration
        let code = (value & 3) | ((value >> 1) & 4)
        return code == 7 ? 1 : UInt64(2) << UInt64(code)
    }

    /// The TSC value at guest time `now`.
    public func tsc(at now: UInt64) -> UInt64 {
        TimeArithmetic.mulDiv(now, tscHz, Self.nanosecondsPerSecond)
    }

    /// The current-count register at the latest guest time (0 in TSC-deadline
    /// mode and once a one-shot countdown has ended).
    public var currentCount: UInt32 {
        currentCount(mode: timerMode)
    }

    /// Writes IA32_TSC_DEADLINE (SDM 11.5.4.1): in TSC-deadline mode, arms
    /// the timer for when the TSC reaches `value` (0 disarms; a deadline
    /// already passed fires at the next `advance(to:)`); ignored in other modes.
    public func writeTSCDeadline(_ value: UInt64) {
        guard timerMode == .tscDeadline else { return }
        state.tscDeadline = value
    }

    /// Reads IA32_TSC_DEADLINE: the armed deadline, 0 when disarmed (the timer
    /// clears it when it fires) or in other timer modes.
    public func readTSCDeadline() -> UInt64 {
        timerMode == .tscDeadline ? state.tscDeadline : 0
    }

    /// The guest time of the next timer interrupt, or `nil` when none can
    /// happen (timer stopped, one-shot done, LVT timer masked, APIC
    /// software-disabled). An expiry while masked is lost, as on the hardware.
    public var nextDeadline: UInt64? {
        guard softwareEnabled, !state.lvtTimer.isMasked else { return nil }
        switch timerMode {
        case .tscDeadline:
            guard state.tscDeadline != 0 else { return nil }
            let time = TimeArithmetic.mulDivCeil(state.tscDeadline, Self.nanosecondsPerSecond, tscHz)
            return max(time, state.now)
        case .oneShot, .periodic:
            guard let tick = nextExpiryTick(mode: timerMode) else { return nil }
            return time(ofTick: tick)
        }
    }

    /// Brings the timer to `now`: raises the timer interrupt (LVT timer
    /// vector, unless masked) if it expired since the last call (several
    /// expirations merge into one IRR bit), and returns `nextDeadline`.
    public func advance(to now: UInt64) -> UInt64? {
        if now > state.now { state.now = now }
        switch timerMode {
        case .tscDeadline:
            if state.tscDeadline != 0 && tsc(at: state.now) >= state.tscDeadline {
                state.tscDeadline = 0
                raiseLocal(state.lvtTimer)
            }
        case .oneShot, .periodic:
            if isCounting {
                let expired = expirations(mode: timerMode, ticks: ticks(at: state.now))
                if expired > state.timerExpirations {
                    state.timerExpirations = expired
                    raiseLocal(state.lvtTimer)
                }
            }
        }
        return nextDeadline
    }

    private var isCounting: Bool { state.timerSegmentCount != 0 && state.initialCount != 0 }

    /// Whole timer ticks (input clocks / divisor) since the segment started.
    private func ticks(at time: UInt64) -> UInt64 {
        guard time > state.timerSegmentStart else { return 0 }
        let clocks = TimeArithmetic.mulDiv(time - state.timerSegmentStart, busFrequencyHz, Self.nanosecondsPerSecond)
        return clocks / timerDivisor
    }

    /// The first guest time at which `tick` ticks have elapsed in the segment.
    private func time(ofTick tick: UInt64) -> UInt64 {
        let (clocks, overflow) = tick.multipliedReportingOverflow(by: timerDivisor)
        guard !overflow else { return UInt64.max }
        return TimeArithmetic.add(state.timerSegmentStart,
                                  TimeArithmetic.mulDivCeil(clocks, Self.nanosecondsPerSecond, busFrequencyHz))
    }

    /// Expirations in the segment by tick `e`: the count reaches 0 at tick
    /// `segmentCount`, then (periodic) every `initialCount` ticks.
    private func expirations(mode: LocalAPICTimerMode, ticks e: UInt64) -> UInt64 {
        let first = UInt64(state.timerSegmentCount)
        guard isCounting, e >= first else { return 0 }
        if mode != .periodic { return 1 }
        return 1 &+ (e - first) / UInt64(state.initialCount)
    }

    private func nextExpiryTick(mode: LocalAPICTimerMode) -> UInt64? {
        guard isCounting else { return nil }
        if mode != .periodic && state.timerExpirations >= 1 { return nil }
        let (later, overflow) = state.timerExpirations.multipliedReportingOverflow(by: UInt64(state.initialCount))
        guard !overflow else { return nil }
        return TimeArithmetic.add(UInt64(state.timerSegmentCount), later)
    }

    private func currentCount(mode: LocalAPICTimerMode) -> UInt32 {
        guard mode != .tscDeadline, isCounting else { return 0 }
        let e = ticks(at: state.now)
        let first = UInt64(state.timerSegmentCount)
        if e < first { return UInt32(truncatingIfNeeded: first - e) }
        guard mode == .periodic else { return 0 }
        let initial = UInt64(state.initialCount)
        return UInt32(truncatingIfNeeded: initial - (e - first) % initial)
    }

    /// Restarts the countdown segment now at `count` (0 stops the timer).
    private func startSegment(count: UInt32) {
        state.timerSegmentStart = state.now
        state.timerSegmentCount = count
        state.timerExpirations = 0
    }

    // MARK: Registers (MMIO)

    /// Reads the 32-bit register at `offset` (aligned 4-byte accesses only; 0 otherwise). With the APIC
    /// globally disabled (`hardwareEnabled` false) or in x2APIC mode every access reads all ones.
    public func read(offset: UInt64, size: Int) -> UInt64 {
        // Globally disabled, or in x2APIC mode (which disables the page, SDM 11.12.1.2): nothing answers.
        guard hardwareEnabled, !state.x2APICMode else { return size >= 8 ? ~0 : (1 << (8 * UInt64(max(size, 0)))) - 1 }
        guard size == 4 else { return 0 }
        return UInt64(readRegister(LocalAPICRegister(rawValue: offset)))
    }

    /// Writes the 32-bit register at `offset` (aligned 4-byte accesses only; ignored otherwise, and while
    /// the APIC is globally disabled).
    public func write(offset: UInt64, size: Int, value: UInt64) {
        guard size == 4, hardwareEnabled, !state.x2APICMode else { return }
        writeRegister(LocalAPICRegister(rawValue: offset), UInt32(truncatingIfNeeded: value))
    }

    /// Reads a register by name (as an aligned 32-bit load would; 0 for an
    /// offset that is misaligned or outside the page).
    public func readRegister(_ register: LocalAPICRegister) -> UInt32 {
        let offset = register.rawValue
        guard offset & 0xF == 0, offset < 0x1000 else { return 0 }
        switch offset {
        case 0x020: return UInt32(state.id) << 24
        case 0x030: return Self.versionValue
        case 0x080: return UInt32(state.taskPriority)
        case 0x090: return UInt32(arbitrationPriority)
        case 0x0A0: return UInt32(processorPriority)
        case 0x0B0, 0x0C0: return 0                       // EOI is write only; no remote read
        case 0x0D0: return state.logicalDestination
        case 0x0E0: return state.destinationFormat
        case 0x0F0: return state.spuriousInterruptVector
        case 0x100...0x170: return state.inService.register(Int((offset - 0x100) >> 4))
        case 0x180...0x1F0: return state.triggerMode.register(Int((offset - 0x180) >> 4))
        case 0x200...0x270: return state.interruptRequest.register(Int((offset - 0x200) >> 4))
        case 0x280: return state.errorStatus.rawValue
        case 0x2F0: return state.lvtCMCI.rawValue
        case 0x300: return state.interruptCommandLow
        case 0x310: return state.interruptCommandHigh
        case 0x320: return state.lvtTimer.rawValue
        case 0x330: return state.lvtThermalSensor.rawValue
        case 0x340: return state.lvtPerformanceCounter.rawValue
        case 0x350: return state.lvtLINT0.rawValue
        case 0x360: return state.lvtLINT1.rawValue
        case 0x370: return state.lvtError.rawValue
        case 0x380: return timerMode == .tscDeadline ? 0 : state.initialCount
        case 0x390: return currentCount
        case 0x3E0: return state.divideConfiguration
        case 0x000...0x3F0:
            recordError(.illegalRegisterAddress)
            return 0
        default:
            return 0
        }
    }

    /// Writes a register by name (as an aligned 32-bit store would). Read-only
    /// registers ignore the write; reserved bits are dropped.
    public func writeRegister(_ register: LocalAPICRegister, _ value: UInt32) {
        let offset = register.rawValue
        guard offset & 0xF == 0, offset < 0x1000 else { return }
        switch offset {
        case 0x020: state.id = UInt8(truncatingIfNeeded: value >> 24)
        case 0x080: state.taskPriority = UInt8(truncatingIfNeeded: value)
        case 0x0B0: endOfInterrupt()
        case 0x0D0: state.logicalDestination = value & 0xFF00_0000
        case 0x0E0: state.destinationFormat = value | 0x0FFF_FFFF
        case 0x0F0: writeSpuriousInterruptVector(value)
        case 0x280:                                      // write, then read (SDM 11.5.3)
            state.errorStatus = state.pendingErrors
            state.pendingErrors = []
        case 0x2F0: state.lvtCMCI = lvt(value, writable: 0x0001_07FF)
        case 0x300: writeInterruptCommand(value)
        case 0x310: state.interruptCommandHigh = value & 0xFF00_0000
        case 0x320: writeLVTTimer(value)
        case 0x330: state.lvtThermalSensor = lvt(value, writable: 0x0001_07FF)
        case 0x340: state.lvtPerformanceCounter = lvt(value, writable: 0x0001_07FF)
        case 0x350: state.lvtLINT0 = lvt(value, writable: 0x0001_A7FF)
        case 0x360: state.lvtLINT1 = lvt(value, writable: 0x0001_A7FF)
        case 0x370: state.lvtError = lvt(value, writable: 0x0001_00FF)
        case 0x380:
            guard timerMode != .tscDeadline else { return }   // ignored in TSC-deadline mode
            state.initialCount = value
            startSegment(count: value)
        case 0x3E0: writeDivideConfiguration(value)
        case 0x030, 0x090, 0x0A0, 0x0C0, 0x100...0x270, 0x390:
            break                                        // read only
        case 0x000...0x3F0:
            recordError(.illegalRegisterAddress)
        default:
            break
        }
    }

    /// An LVT value with only `writable` bits, masked while the APIC is
    /// software-disabled (SDM 11.4.7.2).
    private func lvt(_ value: UInt32, writable: UInt32) -> LocalVectorTableEntry {
        var raw = value & writable
        if !softwareEnabled { raw |= LocalVectorTableEntry.maskBit }
        return LocalVectorTableEntry(rawValue: raw)
    }

    private func writeSpuriousInterruptVector(_ value: UInt32) {
        state.spuriousInterruptVector = value & 0x3FF        // vector, enable, focus checking
        guard !softwareEnabled else { return }
        let mask = LocalVectorTableEntry.maskBit
        state.lvtCMCI.rawValue |= mask
        state.lvtTimer.rawValue |= mask
        state.lvtThermalSensor.rawValue |= mask
        state.lvtPerformanceCounter.rawValue |= mask
        state.lvtLINT0.rawValue |= mask
        state.lvtLINT1.rawValue |= mask
        state.lvtError.rawValue |= mask
    }

    /// A timer-mode change into or out of TSC-deadline mode disarms the timer
    /// (SDM 11.5.4.1); between one-shot and periodic the countdown goes on
    /// from the current count (restarted at the current tick boundary).
    private func writeLVTTimer(_ value: UInt32) {
        let oldMode = timerMode
        let count = currentCount(mode: oldMode)
        state.lvtTimer = lvt(value, writable: 0x0007_00FF)
        let newMode = timerMode
        if (oldMode == .tscDeadline) != (newMode == .tscDeadline) {
            state.initialCount = 0
            state.tscDeadline = 0
            startSegment(count: 0)
        } else if oldMode != newMode {
            startSegment(count: count)
        }
    }

    /// A new divisor applies from now: the countdown goes on from the current
    /// count (restarted at the current tick boundary).
    private func writeDivideConfiguration(_ value: UInt32) {
        let count = currentCount
        state.divideConfiguration = value & 0xB
        if timerMode != .tscDeadline && isCounting { startSegment(count: count) }
    }

    /// A write to the ICR's low half (SDM 11.6.1): records it and sends the IPI to the destination in the
    /// ICR's high half (`sendIPI(command:destination:)`).
    private func writeInterruptCommand(_ value: UInt32) {
        sendIPI(command: value, destination: state.interruptCommandHigh >> 24)
    }

    /// Sends an IPI (SDM 11.6.1): the one entry point of ICR delivery, for the xAPIC ICR (destination =
    /// ICR bits 63:56) and the x2APIC ICR MSR (destination = bits 63:32). `command` is ICR bits 31:0: vector
    /// 7:0, delivery mode 10:8, destination mode 11 (1 logical), level 14, trigger mode 15, shorthand 19:18
    /// (0 none, 1 self, 2 all including self, 3 all excluding self). Delivery is instantaneous, so the
    /// delivery-status bit (12) reads 0 afterwards. A fixed or lowest-priority IPI with a vector in 0–15
    /// logs "send illegal vector".
    ///
    /// On an `APICBus` (several processors) the bus delivers to every APIC the destination selects: fixed
    /// and lowest-priority vectors, NMI, INIT and start-up (`APICBus.deliverIPI`). Alone, an APIC
    /// reaches only itself: fixed and lowest-priority IPIs whose destination includes it are accepted as
    /// edge-triggered interrupts, NMIs to self raise `nmiHandler`, and every other IPI is counted in
    /// `ignoredIPIs`.
    public func sendIPI(command value: UInt32, destination: UInt32) {
        state.interruptCommandLow = value & 0x000C_CFFF       // delivery status (bit 12) stays 0
        let vector = UInt8(truncatingIfNeeded: value)
        let mode = APICDeliveryMode(field: UInt64(value >> 8))
        if (mode == .fixed || mode == .lowestPriority) && vector < 16 {
            recordError(.sendIllegalVector)
        }
        if let bus {
            bus.deliverIPI(from: self, command: value, destination: destination)
            return
        }
        let logical = value & (1 << 11) != 0
        let destination = UInt8(truncatingIfNeeded: destination)
        let shorthand = (value >> 18) & 3
        let toSelf: Bool
        switch (mode, shorthand) {
        case (.fixed, 0), (.lowestPriority, 0): toSelf = matchesDestination(destination, logical: logical)
        case (.fixed, 1), (.fixed, 2): toSelf = true
        case (.nmi, 0), (.nmi, 1), (.nmi, 2):
            // An NMI to self goes to the processor's NMI line, not the IRR (SDM 11.6.1).
            if let nmiHandler, shorthand != 0 || matchesDestination(destination, logical: logical) {
                nmiHandler()
                return
            }
            toSelf = false
        default: toSelf = false
        }
        if toSelf {
            accept(vector: vector, levelTriggered: false)
        } else {
            state.ignoredIPIs &+= 1
        }
    }

    /// Counts an IPI that reached no processor (the bus's bookkeeping).
    func countIgnoredIPI() { state.ignoredIPIs &+= 1 }
}

// MARK: - The APIC bus of a multiprocessor

/// What an interrupt message asks of a processor itself rather than of its APIC's IRR (SDM 11.6.1).
public enum APICProcessorSignal: Equatable, Sendable {
    /// NMI: the processor's NMI line (it also ends a HLT).
    case nmi
    /// INIT: the processor enters the wait-for-SIPI state (its local APIC has already been reset, keeping
    /// its APIC ID; SDM 8.4.1, 10.4.7.3).
    case initialization
    /// Start-up (SIPI) with `vector`: a processor in the wait-for-SIPI state starts in real mode at
    /// `vector << 12` (CS selector `vector << 8`, IP 0); any other processor ignores it (SDM 8.4.4.1).
    case startup(vector: UInt8)
}

/// The local APICs of a multiprocessor and the bus between them: IPIs written to any APIC's ICR and
/// messages from the I/O APIC (as its sink) reach every APIC their destination selects (SDM 11.6.2):
/// physical destinations by APIC ID (0xFF, or 0xFFFFFFFF from an x2APIC ICR, is a broadcast), logical ones
/// through each APIC's LDR and DFR (flat or cluster model), and the ICR shorthands self, all including self
/// and all excluding self. Lowest-priority messages go to one APIC of the destination: the software-enabled
/// one with the lowest processor priority, the lowest index on a tie. NMI, INIT and start-up go to the
/// processors through `signalProcessor`.
public final class APICBus: APICInterruptSink {
    /// The APICs, by processor index (APIC ID = index when the machine builds them).
    public let apics: [LocalAPIC]
    /// Called with a processor index and what it receives that is not a vector: NMI, INIT (after the
    /// processor's APIC was reset) and start-up.
    public var signalProcessor: ((Int, APICProcessorSignal) -> Void)?
    /// Messages that reached no APIC, and SMI, ExtINT and reserved delivery modes (not modelled).
    public private(set) var undeliveredMessages: UInt64 = 0

    /// Connects `apics` (each APIC's `bus` becomes this bus).
    public init(apics: [LocalAPIC]) {
        self.apics = apics
        for apic in apics { apic.bus = self }
    }

    /// Whether physical or logical `destination` selects the APIC at `index`.
    func selects(_ index: Int, destination: UInt32, logical: Bool) -> Bool {
        let apic = apics[index]
        if !logical {
            if destination == 0xFFFF_FFFF { return true }
            guard destination <= 0xFF else { return false }
        }
        return apic.matchesDestination(UInt8(truncatingIfNeeded: destination), logical: logical)
    }

    /// The processor indices a destination (shorthand 0) or shorthand selects, from `sender` (nil for an
    /// I/O APIC message, which has no shorthand).
    func targets(sender: Int?, shorthand: UInt32, destination: UInt32, logical: Bool) -> [Int] {
        switch shorthand {
        case 1: return sender.map { [$0] } ?? []
        case 2: return Array(apics.indices)
        case 3: return apics.indices.filter { $0 != sender }
        default: return apics.indices.filter { selects($0, destination: destination, logical: logical) }
        }
    }

    /// The one APIC a lowest-priority message goes to among `candidates`: software-enabled, lowest
    /// processor priority, lowest index on a tie (nil when none is enabled).
    func lowestPriority(_ candidates: [Int]) -> Int? {
        var best: Int?
        for i in candidates where apics[i].softwareEnabled {
            if let b = best, apics[b].processorPriority <= apics[i].processorPriority { continue }
            best = i
        }
        return best
    }

    /// Delivers an I/O APIC or MSI message to the APICs its destination selects (fixed to every one,
    /// lowest priority to one); returns whether some APIC accepted it into its IRR.
    public func deliver(_ message: APICInterruptMessage) -> Bool {
        let selected = targets(sender: nil, shorthand: 0, destination: UInt32(message.destination),
                               logical: message.logicalDestination)
        switch message.deliveryMode {
        case .fixed:
            var accepted = false
            for i in selected where apics[i].accept(vector: message.vector, levelTriggered: message.levelTriggered) { accepted = true }
            if !accepted { undeliveredMessages &+= 1 }
            return accepted
        case .lowestPriority:
            guard let i = lowestPriority(selected) else { undeliveredMessages &+= 1; return false }
            return apics[i].accept(vector: message.vector, levelTriggered: message.levelTriggered)
        default:
            undeliveredMessages &+= 1
            return false
        }
    }

    /// Delivers an IPI `sender` sends (`LocalAPIC.sendIPI(command:destination:)`, which documents `command`).
    /// An INIT with the level bit (14) clear and the trigger-mode bit (15) set is the "INIT level
    /// de-assert" message, which only synchronizes arbitration IDs: it has no effect here.
    func deliverIPI(from sender: LocalAPIC, command: UInt32, destination: UInt32) {
        let vector = UInt8(truncatingIfNeeded: command)
        let mode = APICDeliveryMode(field: UInt64(command >> 8))
        let selected = targets(sender: apics.firstIndex { $0 === sender }, shorthand: (command >> 18) & 3,
                               destination: destination, logical: command & (1 << 11) != 0)
        guard !selected.isEmpty else { sender.countIgnoredIPI(); return }
        switch mode {
        case .fixed:
            for i in selected { apics[i].accept(vector: vector, levelTriggered: false) }
        case .lowestPriority:
            if let i = lowestPriority(selected) { apics[i].accept(vector: vector, levelTriggered: false) } else { sender.countIgnoredIPI() }
        case .nmi:
            for i in selected { signalProcessor?(i, .nmi) }
        case .initialization:
            if command & (1 << 14) == 0 && command & (1 << 15) != 0 { return }     // INIT level de-assert
            for i in selected {
                apics[i].reset()
                signalProcessor?(i, .initialization)
            }
        case .startup:
            for i in selected { signalProcessor?(i, .startup(vector: vector)) }
        case .smi, .reserved3, .extINT:
            sender.countIgnoredIPI()
        }
    }
}
