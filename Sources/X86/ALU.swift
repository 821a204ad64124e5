// Integer arithmetic and logic (SDM Vol. 2 instruction pages; flags per "Flags Affected").

extension CPU {
    /// Performs ALU operation `op` (0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP) and
    /// returns the result. Flags are not touched: `commitALUFlags` sets them once the result is stored.
    @inline(__always)
    func aluResult(_ op: UInt8, _ size: UInt8, _ a: UInt64, _ b: UInt64) -> UInt64 {
        let m = sizeMask(size)
        switch op {
        case 0: return (a &+ b) & m
        case 1: return a | b
        case 2: return (a &+ b &+ (carryFlag ? 1 : 0)) & m
        case 3: return (a &- b &- (carryFlag ? 1 : 0)) & m
        case 4: return a & b
        case 6: return a ^ b
        default: return (a &- b) & m
        }
    }

    /// Sets the flags of ALU operation `op` given its operands and result.
    @inline(__always)
    func commitALUFlags(_ op: UInt8, _ size: UInt8, _ a: UInt64, _ b: UInt64, _ r: UInt64) {
        switch op {
        case 0: setLazy(.add, size, a, b, r)
        case 1, 4, 6: setLazy(.logic, size, a, b, r)
        case 5, 7: setLazy(.sub, size, a, b, r)
        case 2:
            let c = carryFlag
            let sb = signBit(size)
            var f = szpFlags(r, size)
            if c ? r <= a : r < a { f |= CPU.cfBit }
            if (a ^ r) & (b ^ r) & sb != 0 { f |= CPU.ofBit }
            if (a ^ b ^ r) & 0x10 != 0 { f |= CPU.afBit }
            setStatusFlags(f)
        default:
            let c = carryFlag
            let sb = signBit(size)
            var f = szpFlags(r, size)
            if c ? a <= b : a < b { f |= CPU.cfBit }
            if (a ^ b) & (a ^ r) & sb != 0 { f |= CPU.ofBit }
            if (a ^ b ^ r) & 0x10 != 0 { f |= CPU.afBit }
            setStatusFlags(f)
        }
    }

    /// ALU operation `op` (not ADC/SBB) on register `dst` with source value `b`: the register forms'
    /// fast path, with the flags recorded lazily in one go.
    @inline(__always)
    func aluRegFast(_ op: UInt8, _ size: UInt8, _ dst: UInt8, _ b: UInt64) {
        let a = readReg(dst, size)
        let r: UInt64
        let fop: FlagOp
        switch op {
        case 0: r = (a &+ b) & sizeMask(size); fop = .add
        case 1: r = a | b; fop = .logic
        case 4: r = a & b; fop = .logic
        case 6: r = a ^ b; fop = .logic
        default: r = (a &- b) & sizeMask(size); fop = .sub   // SUB, CMP
        }
        if op != 7 { writeReg(dst, size, r) }
        lazy = LazyFlags(op: fop, size: size, dst: a, src: b, res: r)
    }

    /// INC/DEC of a register: the register form's fast path.
    @inline(__always)
    func incDecRegFast(_ dst: UInt8, _ size: UInt8, dec: Bool) {
        let a = readReg(dst, size)
        let r = (dec ? a &- 1 : a &+ 1) & sizeMask(size)
        writeReg(dst, size, r)
        // CF survives INC/DEC: make it concrete in flagsBase first.
        let cf = carryFlag
        flagsBase = (flagsBase & ~CPU.cfBit) | (cf ? CPU.cfBit : 0)
        lazy = LazyFlags(op: dec ? .dec : .inc, size: size, dst: a, src: 1, res: r)
    }

    func execALURMReg(_ i: borrowing Instruction) throws(Abort) {
        try aluIntoRM(i, source: readReg(i.reg, i.opSize))
    }

    func execALURegRM(_ i: borrowing Instruction) throws(Abort) {
        let size = i.opSize
        let b = try readRM(i)
        let a = readReg(i.reg, size)
        let r = aluResult(i.sub, size, a, b)
        if i.sub != 7 { writeReg(i.reg, size, r) }
        commitALUFlags(i.sub, size, a, b, r)
    }

