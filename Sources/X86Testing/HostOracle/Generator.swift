// Random generator of user-mode x86-64 instruction sequences, emitting raw encodings.
//
// Safety invariants (the sequences run natively in this process):
//  * every memory operand addresses the data area: RIP-relative, absolute disp32, [rsp+disp8]
//    (RSP always stays in the data area), or base/index registers set by MOVs emitted in the same
//    "item" right before the instruction (jumps only land on item boundaries);
//  * RSP is never an explicit destination; only PUSH/POP/CALL/RET/ENTER/LEAVE move it, and LEAVE and
//    ENTER with nesting get RBP set first; CALL bodies contain no stack operations, so RET returns;
//  * branches go forward to item boundaries (LOOP blocks jump back within themselves, counts 1..4);
//  * POPF only pops values built from CF PF AF ZF SF DF OF (no TF/AC).
// Undefined values: flag-reading instructions (Jcc, SETcc, CMOVcc, ADC/SBB, RCL/RCR, CMC, LAHF, PUSHF,
// LOOPcc) are only emitted where the flags they read are defined on every path, and undefined registers
// are never read, so undefinedness never propagates into values or memory.

// MARK: - Internal model

struct FlowEffect {
    var defFlags: UInt64 = 0
    var undefFlags: UInt64 = 0
    var defRegs: UInt16 = 0
    var undefRegs: UInt16 = 0
}

struct Flow: Equatable {
    var uf: UInt64
    var ur: UInt16
    func applying(_ e: FlowEffect) -> Flow {
        Flow(uf: (uf & ~e.defFlags) | e.undefFlags, ur: (ur & ~e.defRegs) | e.undefRegs)
    }
}

func joinFlow(_ a: Flow?, _ b: Flow?) -> Flow? {
    guard let a else { return b }
    guard let b else { return a }
    return Flow(uf: a.uf | b.uf, ur: a.ur | b.ur)
}

struct GenContext {
    var noStack = false
    var noControl = false
    var noFlagRead = false
    var noUndefined = false
    /// Registers that may not be written (RSP always).
    var protected: UInt16 = 1 << 4
}

struct MemOperand {
    var mod: UInt8
    var rm: UInt8
    var sib: UInt8?
    var disp: [UInt8]
    var x = false
    var b = false
    var ripTarget: UInt64?
    var addr32 = false
    /// A 16-bit addressing form (ModRM rm 0–7 = BX+SI ... BX; only generated for 16-bit code).
    var addr16 = false
    var text: String
}

enum RMOperand {
    case reg(Int)
    case mem(MemOperand)
}

struct Inst {
    var legacy: [UInt8] = []
    var w = false
    var forceRex = false
    var noRex = false
    var opcode: [UInt8]
    var opReg: Int?
    var reg: Int?
    var rm: RMOperand?
    var imm: [UInt8] = []
    /// The operand size `applySize` chose (2, 4, 8; 0 = none): in 16-bit code a 0x66 prefix means 32 bits.
    var opSize = 0
}

private let CF: UInt64 = 1, PF: UInt64 = 4, AF: UInt64 = 0x10, ZF: UInt64 = 0x40, SF: UInt64 = 0x80
private let OF: UInt64 = 0x800, DF: UInt64 = 0x400
private let ARITH: UInt64 = 0x8D5
private let LOGIC_DEF: UInt64 = CF | OF | SF | ZF | PF
private let ccFlags: [UInt64] = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF,
                                 ZF | SF | OF, ZF | SF | OF]
private let ccNames = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"]
private let r64 = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
                   "r14", "r15"]
private let r32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d",
                   "r13d", "r14d", "r15d"]
private let r16 = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w",
                   "r14w", "r15w"]
private let r8l = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
                   "r13b", "r14b", "r15b"]
private let r8h = ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"]

func regName(_ code: Int, _ size: Int, high: Bool = false) -> String {
    switch size {
    case 1: return high && code < 8 ? r8h[code] : r8l[code]
    case 2: return r16[code]
    case 4: return r32[code]
    default: return r64[code]
    }
}

func ptrName(_ size: Int) -> String {
    switch size {
    case 1: return "byte"
    case 2: return "word"
    case 4: return "dword"
    case 8: return "qword"
    default: return "xmmword"
    }
}

func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
func shex(_ v: Int64) -> String { v < 0 ? "-0x" + String(v.magnitude, radix: 16) : "0x" + String(v, radix: 16) }

