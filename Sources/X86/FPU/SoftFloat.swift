// Software IEEE 754 arithmetic for the x87 and SSE units: binary32, binary64 and the x87 80-bit
// extended format, all four rounding modes, exception flags, tininess detected after rounding as
// x86 does (SDM Vol. 1 §4.9.1.5), DAZ and FTZ. Host floating point is never used for results, so
// they are the same on every host (Float80 does not exist on Apple silicon).

/// A rounding mode, in the encoding of FCW.RC and MXCSR.RC (SDM Vol. 1 Table 4-8).
enum FPRounding: UInt8 {
    /// Round to nearest, ties to even.
    case nearest = 0
    /// Round toward −∞.
    case down = 1
    /// Round toward +∞.
    case up = 2
    /// Round toward zero.
    case zero = 3
}

/// Floating-point exception flags, in the bit positions shared by FSW and MXCSR (SDM Vol. 1 §4.9).
enum FPFlag {
    /// Invalid operation (IE).
    static let invalid: UInt8 = 1
    /// Denormal operand (DE).
    static let denormal: UInt8 = 2
    /// Divide by zero (ZE).
    static let divideByZero: UInt8 = 4
    /// Numeric overflow (OE).
    static let overflow: UInt8 = 8
    /// Numeric underflow (UE).
    static let underflow: UInt8 = 16
    /// Inexact result (PE).
    static let inexact: UInt8 = 32
}

/// The class of an unpacked value.
enum FPClass: UInt8 {
    case zero, finite, infinity, quietNaN, signalingNaN
    /// An 80-bit encoding the processor does not support (unnormal, pseudo-NaN, pseudo-infinity).
    case unsupported
}

/// A binary floating-point format.
struct FPFormat {
    /// Significand bits including the integer bit (24, 53, 64).
    var precision: Int
    /// Unbiased exponent of the smallest normal number.
    var emin: Int32
    /// Unbiased exponent of the largest finite number.
    var emax: Int32

    /// IEEE binary32.
    static let single = FPFormat(precision: 24, emin: -126, emax: 127)
    /// IEEE binary64.
    static let double = FPFormat(precision: 53, emin: -1022, emax: 1023)
    /// x87 double extended.
    static let extended = FPFormat(precision: 64, emin: -16382, emax: 16383)

    /// The extended exponent range with a reduced precision (x87 precision control).
    static func extended(precision p: Int) -> FPFormat { FPFormat(precision: p, emin: -16382, emax: 16383) }
}

/// The floating-point environment of one operation: rounding, flush-to-zero, and the flags raised.
struct FPEnv {
    /// Rounding mode.
    var rounding: FPRounding = .nearest
    /// Flush tiny results to zero (MXCSR.FTZ with underflow masked).
    var flushToZero = false
    /// Treat denormal inputs as zero (MXCSR.DAZ).
    var denormalsAreZero = false
    /// Exception flags raised so far (`FPFlag`).
    var flags: UInt8 = 0
    /// Set when a result was tiny (for unmasked underflow, which does not need inexactness).
    var tiny = false
}

/// An unpacked floating-point value: value = sig × 2^(exp − 63). Finite values are normalized (bit 63 set)
/// except denormal results of `roundPack`, which keep exp = emin and bit 63 clear. NaNs keep their payload
/// left-aligned (bit 63 set, bit 62 the quiet bit).
struct FPValue: Equatable {
    var sign: Bool
    var cls: FPClass
    var exp: Int32
    var sig: UInt64

    /// Positive or negative zero.
    static func zero(_ sign: Bool) -> FPValue { FPValue(sign: sign, cls: .zero, exp: 0, sig: 0) }
    /// Positive or negative infinity.
    static func infinity(_ sign: Bool) -> FPValue { FPValue(sign: sign, cls: .infinity, exp: 0, sig: 1 << 63) }
    /// The default NaN ("QNaN floating-point indefinite"): negative, quiet, zero payload.
    static let defaultNaN = FPValue(sign: true, cls: .quietNaN, exp: 0, sig: 0xC000_0000_0000_0000)

