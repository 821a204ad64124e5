import Testing
import X86
import X86Assembler
@testable import Hypervisor

/// No ring compression: a 64-bit guest kernel at CPL 0 enters its user code at CPL 3 with SYSEXIT, the user
/// code comes back with SYSENTER, and a user write to a supervisor page faults into the guest's own #PF
/// handler — all inside the guest, with no VM exit until the handler's HLT.
@Test func guestUserCodeRunsAtCPL3AndIsProtectedFromByTheGuestKernel() throws {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 4 << 20)
    // Page tables: first 2 MiB user-accessible, second 2 MiB supervisor-only.
    vm.memory.writeInteger(0x2000 | 7, at: 0x1000, size: 8)
    vm.memory.writeInteger(0x3000 | 7, at: 0x2000, size: 8)
    vm.memory.writeInteger(0x87, at: 0x3000, size: 8)
    vm.memory.writeInteger(0x20_0083, at: 0x3008, size: 8)
    // GDT at 0x4000: null, 0x08 kernel code64, 0x10 kernel data, 0x28 user code64, 0x30 user data.
    vm.memory.writeInteger(0x00AF_9B00_0000_FFFF, at: 0x4008, size: 8)
    vm.memory.writeInteger(0x00CF_9300_0000_FFFF, at: 0x4010, size: 8)
    vm.memory.writeInteger(0x00AF_FB00_0000_FFFF, at: 0x4028, size: 8)
    vm.memory.writeInteger(0x00CF_F300_0000_FFFF, at: 0x4030, size: 8)
    // 64-bit TSS at physical 0: RSP0 = 0x9000.
    vm.memory.writeInteger(0x9000, at: 0x4, size: 8)
    // IDT at 0x5000: #PF (14) -> 0x08:0x10200, 64-bit interrupt gate.
    let handler: UInt64 = 0x10200
    let gateLow: UInt64 = (handler & 0xFFFF) | (0x08 << 16) | (0x8E00 << 32) | ((handler >> 16) & 0xFFFF) << 48
    vm.memory.writeInteger(gateLow, at: 0x5000 + 14 * 16, size: 8)
    vm.memory.writeInteger(handler >> 32, at: 0x5000 + 14 * 16 + 8, size: 8)

    let k = Assembler(mode: .bits64, origin: 0x10000)
    k.mov(.ecx, 0x174); k.mov(.eax, 0x08); k.xor(.edx, .edx); k.wrmsr()        // IA32_SYSENTER_CS
    k.mov(.ecx, 0x175); k.mov(.eax, 0x9800); k.wrmsr()                          // IA32_SYSENTER_ESP
    k.mov(.ecx, 0x176); k.mov(.eax, 0x10180); k.wrmsr()                         // IA32_SYSENTER_EIP
    k.mov(.rcx, 0x7F00); k.mov(.rdx, 0x10100)
    k.sysexitq()                                                                // to user code at CPL 3
    vm.memory.write(try k.finish(), at: 0x10000)
    let u = Assembler(mode: .bits64, origin: 0x10100)
    u.mov(.ebx, .cs)                       // RBX = user CS (RPL 3)
    u.sysenter()
    vm.memory.write(try u.finish(), at: 0x10100)
    let u2 = Assembler(mode: .bits64, origin: 0x10140)
    u2.mov(.byte[0x20_0000], 1)                    // supervisor page: #PF in the guest
    u2.hlt()
    vm.memory.write(try u2.finish(), at: 0x10140)
    let entry = Assembler(mode: .bits64, origin: 0x10180)
    entry.mov(.r12d, .cs)               // R12 = kernel CS (RPL 0)
    entry.mov(.rcx, 0x7F00); entry.mov(.rdx, 0x10140)
    entry.sysexitq()
    vm.memory.write(try entry.finish(), at: 0x10180)
    let h = Assembler(mode: .bits64, origin: handler)
    h.pop(.r14)                                    // error code
    h.mov(.r15, .cr2)
    h.mov(.r13d, .cs)
    h.hlt()
    vm.memory.write(try h.finish(), at: handler)

    let vcpu = vm.makeVCPU()
    var v = vcpu.vmcs
    v[.guestCR0] = CR0.pe.rawValue | CR0.ne.rawValue | CR0.et.rawValue | CR0.pg.rawValue
    v[.guestCR3] = 0x1000
    v[.guestCR4] = CR4.pae.rawValue | CR4.vmxe.rawValue
    v.entryControls.insert(.ia32eModeGuest)
    v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
    v.setGuestSegment(.tr, SegmentRegister(selector: 0x18, base: 0, limit: 0x67, accessRights: 0x8B))
    v[.guestGDTRBase] = 0x4000; v[.guestGDTRLimit] = 0x37
    v[.guestIDTRBase] = 0x5000; v[.guestIDTRLimit] = 0xFFF
    v[.guestRIP] = 0x10000
    v[.guestRSP] = 0x8000
    v[.msrBitmap] = 0x6000          // all zero: RDMSR/WRMSR do not exit
    v.primary.formUnion([.hltExiting, .useMSRBitmaps])
    vcpu.vmcs = v

    let e = try vcpu.run()
    #expect(e.reason == .hlt)
    #expect(vcpu.read(.rbx) == 0x2B)               // user code saw CPL 3 (SYSEXIT: SYSENTER_CS + 32, RPL 3)
    #expect(vcpu.read(.r12) == 0x08)               // SYSENTER entered the kernel at CPL 0
    #expect(vcpu.read(.r13) == 0x08)               // the #PF handler runs at CPL 0
    #expect(vcpu.read(.r14) == 0x7)                // present | write | user
    #expect(vcpu.read(.r15) == 0x20_0000)          // CR2
    #expect(vm.memory.readInteger(at: 0x20_0000, size: 1) == 0)
    #expect(vcpu.exitCounts.count == 1)            // only the final HLT exited
}
