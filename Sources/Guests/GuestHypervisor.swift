// A guest hypervisor written with the assembler: 64-bit code that enters VMX operation, builds a VMCS
// with VMWRITE and runs its own guest (L2), handling L2's exits itself. Run it as the guest of a VMM on
// SwiftVMX with nested VMX on, and L2 runs nested.
import X86Assembler

/// A minimal guest hypervisor (L1) and its guest (L2), both 64-bit code at CPL 0 sharing one identity map.
///
/// L1 sets CR4.VMXE and IA32_FEATURE_CONTROL, reads the VMCS revision from IA32_VMX_BASIC, executes VMXON,
/// VMCLEAR and VMPTRLD, computes each control field from the TRUE capability MSRs, writes the host- and
/// guest-state areas with VMWRITE and executes VMLAUNCH. L2 executes CPUID `cpuidCount` times, an OUT
/// to port 0x80 and HLT. L1 handles each exit: CPUID (returns "L2" in EAX), I/O (records the port and AL)
/// and HLT (the end: L1 halts itself). Results, in L1's registers when L1 halts:
/// - R12: CPUID exits handled; R13: the port of the I/O exit; R14: AL of that OUT;
/// - R15: `GuestHypervisor.done` after L2's HLT, `failed | error` when VMLAUNCH failed (VMfailValid with the
///   VM-instruction error read by VMREAD), `failedInvalid` on VMfailInvalid, `unexpected | reason` for
///   an exit L1 does not handle (then R13 holds its exit qualification);
/// - R8: what L2 saw in EAX after its last CPUID.
public struct GuestHypervisor: Sendable {
    /// Guest-physical RAM the image needs (identity mapped by a 2 MiB page).
    public static let ramSize: UInt64 = 4 << 20
    /// The PML4 (CR3 for L1 and L2).
    public static let cr3: UInt64 = 0x1000
    /// L1's entry point.
    public static let entry: UInt64 = 0x10000
    /// L1's stack top (also its host RSP after each exit).
    public static let stackTop: UInt64 = 0x9000
    /// L2's entry point.
    public static let l2Entry: UInt64 = 0x30000
    /// The VMXON region.
    public static let vmxonRegion: UInt64 = 0x20000
    /// L1's VMCS region.
    public static let vmcsRegion: UInt64 = 0x21000
    /// R15 after L2's HLT.
    public static let done: UInt64 = 0x600D
    /// R15 after VMLAUNCH failed with VMfailValid: this ORed with the VM-instruction error.
    public static let failed: UInt64 = 0xFA11_0000
    /// R15 after a VMX instruction failed with VMfailInvalid.
    public static let failedInvalid: UInt64 = 0xFA11_FFFF
    /// R15 after an exit L1 does not handle: this ORed with the basic exit reason.
    public static let unexpected: UInt64 = 0xBAD0_0000
    /// R15 after L1's VMX-preemption timer for L2 fired (exit 52); then R13 holds L2's saved activity
    /// state and R14 the saved timer value.
    public static let preempted: UInt64 = 0x7134_0052
    /// EAX that L1 returns for L2's CPUID ("L2").
    public static let cpuidAnswer: UInt64 = 0x324C

    /// How L1 sets up EPT for L2, if it does: an identity map of the first 2 MiB in 4-KiB pages (L1's EPT
    /// tables at 24000H–27FFFH) except at `eptPage`, whose entry the variant decides.
    public enum EPT: Sendable {
        /// `eptPage` maps to `eptTarget`.
        case remapped
        /// `eptPage` is not present: L2's access is an EPT violation (exit 48 to L1).
        case notPresent
        /// `eptPage`'s entry is writable but not readable: an EPT misconfiguration (exit 49 to L1).
        case misconfigured
        /// L2's page directory (3000H) is not present: L2's first page walk is an EPT violation (exit 48 to
        /// L1) on a paging-structure access.
        case pagingStructureNotPresent
        /// `eptPage`'s entry sets bit 40, a reserved bit at MAXPHYADDR: an EPT misconfiguration (exit 49 to L1).
        case reservedBit
        /// L2's page directory (3000H) is read-only and the EPTP leaves accessed and dirty flags off; L1
        /// clears the PDE's accessed flag before VMLAUNCH. The walk reads the PDE, but setting its accessed
        /// flag is an EPT write, a violation (exit 48).
        case pagingStructureReadOnlyWithoutAccessedDirty
    }
    /// The L2 guest-physical page the EPT variants treat specially.
    public static let eptPage: UInt64 = 0x1F_0000
    /// Where `EPT.remapped` sends `eptPage` in L1's memory.
    public static let eptTarget: UInt64 = 0x1E_0000

