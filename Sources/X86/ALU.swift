// Integer arithmetic and logic (SDM Vol. 2 instruction pages; flags per "Flags Affected").

/// The ALU operations of the 00–3F opcodes and of group 1 (80–83), numbered as ModRM.reg / `Instruction.sub`
/// numbers them (SDM Vol. 2, Table A-6).
enum ALUOp {
    static let add: UInt8 = 0, or: UInt8 = 1, adc: UInt8 = 2, sbb: UInt8 = 3
    static let and: UInt8 = 4, sub: UInt8 = 5, xor: UInt8 = 6, cmp: UInt8 = 7
}

/// The shifts and rotates of group 2 (C0 C1 D0–D3), numbered as ModRM.reg numbers them (6, SAL, is SHL).
enum ShiftOp {
    static let rol: UInt8 = 0, ror: UInt8 = 1, rcl: UInt8 = 2, rcr: UInt8 = 3
    static let shl: UInt8 = 4, shr: UInt8 = 5, sal: UInt8 = 6, sar: UInt8 = 7
}

// MARK: The operations
//
// One semantics per operation: the general path (`execute` and the `exec…` functions below), the specialised
// forms (FastForms.swift) and any later front end call these, and differ only in how they reach the operands.
// Each takes operand values cut to the operand size, records the status flags and returns the result; none
// reads or writes an operand itself. They are `@_transparent` so that a constant operation or size folds away
// wherever they are used, including inside the block loop (see FastForms.swift).

extension CPU {
    /// ALU operation `op` (`ALUOp`) on `a` and `b`, both cut to `size` bytes: records the flags and returns
    /// the result cut to `size` (for CMP, the difference, which the caller does not store).
    @_transparent
    func alu(_ op: UInt8, _ size: UInt8, _ a: UInt64, _ b: UInt64) -> UInt64 {
        let r: UInt64
        switch op {
        case ALUOp.add:
            r = (a &+ b) & sizeMask(size)
            lazy = LazyFlags(op: .add, size: size, dst: a, src: b, res: r)
        case ALUOp.or:
            r = a | b
            lazy = LazyFlags(op: .logic, size: size, dst: a, src: b, res: r)
        case ALUOp.and:
            r = a & b
            lazy = LazyFlags(op: .logic, size: size, dst: a, src: b, res: r)
        case ALUOp.xor:
            r = a ^ b
            lazy = LazyFlags(op: .logic, size: size, dst: a, src: b, res: r)
        case ALUOp.adc, ALUOp.sbb:
            r = aluWithCarry(subtract: op == ALUOp.sbb, size, a, b)
        default:   // SUB, CMP
            r = (a &- b) & sizeMask(size)
            lazy = LazyFlags(op: .sub, size: size, dst: a, src: b, res: r)
        }
        return r
    }

    /// ADC (`subtract` false) or SBB of `a` and `b` at `size` bytes: sets the flags concretely (the lazy flags
    /// have no carry-in) and returns the result.
    @inline(__always)
    func aluWithCarry(subtract: Bool, _ size: UInt8, _ a: UInt64, _ b: UInt64) -> UInt64 {
        let c = carryFlag
        let sb = signBit(size)
        let r: UInt64
        var f: UInt64
        if subtract {
            r = (a &- b &- (c ? 1 : 0)) & sizeMask(size)
            f = szpFlags(r, size)
            if c ? a <= b : a < b { f |= CPU.cfBit }
            if (a ^ b) & (a ^ r) & sb != 0 { f |= CPU.ofBit }
        } else {
            r = (a &+ b &+ (c ? 1 : 0)) & sizeMask(size)
            f = szpFlags(r, size)
            if c ? r <= a : r < a { f |= CPU.cfBit }
            if (a ^ r) & (b ^ r) & sb != 0 { f |= CPU.ofBit }
        }
        if (a ^ b ^ r) & 0x10 != 0 { f |= CPU.afBit }
        setStatusFlags(f)
        return r
    }

    /// TEST (and the flags of AND): records the flags of `a & b` at `size` bytes.
    @_transparent
    func testFlags(_ a: UInt64, _ b: UInt64, _ size: UInt8) {
        lazy = LazyFlags(op: .logic, size: size, dst: a, src: b, res: a & b)
    }

