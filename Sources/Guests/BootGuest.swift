// The boot guest: a firmware-like ROM that walks an x86-64 processor from the reset vector to
// long mode, user mode and back, checking what it observes and reporting each step on port 0xE9.
import X86Assembler

/// A bare-metal guest that boots from the reset vector to 64-bit user mode and back.
///
/// The image is a 64 KiB ROM mapped at physical `romBase` (so the reset vector 0xFFFFFFF0 is its
/// last 16 bytes). Its real-mode code loads a boot GDT and enters 32-bit protected mode, copies
/// the kernel (assembled for `kernelBase`) to RAM and jumps to it. The kernel enables PAE paging
/// in legacy mode, enters long mode, installs an IDT and a TSS, takes a page fault and a
/// general-protection fault, goes to ring 3 and back through an interrupt gate and through
/// SYSCALL/SYSRET. Every step is checked by the guest itself and reported as one line on
/// `debugPort` ("ok <step> ...", or "FAIL <step> ..." after which nothing else runs); the last
/// line is "done". It then writes `statusSuccess` (or `statusFailure`) to `statusPort`, clears
/// IF and halts.
public struct BootGuest: Sendable {
    /// Physical address where the ROM is mapped (the top 64 KiB below 4 GiB).
    public static let romBase: UInt64 = 0xFFFF_0000
    /// Size of the ROM image in bytes.
    public static let romSize = 0x10000
    /// RAM the guest needs at physical address 0.
    public static let ramSize = 4 << 20
    /// The port that receives the report lines (the Bochs/QEMU debug console port).
    public static let debugPort: UInt16 = 0xE9
    /// The port that receives the final status byte.
    public static let statusPort: UInt16 = 0xF4
    /// Status byte written when every step passed.
    public static let statusSuccess: UInt8 = 0
    /// Status byte written when a check failed.
    public static let statusFailure: UInt8 = 1
    /// Physical (and linear) address the kernel is copied to and runs at.
    public static let kernelBase: UInt64 = 0x10_0000

    /// The step names, in the order the guest reports them (each line is "ok <step>...", then "done").
    public static let stepNames = [
        "real-mode", "protected-mode", "pae-paging", "long-mode", "idt", "page-fault",
        "general-protection", "ring3", "int-gate-from-ring3", "user-protection", "syscall", "sysret",
    ]

    /// What the guest provokes and what it expects to observe. Changing an expectation without the
    /// matching action makes the guest report FAIL, which shows its checks can fail.
    public struct Configuration: Sendable, Equatable {
        /// Linear address of the write that takes the page fault (in the 2 MiB page at 0x200000, not present at first).
        public var pageFaultAddress: UInt64 = 0x2A_BCD8
        /// The CR2 value the #PF handler expects.
        public var expectedCR2: UInt64 = 0x2A_BCD8
        /// The #PF error code the handler expects: a supervisor write to a not-present page (W=1).
        public var expectedPageFaultError: UInt64 = 0x2
        /// The selector loaded into DS to take the #GP (beyond the GDT limit).
        public var faultingSelector: UInt16 = 0x0F00
        /// The #GP error code the handler expects (the selector with RPL cleared).
        public var expectedGPError: UInt64 = 0x0F00
        /// Creates the default configuration, whose expectations match the architecture.
        public init() {}
    }

    /// The ROM image (`romSize` bytes), to be mapped at `romBase`.
    public var rom: [UInt8]
    /// The steps the guest reports, in order (`stepNames`).
    public var steps: [String]
    /// RIP after the final HLT of a successful run.
    public var haltAddress: UInt64

    /// Assembles the guest.
    public static func build(_ configuration: Configuration = Configuration()) throws -> BootGuest {
        let kernel = try Kernel(configuration)
        let rom = try buildROM(kernel: kernel.code)
        return BootGuest(rom: rom, steps: stepNames, haltAddress: kernel.haltAddress)
    }
}

/// Why the boot guest could not be built.
public enum BootGuestError: Error, Equatable, CustomStringConvertible {
    /// The boot code and kernel do not fit below the reset vector.
    case romOverflow(bytes: Int)

    /// A one-line description.
    public var description: String {
        switch self {
        case .romOverflow(let n): "boot ROM code and kernel (\(n) bytes) overflow the 64 KiB ROM"
        }
    }
}

// MARK: - Layout