    /// Memory contents: (physical address, bytes).
    public let chunks: [(address: UInt64, bytes: [UInt8])]

    /// Assembles the guest hypervisor. `broken` leaves the pin-based controls at zero, so VMLAUNCH fails
    /// its reserved-bits check with VMfailValid, VM-instruction error 7 (invalid control fields).
    /// `l2Load`, when given, is an address L2 reads (into R10) before its CPUIDs: an access a VMM may serve.
    /// `externalInterruptExiting` sets that pin-based control (with "acknowledge interrupt on exit").
    /// `ept` makes L1 enable EPT for L2 with its own tables. `preemptionTimer` arms L1's VMX-preemption
    /// timer for L2 with that value (with "save VMX-preemption timer value") and turns HLT exiting off, so
    /// L2's HLT leaves it halted until the timer's exit 52 reaches L1. `vpid`, when given (non-zero), makes
    /// L1 enable VPID for L2 with that VPID, so its translations survive the round trips through L1.
    public init(cpuidCount: Int = 1, broken: Bool = false, l2Load: UInt64? = nil, externalInterruptExiting: Bool = false,
                ept: EPT? = nil, preemptionTimer: UInt32? = nil, vpid: UInt16? = nil) throws {
        var chunks: [(address: UInt64, bytes: [UInt8])] = [
            (GuestHypervisor.cr3, GuestHypervisor.qwords([0x2000 | 3])),     // PML4[0] -> PDPT
            (0x2000, GuestHypervisor.qwords([0x3000 | 3])),                   // PDPT[0] -> PD
            (0x3000, GuestHypervisor.qwords([0x83])),                         // PD[0] -> 2 MiB page at 0
            (0x22000, GuestHypervisor.qwords([GuestHypervisor.vmxonRegion, GuestHypervisor.vmcsRegion])),
            (GuestHypervisor.entry, try GuestHypervisor.l1(broken: broken, externalInterruptExiting: externalInterruptExiting, ept: ept.map { $0 == .pagingStructureReadOnlyWithoutAccessedDirty ? GuestHypervisor.eptPointer & ~(1 << 6) : GuestHypervisor.eptPointer },
                                                         preemptionTimer: preemptionTimer, vpid: vpid,
                                                         clearPDEAccessed: ept == .pagingStructureReadOnlyWithoutAccessedDirty)),
            (GuestHypervisor.l2Entry, try GuestHypervisor.l2(cpuidCount: cpuidCount, load: l2Load)),
        ]
        if let ept {
            // EPT PML4 → PDPT → PD → PT, read/write/execute, write-back leaves (SDM Vol. 3C §28.3.2).
            chunks += [(0x24000, GuestHypervisor.qwords([0x25000 | 7])), (0x25000, GuestHypervisor.qwords([0x26000 | 7])),
                       (0x26000, GuestHypervisor.qwords([0x27000 | 7]))]
            var pt = (0..<512).map { UInt64($0) << 12 | 7 | 6 << 3 }
            let k = Int(GuestHypervisor.eptPage >> 12)
            switch ept {
            case .remapped: pt[k] = GuestHypervisor.eptTarget | 7 | 6 << 3
            case .notPresent: pt[k] = 0
            case .misconfigured: pt[k] = GuestHypervisor.eptPage | 2 | 6 << 3
            case .pagingStructureNotPresent: pt[3] = 0
            case .reservedBit: pt[k] = GuestHypervisor.eptPage | 7 | 6 << 3 | 1 << 40
            case .pagingStructureReadOnlyWithoutAccessedDirty: pt[3] = 0x3000 | 1 | 6 << 3
            }
            chunks.append((0x27000, GuestHypervisor.qwords(pt)))
        }
        self.chunks = chunks
    }

