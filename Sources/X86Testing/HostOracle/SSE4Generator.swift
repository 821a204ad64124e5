// SSE3, SSSE3, SSE4.1 and SSE4.2 items for the sequence generator (the x86-64-v2 additions), checked by the
// host through the data area like FPGenerator.swift's SSE items: operands are loaded from data-area slots,
// results (XMM, MMX, XMM0 for PCMPxSTRM, MXCSR) stored back; GPR results (PEXTR*, CRC32, PCMPxSTRI) and
// flags (PTEST, PCMPxSTRx) are compared directly.
//
// Safety, as in FPGenerator.swift: MXCSR only has its flags cleared; m128 operands of instructions that
// require alignment are 16-byte aligned; all exceptions stay masked; MMX items end with EMMS. Items must fit
// in `maxItemBytes`, so special floating-point values (zeros, denormals, infinities, NaNs, halves) and
// string terminators are planted by items of their own into a pool of four slots per sequence, which the
// other items use as operands most of the time. Operands are RIP-relative (shorter than absolute).

extension SequenceBuilder {
    /// binary32 values planted in single-precision operands.
    private static let specialSingles: [UInt32] = [
        0, 0x8000_0000, 0x3F80_0000, 0xBF00_0000, 0x3FC0_0000, 0x4020_0000, 0xC060_0000, 0x0000_0001, 0x807F_FFFF,
        0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0x7F80_0001, 0xFFC0_1234, 0x7F7F_FFFF, 0x4B00_0001, 0x3EFF_FFFF,
        0x4EFF_FFFF, 0xCF00_0000, 0x3F00_0001,
    ]
    /// binary64 values planted in double-precision operands.
    private static let specialDoubles: [UInt64] = [
        0, 0x8000_0000_0000_0000, 0x3FF0_0000_0000_0000, 0xBFE0_0000_0000_0000, 0x3FF8_0000_0000_0000,
        0x4004_0000_0000_0000, 0x0000_0000_0000_0001, 0x800F_FFFF_FFFF_FFFF, 0x7FF0_0000_0000_0000,
        0xFFF0_0000_0000_0000, 0x7FF8_0000_0000_0000, 0x7FF0_0000_0000_0001, 0x7FEF_FFFF_FFFF_FFFF,
        0x4330_0000_0000_0001, 0x3FDF_FFFF_FFFF_FFFF, 0xC3E0_0000_0000_0000,
    ]

    /// The lane type of a form: integer, or floating point (then MXCSR's flags are cleared and compared).
    private enum Lanes { case integer, single, double }

    /// One SSE3…SSE4.2 instruction form: prefix and opcode bytes, imm8 present, operand kind.
    private struct Form4 {
        var prefix: [UInt8]
        var opcode: [UInt8]
        var imm: Bool
        var lanes: Lanes
        var name: String
    }

