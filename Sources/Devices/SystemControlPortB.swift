// Port 0x61, "System Control Port B" of the PC/AT (Intel PIIX/ICH "NMI Status and Control Register"):
// the GATE input of PIT channel 2 and the speaker enable, and channel 2's OUT as a status bit. Linux
// calibrates the TSC against it (pit_calibrate_tsc, quick_pit_calibrate).

/// Port 0x61: bit 0 drives PIT channel 2's GATE, bit 1 the speaker data enable (kept, no sound); reads
/// return both plus bit 4 (refresh-request toggle, flipping on every read as old delay loops expect) and
/// bit 5 (channel 2's OUT). Bits 2–3 (parity/channel check enables) are kept; NMI sources never assert.
public final class SystemControlPortB: ByteRegisterDevice {
    /// Bit 0: timer 2 gate (PIT channel 2 GATE input).
    public static let timer2Gate: UInt8 = 1 << 0
    /// Bit 1: speaker data enable.
    public static let speakerDataEnable: UInt8 = 1 << 1
    /// Bit 4: refresh cycle toggle (read only).
    public static let refreshToggle: UInt8 = 1 << 4
    /// Bit 5: timer 2 output (read only).
    public static let timer2Output: UInt8 = 1 << 5

    private let pit: PIT8254
    private var written: UInt8 = 0
    private var refresh = false

    /// Creates the port wired to `pit`'s channel 2.
    public init(pit: PIT8254) {
        self.pit = pit
        pit.setGate(channel: 2, high: false)
    }

    /// Reads the register at offset 0 (other offsets read all ones).
    public func readByte(offset: UInt64) -> UInt8 {
        guard offset == 0 else { return 0xFF }
        refresh.toggle()
        var value = written & 0x0F
        if refresh { value |= Self.refreshToggle }
        if pit.outputLevel(channel: 2) { value |= Self.timer2Output }
        return value
    }

    /// Writes the register at offset 0: bit 0 becomes channel 2's GATE.
    public func writeByte(offset: UInt64, value: UInt8) {
        guard offset == 0 else { return }
        written = value & 0x0F
        pit.setGate(channel: 2, high: value & Self.timer2Gate != 0)
    }
}
