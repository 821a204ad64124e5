// The 8254 programmable interval timer (ports 0x40–0x43): three 16-bit
// counters clocked at 1.193182 MHz. Counting is computed from guest time, so
// the device is a function of time (STYLE point 8): `advance(to:)` drives
// IRQ0 from channel 0's OUT and returns OUT's next transition.

/// The state of one counter.
public struct PITChannelState: Equatable, Codable, Sendable {
    /// Counter mode 0–5 (6 and 7 are stored as 2 and 3).
    public var mode: UInt8 = 0
    /// Read/write access: 1 low byte, 2 high byte, 3 low then high.
    public var access: UInt8 = 3
    /// BCD counting (four decades) instead of binary.
    public var bcd = false
    /// The initial count as written (0 means 65536, or 10000 in BCD).
    public var initialCount: UInt16 = 0
    /// Whether a count has been loaded since the control word.
    public var counting = false
    /// Guest time when the count was loaded (or, in modes 1 and 5, the gate triggered).
    public var loadTime: UInt64 = 0
    /// Low byte of a two-byte count already written.
    public var pendingLowByte: UInt8? = nil
    /// Latched count (latch command), served before the live count.
    public var latchedCount: UInt16? = nil
    /// Whether the next byte of the latched or live count is the high byte (access mode 3).
    public var readHighNext = false
    /// Latched status byte (read-back command), served first.
    public var latchedStatus: UInt8? = nil
    /// The GATE input (channels 0 and 1 are tied high on the PC; channel 2 comes from port 0x61).
    public var gate = true
    /// Whether modes 1 and 5 have been triggered by a rising GATE edge.
    public var triggered = false
    /// Creates a counter in its power-on state.
    public init() {}
}

/// The state of the whole 8254.
public struct PITState: Equatable, Codable, Sendable {
    /// Counters 0, 1 and 2.
    public var channels = [PITChannelState(), PITChannelState(), PITChannelState()]
    /// The latest guest time the device has been advanced to.
    public var now: UInt64 = 0
    /// Channel 0's OUT at `now`, as last driven onto IRQ0.
    public var irq0Level = false
    /// Creates the power-on state.
    public init() {}
}

/// The 8254 PIT. Map it at 0x40 with length 4: offsets 0–2 are the counters,
/// offset 3 the control word (write only; reads as 0xFF).
public final class PIT8254: ByteRegisterDevice {
    /// The input clock: 1.193182 MHz.
    public static let frequencyHz: UInt64 = 1_193_182

    /// The device state.
    @exclusivity(unchecked) public private(set) var state = PITState()
    private let irq0: any InterruptLine

    /// Creates a PIT whose channel 0 OUT drives `irq0`.
    public init(irq0: any InterruptLine = DisconnectedInterruptLine()) {
        self.irq0 = irq0
    }

    /// Replaces the state (restoring a snapshot).
    public func restore(_ state: PITState) {
        self.state = state
        irq0.setLevel(state.irq0Level)
    }

    // MARK: Time

    /// Whole input-clock ticks from `start` to `time`.
    static func ticks(from start: UInt64, to time: UInt64) -> UInt64 {
        time <= start ? 0 : TimeArithmetic.mulDiv(time - start, frequencyHz, 1_000_000_000)
    }

    /// The guest time of tick `tick` after `start` (the first nanosecond it has happened).
    static func time(ofTick tick: UInt64, from start: UInt64) -> UInt64 {
        TimeArithmetic.add(start, TimeArithmetic.mulDivCeil(tick, 1_000_000_000, frequencyHz))
    }

    /// The period, in ticks, the counter divides by (0 means 65536, or 10000 in BCD).
    static func divisor(_ channel: PITChannelState) -> UInt64 {
        var n = UInt64(channel.bcd ? fromBCD(channel.initialCount) : channel.initialCount)
        if n == 0 { n = channel.bcd ? 10_000 : 65_536 }
        if (channel.mode == 2 || channel.mode == 3) && n < 2 { n = 2 }   // 1 is illegal in modes 2 and 3
        return n
    }

    private static func isRunning(_ channel: PITChannelState) -> Bool {
        guard channel.counting else { return false }
        switch channel.mode {
        case 1, 5: return channel.triggered
        default: return channel.gate
        }
    }