    /// The xmm, xmm/m128 forms (ModRM.reg destination) whose m128 must be 16-byte aligned.
    private static let xmmForms: [Form4] = {
        var f: [Form4] = []
        func add(_ p: [UInt8], _ o: [UInt8], _ imm: Bool, _ lanes: Lanes, _ name: String) { f.append(Form4(prefix: p, opcode: o, imm: imm, lanes: lanes, name: name)) }
        add([0xF2], [0x0F, 0xD0], false, .single, "addsubps"); add([0x66], [0x0F, 0xD0], false, .double, "addsubpd")
        add([0xF2], [0x0F, 0x7C], false, .single, "haddps"); add([0x66], [0x0F, 0x7C], false, .double, "haddpd")
        add([0xF2], [0x0F, 0x7D], false, .single, "hsubps"); add([0x66], [0x0F, 0x7D], false, .double, "hsubpd")
        add([0xF3], [0x0F, 0x12], false, .integer, "movsldup"); add([0xF3], [0x0F, 0x16], false, .integer, "movshdup")
        add([0xF2], [0x0F, 0x12], false, .integer, "movddup")
        let ssse3: [(UInt8, String)] = [(0x00, "pshufb"), (0x01, "phaddw"), (0x02, "phaddd"), (0x03, "phaddsw"), (0x04, "pmaddubsw"),
                                        (0x05, "phsubw"), (0x06, "phsubd"), (0x07, "phsubsw"), (0x08, "psignb"), (0x09, "psignw"),
                                        (0x0A, "psignd"), (0x0B, "pmulhrsw"), (0x1C, "pabsb"), (0x1D, "pabsw"), (0x1E, "pabsd")]
        let sse41: [(UInt8, String)] = [(0x10, "pblendvb"), (0x14, "blendvps"), (0x15, "blendvpd"), (0x20, "pmovsxbw"), (0x21, "pmovsxbd"),
                                        (0x22, "pmovsxbq"), (0x23, "pmovsxwd"), (0x24, "pmovsxwq"), (0x25, "pmovsxdq"), (0x28, "pmuldq"),
                                        (0x29, "pcmpeqq"), (0x2A, "movntdqa"), (0x2B, "packusdw"), (0x30, "pmovzxbw"), (0x31, "pmovzxbd"),
                                        (0x32, "pmovzxbq"), (0x33, "pmovzxwd"), (0x34, "pmovzxwq"), (0x35, "pmovzxdq"), (0x37, "pcmpgtq"),
                                        (0x38, "pminsb"), (0x39, "pminsd"), (0x3A, "pminuw"), (0x3B, "pminud"), (0x3C, "pmaxsb"),
                                        (0x3D, "pmaxsd"), (0x3E, "pmaxuw"), (0x3F, "pmaxud"), (0x40, "pmulld"), (0x41, "phminposuw")]
        for (o, n) in ssse3 + sse41 { add([0x66], [0x0F, 0x38, o], false, .integer, n) }
        let imm: [(UInt8, Lanes, String)] = [(0x08, .single, "roundps"), (0x09, .double, "roundpd"), (0x0A, .single, "roundss"),
                                             (0x0B, .double, "roundsd"), (0x0C, .integer, "blendps"), (0x0D, .integer, "blendpd"),
                                             (0x0E, .integer, "pblendw"), (0x0F, .integer, "palignr"), (0x21, .single, "insertps"),
                                             (0x40, .single, "dpps"), (0x41, .double, "dppd"), (0x42, .integer, "mpsadbw")]
        for (o, p, n) in imm { add([0x66], [0x0F, 0x3A, o], true, p, n) }
        return f
    }()

    /// One of the sequence's four pool slots (16-byte aligned, fixed per sequence).
    private mutating func poolSlot() -> Int {
        0x6000 + 0x40 * Int((seed ^ index) & 0x3F) + 16 * rng.below(4)
    }

    /// A pool slot most of the time, else any slot.
    private mutating func operandSlot() -> Int { rng.oneIn(5) ? slot() : poolSlot() }

    /// One SSE3–SSE4.2 item.
    mutating func genSSE4Item() -> Bool {
        switch rng.below(12) {
        case 0, 1: return genPlant()
        case 2, 3, 4, 5: return genSSE4Vector()
        case 6: return genSSSE3MMX()
        case 7, 8: return genPackedString()
        case 9: return genCRC32()
        default: return genSSE4GPR()
        }
    }

