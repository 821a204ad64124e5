// The NS16550A UART (PC COM ports: 0x3F8/IRQ4, 0x2F8/IRQ3). Register offsets
// 0–7, 16-byte transmit and receive FIFOs, characters shifted out at the rate
// the divisor latch and the line control register give (1.8432 MHz / 16 / divisor).

/// Register offsets of the 16550A, relative to its base port.
public enum UARTRegister {
    /// Receiver buffer (read) / transmitter holding (write); divisor latch low with DLAB.
    public static let data: UInt64 = 0
    /// Interrupt enable; divisor latch high with DLAB.
    public static let interruptEnable: UInt64 = 1
    /// Interrupt identification (read) / FIFO control (write).
    public static let interruptIdentification: UInt64 = 2
    /// Line control (word length, stop bits, parity, DLAB).
    public static let lineControl: UInt64 = 3
    /// Modem control (DTR, RTS, OUT1, OUT2, loopback).
    public static let modemControl: UInt64 = 4
    /// Line status.
    public static let lineStatus: UInt64 = 5
    /// Modem status.
    public static let modemStatus: UInt64 = 6
    /// Scratch.
    public static let scratch: UInt64 = 7
}

/// Bits of the interrupt enable register (IER).
public struct UARTInterruptEnable: OptionSet, Equatable, Codable, Sendable {
    /// The register value.
    public var rawValue: UInt8
    /// Creates the bit set.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// ERBFI: received data available (and character timeout).
    public static let receivedData = UARTInterruptEnable(rawValue: 1 << 0)
    /// ETBEI: transmitter holding register empty.
    public static let transmitterEmpty = UARTInterruptEnable(rawValue: 1 << 1)
    /// ELSI: receiver line status (overrun, parity, framing, break).
    public static let receiverLineStatus = UARTInterruptEnable(rawValue: 1 << 2)
    /// EDSSI: modem status change.
    public static let modemStatus = UARTInterruptEnable(rawValue: 1 << 3)
}

/// Bits of the line status register (LSR).
public struct UARTLineStatus: OptionSet, Equatable, Codable, Sendable {
    /// The register value.
    public var rawValue: UInt8
    /// Creates the bit set.
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// DR: at least one character in the receiver buffer / FIFO.
    public static let dataReady = UARTLineStatus(rawValue: 1 << 0)
    /// OE: a character arrived with the receive FIFO full and was lost.
    public static let overrunError = UARTLineStatus(rawValue: 1 << 1)
    /// PE: parity error (never generated: characters arrive intact).
    public static let parityError = UARTLineStatus(rawValue: 1 << 2)
    /// FE: framing error (never generated).
    public static let framingError = UARTLineStatus(rawValue: 1 << 3)
    /// BI: break interrupt (never generated).
    public static let breakInterrupt = UARTLineStatus(rawValue: 1 << 4)
    /// THRE: the transmitter holding register / transmit FIFO is empty.
    public static let transmitterHoldingEmpty = UARTLineStatus(rawValue: 1 << 5)
    /// TEMT: the transmit FIFO and the transmit shift register are both empty.
    public static let transmitterEmpty = UARTLineStatus(rawValue: 1 << 6)
}

/// Interrupt identification values (IIR bits 3–0; bits 7–6 are 11 with FIFOs enabled).
public enum UARTInterruptID: UInt8, Equatable, Codable, Sendable {
    /// No interrupt pending.
    case none = 0x01
    /// Modem status change (lowest priority).
    case modemStatus = 0x00
    /// Transmitter holding register empty.
    case transmitterEmpty = 0x02
    /// Received data at or above the FIFO trigger level.
    case receivedData = 0x04
    /// Receiver line status (highest priority).
    case receiverLineStatus = 0x06
    /// Character timeout: data below the trigger level, idle for four character times.
    case characterTimeout = 0x0C
}

