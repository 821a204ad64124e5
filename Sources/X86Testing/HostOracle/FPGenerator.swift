// Floating-point and SIMD items for the sequence generator: SSE/SSE2 and MMX-free x87 instructions whose
// results the host oracle compares through the data area (the runner does not load or compare XMM or
// x87 registers, so every item loads its operands from the data area and stores its results there).
//
// MXCSR and the x87 control word: half of the SSE items load a random MXCSR (rounding control, FTZ, DAZ,
// sometimes unmasked exceptions, which then end the run with #XM), half of the x87 items a random rounding
// and precision control with every exception masked. The runner saves and restores its process's
// floating-point state around each run, so nothing leaks into the host process; the model starts each run
// from the state the runner's process has (MXCSR 0x1F80, FCW 0x37F).
// x87 items start and end with FNINIT; aligned operands use 16-byte aligned addresses. Excluded because the model is not bit-exact with hardware there: RCPPS/RSQRTPS
// (approximations), x87 transcendentals, FPREM/FPREM1 (partial-remainder step size), and FSW.C1 (masked).

extension SequenceBuilder {
    /// ModRM (mod 00, rm 100) + SIB (no base, no index) + disp32 for an absolute data-area address; in 16-bit
    /// code ModRM (mod 00, rm 110) + disp16, the 16-bit addressing form of an absolute offset.
    func absolute(_ reg: Int, _ offset: Int) -> [UInt8] {
        let a = UInt32(truncatingIfNeeded: dataBase + UInt64(offset))
        if mode == .mode16 { return [UInt8(0x06 | (reg & 7) << 3)] + le(UInt64(a), 2) }
        return [UInt8(0x04 | (reg & 7) << 3), 0x25] + le(UInt64(a), 4)
    }

    /// The prefix that makes an instruction's operand 16 bits (none in 16-bit code).
    var wordPrefix: [UInt8] { mode == .mode16 ? [] : [0x66] }

    /// A 16-byte aligned data-area offset below the stack region.
    mutating func slot() -> Int { 16 * rng.below(0x800) }

    func hx(_ v: Int) -> String { hex(dataBase + UInt64(v)) }

    /// One x87, SSE/SSE2 or SSE3–SSE4.2 (SSE4Generator.swift) item.
    mutating func genFP() -> Bool {
        switch rng.below(3) {
        case 0: return genX87Item()
        case 1: return genSSEItem()
        default: return genSSE4Item()
        }
    }

    /// Clears the MXCSR flags (the host's are sticky across runs), loads an XMM register, applies one
    /// operation (XMM source from memory or a register), stores the result and MXCSR.
    private mutating func genSSEItem() -> Bool {
        let a = rng.below(8)
        let sa = slot(), sb = slot(), out = slot(), mx = slot()
        clearMXCSRFlags(mx)
        appendRaw([0xF3, 0x0F, 0x6F] + absolute(a, sa), "movdqu xmm\(a), [\(hx(sa))]", FlowEffect())
        genSSEOp(a, source: absolute(a, sb), sourceText: "[\(hx(sb))]")
        appendRaw([0xF3, 0x0F, 0x7F] + absolute(a, out), "movdqu [\(hx(out))], xmm\(a)", FlowEffect())
        appendRaw([0x0F, 0xAE] + absolute(3, mx), "stmxcsr [\(hx(mx))]", FlowEffect())
        return true
    }

