import Testing
@testable import Devices

/// `count` software-enabled APICs (IDs 0…count−1) on one bus, with the processor signals recorded.
private final class BusFixture {
    let apics: [LocalAPIC]
    let bus: APICBus
    var signals: [(Int, APICProcessorSignal)] = []
    init(count: Int) {
        apics = (0..<count).map { LocalAPIC(id: UInt8($0)) }
        for apic in apics { apic.writeRegister(.spuriousInterruptVector, 0x1FF) }
        bus = APICBus(apics: apics)
        bus.signalProcessor = { [unowned self] i, s in self.signals.append((i, s)) }
    }
    /// Writes the ICR of APIC `from` as software does: high half (destination), then low half (sends).
    func send(from: Int, low: UInt32, destination: UInt8 = 0) {
        apics[from].writeRegister(.interruptCommandHigh, UInt32(destination) << 24)
        apics[from].writeRegister(.interruptCommandLow, low)
    }
    func requested(_ vector: UInt8) -> [Int] {
        apics.indices.filter { apics[$0].state.interruptRequest.contains(vector) }
    }
}

@Test func smpFixedIPIPhysicalDestination() {
    let f = BusFixture(count: 4)
    f.send(from: 0, low: 0x4041, destination: 2)            // fixed, physical, assert, vector 0x41 → APIC 2
    #expect(f.requested(0x41) == [2])
    #expect(f.apics[0].readRegister(.interruptCommandLow) & (1 << 12) == 0)   // delivered: status idle
    f.send(from: 3, low: 0x4042, destination: 0xFF)         // physical broadcast
    #expect(f.requested(0x42) == [0, 1, 2, 3])
    f.send(from: 1, low: 0x4043, destination: 9)            // no such APIC
    #expect(f.requested(0x43) == [])
    #expect(f.apics[1].ignoredIPIs == 1)
}

@Test func smpIPIShorthands() {
    let f = BusFixture(count: 3)
    f.send(from: 1, low: 0x4_4050, destination: 0)          // self
    #expect(f.requested(0x50) == [1])
    f.send(from: 1, low: 0x8_4051, destination: 0)          // all including self
    #expect(f.requested(0x51) == [0, 1, 2])
    f.send(from: 1, low: 0xC_4052, destination: 1)          // all excluding self (destination ignored)
    #expect(f.requested(0x52) == [0, 2])
}

@Test func smpLogicalDestinationsFlatAndCluster() {
    let f = BusFixture(count: 4)
    // Flat model: one bit per APIC.
    for (i, apic) in f.apics.enumerated() { apic.writeRegister(.logicalDestination, UInt32(1 << i) << 24) }
    f.send(from: 0, low: 0x4860, destination: 0b1010)       // logical (bit 11): APICs 1 and 3
    #expect(f.requested(0x60) == [1, 3])
    // Cluster model: cluster 1 holds APICs 0 and 1, cluster 2 holds APICs 2 and 3.
    for (i, apic) in f.apics.enumerated() {
        apic.writeRegister(.destinationFormat, 0x0FFF_FFFF)
        apic.writeRegister(.logicalDestination, UInt32((i / 2 + 1) << 4 | 1 << (i % 2)) << 24)
    }
    f.send(from: 0, low: 0x4861, destination: 0x22)         // cluster 2, member bit 1: APIC 3
    #expect(f.requested(0x61) == [3])
    f.send(from: 0, low: 0x4862, destination: 0x13)         // cluster 1, both members
    #expect(f.requested(0x62) == [0, 1])
}

@Test func smpLowestPriorityGoesToOneAPIC() {
    let f = BusFixture(count: 3)
    f.apics[0].taskPriority = 0x40
    f.apics[1].taskPriority = 0x20
    f.apics[2].taskPriority = 0x20
    f.send(from: 0, low: 0x4170, destination: 0xFF)         // lowest priority, broadcast
    #expect(f.requested(0x70) == [1])                       // lowest PPR, lowest index on the tie
    // From the I/O APIC: a lowest-priority message to a logical set.
    for (i, apic) in f.apics.enumerated() { apic.writeRegister(.logicalDestination, UInt32(1 << i) << 24) }
    #expect(f.bus.deliver(APICInterruptMessage(vector: 0x71, deliveryMode: .lowestPriority, logicalDestination: true, destination: 0b101)))
    #expect(f.requested(0x71) == [2])
}

