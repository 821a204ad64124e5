// The demo guest OS: a small 64-bit kernel and one user process, built with the assembler, that
// exercises the VT-x mechanisms of DESIGN.md's table from the inside and reports what it observes.
import X86Assembler

/// A small 64-bit guest operating system for `swiftvmx demo`.
///
/// How it starts: the VMM loads it the way a 64-bit boot protocol does — already in long mode through the
/// VMCS guest-state area (CR0.PG, CR4.PAE, EFER.LME/LMA, a flat 64-bit CS at CPL 0), with boot page
/// tables identity-mapping the first 2 MiB (`Layout.bootPML4`) and RSP at `Layout.kernelStackTop`.
/// Everything else the kernel builds itself: its GDT (kernel and user segments, a 64-bit TSS), its
/// IDT (every exception, the timer vector), its own 4-level page tables with 4 KiB pages where only
/// the user region is user-accessible, the SYSCALL MSRs, and a user process at CPL 3.
///
/// It reports each observation as one line on `debugPort` (one `REP OUTSB` per line), each line starting
/// with a tag naming the observation; it asks the VMM for things only through `VMCALL` with the request
/// in RAX (`Hypercall`). A check that fails reports "FAIL <what>" and powers off with status 1.
public struct DemoOS: Sendable {
    /// The port that receives the report lines.
    public static let debugPort: UInt16 = 0xE9
    /// The interrupt vector of the VMM's timer.
    public static let timerVector: UInt8 = 0x20
    /// The TPR threshold the guest expects the VMM to program (the guest writes CR8 = 5, 4, then 2).
    public static let tprThreshold: UInt8 = 3

    /// Requests the guest makes with VMCALL (RAX = the raw value).
    public enum Hypercall: UInt64, Sendable {
        /// Power off; RBX = status (0 success).
        case powerOff = 0
        /// Trap the next descriptor-table instruction ("descriptor-table exiting" for one access).
        case trapNextDescriptorTableAccess = 1
        /// Start the timer; the VMM injects its interrupts through the VM-entry interruption-information field.
        case startTimer = 2
        /// From now on deliver the timer through the interrupt line with "external-interrupt exiting".
        case timerThroughExternalInterruptExiting = 3
    }

    /// Guest-physical (= kernel-linear) addresses of the demo machine.
    public enum Layout {
        /// The boot PML4 the loader builds (then PDPT at +0x1000, PD at +0x2000): 0–2 MiB identity, supervisor.
        public static let bootPML4: UInt64 = 0x1000
        /// The virtual-APIC page (TPR shadow).
        public static let virtualAPIC: UInt64 = 0x8000
        /// The MSR bitmap page (all zero: RDMSR/WRMSR do not exit).
        public static let msrBitmap: UInt64 = 0x9000
        /// Where the kernel image is loaded and entered.
        public static let kernel: UInt64 = 0x10000
        /// Where the user program is loaded (the user-accessible region is `user ..< userEnd`).
        public static let user: UInt64 = 0x20000
        /// End of the user-accessible region.
        public static let userEnd: UInt64 = 0x30000
        /// A user-readable page the kernel's timer handler updates: +0 tick count.
        public static let userShared: UInt64 = 0x2F000
        /// User stack top.
        public static let userStackTop: UInt64 = 0x2F000
        /// A supervisor-only page the user process tries to write.
        public static let kernelSecret: UInt64 = 0x50000
        /// The guest's own PML4 (then PDPT, PD and one page table at +0x1000 each).
        public static let pml4: UInt64 = 0x60000
        /// Stack of SYSCALL entries.
        public static let syscallStackTop: UInt64 = 0x74000
        /// RSP0 in the TSS (interrupts from CPL 3).
        public static let rsp0: UInt64 = 0x78000
        /// Initial kernel stack top.
        public static let kernelStackTop: UInt64 = 0x80000
        /// RAM size of the demo machine.
        public static let ramSize: UInt64 = 2 << 20
    }