    /// Whether this is a NaN.
    var isNaN: Bool { cls == .quietNaN || cls == .signalingNaN }
    /// The NaN made quiet.
    var quieted: FPValue { FPValue(sign: sign, cls: .quietNaN, exp: 0, sig: sig | 0xC000_0000_0000_0000) }

    // MARK: Packing

    /// Unpacks a binary32 (`fracBits` 23) or binary64 (`fracBits` 52) encoding. Denormal inputs raise DE,
    /// or become zero under DAZ.
    @inline(__always)
    static func unpack(_ bits: UInt64, fracBits: Int, expBits: Int, env: inout FPEnv) -> FPValue {
        let sign = bits >> UInt64(fracBits + expBits) & 1 != 0
        let e = Int32(truncatingIfNeeded: (bits >> UInt64(fracBits)) & ((1 << UInt64(expBits)) - 1))
        let frac = bits & ((1 << UInt64(fracBits)) - 1)
        let bias = Int32((1 << (expBits - 1)) - 1)
        let maxE = Int32((1 << expBits) - 1)
        let up = UInt64(63 - fracBits)
        if e == maxE {
            if frac == 0 { return .infinity(sign) }
            let quiet = frac >> UInt64(fracBits - 1) & 1 != 0
            return FPValue(sign: sign, cls: quiet ? .quietNaN : .signalingNaN, exp: 0, sig: (frac << up) | (1 << 63))
        }
        if e == 0 {
            if frac == 0 { return .zero(sign) }
            if env.denormalsAreZero { return .zero(sign) }
            env.flags |= FPFlag.denormal
            let s = frac << up
            let lz = s.leadingZeroBitCount
            return FPValue(sign: sign, cls: .finite, exp: 1 - bias - Int32(lz), sig: s << UInt64(lz))
        }
        return FPValue(sign: sign, cls: .finite, exp: e - bias, sig: (frac | (1 << UInt64(fracBits))) << up)
    }

    /// Unpacks a binary32 encoding.
    static func unpack32(_ bits: UInt32, _ env: inout FPEnv) -> FPValue {
        unpack(UInt64(bits), fracBits: 23, expBits: 8, env: &env)
    }

    /// Unpacks a binary64 encoding.
    static func unpack64(_ bits: UInt64, _ env: inout FPEnv) -> FPValue {
        unpack(bits, fracBits: 52, expBits: 11, env: &env)
    }

    /// Unpacks an 80-bit x87 encoding (significand with explicit integer bit, sign and exponent).
    /// Denormal operands raise DE.
    static func unpack80(sig: UInt64, se: UInt16, _ env: inout FPEnv) -> FPValue {
        let sign = se & 0x8000 != 0
        let e = Int32(se & 0x7FFF)
        if e == 0x7FFF {
            if sig >> 63 == 0 { return FPValue(sign: sign, cls: .unsupported, exp: 0, sig: sig) }
            if sig << 1 == 0 { return .infinity(sign) }
            return FPValue(sign: sign, cls: sig >> 62 & 1 != 0 ? .quietNaN : .signalingNaN, exp: 0, sig: sig)
        }
        if e == 0 {
            if sig == 0 { return .zero(sign) }
            env.flags |= FPFlag.denormal
            let lz = sig.leadingZeroBitCount
            return FPValue(sign: sign, cls: .finite, exp: -16382 - Int32(lz), sig: sig << UInt64(lz))
        }
        if sig >> 63 == 0 { return FPValue(sign: sign, cls: .unsupported, exp: 0, sig: sig) }
        return FPValue(sign: sign, cls: .finite, exp: e - 16383, sig: sig)
    }

