// Instruction mnemonics. Each method encodes one instruction; invalid operands are recorded and thrown by finish().

extension Assembler {
    // MARK: Operand helpers

    func gpr(_ op: Operand) -> Register? {
        if case .register(let r) = op, r.kind == .gpr { return r }
        return nil
    }

    func bits(_ op: Operand) -> Int {
        switch op {
        case .register(let r): r.size
        case .memory(let m): m.size
        case .immediate: 0
        }
    }

    func isRM(_ op: Operand) -> Bool {
        switch op {
        case .register(let r): r.kind == .gpr
        case .memory: true
        case .immediate: false
        }
    }

    /// The common operand size of the (register or memory) operands, or nil (with an error) if unknown or mismatched.
    func size(_ ops: Operand...) -> Int? {
        var s = 0
        for op in ops {
            let b = bits(op)
            if b == 0 { continue }
            if s != 0 && s != b { invalid("operand sizes differ (\(s) and \(b) bits)"); return nil }
            s = b
        }
        if s == 0 { invalid("operand size not specified (use .byte/.word/.dword/.qword)"); return nil }
        if ![8, 16, 32, 64].contains(s) { invalid("operand size \(s) bits is not valid here"); return nil }
        return s
    }

    /// Emits `opcode` with ModRM.reg = `ext` and ModRM.rm = `rm`.
    func encodeExt(_ opcode: [UInt8], _ ext: UInt8, _ rm: Operand, size: Int, default64: Bool = false, imm: Field? = nil) {
        var i = Inst(opcode)
        setSize(&i, size, default64: default64)
        setRegField(&i, ext)
        setRM(&i, rm)
        if let imm { i.imms.append(imm) }
        commit(i)
    }

    /// Emits `opcode` with ModRM.reg = register `reg` and ModRM.rm = `rm`.
    func encodeReg(_ opcode: [UInt8], reg: Register, rm: Operand, size: Int, default64: Bool = false, imm: Field? = nil, mandatory: UInt8? = nil) {
        var i = Inst(opcode)
        i.mandatory = mandatory
        setSize(&i, size, default64: default64)
        setReg(&i, reg)
        setRM(&i, rm)
        if let imm { i.imms.append(imm) }
        commit(i)
    }

    /// Emits an instruction without operands (optionally with an operand size).
    func plain(_ name: String, _ opcode: [UInt8], size: Int = 0, only: Set<Mode>? = nil) {
        begin(name)
        if let only, !only.contains(mode) { invalid("not valid in \(mode) code"); return }
        var i = Inst(opcode)
        setSize(&i, size)
        commit(i)
    }

    func immediate(_ op: Operand) -> Immediate? {
        if case .immediate(let v) = op { return v }
        return nil
    }

    // MARK: Data movement

