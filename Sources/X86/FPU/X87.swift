// The x87 FPU (SDM Vol. 1 chapter 8, Vol. 2 F-instructions): the register stack with tags, loads and
// stores of every memory format (32/64/80-bit real, 16/32/64-bit integer, 18-digit BCD), arithmetic with
// precision and rounding control through SoftFloat, compares (FCOM, FUCOM, FCOMI, FUCOMI), control
// and environment instructions (FLDCW, FNSTSW, FNSTENV/FLDENV, FNSAVE/FRSTOR in all four layouts),
// exceptions with masked responses and deferred #MF for unmasked ones.
//
// The transcendental instructions (F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS) evaluate in
// double-word extended precision on x86-64 hosts (`TranscendentalMath`; binary64 libm elsewhere) and round
// once: within 0.54 ulp of mpmath on the accuracy table (scripts/x87-accuracy), and their special cases
// and flags match the host processor bit for bit (Tests/X86Tests/FPUTranscendentalTests.swift).
//
// Simplifications: an unmasked overflow/underflow leaves the destination unchanged (the processor stores
// a biased result); C1 is not set on round-up; FOP is recorded with mod = 0 for memory forms; outside
// the SDM's domains (F2XM1 |x| > 1, FYL2XP1 |x| ≥ 1 − √2/2) results are undefined: F2XM1 leaves x
// unchanged as the processor does, FYL2XP1 computes the function.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif canImport(Musl)
import Musl
#endif

/// x87 status word bits (SDM Vol. 1 §8.1.3).
enum FSW {
    /// Stack fault.
    static let sf: UInt16 = 0x40
    /// Exception summary.
    static let es: UInt16 = 0x80
    /// Condition codes.
    static let c0: UInt16 = 0x100
    static let c1: UInt16 = 0x200
    static let c2: UInt16 = 0x400
    static let c3: UInt16 = 0x4000
    /// FPU busy (mirrors ES).
    static let b: UInt16 = 0x8000
}

extension CPU {
    // MARK: Stack and environment

    /// The environment of an arithmetic instruction: FCW rounding control.
    @inline(__always) func x87Env() -> FPEnv {
        var e = FPEnv()
        e.rounding = FPRounding(rawValue: UInt8((fpu.fcw >> 10) & 3)) ?? .nearest
        return e
    }

    /// The format arithmetic rounds to: FCW precision control (SDM Vol. 1 §8.1.5.2).
    @inline(__always) var x87Precision: FPFormat {
        switch (fpu.fcw >> 8) & 3 {
        case 0: return .extended(precision: 24)
        case 2: return .extended(precision: 53)
        default: return .extended
        }
    }

    /// Whether ST(i) is empty.
    @inline(__always) func stEmpty(_ i: Int) -> Bool { fpu.tagValid & (1 << fpu.phys(i)) == 0 }

    /// ST(i) unpacked (DE for denormals goes to `e`); the caller checks emptiness first.
    @inline(__always) func stValue(_ i: Int, _ e: inout FPEnv) -> FPValue {
        let r = fpu.phys(i)
        return FPValue.unpack80(sig: fpu.stSig[r], se: fpu.stSE[r], &e)
    }

    /// Writes ST(i) and marks it valid.
    @inline(__always) func setST(_ i: Int, _ v: FPValue) {
        let r = fpu.phys(i)
        let b = v.bits80
        fpu.stSig[r] = b.sig; fpu.stSE[r] = b.se
        fpu.tagValid |= 1 << r
    }

    /// Decrements TOP and writes the new ST(0).
    func x87Push(_ v: FPValue) {
        fpu.fsw = (fpu.fsw & ~0x3800) | UInt16((fpu.top &- 1) & 7) << 11
        setST(0, v)
    }

    /// Marks ST(0) empty and increments TOP.
    func x87Pop() {
        fpu.tagValid &= ~(1 << fpu.phys(0))
        fpu.fsw = (fpu.fsw & ~0x3800) | UInt16((fpu.top &+ 1) & 7) << 11
    }

    /// Merges exception flags into FSW. Returns whether the result may be stored: false when an exception
    /// is unmasked (then ES and B are set, and #MF follows at the next waiting instruction).
    @discardableResult
    func x87Commit(_ flags: UInt8, stackFault: Bool = false, c1: Bool = false) -> Bool {
        // An invalid operation outranks a denormal operand (SDM Vol. 1 §4.9.2): with IE, DE is not reported (FSQRT of
        // a negative denormal sets IE alone on the host processor).
        let flags = flags & FPFlag.invalid != 0 ? flags & ~FPFlag.denormal : flags
        var f = UInt16(flags)
        if stackFault { f |= FSW.sf | UInt16(FPFlag.invalid) }
        fpu.fsw |= f
        if stackFault { if c1 { fpu.fsw |= FSW.c1 } else { fpu.fsw &= ~FSW.c1 } }
        if UInt16(flags) & ~fpu.fcw & 0x3F != 0 || (stackFault && fpu.fcw & 1 == 0) {
            fpu.fsw |= FSW.es | FSW.b
            return false
        }
        return true
    }

    /// Sets C3, C2, C0 (and clears C1).
    @inline(__always) func setConditionCodes(c3: Bool, c2: Bool, c0: Bool) {
        fpu.fsw &= ~(FSW.c0 | FSW.c1 | FSW.c2 | FSW.c3)
        if c3 { fpu.fsw |= FSW.c3 }
        if c2 { fpu.fsw |= FSW.c2 }
        if c0 { fpu.fsw |= FSW.c0 }
    }

    // MARK: Dispatch

    /// x87 escape opcodes D8–DF.
    func execX87(_ i: borrowing Instruction) throws(Abort) {
        if cr0Value & (CR0.em.rawValue | CR0.ts.rawValue) != 0 { throw Abort.nm }
        let esc = Int(i.sub & 7)
        let reg = Int(i.reg & 7)
        // Non-waiting control instructions do not check for pending exceptions and leave FIP/FDP alone.
        let control: Bool
        if i.isMem {
            control = (esc == 1 && reg >= 4) || (esc == 5 && (reg == 4 || reg == 6 || reg == 7))
        } else {
            control = (esc == 3 && reg == 4) || (esc == 7 && reg == 4)
        }
        if !control {
            try checkPendingX87()
        }
        if i.isMem {
            try x87Memory(i, esc, reg)
        } else {
            try x87Register(i, esc, reg, Int(i.rm & 7))
        }
        if !control {
            recordX87Pointers(dataSegment: i.seg, dataOffset: i.isMem ? effectiveAddress(i) : nil)
            if fpu.fsw & FSW.es != 0 && fpu.fop == 0 {
                fpu.fop = UInt16(esc) << 8 | UInt16(reg) << 3 | (i.isMem ? UInt16(i.rm & 7) : 0xC0 | UInt16(i.rm & 7))
            }
        }
    }

    /// Records the last x87 instruction's address (FIP, FCS) and, for a memory operand, the operand's
    /// (FDP, FDS).
    @inline(__always)
    func recordX87Pointers(dataSegment: UInt8, dataOffset: UInt64?) {
        fpu.fip = startRIP
        fpu.fcs = seg[Seg.cs].selector
        if let offset = dataOffset { fpu.fdp = offset; fpu.fds = seg[Int(dataSegment)].selector }
    }

    // MARK: Arithmetic core

    /// reg: 0 FADD, 1 FMUL, 4 ST0−src, 5 src−ST0, 6 ST0÷src, 7 src÷ST0; result to ST(dest).
    func x87Arith(_ reg: Int, _ a: FPValue, _ b: FPValue, dest: Int, _ e: inout FPEnv) -> FPValue {
        let fmt = x87Precision
        switch reg {
        case 0: return SoftFloat.add(a, b, fmt, x87: true, &e)
        case 1: return SoftFloat.mul(a, b, fmt, x87: true, &e)
        case 4: return SoftFloat.add(a, b, negateB: true, fmt, x87: true, &e)
        case 5: return SoftFloat.add(b, a, negateB: true, fmt, x87: true, &e)
        case 6: return SoftFloat.div(a, b, fmt, x87: true, &e)
        default: return SoftFloat.div(b, a, fmt, x87: true, &e)
        }
    }

    /// FCOM-family compare of ST(0) with `b`: C3 C2 C0 (or ZF PF CF for FCOMI when `eflags`).
    func x87Compare(_ b: FPValue?, signaling: Bool, eflags: Bool, pops: Int, srcFlags: UInt8 = 0) {
        var e = x87Env()
        e.flags = srcFlags
        var c = 2
        var fault = false
        if stEmpty(0) || b == nil {
            fault = true
        } else if let b {
            c = SoftFloat.compare(stValue(0, &e), b, signaling: signaling, &e)
            if e.flags & FPFlag.invalid != 0 { e.flags &= ~FPFlag.denormal }
        }
        if !x87Commit(e.flags, stackFault: fault) { return }
        if eflags {
            var fl = materializedFlags() & ~RFLAGS.status.rawValue
            switch c {
            case 2: fl |= RFLAGS.zf.rawValue | RFLAGS.pf.rawValue | RFLAGS.cf.rawValue
            case -1: fl |= RFLAGS.cf.rawValue
            case 0: fl |= RFLAGS.zf.rawValue
            default: break
            }
            flagsBase = fl
            lazy.op = .none
            fpu.fsw &= ~FSW.c1
        } else {
            setConditionCodes(c3: c == 0 || c == 2, c2: c == 2, c0: c == -1 || c == 2)
        }
        for _ in 0..<pops { x87Pop() }
    }

