// Flag, processor-control, system and VMX instructions.

extension Assembler {
    // MARK: Flags and simple instructions

    /// LAHF.
    public func lahf() { plain("lahf", [0x9F]) }
    /// SAHF.
    public func sahf() { plain("sahf", [0x9E]) }
    /// CLC.
    public func clc() { plain("clc", [0xF8]) }
    /// STC.
    public func stc() { plain("stc", [0xF9]) }
    /// CMC.
    public func cmc() { plain("cmc", [0xF5]) }
    /// CLD.
    public func cld() { plain("cld", [0xFC]) }
    /// STD.
    public func std() { plain("std", [0xFD]) }
    /// CLI.
    public func cli() { plain("cli", [0xFA]) }
    /// STI.
    public func sti() { plain("sti", [0xFB]) }
    /// HLT.
    public func hlt() { plain("hlt", [0xF4]) }
    /// NOP (90).
    public func nop() { plain("nop", [0x90]) }
    /// PAUSE (F3 90).
    public func pause() { plain("pause", [0xF3, 0x90]) }
    /// UD2 (0F 0B).
    public func ud2() { plain("ud2", [0x0F, 0x0B]) }
    /// CPUID.
    public func cpuid() { plain("cpuid", [0x0F, 0xA2]) }
    /// RDTSC.
    public func rdtsc() { plain("rdtsc", [0x0F, 0x31]) }
    /// RDTSCP.
    public func rdtscp() { plain("rdtscp", [0x0F, 0x01, 0xF9]) }
    /// RDMSR.
    public func rdmsr() { plain("rdmsr", [0x0F, 0x32]) }
    /// WRMSR.
    public func wrmsr() { plain("wrmsr", [0x0F, 0x30]) }
    /// RDPMC.
    public func rdpmc() { plain("rdpmc", [0x0F, 0x33]) }
    /// SYSCALL.
    public func syscall() { plain("syscall", [0x0F, 0x05]) }
    /// SYSRET to 32-bit compatibility mode (0F 07).
    public func sysret() { plain("sysret", [0x0F, 0x07]) }
    /// SYSRETQ / SYSRET to 64-bit mode (48 0F 07).
    public func sysretq() { plain("sysretq", [0x0F, 0x07], size: 64) }
    /// SYSENTER.
    public func sysenter() { plain("sysenter", [0x0F, 0x34]) }
    /// SYSEXIT to 32-bit code (0F 35).
    public func sysexit() { plain("sysexit", [0x0F, 0x35]) }
    /// SYSEXITQ / SYSEXIT to 64-bit code (48 0F 35).
    public func sysexitq() { plain("sysexitq", [0x0F, 0x35], size: 64) }
    /// SWAPGS (64-bit code).
    public func swapgs() { plain("swapgs", [0x0F, 0x01, 0xF8], only: [.bits64]) }
    /// CLTS.
    public func clts() { plain("clts", [0x0F, 0x06]) }
    /// WBINVD.
    public func wbinvd() { plain("wbinvd", [0x0F, 0x09]) }
    /// INVD.
    public func invd() { plain("invd", [0x0F, 0x08]) }
    /// LFENCE.
    public func lfence() { plain("lfence", [0x0F, 0xAE, 0xE8]) }
    /// MFENCE.
    public func mfence() { plain("mfence", [0x0F, 0xAE, 0xF0]) }
    /// SFENCE.
    public func sfence() { plain("sfence", [0x0F, 0xAE, 0xF8]) }

    /// NOP r/m16/32/64 (0F 1F /0), the multi-byte NOP with an operand.
    public func nop(_ op: Operand) {
        begin("nop")
        guard isRM(op) else { invalid(); return }
        let sz = bits(op) == 0 ? 32 : bits(op)
        guard sz > 8 else { invalid(); return }
        encodeExt([0x0F, 0x1F], 0, op, size: sz)
    }