    /// MOV: general-purpose, segment, control and debug register moves, loads, stores and immediates.
    public func mov(_ dst: Operand, _ src: Operand) {
        begin("mov")
        switch (dst, src) {
        case (.register(let d), .register(let s)) where d.kind == .gpr && s.kind == .gpr:
            guard let sz = size(dst, src) else { return }
            encodeReg([sz == 8 ? 0x88 : 0x89], reg: s, rm: dst, size: sz)
        case (.register(let d), .register(let s)) where d.kind == .segment && s.kind == .gpr:
            if d.name == "cs" { invalid("MOV to CS is not valid"); return }
            encodeReg([0x8E], reg: d, rm: src, size: 0)
        case (.register(let d), .register(let s)) where d.kind == .gpr && s.kind == .segment:
            encodeReg([0x8C], reg: s, rm: dst, size: d.size == 64 ? 0 : d.size)
        case (.register(let d), .register(let s)) where (d.kind == .control || d.kind == .debug) && s.kind == .gpr,
             (.register(let s), .register(let d)) where (d.kind == .control || d.kind == .debug) && s.kind == .gpr:
            let toSpecial = dst.register?.kind != .gpr
            guard s.size == (mode == .bits64 ? 64 : 32) else { invalid("control/debug register moves use \(mode == .bits64 ? 64 : 32)-bit registers"); return }
            let op: UInt8 = (d.kind == .control ? 0x20 : 0x21) | (toSpecial ? 2 : 0)
            var i = Inst([0x0F, op])
            setRegField(&i, d.number)
            setRM(&i, .register(s))
            commit(i)
        case (.register(let d), .memory(let m)) where d.kind == .segment:
            if m.size != 0 && m.size != 16 { invalid("segment loads take a word operand"); return }
            if d.name == "cs" { invalid("MOV to CS is not valid"); return }
            encodeReg([0x8E], reg: d, rm: src, size: 0)
        case (.memory(let m), .register(let s)) where s.kind == .segment:
            if m.size != 0 && m.size != 16 { invalid("segment stores take a word operand"); return }
            encodeReg([0x8C], reg: s, rm: dst, size: 0)
        case (.register(let d), .memory) where d.kind == .gpr:
            guard let sz = size(dst, src) else { return }
            encodeReg([sz == 8 ? 0x8A : 0x8B], reg: d, rm: src, size: sz)
        case (.memory, .register(let s)) where s.kind == .gpr:
            guard let sz = size(dst, src) else { return }
            encodeReg([sz == 8 ? 0x88 : 0x89], reg: s, rm: dst, size: sz)
        case (.register(let d), .immediate(let imm)) where d.kind == .gpr:
            if d.size == 64 {
                let fits32 = imm.label != nil || (imm.value >= -0x8000_0000 && imm.value <= 0x7FFF_FFFF)
                if fits32 {
                    encodeExt([0xC7], 0, dst, size: 64, imm: immField(imm, size: 4, opBits: 64))
                } else {
                    movabs(dst, src)
                }
                return
            }
            var i = Inst([(d.size == 8 ? 0xB0 : 0xB8) + (d.number & 7)])
            if d.number & 8 != 0 { i.rexB = true }
            noteByteReg(&i, d)
            setSize(&i, d.size)
            i.imms.append(immField(imm, size: d.size / 8, opBits: d.size))
            commit(i)
        case (.memory, .immediate(let imm)):
            guard let sz = size(dst) else { return }
            encodeExt([sz == 8 ? 0xC6 : 0xC7], 0, dst, size: sz, imm: immField(imm, size: min(sz / 8, 4), opBits: sz))
        default:
            invalid()
        }
    }

    /// MOVABS: MOV r64, imm64 (always the 10-byte B8+r form).
    public func movabs(_ dst: Operand, _ src: Operand) {
        begin("movabs")
        guard let d = gpr(dst), d.size == 64, let imm = immediate(src) else { invalid(); return }
        var i = Inst([0xB8 + (d.number & 7)])
        i.rexW = true
        if d.number & 8 != 0 { i.rexB = true }
        i.imms.append(Field(value: imm.value, size: 8, label: imm.label, range: .any64))
        commit(i)
    }

    func extend(_ name: String, _ op8: UInt8, _ op16: UInt8, _ dst: Operand, _ src: Operand) {
        begin(name)
        guard let d = gpr(dst), isRM(src) else { invalid(); return }
        let s = bits(src)
        guard s == 8 || s == 16, d.size > s else { invalid("source must be a byte or word smaller than the destination"); return }
        encodeReg([0x0F, s == 8 ? op8 : op16], reg: d, rm: src, size: d.size)
    }

    /// MOVZX: zero-extending move from a byte or word.
    public func movzx(_ dst: Operand, _ src: Operand) { extend("movzx", 0xB6, 0xB7, dst, src) }

    /// MOVSX: sign-extending move from a byte or word.
    public func movsx(_ dst: Operand, _ src: Operand) { extend("movsx", 0xBE, 0xBF, dst, src) }

    /// MOVSXD: sign-extending move from a doubleword to a 64-bit register.
    public func movsxd(_ dst: Operand, _ src: Operand) {
        begin("movsxd")
        guard let d = gpr(dst), d.size == 64, isRM(src), bits(src) == 32 || bits(src) == 0 else { invalid(); return }
        encodeReg([0x63], reg: d, rm: src, size: 64)
    }

