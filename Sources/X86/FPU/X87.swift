// The x87 FPU (SDM Vol. 1 chapter 8, Vol. 2 F-instructions): the register stack with tags, loads and
// stores of every memory format (32/64/80-bit real, 16/32/64-bit integer, 18-digit BCD), arithmetic with
// precision and rounding control through SoftFloat, compares (FCOM, FUCOM, FCOMI, FUCOMI), control
// and environment instructions (FLDCW, FNSTSW, FNSTENV/FLDENV, FNSAVE/FRSTOR in all four layouts),
// exceptions with masked responses and deferred #MF for unmasked ones.
//
// Simplifications: an unmasked overflow/underflow leaves the destination unchanged (the processor stores
// a biased result); C1 is not set on round-up; FOP is recorded with mod = 0 for memory forms; the
// transcendental instructions (F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN, FSIN, FCOS, FSINCOS) compute in
// 80-bit precision through the host's long-double libm on x86-64 hosts (binary64 libm elsewhere), within
// 2 ulps of the host processor (Tests/X86Tests/FPUTranscendentalTests.swift).

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
        if cr0Value & (CR0.em.rawValue | CR0.ts.rawValue) != 0 { throw Abort.exception(7, nil) }
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
            fpu.fip = startRIP
            fpu.fcs = seg[1].selector
            if i.isMem { fpu.fdp = effectiveAddress(i); fpu.fds = seg[Int(i.seg)].selector }
            if fpu.fsw & FSW.es != 0 && fpu.fop == 0 {
                fpu.fop = UInt16(esc) << 8 | UInt16(reg) << 3 | (i.isMem ? UInt16(i.rm & 7) : 0xC0 | UInt16(i.rm & 7))
            }
        }
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
            throw Abort.exception(6, nil)
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
                guard sti == 1 else { throw Abort.exception(6, nil) }
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
            guard sti == 0 else { throw Abort.exception(6, nil) }
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
            guard sti == 1 else { throw Abort.exception(6, nil) }
            var e = FPEnv()
            x87Compare(stEmpty(1) ? nil : stValue(1, &e), signaling: false, eflags: false, pops: 2, srcFlags: e.flags)
        case (3, 4):
            switch sti {
            case 0, 1, 4: break                       // FENI, FDISI, FSETPM: no-ops
            case 2: fpu.fsw &= ~(0x3F | FSW.sf | FSW.es | FSW.b)   // FNCLEX
            case 3: fpu.initX87()                     // FNINIT
            default: throw Abort.exception(6, nil)
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
            guard sti == 0 else { throw Abort.exception(6, nil) }
            writeReg(0, 2, UInt64(fpu.fsw))
        default:
            throw Abort.exception(6, nil)
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
        default: throw Abort.exception(6, nil)
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
        default: throw Abort.exception(6, nil)
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
            n = b.exp > 20 ? (b.sign ? -100_000 : 100_000) : SoftFloat.toInt(b, bits: 64, .zero, &e)
            e.flags &= ~FPFlag.inexact
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

    /// Transcendental instructions. On x86-64 hosts they evaluate in 80-bit extended precision through the
    /// C library's long-double functions, with FSIN/FCOS/FSINCOS/FPTAN reducing the argument exactly by the
    /// processor's 68-bit approximation of π (`TrigReduction`); elsewhere they fall back to binary64 libm.
    private func x87Transcendental(_ code: Int, _ a: FPValue, _ e: inout FPEnv) throws(Abort) {
        #if arch(x86_64) && (os(Linux) || os(macOS))
        func toDouble(_ v: FPValue) -> Float80 {
            let b = v.bits80
            return Float80(sign: b.se >> 15 != 0 ? .minus : .plus, exponentBitPattern: UInt(b.se & 0x7FFF),
                           significandBitPattern: b.sig & ~(1 << 63))
        }
        func fromDouble(_ d: Float80) -> FPValue {
            var x = FPEnv()
            let ex = UInt16(d.exponentBitPattern)
            let se = ex | (d.sign == .minus ? 0x8000 : 0)
            return FPValue.unpack80(sig: (ex != 0 ? 1 << 63 : 0) | d.significandBitPattern, se: se, &x)
        }
        let M_LN2: Float80 = 0.693147180559945309417232121458176568
        func expm1(_ x: Float80) -> Float80 { expm1l(x) }
        func log2(_ x: Float80) -> Float80 { log2l(x) }
        func log1p(_ x: Float80) -> Float80 { log1pl(x) }
        func atan2(_ y: Float80, _ x: Float80) -> Float80 { atan2l(y, x) }
        func abs(_ x: Float80) -> Float80 { Swift.abs(x) }
        func tan(_ x: Float80) -> Float80 { let (q, r) = TrigReduction.reduce(x); return q & 1 == 0 ? tanl(r) : -1 / tanl(r) }
        func sin(_ x: Float80) -> Float80 { let (q, r) = TrigReduction.reduce(x); return TrigReduction.sinQ(q, r) }
        func cos(_ x: Float80) -> Float80 { let (q, r) = TrigReduction.reduce(x); return TrigReduction.sinQ(q &+ 1, r) }
        #else
        func toDouble(_ v: FPValue) -> Double {
            var x = FPEnv()
            return Double(bitPattern: SoftFloat.round(v, .double, &x).bits64)
        }
        func fromDouble(_ d: Double) -> FPValue {
            var x = FPEnv()
            return SoftFloat.round(FPValue.unpack64(d.bitPattern, &x), .extended, &x)
        }
        #endif
        if a.isNaN || a.cls == .unsupported {
            let n = SoftFloat.specialOperands(a, a, x87: true, &e) ?? .defaultNaN
            if x87Commit(e.flags) { setST(0, n) }
            return
        }
        let x = toDouble(a)
        if a.cls == .finite && a.sig << 1 != 0 { e.flags |= FPFlag.inexact }
        switch code {
        case 0:   // F2XM1
            if x87Commit(e.flags) { setST(0, fromDouble(expm1(x * M_LN2))) }
        case 1, 9:   // FYL2X, FYL2XP1
            var e1 = FPEnv()
            let y = toDouble(stValue(1, &e1))
            let l = code == 1 ? log2(x) : log1p(x) / M_LN2
            if code == 1 && x < 0 { e.flags |= FPFlag.invalid }
            if code == 1 && x == 0 && y != 0 { e.flags |= FPFlag.divideByZero }
            if x87Commit(e.flags) { x87Pop(); setST(0, fromDouble(code == 1 ? y * l : (y / M_LN2) * log1p(x))) }
        case 2:   // FPTAN
            if abs(x) >= 9.223372036854775808e18 { fpu.fsw |= FSW.c2; return }
            if !stEmpty(7) { if x87Commit(0, stackFault: true, c1: true) { setST(0, .defaultNaN); x87Push(.defaultNaN) }; return }
            if a.cls == .infinity { e.flags |= FPFlag.invalid }
            if x87Commit(e.flags) {
                fpu.fsw &= ~FSW.c2
                setST(0, a.cls == .infinity ? .defaultNaN : fromDouble(tan(x)))
                x87Push(FPValue(sign: false, cls: .finite, exp: 0, sig: 1 << 63))
            }
        case 3:   // FPATAN
            var e1 = FPEnv()
            let y = toDouble(stValue(1, &e1))
            if x87Commit(e.flags) { x87Pop(); setST(0, fromDouble(atan2(y, x))) }
        case 11:  // FSINCOS
            if abs(x) >= 9.223372036854775808e18 { fpu.fsw |= FSW.c2; return }
            if !stEmpty(7) { if x87Commit(0, stackFault: true, c1: true) { setST(0, .defaultNaN); x87Push(.defaultNaN) }; return }
            if a.cls == .infinity { e.flags |= FPFlag.invalid }
            if x87Commit(e.flags) {
                fpu.fsw &= ~FSW.c2
                setST(0, a.cls == .infinity ? .defaultNaN : fromDouble(sin(x)))
                x87Push(a.cls == .infinity ? .defaultNaN : fromDouble(cos(x)))
            }
        case 14, 15:   // FSIN, FCOS
            if abs(x) >= 9.223372036854775808e18 { fpu.fsw |= FSW.c2; return }
            if a.cls == .infinity { e.flags |= FPFlag.invalid }
            if x87Commit(e.flags) {
                fpu.fsw &= ~FSW.c2
                setST(0, a.cls == .infinity ? .defaultNaN : fromDouble(code == 14 ? sin(x) : cos(x)))
            }
        default:
            throw Abort.exception(6, nil)
        }
    }
}

