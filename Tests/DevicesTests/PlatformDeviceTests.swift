import Testing
@testable import Devices

// MARK: - i8042

/// A controller on a port bus at 0x60/0x64, with recorded IRQ 1/12 and resets.
private struct KeyboardController {
    let controller: I8042
    let bus = Bus.portIO()
    let irq1 = RecordingInterruptLine()
    let irq12 = RecordingInterruptLine()
    let resets = RecordingResetHandler()

    init() throws {
        controller = I8042(keyboardIRQ: irq1, auxIRQ: irq12, resetHandler: resets)
        try bus.map(controller.dataPort, at: 0x60, length: 1)
        try bus.map(controller.commandPort, at: 0x64, length: 1)
    }

    var status: UInt8 { UInt8(truncatingIfNeeded: bus.read(address: 0x64, size: 1)) }
    func command(_ value: UInt8) { bus.write(address: 0x64, size: 1, value: UInt64(value)) }
    func data(_ value: UInt8) { bus.write(address: 0x60, size: 1, value: UInt64(value)) }
    func readData() -> UInt8 { UInt8(truncatingIfNeeded: bus.read(address: 0x60, size: 1)) }

    /// Reads every byte waiting (as i8042_flush does), noting whether each was auxiliary data.
    func drain() -> [(UInt8, aux: Bool)] {
        var bytes: [(UInt8, aux: Bool)] = []
        while status & I8042StatusBit.outputBufferFull != 0 && bytes.count < 64 {
            let aux = status & I8042StatusBit.auxOutputBufferFull != 0
            bytes.append((readData(), aux))
        }
        return bytes
    }
    func drainValues() -> [UInt8] { drain().map(\.0) }
}

@Test func i8042SelfTestAndInterfaceTests() throws {
    let kbc = try KeyboardController()
    #expect(kbc.status & I8042StatusBit.outputBufferFull == 0)
    #expect(kbc.status & I8042StatusBit.inputBufferFull == 0)
    #expect(kbc.status & I8042StatusBit.keyboardUnlocked != 0)
    kbc.command(0xAA)
    #expect(kbc.status & I8042StatusBit.outputBufferFull != 0)
    #expect(kbc.status & I8042StatusBit.commandData != 0)             // last write went to 0x64
    #expect(kbc.readData() == 0x55)
    #expect(kbc.status & I8042StatusBit.systemFlag != 0)
    #expect(kbc.status & I8042StatusBit.outputBufferFull == 0)
    kbc.command(0xAB)
    #expect(kbc.drainValues() == [0x00])
    kbc.command(0xA9)
    #expect(kbc.drainValues() == [0x00])
}

@Test func i8042CommandByteRoundTrip() throws {
    let kbc = try KeyboardController()
    kbc.command(0x20)
    #expect(kbc.drainValues() == [I8042.powerOnCommandByte])
    kbc.command(0x60)
    kbc.data(0x65)
    #expect(kbc.status & I8042StatusBit.commandData == 0)             // last write went to 0x60
    kbc.command(0x20)
    #expect(kbc.drainValues() == [0x65])
    #expect(kbc.controller.state.commandByte == 0x65)
    // 0xA7/0xA8 and 0xAD/0xAE flip command-byte bits 5 and 4.
    kbc.command(0xA8)
    kbc.command(0xAE)
    kbc.command(0x20)
    #expect(kbc.drainValues() == [0x45])
    kbc.command(0xA7)
    kbc.command(0xAD)
    kbc.command(0x20)
    #expect(kbc.drainValues() == [0x75])
    // Internal RAM bytes 1–31 through 0x61–0x7F / 0x21–0x3F.
    kbc.command(0x7F)
    kbc.data(0x5A)
    kbc.command(0x3F)
    #expect(kbc.drainValues() == [0x5A])
}

