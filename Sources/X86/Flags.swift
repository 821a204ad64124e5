// Arithmetic status flags, evaluated lazily (SDM Vol. 1 §3.4.3.1).

/// The operation that last set the status flags, when they have not been computed yet.
enum FlagOp: UInt8 {
    /// The status flags in `flagsBase` are current.
    case none
    /// ADD-like: result = dst + src.
    case add
    /// SUB/CMP-like: result = dst - src.
    case sub
    /// AND/OR/XOR/TEST: CF = OF = 0.
    case logic
    /// INC: like ADD with src = 1, CF unchanged (kept in `flagsBase`).
    case inc
    /// DEC: like SUB with src = 1, CF unchanged.
    case dec
}

/// Operands and result of the last flag-setting operation, masked to its size.
struct LazyFlags {
    var op: FlagOp = .none
    /// Operand size in bytes: 1, 2, 4 or 8.
    var size: UInt8 = 8
    var dst: UInt64 = 0
    var src: UInt64 = 0
    var res: UInt64 = 0
}

/// Even-parity table for the low byte (PF).
/// (Computed, not stored: a global array costs a lazy-initialization check and a bounds check per use.)
let parityTable = EvenParity()

/// Even parity of a byte: bit k of 0x6996 is the odd parity of the nibble k.
struct EvenParity {
    @inline(__always) subscript(_ b: Int) -> Bool { evenParity(UInt64(truncatingIfNeeded: b)) }
}

/// Whether the low byte of `v` has even parity (PF).
@_transparent func evenParity(_ v: UInt64) -> Bool {
    let b = v & 0xFF
    return (0x6996 as UInt64) >> ((b ^ (b >> 4)) & 0xF) & 1 == 0
}

/// Value mask of an operand size in bytes.
@_transparent func sizeMask(_ size: UInt8) -> UInt64 {
    size >= 8 ? ~0 : (1 << (UInt64(size) << 3)) &- 1
}

/// Sign bit of an operand size in bytes.
@_transparent func signBit(_ size: UInt8) -> UInt64 {
    1 << ((UInt64(size) << 3) &- 1)
}

/// Sign-extends a value of `size` bytes to 64 bits.
@inline(__always) func signExtend(_ v: UInt64, _ size: UInt8) -> UInt64 {
    switch size {
    case 1: return UInt64(bitPattern: Int64(Int8(truncatingIfNeeded: v)))
    case 2: return UInt64(bitPattern: Int64(Int16(truncatingIfNeeded: v)))
    case 4: return UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: v)))
    default: return v
    }
}

extension CPU {
    static let cfBit: UInt64 = 1, pfBit: UInt64 = 4, afBit: UInt64 = 0x10, zfBit: UInt64 = 0x40
    static let sfBit: UInt64 = 0x80, ofBit: UInt64 = 0x800
    static let statusBits: UInt64 = 0x8D5

    /// Records an operation whose flags will be computed on demand.
    @inline(__always) func setLazy(_ op: FlagOp, _ size: UInt8, _ dst: UInt64, _ src: UInt64, _ res: UInt64) {
        if op == .inc || op == .dec {
            // CF survives INC/DEC: make it concrete in flagsBase first.
            let cf = carryFlag
            flagsBase = (flagsBase & ~CPU.cfBit) | (cf ? CPU.cfBit : 0)
        }
        lazy.op = op; lazy.size = size; lazy.dst = dst; lazy.src = src; lazy.res = res
    }

    /// Sets status flags to concrete values.
    @inline(__always) func setStatusFlags(_ bits: UInt64) {
        flagsBase = (flagsBase & ~CPU.statusBits) | (bits & CPU.statusBits)
        lazy.op = .none
    }

    /// Sets the status flags selected by `mask` to concrete values, keeping the others.
    @inline(__always) func setStatusFlags(_ bits: UInt64, mask: UInt64) {
        let current = materializedFlags()
        flagsBase = (current & ~mask) | (bits & mask)
        lazy.op = .none
    }

    /// CF.
    var carryFlag: Bool {
        @_transparent get {
            switch lazy.op {
            case .none, .inc, .dec: return flagsBase & CPU.cfBit != 0
            case .add: return lazy.res < lazy.dst
            case .sub: return lazy.dst < lazy.src
            case .logic: return false
            }
        }
    }
    /// ZF.
    var zeroFlag: Bool {
        @_transparent get { lazy.op == .none ? flagsBase & CPU.zfBit != 0 : lazy.res == 0 }
    }
    /// SF.
    var signFlag: Bool {
        @_transparent get { lazy.op == .none ? flagsBase & CPU.sfBit != 0 : lazy.res & signBit(lazy.size) != 0 }
    }
    /// OF.
    var overflowFlag: Bool {
        @_transparent get {
            let sb = signBit(lazy.size)
            switch lazy.op {
            case .none: return flagsBase & CPU.ofBit != 0
            case .add, .inc: return (lazy.dst ^ lazy.res) & (lazy.src ^ lazy.res) & sb != 0
            case .sub, .dec: return (lazy.dst ^ lazy.src) & (lazy.dst ^ lazy.res) & sb != 0
            case .logic: return false
            }
        }
    }
    /// PF.
    var parityFlag: Bool {
        @_transparent get { lazy.op == .none ? flagsBase & CPU.pfBit != 0 : evenParity(lazy.res) }
    }
    /// AF.
    var auxFlag: Bool {
        @inline(__always) get {
            switch lazy.op {
            case .none: return flagsBase & CPU.afBit != 0
            case .logic: return false
            default: return (lazy.dst ^ lazy.src ^ lazy.res) & 0x10 != 0
            }
        }
    }

    /// RFLAGS with the status flags computed.
    @inline(__always) func materializedFlags() -> UInt64 {
        if lazy.op == .none { return flagsBase }
        var f = flagsBase & ~CPU.statusBits
        if carryFlag { f |= CPU.cfBit }
        if parityFlag { f |= CPU.pfBit }
        if auxFlag { f |= CPU.afBit }
        if zeroFlag { f |= CPU.zfBit }
        if signFlag { f |= CPU.sfBit }
        if overflowFlag { f |= CPU.ofBit }
        return f
    }

    /// Computes the status flags now and stores them in `flagsBase`.
    @inline(__always) func materializeFlags() {
        if lazy.op != .none { flagsBase = materializedFlags(); lazy.op = .none }
    }

    /// Evaluates condition code `cc` (0–15; SDM Vol. 1 Appendix B, Table B-1).
    @_transparent func condition(_ cc: UInt8) -> Bool {
        let r: Bool
        switch cc >> 1 {
        case 0: r = overflowFlag
        case 1: r = carryFlag
        case 2: r = zeroFlag
        case 3: r = carryFlag || zeroFlag
        case 4: r = signFlag
        case 5: r = parityFlag
        case 6: r = signFlag != overflowFlag
        default: r = zeroFlag || (signFlag != overflowFlag)
        }
        return cc & 1 == 0 ? r : !r
    }

    /// Flags word for a result: SF, ZF, PF of `res` at `size`.
    @_transparent func szpFlags(_ res: UInt64, _ size: UInt8) -> UInt64 {
        var f: UInt64 = 0
        if res & sizeMask(size) == 0 { f |= CPU.zfBit }
        if res & signBit(size) != 0 { f |= CPU.sfBit }
        if parityTable[Int(res & 0xFF)] { f |= CPU.pfBit }
        return f
    }
}
