// Self-test of the host-processor oracle: known sequences with known results, then random ones.

/// Runs the host oracle's self-test. Returns failure descriptions (empty = pass). `log` receives
/// informational lines (throughput figures). On hosts other than x86-64 Linux only the generator is
/// checked. `randomSequences`: how many random sequences to run natively.
public func hostOracleSelfTest(randomSequences: Int = 100_000, log: (String) -> Void = { _ in }) -> [String] {
    var failures: [String] = []
    failures += generatorChecks(count: 2_000)
    #if arch(x86_64) && os(Linux)
    guard HostCPU.isAvailable else { return failures + ["HostCPU unavailable on an x86-64 Linux host"] }
    failures += knownSequenceChecks()
    failures += randomRunChecks(count: randomSequences, log: log)
    #endif
    return failures
}

/// Structural checks of `count` generated sequences of every code-segment mode (no native execution): the listing
/// matches the code, addresses are contiguous, branches land on instruction boundaries, no REX prefix outside
/// 64-bit mode, sequences regenerate identically. Returns failure descriptions (empty = pass).
public func generatorChecks(count: Int) -> [String] {
    var failures: [String] = []
    for mode in CodeSegmentMode.allCases {
        var gen = SequenceGenerator(seed: 0xC0FFEE, features: .all)
        gen.mode = mode
        for _ in 0..<count {
            let s = gen.next()
            let joined = s.instructions.flatMap { $0.bytes }
            if joined != s.code { failures.append("seed \(s.seed) #\(s.index): instruction bytes differ from code") }
            if mode != .mode64, let rex = s.instructions.first(where: { $0.reachable && hasREX($0.bytes) }) {
                failures.append("seed \(s.seed) #\(s.index) (\(mode)): \(rex.text) carries a REX prefix outside 64-bit mode")
            }
            var addr = mode.codeBase
            for i in s.instructions {
                if i.address != addr { failures.append("seed \(s.seed) #\(s.index): address gap at \(i.text)"); break }
                if i.bytes.count > 15 { failures.append("seed \(s.seed) #\(s.index): \(i.text) longer than 15 bytes") }
                addr += UInt64(i.bytes.count)
            }
            let boundaries = Set(s.instructions.map { $0.address } + [mode.codeBase + UInt64(s.code.count)])
            for i in s.instructions {
                guard let target = branchTarget(i, rel16: mode == .mode16) else { continue }
                if !boundaries.contains(target) {
                    failures.append("seed \(s.seed) #\(s.index): \(i.text) targets \(hx(target)), not an instruction\n\(s.listing)")
                }
            }
            if s.initialData.count != HostCPU.dataSize { failures.append("seed \(s.seed) #\(s.index): data size") }
            let again = SequenceGenerator.sequence(seed: s.seed, index: s.index, features: .all, mode: mode)
            if again != s { failures.append("seed \(s.seed) #\(s.index): not reproducible") }
            if failures.count > 20 { break }
        }
    }
    return failures
}

/// Whether an encoding has a REX prefix (0x40–0x4F after the legacy prefixes; in 64-bit mode these bytes are REX).
func hasREX(_ bytes: [UInt8]) -> Bool {
    var k = 0
    while k < bytes.count, [0x66, 0x67, 0xF0, 0xF2, 0xF3, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65].contains(bytes[k]) { k += 1 }
    // Outside 64-bit mode 40–4F are INC/DEC, one-byte instructions: a REX would be followed by an opcode.
    return k + 1 < bytes.count && bytes[k] & 0xF0 == 0x40
}

/// The target of a relative branch (no prefixes: the generator emits none on branches; rel16 in 16-bit code).
func branchTarget(_ i: GeneratedInstruction, rel16: Bool = false) -> UInt64? {
    let b = i.bytes
    guard let op = b.first else { return nil }
    let end = i.address &+ UInt64(b.count)
    if (0x70...0x7F).contains(op) || op == 0xEB || (0xE0...0xE3).contains(op), b.count == 2 {
        return end &+ UInt64(bitPattern: Int64(Int8(bitPattern: b[1])))
    }
    var rel32: Int32?
    if rel16 {
        if op == 0xE8 || op == 0xE9, b.count == 3 { rel32 = Int32(Int16(bitPattern: UInt16(b[1]) | UInt16(b[2]) << 8)) }
        if op == 0x0F, b.count == 4, (0x80...0x8F).contains(b[1]) {
            rel32 = Int32(Int16(bitPattern: UInt16(b[2]) | UInt16(b[3]) << 8))
        }
    } else if op == 0xE8 || op == 0xE9, b.count == 5 {
        rel32 = Int32(bitPattern: UInt32(b[1]) | UInt32(b[2]) << 8 | UInt32(b[3]) << 16 | UInt32(b[4]) << 24)
    } else if op == 0x0F, b.count == 6, (0x80...0x8F).contains(b[1]) {
        rel32 = Int32(bitPattern: UInt32(b[2]) | UInt32(b[3]) << 8 | UInt32(b[4]) << 16 | UInt32(b[5]) << 24)
    }
    guard let r = rel32 else { return nil }
    return end &+ UInt64(bitPattern: Int64(r))
}