    /// Selectors of the guest's GDT (SYSCALL/SYSRET need this order: STAR = 0x0018_0008 << 32).
    public enum Selector {
        /// Kernel code (64-bit), kernel data.
        public static let kernelCode: UInt16 = 0x08, kernelData: UInt16 = 0x10
        /// User code (32-bit, the SYSRET base), user data, user code (64-bit).
        public static let userCode32: UInt16 = 0x18, userData: UInt16 = 0x20, userCode: UInt16 = 0x28
        /// The 64-bit TSS.
        public static let tss: UInt16 = 0x38
    }

    /// Timer ticks the user process waits for in each interrupt-delivery mode.
    public static let ticksPerPhase = 3

    /// Memory contents to load: (guest-physical address, bytes).
    public var segments: [(address: UInt64, bytes: [UInt8])]
    /// The entry point (64-bit, CPL 0).
    public var entry: UInt64 { Layout.kernel }

    /// Assembles the kernel and the user program.
    public static func build() throws -> DemoOS {
        let kernel = try buildKernel()
        let user = try buildUser()
        return DemoOS(segments: [(Layout.kernel, kernel), (Layout.user, user)])
    }
}

// MARK: - Kernel

/// Kernel code helpers: a line buffer filled by `say`/`sayHex` and written with one REP OUTSB by `endLine`.
private final class KernelWriter {
    let a: Assembler
    let puts: Label, putHex: Label, endLineRoutine: Label, powerOffFail: Label
    private var strings: [(Label, String)] = []
    private var failures: [(Label, String)] = []

    init(_ a: Assembler) {
        self.a = a
        puts = a.label("puts"); putHex = a.label("put-hex"); endLineRoutine = a.label("end-line")
        powerOffFail = a.label("power-off-fail")
    }

    /// Appends a constant string to the line buffer; preserves every register.
    func say(_ text: String) {
        let l = a.label()
        strings.append((l, text))
        a.push(.rsi); a.push(.rcx)
        a.mov(.rsi, .label(l))
        a.mov(.ecx, .imm(Int64(text.utf8.count)))
        a.call(puts)
        a.pop(.rcx); a.pop(.rsi)
    }

    /// Appends "0x<hex>" of an operand (not RSP-relative); preserves every register.
    func sayHex(_ op: Operand) {
        a.push(.rax)
        a.mov(.rax, op)
        a.call(putHex)
        a.pop(.rax)
    }

    /// Writes the buffered line and a newline to the debug port; preserves every register.
    func endLine() { a.call(endLineRoutine) }

    /// A label that reports "FAIL <what>" and powers off with status 1.
    func fail(_ what: String) -> Label {
        let l = a.label("fail")
        failures.append((l, what))
        return l
    }