    /// Packs into a binary32 or binary64 encoding. The value must be representable (a `roundPack` result).
    @inline(__always)
    func pack(fracBits: Int, expBits: Int) -> UInt64 {
        let s: UInt64 = sign ? 1 << UInt64(fracBits + expBits) : 0
        let maxE = UInt64((1 << expBits) - 1)
        let bias = Int32((1 << (expBits - 1)) - 1)
        let fmask = (UInt64(1) << UInt64(fracBits)) - 1
        let down = UInt64(63 - fracBits)
        switch cls {
        case .zero: return s
        case .infinity: return s | maxE << UInt64(fracBits)
        case .quietNaN, .signalingNaN, .unsupported: return s | maxE << UInt64(fracBits) | ((sig >> down) & fmask)
        case .finite:
            let biased = Int64(exp) + Int64(bias)
            if sig >> 63 == 0 || biased <= 0 {
                // Denormal (values that came unrounded from this format are shifted exactly).
                let shift = sig >> 63 == 0 ? 0 : 1 - biased
                let m = shift >= 64 ? 0 : sig >> UInt64(shift)
                return s | (m >> down) & fmask
            }
            if biased >= Int64(maxE) { return s | maxE << UInt64(fracBits) }
            return s | UInt64(biased) << UInt64(fracBits) | ((sig >> down) & fmask)
        }
    }

    /// Packs into binary32.
    var bits32: UInt32 { UInt32(truncatingIfNeeded: pack(fracBits: 23, expBits: 8)) }
    /// Packs into binary64.
    var bits64: UInt64 { pack(fracBits: 52, expBits: 11) }
    /// Packs into the x87 80-bit encoding: (significand, sign and exponent).
    var bits80: (sig: UInt64, se: UInt16) {
        let s: UInt16 = sign ? 0x8000 : 0
        switch cls {
        case .zero: return (0, s)
        case .infinity: return (1 << 63, s | 0x7FFF)
        case .quietNaN, .signalingNaN, .unsupported: return (sig, s | 0x7FFF)
        case .finite:
            let biased = Int64(exp) + 16383
            if sig >> 63 == 0 { return (sig, s) }
            if biased <= 0 { return (1 - biased >= 64 ? 0 : sig >> UInt64(1 - biased), s) }
            if biased >= 0x7FFF { return (1 << 63, s | 0x7FFF) }
            return (sig, s | UInt16(truncatingIfNeeded: biased))
        }
    }
}

/// The arithmetic core.
enum SoftFloat {
    /// Rounds the 128-bit significand hi:lo (binary point after bit 127) to its `keep` top bits (0–64).
    @inline(__always)
    static func roundBits(_ hi: UInt64, _ lo: UInt64, keep: Int, _ rc: FPRounding, _ sign: Bool)
        -> (value: UInt64, carry: Bool, inexact: Bool) {
        let shift = 64 - keep
        var kept: UInt64
        let half: Bool, sticky: Bool
        if shift == 0 {
            kept = hi; half = lo >> 63 != 0; sticky = lo << 1 != 0
        } else if shift >= 64 {
            kept = 0; half = hi >> 63 != 0; sticky = hi << 1 != 0 || lo != 0
        } else {
            kept = hi >> UInt64(shift)
            let rem = hi << UInt64(64 - shift)
            half = rem >> 63 != 0; sticky = rem << 1 != 0 || lo != 0
        }
        let inexact = half || sticky
        let up: Bool
        switch rc {
        case .nearest: up = half && (sticky || kept & 1 != 0)
        case .down: up = inexact && sign
        case .up: up = inexact && !sign
        case .zero: up = false
        }
        var carry = false
        if up {
            let (v, o) = kept.addingReportingOverflow(1)
            kept = v
            carry = o || (keep < 64 && v >> UInt64(keep) != 0)
        }
        return (kept, carry, inexact)
    }

