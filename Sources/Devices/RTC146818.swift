// The MC146818 real-time clock and CMOS RAM (ports 0x70 index / 0x71 data).
// Time is injected: the clock starts at a given Unix time at guest time 0 and
// runs with guest time (`advance(to:)`); it never reads the host clock.

/// CMOS register indices.
public enum CMOSRegister {
    /// Seconds (0–59).
    public static let seconds: UInt8 = 0x00
    /// Seconds alarm.
    public static let secondsAlarm: UInt8 = 0x01
    /// Minutes (0–59).
    public static let minutes: UInt8 = 0x02
    /// Minutes alarm.
    public static let minutesAlarm: UInt8 = 0x03
    /// Hours (0–23, or 1–12 with bit 7 = PM).
    public static let hours: UInt8 = 0x04
    /// Hours alarm.
    public static let hoursAlarm: UInt8 = 0x05
    /// Day of week (1 = Sunday).
    public static let dayOfWeek: UInt8 = 0x06
    /// Day of month (1–31).
    public static let dayOfMonth: UInt8 = 0x07
    /// Month (1–12).
    public static let month: UInt8 = 0x08
    /// Year within the century (0–99).
    public static let year: UInt8 = 0x09
    /// Status A: UIP (bit 7), divider (6–4), rate select (3–0).
    public static let statusA: UInt8 = 0x0A
    /// Status B: SET, PIE, AIE, UIE, SQWE, DM (binary), 24/12, DSE.
    public static let statusB: UInt8 = 0x0B
    /// Status C: IRQF, PF, AF, UF (read-only, cleared by reading).
    public static let statusC: UInt8 = 0x0C
    /// Status D: VRT (valid RAM and time).
    public static let statusD: UInt8 = 0x0D
    /// Base memory in KiB, low byte (0x16 high byte).
    public static let baseMemoryLow: UInt8 = 0x15
    /// Extended memory (1 MiB–64 MiB) in KiB, low byte (0x18 high; copied at 0x30/0x31).
    public static let extendedMemoryLow: UInt8 = 0x17
    /// Extended memory copy, low byte (0x31 high).
    public static let extendedMemoryLow2: UInt8 = 0x30
    /// Century (IBM convention).
    public static let century: UInt8 = 0x32
    /// Memory above 16 MiB below 4 GiB in 64 KiB units, low byte (0x35 high).
    public static let highMemoryLow: UInt8 = 0x34
    /// Memory above 4 GiB in 64 KiB units, bytes 0x5B–0x5D (the QEMU/SeaBIOS convention).
    public static let memoryAbove4GLow: UInt8 = 0x5B
}

/// The complete state of the RTC and CMOS.
public struct RTCState: Equatable, Codable, Sendable {
    /// The 128 bytes of CMOS (time registers are computed, not read from here).
    public var cmos = [UInt8](repeating: 0, count: 128)
    /// The selected index (port 0x70, low seven bits).
    public var index: UInt8 = 0
    /// Port 0x70 bit 7: NMI disabled.
    public var nmiDisabled = false
    /// Unix time (seconds) at guest time `reference`.
    public var secondsAtReference: Int64 = 0
    /// The guest time to which `secondsAtReference` belongs.
    public var reference: UInt64 = 0
    /// Status C flags (IRQF, PF, AF, UF).
    public var flags: UInt8 = 0
    /// The time in whole seconds when updates last ran (for UF/AF).
    public var lastUpdateSeconds: Int64 = 0
    /// Periodic-interrupt periods counted so far since `reference`.
    public var lastPeriodicCount: UInt64 = 0
    /// The latest guest time the device has been advanced to.
    public var now: UInt64 = 0
    /// Creates an empty state.
    public init() {}
}

/// A broken-down calendar time (proleptic Gregorian, UTC).
public struct CalendarTime: Equatable, Sendable {
    /// Full year, e.g. 2024.
    public var year: Int64
    /// 1–12.
    public var month: Int64
    /// 1–31.
    public var day: Int64
    /// 0–23.
    public var hour: Int64
    /// 0–59.
    public var minute: Int64
    /// 0–59.
    public var second: Int64
    /// 0 = Sunday … 6 = Saturday.
    public var weekday: Int64