@Test func i8042KeyboardResetAndIdentify() throws {
    let kbc = try KeyboardController()
    kbc.data(0xFF)                                                     // reset
    let reset = kbc.drain()
    #expect(reset.map(\.0) == [0xFA, 0xAA])
    #expect(reset.allSatisfy { !$0.aux })
    kbc.data(0xF2)                                                     // identify
    #expect(kbc.drainValues() == [0xFA, 0xAB, 0x83])
    // Parameter commands: ACK for the command and for the parameter.
    kbc.data(0xED); kbc.data(0x02)
    kbc.data(0xF3); kbc.data(0x20)
    #expect(kbc.drainValues() == [0xFA, 0xFA, 0xFA, 0xFA])
    #expect(kbc.controller.state.keyboard.leds == 0x02 && kbc.controller.state.keyboard.typematic == 0x20)
    // Enable clears the keyboard's buffer (bytes not yet in the controller) before its ACK.
    kbc.controller.keyboardInput([0x1C, 0x1C])
    kbc.data(0xF4)
    #expect(kbc.drainValues() == [0x1C, 0xFA])
    kbc.data(0xF0); kbc.data(0x00)                                     // get scan-code set
    #expect(kbc.drainValues() == [0xFA, 0xFA, 0x02])
    kbc.data(0xEE)
    #expect(kbc.drainValues() == [0xEE])
    kbc.data(0x01)                                                     // not a command
    #expect(kbc.drainValues() == [0xFE])
    // With translation on, the translated ID.
    kbc.command(0x60); kbc.data(I8042.powerOnCommandByte | I8042CommandByteBit.translate)
    kbc.data(0xF2)
    #expect(kbc.drainValues() == [0xFA, 0xAB, 0x41])
}

@Test func i8042MouseThroughD4() throws {
    let kbc = try KeyboardController()
    kbc.command(0xA8)                                                  // enable aux
    kbc.command(0xD4); kbc.data(0xFF)                                  // reset
    let reset = kbc.drain()
    #expect(reset.map(\.0) == [0xFA, 0xAA, 0x00])
    #expect(reset.allSatisfy { $0.aux })
    kbc.command(0xD4); kbc.data(0xF2)                                  // identify
    #expect(kbc.drainValues() == [0xFA, 0x00])
    kbc.command(0xD4); kbc.data(0xE8); kbc.command(0xD4); kbc.data(0x03)
    kbc.command(0xD4); kbc.data(0xF3); kbc.command(0xD4); kbc.data(200)
    kbc.command(0xD4); kbc.data(0xE9)                                  // status request
    #expect(kbc.drainValues() == [0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x00, 0x03, 200])
    // Loopback (0xD3), as Linux's MUX and AUX probes use it: echoed as aux data.
    for byte: UInt8 in [0xF0, 0x56, 0xA4, 0x5A] {
        kbc.command(0xD3); kbc.data(byte)
        let echoed = kbc.drain()
        #expect(echoed.count == 1 && echoed.first?.0 == byte && echoed.first?.aux == true)
    }
    // The aux interface disabled: mouse answers wait in the mouse.
    kbc.command(0xA7)
    kbc.command(0xD4); kbc.data(0xF2)
    #expect(kbc.drain().isEmpty)
    kbc.command(0xA8)
    #expect(kbc.drainValues() == [0xFA, 0x00])
}

@Test func i8042ResetCommandCallsTheHandler() throws {
    let kbc = try KeyboardController()
    kbc.command(0xFF)                                                  // pulses nothing
    #expect(kbc.resets.causes.isEmpty)
    kbc.command(0xFE)
    #expect(kbc.resets.causes == [.keyboardController])
    kbc.command(0xF0)                                                  // bit 0 clear too
    #expect(kbc.resets.causes.count == 2)
    kbc.command(0xD1); kbc.data(0xDF)                                  // output port: A20 on, reset off
    #expect(kbc.resets.causes.count == 2 && kbc.controller.a20Enabled)
    kbc.command(0xD1); kbc.data(0xDC)                                  // reset line low
    #expect(kbc.resets.causes.count == 3 && !kbc.controller.a20Enabled)
}

@Test func i8042InterruptsFollowTheOutputBuffer() throws {
    let kbc = try KeyboardController()
    kbc.data(0xF2)                                                     // three keyboard bytes
    #expect(kbc.irq1.level && !kbc.irq12.level)
    #expect(kbc.irq1.risingEdges == 1)
    #expect(kbc.readData() == 0xFA)
    #expect(kbc.irq1.level && kbc.irq1.risingEdges == 2)               // one edge per byte
    #expect(kbc.readData() == 0xAB)
    #expect(kbc.readData() == 0x83)
    #expect(!kbc.irq1.level && kbc.irq1.risingEdges == 3)
    // Disabled by the command byte: no IRQ 1, OBF still set.
    kbc.command(0x60); kbc.data(0x00)
    kbc.data(0xEE)
    #expect(!kbc.irq1.level && kbc.status & I8042StatusBit.outputBufferFull != 0)
    #expect(kbc.readData() == 0xEE)
    // IRQ 12 for auxiliary data when command-byte bit 1 is set (Linux's AUX IRQ test).
    kbc.command(0x60); kbc.data(I8042CommandByteBit.auxInterrupt | I8042CommandByteBit.keyboardInterrupt)
    kbc.command(0xD3); kbc.data(0xA5)
    #expect(kbc.irq12.level && !kbc.irq1.level)
    #expect(kbc.readData() == 0xA5)
    #expect(!kbc.irq12.level)
    // Key input goes through the keyboard queue.
    kbc.controller.keyboardInput([0x1C, 0xF0, 0x1C])
    #expect(kbc.irq1.level)
    #expect(kbc.drainValues() == [0x1C, 0xF0, 0x1C])
    #expect(!kbc.irq1.level)
}