    /// Emits the failure stubs, the routines and the strings.
    func emitSupport(lineBuffer: Label, linePointer: Label) {
        for (l, what) in failures {
            a.bind(l)
            say("FAIL \(what)")
            endLine()
            a.jmp(powerOffFail, .near)
        }
        a.bind(powerOffFail)
        a.mov(.eax, .imm(Int64(DemoOS.Hypercall.powerOff.rawValue)))
        a.mov(.ebx, 1)
        a.vmcall()
        let spin = a.here()
        a.hlt()
        a.jmp(spin)

        // puts: RSI = text, RCX = length.
        a.bind(puts)
        a.push(.rdi)
        a.mov(.rdi, .qword[linePointer])
        a.rep().movsb()
        a.mov(.qword[linePointer], .rdi)
        a.pop(.rdi)
        a.ret()

        // put-hex: RAX as 0x and hex digits without leading zeros.
        a.bind(putHex)
        for r in [Operand.rbx, .rcx, .rdx, .rdi] { a.push(r) }
        a.mov(.rdx, .rax)
        a.mov(.rdi, .qword[linePointer])
        a.mov(.byte[.rdi], .imm(Int64(UInt8(ascii: "0"))))
        a.mov(.byte[.rdi + 1], .imm(Int64(UInt8(ascii: "x"))))
        a.add(.rdi, 2)
        a.mov(.ecx, 60)
        a.xor(.ebx, .ebx)
        let digit = a.here(), emit = a.label(), decimal = a.label(), next = a.label()
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
        a.add(.al, .imm(Int64(UInt8(ascii: "a") - 10 - UInt8(ascii: "0"))))
        a.bind(decimal)
        a.add(.al, .imm(Int64(UInt8(ascii: "0"))))
        a.mov(.byte[.rdi], .al)
        a.inc(.rdi)
        a.bind(next)
        a.sub(.ecx, 4)
        a.jns(digit)
        a.mov(.qword[linePointer], .rdi)
        for r in [Operand.rdi, .rdx, .rcx, .rbx] { a.pop(r) }
        a.ret()

        // end-line: append '\n' and write the line with one REP OUTSB.
        a.bind(endLineRoutine)
        for r in [Operand.rax, .rsi, .rcx, .rdx, .rdi] { a.push(r) }
        a.mov(.rdi, .qword[linePointer])
        a.mov(.byte[.rdi], .imm(Int64(UInt8(ascii: "\n"))))
        a.inc(.rdi)
        a.mov(.rsi, .label(lineBuffer))
        a.mov(.rcx, .rdi)
        a.sub(.rcx, .rsi)
        a.mov(.dx, .imm(Int64(DemoOS.debugPort)))
        a.rep().outsb()
        a.mov(.rax, .label(lineBuffer))
        a.mov(.qword[linePointer], .rax)
        for r in [Operand.rdi, .rdx, .rcx, .rsi, .rax] { a.pop(r) }
        a.ret()

        for (l, s) in strings {
            a.bind(l)
            a.db(s)
        }
    }
}

