import Testing
@testable import Devices

/// Records the messages an I/O APIC sends; accepts them unless told otherwise.
private final class RecordingSink: APICInterruptSink {
    var messages: [APICInterruptMessage] = []
    var accepts = true
    func deliver(_ message: APICInterruptMessage) -> Bool {
        messages.append(message)
        return accepts
    }
    var vectors: [UInt8] { messages.map(\.vector) }
}

/// Writes redirection entry `pin` through IOREGSEL/IOWIN, high half first.
private func program(_ ioapic: IOAPIC, pin: Int, low: UInt32, high: UInt32 = 0) {
    ioapic.write(offset: 0x00, size: 4, value: UInt64(0x11 + 2 * pin))
    ioapic.write(offset: 0x10, size: 4, value: UInt64(high))
    ioapic.write(offset: 0x00, size: 4, value: UInt64(0x10 + 2 * pin))
    ioapic.write(offset: 0x10, size: 4, value: UInt64(low))
}

/// Reads register `index` through IOREGSEL/IOWIN.
private func readIndirect(_ ioapic: IOAPIC, _ index: UInt8) -> UInt32 {
    ioapic.write(offset: 0x00, size: 4, value: UInt64(index))
    return UInt32(truncatingIfNeeded: ioapic.read(offset: 0x10, size: 4))
}

private let levelBit: UInt32 = 1 << 15
private let activeLowBit: UInt32 = 1 << 13
private let maskBit: UInt32 = 1 << 16
private let remoteIRRBit: UInt32 = 1 << 14

@Test func ioapicRegisterReadBack() {
    let ioapic = IOAPIC(sink: RecordingSink(), id: 2)
    ioapic.write(offset: 0x00, size: 4, value: 0xFFFF_FF12)
    #expect(ioapic.read(offset: 0x00, size: 4) == 0x12)      // IOREGSEL keeps bits 7:0
    #expect(readIndirect(ioapic, 0x00) == 0x0200_0000)
    #expect(readIndirect(ioapic, 0x01) == 0x0017_0020)       // version 0x20, 24 entries
    #expect(readIndirect(ioapic, 0x02) == 0x0200_0000)
    ioapic.writeRegister(.id, 0xFFFF_FFFF)
    #expect(readIndirect(ioapic, 0x00) == 0x0F00_0000)       // 4-bit ID
    #expect(readIndirect(ioapic, 0x02) == 0x0F00_0000)       // arbitration ID follows
    ioapic.writeRegister(.version, 0)                        // read only
    #expect(readIndirect(ioapic, 0x01) == 0x0017_0020)
    for pin in 0..<IOAPIC.pinCount {
        #expect(readIndirect(ioapic, UInt8(0x10 + 2 * pin)) == maskBit)   // reset: masked
        #expect(readIndirect(ioapic, UInt8(0x11 + 2 * pin)) == 0)
    }
    program(ioapic, pin: 23, low: 0xFFFF_FFFF, high: 0xFFFF_FFFF)
    #expect(readIndirect(ioapic, 0x3E) == 0x0001_AFFF)       // delivery status and remote IRR read only
    #expect(readIndirect(ioapic, 0x3F) == 0xFF00_0000)
    #expect(ioapic.readRegister(.redirectionLow(23)) == 0x0001_AFFF)
    #expect(ioapic.readRegister(.redirectionHigh(-1)) == 0xFF00_0000)   // pins wrap
    #expect(ioapic.redirectionEntry(23)?.destination == 0xFF)
    #expect(ioapic.redirectionEntry(24) == nil)
    #expect(readIndirect(ioapic, 0x40) == 0)                 // no register
    #expect(readIndirect(ioapic, 0x03) == 0)
    // Other sizes and offsets.
    ioapic.write(offset: 0x00, size: 4, value: 0x01)
    #expect(ioapic.read(offset: 0x10, size: 2) == 0)
    #expect(ioapic.read(offset: 0x10, size: 8) == 0)
    #expect(ioapic.read(offset: 0x14, size: 4) == 0)
    ioapic.write(offset: 0x00, size: 1, value: 0x00)
    #expect(ioapic.read(offset: 0x00, size: 4) == 0x01)
}

