// SSE3, SSSE3, SSE4.1 and the SSE4.2 integer instructions (SDM Vol. 2 instruction pages; Vol. 1 §12.
// "Programming with SSE3, SSSE3, SSE4 and AESNI"). Floating-point lanes go through `sseLane` and SoftFloat
// (MXCSR rounding, DAZ/FTZ, flags and #XM) like SSE/SSE2; integer lanes reuse SSE.swift's lane helpers.
// The string and text instructions (PCMPESTRI…PCMPISTRM) are in SSE42Strings.swift.

/// CPUID.1:ECX bits of the units in this file and SSE42Strings.swift (SDM Vol. 2A CPUID, Table 3-10).
enum SSEFeature {
    /// SSE3 (PNI).
    static let sse3: UInt32 = 1 << 0
    /// SSSE3.
    static let ssse3: UInt32 = 1 << 9
    /// SSE4.1.
    static let sse41: UInt32 = 1 << 19
    /// SSE4.2.
    static let sse42: UInt32 = 1 << 20
    /// All of them.
    static let all: UInt32 = sse3 | ssse3 | sse41 | sse42
}

extension CPU {
    /// CPUID.1:ECX feature bits reported by the SSE unit beyond SSE2: SSE3, SSSE3, SSE4.1, SSE4.2.
    var sseFeatureECX1: UInt32 { SSEFeature.all }

    // MARK: SSE3 (two-byte map)

    /// Whether (opcode, mandatory prefix) is an SSE3 encoding of the 0F map.
    @inline(__always) static func isSSE3(_ op: UInt8, _ pfx: Int) -> Bool {
        switch (op, pfx) {
        case (0xD0, 1), (0xD0, 2), (0x7C, 1), (0x7C, 2), (0x7D, 1), (0x7D, 2), (0x12, 2), (0x12, 3), (0x16, 3), (0xF0, 2):
            return true
        default:
            return false
        }
    }

    /// ADDSUBPS/PD, HADDPS/PD, HSUBPS/PD, MOVSLDUP, MOVSHDUP, MOVDDUP, LDDQU.
    func execSSE3(_ i: borrowing Instruction, _ op: UInt8, _ pfx: Int) throws(Abort) {
        let d = i.reg
        switch op {
        case 0x12 where pfx == 2:   // MOVDDUP xmm, xmm/m64
            let v = try readXMMRMLow(i, 8)
            setXMMValue(d, V128(lo: v, hi: v))
        case 0x12, 0x16:            // MOVSLDUP / MOVSHDUP
            let b = try readXMMRM(i, aligned: true)
            let s = op == 0x12 ? 0 : 1
            var r = V128(lo: 0, hi: 0)
            for k in 0..<4 { r.setLane(k, 4, b.lane(k & 2 | s, 4)) }
            setXMMValue(d, r)
        case 0xF0:                  // LDDQU xmm, m128
            guard i.isMem else { throw Abort.ud }
            setXMMValue(d, try readXMMRM(i, aligned: false))
        default:                    // D0 ADDSUB, 7C HADD, 7D HSUB; 66 double, F2 single
            let dbl = pfx == 1
            let size = dbl ? 8 : 4
            let n = 16 / size
            let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
            var e = sseEnv()
            var r = V128(lo: 0, hi: 0)
            for k in 0..<n {
                if op == 0xD0 {
                    r.setLane(k, size, sseLane(k & 1 == 0 ? 0x5C : 0x58, a.lane(k, size), b.lane(k, size), double: dbl, &e))
                } else {
                    // Lanes 0..n/2-1 from the destination's pairs, the rest from the source's.
                    let src = k < n / 2 ? a : b
                    let j = 2 * (k % (n / 2))
                    r.setLane(k, size, sseLane(op == 0x7C ? 0x58 : 0x5C, src.lane(j, size), src.lane(j + 1, size), double: dbl, &e))
                }
            }
            try commitSSEFlags(e)
            setXMMValue(d, r)
        }
    }

    // MARK: Three-byte maps

