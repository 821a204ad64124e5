// Register constants and condition-code mnemonics (a regular table: edit by hand).

extension Register {
    /// 64-bit general-purpose register RAX.
    public static let rax = Register(kind: .gpr, size: 64, number: 0, name: "rax")
    /// 64-bit general-purpose register RCX.
    public static let rcx = Register(kind: .gpr, size: 64, number: 1, name: "rcx")
    /// 64-bit general-purpose register RDX.
    public static let rdx = Register(kind: .gpr, size: 64, number: 2, name: "rdx")
    /// 64-bit general-purpose register RBX.
    public static let rbx = Register(kind: .gpr, size: 64, number: 3, name: "rbx")
    /// 64-bit general-purpose register RSP.
    public static let rsp = Register(kind: .gpr, size: 64, number: 4, name: "rsp")
    /// 64-bit general-purpose register RBP.
    public static let rbp = Register(kind: .gpr, size: 64, number: 5, name: "rbp")
    /// 64-bit general-purpose register RSI.
    public static let rsi = Register(kind: .gpr, size: 64, number: 6, name: "rsi")
    /// 64-bit general-purpose register RDI.
    public static let rdi = Register(kind: .gpr, size: 64, number: 7, name: "rdi")
    /// 64-bit general-purpose register R8.
    public static let r8 = Register(kind: .gpr, size: 64, number: 8, name: "r8")
    /// 64-bit general-purpose register R9.
    public static let r9 = Register(kind: .gpr, size: 64, number: 9, name: "r9")
    /// 64-bit general-purpose register R10.
    public static let r10 = Register(kind: .gpr, size: 64, number: 10, name: "r10")
    /// 64-bit general-purpose register R11.
    public static let r11 = Register(kind: .gpr, size: 64, number: 11, name: "r11")
    /// 64-bit general-purpose register R12.
    public static let r12 = Register(kind: .gpr, size: 64, number: 12, name: "r12")
    /// 64-bit general-purpose register R13.
    public static let r13 = Register(kind: .gpr, size: 64, number: 13, name: "r13")
    /// 64-bit general-purpose register R14.
    public static let r14 = Register(kind: .gpr, size: 64, number: 14, name: "r14")
    /// 64-bit general-purpose register R15.
    public static let r15 = Register(kind: .gpr, size: 64, number: 15, name: "r15")
    /// 32-bit general-purpose register EAX.
    public static let eax = Register(kind: .gpr, size: 32, number: 0, name: "eax")
    /// 32-bit general-purpose register ECX.
    public static let ecx = Register(kind: .gpr, size: 32, number: 1, name: "ecx")
    /// 32-bit general-purpose register EDX.
    public static let edx = Register(kind: .gpr, size: 32, number: 2, name: "edx")
    /// 32-bit general-purpose register EBX.
    public static let ebx = Register(kind: .gpr, size: 32, number: 3, name: "ebx")
    /// 32-bit general-purpose register ESP.
    public static let esp = Register(kind: .gpr, size: 32, number: 4, name: "esp")
    /// 32-bit general-purpose register EBP.
    public static let ebp = Register(kind: .gpr, size: 32, number: 5, name: "ebp")
    /// 32-bit general-purpose register ESI.
    public static let esi = Register(kind: .gpr, size: 32, number: 6, name: "esi")
    /// 32-bit general-purpose register EDI.
    public static let edi = Register(kind: .gpr, size: 32, number: 7, name: "edi")
    /// 32-bit general-purpose register R8D.
    public static let r8d = Register(kind: .gpr, size: 32, number: 8, name: "r8d")
    /// 32-bit general-purpose register R9D.
    public static let r9d = Register(kind: .gpr, size: 32, number: 9, name: "r9d")
    /// 32-bit general-purpose register R10D.
    public static let r10d = Register(kind: .gpr, size: 32, number: 10, name: "r10d")
    /// 32-bit general-purpose register R11D.
    public static let r11d = Register(kind: .gpr, size: 32, number: 11, name: "r11d")
    /// 32-bit general-purpose register R12D.
    public static let r12d = Register(kind: .gpr, size: 32, number: 12, name: "r12d")
    /// 32-bit general-purpose register R13D.
    public static let r13d = Register(kind: .gpr, size: 32, number: 13, name: "r13d")
    /// 32-bit general-purpose register R14D.
    public static let r14d = Register(kind: .gpr, size: 32, number: 14, name: "r14d")
    /// 32-bit general-purpose register R15D.
    public static let r15d = Register(kind: .gpr, size: 32, number: 15, name: "r15d")
    /// 16-bit general-purpose register AX.
    public static let ax = Register(kind: .gpr, size: 16, number: 0, name: "ax")
    /// 16-bit general-purpose register CX.
    public static let cx = Register(kind: .gpr, size: 16, number: 1, name: "cx")
    /// 16-bit general-purpose register DX.
    public static let dx = Register(kind: .gpr, size: 16, number: 2, name: "dx")
    /// 16-bit general-purpose register BX.
    public static let bx = Register(kind: .gpr, size: 16, number: 3, name: "bx")
    /// 16-bit general-purpose register SP.
    public static let sp = Register(kind: .gpr, size: 16, number: 4, name: "sp")
    /// 16-bit general-purpose register BP.
    public static let bp = Register(kind: .gpr, size: 16, number: 5, name: "bp")
    /// 16-bit general-purpose register SI.
    public static let si = Register(kind: .gpr, size: 16, number: 6, name: "si")
    /// 16-bit general-purpose register DI.
    public static let di = Register(kind: .gpr, size: 16, number: 7, name: "di")
    /// 16-bit general-purpose register R8W.
    public static let r8w = Register(kind: .gpr, size: 16, number: 8, name: "r8w")
    /// 16-bit general-purpose register R9W.
    public static let r9w = Register(kind: .gpr, size: 16, number: 9, name: "r9w")
    /// 16-bit general-purpose register R10W.
    public static let r10w = Register(kind: .gpr, size: 16, number: 10, name: "r10w")
    /// 16-bit general-purpose register R11W.
    public static let r11w = Register(kind: .gpr, size: 16, number: 11, name: "r11w")
    /// 16-bit general-purpose register R12W.
    public static let r12w = Register(kind: .gpr, size: 16, number: 12, name: "r12w")
    /// 16-bit general-purpose register R13W.
    public static let r13w = Register(kind: .gpr, size: 16, number: 13, name: "r13w")
    /// 16-bit general-purpose register R14W.
    public static let r14w = Register(kind: .gpr, size: 16, number: 14, name: "r14w")
    /// 16-bit general-purpose register R15W.
    public static let r15w = Register(kind: .gpr, size: 16, number: 15, name: "r15w")
    /// 8-bit general-purpose register AL.
    public static let al = Register(kind: .gpr, size: 8, number: 0, name: "al")
    /// 8-bit general-purpose register CL.
    public static let cl = Register(kind: .gpr, size: 8, number: 1, name: "cl")
    /// 8-bit general-purpose register DL.
    public static let dl = Register(kind: .gpr, size: 8, number: 2, name: "dl")
    /// 8-bit general-purpose register BL.
    public static let bl = Register(kind: .gpr, size: 8, number: 3, name: "bl")
    /// 8-bit general-purpose register SPL.
    public static let spl = Register(kind: .gpr, size: 8, number: 4, name: "spl")
    /// 8-bit general-purpose register BPL.
    public static let bpl = Register(kind: .gpr, size: 8, number: 5, name: "bpl")
    /// 8-bit general-purpose register SIL.
    public static let sil = Register(kind: .gpr, size: 8, number: 6, name: "sil")
    /// 8-bit general-purpose register DIL.
    public static let dil = Register(kind: .gpr, size: 8, number: 7, name: "dil")
    /// 8-bit general-purpose register R8B.
    public static let r8b = Register(kind: .gpr, size: 8, number: 8, name: "r8b")
    /// 8-bit general-purpose register R9B.
    public static let r9b = Register(kind: .gpr, size: 8, number: 9, name: "r9b")
    /// 8-bit general-purpose register R10B.
    public static let r10b = Register(kind: .gpr, size: 8, number: 10, name: "r10b")
    /// 8-bit general-purpose register R11B.
    public static let r11b = Register(kind: .gpr, size: 8, number: 11, name: "r11b")
    /// 8-bit general-purpose register R12B.
    public static let r12b = Register(kind: .gpr, size: 8, number: 12, name: "r12b")
    /// 8-bit general-purpose register R13B.
    public static let r13b = Register(kind: .gpr, size: 8, number: 13, name: "r13b")
    /// 8-bit general-purpose register R14B.
    public static let r14b = Register(kind: .gpr, size: 8, number: 14, name: "r14b")
    /// 8-bit general-purpose register R15B.
    public static let r15b = Register(kind: .gpr, size: 8, number: 15, name: "r15b")
    /// 8-bit high-byte register AH (not encodable with REX).
    public static let ah = Register(kind: .gpr, size: 8, number: 4, name: "ah", isHigh8: true)
    /// 8-bit high-byte register CH (not encodable with REX).
    public static let ch = Register(kind: .gpr, size: 8, number: 5, name: "ch", isHigh8: true)
    /// 8-bit high-byte register DH (not encodable with REX).
    public static let dh = Register(kind: .gpr, size: 8, number: 6, name: "dh", isHigh8: true)
    /// 8-bit high-byte register BH (not encodable with REX).
    public static let bh = Register(kind: .gpr, size: 8, number: 7, name: "bh", isHigh8: true)
    /// Segment register ES.
    public static let es = Register(kind: .segment, size: 16, number: 0, name: "es")
    /// Segment register CS.
    public static let cs = Register(kind: .segment, size: 16, number: 1, name: "cs")
    /// Segment register SS.
    public static let ss = Register(kind: .segment, size: 16, number: 2, name: "ss")
    /// Segment register DS.
    public static let ds = Register(kind: .segment, size: 16, number: 3, name: "ds")
    /// Segment register FS.
    public static let fs = Register(kind: .segment, size: 16, number: 4, name: "fs")
    /// Segment register GS.
    public static let gs = Register(kind: .segment, size: 16, number: 5, name: "gs")
    /// Control register CR0.
    public static let cr0 = Register(kind: .control, size: 64, number: 0, name: "cr0")
    /// Control register CR2.
    public static let cr2 = Register(kind: .control, size: 64, number: 2, name: "cr2")
    /// Control register CR3.
    public static let cr3 = Register(kind: .control, size: 64, number: 3, name: "cr3")
    /// Control register CR4.
    public static let cr4 = Register(kind: .control, size: 64, number: 4, name: "cr4")
    /// Control register CR8.
    public static let cr8 = Register(kind: .control, size: 64, number: 8, name: "cr8")
    /// Debug register DR0.
    public static let dr0 = Register(kind: .debug, size: 64, number: 0, name: "dr0")
    /// Debug register DR1.
    public static let dr1 = Register(kind: .debug, size: 64, number: 1, name: "dr1")
    /// Debug register DR2.
    public static let dr2 = Register(kind: .debug, size: 64, number: 2, name: "dr2")
    /// Debug register DR3.
    public static let dr3 = Register(kind: .debug, size: 64, number: 3, name: "dr3")
    /// Debug register DR4.
    public static let dr4 = Register(kind: .debug, size: 64, number: 4, name: "dr4")
    /// Debug register DR5.
    public static let dr5 = Register(kind: .debug, size: 64, number: 5, name: "dr5")
    /// Debug register DR6.
    public static let dr6 = Register(kind: .debug, size: 64, number: 6, name: "dr6")
    /// Debug register DR7.
    public static let dr7 = Register(kind: .debug, size: 64, number: 7, name: "dr7")
    /// The instruction pointer, for RIP-relative memory operands in 64-bit code.
    public static let rip = Register(kind: .rip, size: 64, number: 5, name: "rip")
}