    /// Binary arithmetic with ST(0) and `b` (nil: the source register was empty), result to ST(dest).
    func x87BinaryOp(_ reg: Int, _ b: FPValue?, dest: Int, pop: Bool, srcFlags: UInt8 = 0) {
        var e = x87Env()
        e.flags = srcFlags
        if stEmpty(0) || b == nil || stEmpty(dest) {
            if x87Commit(0, stackFault: true) { setST(dest, .defaultNaN); if pop { x87Pop() } }
            return
        }
        guard let b else { return }
        let a = stValue(0, &e)
        let r = x87Arith(reg, a, b, dest: dest, &e)
        if e.flags & (FPFlag.invalid | FPFlag.divideByZero) != 0 || a.isNaN || b.isNaN { e.flags &= ~FPFlag.denormal }
        if x87Commit(e.flags) { setST(dest, r); if pop { x87Pop() } }
    }

    // MARK: Memory forms

    func x87Memory(_ i: borrowing Instruction, _ esc: Int, _ reg: Int) throws(Abort) {
        let off = effectiveAddress(i)
        let s = i.seg
        switch (esc, reg) {
        case (0, _), (2, _), (4, _), (6, _):
            // Arithmetic and compare with m32fp, m32int, m64fp, m16int.
            var e = x87Env()
            let b: FPValue
            switch esc {
            case 0: b = FPValue.unpack32(UInt32(truncatingIfNeeded: try readMem(s, off, 4)), &e)
            case 4: b = FPValue.unpack64(try readMem(s, off, 8), &e)
            case 2: b = FPValue.unpackInt(Int64(Int32(truncatingIfNeeded: try readMem(s, off, 4))))
            default: b = FPValue.unpackInt(Int64(Int16(truncatingIfNeeded: try readMem(s, off, 2))))
            }
            fpu.fsw |= UInt16(e.flags) & ~fpu.fcw & 0x3F != 0 ? 0 : 0   // denormal operand flag merged below
            if reg == 2 || reg == 3 {
                x87CompareWithFlags(b, e.flags, pops: reg == 3 ? 1 : 0)
            } else {
                x87BinaryOpWithFlags(reg, b, e.flags)
            }
        case (1, 0), (5, 0), (3, 5), (3, 0), (7, 0), (7, 5), (7, 4):
            // FLD m32fp / m64fp / m80fp, FILD m32int / m16int / m64int, FBLD.
            var e = x87Env()
            var v: FPValue
            switch (esc, reg) {
            case (1, 0): v = SoftFloat.round(FPValue.unpack32(UInt32(truncatingIfNeeded: try readMem(s, off, 4)), &e), .extended, &e)
            case (5, 0): v = SoftFloat.round(FPValue.unpack64(try readMem(s, off, 8), &e), .extended, &e)
            case (3, 5):
                let lo = try readMem(s, off, 8), hi = try readMem(s, off &+ 8, 2)
                var scratch = FPEnv()
                v = FPValue.unpack80(sig: lo, se: UInt16(truncatingIfNeeded: hi), &scratch)
                if v.cls == .unsupported || v.isNaN || (hi & 0x7FFF == 0 && lo != 0) {
                    // Loaded bit for bit.
                    v = FPValue(sign: hi & 0x8000 != 0, cls: .quietNaN, exp: 0, sig: lo)
                    try x87PushRaw(sig: lo, se: UInt16(truncatingIfNeeded: hi))
                    return
                }
            case (3, 0): v = FPValue.unpackInt(Int64(Int32(truncatingIfNeeded: try readMem(s, off, 4))))
            case (7, 0): v = FPValue.unpackInt(Int64(Int16(truncatingIfNeeded: try readMem(s, off, 2))))
            case (7, 5): v = FPValue.unpackInt(Int64(bitPattern: try readMem(s, off, 8)))
            default:
                let lo = try readMem(s, off, 8), hi = try readMem(s, off &+ 8, 2)
                var n: Int64 = 0
                for k in stride(from: 15, through: 0, by: -1) { n = n * 10 + Int64((lo >> UInt64(4 * k)) & 0xF) % 10 }
                for k in stride(from: 1, through: 0, by: -1) { n = n &+ 0 ; _ = k }
                let top = Int64(hi & 0xFF)
                n = (top >> 4 & 0xF) * 100_000_000_000_000_000 + (top & 0xF) * 10_000_000_000_000_000 + n
                v = FPValue.unpackInt(n)
                if hi & 0x8000 != 0 { v.sign = true }
            }
            if !stEmpty(7) {
                if x87Commit(0, stackFault: true, c1: true) { x87Push(.defaultNaN) }
                return
            }
            if x87Commit(e.flags) { x87Push(v) }
        case (1, 2), (1, 3), (5, 2), (5, 3), (3, 7):
            // FST(P) m32fp / m64fp, FSTP m80fp.
            var e = x87Env()
            let empty = stEmpty(0)
            let v = empty ? FPValue.defaultNaN : stValue(0, &e)
            e.flags &= ~FPFlag.denormal
            let size: UInt8
            let bits: UInt64
            var high: UInt64 = 0
            switch esc {
            case 1: size = 4; bits = UInt64(SoftFloat.round(v, .single, &e).bits32)
            case 5: size = 8; bits = SoftFloat.round(v, .double, &e).bits64
            default:
                size = 10
                let r = fpu.phys(0)
                bits = empty ? 0xC000_0000_0000_0000 : fpu.stSig[r]
                high = empty ? 0xFFFF : UInt64(fpu.stSE[r])
                e.flags = 0
            }
            if empty ? (fpu.fcw & 1 == 0) : (UInt16(e.flags) & ~fpu.fcw & 0x3F != 0) {
                x87Commit(e.flags, stackFault: empty)
                return
            }
            if size == 10 {
                try probeWrite(s, off, 10)
                try writeMem(s, off, 8, bits); try writeMem(s, off &+ 8, 2, high)
            } else {
                try writeMem(s, off, size, bits)
            }
            x87Commit(e.flags, stackFault: empty)
            if reg == 3 || esc == 3 { x87Pop() }
        case (3, 1), (3, 2), (3, 3), (7, 1), (7, 2), (7, 3), (7, 7), (5, 1):
            // FIST(P), FISTTP to m16/m32/m64.
            var e = x87Env()
            let empty = stEmpty(0)
            let bits: Int
            switch esc { case 3: bits = 32; case 5: bits = 64; default: bits = reg == 7 ? 64 : 16 }
            let rc: FPRounding = reg == 1 ? .zero : e.rounding
            let n = empty ? Int64.min >> Int64(64 - bits) : SoftFloat.toInt(stValue(0, &e), bits: bits, rc, &e)
            e.flags &= ~FPFlag.denormal
            if empty ? (fpu.fcw & 1 == 0) : (UInt16(e.flags) & ~fpu.fcw & 0x3F != 0) {
                x87Commit(e.flags, stackFault: empty)
                return
            }
            try writeMem(s, off, UInt8(bits / 8), UInt64(bitPattern: n))
            x87Commit(e.flags, stackFault: empty)
            if reg != 2 { x87Pop() }
        case (7, 6):
            // FBSTP m80bcd.
            var e = x87Env()
            let empty = stEmpty(0)
            var lo: UInt64 = 0, hi: UInt64 = 0
            var invalid = empty
            if !empty {
                let v = stValue(0, &e)
                let n = SoftFloat.toInt(v, bits: 64, e.rounding, &e)
                let mag = n < 0 ? UInt64(bitPattern: 0 &- n) : UInt64(bitPattern: n)
                if e.flags & FPFlag.invalid != 0 || mag > 999_999_999_999_999_999 {
                    invalid = true
                    e.flags |= FPFlag.invalid
                } else {
                    var m = mag
                    for k in 0..<16 { lo |= (m % 10) << UInt64(4 * k); m /= 10 }
                    hi = (m % 10) | ((m / 10) % 10) << 4
                    if v.sign { hi |= 0x8000 }
                }
            }
            if invalid { lo = 0xC000_0000_0000_0000; hi = 0xFFFF }
            if invalid && fpu.fcw & 1 == 0 { x87Commit(e.flags, stackFault: empty); return }
            try probeWrite(s, off, 10)
            try writeMem(s, off, 8, lo); try writeMem(s, off &+ 8, 2, hi)
            x87Commit(e.flags, stackFault: empty)
            x87Pop()
        case (1, 5):   // FLDCW
            let v = UInt16(truncatingIfNeeded: try readMem(s, off, 2))
            fpu.fcw = v
            x87RecomputeES()
        case (1, 7):   // FNSTCW
            try writeMem(s, off, 2, UInt64(fpu.fcw))
        case (5, 7):   // FNSTSW m16
            try writeMem(s, off, 2, UInt64(fpu.fsw))
        case (1, 6), (5, 6):   // FNSTENV, FNSAVE
            try x87StoreEnvironment(i, off, withRegisters: esc == 5)
            if esc == 5 { fpu.initX87() } else { fpu.fcw |= 0x3F }
        case (1, 4), (5, 4):   // FLDENV, FRSTOR
            try x87LoadEnvironment(i, off, withRegisters: esc == 5)
        default:
            throw Abort.ud
        }
    }