    /// L1's EPT pointer: write-back, 4-level walk, accessed and dirty flags, PML4 at 24000H.
    public static let eptPointer: UInt64 = 0x24000 | 6 | 3 << 3 | 1 << 6

    static func qwords(_ values: [UInt64]) -> [UInt8] {
        values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    }

    /// The guest's code: optionally a load, CPUID `cpuidCount` times, OUT 0x80 with AL = 0x42, HLT.
    static func l2(cpuidCount: Int, load: UInt64?) throws -> [UInt8] {
        let a = Assembler(mode: .bits64, origin: l2Entry)
        a.mov(.rsp, .imm(0x38000))
        if let load {
            a.mov(.rax, .imm(load))
            a.mov(.r10, .qword[.rax])
        }
        a.mov(.r9, .imm(cpuidCount))
        let loop = a.here("loop")
        a.xor(.eax, .eax)
        a.cpuid()
        a.mov(.r8, .rax)
        a.dec(.r9)
        a.jnz(loop)
        a.mov(.al, 0x42)
        a.out(0x80, .al)
        a.hlt()
        return try a.finish()
    }

    /// Emits the way into VMX operation: CR4.VMXE, IA32_FEATURE_CONTROL (locked, VMX outside SMX), the VMCS
    /// revision identifier from IA32_VMX_BASIC into the VMXON and VMCS regions, VMXON (CF set on failure).
    public static func enterVMXOperation(_ a: Assembler) {
        a.mov(.rax, .cr4)
        a.or(.rax, 0x2000)
        a.mov(.cr4, .rax)
        a.mov(.ecx, 0x3A)
        a.mov(.eax, 5)
        a.xor(.edx, .edx)
        a.wrmsr()
        a.mov(.ecx, 0x480)
        a.rdmsr()
        a.mov(.dword[.absolute(Int64(vmxonRegion))], .eax)
        a.mov(.dword[.absolute(Int64(vmcsRegion))], .eax)
        a.vmxon(.qword[.absolute(0x22000)])
    }