// MARK: - Reset registers

@Test func systemControlPortAResetsOnRisingBit0() throws {
    let resets = RecordingResetHandler()
    let port = SystemControlPortA(handler: resets)
    let bus = Bus.portIO()
    try bus.map(port, at: 0x92, length: 1)
    #expect(bus.read(address: 0x92, size: 1) == 0x02)                 // A20 on
    #expect(port.a20Enabled)
    bus.write(address: 0x92, size: 1, value: 0x00)
    #expect(!port.a20Enabled && resets.causes.isEmpty)
    bus.write(address: 0x92, size: 1, value: 0x03)
    #expect(resets.causes == [.systemControlPortA] && port.a20Enabled)
    #expect(bus.read(address: 0x92, size: 1) == 0x03)
    bus.write(address: 0x92, size: 1, value: 0x03)                     // no new 0→1 change
    #expect(resets.causes.count == 1)
    port.reset()
    #expect(bus.read(address: 0x92, size: 1) == 0x02)
    bus.write(address: 0x92, size: 1, value: 0x01)
    #expect(resets.causes.count == 2)
}

@Test func resetControlRegisterResetsWithRSTCPU() throws {
    let resets = RecordingResetHandler()
    let register = ResetControlRegister(handler: resets)
    let bus = Bus.portIO()
    try bus.map(register, at: 0xCF9, length: 1)
    bus.write(address: 0xCF9, size: 1, value: 0x02)                   // Linux: SYS_RST first
    #expect(resets.causes.isEmpty)
    #expect(bus.read(address: 0xCF9, size: 1) == 0x02)
    bus.write(address: 0xCF9, size: 1, value: 0x06)
    #expect(resets.causes == [.resetControlRegister(hard: true)])
    #expect(bus.read(address: 0xCF9, size: 1) == 0x02)                // RST_CPU reads 0
    bus.write(address: 0xCF9, size: 1, value: 0x04)
    #expect(resets.causes.last == .resetControlRegister(hard: false))
}

// MARK: - PCI

private func pciBus() throws -> (PCIHost, Bus) {
    let host = PCIHost()
    let bus = Bus.portIO()
    try bus.map(host.addressPort, at: 0xCF8, length: 1)
    try bus.map(ResetControlRegister(handler: RecordingResetHandler()), at: 0xCF9, length: 1)
    try bus.map(host.dataPort, at: 0xCFC, length: 4)
    return (host, bus)
}

private func configAddress(bus: UInt32 = 0, device: UInt32, function: UInt32 = 0, register: UInt32) -> UInt64 {
    UInt64(0x8000_0000 | bus << 16 | device << 11 | function << 8 | (register & 0xFC))
}