    /// Pushes an 80-bit encoding bit for bit (FLD m80fp of a NaN, unsupported or denormal encoding).
    private func x87PushRaw(sig: UInt64, se: UInt16) throws(Abort) {
        var e = FPEnv()
        let v = FPValue.unpack80(sig: sig, se: se, &e)
        if !stEmpty(7) {
            if x87Commit(0, stackFault: true, c1: true) { x87Push(.defaultNaN) }
            return
        }
        // No DE: loading an 80-bit or register operand never signals a denormal (SDM Vol. 2A FLD).
        fpu.fsw = (fpu.fsw & ~0x3800) | UInt16((fpu.top &- 1) & 7) << 11
        let r = fpu.phys(0)
        fpu.stSig[r] = sig; fpu.stSE[r] = se
        fpu.tagValid |= 1 << r
        _ = v
    }

    /// Memory-operand compare with the operand's load flags (denormal) merged.
    private func x87CompareWithFlags(_ b: FPValue, _ loadFlags: UInt8, pops: Int) {
        var e = x87Env()
        e.flags = loadFlags
        if stEmpty(0) {
            if x87Commit(0, stackFault: true) { setConditionCodes(c3: true, c2: true, c0: true); for _ in 0..<pops { x87Pop() } }
            return
        }
        let c = SoftFloat.compare(stValue(0, &e), b, signaling: true, &e)
        if !x87Commit(e.flags) { return }
        setConditionCodes(c3: c == 0 || c == 2, c2: c == 2, c0: c == -1 || c == 2)
        for _ in 0..<pops { x87Pop() }
    }

    /// Memory-operand arithmetic (result to ST(0)) with the operand's load flags merged.
    private func x87BinaryOpWithFlags(_ reg: Int, _ b: FPValue, _ loadFlags: UInt8) {
        var e = x87Env()
        e.flags = loadFlags
        if stEmpty(0) {
            if x87Commit(0, stackFault: true) { setST(0, .defaultNaN) }
            return
        }
        let a = stValue(0, &e)
        let r = x87Arith(reg, a, b, dest: 0, &e)
        if e.flags & (FPFlag.invalid | FPFlag.divideByZero) != 0 || a.isNaN || b.isNaN { e.flags &= ~FPFlag.denormal }
        if x87Commit(e.flags) { setST(0, r) }
    }

    /// Sets or clears ES and B from the unmasked exception flags (after FLDCW, FLDENV, FRSTOR).
    func x87RecomputeES() {
        if fpu.fsw & ~fpu.fcw & 0x3F != 0 { fpu.fsw |= FSW.es | FSW.b } else { fpu.fsw &= ~(FSW.es | FSW.b) }
    }

    // MARK: Environment images

    /// Whether the environment uses the real-mode layout.
    private var x87RealLayout: Bool { mode == .real || mode == .virtual8086 }

    /// FNSTENV / FNSAVE: 14/28-byte environment (16/32-bit operand size, real or protected layout),
    /// then for FNSAVE the eight registers ST(0)–ST(7) (SDM Vol. 1 §8.1.10, Figures 8-9 to 8-12).
    func x87StoreEnvironment(_ i: borrowing Instruction, _ off: UInt64, withRegisters: Bool) throws(Abort) {
        let s = i.seg
        let wide = i.opSize != 2
        let envSize: UInt64 = wide ? 28 : 14
        try probeWrite(s, off, Int(envSize) + (withRegisters ? 80 : 0))
        let unit: UInt64 = wide ? 4 : 2
        let tag = UInt64(fpu.fullTagWord)
        var words: [UInt64]
        let fip = fpu.fip, fdp = fpu.fdp, fop = UInt64(fpu.fop & 0x7FF)
        if x87RealLayout {
            if wide {
                words = [UInt64(fpu.fcw), UInt64(fpu.fsw), tag, fip & 0xFFFF, (fip >> 16 & 0xFFFF) << 12 | fop,
                         fdp & 0xFFFF, (fdp >> 16 & 0xFFFF) << 12]
            } else {
                words = [UInt64(fpu.fcw), UInt64(fpu.fsw), tag, fip & 0xFFFF, (fip >> 16 & 0xF) << 12 | fop,
                         fdp & 0xFFFF, (fdp >> 16 & 0xF) << 12]
            }
        } else {
            if wide {
                words = [UInt64(fpu.fcw), UInt64(fpu.fsw), tag, fip & 0xFFFF_FFFF, UInt64(fpu.fcs) | fop << 16,
                         fdp & 0xFFFF_FFFF, UInt64(fpu.fds)]
            } else {
                words = [UInt64(fpu.fcw), UInt64(fpu.fsw), tag, fip & 0xFFFF, UInt64(fpu.fcs), fdp & 0xFFFF, UInt64(fpu.fds)]
            }
        }
        for (k, w) in words.enumerated() { try writeMem(s, off &+ UInt64(k) &* unit, UInt8(unit), w) }
        if withRegisters {
            for st in 0..<8 {
                let r = fpu.phys(st)
                let a = off &+ envSize &+ UInt64(10 * st)
                try writeMem(s, a, 8, fpu.stSig[r])
                try writeMem(s, a &+ 8, 2, UInt64(fpu.stSE[r]))
            }
        }
    }

    /// FLDENV / FRSTOR: the inverse of `x87StoreEnvironment`; every byte is read before any state changes.
    func x87LoadEnvironment(_ i: borrowing Instruction, _ off: UInt64, withRegisters: Bool) throws(Abort) {
        let s = i.seg
        let wide = i.opSize != 2
        let envSize: UInt64 = wide ? 28 : 14
        let unit: UInt64 = wide ? 4 : 2
        var w = [UInt64](repeating: 0, count: 7)
        for k in 0..<7 { w[k] = try readMem(s, off &+ UInt64(k) &* unit, UInt8(unit)) }
        var regs = [(UInt64, UInt16)](repeating: (0, 0), count: 8)
        if withRegisters {
            for st in 0..<8 {
                let a = off &+ envSize &+ UInt64(10 * st)
                regs[st] = (try readMem(s, a, 8), UInt16(truncatingIfNeeded: try readMem(s, a &+ 8, 2)))
            }
        }
        fpu.fcw = UInt16(truncatingIfNeeded: w[0])
        fpu.fsw = UInt16(truncatingIfNeeded: w[1])
        let tag = UInt16(truncatingIfNeeded: w[2])
        fpu.tagValid = 0
        for r in 0..<8 where (tag >> UInt16(2 * r)) & 3 != 3 { fpu.tagValid |= 1 << r }
        if x87RealLayout {
            fpu.fip = (w[3] & 0xFFFF) | (w[4] >> 12) << 16
            fpu.fop = UInt16(truncatingIfNeeded: w[4] & 0x7FF)
            fpu.fdp = (w[5] & 0xFFFF) | (w[6] >> 12) << 16
        } else {
            fpu.fip = w[3]; fpu.fcs = UInt16(truncatingIfNeeded: w[4])
            fpu.fop = wide ? UInt16(truncatingIfNeeded: (w[4] >> 16) & 0x7FF) : 0
            fpu.fdp = w[5]; fpu.fds = UInt16(truncatingIfNeeded: w[6])
        }
        if withRegisters {
            for st in 0..<8 {
                let r = fpu.phys(st)
                fpu.stSig[r] = regs[st].0; fpu.stSE[r] = regs[st].1
            }
        }
        x87RecomputeES()
    }

    // MARK: Register forms

