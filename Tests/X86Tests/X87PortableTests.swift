// The portable x87 arithmetic (ExtendedReal, the model's own soft-float double-extended format) against the
// host's Float80 on x86-64: every operation the transcendental code uses, and the transcendental functions
// themselves, must give the same bits, so that Float80 is only a speed-up and a host without it (Apple
// silicon) computes what Intel hardware does.
import Testing
@testable import X86

#if arch(x86_64) && (os(Linux) || os(macOS))
@Suite("portable x87 arithmetic")
struct X87PortableTests {
    /// Random extended values: random sign, significand with the integer bit, exponent in `exponents`.
    static func values(_ count: Int, seed: UInt64, exponents: ClosedRange<Int>) -> [FPValue] {
        var state = seed
        func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17          // xorshift64
            return state
        }
        return (0..<count).map { _ in
            let r = next()
            let e = exponents.lowerBound + Int(r % UInt64(exponents.count))
            // Through the 80-bit encoding, as register contents are: denormals keep only their representable bits.
            let bits = FPValue(sign: r >> 63 != 0, cls: .finite, exp: Int32(e), sig: next() | 1 << 63).bits80
            var env = FPEnv()
            return FPValue.unpack80(sig: bits.sig, se: bits.se, &env)
        }
    }

    static func same(_ a: ExtendedReal, _ b: Float80) -> Bool { a.x87Value == b.x87Value }

    @Test("+ − × ÷, comparisons and conversions give Float80's bits",
          arguments: [-20...20, -16_390 ... -16_300, 16_300...16_383])
    func basicOperations(exponents: ClosedRange<Int>) {
        let xs = Self.values(4000, seed: 0x9E37_79B9_7F4A_7C15 &+ UInt64(exponents.lowerBound + 20_000), exponents: exponents)
        var mismatches: [String] = []
        for i in stride(from: 0, to: xs.count - 1, by: 2) {
            let (a, b) = (xs[i], xs[i + 1])
            let (sa, sb) = (ExtendedReal(x87: a), ExtendedReal(x87: b))
            let (fa, fb) = (Float80(x87: a), Float80(x87: b))
            let checks: [(String, Bool)] = [
                ("+", Self.same(sa + sb, fa + fb)), ("−", Self.same(sa - sb, fa - fb)),
                ("×", Self.same(sa * sb, fa * fb)), ("÷", Self.same(sa / sb, fa / fb)),
                ("<", (sa < sb) == (fa < fb)), ("==", (sa == sb) == (fa == fb)),
                ("neg", Self.same(-sa, -fa)), ("magnitude", Self.same(sa.magnitude, fa.magnitude)),
                ("significand", Self.same(sa.significand, fa.significand)), ("exponent", sa.exponent == fa.exponent),
                ("scale", Self.same(ExtendedReal(sign: .minus, exponent: 37, significand: sa),
                                    Float80(sign: .minus, exponent: 37, significand: fa))),
            ]
            for (name, ok) in checks where !ok { mismatches.append("\(name) \(a) \(b)") }
        }
        let first = mismatches.prefix(3).joined(separator: "; ")
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(first)")
    }

    @Test("roundedInt, Int and UInt64 conversions and denormal results agree")
    func conversionsAndDenormals() {
        for n in [0, 1, -1, 7, -8, 1 << 40, Int(Int64.max >> 1), -(1 << 62)] {
            #expect(Self.same(ExtendedReal(n), Float80(n)), "\(n)")
        }
        for (m, e) in [(UInt64(1), -16_445), (3, -16_446), (0xFFFF_FFFF_FFFF_FFFF, -16_500), (0x8000_0000_0000_0001, 0)] {
            #expect(Self.same(ExtendedReal(significand64: m, exponent: e), Float80(significand64: m, exponent: e)), "\(m) \(e)")
        }
        for x in Self.values(2000, seed: 42, exponents: -3...3) {
            #expect(ExtendedReal(x87: x).roundedInt == Float80(x87: x).roundedInt, "\(x)")
        }
        // Ties round away from zero in both.
        for v in [0.5, 1.5, 2.5, -0.5, -2.5, 7.5] as [Float80] {
            var e = FPEnv()
            let x = FPValue.unpack80(sig: v.x87Value.bits80.sig, se: v.x87Value.bits80.se, &e)
            #expect(ExtendedReal(x87: x).roundedInt == v.roundedInt, "\(v)")
        }
    }

    @Test("the transcendental functions give Float80's bits")
    func transcendentals() {
        typealias S = Transcendental<ExtendedReal>
        typealias F = Transcendental<Float80>
        var mismatches: [String] = []
        func check(_ name: String, _ a: ExtendedReal, _ b: Float80, _ x: FPValue) {
            if !Self.same(a, b) { mismatches.append("\(name)(\(x)): \(a.x87Value) vs \(b.x87Value)") }
        }
        for x in Self.values(300, seed: 7, exponents: -70...62) {
            let (s, f) = (ExtendedReal(x87: x), Float80(x87: x))
            check("sin", S.sin(s), F.sin(f), x)
            check("cos", S.cos(s), F.cos(f), x)
            check("tan", S.tan(s), F.tan(f), x)
        }
        for x in Self.values(300, seed: 8, exponents: -80...0) {
            let (s, f) = (ExtendedReal(x87: x), Float80(x87: x))
            check("exp2m1", S.exp2m1(s), F.exp2m1(f), x)
        }
        let ys = Self.values(300, seed: 9, exponents: -100...100)
        for (i, x) in Self.values(300, seed: 10, exponents: -16_000...16_000).enumerated() {
            let y = ys[i]
            let (sx, fx, sy, fy) = (ExtendedReal(x87: x), Float80(x87: x), ExtendedReal(x87: y), Float80(x87: y))
            check("atan2", S.atan2(sy, sx), F.atan2(fy, fx), x)
            if !x.sign { check("ylog2x", S.ylog2x(sy, sx), F.ylog2x(fy, fx), x) }
        }
        for x in Self.values(300, seed: 11, exponents: -70 ... -3) {
            let y = FPValue(sign: false, cls: .finite, exp: 3, sig: 0xA000_0000_0000_0000)
            check("ylog2xp1", S.ylog2xp1(ExtendedReal(x87: y), ExtendedReal(x87: x)), F.ylog2xp1(Float80(x87: y), Float80(x87: x)), x)
        }
        let first = mismatches.prefix(3).joined(separator: "; ")
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches, first: \(first)")
    }
}
#endif