@Test func pciHostBridgeReadsAtEveryWidth() throws {
    let (_, bus) = try pciBus()
    bus.write(address: 0xCF8, size: 4, value: configAddress(device: 0, register: 0))
    #expect(bus.read(address: 0xCF8, size: 4) == 0x8000_0000)
    #expect(bus.read(address: 0xCFC, size: 4) == 0x1237_8086)
    #expect(bus.read(address: 0xCFC, size: 2) == 0x8086)
    #expect(bus.read(address: 0xCFE, size: 2) == 0x1237)
    #expect(bus.read(address: 0xCFC, size: 1) == 0x86)
    #expect(bus.read(address: 0xCFD, size: 1) == 0x80)
    #expect(bus.read(address: 0xCFE, size: 1) == 0x37)
    #expect(bus.read(address: 0xCFF, size: 1) == 0x12)
    // Class code and revision (register 0x08), header type (0x0E).
    bus.write(address: 0xCF8, size: 4, value: configAddress(device: 0, register: 0x08))
    #expect(bus.read(address: 0xCFC, size: 4) == 0x0600_0002)
    #expect(bus.read(address: 0xCFE, size: 2) == 0x0600)              // Linux's PCI_CLASS_DEVICE check
    bus.write(address: 0xCF8, size: 4, value: configAddress(device: 0, register: 0x0C))
    #expect(bus.read(address: 0xCFE, size: 1) == 0x00)
    // Command and status: writable bits only; status write-1-to-clear.
    bus.write(address: 0xCF8, size: 4, value: configAddress(device: 0, register: 0x04))
    #expect(bus.read(address: 0xCFC, size: 4) == 0x0280_0006)
    bus.write(address: 0xCFC, size: 2, value: 0xFFFF)
    #expect(bus.read(address: 0xCFC, size: 2) == 0x0146)
    bus.write(address: 0xCFE, size: 2, value: 0xFFFF)
    #expect(bus.read(address: 0xCFE, size: 2) == 0x0280)
}

@Test func pciAbsentFunctionsAndDisabledMappingReadAllOnes() throws {
    let (host, bus) = try pciBus()
    bus.write(address: 0xCF8, size: 4, value: configAddress(device: 1, register: 0))
    #expect(bus.read(address: 0xCFC, size: 4) == 0xFFFF_FFFF)
    #expect(bus.read(address: 0xCFC, size: 2) == 0xFFFF)
    bus.write(address: 0xCF8, size: 4, value: configAddress(device: 0, function: 1, register: 0))
    #expect(bus.read(address: 0xCFC, size: 4) == 0xFFFF_FFFF)
    bus.write(address: 0xCF8, size: 4, value: configAddress(bus: 1, device: 0, register: 0))
    #expect(bus.read(address: 0xCFC, size: 4) == 0xFFFF_FFFF)
    // Bit 31 clear: no configuration cycle.
    bus.write(address: 0xCF8, size: 4, value: 0x0000_0000)
    #expect(bus.read(address: 0xCFC, size: 4) == 0xFFFF_FFFF)
    // Non-dword accesses at 0xCF8 are not CONFIG_ADDRESS.
    bus.write(address: 0xCF8, size: 4, value: configAddress(device: 0, register: 0))
    bus.write(address: 0xCF8, size: 2, value: 0)
    #expect(bus.read(address: 0xCF8, size: 4) == 0x8000_0000)
    #expect(bus.read(address: 0xCF8, size: 1) == 0xFF)
    // Reserved bits read 0 (Linux's pci_check_type1 writes 0x80000000 and reads it back).
    bus.write(address: 0xCF8, size: 4, value: 0xFFFF_FFFF)
    #expect(bus.read(address: 0xCF8, size: 4) == 0x80FF_FFFC)
    // A registered function answers; a taken address is refused.
    final class Dummy: PCIFunction {
        func readConfiguration(register: UInt8) -> UInt32 { register == 0 ? 0xBEEF_1AF4 : 0 }
        func writeConfiguration(register: UInt8, value: UInt32, byteEnables: UInt8) {}
    }
    let three = try #require(PCIAddress(device: 3))
    try host.register(Dummy(), at: three)
    #expect(throws: PCIHostError.addressInUse(three)) { try host.register(Dummy(), at: three) }
    let zero = try #require(PCIAddress(device: 0))
    #expect(throws: PCIHostError.addressInUse(zero)) { try host.register(Dummy(), at: zero) }
    #expect(PCIAddress(device: 32) == nil)
    bus.write(address: 0xCF8, size: 4, value: configAddress(device: 3, register: 0))
    #expect(bus.read(address: 0xCFC, size: 4) == 0xBEEF_1AF4)
}

// MARK: - fw_cfg

private func fwCfgRead(_ bus: Bus, selector: UInt16, count: Int) -> [UInt8] {
    bus.write(address: 0x510, size: 2, value: UInt64(selector))
    return (0..<count).map { _ in UInt8(truncatingIfNeeded: bus.read(address: 0x511, size: 1)) }
}

private func littleEndian(_ bytes: [UInt8]) -> UInt64 {
    bytes.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
}