    /// OUT of a counter `ticks` after it started.
    static func out(_ channel: PITChannelState, ticks e: UInt64) -> Bool {
        guard isRunning(channel) else { return channel.mode != 0 }
        let n = divisor(channel)
        switch channel.mode {
        case 0, 1: return e >= n
        case 2: return e % n != n - 1
        case 3: return e % n < (n + 1) / 2
        default: return e != n                           // 4, 5: one-tick low strobe at terminal count
        }
    }

    /// Ticks after the start at which OUT next changes, strictly after `e`.
    static func nextTransition(_ channel: PITChannelState, after e: UInt64) -> UInt64? {
        guard isRunning(channel) else { return nil }
        let n = divisor(channel)
        switch channel.mode {
        case 0, 1: return e < n ? n : nil
        case 2:
            let phase = e % n
            return phase < n - 1 ? e - phase + (n - 1) : e - phase + n
        case 3:
            let phase = e % n, half = (n + 1) / 2
            return phase < half ? e - phase + half : e - phase + n
        default:
            if e < n { return n }
            if e == n { return n + 1 }
            return nil
        }
    }

    /// Rising edges of OUT in the tick interval (a, b].
    static func risingEdges(_ channel: PITChannelState, from a: UInt64, to b: UInt64) -> UInt64 {
        guard isRunning(channel), b > a else { return 0 }
        let n = divisor(channel)
        switch channel.mode {
        case 0, 1: return a < n && n <= b ? 1 : 0
        case 2, 3: return b / n - a / n
        default: return a < n + 1 && n + 1 <= b ? 1 : 0
        }
    }

    /// The counting element of a counter `ticks` after it started.
    static func count(_ channel: PITChannelState, ticks e: UInt64) -> UInt16 {
        guard isRunning(channel) else { return channel.initialCount }
        let n = divisor(channel)
        let value: UInt64
        switch channel.mode {
        case 2: value = n - e % n
        case 3: value = n - (2 * e) % n
        default:
            let modulus: UInt64 = channel.bcd ? 10_000 : 65_536
            value = (n % modulus + modulus - e % modulus) % modulus
        }
        return channel.bcd ? toBCD(UInt16(truncatingIfNeeded: value % 10_000)) : UInt16(truncatingIfNeeded: value)
    }

    /// Channel `index`'s OUT now (channel 2's OUT is bit 5 of port 0x61).
    public func outputLevel(channel index: Int) -> Bool {
        guard (0..<3).contains(index) else { return false }
        let channel = state.channels[index]
        return Self.out(channel, ticks: Self.ticks(from: channel.loadTime, to: state.now))
    }

    /// Sets channel `index`'s GATE input (a rising edge triggers modes 1 and 5 and restarts 2 and 3).
    public func setGate(channel index: Int, high: Bool) {
        guard (0..<3).contains(index) else { return }
        var channel = state.channels[index]
        if high && !channel.gate && channel.counting {
            channel.triggered = true
            channel.loadTime = state.now
        }
        channel.gate = high
        state.channels[index] = channel
        driveIRQ0(from: state.now)
    }

    /// Brings the counters to `now`, pulses IRQ0 for every rising edge of
    /// channel 0's OUT since the last call, and returns OUT's next transition.
    public func advance(to now: UInt64) -> UInt64? {
        let previous = state.now
        if now > state.now { state.now = now }
        driveIRQ0(from: previous)
        let channel = state.channels[0]
        let e = Self.ticks(from: channel.loadTime, to: state.now)
        guard let next = Self.nextTransition(channel, after: e) else { return nil }
        return Self.time(ofTick: next, from: channel.loadTime)
    }

    private func driveIRQ0(from previous: UInt64) {
        let channel = state.channels[0]
        let a = Self.ticks(from: channel.loadTime, to: max(previous, channel.loadTime))
        let b = Self.ticks(from: channel.loadTime, to: state.now)
        let level = Self.out(channel, ticks: b)
        if Self.risingEdges(channel, from: a, to: b) > 0 && (state.irq0Level || level) {
            // An edge happened since the last look: make sure the PIC sees it.
            irq0.setLevel(false)
            irq0.setLevel(true)
            state.irq0Level = true
        }
        if level != state.irq0Level {
            irq0.setLevel(level)
            state.irq0Level = level
        }
    }

    // MARK: Registers

