import Testing
@testable import Devices

/// Any port, offset, size and value from a guest must leave the host running.
@Test func devicesSurviveArbitraryAccesses() throws {
    let pic = DualPIC()
    let bus = Bus.portIO()
    try bus.map(pic.masterPorts, at: 0x20, length: 2)
    try bus.map(PIT8254(irq0: pic.line(0)), at: 0x40, length: 4)
    try bus.map(RTC146818(startTime: 1_700_000_000, ramSize: 1 << 30, irq: pic.line(8)), at: 0x70, length: 2)
    try bus.map(pic.slavePorts, at: 0xA0, length: 2)
    try bus.map(DebugConsole(output: DiscardingByteSink()), at: 0xE9, length: 1)
    try bus.map(ISADebugExit(handler: RecordingExitHandler()), at: 0xF4, length: 4)
    try bus.map(Serial16550A(output: DiscardingByteSink(), interrupt: pic.line(4)), at: 0x3F8, length: 8)
    try bus.map(pic.elcrPorts, at: 0x4D0, length: 2)
    let ports: [UInt64] = [0x20, 0x21, 0x40, 0x41, 0x42, 0x43, 0x70, 0x71, 0xA0, 0xA1, 0xE9, 0xF4,
                           0x3F8, 0x3F9, 0x3FA, 0x3FB, 0x3FC, 0x3FD, 0x3FE, 0x3FF, 0x4D0, 0x4D1, 0xFFFF, 0x1234]
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 { seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return seed >> 11 }
    var now: UInt64 = 0
    for _ in 0..<50_000 {
        let port = ports[Int(next() % UInt64(ports.count))]
        let size = Int(next() % 10)
        if next() & 1 == 0 {
            bus.write(address: port, size: size, value: next() << 11)
        } else {
            _ = bus.read(address: port, size: size)
        }
        if pic.interruptPending && next() & 3 == 0 { _ = pic.acknowledge() }
        now &+= next() % 50_000
        _ = bus.advance(to: now)
    }
    _ = bus.advance(to: UInt64.max)
    #expect(bus.read(address: 0x1234, size: 1) == 0xFF)
}
