// ACPI fixed hardware (ACPI 6.5 §4.8): the PM1a event block (PM1_STS,
// PM1_EN), the PM1a control block (PM1_CNT) and the power-management timer
// (PM_TMR), laid out as one 12-byte I/O block like PIIX4/ICH power
// management: event block at +0, control block at +4, timer at +8. The FADT
// built by `ACPITableBuilder` (Loaders) names the same ports; both default to
// the base 0x600.
//
// There is no SMI_CMD port: the platform is always in ACPI mode (SCI_EN reads
// 1). Time is injected: the PM timer counts guest time from `advance(to:)`.

/// Offsets of the registers inside the block, and the block's suggested place.
public enum ACPIPMRegister {
    /// PM1_STS, 16 bits (PM1a event block +0).
    public static let pm1Status: UInt64 = 0
    /// PM1_EN, 16 bits (PM1a event block +2).
    public static let pm1Enable: UInt64 = 2
    /// PM1_CNT, 16 bits (the PM1a control block).
    public static let pm1Control: UInt64 = 4
    /// PM_TMR, 32 bits of which 24 count (the PM timer block).
    public static let pmTimer: UInt64 = 8
    /// The length of the whole block to map (0x600–0x60B at the suggested base).
    public static let blockLength: UInt64 = 12
    /// The suggested I/O port base (the FADT default of `ACPITableBuilder` too).
    public static let suggestedBase: UInt16 = 0x600
    /// PM1_EVT_LEN: the event block's length (status + enable).
    public static let pm1EventLength: UInt8 = 4
    /// PM1_CNT_LEN: the control block's length.
    public static let pm1ControlLength: UInt8 = 2
    /// PM_TMR_LEN: the timer block's length.
    public static let pmTimerLength: UInt8 = 4
}

/// PM1_STS bits (ACPI 6.5 §4.8.4.1.1); write 1 to clear.
public enum PM1StatusBit {
    /// TMR_STS: bit 23 of the PM timer changed.
    public static let timer: UInt16 = 1 << 0
    /// BM_STS: bus master activity (never set here).
    public static let busMaster: UInt16 = 1 << 4
    /// GBL_STS: the BIOS released the global lock (never set here).
    public static let global: UInt16 = 1 << 5
    /// PWRBTN_STS: the fixed power button was pressed.
    public static let powerButton: UInt16 = 1 << 8
    /// SLPBTN_STS: the fixed sleep button was pressed (no sleep button here).
    public static let sleepButton: UInt16 = 1 << 9
    /// RTC_STS: the RTC alarm fired (not wired here; the FADT sets FIX_RTC).
    public static let rtc: UInt16 = 1 << 10
    /// WAK_STS: the system woke from a sleeping state.
    public static let wake: UInt16 = 1 << 15
    /// Every status bit this model stores.
    public static let all: UInt16 = timer | busMaster | global | powerButton | sleepButton | rtc | wake
}

/// PM1_EN bits (ACPI 6.5 §4.8.4.1.2).
public enum PM1EnableBit {
    /// TMR_EN: TMR_STS raises the SCI.
    public static let timer: UInt16 = 1 << 0
    /// GBL_EN: GBL_STS raises the SCI.
    public static let global: UInt16 = 1 << 5
    /// PWRBTN_EN: PWRBTN_STS raises the SCI.
    public static let powerButton: UInt16 = 1 << 8
    /// SLPBTN_EN: SLPBTN_STS raises the SCI.
    public static let sleepButton: UInt16 = 1 << 9
    /// RTC_EN: RTC_STS raises the SCI.
    public static let rtc: UInt16 = 1 << 10
    /// PCIEXP_WAKE_DIS (stored only).
    public static let pciExpressWakeDisable: UInt16 = 1 << 14
    /// Every enable bit this model stores.
    public static let all: UInt16 = timer | global | powerButton | sleepButton | rtc | pciExpressWakeDisable
    /// The enable bits that have a status bit to gate onto the SCI.
    public static let interruptSources: UInt16 = timer | global | powerButton | sleepButton | rtc
}