/// Fixed physical (= linear) addresses in RAM used by the guest.
enum BootLayout {
    /// Long-mode PML4.
    static let pml4: Int64 = 0x1000
    /// Long-mode page-directory-pointer table.
    static let pdpt: Int64 = 0x2000
    /// Page directory shared by legacy PAE and long mode (2 MiB pages).
    static let pd: Int64 = 0x3000
    /// Legacy-PAE page-directory-pointer table (4 entries; only P may be set).
    static let paePDPT: Int64 = 0x5000
    /// A word the PAE check reads through an alias mapping.
    static let magic: Int64 = 0x500
    /// Linear base of the supervisor alias of physical 0–2 MiB (PD entry 2).
    static let alias: Int64 = 0x40_0000
    /// Boot and kernel stack top.
    static let kernelStack: Int64 = 0x8_0000
    /// RSP0 in the TSS: the stack of ring 3 → ring 0 transitions.
    static let rsp0: Int64 = 0x8_8000
    /// Stack the SYSCALL entry switches to.
    static let syscallStack: Int64 = 0x8_C000
    /// User stack top.
    static let userStack: Int64 = 0x9_0000
    /// Selectors of the kernel GDT (SYSCALL/SYSRET need this order: STAR = 0x0018_0008 << 32).
    static let kernelCS: Int64 = 0x08, kernelDS: Int64 = 0x10, userCS32: Int64 = 0x18
    static let userDS: Int64 = 0x20, userCS: Int64 = 0x28, code32: Int64 = 0x30, tss: Int64 = 0x38
    /// IA32_EFER, IA32_STAR, IA32_LSTAR, IA32_FMASK (SDM Vol. 4 Table 2-2).
    static let efer: Int64 = 0xC000_0080, star: Int64 = 0xC000_0081, lstar: Int64 = 0xC000_0082, fmask: Int64 = 0xC000_0084
    /// RFLAGS bits SYSCALL clears (IF, DF, TF).
    static let syscallMask: Int64 = 0x700
}

// MARK: - Helpers shared by all modes

extension Assembler {
    /// Emits code that writes a constant string to the debug port through AL (any mode, any CPL with I/O access).
    func report(_ text: String) {
        for b in text.utf8 {
            mov(.al, .imm(b))
            out(.imm(BootGuest.debugPort), .al)
        }
    }

    /// Emits the final status write and a halt with interrupts off; loops on HLT if woken.
    func finish(status: UInt8) {
        cli()
        mov(.al, .imm(status))
        out(.imm(BootGuest.statusPort), .al)
        let h = here()
        hlt()
        jmp(h)
    }
}

/// Collects the failure paths of one code section and emits them after it, in the same mode.
final class FailStubs {
    private var pending: [(Label, String, [(String, Operand)])] = []
    private let a: Assembler
    /// The 64-bit hex printer, for stubs that print values (64-bit code only).
    var printHex: Label?

    init(_ a: Assembler) { self.a = a }

    /// A label that reports "FAIL <step> <detail>" (plus `values` as name=0x...) and halts.
    func at(_ step: String, _ detail: String, _ values: [(String, Operand)] = []) -> Label {
        let l = a.label("fail-\(step)")
        pending.append((l, "\(step) \(detail)", values))
        return l
    }

    /// Emits the stubs collected so far.
    func flush() {
        for (l, text, values) in pending {
            a.bind(l)
            a.report("FAIL \(text)")
            if let hex = printHex {
                for (name, value) in values {
                    a.report(" \(name)=")
                    a.mov(.rax, value)
                    a.call(hex)
                }
            }
            a.report("\n")
            a.finish(status: BootGuest.statusFailure)
        }
        pending.removeAll()
    }
}

// MARK: - ROM: reset vector, real mode, protected mode

/// Builds the 64 KiB ROM: real-mode and 32-bit boot code, boot GDT, the kernel image, and the reset vector.
func buildROM(kernel: [UInt8]) throws -> [UInt8] {
    let a = Assembler(mode: .bits16, origin: BootGuest.romBase)
    let fail = FailStubs(a)
    let gdtPointer = a.label("boot-gdt-pointer")
    let protected32 = a.label("protected32")
    let kernelImage = a.label("kernel-image")

    // Real mode: CS selector F000 with base FFFF0000, IP within the ROM; DS base 0.
    let start16 = a.here("start16")
    a.cli()
    a.cld()
    a.mov(.eax, .cr0)
    a.test(.al, 1)
    a.jnz(fail.at("real-mode", "cr0.pe=1"), .near)
    a.mov(.ax, .cs)
    a.cmp(.ax, 0xF000)
    a.jne(fail.at("real-mode", "cs!=f000"), .near)
    a.report("ok real-mode\n")
    a.lgdt(.fword[.cs, gdtPointer])             // 66-prefixed: the 32-bit base above 1 MiB
    a.mov(.eax, .cr0)
    a.or(.eax, 1)                               // CR0.PE
    a.mov(.cr0, .eax)
    a.jmpFar(selector: 0x08, to: protected32, offsetBits: 32)
    fail.flush()

    // 32-bit protected mode, flat segments, still running from ROM.
    a.setMode(.bits32)
    a.bind(protected32)
    a.mov(.ax, 0x10)
    for s in [Operand.ds, .es, .ss, .fs, .gs] { a.mov(s, .ax) }
    a.mov(.esp, .imm(BootLayout.kernelStack))
    a.mov(.eax, .cr0)
    a.test(.al, 1)
    a.jz(fail.at("protected-mode", "cr0.pe=0"), .near)
    a.mov(.ax, .cs)
    a.cmp(.ax, 0x08)
    a.jne(fail.at("protected-mode", "cs!=08"), .near)
    a.report("ok protected-mode\n")
    // Copy the kernel to RAM and check the copy.
    a.mov(.esi, .label(kernelImage))
    a.mov(.edi, .imm(BootGuest.kernelBase))
    a.mov(.ecx, .imm(kernel.count))
    a.rep().movsb()
    a.mov(.esi, .label(kernelImage))
    a.mov(.edi, .imm(BootGuest.kernelBase))
    a.mov(.ecx, .imm(kernel.count))
    a.repe().cmpsb()
    a.jne(fail.at("protected-mode", "kernel-copy-mismatch"), .near)
    a.mov(.eax, .imm(BootGuest.kernelBase))
    a.jmp(.eax)
    fail.flush()

    // Boot GDT: null, flat 32-bit code (08), flat data (10); accessed bits preset so the ROM is never written.
    a.align(8)
    let gdt = a.here("boot-gdt")
    a.dq(0, 0x00CF_9B00_0000_FFFF, 0x00CF_9300_0000_FFFF)
    a.bind(gdtPointer)
    a.dw(0x17)
    a.dd(gdt)

    a.align(16)
    a.bind(kernelImage)
    a.db(kernel)

    // Reset vector at FFFFFFF0: a near jump (CS base FFFF0000, IP FFF0).
    let used = a.offset
    guard used <= 0xFFF0 else {
        throw BootGuestError.romOverflow(bytes: used)
    }
    a.space(0xFFF0 - used, fill: 0xF4)
    a.setMode(.bits16)
    a.jmp(start16, .near)
    a.space(BootGuest.romSize - a.offset, fill: 0xF4)
    return try a.finish()
}

