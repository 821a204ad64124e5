// The assembler: output buffer, labels, fixups, and the shared ModRM/SIB/prefix encoder.

/// An x86 assembler for 16-, 32- and 64-bit code with labels and forward references.
///
/// Instruction methods never throw; the first error is recorded and thrown by `finish()`.
public final class Assembler {
    /// The current code mode (default operand and address size); change it with `setMode(_:)`.
    public private(set) var mode: Mode
    /// The absolute address of the first byte of output.
    public let origin: UInt64
    /// The bytes emitted so far (fixups are applied by `finish()`).
    public private(set) var bytes: [UInt8] = []

    var labelOffsets: [Int?] = []
    var labelNames: [String] = []
    var fixups: [Fixup] = []
    var errors: [AssemblerError] = []
    var mnemonic = ""
    var pendingLock = false
    var pendingRep: UInt8?

    /// Creates an assembler producing code for `mode`, loaded at address `origin`.
    public init(mode: Mode, origin: UInt64 = 0) {
        self.mode = mode
        self.origin = origin
    }

    /// The offset of the next byte from the origin.
    public var offset: Int { bytes.count }

    /// The absolute address of the next byte.
    public var currentAddress: UInt64 { origin &+ UInt64(bytes.count) }

    /// Switches the mode for the instructions that follow (e.g. after a far jump into 32-bit code).
    public func setMode(_ mode: Mode) { self.mode = mode }

    /// Creates an unbound label.
    public func label(_ name: String = "") -> Label {
        let l = Label(id: labelOffsets.count, name: name)
        labelOffsets.append(nil)
        labelNames.append(name)
        return l
    }

    /// Binds `label` to the current position.
    public func bind(_ label: Label) {
        guard label.id < labelOffsets.count else {
            record(.unboundLabel, "label \(label) belongs to another assembler")
            return
        }
        if labelOffsets[label.id] != nil {
            record(.labelBoundTwice, "label \(label) bound twice (at offset \(offset))")
            return
        }
        labelOffsets[label.id] = bytes.count
    }

    /// Creates a label bound to the current position.
    public func here(_ name: String = "") -> Label {
        let l = label(name)
        bind(l)
        return l
    }

    /// The absolute address of a bound label, or nil if it is not bound yet.
    public func address(of label: Label) -> UInt64? {
        guard label.id < labelOffsets.count, let o = labelOffsets[label.id] else { return nil }
        return origin &+ UInt64(o)
    }

    /// Resolves all label references and returns the machine code; throws the first error found.
    public func finish() throws -> [UInt8] {
        if let e = errors.first { throw e }
        var out = bytes
        for f in fixups {
            guard f.label.id < labelOffsets.count, let target = labelOffsets[f.label.id] else {
                throw AssemblerError(kind: .unboundLabel, message: "\(f.mnemonic) at offset \(f.instructionOffset): label \(f.label) is never bound")
            }
            let absolute = Int64(bitPattern: origin &+ UInt64(target)) &+ f.addend
            var value = absolute
            if let end = f.relativeTo {
                value = absolute &- Int64(bitPattern: origin &+ UInt64(end))
            }
            let ok: Bool
            switch f.range {
            case .rel8: ok = value >= -128 && value <= 127
            case .signed32: ok = value >= -0x8000_0000 && value <= 0x7FFF_FFFF
            case .any32: ok = value >= -0x8000_0000 && value <= 0xFFFF_FFFF
            case .any16: ok = value >= -0x8000 && value <= 0xFFFF
            case .any8: ok = value >= -0x80 && value <= 0xFF
            case .wrap16, .any64: ok = true
            }
            if !ok {
                if f.range == .rel8 {
                    throw AssemblerError(kind: .rel8OutOfRange, message: "\(f.mnemonic) at offset \(f.instructionOffset): target \(f.label) is \(value) bytes away, out of rel8 range")
                }
                throw AssemblerError(kind: .valueOutOfRange, message: "\(f.mnemonic) at offset \(f.instructionOffset): value \(value) of label \(f.label) does not fit the \(f.size)-byte field")
            }
            for i in 0..<f.size {
                out[f.at + i] = UInt8(truncatingIfNeeded: value >> (8 * Int64(i)))
            }
        }
        return out
    }

