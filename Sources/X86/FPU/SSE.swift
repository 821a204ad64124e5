// SSE and SSE2 (SDM Vol. 1 chapters 10–11, Vol. 2 instruction pages): data movement, packed and scalar
// single/double arithmetic through SoftFloat with MXCSR rounding, flags, DAZ/FTZ and #XM, conversions,
// and the 128-bit and MMX-register integer instructions. SSE3 through SSE4.2 and the 0F 38 / 0F 3A maps
// are in SSE4.swift and SSE42Strings.swift; they share this file's operand and lane helpers.

/// A 128-bit SIMD value.
struct V128: Equatable {
    var lo: UInt64
    var hi: UInt64

    /// Lane `k` of `size` bytes, zero-extended.
    @inline(__always) func lane(_ k: Int, _ size: Int) -> UInt64 {
        let bit = k &* size &* 8
        let w = bit < 64 ? lo : hi
        if size == 8 { return w }
        return (w >> UInt64(bit & 63)) & ((1 << UInt64(size * 8)) - 1)
    }

    /// Replaces lane `k` of `size` bytes.
    @inline(__always) mutating func setLane(_ k: Int, _ size: Int, _ v: UInt64) {
        let bit = k &* size &* 8
        if size == 8 {
            if bit < 64 { lo = v } else { hi = v }
            return
        }
        let m: UInt64 = ((1 << UInt64(size * 8)) - 1) << UInt64(bit & 63)
        let x = (v << UInt64(bit & 63)) & m
        if bit < 64 { lo = (lo & ~m) | x } else { hi = (hi & ~m) | x }
    }
}

/// Sign-extends the low `size` bytes.
@inline(__always) func sext(_ v: UInt64, _ size: Int) -> Int64 {
    let s = UInt64(64 - size * 8)
    return Int64(bitPattern: v << s) >> Int64(s)
}

extension CPU {
    // MARK: Operands

    /// Reads XMM register `r`.
    @inline(__always) func xmmValue(_ r: UInt8) -> V128 {
        let k = Int(r & 15) * 2
        return V128(lo: fpu.xmm[k], hi: fpu.xmm[k + 1])
    }

    /// Writes XMM register `r`.
    @inline(__always) func setXMMValue(_ r: UInt8, _ v: V128) {
        let k = Int(r & 15) * 2
        fpu.xmm[k] = v.lo; fpu.xmm[k + 1] = v.hi
    }

    /// Reads the 128-bit r/m operand; `aligned` memory operands must be 16-byte aligned (#GP(0)).
    @inline(__always) func readXMMRM(_ i: borrowing Instruction, aligned: Bool) throws(Abort) -> V128 {
        if !i.isMem { return xmmValue(i.rm) }
        let off = effectiveAddress(i)
        if aligned {
            let la = try linearAddress(i.seg, off, 16, write: false)
            if la & 15 != 0 { throw Abort.gp(0) }
        }
        let lo = try readMem(i.seg, off, 8)
        let hi = try readMem(i.seg, off &+ 8, 8)
        return V128(lo: lo, hi: hi)
    }

    /// Writes the 128-bit r/m operand (checks both halves before writing).
    @inline(__always) func writeXMMRM(_ i: borrowing Instruction, _ v: V128, aligned: Bool) throws(Abort) {
        if !i.isMem { setXMMValue(i.rm, v); return }
        let off = effectiveAddress(i)
        let la = try linearAddress(i.seg, off, 16, write: true)
        if aligned && la & 15 != 0 { throw Abort.gp(0) }
        try probeWrite(i.seg, off, 16)
        try writeMem(i.seg, off, 8, v.lo)
        try writeMem(i.seg, off &+ 8, 8, v.hi)
    }

    /// Reads the low `size` bytes of the r/m operand (an XMM register's low lane or memory).
    @inline(__always) func readXMMRMLow(_ i: borrowing Instruction, _ size: UInt8) throws(Abort) -> UInt64 {
        if i.isMem { return try readMem(i.seg, effectiveAddress(i), size) }
        return xmmValue(i.rm).lane(0, Int(size))
    }

    /// The floating-point environment from MXCSR.
    @inline(__always) func sseEnv() -> FPEnv {
        let m = fpu.mxcsr
        var e = FPEnv()
        e.rounding = FPRounding(rawValue: UInt8((m >> MXCSR.rcShift) & 3)) ?? .nearest
        e.flushToZero = m & MXCSR.ftz != 0 && m & (UInt32(FPFlag.underflow) << MXCSR.maskShift) != 0
        e.denormalsAreZero = m & MXCSR.daz != 0
        return e
    }

    /// Merges flags into MXCSR; throws #XM/#UD when one is unmasked (the destination is then not written).
    @inline(__always) func commitSSEFlags(_ e: FPEnv) throws(Abort) {
        var f = UInt32(e.flags)
        let masks = (fpu.mxcsr >> MXCSR.maskShift) & 0x3F
        if e.tiny && masks & UInt32(FPFlag.underflow) == 0 { f |= UInt32(FPFlag.underflow) }
        if f & ~masks != 0 {
            // Pre-computation exceptions suppress the post-computation ones (SDM Vol. 1 §11.5.2).
            let pre = f & 0x7
            if pre & ~masks != 0 { f = pre }
            fpu.mxcsr |= f
            throw simdException()
        }
        fpu.mxcsr |= f
    }

    // MARK: Dispatch