extension Operand {
    /// 64-bit general-purpose register RAX.
    public static let rax = Operand.register(Register.rax)
    /// 64-bit general-purpose register RCX.
    public static let rcx = Operand.register(Register.rcx)
    /// 64-bit general-purpose register RDX.
    public static let rdx = Operand.register(Register.rdx)
    /// 64-bit general-purpose register RBX.
    public static let rbx = Operand.register(Register.rbx)
    /// 64-bit general-purpose register RSP.
    public static let rsp = Operand.register(Register.rsp)
    /// 64-bit general-purpose register RBP.
    public static let rbp = Operand.register(Register.rbp)
    /// 64-bit general-purpose register RSI.
    public static let rsi = Operand.register(Register.rsi)
    /// 64-bit general-purpose register RDI.
    public static let rdi = Operand.register(Register.rdi)
    /// 64-bit general-purpose register R8.
    public static let r8 = Operand.register(Register.r8)
    /// 64-bit general-purpose register R9.
    public static let r9 = Operand.register(Register.r9)
    /// 64-bit general-purpose register R10.
    public static let r10 = Operand.register(Register.r10)
    /// 64-bit general-purpose register R11.
    public static let r11 = Operand.register(Register.r11)
    /// 64-bit general-purpose register R12.
    public static let r12 = Operand.register(Register.r12)
    /// 64-bit general-purpose register R13.
    public static let r13 = Operand.register(Register.r13)
    /// 64-bit general-purpose register R14.
    public static let r14 = Operand.register(Register.r14)
    /// 64-bit general-purpose register R15.
    public static let r15 = Operand.register(Register.r15)
    /// 32-bit general-purpose register EAX.
    public static let eax = Operand.register(Register.eax)
    /// 32-bit general-purpose register ECX.
    public static let ecx = Operand.register(Register.ecx)
    /// 32-bit general-purpose register EDX.
    public static let edx = Operand.register(Register.edx)
    /// 32-bit general-purpose register EBX.
    public static let ebx = Operand.register(Register.ebx)
    /// 32-bit general-purpose register ESP.
    public static let esp = Operand.register(Register.esp)
    /// 32-bit general-purpose register EBP.
    public static let ebp = Operand.register(Register.ebp)
    /// 32-bit general-purpose register ESI.
    public static let esi = Operand.register(Register.esi)
    /// 32-bit general-purpose register EDI.
    public static let edi = Operand.register(Register.edi)
    /// 32-bit general-purpose register R8D.
    public static let r8d = Operand.register(Register.r8d)
    /// 32-bit general-purpose register R9D.
    public static let r9d = Operand.register(Register.r9d)
    /// 32-bit general-purpose register R10D.
    public static let r10d = Operand.register(Register.r10d)
    /// 32-bit general-purpose register R11D.
    public static let r11d = Operand.register(Register.r11d)
    /// 32-bit general-purpose register R12D.
    public static let r12d = Operand.register(Register.r12d)
    /// 32-bit general-purpose register R13D.
    public static let r13d = Operand.register(Register.r13d)
    /// 32-bit general-purpose register R14D.
    public static let r14d = Operand.register(Register.r14d)
    /// 32-bit general-purpose register R15D.
    public static let r15d = Operand.register(Register.r15d)
    /// 16-bit general-purpose register AX.
    public static let ax = Operand.register(Register.ax)
    /// 16-bit general-purpose register CX.
    public static let cx = Operand.register(Register.cx)
    /// 16-bit general-purpose register DX.
    public static let dx = Operand.register(Register.dx)
    /// 16-bit general-purpose register BX.
    public static let bx = Operand.register(Register.bx)
    /// 16-bit general-purpose register SP.
    public static let sp = Operand.register(Register.sp)
    /// 16-bit general-purpose register BP.
    public static let bp = Operand.register(Register.bp)
    /// 16-bit general-purpose register SI.
    public static let si = Operand.register(Register.si)
    /// 16-bit general-purpose register DI.
    public static let di = Operand.register(Register.di)
    /// 16-bit general-purpose register R8W.
    public static let r8w = Operand.register(Register.r8w)
    /// 16-bit general-purpose register R9W.
    public static let r9w = Operand.register(Register.r9w)
    /// 16-bit general-purpose register R10W.
    public static let r10w = Operand.register(Register.r10w)
    /// 16-bit general-purpose register R11W.
    public static let r11w = Operand.register(Register.r11w)
    /// 16-bit general-purpose register R12W.
    public static let r12w = Operand.register(Register.r12w)
    /// 16-bit general-purpose register R13W.
    public static let r13w = Operand.register(Register.r13w)
    /// 16-bit general-purpose register R14W.
    public static let r14w = Operand.register(Register.r14w)
    /// 16-bit general-purpose register R15W.
    public static let r15w = Operand.register(Register.r15w)
    /// 8-bit general-purpose register AL.
    public static let al = Operand.register(Register.al)
    /// 8-bit general-purpose register CL.
    public static let cl = Operand.register(Register.cl)
    /// 8-bit general-purpose register DL.
    public static let dl = Operand.register(Register.dl)
    /// 8-bit general-purpose register BL.
    public static let bl = Operand.register(Register.bl)
    /// 8-bit general-purpose register SPL.
    public static let spl = Operand.register(Register.spl)
    /// 8-bit general-purpose register BPL.
    public static let bpl = Operand.register(Register.bpl)
    /// 8-bit general-purpose register SIL.
    public static let sil = Operand.register(Register.sil)
    /// 8-bit general-purpose register DIL.
    public static let dil = Operand.register(Register.dil)
    /// 8-bit general-purpose register R8B.
    public static let r8b = Operand.register(Register.r8b)
    /// 8-bit general-purpose register R9B.
    public static let r9b = Operand.register(Register.r9b)
    /// 8-bit general-purpose register R10B.
    public static let r10b = Operand.register(Register.r10b)
    /// 8-bit general-purpose register R11B.
    public static let r11b = Operand.register(Register.r11b)
    /// 8-bit general-purpose register R12B.
    public static let r12b = Operand.register(Register.r12b)
    /// 8-bit general-purpose register R13B.
    public static let r13b = Operand.register(Register.r13b)
    /// 8-bit general-purpose register R14B.
    public static let r14b = Operand.register(Register.r14b)
    /// 8-bit general-purpose register R15B.
    public static let r15b = Operand.register(Register.r15b)
    /// 8-bit high-byte register AH (not encodable with REX).
    public static let ah = Operand.register(Register.ah)
    /// 8-bit high-byte register CH (not encodable with REX).
    public static let ch = Operand.register(Register.ch)
    /// 8-bit high-byte register DH (not encodable with REX).
    public static let dh = Operand.register(Register.dh)
    /// 8-bit high-byte register BH (not encodable with REX).
    public static let bh = Operand.register(Register.bh)
    /// Segment register ES.
    public static let es = Operand.register(Register.es)
    /// Segment register CS.
    public static let cs = Operand.register(Register.cs)
    /// Segment register SS.
    public static let ss = Operand.register(Register.ss)
    /// Segment register DS.
    public static let ds = Operand.register(Register.ds)
    /// Segment register FS.
    public static let fs = Operand.register(Register.fs)
    /// Segment register GS.
    public static let gs = Operand.register(Register.gs)
    /// Control register CR0.
    public static let cr0 = Operand.register(Register.cr0)
    /// Control register CR2.
    public static let cr2 = Operand.register(Register.cr2)
    /// Control register CR3.
    public static let cr3 = Operand.register(Register.cr3)
    /// Control register CR4.
    public static let cr4 = Operand.register(Register.cr4)
    /// Control register CR8.
    public static let cr8 = Operand.register(Register.cr8)
    /// Debug register DR0.
    public static let dr0 = Operand.register(Register.dr0)
    /// Debug register DR1.
    public static let dr1 = Operand.register(Register.dr1)
    /// Debug register DR2.
    public static let dr2 = Operand.register(Register.dr2)
    /// Debug register DR3.
    public static let dr3 = Operand.register(Register.dr3)
    /// Debug register DR4.
    public static let dr4 = Operand.register(Register.dr4)
    /// Debug register DR5.
    public static let dr5 = Operand.register(Register.dr5)
    /// Debug register DR6.
    public static let dr6 = Operand.register(Register.dr6)
    /// Debug register DR7.
    public static let dr7 = Operand.register(Register.dr7)
}