    func x87Register(_ i: borrowing Instruction, _ esc: Int, _ reg: Int, _ sti: Int) throws(Abort) {
        switch (esc, reg) {
        case (0, 2), (0, 3), (4, 2), (4, 3), (6, 2):   // FCOM/FCOMP ST(i) (and aliases)
            var e = FPEnv()
            x87Compare(stEmpty(sti) ? nil : stValue(sti, &e), signaling: true, eflags: false, pops: reg == 3 || esc == 6 ? 1 : 0, srcFlags: e.flags)
        case (0, _):   // ST(0) = ST(0) op ST(i)
            var e = FPEnv()
            x87BinaryOp(reg, stEmpty(sti) ? nil : stValue(sti, &e), dest: 0, pop: false, srcFlags: e.flags)
        case (4, _), (6, _):   // ST(i) = ST(i) op ST(0) [and pop]
            if esc == 6 && reg == 3 {   // FCOMPP
                guard sti == 1 else { throw Abort.ud }
                var e = FPEnv()
                x87Compare(stEmpty(1) ? nil : stValue(1, &e), signaling: true, eflags: false, pops: 2, srcFlags: e.flags)
                return
            }
            var e = FPEnv()
            x87BinaryOp(reg, stEmpty(sti) ? nil : stValue(sti, &e), dest: sti, pop: esc == 6, srcFlags: e.flags)
        case (1, 0):   // FLD ST(i)
            if !stEmpty(7) { if x87Commit(0, stackFault: true, c1: true) { x87Push(.defaultNaN) }; return }
            if stEmpty(sti) { if x87Commit(0, stackFault: true) { x87Push(.defaultNaN) }; return }
            let r = fpu.phys(sti)
            let sig = fpu.stSig[r], se = fpu.stSE[r]
            try x87PushRaw(sig: sig, se: se)
        case (1, 1), (5, 1), (7, 1):   // FXCH
            if stEmpty(0) || stEmpty(sti) {
                if !x87Commit(0, stackFault: true) { return }
                if stEmpty(0) { setST(0, .defaultNaN) }
                if stEmpty(sti) { setST(sti, .defaultNaN) }
            }
            let a = fpu.phys(0), b = fpu.phys(sti)
            let ts = fpu.stSig[a], te = fpu.stSE[a]
            fpu.stSig[a] = fpu.stSig[b]; fpu.stSE[a] = fpu.stSE[b]
            fpu.stSig[b] = ts; fpu.stSE[b] = te
            fpu.fsw &= ~FSW.c1
        case (1, 2):   // FNOP
            guard sti == 0 else { throw Abort.ud }
        case (1, 3), (5, 2), (5, 3), (7, 2), (7, 3):   // FST(P) ST(i)
            if stEmpty(0) {
                if !x87Commit(0, stackFault: true) { return }
                setST(sti, .defaultNaN)
            } else {
                let a = fpu.phys(0), b = fpu.phys(sti)
                fpu.stSig[b] = fpu.stSig[a]; fpu.stSE[b] = fpu.stSE[a]
                fpu.tagValid |= 1 << b
            }
            if reg == 3 || esc == 7 || (esc == 1) { x87Pop() }
        case (1, 4):
            try x87Group4(sti)
        case (1, 5):   // constants
            try x87LoadConstant(sti)
        case (1, 6), (1, 7):
            try x87Group67(reg, sti)
        case (2, 0), (2, 1), (2, 2), (2, 3), (3, 0), (3, 1), (3, 2), (3, 3):   // FCMOVcc
            let f = materializedFlags()
            let cf = f & RFLAGS.cf.rawValue != 0, zf = f & RFLAGS.zf.rawValue != 0, pf = f & RFLAGS.pf.rawValue != 0
            var cond: Bool
            switch reg { case 0: cond = cf; case 1: cond = zf; case 2: cond = cf || zf; default: cond = pf }
            if esc == 3 { cond.toggle() }
            if stEmpty(0) || stEmpty(sti) {
                if x87Commit(0, stackFault: true) { setST(0, .defaultNaN) }
                return
            }
            fpu.fsw &= ~FSW.c1
            if cond {
                let a = fpu.phys(0), b = fpu.phys(sti)
                fpu.stSig[a] = fpu.stSig[b]; fpu.stSE[a] = fpu.stSE[b]
            }
        case (2, 5):   // FUCOMPP
            guard sti == 1 else { throw Abort.ud }
            var e = FPEnv()
            x87Compare(stEmpty(1) ? nil : stValue(1, &e), signaling: false, eflags: false, pops: 2, srcFlags: e.flags)
        case (3, 4):
            switch sti {
            case 0, 1, 4: break                       // FENI, FDISI, FSETPM: no-ops
            case 2: fpu.fsw &= ~(0x3F | FSW.sf | FSW.es | FSW.b)   // FNCLEX
            case 3: fpu.initX87()                     // FNINIT
            default: throw Abort.ud
            }
        case (3, 5), (3, 6), (7, 5), (7, 6):   // FUCOMI, FCOMI (and P forms)
            var e = FPEnv()
            x87Compare(stEmpty(sti) ? nil : stValue(sti, &e), signaling: reg == 6, eflags: true, pops: esc == 7 ? 1 : 0, srcFlags: e.flags)
        case (5, 0):   // FFREE
            fpu.tagValid &= ~(1 << fpu.phys(sti))
        case (5, 4), (5, 5):   // FUCOM, FUCOMP
            var e = FPEnv()
            x87Compare(stEmpty(sti) ? nil : stValue(sti, &e), signaling: false, eflags: false, pops: reg == 5 ? 1 : 0, srcFlags: e.flags)
        case (7, 0):   // FFREEP
            fpu.tagValid &= ~(1 << fpu.phys(sti))
            x87Pop()
        case (7, 4):   // FNSTSW AX
            guard sti == 0 else { throw Abort.ud }
            writeReg(0, 2, UInt64(fpu.fsw))
        default:
            throw Abort.ud
        }
    }

    /// D9 E0–E7: FCHS, FABS, FTST, FXAM.
    private func x87Group4(_ sti: Int) throws(Abort) {
        switch sti {
        case 0, 1:
            if stEmpty(0) { if x87Commit(0, stackFault: true) { setST(0, .defaultNaN) }; return }
            let r = fpu.phys(0)
            fpu.stSE[r] = sti == 0 ? fpu.stSE[r] ^ 0x8000 : fpu.stSE[r] & 0x7FFF
            fpu.fsw &= ~FSW.c1
        case 4:   // FTST
            x87Compare(.zero(false), signaling: true, eflags: false, pops: 0)
        case 5:   // FXAM
            let r = fpu.phys(0)
            let sign = fpu.stSE[r] & 0x8000 != 0
            let c: (Bool, Bool, Bool)   // C3, C2, C0
            if stEmpty(0) { c = (true, false, true) } else {
                var e = FPEnv()
                let v = FPValue.unpack80(sig: fpu.stSig[r], se: fpu.stSE[r], &e)
                switch v.cls {
                case .unsupported: c = (false, false, false)
                case .quietNaN, .signalingNaN: c = (false, false, true)
                case .infinity: c = (false, true, true)
                case .zero: c = (true, false, false)
                case .finite: c = fpu.stSE[r] & 0x7FFF == 0 ? (true, true, false) : (false, true, false)
                }
            }
            setConditionCodes(c3: c.0, c2: c.1, c0: c.2)
            if sign { fpu.fsw |= FSW.c1 }
        default: throw Abort.ud
        }
    }

    /// D9 E8–EE: FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ, rounded per FCW.RC (SDM Vol. 1 §8.3.8).
    private func x87LoadConstant(_ k: Int) throws(Abort) {
        let rc = FPRounding(rawValue: UInt8((fpu.fcw >> 10) & 3)) ?? .nearest
        let downOrZero = rc == .down || rc == .zero
        let v: FPValue
        switch k {
        case 0: v = FPValue(sign: false, cls: .finite, exp: 0, sig: 1 << 63)
        case 1: v = FPValue(sign: false, cls: .finite, exp: 1, sig: rc == .up ? 0xD49A_784B_CD1B_8AFF : 0xD49A_784B_CD1B_8AFE)
        case 2: v = FPValue(sign: false, cls: .finite, exp: 0, sig: downOrZero ? 0xB8AA_3B29_5C17_F0BB : 0xB8AA_3B29_5C17_F0BC)
        case 3: v = FPValue(sign: false, cls: .finite, exp: 1, sig: downOrZero ? 0xC90F_DAA2_2168_C234 : 0xC90F_DAA2_2168_C235)
        case 4: v = FPValue(sign: false, cls: .finite, exp: -2, sig: downOrZero ? 0x9A20_9A84_FBCF_F798 : 0x9A20_9A84_FBCF_F799)
        case 5: v = FPValue(sign: false, cls: .finite, exp: -1, sig: downOrZero ? 0xB172_17F7_D1CF_79AB : 0xB172_17F7_D1CF_79AC)
        case 6: v = .zero(false)
        default: throw Abort.ud
        }
        if !stEmpty(7) { if x87Commit(0, stackFault: true, c1: true) { x87Push(.defaultNaN) }; return }
        fpu.fsw &= ~FSW.c1
        x87Push(v)
    }

    /// D9 F0–FF.
    private func x87Group67(_ reg: Int, _ sti: Int) throws(Abort) {
        let code = (reg - 6) * 8 + sti
        switch code {
        case 6:   // FDECSTP
            fpu.fsw = (fpu.fsw & ~0x3800) | UInt16((fpu.top &- 1) & 7) << 11; fpu.fsw &= ~FSW.c1
            return
        case 7:   // FINCSTP
            fpu.fsw = (fpu.fsw & ~0x3800) | UInt16((fpu.top &+ 1) & 7) << 11; fpu.fsw &= ~FSW.c1
            return
        default: break
        }
        // Everything else needs ST(0); two-operand forms need ST(1).
        let needs1 = code == 1 || code == 3 || code == 5 || code == 8 || code == 9 || code == 13
        if stEmpty(0) || (needs1 && stEmpty(1)) {
            if x87Commit(0, stackFault: true) {
                setST(0, .defaultNaN)
                if needs1 && code != 5 && code != 8 && code != 13 { x87Pop(); setST(0, .defaultNaN) }
            }
            return
        }
        var e = x87Env()
        let a = stValue(0, &e)
        switch code {
        case 10:   // FSQRT
            let r = SoftFloat.sqrt(a, x87Precision, x87: true, &e)
            if x87Commit(e.flags) { setST(0, r) }
        case 12:   // FRNDINT
            let r = SoftFloat.roundToIntegral(a, e.rounding, &e)
            if x87Commit(e.flags) { setST(0, r) }
        case 13:   // FSCALE
            let b = stValue(1, &e)
            let r = x87Scale(a, b, &e)
            if x87Commit(e.flags) { setST(0, r) }
        case 4:    // FXTRACT
            if !stEmpty(7) { if x87Commit(0, stackFault: true, c1: true) { setST(0, .defaultNaN); x87Push(.defaultNaN) }; return }
            var expo: FPValue, sigv: FPValue
            switch a.cls {
            case .finite:
                expo = SoftFloat.fromInt(Int64(a.exp), .extended, &e)
                sigv = FPValue(sign: a.sign, cls: .finite, exp: 0, sig: a.sig)
            case .zero:
                e.flags |= FPFlag.divideByZero
                expo = .infinity(true); sigv = a
            case .infinity:
                expo = .infinity(false); sigv = a
            default:
                let n = SoftFloat.specialOperands(a, a, x87: true, &e) ?? .defaultNaN
                expo = n; sigv = n
            }
            if x87Commit(e.flags) { setST(0, expo); x87Push(sigv) }
        case 5, 8: // FPREM1, FPREM
            let b = stValue(1, &e)
            let r = x87Remainder(a, b, ieee: code == 5, &e)
            if x87Commit(e.flags) { setST(0, r) }
        default:
            try x87Transcendental(code, a, &e)
        }
    }