    /// STMXCSR, AND, LDMXCSR through data-area slot `mx`: clears the MXCSR exception flags (the host's are sticky
    /// across runs) and changes nothing else; or, half of the time, MOV and LDMXCSR: a random MXCSR with no flags
    /// set, a random rounding control, FTZ and DAZ, and one time in four some exceptions unmasked.
    mutating func clearMXCSRFlags(_ mx: Int) {
        let m = ripMem(mx)
        if rng.coin() {
            var v = UInt64(rng.below(4)) << 13 | (rng.coin() ? 1 << 15 : 0) | (rng.coin() ? 1 << 6 : 0)
            v |= rng.oneIn(4) ? UInt64(rng.below(64)) << 7 : 0x3F << 7
            emit(Inst(opcode: [0xC7], reg: 0, rm: .mem(m), imm: le(v, 4), opSize: 4), "mov dword \(m.text), \(hex(v))")
            emit(Inst(opcode: [0x0F, 0xAE], reg: 2, rm: .mem(m)), "ldmxcsr \(m.text) (rc \(v >> 13 & 3)\(v & 1 << 15 != 0 ? ", ftz" : "")\(v & 1 << 6 != 0 ? ", daz" : "")\(v >> 7 & 0x3F != 0x3F ? ", unmasked \(hex(~(v >> 7) & 0x3F))" : ""))")
            return
        }
        emit(Inst(opcode: [0x0F, 0xAE], reg: 3, rm: .mem(m)), "stmxcsr \(m.text)")
        emit(Inst(opcode: [0x81], reg: 4, rm: .mem(m), imm: le(UInt64(0xFFFF_FFC0), 4), opSize: 4), "and dword \(m.text), ~0x3f",
             FlowEffect(defFlags: 0x8C5, undefFlags: 0x10))
        emit(Inst(opcode: [0x0F, 0xAE], reg: 2, rm: .mem(m)), "ldmxcsr \(m.text)")
    }

    /// A RIP-relative memory operand for data-area offset `off` (5 bytes of ModRM and disp32, 2 fewer than absolute).
    func ripMem(_ off: Int) -> MemOperand {
        MemOperand(mod: 0, rm: 5, sib: nil, disp: [0, 0, 0, 0], ripTarget: dataBase + UInt64(off), text: "[\(hx(off))]")
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
            let w = is64 && rng.coin()
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
            let w = is64 && rng.coin()
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

    /// FNINIT, two loads, one operation (on the two registers, or on ST(0) and the second load's m64fp slot), FNSTSW
    /// (C1 masked off), stores of ST(0) as m80 and ST(1) as m64, FNINIT.
    private mutating func genX87Item() -> Bool {
        let s1 = slot(), s2 = slot(), out = slot(), sw = slot()
        appendRaw([0xDB, 0xE3], "fninit", FlowEffect())
        if rng.coin() {
            // FLDCW: rounding control (bits 11:10) and precision control (bits 9:8, 01 reserved), exceptions masked.
            let cw = UInt64(0x3F) | UInt64(rng.below(4)) << 10 | UInt64(rng.pick([0, 2, 3])) << 8 | 0x40
            appendRaw(wordPrefix + [0xC7] + absolute(0, sw) + le(cw, 2), "mov word [\(hx(sw))], \(hex(cw))", FlowEffect())
            appendRaw([0xD9] + absolute(5, sw), "fldcw [\(hx(sw))] (rc \(cw >> 10 & 3), pc \(cw >> 8 & 3))", FlowEffect())
        }
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
        if rng.below(3) == 0 {
            // Arithmetic with an m64fp operand (DC /r): ST(0) op [s2].
            let (reg, name) = rng.pick([(0, "fadd"), (1, "fmul"), (4, "fsub"), (5, "fsubr"), (6, "fdiv"), (7, "fdivr")])
            appendRaw([0xDC] + absolute(reg, s2), "\(name) qword [\(hx(s2))]", FlowEffect())
        } else {
            let (bytes, name, flags) = rng.pick(ops)
            appendRaw(bytes, name, FlowEffect(defFlags: flags))
        }
        appendRaw([0xDD] + absolute(7, sw), "fnstsw [\(hx(sw))]", FlowEffect())
        // C1 (round-up indicator) is not modelled: clear it in the stored status word. AND leaves AF undefined.
        appendRaw(wordPrefix + [0x81] + absolute(4, sw) + [0xFF, 0xFD], "and word [\(hx(sw))], 0xFDFF",
                  FlowEffect(defFlags: 0x8C5, undefFlags: 0x10))
        appendRaw([0xDB] + absolute(7, out), "fstp tbyte [\(hx(out))]", FlowEffect())
        appendRaw([0xDD] + absolute(3, out + 16), "fstp qword [\(hx(out + 16))]", FlowEffect())
        appendRaw([0xDB, 0xE3], "fninit", FlowEffect())
        return true
    }
}

// MARK: - x87 transcendental accuracy table

/// One x87 80-bit extended value as stored in memory: the 64-bit significand (explicit integer bit) and the
/// sign and 15-bit biased exponent.
public struct X87Bits: Equatable, Hashable, Sendable {
    /// Significand, integer bit included (bit 63).
    public var sig: UInt64
    /// Sign (bit 15) and biased exponent (bits 14..0).
    public var se: UInt16