    /// Emits `count` bytes of NOPs: the recommended multi-byte NOPs (1–9 bytes each) in 32/64-bit code, 90s in 16-bit code.
    public func nop(bytes count: Int) {
        if mode == .bits16 {
            space(count, fill: 0x90)
            return
        }
        let seqs: [[UInt8]] = [
            [0x90], [0x66, 0x90], [0x0F, 0x1F, 0x00], [0x0F, 0x1F, 0x40, 0x00],
            [0x0F, 0x1F, 0x44, 0x00, 0x00], [0x66, 0x0F, 0x1F, 0x44, 0x00, 0x00],
            [0x0F, 0x1F, 0x80, 0x00, 0x00, 0x00, 0x00], [0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
            [0x66, 0x0F, 0x1F, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        ]
        var left = count
        while left > 0 {
            let n = min(left, 9)
            emit(seqs[n - 1])
            left -= n
        }
    }

    // MARK: Descriptor tables and segments

    func memOnly(_ name: String, _ opcode: [UInt8], _ ext: UInt8, _ op: Operand, size: Int = 0, mandatory: UInt8? = nil, mandatory66: Bool = false) {
        begin(name)
        guard case .memory = op else { invalid("\(name) needs a memory operand"); return }
        var i = Inst(opcode)
        i.mandatory = mandatory
        i.mandatory66 = mandatory66
        setSize(&i, size)
        setRegField(&i, ext)
        setRM(&i, op)
        commit(i)
    }

    func tableOp(_ name: String, _ ext: UInt8, _ mem: Operand) {
        // In 16-bit code a .fword operand selects the 32-bit operand size (66), which loads/stores the full 32-bit base.
        var size = 0
        if case .memory(let m) = mem, m.size == 48, mode == .bits16 { size = 32 }
        memOnly(name, [0x0F, 0x01], ext, mem, size: size)
    }

    /// LGDT m16&32 / m16&64 (in 16-bit code `.fword` adds 66 to load a 32-bit base; `.mem` loads 24 bits).
    public func lgdt(_ mem: Operand) { tableOp("lgdt", 2, mem) }
    /// LIDT m (operand sizes as for LGDT).
    public func lidt(_ mem: Operand) { tableOp("lidt", 3, mem) }
    /// SGDT m.
    public func sgdt(_ mem: Operand) { tableOp("sgdt", 0, mem) }
    /// SIDT m.
    public func sidt(_ mem: Operand) { tableOp("sidt", 1, mem) }
    /// INVLPG m.
    public func invlpg(_ mem: Operand) { memOnly("invlpg", [0x0F, 0x01], 7, mem) }
    /// CLFLUSH m8.
    public func clflush(_ mem: Operand) { memOnly("clflush", [0x0F, 0xAE], 7, mem) }

    func selectorOp(_ name: String, _ ext: UInt8, _ op: Operand, store: Bool) {
        begin(name)
        guard isRM(op) else { invalid(); return }
        let b = bits(op)
        if case .memory = op {
            guard b == 0 || b == 16 else { invalid("\(name) takes a word memory operand"); return }
            encodeExt([0x0F, 0x00], ext, op, size: 0)
        } else {
            guard b >= 16 else { invalid(); return }
            encodeExt([0x0F, 0x00], ext, op, size: store && b < 64 ? b : 0)
        }
    }

    /// LLDT r/m16.
    public func lldt(_ op: Operand) { selectorOp("lldt", 2, op, store: false) }
    /// LTR r/m16.
    public func ltr(_ op: Operand) { selectorOp("ltr", 3, op, store: false) }
    /// SLDT r/m16 (or r32/r64).
    public func sldt(_ op: Operand) { selectorOp("sldt", 0, op, store: true) }
    /// STR r/m16 (or r32/r64).
    public func str(_ op: Operand) { selectorOp("str", 1, op, store: true) }
    /// VERR r/m16.
    public func verr(_ op: Operand) { selectorOp("verr", 4, op, store: false) }
    /// VERW r/m16.
    public func verw(_ op: Operand) { selectorOp("verw", 5, op, store: false) }

    /// LAR r, r/m16: load access rights.
    public func lar(_ dst: Operand, _ src: Operand) { selectorLoad("lar", 0x02, dst, src) }
    /// LSL r, r/m16: load segment limit.
    public func lsl(_ dst: Operand, _ src: Operand) { selectorLoad("lsl", 0x03, dst, src) }

    func selectorLoad(_ name: String, _ op: UInt8, _ dst: Operand, _ src: Operand) {
        begin(name)
        guard let d = gpr(dst), d.size >= 16, isRM(src) else { invalid(); return }
        if case .memory(let m) = src, m.size != 0 && m.size != 16 { invalid("\(name) takes a word memory operand"); return }
        encodeReg([0x0F, op], reg: d, rm: src, size: d.size)
    }

    /// ARPL r/m16, r16 (16/32-bit code).
    public func arpl(_ dst: Operand, _ src: Operand) {
        begin("arpl")
        guard mode != .bits64 else { invalid("ARPL is not valid in 64-bit code"); return }
        guard let s = gpr(src), s.size == 16, isRM(dst), bits(dst) == 16 || bits(dst) == 0 else { invalid(); return }
        encodeReg([0x63], reg: s, rm: dst, size: 0)
    }

    // MARK: VMX

    /// VMCALL.
    public func vmcall() { plain("vmcall", [0x0F, 0x01, 0xC1]) }
    /// VMLAUNCH.
    public func vmlaunch() { plain("vmlaunch", [0x0F, 0x01, 0xC2]) }
    /// VMRESUME.
    public func vmresume() { plain("vmresume", [0x0F, 0x01, 0xC3]) }
    /// VMXOFF.
    public func vmxoff() { plain("vmxoff", [0x0F, 0x01, 0xC4]) }
    /// VMFUNC.
    public func vmfunc() { plain("vmfunc", [0x0F, 0x01, 0xD4]) }
    /// VMXON m64 (physical address of the VMXON region).
    public func vmxon(_ mem: Operand) { memOnly("vmxon", [0x0F, 0xC7], 6, mem, mandatory: 0xF3) }
    /// VMPTRLD m64.
    public func vmptrld(_ mem: Operand) { memOnly("vmptrld", [0x0F, 0xC7], 6, mem) }
    /// VMPTRST m64.
    public func vmptrst(_ mem: Operand) { memOnly("vmptrst", [0x0F, 0xC7], 7, mem) }
    /// VMCLEAR m64.
    public func vmclear(_ mem: Operand) { memOnly("vmclear", [0x0F, 0xC7], 6, mem, mandatory66: true) }

    /// VMREAD r/m, r (field encoding in the register `field`): 64-bit operands in 64-bit code, 32-bit otherwise.
    public func vmread(_ dst: Operand, _ field: Operand) {
        begin("vmread")
        guard let f = gpr(field), f.size == (mode == .bits64 ? 64 : 32), isRM(dst), bits(dst) == 0 || bits(dst) == f.size else { invalid("VMREAD operands are \(mode == .bits64 ? 64 : 32)-bit"); return }
        encodeReg([0x0F, 0x78], reg: f, rm: dst, size: 0)
    }

    /// VMWRITE r, r/m (field encoding in `field`, value in `src`).
    public func vmwrite(_ field: Operand, _ src: Operand) {
        begin("vmwrite")
        guard let f = gpr(field), f.size == (mode == .bits64 ? 64 : 32), isRM(src), bits(src) == 0 || bits(src) == f.size else { invalid("VMWRITE operands are \(mode == .bits64 ? 64 : 32)-bit"); return }
        encodeReg([0x0F, 0x79], reg: f, rm: src, size: 0)
    }

    func invalidate(_ name: String, _ op: UInt8, _ type: Operand, _ desc: Operand) {
        begin(name)
        guard let t = gpr(type), t.size == (mode == .bits64 ? 64 : 32), case .memory(let m) = desc, m.size == 0 || m.size == 128 else {
            invalid("\(name) takes a \(mode == .bits64 ? 64 : 32)-bit register and a 128-bit memory descriptor"); return
        }
        var i = Inst([0x0F, 0x38, op])
        i.mandatory66 = true
        setReg(&i, t)
        setRM(&i, desc)
        commit(i)
    }

    /// INVEPT r, m128.
    public func invept(_ type: Operand, _ descriptor: Operand) { invalidate("invept", 0x80, type, descriptor) }
    /// INVVPID r, m128.
    public func invvpid(_ type: Operand, _ descriptor: Operand) { invalidate("invvpid", 0x81, type, descriptor) }
}