    /// Reads a counter (offsets 0–2): status, latched count or live count.
    public func readByte(offset: UInt64) -> UInt8 {
        guard offset < 3 else { return 0xFF }
        let index = Int(offset)
        var channel = state.channels[index]
        defer { state.channels[index] = channel }
        if let status = channel.latchedStatus {
            channel.latchedStatus = nil
            return status
        }
        let value: UInt16
        if let latched = channel.latchedCount {
            value = latched
        } else {
            value = Self.count(channel, ticks: Self.ticks(from: channel.loadTime, to: state.now))
        }
        let byte: UInt8
        switch channel.access {
        case 1: byte = UInt8(truncatingIfNeeded: value); channel.latchedCount = nil
        case 2: byte = UInt8(truncatingIfNeeded: value >> 8); channel.latchedCount = nil
        default:
            byte = channel.readHighNext ? UInt8(truncatingIfNeeded: value >> 8) : UInt8(truncatingIfNeeded: value)
            if channel.readHighNext { channel.latchedCount = nil }
            channel.readHighNext.toggle()
        }
        return byte
    }

    /// Writes a counter's count (offsets 0–2) or the control word (offset 3).
    public func writeByte(offset: UInt64, value: UInt8) {
        switch offset {
        case 0, 1, 2: writeCount(Int(offset), value)
        case 3: writeControl(value)
        default: break
        }
        driveIRQ0(from: state.now)
    }

    private func writeCount(_ index: Int, _ value: UInt8) {
        var channel = state.channels[index]
        switch channel.access {
        case 1: load(&channel, UInt16(value))
        case 2: load(&channel, UInt16(value) << 8)
        default:
            if let low = channel.pendingLowByte {
                channel.pendingLowByte = nil
                load(&channel, UInt16(value) << 8 | UInt16(low))
            } else {
                channel.pendingLowByte = value
                if channel.mode == 0 { channel.counting = false }   // mode 0 stops on the first byte
            }
        }
        state.channels[index] = channel
    }

    private func load(_ channel: inout PITChannelState, _ count: UInt16) {
        channel.initialCount = count
        channel.counting = true
        channel.loadTime = state.now
        channel.triggered = false
        if channel.mode == 1 || channel.mode == 5 { channel.triggered = false }
    }

    private func writeControl(_ value: UInt8) {
        let select = Int(value >> 6)
        if select == 3 {
            readBack(value)
            return
        }
        var channel = state.channels[select]
        let access = (value >> 4) & 3
        if access == 0 {                                 // counter latch command
            if channel.latchedCount == nil {
                channel.latchedCount = Self.count(channel, ticks: Self.ticks(from: channel.loadTime, to: state.now))
                channel.readHighNext = false
            }
        } else {
            let gate = channel.gate
            channel = PITChannelState()
            channel.gate = gate
            channel.access = access
            var mode = (value >> 1) & 7
            if mode > 5 { mode -= 4 }
            channel.mode = mode
            channel.bcd = value & 1 != 0
        }
        state.channels[select] = channel
    }

    private func readBack(_ value: UInt8) {
        for index in 0..<3 where value & (2 << index) != 0 {
            var channel = state.channels[index]
            let e = Self.ticks(from: channel.loadTime, to: state.now)
            if value & 0x20 == 0 && channel.latchedCount == nil {
                channel.latchedCount = Self.count(channel, ticks: e)
                channel.readHighNext = false
            }
            if value & 0x10 == 0 && channel.latchedStatus == nil {
                var status: UInt8 = (Self.out(channel, ticks: e) ? 0x80 : 0) | channel.access << 4 | channel.mode << 1
                if !channel.counting { status |= 0x40 }  // null count
                if channel.bcd { status |= 1 }
                channel.latchedStatus = status
            }
            state.channels[index] = channel
        }
    }
}

func fromBCD(_ value: UInt16) -> UInt16 {
    var result: UInt16 = 0
    for shift in stride(from: 12, through: 0, by: -4) {
        result = result &* 10 &+ min((value >> UInt16(shift)) & 0xF, 9)
    }
    return result
}

func toBCD(_ value: UInt16) -> UInt16 {
    var value = value % 10_000
    var result: UInt16 = 0
    for shift in stride(from: 0, through: 12, by: 4) {
        result |= (value % 10) << UInt16(shift)
        value /= 10
    }
    return result
}