    /// Creates a value from its two fields.
    public init(sig: UInt64, se: UInt16) {
        self.sig = sig
        self.se = se
    }

    /// +0.
    public static let posZero = X87Bits(sig: 0, se: 0)
    /// −0.
    public static let negZero = X87Bits(sig: 0, se: 0x8000)
    /// +∞.
    public static let posInf = X87Bits(sig: 1 << 63, se: 0x7FFF)
    /// −∞.
    public static let negInf = X87Bits(sig: 1 << 63, se: 0xFFFF)
    /// A positive quiet NaN with a payload.
    public static let qnan = X87Bits(sig: 0xC000_0000_0000_1234, se: 0x7FFF)
    /// A negative signalling NaN with a payload.
    public static let snan = X87Bits(sig: 0x8000_0000_0000_0042, se: 0xFFFF)
    /// +1.
    public static let one = X87Bits(sig: 1 << 63, se: 0x3FFF)
    /// −1.
    public static let minusOne = X87Bits(sig: 1 << 63, se: 0xBFFF)

    /// Finite and not zero (denormals included).
    public var isFiniteNonzero: Bool { se & 0x7FFF != 0x7FFF && !(se & 0x7FFF == 0 && sig == 0) }

    /// `se:sig` in hexadecimal, the table's notation.
    public var hex: String { String(se, radix: 16) + ":" + String(sig, radix: 16) }

    /// Distance to `other` in units in the last place of the 64-bit significand (denormals included), or
    /// nil when either value is zero, infinite or NaN.
    public func ulps(to other: X87Bits) -> UInt64? {
        guard isFiniteNonzero, other.isFiniteNonzero else { return nil }
        // (exponent, fraction) as one integer is monotonic in |v| and steps by one ulp.
        func ordinal(_ v: X87Bits) -> UInt128 {
            let e = v.se & 0x7FFF
            return UInt128(e) << 63 | UInt128(e == 0 ? v.sig : v.sig & ~(1 << 63))
        }
        let a = ordinal(self), b = ordinal(other)
        let d = se >> 15 == other.se >> 15 ? (a > b ? a - b : b - a) : a + b
        return d > UInt128(UInt64.max) ? UInt64.max : UInt64(d)
    }
}

/// The x87 transcendental instructions, their D9-escape opcode bytes and the inputs they are tested on.
public enum X87Transcendental: String, CaseIterable, Sendable {
    case f2xm1 = "F2XM1", fyl2x = "FYL2X", fyl2xp1 = "FYL2XP1", fptan = "FPTAN", fpatan = "FPATAN"
    case fsin = "FSIN", fcos = "FCOS", fsincos = "FSINCOS"

    /// The second opcode byte (after D9).
    public var opcode: UInt8 {
        switch self {
        case .f2xm1: return 0xF0
        case .fyl2x: return 0xF1
        case .fptan: return 0xF2
        case .fpatan: return 0xF3
        case .fsincos: return 0xFB
        case .fyl2xp1: return 0xF9
        case .fsin: return 0xFE
        case .fcos: return 0xFF
        }
    }

    /// Edge cases first (zeros, denormals, infinities, quiet and signalling NaNs, huge arguments, arguments
    /// near multiples of π/2), then deterministic random values over the instruction's domain, `count` in
    /// all (at least the edge cases). x goes to ST(0), y to ST(1). Finite x outside FYL2XP1's domain
    /// (|x| < 1 − √2/2) is left out: the SDM leaves those results undefined and the processor returns values
    /// unrelated to the function (e.g. −1 for x = −1, y = 1).
    public func inputs(count: Int) -> [(x: X87Bits, y: X87Bits)] {
        var m = X87Mix(state: 0x5EED_0000 &+ UInt64(opcode))
        var out = edges
        while out.count < count { out.append(random(&m)) }
        return out
    }

