// Floating-point and SIMD items for the sequence generator: SSE/SSE2 and MMX-free x87 instructions whose
// results the host oracle compares through the data area (the runner does not load or compare XMM or
// x87 registers, so every item loads its operands from the data area and stores its results there).
//
// Safety: MXCSR is never changed (it would leak into this process if a later instruction faulted);
// x87 items start and end with FNINIT; aligned operands use 16-byte aligned addresses; no unmasked
// exception can occur. Excluded because the model is not bit-exact with hardware there: RCPPS/RSQRTPS
// (approximations), x87 transcendentals, FPREM/FPREM1 (partial-remainder step size), and FSW.C1 (masked).

extension SequenceBuilder {
    /// ModRM (mod 00, rm 100) + SIB (no base, no index) + disp32 for an absolute data-area address.
    private func absolute(_ reg: Int, _ offset: Int) -> [UInt8] {
        let a = UInt32(truncatingIfNeeded: dataBase + UInt64(offset))
        return [UInt8(0x04 | (reg & 7) << 3), 0x25] + le(UInt64(a), 4)
    }

    /// A 16-byte aligned data-area offset below the stack region.
    private mutating func slot() -> Int { 16 * rng.below(0x800) }

    private func hx(_ v: Int) -> String { hex(dataBase + UInt64(v)) }

    /// One SSE/SSE2 or x87 item.
    mutating func genFP() -> Bool {
        rng.oneIn(3) ? genX87Item() : genSSEItem()
    }

    /// Clears the MXCSR flags (the host's are sticky across runs), loads an XMM register, applies one
    /// operation (XMM source from memory or a register), stores the result and MXCSR.
    private mutating func genSSEItem() -> Bool {
        let a = rng.below(8)
        let sa = slot(), sb = slot(), out = slot(), mx = slot()
        appendRaw([0x0F, 0xAE] + absolute(3, mx), "stmxcsr [\(hx(mx))]", FlowEffect())
        appendRaw([0x81] + absolute(4, mx) + le(UInt64(0xFFFF_FFC0), 4), "and dword [\(hx(mx))], ~0x3f",
                  FlowEffect(defFlags: 0x8C5, undefFlags: 0x10))
        appendRaw([0x0F, 0xAE] + absolute(2, mx), "ldmxcsr [\(hx(mx))]", FlowEffect())
        appendRaw([0xF3, 0x0F, 0x6F] + absolute(a, sa), "movdqu xmm\(a), [\(hx(sa))]", FlowEffect())
        genSSEOp(a, source: absolute(a, sb), sourceText: "[\(hx(sb))]")
        appendRaw([0xF3, 0x0F, 0x7F] + absolute(a, out), "movdqu [\(hx(out))], xmm\(a)", FlowEffect())
        appendRaw([0x0F, 0xAE] + absolute(3, mx), "stmxcsr [\(hx(mx))]", FlowEffect())
        return true
    }