func le(_ v: UInt64, _ n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
func le(_ v: Int64, _ n: Int) -> [UInt8] { le(UInt64(bitPattern: v), n) }

/// Encodes an instruction at `address` for code of `mode`; nil when it would need a REX prefix it may not have
/// (outside 64-bit mode: any REX prefix). In 16-bit code the operand-size prefix follows `opSize` (none for 2
/// bytes, 0x66 for 4) and memory operands other than 16-bit forms get an address-size prefix (32-bit
/// addressing); in 32-bit code only 16-bit forms do. RIP-relative operands become absolute disp32 outside
/// 64-bit mode.
func encodeInst(_ i: Inst, at address: UInt64, mode: CodeSegmentMode = .mode64) -> [UInt8]? {
    var out = i.legacy
    if mode == .mode16 {
        if i.opSize == 2, let k = out.lastIndex(of: 0x66) { out.remove(at: k) }
        if i.opSize == 4 { out.insert(0x66, at: 0) }
    }
    var r = false, x = false, b = false
    if let reg = i.reg, reg >= 8 { r = true }
    if let op = i.opReg, op >= 8 { b = true }
    var mem: MemOperand?
    switch i.rm {
    case .reg(let c)?: if c >= 8 { b = true }
    case .mem(let m)?:
        x = m.x; b = m.b; mem = m
        switch mode {
        case .mode64: if m.addr32 { out.append(0x67) }
        case .mode32: if m.addr16 { out.append(0x67) }
        case .mode16: if !m.addr16 { out.append(0x67) }
        }
    case nil: break
    }
    let rex = UInt8(0x40) | (i.w ? 8 : 0) | (r ? 4 : 0) | (x ? 2 : 0) | (b ? 1 : 0)
    if rex != 0x40 || i.forceRex {
        if i.noRex || mode != .mode64 { return nil }
        out.append(rex)
    }
    var ops = i.opcode
    if let op = i.opReg, let last = ops.indices.last { ops[last] |= UInt8(op & 7) }
    out += ops
    var dispPos = -1
    if let rm = i.rm {
        let regBits = UInt8((i.reg ?? 0) & 7)
        switch rm {
        case .reg(let c): out.append(0xC0 | regBits << 3 | UInt8(c & 7))
        case .mem(let m):
            out.append(m.mod << 6 | regBits << 3 | m.rm)
            if let s = m.sib { out.append(s) }
            dispPos = out.count
            out += m.disp
        }
    }
    out += i.imm
    if let m = mem, let t = m.ripTarget, dispPos >= 0 {
        let next = address &+ UInt64(out.count)
        let d = mode == .mode64 ? le(t &- next, 4) : le(t, 4)
        for k in 0..<4 { out[dispPos + k] = d[k] }
    }
    return out
}

// MARK: - Public generator

/// Generates random user-mode sequences reproducibly: sequence `k` of seed `s` is
/// `SequenceGenerator.sequence(seed: s, index: k)`, whatever was generated before.
public struct SequenceGenerator: Sendable {
    /// The seed given at creation.
    public let seed: UInt64
    /// The index of the next sequence `next()` returns.
    public var index: UInt64 = 0
    /// Optional instructions allowed (default: what the host supports).
    public var features: HostCPU.Features
    /// Items per sequence (an item is one instruction with its setup MOVs, or a CALL/LOOP block).
    public var itemCount: ClosedRange<Int> = 1...12
    /// The code-segment mode the sequences are generated for.
    public var mode: CodeSegmentMode = .mode64

    /// Creates a generator; `features` defaults to the host's CPUID.
    public init(seed: UInt64, features: HostCPU.Features = HostCPU.hostFeatures) {
        self.seed = seed
        self.features = features
    }

    /// The next sequence.
    public mutating func next() -> GeneratedSequence {
        let s = SequenceGenerator.sequence(seed: seed, index: index, features: features, itemCount: itemCount, mode: mode)
        index += 1
        return s
    }

    /// Sequence `index` of `seed`.
    public static func sequence(seed: UInt64, index: UInt64, features: HostCPU.Features = HostCPU.hostFeatures,
                                itemCount: ClosedRange<Int> = 1...12, mode: CodeSegmentMode = .mode64) -> GeneratedSequence {
        var b = SequenceBuilder(seed: seed, index: index, features: features, mode: mode)
        return b.build(items: itemCount)
    }
}

// MARK: - Builder

struct Pending {
    var insn: Int
    var dispPos: Int
    var rel8: Bool
    /// Displacement bytes of the long form (4; 2 in 16-bit code).
    var relBytes = 4
    var endOffset: Int
    var state: Flow?
}

struct SequenceBuilder {
    var rng: OracleRandom
    let seed: UInt64
    let index: UInt64
    let features: HostCPU.Features
    var code: [UInt8] = []
    var insns: [GeneratedInstruction] = []
    var effects: [FlowEffect] = []
    var cur: Flow? = Flow(uf: 0, ur: 0)
    var pending: [Pending] = []
    var ctx = GenContext()
    static let maxItemBytes = 64
    /// The code-segment mode; addresses below are what the code sees: linear in 64- and 32-bit code, offsets
    /// in the code and data segments (based at the two areas) in 16-bit code.
    let mode: CodeSegmentMode
    let codeBase: UInt64
    let dataBase: UInt64
    let stackTop: UInt64
    /// General registers and XMM registers the mode can name (8 without REX).
    let regCount: Int

    init(seed: UInt64, index: UInt64, features: HostCPU.Features, mode: CodeSegmentMode = .mode64) {
        self.seed = seed
        self.index = index
        self.features = features
        self.mode = mode
        codeBase = mode.codeBase
        dataBase = mode.dataBase
        stackTop = mode.dataBase + 0xC000
        regCount = mode == .mode64 ? 16 : 8
        // 64-bit sequences keep the seeds of before; other modes get their own streams.
        let modeSalt: UInt64 = mode == .mode64 ? 0 : UInt64(mode.rawValue) &* 0xA24B_AED4_963E_E407
        rng = OracleRandom(seed: seed ^ (index &* 0x9E37_79B9_7F4A_7C15) ^ 0x5DEE_CE66_D1CE_4E5B ^ modeSalt)
    }

    var is64: Bool { mode == .mode64 }

    // MARK: State helpers

    func regsSet(_ m: UInt16) -> Set<Int> { Set((0..<16).filter { m & (1 << $0) != 0 }) }

    func flagsDefined(_ mask: UInt64) -> Bool { (cur?.uf ?? 0) & mask == 0 }
    func regDefined(_ r: Int) -> Bool { (cur?.ur ?? 0) & (1 << r) == 0 }
    func writable(_ r: Int) -> Bool { ctx.protected & (1 << r) == 0 }

    mutating func appendRaw(_ bytes: [UInt8], _ text: String, _ e: FlowEffect) {
        let addr = codeBase + UInt64(code.count)
        let before = cur
        let after = cur?.applying(e)
        insns.append(GeneratedInstruction(
            bytes: bytes, text: text, address: addr,
            undefinedFlagsBefore: before?.uf ?? 0, undefinedFlagsAfter: after?.uf ?? 0,
            undefinedRegistersBefore: regsSet(before?.ur ?? 0), undefinedRegistersAfter: regsSet(after?.ur ?? 0),
            reachable: before != nil))
        effects.append(e)
        code += bytes
        cur = after
    }

    @discardableResult
    mutating func emit(_ i: Inst, _ text: String, _ e: FlowEffect = FlowEffect()) -> Bool {
        guard let bytes = encodeInst(i, at: codeBase + UInt64(code.count), mode: mode) else { return false }
        appendRaw(bytes, text, e)
        return true
    }

    /// Re-derives the recorded states of instructions `range` starting from `start`; returns the end state.
    mutating func recompute(_ range: Range<Int>, from start: Flow?) -> Flow? {
        var s = start
        for k in range {
            let after = s?.applying(effects[k])
            insns[k].undefinedFlagsBefore = s?.uf ?? 0
            insns[k].undefinedFlagsAfter = after?.uf ?? 0
            insns[k].undefinedRegistersBefore = regsSet(s?.ur ?? 0)
            insns[k].undefinedRegistersAfter = regsSet(after?.ur ?? 0)
            insns[k].reachable = s != nil
            s = after
        }
        return s
    }

    // MARK: Setup MOVs

    /// `mov r32, imm32` (zero-extends): pins a register to a data-area address.
    mutating func setupMov32(_ r: Int, _ v: UInt64) {
        emit(Inst(opcode: [0xB8], opReg: r, imm: le(v, 4), opSize: 4), "mov \(regName(r, 4)), \(hex(v & 0xFFFF_FFFF))",
             FlowEffect(defRegs: 1 << r))
    }

    /// `mov r64, simm32` (outside 64-bit mode `mov r32, imm32`: addresses wrap at 32 bits there).
    mutating func setupMovS(_ r: Int, _ v: Int64) {
        emit(Inst(w: is64, opcode: [0xC7], reg: 0, rm: .reg(r), imm: le(v, 4), opSize: 4),
             "mov \(regName(r, is64 ? 8 : 4)), \(shex(v))", FlowEffect(defRegs: 1 << r))
    }

    // MARK: Operand choice

    /// A register code for an operand. `read`: its value is used; `write`: it is written; `full`: the
    /// write defines the whole register (then an undefined register is acceptable if not read).
    mutating func pickReg(size: Int, high: Bool = false, read: Bool, write: Bool, full: Bool = false,
                          avoid: UInt16 = 0, lowOnly: Bool = false) -> Int? {
        var cands: [Int] = []
        let limit = high || lowOnly ? 8 : regCount
        for c in 0..<limit {
            // Without REX, byte registers 4–7 are AH–BH: callers that did not ask for them get AL–BL only.
            if !is64 && size == 1 && !high && c >= 4 { continue }
            let phys = size == 1 && high && c >= 4 ? c - 4 : c
            if avoid & (1 << phys) != 0 { continue }
            if write && !writable(phys) { continue }
            let needsDefined = read || (write && !(full && size >= 4))
            if needsDefined && !regDefined(phys) { continue }
            cands.append(c)
        }
        return cands.isEmpty ? nil : rng.pick(cands)
    }

    func phys(_ code: Int, _ size: Int, _ high: Bool) -> Int { size == 1 && high && code >= 4 && code < 8 ? code - 4 : code }

    /// A register for a setup MOV (written, not read).
    mutating func pickSetupReg(avoid: UInt16, lowOnly: Bool) -> Int? {
        var c: [Int] = []
        for r in 0..<(lowOnly ? 8 : regCount) where r != 4 && writable(r) && avoid & (1 << r) == 0 { c.append(r) }
        return c.isEmpty ? nil : rng.pick(c)
    }

    /// A data-area memory operand `size` bytes wide at a random heap address (first half of the data
    /// area), pinning base/index registers with setup MOVs. `avoid`: registers the instruction uses that
    /// a setup may not clobber.
    mutating func makeMem(size: Int, span: Int = 0, align: Int = 1, lowOnly: Bool = false, avoid: UInt16 = 0,
                          allowStack: Bool = true) -> MemOperand? {
        let extent = max(size, span)
        var target = dataBase + 0x200 + UInt64(rng.below(0x7A00 - extent))
        if align > 1 { target &= ~UInt64(align - 1) }
        let ptr = ptrName(size)
        if mode == .mode16 && rng.oneIn(3), let m = makeMem16(target: target, ptr: ptr, avoid: avoid) { return m }
        // 32-bit addressing: a 0x67 prefix in 64-bit code, the default in 32-bit code, a 0x67 prefix in 16-bit code.
        let addr32 = mode == .mode64 ? rng.oneIn(10) : mode == .mode16
        let a32 = addr32 ? "(a32)" : ""
        var form = rng.below(6)
        if form == 5 && (ctx.noStack || !allowStack || align > 8) { form = rng.below(5) }
        switch form {
        case 0:
            return MemOperand(mod: 0, rm: 5, sib: nil, disp: [0, 0, 0, 0], ripTarget: target, addr32: addr32,
                              text: "\(ptr) \(a32)[rip→\(hex(target))]")
        case 1:
            let sib = UInt8(rng.below(4)) << 6 | 4 << 3 | 5
            return MemOperand(mod: 0, rm: 4, sib: sib, disp: le(target, 4), b: is64 && rng.coin(), addr32: addr32,
                              text: "\(ptr) \(a32)[\(hex(target))]")
        case 2:
            guard let base = pickSetupReg(avoid: avoid, lowOnly: lowOnly) else { return nil }
            let disp = Int64(rng.pick([0, rng.within(-128...127), rng.within(-0x1000...0x1000)]))
            let bv = UInt64(bitPattern: Int64(bitPattern: target) - disp)
            setupMov32(base, bv)
            var mod: UInt8 = disp == 0 && base & 7 != 5 ? 0 : (disp >= -128 && disp <= 127 ? 1 : 2)
            if disp == 0 && base & 7 == 5 { mod = 1 }
            let dispBytes = mod == 0 ? [] : le(disp, mod == 1 ? 1 : 4)
            let sib: UInt8? = base & 7 == 4 ? UInt8(rng.below(4)) << 6 | 4 << 3 | 4 : nil
            return MemOperand(mod: mod, rm: base & 7 == 4 ? 4 : UInt8(base & 7), sib: sib, disp: dispBytes,
                              b: base >= 8, addr32: addr32,
                              text: "\(ptr) \(a32)[\(regName(base, addr32 ? 4 : 8))\(disp == 0 ? "" : "+" + shex(disp))]")
        case 3, 4:
            guard let index = pickSetupReg(avoid: avoid, lowOnly: lowOnly) else { return nil }
            let scale = rng.below(4)
            let iv = Int64(rng.within(-8...8))
            if form == 4 {
                let disp = Int64(bitPattern: target) - (iv << scale)
                setupMovS(index, iv)
                let sib = UInt8(scale) << 6 | UInt8(index & 7) << 3 | 5
                return MemOperand(mod: 0, rm: 4, sib: sib, disp: le(disp, 4), x: index >= 8, b: is64 && rng.coin(),
                                  addr32: addr32,
                                  text: "\(ptr) \(a32)[\(regName(index, addr32 ? 4 : 8))*\(1 << scale)+\(shex(disp))]")
            }
            guard let base = pickSetupReg(avoid: avoid | (1 << index), lowOnly: lowOnly) else { return nil }
            let disp = Int64(rng.pick([0, rng.within(-128...127), rng.within(-0x1000...0x1000)]))
            let bv = Int64(bitPattern: target) - (iv << scale) - disp
            setupMov32(base, UInt64(bitPattern: bv))
            setupMovS(index, iv)
            var mod: UInt8 = disp == 0 ? 0 : (disp >= -128 && disp <= 127 ? 1 : 2)
            if mod == 0 && base & 7 == 5 { mod = 1 }
            let dispBytes = mod == 0 ? [] : le(disp, mod == 1 ? 1 : 4)
            let sib = UInt8(scale) << 6 | UInt8(index & 7) << 3 | UInt8(base & 7)
            let n = addr32 ? 4 : 8
            return MemOperand(mod: mod, rm: 4, sib: sib, disp: dispBytes, x: index >= 8, b: base >= 8, addr32: addr32,
                              text: "\(ptr) \(a32)[\(regName(base, n))+\(regName(index, n))*\(1 << scale)\(disp == 0 ? "" : "+" + shex(disp))]")
        default:
            let disp = UInt64(rng.below(15) * 8 + (align > 1 ? 0 : rng.below(8)))
            let sib = UInt8(rng.below(4)) << 6 | 4 << 3 | 4
            return MemOperand(mod: 1, rm: 4, sib: sib, disp: le(disp, 1), addr32: addr32,
                              text: "\(ptr) \(a32)[\(addr32 ? "esp" : "rsp")+\(hex(disp))]")
        }
    }

    /// A 16-bit addressing form (16-bit code): [BX+SI], [BX+DI], [BP+SI], [BP+DI], [SI], [DI], [BP] or [BX]
    /// with no, an 8-bit or a 16-bit displacement, or [disp16], reaching `target` (an offset in the data
    /// segment) modulo 64 KiB; the registers get setup MOVs with random upper halves (ignored by the address).
    mutating func makeMem16(target: UInt64, ptr: String, avoid: UInt16) -> MemOperand? {
        let rm = UInt8(rng.below(8))
        let names = ["bx+si", "bx+di", "bp+si", "bp+di", "si", "di", "bp", "bx"]
        let regs: [[Int]] = [[3, 6], [3, 7], [5, 6], [5, 7], [6], [7], [5], [3]]
        let mod = UInt8(rng.below(3))
        if rm == 6 && mod == 0 {
            return MemOperand(mod: 0, rm: 6, sib: nil, disp: le(target & 0xFFFF, 2), addr16: true, text: "\(ptr) [\(hex(target & 0xFFFF))]")
        }
        for r in regs[Int(rm)] where !writable(r) || avoid & (1 << r) != 0 { return nil }
        let disp: Int64 = mod == 0 ? 0 : (mod == 1 ? Int64(rng.within(-128...127)) : Int64(rng.within(-0x8000...0x7FFF)))
        var rest = Int64(bitPattern: target) - disp
        if regs[Int(rm)].count == 2 {
            let iv = Int64(rng.below(0x10000))
            rest -= iv
            setupMov32(regs[Int(rm)][1], UInt64(rng.below(0x10000)) << 16 | UInt64(iv))
        }
        setupMov32(regs[Int(rm)][0], UInt64(rng.below(0x10000)) << 16 | (UInt64(bitPattern: rest) & 0xFFFF))
        let dispBytes = mod == 0 ? [] : le(disp, mod == 1 ? 1 : 2)
        return MemOperand(mod: mod, rm: rm, sib: nil, disp: dispBytes, addr16: true,
                          text: "\(ptr) [\(names[Int(rm)])\(disp == 0 ? "" : "+" + shex(disp))] (a16)")
    }

    /// A memory operand whose address is computed but never accessed (LEA, NOP): any defined registers.
    mutating func makeFreeMem(lowOnly: Bool = false) -> MemOperand {
        let limit = lowOnly ? 8 : regCount
        let defined = (0..<limit).filter { regDefined($0) }
        let base = defined.isEmpty ? 4 : rng.pick(defined)
        let idxCands = defined.filter { $0 != 4 }
        let addr32 = mode == .mode64 ? rng.oneIn(6) : mode == .mode16
        let n = addr32 ? 4 : 8
        switch rng.below(4) {
        case 0:
            let t = UInt64(rng.next() & 0x7FFF_FFFF)
            return MemOperand(mod: 0, rm: 5, sib: nil, disp: [0, 0, 0, 0], ripTarget: t, addr32: addr32,
                              text: "[rip→\(hex(t))]")
        case 1:
            let disp = Int64(rng.within(-128...127))
            let mod: UInt8 = disp == 0 && base & 7 != 5 ? 0 : 1
            let sib: UInt8? = base & 7 == 4 ? 0x24 : nil
            return MemOperand(mod: mod, rm: UInt8(base & 7 == 4 ? 4 : base & 7), sib: sib,
                              disp: mod == 0 ? [] : le(disp, 1), b: base >= 8, addr32: addr32,
                              text: "[\(regName(base, n))+\(shex(disp))]")
        default:
            let index = idxCands.isEmpty ? 4 : rng.pick(idxCands)
            let scale = rng.below(4)
            let disp = Int64(Int32(truncatingIfNeeded: rng.next()))
            let sib = UInt8(scale) << 6 | UInt8(index & 7) << 3 | UInt8(base & 7)
            return MemOperand(mod: 2, rm: 4, sib: sib, disp: le(disp, 4), x: index >= 8, b: base >= 8, addr32: addr32,
                              text: "[\(regName(base, n))+\(index == 4 ? "none" : regName(index, n))*\(1 << scale)+\(shex(disp))]")
        }
    }

    /// A random operand size from `allowed` (8 only in 64-bit mode).
    mutating func pickSize(_ allowed: [Int] = [1, 2, 4, 8]) -> Int {
        let sizes = is64 ? allowed : allowed.filter { $0 != 8 }
        return sizes.isEmpty ? 4 : rng.pick(sizes)
    }

    func applySize(_ size: Int, _ i: inout Inst) {
        if size == 2 { i.legacy.append(0x66) }
        if size == 8 { i.w = true }
        i.opSize = size
    }

    func immBytes(_ size: Int) -> Int { size == 1 ? 1 : (size == 2 ? 2 : 4) }

    mutating func randomImm(_ n: Int) -> (bytes: [UInt8], text: String) {
        let v: UInt64 = rng.pick([rng.next(), UInt64(rng.below(8)), ~UInt64(rng.below(4)), 1 << UInt64(rng.below(64)),
                                  0x80, 0x7F, 0x8000, 0x7FFF_FFFF, 0x8000_0000])
        let bytes = le(v, n)
        let masked = n == 8 ? v : v & ((1 << UInt64(8 * n)) - 1)
        return (bytes, hex(masked))
    }

    /// A register-or-memory destination/source operand. Returns the operand, its text, the physical
    /// register (nil for memory) and whether it forced a REX prefix.
    mutating func pickRM(size: Int, high: Bool, read: Bool, write: Bool, full: Bool = false, memOK: Bool = true,
                         avoid: UInt16 = 0, span: Int = 0, align: Int = 1, memChance: Int = 3)
        -> (rm: RMOperand, text: String, phys: Int?, isMem: Bool)?
    {
        if memOK && rng.oneIn(memChance) {
            guard let m = makeMem(size: size, span: span, align: align, lowOnly: high, avoid: avoid) else { return nil }
            return (.mem(m), m.text, nil, true)
        }
        guard let c = pickReg(size: size, high: high, read: read, write: write, full: full, avoid: avoid) else {
            return nil
        }
        return (.reg(c), regName(c, size, high: high), phys(c, size, high), false)
    }

    func needsRex8(_ code: Int, _ size: Int, _ high: Bool) -> Bool { size == 1 && !high && code >= 4 && code < 8 }

    mutating func defWrite(_ e: inout FlowEffect, _ phys: Int?, _ size: Int) {
        if let p = phys, size >= 4 { e.defRegs |= 1 << p }
    }

    // MARK: Build

    mutating func build(items: ClosedRange<Int>) -> GeneratedSequence {
        let n = rng.within(items)
        for _ in 0..<n { genItem() }
        landPending(force: true)
        let final = cur ?? Flow(uf: ARITH, ur: 0)
        var gpr = (0..<16).map { _ -> UInt64 in
            switch rng.below(4) {
            case 0: return UInt64(rng.below(16))
            case 1: return dataBase + UInt64(rng.below(HostCPU.dataSize))
            default: return rng.next()
            }
        }
        gpr[4] = stackTop - UInt64(8 * rng.below(32))
        let flags = (rng.next() & HostFlags.compared) | 0x202
        let state = HostState(gpr: gpr, rip: codeBase, rflags: flags)
        let data = HostCPU.randomData(seed: rng.next())
        return GeneratedSequence(seed: seed, index: index, instructions: insns, code: code, initialState: state,
                                 initialData: data, definedFlagsMask: HostFlags.compared & ~final.uf,
                                 undefinedRegisters: regsSet(final.ur), mode: mode,
                                 stack32: mode == .mode16 && index & 1 == 1)
    }

    /// Lands pending forward jumps at the current offset (an item boundary).
    mutating func landPending(force: Bool) {
        var keep: [Pending] = []
        for p in pending {
            let d = code.count - p.endOffset
            let mustLand = force || (p.rel8 && d > 127 - SequenceBuilder.maxItemBytes)
            if mustLand || rng.oneIn(p.rel8 ? 2 : 3) {
                if p.rel8 {
                    code[p.dispPos] = UInt8(truncatingIfNeeded: d)
                } else {
                    let b = le(UInt64(d), p.relBytes)
                    for k in 0..<p.relBytes { code[p.dispPos + k] = b[k] }
                }
                let local = p.dispPos - Int(insns[p.insn].address - codeBase)
                if p.rel8 {
                    insns[p.insn].bytes[local] = UInt8(truncatingIfNeeded: d)
                } else {
                    let b = le(UInt64(d), p.relBytes)
                    for k in 0..<p.relBytes { insns[p.insn].bytes[local + k] = b[k] }
                }
                insns[p.insn].text += " → \(hex(codeBase + UInt64(code.count)))"
                cur = joinFlow(cur, p.state)
            } else {
                keep.append(p)
            }
        }
        pending = keep
    }

    mutating func genItem() {
        landPending(force: false)
        for _ in 0..<12 {
            let snap = (code.count, insns.count, effects.count, cur, pending.count)
            let ok = genOne(top: true)
            if ok && code.count - snap.0 <= SequenceBuilder.maxItemBytes { return }
            code.removeSubrange(snap.0...)
            insns.removeSubrange(snap.1...)
            effects.removeSubrange(snap.2...)
            cur = snap.3
            pending.removeSubrange(snap.4...)
        }
        appendRaw([0x90], "nop", FlowEffect())
    }

    /// One instruction (with its setups) or, at top level, a control-flow construct.
    mutating func genOne(top: Bool) -> Bool {
        let r = rng.below(100)
        if top && !ctx.noControl {
            switch r {
            case 0..<6: return genJcc()
            case 6..<8: return genJmp()
            case 8..<11: return genCallBlock()
            case 11..<13: return genLoopBlock()
            case 13..<15: return genLoopForward()
            default: break
            }
        }
        return genPlain()
    }

    mutating func genPlain() -> Bool {
        // Every third sequence is floating-point heavy: half its plain items are x87/SSE/SSE2 (FPGenerator.swift).
        if index % 3 == 2 && rng.coin() { return genFP() }
        switch rng.below(46) {
        case 0, 1, 2, 3, 4: return genALU()
        case 5, 6: return genALUImm()
        case 7: return genALUAcc()
        case 8: return genTest()
        case 9: return genIncDec()
        case 10: return genNotNeg()
        case 11: return genMul1()
        case 12: return genDiv()
        case 13: return genImul()
        case 14, 15, 16: return genShift()
        case 17: return genShld()
        case 18: return genBT()
        case 19: return genBSx()
        case 20: return genPopcnt()
        case 21: return genBswap()
        case 22: return genMovbe()
        case 23: return genCmov()
        case 24: return genSetcc()
        case 25: return genXchg()
        case 26: return genCmpxchg()
        case 27: return genCmpxchg8b()
        case 28: return genXadd()
        case 29: return genLahfSahf()
        case 30: return genPushfPopf()
        case 31, 32: return genPushPop()
        case 33: return genEnterLeave()
        case 34, 35, 36: return genMov()
        case 37: return genMovx()
        case 38: return genLea()
        case 39: return genConvert()
        case 40, 41: return genString()
        case 42: return genFlagOp()
        case 43: return genXlat()
        case 44: return genNop()
        default: return rng.oneIn(3) ? genFault() : genALU()
        }
    }

    // MARK: Arithmetic

    static let aluNames = ["add", "or", "adc", "sbb", "and", "sub", "xor", "cmp"]

    func aluEffect(_ op: Int) -> FlowEffect {
        op == 1 || op == 4 || op == 6 ? FlowEffect(defFlags: LOGIC_DEF, undefFlags: AF) : FlowEffect(defFlags: ARITH)
    }

    mutating func aluOp() -> Int? {
        let op = rng.below(8)
        if op == 2 || op == 3 {
            if ctx.noFlagRead || !flagsDefined(CF) { return nil }
        }
        return op
    }

    mutating func lockPrefix(_ isMem: Bool, _ i: inout Inst) -> String {
        if isMem && rng.oneIn(4) { i.legacy.insert(0xF0, at: 0); return "lock " }
        return ""
    }

    mutating func genALU() -> Bool {
        guard let op = aluOp() else { return false }
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        let writes = op != 7
        var e = aluEffect(op)
        if rng.coin() {
            // op r/m, reg
            guard let d = pickRM(size: size, high: high, read: true, write: writes),
                  let s = pickReg(size: size, high: high, read: true, write: false) else { return false }
            var i = Inst(opcode: [UInt8(op * 8 + (size == 1 ? 0 : 1))], reg: s, rm: d.rm)
            applySize(size, &i)
            i.noRex = high
            i.forceRex = needsRex8(s, size, high) || { if case .reg(let c) = d.rm { return needsRex8(c, size, high) }; return false }()
            let lk = writes ? lockPrefix(d.isMem, &i) : ""
            if writes { defWrite(&e, d.phys, size) }
            return emit(i, "\(lk)\(SequenceBuilder.aluNames[op]) \(d.text), \(regName(s, size, high: high))", e)
        } else {
            guard let s = pickRM(size: size, high: high, read: true, write: false),
                  let d = pickReg(size: size, high: high, read: true, write: writes) else { return false }
            var i = Inst(opcode: [UInt8(op * 8 + (size == 1 ? 2 : 3))], reg: d, rm: s.rm)
            applySize(size, &i)
            i.noRex = high
            i.forceRex = needsRex8(d, size, high) || { if case .reg(let c) = s.rm { return needsRex8(c, size, high) }; return false }()
            if writes { defWrite(&e, phys(d, size, high), size) }
            return emit(i, "\(SequenceBuilder.aluNames[op]) \(regName(d, size, high: high)), \(s.text)", e)
        }
    }

    mutating func genALUImm() -> Bool {
        guard let op = aluOp() else { return false }
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        let writes = op != 7
        var e = aluEffect(op)
        guard let d = pickRM(size: size, high: high, read: true, write: writes) else { return false }
        let short = size != 1 && rng.coin()
        let imm = randomImm(short ? 1 : immBytes(size))
        var i = Inst(opcode: [size == 1 ? 0x80 : (short ? 0x83 : 0x81)], reg: op, rm: d.rm, imm: imm.bytes)
        applySize(size, &i)
        i.noRex = high
        if case .reg(let c) = d.rm { i.forceRex = needsRex8(c, size, high) }
        let lk = writes ? lockPrefix(d.isMem, &i) : ""
        if writes { defWrite(&e, d.phys, size) }
        return emit(i, "\(lk)\(SequenceBuilder.aluNames[op]) \(d.text), \(imm.text)", e)
    }

    mutating func genALUAcc() -> Bool {
        guard let op = aluOp(), regDefined(0) else { return false }
        if op != 7 && !writable(0) { return false }
        let size = pickSize()
        let imm = randomImm(immBytes(size))
        var i = Inst(opcode: [UInt8(op * 8 + (size == 1 ? 4 : 5))], imm: imm.bytes)
        applySize(size, &i)
        var e = aluEffect(op)
        if op != 7 { defWrite(&e, 0, size) }
        return emit(i, "\(SequenceBuilder.aluNames[op]) \(regName(0, size)), \(imm.text)", e)
    }

    mutating func genTest() -> Bool {
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        let e = FlowEffect(defFlags: LOGIC_DEF, undefFlags: AF)
        switch rng.below(3) {
        case 0:
            guard let d = pickRM(size: size, high: high, read: true, write: false),
                  let s = pickReg(size: size, high: high, read: true, write: false) else { return false }
            var i = Inst(opcode: [size == 1 ? 0x84 : 0x85], reg: s, rm: d.rm)
            applySize(size, &i)
            i.noRex = high
            i.forceRex = needsRex8(s, size, high) || { if case .reg(let c) = d.rm { return needsRex8(c, size, high) }; return false }()
            return emit(i, "test \(d.text), \(regName(s, size, high: high))", e)
        case 1:
            guard regDefined(0) else { return false }
            let imm = randomImm(immBytes(size))
            var i = Inst(opcode: [size == 1 ? 0xA8 : 0xA9], imm: imm.bytes)
            applySize(size, &i)
            return emit(i, "test \(regName(0, size)), \(imm.text)", e)
        default:
            guard let d = pickRM(size: size, high: high, read: true, write: false) else { return false }
            let imm = randomImm(immBytes(size))
            var i = Inst(opcode: [size == 1 ? 0xF6 : 0xF7], reg: 0, rm: d.rm, imm: imm.bytes)
            applySize(size, &i)
            i.noRex = high
            if case .reg(let c) = d.rm { i.forceRex = needsRex8(c, size, high) }
            return emit(i, "test \(d.text), \(imm.text)", e)
        }
    }

    /// F6/F7 or FE/FF group instruction on one r/m operand.
    mutating func genGroup1(_ opc8: UInt8, _ digit: Int, _ name: String, _ e0: FlowEffect, lockable: Bool) -> Bool {
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        guard let d = pickRM(size: size, high: high, read: true, write: true) else { return false }
        var i = Inst(opcode: [size == 1 ? opc8 : opc8 + 1], reg: digit, rm: d.rm)
        applySize(size, &i)
        i.noRex = high
        if case .reg(let c) = d.rm { i.forceRex = needsRex8(c, size, high) }
        let lk = lockable ? lockPrefix(d.isMem, &i) : ""
        var e = e0
        defWrite(&e, d.phys, size)
        return emit(i, "\(lk)\(name) \(d.text)", e)
    }

    mutating func genIncDec() -> Bool {
        if !is64 && rng.oneIn(3) { return genLegacyOnly() }
        let dec = rng.coin()
        return genGroup1(0xFE, dec ? 1 : 0, dec ? "dec" : "inc", FlowEffect(defFlags: OF | SF | ZF | AF | PF), lockable: true)
    }

    mutating func genNotNeg() -> Bool {
        rng.coin() ? genGroup1(0xF6, 2, "not", FlowEffect(), lockable: true)
            : genGroup1(0xF6, 3, "neg", FlowEffect(defFlags: ARITH), lockable: true)
    }

    mutating func genMul1() -> Bool {
        guard regDefined(0), regDefined(2), writable(0), writable(2) else { return false }
        let signed = rng.coin()
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        guard let s = pickRM(size: size, high: high, read: true, write: false) else { return false }
        var i = Inst(opcode: [size == 1 ? 0xF6 : 0xF7], reg: signed ? 5 : 4, rm: s.rm)
        applySize(size, &i)
        i.noRex = high
        if case .reg(let c) = s.rm { i.forceRex = needsRex8(c, size, high) }
        var e = FlowEffect(defFlags: CF | OF, undefFlags: SF | ZF | AF | PF)
        if size >= 4 { e.defRegs = 0b101 }
        return emit(i, "\(signed ? "imul" : "mul") \(s.text)", e)
    }

    mutating func genDiv() -> Bool {
        guard regDefined(0), writable(0) else { return false }
        let signed = rng.coin()
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        if size > 1 && (!regDefined(2) || !writable(2)) { return false }
        // Often make the dividend's high part small so the division usually succeeds.
        if rng.below(3) != 0 {
            if size == 1 {
                let v = UInt8(rng.below(4))
                emit(Inst(noRex: true, opcode: [0xB4], imm: [v]), "mov ah, \(v)")
            } else if writable(2) {
                setupMov32(2, UInt64(rng.below(3)))
            }
        }
        guard let s = pickRM(size: size, high: high, read: true, write: false, avoid: 0b101) else { return false }
        var i = Inst(opcode: [size == 1 ? 0xF6 : 0xF7], reg: signed ? 7 : 6, rm: s.rm)
        applySize(size, &i)
        i.noRex = high
        if case .reg(let c) = s.rm { i.forceRex = needsRex8(c, size, high) }
        var e = FlowEffect(undefFlags: ARITH)
        if size >= 4 { e.defRegs = 0b101 }
        return emit(i, "\(signed ? "idiv" : "div") \(s.text)", e)
    }

    mutating func genImul() -> Bool {
        let size = pickSize([2, 4, 8])
        var e = FlowEffect(defFlags: CF | OF, undefFlags: SF | ZF | AF | PF)
        guard let s = pickRM(size: size, high: false, read: true, write: false) else { return false }
        if rng.coin() {
            guard let d = pickReg(size: size, read: true, write: true) else { return false }
            var i = Inst(opcode: [0x0F, 0xAF], reg: d, rm: s.rm)
            applySize(size, &i)
            defWrite(&e, d, size)
            return emit(i, "imul \(regName(d, size)), \(s.text)", e)
        }
        guard let d = pickReg(size: size, read: false, write: true, full: true) else { return false }
        let short = rng.coin()
        let imm = randomImm(short ? 1 : immBytes(size))
        var i = Inst(opcode: [short ? 0x6B : 0x69], reg: d, rm: s.rm, imm: imm.bytes)
        applySize(size, &i)
        defWrite(&e, d, size)
        return emit(i, "imul \(regName(d, size)), \(s.text), \(imm.text)", e)
    }

    // MARK: Shifts

    static let shiftNames = ["rol", "ror", "rcl", "rcr", "shl", "shr", "", "sar"]

    mutating func genShift() -> Bool {
        let op = rng.pick([0, 1, 2, 3, 4, 5, 7])
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        let form = rng.below(3)  // 0: by 1, 1: imm8, 2: CL
        var count: Int
        switch form {
        case 0: count = 1
        default: count = rng.oneIn(8) ? rng.below(256) : rng.within(0...65)
        }
        if form == 2 && !writable(1) { return false }
        let mc = count & (size == 8 ? 63 : 31)
        var e = FlowEffect()
        if mc != 0 {
            if op == 2 || op == 3 {
                if ctx.noFlagRead || !flagsDefined(CF) { return false }
            }
            switch op {
            case 0, 1, 2, 3:
                e.defFlags = CF
                if mc == 1 { e.defFlags |= OF } else { e.undefFlags |= OF }
            default:
                e.defFlags = SF | ZF | PF
                e.undefFlags = AF
                if (op == 4 || op == 5) && mc >= size * 8 { e.undefFlags |= CF } else { e.defFlags |= CF }
                if mc == 1 { e.defFlags |= OF } else { e.undefFlags |= OF }
            }
        }
        if form == 2 { setupMov32(1, UInt64(count)) }
        guard let d = pickRM(size: size, high: high, read: true, write: true, avoid: form == 2 ? 0b10 : 0) else {
            return false
        }
        var i: Inst
        var countText: String
        switch form {
        case 0:
            i = Inst(opcode: [size == 1 ? 0xD0 : 0xD1], reg: op, rm: d.rm)
            countText = "1"
        case 1:
            i = Inst(opcode: [size == 1 ? 0xC0 : 0xC1], reg: op, rm: d.rm, imm: [UInt8(count & 0xFF)])
            countText = "\(count)"
        default:
            i = Inst(opcode: [size == 1 ? 0xD2 : 0xD3], reg: op, rm: d.rm)
            countText = "cl(=\(count))"
        }
        applySize(size, &i)
        i.noRex = high
        if case .reg(let c) = d.rm { i.forceRex = needsRex8(c, size, high) }
        defWrite(&e, d.phys, size)
        return emit(i, "\(SequenceBuilder.shiftNames[op]) \(d.text), \(countText)", e)
    }

    mutating func genShld() -> Bool {
        let right = rng.coin()
        let size = pickSize([2, 4, 8])
        let useCL = rng.coin()
        if useCL && !writable(1) { return false }
        var count = rng.oneIn(8) ? rng.below(256) : rng.within(0...65)
        var mc = count & (size == 8 ? 63 : 31)
        if useCL { setupMov32(1, UInt64(count)) }
        guard let d = pickRM(size: size, high: false, read: true, write: true, avoid: useCL ? 0b10 : 0) else {
            return false
        }
        if mc > size * 8 && (d.isMem || ctx.noUndefined) {
            // An undefined memory result cannot be masked: keep the count within the operand size.
            if useCL { return false }
            count = rng.within(0...16)
            mc = count
        }
        guard let s = pickReg(size: size, read: true, write: false) else { return false }
        var e = FlowEffect()
        if mc != 0 {
            if mc > size * 8 {
                e.undefFlags = ARITH
                if let p = d.phys { e.undefRegs = 1 << p }
            } else {
                e.defFlags = CF | SF | ZF | PF
                e.undefFlags = AF
                if mc == 1 { e.defFlags |= OF } else { e.undefFlags |= OF }
            }
        }
        var i = Inst(opcode: [0x0F, (right ? 0xAC : 0xA4) + (useCL ? 1 : 0)], reg: s, rm: d.rm,
                     imm: useCL ? [] : [UInt8(count & 0xFF)])
        applySize(size, &i)
        if e.undefRegs == 0 { defWrite(&e, d.phys, size) }
        let ct = useCL ? "cl(=\(count))" : "\(count)"
        return emit(i, "\(right ? "shrd" : "shld") \(d.text), \(regName(s, size)), \(ct)", e)
    }

    // MARK: Bit instructions

    mutating func genBT() -> Bool {
        let op = rng.below(4)  // bt bts btr btc
        let names = ["bt", "bts", "btr", "btc"]
        let size = pickSize([2, 4, 8])
        let writes = op != 0
        var e = FlowEffect(defFlags: CF, undefFlags: OF | SF | AF | PF)
        if rng.coin() {
            // Immediate bit offset.
            guard let d = pickRM(size: size, high: false, read: true, write: writes) else { return false }
            let imm = UInt8(rng.below(256))
            var i = Inst(opcode: [0x0F, 0xBA], reg: 4 + op, rm: d.rm, imm: [imm])
            applySize(size, &i)
            let lk = writes ? lockPrefix(d.isMem, &i) : ""
            if writes { defWrite(&e, d.phys, size) }
            return emit(i, "\(lk)\(names[op]) \(d.text), \(imm)", e)
        }
        // Register bit offset; with a memory operand it is pinned to a small value first.
        if rng.oneIn(2) {
            guard let off = pickSetupReg(avoid: 0, lowOnly: false) else { return false }
            let v = Int64(rng.within(-64...255))
            setupMovS(off, v)
            guard let m = makeMem(size: size, span: 64, avoid: 1 << off) else { return false }
            var i = Inst(opcode: [0x0F, [0xA3, 0xAB, 0xB3, 0xBB][op]], reg: off, rm: .mem(m))
            applySize(size, &i)
            let lk = writes ? lockPrefix(true, &i) : ""
            return emit(i, "\(lk)\(names[op]) \(m.text), \(regName(off, size))", e)
        }
        guard let d = pickReg(size: size, read: true, write: writes),
              let s = pickReg(size: size, read: true, write: false) else { return false }
        var i = Inst(opcode: [0x0F, [0xA3, 0xAB, 0xB3, 0xBB][op]], reg: s, rm: .reg(d))
        applySize(size, &i)
        if writes { defWrite(&e, d, size) }
        return emit(i, "\(names[op]) \(regName(d, size)), \(regName(s, size))", e)
    }

    mutating func genBSx() -> Bool {
        if ctx.noUndefined { return false }
        let rev = rng.coin()
        let size = pickSize([2, 4, 8])
        guard let s = pickRM(size: size, high: false, read: true, write: false),
              let d = pickReg(size: size, read: true, write: true) else { return false }
        var i = Inst(opcode: [0x0F, rev ? 0xBD : 0xBC], reg: d, rm: s.rm)
        applySize(size, &i)
        // The destination is undefined when the source is zero: treat it as undefined from here on.
        let e = FlowEffect(defFlags: ZF, undefFlags: CF | OF | SF | AF | PF, undefRegs: 1 << d)
        return emit(i, "\(rev ? "bsr" : "bsf") \(regName(d, size)), \(s.text)", e)
    }

    mutating func genPopcnt() -> Bool {
        guard features.popcnt else { return false }
        let size = pickSize([2, 4, 8])
        guard let s = pickRM(size: size, high: false, read: true, write: false),
              let d = pickReg(size: size, read: false, write: true, full: true) else { return false }
        var i = Inst(opcode: [0x0F, 0xB8], reg: d, rm: s.rm)
        applySize(size, &i)
        i.legacy.append(0xF3)
        var e = FlowEffect(defFlags: ARITH)
        defWrite(&e, d, size)
        return emit(i, "popcnt \(regName(d, size)), \(s.text)", e)
    }

    mutating func genBswap() -> Bool {
        let size = pickSize([4, 8])
        guard let r = pickReg(size: size, read: true, write: true) else { return false }
        var i = Inst(opcode: [0x0F, 0xC8], opReg: r)
        applySize(size, &i)
        return emit(i, "bswap \(regName(r, size))")
    }

    mutating func genMovbe() -> Bool {
        guard features.movbe else { return false }
        let size = pickSize([2, 4, 8])
        let store = rng.coin()
        guard let m = makeMem(size: size) else { return false }
        guard let r = pickReg(size: size, read: store || size == 2, write: !store) else { return false }
        var i = Inst(opcode: [0x0F, 0x38, store ? 0xF1 : 0xF0], reg: r, rm: .mem(m))
        applySize(size, &i)
        var e = FlowEffect()
        if !store { defWrite(&e, r, size) }
        return emit(i, store ? "movbe \(m.text), \(regName(r, size))" : "movbe \(regName(r, size)), \(m.text)", e)
    }

    mutating func pickCC() -> Int? {
        if ctx.noFlagRead { return nil }
        let ok = (0..<16).filter { flagsDefined(ccFlags[$0]) }
        return ok.isEmpty ? nil : rng.pick(ok)
    }

    mutating func genCmov() -> Bool {
        guard let cc = pickCC() else { return false }
        let size = pickSize([2, 4, 8])
        guard let s = pickRM(size: size, high: false, read: true, write: false),
              let d = pickReg(size: size, read: true, write: true) else { return false }
        var i = Inst(opcode: [0x0F, 0x40 + UInt8(cc)], reg: d, rm: s.rm)
        applySize(size, &i)
        var e = FlowEffect()
        defWrite(&e, d, size)
        return emit(i, "cmov\(ccNames[cc]) \(regName(d, size)), \(s.text)", e)
    }

    mutating func genSetcc() -> Bool {
        guard let cc = pickCC() else { return false }
        let high = rng.oneIn(3)
        guard let d = pickRM(size: 1, high: high, read: true, write: true) else { return false }
        var i = Inst(opcode: [0x0F, 0x90 + UInt8(cc)], reg: 0, rm: d.rm)
        i.noRex = high
        if case .reg(let c) = d.rm { i.forceRex = needsRex8(c, 1, high) }
        return emit(i, "set\(ccNames[cc]) \(d.text)")
    }

    // MARK: Exchange

    mutating func genXchg() -> Bool {
        let size = pickSize()
        if size != 1 && rng.oneIn(3) {
            guard regDefined(0), writable(0), let r = pickReg(size: size, read: true, write: true) else { return false }
            var i = Inst(opcode: [0x90], opReg: r)
            applySize(size, &i)
            if r == 0 { return emit(i, size == 2 ? "xchg ax, ax" : "nop (90)") }
            var e = FlowEffect()
            if size >= 4 { e.defRegs = 1 | (1 << r) }
            return emit(i, "xchg \(regName(r, size)), \(regName(0, size))", e)
        }
        let high = size == 1 && rng.oneIn(3)
        guard let d = pickRM(size: size, high: high, read: true, write: true),
              let s = pickReg(size: size, high: high, read: true, write: true) else { return false }
        var i = Inst(opcode: [size == 1 ? 0x86 : 0x87], reg: s, rm: d.rm)
        applySize(size, &i)
        i.noRex = high
        i.forceRex = needsRex8(s, size, high) || { if case .reg(let c) = d.rm { return needsRex8(c, size, high) }; return false }()
        let lk = lockPrefix(d.isMem, &i)
        var e = FlowEffect()
        defWrite(&e, d.phys, size)
        defWrite(&e, phys(s, size, high), size)
        return emit(i, "\(lk)xchg \(d.text), \(regName(s, size, high: high))", e)
    }

    mutating func genCmpxchg() -> Bool {
        guard regDefined(0), writable(0) else { return false }
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        guard let d = pickRM(size: size, high: high, read: true, write: true),
              let s = pickReg(size: size, high: high, read: true, write: false) else { return false }
        var i = Inst(opcode: [0x0F, size == 1 ? 0xB0 : 0xB1], reg: s, rm: d.rm)
        applySize(size, &i)
        i.noRex = high
        i.forceRex = needsRex8(s, size, high) || { if case .reg(let c) = d.rm { return needsRex8(c, size, high) }; return false }()
        let lk = lockPrefix(d.isMem, &i)
        return emit(i, "\(lk)cmpxchg \(d.text), \(regName(s, size, high: high))", FlowEffect(defFlags: ARITH))
    }

    mutating func genCmpxchg8b() -> Bool {
        for r in 0..<4 where !regDefined(r) { return false }
        guard writable(0), writable(2) else { return false }
        let wide = features.cmpxchg16b && is64 && rng.coin()
        guard let m = makeMem(size: wide ? 16 : 8, align: wide ? 16 : 1) else { return false }
        var i = Inst(w: wide, opcode: [0x0F, 0xC7], reg: 1, rm: .mem(m))
        let lk = lockPrefix(true, &i)
        return emit(i, "\(lk)\(wide ? "cmpxchg16b" : "cmpxchg8b") \(m.text)", FlowEffect(defFlags: ZF))
    }

    mutating func genXadd() -> Bool {
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        guard let d = pickRM(size: size, high: high, read: true, write: true),
              let s = pickReg(size: size, high: high, read: true, write: true) else { return false }
        var i = Inst(opcode: [0x0F, size == 1 ? 0xC0 : 0xC1], reg: s, rm: d.rm)
        applySize(size, &i)
        i.noRex = high
        i.forceRex = needsRex8(s, size, high) || { if case .reg(let c) = d.rm { return needsRex8(c, size, high) }; return false }()
        let lk = lockPrefix(d.isMem, &i)
        return emit(i, "\(lk)xadd \(d.text), \(regName(s, size, high: high))", FlowEffect(defFlags: ARITH))
    }

    // MARK: Flags and stack

    mutating func genLahfSahf() -> Bool {
        guard features.lahfSahf, regDefined(0), writable(0) else { return false }
        if rng.coin() {
            guard !ctx.noFlagRead, flagsDefined(SF | ZF | AF | PF | CF) else { return false }
            return emit(Inst(opcode: [0x9F]), "lahf")
        }
        return emit(Inst(opcode: [0x9E]), "sahf", FlowEffect(defFlags: SF | ZF | AF | PF | CF))
    }

    mutating func genPushfPopf() -> Bool {
        if ctx.noStack { return false }
        let narrow = rng.oneIn(4)
        let pre: [UInt8] = narrow ? [0x66] : []
        switch rng.below(3) {
        case 0:
            guard !ctx.noFlagRead, flagsDefined(HostFlags.compared) else { return false }
            return emit(Inst(legacy: pre, opcode: [0x9C], opSize: narrow ? 2 : 4), narrow ? "pushf" : "pushfq")
        case 1:
            guard !ctx.noFlagRead, flagsDefined(HostFlags.compared) else { return false }
            emit(Inst(legacy: pre, opcode: [0x9C], opSize: narrow ? 2 : 4), narrow ? "pushf" : "pushfq")
            return emit(Inst(legacy: pre, opcode: [0x9D], opSize: narrow ? 2 : 4), narrow ? "popf" : "popfq")
        default:
            let v = (rng.next() & HostFlags.compared) | 0x202
            emit(Inst(legacy: pre, opcode: [0x68], imm: le(v, narrow ? 2 : 4), opSize: narrow ? 2 : 4), "push \(hex(v))")
            return emit(Inst(legacy: pre, opcode: [0x9D], opSize: narrow ? 2 : 4), narrow ? "popf" : "popfq",
                        FlowEffect(defFlags: HostFlags.compared))
        }
    }

    mutating func genPushPop() -> Bool {
        if ctx.noStack { return false }
        let narrow = rng.oneIn(5)
        let pre: [UInt8] = narrow ? [0x66] : []
        let size = narrow ? 2 : 8
        if rng.coin() {
            switch rng.below(4) {
            case 0:
                guard let r = pickReg(size: size, read: true, write: false) else { return false }
                return emit(Inst(legacy: pre, opcode: [0x50], opReg: r, opSize: narrow ? 2 : 4), "push \(regName(r, size))")
            case 1:
                let v = UInt8(truncatingIfNeeded: rng.next())
                return emit(Inst(legacy: pre, opcode: [0x6A], imm: [v], opSize: narrow ? 2 : 4), "push byte \(hex(UInt64(v)))")
            case 2:
                let imm = randomImm(narrow ? 2 : 4)
                return emit(Inst(legacy: pre, opcode: [0x68], imm: imm.bytes, opSize: narrow ? 2 : 4), "push \(imm.text)")
            default:
                guard let m = makeMem(size: size) else { return false }
                return emit(Inst(legacy: pre, opcode: [0xFF], reg: 6, rm: .mem(m), opSize: narrow ? 2 : 4), "push \(m.text)")
            }
        }
        if rng.coin() {
            guard let r = pickReg(size: size, read: false, write: true, full: mode != .mode16) else { return false }
            var e = FlowEffect()
            if size == 8 && mode != .mode16 { e.defRegs = 1 << r }
            return emit(Inst(legacy: pre, opcode: [0x58], opReg: r, opSize: narrow ? 2 : 4), "pop \(regName(r, size))", e)
        }
        guard let m = makeMem(size: size) else { return false }
        return emit(Inst(legacy: pre, opcode: [0x8F], reg: 0, rm: .mem(m), opSize: narrow ? 2 : 4), "pop \(m.text)")
    }

    mutating func genEnterLeave() -> Bool {
        if ctx.noStack || !writable(5) { return false }
        let rbpValue = UInt64(Int64(stackTop) + Int64(rng.within(-64...64) * 8))
        if rng.coin() {
            let size = UInt16(rng.below(9) * 8)
            let level = UInt8(rng.pick([0, 0, 1, 2, 3]))
            if level >= 2 || rng.coin() { setupMov32(5, rbpValue) } else if !regDefined(5) { return false }
            var e = FlowEffect(defRegs: 1 << 5)
            e.defRegs = 1 << 5
            return emit(Inst(opcode: [0xC8], imm: le(UInt64(size), 2) + [level]), "enter \(size), \(level)", e)
        }
        setupMov32(5, rbpValue)
        return emit(Inst(opcode: [0xC9]), "leave", FlowEffect(defRegs: 1 << 5))
    }

    // MARK: Moves

    mutating func genMov() -> Bool {
        let size = pickSize()
        let high = size == 1 && rng.oneIn(3)
        var e = FlowEffect()
        switch rng.below(5) {
        case 0:
            guard let d = pickRM(size: size, high: high, read: false, write: true, full: true),
                  let s = pickReg(size: size, high: high, read: true, write: false) else { return false }
            var i = Inst(opcode: [size == 1 ? 0x88 : 0x89], reg: s, rm: d.rm)
            applySize(size, &i)
            i.noRex = high
            i.forceRex = needsRex8(s, size, high) || { if case .reg(let c) = d.rm { return needsRex8(c, size, high) }; return false }()
            defWrite(&e, d.phys, size)
            return emit(i, "mov \(d.text), \(regName(s, size, high: high))", e)
        case 1:
            guard let s = pickRM(size: size, high: high, read: true, write: false),
                  let d = pickReg(size: size, high: high, read: false, write: true, full: true) else { return false }
            var i = Inst(opcode: [size == 1 ? 0x8A : 0x8B], reg: d, rm: s.rm)
            applySize(size, &i)
            i.noRex = high
            i.forceRex = needsRex8(d, size, high) || { if case .reg(let c) = s.rm { return needsRex8(c, size, high) }; return false }()
            defWrite(&e, phys(d, size, high), size)
            return emit(i, "mov \(regName(d, size, high: high)), \(s.text)", e)
        case 2:
            guard let d = pickRM(size: size, high: high, read: false, write: true, full: true) else { return false }
            let imm = randomImm(immBytes(size))
            var i = Inst(opcode: [size == 1 ? 0xC6 : 0xC7], reg: 0, rm: d.rm, imm: imm.bytes)
            applySize(size, &i)
            i.noRex = high
            if case .reg(let c) = d.rm { i.forceRex = needsRex8(c, size, high) }
            defWrite(&e, d.phys, size)
            return emit(i, "mov \(d.text), \(imm.text)", e)
        case 3:
            guard let r = pickReg(size: size, high: high, read: false, write: true, full: true) else { return false }
            let imm = randomImm(size == 8 ? 8 : immBytes(size))
            var i = Inst(opcode: [size == 1 ? 0xB0 : 0xB8], opReg: r, imm: imm.bytes)
            applySize(size, &i)
            i.noRex = high
            i.forceRex = needsRex8(r, size, high)
            defWrite(&e, phys(r, size, high), size)
            return emit(i, "mov \(regName(r, size, high: high)), \(imm.text)", e)
        default:
            // mov al/ax/eax/rax <-> [moffs64]
            guard regDefined(0) || size >= 4 else { return false }
            let store = rng.coin()
            if !store && !writable(0) { return false }
            if store && !regDefined(0) { return false }
            let target = dataBase + 0x200 + UInt64(rng.below(0x7A00))
            var i = Inst(opcode: [(store ? 0xA2 : 0xA0) + (size == 1 ? 0 : 1)], imm: le(target, mode == .mode64 ? 8 : (mode == .mode32 ? 4 : 2)))
            applySize(size, &i)
            if !store { defWrite(&e, 0, size) }
            let m = "\(ptrName(size)) [\(hex(target))]"
            return emit(i, store ? "mov \(m), \(regName(0, size))" : "mov \(regName(0, size)), \(m)", e)
        }
    }

    mutating func genMovx() -> Bool {
        var e = FlowEffect()
        if rng.oneIn(4) {
            guard let s = pickRM(size: 4, high: false, read: true, write: false),
                  let d = pickReg(size: 8, read: false, write: true, full: true) else { return false }
            e.defRegs = 1 << d
            return emit(Inst(w: true, opcode: [0x63], reg: d, rm: s.rm), "movsxd \(regName(d, 8)), \(s.text)", e)
        }
        let signed = rng.coin()
        let srcSize = rng.coin() ? 1 : 2
        let dstSize = srcSize == 1 ? pickSize([2, 4, 8]) : pickSize([4, 8])
        let high = srcSize == 1 && dstSize != 8 && rng.oneIn(3)
        guard let s = pickRM(size: srcSize, high: high, read: true, write: false),
              let d = pickReg(size: dstSize, read: false, write: true, full: true, lowOnly: high) else { return false }
        var i = Inst(opcode: [0x0F, (signed ? 0xBE : 0xB6) + (srcSize == 2 ? 1 : 0)], reg: d, rm: s.rm)
        applySize(dstSize, &i)
        i.noRex = high
        if case .reg(let c) = s.rm { i.forceRex = needsRex8(c, srcSize, high) }
        defWrite(&e, d, dstSize)
        return emit(i, "\(signed ? "movsx" : "movzx") \(regName(d, dstSize)), \(s.text)", e)
    }

    mutating func genLea() -> Bool {
        let size = pickSize([2, 4, 8])
        guard let d = pickReg(size: size, read: size == 2, write: true, full: true) else { return false }
        let m = makeFreeMem()
        var i = Inst(opcode: [0x8D], reg: d, rm: .mem(m))
        applySize(size, &i)
        var e = FlowEffect()
        defWrite(&e, d, size)
        return emit(i, "lea \(regName(d, size)), \(m.text)", e)
    }

    mutating func genConvert() -> Bool {
        guard regDefined(0), writable(0) else { return false }
        let size = pickSize([2, 4, 8])
        if rng.coin() {
            var i = Inst(opcode: [0x98])
            applySize(size, &i)
            var e = FlowEffect()
            if size >= 4 { e.defRegs = 1 }
            return emit(i, ["", "", "cbw", "", "cwde", "", "", "", "cdqe"][size], e)
        }
        guard regDefined(2), writable(2) else { return false }
        var i = Inst(opcode: [0x99])
        applySize(size, &i)
        var e = FlowEffect()
        if size >= 4 { e.defRegs = 4 }
        return emit(i, ["", "", "cwd", "", "cdq", "", "", "", "cqo"][size], e)
    }

    // MARK: Strings

    mutating func genString() -> Bool {
        let kind = rng.below(5)  // movs stos lods scas cmps
        let size = pickSize()
        let names = ["movs", "stos", "lods", "scas", "cmps"]
        let base: [UInt8] = [0xA4, 0xAA, 0xAC, 0xAE, 0xA6]
        let usesSI = kind == 0 || kind == 2 || kind == 4
        let usesDI = kind != 2
        let rep = rng.below(3)  // 0 none, 1 F3, 2 F2 (compare forms only)
        let prefix: UInt8? = rep == 0 ? nil : (rep == 2 && (kind == 3 || kind == 4) ? 0xF2 : 0xF3)
        if (kind == 1 || kind == 3) && !regDefined(0) { return false }
        if kind == 2 && (!writable(0) || (size < 4 && !regDefined(0))) { return false }
        if usesSI && !writable(6) { return false }
        if usesDI && !writable(7) { return false }
        if prefix != nil && !writable(1) { return false }
        let count = prefix == nil ? 1 : rng.below(9)
        let margin = 9 * 8 + 16
        if usesSI { setupMov32(6, dataBase + UInt64(margin + rng.below(0x7E00 - 2 * margin))) }
        if usesDI { setupMov32(7, dataBase + UInt64(margin + rng.below(0x7E00 - 2 * margin))) }
        if prefix != nil { setupMov32(1, UInt64(count)) }
        var i = Inst(opcode: [base[kind] + (size == 1 ? 0 : 1)])
        applySize(size, &i)
        if let p = prefix { i.legacy.append(p) }
        var e = FlowEffect()
        if (kind == 3 || kind == 4) && count > 0 { e.defFlags = ARITH }
        if kind == 2 && size >= 4 && count > 0 { e.defRegs = 1 }
        let pt = prefix == nil ? "" : (prefix == 0xF2 ? "repne " : (kind >= 3 ? "repe " : "rep "))
        return emit(i, "\(pt)\(names[kind])\(["", "b", "w", "", "d", "", "", "", "q"][size])\(prefix == nil ? "" : " (rcx=\(count))")", e)
    }

    mutating func genFlagOp() -> Bool {
        switch rng.below(5) {
        case 0: return emit(Inst(opcode: [0xF8]), "clc", FlowEffect(defFlags: CF))
        case 1: return emit(Inst(opcode: [0xF9]), "stc", FlowEffect(defFlags: CF))
        case 2:
            guard !ctx.noFlagRead, flagsDefined(CF) else { return false }
            return emit(Inst(opcode: [0xF5]), "cmc", FlowEffect(defFlags: CF))
        case 3: return emit(Inst(opcode: [0xFC]), "cld")
        default: return emit(Inst(opcode: [0xFD]), "std")
        }
    }

    mutating func genXlat() -> Bool {
        guard regDefined(0), writable(0), writable(3) else { return false }
        setupMov32(3, dataBase + 0x200 + UInt64(rng.below(0x7000)))
        return emit(Inst(w: rng.coin(), opcode: [0xD7]), "xlat")
    }

    mutating func genNop() -> Bool {
        switch rng.below(5) {
        case 0: return emit(Inst(opcode: [0x90]), "nop")
        case 1: return emit(Inst(legacy: [0x66], opcode: [0x90]), "xchg ax, ax (66 90)")
        case 2: return emit(Inst(legacy: [0xF3], opcode: [0x90]), "pause")
        case 3: return emit(Inst(legacy: [0xF3], opcode: [0x0F, 0x1E, 0xFA]), "endbr64")
        default:
            let m = makeFreeMem()
            var i = Inst(opcode: [0x0F, 0x1F], reg: 0, rm: .mem(m))
            if rng.coin() { i.legacy.append(0x66) }
            return emit(i, "nop \(m.text)")
        }
    }

    /// Rare deliberate faults: #UD encodings, a #GP from a non-canonical address, and #PF from accesses
    /// that run past the end of the data area (nothing is mapped there, on the host or in the model).
    mutating func genFault() -> Bool {
        let kind = rng.below(9)
        if !is64 && (kind == 1 || kind == 2 || kind == 4) { return genLegacyOnly() }
        switch kind {
        case 6, 7: return genPageFaultAccess()
        case 8: return genPageFaultString()
        case 0: return emit(Inst(opcode: [0x0F, 0x0B]), "ud2")
        case 1: return emit(Inst(opcode: [0x06]), "(push es: #UD in 64-bit mode)")
        case 2: return emit(Inst(opcode: [0xD6]), "(salc: #UD in 64-bit mode)")
        case 3: return emit(Inst(legacy: [0xF0], opcode: [0x01], reg: 0, rm: .reg(0)), "lock add eax, eax (#UD)")
        case 4: return emit(Inst(opcode: [0x27]), "(daa: #UD in 64-bit mode)")
        default:
            // Non-canonical addresses exist only in 64-bit mode.
            guard is64, let r = pickSetupReg(avoid: 0, lowOnly: false) else { return false }
            emit(Inst(w: true, opcode: [0xB8], opReg: r, imm: le(UInt64(0x8000_0000_0000_0000), 8)),
                 "mov \(regName(r, 8)), 0x8000000000000000", FlowEffect(defRegs: 1 << r))
            return emit(Inst(opcode: [0x8B], reg: 0, rm: .mem(MemOperand(mod: r & 7 == 5 ? 1 : 0, rm: r & 7 == 4 ? 4 : UInt8(r & 7),
                                                                          sib: r & 7 == 4 ? 0x24 : nil,
                                                                          disp: r & 7 == 5 ? [0] : [], b: r >= 8, text: ""))),
                        "mov eax, [\(regName(r, 8))] (#GP non-canonical)", FlowEffect(defRegs: 1))
        }
    }

    /// Instructions valid only outside 64-bit mode: INC/DEC r16/r32 (40–4F), DAA/DAS/AAA/AAS (AF/CF in, OF
    /// undefined; AAA/AAS leave SF ZF PF undefined too), AAM/AAD with a non-zero base (SF ZF PF defined), SALC,
    /// PUSHA/POPA.
    mutating func genLegacyOnly() -> Bool {
        switch rng.below(7) {
        case 0, 1:
            let dec = rng.coin()
            guard let r = pickReg(size: 4, read: true, write: true), r != 4 else { return false }
            return emit(Inst(opcode: [dec ? 0x48 : 0x40], opReg: r), "\(dec ? "dec" : "inc") \(regName(r, mode == .mode16 ? 2 : 4))",
                        FlowEffect(defFlags: OF | SF | ZF | AF | PF))
        case 2:
            guard regDefined(0), writable(0), !ctx.noFlagRead, flagsDefined(AF | CF) else { return false }
            let op = rng.pick([UInt8(0x27), 0x2F, 0x37, 0x3F])
            let undef: UInt64 = op == 0x27 || op == 0x2F ? OF : OF | SF | ZF | PF
            let names: [UInt8: String] = [0x27: "daa", 0x2F: "das", 0x37: "aaa", 0x3F: "aas"]
            return emit(Inst(opcode: [op]), names[op] ?? "bcd", FlowEffect(defFlags: ARITH & ~undef, undefFlags: undef))
        case 3:
            guard regDefined(0), writable(0) else { return false }
            let aam = rng.coin()
            let base = UInt8(rng.pick([10, 16, 7, 1, 255, rng.within(1...255)]))
            return emit(Inst(opcode: [aam ? 0xD4 : 0xD5], imm: [base]), "\(aam ? "aam" : "aad") \(base)",
                        FlowEffect(defFlags: SF | ZF | PF, undefFlags: OF | AF | CF))
        case 4:
            guard writable(0), !ctx.noFlagRead, flagsDefined(CF) else { return false }
            return emit(Inst(opcode: [0xD6]), "salc")
        case 5:
            guard !ctx.noStack else { return false }
            fallthrough
        default:
            guard !ctx.noStack, (0..<8).allSatisfy({ regDefined($0) }), (0..<8).allSatisfy({ $0 == 4 || writable($0) }) else {
                return false
            }
            let narrow = rng.coin()
            emit(Inst(legacy: narrow ? [0x66] : [], opcode: [0x60], opSize: narrow ? 2 : 4), narrow ? "pushaw" : "pushad")
            return emit(Inst(legacy: narrow ? [0x66] : [], opcode: [0x61], opSize: narrow ? 2 : 4), narrow ? "popaw" : "popad")
        }
    }

    /// A load, store or read-modify-write whose operand straddles or starts at the end of the data area:
    /// #PF, with no register or memory change (a straddling store writes neither page).
    mutating func genPageFaultAccess() -> Bool {
        let size = pickSize()
        guard let r = pickSetupReg(avoid: 0, lowOnly: false),
              let v = pickReg(size: 8, read: true, write: true, avoid: 1 << r) else { return false }
        let end = dataBase + UInt64(HostCPU.dataSize)
        let addr = end - UInt64(rng.below(size))
        setupMov32(r, addr)
        let m = MemOperand(mod: r & 7 == 5 ? 1 : 0, rm: r & 7 == 4 ? 4 : UInt8(r & 7), sib: r & 7 == 4 ? 0x24 : nil,
                           disp: r & 7 == 5 ? [0] : [], b: r >= 8, text: "\(ptrName(size)) [\(regName(r, 8))]")
        let kind = rng.below(4)  // load, store, add (read-modify-write), xchg (locked read-modify-write)
        let opcodes: [UInt8] = [0x8A, 0x88, 0x00, 0x86]
        var i = Inst(opcode: [opcodes[kind] + (size == 1 ? 0 : 1)], reg: v, rm: .mem(m))
        applySize(size, &i)
        i.forceRex = is64 && size == 1
        let name = ["mov", "mov", "add", "xchg"][kind]
        let text = kind == 0 ? "\(name) \(regName(v, size)), \(m.text)" : "\(name) \(m.text), \(regName(v, size))"
        return emit(i, text + " (#PF at the end of the data area)", FlowEffect(undefFlags: 0))
    }

    /// `rep movs`/`rep stos` that runs off the end of the data area after 0–4 elements: #PF with RCX,
    /// RSI and RDI showing the elements done (SDM Vol. 2B "REP": the instruction restarts from there).
    mutating func genPageFaultString() -> Bool {
        guard writable(1), writable(6), writable(7) else { return false }
        let size = pickSize()
        let stos = regDefined(0) && rng.coin()
        let end = dataBase + UInt64(HostCPU.dataSize)
        let done = rng.within(0...4)
        let count = done + rng.within(1...4)
        if !stos { setupMov32(6, dataBase + 0x200 + UInt64(rng.below(0x1000))) }
        setupMov32(7, end - UInt64(done * size))
        setupMov32(1, UInt64(count))
        var i = Inst(opcode: [(stos ? 0xAA : 0xA4) + (size == 1 ? 0 : 1)])
        applySize(size, &i)
        i.legacy.append(0xF3)
        let suffix = ["", "b", "w", "", "d", "", "", "", "q"][size]
        return emit(i, "rep \(stos ? "stos" : "movs")\(suffix) (rcx=\(count), #PF after \(done) unless DF=1)")
    }

    // MARK: Control flow

    /// Bytes of a near branch displacement: rel32, or rel16 in 16-bit code.
    var relBytes: Int { mode == .mode16 ? 2 : 4 }

    mutating func addPending(rel8: Bool) {
        let insn = insns.count - 1
        let size = rel8 ? 1 : relBytes
        pending.append(Pending(insn: insn, dispPos: code.count - size, rel8: rel8, relBytes: relBytes, endOffset: code.count,
                               state: cur))
    }

    mutating func genJcc() -> Bool {
        guard let cc = pickCC() else { return false }
        let short = rng.below(3) != 0
        let i = short ? Inst(opcode: [0x70 + UInt8(cc)], imm: [0]) : Inst(opcode: [0x0F, 0x80 + UInt8(cc)], imm: [UInt8](repeating: 0, count: relBytes))
        emit(i, "j\(ccNames[cc])")
        addPending(rel8: short)
        return true
    }

    mutating func genJmp() -> Bool {
        let short = rng.coin()
        emit(short ? Inst(opcode: [0xEB], imm: [0]) : Inst(opcode: [0xE9], imm: [UInt8](repeating: 0, count: relBytes)), "jmp")
        addPending(rel8: short)
        cur = nil
        return true
    }

    mutating func genLoopForward() -> Bool {
        guard writable(1) else { return false }
        let op = rng.below(4)  // loopne loope loop jrcxz
        if (op == 0 || op == 1) && (ctx.noFlagRead || !flagsDefined(ZF)) { return false }
        if !regDefined(1) || rng.coin() { setupMov32(1, UInt64(rng.below(4))) }
        emit(Inst(opcode: [0xE0 + UInt8(op)], imm: [0]), ["loopne", "loope", "loop", "jrcxz"][op])
        addPending(rel8: true)
        return true
    }

    /// `call F; jmp over; F: body; ret [imm16]; over:` — a balanced CALL/RET pair.
    mutating func genCallBlock() -> Bool {
        if ctx.noStack { return false }
        let callAt = code.count
        emit(Inst(opcode: [0xE8], imm: le(UInt64(2), relBytes)), "call")
        let jmpIdx = insns.count
        emit(Inst(opcode: [0xEB], imm: [0]), "jmp")
        let bodyStart = code.count
        insns[jmpIdx - 1].text += " → \(hex(codeBase + UInt64(bodyStart)))"
        let saved = ctx
        ctx.noStack = true
        ctx.noControl = true
        let n = rng.within(1...3)
        for _ in 0..<n {
            var done = false
            for _ in 0..<6 where !done {
                let snap = (code.count, insns.count, effects.count, cur)
                if genPlain() { done = true } else {
                    code.removeSubrange(snap.0...); insns.removeSubrange(snap.1...); effects.removeSubrange(snap.2...)
                    cur = snap.3
                }
            }
            if !done { appendRaw([0x90], "nop", FlowEffect()) }
        }
        ctx = saved
        let retImm = rng.pick([0, 0, 0, 8, 16])
        if retImm == 0 { emit(Inst(opcode: [0xC3]), "ret") } else {
            emit(Inst(opcode: [0xC2], imm: le(UInt64(retImm), 2)), "ret \(retImm)")
        }
        let over = code.count - (bodyStart)
        if over > 127 || callAt >= code.count { return false }
        code[bodyStart - 1] = UInt8(over)
        insns[jmpIdx].bytes[1] = UInt8(over)
        insns[jmpIdx].text += " → \(hex(codeBase + UInt64(code.count)))"
        // The jmp executes after the RET: give it the state after the body.
        insns[jmpIdx].undefinedFlagsBefore = cur?.uf ?? 0
        insns[jmpIdx].undefinedFlagsAfter = cur?.uf ?? 0
        insns[jmpIdx].undefinedRegistersBefore = regsSet(cur?.ur ?? 0)
        insns[jmpIdx].undefinedRegistersAfter = regsSet(cur?.ur ?? 0)
        insns[jmpIdx].reachable = cur != nil
        return true
    }

    /// `mov ecx, k; L: body; loop[cc] L` with k in 1...4 and a body that keeps RCX.
    mutating func genLoopBlock() -> Bool {
        guard writable(1) else { return false }
        setupMov32(1, UInt64(rng.within(1...4)))
        let inState = cur
        let bodyStart = code.count
        let firstBody = insns.count
        let saved = ctx
        ctx.noStack = true
        ctx.noControl = true
        ctx.noFlagRead = true
        ctx.noUndefined = true
        ctx.protected |= 1 << 1
        let n = rng.within(1...2)
        for _ in 0..<n {
            var done = false
            for _ in 0..<6 where !done {
                let snap = (code.count, insns.count, effects.count, cur)
                if genPlain() { done = true } else {
                    code.removeSubrange(snap.0...); insns.removeSubrange(snap.1...); effects.removeSubrange(snap.2...)
                    cur = snap.3
                }
            }
            if !done { appendRaw([0x90], "nop", FlowEffect()) }
        }
        ctx = saved
        var op = rng.below(3)  // loopne loope loop
        if op < 2 && !flagsDefined(ZF) { op = 2 }
        let back = bodyStart - (code.count + 2)
        if back < -128 { return false }
        emit(Inst(opcode: [0xE0 + UInt8(op)], imm: [UInt8(truncatingIfNeeded: back)]),
             "\(["loopne", "loope", "loop"][op]) → \(hex(codeBase + UInt64(bodyStart)))")
        // Later iterations start from the join of the entry state and the state after one pass.
        let once = cur
        cur = recompute(firstBody..<insns.count, from: joinFlow(inState, once))
        return true
    }
}