    /// SSE/SSE2 encodings (Op.sse).
    func execSSE(_ i: borrowing Instruction) throws(Abort) {
        if i.opcode == 0x1AE { try execFPStateGroup(i); return }
        let map = i.opcode >> 8
        if map == 2 || map == 3 { try execSSEThreeByte(i); return }   // SSE4.swift
        if map != 1 { throw Abort.ud }
        let pfx = CPU.mandatoryPrefix(i.flags)
        let op = UInt8(truncatingIfNeeded: i.opcode)
        if CPU.isSSE3(op, pfx) { try checkSSEAvailable(); try execSSE3(i, op, pfx); return }   // SSE4.swift
        let mmxForm = (pfx == 0 && (op >= 0x60 && op <= 0x7F || op >= 0xD1 || op == 0xC4 || op == 0xC5)) ||
            (op == 0xD6 && pfx >= 2)
        if mmxForm && !(op == 0xD6) { try checkMMXAvailable() } else { try checkSSEAvailable() }
        if (op == 0xD6 && pfx >= 2) || ((op == 0x2A || op == 0x2C || op == 0x2D) && pfx <= 1) { try checkPendingX87() }
        switch op {
        case 0x10...0x17, 0x28, 0x29, 0x2B, 0x50, 0x54...0x57, 0xC3, 0xC6, 0x14, 0x15:
            try sseMove(i, op, pfx)
        case 0x2A...0x2F, 0x51...0x53, 0x58...0x5F, 0xC2, 0xE6:
            try sseFloat(i, op, pfx)
        case 0x60...0x7F, 0xC4, 0xC5, 0xD1...0xFE:
            if op == 0xE6 { try sseFloat(i, op, pfx); return }
            try sseInteger(i, op, pfx)
        default:
            throw Abort.ud
        }
    }

    /// The mandatory prefix of an SSE encoding: 0 none, 1 = 66, 2 = F2, 3 = F3 (F2/F3, the last one given,
    /// take precedence over 66).
    @inline(__always) static func mandatoryPrefix(_ f: UInt8) -> Int {
        f & InstructionFlags.rep != 0 ? 3 : (f & InstructionFlags.repne != 0 ? 2 : (f & InstructionFlags.opsize != 0 ? 1 : 0))
    }

    // MARK: Moves, logic, shuffles

    func sseMove(_ i: Instruction, _ op: UInt8, _ pfx: Int) throws(Abort) {
        let d = i.reg
        switch (op, pfx) {
        case (0x10, 0), (0x10, 1):   // MOVUPS/MOVUPD load
            setXMMValue(d, try readXMMRM(i, aligned: false))
        case (0x11, 0), (0x11, 1):
            try writeXMMRM(i, xmmValue(d), aligned: false)
        case (0x28, 0), (0x28, 1):   // MOVAPS/MOVAPD
            setXMMValue(d, try readXMMRM(i, aligned: true))
        case (0x29, 0), (0x29, 1), (0x2B, 0), (0x2B, 1):
            if op == 0x2B && !i.isMem { throw Abort.ud }
            try writeXMMRM(i, xmmValue(d), aligned: true)
        case (0x10, 3), (0x10, 2):   // MOVSS / MOVSD load
            let size: UInt8 = pfx == 3 ? 4 : 8
            if i.isMem {
                let v = try readMem(i.seg, effectiveAddress(i), size)
                setXMMValue(d, V128(lo: v, hi: 0))
            } else {
                var x = xmmValue(d)
                x.setLane(0, Int(size), xmmValue(i.rm).lane(0, Int(size)))
                setXMMValue(d, x)
            }
        case (0x11, 3), (0x11, 2):
            let size: UInt8 = pfx == 3 ? 4 : 8
            let v = xmmValue(d).lane(0, Int(size))
            if i.isMem { try writeMem(i.seg, effectiveAddress(i), size, v) } else {
                var x = xmmValue(i.rm); x.setLane(0, Int(size), v); setXMMValue(i.rm, x)
            }
        case (0x12, 0), (0x12, 1):   // MOVLPS/MOVLPD load, MOVHLPS
            var x = xmmValue(d)
            if i.isMem { x.lo = try readMem(i.seg, effectiveAddress(i), 8) }
            else if pfx == 0 { x.lo = xmmValue(i.rm).hi } else { throw Abort.ud }
            setXMMValue(d, x)
        case (0x13, 0), (0x13, 1):
            guard i.isMem else { throw Abort.ud }
            try writeMem(i.seg, effectiveAddress(i), 8, xmmValue(d).lo)
        case (0x16, 0), (0x16, 1):   // MOVHPS/MOVHPD load, MOVLHPS
            var x = xmmValue(d)
            if i.isMem { x.hi = try readMem(i.seg, effectiveAddress(i), 8) }
            else if pfx == 0 { x.hi = xmmValue(i.rm).lo } else { throw Abort.ud }
            setXMMValue(d, x)
        case (0x17, 0), (0x17, 1):
            guard i.isMem else { throw Abort.ud }
            try writeMem(i.seg, effectiveAddress(i), 8, xmmValue(d).hi)
        case (0x14, 0), (0x15, 0):   // UNPCKLPS / UNPCKHPS
            let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
            var r = V128(lo: 0, hi: 0)
            let base = op == 0x14 ? 0 : 2
            r.setLane(0, 4, a.lane(base, 4)); r.setLane(1, 4, b.lane(base, 4))
            r.setLane(2, 4, a.lane(base + 1, 4)); r.setLane(3, 4, b.lane(base + 1, 4))
            setXMMValue(d, r)
        case (0x14, 1), (0x15, 1):   // UNPCKLPD / UNPCKHPD
            let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
            setXMMValue(d, op == 0x14 ? V128(lo: a.lo, hi: b.lo) : V128(lo: a.hi, hi: b.hi))
        case (0x50, 0), (0x50, 1):   // MOVMSKPS / MOVMSKPD
            guard !i.isMem else { throw Abort.ud }
            let x = xmmValue(i.rm)
            let m: UInt64 = pfx == 0
                ? (x.lo >> 31 & 1) | (x.lo >> 62 & 2) | ((x.hi >> 31 & 1) << 2) | (x.hi >> 60 & 8)
                : (x.lo >> 63) | (x.hi >> 62 & 2)
            writeReg(i.reg, codeSize == 8 ? 8 : 4, m)
        case (0x54, 0), (0x54, 1), (0x55, 0), (0x55, 1), (0x56, 0), (0x56, 1), (0x57, 0), (0x57, 1):
            let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
            let r: V128
            switch op {
            case 0x54: r = V128(lo: a.lo & b.lo, hi: a.hi & b.hi)
            case 0x55: r = V128(lo: ~a.lo & b.lo, hi: ~a.hi & b.hi)
            case 0x56: r = V128(lo: a.lo | b.lo, hi: a.hi | b.hi)
            default: r = V128(lo: a.lo ^ b.lo, hi: a.hi ^ b.hi)
            }
            setXMMValue(d, r)
        case (0xC3, 0):   // MOVNTI m32/64, r
            guard i.isMem else { throw Abort.ud }
            let size: UInt8 = i.flags & InstructionFlags.rexW != 0 ? 8 : 4
            try writeMem(i.seg, effectiveAddress(i), size, readReg(i.reg, size))
        case (0xC6, 0):   // SHUFPS
            let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
            let m = Int(i.imm & 0xFF)
            var r = V128(lo: 0, hi: 0)
            r.setLane(0, 4, a.lane(m & 3, 4)); r.setLane(1, 4, a.lane(m >> 2 & 3, 4))
            r.setLane(2, 4, b.lane(m >> 4 & 3, 4)); r.setLane(3, 4, b.lane(m >> 6 & 3, 4))
            setXMMValue(d, r)
        case (0xC6, 1):   // SHUFPD
            let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
            setXMMValue(d, V128(lo: i.imm & 1 == 0 ? a.lo : a.hi, hi: i.imm & 2 == 0 ? b.lo : b.hi))
        default:
            throw Abort.ud
        }
    }