    func execALURMImm(_ i: borrowing Instruction) throws(Abort) {
        try aluIntoRM(i, source: i.imm & sizeMask(i.opSize))
    }

    /// ALU operation `i.sub` with the r/m operand as destination (CMP only reads it).
    @inline(__always)
    func aluIntoRM(_ i: borrowing Instruction, source b: UInt64) throws(Abort) {
        let size = i.opSize
        if i.isMem {
            let ea = effectiveAddress(i)
            let a = i.sub != 7 ? try readMemForWrite(i.seg, ea, size) : try readMem(i.seg, ea, size)
            let r = aluResult(i.sub, size, a, b)
            if i.sub != 7 { try writeMem(i.seg, ea, size, r) }
            commitALUFlags(i.sub, size, a, b, r)
        } else {
            let a = readReg(i.rm, size)
            let r = aluResult(i.sub, size, a, b)
            if i.sub != 7 { writeReg(i.rm, size, r) }
            commitALUFlags(i.sub, size, a, b, r)
        }
    }

    func execTest(_ i: borrowing Instruction, imm: Bool) throws(Abort) {
        let size = i.opSize
        let a = try readRM(i)
        let b = imm ? i.imm & sizeMask(size) : readReg(i.reg, size)
        setLazy(.logic, size, a, b, a & b)
    }

    func execIncDec(_ i: borrowing Instruction, dec: Bool) throws(Abort) {
        let size = i.opSize
        let a = try readRMForWrite(i)
        let r = (dec ? a &- 1 : a &+ 1) & sizeMask(size)
        try writeRM(i, r)
        setLazy(dec ? .dec : .inc, size, a, 1, r)
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
        var f = szpFlags(lo, size)
        if overflow { f |= CPU.cfBit | CPU.ofBit }
        setStatusFlags(f)
    }