    /// INC (`dec` false) or DEC of `a` at `size` bytes: records the flags (CF is kept: made concrete in
    /// `flagsBase` first) and returns the result.
    @_transparent
    func incDec(_ a: UInt64, _ size: UInt8, dec: Bool) -> UInt64 {
        let r = (dec ? a &- 1 : a &+ 1) & sizeMask(size)
        let cf = carryFlag
        flagsBase = (flagsBase & ~CPU.cfBit) | (cf ? CPU.cfBit : 0)
        lazy = LazyFlags(op: dec ? .dec : .inc, size: size, dst: a, src: 1, res: r)
        return r
    }

    /// Two- and three-operand IMUL of `a` and `b` at `size` bytes (2, 4 or 8): records the flags and returns
    /// the truncated signed product cut to `size`.
    @_transparent
    func imul(_ size: UInt8, _ a: UInt64, _ b: UInt64) -> UInt64 {
        if size == 8 {
            let p = Int64(bitPattern: a).multipliedReportingOverflow(by: Int64(bitPattern: b))
            let r = UInt64(bitPattern: p.partialValue)
            setMultiplyFlags(r, 8, overflow: p.overflow)
            return r
        }
        let p = Int64(bitPattern: signExtend(a, size)) &* Int64(bitPattern: signExtend(b, size))
        let r = UInt64(bitPattern: p) & sizeMask(size)
        setMultiplyFlags(r, size, overflow: p != Int64(bitPattern: signExtend(r, size)))
        return r
    }

    /// Flags of MUL and IMUL: CF = OF = the product did not fit the destination; SF, ZF, PF of the (low)
    /// result, AF clear (SDM Vol. 2A "MUL", "IMUL": SF, ZF, AF and PF are undefined; these are what this model
    /// defines them as).
    @_transparent
    func setMultiplyFlags(_ r: UInt64, _ size: UInt8, overflow: Bool) {
        var f = szpFlags(r, size)
        if overflow { f |= CPU.cfBit | CPU.ofBit }
        setStatusFlags(f)
    }

    /// Shift or rotate `op` (`ShiftOp`) of `a` (cut to `size` bytes) by `count`, already masked to 5 bits (6
    /// for 64-bit operands) and not 0: records the flags and returns the result (SDM Vol. 2B "SAL/SAR/SHL/SHR",
    /// "RCL/RCR/ROL/ROR"). A count of 0 changes nothing; the callers handle it.
    @_transparent
    func shift(_ op: UInt8, _ size: UInt8, _ a: UInt64, by count: UInt64) -> UInt64 {
        let bits = UInt64(size) &* 8
        let sb = signBit(size)
        let r: UInt64
        var f: UInt64
        switch op {
        case ShiftOp.shl, ShiftOp.sal:
            r = count >= bits ? 0 : (a << count) & sizeMask(size)
            let cf: UInt64 = count <= bits ? (a >> (bits &- count)) & 1 : 0
            f = szpFlags(r, size) | cf
            if ((r & sb != 0 ? 1 : 0) ^ cf) != 0 { f |= CPU.ofBit }
        case ShiftOp.shr:
            r = count >= bits ? 0 : a >> count
            let cf: UInt64 = count <= bits ? (a >> (count &- 1)) & 1 : 0
            f = szpFlags(r, size) | cf
            if count == 1 && a & sb != 0 { f |= CPU.ofBit }
        case ShiftOp.sar:
            let s = Int64(bitPattern: signExtend(a, size))
            r = UInt64(bitPattern: s >> Int64(min(count, 63))) & sizeMask(size)
            let cf = UInt64(bitPattern: s >> Int64(min(count &- 1, 63))) & 1
            f = szpFlags(r, size) | cf
        default:
            return rotate(op, size, a, by: count)
        }
        setStatusFlags(f)
        return r
    }