    // MARK: Floating point

    /// ADDSD/SUBSD/MULSD/DIVSD/SQRTSD (and the packed lanes) on the host's IEEE `Double`, for the case where
    /// that gives the architectural result bit for bit: round to nearest, operands and result normal and far
    /// from overflow and underflow (biased exponents 256…1791). Then precision (PE) is the only exception
    /// possible, and whether the result was rounded is found exactly by an error-free transformation: TwoSum
    /// for add and subtract, a fused multiply-add residual for multiply, divide and square root (exactly
    /// representable in that exponent range). Returns nil when the soft-float path must decide.
    @inline(__always)
    static func hostDoubleArith(_ op: UInt8, _ a: UInt64, _ b: UInt64) -> (bits: UInt64, inexact: Bool)? {
        @inline(__always) func inRange(_ v: UInt64) -> Bool { let ex = (v >> 52) & 0x7FF; return ex >= 256 && ex <= 1791 }
        guard inRange(b) else { return nil }
        let y = Double(bitPattern: b)
        let r: Double
        let inexact: Bool
        if op == 0x51 {
            guard b >> 63 == 0 else { return nil }
            r = y.squareRoot()
            inexact = y.addingProduct(-r, r) != 0
        } else {
            guard inRange(a) else { return nil }
            let x = Double(bitPattern: a)
            switch op {
            case 0x58, 0x5C:
                let y2 = op == 0x5C ? -y : y
                r = x + y2
                let bv = r - x
                let av = r - bv
                inexact = (x - av) + (y2 - bv) != 0
            case 0x59:
                r = x * y
                inexact = (-r).addingProduct(x, y) != 0
            default:
                r = x / y
                inexact = x.addingProduct(-r, y) != 0
            }
        }
        guard inRange(r.bitPattern) else { return nil }
        return (r.bitPattern, inexact)
    }

    /// One arithmetic operation on unpacked values; `kind` 0x51 SQRT, 0x58 ADD, 0x59 MUL, 0x5C SUB,
    /// 0x5D MIN, 0x5E DIV, 0x5F MAX.
    @inline(__always)
    private func sseArith(_ kind: UInt8, _ a: FPValue, _ b: FPValue, _ fmt: FPFormat, _ e: inout FPEnv) -> FPValue {
        switch kind {
        case 0x51: return SoftFloat.sqrt(b, fmt, &e)
        case 0x58: return SoftFloat.add(a, b, fmt, &e)
        case 0x59: return SoftFloat.mul(a, b, fmt, &e)
        case 0x5C: return SoftFloat.add(a, b, negateB: true, fmt, &e)
        case 0x5E: return SoftFloat.div(a, b, fmt, &e)
        case 0x5D, 0x5F:
            // MIN/MAX: any NaN raises IE and yields the second operand; so do two zeros (SDM Vol. 2 MINPS).
            if a.isNaN || b.isNaN || a.cls == .unsupported || b.cls == .unsupported { e.flags |= FPFlag.invalid; return b }
            let c = SoftFloat.compare(a, b, signaling: true, &e)
            if kind == 0x5D { return c == -1 ? a : b }
            return c == 1 ? a : b
        default:
            // RCP / RSQRT approximations: computed exactly, then cut to 12 bits (the SDM bound is 1.5 × 2^-12).
            var x = FPEnv()
            let one = FPValue(sign: false, cls: .finite, exp: 0, sig: 1 << 63)
            let r = kind == 0x53 ? SoftFloat.div(one, b, fmt, &x)
                : SoftFloat.div(one, SoftFloat.sqrt(b, .extended, &x), fmt, &x)
            if r.cls == .finite { return FPValue(sign: r.sign, cls: .finite, exp: r.exp, sig: r.sig & (UInt64.max << 52)) }
            return r
        }
    }

    /// Per-lane exception precedence (SDM Vol. 1 §4.9.2): an SNaN/QNaN operand, an invalid operation or a divide
    /// by zero suppresses the denormal-operand flag of the same lane; then the flags raised before the lane
    /// (`before`) are merged back.
    @inline(__always) static func laneExceptionPrecedence(_ e: inout FPEnv, before: UInt8, _ x: FPValue, _ y: FPValue) {
        if e.flags & (FPFlag.invalid | FPFlag.divideByZero) != 0 || x.isNaN || y.isNaN { e.flags &= ~FPFlag.denormal }
        e.flags |= before
    }