    /// LEA: load the effective address of a memory operand (its size tag is ignored).
    public func lea(_ dst: Operand, _ src: Operand) {
        begin("lea")
        guard let d = gpr(dst), d.size > 8, case .memory = src else { invalid(); return }
        encodeReg([0x8D], reg: d, rm: src, size: d.size)
    }

    /// XCHG: exchange two registers or a register and memory (short 90+r form with the accumulator).
    public func xchg(_ a: Operand, _ b: Operand) {
        begin("xchg")
        guard isRM(a), isRM(b), let sz = size(a, b) else { if !errorsRecordedNow { invalid() }; return }
        if let ra = gpr(a), let rb = gpr(b), sz > 8 {
            let acc = ra.number == 0 ? rb : (rb.number == 0 ? ra : nil)
            if let other = acc, !(mode == .bits64 && sz == 32 && other.number == 0) {
                var i = Inst([0x90 + (other.number & 7)])
                if other.number & 8 != 0 { i.rexB = true }
                setSize(&i, sz)
                commit(i)
                return
            }
        }
        let op: UInt8 = sz == 8 ? 0x86 : 0x87
        if let rb = gpr(b) {
            encodeReg([op], reg: rb, rm: a, size: sz)  // GNU as: first operand in ModRM.rm
        } else if let ra = gpr(a) {
            encodeReg([op], reg: ra, rm: b, size: sz)
        } else {
            invalid()
        }
    }

    var errorsRecordedNow: Bool { errors.last?.message.hasPrefix(mnemonic + " at offset \(offset)") ?? false }

    /// PUSH: register, segment register, immediate (imm8 sign-extended when it fits) or memory.
    public func push(_ src: Operand) {
        begin("push")
        switch src {
        case .register(let r) where r.kind == .gpr:
            guard r.size > 8 else { invalid(); return }
            var i = Inst([0x50 + (r.number & 7)])
            if r.number & 8 != 0 { i.rexB = true }
            setSize(&i, r.size, default64: true)
            commit(i)
        case .register(let r) where r.kind == .segment:
            let ops: [[UInt8]] = [[0x06], [0x0E], [0x16], [0x1E], [0x0F, 0xA0], [0x0F, 0xA8]]
            if mode == .bits64 && r.number < 4 { invalid("PUSH \(r) is not valid in 64-bit code"); return }
            commit(Inst(ops[Int(r.number)]))
        case .immediate(let imm):
            let opBits = mode == .bits64 ? 64 : mode.bits
            if isImm8(imm, bits: opBits) {
                var i = Inst([0x6A])
                i.imms.append(Field(value: imm.value, size: 1, range: .any8))
                commit(i)
            } else {
                var i = Inst([0x68])
                i.imms.append(immField(imm, size: mode == .bits16 ? 2 : 4, opBits: opBits))
                commit(i)
            }
        case .memory(let m):
            let sz = m.size == 0 ? (mode == .bits64 ? 64 : mode.bits) : m.size
            encodeExt([0xFF], 6, src, size: sz, default64: true)
        default:
            invalid()
        }
    }

    /// PUSH imm with an explicit operand size (16 → PUSHW, 32 → PUSHD in 16-bit code).
    public func push(_ src: Operand, bits: Int) {
        begin("push")
        guard let imm = immediate(src) else { invalid(); return }
        var i = Inst([0x68])
        setSize(&i, bits == 64 ? 0 : bits)
        i.imms.append(immField(imm, size: bits == 16 ? 2 : 4, opBits: bits))
        commit(i)
    }