    /// ROL ROR RCL RCR (`op` 0–3) of `a` by `count` (see `shift`): sets CF and OF, keeps the other flags.
    func rotate(_ op: UInt8, _ size: UInt8, _ a: UInt64, by count: UInt64) -> UInt64 {
        let bits = UInt64(size) * 8
        let m = sizeMask(size)
        let sb = signBit(size)
        var r: UInt64
        var f: UInt64
        switch op {
        case ShiftOp.rol:
            f = materializedFlags() & CPU.statusBits
            let c = count % bits
            r = c == 0 ? a : ((a << c) | (a >> (bits - c))) & m
            let cf = r & 1
            f = (f & ~(CPU.cfBit | CPU.ofBit)) | cf
            if ((r & sb != 0 ? 1 : 0) ^ cf) != 0 { f |= CPU.ofBit }
        case ShiftOp.ror:
            f = materializedFlags() & CPU.statusBits
            let c = count % bits
            r = c == 0 ? a : ((a >> c) | (a << (bits - c))) & m
            f &= ~(CPU.cfBit | CPU.ofBit)
            if r & sb != 0 { f |= CPU.cfBit }
            if ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1 != 0 { f |= CPU.ofBit }
        default: // RCL, RCR through CF over bits+1 bits
            let old = materializedFlags()
            f = old & CPU.statusBits
            let c = size < 4 ? count % (bits + 1) : count
            var cf: UInt64 = old & 1
            r = a
            if c > 0 {
                for _ in 0..<c {
                    if op == ShiftOp.rcl {
                        let out = (r & sb) != 0 ? UInt64(1) : 0
                        r = ((r << 1) | cf) & m
                        cf = out
                    } else {
                        let out = r & 1
                        r = (r >> 1) | (cf << (bits - 1))
                        cf = out
                    }
                }
            }
            f = (f & ~(CPU.cfBit | CPU.ofBit)) | cf
            if op == ShiftOp.rcl {
                if ((r & sb != 0 ? 1 : 0) ^ cf) != 0 { f |= CPU.ofBit }
            } else if ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1 != 0 {
                f |= CPU.ofBit
            }
        }
        setStatusFlags(f)
        return r
    }
}

// MARK: The general path: operands through `readReg`/`writeReg`, `readRM`/`writeRM`

extension CPU {
    /// ALU operation `op` with register `dst` (`readReg` numbering) as destination and `b` as source
    /// (CMP only reads the register).
    @inline(__always)
    func aluIntoRegister(_ op: UInt8, _ size: UInt8, _ dst: UInt8, _ b: UInt64) {
        let r = alu(op, size, readReg(dst, size), b)
        if op != ALUOp.cmp { writeReg(dst, size, r) }
    }

    /// Shift or rotate `op` of register `rm` by `rawCount` (masked here). A count of 0 changes no flag but a
    /// 32-bit destination is still written (its upper half zeroed).
    @inline(__always)
    func shiftRegister(_ op: UInt8, _ size: UInt8, _ rm: UInt8, _ rawCount: UInt64) {
        let count = rawCount & (size == 8 ? 63 : 31)
        let a = readReg(rm, size)
        if count == 0 {
            if size == 4 { writeReg(rm, 4, a) }
            return
        }
        writeReg(rm, size, shift(op, size, a, by: count))
    }

    func execALURMReg(_ i: borrowing Instruction) throws(Abort) {
        try aluIntoRM(i, source: readReg(i.reg, i.opSize))
    }

    func execALURegRM(_ i: borrowing Instruction) throws(Abort) {
        let b = try readRM(i)
        aluIntoRegister(i.sub, i.opSize, i.reg, b)
    }

    func execALURMImm(_ i: borrowing Instruction) throws(Abort) {
        try aluIntoRM(i, source: i.imm & sizeMask(i.opSize))
    }

    /// ALU operation `i.sub` with the r/m operand as destination (CMP only reads it). The flags are recorded
    /// before the store; a fault in the store restores them with the rest of the instruction's effects
    /// (`CPU.finishAbort`).
    @inline(__always)
    func aluIntoRM(_ i: borrowing Instruction, source b: UInt64) throws(Abort) {
        let size = i.opSize
        if i.isMem {
            let ea = effectiveAddress(i)
            let a = i.sub != ALUOp.cmp ? try readMemForWrite(i.seg, ea, size) : try readMem(i.seg, ea, size)
            let r = alu(i.sub, size, a, b)
            if i.sub != ALUOp.cmp { try writeMem(i.seg, ea, size, r) }
        } else {
            aluIntoRegister(i.sub, size, i.rm, b)
        }
    }

    func execTest(_ i: borrowing Instruction, imm: Bool) throws(Abort) {
        let size = i.opSize
        let a = try readRM(i)
        let b = imm ? i.imm & sizeMask(size) : readReg(i.reg, size)
        testFlags(a, b, size)
    }

    func execIncDec(_ i: borrowing Instruction, dec: Bool) throws(Abort) {
        let a = try readRMForWrite(i)
        try writeRM(i, incDec(a, i.opSize, dec: dec))
    }

