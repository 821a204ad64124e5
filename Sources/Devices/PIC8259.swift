// The 8259A programmable interrupt controller pair of the PC: master at ports
// 0x20–0x21 (IRQ0–7), slave at 0xA0–0xA1 (IRQ8–15) cascaded on master IRQ2,
// and the edge/level control registers (ELCR) at 0x4D0–0x4D1.

/// The state of one 8259A.
public struct PIC8259State: Equatable, Codable, Sendable {
    /// Interrupt request register: inputs waiting for service.
    public var irr: UInt8 = 0
    /// In-service register: interrupts acknowledged and not yet ended.
    public var isr: UInt8 = 0
    /// Interrupt mask register (OCW1).
    public var imr: UInt8 = 0
    /// The input levels last seen (edge detection).
    public var lastInputLevels: UInt8 = 0
    /// Vector of IRQ0 of this chip (ICW2, low three bits clear).
    public var vectorBase: UInt8 = 0
    /// The lowest-priority input (7 at reset: IRQ0 highest). Rotation moves it.
    public var lowestPriority: UInt8 = 7
    /// ICW3: on the master, which inputs have slaves; on the slave, its cascade identity.
    public var cascade: UInt8 = 0
    /// Which initialization word comes next (0: initialized; 2, 3, 4: ICW2–4 expected).
    public var initStep: UInt8 = 0
    /// ICW1 IC4: ICW4 will follow.
    public var expectICW4 = false
    /// ICW1 SNGL: single chip, no ICW3.
    public var single = false
    /// ICW1 LTIM: every input is level-triggered.
    public var levelTriggeredMode = false
    /// ICW4 AEOI: automatic end of interrupt.
    public var autoEOI = false
    /// Rotate priority on automatic EOI (OCW2 R=1, SL=0, EOI=0).
    public var rotateOnAutoEOI = false
    /// ICW4 SFNM: special fully nested mode.
    public var specialFullyNested = false
    /// OCW3 read register select: `true` reads ISR, `false` IRR.
    public var readISR = false
    /// OCW3 poll command pending: the next read of port 0 is a poll.
    public var poll = false
    /// OCW3 special mask mode.
    public var specialMask = false
    /// ELCR: inputs that are level-triggered (1) rather than edge-triggered (0).
    public var elcr: UInt8 = 0

    /// The power-on state.
    public init() {}
}

/// The state of the master/slave pair.
public struct DualPICState: Equatable, Codable, Sendable {
    /// IRQ0–7.
    public var master = PIC8259State()
    /// IRQ8–15.
    public var slave = PIC8259State()
    /// Creates the power-on state.
    public init() {}
}

/// The cascaded 8259A pair. Map `masterPorts` at 0x20 (2 ports), `slavePorts`
/// at 0xA0 (2 ports) and `elcrPorts` at 0x4D0 (2 ports). Devices raise IRQs
/// through `line(irq)`; the VMM watches `output` (the INTR pin) and, when it
/// delivers the interrupt, calls `acknowledge()` (the INTA cycle) for the vector.
public final class DualPIC {
    /// The state of both chips.
    @exclusivity(unchecked) public private(set) var state = DualPICState()
    /// Ports 0x20–0x21 (offsets 0 and 1).
    public var masterPorts: PICPorts { PICPorts(pic: self, chip: .master) }
    /// Ports 0xA0–0xA1 (offsets 0 and 1).
    public var slavePorts: PICPorts { PICPorts(pic: self, chip: .slave) }
    /// Ports 0x4D0–0x4D1: ELCR of the master (offset 0) and slave (offset 1).
    public var elcrPorts: PICPorts { PICPorts(pic: self, chip: .elcr) }

    private let output: any InterruptLine
    private var outputLevel = false

    /// Creates the pair; `output` is the master's INTR pin towards the processor.
    public init(output: any InterruptLine = DisconnectedInterruptLine()) {
        self.output = output
    }

    /// Replaces the state (restoring a snapshot) and updates the output.
    public func restore(_ state: DualPICState) {
        self.state = state
        update()
    }

    /// The input line for `irq` (0–15; other numbers wrap modulo 16), to inject into a device.
    public func line(_ irq: Int) -> any InterruptLine {
        PICInputLine(pic: self, irq: irq & 15)
    }

    /// Whether the INTR output is asserted.
    public var interruptPending: Bool { outputLevel }

    /// Drives input `irq` (0–15, wrapping) to `level`.
    public func setIRQ(_ irq: Int, level: Bool) {
        let irq = irq & 15
        if irq < 8 {
            Self.setInput(&state.master, UInt8(irq), level)
        } else {
            Self.setInput(&state.slave, UInt8(irq - 8), level)
        }
        update()
    }