    /// One lane of an arithmetic operation on binary64 (`double`) or binary32 encodings: `kind` as in `sseArith`
    /// (0x51 SQRT, 0x52 RSQRT, 0x53 RCP use `b` only; 0x58 ADD, 0x59 MUL, 0x5C SUB, 0x5E DIV), flags into `e`
    /// with the per-lane precedence. The one lane semantics of ADDPS…DIVSD, ADDSUBPS, HADDPS, DPPS and friends.
    @inline(__always)
    func sseLane(_ kind: UInt8, _ a: UInt64, _ b: UInt64, double dbl: Bool, _ e: inout FPEnv) -> UInt64 {
        if dbl && e.rounding == .nearest && (kind == 0x51 || kind == 0x58 || kind == 0x59 || kind == 0x5C || kind == 0x5E),
           let z = CPU.hostDoubleArith(kind, a, b) {
            if z.inexact { e.flags |= FPFlag.inexact }
            return z.bits
        }
        let before = e.flags
        e.flags = 0
        let unary = kind == 0x51 || kind == 0x52 || kind == 0x53
        let x = unary ? FPValue.zero(false) : (dbl ? FPValue.unpack64(a, &e) : FPValue.unpack32(UInt32(truncatingIfNeeded: a), &e))
        let y = dbl ? FPValue.unpack64(b, &e) : FPValue.unpack32(UInt32(truncatingIfNeeded: b), &e)
        let z = sseArith(kind, x, y, dbl ? .double : .single, &e)
        CPU.laneExceptionPrecedence(&e, before: before, x, y)
        return dbl ? z.bits64 : UInt64(z.bits32)
    }

    /// The CMPPS predicate (imm8 bits 2:0) on a comparison result.
    @inline(__always) private func cmpPredicate(_ p: UInt8, _ c: Int) -> Bool {
        switch p & 7 {
        case 0: return c == 0
        case 1: return c == -1
        case 2: return c == -1 || c == 0
        case 3: return c == 2
        case 4: return c != 0
        case 5: return c != -1
        case 6: return !(c == -1 || c == 0)
        default: return c != 2
        }
    }