    func execNotNeg(_ i: borrowing Instruction, neg: Bool) throws(Abort) {
        let size = i.opSize
        let a = try readRMForWrite(i)
        if neg {
            let r = (0 &- a) & sizeMask(size)
            try writeRM(i, r)
            setLazy(.sub, size, 0, a, r)
        } else {
            try writeRM(i, ~a & sizeMask(size))
        }
    }

    /// MUL, IMUL (one operand): rDX:rAX ← rAX × r/m.
    func execMul(_ i: borrowing Instruction, signed: Bool) throws(Abort) {
        let size = i.opSize
        let src = try readRM(i)
        var lo: UInt64, hi: UInt64
        var overflow: Bool
        switch size {
        case 1:
            let a = gpr[Reg.rax] & 0xFF
            if signed {
                let p = Int64(Int8(truncatingIfNeeded: a)) * Int64(Int8(truncatingIfNeeded: src))
                lo = UInt64(bitPattern: p) & 0xFFFF
                overflow = p != Int64(Int8(truncatingIfNeeded: p))
            } else {
                lo = a * src
                overflow = lo > 0xFF
            }
            writeReg(0, 2, lo)
            hi = lo >> 8
            lo &= 0xFF
        case 2, 4:
            let bits = UInt64(size) * 8
            let m = sizeMask(size)
            let a = gpr[Reg.rax] & m
            let p: UInt64
            if signed {
                let sp = Int64(bitPattern: signExtend(a, size)) &* Int64(bitPattern: signExtend(src, size))
                p = UInt64(bitPattern: sp)
                overflow = sp != Int64(bitPattern: signExtend(UInt64(bitPattern: sp) & m, size))
            } else {
                p = a &* src
                overflow = p >> bits != 0
            }
            lo = p & m
            hi = (p >> bits) & m
            writeReg(0, size, lo)
            writeReg(2, size, hi)
        default:
            let a = gpr[Reg.rax]
            if signed {
                let r = Int64(bitPattern: a).multipliedFullWidth(by: Int64(bitPattern: src))
                hi = UInt64(bitPattern: r.high); lo = r.low
                overflow = hi != (Int64(bitPattern: lo) < 0 ? ~0 : 0)
            } else {
                let r = a.multipliedFullWidth(by: src)
                hi = r.high; lo = r.low
                overflow = hi != 0
            }
            gpr[Reg.rax] = lo; gpr[Reg.rdx] = hi
        }
        setMultiplyFlags(lo, size, overflow: overflow)
    }

    /// IMUL with two or three operands: truncated signed product.
    func execIMulReg(_ i: borrowing Instruction, three: Bool) throws(Abort) {
        let size = i.opSize
        let src = try readRM(i)
        let other = three ? i.imm & sizeMask(size) : readReg(i.reg, size)
        writeReg(i.reg, size, imul(size, src, other))
    }

    /// DIV, IDIV: rAX (and rDX) ÷ r/m; #DE on a zero divisor or a quotient that does not fit.
    func execDiv(_ i: borrowing Instruction, signed: Bool) throws(Abort) {
        let size = i.opSize
        let divisor = try readRM(i)
        if divisor == 0 { throw Abort.de }
        let m = sizeMask(size)
        if size == 8 {
            let hi = gpr[Reg.rdx], lo = gpr[Reg.rax]
            if !signed {
                if hi >= divisor { throw Abort.de }
                let (q, r) = divisor.dividingFullWidth((high: hi, low: lo))
                gpr[Reg.rax] = q; gpr[Reg.rdx] = r
                return
            }
            let negDividend = Int64(bitPattern: hi) < 0
            var (ahi, alo) = (hi, lo)
            if negDividend { (ahi, alo) = negate128(hi, lo) }
            let negDivisor = Int64(bitPattern: divisor) < 0
            let adiv = negDivisor ? 0 &- divisor : divisor
            if ahi >= adiv { throw Abort.de }
            let (q, r) = adiv.dividingFullWidth((high: ahi, low: alo))
            let negQ = negDividend != negDivisor
            if negQ ? q > (1 << 63) : q > UInt64(Int64.max) { throw Abort.de }
            gpr[Reg.rax] = negQ ? 0 &- q : q
            gpr[Reg.rdx] = negDividend ? 0 &- r : r
            return
        }
        let bits = UInt64(size) * 8
        let dividend: UInt64
        if size == 1 { dividend = gpr[Reg.rax] & 0xFFFF } else { dividend = ((gpr[Reg.rdx] & m) << bits) | (gpr[Reg.rax] & m) }
        var q: UInt64, r: UInt64
        if signed {
            let dsz: UInt8 = size * 2
            let sd = Int64(bitPattern: signExtend(dividend, dsz))
            let sv = Int64(bitPattern: signExtend(divisor, size))
            // Int64.min / -1 (a 32-bit IDIV of 0x80000000_00000000 by -1) overflows: #DE, never a trap in Swift.
            let (sq, qOverflow) = sd.dividedReportingOverflow(by: sv)
            if qOverflow { throw Abort.de }
            let sr = sd.remainderReportingOverflow(dividingBy: sv).partialValue
            let lim = Int64(1) << (bits - 1)
            if sq >= lim || sq < -lim { throw Abort.de }
            q = UInt64(bitPattern: sq) & m
            r = UInt64(bitPattern: sr) & m
        } else {
            q = dividend / divisor
            r = dividend % divisor
            if q > m { throw Abort.de }
        }
        if size == 1 {
            writeReg(0, 2, q | (r << 8))
        } else {
            writeReg(0, size, q)
            writeReg(2, size, r)
        }
    }

