// The I/O APIC (Intel 82093AA I/O Advanced Programmable Interrupt Controller
// datasheet, as integrated in ICH/PCH chipsets: version 0x20, 24 pins). Its
// registers sit behind an index/data pair in the page at 0xFEC00000; the
// device sees only the offset. Each pin is an injected interrupt line; the
// redirection table turns a pin's edge or level into an interrupt message for
// the local APICs (an injected `APICInterruptSink`), and level-triggered pins
// wait for the local APIC's EOI (remote IRR) before they deliver again.

/// The registers reached through IOREGSEL/IOWIN (82093AA section 3.2, Table 2).
public struct IOAPICRegister: RawRepresentable, Hashable, Codable, Sendable {
    /// The register index written to IOREGSEL.
    public var rawValue: UInt8
    /// Names the register at index `rawValue`.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// IOAPICID: the I/O APIC ID in bits 27:24 (82093AA 3.2.1).
    public static let id = IOAPICRegister(rawValue: 0x00)
    /// IOAPICVER: version in bits 7:0, maximum redirection entry in bits 23:16 (82093AA 3.2.2). Read only.
    public static let version = IOAPICRegister(rawValue: 0x01)
    /// IOAPICARB: arbitration ID in bits 27:24 (82093AA 3.2.3). Read only.
    public static let arbitration = IOAPICRegister(rawValue: 0x02)

    /// IOREDTBL[pin] bits 31:0 (82093AA 3.2.4); pins wrap modulo 24.
    public static func redirectionLow(_ pin: Int) -> IOAPICRegister {
        IOAPICRegister(rawValue: UInt8(truncatingIfNeeded: 0x10 + 2 * wrappedPin(pin)))
    }
    /// IOREDTBL[pin] bits 63:32 (82093AA 3.2.4); pins wrap modulo 24.
    public static func redirectionHigh(_ pin: Int) -> IOAPICRegister {
        IOAPICRegister(rawValue: UInt8(truncatingIfNeeded: 0x11 + 2 * wrappedPin(pin)))
    }

    /// `pin` modulo 24, non-negative.
    private static func wrappedPin(_ pin: Int) -> Int {
        let remainder = pin % IOAPIC.pinCount
        return remainder < 0 ? remainder + IOAPIC.pinCount : remainder
    }
}

/// A redirection table entry (82093AA section 3.2.4, IOREDTBL[23:0]).
public struct IOAPICRedirectionEntry: RawRepresentable, Hashable, Codable, Sendable {
    /// The 64-bit entry.
    public var rawValue: UInt64
    /// Wraps an entry value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Bit 11: destination mode, 1 = logical.
    public static let destinationModeBit: UInt64 = 1 << 11
    /// Bit 12: delivery status (read only; always 0 here: delivery is instantaneous).
    public static let deliveryStatusBit: UInt64 = 1 << 12
    /// Bit 13: interrupt input pin polarity, 1 = active low.
    public static let polarityBit: UInt64 = 1 << 13
    /// Bit 14: remote IRR (read only): a level interrupt was accepted and awaits its EOI.
    public static let remoteIRRBit: UInt64 = 1 << 14
    /// Bit 15: trigger mode, 1 = level.
    public static let triggerModeBit: UInt64 = 1 << 15
    /// Bit 16: interrupt mask.
    public static let maskBit: UInt64 = 1 << 16
    /// The bits software can write: vector, delivery mode, destination mode,
    /// polarity, trigger mode, mask, destination.
    public static let writableBits: UInt64 = 0xFF00_0000_0001_AFFF
    /// The reset value: masked, everything else 0.
    public static let masked = IOAPICRedirectionEntry(rawValue: maskBit)

    /// Bits 7:0: the vector.
    public var vector: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    /// Bits 10:8: the delivery mode.
    public var deliveryMode: APICDeliveryMode { APICDeliveryMode(field: rawValue >> 8) }
    /// Bit 11: the destination is logical.
    public var logicalDestination: Bool { rawValue & Self.destinationModeBit != 0 }
    /// Bit 13: the pin is active low.
    public var activeLow: Bool { rawValue & Self.polarityBit != 0 }
    /// Bit 14: remote IRR.
    public var remoteIRR: Bool {
        get { rawValue & Self.remoteIRRBit != 0 }
        set { if newValue { rawValue |= Self.remoteIRRBit } else { rawValue &= ~Self.remoteIRRBit } }
    }
    /// Bit 15: the pin is level-triggered.
    public var levelTriggered: Bool { rawValue & Self.triggerModeBit != 0 }
    /// Bit 16: the pin is masked.
    public var isMasked: Bool { rawValue & Self.maskBit != 0 }
    /// Bits 63:56: the destination (an APIC ID, 0xFF broadcast, or a logical set).
    public var destination: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 56) }
}