    /// Rounds sign × hi:lo × 2^(exp − 63) (hi:lo a 128-bit significand, bit 127 weighing 2^exp) to `fmt`,
    /// raising OE, UE, PE as the SDM specifies for masked responses.
    static func roundPack(_ sign: Bool, _ exp: Int32, _ hi: UInt64, _ lo: UInt64, _ fmt: FPFormat, _ env: inout FPEnv) -> FPValue {
        var hi = hi, lo = lo, exp = exp
        if hi == 0 && lo == 0 { return .zero(sign) }
        // Normalize.
        if hi == 0 { hi = lo; lo = 0; exp -= 64 }
        let lz = hi.leadingZeroBitCount
        if lz > 0 {
            hi = hi << UInt64(lz) | lo >> UInt64(64 - lz)
            lo = lo << UInt64(lz)
            exp -= Int32(lz)
        }
        let p = fmt.precision
        let rc = env.rounding
        let r = roundBits(hi, lo, keep: p, rc, sign)
        let e = exp + (r.carry ? 1 : 0)
        if e > fmt.emax {
            env.flags |= FPFlag.overflow | FPFlag.inexact
            let toInf = rc == .nearest || (rc == .up && !sign) || (rc == .down && sign)
            if toInf { return .infinity(sign) }
            let maxSig = UInt64.max << UInt64(64 - p)
            return FPValue(sign: sign, cls: .finite, exp: fmt.emax, sig: maxSig)
        }
        if exp < fmt.emin {
            let tiny = e < fmt.emin
            if tiny {
                env.tiny = true
                if env.flushToZero {
                    env.flags |= FPFlag.underflow | FPFlag.inexact
                    return .zero(sign)
                }
            }
            // Denormalize: shift right by emin − exp into a sticky bit.
            let d = Int(fmt.emin - exp)
            var h = hi, l = lo
            if d >= 128 {
                h = 0; l = 1
            } else if d >= 64 {
                let sticky: UInt64 = (l != 0 || (d > 64 && h << UInt64(128 - d) != 0)) ? 1 : 0
                l = (d == 64 ? h : h >> UInt64(d - 64)) | sticky
                h = 0
            } else {
                let sticky: UInt64 = l << UInt64(64 - d) != 0 ? 1 : 0
                l = l >> UInt64(d) | h << UInt64(64 - d) | sticky
                h = h >> UInt64(d)
            }
            let r2 = roundBits(h, l, keep: p, rc, sign)
            if r2.inexact { env.flags |= FPFlag.inexact | (tiny ? FPFlag.underflow : 0) }
            if r2.value == 0 { return .zero(sign) }
            return FPValue(sign: sign, cls: .finite, exp: fmt.emin, sig: r2.value << UInt64(64 - p))
        }
        if r.inexact { env.flags |= FPFlag.inexact }
        let v = r.carry ? (r.value >> 1) | (UInt64(1) << UInt64(p - 1)) : r.value
        return FPValue(sign: sign, cls: .finite, exp: e, sig: v << UInt64(64 - p))
    }

    /// Rounds a value to a format (conversions, precision control). NaNs are quieted (IE for signaling).
    static func round(_ a: FPValue, _ fmt: FPFormat, _ env: inout FPEnv) -> FPValue {
        switch a.cls {
        case .finite: return roundPack(a.sign, a.exp, a.sig, 0, fmt, &env)
        case .signalingNaN: env.flags |= FPFlag.invalid; return truncatedNaN(a.quieted, fmt)
        case .quietNaN: return truncatedNaN(a, fmt)
        case .unsupported: env.flags |= FPFlag.invalid; return .defaultNaN
        default: return a
        }
    }

    /// A NaN with its payload cut to a format's precision.
    @inline(__always) static func truncatedNaN(_ a: FPValue, _ fmt: FPFormat) -> FPValue {
        FPValue(sign: a.sign, cls: a.cls, exp: 0, sig: a.sig & (UInt64.max << UInt64(64 - fmt.precision)))
    }