    func sseFloat(_ i: borrowing Instruction, _ op: UInt8, _ pfx: Int) throws(Abort) {
        let d = i.reg
        var e = sseEnv()
        let dbl = pfx == 1 || pfx == 2
        let size = dbl ? 8 : 4
        let fmt: FPFormat = dbl ? .double : .single
        @inline(__always) func unpack(_ v: UInt64, _ e: inout FPEnv) -> FPValue {
            dbl ? FPValue.unpack64(v, &e) : FPValue.unpack32(UInt32(truncatingIfNeeded: v), &e)
        }
        @inline(__always) func pack(_ v: FPValue) -> UInt64 { dbl ? v.bits64 : UInt64(v.bits32) }
        switch op {
        case 0x51, 0x52, 0x53, 0x58, 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0xC2:
            if (op == 0x52 || op == 0x53) && dbl { throw Abort.ud }
            let scalar = pfx >= 2
            let a = xmmValue(d)
            let b: V128 = scalar ? V128(lo: try readXMMRMLow(i, UInt8(size)), hi: 0) : try readXMMRM(i, aligned: true)
            var r = a
            let lanes = scalar ? 1 : 16 / size
            for k in 0..<lanes {
                if op != 0xC2 && op != 0x5D && op != 0x5F {
                    r.setLane(k, size, sseLane(op, a.lane(k, size), b.lane(k, size), double: dbl, &e))
                    continue
                }
                let before = e.flags
                e.flags = 0
                let x = unpack(a.lane(k, size), &e), y = unpack(b.lane(k, size), &e)
                defer { CPU.laneExceptionPrecedence(&e, before: before, x, y) }
                if op == 0xC2 {
                    let pred = UInt8(truncatingIfNeeded: i.imm) & 7
                    let signaling = pred == 1 || pred == 2 || pred == 5 || pred == 6
                    let c = SoftFloat.compare(x, y, signaling: signaling, &e)
                    r.setLane(k, size, cmpPredicate(pred, c) ? UInt64.max : 0)
                } else {
                    let z = sseArith(op, x, y, fmt, &e)
                    // The chosen operand as it was, except that under DAZ a denormal operand has become a zero of
                    // its sign before the comparison, and that zero is the result (as the host processor returns).
                    let pick = z == y ? y : x
                    r.setLane(k, size, pick.cls == .zero ? pack(pick) : (z == y ? b.lane(k, size) : a.lane(k, size)))
                }
            }
            if op == 0x52 || op == 0x53 { e.flags = 0; e.tiny = false }
            try commitSSEFlags(e)
            setXMMValue(d, r)
        case 0x2E, 0x2F:   // UCOMISS/UCOMISD, COMISS/COMISD
            guard pfx <= 1 else { throw Abort.ud }
            let x = unpack(xmmValue(d).lane(0, size), &e)
            let y = unpack(try readXMMRMLow(i, UInt8(size)), &e)
            let c = SoftFloat.compare(x, y, signaling: op == 0x2F, &e)
            if x.isNaN || y.isNaN { e.flags &= ~FPFlag.denormal }
            try commitSSEFlags(e)
            var fl = materializedFlags() & ~(RFLAGS.status.rawValue)
            switch c {
            case 2: fl |= RFLAGS.zf.rawValue | RFLAGS.pf.rawValue | RFLAGS.cf.rawValue
            case -1: fl |= RFLAGS.cf.rawValue
            case 0: fl |= RFLAGS.zf.rawValue
            default: break
            }
            flagsBase = fl
            lazy.op = .none
        case 0x2A where pfx <= 1, 0x2C where pfx <= 1, 0x2D where pfx <= 1:
            try sseMMXConvert(i, op, pfx)
        case 0x2A:   // CVTSI2SS / CVTSI2SD
            let s: UInt8 = i.flags & InstructionFlags.rexW != 0 ? 8 : 4
            let n = sext(try readRM(i, size: s), Int(s))
            let v = SoftFloat.fromInt(n, fmt, &e)
            try commitSSEFlags(e)
            var x = xmmValue(d); x.setLane(0, size, pack(v)); setXMMValue(d, x)
        case 0x2C, 0x2D:   // CVTTSS2SI / CVTSS2SI and SD forms
            let s: UInt8 = i.flags & InstructionFlags.rexW != 0 ? 8 : 4
            let v = unpack(try readXMMRMLow(i, UInt8(size)), &e)
            let n = SoftFloat.toInt(v, bits: Int(s) * 8, op == 0x2C ? .zero : e.rounding, &e)
            try commitSSEFlags(e)
            writeReg(i.reg, s, UInt64(bitPattern: n) & sizeMask(s))
        case 0x5A:
            switch pfx {
            case 0:   // CVTPS2PD
                let b = i.isMem ? V128(lo: try readMem(i.seg, effectiveAddress(i), 8), hi: 0) : xmmValue(i.rm)
                var r = V128(lo: 0, hi: 0)
                for k in 0..<2 { r.setLane(k, 8, SoftFloat.round(FPValue.unpack32(UInt32(b.lane(k, 4)), &e), .double, &e).bits64) }
                try commitSSEFlags(e); setXMMValue(d, r)
            case 1:   // CVTPD2PS
                let b = try readXMMRM(i, aligned: true)
                var r = V128(lo: 0, hi: 0)
                for k in 0..<2 { r.setLane(k, 4, UInt64(SoftFloat.round(FPValue.unpack64(b.lane(k, 8), &e), .single, &e).bits32)) }
                try commitSSEFlags(e); setXMMValue(d, r)
            case 3:   // CVTSS2SD
                let v = SoftFloat.round(FPValue.unpack32(UInt32(try readXMMRMLow(i, 4)), &e), .double, &e)
                try commitSSEFlags(e)
                var x = xmmValue(d); x.lo = v.bits64; setXMMValue(d, x)
            default:  // CVTSD2SS
                let v = SoftFloat.round(FPValue.unpack64(try readXMMRMLow(i, 8), &e), .single, &e)
                try commitSSEFlags(e)
                var x = xmmValue(d); x.setLane(0, 4, UInt64(v.bits32)); setXMMValue(d, x)
            }
        case 0x5B:
            guard pfx != 2 else { throw Abort.ud }
            let b = try readXMMRM(i, aligned: true)
            var r = V128(lo: 0, hi: 0)
            for k in 0..<4 {
                if pfx == 0 {   // CVTDQ2PS
                    r.setLane(k, 4, UInt64(SoftFloat.fromInt(sext(b.lane(k, 4), 4), .single, &e).bits32))
                } else {        // CVTPS2DQ, CVTTPS2DQ
                    let v = FPValue.unpack32(UInt32(b.lane(k, 4)), &e)
                    r.setLane(k, 4, UInt64(bitPattern: SoftFloat.toInt(v, bits: 32, pfx == 3 ? .zero : e.rounding, &e)))
                }
            }
            try commitSSEFlags(e); setXMMValue(d, r)
        case 0xE6:
            guard pfx != 0 else { throw Abort.ud }
            var r = V128(lo: 0, hi: 0)
            if pfx == 3 {   // CVTDQ2PD
                let b = i.isMem ? V128(lo: try readMem(i.seg, effectiveAddress(i), 8), hi: 0) : xmmValue(i.rm)
                for k in 0..<2 { r.setLane(k, 8, SoftFloat.fromInt(sext(b.lane(k, 4), 4), .double, &e).bits64) }
            } else {        // CVTTPD2DQ (66), CVTPD2DQ (F2)
                let b = try readXMMRM(i, aligned: true)
                for k in 0..<2 {
                    let v = FPValue.unpack64(b.lane(k, 8), &e)
                    r.setLane(k, 4, UInt64(bitPattern: SoftFloat.toInt(v, bits: 32, pfx == 1 ? .zero : e.rounding, &e)))
                }
            }
            try commitSSEFlags(e); setXMMValue(d, r)
        default:
            // 2A/2C/2D without F2/F3 are the MMX conversions (CVTPI2PS...), not implemented.
            throw Abort.ud
        }
    }

    /// CVTPI2PS, CVTPI2PD, CVT(T)PS2PI, CVT(T)PD2PI: conversions between MMX integers and XMM floats.
    func sseMMXConvert(_ i: borrowing Instruction, _ op: UInt8, _ pfx: Int) throws(Abort) {
        var e = sseEnv()
        if op == 0x2A {
            let src = i.isMem ? try readMem(i.seg, effectiveAddress(i), 8) : mmValue(i.rm)
            var x = xmmValue(i.reg)
            for k in 0..<2 {
                let n = sext((src >> UInt64(32 * k)) & 0xFFFF_FFFF, 4)
                if pfx == 0 { x.setLane(k, 4, UInt64(SoftFloat.fromInt(n, .single, &e).bits32)) }
                else { x.setLane(k, 8, SoftFloat.fromInt(n, .double, &e).bits64) }
            }
            try commitSSEFlags(e)
            setXMMValue(i.reg, x)
        } else {
            let rc: FPRounding = op == 0x2C ? .zero : e.rounding
            let b: V128 = pfx == 0
                ? (i.isMem ? V128(lo: try readMem(i.seg, effectiveAddress(i), 8), hi: 0) : xmmValue(i.rm))
                : try readXMMRM(i, aligned: true)
            var r: UInt64 = 0
            for k in 0..<2 {
                let v = pfx == 0 ? FPValue.unpack32(UInt32(b.lane(k, 4)), &e) : FPValue.unpack64(b.lane(k, 8), &e)
                r |= (UInt64(bitPattern: SoftFloat.toInt(v, bits: 32, rc, &e)) & 0xFFFF_FFFF) << UInt64(32 * k)
            }
            try commitSSEFlags(e)
            setMM(i.reg, r)
        }
        enterMMXState()
    }