@Test func ioapicEdgeTriggeredPin() {
    let sink = RecordingSink()
    let ioapic = IOAPIC(sink: sink)
    let line = ioapic.line(4)
    program(ioapic, pin: 4, low: 0x34, high: 0x0100_0000)    // fixed, physical, edge, destination 1
    line.raise()
    #expect(sink.messages == [APICInterruptMessage(vector: 0x34, destination: 1)])
    line.raise()                                             // no edge
    #expect(sink.messages.count == 1)
    line.lower()
    #expect(sink.messages.count == 1)
    line.raise()
    #expect(sink.messages.count == 2)
    // An edge while masked is lost, and unmasking does not bring it back.
    line.lower()
    program(ioapic, pin: 4, low: 0x34 | maskBit)
    line.raise()
    program(ioapic, pin: 4, low: 0x34)
    #expect(sink.messages.count == 2)
    // Remote IRR stays clear on edge pins, even when a matching EOI comes.
    ioapic.endOfInterrupt(vector: 0x34)
    #expect(readIndirect(ioapic, 0x18) & remoteIRRBit == 0)
}

@Test func ioapicLevelTriggeredPinWaitsForEOI() {
    let sink = RecordingSink()
    let ioapic = IOAPIC(sink: sink)
    let line = ioapic.line(10)
    program(ioapic, pin: 10, low: 0x3A | levelBit)
    line.raise()
    #expect(sink.vectors == [0x3A])
    #expect(sink.messages.first?.levelTriggered == true)
    #expect(readIndirect(ioapic, 0x24) & remoteIRRBit != 0)
    line.raise()
    line.lower()
    line.raise()                                             // remote IRR set: nothing more
    #expect(sink.vectors == [0x3A])
    ioapic.endOfInterrupt(vector: 0x3B)                      // another vector: no effect
    #expect(sink.vectors == [0x3A])
    ioapic.endOfInterrupt(vector: 0x3A)                      // still asserted: delivered again
    #expect(sink.vectors == [0x3A, 0x3A])
    #expect(readIndirect(ioapic, 0x24) & remoteIRRBit != 0)
    line.lower()
    ioapic.write(offset: 0x40, size: 4, value: 0x3A)         // the EOI register
    #expect(sink.vectors == [0x3A, 0x3A])
    #expect(readIndirect(ioapic, 0x24) & remoteIRRBit == 0)
    // A refused message leaves remote IRR clear, so the next event retries.
    sink.accepts = false
    line.raise()
    #expect(readIndirect(ioapic, 0x24) & remoteIRRBit == 0)
    sink.accepts = true
    program(ioapic, pin: 10, low: 0x3A | levelBit)           // rewriting the entry re-evaluates the pin
    #expect(sink.vectors == [0x3A, 0x3A, 0x3A, 0x3A])
    #expect(readIndirect(ioapic, 0x24) & remoteIRRBit != 0)
    // Switching to edge clears remote IRR.
    program(ioapic, pin: 10, low: 0x3A)
    #expect(readIndirect(ioapic, 0x24) & remoteIRRBit == 0)
}

@Test func ioapicLevelMaskedPinDeliversWhenUnmasked() {
    let sink = RecordingSink()
    let ioapic = IOAPIC(sink: sink)
    program(ioapic, pin: 2, low: 0x42 | levelBit | maskBit)
    ioapic.setPin(2, level: true)
    #expect(sink.messages.isEmpty)
    program(ioapic, pin: 2, low: 0x42 | levelBit)
    #expect(sink.vectors == [0x42])
    // Masking does not clear remote IRR; the EOI still re-delivers only if unmasked.
    program(ioapic, pin: 2, low: 0x42 | levelBit | maskBit)
    ioapic.endOfInterrupt(vector: 0x42)
    #expect(sink.vectors == [0x42])
    program(ioapic, pin: 2, low: 0x42 | levelBit)
    #expect(sink.vectors == [0x42, 0x42])
}

@Test func ioapicPolarity() {
    let sink = RecordingSink()
    let ioapic = IOAPIC(sink: sink)
    let edge = ioapic.line(5), level = ioapic.line(11)
    edge.raise()                                             // idle high, as an active-low line rests
    program(ioapic, pin: 5, low: 0x50 | activeLowBit)
    #expect(sink.messages.isEmpty)
    edge.lower()                                             // falling edge: asserted
    #expect(sink.vectors == [0x50])
    edge.raise()
    #expect(sink.vectors == [0x50])
    level.raise()
    program(ioapic, pin: 11, low: 0x51 | activeLowBit | levelBit)
    #expect(!ioapic.isAsserted(11))
    #expect(sink.vectors == [0x50])
    level.lower()                                            // low: asserted
    #expect(ioapic.isAsserted(11))
    #expect(sink.vectors == [0x50, 0x51])
    level.raise()
    ioapic.endOfInterrupt(vector: 0x51)
    #expect(sink.vectors == [0x50, 0x51])
}