    /// The NaN result of an operation with a NaN operand, SSE rule (SDM Vol. 1 Table 4-7): the first NaN
    /// source, quieted. `x87` selects the x87 rule instead: the NaN with the larger significand, a QNaN over an SNaN.
    @inline(__always)
    static func propagateNaN(_ a: FPValue, _ b: FPValue, x87: Bool, _ env: inout FPEnv) -> FPValue {
        if a.cls == .signalingNaN || b.cls == .signalingNaN { env.flags |= FPFlag.invalid }
        if a.isNaN && b.isNaN {
            if !x87 { return a.quieted }
            if a.cls == .quietNaN && b.cls == .signalingNaN { return a }
            if b.cls == .quietNaN && a.cls == .signalingNaN { return b }
            let ma = a.sig & ~(UInt64(1) << 62), mb = b.sig & ~(UInt64(1) << 62)
            if ma != mb { return (ma > mb ? a : b).quieted }
            return (a.sign ? b : a).quieted
        }
        return (a.isNaN ? a : b).quieted
    }

    /// Handles NaN and unsupported operands of a binary operation; nil when both are numbers.
    @inline(__always)
    static func specialOperands(_ a: FPValue, _ b: FPValue, x87: Bool, _ env: inout FPEnv) -> FPValue? {
        if a.cls == .unsupported || b.cls == .unsupported { env.flags |= FPFlag.invalid; return .defaultNaN }
        if a.isNaN || b.isNaN { return propagateNaN(a, b, x87: x87, &env) }
        return nil
    }

    /// a + b (`negateB` for a − b).
    static func add(_ a: FPValue, _ b: FPValue, negateB: Bool = false, _ fmt: FPFormat, x87: Bool = false, _ env: inout FPEnv) -> FPValue {
        if let n = specialOperands(a, b, x87: x87, &env) { return n }
        var b = b
        if negateB { b.sign.toggle() }
        if a.cls == .infinity || b.cls == .infinity {
            if a.cls == .infinity && b.cls == .infinity && a.sign != b.sign { env.flags |= FPFlag.invalid; return .defaultNaN }
            return a.cls == .infinity ? a : b
        }
        if a.cls == .zero && b.cls == .zero {
            if a.sign == b.sign { return a }
            return .zero(env.rounding == .down)
        }
        if a.cls == .zero { return round(b, fmt, &env) }
        if b.cls == .zero { return round(a, fmt, &env) }
        // Larger magnitude first.
        var x = a, y = b
        if y.exp > x.exp || (y.exp == x.exp && y.sig > x.sig) { swap(&x, &y) }
        let d = Int(x.exp - y.exp) + 1
        let xh = x.sig >> 1, xl = x.sig << 63
        var yh: UInt64, yl: UInt64
        if d >= 128 {
            yh = 0; yl = 1
        } else if d >= 64 {
            yh = 0
            let s = d - 64
            yl = (s == 0 ? y.sig : y.sig >> UInt64(s)) | ((s > 0 && y.sig << UInt64(64 - s) != 0) ? 1 : 0)
        } else {
            yh = y.sig >> UInt64(d); yl = y.sig << UInt64(64 - d)
        }
        var rh: UInt64, rl: UInt64
        if x.sign == y.sign {
            let (l, c) = xl.addingReportingOverflow(yl)
            rl = l; rh = xh &+ yh &+ (c ? 1 : 0)
        } else {
            let (l, bw) = xl.subtractingReportingOverflow(yl)
            rl = l; rh = xh &- yh &- (bw ? 1 : 0)
            if rh == 0 && rl == 0 { return .zero(env.rounding == .down) }
        }
        return roundPack(x.sign, x.exp + 1, rh, rl, fmt, &env)
    }

