// Lockstep testing of the JIT: the same random code on two processors, one on the interpreter (`ExecutionPath
// .all`) and one on the JIT (`.jit`), stepped by the same random instruction counts and compared after every
// step: the 16 GPRs, RIP, RFLAGS (materialised), the instruction count, how the step stopped and the whole data
// area. Steps of 1 to 64 instructions end inside, at and across translated blocks, so every exit of a
// translation (taken branch, TLB miss, budget) is compared with the interpreter at that point.
//
// The code is shaped for the JIT: mostly the forms it translates (ALU register and immediate forms, MOV, LEA,
// INC/DEC, NOT, MOVZX/MOVSXD, TEST/CMP, Jcc, loads and stores through R14, which points into the data area,
// RIP-relative loads), with some forms it does not translate in between, and a counted loop (R15) around it.

import X86

/// One lockstep case's result: nil differences when the two engines agreed at every step.
public struct LockstepResult: Sendable {
    /// Steps compared.
    public var steps = 0
    /// Instructions retired by the interpreter side.
    public var instructions: UInt64 = 0
    /// The first disagreement, if any, as readable lines.
    public var differences: [String] = []
    /// The case's code, for a report.
    public var code: [UInt8] = []
}

/// Generates JIT-shaped code (see the file comment).
public struct LockstepGenerator {
    var r: OracleRandom

