// Seeded pseudo-random numbers for the host-oracle generator (reproducible by seed).

/// xoshiro256** seeded through SplitMix64. Deterministic across platforms.
public struct OracleRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Creates a generator whose output depends only on `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(&x); s1 = splitmix(&x); s2 = splitmix(&x); s3 = splitmix(&x)
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// A value in 0..<n (n > 0); slightly biased, which does not matter here.
    mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
    /// A value in the closed range.
    mutating func within(_ r: ClosedRange<Int>) -> Int { r.lowerBound + below(r.count) }
    /// True with probability 1/n.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }
    /// True with probability 1/2.
    mutating func coin() -> Bool { next() & 1 == 0 }
    /// A random element (the array must not be empty).
    mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }
}