    private var edges: [(x: X87Bits, y: X87Bits)] {
        typealias B = X87Bits
        let one = B.one
        let common: [B] = [.posZero, .negZero, .posInf, .negInf, .qnan, .snan, .one, .minusOne]
        let tiny: [B] = [B(sig: 1, se: 0), B(sig: 0x7FFF_FFFF_FFFF_FFFF, se: 0x8000), B(sig: 1 << 63, se: 0x0001)]
        switch self {
        case .f2xm1:
            return (common + tiny + [B(sig: 1 << 63, se: 0x3FFE), B(sig: 1 << 63, se: 0xBFFE), B(sig: 1 << 63, se: 0x3FBF),
                                     B(sig: 1 << 63, se: 0x4000), B(sig: 1 << 63, se: 0xC07F), B(sig: 0xC000_0000_0000_0000, se: 0x3FFF)])
                .map { ($0, one) }
        case .fyl2x:
            return [(.posZero, one), (.negZero, .minusOne), (.posZero, .posZero), (B(sig: 1 << 63, se: 0xC000), one), (one, one),
                    (one, .posInf), (one, .negInf), (.posInf, one), (.posInf, .posZero), (.posInf, .minusOne), (.qnan, one),
                    (.snan, one), (one, .qnan), (one, .snan), (.qnan, .snan), (.negInf, one), (.posZero, .posInf),
                    (B(sig: 1, se: 0), one), (B(sig: 1 << 63, se: 0x7FFE), one), (B(sig: 1 << 63, se: 0x0001), .negZero),
                    (B(sig: 1 << 62, se: 0), B(sig: 3, se: 0)), (B(sig: 1 << 63, se: 0x3FFE), .posInf),
                    (B(sig: 1 << 63, se: 0x4000), .negZero)]
        case .fyl2xp1:
            return [(.posZero, one), (.negZero, one), (.posZero, .posInf), (.qnan, one), (.snan, one), (one, .qnan), (one, .snan),
                    (B(sig: 1, se: 0), one), (B(sig: 5, se: 0x8000), .negInf), (B(sig: 1 << 63, se: 0x3FFD), one),
                    (B(sig: 1 << 63, se: 0xBFFD), .posInf), (B(sig: 1 << 63, se: 0x3FFD), .posZero),
                    (B(sig: 1 << 63, se: 0x3FFD), B(sig: 7, se: 0)), (.posInf, one)]
        case .fpatan:
            return [(.posZero, .posZero), (.negZero, .posZero), (.posZero, .negZero), (.negZero, .negZero),
                    (.posInf, .posInf), (.negInf, .posInf), (.posInf, .negInf), (.negInf, .negInf), (.posInf, one),
                    (.negInf, one), (one, .posInf), (one, .negInf), (.posZero, one), (.negZero, .minusOne),
                    (.qnan, one), (one, .snan), (.snan, .qnan), (.qnan, .posInf), (B(sig: 1, se: 0), one), (one, B(sig: 1, se: 0)),
                    (B(sig: 1, se: 0), B(sig: 3, se: 0x8000)), (B(sig: 1 << 63, se: 0x7FFE), B(sig: 1, se: 0)),
                    (B(sig: 1, se: 0), B(sig: 1 << 63, se: 0x7FFE))]
        case .fptan, .fsin, .fcos, .fsincos:
            return (common + tiny + [
                B(sig: 1 << 63, se: 0x403E), B(sig: 1 << 63, se: 0xC03E), B(sig: UInt64.max, se: 0x403D), B(sig: 1 << 63, se: 0x7FFE),
                B(sig: 0xC90F_DAA2_2168_C235, se: 0x4000), B(sig: 0xC90F_DAA2_2168_C234, se: 0x3FFF),
                B(sig: 0xC90F_DAA2_2168_C235, se: 0x3FFF), B(sig: 0x96CB_E3F9_990E_91A8, se: 0x4001),
                B(sig: 0xC90F_DAA2_2168_C235, se: 0x4018), B(sig: UInt64.max, se: 0xC03D), B(sig: 1 << 63, se: 0x3FBF),
            ]).map { ($0, one) }
        }
    }