    public init(seed: UInt64, index: UInt64) {
        r = OracleRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ index)
    }

    /// Registers random instructions may write: not RSP, R14 (data pointer) or R15 (loop counter).
    static let writable: [UInt8] = [0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13]

    private mutating func reg() -> UInt8 { r.pick(LockstepGenerator.writable) }
    private mutating func anyReg() -> UInt8 { UInt8(r.below(16)) }

    private func rex(w: Bool, reg: UInt8, rm: UInt8, force: Bool = false) -> [UInt8] {
        let v: UInt8 = 0x40 | (w ? 8 : 0) | (reg >> 3) << 2 | (rm >> 3)
        return v != 0x40 || force ? [v] : []
    }

    private func modrm(_ reg: UInt8, _ rm: UInt8) -> UInt8 { 0xC0 | (reg & 7) << 3 | (rm & 7) }

    private mutating func imm32() -> [UInt8] {
        let v: UInt32 = r.oneIn(3) ? UInt32(truncatingIfNeeded: r.within(-3...3)) : UInt32(truncatingIfNeeded: r.next())
        return (0..<4).map { UInt8(truncatingIfNeeded: v >> ($0 * 8)) }
    }

    /// A [R14 + disp32] operand (ModRM mod 10, rm 110 with REX.B) for register field `reg`, `size` bytes, mostly
    /// inside the data area, sometimes across a page end (the JIT then leaves to the interpreter).
    private mutating func dataOperand(_ reg: UInt8, size: Int) -> [UInt8] {
        let pageEnd = (r.below(HostCPU.dataSize / 4096) + 1) * 4096
        let disp = r.oneIn(6) ? pageEnd - r.within(1...max(1, size - 1)) : r.below(HostCPU.dataSize - 8)
        return [0x80 | (reg & 7) << 3 | 6] + (0..<4).map { UInt8(truncatingIfNeeded: disp >> ($0 * 8)) }
    }

    /// One instruction.
    private mutating func instruction() -> [UInt8] {
        let w = r.coin()
        let d = reg(), s = anyReg()
        switch r.below(20) {
        case 0, 1, 2:   // ALU r/m, r (ADD OR AND SUB XOR CMP, and sometimes ADC/SBB, which the JIT leaves)
            let op = r.oneIn(8) ? r.pick([2, 3] as [UInt8]) : r.pick([0, 1, 4, 5, 6, 7] as [UInt8])
            return rex(w: w, reg: s, rm: d) + [op << 3 | 1, modrm(s, d)]
        case 3, 4:      // ALU r/m, imm32 or imm8
            let op = r.pick([0, 1, 4, 5, 6, 7] as [UInt8])
            if r.coin() { return rex(w: w, reg: 0, rm: d) + [0x81, modrm(op, d)] + imm32() }
            return rex(w: w, reg: 0, rm: d) + [0x83, modrm(op, d), UInt8(truncatingIfNeeded: r.next())]
        case 5:         // TEST r/m, r or imm
            if r.coin() { return rex(w: w, reg: s, rm: d) + [0x85, modrm(s, d)] }
            return rex(w: w, reg: 0, rm: d) + [0xF7, modrm(0, d)] + imm32()
        case 6:         // MOV r/m, r; MOV r, r/m
            if r.coin() { return rex(w: w, reg: s, rm: d) + [0x89, modrm(s, d)] }
            return rex(w: w, reg: d, rm: s) + [0x8B, modrm(d, s)]
        case 7:         // MOV r, imm32 / imm64
            if w && r.coin() { return rex(w: true, reg: 0, rm: d) + [0xB8 | (d & 7)] + imm32() + imm32() }
            return rex(w: false, reg: 0, rm: d) + [0xB8 | (d & 7)] + imm32()
        case 8:         // LEA r, [base + index*scale + disp8] (no RSP index)
            var index = anyReg(); if index == 4 { index = 5 }
            var base = anyReg(); if base & 7 == 5 || base & 7 == 4 { base = 3 }
            let sib = UInt8(r.below(4)) << 6 | (index & 7) << 3 | (base & 7)
            let v: UInt8 = 0x40 | (w ? 8 : 0) | (d >> 3) << 2 | (index >> 3) << 1 | (base >> 3)
            return (v != 0x40 ? [v] : []) + [0x8D, 0x44 | (d & 7) << 3, sib, UInt8(truncatingIfNeeded: r.next())]
        case 9:         // INC, DEC, NOT
            return rex(w: w, reg: 0, rm: d) + (r.oneIn(3) ? [0xF7, modrm(2, d)] : [0xFF, modrm(UInt8(r.below(2)), d)])
        case 10:        // MOVZX r32, r8/r16 (REX so r8 is a low byte); MOVSXD r64, r32
            if r.coin() { return rex(w: true, reg: d, rm: s) + [0x63, modrm(d, s)] }
            return rex(w: false, reg: d, rm: s, force: true) + [0x0F, r.coin() ? 0xB6 : 0xB7, modrm(d, s)]
        case 11, 12:    // loads: MOV r, [R14+disp] at 32/64 bits, MOVZX byte/word, MOVSXD, ALU r, [mem]
            switch r.below(4) {
            case 0: return [0x41 | (w ? 8 : 0) | (d >> 3) << 2, 0x8B] + dataOperand(d, size: w ? 8 : 4)
            case 1: let b: UInt8 = r.coin() ? 0xB6 : 0xB7
                return [0x41 | (d >> 3) << 2, 0x0F, b] + dataOperand(d, size: b == 0xB6 ? 1 : 2)
            case 2: return [0x49 | (d >> 3) << 2, 0x63] + dataOperand(d, size: 4)
            default:
                let op = r.pick([0, 1, 4, 5, 6, 7] as [UInt8])
                return [0x41 | (w ? 8 : 0) | (d >> 3) << 2, op << 3 | 3] + dataOperand(d, size: w ? 8 : 4)
            }
        case 13, 14:    // stores: MOV [R14+disp], r at 8/16/32/64 bits; MOV [R14+disp], imm32
            switch r.below(4) {
            case 0: return [0x41 | (w ? 8 : 0) | (s >> 3) << 2, 0x89] + dataOperand(s, size: w ? 8 : 4)
            case 1: return [0x41 | (s >> 3) << 2, 0x88] + dataOperand(s, size: 1)
            case 2: return [0x66, 0x41 | (s >> 3) << 2, 0x89] + dataOperand(s, size: 2)
            default: return [0x41 | (w ? 8 : 0), 0xC7] + dataOperand(0, size: w ? 8 : 4) + imm32()
            }
        case 15:        // CMP/TEST [R14+disp], imm or reg
            switch r.below(3) {
            case 0: return [0x41 | (w ? 8 : 0), 0x81] + dataOperand(7, size: w ? 8 : 4) + imm32()
            case 1: return [0x41 | (w ? 8 : 0) | (s >> 3) << 2, 0x39] + dataOperand(s, size: w ? 8 : 4)
            default: return [0x41 | (w ? 8 : 0), 0xF7] + dataOperand(0, size: w ? 8 : 4) + imm32()
            }
        case 16:        // MOV r, [RIP + disp32]: reads the code itself
            let disp = UInt32(truncatingIfNeeded: -r.within(8...64))
            return rex(w: w, reg: d, rm: 0) + [0x8B, 0x05 | (d & 7) << 3] + (0..<4).map { UInt8(truncatingIfNeeded: disp >> ($0 * 8)) }
        case 17:        // forms the JIT leaves to the interpreter: SHL/SAR by imm, SETcc, CMOVcc, PUSH+POP, ADC
            switch r.below(4) {
            case 0: return rex(w: w, reg: 0, rm: d) + [0xC1, modrm(r.pick([4, 5, 7] as [UInt8]), d), UInt8(r.below(64))]
            case 1: return rex(w: false, reg: 0, rm: d, force: true) + [0x0F, 0x90 | UInt8(r.below(16)), modrm(0, d)]
            case 2: return rex(w: w, reg: d, rm: s) + [0x0F, 0x40 | UInt8(r.below(16)), modrm(d, s)]
            default: return (s >= 8 ? [0x41] : []) + [0x50 | (s & 7)] + (d >= 8 ? [0x41] : []) + [0x58 | (d & 7)]
            }
        default:        // NOP
            return [0x90]
        }
    }

    /// A case: the code and the initial registers and flags (R14 = the data area, R15 = the loop count).
    public mutating func next() -> (code: [UInt8], state: HostState, data: [UInt8]) {
        var items: [[UInt8]] = []
        for _ in 0..<r.within(4...40) { items.append(instruction()) }
        // Forward Jcc rel8 over the next 0–3 items, after some flag-setting item.
        var i = 0
        while i < items.count {
            if r.oneIn(4) {
                let skip = r.below(4)
                let len = items[(i + 1)..<min(items.count, i + 1 + skip)].reduce(0) { $0 + $1.count }
                if len < 128 { items.insert([0x70 | UInt8(r.below(16)), UInt8(len)], at: i + 1) }
                i += 1
            }
            i += 1
        }
        var code: [UInt8] = []
        let loopStart = r.below(max(1, items.count / 2))
        var startOffset = 0
        for (k, item) in items.enumerated() {
            if k == loopStart { startOffset = code.count }
            code += item
        }
        // DEC R15D; JNZ rel32 back to the loop start.
        code += [0x41, 0xFF, 0xCF, 0x0F, 0x85]
        let rel = UInt32(truncatingIfNeeded: startOffset - (code.count + 4))
        code += (0..<4).map { UInt8(truncatingIfNeeded: rel >> ($0 * 8)) }
        var gpr = (0..<16).map { _ in r.oneIn(4) ? UInt64(r.below(5)) : r.next() }
        gpr[4] = HostCPU.dataAddress + UInt64(HostCPU.dataSize) - 256
        gpr[14] = HostCPU.dataAddress
        gpr[15] = UInt64(r.within(1...12))
        let flags = 0x202 | (r.next() & 0x8D5)
        let data = (0..<HostCPU.dataSize).map { _ in UInt8(truncatingIfNeeded: r.next()) }
        return (code, HostState(gpr: gpr, rip: HostCPU.codeAddress, rflags: flags), data)
    }
}