    /// The vector the pair would deliver now, without acknowledging it.
    public func interruptVector() -> UInt8? {
        guard outputLevel, let irq = Self.highestRequest(state.master) else { return nil }
        if state.master.cascade & (1 << irq) != 0 && !state.master.single {
            let slaveIRQ = Self.highestRequest(state.slave) ?? 7
            return state.slave.vectorBase &+ slaveIRQ
        }
        return state.master.vectorBase &+ irq
    }

    /// The INTA cycle: returns the vector of the highest-priority request and
    /// moves it from IRR to ISR (edge-triggered requests leave IRR). With
    /// nothing requested it returns the spurious vector (IRQ7 of the chip).
    public func acknowledge() -> UInt8 {
        let vector: UInt8
        if let irq = Self.highestRequest(state.master) {
            Self.accept(&state.master, irq)
            if state.master.cascade & (1 << irq) != 0 && !state.master.single {
                let slaveIRQ = Self.highestRequest(state.slave)
                if let slaveIRQ { Self.accept(&state.slave, slaveIRQ) }
                vector = state.slave.vectorBase &+ (slaveIRQ ?? 7)
            } else {
                vector = state.master.vectorBase &+ irq
            }
        } else {
            vector = state.master.vectorBase &+ 7
        }
        update()
        return vector
    }

    // MARK: Ports

    fileprivate func readPort(_ chip: PICPorts.Chip, offset: UInt64) -> UInt8 {
        switch chip {
        case .elcr:
            switch offset {
            case 0: return state.master.elcr
            case 1: return state.slave.elcr
            default: return 0xFF
            }
        case .master: return readChip(&state.master, offset: offset)
        case .slave: return readChip(&state.slave, offset: offset)
        }
    }

    fileprivate func writePort(_ chip: PICPorts.Chip, offset: UInt64, value: UInt8) {
        switch chip {
        case .elcr:
            // IRQ0, 1, 2, 8 and 13 are always edge-triggered on the PC (PIIX masks).
            if offset == 0 { state.master.elcr = value & 0xF8 }
            if offset == 1 { state.slave.elcr = value & 0xDE }
        case .master: Self.writeChip(&state.master, isMaster: true, offset: offset, value: value)
        case .slave: Self.writeChip(&state.slave, isMaster: false, offset: offset, value: value)
        }
        update()
    }

    private func readChip(_ chip: inout PIC8259State, offset: UInt64) -> UInt8 {
        switch offset {
        case 0:
            if chip.poll {
                chip.poll = false
                guard let irq = Self.highestRequest(chip) else { return 0 }
                Self.accept(&chip, irq)
                update()
                return 0x80 | irq
            }
            return chip.readISR ? chip.isr : chip.irr
        case 1:
            return chip.imr
        default:
            return 0xFF
        }
    }

    private static func writeChip(_ chip: inout PIC8259State, isMaster: Bool, offset: UInt64, value: UInt8) {
        switch offset {
        case 0:
            if value & 0x10 != 0 {                       // ICW1
                let elcr = chip.elcr
                chip = PIC8259State()
                chip.elcr = elcr
                chip.expectICW4 = value & 0x01 != 0
                chip.single = value & 0x02 != 0
                chip.levelTriggeredMode = value & 0x08 != 0
                chip.initStep = 2
            } else if value & 0x08 != 0 {                // OCW3
                if value & 0x02 != 0 { chip.readISR = value & 0x01 != 0 }
                if value & 0x04 != 0 { chip.poll = true }
                if value & 0x40 != 0 { chip.specialMask = value & 0x20 != 0 }
            } else {                                     // OCW2
                writeOCW2(&chip, value)
            }
        case 1:
            switch chip.initStep {
            case 2:
                chip.vectorBase = value & 0xF8
                chip.initStep = chip.single ? (chip.expectICW4 ? 4 : 0) : 3
            case 3:
                chip.cascade = value
                chip.initStep = chip.expectICW4 ? 4 : 0
            case 4:
                chip.autoEOI = value & 0x02 != 0
                chip.specialFullyNested = value & 0x10 != 0
                chip.initStep = 0
            default:
                chip.imr = value                         // OCW1
            }
        default:
            break
        }
    }