    /// FSCALE: ST(0) × 2^trunc(ST(1)).
    private func x87Scale(_ a: FPValue, _ b: FPValue, _ e: inout FPEnv) -> FPValue {
        if a.isNaN || b.isNaN || a.cls == .unsupported || b.cls == .unsupported {
            return SoftFloat.specialOperands(a, b, x87: true, &e) ?? .defaultNaN
        }
        if b.cls == .infinity {
            if !b.sign { if a.cls == .zero { e.flags |= FPFlag.invalid; return .defaultNaN }; return a.cls == .finite ? .infinity(a.sign) : a }
            if a.cls == .infinity { e.flags |= FPFlag.invalid; return .defaultNaN }
            return a.cls == .finite ? .zero(a.sign) : a
        }
        guard a.cls == .finite else { return a }
        var n: Int64 = 0
        if b.cls == .finite {
            // The truncation of ST(1) signals nothing: a scratch environment, since a conversion to integer
            // clears DE, and that must not take away the denormal-operand flag ST(0) or ST(1) raised.
            var scratch = FPEnv()
            n = b.exp > 20 ? (b.sign ? -100_000 : 100_000) : SoftFloat.toInt(b, bits: 64, .zero, &scratch)
        }
        return SoftFloat.roundPack(a.sign, a.exp + Int32(n), a.sig, 0, .extended, &e)
    }

    /// FPREM / FPREM1: partial remainder; C2 set when incomplete, C0 C3 C1 = quotient bits 2, 1, 0.
    private func x87Remainder(_ a: FPValue, _ b: FPValue, ieee: Bool, _ e: inout FPEnv) -> FPValue {
        fpu.fsw &= ~(FSW.c0 | FSW.c1 | FSW.c2 | FSW.c3)
        if a.isNaN || b.isNaN || a.cls == .unsupported || b.cls == .unsupported {
            return SoftFloat.specialOperands(a, b, x87: true, &e) ?? .defaultNaN
        }
        if a.cls == .infinity || b.cls == .zero { e.flags |= FPFlag.invalid; return .defaultNaN }
        if a.cls == .zero || b.cls == .infinity { return a }
        var d = Int(a.exp - b.exp)
        if d < 0 && !(ieee && d == -1) { return a }
        var partial = false
        if d >= 64 {
            partial = true
            d = 32 + (d - 32) % 32
        }
        // Long division of significands: r = (a.sig × 2^d) mod b.sig, q = low quotient bits.
        var r = a.sig, q: UInt64 = 0
        var expR = b.exp
        if d >= 0 {
            if r >= b.sig { r &-= b.sig; q = 1 }
            for _ in 0..<d {
                let top = r >> 63
                r <<= 1; q <<= 1
                if top != 0 || r >= b.sig { r &-= b.sig; q |= 1 }
            }
        } else {
            expR = a.exp
        }
        var sign = a.sign
        var hiR = r
        let loR: UInt64 = 0
        if partial {
            // Remainder keeps the exponent a.exp − d.
            expR = a.exp - Int32(d)
            return SoftFloat.roundPack(sign, expR, hiR, loR, .extended, &e).withConditionCodes(self, partial: true, q: 0)
        }
        if ieee {
            if d < 0 {
                // a.exp = b.exp − 1: the quotient rounds to 1 when |a| > |b|/2, i.e. a.sig > b.sig.
                guard a.sig > b.sig else { return a.withConditionCodes(self, partial: false, q: 0) }
                // |b| − |a| = (b.sig − a.sig/2) × 2^(a.exp + 1 − 63), as a 128-bit significand.
                let odd = a.sig & 1
                let h = b.sig &- (a.sig >> 1) &- odd
                return SoftFloat.roundPack(!a.sign, a.exp + 1, h, odd << 63, .extended, &e)
                    .withConditionCodes(self, partial: false, q: 1)
            }
            // Round the quotient to nearest even: compare 2r with b.
            let cmpHalf = r >> 63 != 0 ? 1 : ((r << 1) > b.sig ? 1 : ((r << 1) == b.sig ? 0 : -1))
            if cmpHalf > 0 || (cmpHalf == 0 && q & 1 != 0) {
                hiR = b.sig &- r
                sign.toggle()
                q &+= 1
            }
        }
        if hiR == 0 { return FPValue.zero(a.sign).withConditionCodes(self, partial: false, q: q) }
        return SoftFloat.roundPack(sign, expR, hiR, loR, .extended, &e).withConditionCodes(self, partial: false, q: q)
    }

    /// Transcendental instructions (SDM Vol. 2 F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS).
    /// Special operands (NaN, ±∞, ±0, |x| ≥ 2^63 for the trigonometric ones) follow the SDM's result tables
    /// and the flags the processor raises: IE for invalid combinations and SNaNs, ZE for FYL2X of zero, DE
    /// for a denormal ST(0) or ST(1), PE whenever a finite nonzero operand goes through the approximation
    /// (even when the result happens to be exact), UE when such a result is tiny. Finite results come from
    /// `TranscendentalMath`.
    private func x87Transcendental(_ code: Int, _ a: FPValue, _ e: inout FPEnv) throws(Abort) {
        fpu.fsw &= ~FSW.c1
        switch code {
        case 0: x87F2XM1(a, &e)
        case 1, 3, 9: x87TwoOperandTranscendental(code, a, &e)
        case 2, 11, 14, 15: x87Trigonometric(code, a, &e)
        default: throw Abort.ud
        }
    }

    /// A finite result of an approximation: sets PE, and UE when it is tiny (denormal or zero).
    private func x87Approximated(_ r: TranscendentalMath.Real, _ e: inout FPEnv) -> FPValue {
        e.flags |= FPFlag.inexact
        let v = TranscendentalMath.unpack(r)
        if v.cls == .zero || (v.cls == .finite && v.exp < -16382) { e.flags |= FPFlag.underflow }
        return v
    }

    /// F2XM1: ST(0) ← 2^ST(0) − 1. Outside −1 ≤ x ≤ +1 the SDM leaves the result undefined; the processor
    /// leaves a finite x unchanged and reports PE, and so does the model.
    private func x87F2XM1(_ a: FPValue, _ e: inout FPEnv) {
        let r: FPValue
        switch a.cls {
        case .quietNaN, .signalingNaN, .unsupported: r = SoftFloat.specialOperands(a, a, x87: true, &e) ?? .defaultNaN
        case .zero: r = a
        case .infinity: r = a.sign ? FPValue(sign: true, cls: .finite, exp: 0, sig: 1 << 63) : a
        case .finite:
            if a.exp >= 0 && !(a.exp == 0 && a.sig == 1 << 63) {
                e.flags |= FPFlag.inexact
                r = a
            } else {
                r = x87Approximated(TranscendentalMath.exp2m1(TranscendentalMath.real(a)), &e)
            }
        }
        if x87Commit(e.flags) { setST(0, r) }
    }

    /// FYL2X (ST(1) × log2 ST(0)), FYL2XP1 (ST(1) × log2(ST(0) + 1)) and FPATAN (arctan(ST(1) / ST(0))):
    /// the result replaces ST(1) and the stack is popped.
    private func x87TwoOperandTranscendental(_ code: Int, _ x: FPValue, _ e: inout FPEnv) {
        let y = stValue(1, &e)
        let r: FPValue
        if let n = SoftFloat.specialOperands(x, y, x87: true, &e) {
            r = n
        } else if code == 3 {
            // FPATAN: exact ±0 when y is ±0 and x is +0 or positive, or y is finite and x is +∞.
            if (y.cls == .zero && !x.sign) || (y.cls != .infinity && x.cls == .infinity && !x.sign) {
                r = .zero(y.sign)
            } else {
                r = x87Approximated(TranscendentalMath.atan2(TranscendentalMath.real(y), TranscendentalMath.real(x)), &e)
            }
        } else {
            // l = log2(x) or log2(1 + x): its class and sign decide the special cases of y × l.
            let one = x.cls == .finite && x.exp == 0 && x.sig == 1 << 63
            let invalid: Bool, logZero: Bool, logInfinite: Bool, logNegative: Bool
            if code == 1 {
                invalid = x.sign && x.cls != .zero
                logZero = one
                logInfinite = x.cls == .zero || x.cls == .infinity
                logNegative = x.cls == .zero || (x.cls == .finite && x.exp < 0)
            } else {
                invalid = x.sign && (x.cls == .infinity || (x.cls == .finite && x.exp >= 0 && !one))
                logZero = x.cls == .zero
                logInfinite = x.cls == .infinity || (one && x.sign)
                logNegative = x.sign
            }
            let sign = y.sign != logNegative
            if invalid || (logInfinite && y.cls == .zero) || (logZero && y.cls == .infinity) {
                e.flags |= FPFlag.invalid
                r = .defaultNaN
            } else if logInfinite || y.cls == .infinity {
                if logInfinite && x.cls != .infinity && y.cls == .finite { e.flags |= FPFlag.divideByZero }
                r = .infinity(sign)
            } else if logZero || y.cls == .zero {
                r = .zero(sign)
            } else {
                let xr = TranscendentalMath.real(x), yr = TranscendentalMath.real(y)
                r = x87Approximated(code == 1 ? TranscendentalMath.ylog2x(yr, xr) : TranscendentalMath.ylog2xp1(yr, xr), &e)
            }
        }
        if x87Commit(e.flags) {
            x87Pop()
            setST(0, r)
        }
    }