    /// Two's-complement negation of a 128-bit value.
    @inline(__always) func negate128(_ hi: UInt64, _ lo: UInt64) -> (UInt64, UInt64) {
        let nlo = 0 &- lo
        let nhi = ~hi &+ (lo == 0 ? 1 : 0)
        return (nhi, nlo)
    }

    // MARK: Shifts and rotates

    /// ROL ROR RCL RCR SHL SHR SAL SAR of the r/m operand by `rawCount` (masked here).
    func execShift(_ i: borrowing Instruction, count rawCount: UInt64) throws(Abort) {
        let size = i.opSize
        if !i.isMem { shiftRegister(i.sub, size, i.rm, rawCount); return }
        let count = rawCount & (size == 8 ? 63 : 31)
        let a = try readRMForWrite(i)
        if count == 0 { return }   // no flags change, nothing is stored
        try writeRM(i, shift(i.sub, size, a, by: count))
    }

    /// SHLD/SHRD (SDM Vol. 2B).
    func execDoubleShift(_ i: Instruction, left: Bool, count rawCount: UInt64) throws(Abort) {
        let size = i.opSize
        let bits = UInt64(size) * 8
        let count = rawCount & (size == 8 ? 63 : 31)
        let a = try readRMForWrite(i)
        if count == 0 {
            if size == 4 && !i.isMem { writeReg(i.rm, 4, a) }   // the 32-bit destination is still zero-extended
            return
        }
        let b = readReg(i.reg, size)
        let m = sizeMask(size)
        let sb = signBit(size)
        var r: UInt64, cf: UInt64
        if count <= bits {
            // A count equal to the operand size (16-bit operands only) moves the whole source in.
            if left {
                r = ((a << count) | (b >> (bits - count))) & m
                cf = (a >> (bits - count)) & 1
            } else {
                r = ((a >> count) | (b << (bits - count))) & m
                cf = (a >> (count - 1)) & 1
            }
        } else {
            // 16-bit operand with a count of 16–31: undefined by the SDM. Shift the 32-bit
            // concatenation (dest:src) as a wider operand.
            let wide = left ? (a << 16) | b : (b << 16) | a
            if left {
                r = ((wide << (count - 16)) >> 16) & m
                cf = (wide >> (32 - (count - 16) - 16 + 15)) & 1
            } else {
                r = (wide >> (count - 16 + 0)) & m
                cf = (wide >> (count - 1)) & 1
            }
        }
        var f = szpFlags(r, size) | cf
        if (a ^ r) & sb != 0 { f |= CPU.ofBit }
        try writeRM(i, r)
        setStatusFlags(f)
    }

    // MARK: Bit operations