private func buildKernel() throws -> [UInt8] {
    typealias L = DemoOS.Layout
    typealias S = DemoOS.Selector
    let a = Assembler(mode: .bits64, origin: L.kernel)
    let w = KernelWriter(a)
    let gdt = a.label("gdt"), gdtPointer = a.label("gdt-pointer"), idt = a.label("idt"), idtPointer = a.label("idt-pointer")
    let tss = a.label("tss"), setGate = a.label("set-gate"), reloaded = a.label("reloaded")
    let sgdtBuffer = a.label("sgdt"), sidtBuffer = a.label("sidt"), trappedSGDT = a.label("trapped-sgdt")
    let lineBuffer = a.label("line"), linePointer = a.label("line-pointer")
    let timerHandler = a.label("timer"), pfHandler = a.label("page-fault"), syscallEntry = a.label("syscall-entry")
    let lastTickRIP = a.label("last-tick-rip"), lastTickCS = a.label("last-tick-cs"), userTickCS = a.label("user-tick-cs")
    let userFaultError = a.label("user-fault-error"), userFaultCR2 = a.label("user-fault-cr2"), userFaults = a.label("user-faults")
    let syscalls = a.label("syscalls"), savedUserRSP = a.label("saved-user-rsp"), syscallCS = a.label("syscall-cs")
    let exceptionStubs = (0..<32).map { a.label("exception-\($0)") }
    let unexpected = a.label("unexpected")
    let ticks = Operand.qword[.absolute(Int64(L.userShared))]

    // ---- Entry: 64-bit, CPL 0, the loader's page tables, no GDT/IDT of our own yet.
    a.cld()
    a.mov(.rax, .label(lineBuffer))
    a.mov(.qword[linePointer], .rax)

    // ---- Descriptor tables: IDT gates, TSS descriptor, LGDT/LIDT/LTR, then SGDT/SIDT/STR (no exits).
    for v in 0..<32 {
        a.mov(.edi, .imm(Int64(v)))
        a.mov(.rsi, .label(exceptionStubs[v]))
        a.call(setGate)
    }
    for (v, h) in [(14, pfHandler), (Int(DemoOS.timerVector), timerHandler)] {
        a.mov(.edi, .imm(Int64(v)))
        a.mov(.rsi, .label(h))
        a.call(setGate)
    }
    a.mov(.rax, .label(tss))
    a.mov(.word[gdt + Int(S.tss) + 2], .ax)
    a.shr(.rax, 16)
    a.mov(.byte[gdt + Int(S.tss) + 4], .al)
    a.mov(.byte[gdt + Int(S.tss) + 7], .ah)
    a.shr(.rax, 16)
    a.mov(.dword[gdt + Int(S.tss) + 8], .eax)
    a.lgdt(.tword[gdtPointer])
    a.lidt(.tword[idtPointer])
    a.mov(.ax, .imm(Int64(S.tss)))
    a.ltr(.ax)
    a.mov(.ax, .imm(Int64(S.kernelData)))
    for s in [Operand.ds, .es, .ss, .fs, .gs] { a.mov(s, .ax) }
    a.push(.imm(Int64(S.kernelCode)))
    a.push(.label(reloaded))
    a.retfq()
    a.bind(reloaded)
    a.sgdt(.tword[sgdtBuffer])
    a.sidt(.tword[sidtBuffer])
    a.str(.ax)
    a.movzx(.ebx, .ax)
    a.mov(.rax, .label(gdt))
    a.cmp(.qword[sgdtBuffer + 2], .rax)
    a.jne(w.fail("tables: sgdt base"), .near)
    a.mov(.rax, .label(idt))
    a.cmp(.qword[sidtBuffer + 2], .rax)
    a.jne(w.fail("tables: sidt base"), .near)
    a.cmp(.ebx, .imm(Int64(S.tss)))
    a.jne(w.fail("tables: str"), .near)
    w.say("tables: LGDT LIDT LTR SGDT SIDT STR at CPL 0: gdtr.base=")
    w.sayHex(.qword[sgdtBuffer + 2])
    w.say(" idtr.base=")
    w.sayHex(.qword[sidtBuffer + 2])
    w.say(" tr=")
    w.sayHex(.rbx)
    w.endLine()
    // With "descriptor-table exiting" on for one access, SGDT exits and the VMM emulates it.
    a.mov(.eax, .imm(Int64(DemoOS.Hypercall.trapNextDescriptorTableAccess.rawValue)))
    a.vmcall()
    a.mov(.rbx, .label(trappedSGDT))
    a.sgdt(.tword[.rbx])
    a.mov(.rax, .qword[trappedSGDT + 2])
    a.cmp(.rax, .qword[sgdtBuffer + 2])
    a.jne(w.fail("tables-exit: sgdt base differs"), .near)
    a.mov(.ax, .word[trappedSGDT])
    a.cmp(.ax, .word[sgdtBuffer])
    a.jne(w.fail("tables-exit: sgdt limit differs"), .near)
    w.say("tables-exit: SGDT with descriptor-table exiting stored base=")
    w.sayHex(.qword[trappedSGDT + 2])
    w.say(" limit=")
    a.movzx(.eax, .word[trappedSGDT])
    w.sayHex(.rax)
    w.endLine()

    // ---- Own 4-level page tables: 512 4 KiB pages for 0–2 MiB; only the user region is user-accessible.
    a.mov(.edi, .imm(Int64(L.pml4)))
    a.xor(.eax, .eax)
    a.mov(.ecx, 2048)
    a.rep().stosq()
    a.mov(.qword[.absolute(Int64(L.pml4))], .imm(Int64(L.pml4 + 0x1000) | 7))
    a.mov(.qword[.absolute(Int64(L.pml4 + 0x1000))], .imm(Int64(L.pml4 + 0x2000) | 7))
    a.mov(.qword[.absolute(Int64(L.pml4 + 0x2000))], .imm(Int64(L.pml4 + 0x3000) | 7))
    a.mov(.edi, .imm(Int64(L.pml4 + 0x3000)))
    a.mov(.eax, 3)                                   // P | W, supervisor
    let ptLoop = a.here(), supervisor = a.label()
    a.mov(.rdx, .rax)
    a.cmp(.rax, .imm(Int64(L.user)))
    a.jb(supervisor)
    a.cmp(.rax, .imm(Int64(L.userEnd)))
    a.jae(supervisor)
    a.or(.edx, 4)                                    // U
    a.bind(supervisor)
    a.mov(.qword[.rdi], .rdx)
    a.add(.rdi, 8)
    a.add(.eax, 0x1000)
    a.cmp(.eax, .imm(0x20_0000))
    a.jb(ptLoop)
    a.mov(.eax, .imm(Int64(L.pml4)))
    a.mov(.cr3, .rax)
    a.mov(.rbx, .cr3)
    w.say("paging: own CR3=")
    w.sayHex(.rbx)
    a.mov(.rbx, .cr0)
    w.say(" CR0=")
    w.sayHex(.rbx)
    a.mov(.rbx, .cr4)
    w.say(" CR4=")
    w.sayHex(.rbx)
    w.endLine()
    a.mov(.ax, .cs)
    a.movzx(.ebx, .ax)
    a.test(.ebx, 3)
    a.jnz(w.fail("kernel: cs rpl not 0"), .near)
    w.say("kernel: mov ax,cs = ")
    w.sayHex(.rbx)
    w.say(" (CPL 0)")
    w.endLine()

    // ---- TPR shadow: MOV CR8 runs in the guest; only dropping below the threshold exits (after the write).
    // The VMM may program the threshold only while it does not exceed the VTPR (SDM Vol. 3C §26.2.1.1): it
    // does so at the report exit after CR8 = 5.
    a.mov(.eax, 5); a.mov(.cr8, .rax); a.mov(.rbx, .cr8)
    a.cmp(.rbx, 5); a.jne(w.fail("tpr: cr8 5"), .near)
    w.say("tpr: MOV CR8,5 read back ")
    w.sayHex(.rbx)
    w.endLine()
    a.mov(.eax, 4); a.mov(.cr8, .rax); a.mov(.rcx, .cr8)
    a.mov(.eax, 2); a.mov(.cr8, .rax); a.mov(.rdx, .cr8)
    a.cmp(.rcx, 4); a.jne(w.fail("tpr: cr8 4"), .near)
    a.cmp(.rdx, 2); a.jne(w.fail("tpr: cr8 2"), .near)
    w.say("tpr: MOV CR8,4 then MOV CR8,2 read back ")
    w.sayHex(.rcx); w.say(","); w.sayHex(.rdx)
    w.endLine()
    a.xor(.eax, .eax)
    a.mov(.cr8, .rax)

    // ---- SYSCALL MSRs (the MSR bitmap lets WRMSR run in the guest): EFER.SCE, STAR, LSTAR, FMASK.
    a.mov(.ecx, .imm(0xC000_0080)); a.rdmsr(); a.or(.eax, 1); a.wrmsr()
    a.mov(.ecx, .imm(0xC000_0081)); a.xor(.eax, .eax)
    a.mov(.edx, .imm((Int64(S.userCode32) << 16) | Int64(S.kernelCode))); a.wrmsr()
    a.mov(.ecx, .imm(0xC000_0082)); a.mov(.rax, .label(syscallEntry)); a.mov(.rdx, .rax); a.shr(.rdx, 32); a.wrmsr()
    a.mov(.ecx, .imm(0xC000_0084)); a.mov(.eax, 0x700); a.xor(.edx, .edx); a.wrmsr()

    // ---- Timer: interrupts held while IF = 0 arrive right after the STI shadow (interrupt-window exiting).
    a.mov(.eax, .imm(Int64(DemoOS.Hypercall.startTimer.rawValue)))
    a.vmcall()
    a.cli()
    a.mov(.ecx, 20_000)
    let busy = a.here()
    a.dec(.ecx)
    a.jnz(busy)
    a.cmp(ticks, 0)
    a.jne(w.fail("irq-window: tick delivered with IF=0"), .near)
    a.sti()
    a.nop()                                          // in the STI shadow: still blocked
    let windowRIP = a.here("window-rip")
    a.nop()
    a.cli()
    a.cmp(ticks, 1)
    a.jne(w.fail("irq-window: no tick right after the STI shadow"), .near)
    a.mov(.rax, .label(windowRIP))
    a.cmp(.qword[lastTickRIP], .rax)
    a.jne(w.fail("irq-window: tick at the wrong rip"), .near)
    w.say("irq-window: no tick during 20000 loops at IF=0; one tick right after STI+NOP at rip=")
    w.sayHex(.qword[lastTickRIP])
    w.endLine()

    // ---- HLT: activity state HLT until the next tick wakes the kernel.
    a.sti()
    a.hlt()
    let afterHLT = a.here("after-hlt")
    a.cli()
    a.cmp(ticks, 2)
    a.jne(w.fail("hlt: not woken by one tick"), .near)
    a.mov(.rax, .label(afterHLT))
    a.cmp(.qword[lastTickRIP], .rax)
    a.jne(w.fail("hlt: tick at the wrong rip"), .near)
    w.say("hlt: HLT at IF=1 woke on tick 2, handler saw rip=")
    w.sayHex(.qword[lastTickRIP])
    w.say(" (after HLT)")
    w.endLine()

    // ---- To the user process at CPL 3.
    a.push(.imm(Int64(S.userData | 3)))
    a.push(.imm(Int64(L.userStackTop)))
    a.push(0x202)
    a.push(.imm(Int64(S.userCode | 3)))
    a.push(.imm(Int64(L.user)))
    a.iretq()

    // ---- SYSCALL entry: RAX = function, RDI = argument; RCX/R11 = user RIP/RFLAGS.
    a.bind(syscallEntry)
    a.mov(.qword[savedUserRSP], .rsp)
    a.mov(.rsp, .imm(Int64(L.syscallStackTop)))
    a.push(.rcx)
    a.push(.r11)
    a.inc(.qword[syscalls])
    a.mov(.cx, .cs)
    a.movzx(.ecx, .cx)
    a.mov(.qword[syscallCS], .rcx)
    let fn2 = a.label(), fn3 = a.label(), fn4 = a.label(), fn5 = a.label(), fn6 = a.label(), sysret = a.label()
    a.cmp(.eax, 2); a.je(fn2, .near)
    a.cmp(.eax, 3); a.je(fn3, .near)
    a.cmp(.eax, 4); a.je(fn4, .near)
    a.cmp(.eax, 5); a.je(fn5, .near)
    a.cmp(.eax, 6); a.je(fn6, .near)
    a.cmp(.eax, 1); a.jne(w.fail("syscall: bad function"), .near)
    // 1: the user process reports its CS.
    a.cmp(.edi, .imm(Int64(S.userCode | 3)))
    a.jne(w.fail("user: cs not 0x2b"), .near)
    w.say("user: mov ax,cs = ")
    w.sayHex(.rdi)
    w.say(" (CPL 3); SYSCALL entered cs=")
    w.sayHex(.qword[syscallCS])
    w.endLine()
    a.jmp(sysret, .near)
    // 2: the user process wrote a supervisor page.
    a.bind(fn2)
    a.cmp(.qword[userFaults], 1)
    a.jne(w.fail("user-protection: no #PF"), .near)
    a.cmp(.qword[userFaultError], 7)
    a.jne(w.fail("user-protection: #PF error code"), .near)
    w.say("user-protection: CPL-3 write to ")
    w.sayHex(.qword[userFaultCR2])
    w.say(" -> guest #PF handler err=")
    w.sayHex(.qword[userFaultError])
    w.say(", page unchanged=")
    a.movzx(.eax, .byte[.absolute(Int64(L.kernelSecret))])
    w.sayHex(.rax)
    w.endLine()
    a.jmp(sysret, .near)
    // 3: timer ticks taken at CPL 3 (injected).
    a.bind(fn3)
    a.cmp(.qword[userTickCS], .imm(Int64(S.userCode | 3)))
    a.jne(w.fail("timer: no tick interrupted CPL 3"), .near)
    w.say("timer: ticks=")
    w.sayHex(ticks)
    w.say(", interrupted user cs=")
    w.sayHex(.qword[userTickCS])
    w.endLine()
    a.jmp(sysret, .near)
    // 4: switch the timer to external-interrupt exiting.
    a.bind(fn4)
    a.mov(.eax, .imm(Int64(DemoOS.Hypercall.timerThroughExternalInterruptExiting.rawValue)))
    a.vmcall()
    a.jmp(sysret, .near)
    // 5: ticks through external-interrupt exiting.
    a.bind(fn5)
    w.say("ext-int: ticks=")
    w.sayHex(ticks)
    w.say(", interrupted user cs=")
    w.sayHex(.qword[userTickCS])
    w.endLine()
    a.jmp(sysret, .near)
    // 6: exit.
    a.bind(fn6)
    w.say("syscall: ")
    w.sayHex(.qword[syscalls])
    w.say(" SYSCALLs entered cs=")
    w.sayHex(.qword[syscallCS])
    w.say(" via LSTAR; SYSRETQ to cs=")
    w.sayHex(.rdi)
    w.endLine()
    w.say("done")
    w.endLine()
    a.mov(.eax, .imm(Int64(DemoOS.Hypercall.powerOff.rawValue)))
    a.xor(.ebx, .ebx)
    a.vmcall()
    let spin = a.here()
    a.hlt()
    a.jmp(spin)
    a.bind(sysret)
    a.pop(.r11)
    a.pop(.rcx)
    a.mov(.rsp, .qword[savedUserRSP])
    a.sysretq()

    // ---- Timer: count, remember where it struck, return. Frame: [rsp] RIP, +8 CS.
    a.bind(timerHandler)
    a.push(.rax)
    a.inc(ticks)
    a.mov(.rax, .qword[.rsp + 8])
    a.mov(.qword[lastTickRIP], .rax)
    a.mov(.rax, .qword[.rsp + 16])
    a.mov(.qword[lastTickCS], .rax)
    a.cmp(.eax, .imm(Int64(S.userCode | 3)))
    let notUser = a.label()
    a.jne(notUser)
    a.mov(.qword[userTickCS], .rax)
    a.bind(notUser)
    a.pop(.rax)
    a.iretq()

    // ---- #PF: [rsp] error code, +8 RIP, +16 CS. From CPL 3: record and resume at R15.
    a.bind(pfHandler)
    a.test(.qword[.rsp + 16], 3)
    a.jz(exceptionStubs[14], .near)
    a.push(.rax)
    a.mov(.rax, .qword[.rsp + 8])
    a.mov(.qword[userFaultError], .rax)
    a.mov(.rax, .cr2)
    a.mov(.qword[userFaultCR2], .rax)
    a.inc(.qword[userFaults])
    a.pop(.rax)
    a.mov(.qword[.rsp + 8], .r15)
    a.add(.rsp, 8)
    a.iretq()

    // ---- Any other exception: report vector and RIP, power off.
    for v in 0..<32 {
        a.bind(exceptionStubs[v])
        if ![8, 10, 11, 12, 13, 14, 17, 21, 29, 30].contains(v) { a.push(0) }
        a.push(.imm(Int64(v)))
        a.jmp(unexpected, .near)
    }
    a.bind(unexpected)
    a.pop(.rbx)
    a.pop(.rcx)
    a.pop(.rdx)
    w.say("FAIL exception vector=")
    w.sayHex(.rbx)
    w.say(" err=")
    w.sayHex(.rcx)
    w.say(" rip=")
    w.sayHex(.rdx)
    w.endLine()
    a.jmp(w.powerOffFail, .near)

    // ---- set-gate: EDI vector, RSI handler: a present DPL-0 64-bit interrupt gate with selector 0x08.
    a.bind(setGate)
    a.shl(.rdi, 4)
    a.mov(.rax, .label(idt))
    a.add(.rdi, .rax)
    a.mov(.word[.rdi], .si)
    a.mov(.word[.rdi + 2], .imm(Int64(S.kernelCode)))
    a.mov(.word[.rdi + 4], 0x8E00)
    a.mov(.rax, .rsi)
    a.shr(.rax, 16)
    a.mov(.word[.rdi + 6], .ax)
    a.shr(.rax, 16)
    a.mov(.dword[.rdi + 8], .eax)
    a.mov(.dword[.rdi + 12], 0)
    a.ret()

    w.emitSupport(lineBuffer: lineBuffer, linePointer: linePointer)

    // ---- Data.
    a.align(16, fill: 0)
    a.bind(gdt)
    a.dq(0,
         0x00AF_9B00_0000_FFFF,     // 08: kernel code, 64-bit
         0x00CF_9300_0000_FFFF,     // 10: kernel data
         0x00CF_FB00_0000_FFFF,     // 18: user code, 32-bit (SYSRET base)
         0x00CF_F300_0000_FFFF,     // 20: user data
         0x00AF_FB00_0000_FFFF,     // 28: user code, 64-bit
         0,                         // 30: unused
         0x0000_8900_0000_0067, 0)  // 38: 64-bit TSS (base patched at run time)
    a.bind(gdtPointer)
    a.dw(UInt16(8 * 9 - 1))
    a.dq(gdt)
    a.align(16, fill: 0)
    a.bind(idtPointer)
    a.dw(256 * 16 - 1)
    a.dq(idt)
    for l in [sgdtBuffer, sidtBuffer, trappedSGDT] {
        a.align(16, fill: 0)
        a.bind(l)
        a.space(16)
    }
    for l in [linePointer, lastTickRIP, lastTickCS, userTickCS, userFaultError, userFaultCR2, userFaults, syscalls,
              savedUserRSP, syscallCS] {
        a.bind(l)
        a.dq(0)
    }
    a.align(16, fill: 0)
    a.bind(tss)
    a.dd(0)
    a.dq(L.rsp0)                   // RSP0
    a.space(102 - 12)
    a.dw(104)                      // no I/O bitmap: ring 3 has no ports
    a.align(16, fill: 0)
    a.bind(lineBuffer)
    a.space(256)
    a.align(16, fill: 0)
    a.bind(idt)
    a.space(256 * 16)
    let code = try a.finish()
    guard L.kernel + UInt64(code.count) <= L.user else { throw DemoOSError.kernelTooLarge(code.count) }
    return code
}