    /// The 0F 38 and 0F 3A maps: SSSE3 (MMX forms without prefix, XMM forms with 66), SSE4.1, SSE4.2 and CRC32 (F2).
    func execSSEThreeByte(_ i: borrowing Instruction) throws(Abort) {
        let pfx = CPU.mandatoryPrefix(i.flags)
        let op = UInt8(truncatingIfNeeded: i.opcode)
        let map3A = i.opcode >> 8 == 3
        switch pfx {
        case 0:
            // SSSE3 on MMX registers: 0F 38 00–0B, 1C–1E and 0F 3A 0F (PALIGNR).
            guard map3A ? op == 0x0F : (op <= 0x0B || (op >= 0x1C && op <= 0x1E)) else { throw Abort.ud }
            try checkMMXAvailable()
            try ssse3(i, op, map3A: map3A, mmx: true)
            enterMMXState()
        case 1:
            try checkSSEAvailable()
            if map3A {
                try sse41Imm(i, op)
            } else if op <= 0x0B || (op >= 0x1C && op <= 0x1E) {
                try ssse3(i, op, map3A: false, mmx: false)
            } else {
                try sse41(i, op)
            }
        case 2 where !map3A && (op == 0xF0 || op == 0xF1):
            try crc32(i, byteSource: op == 0xF0)
        default:
            throw Abort.ud
        }
    }

    // MARK: SSSE3

    /// PSHUFB, PHADDW/D/SW, PHSUBW/D/SW, PMADDUBSW, PSIGNB/W/D, PMULHRSW, PABSB/W/D, PALIGNR on MMX or XMM registers.
    func ssse3(_ i: borrowing Instruction, _ op: UInt8, map3A: Bool, mmx: Bool) throws(Abort) {
        let w = mmx ? 8 : 16
        let a = intDest(i, mmx: mmx), b = try intSource(i, mmx: mmx)
        var r = V128(lo: 0, hi: 0)
        if map3A {   // PALIGNR: (dest:src) >> imm8 bytes, low w bytes
            let n = Int(i.imm & 0xFF)
            for k in 0..<w {
                let s = k + n
                if s < w { r.setLane(k, 1, b.lane(s, 1)) } else if s < 2 * w { r.setLane(k, 1, a.lane(s - w, 1)) }
            }
            setIntDest(i, mmx: mmx, r)
            return
        }
        switch op {
        case 0x00:   // PSHUFB
            for k in 0..<w {
                let s = b.lane(k, 1)
                if s & 0x80 == 0 { r.setLane(k, 1, a.lane(Int(s) & (w - 1), 1)) }
            }
        case 0x01, 0x02, 0x03, 0x05, 0x06, 0x07:   // PHADDW/D/SW, PHSUBW/D/SW
            let size = op & 3 == 2 ? 4 : 2
            let half = w / size / 2
            for k in 0..<(2 * half) {
                let src = k < half ? a : b
                let j = 2 * (k % half)
                let x = src.lane(j, size), y = src.lane(j + 1, size)
                switch op {
                case 0x01, 0x02: r.setLane(k, size, x &+ y)
                case 0x05, 0x06: r.setLane(k, size, x &- y)
                case 0x03: r.setLane(k, size, saturate(sext(x, 2) + sext(y, 2), 2, unsigned: false))
                default: r.setLane(k, size, saturate(sext(x, 2) - sext(y, 2), 2, unsigned: false))
                }
            }
        case 0x04:   // PMADDUBSW: unsigned bytes of the destination × signed bytes of the source
            for k in 0..<(w / 2) {
                let s = Int64(a.lane(2 * k, 1)) * sext(b.lane(2 * k, 1), 1) + Int64(a.lane(2 * k + 1, 1)) * sext(b.lane(2 * k + 1, 1), 1)
                r.setLane(k, 2, saturate(s, 2, unsigned: false))
            }
        case 0x08, 0x09, 0x0A:   // PSIGNB/W/D
            let size = 1 << Int(op - 0x08)
            for k in 0..<(w / size) {
                let s = sext(b.lane(k, size), size)
                r.setLane(k, size, s < 0 ? 0 &- a.lane(k, size) : (s == 0 ? 0 : a.lane(k, size)))
            }
        case 0x0B:   // PMULHRSW
            for k in 0..<(w / 2) {
                let t = sext(a.lane(k, 2), 2) * sext(b.lane(k, 2), 2)
                r.setLane(k, 2, UInt64(bitPattern: ((t >> 14) + 1) >> 1))
            }
        case 0x1C, 0x1D, 0x1E:   // PABSB/W/D
            let size = 1 << Int(op - 0x1C)
            for k in 0..<(w / size) { r.setLane(k, size, sext(b.lane(k, size), size).magnitude) }
        default:
            throw Abort.ud
        }
        setIntDest(i, mmx: mmx, r)
    }