    /// POP: register, segment register (not CS) or memory.
    public func pop(_ dst: Operand) {
        begin("pop")
        switch dst {
        case .register(let r) where r.kind == .gpr:
            guard r.size > 8 else { invalid(); return }
            var i = Inst([0x58 + (r.number & 7)])
            if r.number & 8 != 0 { i.rexB = true }
            setSize(&i, r.size, default64: true)
            commit(i)
        case .register(let r) where r.kind == .segment:
            let ops: [[UInt8]] = [[0x07], [], [0x17], [0x1F], [0x0F, 0xA1], [0x0F, 0xA9]]
            if r.number == 1 || (mode == .bits64 && r.number < 4) { invalid("POP \(r) is not valid here"); return }
            commit(Inst(ops[Int(r.number)]))
        case .memory(let m):
            let sz = m.size == 0 ? (mode == .bits64 ? 64 : mode.bits) : m.size
            encodeExt([0x8F], 0, dst, size: sz, default64: true)
        default:
            invalid()
        }
    }

    /// PUSHF with the mode's default size (PUSHF / PUSHFD / PUSHFQ).
    public func pushf() { plain("pushf", [0x9C]) }
    /// POPF with the mode's default size.
    public func popf() { plain("popf", [0x9D]) }
    /// PUSHFW: push the 16-bit FLAGS.
    public func pushfw() { plain("pushfw", [0x9C], size: 16) }
    /// POPFW: pop the 16-bit FLAGS.
    public func popfw() { plain("popfw", [0x9D], size: 16) }
    /// PUSHFD: push EFLAGS (16- and 32-bit code).
    public func pushfd() { plain("pushfd", [0x9C], size: 32, only: [.bits16, .bits32]) }
    /// POPFD: pop EFLAGS (16- and 32-bit code).
    public func popfd() { plain("popfd", [0x9D], size: 32, only: [.bits16, .bits32]) }
    /// PUSHFQ: push RFLAGS (64-bit code).
    public func pushfq() { plain("pushfq", [0x9C], only: [.bits64]) }
    /// POPFQ: pop RFLAGS (64-bit code).
    public func popfq() { plain("popfq", [0x9D], only: [.bits64]) }
    /// PUSHA/PUSHAD with the mode's default size (16- and 32-bit code).
    public func pusha() { plain("pusha", [0x60], only: [.bits16, .bits32]) }
    /// POPA/POPAD with the mode's default size (16- and 32-bit code).
    public func popa() { plain("popa", [0x61], only: [.bits16, .bits32]) }

    // MARK: Arithmetic and logic

    func alu(_ name: String, _ ext: UInt8, _ dst: Operand, _ src: Operand) {
        begin(name)
        switch (dst, src) {
        case (.register(let d), .register(let s)) where d.kind == .gpr && s.kind == .gpr:
            guard let sz = size(dst, src) else { return }
            encodeReg([ext * 8 + (sz == 8 ? 0 : 1)], reg: s, rm: dst, size: sz)
        case (.memory, .register(let s)) where s.kind == .gpr:
            guard let sz = size(dst, src) else { return }
            encodeReg([ext * 8 + (sz == 8 ? 0 : 1)], reg: s, rm: dst, size: sz)
        case (.register(let d), .memory) where d.kind == .gpr:
            guard let sz = size(dst, src) else { return }
            encodeReg([ext * 8 + (sz == 8 ? 2 : 3)], reg: d, rm: src, size: sz)
        case (_, .immediate(let imm)) where isRM(dst):
            guard let sz = size(dst) else { return }
            let isAcc = gpr(dst)?.number == 0 && gpr(dst)?.isHigh8 == false
            if sz == 8 {
                if isAcc {
                    var i = Inst([ext * 8 + 4])
                    i.imms.append(immField(imm, size: 1, opBits: 8))
                    commit(i)
                } else {
                    encodeExt([0x80], ext, dst, size: 8, imm: immField(imm, size: 1, opBits: 8))
                }
            } else if isImm8(imm, bits: sz) {
                encodeExt([0x83], ext, dst, size: sz, imm: Field(value: imm.value, size: 1, range: .any8).truncated())
            } else if isAcc {
                var i = Inst([ext * 8 + 5])
                setSize(&i, sz)
                i.imms.append(immField(imm, size: min(sz / 8, 4), opBits: sz))
                commit(i)
            } else {
                encodeExt([0x81], ext, dst, size: sz, imm: immField(imm, size: min(sz / 8, 4), opBits: sz))
            }
        default:
            invalid()
        }
    }