/// The complete state of a 16550A: comparable, serializable.
public struct UARTState: Equatable, Codable, Sendable {
    /// Receive FIFO (the receiver buffer register when FIFOs are off), oldest first.
    public var receiveFIFO: [UInt8] = []
    /// Transmit FIFO (the holding register when FIFOs are off), oldest first.
    public var transmitFIFO: [UInt8] = []
    /// Whether the transmit shift register holds a character being sent.
    public var shifting = false
    /// Guest time at which the character in the shift register is fully sent.
    public var shiftDoneAt: UInt64 = 0
    /// Interrupt enable register (low four bits).
    public var interruptEnable: UARTInterruptEnable = []
    /// Line control register.
    public var lineControl: UInt8 = 0x03
    /// Modem control register (low five bits).
    public var modemControl: UInt8 = 0
    /// Sticky line-status error bits (OE), cleared by reading LSR.
    public var lineErrors: UARTLineStatus = []
    /// Modem status lines as driven from outside (CTS, DSR, RI, DCD in bits 4–7).
    public var externalModemLines: UInt8 = 0xB0
    /// Modem status delta bits (DCTS, DDSR, TERI, DDCD), cleared by reading MSR.
    public var modemDeltas: UInt8 = 0
    /// Scratch register.
    public var scratch: UInt8 = 0
    /// Divisor latch (DLM:DLL).
    public var divisor: UInt16 = 12   // 9600 baud
    /// Whether the FIFOs are enabled (FCR bit 0).
    public var fifoEnabled = false
    /// Receive FIFO trigger level in characters (1, 4, 8 or 14).
    public var receiveTriggerLevel = 1
    /// Whether a THR-empty interrupt is pending (cleared by reading IIR or writing THR).
    public var transmitterEmptyPending = true
    /// Guest time of the last receive FIFO activity (arrival or read), for the character timeout.
    public var lastReceiveActivity: UInt64 = 0
    /// The latest guest time the device has been advanced to.
    public var now: UInt64 = 0

    /// The power-on state.
    public init() {}
}

/// A 16550A UART. Output goes to an injected `ByteSink`; input comes from a
/// bounded host queue (`enqueueInput`) or straight off the wire (`receive`);
/// one `InterruptLine` (the INTRPT pin, gated by OUT2 as on a PC).
public final class Serial16550A: ByteRegisterDevice {
    /// Frequency of the baud clock: 1.8432 MHz, sixteen clocks per bit.
    public static let baudClockHz: UInt64 = 1_843_200
    /// Depth of each FIFO.
    public static let fifoDepth = 16

    /// The device state.
    @exclusivity(unchecked) public private(set) var state = UARTState()
    /// Host input waiting for room in the receive FIFO, oldest first.
    @exclusivity(unchecked) public private(set) var inputQueue: [UInt8] = []
    /// The most bytes `inputQueue` holds; further input is refused.
    public let inputQueueCapacity: Int
    /// Whether the interrupt output reaches the line only while MCR OUT2 is set
    /// (the PC wiring; Linux sets OUT2 when it opens the port).
    @exclusivity(unchecked) public var gateInterruptWithOUT2: Bool
    /// Whether characters leave the transmit shift register at once instead of at the programmed baud
    /// rate (as QEMU's UART does): a VMM's console then costs the guest no busy-waiting on the line.
    @exclusivity(unchecked) public var transmitsInstantly = false

    private let output: any ByteSink
    private let interrupt: any InterruptLine
    private var interruptLevel = false

    /// Creates a UART that sends its output to `output` and drives `interrupt`.
    public init(output: any ByteSink, interrupt: any InterruptLine = DisconnectedInterruptLine(),
                inputQueueCapacity: Int = 4096, gateInterruptWithOUT2: Bool = true) {
        self.output = output
        self.interrupt = interrupt
        self.inputQueueCapacity = max(0, inputQueueCapacity)
        self.gateInterruptWithOUT2 = gateInterruptWithOUT2
    }

    /// Replaces the state (restoring a snapshot) and updates the interrupt line.
    public func restore(_ state: UARTState) {
        self.state = state
        updateInterrupt()
    }

    // MARK: Host side

    /// Queues host input (keyboard, a pipe) for the guest; bytes move into the
    /// receive FIFO as room appears, so none is lost. Returns how many bytes
    /// were accepted (the rest did not fit in the bounded queue).
    @discardableResult
    public func enqueueInput<S: Sequence>(_ bytes: S) -> Int where S.Element == UInt8 {
        var accepted = 0
        for byte in bytes {
            guard inputQueue.count < inputQueueCapacity else { break }
            inputQueue.append(byte)
            accepted += 1
        }
        refillReceiveFIFO()
        updateInterrupt()
        return accepted
    }

    /// A character arrives on the wire now: it goes into the receive FIFO, or,
    /// when the FIFO is full, is lost and sets the overrun error.
    public func receive(_ byte: UInt8) {
        receiveOffWire(byte)
        updateInterrupt()
    }

    /// Sets the modem status inputs (CTS, DSR, RI, DCD) driven by the far end.
    public func setModemLines(cts: Bool, dsr: Bool, ri: Bool, dcd: Bool) {
        let old = currentModemLines()
        state.externalModemLines = (cts ? 0x10 : 0) | (dsr ? 0x20 : 0) | (ri ? 0x40 : 0) | (dcd ? 0x80 : 0)
        noteModemChange(from: old)
        updateInterrupt()
    }

    // MARK: Device