    private static func writeOCW2(_ chip: inout PIC8259State, _ value: UInt8) {
        let level = value & 0x07
        switch value >> 5 {
        case 0b001, 0b101:                               // non-specific EOI (and rotate)
            if let irq = highestPriority(in: chip.isr, chip) {
                chip.isr &= ~(1 << irq)
                if value >> 5 == 0b101 { chip.lowestPriority = irq }
            }
        case 0b011, 0b111:                               // specific EOI (and rotate)
            chip.isr &= ~(1 << level)
            if value >> 5 == 0b111 { chip.lowestPriority = level }
        case 0b110:                                      // set priority
            chip.lowestPriority = level
        case 0b100:
            chip.rotateOnAutoEOI = true
        case 0b000:
            chip.rotateOnAutoEOI = false
        default:
            break                                        // 0b010: no operation
        }
    }

    // MARK: Priority logic

    private static func setInput(_ chip: inout PIC8259State, _ irq: UInt8, _ level: Bool) {
        let mask: UInt8 = 1 << irq
        let levelTriggered = chip.levelTriggeredMode || chip.elcr & mask != 0
        if levelTriggered {
            if level { chip.irr |= mask } else { chip.irr &= ~mask }
        } else if level && chip.lastInputLevels & mask == 0 {
            chip.irr |= mask
        }
        if level { chip.lastInputLevels |= mask } else { chip.lastInputLevels &= ~mask }
    }

    /// The highest-priority input set in `bits`, honouring rotation.
    private static func highestPriority(in bits: UInt8, _ chip: PIC8259State) -> UInt8? {
        guard bits != 0 else { return nil }
        for step in UInt8(1)...8 {
            let irq = (chip.lowestPriority &+ step) & 7
            if bits & (1 << irq) != 0 { return irq }
        }
        return nil
    }

    /// Priority rank: 0 is highest.
    private static func rank(_ irq: UInt8, _ chip: PIC8259State) -> UInt8 {
        (irq &- chip.lowestPriority &- 1) & 7
    }

    /// The unmasked request that would be delivered: higher priority than every in-service one.
    private static func highestRequest(_ chip: PIC8259State) -> UInt8? {
        guard let irq = highestPriority(in: chip.irr & ~chip.imr, chip) else { return nil }
        var inService = chip.isr
        if chip.specialMask { inService &= ~chip.imr }
        if chip.specialFullyNested { inService &= ~chip.cascade }   // a slave may nest its own requests
        if let current = highestPriority(in: inService, chip), rank(current, chip) <= rank(irq, chip) {
            return nil
        }
        return irq
    }

    private static func accept(_ chip: inout PIC8259State, _ irq: UInt8) {
        let mask: UInt8 = 1 << irq
        if !(chip.levelTriggeredMode || chip.elcr & mask != 0) { chip.irr &= ~mask }
        if chip.autoEOI {
            if chip.rotateOnAutoEOI { chip.lowestPriority = irq }
        } else {
            chip.isr |= mask
        }
    }

    private func update() {
        // The slave's INT drives master input 2 (the cascade).
        let slaveOutput = Self.highestRequest(state.slave) != nil
        Self.setInput(&state.master, 2, slaveOutput)
        let level = Self.highestRequest(state.master) != nil
        if level != outputLevel {
            outputLevel = level
            output.setLevel(level)
        }
    }
}

/// One port range of the PIC pair, as a `Device` to map on the port bus.
public final class PICPorts: ByteRegisterDevice {
    /// Which registers the range reaches.
    public enum Chip: Sendable {
        /// The master's command/data ports.
        case master
        /// The slave's command/data ports.
        case slave
        /// The two ELCR bytes.
        case elcr
    }

    private let pic: DualPIC
    private let chip: Chip

    fileprivate init(pic: DualPIC, chip: Chip) {
        self.pic = pic
        self.chip = chip
    }

    /// Reads IRR/ISR/poll (offset 0), IMR (offset 1) or an ELCR byte; 0xFF elsewhere.
    public func readByte(offset: UInt64) -> UInt8 { pic.readPort(chip, offset: offset) }
    /// Writes ICW1/OCW2/OCW3 (offset 0), ICW2–4/OCW1 (offset 1) or an ELCR byte.
    public func writeByte(offset: UInt64, value: UInt8) { pic.writePort(chip, offset: offset, value: value) }
}

/// An IRQ input of the PIC pair, to inject into a device.
public final class PICInputLine: InterruptLine {
    private let pic: DualPIC
    /// The IRQ number, 0–15.
    public let irq: Int

    fileprivate init(pic: DualPIC, irq: Int) {
        self.pic = pic
        self.irq = irq
    }

    /// Drives the IRQ input.
    public func setLevel(_ high: Bool) { pic.setIRQ(irq, level: high) }
}