/// The complete state of an I/O APIC: comparable, serializable.
public struct IOAPICState: Hashable, Codable, Sendable {
    /// IOAPICID bits 27:24.
    public var id: UInt8
    /// IOAPICARB bits 27:24 (loaded from the ID whenever the ID is written).
    public var arbitrationID: UInt8
    /// IOREGSEL: the register index IOWIN reaches.
    public var registerSelect: UInt8 = 0
    /// The 24 redirection entries.
    public var redirection = Array(repeating: IOAPICRedirectionEntry.masked, count: IOAPIC.pinCount)
    /// The electrical level of each input pin (bit `pin`).
    public var pinLevels: UInt32 = 0
    /// Deliveries not sent: delivery modes SMI, NMI, INIT, ExtINT and the reserved ones.
    public var ignoredDeliveries: UInt64 = 0

    /// The reset state with I/O APIC ID `id` (low four bits): every pin masked.
    public init(id: UInt8 = 0) {
        self.id = id & 0xF
        self.arbitrationID = id & 0xF
    }
}

/// The I/O APIC. Map it on the MMIO bus at 0xFEC00000 with length 0x1000
/// (or 0x100).
///
/// MMIO offsets: IOREGSEL at 0x00, IOWIN at 0x10 and, as on version-0x20
/// chipset I/O APICs, the EOI register at 0x40 (writing a vector does what
/// `endOfInterrupt(vector:)` does). Only 32-bit accesses are honoured: other
/// sizes and other offsets read 0 and ignore writes; register indices with no
/// register read 0.
///
/// Input pins are level-carrying `InterruptLine`s (`line(_:)`) with the
/// electrical level; the polarity bit says which level is asserted. An
/// edge-triggered pin delivers on each transition to asserted while
/// unmasked (an edge while masked is lost). A level-triggered pin delivers
/// while it is asserted, unmasked and its remote IRR is clear; the remote IRR
/// is set when a local APIC accepts the interrupt and cleared by the EOI of
/// its vector, after which a still-asserted pin delivers again. Writing an
/// entry re-evaluates its pin (unmasking an asserted level pin delivers);
/// switching a pin to edge-triggered clears its remote IRR.
///
/// Messages go to the sink with the entry's vector, delivery mode, destination
/// mode, destination (bits 63:56) and trigger mode; fixed and lowest-priority
/// entries are sent, SMI/NMI/INIT/ExtINT and reserved modes are counted in
/// `ignoredDeliveries` and dropped.
public final class IOAPIC: Device, APICEOIListener {
    /// Number of input pins and redirection entries.
    public static let pinCount = 24
    /// IOAPICVER: version 0x20, maximum redirection entry 23.
    public static let versionValue: UInt32 = 0x0017_0020
    /// MMIO offset of IOREGSEL.
    public static let registerSelectOffset: UInt64 = 0x00
    /// MMIO offset of IOWIN.
    public static let windowOffset: UInt64 = 0x10
    /// MMIO offset of the EOI register (version 0x20 I/O APICs).
    public static let eoiOffset: UInt64 = 0x40

    /// The device state.
    @exclusivity(unchecked) public private(set) var state: IOAPICState
    private let sink: any APICInterruptSink
    /// With interrupt remapping hardware (IntelIOMMU): where the I/O APIC sends its interrupt requests instead,
    /// as MSI writes (VT-d spec 5.1.5.1); the entries then also hold the remappable format's bits 55:48.
    public var messageSink: (any BusMasterAccess)?

    /// Creates an I/O APIC in its reset state (every pin masked) sending its
    /// messages to `sink` (typically the local APIC; set the APIC's
    /// `eoiListener` to this I/O APIC so level-triggered pins see their EOIs).
    public init(sink: any APICInterruptSink, id: UInt8 = 0) {
        self.sink = sink
        self.state = IOAPICState(id: id)
    }