    /// Reads the register at `offset` (0–7; other offsets read 0xFF).
    public func readByte(offset: UInt64) -> UInt8 {
        let dlab = state.lineControl & 0x80 != 0
        switch offset {
        case UARTRegister.data:
            if dlab { return UInt8(truncatingIfNeeded: state.divisor) }
            var byte: UInt8 = 0
            if !state.receiveFIFO.isEmpty {
                byte = state.receiveFIFO.removeFirst()
                state.lastReceiveActivity = state.now
                refillReceiveFIFO()
            }
            updateInterrupt()
            return byte
        case UARTRegister.interruptEnable:
            if dlab { return UInt8(truncatingIfNeeded: state.divisor >> 8) }
            return state.interruptEnable.rawValue
        case UARTRegister.interruptIdentification:
            let id = pendingInterrupt()
            if id == .transmitterEmpty {
                state.transmitterEmptyPending = false
                updateInterrupt()
            }
            return id.rawValue | (state.fifoEnabled ? 0xC0 : 0)
        case UARTRegister.lineControl:
            return state.lineControl
        case UARTRegister.modemControl:
            return state.modemControl
        case UARTRegister.lineStatus:
            let status = lineStatus()
            state.lineErrors = []
            updateInterrupt()
            return status.rawValue
        case UARTRegister.modemStatus:
            let value = currentModemLines() | state.modemDeltas
            state.modemDeltas = 0
            updateInterrupt()
            return value
        case UARTRegister.scratch:
            return state.scratch
        default:
            return 0xFF
        }
    }

    /// Writes the register at `offset` (0–7; other offsets are ignored).
    public func writeByte(offset: UInt64, value: UInt8) {
        let dlab = state.lineControl & 0x80 != 0
        switch offset {
        case UARTRegister.data:
            if dlab {
                state.divisor = (state.divisor & 0xFF00) | UInt16(value)
            } else {
                transmit(value)
            }
        case UARTRegister.interruptEnable:
            if dlab {
                state.divisor = (state.divisor & 0x00FF) | (UInt16(value) << 8)
            } else {
                let old = state.interruptEnable
                state.interruptEnable = UARTInterruptEnable(rawValue: value & 0x0F)
                // Enabling ETBEI while the holding register is empty raises THRE at once.
                if !old.contains(.transmitterEmpty), state.interruptEnable.contains(.transmitterEmpty),
                   state.transmitFIFO.isEmpty {
                    state.transmitterEmptyPending = true
                }
            }
        case UARTRegister.interruptIdentification:
            writeFIFOControl(value)
        case UARTRegister.lineControl:
            state.lineControl = value
        case UARTRegister.modemControl:
            let old = currentModemLines()
            state.modemControl = value & 0x1F
            noteModemChange(from: old)
        case UARTRegister.scratch:
            state.scratch = value
        default:
            break   // LSR and MSR are read-only; offsets past 7 do not exist.
        }
        updateInterrupt()
    }

    /// Shifts characters out and checks the character timeout up to `now`;
    /// returns when the next character finishes or the timeout would fire.
    public func advance(to now: UInt64) -> UInt64? {
        if now > state.now { state.now = now }
        while state.shifting, state.shiftDoneAt <= state.now {
            let doneAt = state.shiftDoneAt
            state.shifting = false
            if !state.transmitFIFO.isEmpty {
                startShifting(state.transmitFIFO.removeFirst(), at: doneAt)
                if state.transmitFIFO.isEmpty { state.transmitterEmptyPending = true }
            }
        }
        updateInterrupt()
        var deadline: UInt64?
        if state.shifting { deadline = state.shiftDoneAt }
        if let timeout = characterTimeoutDeadline(), timeout > state.now {
            deadline = min(deadline ?? timeout, timeout)
        }
        return deadline
    }

    // MARK: Registers

    /// The line status register as the guest would read it now.
    public func lineStatus() -> UARTLineStatus {
        var status = state.lineErrors
        if !state.receiveFIFO.isEmpty { status.insert(.dataReady) }
        if state.transmitFIFO.isEmpty {
            status.insert(.transmitterHoldingEmpty)
            if !state.shifting { status.insert(.transmitterEmpty) }
        }
        return status
    }

    /// The interrupt the IIR reports now, by priority.
    public func pendingInterrupt() -> UARTInterruptID {
        let enabled = state.interruptEnable
        if enabled.contains(.receiverLineStatus), !state.lineErrors.isEmpty { return .receiverLineStatus }
        if enabled.contains(.receivedData), !state.receiveFIFO.isEmpty {
            if !state.fifoEnabled || state.receiveFIFO.count >= state.receiveTriggerLevel { return .receivedData }
            if let timeout = characterTimeoutDeadline(), timeout <= state.now { return .characterTimeout }
        }
        if enabled.contains(.transmitterEmpty), state.transmitterEmptyPending, state.transmitFIFO.isEmpty {
            return .transmitterEmpty
        }
        if enabled.contains(.modemStatus), state.modemDeltas != 0 { return .modemStatus }
        return .none
    }