@Test func fwCfgStandardItems() throws {
    let device = FwCfg(ramSize: 512 << 20, cpuCount: 2, commandLine: "console=ttyS0")
    let bus = Bus.portIO()
    try bus.map(device, at: 0x510, length: 2)
    #expect(fwCfgRead(bus, selector: 0x0000, count: 4) == Array("QEMU".utf8))
    #expect(littleEndian(fwCfgRead(bus, selector: 0x0001, count: 4)) == 1)
    #expect(littleEndian(fwCfgRead(bus, selector: 0x0003, count: 8)) == 512 << 20)
    #expect(littleEndian(fwCfgRead(bus, selector: 0x0005, count: 2)) == 2)
    #expect(littleEndian(fwCfgRead(bus, selector: 0x0014, count: 4)) == 14)
    #expect(fwCfgRead(bus, selector: 0x0015, count: 16) == Array("console=ttyS0".utf8) + [0, 0, 0])
    // Past the end and unknown selectors read 0; the write channel bit is ignored.
    #expect(fwCfgRead(bus, selector: 0x0000, count: 6) == Array("QEMU".utf8) + [0, 0])
    #expect(fwCfgRead(bus, selector: 0x1234, count: 3) == [0, 0, 0])
    #expect(fwCfgRead(bus, selector: 0x4000, count: 4) == Array("QEMU".utf8))
    // Only 16-bit selector writes select; other accesses read all ones.
    bus.write(address: 0x510, size: 2, value: 0x0000)
    bus.write(address: 0x510, size: 1, value: 0x05)                    // ignored: still the signature
    #expect(bus.read(address: 0x511, size: 1) == UInt64(UInt8(ascii: "Q")))
    #expect(bus.read(address: 0x510, size: 2) == 0xFFFF)
    #expect(bus.read(address: 0x511, size: 2) == 0xFFFF)
}

@Test func fwCfgFileDirectory() throws {
    let device = FwCfg(ramSize: 1 << 30, cpuCount: 1)
    let bus = Bus.portIO()
    try bus.map(device, at: 0x510, length: 2)
    #expect(fwCfgRead(bus, selector: 0x0019, count: 4) == [0, 0, 0, 0])
    let b = try device.addFile("etc/b", bytes: [1, 2, 3])
    let a = try device.addFile("etc/a", bytes: Array("hello".utf8))
    #expect(b == 0x20 && a == 0x21)
    let directory = fwCfgRead(bus, selector: 0x0019, count: 4 + 2 * 64)
    #expect(directory[0..<4] == [0, 0, 0, 2])                        // big-endian count
    #expect(directory[4..<8] == [0, 0, 0, 5])                        // etc/a first (sorted): size 5
    #expect(directory[8..<10] == [0, 0x21])                          // select 0x21
    #expect(Array(directory[12..<17]) == Array("etc/a".utf8) && directory[17] == 0)
    #expect(directory[68..<72] == [0, 0, 0, 3] && directory[72..<74] == [0, 0x20])
    #expect(fwCfgRead(bus, selector: a, count: 5) == Array("hello".utf8))
    #expect(throws: FwCfgError.duplicateFileName("etc/a")) { try device.addFile("etc/a", bytes: []) }
    #expect(throws: FwCfgError.invalidFileName("")) { try device.addFile("", bytes: []) }
    let long = String(repeating: "x", count: 56)
    #expect(throws: FwCfgError.invalidFileName(long)) { try device.addFile(long, bytes: []) }
    #expect(throws: FwCfgError.reservedKey(0x19)) { try device.setItem(0x19, bytes: []) }
}

// MARK: - ACPI PM

private struct PowerManagement {
    let device: ACPIPowerManagement
    let sci = RecordingInterruptLine()
    let powerOff = RecordingPowerOffHandler()
    let bus = Bus.portIO()
    init() throws {
        device = ACPIPowerManagement(sci: sci, powerOffHandler: powerOff)
        try bus.map(device, at: UInt64(ACPIPMRegister.suggestedBase), length: ACPIPMRegister.blockLength)
    }
    var pm1Status: UInt64 { bus.read(address: 0x600, size: 2) }
    var pm1Control: UInt64 { bus.read(address: 0x604, size: 2) }
    var timer: UInt64 { bus.read(address: 0x608, size: 4) }
}

