import Testing
import X86
import X86Assembler

/// Collects bytes written to port 0xE9.
final class DebugPortBus: PlatformBus {
    var output: [UInt8] = []
    func ioRead(port: UInt16, size: Int) -> UInt32 { 0xFFFF_FFFF }
    func ioWrite(port: UInt16, size: Int, value: UInt32) { if port == 0xE9 { output.append(UInt8(truncatingIfNeeded: value)) } }
    func mmioRead(address: UInt64, size: Int) -> UInt64 { ~0 }
    func mmioWrite(address: UInt64, size: Int, value: UInt64) {}
}

@Test func realModeArithmeticAndPortOutput() throws {
    let mem = PhysicalMemory(ramSize: 1 << 20)
    let a = Assembler(mode: .bits16, origin: 0x7C00)
    a.mov(.ax, 0)
    a.mov(.ds, .ax)
    a.mov(.ss, .ax)
    a.mov(.sp, 0x7000)
    a.mov(.cx, 5)
    a.mov(.al, 0x41)
    let loop = a.here()
    a.out(0xE9, .al)
    a.inc(.al)
    a.loop(loop)
    a.mov(.bx, 1234)
    a.imul(.bx, .bx, 3)
    a.push(.bx)
    a.pop(.dx)
    a.hlt()
    let code = try a.finish()
    mem.write(code, at: 0x7C00)
    let bus = DebugPortBus()
    let cpu = CPU(memory: mem, bus: bus)
    cpu.setSegment(.cs, .realMode(selector: 0, code: true))
    cpu.rip = 0x7C00
    let r = cpu.run(instructionLimit: 1000)
    #expect(r == .halted)
    #expect(bus.output == Array("ABCDE".utf8))
    #expect(cpu.gpr(.rdx) & 0xFFFF == 3702)
}

@Test func longModeUserCodeRuns() throws {
    // Identity-map 2 MiB with one large page, enter 64-bit mode directly through the descriptor caches.
    let mem = PhysicalMemory(ramSize: 4 << 20)
    mem.writeInteger(0x1000 | 7, at: 0x10000, size: 8)      // PML4[0] -> PDPT
    mem.writeInteger(0x2000 | 7, at: 0x1000, size: 8)       // PDPT[0] -> PD
    mem.writeInteger(0x0 | 0x87, at: 0x2000, size: 8)       // PD[0] -> 2 MiB page, user, writable
    let a = Assembler(mode: .bits64, origin: 0x100000)
    a.mov(.rbx, 3)
    a.xor(.ecx, .ecx)
    let l = a.here()
    a.add(.rcx, .rbx)
    a.cmp(.rcx, 300)
    a.jb(l)
    a.mov(.qword[0x5000], .rcx)
    a.push(.rcx)
    a.pop(.rdx)
    a.int3()
    let code = try a.finish()
    mem.write(code, at: 0x100000)
    let cpu = CPU(memory: mem)
    cpu.cr3 = 0x10000
    cpu.cr4 = CR4.pae.rawValue
    cpu.efer = EFER.lme.rawValue | EFER.lma.rawValue
    cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue
    cpu.setSegment(.cs, SegmentRegister(selector: 0x33, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA0FB))
    cpu.setSegment(.ss, SegmentRegister(selector: 0x2B, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0F3))
    cpu.setGPR(.rsp, 0x8000)
    cpu.rip = 0x100000
    cpu.exceptionIntercept = 1 << 3
    let r = cpu.run(instructionLimit: 10000)
    #expect(r == .exception(vector: 3, errorCode: nil))
    #expect(cpu.cpl == 3)
    #expect(cpu.gpr(.rcx) == 300)
    #expect(cpu.gpr(.rdx) == 300)
    #expect(mem.readInteger(at: 0x5000, size: 8) == 300)
    #expect(cpu.rip == 0x100000 + UInt64(code.count))
}

@Test func salcSetsALFromCarryOutside64BitMode() throws {
    // SALC (D6): AL = FFh after STC, 00h after CLC; the rest of RAX is kept (kvm-unit-tests' realmode uses it).
    let mem = PhysicalMemory(ramSize: 1 << 20)
    let a = Assembler(mode: .bits16, origin: 0x7C00)
    a.mov(.ax, 0x1234)
    a.stc()
    a.db(0xD6)
    a.mov(.bx, .ax)
    a.clc()
    a.db(0xD6)
    a.hlt()
    mem.write(try a.finish(), at: 0x7C00)
    let cpu = CPU(memory: mem, bus: DebugPortBus())
    cpu.setSegment(.cs, .realMode(selector: 0, code: true))
    cpu.rip = 0x7C00
    #expect(cpu.run(instructionLimit: 100) == .halted)
    #expect(cpu.gpr(.rbx) & 0xFFFF == 0x12FF)
    #expect(cpu.gpr(.rax) & 0xFFFF == 0x1200)
}