    /// Breaks down Unix time `seconds`.
    public init(unixSeconds seconds: Int64) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        hour = secondOfDay / 3600
        minute = secondOfDay / 60 % 60
        second = secondOfDay % 60
        weekday = ((days % 7) + 11) % 7        // 1970-01-01 was a Thursday
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Unix time of this calendar time (weekday ignored).
    public var unixSeconds: Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = month
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return days * 86_400 + hour * 3600 + minute * 60 + second
    }
}

/// The MC146818 RTC with 128 bytes of CMOS. Map it at 0x70 with length 2.
/// IRQ8 is driven by status C's IRQF.
public final class RTC146818: ByteRegisterDevice {
    /// How long before each update the UIP bit is set: 244 µs.
    public static let updateInProgressNanoseconds: UInt64 = 244_000

    /// The device state.
    @exclusivity(unchecked) public private(set) var state = RTCState()
    private let irq: any InterruptLine
    private var irqLevel = false

    /// Creates the RTC showing Unix time `startTime` at guest time 0, with CMOS
    /// memory-size fields for `ramSize` bytes of RAM of which at most
    /// `below4GLimit` sit below 4 GiB (the rest above 4 GiB).
    public init(startTime: Int64, ramSize: UInt64 = 0, below4GLimit: UInt64 = 0xE000_0000,
                irq: any InterruptLine = DisconnectedInterruptLine()) {
        self.irq = irq
        state.secondsAtReference = startTime
        state.lastUpdateSeconds = startTime
        state.cmos[Int(CMOSRegister.statusA)] = 0x26      // 32.768 kHz divider, 1024 Hz rate
        state.cmos[Int(CMOSRegister.statusB)] = 0x02      // 24-hour, BCD
        state.cmos[Int(CMOSRegister.statusD)] = 0x80      // valid RAM and time
        setMemorySize(ramSize, below4GLimit: below4GLimit)
    }

    /// Replaces the state (restoring a snapshot).
    public func restore(_ state: RTCState) {
        self.state = state
        updateIRQ()
    }

    /// Writes the memory-size fields (0x15–0x18, 0x30–0x31, 0x34–0x35, 0x5B–0x5D).
    public func setMemorySize(_ ramSize: UInt64, below4GLimit: UInt64 = 0xE000_0000) {
        let low = min(ramSize, below4GLimit)
        let high = ramSize - low
        let kib: UInt64 = 1024, mib = kib * kib
        put16(CMOSRegister.baseMemoryLow, min(low / kib, 640))
        let extended = low > mib ? min((low - mib) / kib, 0xFFFF) : 0
        put16(CMOSRegister.extendedMemoryLow, extended)
        put16(CMOSRegister.extendedMemoryLow2, extended)
        put16(CMOSRegister.highMemoryLow, low > 16 * mib ? min((low - 16 * mib) / 65_536, 0xFFFF) : 0)
        let above = min(high / 65_536, 0xFF_FFFF)
        for byte in 0..<3 {
            state.cmos[Int(CMOSRegister.memoryAbove4GLow) + byte] = UInt8(truncatingIfNeeded: above >> UInt64(8 * byte))
        }
    }

    private func put16(_ index: UInt8, _ value: UInt64) {
        state.cmos[Int(index)] = UInt8(truncatingIfNeeded: value)
        state.cmos[Int(index) + 1] = UInt8(truncatingIfNeeded: value >> 8)
    }

    // MARK: Time

    private var statusB: UInt8 { state.cmos[Int(CMOSRegister.statusB)] }
    private var halted: Bool { statusB & 0x80 != 0 || (state.cmos[Int(CMOSRegister.statusA)] >> 4) & 7 != 2 }

    /// Nanoseconds since the reference, and the current Unix time.
    private func elapsed() -> UInt64 { state.now &- state.reference }