/// PM1_CNT bits (ACPI 6.5 §4.8.4.2.1).
public enum PM1ControlBit {
    /// SCI_EN: the SCI is delivered instead of an SMI; always reads 1 here.
    public static let sciEnable: UInt16 = 1 << 0
    /// BM_RLD: bus master requests wake from C3 (stored only).
    public static let busMasterReload: UInt16 = 1 << 1
    /// GBL_RLS: releases the global lock to the BIOS (write-only, no effect).
    public static let globalRelease: UInt16 = 1 << 2
    /// SLP_TYP: bits 10–12, the sleeping state entered when SLP_EN is written.
    public static let sleepTypeMask: UInt16 = 0x7 << 10
    /// The bit position of SLP_TYP.
    public static let sleepTypeShift: UInt16 = 10
    /// SLP_EN: write-only; writing 1 enters the state SLP_TYP names.
    public static let sleepEnable: UInt16 = 1 << 13
}

/// Receives a guest's request to turn the machine off (ACPI S5, soft off).
public protocol PowerOffHandler: AnyObject {
    /// The guest entered S5.
    func requestPowerOff()
}

/// A power-off handler that counts the requests it receives.
public final class RecordingPowerOffHandler: PowerOffHandler {
    /// How many power-off requests arrived.
    public private(set) var requests = 0
    /// Creates the handler.
    public init() {}
    /// Counts the request.
    public func requestPowerOff() { requests &+= 1 }
}

/// The state of the ACPI fixed-hardware registers.
public struct ACPIPMState: Equatable, Codable, Sendable {
    /// PM1_STS.
    public var pm1Status: UInt16 = 0
    /// PM1_EN.
    public var pm1Enable: UInt16 = 0
    /// PM1_CNT's stored bits (BM_RLD, SLP_TYP); SCI_EN is added on read.
    public var pm1Control: UInt16 = 0
    /// The latest guest time the device has been advanced to (nanoseconds).
    public var now: UInt64 = 0
    /// How many times bit 23 of the timer had changed when TMR_STS was last updated.
    public var timerBit23Changes: UInt64 = 0
    /// The SLP_TYP of the last sleep request that was not S5 (ignored, woke at once).
    public var lastIgnoredSleepType: UInt8?
    /// The power-on state.
    public init() {}
}

/// The ACPI PM1a event and control blocks and the PM timer, as one 12-byte
/// I/O block (map it at `ACPIPMRegister.suggestedBase` with length
/// `ACPIPMRegister.blockLength`). Registers are bytes to the bus: 16- and
/// 32-bit accesses are split into bytes, which gives the same result because
/// every read of one access sees the same guest time.
///
/// - PM_TMR counts at exactly 3.579545 MHz from guest time 0: the value is
///   `floor(now × 3579545 / 10⁹) mod 2²⁴` (upper byte reads 0; the FADT's
///   TMR_VAL_EXT is 0). TMR_STS is set when bit 23 changes; with TMR_EN set,
///   `advance(to:)` returns the time of the next change.
/// - The SCI line is high while `PM1_STS & PM1_EN` has an enabled source.
/// - Writing PM1_CNT with SLP_EN and SLP_TYP equal to the configured S5 value
///   calls the power-off handler. Any other sleep type is not entered: the
///   system "wakes" at once (WAK_STS is set), so a guest waiting for WAK_STS
///   continues; the type is recorded in `state.lastIgnoredSleepType`.
/// - `pressPowerButton()` sets PWRBTN_STS (the FADT declares a fixed power
///   button), which a guest with PWRBTN_EN set sees as an SCI.
///
/// Offsets 6, 7 and beyond 11 read 0xFF and ignore writes.
public final class ACPIPowerManagement: ByteRegisterDevice {
    /// The PM timer's frequency in hertz (ACPI 6.5 §4.8.3.3).
    public static let timerFrequency: UInt64 = 3_579_545
    /// The SLP_TYP value for S5 that the DSDT of `ACPITableBuilder` declares by default.
    public static let defaultS5SleepType: UInt8 = 5

    /// The register state.
    @exclusivity(unchecked) public private(set) var state = ACPIPMState()
    /// The SLP_TYP value that means S5 (soft off), 0–7.
    public let s5SleepType: UInt8
    private let sci: any InterruptLine
    private let powerOffHandler: any PowerOffHandler
    private var sciLevel = false

    /// Creates the block. `s5SleepType` (taken modulo 8) must equal the first
    /// element of the DSDT's `_S5` package; `sci` is the SCI line (ISA IRQ 9 by
    /// convention, level-triggered, active high).
    public init(s5SleepType: UInt8 = ACPIPowerManagement.defaultS5SleepType,
                sci: any InterruptLine = DisconnectedInterruptLine(),
                powerOffHandler: any PowerOffHandler) {
        self.s5SleepType = s5SleepType & 0x7
        self.sci = sci
        self.powerOffHandler = powerOffHandler
    }

