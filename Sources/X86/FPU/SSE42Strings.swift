// SSE4.2 packed string and text comparison: PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM (66 0F 3A 60–63;
// SDM Vol. 2B PCMPESTRI and Vol. 1 §12.10 "SSE4.2 and SIMD programming for text processing").

extension CPU {
    /// PCMPESTRM (60), PCMPESTRI (61), PCMPISTRM (62), PCMPISTRI (63) of xmm1 (ModRM.reg) and xmm2/m128.
    /// The memory operand need not be aligned. Explicit lengths come from EAX/EDX (RAX/RDX with REX.W),
    /// implicit ones end at the first zero element.
    func stringCompare(_ i: borrowing Instruction, _ op: UInt8, _ imm: UInt8) throws(Abort) {
        let a = xmmValue(i.reg), b = try readXMMRM(i, aligned: false)
        let words = imm & 1 != 0
        let size = words ? 2 : 1
        let n = 16 / size
        let len1: Int, len2: Int
        if op <= 0x61 {
            let wide = i.flags & InstructionFlags.rexW != 0
            func explicitLength(_ r: Int) -> Int {
                let v = wide ? Int64(bitPattern: gpr[r]) : Int64(Int32(truncatingIfNeeded: gpr[r]))
                return v.magnitude >= UInt64(n) ? n : Int(v.magnitude)
            }
            len1 = explicitLength(Reg.rax); len2 = explicitLength(Reg.rdx)
        } else {
            func implicitLength(_ v: V128) -> Int {
                for k in 0..<n where v.lane(k, size) == 0 { return k }
                return n
            }
            len1 = implicitLength(a); len2 = implicitLength(b)
        }
        let res = CPU.stringCompareMask(a, b, len1: len1, len2: len2, imm)
        let indexForm = op & 1 != 0
        if indexForm {
            // ECX: the least (imm8[6] = 0) or most significant set bit of IntRes2, or n when none.
            let idx = res == 0 ? n : (imm & 0x40 == 0 ? res.trailingZeroBitCount : 15 - UInt16(truncatingIfNeeded: res).leadingZeroBitCount)
            writeReg(UInt8(Reg.rcx), 4, UInt64(idx))
        } else if imm & 0x40 == 0 {
            setXMMValue(0, V128(lo: UInt64(res), hi: 0))   // the bit mask, zero-extended
        } else {
            var m = V128(lo: 0, hi: 0)                        // expanded to a byte or word mask
            for k in 0..<n where res >> k & 1 != 0 { m.setLane(k, size, UInt64.max) }
            setXMMValue(0, m)
        }
        var fl: UInt64 = 0
        if res != 0 { fl |= CPU.cfBit }
        if len2 < n { fl |= CPU.zfBit }
        if len1 < n { fl |= CPU.sfBit }
        if res & 1 != 0 { fl |= CPU.ofBit }
        setStatusFlags(fl)
    }

    /// IntRes2 of a packed string comparison: imm8[1:0] element format (unsigned/signed bytes/words),
    /// imm8[3:2] aggregation (equal any, ranges, equal each, equal ordered), imm8[5:4] polarity.
    /// `a` (xmm1) holds the set, ranges or substring; `b` (xmm2/m128) the text.
    static func stringCompareMask(_ a: V128, _ b: V128, len1: Int, len2: Int, _ imm: UInt8) -> Int {
        let size = imm & 1 != 0 ? 2 : 1
        let n = 16 / size
        let signed = imm & 2 != 0
        @inline(__always) func elem(_ v: V128, _ k: Int) -> Int64 {
            signed ? sext(v.lane(k, size), size) : Int64(v.lane(k, size))
        }
        var r1 = 0
        switch imm >> 2 & 3 {
        case 0:   // equal any: text element j is in the set
            for j in 0..<len2 {
                for k in 0..<len1 where elem(a, k) == elem(b, j) { r1 |= 1 << j; break }
            }
        case 1:   // ranges: text element j lies in one of the pairs [a(2k), a(2k+1)]
            for j in 0..<len2 {
                var k = 0
                while k + 1 < len1 {
                    if elem(a, k) <= elem(b, j) && elem(b, j) <= elem(a, k + 1) { r1 |= 1 << j; break }
                    k += 2
                }
            }
        case 2:   // equal each: both valid and equal, or both invalid
            for k in 0..<n {
                let v1 = k < len1, v2 = k < len2
                if v1 && v2 ? elem(a, k) == elem(b, k) : !v1 && !v2 { r1 |= 1 << k }
            }
        default:  // equal ordered: the substring a matches the text from element j (an invalid substring element matches)
            for j in 0..<n {
                var match = true
                for k in 0..<(n - j) where k < len1 {
                    if j + k >= len2 || elem(a, k) != elem(b, j + k) { match = false; break }
                }
                if match { r1 |= 1 << j }
            }
        }
        let all = (1 << n) - 1
        switch imm >> 4 & 3 {
        case 1: return ~r1 & all                          // negative polarity
        case 3: return (r1 ^ ((1 << len2) - 1)) & all     // masked negative: only the valid text elements
        default: return r1
        }
    }
}