// MARK: - User process

private func buildUser() throws -> [UInt8] {
    typealias L = DemoOS.Layout
    let a = Assembler(mode: .bits64, origin: L.user)
    let ticks = Operand.qword[.absolute(Int64(L.userShared))]
    // 1: report CS (RPL 3) through the kernel.
    a.mov(.ax, .cs)
    a.movzx(.edi, .ax)
    a.mov(.eax, 1)
    a.syscall()
    // 2: write a supervisor page; the kernel's #PF handler resumes at R15.
    let resume = a.label("resume")
    a.mov(.r15, .label(resume))
    a.mov(.ebx, .imm(Int64(L.kernelSecret)))
    a.mov(.byte[.rbx], 0x55)
    a.bind(resume)
    a.mov(.eax, 2)
    a.syscall()
    // 3: spin at CPL 3 with IF = 1 until the injected timer ticked `ticksPerPhase` more times.
    a.mov(.rbx, ticks)
    a.add(.rbx, .imm(Int64(DemoOS.ticksPerPhase)))
    let wait1 = a.here()
    a.cmp(ticks, .rbx)
    a.jb(wait1)
    a.mov(.eax, 3)
    a.syscall()
    // 4: the same through external-interrupt exiting.
    a.mov(.eax, 4)
    a.syscall()
    a.mov(.rbx, ticks)
    a.add(.rbx, .imm(Int64(DemoOS.ticksPerPhase)))
    let wait2 = a.here()
    a.cmp(ticks, .rbx)
    a.jb(wait2)
    a.mov(.eax, 5)
    a.syscall()
    // 6: exit, reporting the CS SYSRET gave us.
    a.mov(.ax, .cs)
    a.movzx(.edi, .ax)
    a.mov(.eax, 6)
    a.syscall()
    let spin = a.here()
    a.jmp(spin)
    return try a.finish()
}

/// Why the demo guest could not be built.
public enum DemoOSError: Error, Equatable, CustomStringConvertible {
    /// The kernel image overlaps the user region.
    case kernelTooLarge(Int)

    /// A one-line description.
    public var description: String {
        switch self {
        case .kernelTooLarge(let n): "demo kernel (\(n) bytes) overlaps the user region"
        }
    }
}