// MARK: - Kernel: PAE paging, long mode, IDT, faults, ring 3, SYSCALL

/// The kernel, assembled to run at `BootGuest.kernelBase`: 32-bit entry, then 64-bit code, user code and data.
struct Kernel {
    /// The machine code.
    let code: [UInt8]
    /// RIP after the final HLT of a successful run.
    let haltAddress: UInt64

    init(_ config: BootGuest.Configuration) throws {
        typealias L = BootLayout
        let a = Assembler(mode: .bits32, origin: BootGuest.kernelBase)
        let fail = FailStubs(a)

        // Data labels (bound at the end).
        let gdt = a.label("gdt"), gdtPointer = a.label("gdt-pointer")
        let idt = a.label("idt"), idtPointer = a.label("idt-pointer"), sidtBuffer = a.label("sidt-buffer")
        let tss = a.label("tss")
        let savedCR2 = a.label("saved-cr2"), savedError = a.label("saved-error")
        let pageFaults = a.label("page-faults"), gpFaults = a.label("gp-faults"), breakpoints = a.label("breakpoints")
        let savedUserRSP = a.label("saved-user-rsp"), userFlags = a.label("user-flags")
        let userFaults = a.label("user-faults"), userPFError = a.label("user-pf-error"), userGPError = a.label("user-gp-error")
        // Code labels.
        let long64 = a.label("long64"), printHex = a.label("print-hex"), setGate = a.label("set-gate")
        let pfHandler = a.label("pf-handler"), gpHandler = a.label("gp-handler"), bpHandler = a.label("bp-handler")
        let int80Handler = a.label("int80-handler"), syscallEntry = a.label("syscall-entry")
        let unexpected = a.label("unexpected-exception"), userEntry = a.label("user-entry")
        let exceptionStubs = (0..<32).map { a.label("exception-\($0)") }

        // --- 32-bit: build the page tables, check PAE paging in legacy mode ---
        a.mov(.edi, .imm(L.pml4))
        a.xor(.eax, .eax)
        a.mov(.ecx, .imm((L.paePDPT + 0x1000 - L.pml4) / 4))
        a.rep().stosd()
        a.mov(.dword[.absolute(L.pml4)], .imm(L.pdpt | 7))         // P, W, U
        a.mov(.dword[.absolute(L.pdpt)], .imm(L.pd | 7))
        a.mov(.dword[.absolute(L.paePDPT)], .imm(L.pd | 1))        // legacy PDPTE: P only
        a.mov(.dword[.absolute(L.pd)], 0x87)                       // 0–2 MiB: 2 MiB page, P, W, U, identity
        a.mov(.dword[.absolute(L.pd + 16)], 0x83)                  // 4–6 MiB: supervisor alias of physical 0
        a.mov(.dword[.absolute(L.magic)], .imm(0x5AE1_C0DE))
        a.mov(.eax, .cr4)
        a.or(.eax, 0x20)                                           // CR4.PAE
        a.mov(.cr4, .eax)
        a.mov(.eax, .imm(L.paePDPT))
        a.mov(.cr3, .eax)
        a.mov(.eax, .cr0)
        a.or(.eax, .imm(0x8000_0000))                              // CR0.PG
        a.mov(.cr0, .eax)
        a.mov(.eax, .dword[.absolute(L.alias + L.magic)])
        a.cmp(.eax, .imm(0x5AE1_C0DE))
        a.jne(fail.at("pae-paging", "alias-read"), .near)
        a.mov(.dword[.absolute(L.alias + L.magic + 4)], .imm(0x1234_5678))
        a.cmp(.dword[.absolute(L.magic + 4)], .imm(0x1234_5678))
        a.jne(fail.at("pae-paging", "alias-write"), .near)
        a.report("ok pae-paging\n")

        // --- leave paging, enable IA-32e mode ---
        a.mov(.eax, .cr0)
        a.and(.eax, .imm(0x7FFF_FFFF))
        a.mov(.cr0, .eax)
        a.mov(.eax, .imm(L.pml4))
        a.mov(.cr3, .eax)
        a.mov(.ecx, .imm(L.efer))
        a.rdmsr()
        a.or(.eax, 0x101)                                          // EFER.LME | EFER.SCE
        a.wrmsr()
        a.lgdt(.fword[gdtPointer])
        a.mov(.eax, .cr0)
        a.or(.eax, .imm(0x8000_0000))
        a.mov(.cr0, .eax)
        a.mov(.ecx, .imm(L.efer))
        a.rdmsr()
        a.test(.eax, 0x400)                                        // EFER.LMA
        a.jz(fail.at("long-mode", "efer.lma=0"), .near)
        a.jmpFar(selector: UInt16(L.kernelCS), to: long64)
        fail.flush()

        // --- 64-bit mode ---
        a.setMode(.bits64)
        fail.printHex = printHex
        a.bind(long64)
        a.mov(.ax, .imm(L.kernelDS))
        for s in [Operand.ds, .es, .ss, .fs, .gs] { a.mov(s, .ax) }
        a.mov(.rsp, .imm(L.kernelStack))
        a.mov(.ax, .cs)
        a.cmp(.ax, .imm(L.kernelCS))
        a.jne(fail.at("long-mode", "cs", [("cs", .rax)]), .near)
        a.movabs(.rax, .imm(0x1234_5678_9ABC_DEF0))                // a 64-bit register really is 64 bits wide
        a.shr(.rax, 32)
        a.cmp(.eax, .imm(0x1234_5678))
        a.jne(fail.at("long-mode", "rax-high", [("rax", .rax)]), .near)
        a.report("ok long-mode\n")

        // --- IDT: every exception to a reporting stub, then #BP, #GP, #PF and the DPL-3 gate 0x80 ---
        for v in 0..<32 {
            a.mov(.edi, .imm(v))
            a.mov(.rsi, .label(exceptionStubs[v]))
            a.mov(.edx, 0x8E)                                      // present, DPL 0, 64-bit interrupt gate
            a.call(setGate)
        }
        for (v, h, type) in [(3, bpHandler, 0x8E), (13, gpHandler, 0x8E), (14, pfHandler, 0x8E), (0x80, int80Handler, 0xEE)] {
            a.mov(.edi, .imm(v))
            a.mov(.rsi, .label(h))
            a.mov(.edx, .imm(type))
            a.call(setGate)
        }
        a.lidt(.tword[idtPointer])
        a.sidt(.tword[sidtBuffer])
        a.mov(.rax, .qword[sidtBuffer + 2])
        a.mov(.rbx, .label(idt))
        a.cmp(.rax, .rbx)
        a.jne(fail.at("idt", "sidt-base", [("base", .rax)]), .near)
        a.cmp(.word[sidtBuffer], .imm(256 * 16 - 1))
        a.jne(fail.at("idt", "sidt-limit"), .near)
        a.int3()
        let afterInt3 = a.here("after-int3")
        a.cmp(.qword[breakpoints], 1)
        a.jne(fail.at("idt", "breakpoint-not-taken"), .near)
        a.report("ok idt\n")

        // --- #PF: a supervisor write to a not-present page; the handler maps it and the write restarts ---
        a.mov(.rbx, .imm(config.pageFaultAddress))
        let pfInstruction = a.here("pf-instruction")
        a.mov(.qword[.rbx], .imm(0x600D_F00D))
        a.cmp(.qword[pageFaults], 1)
        a.jne(fail.at("page-fault", "not-taken-once"), .near)
        a.cmp(.qword[.rbx], .imm(0x600D_F00D))
        a.jne(fail.at("page-fault", "write-not-restarted"), .near)
        a.report("ok page-fault cr2=")
        a.mov(.rax, .qword[savedCR2])
        a.call(printHex)
        a.report(" err=")
        a.mov(.rax, .qword[savedError])
        a.call(printHex)
        a.report("\n")

        // --- #GP: load DS with a selector beyond the GDT limit; the handler resumes after it ---
        // RSP is misaligned by 8 at the fault: the processor aligns it to 16 before pushing the frame (SDM Vol. 3A §6.14.2).
        a.push(.rbx)
        a.mov(.ax, .imm(config.faultingSelector))
        let gpInstruction = a.here("gp-instruction")
        a.mov(.ds, .ax)
        a.jmp(fail.at("general-protection", "not-taken"), .near)
        let gpResume = a.here("gp-resume")
        a.pop(.rbx)
        a.cmp(.qword[gpFaults], 1)
        a.jne(fail.at("general-protection", "not-taken-once"), .near)
        a.report("ok general-protection err=")
        a.mov(.rax, .imm(config.expectedGPError))
        a.call(printHex)
        a.report("\n")

        // --- TSS (RSP0) and SYSCALL MSRs, then IRETQ to ring 3 ---
        a.mov(.rax, .label(tss))
        a.mov(.word[gdt + Int(L.tss) + 2], .ax)
        a.shr(.rax, 16)
        a.mov(.byte[gdt + Int(L.tss) + 4], .al)
        a.mov(.byte[gdt + Int(L.tss) + 7], .ah)
        a.shr(.rax, 16)
        a.mov(.dword[gdt + Int(L.tss) + 8], .eax)
        a.mov(.ax, .imm(L.tss))
        a.ltr(.ax)
        a.mov(.al, .byte[gdt + Int(L.tss) + 5])
        a.cmp(.al, 0x8B)                                           // LTR marks the TSS busy
        a.jne(fail.at("ring3", "tss-not-busy", [("type", .rax)]), .near)
        a.mov(.ecx, .imm(L.star))
        a.xor(.eax, .eax)
        a.mov(.edx, .imm((L.userCS32 << 16) | L.kernelCS))        // SYSRET base 0x18, SYSCALL CS 0x08
        a.wrmsr()
        a.mov(.ecx, .imm(L.lstar))
        a.mov(.rax, .label(syscallEntry))
        a.mov(.rdx, .rax)
        a.shr(.rdx, 32)
        a.wrmsr()
        a.mov(.ecx, .imm(L.fmask))
        a.mov(.eax, .imm(L.syscallMask))
        a.xor(.edx, .edx)
        a.wrmsr()
        a.push(.imm(L.userDS | 3))                                 // SS
        a.push(.imm(L.userStack))                                  // RSP
        a.push(0x202)                                              // RFLAGS: IF, IOPL 0
        a.push(.imm(L.userCS | 3))                                 // CS
        a.push(.label(userEntry))                                  // RIP
        a.iretq()

        // --- ring 3 (IOPL 0: it reports through the kernel) ---
        a.bind(userEntry)
        a.mov(.ax, .cs)
        a.movzx(.edi, .ax)                                         // the CS this code observes
        a.mov(.rsi, .rsp)
        a.mov(.dx, .ds)
        a.movzx(.edx, .dx)                                         // IRETQ to ring 3 nulled the DPL-0 DS
        a.mov(.eax, 1)                                             // int 0x80 function 1: "I am in ring 3"
        a.int(0x80)
        let userAfterInt = a.here("user-after-int")
        // Ring 3 is protected from the kernel: a write to a supervisor page faults (#PF, P|W|U) and so
        // does port I/O with IOPL 0 (#GP(0)); the kernel's handlers resume after each instruction.
        a.mov(.rbx, .imm(L.alias + 0x100))
        let userPFInstruction = a.here("user-pf-instruction")
        a.mov(.qword[.rbx], .rax)
        let userPFResume = a.here("user-pf-resume")
        a.mov(.al, .imm(UInt8(ascii: "!")))
        let userGPInstruction = a.here("user-gp-instruction")
        a.out(.imm(BootGuest.debugPort), .al)
        let userGPResume = a.here("user-gp-resume")
        a.mov(.eax, 5)                                             // function 5: "both faulted"
        a.int(0x80)
        a.pushfq()
        a.pop(.rbx)                                                // RFLAGS that SYSCALL must save in R11
        a.mov(.eax, 2)
        a.syscall()
        let userAfterSyscall = a.here("user-after-syscall")
        a.mov(.ax, .cs)
        a.movzx(.edi, .ax)
        a.mov(.ax, .ss)
        a.movzx(.esi, .ax)
        a.pushfq()
        a.pop(.rdx)
        a.mov(.eax, 3)                                             // function 3: "SYSRET returned me here"
        a.int(0x80)
        let userAfterSysretReport = a.here("user-after-sysret-report")
        a.mov(.eax, 4)                                             // function 4: exit
        a.int(0x80)
        let userSpin = a.here()
        a.jmp(userSpin)

        // --- int 0x80: DPL-3 interrupt gate ---
        // Frame on the RSP0 stack: [rsp] RIP, +8 CS, +16 RFLAGS, +24 RSP, +32 SS.
        a.bind(int80Handler)
        let fn3 = a.label(), fn4 = a.label(), fn5 = a.label()
        a.cmp(.eax, 3)
        a.je(fn3, .near)
        a.cmp(.eax, 5)
        a.je(fn5, .near)
        a.cmp(.eax, 4)
        a.je(fn4, .near)
        a.cmp(.eax, 1)
        a.jne(fail.at("ring3", "bad-int80-function", [("rax", .rax)]), .near)
        // Function 1: what ring 3 saw, then what the gate did.
        a.cmp(.edi, .imm(L.userCS | 3))
        a.jne(fail.at("ring3", "user-cs", [("cs", .rdi)]), .near)
        a.cmp(.rsi, .qword[.rsp + 24])
        a.jne(fail.at("ring3", "user-rsp", [("rsp", .rsi)]), .near)
        a.test(.edx, .edx)
        a.jnz(fail.at("ring3", "user-ds-not-null", [("ds", .rdx)]), .near)
        a.report("ok ring3\n")
        a.mov(.ax, .cs)
        a.cmp(.ax, .imm(L.kernelCS))
        a.jne(fail.at("int-gate-from-ring3", "handler-cs", [("cs", .rax)]), .near)
        a.cmp(.qword[.rsp + 8], .imm(L.userCS | 3))
        a.jne(fail.at("int-gate-from-ring3", "saved-cs-rpl", [("cs", .qword[.rsp + 8])]), .near)
        a.cmp(.qword[.rsp + 32], .imm(L.userDS | 3))
        a.jne(fail.at("int-gate-from-ring3", "saved-ss", [("ss", .qword[.rsp + 32])]), .near)
        a.mov(.rax, .label(userAfterInt))
        a.cmp(.qword[.rsp], .rax)
        a.jne(fail.at("int-gate-from-ring3", "saved-rip", [("rip", .qword[.rsp])]), .near)
        a.cmp(.rsp, .imm(L.rsp0 - 40))
        a.jne(fail.at("int-gate-from-ring3", "stack-not-rsp0", [("rsp", .rsp)]), .near)
        a.pushfq()
        a.pop(.rax)
        a.test(.eax, 0x200)
        a.jnz(fail.at("int-gate-from-ring3", "if-not-cleared"), .near)
        a.report("ok int-gate-from-ring3\n")
        a.iretq()
        // Function 5: ring 3 took the two protection faults.
        a.bind(fn5)
        a.cmp(.qword[userFaults], 2)
        a.jne(fail.at("user-protection", "faults", [("count", .qword[userFaults])]), .near)
        a.report("ok user-protection pf-err=")
        a.mov(.rax, .qword[userPFError])
        a.call(printHex)
        a.report(" gp-err=")
        a.mov(.rax, .qword[userGPError])
        a.call(printHex)
        a.report("\n")
        a.iretq()
        // Function 3: what ring 3 saw after SYSRET.
        a.bind(fn3)
        a.cmp(.edi, .imm(L.userCS | 3))
        a.jne(fail.at("sysret", "cs", [("cs", .rdi)]), .near)
        a.cmp(.esi, .imm(L.userDS | 3))
        a.jne(fail.at("sysret", "ss", [("ss", .rsi)]), .near)
        a.cmp(.rdx, .qword[userFlags])
        a.jne(fail.at("sysret", "rflags", [("rflags", .rdx)]), .near)
        a.mov(.rax, .label(userAfterSyscall))                      // SYSRET jumped to RCX, which it left intact
        a.cmp(.rcx, .rax)
        a.jne(fail.at("sysret", "rcx", [("rcx", .rcx)]), .near)
        a.mov(.rax, .label(userAfterSysretReport))
        a.cmp(.qword[.rsp], .rax)
        a.jne(fail.at("sysret", "rip", [("rip", .qword[.rsp])]), .near)
        a.report("ok sysret\n")
        a.iretq()
        // Function 4: exit from ring 3; stay in ring 0 and stop.
        a.bind(fn4)
        a.cmp(.qword[.rsp + 8], .imm(L.userCS | 3))
        a.jne(fail.at("sysret", "exit-from-ring0"), .near)
        a.report("done\n")
        a.cli()
        a.mov(.al, .imm(BootGuest.statusSuccess))
        a.out(.imm(BootGuest.statusPort), .al)
        a.hlt()
        let haltAddress = a.currentAddress
        let spin = a.here()
        a.hlt()
        a.jmp(spin)

        // --- SYSCALL entry: CPL 0, RCX = return RIP, R11 = user RFLAGS, RSP still the user's ---
        a.bind(syscallEntry)
        a.mov(.qword[savedUserRSP], .rsp)
        a.mov(.rsp, .imm(L.syscallStack))
        a.mov(.ax, .cs)
        a.cmp(.ax, .imm(L.kernelCS))
        a.jne(fail.at("syscall", "cs", [("cs", .rax)]), .near)
        a.mov(.ax, .ss)
        a.cmp(.ax, .imm(L.kernelDS))
        a.jne(fail.at("syscall", "ss", [("ss", .rax)]), .near)
        a.mov(.rax, .label(userAfterSyscall))
        a.cmp(.rcx, .rax)
        a.jne(fail.at("syscall", "rcx", [("rcx", .rcx)]), .near)
        a.cmp(.r11, .rbx)
        a.jne(fail.at("syscall", "r11", [("r11", .r11), ("rflags", .rbx)]), .near)
        a.cmp(.qword[savedUserRSP], .imm(L.userStack))
        a.jne(fail.at("syscall", "rsp", [("rsp", .qword[savedUserRSP])]), .near)
        a.pushfq()
        a.pop(.rax)
        a.test(.eax, .imm(L.syscallMask))
        a.jnz(fail.at("syscall", "fmask", [("rflags", .rax)]), .near)
        a.report("ok syscall rcx=")
        a.mov(.rax, .rcx)
        a.call(printHex)
        a.report(" r11=")
        a.mov(.rax, .r11)
        a.call(printHex)
        a.report("\n")
        a.mov(.qword[userFlags], .r11)
        a.mov(.rsp, .qword[savedUserRSP])
        a.sysretq()

        // --- #BP: a trap; saved RIP is the next instruction ---
        a.bind(bpHandler)
        a.mov(.rax, .label(afterInt3))
        a.cmp(.qword[.rsp], .rax)
        a.jne(fail.at("idt", "bp-rip", [("rip", .qword[.rsp])]), .near)
        a.inc(.qword[breakpoints])
        a.iretq()

        // --- #PF: [rsp] error code, +8 RIP, +16 CS ---
        a.bind(pfHandler)
        let kernelPF = a.label()
        a.mov(.rax, .label(userPFInstruction))
        a.cmp(.qword[.rsp + 8], .rax)
        a.jne(kernelPF, .near)
        // From ring 3: a present supervisor page written by user code (error code P|W|U = 7).
        a.mov(.rax, .qword[.rsp])
        a.mov(.qword[userPFError], .rax)
        a.cmp(.rax, 7)
        a.jne(fail.at("user-protection", "pf-err", [("err", .rax)]), .near)
        a.mov(.rax, .cr2)
        a.cmp(.rax, .imm(L.alias + 0x100))
        a.jne(fail.at("user-protection", "pf-cr2", [("cr2", .rax)]), .near)
        a.cmp(.qword[.rsp + 16], .imm(L.userCS | 3))
        a.jne(fail.at("user-protection", "pf-cs", [("cs", .qword[.rsp + 16])]), .near)
        a.inc(.qword[userFaults])
        a.mov(.rax, .label(userPFResume))
        a.mov(.qword[.rsp + 8], .rax)
        a.add(.rsp, 8)
        a.iretq()
        a.bind(kernelPF)
        a.inc(.qword[pageFaults])
        a.mov(.rax, .cr2)
        a.mov(.qword[savedCR2], .rax)
        a.mov(.rax, .qword[.rsp])
        a.mov(.qword[savedError], .rax)
        a.cmp(.qword[pageFaults], 1)
        a.jne(fail.at("page-fault", "repeated", [("cr2", .qword[savedCR2]), ("err", .qword[savedError])]), .near)
        a.mov(.rax, .label(pfInstruction))
        a.cmp(.qword[.rsp + 8], .rax)
        a.jne(fail.at("page-fault", "rip", [("rip", .qword[.rsp + 8])]), .near)
        a.cmp(.qword[.rsp + 32], .imm(L.kernelStack))
        a.jne(fail.at("page-fault", "saved-rsp", [("rsp", .qword[.rsp + 32])]), .near)
        a.cmp(.qword[.rsp + 40], .imm(L.kernelDS))
        a.jne(fail.at("page-fault", "saved-ss", [("ss", .qword[.rsp + 40])]), .near)
        a.mov(.rax, .imm(config.expectedCR2))
        a.cmp(.qword[savedCR2], .rax)
        a.jne(fail.at("page-fault", "cr2", [("cr2", .qword[savedCR2]), ("expected", .imm(config.expectedCR2))]), .near)
        a.mov(.rax, .imm(config.expectedPageFaultError))
        a.cmp(.qword[savedError], .rax)
        a.jne(fail.at("page-fault", "err", [("err", .qword[savedError]), ("expected", .imm(config.expectedPageFaultError))]), .near)
        // Map 2–4 MiB (PD entry 1) and drop any stale translation, then restart the write.
        a.mov(.qword[.absolute(L.pd + 8)], 0x20_0083)
        a.mov(.rax, .qword[savedCR2])
        a.invlpg(.mem[.rax])
        a.add(.rsp, 8)
        a.iretq()

        // --- #GP: [rsp] error code, +8 RIP, +16 CS ---
        a.bind(gpHandler)
        let kernelGP = a.label()
        a.mov(.rax, .label(userGPInstruction))
        a.cmp(.qword[.rsp + 8], .rax)
        a.jne(kernelGP, .near)
        // From ring 3: OUT with CPL > IOPL and no I/O bitmap in the TSS limit (error code 0).
        a.mov(.rax, .qword[.rsp])
        a.mov(.qword[userGPError], .rax)
        a.test(.rax, .rax)
        a.jnz(fail.at("user-protection", "gp-err", [("err", .rax)]), .near)
        a.cmp(.qword[.rsp + 16], .imm(L.userCS | 3))
        a.jne(fail.at("user-protection", "gp-cs", [("cs", .qword[.rsp + 16])]), .near)
        a.inc(.qword[userFaults])
        a.mov(.rax, .label(userGPResume))
        a.mov(.qword[.rsp + 8], .rax)
        a.add(.rsp, 8)
        a.iretq()
        a.bind(kernelGP)
        a.inc(.qword[gpFaults])
        a.mov(.rax, .label(gpInstruction))
        a.cmp(.qword[.rsp + 8], .rax)
        a.jne(fail.at("general-protection", "rip", [("rip", .qword[.rsp + 8]), ("err", .qword[.rsp])]), .near)
        a.mov(.rax, .imm(config.expectedGPError))
        a.cmp(.qword[.rsp], .rax)
        a.jne(fail.at("general-protection", "err", [("err", .qword[.rsp]), ("expected", .imm(config.expectedGPError))]), .near)
        a.test(.qword[.rsp + 16], 3)
        a.jnz(fail.at("general-protection", "saved-cpl", [("cs", .qword[.rsp + 16])]), .near)
        a.cmp(.qword[.rsp + 32], .imm(L.kernelStack - 8))
        a.jne(fail.at("general-protection", "saved-rsp", [("rsp", .qword[.rsp + 32])]), .near)
        a.cmp(.rsp, .imm(L.kernelStack - 16 - 48))
        a.jne(fail.at("general-protection", "frame-not-aligned", [("rsp", .rsp)]), .near)
        a.mov(.rax, .label(gpResume))
        a.mov(.qword[.rsp + 8], .rax)
        a.add(.rsp, 8)
        a.iretq()

        // --- any other exception: report the vector and the saved RIP, then stop ---
        for v in 0..<32 {
            a.bind(exceptionStubs[v])
            let hasError = [8, 10, 11, 12, 13, 14, 17, 21, 29, 30].contains(v)
            if !hasError { a.push(0) }
            a.push(.imm(v))
            a.jmp(unexpected, .near)
        }
        a.bind(unexpected)
        a.report("FAIL unexpected-exception vector=")
        a.mov(.rax, .qword[.rsp])
        a.call(printHex)
        a.report(" err=")
        a.mov(.rax, .qword[.rsp + 8])
        a.call(printHex)
        a.report(" rip=")
        a.mov(.rax, .qword[.rsp + 16])
        a.call(printHex)
        a.report("\n")
        a.finish(status: BootGuest.statusFailure)

        fail.flush()

        // --- set-gate: EDI vector, RSI handler, EDX type byte; writes a 16-byte gate with selector 08 ---
        a.bind(setGate)
        a.shl(.rdi, 4)
        a.mov(.rax, .label(idt))
        a.add(.rdi, .rax)
        a.mov(.word[.rdi], .si)
        a.mov(.word[.rdi + 2], .imm(L.kernelCS))
        a.mov(.byte[.rdi + 4], 0)
        a.mov(.byte[.rdi + 5], .dl)
        a.mov(.rax, .rsi)
        a.shr(.rax, 16)
        a.mov(.word[.rdi + 6], .ax)
        a.shr(.rax, 16)
        a.mov(.dword[.rdi + 8], .eax)
        a.mov(.dword[.rdi + 12], 0)
        a.ret()

        // --- print-hex: RAX as "0x" and its hex digits without leading zeros; preserves all but RAX ---
        a.bind(printHex)
        a.push(.rbx)
        a.push(.rcx)
        a.push(.rdx)
        a.mov(.rdx, .rax)
        a.report("0x")
        a.mov(.ecx, 60)
        a.xor(.ebx, .ebx)
        let digitLoop = a.here(), emit = a.label(), decimal = a.label(), next = a.label()
        a.mov(.rax, .rdx)
        a.shr(.rax, .cl)
        a.and(.eax, 0xF)
        a.test(.ebx, .ebx)
        a.jnz(emit)
        a.test(.eax, .eax)
        a.jnz(emit)
        a.test(.ecx, .ecx)
        a.jnz(next)
        a.bind(emit)
        a.mov(.ebx, 1)
        a.cmp(.al, 10)
        a.jb(decimal)
        a.add(.al, .imm(UInt8(ascii: "a") - 10 - UInt8(ascii: "0")))
        a.bind(decimal)
        a.add(.al, .imm(UInt8(ascii: "0")))
        a.out(.imm(BootGuest.debugPort), .al)
        a.bind(next)
        a.sub(.ecx, 4)
        a.jns(digitLoop)
        a.pop(.rdx)
        a.pop(.rcx)
        a.pop(.rbx)
        a.ret()

        // --- data ---
        a.align(16)
        a.bind(gdt)
        a.dq(0,
             0x00AF_9B00_0000_FFFF,     // 08: kernel code, 64-bit
             0x00CF_9300_0000_FFFF,     // 10: kernel data
             0x00CF_FB00_0000_FFFF,     // 18: user code, 32-bit (SYSRET base)
             0x00CF_F300_0000_FFFF,     // 20: user data
             0x00AF_FB00_0000_FFFF,     // 28: user code, 64-bit
             0x00CF_9B00_0000_FFFF,     // 30: kernel code, 32-bit
             0x0000_8900_0000_0067, 0)  // 38: 64-bit TSS (base patched at run time)
        a.bind(gdtPointer)
        a.dw(UInt16(8 * 9 - 1))
        a.dq(gdt)
        a.align(16)
        a.bind(idtPointer)
        a.dw(256 * 16 - 1)
        a.dq(idt)
        a.align(16)
        a.bind(sidtBuffer)
        a.space(16)
        for l in [savedCR2, savedError, pageFaults, gpFaults, breakpoints, savedUserRSP, userFlags, userFaults, userPFError, userGPError] {
            a.bind(l)
            a.dq(0)
        }
        a.align(16)
        a.bind(tss)
        a.dd(0)
        a.dq(UInt64(L.rsp0))            // RSP0
        a.space(102 - 12)
        a.dw(104)                       // I/O map base beyond the limit: no I/O bitmap, ring 3 gets no ports
        a.align(16)
        a.bind(idt)
        a.space(256 * 16)

        code = try a.finish()
        self.haltAddress = haltAddress
    }
}