    /// One SSE/SSE2 instruction with xmm `a` as destination; `source` is the ModRM/SIB/disp32 tail naming
    /// the memory source (its ModRM.reg already `a`). Register-only forms use xmm `a` as the source too.
    private mutating func genSSEOp(_ a: Int, source: [UInt8], sourceText: String) {
        let b = a
        let prefixes: [[UInt8]] = [[], [0x66], [0xF3], [0xF2]]
        switch rng.below(10) {
        case 0, 1, 2:   // arithmetic, packed and scalar
            let op = rng.pick([UInt8(0x58), 0x59, 0x5C, 0x5D, 0x5E, 0x5F, 0x51, 0x5A, 0xC2])
            let p = rng.pick(prefixes)
            let imm: [UInt8] = op == 0xC2 ? [UInt8(rng.below(8))] : []
            appendRaw(p + [0x0F, op] + source + imm, "sse \(p.map { hex(UInt64($0)) }) 0F \(hex(UInt64(op))) xmm\(a), \(sourceText)", FlowEffect())
        case 3:         // logic, unpack, shuffle, int<->fp conversions
            let (p, op): ([UInt8], UInt8) = rng.pick([([], 0x54), ([0x66], 0x55), ([], 0x56), ([0x66], 0x57), ([], 0x14), ([0x66], 0x15),
                                                       ([], 0xC6), ([0x66], 0xC6), ([], 0x5B), ([0x66], 0x5B), ([0xF3], 0x5B),
                                                       ([0x66], 0xE6), ([0xF3], 0xE6), ([0xF2], 0xE6), ([], 0x12), ([], 0x16)])
            let imm: [UInt8] = op == 0xC6 ? [UInt8(rng.below(256))] : []
            appendRaw(p + [0x0F, op] + source + imm, "sse \(p) 0F \(hex(UInt64(op))) xmm\(a), \(sourceText)", FlowEffect())
        case 4:         // COMISS/UCOMISS/COMISD/UCOMISD: ZF PF CF set, OF SF AF cleared
            let p = rng.pick([[UInt8](), [0x66]])
            let op = rng.pick([UInt8(0x2E), 0x2F])
            appendRaw(p + [0x0F, op] + source, "\(op == 0x2E ? "ucomis" : "comis")\(p.isEmpty ? "s" : "d") xmm\(a), \(sourceText)",
                      FlowEffect(defFlags: 0x8D5))
        case 5:         // to a GPR: CVT(T)SS2SI/SD2SI, PMOVMSKB, MOVMSKPS/PD, PEXTRW, MOVD
            var r = rng.below(8)
            if r == 4 { r = 0 }
            guard writable(r) else { return }
            let w = rng.coin()
            let bytes: [UInt8]
            switch rng.below(5) {
            case 0: bytes = [rng.pick([UInt8(0xF2), 0xF3])] + (w ? [0x48] : []) + [0x0F, rng.pick([UInt8(0x2C), 0x2D]), UInt8(0xC0 | r << 3 | b)]
            case 1: bytes = [0x66, 0x0F, 0xD7, UInt8(0xC0 | r << 3 | b)]
            case 2: bytes = rng.pick([[UInt8](), [0x66]]) + [0x0F, 0x50, UInt8(0xC0 | r << 3 | b)]
            case 3: bytes = [0x66, 0x0F, 0xC5, UInt8(0xC0 | r << 3 | b), UInt8(rng.below(8))]
            default: bytes = [0x66] + (w ? [0x48] : []) + [0x0F, 0x7E, UInt8(0xC0 | b << 3 | r)]
            }
            appendRaw(bytes, "sse→gpr \(bytes.map { hex(UInt64($0)) })", FlowEffect(defRegs: 1 << UInt16(r)))
        case 6:         // from a GPR: CVTSI2SS/SD, MOVD/MOVQ, PINSRW
            let r = rng.below(8)
            guard r != 4, regDefined(r) else { return }
            let w = rng.coin()
            let bytes: [UInt8]
            switch rng.below(3) {
            case 0: bytes = [rng.pick([UInt8(0xF2), 0xF3])] + (w ? [0x48] : []) + [0x0F, 0x2A, UInt8(0xC0 | a << 3 | r)]
            case 1: bytes = [0x66] + (w ? [0x48] : []) + [0x0F, 0x6E, UInt8(0xC0 | a << 3 | r)]
            default: bytes = [0x66, 0x0F, 0xC4, UInt8(0xC0 | a << 3 | r), UInt8(rng.below(8))]
            }
            appendRaw(bytes, "gpr→sse \(bytes.map { hex(UInt64($0)) })", FlowEffect())
        case 7:         // integer shifts by immediate (register only)
            let op = rng.pick([UInt8(0x71), 0x72, 0x73])
            let sub = op == 0x73 ? rng.pick([2, 3, 6, 7]) : rng.pick([2, 4, 6])
            let n = UInt8(rng.pick([0, 1, 3, 7, 8, 15, 16, 31, 33, 63, 64, 200]))
            appendRaw([0x66, 0x0F, op, UInt8(0xC0 | sub << 3 | a), n], "psh \(hex(UInt64(op)))/\(sub) xmm\(a), \(n)", FlowEffect())
        default:        // 66-prefixed integer ops, PSHUFD/HW/LW, MOVQ
            let ops: [UInt8] = Array(0x60...0x6D) + [0x74, 0x75, 0x76, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD8, 0xD9, 0xDA, 0xDB, 0xDC, 0xDD,
                                                     0xDE, 0xDF, 0xE0, 0xE1, 0xE2, 0xE3, 0xE4, 0xE5, 0xE8, 0xE9, 0xEA, 0xEB, 0xEC,
                                                     0xED, 0xEE, 0xEF, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF8, 0xF9, 0xFA, 0xFB,
                                                     0xFC, 0xFD, 0xFE, 0x70, 0xD6]
            let op = rng.pick(ops)
            let p: [UInt8] = op == 0x70 ? rng.pick([[0x66], [0xF2], [0xF3]]) : [0x66]
            let imm: [UInt8] = op == 0x70 ? [UInt8(rng.below(256))] : []
            appendRaw(p + [0x0F, op] + source + imm, "sse2 \(p) 0F \(hex(UInt64(op))) xmm\(a), \(sourceText)", FlowEffect())
        }
    }

