import Testing
@testable import Devices

private func read(_ rtc: RTC146818, _ index: UInt8) -> UInt8 {
    rtc.writeByte(offset: 0, value: index)
    return rtc.readByte(offset: 1)
}

private func write(_ rtc: RTC146818, _ index: UInt8, _ value: UInt8) {
    rtc.writeByte(offset: 0, value: index)
    rtc.writeByte(offset: 1, value: value)
}

// 2024-02-29 23:59:58 UTC, a Thursday.
private let leapDay: Int64 = 1_709_251_198

@Test func rtcTimeAdvancesWithGuestTime() {
    let rtc = RTC146818(startTime: leapDay)
    #expect(read(rtc, 0x00) == 0x58)
    #expect(read(rtc, 0x02) == 0x59)
    #expect(read(rtc, 0x04) == 0x23)
    #expect(read(rtc, 0x06) == 5)                               // Thursday, Sunday = 1
    #expect(read(rtc, 0x07) == 0x29)
    #expect(read(rtc, 0x08) == 0x02)
    #expect(read(rtc, 0x09) == 0x24)
    #expect(read(rtc, 0x32) == 0x20)
    _ = rtc.advance(to: 999_999_999)
    #expect(read(rtc, 0x00) == 0x58)
    _ = rtc.advance(to: 1_000_000_000)
    #expect(read(rtc, 0x00) == 0x59)
    _ = rtc.advance(to: 2_000_000_000)
    #expect(read(rtc, 0x00) == 0x00)
    #expect(read(rtc, 0x07) == 0x01)
    #expect(read(rtc, 0x08) == 0x03)
}

@Test func rtcBinaryAnd12HourModes() {
    let rtc = RTC146818(startTime: leapDay)
    write(rtc, 0x0B, 0x06)                                      // binary, 24-hour
    #expect(read(rtc, 0x00) == 58)
    #expect(read(rtc, 0x04) == 23)
    #expect(read(rtc, 0x09) == 24)
    write(rtc, 0x0B, 0x00)                                      // BCD, 12-hour
    #expect(read(rtc, 0x04) == 0x80 | 0x11)                     // 11 PM
    // Setting the time through the registers (SET halts updates).
    write(rtc, 0x0B, 0x82)
    write(rtc, 0x04, 0x07)
    write(rtc, 0x02, 0x30)
    write(rtc, 0x00, 0x00)
    _ = rtc.advance(to: 5_000_000_000)
    #expect(read(rtc, 0x00) == 0x00)                            // halted
    write(rtc, 0x0B, 0x02)
    _ = rtc.advance(to: 6_000_000_000)
    #expect(read(rtc, 0x00) == 0x01)
    #expect(read(rtc, 0x02) == 0x30)
    #expect(read(rtc, 0x04) == 0x07)
}

@Test func rtcUpdateInProgressAndInterrupt() {
    let irq = RecordingInterruptLine()
    let rtc = RTC146818(startTime: leapDay, irq: irq)
    _ = rtc.advance(to: 999_755_999)
    #expect(read(rtc, 0x0A) == 0x26)
    _ = rtc.advance(to: 999_756_000)
    #expect(read(rtc, 0x0A) == 0xA6)                            // UIP
    #expect(read(rtc, 0x0D) == 0x80)
    write(rtc, 0x0B, 0x12)                                      // UIE
    #expect(rtc.advance(to: 999_756_000) == 1_000_000_000)
    #expect(!irq.level)
    _ = rtc.advance(to: 1_000_000_000)
    #expect(irq.level)
    #expect(read(rtc, 0x0C) == 0xD0)                            // IRQF | UF, and PF (set even with PIE off)
    #expect(!irq.level)
    #expect(read(rtc, 0x0C) == 0x00)
}

@Test func rtcMemorySizeFields() {
    let rtc = RTC146818(startTime: 0, ramSize: 128 << 20)
    #expect(read(rtc, 0x15) == 0x80 && read(rtc, 0x16) == 0x02)   // 640 KiB
    #expect(read(rtc, 0x17) == 0xFF && read(rtc, 0x18) == 0xFF)   // 127 MiB clamps to 0xFFFF KiB
    #expect(read(rtc, 0x30) == 0xFF && read(rtc, 0x31) == 0xFF)
    #expect(read(rtc, 0x34) == 0x00 && read(rtc, 0x35) == 0x07)   // 112 MiB / 64 KiB = 0x700
    let small = RTC146818(startTime: 0, ramSize: 32 << 20)
    #expect(read(small, 0x17) == 0x00 && read(small, 0x18) == 0x7C) // 31 MiB = 0x7C00 KiB
    #expect(read(small, 0x34) == 0x00 && read(small, 0x35) == 0x01) // 16 MiB / 64 KiB = 0x100
    let big = RTC146818(startTime: 0, ramSize: 8 << 30)
    #expect(read(big, 0x5B) == 0x00 && read(big, 0x5C) == 0x20 && read(big, 0x5D) == 0x01) // 4.5 GiB above 4G
}