    /// ADD.
    public func add(_ dst: Operand, _ src: Operand) { alu("add", 0, dst, src) }
    /// OR.
    public func or(_ dst: Operand, _ src: Operand) { alu("or", 1, dst, src) }
    /// ADC: add with carry.
    public func adc(_ dst: Operand, _ src: Operand) { alu("adc", 2, dst, src) }
    /// SBB: subtract with borrow.
    public func sbb(_ dst: Operand, _ src: Operand) { alu("sbb", 3, dst, src) }
    /// AND.
    public func and(_ dst: Operand, _ src: Operand) { alu("and", 4, dst, src) }
    /// SUB.
    public func sub(_ dst: Operand, _ src: Operand) { alu("sub", 5, dst, src) }
    /// XOR.
    public func xor(_ dst: Operand, _ src: Operand) { alu("xor", 6, dst, src) }
    /// CMP.
    public func cmp(_ dst: Operand, _ src: Operand) { alu("cmp", 7, dst, src) }

    /// TEST: logical compare (r/m with register or immediate).
    public func test(_ dst: Operand, _ src: Operand) {
        begin("test")
        switch (dst, src) {
        case (_, .register(let s)) where s.kind == .gpr && isRM(dst):
            guard let sz = size(dst, src) else { return }
            encodeReg([sz == 8 ? 0x84 : 0x85], reg: s, rm: dst, size: sz)
        case (.memory, .register), (.register, .memory):
            if let d = gpr(dst) { encodeRegChecked(sz8: 0x84, 0x85, reg: d, rm: src, other: dst) } else { invalid() }
        case (_, .immediate(let imm)) where isRM(dst):
            guard let sz = size(dst) else { return }
            let isAcc = gpr(dst)?.number == 0 && gpr(dst)?.isHigh8 == false
            let field = immField(imm, size: min(sz / 8, 4), opBits: sz)
            if isAcc {
                var i = Inst([sz == 8 ? 0xA8 : 0xA9])
                setSize(&i, sz)
                i.imms.append(field)
                commit(i)
            } else {
                encodeExt([sz == 8 ? 0xF6 : 0xF7], 0, dst, size: sz, imm: field)
            }
        default:
            invalid()
        }
    }

    func encodeRegChecked(sz8: UInt8, _ op: UInt8, reg: Register, rm: Operand, other: Operand) {
        guard let sz = size(rm, other) else { return }
        encodeReg([sz == 8 ? sz8 : op], reg: reg, rm: rm, size: sz)
    }

    func unary(_ name: String, _ ext: UInt8, _ op: Operand, base: UInt8 = 0xF6) {
        begin(name)
        guard isRM(op), let sz = size(op) else { if !isRM(op) { invalid() }; return }
        encodeExt([sz == 8 ? base : base + 1], ext, op, size: sz)
    }

    /// INC (the one-byte 40+r form in 16/32-bit code).
    public func inc(_ op: Operand) { incdec("inc", 0, op) }
    /// DEC (the one-byte 48+r form in 16/32-bit code).
    public func dec(_ op: Operand) { incdec("dec", 1, op) }

    func incdec(_ name: String, _ ext: UInt8, _ op: Operand) {
        if mode != .bits64, let r = gpr(op), r.size > 8 {
            begin(name)
            var i = Inst([0x40 + ext * 8 + (r.number & 7)])
            if r.number & 8 != 0 { i.rexB = true }
            setSize(&i, r.size)
            commit(i)
            return
        }
        unary(name, ext, op, base: 0xFE)
    }