extension Address {
    /// 64-bit general-purpose register RAX.
    public static let rax = Address(register: Register.rax)
    /// 64-bit general-purpose register RCX.
    public static let rcx = Address(register: Register.rcx)
    /// 64-bit general-purpose register RDX.
    public static let rdx = Address(register: Register.rdx)
    /// 64-bit general-purpose register RBX.
    public static let rbx = Address(register: Register.rbx)
    /// 64-bit general-purpose register RSP.
    public static let rsp = Address(register: Register.rsp)
    /// 64-bit general-purpose register RBP.
    public static let rbp = Address(register: Register.rbp)
    /// 64-bit general-purpose register RSI.
    public static let rsi = Address(register: Register.rsi)
    /// 64-bit general-purpose register RDI.
    public static let rdi = Address(register: Register.rdi)
    /// 64-bit general-purpose register R8.
    public static let r8 = Address(register: Register.r8)
    /// 64-bit general-purpose register R9.
    public static let r9 = Address(register: Register.r9)
    /// 64-bit general-purpose register R10.
    public static let r10 = Address(register: Register.r10)
    /// 64-bit general-purpose register R11.
    public static let r11 = Address(register: Register.r11)
    /// 64-bit general-purpose register R12.
    public static let r12 = Address(register: Register.r12)
    /// 64-bit general-purpose register R13.
    public static let r13 = Address(register: Register.r13)
    /// 64-bit general-purpose register R14.
    public static let r14 = Address(register: Register.r14)
    /// 64-bit general-purpose register R15.
    public static let r15 = Address(register: Register.r15)
    /// 32-bit general-purpose register EAX.
    public static let eax = Address(register: Register.eax)
    /// 32-bit general-purpose register ECX.
    public static let ecx = Address(register: Register.ecx)
    /// 32-bit general-purpose register EDX.
    public static let edx = Address(register: Register.edx)
    /// 32-bit general-purpose register EBX.
    public static let ebx = Address(register: Register.ebx)
    /// 32-bit general-purpose register ESP.
    public static let esp = Address(register: Register.esp)
    /// 32-bit general-purpose register EBP.
    public static let ebp = Address(register: Register.ebp)
    /// 32-bit general-purpose register ESI.
    public static let esi = Address(register: Register.esi)
    /// 32-bit general-purpose register EDI.
    public static let edi = Address(register: Register.edi)
    /// 32-bit general-purpose register R8D.
    public static let r8d = Address(register: Register.r8d)
    /// 32-bit general-purpose register R9D.
    public static let r9d = Address(register: Register.r9d)
    /// 32-bit general-purpose register R10D.
    public static let r10d = Address(register: Register.r10d)
    /// 32-bit general-purpose register R11D.
    public static let r11d = Address(register: Register.r11d)
    /// 32-bit general-purpose register R12D.
    public static let r12d = Address(register: Register.r12d)
    /// 32-bit general-purpose register R13D.
    public static let r13d = Address(register: Register.r13d)
    /// 32-bit general-purpose register R14D.
    public static let r14d = Address(register: Register.r14d)
    /// 32-bit general-purpose register R15D.
    public static let r15d = Address(register: Register.r15d)
    /// 16-bit general-purpose register AX.
    public static let ax = Address(register: Register.ax)
    /// 16-bit general-purpose register CX.
    public static let cx = Address(register: Register.cx)
    /// 16-bit general-purpose register DX.
    public static let dx = Address(register: Register.dx)
    /// 16-bit general-purpose register BX.
    public static let bx = Address(register: Register.bx)
    /// 16-bit general-purpose register SP.
    public static let sp = Address(register: Register.sp)
    /// 16-bit general-purpose register BP.
    public static let bp = Address(register: Register.bp)
    /// 16-bit general-purpose register SI.
    public static let si = Address(register: Register.si)
    /// 16-bit general-purpose register DI.
    public static let di = Address(register: Register.di)
    /// 16-bit general-purpose register R8W.
    public static let r8w = Address(register: Register.r8w)
    /// 16-bit general-purpose register R9W.
    public static let r9w = Address(register: Register.r9w)
    /// 16-bit general-purpose register R10W.
    public static let r10w = Address(register: Register.r10w)
    /// 16-bit general-purpose register R11W.
    public static let r11w = Address(register: Register.r11w)
    /// 16-bit general-purpose register R12W.
    public static let r12w = Address(register: Register.r12w)
    /// 16-bit general-purpose register R13W.
    public static let r13w = Address(register: Register.r13w)
    /// 16-bit general-purpose register R14W.
    public static let r14w = Address(register: Register.r14w)
    /// 16-bit general-purpose register R15W.
    public static let r15w = Address(register: Register.r15w)
    /// The instruction pointer, for RIP-relative memory operands in 64-bit code.
    public static let rip = Address(register: Register.rip)
}