    /// Plants a special binary32 or binary64 value, a string terminator or a byte pattern in a pool slot.
    private mutating func genPlant() -> Bool {
        let s = poolSlot()
        switch rng.below(4) {
        case 0:
            let k = 4 * rng.below(4)
            let v = UInt64(rng.pick(SequenceBuilder.specialSingles))
            emit(Inst(opcode: [0xC7], reg: 0, rm: .mem(ripMem(s + k)), imm: le(v, 4), opSize: 4), "mov dword [\(hx(s + k))], \(hex(v))")
        case 1:
            let k = 8 * rng.below(2)
            let v = rng.pick(SequenceBuilder.specialDoubles)
            for h in 0..<2 {
                let w = v >> UInt64(32 * h) & 0xFFFF_FFFF
                emit(Inst(opcode: [0xC7], reg: 0, rm: .mem(ripMem(s + k + 4 * h)), imm: le(w, 4), opSize: 4), "mov dword [\(hx(s + k + 4 * h))], \(hex(w))")
            }
        case 2:   // a terminator (a zero word also ends a word string)
            let k = 2 * rng.below(8)
            emit(Inst(legacy: [0x66], opcode: [0xC7], reg: 0, rm: .mem(ripMem(s + k)), imm: [0, 0], opSize: 2), "mov word [\(hx(s + k))], 0")
        default:  // the same word in two pool slots, so matches and substrings occur
            let v = UInt64(rng.pick([0x6161, 0x0061, 0x4100, 0x3130, 0x7A61, 0xFF80, 0x0101]))
            for t in [s, poolSlot()] {
                let k = 2 * rng.below(8)
                emit(Inst(legacy: [0x66], opcode: [0xC7], reg: 0, rm: .mem(ripMem(t + k)), imm: le(v, 2), opSize: 2), "mov word [\(hx(t + k))], \(hex(v))")
            }
        }
        return true
    }

    /// `movdqu xmm`r`, [off]` or `movdqu [off], xmm`r``.
    private mutating func movdqu(_ r: Int, _ off: Int, store: Bool = false) {
        emit(Inst(legacy: [0xF3], opcode: [0x0F, store ? 0x7F : 0x6F], reg: r, rm: .mem(ripMem(off))),
             store ? "movdqu [\(hx(off))], xmm\(r)" : "movdqu xmm\(r), [\(hx(off))]")
    }

    /// XMM `a` from a slot, the source from a slot (memory, or XMM `b`), XMM0 from a slot for the variable blends,
    /// one instruction, the destination stored; around floating-point forms MXCSR's flags are cleared and stored.
    private mutating func genSSE4Vector() -> Bool {
        let f = rng.pick(SequenceBuilder.xmmForms)
        let fp = f.lanes != .integer
        let mx = slot(), sa = operandSlot(), sb = operandSlot(), out = slot()
        let a = rng.below(regCount)
        // Floating-point forms have no room for a second load: their register source is the destination itself.
        let b = fp ? a : rng.below(regCount)
        if fp { clearMXCSRFlags(mx) }
        if f.opcode == [0x0F, 0x38, 0x10] || f.opcode == [0x0F, 0x38, 0x14] || f.opcode == [0x0F, 0x38, 0x15] { movdqu(0, operandSlot()) }
        movdqu(a, sa)
        let imm: [UInt8] = f.imm ? [UInt8(truncatingIfNeeded: rng.coin() ? rng.below(256) : rng.below(20))] : []
        let suffix = imm.isEmpty ? "" : ", \(imm[0])"
        if f.name == "movntdqa" || rng.coin() {
            emit(Inst(legacy: f.prefix, opcode: f.opcode, reg: a, rm: .mem(ripMem(sb)), imm: imm), "\(f.name) xmm\(a), [\(hx(sb))]\(suffix)")
        } else {
            if b != a { movdqu(b, sb) }
            emit(Inst(legacy: f.prefix, opcode: f.opcode, reg: a, rm: .reg(b), imm: imm), "\(f.name) xmm\(a), xmm\(b)\(suffix)")
        }
        movdqu(a, out, store: true)
        if fp { emit(Inst(opcode: [0x0F, 0xAE], reg: 3, rm: .mem(ripMem(mx))), "stmxcsr [\(hx(mx))]") }
        return true
    }

