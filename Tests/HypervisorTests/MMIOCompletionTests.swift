// MMIO completed by the processor model (`VCPU.completeMMIO`): instruction forms a hand decoder would not
// know — moffs, ALU with a memory destination, locked BTS, REP MOVS/STOS, 16-bit code — on a fake device,
// through the public API only.
import Testing
import X86
@testable import Hypervisor

/// A device of 256 bytes of registers at `base` that logs every access.
final class FakeDevice: MMIOHandler {
    let base: UInt64
    var registers = [UInt8](repeating: 0, count: 0x100)
    var log: [String] = []
    init(base: UInt64) { self.base = base }
    func handles(address: UInt64) -> Bool { address >= base && address - base < 0x100 }
    func read(address: UInt64, size: Int) -> UInt64 {
        log.append("r\(size)@\(address - base)")
        var v: UInt64 = 0
        for i in 0..<size where Int(address - base) + i < 0x100 { v |= UInt64(registers[Int(address - base) + i]) << (8 * UInt64(i)) }
        return v
    }
    func write(address: UInt64, size: Int, value: UInt64) {
        log.append("w\(size)@\(address - base)")
        for i in 0..<size where Int(address - base) + i < 0x100 { registers[Int(address - base) + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    func dword(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(registers[offset + $1]) << (8 * UInt32($1)) } }
}

private let deviceBase: UInt64 = 0xFEE0_0000

/// A flat 32-bit guest with `code` at 0x1000 and HLT exiting; runs it to its HLT, completing every EPT
/// violation at the device with `completeMMIO`. Returns the vCPU and how many MMIO exits there were.
private func runWithDevice(_ code: [UInt8], _ device: FakeDevice, setUp: (VirtualMachine, VCPU) throws -> Void = { _, _ in })
    throws -> (VCPU, Int) {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)
    vm.memory.write(code + [0xF4], at: 0x1000)
    let vcpu = vm.makeVCPU()
    try vcpu.write(.guestRIP, 0x1000)
    vcpu.write(.rsp, 0x8000)
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.hltExiting.rawValue))
    try setUp(vm, vcpu)
    var exits = 0
    for _ in 0..<100 {
        let e = try vcpu.run(instructionBudget: 1000)
        if e.reason == .hlt { return (vcpu, exits) }
        try #require(e.reason == .eptViolation, "unexpected exit \(e.reason)")
        #expect(device.handles(address: e.guestPhysicalAddress))
        exits += 1
        #expect(try vcpu.completeMMIO(device) == nil)
    }
    Issue.record("the guest did not reach its HLT")
    return (vcpu, exits)
}

@Test func mmioMoffsLoadAndALUWithMemoryDestination() throws {
    let device = FakeDevice(base: deviceBase)
    device.registers[0x30] = 0x34; device.registers[0x31] = 0x12
    device.registers[0x10] = 0xFF
    let code: [UInt8] = [
        0xA1, 0x30, 0x00, 0xE0, 0xFE,                               // mov eax, [0xfee00030]   (moffs)
        0x81, 0x05, 0x10, 0x00, 0xE0, 0xFE, 0x01, 0x00, 0x00, 0x00, // add dword [0xfee00010], 1
        0xF0, 0x0F, 0xBA, 0x2D, 0x20, 0x00, 0xE0, 0xFE, 0x03,       // lock bts dword [0xfee00020], 3
    ]
    let (vcpu, exits) = try runWithDevice(code, device)
    #expect(exits == 3)
    #expect(vcpu.read(.rax) == 0x1234)
    #expect(device.dword(0x10) == 0x100)
    #expect(device.dword(0x20) == 8)
    #expect(device.log == ["r4@48", "r4@16", "w4@16", "r4@32", "w4@32"])
    #expect(vcpu.read(.guestRIP) == 0x1000 + UInt64(code.count))
    // The ADD's carry out of bit 7 and no carry out of bit 31: flags as the model computes them.
    #expect(vcpu.read(.guestRFLAGS) & RFLAGS.cf.rawValue == 0)
}