@Test func smpINITResetsTheAPICAndSignalsTheProcessor() {
    let f = BusFixture(count: 3)
    f.apics[2].writeRegister(.taskPriority, 0x30)
    f.send(from: 0, low: 0xC_4500)                          // INIT assert, all excluding self
    #expect(f.signals.map(\.0) == [1, 2])
    #expect(f.signals.allSatisfy { $0.1 == .initialization })
    #expect(f.apics[2].taskPriority == 0 && !f.apics[2].softwareEnabled)     // reset…
    #expect(f.apics[2].readRegister(.id) == 0x0200_0000)                    // …keeping its ID
    #expect(f.apics[0].softwareEnabled)                                     // the sender untouched
    f.signals.removeAll()
    f.send(from: 0, low: 0x8_8500)                          // INIT level de-assert (level 0, trigger level)
    #expect(f.signals.isEmpty)
    f.send(from: 0, low: 0x4608, destination: 1)            // start-up, vector 8, to APIC 1
    #expect(f.signals.count == 1 && f.signals[0].0 == 1 && f.signals[0].1 == .startup(vector: 8))
    f.send(from: 2, low: 0x4400, destination: 0)            // NMI to APIC 0
    #expect(f.signals.count == 2 && f.signals[1].0 == 0 && f.signals[1].1 == .nmi)
    #expect(f.requested(0x00) == [] && f.requested(0x08) == [])             // none of them is a vector
}

@Test func smpIllegalVectorIsASendError() {
    let f = BusFixture(count: 2)
    f.apics[0].writeRegister(.errorStatus, 0)
    f.send(from: 0, low: 0x4005, destination: 1)            // fixed vector 5
    f.apics[0].writeRegister(.errorStatus, 0)
    f.apics[1].writeRegister(.errorStatus, 0)
    #expect(f.apics[0].readRegister(.errorStatus) & 0x20 != 0)   // send illegal vector
    #expect(f.apics[1].readRegister(.errorStatus) & 0x40 != 0)   // receive illegal vector
    #expect(f.requested(5) == [])
}

@Test func smpIOAPICRedirectsToAnyAPICID() {
    let f = BusFixture(count: 4)
    let io = IOAPIC(sink: f.bus, id: 4)
    // Pin 3: vector 0x80, fixed, physical, edge, destination APIC 3.
    io.write(offset: 0, size: 4, value: 0x10 + 2 * 3)
    io.write(offset: 0x10, size: 4, value: 0x80)
    io.write(offset: 0, size: 4, value: 0x10 + 2 * 3 + 1)
    io.write(offset: 0x10, size: 4, value: 3 << 24)
    io.line(3).raise()
    #expect(f.requested(0x80) == [3])
}

@Test func apicGlobalDisableHidesThePageAndResets() {
    let apic = LocalAPIC(id: 1)
    apic.writeRegister(.spuriousInterruptVector, 0x1FF)
    apic.write(offset: 0x80, size: 4, value: 0x20)
    apic.setHardwareEnabled(false)                         // IA32_APIC_BASE bit 11 cleared
    #expect(apic.read(offset: 0x30, size: 4) == 0xFFFF_FFFF)
    apic.write(offset: 0x80, size: 4, value: 0x30)         // dropped
    #expect(!apic.accept(vector: 0x40, levelTriggered: false))
    #expect(apic.lint0ExtINT)                              // the 8259A reaches the processor directly
    apic.setHardwareEnabled(true)
    #expect(apic.read(offset: 0x30, size: 4) == UInt64(LocalAPIC.versionValue))
    #expect(apic.taskPriority == 0 && !apic.softwareEnabled)     // back in its power-up state…
    #expect(apic.read(offset: 0x20, size: 4) == 0x0100_0000)     // …with its ID
}