@Test func ioapicIgnoredDeliveryModesAndStrayPins() {
    let sink = RecordingSink()
    let ioapic = IOAPIC(sink: sink)
    program(ioapic, pin: 0, low: 0x700)                       // ExtINT
    program(ioapic, pin: 1, low: 0x400)                       // NMI
    program(ioapic, pin: 3, low: 0x500)                       // INIT
    program(ioapic, pin: 6, low: 0x166, high: 0x0F00_0000)    // lowest priority: delivered
    for pin in [0, 1, 3, 6] { ioapic.setPin(pin, level: true) }
    #expect(ioapic.ignoredDeliveries == 3)
    #expect(sink.messages == [APICInterruptMessage(vector: 0x66, deliveryMode: .lowestPriority, destination: 0x0F)])
    for pin in [-1, 24, 31, 32, 64, Int.max, Int.min] {
        ioapic.line(pin).raise()
        ioapic.setPin(pin, level: true)
        #expect(!ioapic.isAsserted(pin))
    }
    #expect(sink.messages.count == 1)
}

@Test func ioapicDrivesLocalAPIC() {
    let apic = LocalAPIC()
    let ioapic = IOAPIC(sink: apic)
    apic.eoiListener = ioapic
    apic.writeRegister(.spuriousInterruptVector, 0x1FF)
    let line = ioapic.line(9)
    program(ioapic, pin: 9, low: 0x49 | levelBit)             // physical destination 0: this APIC
    line.raise()
    #expect(apic.acknowledge() == 0x49)
    #expect(apic.readRegister(.triggerMode(2)) == 1 << 9)    // 0x49 = 2 * 32 + 9
    apic.writeRegister(.endOfInterrupt, 0)                    // level EOI: still asserted, delivered again
    #expect(apic.pendingVector() == 0x49)
    line.lower()
    #expect(apic.acknowledge() == 0x49)
    apic.write(offset: 0xB0, size: 4, value: 0)
    #expect(apic.pendingVector() == nil)
    #expect(ioapic.redirectionEntry(9)?.remoteIRR == false)
    // Destinations: broadcast is accepted, another APIC ID is not (remote IRR stays clear).
    program(ioapic, pin: 9, low: 0x49 | levelBit, high: 0x0500_0000)
    line.raise()
    #expect(apic.pendingVector() == nil)
    #expect(ioapic.redirectionEntry(9)?.remoteIRR == false)
    program(ioapic, pin: 9, low: 0x49 | levelBit, high: 0xFF00_0000)
    #expect(apic.pendingVector() == 0x49)
    line.lower()
    _ = apic.acknowledge()
    apic.writeRegister(.endOfInterrupt, 0)
    // Logical destination, flat model: delivered when the LDR shares a bit.
    apic.writeRegister(.logicalDestination, 0x0100_0000)
    program(ioapic, pin: 7, low: 0x57 | 1 << 11, high: 0x0200_0000)
    ioapic.setPin(7, level: true)
    #expect(apic.pendingVector() == nil)
    program(ioapic, pin: 7, low: 0x57 | 1 << 11, high: 0x0300_0000)
    ioapic.setPin(7, level: false)
    ioapic.setPin(7, level: true)
    #expect(apic.pendingVector() == 0x57)
    // A software-disabled APIC refuses the message.
    apic.writeRegister(.spuriousInterruptVector, 0xFF)
    program(ioapic, pin: 8, low: 0x58)
    ioapic.setPin(8, level: true)
    #expect(apic.highestRequestedVector == 0x57)
}

@Test func ioapicStateRestores() {
    let sink = RecordingSink()
    let ioapic = IOAPIC(sink: sink)
    program(ioapic, pin: 3, low: 0x33 | levelBit, high: 0x0100_0000)
    ioapic.setPin(3, level: true)
    let snapshot = ioapic.state
    let copy = IOAPIC(sink: sink)
    copy.restore(snapshot)
    #expect(copy.state == snapshot)
    #expect(sink.messages.count == 1)                          // restoring delivers nothing
    var broken = snapshot
    broken.redirection = [.masked]
    copy.restore(broken)
    #expect(copy.state.redirection.count == IOAPIC.pinCount)
    #expect(copy.readRegister(.redirectionLow(23)) == maskBit)
}