    /// NOT: one's complement.
    public func not(_ op: Operand) { unary("not", 2, op) }
    /// NEG: two's complement negation.
    public func neg(_ op: Operand) { unary("neg", 3, op) }
    /// MUL: unsigned multiply of the accumulator.
    public func mul(_ op: Operand) { unary("mul", 4, op) }
    /// IMUL (one operand): signed multiply of the accumulator.
    public func imul(_ op: Operand) { unary("imul", 5, op) }
    /// DIV: unsigned divide of the accumulator.
    public func div(_ op: Operand) { unary("div", 6, op) }
    /// IDIV: signed divide of the accumulator.
    public func idiv(_ op: Operand) { unary("idiv", 7, op) }

    /// IMUL (two operands): `dst *= src`; an immediate `src` means `imul dst, dst, imm`.
    public func imul(_ dst: Operand, _ src: Operand) {
        if case .immediate = src {
            imul(dst, dst, src)
            return
        }
        begin("imul")
        guard let d = gpr(dst), d.size > 8, isRM(src), let sz = size(dst, src) else { invalid(); return }
        encodeReg([0x0F, 0xAF], reg: d, rm: src, size: sz)
    }

    /// IMUL (three operands): `dst = src * imm` (imm8 sign-extended when it fits).
    public func imul(_ dst: Operand, _ src: Operand, _ imm: Operand) {
        begin("imul")
        guard let d = gpr(dst), d.size > 8, isRM(src), let v = immediate(imm), let sz = size(dst, src) else { invalid(); return }
        if isImm8(v, bits: sz) {
            encodeReg([0x6B], reg: d, rm: src, size: sz, imm: Field(value: v.value, size: 1, range: .any8).truncated())
        } else {
            encodeReg([0x69], reg: d, rm: src, size: sz, imm: immField(v, size: min(sz / 8, 4), opBits: sz))
        }
    }

    func shift(_ name: String, _ ext: UInt8, _ dst: Operand, _ count: Operand) {
        begin(name)
        guard isRM(dst), let sz = size(dst) else { if !isRM(dst) { invalid() }; return }
        let w: UInt8 = sz == 8 ? 0 : 1
        switch count {
        case .register(let r) where r == .cl:
            encodeExt([0xD2 + w], ext, dst, size: sz)
        case .immediate(let imm) where imm.label == nil && imm.value == 1:
            encodeExt([0xD0 + w], ext, dst, size: sz)
        case .immediate(let imm):
            encodeExt([0xC0 + w], ext, dst, size: sz, imm: immField(imm, size: 1, opBits: 8))
        default:
            invalid("shift count must be 1, an imm8 or CL")
        }
    }

    /// ROL by 1, imm8 or CL.
    public func rol(_ dst: Operand, _ count: Operand) { shift("rol", 0, dst, count) }
    /// ROR by 1, imm8 or CL.
    public func ror(_ dst: Operand, _ count: Operand) { shift("ror", 1, dst, count) }
    /// RCL by 1, imm8 or CL.
    public func rcl(_ dst: Operand, _ count: Operand) { shift("rcl", 2, dst, count) }
    /// RCR by 1, imm8 or CL.
    public func rcr(_ dst: Operand, _ count: Operand) { shift("rcr", 3, dst, count) }
    /// SHL/SAL by 1, imm8 or CL.
    public func shl(_ dst: Operand, _ count: Operand) { shift("shl", 4, dst, count) }
    /// SAL (same as SHL).
    public func sal(_ dst: Operand, _ count: Operand) { shift("sal", 4, dst, count) }
    /// SHR by 1, imm8 or CL.
    public func shr(_ dst: Operand, _ count: Operand) { shift("shr", 5, dst, count) }
    /// SAR by 1, imm8 or CL.
    public func sar(_ dst: Operand, _ count: Operand) { shift("sar", 7, dst, count) }

    func doubleShift(_ name: String, _ op: UInt8, _ dst: Operand, _ src: Operand, _ count: Operand) {
        begin(name)
        guard let s = gpr(src), isRM(dst), let sz = size(dst, src), sz > 8 else { invalid(); return }
        switch count {
        case .register(let r) where r == .cl:
            encodeReg([0x0F, op + 1], reg: s, rm: dst, size: sz)
        case .immediate(let imm):
            encodeReg([0x0F, op], reg: s, rm: dst, size: sz, imm: immField(imm, size: 1, opBits: 8))
        default:
            invalid("shift count must be an imm8 or CL")
        }
    }