    // MARK: SSE4.1 / SSE4.2, 66 0F 38

    /// The 66 0F 38 instructions of SSE4.1 and PCMPGTQ (SSE4.2).
    func sse41(_ i: borrowing Instruction, _ op: UInt8) throws(Abort) {
        let d = i.reg
        switch op {
        case 0x20...0x25, 0x30...0x35:   // PMOVSX / PMOVZX: (from, to, bytes read)
            let forms: [(Int, Int, UInt8)] = [(1, 2, 8), (1, 4, 4), (1, 8, 2), (2, 4, 8), (2, 8, 4), (4, 8, 8)]
            let (from, to, bytes) = forms[Int(op & 0xF)]
            let src = i.isMem ? try readMem(i.seg, effectiveAddress(i), bytes) : xmmValue(i.rm).lo
            let s = V128(lo: src, hi: 0)
            var r = V128(lo: 0, hi: 0)
            for k in 0..<(16 / to) {
                let v = s.lane(k, from)
                r.setLane(k, to, op < 0x30 ? UInt64(bitPattern: sext(v, from)) : v)
            }
            setXMMValue(d, r)
            return
        case 0x2A:   // MOVNTDQA xmm, m128
            guard i.isMem else { throw Abort.ud }
            setXMMValue(d, try readXMMRM(i, aligned: true))
            return
        default:
            break
        }
        let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
        var r = V128(lo: 0, hi: 0)
        switch op {
        case 0x10, 0x14, 0x15:   // PBLENDVB, BLENDVPS, BLENDVPD: the sign bits of XMM0 select the source
            let size = op == 0x10 ? 1 : (op == 0x14 ? 4 : 8)
            let m = xmmValue(0)
            for k in 0..<(16 / size) {
                let pick = m.lane(k, size) >> UInt64(size * 8 - 1) != 0
                r.setLane(k, size, pick ? b.lane(k, size) : a.lane(k, size))
            }
        case 0x17:   // PTEST: ZF = (a AND b) == 0, CF = (NOT a AND b) == 0, the other status flags clear
            let zf = a.lo & b.lo == 0 && a.hi & b.hi == 0
            let cf = ~a.lo & b.lo == 0 && ~a.hi & b.hi == 0
            setStatusFlags((zf ? CPU.zfBit : 0) | (cf ? CPU.cfBit : 0))
            return
        case 0x28:   // PMULDQ
            r = V128(lo: UInt64(bitPattern: sext(a.lane(0, 4), 4) &* sext(b.lane(0, 4), 4)),
                     hi: UInt64(bitPattern: sext(a.lane(2, 4), 4) &* sext(b.lane(2, 4), 4)))
        case 0x29:   // PCMPEQQ
            r = V128(lo: a.lo == b.lo ? UInt64.max : 0, hi: a.hi == b.hi ? UInt64.max : 0)
        case 0x37:   // PCMPGTQ
            r = V128(lo: Int64(bitPattern: a.lo) > Int64(bitPattern: b.lo) ? UInt64.max : 0,
                     hi: Int64(bitPattern: a.hi) > Int64(bitPattern: b.hi) ? UInt64.max : 0)
        case 0x2B:   // PACKUSDW
            for k in 0..<4 {
                r.setLane(k, 2, saturate(sext(a.lane(k, 4), 4), 2, unsigned: true))
                r.setLane(4 + k, 2, saturate(sext(b.lane(k, 4), 4), 2, unsigned: true))
            }
        case 0x38...0x3F:   // PMINSB PMINSD PMINUW PMINUD PMAXSB PMAXSD PMAXUW PMAXUD
            let sizes = [1, 4, 2, 4]
            let size = sizes[Int(op & 3)]
            let signed = op & 3 <= 1
            let isMax = op >= 0x3C
            for k in 0..<(16 / size) {
                let x = a.lane(k, size), y = b.lane(k, size)
                let less = signed ? sext(x, size) < sext(y, size) : x < y
                r.setLane(k, size, less != isMax ? x : y)
            }
        case 0x40:   // PMULLD
            for k in 0..<4 { r.setLane(k, 4, a.lane(k, 4) &* b.lane(k, 4)) }
        case 0x41:   // PHMINPOSUW: the smallest unsigned word and its (lowest) index
            var best = 0
            for k in 1..<8 where b.lane(k, 2) < b.lane(best, 2) { best = k }
            r.lo = b.lane(best, 2) | UInt64(best) << 16
        default:
            throw Abort.ud
        }
        setXMMValue(d, r)
    }