    /// An SSSE3 instruction on MMX registers, then EMMS.
    private mutating func genSSSE3MMX() -> Bool {
        let ops: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x1C, 0x1D, 0x1E, 0xFF]
        let op = rng.pick(ops)   // 0xFF: PALIGNR (0F 3A 0F)
        let sa = operandSlot(), sb = operandSlot(), out = slot()
        let a = rng.below(8), b = rng.below(8)
        let opcode: [UInt8] = op == 0xFF ? [0x0F, 0x3A, 0x0F] : [0x0F, 0x38, op]
        let imm: [UInt8] = op == 0xFF ? [UInt8(rng.below(20))] : []
        let name = op == 0xFF ? "palignr" : "ssse3-0f38-\(hex(UInt64(op)))"
        emit(Inst(opcode: [0x0F, 0x6F], reg: a, rm: .mem(ripMem(sa))), "movq mm\(a), [\(hx(sa))]")
        if rng.coin() {
            emit(Inst(opcode: opcode, reg: a, rm: .mem(ripMem(sb)), imm: imm), "\(name) mm\(a), [\(hx(sb))]")
        } else {
            emit(Inst(opcode: [0x0F, 0x6F], reg: b, rm: .mem(ripMem(sb))), "movq mm\(b), [\(hx(sb))]")
            emit(Inst(opcode: opcode, reg: a, rm: .reg(b), imm: imm), "\(name) mm\(a), mm\(b)")
        }
        emit(Inst(opcode: [0x0F, 0x7F], reg: a, rm: .mem(ripMem(out))), "movq [\(hx(out))], mm\(a)")
        appendRaw([0x0F, 0x77], "emms", FlowEffect())
        return true
    }

    /// PCMPESTRI/ESTRM/ISTRI/ISTRM on pool slots (planted terminators and shared words); the explicit forms get
    /// small, negative or too large lengths in EAX/EDX. Memory operands may be misaligned.
    private mutating func genPackedString() -> Bool {
        let op = UInt8(0x60 + rng.below(4))
        let explicit = op <= 0x61, index = op & 1 != 0
        guard writable(0) || !explicit, writable(2) || !explicit, writable(1) || !index else { return false }
        let sa = operandSlot(), sb = operandSlot(), out = slot()
        let a = rng.below(regCount), b = rng.below(regCount)
        let wide = explicit && is64 && rng.oneIn(4)
        if explicit {
            let lengths: [Int64] = [0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 100, -1, -3, -8, -16, -17, -0x8000_0000]
            setupMovS(0, rng.pick(lengths))
            setupMovS(2, rng.pick(lengths))
        }
        movdqu(a, sa)
        let imm = [UInt8(rng.below(128))]
        var e = FlowEffect(defFlags: 0x8D5)
        if index { e.defRegs = 1 << 1 }
        let name = "pcmp\(explicit ? "e" : "i")str\(index ? "i" : "m")"
        if rng.coin() {
            let off = sb + (rng.coin() ? 0 : rng.below(16))
            emit(Inst(legacy: [0x66], w: wide, opcode: [0x0F, 0x3A, op], reg: a, rm: .mem(ripMem(off)), imm: imm),
                 "\(name) xmm\(a), [\(hx(off))], \(imm[0])", e)
        } else {
            if b != a { movdqu(b, sb) }
            emit(Inst(legacy: [0x66], w: wide, opcode: [0x0F, 0x3A, op], reg: a, rm: .reg(b), imm: imm), "\(name) xmm\(a), xmm\(b), \(imm[0])", e)
        }
        if !index { movdqu(0, out, store: true) }
        return true
    }

    /// CRC32 r32/r64, r/m8/16/32/64 (byte registers AH–BH without REX included).
    private mutating func genCRC32() -> Bool {
        let size = rng.pick(is64 ? [1, 2, 4, 8] : [1, 2, 4])
        let w = size == 8 || (size == 1 && is64 && rng.oneIn(4))
        guard let d = pickReg(size: 4, read: true, write: true) else { return false }
        let opcode: [UInt8] = [0x0F, 0x38, size == 1 ? 0xF0 : 0xF1]
        let legacy: [UInt8] = size == 2 ? [0x66, 0xF2] : [0xF2]
        let dn = regName(d, w ? 8 : 4)
        let e = FlowEffect(defRegs: 1 << d)
        if rng.coin() {
            let off = slot() + rng.below(16)
            emit(Inst(legacy: legacy, w: w, opcode: opcode, reg: d, rm: .mem(ripMem(off)), opSize: size == 2 ? 2 : 4), "crc32 \(dn), \(ptrName(size)) [\(hx(off))]", e)
        } else {
            let high = size == 1 && !w && d < 8 && rng.coin()
            guard let s = pickReg(size: size, high: high, read: true, write: false) else { return false }
            var i = Inst(legacy: legacy, w: w, opcode: opcode, reg: d, rm: .reg(s), opSize: size == 2 ? 2 : 4)
            if size == 1 && !high && s >= 4 && s < 8 { i.forceRex = true }
            if high { i.noRex = true }
            emit(i, "crc32 \(dn), \(regName(s, size, high: high))", e)
        }
        return true
    }

    /// PTEST, PEXTRB/W/D/Q, EXTRACTPS to a GPR or memory, PINSRB/D/Q from a GPR or memory, LDDQU (misaligned).
    private mutating func genSSE4GPR() -> Bool {
        let sa = operandSlot(), sb = operandSlot(), out = slot()
        let a = rng.below(regCount)
        movdqu(a, sa)
        switch rng.below(4) {
        case 0:   // PTEST (against itself, so ZF and CF are set too, or memory)
            let src: RMOperand = rng.coin() ? .mem(ripMem(sb)) : .reg(a)
            emit(Inst(legacy: [0x66], opcode: [0x0F, 0x38, 0x17], reg: a, rm: src), "ptest xmm\(a), src", FlowEffect(defFlags: 0x8D5))
            return true
        case 1:   // PEXTRB/W/D/Q, EXTRACTPS
            let (op, size, name) = rng.pick([(UInt8(0x14), 1, "pextrb"), (0x15, 2, "pextrw"), (0x16, 4, "pextrd"), (0x16, 8, "pextrq"),
                                             (0x17, 4, "extractps")])
            let w = size == 8 || (op == 0x17 && rng.oneIn(4))
            let imm = [UInt8(rng.below(32))]
            if rng.coin() {
                let off = out + rng.below(8)
                emit(Inst(legacy: [0x66], w: w, opcode: [0x0F, 0x3A, op], reg: a, rm: .mem(ripMem(off)), imm: imm),
                     "\(name) [\(hx(off))], xmm\(a), \(imm[0])")
            } else {
                guard let r = pickReg(size: 8, read: false, write: true, full: true) else { return false }
                emit(Inst(legacy: [0x66], w: w, opcode: [0x0F, 0x3A, op], reg: a, rm: .reg(r), imm: imm),
                     "\(name) \(regName(r, w ? 8 : 4)), xmm\(a), \(imm[0])", FlowEffect(defRegs: 1 << r))
            }
        case 2:   // PINSRB/D/Q
            let (op, size, name) = rng.pick([(UInt8(0x20), 1, "pinsrb"), (0x22, 4, "pinsrd"), (0x22, 8, "pinsrq")])
            let imm = [UInt8(rng.below(32))]
            if rng.coin() {
                let off = sb + rng.below(8)
                emit(Inst(legacy: [0x66], w: size == 8, opcode: [0x0F, 0x3A, op], reg: a, rm: .mem(ripMem(off)), imm: imm),
                     "\(name) xmm\(a), [\(hx(off))], \(imm[0])")
            } else {
                guard let r = pickReg(size: size == 8 ? 8 : 4, read: true, write: false) else { return false }
                emit(Inst(legacy: [0x66], w: size == 8, opcode: [0x0F, 0x3A, op], reg: a, rm: .reg(r), imm: imm),
                     "\(name) xmm\(a), \(regName(r, size == 8 ? 8 : 4)), \(imm[0])")
            }
        default:  // LDDQU from a misaligned address
            let off = sb + rng.below(16)
            emit(Inst(legacy: [0xF2], opcode: [0x0F, 0xF0], reg: a, rm: .mem(ripMem(off))), "lddqu xmm\(a), [\(hx(off))]")
        }
        movdqu(a, out + 16, store: true)
        return true
    }
}