    /// FPTAN, FSINCOS, FSIN, FCOS. |x| ≥ 2^63 sets C2 and changes nothing else; otherwise C2 is cleared.
    /// FPTAN replaces ST(0) with tan x and pushes 1; FSINCOS replaces it with sin x and pushes cos x.
    private func x87Trigonometric(_ code: Int, _ a: FPValue, _ e: inout FPEnv) {
        if a.cls == .finite && a.exp >= 63 { fpu.fsw |= FSW.c2; return }
        let pushes = code == 2 || code == 11
        if pushes && !stEmpty(7) {
            if x87Commit(0, stackFault: true, c1: true) { setST(0, .defaultNaN); x87Push(.defaultNaN) }
            return
        }
        fpu.fsw &= ~FSW.c2
        let oneValue = FPValue(sign: false, cls: .finite, exp: 0, sig: 1 << 63)
        var first: FPValue, second: FPValue
        switch a.cls {
        case .quietNaN, .signalingNaN, .unsupported:
            first = SoftFloat.specialOperands(a, a, x87: true, &e) ?? .defaultNaN
            second = first
        case .infinity:
            e.flags |= FPFlag.invalid
            first = .defaultNaN; second = .defaultNaN
        case .zero:
            first = code == 15 ? oneValue : a
            second = oneValue
        case .finite:
            let x = TranscendentalMath.real(a)
            switch code {
            case 2: first = x87Approximated(TranscendentalMath.tan(x), &e); second = oneValue
            case 11: first = x87Approximated(TranscendentalMath.sin(x), &e); second = x87Approximated(TranscendentalMath.cos(x), &e)
            case 14: first = x87Approximated(TranscendentalMath.sin(x), &e); second = first
            default: first = x87Approximated(TranscendentalMath.cos(x), &e); second = first
            }
        }
        if x87Commit(e.flags) {
            setST(0, first)
            if pushes { x87Push(second) }
        }
    }
}

/// The transcendental arithmetic the processor uses: the model's own double-extended arithmetic
/// (`ExtendedReal`), or on x86-64 hosts the host's `Float80` as a speed-up with the same results. Building
/// with `-Xswiftc -DSWIFTVMX_PORTABLE` forces the portable arithmetic on every host (CI does, to test it).
#if arch(x86_64) && (os(Linux) || os(macOS)) && !SWIFTVMX_PORTABLE
typealias TranscendentalMath = Transcendental<Float80>
#else
typealias TranscendentalMath = Transcendental<ExtendedReal>
#endif

/// The finite part of the transcendental instructions, in a double-extended `X87Real`. Results are
/// evaluated in double-word arithmetic (an unevaluated sum hi + lo, about twice the working precision) and
/// rounded once at the end, so they stay well within the SDM's bound of 1 ulp (scripts/x87-accuracy
/// measures the error against mpmath): exp by its Taylor series, logarithms by the series of atanh, sine
/// and cosine by their Taylor series after an exact reduction by the processor's 66-bit π
/// (`TrigReduction`), tangent as their quotient. FPATAN reduces by a table of atan(k/8) and sums the series
/// of atan. Every step is an IEEE operation of the format, so any two `X87Real`s give the same bits.
enum Transcendental<R: X87Real> {
    /// The arithmetic.
    typealias Real = R
    /// m × 2^e (m a 64-bit significand, exact).
    static func c64(_ m: UInt64, _ e: Int) -> Real { Real(significand64: m, exponent: e) }
    /// ln 2 and log2 e as double words.
    static var ln2: DW { DW(c64(0xB172_17F7_D1CF_79AC, -64), -c64(0xD871_319F_F034_2543, -130)) }
    static var log2e: DW { DW(c64(0xB8AA_3B29_5C17_F0BC, -63), -c64(0x82F0_025F_2DC5_82EE, -128)) }
    /// π, π/2, π/4 and 3π/4 as double words.
    static var pi: DW { DW(c64(0xC90F_DAA2_2168_C235, -62), -c64(0xECE6_75D1_FC8F_8CBB, -128)) }
    static var halfPi: DW { DW(c64(0xC90F_DAA2_2168_C235, -63), -c64(0xECE6_75D1_FC8F_8CBB, -129)) }
    static var quarterPi: DW { DW(c64(0xC90F_DAA2_2168_C235, -64), -c64(0xECE6_75D1_FC8F_8CBB, -130)) }
    static var threeQuarterPi: DW { DW(c64(0x96CB_E3F9_990E_91A8, -62), -c64(0xD8D6_6C2E_BEB5_D4C6, -127)) }
    /// atan(k/8) for k = 0…8 as double words.
    static func atanEighth(_ i: Int) -> DW {
        switch i {
        case 1: return DW(c64(0xFEAD_D4D5_617B_6E33, -67), -c64(0xDDA1_9D83_05DD_C422, -133))
        case 2: return DW(c64(0xFADB_AFC9_6406_EB15, -66), c64(0xDB8F_3DEB_EF44_2FCB, -131))
        case 3: return DW(c64(0xB7B0_CA0F_26F7_8474, -65), -c64(0xEAB9_BDBA_4603_76FA, -130))
        case 4: return DW(c64(0xED63_382B_0DDA_7B45, -65), c64(0xDFC8_8BD9_7875_1A07, -130))
        case 5: return DW(c64(0x8F00_5D5E_F7F5_9F9B, -64), c64(0xB906_BC2C_CB88_6E8F, -129))
        case 6: return DW(c64(0xA4BC_7D19_34F7_0924, -64), c64(0xCD43_F952_2BED_64F7, -131))
        case 7: return DW(c64(0xB805_3E2B_C231_9E74, -64), -c64(0xD349_6AB7_BD6E_EF0B, -130))
        case 8: return DW(c64(0xC90F_DAA2_2168_C235, -64), -c64(0xECE6_75D1_FC8F_8CBB, -130))
        default: return DW(0)
        }
    }

    /// atan z for 0 ≤ z ≤ 1: atan(k/8) + atan((z − k/8) / (1 + z·k/8)) with k = round(8z), the second term
    /// by its Taylor series (|t| ≤ 1/16).
    static func atanKernel(_ z: DW) -> DW {
        let k = (z.hi * 8).roundedInt
        let c = Real(k) / 8
        let t = (z + DW(-c)).divided(by: DW(1) + z * DW(c))
        let t2 = t * t
        var power = t, sum = t
        var n: Real = 3
        while n < 60 {
            power = -(power * t2)
            let term = power.divided(by: n)
            sum = sum + term
            if term.hi.magnitude < c64(1, -80) * sum.hi.magnitude + tinyBound { break }
            n += 2
        }
        return atanEighth(k) + sum
    }

    /// atan2(y, x) (FPATAN: the angle of (x, y)) for operands that are not NaN, not both zero, and not one
    /// of the exact-zero cases (y = ±0 with x ≥ +0, or finite y with x = +∞), which the caller handles.
    static func atan2(_ y: Real, _ x: Real) -> Real {
        let ay = y.magnitude, ax = x.magnitude
        let angle: DW
        if ay.isInfinite {
            angle = ax.isInfinite ? (x > 0 ? quarterPi : threeQuarterPi) : halfPi
        } else if ax.isInfinite || ay == 0 {
            angle = pi                                            // x = −∞, or y = ±0 with x negative
        } else if ax == 0 {
            angle = halfPi
        } else {
            let swapped = ay > ax
            let (num, den) = swapped ? (ax, ay) : (ay, ax)
            let direct = num / den
            if isTiny(direct) {
                // atan z = z − z³/3 …: z alone is exact to far below the last place; rounded once here.
                if !swapped && x > 0 { return y.sign == .minus ? -direct : direct }
                angle = swapped ? (x > 0 ? halfPi + DW(-direct) : halfPi + DW(direct)) : pi + DW(-direct)
                return y.sign == .minus ? -angle.value : angle.value
            }
            // Scale both by the same power of two so that the quotient's double word stays exact.
            // (In two steps: 2^−exponent alone may be out of range for denormal or huge operands.)
            let e = -den.exponent, s1 = Real(sign: .plus, exponent: e / 2, significand: 1)
            let s2 = Real(sign: .plus, exponent: e - e / 2, significand: 1)
            let z = DW(num * s1 * s2).divided(by: DW(den * s1 * s2))
            var a = atanKernel(z)
            if swapped { a = halfPi + -a }
            angle = x < 0 ? pi + -a : a
        }
        return y.sign == .minus ? -angle.value : angle.value
    }

    /// tan x with the processor's argument reduction.
    static func tan(_ x: Real) -> Real {
        let (q, r) = reduce(x)
        let s = sinKernel(r), c = cosKernel(r)
        return (q & 1 == 0 ? s.divided(by: c) : -c.divided(by: s)).value
    }

    /// sin x with the processor's argument reduction.
    static func sin(_ x: Real) -> Real { let (q, r) = reduce(x); return sinQuadrant(q, r) }

    /// cos x with the processor's argument reduction.
    static func cos(_ x: Real) -> Real { let (q, r) = reduce(x); return sinQuadrant(q &+ 1, r) }

    /// sin(q × π/2 + r).
    static func sinQuadrant(_ q: Int, _ r: DW) -> Real {
        switch q & 3 {
        case 0: return sinKernel(r).value
        case 1: return cosKernel(r).value
        case 2: return -sinKernel(r).value
        default: return -cosKernel(r).value
        }
    }

    /// sin r for |r| ≤ π/4: r − r³/3! + r⁵/5! − …
    static func sinKernel(_ r: DW) -> DW {
        let r2 = r * r
        var term = r, sum = r
        var n: Real = 3
        while n < 40 {
            term = -(term * r2).divided(by: n * (n - 1))
            sum = sum + term
            if term.hi.magnitude < sum.hi.magnitude * c64(1, -80) { break }
            n += 2
        }
        return sum
    }