    /// Replaces the state (restoring a snapshot). No interrupt is delivered.
    public func restore(_ state: IOAPICState) {
        var state = state
        let count = state.redirection.count
        if count < Self.pinCount {
            state.redirection += Array(repeating: .masked, count: Self.pinCount - count)
        } else if count > Self.pinCount {
            state.redirection.removeLast(count - Self.pinCount)
        }
        self.state = state
    }

    /// Deliveries not sent because of their delivery mode.
    public var ignoredDeliveries: UInt64 { state.ignoredDeliveries }

    /// The redirection entry of `pin`, or `nil` outside 0–23.
    public func redirectionEntry(_ pin: Int) -> IOAPICRedirectionEntry? {
        state.redirection.indices.contains(pin) ? state.redirection[pin] : nil
    }

    // MARK: Pins

    /// The input line of `pin` (0–23) to inject into a device; any other
    /// number gives a line connected to nothing.
    public func line(_ pin: Int) -> any InterruptLine {
        guard (0..<Self.pinCount).contains(pin) else { return DisconnectedInterruptLine() }
        return IOAPICInputLine(ioapic: self, pin: pin)
    }

    /// Drives input `pin` to the electrical level `high` (pins outside 0–23 are ignored).
    public func setPin(_ pin: Int, level high: Bool) {
        guard state.redirection.indices.contains(pin), pin < 32 else { return }
        let wasAsserted = isAsserted(pin)
        let bit = UInt32(1) << UInt32(pin)
        if high { state.pinLevels |= bit } else { state.pinLevels &= ~bit }
        let entry = state.redirection[pin]
        if entry.levelTriggered {
            serviceLevel(pin)
        } else if !wasAsserted && isAsserted(pin) && !entry.isMasked {
            _ = send(entry)
        }
    }

    /// Whether `pin` is asserted: its level, inverted when the entry says active low.
    public func isAsserted(_ pin: Int) -> Bool {
        guard state.redirection.indices.contains(pin), pin < 32 else { return false }
        let high = state.pinLevels & (UInt32(1) << UInt32(pin)) != 0
        return high != state.redirection[pin].activeLow
    }

    /// The EOI of `vector` from a local APIC: clears the remote IRR of every
    /// level-triggered pin with that vector, and delivers again from those
    /// still asserted (and unmasked).
    public func endOfInterrupt(vector: UInt8) {
        for pin in state.redirection.indices {
            let entry = state.redirection[pin]
            guard entry.levelTriggered, entry.remoteIRR, entry.vector == vector else { continue }
            state.redirection[pin].remoteIRR = false
            serviceLevel(pin)
        }
    }

    /// Delivers from a level-triggered pin if it is asserted, unmasked and idle.
    private func serviceLevel(_ pin: Int) {
        guard state.redirection.indices.contains(pin) else { return }
        let entry = state.redirection[pin]
        guard entry.levelTriggered, !entry.isMasked, !entry.remoteIRR, isAsserted(pin) else { return }
        // Set remote IRR before the message leaves, so an EOI the sink sends
        // back at once finds it; clear it again if nobody accepted.
        state.redirection[pin].remoteIRR = true
        if !send(entry) { state.redirection[pin].remoteIRR = false }
    }

    /// Sends the message an entry describes; returns whether it was accepted.
    private func send(_ entry: IOAPICRedirectionEntry) -> Bool {
        switch entry.deliveryMode {
        case .fixed, .lowestPriority:
            let message = APICInterruptMessage(vector: entry.vector, deliveryMode: entry.deliveryMode,
                                               logicalDestination: entry.logicalDestination,
                                               destination: entry.destination, levelTriggered: entry.levelTriggered)
            if let messageSink {
                let (address, data) = Self.interruptRequest(entry)
                return messageSink.deliverMSI(address: address, data: data, requester: nil)
            }
            return sink.deliver(message)
        default:
            state.ignoredDeliveries &+= 1
            return false
        }
    }