    /// BT, BTS, BTR, BTC with a register or immediate bit offset.
    func execBitTest(_ i: borrowing Instruction, immediate: Bool) throws(Abort) {
        let size = i.opSize
        let bits = UInt64(size) * 8
        var offset = immediate ? i.imm & 0xFF : readReg(i.reg, size)
        if i.isMem {
            var ea = effectiveAddress(i)
            if !immediate {
                // The register offset addresses memory beyond the operand (signed).
                let so = Int64(bitPattern: signExtend(offset, size))
                let shift = Int64(size == 8 ? 6 : (size == 4 ? 5 : 4))
                ea = ea &+ UInt64(bitPattern: (so >> shift) &* Int64(size))
                switch i.addrSize {
                case 2: ea &= 0xFFFF
                case 4: ea &= 0xFFFF_FFFF
                default: break
                }
            }
            offset &= bits - 1
            let v = i.sub != 0 ? try readMemForWrite(i.seg, ea, size) : try readMem(i.seg, ea, size)
            let bit = (v >> offset) & 1
            if i.sub != 0 {
                let nv: UInt64
                switch i.sub {
                case 1: nv = v | (1 << offset)
                case 2: nv = v & ~(1 << offset)
                default: nv = v ^ (1 << offset)
                }
                try writeMem(i.seg, ea, size, nv)
            }
            setCarryOnly(bit != 0)
        } else {
            offset &= bits - 1
            let v = readReg(i.rm, size)
            let bit = (v >> offset) & 1
            switch i.sub {
            case 1: writeReg(i.rm, size, v | (1 << offset))
            case 2: writeReg(i.rm, size, v & ~(1 << offset))
            case 3: writeReg(i.rm, size, v ^ (1 << offset))
            default: break
            }
            setCarryOnly(bit != 0)
        }
    }

    /// Sets CF, leaving the other status flags as they are.
    @inline(__always) func setCarryOnly(_ c: Bool) {
        let f = materializedFlags()
        flagsBase = (f & ~CPU.cfBit) | (c ? CPU.cfBit : 0)
        lazy.op = .none
    }

    /// BSF/BSR: destination unchanged and ZF set when the source is zero.
    func execBitScan(_ i: borrowing Instruction, reverse: Bool) throws(Abort) {
        let size = i.opSize
        let v = try readRM(i)
        let f = materializedFlags()
        if v == 0 {
            flagsBase = f | CPU.zfBit
            lazy.op = .none
            if size == 4 { writeReg(i.reg, 4, readReg(i.reg, 4)) }   // 32-bit destinations are zero-extended
            return
        }
        let idx = reverse ? UInt64(63 - v.leadingZeroBitCount) : UInt64(v.trailingZeroBitCount)
        writeReg(i.reg, size, idx)
        flagsBase = f & ~CPU.zfBit
        lazy.op = .none
    }

    func execPopcnt(_ i: borrowing Instruction) throws(Abort) {
        let v = try readRM(i)
        writeReg(i.reg, i.opSize, UInt64(v.nonzeroBitCount))
        setStatusFlags(v == 0 ? CPU.zfBit : 0)
    }

    func execBswap(_ i: borrowing Instruction) {
        switch i.opSize {
        case 8: gpr[Int(i.rm & 15)] = gpr[Int(i.rm & 15)].byteSwapped
        case 4: writeReg(i.rm, 4, UInt64(UInt32(truncatingIfNeeded: gpr[Int(i.rm & 15)]).byteSwapped))
        default: writeReg(i.rm, 2, 0)   // undefined by the SDM; Intel processors clear the word
        }
    }

    // MARK: Exchange and compare

    func execXchg(_ i: borrowing Instruction) throws(Abort) {
        let size = i.opSize
        let a = readReg(i.reg, size)
        let b = try readRMForWrite(i)
        try writeRM(i, a)
        writeReg(i.reg, size, b)
    }

    func execXadd(_ i: borrowing Instruction) throws(Abort) {
        let size = i.opSize
        let src = readReg(i.reg, size)
        let dst = try readRMForWrite(i)
        let r = (src &+ dst) & sizeMask(size)
        if i.isMem {
            try writeRM(i, r)
            writeReg(i.reg, size, dst)
        } else {
            writeReg(i.reg, size, dst)
            writeReg(i.rm, size, r)
        }
        setLazy(.add, size, dst, src, r)
    }

    func execCmpxchg(_ i: borrowing Instruction) throws(Abort) {
        let size = i.opSize
        let dst = try readRMForWrite(i)
        let acc = readReg(0, size)
        let r = (acc &- dst) & sizeMask(size)
        if acc == dst {
            try writeRM(i, readReg(i.reg, size))
        } else {
            if i.isMem { try writeRM(i, dst) }
            writeReg(0, size, dst)
        }
        setLazy(.sub, size, acc, dst, r)
    }