/// Runs lockstep case `index` of `seed` on `interpreter` (a `.all` machine) and `jit` (a `.jit` machine).
public func runLockstep(seed: UInt64, index: UInt64, interpreter: UserModeMachine, jit: UserModeMachine) -> LockstepResult {
    var g = LockstepGenerator(seed: seed, index: index)
    let c = g.next()
    var result = LockstepResult()
    result.code = c.code
    var stepRandom = OracleRandom(seed: seed ^ index &* 31)
    // Load both machines without running anything.
    for m in [interpreter, jit] {
        m.instructionLimit = 0
        _ = m.run(code: c.code, state: c.state, data: c.data)
    }
    let base = (interpreter.cpu.instructionCount, jit.cpu.instructionCount)
    var total = 0
    while total < 4000 {
        let n = stepRandom.within(1...64)
        let a = interpreter.cpu.run(instructionLimit: n)
        let b = jit.cpu.run(instructionLimit: n)
        result.steps += 1
        total += n
        var diff: [String] = []
        if "\(a)" != "\(b)" { diff.append("stop: interpreter \(a), jit \(b)") }
        let ia = interpreter.cpu.instructionCount &- base.0, ib = jit.cpu.instructionCount &- base.1
        if ia != ib { diff.append("instructions: interpreter \(ia), jit \(ib)") }
        if interpreter.cpu.rip != jit.cpu.rip {
            diff.append("RIP: interpreter 0x\(String(interpreter.cpu.rip, radix: 16)), jit 0x\(String(jit.cpu.rip, radix: 16))")
        }
        if interpreter.cpu.rflags != jit.cpu.rflags {
            diff.append("RFLAGS: interpreter 0x\(String(interpreter.cpu.rflags, radix: 16)), jit 0x\(String(jit.cpu.rflags, radix: 16))")
        }
        for i in 0..<16 where interpreter.cpu.gpr(index: i) != jit.cpu.gpr(index: i) {
            diff.append("R\(i): interpreter 0x\(String(interpreter.cpu.gpr(index: i), radix: 16)), jit 0x\(String(jit.cpu.gpr(index: i), radix: 16))")
        }
        if interpreter.data != jit.data { diff.append("data area differs") }
        result.instructions = ia
        if !diff.isEmpty {
            result.differences = ["after step \(result.steps) (\(n) instructions, \(ia) in all):"] + diff
            return result
        }
        if case .instructionLimit = a { continue }
        break
    }
    return result
}