    private func random(_ m: inout X87Mix) -> (x: X87Bits, y: X87Bits) {
        switch self {
        case .f2xm1:
            return (m.next() % 4 == 0 ? m.normal(-16382 ... -2) : m.normal(-40 ... -1), .one)
        case .fyl2x:
            return (m.next() % 8 == 0 ? X87Bits(sig: m.next() >> 1 | 1, se: 0) : m.normal(-16382 ... 16383, positive: true),
                    m.normal(-60 ... 60))
        case .fyl2xp1:
            return (m.next() % 8 == 0 ? m.denormal() : m.normal(-70 ... -3), m.normal(-60 ... 60))
        case .fpatan:
            return (m.next() % 4 == 0 ? m.normal(-16000 ... 16000) : m.normal(-30 ... 30),
                    m.next() % 4 == 0 ? m.normal(-16000 ... 16000) : m.normal(-30 ... 30))
        case .fptan, .fsin, .fcos, .fsincos:
            return (m.next() % 4 == 0 ? m.normal(-70 ... 62) : m.normal(-8 ... 8), .one)
        }
    }
}

/// SplitMix64, for deterministic table inputs.
private struct X87Mix {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A normal value with unbiased exponent in `exp`, random sign unless `positive`.
    mutating func normal(_ exp: ClosedRange<Int>, positive: Bool = false) -> X87Bits {
        let e = exp.lowerBound + Int(next() % UInt64(exp.count))
        let sign: UInt16 = positive || next() & 1 == 0 ? 0 : 0x8000
        return X87Bits(sig: next() | 1 << 63, se: sign | UInt16(e + 16383))
    }

    /// A denormal of random sign.
    mutating func denormal() -> X87Bits { X87Bits(sig: next() >> 1 | 1, se: next() & 1 == 0 ? 0 : 0x8000) }
}

/// What one run of an instruction left behind: FSW right after it, then ST(0) and ST(1) (stored with FSTP,
/// so an empty register reads as the default NaN).
public struct X87Result: Equatable, Sendable {
    /// The status word after the instruction.
    public var fsw: UInt16
    /// ST(0) and ST(1) after the instruction.
    public var st0: X87Bits, st1: X87Bits
}

/// One input of the table with the model's and the host's results.
public struct X87TableRow: Sendable {
    /// The instruction.
    public var instruction: X87Transcendental
    /// ST(0) and ST(1) before it.
    public var x: X87Bits, y: X87Bits
    /// The processor model's result.
    public var model: X87Result
    /// The host processor's result.
    public var host: X87Result

    /// FSW bits that must agree exactly: all but C1 — the exception flags IE DE ZE OE UE PE, SF, ES, C0, C2
    /// (the trigonometric instructions' "out of range" code), C3, TOP and B. C1 (round-up indicator, or
    /// stack overflow after a stack fault) is compared too when no result is finite and nonzero, i.e. when
    /// nothing was rounded.
    public static let exactFSWMask: UInt16 = 0xFFFF & ~0x0200

    /// The worst distance between model and host results over ST(0) and ST(1), in ulps (nil when no
    /// result is finite and nonzero on both sides).
    public var worstULPs: UInt64? {
        [model.st0.ulps(to: host.st0), model.st1.ulps(to: host.st1)].compactMap { $0 }.max()
    }

    /// What differs where the model must equal the host bit for bit (empty: nothing): the exact FSW bits,
    /// and every result that is not finite and nonzero on both sides.
    public var specialCaseMismatches: [String] {
        var out: [String] = []
        var mask = X87TableRow.exactFSWMask
        let rounded = model.st0.ulps(to: host.st0) != nil || model.st1.ulps(to: host.st1) != nil
        if !rounded { mask |= 0x0200 }
        if (model.fsw ^ host.fsw) & mask != 0 {
            out.append("FSW model \(String(model.fsw, radix: 16)) host \(String(host.fsw, radix: 16))")
        }
        for (name, m, h) in [("ST0", model.st0, host.st0), ("ST1", model.st1, host.st1)]
        where m.ulps(to: h) == nil && m != h {
            out.append("\(name) model \(m.hex) host \(h.hex)")
        }
        return out
    }