    // MARK: SSE4.1 / SSE4.2, 66 0F 3A

    /// The 66 0F 3A instructions (all with imm8) of SSSE3 (PALIGNR), SSE4.1 and SSE4.2.
    func sse41Imm(_ i: borrowing Instruction, _ op: UInt8) throws(Abort) {
        let d = i.reg
        let imm = UInt8(truncatingIfNeeded: i.imm)
        let wide = i.flags & InstructionFlags.rexW != 0
        switch op {
        case 0x0F:
            try ssse3(i, op, map3A: true, mmx: false)
        case 0x08...0x0B:   // ROUNDPS, ROUNDPD, ROUNDSS, ROUNDSD
            let dbl = op & 1 != 0
            let size = dbl ? 8 : 4
            let scalar = op >= 0x0A
            let b: V128 = scalar ? V128(lo: try readXMMRMLow(i, UInt8(size)), hi: 0) : try readXMMRM(i, aligned: true)
            var r = xmmValue(d)
            var e = sseEnv()
            for k in 0..<(scalar ? 1 : 16 / size) { r.setLane(k, size, sseRoundLane(b.lane(k, size), double: dbl, imm, &e)) }
            try commitSSEFlags(e)
            setXMMValue(d, r)
        case 0x0C, 0x0D, 0x0E:   // BLENDPS, BLENDPD, PBLENDW: imm8 bit k selects the source for lane k
            let size = op == 0x0C ? 4 : (op == 0x0D ? 8 : 2)
            let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
            var r = a
            for k in 0..<(16 / size) where imm >> UInt8(k) & 1 != 0 { r.setLane(k, size, b.lane(k, size)) }
            setXMMValue(d, r)
        case 0x14, 0x15, 0x16, 0x17:   // PEXTRB, PEXTRW, PEXTRD/Q, EXTRACTPS to r/m
            let size = op == 0x14 ? 1 : (op == 0x15 ? 2 : (op == 0x16 && wide ? 8 : 4))
            let v = xmmValue(d).lane(Int(imm) & (16 / size - 1), size)
            if i.isMem { try writeMem(i.seg, effectiveAddress(i), UInt8(size), v) }
            else { writeReg(i.rm, size == 8 ? 8 : 4, v) }   // a register destination is zero-extended
        case 0x20, 0x22:   // PINSRB, PINSRD/Q from r/m
            let size = op == 0x20 ? 1 : (wide ? 8 : 4)
            let v = try readRM(i, size: UInt8(size))
            var x = xmmValue(d)
            x.setLane(Int(imm) & (16 / size - 1), size, v)
            setXMMValue(d, x)
        case 0x21:   // INSERTPS: a source lane (or m32) into lane imm[5:4], then zero the lanes of imm[3:0]
            let v = i.isMem ? try readMem(i.seg, effectiveAddress(i), 4) : xmmValue(i.rm).lane(Int(imm >> 6), 4)
            var x = xmmValue(d)
            x.setLane(Int(imm >> 4) & 3, 4, v)
            for k in 0..<4 where imm >> UInt8(k) & 1 != 0 { x.setLane(k, 4, 0) }
            setXMMValue(d, x)
        case 0x40, 0x41:   // DPPS, DPPD
            let dbl = op == 0x41
            let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
            var e = sseEnv()
            setXMMValue(d, try dotProduct(a, b, double: dbl, imm, &e))
        case 0x42:   // MPSADBW: eight sums of absolute differences of 4-byte blocks
            let a = xmmValue(d), b = try readXMMRM(i, aligned: true)
            let so = Int(imm & 3) * 4, dOff = Int(imm >> 2 & 1) * 4
            var r = V128(lo: 0, hi: 0)
            for j in 0..<8 {
                var s: UInt64 = 0
                for k in 0..<4 {
                    let x = a.lane(dOff + j + k, 1), y = b.lane(so + k, 1)
                    s += x > y ? x - y : y - x
                }
                r.setLane(j, 2, s)
            }
            setXMMValue(d, r)
        case 0x60...0x63:
            try stringCompare(i, op, imm)   // SSE42Strings.swift
        default:
            throw Abort.ud
        }
    }