    func execCmpxchg8b(_ i: borrowing Instruction) throws(Abort) {
        guard i.isMem else { throw Abort.ud }
        let ea = effectiveAddress(i)
        if i.flags & InstructionFlags.rexW != 0 {
            // CMPXCHG16B: the operand must be 16-byte aligned.
            if ea & 15 != 0 { throw Abort.gp(0) }
            try probeWrite(i.seg, ea, 16)   // a locked read-modify-write: faults report a write
            let lo = try readMem(i.seg, ea, 8)
            let hi = try readMem(i.seg, ea &+ 8, 8)
            let f = materializedFlags()
            if lo == gpr[Reg.rax] && hi == gpr[Reg.rdx] {
                try writeMem(i.seg, ea, 8, gpr[Reg.rbx])
                try writeMem(i.seg, ea &+ 8, 8, gpr[Reg.rcx])
                flagsBase = f | CPU.zfBit
            } else {
                try writeMem(i.seg, ea, 8, lo)
                try writeMem(i.seg, ea &+ 8, 8, hi)
                gpr[Reg.rax] = lo; gpr[Reg.rdx] = hi
                flagsBase = f & ~CPU.zfBit
            }
            lazy.op = .none
            return
        }
        let v = try readMemForWrite(i.seg, ea, 8)
        let f = materializedFlags()
        let cmp = (gpr[Reg.rdx] & 0xFFFF_FFFF) << 32 | (gpr[Reg.rax] & 0xFFFF_FFFF)
        if v == cmp {
            try writeMem(i.seg, ea, 8, (gpr[Reg.rcx] & 0xFFFF_FFFF) << 32 | (gpr[Reg.rbx] & 0xFFFF_FFFF))
            flagsBase = f | CPU.zfBit
        } else {
            try writeMem(i.seg, ea, 8, v)
            writeReg(0, 4, v & 0xFFFF_FFFF)
            writeReg(2, 4, v >> 32)
            flagsBase = f & ~CPU.zfBit
        }
        lazy.op = .none
    }

    // MARK: BCD (16- and 32-bit modes)

    func execDAA(subtract: Bool) {
        let f = materializedFlags()
        var al = gpr[Reg.rax] & 0xFF
        let oldAL = al
        let oldCF = f & CPU.cfBit != 0
        var cf = false, af = false
        if al & 0xF > 9 || f & CPU.afBit != 0 {
            if subtract {
                cf = oldCF || al < 6
                al = (al &- 6) & 0xFF
            } else {
                cf = oldCF || al > 0xF9
                al = (al &+ 6) & 0xFF
            }
            af = true
        }
        if oldAL > 0x99 || oldCF {
            al = subtract ? (al &- 0x60) & 0xFF : (al &+ 0x60) & 0xFF
            cf = true
        }
        writeReg(0, 1, al)
        var nf = szpFlags(al, 1)
        if cf { nf |= CPU.cfBit }
        if af { nf |= CPU.afBit }
        setStatusFlags(nf)
    }

    func execAAA(subtract: Bool) {
        let f = materializedFlags()
        var ax = gpr[Reg.rax] & 0xFFFF
        var nf: UInt64 = 0
        if ax & 0xF > 9 || f & CPU.afBit != 0 {
            if subtract {
                // AX ← AX − 6 (a borrow out of AL decrements AH), then AH ← AH − 1 (SDM Vol. 2A AAS).
                ax = (ax &- 6) & 0xFFFF
                ax = (ax &- 0x100) & 0xFFFF
            } else {
                ax = (ax &+ 0x106) & 0xFFFF
            }
            nf = CPU.afBit | CPU.cfBit
        }
        ax &= 0xFF0F
        writeReg(0, 2, ax)
        nf |= szpFlags(ax & 0xFF, 1)
        setStatusFlags(nf)
    }

    func execAAM(_ base: UInt64) throws(Abort) {
        if base == 0 { throw Abort.de }
        let al = gpr[Reg.rax] & 0xFF
        let r = ((al / base) << 8) | (al % base)
        writeReg(0, 2, r)
        setStatusFlags(szpFlags(r & 0xFF, 1))
    }

    func execAAD(_ base: UInt64) {
        let al = gpr[Reg.rax] & 0xFF, ah = (gpr[Reg.rax] >> 8) & 0xFF
        let r = (al &+ ah &* base) & 0xFF
        writeReg(0, 2, r)
        setStatusFlags(szpFlags(r, 1))
    }
}