    // MARK: Prefixes, raw bytes and data

    /// Applies a LOCK prefix to the next instruction; returns self so `a.lock().add(...)` reads naturally.
    @discardableResult public func lock() -> Assembler { pendingLock = true; return self }

    /// Applies a REP prefix (F3) to the next (string) instruction.
    @discardableResult public func rep() -> Assembler { pendingRep = 0xF3; return self }

    /// Applies a REPE/REPZ prefix (F3) to the next (string) instruction.
    @discardableResult public func repe() -> Assembler { pendingRep = 0xF3; return self }

    /// Applies a REPNE/REPNZ prefix (F2) to the next (string) instruction.
    @discardableResult public func repne() -> Assembler { pendingRep = 0xF2; return self }

    /// Emits raw bytes.
    public func emit(_ raw: [UInt8]) { bytes += raw }

    /// Emits bytes.
    public func db(_ values: UInt8...) { bytes += values }

    /// Emits a byte array.
    public func db(_ values: [UInt8]) { bytes += values }

    /// Emits the UTF-8 bytes of a string (no terminator).
    public func db(_ string: String) { bytes += Array(string.utf8) }

    /// Emits 16-bit little-endian words.
    public func dw(_ values: UInt16...) { for v in values { appendLE(UInt64(v), 2) } }

    /// Emits 32-bit little-endian doublewords.
    public func dd(_ values: UInt32...) { for v in values { appendLE(UInt64(v), 4) } }

    /// Emits 64-bit little-endian quadwords.
    public func dq(_ values: UInt64...) { for v in values { appendLE(v, 8) } }

    /// Emits a label's address (plus `offset`) as a 16-bit word (taken modulo 64 KiB).
    public func dw(_ label: Label, plus offset: Int64 = 0) { dataFixup(label, offset, 2, .wrap16) }

    /// Emits a label's address (plus `offset`) as a 32-bit doubleword.
    public func dd(_ label: Label, plus offset: Int64 = 0) { dataFixup(label, offset, 4, .any32) }

    /// Emits a label's address (plus `offset`) as a 64-bit quadword.
    public func dq(_ label: Label, plus offset: Int64 = 0) { dataFixup(label, offset, 8, .any64) }

    /// Pads with `fill` bytes (NOP by default) until the current address is a multiple of `alignment`.
    public func align(_ alignment: Int, fill: UInt8 = 0x90) {
        guard alignment > 0 else { return }
        let a = UInt64(alignment)
        while currentAddress % a != 0 { bytes.append(fill) }
    }

    /// Emits `count` bytes of `fill`.
    public func space(_ count: Int, fill: UInt8 = 0) {
        if count > 0 { bytes += [UInt8](repeating: fill, count: count) }
    }

