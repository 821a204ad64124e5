import Testing
import X86
import Guests

/// A bus that records the debug-port text and the status port of the boot guest.
final class BootGuestBus: PlatformBus {
    var text: [UInt8] = []
    var status: [UInt8] = []
    func ioRead(port: UInt16, size: Int) -> UInt32 { 0xFFFF_FFFF }
    func ioWrite(port: UInt16, size: Int, value: UInt32) {
        if port == BootGuest.debugPort { text.append(UInt8(truncatingIfNeeded: value)) }
        if port == BootGuest.statusPort { status.append(UInt8(truncatingIfNeeded: value)) }
    }
    func mmioRead(address: UInt64, size: Int) -> UInt64 { ~0 }
    func mmioWrite(address: UInt64, size: Int, value: UInt64) {}
    var lines: [String] { String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init) }
}

/// Runs a boot guest bare from the reset state; returns the CPU, the bus and the stop reason.
func runBootGuest(_ guest: BootGuest, limit: Int = 2_000_000) throws -> (CPU, BootGuestBus, StopReason) {
    let mem = PhysicalMemory(ramSize: BootGuest.ramSize)
    try mem.allocateRAM(at: BootGuest.romBase, size: UInt64(BootGuest.romSize))
    #expect(mem.write(guest.rom, at: BootGuest.romBase))
    let bus = BootGuestBus()
    let cpu = CPU(memory: mem, bus: bus)
    cpu.reset()
    let stop = cpu.run(instructionLimit: limit)
    return (cpu, bus, stop)
}

@Test func bootGuestImageLayout() throws {
    let guest = try BootGuest.build()
    #expect(guest.rom.count == BootGuest.romSize)
    #expect(guest.steps == BootGuest.stepNames)
    // The reset vector (physical FFFFFFF0) is a near JMP rel16.
    #expect(guest.rom[0xFFF0] == 0xE9)
}

@Test func bootGuestReportsEveryStep() throws {
    let guest = try BootGuest.build()
    let (cpu, bus, stop) = try runBootGuest(guest)
    let lines = bus.lines
    #expect(lines.count == guest.steps.count + 1, "\(lines)")
    for (i, step) in guest.steps.enumerated() where i < lines.count {
        #expect(lines[i] == "ok \(step)" || lines[i].hasPrefix("ok \(step) "), "step \(i): \(lines[i])")
    }
    #expect(lines.contains("ok page-fault cr2=0x2abcd8 err=0x2"))
    #expect(lines.contains("ok general-protection err=0xf00"))
    #expect(lines.contains("ok user-protection pf-err=0x7 gp-err=0x0"))
    #expect(lines.last == "done")
    // The exact exit: HLT with interrupts off at ring 0 in 64-bit mode, status "success".
    #expect(stop == .halted)
    #expect(bus.status == [BootGuest.statusSuccess])
    #expect(cpu.halted)
    #expect(cpu.rip == guest.haltAddress)
    #expect(cpu.cpl == 0)
    #expect(cpu.mode == .long64)
    #expect(cpu.rflags & 0x200 == 0)
    #expect(cpu.segment(.cs).selector == 0x08)
    #expect(cpu.cr2 == 0x40_0100)  // the last fault: ring 3 writing the supervisor alias page
    #expect(cpu.efer & 0x500 == 0x500)  // LME and LMA
    // A second run stays halted.
    #expect(cpu.run(instructionLimit: 100) == .halted)
}

@Test func bootGuestReportsWrongCR2() throws {
    var config = BootGuest.Configuration()
    config.expectedCR2 = 0xDEAD_0000
    let (cpu, bus, stop) = try runBootGuest(try BootGuest.build(config))
    #expect(bus.lines.last == "FAIL page-fault cr2 cr2=0x2abcd8 expected=0xdead0000", "\(bus.lines)")
    #expect(!bus.lines.contains("done"))
    #expect(bus.status == [BootGuest.statusFailure])
    #expect(stop == .halted)
    #expect(cpu.cpl == 0)
}

@Test func bootGuestReportsWrongPageFaultErrorCode() throws {
    var config = BootGuest.Configuration()
    config.expectedPageFaultError = 0x3
    let (_, bus, _) = try runBootGuest(try BootGuest.build(config))
    #expect(bus.lines.last == "FAIL page-fault err err=0x2 expected=0x3", "\(bus.lines)")
    #expect(bus.status == [BootGuest.statusFailure])
}

@Test func bootGuestReportsWrongGPErrorCode() throws {
    var config = BootGuest.Configuration()
    config.faultingSelector = 0x0F03      // same index, RPL 3: the error code is still 0x0F00
    config.expectedGPError = 0x0F03
    let (_, bus, _) = try runBootGuest(try BootGuest.build(config))
    #expect(bus.lines.last == "FAIL general-protection err err=0xf00 expected=0xf03", "\(bus.lines)")
    #expect(bus.lines.dropLast().allSatisfy { $0.hasPrefix("ok ") })
}

@Test func bootGuestUnexpectedFaultIsReported() throws {
    // A fault address inside the mapped 0–2 MiB page takes no #PF: the guest notices.
    var config = BootGuest.Configuration()
    config.pageFaultAddress = 0x1F_0000
    config.expectedCR2 = 0x1F_0000
    let (_, bus, _) = try runBootGuest(try BootGuest.build(config))
    #expect(bus.lines.last == "FAIL page-fault not-taken-once", "\(bus.lines)")
}