    // MARK: Integer

    /// Saturates a signed value to `size` bytes, signed (`unsigned` false) or unsigned.
    @inline(__always) func saturate(_ v: Int64, _ size: Int, unsigned: Bool) -> UInt64 {
        let bits = Int64(size * 8)
        let lo: Int64 = unsigned ? 0 : -(1 << (bits - 1))
        let hi: Int64 = unsigned ? (1 << bits) - 1 : (1 << (bits - 1)) - 1
        return UInt64(bitPattern: min(max(v, lo), hi)) & ((1 << UInt64(bits)) - 1)
    }

    /// Lane-wise integer operation on lanes of `size` bytes.
    @inline(__always) private func laneOp(_ op: UInt8, _ x: UInt64, _ y: UInt64, _ size: Int) -> UInt64 {
        let mask: UInt64 = size == 8 ? UInt64.max : (1 << UInt64(size * 8)) - 1
        switch op {
        case 0xFC, 0xFD, 0xFE, 0xD4: return (x &+ y) & mask
        case 0xF8, 0xF9, 0xFA, 0xFB: return (x &- y) & mask
        case 0xEC, 0xED: return saturate(sext(x, size) + sext(y, size), size, unsigned: false)
        case 0xE8, 0xE9: return saturate(sext(x, size) - sext(y, size), size, unsigned: false)
        case 0xDC, 0xDD: return saturate(Int64(x) + Int64(y), size, unsigned: true)
        case 0xD8, 0xD9: return saturate(Int64(x) - Int64(y), size, unsigned: true)
        case 0x74, 0x75, 0x76: return x == y ? mask : 0
        case 0x64, 0x65, 0x66: return sext(x, size) > sext(y, size) ? mask : 0
        case 0xDA: return min(x, y)
        case 0xDE: return max(x, y)
        case 0xEA: return sext(x, size) < sext(y, size) ? x : y
        case 0xEE: return sext(x, size) > sext(y, size) ? x : y
        case 0xE0, 0xE3: return (x + y + 1) >> 1
        case 0xD5: return UInt64(bitPattern: sext(x, 2) &* sext(y, 2)) & mask
        case 0xE5: return UInt64(bitPattern: (sext(x, 2) &* sext(y, 2)) >> 16) & mask
        case 0xE4: return (x &* y) >> 16
        default: return 0
        }
    }

    // MARK: MMX registers

    /// MMX register `n` (the significand of physical x87 register Rn).
    @inline(__always) func mmValue(_ n: UInt8) -> UInt64 { fpu.stSig[Int(n & 7)] }

    /// Writes MMX register `n`: the exponent field becomes all ones (SDM Vol. 1 §9.5.1).
    @inline(__always) func setMM(_ n: UInt8, _ v: UInt64) {
        fpu.stSig[Int(n & 7)] = v
        fpu.stSE[Int(n & 7)] = 0xFFFF
    }

    /// The x87-to-MMX transition every MMX instruction makes: TOP = 0, all registers valid (SDM Vol. 1 §9.5).
    @inline(__always) func enterMMXState() {
        fpu.fsw &= ~0x3800
        fpu.tagValid = 0xFF
    }

    /// The checks of MMX instructions: #UD with CR0.EM, #NM with CR0.TS, #MF for a pending x87 exception.
    @inline(__always) func checkMMXAvailable() throws(Abort) {
        if cr0Value & CR0.em.rawValue != 0 { throw Abort.ud }
        if cr0Value & CR0.ts.rawValue != 0 { throw Abort.nm }
        try checkPendingX87()
    }

    /// Source operand of a 64-bit (MMX) or 128-bit (XMM) integer instruction.
    @inline(__always) func intSource(_ i: borrowing Instruction, mmx: Bool, aligned: Bool = true) throws(Abort) -> V128 {
        if !mmx { return try readXMMRM(i, aligned: aligned) }
        if i.isMem { return V128(lo: try readMem(i.seg, effectiveAddress(i), 8), hi: 0) }
        return V128(lo: mmValue(i.rm), hi: 0)
    }

    /// Destination (ModRM.reg) value.
    @inline(__always) func intDest(_ i: borrowing Instruction, mmx: Bool) -> V128 {
        mmx ? V128(lo: mmValue(i.reg), hi: 0) : xmmValue(i.reg)
    }

    /// Writes the destination (ModRM.reg).
    @inline(__always) func setIntDest(_ i: borrowing Instruction, mmx: Bool, _ v: V128) {
        if mmx { setMM(i.reg, v.lo) } else { setXMMValue(i.reg, v) }
    }