    /// One lane of ROUNDPS/PD/SS/SD: imm8[1:0] rounding mode unless imm8[2] selects MXCSR.RC; imm8[3] suppresses
    /// the precision exception. Only an SNaN raises IE; no denormal-operand exception (SDM Vol. 2B ROUNDPS).
    @inline(__always)
    func sseRoundLane(_ bits: UInt64, double dbl: Bool, _ imm: UInt8, _ e: inout FPEnv) -> UInt64 {
        let rc = imm & 4 != 0 ? e.rounding : (FPRounding(rawValue: imm & 3) ?? .nearest)
        let before = e.flags
        e.flags = 0
        let v = dbl ? FPValue.unpack64(bits, &e) : FPValue.unpack32(UInt32(truncatingIfNeeded: bits), &e)
        var z = SoftFloat.roundToIntegral(v, rc, &e)
        if z.isNaN { z = SoftFloat.truncatedNaN(z, dbl ? .double : .single) }
        e.flags &= ~FPFlag.denormal
        if imm & 8 != 0 { e.flags &= ~FPFlag.inexact }
        e.flags |= before
        return dbl ? z.bits64 : UInt64(z.bits32)
    }

    /// DPPS/DPPD: the products of the lanes selected by imm8[7:4] (+0.0 for the others), summed pairwise, the sum
    /// stored in the lanes selected by imm8[3:0] (+0.0 in the others). Each multiply and add rounds by MXCSR
    /// (SDM Vol. 2A DPPS).
    func dotProduct(_ a: V128, _ b: V128, double dbl: Bool, _ imm: UInt8, _ e: inout FPEnv) throws(Abort) -> V128 {
        let size = dbl ? 8 : 4
        let n = 16 / size
        var p = V128(lo: 0, hi: 0)   // +0.0 in unselected lanes
        for k in 0..<n where imm >> UInt8(4 + k) & 1 != 0 {
            p.setLane(k, size, sseLane(0x59, a.lane(k, size), b.lane(k, size), double: dbl, &e))
        }
        var sum: UInt64
        if dbl {
            sum = sseLane(0x58, p.lane(0, 8), p.lane(1, 8), double: true, &e)
        } else {
            let lo = sseLane(0x58, p.lane(0, 4), p.lane(1, 4), double: false, &e)
            let hi = sseLane(0x58, p.lane(2, 4), p.lane(3, 4), double: false, &e)
            sum = sseLane(0x58, lo, hi, double: false, &e)
        }
        try commitSSEFlags(e)
        var r = V128(lo: 0, hi: 0)
        for k in 0..<n where imm >> UInt8(k) & 1 != 0 { r.setLane(k, size, sum) }
        return r
    }

    // MARK: CRC32

    /// CRC32 r32/r64, r/m8/16/32/64 (F2 0F 38 F0/F1): accumulates CRC-32C (polynomial 11EDC6F41h, bit-reflected,
    /// no inversion) of the source bytes, least significant first, into the low 32 bits of the destination;
    /// the result is zero-extended (SDM Vol. 2A CRC32).
    func crc32(_ i: borrowing Instruction, byteSource: Bool) throws(Abort) {
        let size: UInt8 = byteSource ? 1 : i.opSize
        let src = try readRM(i, size: size)
        writeReg(i.reg, 4, CPU.crc32c(UInt32(truncatingIfNeeded: readReg(i.reg, 4)), src, bytes: Int(size)))
    }

    /// CRC-32C of the low `bytes` bytes of `data` (least significant first) continued from `crc`.
    static func crc32c(_ crc: UInt32, _ data: UInt64, bytes: Int) -> UInt64 {
        var c = crc
        for k in 0..<bytes {
            c ^= UInt32(truncatingIfNeeded: data >> UInt64(8 * k)) & 0xFF
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        }
        return UInt64(c)
    }
}