    /// Replaces the state (restoring a snapshot) and updates the SCI.
    public func restore(_ state: ACPIPMState) {
        self.state = state
        updateSCI()
    }

    /// The machine reset: registers cleared, the timer keeps counting guest time.
    public func reset() {
        let now = state.now
        state = ACPIPMState()
        state.now = now
        state.timerBit23Changes = ticks() >> 23
        updateSCI()
    }

    /// The PM timer's ticks since guest time 0 (not reduced to 24 bits).
    private func ticks() -> UInt64 {
        TimeArithmetic.mulDiv(state.now, Self.timerFrequency, 1_000_000_000)
    }

    /// PM_TMR now: 24 bits.
    public var timerValue: UInt32 { UInt32(truncatingIfNeeded: ticks() & 0xFF_FFFF) }

    /// Presses the fixed power button: sets PWRBTN_STS (an SCI if PWRBTN_EN).
    public func pressPowerButton() {
        state.pm1Status |= PM1StatusBit.powerButton
        updateSCI()
    }

    /// Brings the timer to `now`, setting TMR_STS when bit 23 changed; returns
    /// the time of the next change of bit 23 while TMR_EN is set.
    public func advance(to now: UInt64) -> UInt64? {
        if now > state.now { state.now = now }
        let changes = ticks() >> 23
        if changes != state.timerBit23Changes {
            state.timerBit23Changes = changes
            state.pm1Status |= PM1StatusBit.timer
        }
        updateSCI()
        guard state.pm1Enable & PM1EnableBit.timer != 0 else { return nil }
        let nextTick = (changes &+ 1) << 23                   // at most 2^57: no overflow
        return TimeArithmetic.mulDivCeil(nextTick, 1_000_000_000, Self.timerFrequency)
    }

    /// PM1_CNT as read: the stored bits and SCI_EN.
    public var pm1Control: UInt16 { state.pm1Control | PM1ControlBit.sciEnable }

    /// Reads one byte of the block.
    public func readByte(offset: UInt64) -> UInt8 {
        switch offset {
        case 0: return UInt8(truncatingIfNeeded: state.pm1Status)
        case 1: return UInt8(truncatingIfNeeded: state.pm1Status >> 8)
        case 2: return UInt8(truncatingIfNeeded: state.pm1Enable)
        case 3: return UInt8(truncatingIfNeeded: state.pm1Enable >> 8)
        case 4: return UInt8(truncatingIfNeeded: pm1Control)
        case 5: return UInt8(truncatingIfNeeded: pm1Control >> 8)
        case 8, 9, 10, 11: return UInt8(truncatingIfNeeded: timerValue >> (8 * UInt32(offset - 8)))
        default: return 0xFF
        }
    }

    /// Writes one byte of the block: PM1_STS bits are cleared by writing 1,
    /// PM1_EN is stored, PM1_CNT is stored and its high byte may enter a
    /// sleeping state; the timer is read-only.
    public func writeByte(offset: UInt64, value: UInt8) {
        let low = UInt16(value), high = UInt16(value) << 8
        switch offset {
        case 0: state.pm1Status &= ~(low & PM1StatusBit.all)
        case 1: state.pm1Status &= ~(high & PM1StatusBit.all)
        case 2: state.pm1Enable = (state.pm1Enable & 0xFF00) | (low & PM1EnableBit.all)
        case 3: state.pm1Enable = (state.pm1Enable & 0x00FF) | (high & PM1EnableBit.all)
        case 4:
            state.pm1Control = (state.pm1Control & 0xFF00) | (low & PM1ControlBit.busMasterReload)
        case 5:
            state.pm1Control = (state.pm1Control & 0x00FF) | (high & PM1ControlBit.sleepTypeMask)
            if high & PM1ControlBit.sleepEnable != 0 { enterSleep() }
        default:
            break
        }
        updateSCI()
    }

    private func enterSleep() {
        let type = UInt8(truncatingIfNeeded: (state.pm1Control & PM1ControlBit.sleepTypeMask) >> PM1ControlBit.sleepTypeShift)
        if type == s5SleepType {
            powerOffHandler.requestPowerOff()
        } else {
            state.lastIgnoredSleepType = type
            state.pm1Status |= PM1StatusBit.wake
        }
    }

    private func updateSCI() {
        let level = state.pm1Status & state.pm1Enable & PM1EnableBit.interruptSources != 0
        if level != sciLevel {
            sciLevel = level
            sci.setLevel(level)
        }
    }
}