    /// Nanoseconds to send one character with the current divisor and line format
    /// (start bit, 5–8 data bits, optional parity, 1, 1.5 or 2 stop bits).
    public func characterTime() -> UInt64 {
        let lcr = state.lineControl
        let dataBits = 5 + UInt64(lcr & 0x03)
        var halfBits = 2 * (1 + dataBits)              // start + data
        if lcr & 0x08 != 0 { halfBits += 2 }            // parity
        if lcr & 0x04 != 0 { halfBits += dataBits == 5 ? 3 : 4 } else { halfBits += 2 }
        let divisor = UInt64(max(state.divisor, 1))
        return TimeArithmetic.mulDivCeil(halfBits * divisor * 16, 1_000_000_000, 2 * Serial16550A.baudClockHz)
    }

    // MARK: Internals

    private var loopback: Bool { state.modemControl & 0x10 != 0 }

    private var fifoCapacity: Int { state.fifoEnabled ? Serial16550A.fifoDepth : 1 }

    private func transmit(_ byte: UInt8) {
        state.transmitterEmptyPending = false
        if !state.shifting && state.transmitFIFO.isEmpty {
            startShifting(byte, at: state.now)
            state.transmitterEmptyPending = true     // the holding register emptied at once
        } else if state.transmitFIFO.count < fifoCapacity {
            state.transmitFIFO.append(byte)
        }
        // else: the FIFO is full and the character is lost, as on the chip.
    }

    private func startShifting(_ byte: UInt8, at time: UInt64) {
        state.shifting = !transmitsInstantly
        state.shiftDoneAt = transmitsInstantly ? time : TimeArithmetic.add(time, characterTime())
        if loopback {
            receiveOffWire(byte)
        } else {
            output.write(byte)
        }
    }

    private func receiveOffWire(_ byte: UInt8) {
        if state.receiveFIFO.count >= fifoCapacity {
            state.lineErrors.insert(.overrunError)
            return
        }
        state.receiveFIFO.append(byte)
        state.lastReceiveActivity = state.now
    }

    private func refillReceiveFIFO() {
        guard !loopback else { return }   // in loopback the receiver is cut off from the line
        while !inputQueue.isEmpty, state.receiveFIFO.count < fifoCapacity {
            state.receiveFIFO.append(inputQueue.removeFirst())
            state.lastReceiveActivity = state.now
        }
    }

    private func writeFIFOControl(_ value: UInt8) {
        let enable = value & 0x01 != 0
        if enable != state.fifoEnabled {
            state.receiveFIFO.removeAll()
            state.transmitFIFO.removeAll()
        }
        state.fifoEnabled = enable
        if value & 0x02 != 0 { state.receiveFIFO.removeAll() }
        if value & 0x04 != 0 {
            state.transmitFIFO.removeAll()
            state.transmitterEmptyPending = true        // clearing the transmit FIFO empties it
        }
        state.receiveTriggerLevel = [1, 4, 8, 14][Int(value >> 6)]
        refillReceiveFIFO()
    }

    private func characterTimeoutDeadline() -> UInt64? {
        guard state.fifoEnabled, !state.receiveFIFO.isEmpty, state.receiveFIFO.count < state.receiveTriggerLevel,
              state.interruptEnable.contains(.receivedData)
        else { return nil }
        return TimeArithmetic.add(state.lastReceiveActivity, 4 &* characterTime())
    }

    /// MSR bits 7–4 as the guest sees them: in loopback, MCR's outputs fed back.
    private func currentModemLines() -> UInt8 {
        guard loopback else { return state.externalModemLines }
        let mcr = state.modemControl
        var lines: UInt8 = 0
        if mcr & 0x02 != 0 { lines |= 0x10 }   // RTS -> CTS
        if mcr & 0x01 != 0 { lines |= 0x20 }   // DTR -> DSR
        if mcr & 0x04 != 0 { lines |= 0x40 }   // OUT1 -> RI
        if mcr & 0x08 != 0 { lines |= 0x80 }   // OUT2 -> DCD
        return lines
    }

    private func noteModemChange(from old: UInt8) {
        let new = currentModemLines()
        let changed = old ^ new
        if changed & 0x10 != 0 { state.modemDeltas |= 0x01 }                  // DCTS
        if changed & 0x20 != 0 { state.modemDeltas |= 0x02 }                  // DDSR
        if old & 0x40 != 0 && new & 0x40 == 0 { state.modemDeltas |= 0x04 }   // TERI
        if changed & 0x80 != 0 { state.modemDeltas |= 0x08 }                  // DDCD
    }

    private func updateInterrupt() {
        var level = pendingInterrupt() != .none
        if gateInterruptWithOUT2 && (state.modemControl & 0x08 == 0 || loopback) { level = false }
        if level != interruptLevel {
            interruptLevel = level
            interrupt.setLevel(level)
        }
    }
}