    /// FNINIT, two loads, one operation, FNSTSW (C1 masked off), stores of ST(0) as m80 and ST(1) as m64, FNINIT.
    private mutating func genX87Item() -> Bool {
        let s1 = slot(), s2 = slot(), out = slot(), sw = slot()
        appendRaw([0xDB, 0xE3], "fninit", FlowEffect())
        for s in [s1, s2] {
            let (op, reg, name): (UInt8, Int, String) = rng.pick([(0xDD, 0, "fld qword"), (0xD9, 0, "fld dword"), (0xDB, 5, "fld tbyte"),
                                                                   (0xDB, 0, "fild dword"), (0xDF, 5, "fild qword"), (0xDF, 0, "fild word")])
            appendRaw([op] + absolute(reg, s), "\(name) [\(hx(s))]", FlowEffect())
        }
        let ops: [([UInt8], String, UInt64)] = [
            ([0xDE, 0xC1], "faddp", 0), ([0xDE, 0xC9], "fmulp", 0), ([0xDE, 0xE1], "fsubrp", 0), ([0xDE, 0xE9], "fsubp", 0),
            ([0xDE, 0xF1], "fdivrp", 0), ([0xDE, 0xF9], "fdivp", 0), ([0xD8, 0xC1], "fadd st0, st1", 0), ([0xDC, 0xC9], "fmul st1, st0", 0),
            ([0xD9, 0xFA], "fsqrt", 0), ([0xD9, 0xFC], "frndint", 0), ([0xD9, 0xE0], "fchs", 0), ([0xD9, 0xE1], "fabs", 0),
            ([0xD9, 0xFD], "fscale", 0), ([0xD9, 0xF4], "fxtract", 0), ([0xDB, 0xF1], "fcomi st1", 0x8D5),
            ([0xDB, 0xE9], "fucomi st1", 0x8D5), ([0xD8, 0xD1], "fcom st1", 0), ([0xDD, 0xE1], "fucom st1", 0), ([0xD9, 0xE5], "fxam", 0),
            ([0xD9, 0xE4], "ftst", 0), ([0xD9, 0xC9], "fxch", 0), ([0xDE, 0xD9], "fcompp", 0),
        ]
        let (bytes, name, flags) = rng.pick(ops)
        appendRaw(bytes, name, FlowEffect(defFlags: flags))
        appendRaw([0xDD] + absolute(7, sw), "fnstsw [\(hx(sw))]", FlowEffect())
        // C1 (round-up indicator) is not modelled: clear it in the stored status word. AND leaves AF undefined.
        appendRaw([0x66, 0x81] + absolute(4, sw) + [0xFF, 0xFD], "and word [\(hx(sw))], 0xFDFF",
                  FlowEffect(defFlags: 0x8C5, undefFlags: 0x10))
        appendRaw([0xDB] + absolute(7, out), "fstp tbyte [\(hx(out))]", FlowEffect())
        appendRaw([0xDD] + absolute(3, out + 16), "fstp qword [\(hx(out + 16))]", FlowEffect())
        appendRaw([0xDB, 0xE3], "fninit", FlowEffect())
        return true
    }
}