    /// a × b.
    static func mul(_ a: FPValue, _ b: FPValue, _ fmt: FPFormat, x87: Bool = false, _ env: inout FPEnv) -> FPValue {
        if let n = specialOperands(a, b, x87: x87, &env) { return n }
        let sign = a.sign != b.sign
        if a.cls == .infinity || b.cls == .infinity {
            if a.cls == .zero || b.cls == .zero { env.flags |= FPFlag.invalid; return .defaultNaN }
            return .infinity(sign)
        }
        if a.cls == .zero || b.cls == .zero { return .zero(sign) }
        let p = a.sig.multipliedFullWidth(by: b.sig)
        return roundPack(sign, a.exp + b.exp + 1, p.high, p.low, fmt, &env)
    }

    /// a ÷ b.
    static func div(_ a: FPValue, _ b: FPValue, _ fmt: FPFormat, x87: Bool = false, _ env: inout FPEnv) -> FPValue {
        if let n = specialOperands(a, b, x87: x87, &env) { return n }
        let sign = a.sign != b.sign
        if a.cls == .infinity {
            if b.cls == .infinity { env.flags |= FPFlag.invalid; return .defaultNaN }
            return .infinity(sign)
        }
        if b.cls == .infinity { return .zero(sign) }
        if b.cls == .zero {
            if a.cls == .zero { env.flags |= FPFlag.invalid; return .defaultNaN }
            env.flags |= FPFlag.divideByZero
            return .infinity(sign)
        }
        if a.cls == .zero { return .zero(sign) }
        let q1 = b.sig.dividingFullWidth((high: a.sig >> 1, low: a.sig << 63))
        let q2 = b.sig.dividingFullWidth((high: q1.remainder, low: 0))
        return roundPack(sign, a.exp - b.exp, q1.quotient, q2.quotient | (q2.remainder != 0 ? 1 : 0), fmt, &env)
    }

    /// √a.
    static func sqrt(_ a: FPValue, _ fmt: FPFormat, x87: Bool = false, _ env: inout FPEnv) -> FPValue {
        switch a.cls {
        case .unsupported: env.flags |= FPFlag.invalid; return .defaultNaN
        case .quietNaN, .signalingNaN: return propagateNaN(a, a, x87: x87, &env)
        case .zero: return a
        case .infinity:
            if a.sign { env.flags |= FPFlag.invalid; return .defaultNaN }
            return a
        case .finite: break
        }
        if a.sign { env.flags |= FPFlag.invalid; return .defaultNaN }
        // Radicand R (128 bits) with value = R × 2^E, E even.
        let rh: UInt64, rl: UInt64, e: Int32
        if a.exp & 1 != 0 {
            rh = a.sig; rl = 0; e = a.exp - 127
        } else {
            rh = a.sig >> 1; rl = a.sig << 63; e = a.exp - 126
        }
        var r: UInt64 = 0
        var bit: UInt64 = 1 << 63
        while bit != 0 {
            let c = r | bit
            let sq = c.multipliedFullWidth(by: c)
            if sq.high < rh || (sq.high == rh && sq.low <= rl) { r = c }
            bit >>= 1
        }
        let sq = r.multipliedFullWidth(by: r)
        let (remL, bw) = rl.subtractingReportingOverflow(sq.low)
        let remH = rh &- sq.high &- (bw ? 1 : 0)
        let above = remH != 0 || remL > r
        let lo: UInt64 = (above ? 1 << 63 : 0) | ((remH | remL) != 0 ? 1 : 0)
        return roundPack(false, 63 + e / 2, r, lo, fmt, &env)
    }

    /// Compares: −1 less, 0 equal, 1 greater, 2 unordered. Raises IE for SNaN operands, or for any NaN when `signaling`.
    static func compare(_ a: FPValue, _ b: FPValue, signaling: Bool, _ env: inout FPEnv) -> Int {
        if a.cls == .unsupported || b.cls == .unsupported { env.flags |= FPFlag.invalid; return 2 }
        if a.isNaN || b.isNaN {
            if signaling || a.cls == .signalingNaN || b.cls == .signalingNaN { env.flags |= FPFlag.invalid }
            return 2
        }
        if a.cls == .zero && b.cls == .zero { return 0 }
        if a.sign != b.sign { return a.sign ? -1 : 1 }
        // Same sign: compare magnitudes.
        let m = magnitudeOrder(a, b)
        return a.sign ? -m : m
    }