    /// SHLD dst, src, imm8/CL.
    public func shld(_ dst: Operand, _ src: Operand, _ count: Operand) { doubleShift("shld", 0xA4, dst, src, count) }
    /// SHRD dst, src, imm8/CL.
    public func shrd(_ dst: Operand, _ src: Operand, _ count: Operand) { doubleShift("shrd", 0xAC, dst, src, count) }

    func bitTest(_ name: String, _ ext: UInt8, _ dst: Operand, _ bit: Operand) {
        begin(name)
        guard isRM(dst) else { invalid(); return }
        if let imm = immediate(bit) {
            guard let sz = size(dst), sz > 8 else { return }
            encodeExt([0x0F, 0xBA], ext, dst, size: sz, imm: immField(imm, size: 1, opBits: 8))
        } else if let r = gpr(bit) {
            guard let sz = size(dst, bit), sz > 8 else { invalid(); return }
            encodeReg([0x0F, 0xA3 + (ext - 4) * 8], reg: r, rm: dst, size: sz)
        } else {
            invalid()
        }
    }

    /// BT: bit test (register or imm8 bit index).
    public func bt(_ dst: Operand, _ bit: Operand) { bitTest("bt", 4, dst, bit) }
    /// BTS: bit test and set.
    public func bts(_ dst: Operand, _ bit: Operand) { bitTest("bts", 5, dst, bit) }
    /// BTR: bit test and reset.
    public func btr(_ dst: Operand, _ bit: Operand) { bitTest("btr", 6, dst, bit) }
    /// BTC: bit test and complement.
    public func btc(_ dst: Operand, _ bit: Operand) { bitTest("btc", 7, dst, bit) }

    func regFromRM(_ name: String, _ opcode: [UInt8], _ dst: Operand, _ src: Operand, mandatory: UInt8? = nil, minBits: Int = 16) {
        begin(name)
        guard let d = gpr(dst), d.size >= minBits, isRM(src), let sz = size(dst, src) else { if !errorsRecordedNow { invalid() }; return }
        encodeReg(opcode, reg: d, rm: src, size: sz, mandatory: mandatory)
    }

    /// BSF: bit scan forward.
    public func bsf(_ dst: Operand, _ src: Operand) { regFromRM("bsf", [0x0F, 0xBC], dst, src) }
    /// BSR: bit scan reverse.
    public func bsr(_ dst: Operand, _ src: Operand) { regFromRM("bsr", [0x0F, 0xBD], dst, src) }
    /// POPCNT: population count.
    public func popcnt(_ dst: Operand, _ src: Operand) { regFromRM("popcnt", [0x0F, 0xB8], dst, src, mandatory: 0xF3) }

    /// CMOVcc: conditional move.
    public func cmovcc(_ cc: Condition, _ dst: Operand, _ src: Operand) { regFromRM("cmovcc", [0x0F, 0x40 + cc.code], dst, src) }

    /// SETcc: set a byte register or memory to the condition.
    public func setcc(_ cc: Condition, _ dst: Operand) {
        begin("setcc")
        guard isRM(dst), bits(dst) == 8 || (bits(dst) == 0 && { if case .memory = dst { return true }; return false }()) else { invalid("SETcc takes a byte operand"); return }
        encodeExt([0x0F, 0x90 + cc.code], 0, dst, size: 8)
    }

    /// BSWAP: byte-swap a 32- or 64-bit register.
    public func bswap(_ op: Operand) {
        begin("bswap")
        guard let r = gpr(op), r.size >= 32 else { invalid(); return }
        var i = Inst([0x0F, 0xC8 + (r.number & 7)])
        if r.number & 8 != 0 { i.rexB = true }
        setSize(&i, r.size)
        commit(i)
    }