extension Assembler {
    /// JO: jump to `target` if the condition holds (condition code 0).
    public func jo(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 0), target, size) }
    /// SETO: set the byte operand to 1 if the condition holds, else 0.
    public func seto(_ dst: Operand) { setcc(Condition(code: 0), dst) }
    /// CMOVO: move `src` into `dst` if the condition holds.
    public func cmovo(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 0), dst, src) }
    /// JNO: jump to `target` if the condition holds (condition code 1).
    public func jno(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 1), target, size) }
    /// SETNO: set the byte operand to 1 if the condition holds, else 0.
    public func setno(_ dst: Operand) { setcc(Condition(code: 1), dst) }
    /// CMOVNO: move `src` into `dst` if the condition holds.
    public func cmovno(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 1), dst, src) }
    /// JB: jump to `target` if the condition holds (condition code 2).
    public func jb(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 2), target, size) }
    /// SETB: set the byte operand to 1 if the condition holds, else 0.
    public func setb(_ dst: Operand) { setcc(Condition(code: 2), dst) }
    /// CMOVB: move `src` into `dst` if the condition holds.
    public func cmovb(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 2), dst, src) }
    /// JC: jump to `target` if the condition holds (condition code 2).
    public func jc(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 2), target, size) }
    /// SETC: set the byte operand to 1 if the condition holds, else 0.
    public func setc(_ dst: Operand) { setcc(Condition(code: 2), dst) }
    /// CMOVC: move `src` into `dst` if the condition holds.
    public func cmovc(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 2), dst, src) }
    /// JNAE: jump to `target` if the condition holds (condition code 2).
    public func jnae(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 2), target, size) }
    /// SETNAE: set the byte operand to 1 if the condition holds, else 0.
    public func setnae(_ dst: Operand) { setcc(Condition(code: 2), dst) }
    /// CMOVNAE: move `src` into `dst` if the condition holds.
    public func cmovnae(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 2), dst, src) }
    /// JAE: jump to `target` if the condition holds (condition code 3).
    public func jae(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 3), target, size) }
    /// SETAE: set the byte operand to 1 if the condition holds, else 0.
    public func setae(_ dst: Operand) { setcc(Condition(code: 3), dst) }
    /// CMOVAE: move `src` into `dst` if the condition holds.
    public func cmovae(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 3), dst, src) }
    /// JNB: jump to `target` if the condition holds (condition code 3).
    public func jnb(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 3), target, size) }
    /// SETNB: set the byte operand to 1 if the condition holds, else 0.
    public func setnb(_ dst: Operand) { setcc(Condition(code: 3), dst) }
    /// CMOVNB: move `src` into `dst` if the condition holds.
    public func cmovnb(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 3), dst, src) }
    /// JNC: jump to `target` if the condition holds (condition code 3).
    public func jnc(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 3), target, size) }
    /// SETNC: set the byte operand to 1 if the condition holds, else 0.
    public func setnc(_ dst: Operand) { setcc(Condition(code: 3), dst) }
    /// CMOVNC: move `src` into `dst` if the condition holds.
    public func cmovnc(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 3), dst, src) }
    /// JE: jump to `target` if the condition holds (condition code 4).
    public func je(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 4), target, size) }
    /// SETE: set the byte operand to 1 if the condition holds, else 0.
    public func sete(_ dst: Operand) { setcc(Condition(code: 4), dst) }
    /// CMOVE: move `src` into `dst` if the condition holds.
    public func cmove(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 4), dst, src) }
    /// JZ: jump to `target` if the condition holds (condition code 4).
    public func jz(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 4), target, size) }
    /// SETZ: set the byte operand to 1 if the condition holds, else 0.
    public func setz(_ dst: Operand) { setcc(Condition(code: 4), dst) }
    /// CMOVZ: move `src` into `dst` if the condition holds.
    public func cmovz(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 4), dst, src) }
    /// JNE: jump to `target` if the condition holds (condition code 5).
    public func jne(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 5), target, size) }
    /// SETNE: set the byte operand to 1 if the condition holds, else 0.
    public func setne(_ dst: Operand) { setcc(Condition(code: 5), dst) }
    /// CMOVNE: move `src` into `dst` if the condition holds.
    public func cmovne(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 5), dst, src) }
    /// JNZ: jump to `target` if the condition holds (condition code 5).
    public func jnz(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 5), target, size) }
    /// SETNZ: set the byte operand to 1 if the condition holds, else 0.
    public func setnz(_ dst: Operand) { setcc(Condition(code: 5), dst) }
    /// CMOVNZ: move `src` into `dst` if the condition holds.
    public func cmovnz(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 5), dst, src) }
    /// JBE: jump to `target` if the condition holds (condition code 6).
    public func jbe(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 6), target, size) }
    /// SETBE: set the byte operand to 1 if the condition holds, else 0.
    public func setbe(_ dst: Operand) { setcc(Condition(code: 6), dst) }
    /// CMOVBE: move `src` into `dst` if the condition holds.
    public func cmovbe(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 6), dst, src) }
    /// JNA: jump to `target` if the condition holds (condition code 6).
    public func jna(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 6), target, size) }
    /// SETNA: set the byte operand to 1 if the condition holds, else 0.
    public func setna(_ dst: Operand) { setcc(Condition(code: 6), dst) }
    /// CMOVNA: move `src` into `dst` if the condition holds.
    public func cmovna(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 6), dst, src) }
    /// JA: jump to `target` if the condition holds (condition code 7).
    public func ja(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 7), target, size) }
    /// SETA: set the byte operand to 1 if the condition holds, else 0.
    public func seta(_ dst: Operand) { setcc(Condition(code: 7), dst) }
    /// CMOVA: move `src` into `dst` if the condition holds.
    public func cmova(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 7), dst, src) }
    /// JNBE: jump to `target` if the condition holds (condition code 7).
    public func jnbe(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 7), target, size) }
    /// SETNBE: set the byte operand to 1 if the condition holds, else 0.
    public func setnbe(_ dst: Operand) { setcc(Condition(code: 7), dst) }
    /// CMOVNBE: move `src` into `dst` if the condition holds.
    public func cmovnbe(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 7), dst, src) }
    /// JS: jump to `target` if the condition holds (condition code 8).
    public func js(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 8), target, size) }
    /// SETS: set the byte operand to 1 if the condition holds, else 0.
    public func sets(_ dst: Operand) { setcc(Condition(code: 8), dst) }
    /// CMOVS: move `src` into `dst` if the condition holds.
    public func cmovs(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 8), dst, src) }
    /// JNS: jump to `target` if the condition holds (condition code 9).
    public func jns(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 9), target, size) }
    /// SETNS: set the byte operand to 1 if the condition holds, else 0.
    public func setns(_ dst: Operand) { setcc(Condition(code: 9), dst) }
    /// CMOVNS: move `src` into `dst` if the condition holds.
    public func cmovns(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 9), dst, src) }
    /// JP: jump to `target` if the condition holds (condition code 10).
    public func jp(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 10), target, size) }
    /// SETP: set the byte operand to 1 if the condition holds, else 0.
    public func setp(_ dst: Operand) { setcc(Condition(code: 10), dst) }
    /// CMOVP: move `src` into `dst` if the condition holds.
    public func cmovp(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 10), dst, src) }
    /// JPE: jump to `target` if the condition holds (condition code 10).
    public func jpe(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 10), target, size) }
    /// SETPE: set the byte operand to 1 if the condition holds, else 0.
    public func setpe(_ dst: Operand) { setcc(Condition(code: 10), dst) }
    /// CMOVPE: move `src` into `dst` if the condition holds.
    public func cmovpe(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 10), dst, src) }
    /// JNP: jump to `target` if the condition holds (condition code 11).
    public func jnp(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 11), target, size) }
    /// SETNP: set the byte operand to 1 if the condition holds, else 0.
    public func setnp(_ dst: Operand) { setcc(Condition(code: 11), dst) }
    /// CMOVNP: move `src` into `dst` if the condition holds.
    public func cmovnp(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 11), dst, src) }
    /// JPO: jump to `target` if the condition holds (condition code 11).
    public func jpo(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 11), target, size) }
    /// SETPO: set the byte operand to 1 if the condition holds, else 0.
    public func setpo(_ dst: Operand) { setcc(Condition(code: 11), dst) }
    /// CMOVPO: move `src` into `dst` if the condition holds.
    public func cmovpo(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 11), dst, src) }
    /// JL: jump to `target` if the condition holds (condition code 12).
    public func jl(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 12), target, size) }
    /// SETL: set the byte operand to 1 if the condition holds, else 0.
    public func setl(_ dst: Operand) { setcc(Condition(code: 12), dst) }
    /// CMOVL: move `src` into `dst` if the condition holds.
    public func cmovl(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 12), dst, src) }
    /// JNGE: jump to `target` if the condition holds (condition code 12).
    public func jnge(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 12), target, size) }
    /// SETNGE: set the byte operand to 1 if the condition holds, else 0.
    public func setnge(_ dst: Operand) { setcc(Condition(code: 12), dst) }
    /// CMOVNGE: move `src` into `dst` if the condition holds.
    public func cmovnge(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 12), dst, src) }
    /// JGE: jump to `target` if the condition holds (condition code 13).
    public func jge(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 13), target, size) }
    /// SETGE: set the byte operand to 1 if the condition holds, else 0.
    public func setge(_ dst: Operand) { setcc(Condition(code: 13), dst) }
    /// CMOVGE: move `src` into `dst` if the condition holds.
    public func cmovge(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 13), dst, src) }
    /// JNL: jump to `target` if the condition holds (condition code 13).
    public func jnl(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 13), target, size) }
    /// SETNL: set the byte operand to 1 if the condition holds, else 0.
    public func setnl(_ dst: Operand) { setcc(Condition(code: 13), dst) }
    /// CMOVNL: move `src` into `dst` if the condition holds.
    public func cmovnl(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 13), dst, src) }
    /// JLE: jump to `target` if the condition holds (condition code 14).
    public func jle(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 14), target, size) }
    /// SETLE: set the byte operand to 1 if the condition holds, else 0.
    public func setle(_ dst: Operand) { setcc(Condition(code: 14), dst) }
    /// CMOVLE: move `src` into `dst` if the condition holds.
    public func cmovle(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 14), dst, src) }
    /// JNG: jump to `target` if the condition holds (condition code 14).
    public func jng(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 14), target, size) }
    /// SETNG: set the byte operand to 1 if the condition holds, else 0.
    public func setng(_ dst: Operand) { setcc(Condition(code: 14), dst) }
    /// CMOVNG: move `src` into `dst` if the condition holds.
    public func cmovng(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 14), dst, src) }
    /// JG: jump to `target` if the condition holds (condition code 15).
    public func jg(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 15), target, size) }
    /// SETG: set the byte operand to 1 if the condition holds, else 0.
    public func setg(_ dst: Operand) { setcc(Condition(code: 15), dst) }
    /// CMOVG: move `src` into `dst` if the condition holds.
    public func cmovg(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 15), dst, src) }
    /// JNLE: jump to `target` if the condition holds (condition code 15).
    public func jnle(_ target: Label, _ size: JumpSize = .auto) { jcc(Condition(code: 15), target, size) }
    /// SETNLE: set the byte operand to 1 if the condition holds, else 0.
    public func setnle(_ dst: Operand) { setcc(Condition(code: 15), dst) }
    /// CMOVNLE: move `src` into `dst` if the condition holds.
    public func cmovnle(_ dst: Operand, _ src: Operand) { cmovcc(Condition(code: 15), dst, src) }
}