    func appendLE(_ v: UInt64, _ n: Int) {
        for i in 0..<n { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    func dataFixup(_ label: Label, _ addend: Int64, _ size: Int, _ range: Fixup.Range) {
        fixups.append(Fixup(at: bytes.count, size: size, label: label, addend: addend, relativeTo: nil,
                            range: range, mnemonic: "data", instructionOffset: bytes.count))
        bytes += [UInt8](repeating: 0, count: size)
    }

    // MARK: Errors

    func record(_ kind: AssemblerError.Kind, _ message: String) {
        errors.append(AssemblerError(kind: kind, message: "\(mnemonic.isEmpty ? "" : mnemonic + " ")at offset \(offset) (\(mode)): \(message)"))
    }

    func invalid(_ message: String = "invalid operand combination") {
        record(.invalidOperands, message)
    }

    /// Starts an instruction: names it for error messages.
    func begin(_ name: String) { mnemonic = name }
}

/// A reference to a label, patched by `finish()`.
struct Fixup {
    enum Range { case rel8, signed32, any32, any16, any8, wrap16, any64 }
    let at: Int
    let size: Int
    let label: Label
    let addend: Int64
    /// For relative fixups: the offset of the end of the instruction.
    let relativeTo: Int?
    let range: Range
    let mnemonic: String
    let instructionOffset: Int
}

/// A value field of an instruction (displacement or immediate), possibly referring to a label.
struct Field {
    var value: Int64
    var size: Int
    var label: Label?
    var relative = false
    var range: Fixup.Range
}

/// One instruction being encoded.
struct Inst {
    var segment: UInt8?
    var addressPrefix = false
    var operandPrefix = false
    var mandatory: UInt8?  // F2/F3 in the REP slot
    var mandatory66 = false
    var rexW = false, rexR = false, rexX = false, rexB = false
    var needsRex = false
    var forbidsRex = false
    var opcode: [UInt8] = []
    var modrm: UInt8?
    var sib: UInt8?
    var disp: Field?
    var imms: [Field] = []
    var error: String?

    init(_ opcode: [UInt8]) { self.opcode = opcode }
}

extension Assembler {
    /// Emits an encoded instruction with its prefixes and registers its label fixups.
    func commit(_ i: Inst) {
        if let e = i.error {
            invalid(e)
            pendingLock = false
            pendingRep = nil
            return
        }
        let anyRex = i.rexW || i.rexR || i.rexX || i.rexB || i.needsRex
        if anyRex && mode != .bits64 {
            invalid("64-bit operand, REX register or SPL/BPL/SIL/DIL is only valid in 64-bit code")
            return
        }
        if anyRex && i.forbidsRex {
            invalid("AH/CH/DH/BH cannot be used in an instruction that needs a REX prefix")
            return
        }
        let start = bytes.count
        if let s = i.segment { bytes.append(s) }
        if i.addressPrefix { bytes.append(0x67) }
        if i.operandPrefix || i.mandatory66 { bytes.append(0x66) }
        if let m = i.mandatory { bytes.append(m) } else if let r = pendingRep { bytes.append(r) }
        if pendingLock { bytes.append(0xF0) }
        pendingLock = false
        pendingRep = nil
        if anyRex {
            var rex: UInt8 = 0x40
            if i.rexW { rex |= 8 }
            if i.rexR { rex |= 4 }
            if i.rexX { rex |= 2 }
            if i.rexB { rex |= 1 }
            bytes.append(rex)
        }
        bytes += i.opcode
        if let m = i.modrm { bytes.append(m) }
        if let s = i.sib { bytes.append(s) }
        var pending: [(Int, Field)] = []
        for f in ([i.disp].compactMap { $0 } + i.imms) {
            let at = bytes.count
            if f.label != nil {
                pending.append((at, f))
                bytes += [UInt8](repeating: 0, count: f.size)
            } else {
                if !fits(f.value, f.range) {
                    bytes.removeSubrange(start...)
                    record(.valueOutOfRange, "value \(f.value) does not fit a \(f.size)-byte field")
                    return
                }
                appendLE(UInt64(bitPattern: f.value), f.size)
            }
        }
        let end = bytes.count
        for (at, f) in pending {
            guard let l = f.label else { continue }
            fixups.append(Fixup(at: at, size: f.size, label: l, addend: f.value, relativeTo: f.relative ? end : nil,
                                range: f.range, mnemonic: mnemonic, instructionOffset: start))
        }
    }

    func fits(_ v: Int64, _ r: Fixup.Range) -> Bool {
        switch r {
        case .rel8, .any8: return v >= -0x80 && v <= 0xFF
        case .any16, .wrap16: return v >= -0x8000 && v <= 0xFFFF
        case .signed32: return v >= -0x8000_0000 && v <= 0x7FFF_FFFF
        case .any32: return v >= -0x8000_0000 && v <= 0xFFFF_FFFF
        case .any64: return true
        }
    }

    /// Sets the operand-size prefix / REX.W for operand size `size` (bits; 8 and 0 need nothing).
    /// `default64`: the instruction's operand size is 64 in 64-bit mode without REX.W (PUSH, POP, near JMP/CALL, MOV CR, …),
    /// and 32-bit operands are invalid in 64-bit mode.
    func setSize(_ i: inout Inst, _ size: Int, default64: Bool = false) {
        switch size {
        case 16:
            if mode != .bits16 { i.operandPrefix = true }
        case 32:
            if mode == .bits16 { i.operandPrefix = true }
            if mode == .bits64 && default64 { i.error = "32-bit operand not encodable in 64-bit mode" }
        case 64:
            if mode != .bits64 { i.error = "64-bit operand only valid in 64-bit code" }
            if !default64 { i.rexW = true }
        default:
            break
        }
    }

    /// Puts a register in the ModRM.reg field.
    func setReg(_ i: inout Inst, _ r: Register) {
        setRegField(&i, r.number)
        noteByteReg(&i, r)
    }

    func setRegField(_ i: inout Inst, _ n: UInt8) {
        let m = i.modrm ?? 0
        i.modrm = (m & 0xC7) | ((n & 7) << 3)
        if n & 8 != 0 { i.rexR = true }
    }

    func noteByteReg(_ i: inout Inst, _ r: Register) {
        if r.kind == .gpr && r.size == 8 {
            if r.isHigh8 { i.forbidsRex = true }
            if r.needsRex { i.needsRex = true }
        }
    }

    /// Encodes a register or memory operand into ModRM.rm (and SIB, displacement, prefixes).
    func setRM(_ i: inout Inst, _ op: Operand) {
        switch op {
        case .register(let r):
            let m = i.modrm ?? 0
            i.modrm = 0xC0 | (m & 0x38) | (r.number & 7)
            if r.number & 8 != 0 { i.rexB = true }
            noteByteReg(&i, r)
        case .memory(let mem):
            setMemory(&i, mem)
        case .immediate:
            i.error = "immediate where a register or memory operand is required"
        }
    }

    func setMemory(_ i: inout Inst, _ mem: Memory) {
        let reg = (i.modrm ?? 0) & 0x38
        if let s = mem.segment {
            guard s.kind == .segment else { i.error = "segment override must be a segment register"; return }
            i.segment = [0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65][Int(s.number)]
        }
        let a = mem.address
        if a.scale == 0 || ![1, 2, 4, 8].contains(a.scale) {
            i.error = "invalid address: at most one base, one index, scale 1/2/4/8"
            return
        }
        if let b = a.base, b.kind == .rip {
            guard mode == .bits64, a.index == nil else { i.error = "RIP-relative addressing needs 64-bit code and no index"; return }
            i.modrm = reg | 0x05
            i.disp = Field(value: a.displacement, size: 4, label: a.label, relative: a.label != nil, range: .signed32)
            return
        }
        for r in [a.base, a.index].compactMap({ $0 }) {
            guard r.kind == .gpr, r.size >= 16 else { i.error = "address registers must be 16-, 32- or 64-bit general-purpose registers"; return }
        }
        var asize = a.base?.size ?? a.index?.size ?? mode.bits
        if let b = a.base, let x = a.index, b.size != x.size { i.error = "base and index registers differ in size"; return }
        if a.base == nil && a.index == nil && mode == .bits64 { asize = 64 }
        if asize == 16 {
            if mode == .bits64 { i.error = "16-bit addressing is not available in 64-bit code"; return }
            if mode != .bits16 { i.addressPrefix = true }
            encode16(&i, a, reg)
            return
        }
        if asize == 32 && mode != .bits32 { i.addressPrefix = true }
        if asize == 64 && mode != .bits64 { i.error = "64-bit addressing only in 64-bit code"; return }
        let dispRange: Fixup.Range = asize == 64 ? .signed32 : .any32
        var mod: UInt8
        var dispSize = 0
        if a.label != nil {
            mod = 2; dispSize = 4
        } else if a.displacement == 0 {
            mod = 0
        } else if a.displacement >= -128 && a.displacement <= 127 {
            mod = 1; dispSize = 1
        } else {
            mod = 2; dispSize = 4
        }
        if let x = a.index, x.number == 4 {
            i.error = "ESP/RSP cannot be an index register"; return
        }
        if let b = a.base {
            if b.number & 7 == 5 && mod == 0 { mod = 1; dispSize = 1 }
            if b.number & 8 != 0 { i.rexB = true }
            if a.index == nil && b.number & 7 != 4 {
                i.modrm = (mod << 6) | reg | (b.number & 7)
            } else {
                let x = a.index
                if let x, x.number & 8 != 0 { i.rexX = true }
                i.modrm = (mod << 6) | reg | 4
                i.sib = (scaleBits(a.scale) << 6) | ((x?.number ?? 4) & 7) << 3 | (b.number & 7)
            }
        } else if let x = a.index {
            if x.number & 8 != 0 { i.rexX = true }
            i.modrm = reg | 4
            i.sib = (scaleBits(a.scale) << 6) | (x.number & 7) << 3 | 5
            dispSize = 4
        } else {
            dispSize = 4
            if mode == .bits64 {
                i.modrm = reg | 4
                i.sib = 0x25
            } else {
                i.modrm = reg | 5
            }
        }
        if dispSize > 0 {
            i.disp = Field(value: a.displacement, size: dispSize, label: a.label, range: dispSize == 1 ? .any8 : dispRange)
            if a.label == nil && dispSize == 4 && !fits(a.displacement, dispRange) {
                i.error = "displacement \(a.displacement) out of range"
            }
        }
    }

    func scaleBits(_ s: Int) -> UInt8 {
        switch s {
        case 2: 1
        case 4: 2
        case 8: 3
        default: 0
        }
    }

    func encode16(_ i: inout Inst, _ a: Address, _ reg: UInt8) {
        guard a.scale == 1 else { i.error = "16-bit addressing has no scale"; return }
        let names = Set([a.base?.name, a.index?.name].compactMap { $0 })
        let rm: UInt8?
        switch names {
        case ["bx", "si"]: rm = 0
        case ["bx", "di"]: rm = 1
        case ["bp", "si"]: rm = 2
        case ["bp", "di"]: rm = 3
        case ["si"]: rm = 4
        case ["di"]: rm = 5
        case ["bp"]: rm = 6
        case ["bx"]: rm = 7
        case []: rm = nil
        default:
            i.error = "invalid 16-bit address (use [bx|bp] + [si|di] + disp)"; return
        }
        if a.base != nil && a.index != nil && names.count != 2 { i.error = "invalid 16-bit address"; return }
        guard let rm else {
            i.modrm = reg | 6
            i.disp = Field(value: a.displacement, size: 2, label: a.label, range: .wrap16)
            if a.label == nil && !fits(a.displacement, .any16) { i.error = "displacement out of range" }
            return
        }
        if a.label != nil || a.displacement < -128 || a.displacement > 127 {
            i.modrm = 0x80 | reg | rm
            i.disp = Field(value: a.displacement, size: 2, label: a.label, range: .wrap16)
            if a.label == nil && !fits(a.displacement, .any16) { i.error = "displacement out of range" }
        } else if a.displacement != 0 || rm == 6 {
            i.modrm = 0x40 | reg | rm
            i.disp = Field(value: a.displacement, size: 1, label: nil, range: .any8)
        } else {
            i.modrm = reg | rm
        }
    }

    /// An immediate field of `size` bytes for an operand of `opBits` bits (sign-extended imm32 for 64-bit operands).
    func immField(_ imm: Immediate, size: Int, opBits: Int) -> Field {
        let range: Fixup.Range
        switch size {
        case 1: range = .any8
        case 2: range = mode == .bits16 || opBits == 16 ? .wrap16 : .any16
        case 4: range = opBits == 64 ? .signed32 : .any32
        default: range = .any64
        }
        return Field(value: imm.value, size: size, label: imm.label, range: range)
    }

    /// True if the constant immediate, truncated to `bits`, is a sign-extended byte.
    func isImm8(_ imm: Immediate, bits: Int) -> Bool {
        guard imm.label == nil else { return false }
        let v = imm.value
        switch bits {
        case 8: return true
        case 16:
            guard v >= -0x8000 && v <= 0xFFFF else { return false }
            let t = Int64(Int16(truncatingIfNeeded: v))
            return t >= -128 && t <= 127
        case 32:
            guard v >= -0x8000_0000 && v <= 0xFFFF_FFFF else { return false }
            let t = Int64(Int32(truncatingIfNeeded: v))
            return t >= -128 && t <= 127
        default:
            return v >= -128 && v <= 127
        }
    }
}