    /// The Unix time the clock shows now.
    public var currentTime: Int64 {
        if halted { return state.secondsAtReference }
        return state.secondsAtReference &+ Int64(truncatingIfNeeded: elapsed() / 1_000_000_000)
    }

    /// Whether status A's UIP bit is set now (the 244 µs before an update).
    public var updateInProgress: Bool {
        !halted && elapsed() % 1_000_000_000 >= 1_000_000_000 - Self.updateInProgressNanoseconds
    }

    private var periodicPeriod: UInt64? {
        let rate = state.cmos[Int(CMOSRegister.statusA)] & 0x0F
        guard rate != 0, !halted else { return nil }
        let shift = rate <= 2 ? UInt64(rate) + 6 : UInt64(rate) - 1
        return TimeArithmetic.mulDiv(UInt64(1) << shift, 1_000_000_000, 32_768)
    }

    /// Runs the update cycles and periodic ticks up to `now`; returns the next
    /// time an enabled interrupt can fire.
    public func advance(to now: UInt64) -> UInt64? {
        if now > state.now { state.now = now }
        runUpdates()
        let b = statusB
        var deadline: UInt64?
        if !halted {
            if b & 0x30 != 0 {
                let toNext = 1_000_000_000 - elapsed() % 1_000_000_000
                deadline = TimeArithmetic.add(state.now, toNext)
            }
            if b & 0x40 != 0, let period = periodicPeriod {
                let next = TimeArithmetic.add(state.reference, TimeArithmetic.mulDiv(elapsed() / period + 1, period, 1))
                deadline = min(deadline ?? next, next)
            }
        }
        return deadline
    }

    private func runUpdates() {
        guard !halted else { return }
        let current = currentTime
        if current > state.lastUpdateSeconds {
            state.flags |= 0x10                                   // UF
            if alarmMatches(current) { state.flags |= 0x20 }      // AF (checked at the latest second)
            state.lastUpdateSeconds = current
        }
        if let period = periodicPeriod {
            let count = elapsed() / period
            if count > state.lastPeriodicCount {
                state.flags |= 0x40                               // PF
                state.lastPeriodicCount = count
            }
        }
        updateIRQ()
    }

    private func alarmMatches(_ seconds: Int64) -> Bool {
        let time = CalendarTime(unixSeconds: seconds)
        func matches(_ alarm: UInt8, _ value: Int64, hours: Bool) -> Bool {
            if alarm & 0xC0 == 0xC0 { return true }             // "don't care"
            return encode(value, hours: hours) == alarm
        }
        return matches(state.cmos[Int(CMOSRegister.secondsAlarm)], time.second, hours: false)
            && matches(state.cmos[Int(CMOSRegister.minutesAlarm)], time.minute, hours: false)
            && matches(state.cmos[Int(CMOSRegister.hoursAlarm)], time.hour, hours: true)
    }

    private func updateIRQ() {
        let enabled = state.flags & statusB & 0x70
        if enabled != 0 { state.flags |= 0x80 } else { state.flags &= 0x70 }
        let level = state.flags & 0x80 != 0
        if level != irqLevel {
            irqLevel = level
            irq.setLevel(level)
        }
    }

    // MARK: Encoding

    private var binary: Bool { statusB & 0x04 != 0 }
    private var hour24: Bool { statusB & 0x02 != 0 }

    private func encode(_ value: Int64, hours: Bool = false) -> UInt8 {
        var v = value
        var pm: UInt8 = 0
        if hours && !hour24 {
            pm = v >= 12 ? 0x80 : 0
            v %= 12
            if v == 0 { v = 12 }
        }
        let clamped = UInt8(truncatingIfNeeded: max(0, min(v, 99)))
        return (binary ? clamped : (clamped / 10) << 4 | clamped % 10) | pm
    }