    /// The interrupt request an entry sends to remapping hardware: in the remappable format when bit 48 is
    /// set (address bits 19:5 and 2 the interrupt index from bits 63:49 and 11, data the vector and trigger
    /// mode), else in the compatibility format.
    public static func interruptRequest(_ entry: IOAPICRedirectionEntry) -> (address: UInt64, data: UInt32) {
        let raw = entry.rawValue
        guard raw & 1 << 48 != 0 else {
            return CompatibilityInterruptMessage.encode(APICInterruptMessage(
                vector: entry.vector, deliveryMode: entry.deliveryMode, logicalDestination: entry.logicalDestination,
                destination: entry.destination, levelTriggered: entry.levelTriggered))
        }
        let address = CompatibilityInterruptMessage.addressHead << 20 | (raw >> 49) << 5
            | CompatibilityInterruptMessage.remappableFormatBit | (raw >> 11 & 1) << 2
        return (address, UInt32(entry.vector) | (entry.levelTriggered ? 1 << 15 : 0))
    }

    // MARK: Registers (MMIO)

    /// Reads IOREGSEL (0x00) or IOWIN (0x10) with a 32-bit access; 0 otherwise.
    public func read(offset: UInt64, size: Int) -> UInt64 {
        guard size == 4 else { return 0 }
        switch offset {
        case Self.registerSelectOffset: return UInt64(state.registerSelect)
        case Self.windowOffset: return UInt64(readRegister(IOAPICRegister(rawValue: state.registerSelect)))
        default: return 0
        }
    }

    /// Writes IOREGSEL (0x00), IOWIN (0x10) or EOI (0x40) with a 32-bit access; ignored otherwise.
    public func write(offset: UInt64, size: Int, value: UInt64) {
        guard size == 4 else { return }
        switch offset {
        case Self.registerSelectOffset: state.registerSelect = UInt8(truncatingIfNeeded: value)
        case Self.windowOffset:
            writeRegister(IOAPICRegister(rawValue: state.registerSelect), UInt32(truncatingIfNeeded: value))
        case Self.eoiOffset: endOfInterrupt(vector: UInt8(truncatingIfNeeded: value))
        default: break
        }
    }

    /// Reads a register by index (0 for indices with no register).
    public func readRegister(_ register: IOAPICRegister) -> UInt32 {
        switch register.rawValue {
        case 0x00: return UInt32(state.id & 0xF) << 24
        case 0x01: return Self.versionValue
        case 0x02: return UInt32(state.arbitrationID & 0xF) << 24
        case 0x10...0x3F:
            guard let entry = redirectionEntry(Int(register.rawValue - 0x10) / 2) else { return 0 }
            let high = register.rawValue & 1 != 0
            return UInt32(truncatingIfNeeded: high ? entry.rawValue >> 32 : entry.rawValue)
        default: return 0
        }
    }

    /// Writes a register by index; read-only registers, read-only bits and
    /// indices with no register ignore the write.
    public func writeRegister(_ register: IOAPICRegister, _ value: UInt32) {
        switch register.rawValue {
        case 0x00:
            state.id = UInt8(truncatingIfNeeded: value >> 24) & 0xF
            state.arbitrationID = state.id
        case 0x10...0x3F:
            let pin = Int(register.rawValue - 0x10) / 2
            guard var entry = redirectionEntry(pin) else { return }
            let old = entry.rawValue
            let written = register.rawValue & 1 != 0
                ? (old & 0x0000_0000_FFFF_FFFF) | UInt64(value) << 32
                : (old & 0xFFFF_FFFF_0000_0000) | UInt64(value)
            let writable = IOAPICRedirectionEntry.writableBits | (messageSink != nil ? 0x00FF_0000_0000_0000 : 0)
            entry.rawValue = (old & ~writable) | (written & writable)
            if !entry.levelTriggered { entry.remoteIRR = false }
            state.redirection[pin] = entry
            serviceLevel(pin)
        default:
            break
        }
    }
}

/// An input pin of the I/O APIC, to inject into a device.
public final class IOAPICInputLine: InterruptLine {
    private let ioapic: IOAPIC
    /// The pin number, 0–23.
    public let pin: Int

    fileprivate init(ioapic: IOAPIC, pin: Int) {
        self.ioapic = ioapic
        self.pin = pin
    }

    /// Drives the pin to the electrical level `high`.
    public func setLevel(_ high: Bool) { ioapic.setPin(pin, level: high) }
}