@Test func mmioRepMovsAndStosFromRAMToTheDevice() throws {
    let device = FakeDevice(base: deviceBase)
    let code: [UInt8] = [
        0xBE, 0x00, 0x20, 0x00, 0x00,       // mov esi, 0x2000
        0xBF, 0x40, 0x00, 0xE0, 0xFE,       // mov edi, 0xfee00040
        0xB9, 0x03, 0x00, 0x00, 0x00,       // mov ecx, 3
        0xFC,                               // cld
        0xF3, 0xA5,                         // rep movsd
        0xB8, 0xEF, 0xBE, 0xAD, 0xDE,       // mov eax, 0xdeadbeef
        0xAB,                               // stosd
    ]
    let (vcpu, exits) = try runWithDevice(code, device) { vm, _ in
        vm.memory.write([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0], at: 0x2000)
    }
    #expect(exits == 2)
    #expect([device.dword(0x40), device.dword(0x44), device.dword(0x48), device.dword(0x4C)] == [1, 2, 3, 0xDEAD_BEEF])
    #expect(vcpu.read(.rcx) == 0)
    #expect(vcpu.read(.rdi) == 0xFEE0_0050)
}

@Test func mmioIn16BitCode() throws {
    let device = FakeDevice(base: deviceBase)
    device.registers[0x8] = 0x77
    let code: [UInt8] = [
        0xA1, 0x08, 0x00,                   // mov ax, [0x8]        (16-bit moffs, DS base at the device)
        0x66, 0xC7, 0x06, 0x0C, 0x00, 0x44, 0x33, 0x22, 0x11,  // mov dword [0xc], 0x11223344
        0x80, 0x36, 0x08, 0x00, 0x0F,       // xor byte [0x8], 0x0f
    ]
    let (vcpu, exits) = try runWithDevice(code, device) { _, vcpu in
        var v = vcpu.vmcs
        v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF, accessRights: 0x9B))
        v.setGuestSegment(.ds, SegmentRegister(selector: 0x10, base: deviceBase, limit: 0xFFFF, accessRights: 0x93))
        vcpu.vmcs = v
    }
    #expect(exits == 3)
    #expect(vcpu.read(.rax) & 0xFFFF == 0x77)
    #expect(device.dword(0xC) == 0x1122_3344)
    #expect(device.registers[0x8] == 0x78)
}

@Test func mmioAccessOutsideTheHandlerIsAnExitAgain() throws {
    let device = FakeDevice(base: deviceBase)
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)
    vm.memory.write([0xA1, 0x00, 0x10, 0xE0, 0xFE, 0xF4], at: 0x1000)    // mov eax, [0xfee01000]: not the device's
    let vcpu = vm.makeVCPU()
    try vcpu.write(.guestRIP, 0x1000)
    let e = try vcpu.run(instructionBudget: 100)
    #expect(e.reason == .eptViolation)
    let again = try vcpu.completeMMIO(device)
    #expect(again?.reason == .eptViolation)
    #expect(again?.guestPhysicalAddress == 0xFEE0_1000)
    #expect(vcpu.read(.guestRIP) == 0x1000)
    #expect(device.log.isEmpty)
}

@Test func translateWalksTheGuestPageTablesWithoutSideEffects() throws {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)
    let vcpu = vm.makeVCPU()
    // 32-bit paging: the page directory at 0x10000, one page table at 0x11000 mapping 0x400000 → 0x23000.
    vm.memory.writeInteger(0x11000 | 3, at: 0x10000 + 4, size: 4)
    vm.memory.writeInteger(0x23000 | 3, at: 0x11000, size: 4)
    #expect(vcpu.translate(linear: 0x40_0123) == 0x40_0123)           // paging off: the address itself
    try vcpu.write(.guestCR3, 0x10000)
    try vcpu.write(.guestCR0, vcpu.read(.guestCR0) | CR0.pg.rawValue)
    #expect(vcpu.translate(linear: 0x40_0123) == 0x23123)
    #expect(vcpu.translate(linear: 0x40_1000) == nil)
    #expect(vcpu.translate(linear: 0x80_0000) == nil)
    #expect(vm.memory.readInteger(at: 0x11000, size: 4) == 0x23003)   // no accessed bit set by the probe
}