    /// One tab-separated line: name, x, y, then FSW, ST0, ST1 of the model and of the host (hexadecimal,
    /// values as se:sig).
    public var tsv: String {
        func r(_ v: X87Result) -> String { "\(String(v.fsw, radix: 16))\t\(v.st0.hex)\t\(v.st1.hex)" }
        return "\(instruction.rawValue)\t\(x.hex)\t\(y.hex)\t\(r(model))\t\(r(host))"
    }
}

/// Runs the transcendental instructions on the model and on the host over a table of inputs.
public enum X87TranscendentalTable {
    /// Bytes per record in the data area: x at 0, y at 16, FSW at 32, ST(0) at 40, ST(1) at 56.
    static let recordSize = 80
    /// Records per native run (they must fit the data area below the stack).
    static let batch = 600

    /// The loop over RCX records at RSI: FNINIT; FLD y; FLD x; the instruction; FNSTSW AX; store FSW,
    /// FSTP ST(0), FSTP ST(1); next record. A final FNINIT empties the register stack: the native runner
    /// does not restore this process's x87 state, and a register left valid (FPTAN pushes a third value)
    /// would make later long-double arithmetic in the process overflow the stack.
    static func loopCode(_ op: X87Transcendental) -> [UInt8] {
        var c: [UInt8] = [0xDB, 0xE3, 0xDB, 0x6E, 0x10, 0xDB, 0x2E, 0xD9, op.opcode, 0xDF, 0xE0, 0x66, 0x89, 0x46, 0x20,
                          0xDB, 0x7E, 0x28, 0xDB, 0x7E, 0x38, 0x48, 0x83, 0xC6, 0x50, 0xFF, 0xC9]
        c += [0x75, UInt8(bitPattern: Int8(-(c.count + 2)))]
        return c + [0xDB, 0xE3]
    }

    /// The rows for `inputs` of `op`, or nil when the host oracle is unavailable or a run did not complete.
    public static func run(_ op: X87Transcendental, inputs: [(x: X87Bits, y: X87Bits)]) -> [X87TableRow]? {
        guard HostCPU.isAvailable, let machine = try? UserModeMachine() else { return nil }
        machine.instructionLimit = 20 * batch + 100
        let code = loopCode(op)
        var rows: [X87TableRow] = []
        rows.reserveCapacity(inputs.count)
        for start in stride(from: 0, to: inputs.count, by: batch) {
            let chunk = inputs[start ..< min(start + batch, inputs.count)]
            var data = [UInt8](repeating: 0, count: chunk.count * recordSize)
            for (k, (x, y)) in chunk.enumerated() {
                put(&data, k * recordSize, x)
                put(&data, k * recordSize + 16, y)
            }
            var gpr = [UInt64](repeating: 0, count: 16)
            gpr[1] = UInt64(chunk.count)
            gpr[4] = HostCPU.dataAddress + UInt64(HostCPU.dataSize) - 64
            gpr[6] = HostCPU.dataAddress
            let state = HostState(gpr: gpr, rip: HostCPU.codeAddress, rflags: 2)
            let host = HostCPU.runDetailed(code: code, state: state, data: data)
            guard host.outcome == .completed else { return nil }
            let m = machine.run(code: code, state: state, data: data)
            guard m.outcome == .completed else { return nil }
            let model = machine.data
            for (k, (x, y)) in chunk.enumerated() {
                rows.append(X87TableRow(instruction: op, x: x, y: y, model: result(model, k * recordSize),
                                        host: result(host.data, k * recordSize)))
            }
        }
        return rows
    }

    private static func put(_ d: inout [UInt8], _ off: Int, _ v: X87Bits) {
        for k in 0..<8 { d[off + k] = UInt8(truncatingIfNeeded: v.sig >> UInt64(8 * k)) }
        d[off + 8] = UInt8(truncatingIfNeeded: v.se)
        d[off + 9] = UInt8(v.se >> 8)
    }

    private static func get(_ d: [UInt8], _ off: Int) -> X87Bits {
        var s: UInt64 = 0
        for k in 0..<8 { s |= UInt64(d[off + k]) << UInt64(8 * k) }
        return X87Bits(sig: s, se: UInt16(d[off + 8]) | UInt16(d[off + 9]) << 8)
    }

    private static func result(_ d: [UInt8], _ off: Int) -> X87Result {
        X87Result(fsw: UInt16(d[off + 32]) | UInt16(d[off + 33]) << 8, st0: get(d, off + 40), st1: get(d, off + 56))
    }
}