extension Condition {
    /// Condition O (code 0).
    public static let o = Condition(code: 0)
    /// Condition NO (code 1).
    public static let no = Condition(code: 1)
    /// Condition B (code 2).
    public static let b = Condition(code: 2)
    /// Condition C (code 2).
    public static let c = Condition(code: 2)
    /// Condition NAE (code 2).
    public static let nae = Condition(code: 2)
    /// Condition AE (code 3).
    public static let ae = Condition(code: 3)
    /// Condition NB (code 3).
    public static let nb = Condition(code: 3)
    /// Condition NC (code 3).
    public static let nc = Condition(code: 3)
    /// Condition E (code 4).
    public static let e = Condition(code: 4)
    /// Condition Z (code 4).
    public static let z = Condition(code: 4)
    /// Condition NE (code 5).
    public static let ne = Condition(code: 5)
    /// Condition NZ (code 5).
    public static let nz = Condition(code: 5)
    /// Condition BE (code 6).
    public static let be = Condition(code: 6)
    /// Condition NA (code 6).
    public static let na = Condition(code: 6)
    /// Condition A (code 7).
    public static let a = Condition(code: 7)
    /// Condition NBE (code 7).
    public static let nbe = Condition(code: 7)
    /// Condition S (code 8).
    public static let s = Condition(code: 8)
    /// Condition NS (code 9).
    public static let ns = Condition(code: 9)
    /// Condition P (code 10).
    public static let p = Condition(code: 10)
    /// Condition PE (code 10).
    public static let pe = Condition(code: 10)
    /// Condition NP (code 11).
    public static let np = Condition(code: 11)
    /// Condition PO (code 11).
    public static let po = Condition(code: 11)
    /// Condition L (code 12).
    public static let l = Condition(code: 12)
    /// Condition NGE (code 12).
    public static let nge = Condition(code: 12)
    /// Condition GE (code 13).
    public static let ge = Condition(code: 13)
    /// Condition NL (code 13).
    public static let nl = Condition(code: 13)
    /// Condition LE (code 14).
    public static let le = Condition(code: 14)
    /// Condition NG (code 14).
    public static let ng = Condition(code: 14)
    /// Condition G (code 15).
    public static let g = Condition(code: 15)
    /// Condition NLE (code 15).
    public static let nle = Condition(code: 15)
}