@Test func acpiPMPortsAreTheFADTLayout() {
    #expect(ACPIPMRegister.suggestedBase == 0x600)
    #expect(ACPIPMRegister.pm1Status == 0 && ACPIPMRegister.pm1Enable == 2)
    #expect(ACPIPMRegister.pm1Control == 4 && ACPIPMRegister.pmTimer == 8)
    #expect(ACPIPMRegister.pm1EventLength == 4 && ACPIPMRegister.pm1ControlLength == 2 && ACPIPMRegister.pmTimerLength == 4)
    #expect(ACPIPowerManagement.defaultS5SleepType == 5)
}

@Test func acpiS5SleepPowersOff() throws {
    let pm = try PowerManagement()
    #expect(pm.pm1Control & 1 == 1)                                   // SCI_EN always set
    // Linux: write SLP_TYP, then SLP_TYP | SLP_EN.
    pm.bus.write(address: 0x604, size: 2, value: 5 << 10)
    #expect(pm.powerOff.requests == 0)
    #expect(pm.pm1Control == (5 << 10) | 1)
    pm.bus.write(address: 0x604, size: 2, value: 5 << 10 | 1 << 13)
    #expect(pm.powerOff.requests == 1)
    #expect(pm.pm1Control & (1 << 13) == 0)                           // SLP_EN reads 0
}

@Test func acpiOtherSleepTypesDoNotPowerOff() throws {
    let pm = try PowerManagement()
    for type: UInt64 in [0, 1, 3, 4, 6, 7] {
        pm.bus.write(address: 0x604, size: 2, value: type << 10 | 1 << 13)
        #expect(pm.powerOff.requests == 0)
        #expect(pm.pm1Status & UInt64(PM1StatusBit.wake) != 0)       // woke at once
        pm.bus.write(address: 0x600, size: 2, value: UInt64(PM1StatusBit.wake))
        #expect(pm.pm1Status == 0)
    }
    pm.bus.write(address: 0x604, size: 2, value: 0xFFFF & ~(1 << 13))  // everything but SLP_EN
    pm.bus.write(address: 0x600, size: 4, value: 0xFFFF_FFFF)          // status clear, enables set
    #expect(pm.powerOff.requests == 0)
    // A custom S5 value.
    let powerOff = RecordingPowerOffHandler()
    let other = ACPIPowerManagement(s5SleepType: 7, powerOffHandler: powerOff)
    other.write(offset: 4, size: 2, value: 5 << 10 | 1 << 13)
    #expect(powerOff.requests == 0)
    other.write(offset: 4, size: 2, value: 7 << 10 | 1 << 13)
    #expect(powerOff.requests == 1)
}

@Test func acpiPMTimerRateIsExact() throws {
    let pm = try PowerManagement()
    #expect(pm.timer == 0)
    _ = pm.device.advance(to: 1_000_000_000)
    #expect(pm.timer == 3_579_545)
    _ = pm.device.advance(to: 10_000_000_000)
    #expect(pm.timer == 35_795_450 % (1 << 24))
    _ = pm.device.advance(to: 5_000_000_000)                           // time never goes back
    #expect(pm.timer == 35_795_450 % (1 << 24))
    // Byte reads agree with the dword read; the upper byte is 0.
    let bytes = (0..<4).map { pm.bus.read(address: 0x608 + UInt64($0), size: 1) }
    #expect(bytes[0] | bytes[1] << 8 | bytes[2] << 16 == pm.timer && bytes[3] == 0)
    // One tick is 279.365… ns: exact flooring.
    let fresh = try PowerManagement()
    _ = fresh.device.advance(to: 279)
    #expect(fresh.timer == 0)
    _ = fresh.device.advance(to: 280)
    #expect(fresh.timer == 1)
}

@Test func acpiSCIFollowsStatusAndEnable() throws {
    let pm = try PowerManagement()
    pm.device.pressPowerButton()
    #expect(!pm.sci.level)                                             // PWRBTN_EN clear
    pm.bus.write(address: 0x602, size: 2, value: UInt64(PM1EnableBit.powerButton))
    #expect(pm.sci.level)
    pm.bus.write(address: 0x600, size: 2, value: UInt64(PM1StatusBit.powerButton))
    #expect(!pm.sci.level && pm.pm1Status == 0)
    // Timer overflow: TMR_STS when bit 23 changes, deadline while TMR_EN.
    #expect(pm.device.advance(to: 0) == nil)
    pm.bus.write(address: 0x602, size: 2, value: UInt64(PM1EnableBit.timer))
    let deadline = try #require(pm.device.advance(to: 0))
    // 2^23 ticks at 3.579545 MHz, rounded up to a whole nanosecond.
    #expect(deadline == (UInt64(1 << 23) * 1_000_000_000 + 3_579_544) / 3_579_545)
    _ = pm.device.advance(to: deadline - 1)
    #expect(!pm.sci.level)
    _ = pm.device.advance(to: deadline)
    #expect(pm.sci.level && pm.pm1Status & UInt64(PM1StatusBit.timer) != 0)
    pm.bus.write(address: 0x600, size: 2, value: UInt64(PM1StatusBit.timer))
    #expect(!pm.sci.level)
}