private func state(_ regs: [Int: UInt64], flags: UInt64 = 0x202) -> HostState {
    var g = [UInt64](repeating: 0, count: 16)
    for (k, v) in regs { g[k] = v }
    if regs[4] == nil { g[4] = HostCPU.dataAddress + 0x8000 }
    return HostState(gpr: g, rip: HostCPU.codeAddress, rflags: flags)
}

private func hx(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

func knownSequenceChecks() -> [String] {
    var f: [String] = []
    let zeros = [UInt8](repeating: 0, count: HostCPU.dataSize)
    let code0 = HostCPU.codeAddress

    // add rax, rbx: 0x7fff_ffff_ffff_ffff + 1 -> OF SF AF PF set, CF ZF clear.
    do {
        let r = HostCPU.runDetailed(code: [0x48, 0x01, 0xD8], state: state([0: 0x7FFF_FFFF_FFFF_FFFF, 3: 1]), data: zeros)
        if r.outcome != .completed { f.append("add rax, rbx: outcome \(r.outcome)") }
        if r.state.gpr[0] != 0x8000_0000_0000_0000 { f.append("add rax, rbx: rax \(hx(r.state.gpr[0]))") }
        if r.state.rflags & HostFlags.arithmetic != 0x894 {
            f.append("add rax, rbx: flags \(hx(r.state.rflags)) expected arithmetic 0x894")
        }
        if r.state.rip != code0 + 3 { f.append("add rax, rbx: rip \(hx(r.state.rip))") }
    }
    // Input flags are honoured: stc-free adc uses CF from the input; DF survives.
    do {
        let r = HostCPU.runDetailed(code: [0x48, 0x83, 0xD0, 0x00], state: state([0: 41], flags: 0x202 | 1 | 0x400),
                                    data: zeros)
        if r.state.gpr[0] != 42 { f.append("adc rax, 0 with CF=1: rax \(r.state.gpr[0])") }
        if r.state.rflags & 0x400 == 0 { f.append("DF from the input state was lost") }
    }
    // div rcx with rcx = 0 -> #DE at the div, registers as before it.
    do {
        let code: [UInt8] = [0x31, 0xC9, 0x48, 0xF7, 0xF1]
        let r = HostCPU.runDetailed(code: code, state: state([0: 5, 1: 7, 2: 0]), data: zeros)
        if r.outcome != .exception(vector: 0, faultRIP: code0 + 2) { f.append("div by zero: \(r.outcome)") }
        if r.state.gpr[1] != 0 || r.state.gpr[0] != 5 { f.append("div by zero: registers at fault wrong") }
        if r.state.rflags & HostFlags.zf == 0 { f.append("div by zero: flags from xor lost") }
    }
    // nop; ud2 -> #UD at +1.
    do {
        let r = HostCPU.runDetailed(code: [0x90, 0x0F, 0x0B], state: state([:]), data: zeros)
        if r.outcome != .exception(vector: 6, faultRIP: code0 + 1) { f.append("ud2: \(r.outcome)") }
    }
    // int3 -> #BP, RIP after the int3 (a trap).
    do {
        let r = HostCPU.runDetailed(code: [0x90, 0xCC, 0x90], state: state([:]), data: zeros)
        if r.outcome != .exception(vector: 3, faultRIP: code0 + 2) { f.append("int3: \(r.outcome)") }
    }
    // mov eax, [8] -> #PF with CR2 = 8.
    do {
        let r = HostCPU.runDetailed(code: [0x8B, 0x04, 0x25, 0x08, 0, 0, 0], state: state([:]), data: zeros)
        if r.outcome != .exception(vector: 14, faultRIP: code0) || r.fault?.faultAddress != 8 {
            f.append("#PF: \(r.outcome) \(String(describing: r.fault))")
        }
    }
    // mov eax, [rbx] with a non-canonical rbx -> #GP.
    do {
        let r = HostCPU.runDetailed(code: [0x8B, 0x03], state: state([3: 0x8000_0000_0000_0000]), data: zeros)
        if r.outcome != .exception(vector: 13, faultRIP: code0) { f.append("#GP: \(r.outcome)") }
    }
    // push rax; pop rbx; mov [rip+disp], rbx -> data written, RSP restored.
    do {
        let target = HostCPU.dataAddress + 0x100
        var code: [UInt8] = [0x50, 0x5B, 0x48, 0x89, 0x1D]
        let disp = target &- (code0 + UInt64(code.count) + 4)
        code += (0..<4).map { UInt8(truncatingIfNeeded: disp >> (8 * UInt64($0))) }
        let rsp = HostCPU.dataAddress + 0x8000
        let r = HostCPU.runDetailed(code: code, state: state([0: 0x1122_3344_5566_7788, 4: rsp]), data: zeros)
        if r.outcome != .completed || r.state.gpr[3] != 0x1122_3344_5566_7788 || r.state.gpr[4] != rsp {
            f.append("push/pop: \(r.outcome) rbx \(hx(r.state.gpr[3])) rsp \(hx(r.state.gpr[4]))")
        }
        let stored = (0..<8).reduce(UInt64(0)) { $0 | UInt64(r.data[0x100 + $1]) << (8 * UInt64($1)) }
        if stored != 0x1122_3344_5566_7788 { f.append("rip-relative store: \(hx(stored))") }
        let pushed = (0..<8).reduce(UInt64(0)) { $0 | UInt64(r.data[0x8000 - 8 + $1]) << (8 * UInt64($1)) }
        if pushed != 0x1122_3344_5566_7788 { f.append("push wrote \(hx(pushed)) on the stack") }
    }
    // The host survives a fault and runs the next sequence normally.
    do {
        let r = HostCPU.runDetailed(code: [0x48, 0xFF, 0xC0], state: state([0: 1]), data: zeros)
        if r.outcome != .completed || r.state.gpr[0] != 2 { f.append("run after faults: \(r.outcome)") }
    }
    return f
}

func randomRunChecks(count: Int, log: (String) -> Void) -> [String] {
    var f: [String] = []
    var gen = SequenceGenerator(seed: 0x5EED_0001)
    var outcomes: [String: Int] = [:]
    let clock = ContinuousClock()
    var sample: [GeneratedSequence] = []
    let start = clock.now
    for n in 0..<count {
        let s = gen.next()
        let (st, data, outcome) = HostCPU.run(s)
        switch outcome {
        case .completed:
            outcomes["completed", default: 0] += 1
            if st.rip != HostCPU.codeAddress + UInt64(s.code.count) { f.append("rip \(hx(st.rip)) at end\n\(s.listing)") }
        case .exception(let v, let rip):
            outcomes["#\(v)", default: 0] += 1
            // Only #DE (division), #UD and #GP/#SS (the deliberate non-canonical access) are expected.
            if v != 0 && v != 6 && v != 12 && v != 13 { f.append("unexpected vector \(v) at \(hx(rip))\n\(s.listing)") }
        }
        let rsp = st.gpr[4]
        if rsp < HostCPU.dataAddress || rsp >= HostCPU.dataAddress + UInt64(HostCPU.dataSize) {
            f.append("RSP left the data area: \(hx(rsp))\n\(s.listing)")
        }
        if n < 2_000 {
            // Determinism: a second run gives the same registers (under the masks) and memory.
            let (st2, data2, outcome2) = HostCPU.run(s)
            let masks = s.comparisonMasks(for: outcome)
            var same = outcome == outcome2 && data == data2
                && (st.rflags & masks.definedFlags) == (st2.rflags & masks.definedFlags)
            for r in 0..<16 where !masks.undefinedRegisters.contains(r) { same = same && st.gpr[r] == st2.gpr[r] }
            if !same { f.append("non-deterministic result\n\(s.listing)") }
            if sample.count < 1_000 { sample.append(s) }
        }
        if f.count > 10 { f.append("(stopping after \(n + 1) sequences)"); break }
    }
    let total = clock.now - start
    let secs = Double(total.components.seconds) + Double(total.components.attoseconds) * 1e-18
    log("generate+run \(count) random sequences: \(String(format2: secs))s, outcomes \(outcomes.sorted { $0.key < $1.key })")
    // Runner-only throughput over pre-generated sequences.
    if !sample.isEmpty {
        let reps = 50_000
        let t0 = clock.now
        for k in 0..<reps { _ = HostCPU.run(sample[k % sample.count]) }
        let d = clock.now - t0
        let ds = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        log("native runner: \(Int(Double(reps) / max(ds, 1e-9))) sequences/second (incl. 2 x 64 KiB data copies)")
    }
    return f
}

extension String {
    init(format2 v: Double) { self = String(Double(Int(v * 100)) / 100) }
}