    /// CMPXCHG r/m, reg.
    public func cmpxchg(_ dst: Operand, _ src: Operand) { storeForm("cmpxchg", 0xB0, dst, src) }
    /// XADD r/m, reg.
    public func xadd(_ dst: Operand, _ src: Operand) { storeForm("xadd", 0xC0, dst, src) }

    func storeForm(_ name: String, _ op8: UInt8, _ dst: Operand, _ src: Operand) {
        begin(name)
        guard let s = gpr(src), isRM(dst), let sz = size(dst, src) else { if !errorsRecordedNow { invalid() }; return }
        encodeReg([0x0F, sz == 8 ? op8 : op8 + 1], reg: s, rm: dst, size: sz)
    }

    /// CMPXCHG8B m64.
    public func cmpxchg8b(_ mem: Operand) {
        begin("cmpxchg8b")
        guard case .memory(let m) = mem, m.size == 0 || m.size == 64 else { invalid(); return }
        encodeExt([0x0F, 0xC7], 1, mem, size: 0)
    }

    /// CMPXCHG16B m128 (64-bit code).
    public func cmpxchg16b(_ mem: Operand) {
        begin("cmpxchg16b")
        guard case .memory(let m) = mem, m.size == 0 || m.size == 128 else { invalid(); return }
        encodeExt([0x0F, 0xC7], 1, mem, size: 64)
    }

    /// MOVBE: move with byte swap (register ← memory or memory ← register).
    public func movbe(_ dst: Operand, _ src: Operand) {
        begin("movbe")
        switch (dst, src) {
        case (.register(let d), .memory) where d.kind == .gpr && d.size > 8:
            guard let sz = size(dst, src) else { return }
            encodeReg([0x0F, 0x38, 0xF0], reg: d, rm: src, size: sz)
        case (.memory, .register(let s)) where s.kind == .gpr && s.size > 8:
            guard let sz = size(dst, src) else { return }
            encodeReg([0x0F, 0x38, 0xF1], reg: s, rm: dst, size: sz)
        default:
            invalid()
        }
    }

    /// CBW: sign-extend AL into AX.
    public func cbw() { plain("cbw", [0x98], size: 16) }
    /// CWDE: sign-extend AX into EAX.
    public func cwde() { plain("cwde", [0x98], size: 32) }
    /// CDQE: sign-extend EAX into RAX (64-bit code).
    public func cdqe() { plain("cdqe", [0x98], size: 64) }
    /// CWD: sign-extend AX into DX:AX.
    public func cwd() { plain("cwd", [0x99], size: 16) }
    /// CDQ: sign-extend EAX into EDX:EAX.
    public func cdq() { plain("cdq", [0x99], size: 32) }
    /// CQO: sign-extend RAX into RDX:RAX (64-bit code).
    public func cqo() { plain("cqo", [0x99], size: 64) }

    /// DAA (16/32-bit code).
    public func daa() { plain("daa", [0x27], only: [.bits16, .bits32]) }
    /// DAS (16/32-bit code).
    public func das() { plain("das", [0x2F], only: [.bits16, .bits32]) }
    /// AAA (16/32-bit code).
    public func aaa() { plain("aaa", [0x37], only: [.bits16, .bits32]) }
    /// AAS (16/32-bit code).
    public func aas() { plain("aas", [0x3F], only: [.bits16, .bits32]) }
    /// AAM with base (default 10) (16/32-bit code).
    public func aam(_ base: UInt8 = 10) { plain("aam", [0xD4, base], only: [.bits16, .bits32]) }
    /// AAD with base (default 10) (16/32-bit code).
    public func aad(_ base: UInt8 = 10) { plain("aad", [0xD5, base], only: [.bits16, .bits32]) }
    /// XLAT/XLATB: AL = [rBX + AL].
    public func xlat() { plain("xlat", [0xD7]) }
    /// XLATB (same as XLAT).
    public func xlatb() { plain("xlatb", [0xD7]) }
}

extension Field {
    /// The constant truncated to one sign-extended byte (for imm8 forms of wider operands).
    func truncated() -> Field {
        var f = self
        f.value = Int64(Int8(truncatingIfNeeded: value))
        return f
    }
}
