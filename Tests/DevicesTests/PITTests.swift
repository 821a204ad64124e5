import Testing
@testable import Devices

/// Programs channel 0 with `mode` and `divisor` (lobyte/hibyte) at guest time `at`.
private func program(_ pit: PIT8254, mode: UInt8, divisor: UInt16, at time: UInt64) {
    _ = pit.advance(to: time)
    pit.writeByte(offset: 3, value: 0x30 | mode << 1)
    pit.writeByte(offset: 0, value: UInt8(divisor & 0xFF))
    pit.writeByte(offset: 0, value: UInt8(divisor >> 8))
}

// Divisor 11932 at 1.193182 MHz: period 11932e9/1193182 = 10_000_150.85 ns,
// so the k-th rising edge of OUT is at ceil(k * 10_000_150.85...) ns after the load.
@Test(arguments: [UInt8(2), UInt8(3)])
func pitPeriodIsExact(mode: UInt8) {
    let line = RecordingInterruptLine()
    let pit = PIT8254(irq0: line)
    program(pit, mode: mode, divisor: 11932, at: 1_000)
    let firstDeadline = pit.advance(to: 1_000)
    #expect(line.risingEdges == 1)            // OUT goes high when the mode is set (modes 2, 3)
    // Mode 2: OUT falls at tick 11931 (9_999_312.7 ns); mode 3 at tick 5966 (5_000_075.4 ns).
    #expect(firstDeadline == (mode == 2 ? 1_000 + 9_999_313 : 1_000 + 5_000_076))
    _ = pit.advance(to: 1_000 + 10_000_150)
    #expect(line.risingEdges == 1)
    #expect(!line.level)
    _ = pit.advance(to: 1_000 + 10_000_151)
    #expect(line.risingEdges == 2)
    #expect(line.level)
    _ = pit.advance(to: 1_000 + 20_000_301)
    #expect(line.risingEdges == 2)
    _ = pit.advance(to: 1_000 + 20_000_302)
    #expect(line.risingEdges == 3)
    // Jumping over eleven periods at once still delivers an edge (one, as the PIC would latch).
    _ = pit.advance(to: 1_000 + 130_001_962)
    #expect(line.risingEdges == 4)
}

@Test func pitDrivesPICIRQ0WithDeadlines() {
    let cpu = RecordingInterruptLine()
    let pic = DualPIC(output: cpu)
    initPIC(pic)
    let pit = PIT8254(irq0: pic.line(0))
    program(pit, mode: 2, divisor: 1193, at: 0)      // ~1 kHz
    var now: UInt64 = 0
    var delivered = 0
    while now < 10_000_000 {
        guard let next = pit.advance(to: now) else { break }
        if pic.interruptPending, pic.acknowledge() == 0x20 {
            delivered += 1
            pic.masterPorts.writeByte(offset: 0, value: 0x20)
        }
        now = next
    }
    // OUT rises when the count is loaded (t = 0), then every 1193 ticks = 999_847.5 ns:
    // the 10th period ends at 9_998_475 ns, the 11th after 10 ms. 1 + 10 interrupts.
    #expect(delivered == 11)
}

@Test func pitLatchAndCountReadback() {
    let pit = PIT8254()
    program(pit, mode: 2, divisor: 1000, at: 0)
    _ = pit.advance(to: 100_000)                       // 119.3182 ticks -> 119 ticks
    pit.writeByte(offset: 3, value: 0x00)              // latch channel 0
    _ = pit.advance(to: 200_000)
    let low = pit.readByte(offset: 0), high = pit.readByte(offset: 0)
    #expect(UInt16(high) << 8 | UInt16(low) == 1000 - 119)
    // After the latch is read, the live count shows: 238 ticks at 200 µs.
    let low2 = pit.readByte(offset: 0), high2 = pit.readByte(offset: 0)
    #expect(UInt16(high2) << 8 | UInt16(low2) == 1000 - 238)
    // Read-back: status then count of channel 0.
    pit.writeByte(offset: 3, value: 0b1100_0010)
    #expect(pit.readByte(offset: 0) == 0x80 | 0x30 | 2 << 1)   // OUT high, lobyte/hibyte, mode 2
    #expect(pit.readByte(offset: 0) == UInt8((1000 - 238) & 0xFF))
    // Mode 0: OUT low until terminal count, then high.
    pit.writeByte(offset: 3, value: 0b1011_0000)               // channel 2, both, mode 0
    pit.writeByte(offset: 2, value: 10)
    pit.writeByte(offset: 2, value: 0)
    #expect(!pit.outputLevel(channel: 2))
    _ = pit.advance(to: 200_000 + 8_380)                      // 9.9998 ticks
    #expect(!pit.outputLevel(channel: 2))
    _ = pit.advance(to: 200_000 + 8_381)                      // 10 ticks
    #expect(pit.outputLevel(channel: 2))
}