// MARK: - Robustness

@Test func platformDevicesSurviveArbitraryAccesses() throws {
    let resets = RecordingResetHandler()
    let kbc = I8042(keyboardIRQ: RecordingInterruptLine(), auxIRQ: RecordingInterruptLine(), resetHandler: resets)
    let pci = PCIHost()
    let fwcfg = FwCfg(ramSize: 1 << 30, cpuCount: 1, commandLine: "quiet")
    try fwcfg.addFile("etc/test", bytes: [1, 2, 3])
    let pm = ACPIPowerManagement(sci: RecordingInterruptLine(), powerOffHandler: RecordingPowerOffHandler())
    let devices: [any Device] = [kbc.dataPort, kbc.commandPort, SystemControlPortA(handler: resets),
                                 ResetControlRegister(handler: resets), pci.addressPort, pci.dataPort, fwcfg, pm]
    var seed: UInt64 = 0x2545_F491_4F6C_DD1D
    func next() -> UInt64 { seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return seed >> 7 }
    var now: UInt64 = 0
    for device in devices {
        for _ in 0..<100_000 {
            let offset: UInt64 = next() & 3 == 0 ? next() << 7 : next() % 16
            let size = Int(truncatingIfNeeded: Int64(bitPattern: next()) % 12)
            if next() & 1 == 0 {
                device.write(offset: offset, size: size, value: next() << 5 ^ next())
            } else {
                _ = device.read(offset: offset, size: size)
            }
            now &+= next() % 1_000_000
            _ = device.advance(to: next() & 255 == 0 ? UInt64.max : now)
        }
    }
    // Still answering sensibly afterwards.
    let bus = Bus.portIO()
    try bus.map(pci.addressPort, at: 0xCF8, length: 1)
    try bus.map(pci.dataPort, at: 0xCFC, length: 4)
    bus.write(address: 0xCF8, size: 4, value: 0x8000_0000)
    #expect(bus.read(address: 0xCFC, size: 2) == 0x8086)
    #expect(pm.read(offset: 4, size: 1) & 1 == 1)
}

@Suite("pc-testdev")
struct PCTestDeviceTests {
    final class Recorder: InterruptLine {
        var levels: [Bool] = []
        func setLevel(_ high: Bool) { levels.append(high) }
    }

    @Test func testRegisterKeepsBytesAtTheirOffsets() {
        let device = PCTestDevice { _ in DisconnectedInterruptLine() }
        device.testRegister.write(offset: 0, size: 4, value: 0x1234_5678)
        #expect(device.testRegister.read(offset: 0, size: 4) == 0x1234_5678)
        #expect(device.testRegister.read(offset: 2, size: 1) == 0x34)
        device.testRegister.write(offset: 1, size: 2, value: 0xABCD)
        #expect(device.testRegister.read(offset: 0, size: 4) == 0x12AB_CD78)
    }

    @Test func interruptLinePortsDriveTheirLines() {
        let lines = (0..<PCTestDevice.lineCount).map { _ in Recorder() }
        let device = PCTestDevice { lines[$0] }
        device.interruptLines.write(offset: 10, size: 1, value: 1)
        device.interruptLines.write(offset: 10, size: 1, value: 0)
        device.interruptLines.write(offset: 99, size: 1, value: 1)      // past the last line: ignored
        #expect(lines[10].levels == [true, false])
        #expect(lines.enumerated().allSatisfy { $0.offset == 10 || $0.element.levels.isEmpty })
    }

    @Test func memoryStoresWhatIsWritten() {
        let device = PCTestDevice { _ in DisconnectedInterruptLine() }
        device.memory.write(offset: 0xFFFC, size: 8, value: 0x1122_3344_5566_7788)   // the part past the end is dropped
        #expect(device.memory.read(offset: 0xFFFC, size: 4) == 0x5566_7788)
        #expect(device.memory.read(offset: 0x100, size: 8) == 0)
    }
}