#if arch(x86_64) && (os(Linux) || os(macOS))
/// Argument reduction of FSIN, FCOS, FSINCOS and FPTAN: the processor computes sin(x·π/p) etc., where p is π
/// rounded to 68 bits (0.C90FDAA22168C234C × 2^2; Intel, "The Difference Between x87 Instructions FSIN, FCOS,
/// FSINCOS, and FPTAN and Mathematical Functions"). x is reduced by p/2 exactly in 128-bit fixed point.
enum TrigReduction {
    /// p/2 × 2^65 (66 bits): 0x3243F6A8885A308D3.
    static let halfP: UInt128 = 0x3_243F_6A88_85A3_08D3

    /// (quadrant, r) with x = quadrant × p/2 + r, |r| ≤ p/4; r is exact unless it needs more than 64 bits.
    static func reduce(_ x: Float80) -> (Int, Float80) {
        let mag = Swift.abs(x)
        if !(mag > 0.78) || !mag.isFinite { return (0, x) }
        let e = Int(mag.exponent) - 63                        // mag = m × 2^e, m a 64-bit integer
        let m = UInt128(mag.significandBitPattern | (1 << 63))
        let shift = e + 65
        guard shift >= 0 && shift <= 64 else { return (0, x) }
        let fixed = m << UInt128(shift)                     // mag × 2^65, exact
        var k = fixed / halfP
        var rem = Int128(fixed - k * halfP)
        if rem > Int128(halfP / 2) { k += 1; rem -= Int128(halfP) }
        var r = Float80(rem) * 0x1p-65
        if x < 0 { r = -r }
        let q = Int(truncatingIfNeeded: k & 3)
        return (x < 0 ? (4 - q) & 3 : q, r)
    }

    /// sin(q × π/2 + r).
    static func sinQ(_ q: Int, _ r: Float80) -> Float80 {
        switch q & 3 {
        case 0: return sinl(r)
        case 1: return cosl(r)
        case 2: return -sinl(r)
        default: return -cosl(r)
        }
    }
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