    /// Integer SIMD on XMM registers (66 prefix, a few F2/F3 forms) or MMX registers (no prefix).
    func sseInteger(_ i: Instruction, _ op: UInt8, _ pfx: Int) throws(Abort) {
        let mmx = pfx == 0
        switch (op, pfx) {
        case (0x6F, 3), (0x7F, 3), (0x70, 2), (0x70, 3), (0x7E, 3), (0xD6, 2), (0xD6, 3): break
        case (0x6C, 0), (0x6D, 0), (0xD6, 0): throw Abort.ud
        case (0x73, 0) where i.reg & 7 == 3 || i.reg & 7 == 7: throw Abort.ud
        default: if pfx > 1 { throw Abort.ud }
        }
        let w = mmx ? 8 : 16
        switch op {
        case 0x77:   // EMMS
            fpu.tagValid = 0
            return
        case 0x6F:   // MOVQ mm, mm/m64 / MOVDQA / MOVDQU
            setIntDest(i, mmx: mmx, try intSource(i, mmx: mmx, aligned: pfx == 1))
        case 0x7F:
            if mmx {
                if i.isMem { try writeMem(i.seg, effectiveAddress(i), 8, mmValue(i.reg)) } else { setMM(i.rm, mmValue(i.reg)) }
            } else {
                try writeXMMRM(i, xmmValue(i.reg), aligned: pfx == 1)
            }
        case 0xE7:   // MOVNTQ / MOVNTDQ
            guard i.isMem else { throw Abort.ud }
            if mmx { try writeMem(i.seg, effectiveAddress(i), 8, mmValue(i.reg)) } else { try writeXMMRM(i, xmmValue(i.reg), aligned: true) }
        case 0x6E:   // MOVD/MOVQ mm/xmm, r/m
            let s: UInt8 = i.flags & InstructionFlags.rexW != 0 ? 8 : 4
            setIntDest(i, mmx: mmx, V128(lo: try readRM(i, size: s), hi: 0))
        case 0x7E:
            if pfx == 3 {   // MOVQ xmm, xmm/m64
                setXMMValue(i.reg, V128(lo: try readXMMRMLow(i, 8), hi: 0))
            } else {        // MOVD/MOVQ r/m, mm/xmm
                let s: UInt8 = i.flags & InstructionFlags.rexW != 0 ? 8 : 4
                try writeRM(i, size: s, intDest(i, mmx: mmx).lane(0, Int(s)))
            }
        case 0xD6:
            switch pfx {
            case 1:   // MOVQ xmm/m64, xmm
                let v = xmmValue(i.reg).lo
                if i.isMem { try writeMem(i.seg, effectiveAddress(i), 8, v) } else { setXMMValue(i.rm, V128(lo: v, hi: 0)) }
            case 3:   // MOVQ2DQ xmm, mm
                guard !i.isMem else { throw Abort.ud }
                setXMMValue(i.reg, V128(lo: mmValue(i.rm), hi: 0))
            default:  // MOVDQ2Q mm, xmm
                guard !i.isMem else { throw Abort.ud }
                setMM(i.reg, xmmValue(i.rm).lo)
            }
        case 0xD7:   // PMOVMSKB
            guard !i.isMem else { throw Abort.ud }
            let x = mmx ? V128(lo: mmValue(i.rm), hi: 0) : xmmValue(i.rm)
            var m: UInt64 = 0
            for k in 0..<w where x.lane(k, 1) & 0x80 != 0 { m |= 1 << UInt64(k) }
            writeReg(i.reg, codeSize == 8 ? 8 : 4, m)
        case 0xC5:   // PEXTRW r32, mm/xmm, imm8
            guard !i.isMem else { throw Abort.ud }
            let x = mmx ? V128(lo: mmValue(i.rm), hi: 0) : xmmValue(i.rm)
            writeReg(i.reg, codeSize == 8 ? 8 : 4, x.lane(Int(i.imm & 7) & (w / 2 - 1), 2))
        case 0xC4:   // PINSRW mm/xmm, r32/m16, imm8
            let v = try readRM(i, size: 2)
            var x = intDest(i, mmx: mmx); x.setLane(Int(i.imm & 7) & (w / 2 - 1), 2, v); setIntDest(i, mmx: mmx, x)
        case 0x70:   // PSHUFW / PSHUFD / PSHUFHW / PSHUFLW
            let b = try intSource(i, mmx: mmx)
            let m = Int(i.imm & 0xFF)
            var r = b
            switch pfx {
            case 1: for k in 0..<4 { r.setLane(k, 4, b.lane(m >> (2 * k) & 3, 4)) }
            case 3: for k in 0..<4 { r.setLane(4 + k, 2, b.lane(4 + (m >> (2 * k) & 3), 2)) }
            default: for k in 0..<4 { r.setLane(k, 2, b.lane(m >> (2 * k) & 3, 2)) }
            }
            setIntDest(i, mmx: mmx, r)
        case 0x71, 0x72, 0x73:   // shift groups by imm8
            guard !i.isMem else { throw Abort.ud }
            let size = op == 0x71 ? 2 : (op == 0x72 ? 4 : 8)
            let x = mmx ? V128(lo: mmValue(i.rm), hi: 0) : xmmValue(i.rm)
            let n = i.imm & 0xFF
            let r: V128
            switch (op, i.reg & 7) {
            case (_, 2): r = shiftLanes(x, size, n, kind: 0, width: w)
            case (0x71, 4), (0x72, 4): r = shiftLanes(x, size, n, kind: 1, width: w)
            case (_, 6): r = shiftLanes(x, size, n, kind: 2, width: w)
            case (0x73, 3): r = byteShift(x, right: true, Int(min(n, 16)))
            case (0x73, 7): r = byteShift(x, right: false, Int(min(n, 16)))
            default: throw Abort.ud
            }
            if mmx { setMM(i.rm, r.lo) } else { setXMMValue(i.rm, r) }
        case 0xD1, 0xD2, 0xD3, 0xE1, 0xE2, 0xF1, 0xF2, 0xF3:   // shifts by mm/xmm/m
            let n = try intSource(i, mmx: mmx).lo
            let low = Int(op & 0xF)
            let size = low == 1 ? 2 : (low == 2 ? 4 : 8)
            let kind = op >> 4 == 0xD ? 0 : (op >> 4 == 0xE ? 1 : 2)
            setIntDest(i, mmx: mmx, shiftLanes(intDest(i, mmx: mmx), size, n, kind: kind, width: w))
        case 0xDB, 0xDF, 0xEB, 0xEF:
            let a = intDest(i, mmx: mmx), b = try intSource(i, mmx: mmx)
            switch op {
            case 0xDB: setIntDest(i, mmx: mmx, V128(lo: a.lo & b.lo, hi: a.hi & b.hi))
            case 0xDF: setIntDest(i, mmx: mmx, V128(lo: ~a.lo & b.lo, hi: ~a.hi & b.hi))
            case 0xEB: setIntDest(i, mmx: mmx, V128(lo: a.lo | b.lo, hi: a.hi | b.hi))
            default: setIntDest(i, mmx: mmx, V128(lo: a.lo ^ b.lo, hi: a.hi ^ b.hi))
            }
        case 0x60...0x6D:   // unpacks, packs, PCMPGT
            let a = intDest(i, mmx: mmx), b = try intSource(i, mmx: mmx)
            var r = V128(lo: 0, hi: 0)
            switch op {
            case 0x60, 0x61, 0x62, 0x6C, 0x68, 0x69, 0x6A, 0x6D:
                let size = op == 0x6C || op == 0x6D ? 8 : 1 << Int(op & 3)
                let n = w / size / 2
                let base = (op >= 0x68 && op <= 0x6A) || op == 0x6D ? n : 0
                for k in 0..<n {
                    r.setLane(2 * k, size, a.lane(base + k, size))
                    r.setLane(2 * k + 1, size, b.lane(base + k, size))
                }
            case 0x63, 0x67, 0x6B:   // PACKSSWB, PACKUSWB, PACKSSDW
                let src = op == 0x6B ? 4 : 2
                let n = w / src
                for k in 0..<n {
                    r.setLane(k, src / 2, saturate(sext(a.lane(k, src), src), src / 2, unsigned: op == 0x67))
                    r.setLane(n + k, src / 2, saturate(sext(b.lane(k, src), src), src / 2, unsigned: op == 0x67))
                }
            default:                 // PCMPGTB/W/D
                let size = 1 << Int(op - 0x64)
                for k in 0..<(w / size) { r.setLane(k, size, laneOp(op, a.lane(k, size), b.lane(k, size), size)) }
            }
            setIntDest(i, mmx: mmx, r)
        case 0xF4:   // PMULUDQ
            let a = intDest(i, mmx: mmx), b = try intSource(i, mmx: mmx)
            setIntDest(i, mmx: mmx, V128(lo: (a.lo & 0xFFFF_FFFF) &* (b.lo & 0xFFFF_FFFF), hi: (a.hi & 0xFFFF_FFFF) &* (b.hi & 0xFFFF_FFFF)))
        case 0xF5:   // PMADDWD
            let a = intDest(i, mmx: mmx), b = try intSource(i, mmx: mmx)
            var r = V128(lo: 0, hi: 0)
            for k in 0..<(w / 4) {
                let s = sext(a.lane(2 * k, 2), 2) &* sext(b.lane(2 * k, 2), 2) &+ sext(a.lane(2 * k + 1, 2), 2) &* sext(b.lane(2 * k + 1, 2), 2)
                r.setLane(k, 4, UInt64(bitPattern: s) & 0xFFFF_FFFF)
            }
            setIntDest(i, mmx: mmx, r)
        case 0xF6:   // PSADBW
            let a = intDest(i, mmx: mmx), b = try intSource(i, mmx: mmx)
            var r = V128(lo: 0, hi: 0)
            for h in 0..<(w / 8) {
                var s: UInt64 = 0
                for k in 0..<8 { let x = a.lane(8 * h + k, 1), y = b.lane(8 * h + k, 1); s += x > y ? x - y : y - x }
                r.setLane(h, 8, s)
            }
            setIntDest(i, mmx: mmx, r)
        case 0xF7:   // MASKMOVQ / MASKMOVDQU: byte stores to DS:rDI
            guard !i.isMem else { throw Abort.ud }
            let v = intDest(i, mmx: mmx)
            let m = mmx ? V128(lo: mmValue(i.rm), hi: 0) : xmmValue(i.rm)
            var base = gpr[Reg.rdi]
            if i.addrSize == 4 { base &= 0xFFFF_FFFF } else if i.addrSize == 2 { base &= 0xFFFF }
            let s: UInt8 = i.flags & InstructionFlags.segOverride != 0 ? i.seg : 3
            for k in 0..<w where m.lane(k, 1) & 0x80 != 0 { try probeWrite(s, base &+ UInt64(k), 1) }
            for k in 0..<w where m.lane(k, 1) & 0x80 != 0 { try writeMem(s, base &+ UInt64(k), 1, v.lane(k, 1)) }
        default:
            let size: Int
            switch op {
            case 0xFC, 0xF8, 0xEC, 0xE8, 0xDC, 0xD8, 0x74, 0xDA, 0xDE, 0xE0: size = 1
            case 0xFD, 0xF9, 0xED, 0xE9, 0xDD, 0xD9, 0x75, 0xEA, 0xEE, 0xE3, 0xD5, 0xE5, 0xE4: size = 2
            case 0xFE, 0xFA, 0x76: size = 4
            case 0xD4, 0xFB: size = 8
            default: throw Abort.ud
            }
            let a = intDest(i, mmx: mmx), b = try intSource(i, mmx: mmx)
            var r = V128(lo: 0, hi: 0)
            for k in 0..<(w / size) { r.setLane(k, size, laneOp(op, a.lane(k, size), b.lane(k, size), size)) }
            setIntDest(i, mmx: mmx, r)
        }
        if mmx || (op == 0xD6 && pfx >= 2) { enterMMXState() }
    }

    /// Shifts each lane: kind 0 logical right, 1 arithmetic right, 2 left.
    private func shiftLanes(_ x: V128, _ size: Int, _ n: UInt64, kind: Int, width: Int) -> V128 {
        let bits = UInt64(size * 8)
        var r = V128(lo: 0, hi: 0)
        for k in 0..<(width / size) {
            let v = x.lane(k, size)
            let out: UInt64
            switch kind {
            case 0: out = n >= bits ? 0 : v >> n
            case 1: out = UInt64(bitPattern: sext(v, size) >> Int64(min(n, bits - 1)))
            default: out = n >= bits ? 0 : v << n
            }
            r.setLane(k, size, out)
        }
        return r
    }

    /// PSRLDQ / PSLLDQ by `n` bytes (0–16).
    func byteShift(_ x: V128, right: Bool, _ n: Int) -> V128 {
        var r = V128(lo: 0, hi: 0)
        for k in 0..<16 {
            let src = right ? k + n : k - n
            if src >= 0 && src < 16 { r.setLane(k, 1, x.lane(src, 1)) }
        }
        return r
    }
}