    /// cos r for |r| ≤ π/4: 1 − r²/2! + r⁴/4! − …
    static func cosKernel(_ r: DW) -> DW {
        let r2 = r * r
        var term = DW(1), sum = DW(1)
        var n: Real = 2
        while n < 40 {
            term = -(term * r2).divided(by: n * (n - 1))
            sum = sum + term
            if term.hi.magnitude < c64(1, -80) { break }
            n += 2
        }
        return sum
    }

    /// A finite non-zero x87 value as a `Real` (bit for bit).
    static func real(_ v: FPValue) -> Real { Real(x87: v) }

    /// A `Real` as an unpacked x87 value (bit for bit).
    static func unpack(_ d: Real) -> FPValue { d.x87Value }

    /// A double word: the unevaluated sum hi + lo with |lo| ≤ half an ulp of hi.
    struct DW {
        var hi: Real
        var lo: Real

        init(_ hi: Real, _ lo: Real = 0) {
            self.hi = hi
            self.lo = lo
        }

        /// hi + lo rounded to the working format.
        var value: Real { hi + lo }

        /// a + b exactly (Knuth's two-sum).
        static func twoSum(_ a: Real, _ b: Real) -> DW {
            let s = a + b
            let bb = s - a
            return DW(s, (a - (s - bb)) + (b - bb))
        }

        /// a + b exactly when |a| ≥ |b| (Dekker's fast two-sum).
        static func fastTwoSum(_ a: Real, _ b: Real) -> DW {
            let s = a + b
            return DW(s, b - (s - a))
        }

        /// a × b exactly (Dekker's product; the operands' magnitudes here keep it free of overflow).
        static func twoProduct(_ a: Real, _ b: Real) -> DW {
            let splitter: Real = 4_294_967_297                 // 2^32 + 1: halves of a 64-bit significand
            func split(_ v: Real) -> (Real, Real) {
                let c = splitter * v
                let h = c - (c - v)
                return (h, v - h)
            }
            let p = a * b
            let (ah, al) = split(a), (bh, bl) = split(b)
            return DW(p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
        }

        static func + (a: DW, b: DW) -> DW {
            let s = twoSum(a.hi, b.hi), t = twoSum(a.lo, b.lo)
            let u = fastTwoSum(s.hi, s.lo + t.hi)
            return fastTwoSum(u.hi, u.lo + t.lo)
        }

        static prefix func - (a: DW) -> DW { DW(-a.hi, -a.lo) }

        static func * (a: DW, b: DW) -> DW {
            let p = twoProduct(a.hi, b.hi)
            return fastTwoSum(p.hi, p.lo + (a.hi * b.lo + a.lo * b.hi))
        }

        /// self / d.
        func divided(by d: DW) -> DW {
            let q1 = hi / d.hi
            let r = self + -(d * DW(q1))
            let q2 = r.hi / d.hi
            let r2 = r + -(d * DW(q2))
            return DW.fastTwoSum(q1, q2) + DW(r2.hi / d.hi)
        }

        /// self / n for a small exact n.
        func divided(by n: Real) -> DW { divided(by: DW(n)) }
    }

    /// 2^128 and 2^−128: tiny operands are scaled up so that double-word products stay exact.
    static var up: Real { c64(1, 128) }
    static var down: Real { c64(1, -128) }

    /// Magnitudes below `tinyBound` (2^−16000) are close enough to the denormal range that
    /// double-word products with them would underflow; above `hugeBound` (2^16000) Dekker's split could
    /// overflow.
    static var tinyBound: Real { c64(1, -16000) }
    static var hugeBound: Real { c64(1, 16000) }

    /// Whether |v| is below `tinyBound`.
    static func isTiny(_ v: Real) -> Bool { v.magnitude < tinyBound }

    /// (v × s, 1/s) with s a power of two that brings a tiny or huge v into the comfortable range.
    static func normalized(_ v: Real) -> (Real, Real) {
        if isTiny(v) { return (v * up, down) }
        if v.magnitude > hugeBound { return (v * down, up) }
        return (v, 1)
    }

    /// e^t − 1 for |t| ≤ ln 2: t + t²/2! + t³/3! + …
    static func expm1Kernel(_ t: DW) -> DW {
        var term = t, sum = t
        var n: Real = 2
        while n < 40 {
            term = (term * t).divided(by: n)
            sum = sum + term
            if term.hi.magnitude < sum.hi.magnitude * c64(1, -80) { break }
            n += 1
        }
        return sum
    }

    /// atanh s = s + s³/3 + s⁵/5 + … for |s| ≤ 0.18.
    static func atanhKernel(_ s: DW) -> DW {
        let s2 = s * s
        var power = s, sum = s
        var n: Real = 3
        while n < 80 {
            power = power * s2
            let term = power.divided(by: n)
            sum = sum + term
            if term.hi.magnitude < sum.hi.magnitude * c64(1, -80) { break }
            n += 2
        }
        return sum
    }

    /// log2 x for positive finite x: x = 2^k × m with √½ ≤ m < √2, log2 x = k + 2 atanh((m − 1)/(m + 1)) × log2 e.
    static func log2(_ x: Real) -> DW {
        var k = Real(x.exponent)
        var m = x.significand                 // 1 ≤ m < 2, exact (denormals included)
        if m > c64(0xB504_F333_F9DE_6484, -63) { m /= 2; k += 1 }     // √2
        let s = DW(m - 1).divided(by: DW.twoSum(m, 1))
        let l = DW(2) * atanhKernel(s) * log2e
        return DW(k) + l
    }

    /// 2^x − 1 for |x| ≤ 1. For tiny x the result is x·ln 2 (the quadratic term is far below the last
    /// place), formed scaled and rounded once.
    static func exp2m1(_ x: Real) -> Real {
        if isTiny(x) { return (DW(x * up) * ln2).value * down }
        return expm1Kernel(DW(x) * ln2).value
    }

    /// y × log2 x for positive finite x ≠ 1 and finite nonzero y.
    static func ylog2x(_ y: Real, _ x: Real) -> Real {
        let (ys, scale) = normalized(y)
        return (DW(ys) * log2(x)).value * scale
    }

    /// y × log2(1 + x) for 0 < |x| < 1 − √2/2 and finite nonzero y: log(1 + x) = 2 atanh(x / (2 + x)).
    /// Tiny x gives log2(1 + x) = x·log2 e (the quadratic term is far below the last place).
    static func ylog2xp1(_ y: Real, _ x: Real) -> Real {
        var (ys, scale) = normalized(y)
        let l: DW
        if isTiny(x) {
            l = DW(x * up) * log2e
            scale *= down
        } else {
            let s = DW(x).divided(by: DW.twoSum(2, x))
            l = DW(2) * atanhKernel(s) * log2e
        }
        return (DW(ys) * l).value * scale
    }
}

extension Transcendental {
    /// p/2 × 2^65 (66 bits) as (high, low) words, p the processor's π (see `reduce`).
    static var halfP: (UInt64, UInt64) { (0x3, 0x243F_6A88_85A3_08D3) }
    /// π/p as a double word: 1 + 0xC28C716D17449508 × 2^−133.
    static var piOverP: DW { DW(1, c64(0xC28C_716D_1744_9508, -133)) }