    /// IMUL with two or three operands: truncated signed product.
    func execIMulReg(_ i: borrowing Instruction, three: Bool) throws(Abort) {
        let size = i.opSize
        let src = try readRM(i)
        let other = three ? i.imm & sizeMask(size) : readReg(i.reg, size)
        let m = sizeMask(size)
        let r: UInt64
        let overflow: Bool
        if size == 8 {
            let p = Int64(bitPattern: src).multipliedReportingOverflow(by: Int64(bitPattern: other))
            r = UInt64(bitPattern: p.partialValue)
            overflow = p.overflow
        } else {
            let p = Int64(bitPattern: signExtend(src, size)) &* Int64(bitPattern: signExtend(other, size))
            r = UInt64(bitPattern: p) & m
            overflow = p != Int64(bitPattern: signExtend(r, size))
        }
        writeReg(i.reg, size, r)
        var f = szpFlags(r, size)
        if overflow { f |= CPU.cfBit | CPU.ofBit }
        setStatusFlags(f)
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

    /// ROL ROR RCL RCR SHL SHR SAL SAR by `count` (SDM Vol. 2B "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR").
    func execShift(_ i: borrowing Instruction, count rawCount: UInt64) throws(Abort) {
        let size = i.opSize
        let bits = UInt64(size) * 8
        let count = rawCount & (size == 8 ? 63 : 31)
        let a = try readRMForWrite(i)
        if count == 0 {
            // No flags change; a 32-bit register destination is still written (upper half zeroed).
            let isMem = i.isMem
            if size == 4 && !isMem { writeReg(i.rm, 4, a) }
            return
        }
        let m = sizeMask(size)
        let sb = signBit(size)
        var r: UInt64
        var f: UInt64
        switch i.sub {
        case 0: // ROL
            f = materializedFlags() & CPU.statusBits
            let c = count % bits
            r = c == 0 ? a : ((a << c) | (a >> (bits - c))) & m
            let cf = r & 1
            f = (f & ~(CPU.cfBit | CPU.ofBit)) | cf
            if ((r & sb != 0 ? 1 : 0) ^ cf) != 0 { f |= CPU.ofBit }
        case 1: // ROR
            f = materializedFlags() & CPU.statusBits
            let c = count % bits
            r = c == 0 ? a : ((a >> c) | (a << (bits - c))) & m
            f &= ~(CPU.cfBit | CPU.ofBit)
            if r & sb != 0 { f |= CPU.cfBit }
            if ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1 != 0 { f |= CPU.ofBit }
        case 2, 3: // RCL, RCR through CF over bits+1 bits
            let old = materializedFlags()
            f = old & CPU.statusBits
            let c = size < 4 ? count % (bits + 1) : count
            var cf: UInt64 = old & 1
            r = a
            if c > 0 {
                for _ in 0..<c {
                    if i.sub == 2 {
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
            if i.sub == 2 {
                if ((r & sb != 0 ? 1 : 0) ^ cf) != 0 { f |= CPU.ofBit }
            } else if ((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1 != 0 {
                f |= CPU.ofBit
            }
        case 4, 6: // SHL/SAL
            r = count >= bits ? 0 : (a << count) & m
            let cf: UInt64 = count <= bits ? (a >> (bits - count)) & 1 : 0
            f = szpFlags(r, size) | cf
            if ((r & sb != 0 ? 1 : 0) ^ cf) != 0 { f |= CPU.ofBit }
        case 5: // SHR
            r = count >= bits ? 0 : a >> count
            let cf: UInt64 = count <= bits ? (a >> (count - 1)) & 1 : 0
            f = szpFlags(r, size) | cf
            if count == 1 && a & sb != 0 { f |= CPU.ofBit }
        default: // SAR
            let s = Int64(bitPattern: signExtend(a, size))
            r = UInt64(bitPattern: s >> Int64(min(count, 63))) & m
            let cf = UInt64(bitPattern: s >> Int64(min(count - 1, 63))) & 1
            f = szpFlags(r, size) | cf
        }
        try writeRM(i, r)
        setStatusFlags(f)
    }

    /// SHL/SAL/SHR/SAR (`sub` 4–7) of a register: the register forms' fast path, same results as `execShift`.
    @inline(__always)
    func shiftRegFast(_ sub: UInt8, _ size: UInt8, _ rm: UInt8, _ rawCount: UInt64) {
        let count = rawCount & (size == 8 ? 63 : 31)
        let a = readReg(rm, size)
        if count == 0 {
            // No flags change; a 32-bit register destination is still written (upper half zeroed).
            if size == 4 { writeReg(rm, 4, a) }
            return
        }
        let bits = UInt64(size) * 8
        let sb = signBit(size)
        let r: UInt64
        var f: UInt64
        switch sub {
        case 5: // SHR
            r = count >= bits ? 0 : a >> count
            let cf: UInt64 = count <= bits ? (a >> (count - 1)) & 1 : 0
            f = szpFlags(r, size) | cf
            if count == 1 && a & sb != 0 { f |= CPU.ofBit }
        case 7: // SAR
            let s = Int64(bitPattern: signExtend(a, size))
            r = UInt64(bitPattern: s >> Int64(min(count, 63))) & sizeMask(size)
            let cf = UInt64(bitPattern: s >> Int64(min(count - 1, 63))) & 1
            f = szpFlags(r, size) | cf
        default: // SHL/SAL
            r = count >= bits ? 0 : (a << count) & sizeMask(size)
            let cf: UInt64 = count <= bits ? (a >> (bits - count)) & 1 : 0
            f = szpFlags(r, size) | cf
            if ((r & sb != 0 ? 1 : 0) ^ cf) != 0 { f |= CPU.ofBit }
        }
        writeReg(rm, size, r)
        setStatusFlags(f)
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
                let al = ((ax & 0xFF) &- 6) & 0xFF
                let ah = ((ax >> 8) &- 1) & 0xFF
                ax = (ah << 8) | al
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
