import Testing
@testable import Devices

/// The usual PC initialization: master vectors 0x20, slave 0x28, cascade on IRQ2, 8086 mode.
func initPIC(_ pic: DualPIC) {
    let m = pic.masterPorts, s = pic.slavePorts
    m.writeByte(offset: 0, value: 0x11); m.writeByte(offset: 1, value: 0x20)
    m.writeByte(offset: 1, value: 0x04); m.writeByte(offset: 1, value: 0x01)
    s.writeByte(offset: 0, value: 0x11); s.writeByte(offset: 1, value: 0x28)
    s.writeByte(offset: 1, value: 0x02); s.writeByte(offset: 1, value: 0x01)
    m.writeByte(offset: 1, value: 0x00); s.writeByte(offset: 1, value: 0x00)
}

@Test func picPriorityAndEOI() {
    let cpu = RecordingInterruptLine()
    let pic = DualPIC(output: cpu)
    initPIC(pic)
    #expect(!cpu.level)
    pic.setIRQ(1, level: true)
    pic.setIRQ(0, level: true)
    #expect(cpu.level)
    #expect(pic.interruptVector() == 0x20)
    #expect(pic.acknowledge() == 0x20)          // IRQ0 before IRQ1
    #expect(!cpu.level)                          // IRQ1 waits: IRQ0 in service
    pic.masterPorts.writeByte(offset: 0, value: 0x0B)   // OCW3: read ISR
    #expect(pic.masterPorts.readByte(offset: 0) == 0x01)
    pic.masterPorts.writeByte(offset: 0, value: 0x20)   // non-specific EOI
    #expect(cpu.level)
    #expect(pic.acknowledge() == 0x21)
    pic.masterPorts.writeByte(offset: 0, value: 0x61)   // specific EOI for IRQ1
    #expect(pic.masterPorts.readByte(offset: 0) == 0x00)
    #expect(!cpu.level)
    // Masked IRQs are not delivered, and come when unmasked.
    pic.masterPorts.writeByte(offset: 1, value: 0x08)   // mask IRQ3
    pic.setIRQ(3, level: true)
    #expect(!cpu.level)
    #expect(pic.interruptVector() == nil)
    pic.masterPorts.writeByte(offset: 1, value: 0x00)
    #expect(cpu.level)
    #expect(pic.acknowledge() == 0x23)
    // Nothing pending: the spurious vector is IRQ7's.
    #expect(pic.acknowledge() == 0x27)
}

@Test func picCascadedSlave() {
    let cpu = RecordingInterruptLine()
    let pic = DualPIC(output: cpu)
    initPIC(pic)
    pic.line(8).raise()
    pic.setIRQ(12, level: true)
    #expect(cpu.level)
    #expect(pic.acknowledge() == 0x28)                  // IRQ8 before IRQ12
    pic.slavePorts.writeByte(offset: 0, value: 0x0B)
    #expect(pic.slavePorts.readByte(offset: 0) == 0x01) // slave ISR: IRQ8
    pic.masterPorts.writeByte(offset: 0, value: 0x0B)
    #expect(pic.masterPorts.readByte(offset: 0) == 0x04) // master ISR: IRQ2 (cascade)
    #expect(!cpu.level)
    pic.slavePorts.writeByte(offset: 0, value: 0x20)
    pic.masterPorts.writeByte(offset: 0, value: 0x20)
    #expect(cpu.level)
    #expect(pic.acknowledge() == 0x2C)
    // Masking IRQ2 on the master blocks every slave IRQ.
    pic.slavePorts.writeByte(offset: 0, value: 0x20)
    pic.masterPorts.writeByte(offset: 0, value: 0x20)
    pic.masterPorts.writeByte(offset: 1, value: 0x04)
    pic.setIRQ(9, level: true)
    #expect(!cpu.level)
}

@Test func picEdgeAndLevelTrigger() {
    let pic = DualPIC()
    initPIC(pic)
    // Edge: a held-high line requests once.
    pic.setIRQ(5, level: true)
    #expect(pic.acknowledge() == 0x25)
    pic.masterPorts.writeByte(offset: 0, value: 0x20)
    #expect(pic.interruptVector() == nil)
    pic.setIRQ(5, level: false)
    // Level via ELCR: a held-high line requests again after EOI.
    pic.elcrPorts.writeByte(offset: 0, value: 0x20 | 0x07)
    #expect(pic.elcrPorts.readByte(offset: 0) == 0x20)     // IRQ0-2 cannot be level
    pic.setIRQ(5, level: true)
    #expect(pic.acknowledge() == 0x25)
    pic.masterPorts.writeByte(offset: 0, value: 0x20)
    #expect(pic.interruptVector() == 0x25)
    pic.setIRQ(5, level: false)
    #expect(pic.interruptVector() == nil)
}