    private func decode(_ byte: UInt8, hours: Bool = false) -> Int64 {
        var raw = byte
        var pm = false
        if hours && !hour24 { pm = raw & 0x80 != 0; raw &= 0x7F }
        var value = Int64(binary ? raw : (raw >> 4) * 10 + (raw & 0xF))
        if hours && !hour24 { value = value % 12 + (pm ? 12 : 0) }
        return value
    }

    private func timeRegister(_ index: UInt8) -> UInt8 {
        let t = CalendarTime(unixSeconds: currentTime)
        switch index {
        case CMOSRegister.seconds: return encode(t.second)
        case CMOSRegister.minutes: return encode(t.minute)
        case CMOSRegister.hours: return encode(t.hour, hours: true)
        case CMOSRegister.dayOfWeek: return encode(t.weekday + 1)
        case CMOSRegister.dayOfMonth: return encode(t.day)
        case CMOSRegister.month: return encode(t.month)
        case CMOSRegister.year: return encode(((t.year % 100) + 100) % 100)
        default: return encode(t.year / 100)                    // century
        }
    }

    private func setTimeRegister(_ index: UInt8, _ value: UInt8) {
        var t = CalendarTime(unixSeconds: currentTime)
        switch index {
        case CMOSRegister.seconds: t.second = min(decode(value), 59)
        case CMOSRegister.minutes: t.minute = min(decode(value), 59)
        case CMOSRegister.hours: t.hour = min(decode(value, hours: true), 23)
        case CMOSRegister.dayOfWeek: return                      // derived from the date
        case CMOSRegister.dayOfMonth: t.day = max(1, min(decode(value), 31))
        case CMOSRegister.month: t.month = max(1, min(decode(value), 12))
        case CMOSRegister.year: t.year = t.year - ((t.year % 100) + 100) % 100 + decode(value)
        default: t.year = decode(value) * 100 + ((t.year % 100) + 100) % 100   // century
        }
        rebase(t.unixSeconds)
    }

    /// Sets the clock to `seconds` now, restarting the second from this moment.
    private func rebase(_ seconds: Int64) {
        state.secondsAtReference = seconds
        state.reference = state.now
        state.lastUpdateSeconds = seconds
        state.lastPeriodicCount = 0
    }

    // MARK: Registers

    private static let timeRegisters: Set<UInt8> = [0x00, 0x02, 0x04, 0x06, 0x07, 0x08, 0x09, CMOSRegister.century]

    /// Offset 0 (port 0x70) reads 0xFF; offset 1 (0x71) reads the selected register.
    public func readByte(offset: UInt64) -> UInt8 {
        guard offset == 1 else { return 0xFF }
        let index = state.index
        if Self.timeRegisters.contains(index) { return timeRegister(index) }
        switch index {
        case CMOSRegister.statusA:
            let a = state.cmos[Int(index)] & 0x7F
            return a | (updateInProgress ? 0x80 : 0)
        case CMOSRegister.statusC:
            runUpdates()
            let c = state.flags
            state.flags = 0
            updateIRQ()
            return c
        default:
            return state.cmos[Int(index & 0x7F)]
        }
    }

    /// Offset 0 (port 0x70) selects a register (bit 7 disables NMI); offset 1 (0x71) writes it.
    public func writeByte(offset: UInt64, value: UInt8) {
        switch offset {
        case 0:
            state.index = value & 0x7F
            state.nmiDisabled = value & 0x80 != 0
        case 1:
            let index = state.index
            if Self.timeRegisters.contains(index) {
                setTimeRegister(index, value)
                return
            }
            switch index {
            case CMOSRegister.statusA:
                let wasHalted = halted
                let held = currentTime
                state.cmos[Int(index)] = value & 0x7F
                if wasHalted != halted { rebase(held) }
            case CMOSRegister.statusB:
                let wasHalted = halted
                let held = currentTime
                state.cmos[Int(index)] = value
                if wasHalted != halted { rebase(held) }
                updateIRQ()
            case CMOSRegister.statusC, CMOSRegister.statusD:
                break                                            // read-only
            default:
                state.cmos[Int(index & 0x7F)] = value
            }
        default:
            break
        }
    }
}
