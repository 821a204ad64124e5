import Testing
@testable import Devices

final class ScratchDevice: ByteRegisterDevice {
    var bytes = [UInt8](repeating: 0, count: 4)
    func readByte(offset: UInt64) -> UInt8 { offset < 4 ? bytes[Int(offset)] : 0xFF }
    func writeByte(offset: UInt64, value: UInt8) { if offset < 4 { bytes[Int(offset)] = value } }
}

@Test func busRefusesOverlapsAndUnmappedReadsAreAllOnes() throws {
    let bus = Bus.portIO()
    try bus.map(ScratchDevice(), at: 0x3F8, length: 8)
    #expect(throws: BusError.overlap(requested: AddressRange(base: 0x3FF, length: 2),
                                     existing: AddressRange(base: 0x3F8, length: 8))) {
        try bus.map(ScratchDevice(), at: 0x3FF, length: 2)
    }
    #expect(throws: BusError.self) { try bus.map(ScratchDevice(), at: 0x3F0, length: 9) }
    #expect(throws: BusError.self) { try bus.map(ScratchDevice(), at: 0xFFFF, length: 2) }
    try bus.map(ScratchDevice(), at: 0x3F0, length: 8)          // adjacent: fine
    #expect(bus.ranges.map(\.base) == [0x3F0, 0x3F8])
    #expect(bus.read(address: 0x80, size: 1) == 0xFF)
    #expect(bus.read(address: 0x80, size: 2) == 0xFFFF)
    #expect(bus.read(address: 0x80, size: 4) == 0xFFFF_FFFF)
    #expect(bus.unmappedReads == 3)
    bus.write(address: 0x80, size: 1, value: 1)
    #expect(bus.unmappedWrites == 1)
    bus.write(address: 0x3F9, size: 2, value: 0xBEEF)            // device sees offset 1
    #expect(bus.read(address: 0x3F9, size: 2) == 0xBEEF)
    #expect(bus.read(address: 0x3F8, size: 4) == 0x00BE_EF00)
    let mmio = Bus.mmio()
    try mmio.map(ScratchDevice(), at: 0xFFFF_FFFF_FFFF_F000, length: 0x1000)
    #expect(mmio.read(address: 0xFFFF_FFFF_FFFF_FFFF, size: 1) == 0xFF)
    #expect(mmio.read(address: 0x1000, size: 8) == UInt64.max)
}

@Test func isaDebugExitStatus() throws {
    let handler = RecordingExitHandler()
    let bus = Bus.portIO()
    try bus.map(ISADebugExit(handler: handler), at: 0xF4, length: 4)
    bus.write(address: 0xF4, size: 1, value: 0x10)
    bus.write(address: 0xF4, size: 4, value: 0)
    bus.write(address: 0xF4, size: 1, value: 0x1FF)   // truncated to one byte
    #expect(handler.statuses == [0x21, 1, 0x1FF])
}

@Test func debugConsoleWritesToSink() throws {
    let sink = CapturingByteSink()
    let bus = Bus.portIO()
    try bus.map(DebugConsole(output: sink), at: 0xE9, length: 1)
    for byte in "hi\n".utf8 { bus.write(address: 0xE9, size: 1, value: UInt64(byte)) }
    #expect(sink.text == "hi\n")
    #expect(bus.read(address: 0xE9, size: 1) == 0xE9)
}
