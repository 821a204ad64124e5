import Testing
@testable import Devices

private let rbr: UInt64 = 0, ier: UInt64 = 1, iir: UInt64 = 2, lcr: UInt64 = 3, mcr: UInt64 = 4, lsr: UInt64 = 5, msr: UInt64 = 6

@Test func uartTransmitterStatusFollowsTime() {
    let sink = CapturingByteSink()
    let uart = Serial16550A(output: sink)
    #expect(uart.readByte(offset: lsr) == 0x60)                 // THRE | TEMT
    uart.writeByte(offset: rbr, value: UInt8(ascii: "A"))
    #expect(sink.text == "A")
    #expect(uart.readByte(offset: lsr) == 0x20)                 // holding empty, shifter busy
    // 9600 baud (divisor 12), 8N1: 10 bits = 1_041_666.67 ns per character.
    #expect(uart.advance(to: 0) == 1_041_667)
    _ = uart.advance(to: 1_041_666)
    #expect(uart.readByte(offset: lsr) == 0x20)
    #expect(uart.advance(to: 1_041_667) == nil)
    #expect(uart.readByte(offset: lsr) == 0x60)
}

@Test func uartTransmitFIFOHoldsSixteen() {
    let sink = CapturingByteSink()
    let uart = Serial16550A(output: sink)
    uart.writeByte(offset: iir, value: 0x07)                    // enable and clear FIFOs
    for byte in UInt8(0)..<18 { uart.writeByte(offset: rbr, value: byte) }
    #expect(sink.bytes == [0])                                  // 1 shifting, 16 queued, 1 lost
    #expect(uart.readByte(offset: lsr) == 0x00)
    _ = uart.advance(to: 17 * 1_041_667)
    #expect(sink.bytes == Array(0..<17))
    #expect(uart.readByte(offset: lsr) == 0x60)
}

@Test func uartReceiveOverrunAndFIFOLimit() {
    let uart = Serial16550A(output: DiscardingByteSink())
    uart.writeByte(offset: iir, value: 0x01)                    // FIFO on, trigger 1
    for byte in UInt8(1)...16 { uart.receive(byte) }
    #expect(uart.readByte(offset: lsr) == 0x61)                 // DR, no OE yet
    uart.receive(17)
    #expect(uart.readByte(offset: lsr) == 0x63)                 // OE set
    #expect(uart.readByte(offset: lsr) == 0x61)                 // OE cleared by reading LSR
    var received: [UInt8] = []
    for _ in 0..<16 { received.append(uart.readByte(offset: rbr)) }
    #expect(received == Array(1...16))
    #expect(uart.readByte(offset: lsr) == 0x60)
    // Without FIFOs the receiver buffer holds one character.
    uart.writeByte(offset: iir, value: 0x00)
    uart.receive(1); uart.receive(2)
    #expect(uart.readByte(offset: lsr) == 0x63)
    // Host input through the bounded queue is never lost.
    let queued = Serial16550A(output: DiscardingByteSink(), inputQueueCapacity: 20)
    queued.writeByte(offset: iir, value: 0x01)
    #expect(queued.enqueueInput(Array(UInt8(0)..<30)) == 20)
    #expect(queued.state.receiveFIFO.count == 16)
    var all: [UInt8] = []
    while queued.readByte(offset: lsr) & 1 != 0 { all.append(queued.readByte(offset: rbr)) }
    #expect(all == Array(0..<20))
}

@Test func uartDivisorLatch() {
    let uart = Serial16550A(output: DiscardingByteSink())
    uart.writeByte(offset: ier, value: 0x05)
    uart.writeByte(offset: lcr, value: 0x83)                    // DLAB
    uart.writeByte(offset: rbr, value: 0x01)
    uart.writeByte(offset: ier, value: 0x00)
    #expect(uart.readByte(offset: rbr) == 0x01)
    #expect(uart.readByte(offset: ier) == 0x00)
    #expect(uart.state.divisor == 1)
    uart.writeByte(offset: lcr, value: 0x03)
    #expect(uart.readByte(offset: ier) == 0x05)                 // IER untouched by the latch writes
    #expect(uart.characterTime() == 86_806)                     // 115200 baud, 8N1
    uart.writeByte(offset: lcr, value: 0x0F)                    // 8 bits, parity, 2 stop bits
    #expect(uart.characterTime() == 104_167)                    // 12 bits
}

@Test func uartLoopback() {
    let sink = CapturingByteSink()
    let line = RecordingInterruptLine()
    let uart = Serial16550A(output: sink, interrupt: line)
    uart.writeByte(offset: mcr, value: 0x13)                    // loopback, RTS, DTR
    // CTS, DSR as before (the far end drove CTS, DSR, DCD); DCD dropped: DDCD.
    #expect(uart.readByte(offset: msr) == 0x30 | 0x08)
    #expect(uart.readByte(offset: msr) == 0x30)
    uart.writeByte(offset: ier, value: 0x01)
    uart.writeByte(offset: rbr, value: 0x5A)
    #expect(sink.bytes.isEmpty)
    #expect(uart.readByte(offset: lsr) & 1 == 1)
    #expect(uart.readByte(offset: iir) == 0x04)
    #expect(!line.level)                                        // loopback cuts the IRQ pin
    #expect(uart.readByte(offset: rbr) == 0x5A)
    uart.writeByte(offset: mcr, value: 0x08)                    // normal, OUT2
    uart.writeByte(offset: rbr, value: 0x5B)
    #expect(sink.bytes.isEmpty)                                 // 0x5A still in the shifter
    _ = uart.advance(to: 1_041_667)
    #expect(sink.bytes == [0x5B])
}

@Test func uartInterrupts() {
    let line = RecordingInterruptLine()
    let uart = Serial16550A(output: DiscardingByteSink(), interrupt: line)
    uart.writeByte(offset: mcr, value: 0x08)                    // OUT2 gates the IRQ
    uart.writeByte(offset: ier, value: 0x01)
    #expect(!line.level)
    uart.enqueueInput([0x41])
    #expect(line.level)
    #expect(uart.readByte(offset: iir) == 0x04)
    _ = uart.readByte(offset: rbr)
    #expect(!line.level)
    uart.writeByte(offset: ier, value: 0x03)                    // THRE interrupt: empty now
    #expect(line.level)
    #expect(uart.readByte(offset: iir) == 0x02)
    #expect(uart.readByte(offset: iir) == 0x01)                 // reading IIR cleared it
    #expect(!line.level)
    // FIFO mode below the trigger level: character timeout after four character times.
    uart.writeByte(offset: iir, value: 0x81)                    // trigger 8
    uart.enqueueInput([1, 2])
    #expect(uart.readByte(offset: iir) == 0xC1)
    #expect(uart.advance(to: 10) == 4 * 1_041_667)
    _ = uart.advance(to: 4 * 1_041_667)
    #expect(uart.readByte(offset: iir) == 0xCC)
    #expect(line.level)
}