    /// Argument reduction of FSIN, FCOS, FSINCOS and FPTAN: the processor computes sin(x·π/p) etc., where p is
    /// π rounded to 66 bits (0xC90FDAA22168C234C × 2^−66; Intel, "The Difference Between x87 Instructions FSIN,
    /// FCOS, FSINCOS, and FPTAN and Mathematical Functions"). x is reduced by p/2 exactly in 128-bit fixed
    /// point (with 64-bit words, so every host has it) and the remainder scaled by π/p.
    /// Returns (quadrant q, r) with x·π/p = q × π/2 + r, |r| ≤ π/4 (r as a double word); |x| < 2^63.
    static func reduce(_ x: Real) -> (Int, DW) {
        let mag = x.magnitude
        // mag × 2^65 = m × 2^shift with m the 64-bit significand.
        let shift = mag.isFinite && mag > c64(0xC8, -8) ? mag.exponent + 2 : -1     // reduce above 0.78125
        guard shift >= 0 && shift <= 64 else { return (0, DW(x) * piOverP) }
        let m = mag.integerSignificand
        let fixed: (UInt64, UInt64) = shift == 0 ? (0, m) : shift == 64 ? (m, 0) : (m >> UInt64(64 - shift), m << UInt64(shift))
        // Restoring division: k = fixed / halfP (below 2^64 as mag < 2^63), rem = fixed − k × halfP.
        let d = halfP
        var k: UInt64 = 0
        var rem: (UInt64, UInt64) = (0, 0)
        for i in (0..<128).reversed() {
            let bit = (i >= 64 ? fixed.0 >> UInt64(i - 64) : fixed.1 >> UInt64(i)) & 1
            rem = (rem.0 << 1 | rem.1 >> 63, rem.1 << 1 | bit)
            if rem >= d {
                let (low, borrow) = rem.1.subtractingReportingOverflow(d.1)
                rem = (rem.0 &- d.0 &- (borrow ? 1 : 0), low)
                if i < 64 { k |= 1 << UInt64(i) }
            }
        }
        // Round the quotient to nearest: past halfP/2 the remainder is rem − halfP, negative.
        var negative = false
        let halfOfD = (d.0 >> 1, d.1 >> 1 | d.0 << 63)
        if rem > halfOfD {
            k &+= 1
            negative = true
            let (low, borrow) = d.1.subtractingReportingOverflow(rem.1)
            rem = (d.0 &- rem.0 &- (borrow ? 1 : 0), low)
        }
        // |rem| < 2^65: two exact parts, rem >> 2 (64 bits) and rem & 3, summed exactly.
        let upper = c64(rem.0 << 62 | rem.1 >> 2, 2 - 65), lower = c64(rem.1 & 3, -65)
        var r = DW.twoSum(upper, lower)
        if negative != (x < 0) { r = -r }
        r = r * piOverP
        let q = Int(truncatingIfNeeded: k & 3)
        return (x < 0 ? (4 - q) & 3 : q, r)
    }
}

/// What `TranscendentalMath` computes with: a binary floating-point type with the x87 double-extended
/// format (64-bit significand, 15-bit exponent) and IEEE round-to-nearest-even arithmetic. `ExtendedReal`
/// is the model's own (on `SoftFloat`); x86-64 hosts may use `Float80` instead, as a speed-up only: both
/// give the same bits for every operation used here (Tests/X86Tests/X87PortableTests.swift compares them,
/// and CI compares the x87 tables of both builds).
protocol X87Real: Comparable, ExpressibleByIntegerLiteral {
    /// The integer `n` (exact for |n| < 2^64).
    init(_ n: Int)
    /// m × 2^e, exact for m < 2^64 and e in range.
    init(significand64 m: UInt64, exponent e: Int)
    /// sign × significand × 2^exponent.
    init(sign: FloatingPointSign, exponent: Int, significand: Self)
    /// An x87 value that is finite and non-zero (bit for bit).
    init(x87 v: FPValue)
    /// The value as an unpacked x87 value (bit for bit; denormals normalized as `FPValue.unpack80` does).
    var x87Value: FPValue { get }
    static func + (a: Self, b: Self) -> Self
    static func - (a: Self, b: Self) -> Self
    static func * (a: Self, b: Self) -> Self
    static func / (a: Self, b: Self) -> Self
    static prefix func - (a: Self) -> Self
    /// |self|.
    var magnitude: Self { get }
    /// The exponent of a finite non-zero value (denormals included).
    var exponent: Int { get }
    /// The significand in [1, 2) of a finite non-zero value (positive).
    var significand: Self { get }
    /// The 64-bit integer significand (integer bit included) of a normal value.
    var integerSignificand: UInt64 { get }
    /// The sign.
    var sign: FloatingPointSign { get }
    /// Whether the value is ±∞.
    var isInfinite: Bool { get }
    /// Whether the value is finite.
    var isFinite: Bool { get }
    /// The nearest integer, ties away from zero (|self| < 2^62).
    var roundedInt: Int { get }
}

extension X87Real {
    static func += (a: inout Self, b: Self) { a = a + b }
    static func /= (a: inout Self, b: Self) { a = a / b }
    static func *= (a: inout Self, b: Self) { a = a * b }
}

/// A double-extended value computed by the model's own soft-float core (`SoftFloat`, round to nearest
/// even): the portable `X87Real`, the same on every host.
struct ExtendedReal: X87Real {
    /// The value; finite values are kept normalized (bit 63 set), denormals with an exponent below −16382.
    private(set) var value: FPValue

    /// Wraps a result of `SoftFloat`, normalizing a denormal significand.
    init(_ v: FPValue) {
        var v = v
        if v.cls == .finite && v.sig >> 63 == 0 && v.sig != 0 {
            let lz = v.sig.leadingZeroBitCount
            v.sig <<= UInt64(lz)
            v.exp -= Int32(lz)
        }
        value = v
    }

    init(_ n: Int) {
        var e = FPEnv()
        self.init(SoftFloat.fromInt(Int64(n), .extended, &e))
    }

    init(integerLiteral n: Int) { self.init(n) }

    init(significand64 m: UInt64, exponent e: Int) {
        var env = FPEnv()
        self.init(SoftFloat.roundPack(false, Int32(clamping: e + 63), m, 0, .extended, &env))
    }

    init(sign: FloatingPointSign, exponent: Int, significand: ExtendedReal) {
        var env = FPEnv()
        let s = significand.value, negative = (sign == .minus) != s.sign
        switch s.cls {
        case .finite:
            self.init(SoftFloat.roundPack(negative, Int32(clamping: Int(s.exp) + exponent), s.sig, 0, .extended, &env))
        default:
            var v = s
            v.sign = negative
            self.init(v)
        }
    }

    init(x87 v: FPValue) {
        // Through the 80-bit encoding, as `Float80(x87:)` reads it: the same value for every representation.
        var env = FPEnv()
        let b = v.bits80
        self.init(FPValue.unpack80(sig: b.sig, se: b.se, &env))
    }

    var x87Value: FPValue {
        var env = FPEnv()
        let b = value.bits80
        return FPValue.unpack80(sig: b.sig, se: b.se, &env)
    }

    static func + (a: ExtendedReal, b: ExtendedReal) -> ExtendedReal {
        var e = FPEnv()
        return ExtendedReal(SoftFloat.add(a.value, b.value, .extended, &e))
    }

    static func - (a: ExtendedReal, b: ExtendedReal) -> ExtendedReal {
        var e = FPEnv()
        return ExtendedReal(SoftFloat.add(a.value, b.value, negateB: true, .extended, &e))
    }

    static func * (a: ExtendedReal, b: ExtendedReal) -> ExtendedReal {
        var e = FPEnv()
        return ExtendedReal(SoftFloat.mul(a.value, b.value, .extended, &e))
    }

    static func / (a: ExtendedReal, b: ExtendedReal) -> ExtendedReal {
        var e = FPEnv()
        return ExtendedReal(SoftFloat.div(a.value, b.value, .extended, &e))
    }

    static prefix func - (a: ExtendedReal) -> ExtendedReal {
        var v = a.value
        v.sign.toggle()
        return ExtendedReal(v)
    }

    static func < (a: ExtendedReal, b: ExtendedReal) -> Bool {
        var e = FPEnv()
        return SoftFloat.compare(a.value, b.value, signaling: false, &e) == -1
    }

    static func == (a: ExtendedReal, b: ExtendedReal) -> Bool {
        var e = FPEnv()
        return SoftFloat.compare(a.value, b.value, signaling: false, &e) == 0
    }

    var magnitude: ExtendedReal {
        var v = value
        v.sign = false
        return ExtendedReal(v)
    }

    var exponent: Int {
        switch value.cls {
        case .finite: return Int(value.exp)
        case .zero: return Int.min
        default: return Int.max
        }
    }

    var significand: ExtendedReal {
        guard value.cls == .finite else { return magnitude }
        return ExtendedReal(FPValue(sign: false, cls: .finite, exp: 0, sig: value.sig))
    }

    var integerSignificand: UInt64 { value.cls == .finite ? value.sig : 0 }

    var sign: FloatingPointSign { value.sign ? .minus : .plus }

    var isInfinite: Bool { value.cls == .infinity }

    var isFinite: Bool { value.cls == .finite || value.cls == .zero }

    var roundedInt: Int {
        guard value.cls == .finite, value.exp >= -1 else { return 0 }   // |x| < 0.5
        // |x| = sig × 2^(exp − 63): the integer part is sig >> (63 − exp), the half bit the next one down.
        let shift = UInt64(63 - Int(value.exp))
        let whole = Int(value.sig >> shift)
        let half = value.sig >> (shift - 1) & 1 != 0
        let n = half ? whole + 1 : whole
        return value.sign ? -n : n
    }
}

#if arch(x86_64) && (os(Linux) || os(macOS))
/// The host's 80-bit format: the same arithmetic as `ExtendedReal` (x87 precision control at 64 bits, round
/// to nearest), faster.
extension Float80: X87Real {
    init(significand64 m: UInt64, exponent e: Int) {
        self.init(sign: .plus, exponent: e, significand: Float80(m))
    }

    init(x87 v: FPValue) {
        let b = v.bits80
        self.init(sign: b.se >> 15 != 0 ? .minus : .plus, exponentBitPattern: UInt(b.se & 0x7FFF),
                  significandBitPattern: b.sig & ~(1 << 63))
    }

    var x87Value: FPValue {
        var x = FPEnv()
        let ex = UInt16(exponentBitPattern)
        let se = ex | (sign == .minus ? 0x8000 : 0)
        return FPValue.unpack80(sig: (ex != 0 ? 1 << 63 : 0) | significandBitPattern, se: se, &x)
    }

    var integerSignificand: UInt64 { significandBitPattern | (1 << 63) }

    var roundedInt: Int { Int(rounded()) }
}
#endif

extension FPValue {
    /// An exact integer as an extended value.
    static func unpackInt(_ n: Int64) -> FPValue {
        var e = FPEnv()
        return SoftFloat.fromInt(n, .extended, &e)
    }

    /// Sets FPREM's condition codes on the processor and returns self.
    func withConditionCodes(_ cpu: CPU, partial: Bool, q: UInt64) -> FPValue {
        cpu.fpu.fsw &= ~(FSW.c0 | FSW.c1 | FSW.c2 | FSW.c3)
        if partial { cpu.fpu.fsw |= FSW.c2; return self }
        if q & 1 != 0 { cpu.fpu.fsw |= FSW.c1 }
        if q & 2 != 0 { cpu.fpu.fsw |= FSW.c3 }
        if q & 4 != 0 { cpu.fpu.fsw |= FSW.c0 }
        return self
    }
}