    /// Orders |a| and |b| for non-NaN values.
    @inline(__always) static func magnitudeOrder(_ a: FPValue, _ b: FPValue) -> Int {
        func rank(_ v: FPValue) -> Int { v.cls == .zero ? 0 : (v.cls == .infinity ? 2 : 1) }
        let ra = rank(a), rb = rank(b)
        if ra != rb { return ra < rb ? -1 : 1 }
        if ra != 1 { return 0 }
        if a.exp != b.exp { return a.exp < b.exp ? -1 : 1 }
        if a.sig != b.sig { return a.sig < b.sig ? -1 : 1 }
        return 0
    }

    /// Converts a signed integer to a format.
    static func fromInt(_ v: Int64, _ fmt: FPFormat, _ env: inout FPEnv) -> FPValue {
        if v == 0 { return .zero(false) }
        let m = v < 0 ? UInt64(bitPattern: 0 &- v) : UInt64(v)
        return roundPack(v < 0, 63, m, 0, fmt, &env)
    }

    /// Converts to a signed integer of `bits` (16, 32, 64), rounding by `rc`. Out-of-range values and NaNs
    /// raise IE and return the integer indefinite (the most negative value).
    static func toInt(_ a: FPValue, bits: Int, _ rc: FPRounding, _ env: inout FPEnv) -> Int64 {
        let indefinite = Int64.min >> Int64(64 - bits)
        env.flags &= ~FPFlag.denormal    // conversions to integer never signal DE (SDM Vol. 2A CVTSD2SI)
        switch a.cls {
        case .zero: return 0
        case .finite: break
        default: env.flags |= FPFlag.invalid; return indefinite
        }
        if a.exp >= 63 {
            if a.exp == 63 && a.sign && a.sig == 1 << 63 && bits == 64 { return Int64.min }
            env.flags |= FPFlag.invalid; return indefinite
        }
        let r: (value: UInt64, carry: Bool, inexact: Bool)
        if a.exp < -1 {
            r = roundBits(0, 1, keep: 0, rc, a.sign)
        } else {
            r = roundBits(a.sig, 0, keep: Int(a.exp + 1), rc, a.sign)
        }
        // r.value is the rounded magnitude (keep ≤ 63, so a carry stays inside it).
        let mag = r.value
        let limit: UInt64 = UInt64(1) << UInt64(bits - 1)
        if (a.sign && mag > limit) || (!a.sign && mag >= limit) {
            env.flags |= FPFlag.invalid; return indefinite
        }
        if r.inexact { env.flags |= FPFlag.inexact }
        return a.sign ? 0 &- Int64(bitPattern: mag) : Int64(bitPattern: mag)
    }

    /// Rounds to an integral value in the same format (FRNDINT, ROUNDSD-style), by `rc`.
    static func roundToIntegral(_ a: FPValue, _ rc: FPRounding, _ env: inout FPEnv) -> FPValue {
        guard a.cls == .finite else {
            if a.isNaN || a.cls == .unsupported { return round(a, .extended, &env) }
            return a
        }
        if a.exp >= 63 { return a }
        let r: (value: UInt64, carry: Bool, inexact: Bool)
        if a.exp < -1 { r = roundBits(0, 1, keep: 0, rc, a.sign) } else { r = roundBits(a.sig, 0, keep: Int(a.exp + 1), rc, a.sign) }
        if r.inexact { env.flags |= FPFlag.inexact }
        if r.value == 0 { return .zero(a.sign) }
        let lz = r.value.leadingZeroBitCount
        return FPValue(sign: a.sign, cls: .finite, exp: Int32(63 - lz), sig: r.value << UInt64(lz))
    }
}