    /// The guest hypervisor.
    static func l1(broken: Bool, externalInterruptExiting: Bool, ept eptp: UInt64?, preemptionTimer: UInt32?, vpid: UInt16?,
                   clearPDEAccessed: Bool = false) throws -> [UInt8] {
        let ept = eptp != nil
        let a = Assembler(mode: .bits64, origin: entry)
        let failValid = a.label("failValid"), failInvalid = a.label("failInvalid"), exitHandler = a.label("exitHandler")
        a.mov(.rsp, .imm(stackTop))
        a.xor(.r12d, .r12d)
        enterVMXOperation(a)
        a.jc(failInvalid)
        a.vmclear(.qword[.absolute(0x22008)])
        a.jc(failInvalid)
        a.vmptrld(.qword[.absolute(0x22008)])
        a.jc(failInvalid)
        // Controls: default1 | wanted, within allowed1, from the TRUE capability MSRs (SDM Vol. 3D A.3–A.5).
        func control(msr: UInt32, field: UInt32, wanted: UInt32) {
            a.mov(.ecx, .imm(msr))
            a.rdmsr()
            a.mov(.ebx, .imm(wanted))
            a.or(.ebx, .eax)
            a.and(.ebx, .edx)
            a.mov(.eax, .imm(field))
            a.vmwrite(.rax, .rbx)
        }
        if broken {
            a.mov(.eax, 0x4000)              // pin-based controls: 0, missing the default1 bits
            a.xor(.ebx, .ebx)
            a.vmwrite(.rax, .rbx)
        } else {
            // Pin-based: external-interrupt exiting, activate VMX-preemption timer.
            control(msr: 0x48D, field: 0x4000, wanted: (externalInterruptExiting ? 1 : 0) | (preemptionTimer != nil ? 1 << 6 : 0))
        }
        // HLT (unless the timer is to end L2's HLT), I/O, secondary.
        let secondary = ept || vpid != nil
        control(msr: 0x48E, field: 0x4002, wanted: (preemptionTimer == nil ? 1 << 7 : 0) | (1 << 24) | (secondary ? 1 << 31 : 0))
        if let preemptionTimer {
            a.mov(.eax, 0x482E)                                                         // VMX-preemption timer value
            a.mov(.ebx, .imm(preemptionTimer))
            a.vmwrite(.rax, .rbx)
        }
        if secondary {
            control(msr: 0x48B, field: 0x401E, wanted: (ept ? 1 << 1 : 0) | (vpid != nil ? 1 << 5 : 0))  // enable EPT, VPID
        }
        if let vpid {
            a.xor(.eax, .eax)                                                           // VPID (field 0000H)
            a.mov(.ebx, .imm(UInt32(vpid)))
            a.vmwrite(.rax, .rbx)
        }
        if let eptp {
            a.mov(.eax, 0x201A)                                                         // EPT pointer
            a.mov(.rbx, .imm(eptp))
            a.vmwrite(.rax, .rbx)
        }
        // Host address-space size, acknowledge interrupt on exit, save VMX-preemption timer value.
        control(msr: 0x48F, field: 0x400C, wanted: (1 << 9) | (1 << 15) | (preemptionTimer != nil ? 1 << 22 : 0))
        control(msr: 0x490, field: 0x4012, wanted: 1 << 9)                             // IA-32e mode guest
        // CR0, CR3, CR4: L1's own, for its host state and for L2.
        for (cr, host, guest) in [(0, UInt32(0x6C00), UInt32(0x6800)), (3, 0x6C02, 0x6802), (4, 0x6C04, 0x6804)] {
            a.mov(.rax, cr == 0 ? .cr0 : (cr == 3 ? .cr3 : .cr4))
            a.mov(.ebx, .imm(host))
            a.vmwrite(.rbx, .rax)
            a.mov(.ebx, .imm(guest))
            a.vmwrite(.rbx, .rax)
        }
        var fields: [(UInt32, UInt64)] = [
            // Host selectors ES CS SS DS FS GS TR (SDM Vol. 3D B.1.3), host RSP.
            (0x0C00, 0x10), (0x0C02, 0x08), (0x0C04, 0x10), (0x0C06, 0x10), (0x0C08, 0x10), (0x0C0A, 0x10), (0x0C0C, 0x18),
            (0x6C14, stackTop),
            // Guest selectors ES CS SS DS FS GS LDTR TR (B.1.2).
            (0x0800, 0x10), (0x0802, 0x08), (0x0804, 0x10), (0x0806, 0x10), (0x0808, 0x10), (0x080A, 0x10), (0x080C, 0), (0x080E, 0x18),
            // Guest limits ES CS SS DS FS GS LDTR TR GDTR IDTR (B.3.3).
            (0x4800, 0xFFFF_FFFF), (0x4802, 0xFFFF_FFFF), (0x4804, 0xFFFF_FFFF), (0x4806, 0xFFFF_FFFF), (0x4808, 0xFFFF_FFFF),
            (0x480A, 0xFFFF_FFFF), (0x480C, 0), (0x480E, 0x67), (0x4810, 0xFFFF), (0x4812, 0xFFFF),
            // Guest access rights: data 0xC093, 64-bit code 0xA09B, LDTR unusable, busy 64-bit TSS.
            (0x4814, 0xC093), (0x4816, 0xA09B), (0x4818, 0xC093), (0x481A, 0xC093), (0x481C, 0xC093), (0x481E, 0xC093),
            (0x4820, 0x10000), (0x4822, 0x8B),
            // Guest DR7, RSP, RIP, RFLAGS; VMCS link pointer (B.2.3, B.4.3).
            (0x681A, 0x400), (0x681C, 0x38000), (0x681E, l2Entry), (0x6820, 2), (0x2800, ~0),
        ]
        fields.sort { $0.0 < $1.0 }
        for (field, value) in fields {
            a.mov(.eax, .imm(field))
            a.mov(.rbx, .imm(value))
            a.vmwrite(.rax, .rbx)
        }
        a.mov(.eax, 0x6C16)                  // host RIP: the exit handler
        a.mov(.rbx, .label(exitHandler))
        a.vmwrite(.rax, .rbx)
        if clearPDEAccessed {
            // L2 shares L1's page tables, whose accessed flags L1's own walks set: clear the PDE's, so L2's
            // first walk must set it again (L1's cached translation does not need it).
            a.and(.qword[.absolute(0x3000)], .imm(-33))
        }
        a.vmlaunch()
        a.jc(failInvalid)
        // VMfailValid: the VM-instruction error (field 4400H) into R15.
        a.bind(failValid)
        a.mov(.eax, 0x4400)
        a.vmread(.r15, .rax)
        a.mov(.rax, .imm(failed))
        a.or(.r15, .rax)
        a.hlt()
        a.bind(failInvalid)
        a.mov(.r15, .imm(failedInvalid))
        a.hlt()

        // Exit handler: the basic exit reason (field 4402H) decides.
        let cpuidExit = a.label("cpuid"), ioExit = a.label("io"), hltExit = a.label("hlt"), resume = a.label("resume")
        let timerExit = a.label("timer")
        a.bind(exitHandler)
        a.mov(.ecx, 0x4402)
        a.vmread(.rdx, .rcx)
        a.movzx(.edx, .dx)
        a.cmp(.edx, 10)
        a.je(cpuidExit)
        a.cmp(.edx, 30)
        a.je(ioExit)
        a.cmp(.edx, 12)
        a.je(hltExit)
        a.cmp(.edx, 52)
        a.je(timerExit)
        a.mov(.r15, .imm(unexpected))
        a.or(.r15, .rdx)
        a.mov(.ecx, 0x6400)                  // exit qualification
        a.vmread(.r13, .rcx)
        a.hlt()
        a.bind(cpuidExit)
        a.inc(.r12)
        a.mov(.eax, .imm(cpuidAnswer))
        a.xor(.ebx, .ebx)
        a.xor(.ecx, .ecx)
        a.xor(.edx, .edx)
        a.jmp(resume)
        a.bind(ioExit)
        a.mov(.r14, .rax)                    // L2's AL
        a.and(.r14d, 0xFF)
        a.mov(.ecx, 0x6400)                  // exit qualification: port in bits 31:16
        a.vmread(.r13, .rcx)
        a.shr(.r13, 16)
        a.jmp(resume)
        a.bind(hltExit)
        a.mov(.r15, .imm(done))
        a.hlt()
        a.bind(timerExit)
        a.mov(.ecx, 0x4826)                  // guest activity state
        a.vmread(.r13, .rcx)
        a.mov(.ecx, 0x482E)                  // VMX-preemption timer value (saved on exit)
        a.vmread(.r14, .rcx)
        a.mov(.r15, .imm(preempted))
        a.hlt()
        // Past the instruction: guest RIP (681EH) plus the exit instruction length (440CH).
        a.bind(resume)
        a.mov(.esi, 0x681E)
        a.vmread(.rdi, .rsi)
        a.mov(.esi, 0x440C)
        a.vmread(.rsi, .rsi)
        a.add(.rdi, .rsi)
        a.mov(.esi, 0x681E)
        a.vmwrite(.rsi, .rdi)
        a.vmresume()
        a.jmp(failValid)
        return try a.finish()
    }
}
