import Testing
import X86
import X86Assembler
@testable import Hypervisor

/// One conditional instruction exit: guest code, controls to set, expected reason and qualification.
struct ExitCase: Sendable, CustomStringConvertible {
    var name: String
    var code: @Sendable (Assembler) -> Void
    var primary: PrimaryProcessorControls = []
    var secondary: SecondaryProcessorControls = []
    var setup: @Sendable (VCPU) throws -> Void = { _ in }
    var reason: ExitReason
    var qualification: UInt64? = nil
    var description: String { name }
}

let exitCases: [ExitCase] = [
    ExitCase(name: "HLT", code: { $0.hlt() }, primary: .hltExiting, reason: .hlt),
    ExitCase(name: "INVLPG", code: { $0.invlpg(.mem[0x1234]) }, primary: .invlpgExiting, reason: .invlpg, qualification: 0x1234),
    ExitCase(name: "RDTSC", code: { $0.rdtsc() }, primary: .rdtscExiting, reason: .rdtsc),
    ExitCase(name: "RDPMC", code: { $0.rdpmc() }, primary: .rdpmcExiting, reason: .rdpmc),
    ExitCase(name: "MOV to CR3 with CR3-load exiting", code: { $0.mov(.eax, 0x5000); $0.mov(.cr3, .eax) }, primary: .cr3LoadExiting,
             reason: .controlRegisterAccess, qualification: 3 | (0 << 8)),
    ExitCase(name: "MOV from CR3 with CR3-store exiting", code: { $0.mov(.ebx, .cr3) }, primary: .cr3StoreExiting,
             reason: .controlRegisterAccess, qualification: 3 | (1 << 4) | (3 << 8)),
    ExitCase(name: "MOV to CR0 changing a host-owned bit", code: { $0.mov(.ecx, 0x80000031); $0.mov(.cr0, .ecx) },
             setup: { v in try v.write(.cr0GuestHostMask, 0x8000_0000); try v.write(.cr0ReadShadow, 0) },
             reason: .controlRegisterAccess, qualification: 0 | (1 << 8)),
    ExitCase(name: "MOV DR", code: { $0.mov(.dr7, .edx) }, primary: .movDRExiting, reason: .movDR, qualification: 7 | (2 << 8)),
    ExitCase(name: "PAUSE", code: { $0.pause() }, primary: .pauseExiting, reason: .pause),
    ExitCase(name: "MWAIT", code: { $0.emit([0x0F, 0x01, 0xC9]) }, primary: .mwaitExiting, reason: .mwait),
    ExitCase(name: "MONITOR", code: { $0.emit([0x0F, 0x01, 0xC8]) }, primary: .monitorExiting, reason: .monitor),
    ExitCase(name: "WBINVD", code: { $0.wbinvd() }, secondary: .wbinvdExiting, reason: .wbinvd),
    ExitCase(name: "INVD (always)", code: { $0.invd() }, reason: .invd),
    ExitCase(name: "CPUID (always)", code: { $0.cpuid() }, reason: .cpuid),
    ExitCase(name: "VMCALL (always)", code: { $0.vmcall() }, reason: .vmcall),
    ExitCase(name: "RDMSR without bitmaps", code: { $0.mov(.ecx, 0x10); $0.rdmsr() }, reason: .rdmsr),
    ExitCase(name: "WRMSR through the write bitmap", code: { $0.mov(.ecx, 0xC000_0080); $0.wrmsr() }, primary: .useMSRBitmaps,
             setup: { v in
                 try v.write(.msrBitmap, 0x6000)
                 v.vm.memory.writeInteger(1, at: 0x6000 + 3072 + (0x80 >> 3), size: 1)   // high MSRs, write half, bit 0x80
             }, reason: .wrmsr),
    ExitCase(name: "IN through I/O bitmap A", code: { $0.mov(.dx, 0x71); $0.in(.al, .dx) }, primary: .useIOBitmaps,
             setup: { v in
                 try v.write(.ioBitmapA, 0x6000); try v.write(.ioBitmapB, 0x7000)
                 v.vm.memory.writeInteger(1 << 1, at: 0x6000 + 0x71 / 8, size: 1)
             }, reason: .ioInstruction, qualification: (0x71 << 16) | (1 << 3)),
    ExitCase(name: "REP OUTSB with unconditional I/O exiting", code: { $0.mov(.dx, 0x80); $0.mov(.ecx, 4); $0.rep().outsb() },
             primary: .unconditionalIOExiting, reason: .ioInstruction, qualification: (0x80 << 16) | (1 << 4) | (1 << 5)),
]

@Test(arguments: exitCases)
func conditionalInstructionExit(_ c: ExitCase) throws {
    let (_, vcpu) = try makeGuest { a in c.code(a); a.hlt() }
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(c.primary.rawValue))
    try vcpu.write(.secondaryProcessorBasedControls, vcpu.read(.secondaryProcessorBasedControls) | UInt64(c.secondary.rawValue))
    try c.setup(vcpu)
    let e = try vcpu.run()
    #expect(e.reason == c.reason, "\(c.name)")
    if let q = c.qualification { #expect(e.qualification == q, "\(c.name)") }
    #expect(e.instructionLength > 0)
    // The exit happened at the instruction: guest RIP + length is the next instruction.
    let rip = vcpu.read(.guestRIP)
    #expect(rip >= 0x1000 && rip < 0x1010)
}

@Test(arguments: exitCases.filter { (!$0.primary.isEmpty || !$0.secondary.isEmpty) && $0.reason != .hlt })
func noExitWithoutTheControl(_ c: ExitCase) throws {
    // Without the control the instruction runs in the guest (or faults inside it); the guest reaches HLT.
    let (_, vcpu) = try makeGuest { a in c.code(a); a.hlt() }
    try vcpu.write(.exceptionBitmap, 0)
    if c.reason != .hlt {
        try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.hltExiting.rawValue))
    }
    let e = try vcpu.run(instructionBudget: 1000)
    #expect(e.reason != c.reason || c.reason == .rdmsr || c.reason == .wrmsr, "\(c.name)")
}

@Test func getsecAlwaysExitsInNonRootOperation() throws {
    let (_, vcpu) = try makeGuest { a in a.emit([0x0F, 0x37]); a.hlt() }
    let e = try vcpu.run()
    #expect(e.reason == .getsec)
    #expect(e.instructionLength == 2)
}

@Test func guestMSRsThroughTheAPI() throws {
    let (_, vcpu) = try makeGuest { a in
        a.mov(.ecx, 0xC000_0081)   // IA32_STAR
        a.rdmsr()
        a.hlt()
    }
    #expect(vcpu.writeMSR(0xC000_0081, 0x0023_0010_0000_0000))
    #expect(vcpu.readMSR(0xC000_0081) == 0x0023_0010_0000_0000)
    #expect(vcpu.writeMSR(0x174, 0x10))
    #expect(vcpu.read(.guestIA32SysenterCS) == 0x10)
    #expect(vcpu.readMSR(0x12345) == nil)
    #expect(!vcpu.writeMSR(0x277, 0x0202_0202_0202_0202))   // PAT type 2 is reserved
    try vcpu.write(.msrBitmap, 0x6000)
    try vcpu.write(.primaryProcessorBasedControls, vcpu.read(.primaryProcessorBasedControls)
        | UInt64(PrimaryProcessorControls.useMSRBitmaps.rawValue | PrimaryProcessorControls.hltExiting.rawValue))
    #expect(try vcpu.run().reason == .hlt)
    #expect(vcpu.read(.rdx) == 0x0023_0010)
}
