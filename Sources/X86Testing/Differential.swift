// Differential testing: the same generated user-mode sequences on the processor model and on the host CPU.

import X86

/// How a run on the model (or the host) ended, in the oracle's terms.
public enum DifferentialOutcome: Equatable, Sendable, CustomStringConvertible {
    /// Execution reached the end of the sequence.
    case completed
    /// An exception with the RIP reported for it (faults: the faulting instruction; traps: the next one).
    case exception(vector: UInt8, faultRIP: UInt64)
    /// The model did something the host cannot (hit the instruction limit, halted, shut down).
    case other(String)

    /// Converts a host outcome.
    public init(_ host: HostOutcome) {
        switch host {
        case .completed: self = .completed
        case .exception(let v, let rip): self = .exception(vector: v, faultRIP: rip)
        }
    }

    /// A readable form for reports.
    public var description: String {
        switch self {
        case .completed: return "completed"
        case .exception(let v, let rip): return "#\(exceptionName(v)) at 0x\(String(rip, radix: 16))"
        case .other(let s): return s
        }
    }
}

private func exceptionName(_ v: UInt8) -> String {
    let names: [UInt8: String] = [0: "DE", 1: "DB", 3: "BP", 4: "OF", 5: "BR", 6: "UD", 7: "NM", 8: "DF", 10: "TS",
                                  11: "NP", 12: "SS", 13: "GP", 14: "PF", 16: "MF", 17: "AC", 18: "MC", 19: "XM"]
    return names[v] ?? "vector \(v)"
}

/// The final state of one run on the model.
public struct ModelResult: Sendable {
    /// RAX..R15 in encoding order.
    public var gpr: [UInt64]
    /// RIP when the run stopped.
    public var rip: UInt64
    /// RFLAGS with the status flags materialized.
    public var rflags: UInt64
    /// How the run ended.
    public var outcome: DifferentialOutcome
    /// The error code of the exception that ended the run, if it has one.
    public var errorCode: UInt32?
}

/// The processor model set up like the host runner: 64-bit long mode at CPL 3, 4-level paging that
/// identity-maps the 64 KiB code area at `HostCPU.codeAddress` and the 64 KiB data area at
/// `HostCPU.dataAddress` (user, writable), nothing else mapped. Reused across sequences: each run
/// reloads the registers, the code and the data area.
///
/// The end of a sequence is marked by a HLT byte right after its code: at CPL 3 HLT raises #GP(0),
/// which the machine intercepts; a #GP whose RIP is the end of the code means the sequence completed.
///
/// `mode` selects the code segment as the host runner does: 64-bit (CS.L=1), 32-bit compatibility mode
/// (CS.L=0, D=1, flat data segments) or 16-bit code (CS.D=0 based at the code area, limit 0xFFFF; DS, ES
/// and SS 16-bit data segments based at the data area, limit 0xFFFF).
public final class UserModeMachine {
    /// The model's physical memory.
    public let memory: PhysicalMemory
    /// The processor.
    public let cpu: CPU
    /// Host pointer of the code area (followed by the data area).
    private let area: UnsafeMutableRawPointer
    /// Instructions a run may retire before it is declared runaway.
    public var instructionLimit = 100_000
    /// The code-segment mode sequences run in.
    public let mode: CodeSegmentMode

    /// Physical address of the PML4 (the paging structures occupy the first 16 KiB of RAM).
    static let pml4: UInt64 = 0x1000
    /// The HLT byte placed after the code.
    static let endMarker: UInt8 = 0xF4

    /// Creates the machine, its processor running on `path`. Fails only if the fixed physical ranges cannot be
    /// mapped.
    public init(path: ExecutionPath = .all, mode: CodeSegmentMode = .mode64) throws(PhysicalMemory.MapError) {
        self.mode = mode
        let areaSize = UInt64(HostCPU.codeSize + HostCPU.dataSize)
        memory = PhysicalMemory(trackedLimit: HostCPU.codeAddress + areaSize + 0x10000)
        try memory.allocateRAM(at: 0, size: 0x5000)
        area = try memory.allocateRAM(at: HostCPU.codeAddress, size: areaSize)
        // PML4[0] -> PDPT (0x2000) -> PD (0x3000); PD[128] covers 256 MiB..258 MiB -> PT (0x4000);
        // PT[0..31] identity-map the code and data pages. Present, writable, user (SDM Vol. 3A §4.5).
        let pte: UInt64 = 0x7
        memory.writeInteger(0x2000 | pte, at: UserModeMachine.pml4, size: 8)
        memory.writeInteger(0x3000 | pte, at: 0x2000, size: 8)
        let pdIndex = (HostCPU.codeAddress >> 21) & 511
        memory.writeInteger(0x4000 | pte, at: 0x3000 + pdIndex * 8, size: 8)
        let firstPT = (HostCPU.codeAddress >> 12) & 511
        for k in 0..<(areaSize >> 12) {
            memory.writeInteger((HostCPU.codeAddress + (k << 12)) | pte, at: 0x4000 + (firstPT + k) * 8, size: 8)
        }
        cpu = CPU(memory: memory)
        cpu.cr3 = UserModeMachine.pml4
        cpu.cr4 = CR4.pae.rawValue | CR4.osfxsr.rawValue | CR4.osxmmexcpt.rawValue   // as Linux runs user code
        cpu.efer = EFER.lme.rawValue | EFER.lma.rawValue
        cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue | CR0.wp.rawValue | CR0.ne.rawValue
        // The selectors and descriptors Linux gives user code (0x33 64-bit code, 0x23 32-bit code, 0x2B data) and
        // the host runner's LDT entries for 16-bit code (0x07 code, 0x0F data). Access rights in the VMCS
        // format: 0xFB/0xF3 present DPL-3 code (execute/read) and data (read/write), 0x2000 L, 0x4000 D/B, 0x8000 G.
        let flatData = SegmentRegister(selector: 0x2B, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0F3)
        for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] { cpu.setSegment(s, flatData) }
        switch mode {
        case .mode64:
            cpu.setSegment(.cs, SegmentRegister(selector: 0x33, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA0FB))
        case .mode32:
            cpu.setSegment(.cs, SegmentRegister(selector: 0x23, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0FB))
        case .mode16:
            cpu.setSegment(.cs, SegmentRegister(selector: 0x07, base: HostCPU.codeAddress, limit: 0xFFFF, accessRights: 0x00FB))
            let data16 = SegmentRegister(selector: 0x0F, base: HostCPU.dataAddress, limit: 0xFFFF, accessRights: 0x00F3)
            for s in [SegmentRegisterName.ss, .ds, .es] { cpu.setSegment(s, data16) }
        }
        cpu.exceptionIntercept = 0xFFFF_FFFF
        cpu.executionPath = path
        // Every block is translated at its first run, so a case's code is checked on its translation.
        cpu.jitHotRuns = 0
    }

    /// The data area after the last run (a copy).
    public var data: [UInt8] {
        // Safe: `area` holds codeSize + dataSize bytes owned by `memory`, which lives as long as self.
        Array(UnsafeRawBufferPointer(start: area + HostCPU.codeSize, count: HostCPU.dataSize))
    }

    /// Whether the data area equals `bytes` (which must have `HostCPU.dataSize` bytes).
    public func dataEquals(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == HostCPU.dataSize else { return false }
        // Safe: both buffers hold dataSize bytes (checked above; `area` as in `data`).
        return bytes.withUnsafeBytes { b in
            guard let p = b.baseAddress else { return false }
            return memcmpEqual(p, UnsafeRawPointer(area + HostCPU.codeSize), HostCPU.dataSize)
        }
    }

    /// Runs `seq` on the model from its initial state.
    public func run(_ seq: GeneratedSequence) -> ModelResult {
        run(code: seq.code, state: seq.initialState, data: seq.initialData, stack32: seq.stack32)
    }

    /// Runs raw code placed at `HostCPU.codeAddress` from `state` (16 GPRs, RIP, RFLAGS) with the data
    /// area loaded from `data` (zero-padded or truncated to `HostCPU.dataSize`). `stack32` (16-bit code only): SS
    /// is the 32-bit stack segment (B=1) the host runner's LDT entry 2 describes.
    public func run(code: [UInt8], state: HostState, data: [UInt8], stack32: Bool = false) -> ModelResult {
        guard code.count < HostCPU.maxCodeSize, state.gpr.count == 16 else {
            return ModelResult(gpr: [UInt64](repeating: 0, count: 16), rip: 0, rflags: 0,
                               outcome: .other("code does not fit the code area"), errorCode: nil)
        }
        // Safe: code.count + 1 <= codeSize bytes into the code area; at most dataSize bytes into the data area.
        code.withUnsafeBytes { c in
            if let p = c.baseAddress { area.copyMemory(from: p, byteCount: c.count) }
        }
        area.storeBytes(of: UserModeMachine.endMarker, toByteOffset: code.count, as: UInt8.self)
        let dataArea = area + HostCPU.codeSize
        let n = min(data.count, HostCPU.dataSize)
        data.withUnsafeBytes { d in
            if let p = d.baseAddress { dataArea.copyMemory(from: p, byteCount: n) }
        }
        if n < HostCPU.dataSize { (dataArea + n).initializeMemory(as: UInt8.self, repeating: 0, count: HostCPU.dataSize - n) }
        memory.invalidateCode(from: HostCPU.codeAddress, size: UInt64(HostCPU.codeSize + HostCPU.dataSize))
        for r in 0..<16 { cpu.setGPR(index: r, state.gpr[r]) }
        cpu.rip = state.rip
        cpu.rflags = state.rflags
        // The runner's process runs every sequence from its own floating-point state (MXCSR 0x1F80, FCW 0x37F):
        // so does the model, whatever the previous sequence left.
        cpu.mxcsr = 0x1F80
        cpu.x87ControlWord = 0x37F
        if mode == .mode16 {
            cpu.setSegment(.ss, SegmentRegister(selector: stack32 ? 0x17 : 0x0F, base: HostCPU.dataAddress, limit: 0xFFFF,
                                                accessRights: stack32 ? 0x40F3 : 0x00F3))
        }
        let stop = cpu.run(instructionLimit: instructionLimit)
        let end = mode.codeBase + UInt64(code.count)
        let outcome: DifferentialOutcome
        var errorCode: UInt32?
        switch stop {
        case .exception(13, 0?) where cpu.rip == end: outcome = .completed
        case .exception(let v, let code):
            outcome = .exception(vector: v, faultRIP: cpu.rip)
            errorCode = code
        case .instructionLimit: outcome = .other("instruction limit (\(instructionLimit)) reached at 0x\(String(cpu.rip, radix: 16))")
        case .halted: outcome = .other("halted at 0x\(String(cpu.rip, radix: 16))")
        case .shutdown: outcome = .other("shutdown at 0x\(String(cpu.rip, radix: 16))")
        case .stopRequested: outcome = .other("stop requested")
        case .vmExit: outcome = .other("VM exit")
        }
        return ModelResult(gpr: (0..<16).map { cpu.gpr(index: $0) }, rip: cpu.rip, rflags: cpu.rflags, outcome: outcome,
                           errorCode: errorCode)
    }
}

/// Byte-wise equality of two buffers.
private func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    var i = 0
    while i + 8 <= n {
        if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
            return false
        }
        i += 8
    }
    while i < n {
        if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        i += 1
    }
    return true
}

/// One sequence on which the model and the host disagree.
public struct DifferentialFailure: Sendable {
    /// The generator seed that regenerates the sequence.
    public var seed: UInt64
    /// The sequence's index under `seed` (`SequenceGenerator.sequence(seed:index:mode:)`).
    public var index: UInt64
    /// The code-segment mode it ran in.
    public var mode: CodeSegmentMode = .mode64
    /// The sequence listing.
    public var listing: String
    /// One line per differing field.
    public var differences: [String]

    /// Listing and differences, for printing.
    public var description: String {
        listing + differences.map { "  ! " + $0 }.joined(separator: "\n")
    }
}

/// The result of a differential run.
public struct DifferentialReport: Sendable {
    /// Sequences on which model and host agree.
    public var passed = 0
    /// Sequences on which they disagree.
    public var failed = 0
    /// The first failures in detail (at most `keep` of `runDifferential`).
    public var failures: [DifferentialFailure] = []
    /// Host outcomes seen ("completed", "#GP" ...), with counts.
    public var outcomes: [String: Int] = [:]
    /// Instructions executed per mnemonic (from the listings; setup MOVs count as "mov"), if collected.
    public var mix: [String: Int] = [:]
    /// Set when the host oracle cannot run (not x86-64 Linux, or the runner failed).
    public var oracleUnavailable = false
    /// Sequences run and failed per code-segment mode.
    public var perMode: [CodeSegmentMode: ModeTally] = [:]
    /// Modes asked for that the host cannot run (16-bit code when modify_ldt(2) is refused).
    public var unavailableModes: [CodeSegmentMode] = []
    /// Sequences with at least one reachable x87/SSE/SSE2 instruction (`isFloatingPointEncoding`).
    public var floatingPointSequences = 0
    /// Reachable instructions in all sequences, and how many of them are x87/SSE/SSE2.
    public var instructions = 0
    public var floatingPointInstructions = 0
}

/// Sequences run and failed in one mode.
public struct ModeTally: Sendable, Equatable {
    /// Sequences that agreed.
    public var passed = 0
    /// Sequences that differed.
    public var failed = 0

    /// No sequences yet.
    public init() {}
}

/// Whether an encoding is an x87, SSE or SSE2 instruction: WAIT or an escape D8–DF, or a 0F-map opcode of
/// the SSE/SSE2 ranges (0F 10–17, 28–2F, 50–7F, AE /2–/3 LDMXCSR/STMXCSR, C2, C4–C6, D0–FE), after any
/// legacy and REX prefixes.
public func isFloatingPointEncoding(_ bytes: [UInt8]) -> Bool {
    var k = 0
    while k < bytes.count, [0x66, 0xF2, 0xF3, 0xF0, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0x67].contains(bytes[k]) { k += 1 }
    if k < bytes.count, bytes[k] & 0xF0 == 0x40 { k += 1 }
    guard k < bytes.count else { return false }
    let op = bytes[k]
    if op == 0x9B || (0xD8...0xDF).contains(op) { return true }
    guard op == 0x0F, k + 1 < bytes.count else { return false }
    let op2 = bytes[k + 1]
    switch op2 {
    case 0x10...0x17, 0x28...0x2F, 0x50...0x7F, 0xC2, 0xC4...0xC6, 0xD0...0xFE: return true
    case 0xAE: return k + 2 < bytes.count && bytes[k + 2] < 0xC0 && (bytes[k + 2] >> 3) & 7 >= 2 && (bytes[k + 2] >> 3) & 7 <= 3
    default: return false
    }
}

private let registerNames = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
                             "r13", "r14", "r15"]

private func hx(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// Compares one sequence on the model and the host. Returns the differing fields (empty: agreement),
/// and the host outcome.
public func compareOnce(_ seq: GeneratedSequence, machine: UserModeMachine) -> (differences: [String], host: HostOutcome) {
    let host = HostCPU.runDetailed(code: seq.code, state: seq.initialState, data: seq.initialData, mode: seq.mode,
                                   stack32: seq.stack32)
    let (hs, hdata, hout) = (host.state, host.data, host.outcome)
    let m = machine.run(seq)
    var diffs: [String] = []
    let hostOutcome = DifferentialOutcome(hout)
    if m.outcome != hostOutcome {
        diffs.append("outcome: model \(m.outcome), host \(hostOutcome)")
    } else if case .exception(14, _) = hout, let detail = host.fault {
        // #PF error code: P, W/R and U/S (SDM Vol. 3A §4.7); the host kernel reports the hardware's.
        let model = UInt64(m.errorCode ?? 0xFFFF) & 7
        if model != detail.errorCode & 7 {
            diffs.append("#PF error code: model \(hx(model)), host \(hx(detail.errorCode & 7))")
        }
    }
    let masks = seq.comparisonMasks(for: hout)
    let width = seq.mode.comparedRegisterMask
    for r in 0..<(seq.mode == .mode64 ? 16 : 8)
        where !masks.undefinedRegisters.contains(r) && (m.gpr[r] ^ hs.gpr[r]) & width != 0 {
        diffs.append("\(registerNames[r]): model \(hx(m.gpr[r])), host \(hx(hs.gpr[r]))")
    }
    if (m.rip ^ hs.rip) & width != 0 && m.outcome == hostOutcome {
        diffs.append("rip: model \(hx(m.rip)), host \(hx(hs.rip))")
    }
    let fdiff = (m.rflags ^ hs.rflags) & masks.definedFlags
    if fdiff != 0 {
        let names: [(UInt64, String)] = [(HostFlags.cf, "CF"), (HostFlags.pf, "PF"), (HostFlags.af, "AF"),
                                         (HostFlags.zf, "ZF"), (HostFlags.sf, "SF"), (HostFlags.df, "DF"),
                                         (HostFlags.of, "OF")]
        let which = names.filter { fdiff & $0.0 != 0 }.map { $0.1 }.joined(separator: " ")
        diffs.append("rflags: model \(hx(m.rflags)), host \(hx(hs.rflags)) (differ in \(which); compared \(hx(masks.definedFlags)))")
    }
    if !machine.dataEquals(hdata) {
        let md = machine.data
        var lines: [String] = []
        var count = 0
        for i in 0..<min(md.count, hdata.count) where md[i] != hdata[i] {
            count += 1
            if lines.count < 8 {
                lines.append("\(hx(HostCPU.dataAddress + UInt64(i))): model \(hx(UInt64(md[i]))) host \(hx(UInt64(hdata[i])))")
            }
        }
        diffs.append("data: \(count) bytes differ: " + lines.joined(separator: ", "))
    }
    return (diffs, hout)
}

/// Runs `count` generated sequences (seed `seed`, indices 0..<count) on the model and the host CPU and
/// compares GPRs (except undefined ones), RIP, the defined status flags and DF, the data area byte for
/// byte, and the outcome (exception vector and RIP; for #PF also the P, W/R and U/S error-code bits). Keeps the first `keep` failures in detail.
/// The model runs on the execution layers `path` selects. Sequences cycle through `modes` (the count is split
/// evenly; mode k's sequences are indices 0, 1, ... of its own generator); a mode the host cannot run is
/// listed in `unavailableModes` and skipped. `progress(done, failed)` is called every `progressInterval` sequences.
public func runDifferential(count: Int, seed: UInt64, keep: Int = 20, collectMix: Bool = false,
                            path: ExecutionPath = .all, modes: [CodeSegmentMode] = [.mode64],
                            progressInterval: Int = 10_000,
                            progress: (Int, Int) -> Void = { _, _ in }) -> DifferentialReport {
    var report = DifferentialReport()
    guard HostCPU.isAvailable else {
        report.oracleUnavailable = true
        return report
    }
    var runnable: [(CodeSegmentMode, UserModeMachine)] = []
    for mode in modes {
        guard HostCPU.isAvailable(mode) else {
            report.unavailableModes.append(mode)
            continue
        }
        guard let machine = try? UserModeMachine(path: path, mode: mode) else {
            report.oracleUnavailable = true
            return report
        }
        runnable.append((mode, machine))
    }
    if runnable.isEmpty { return report }
    var gens = runnable.map { m -> SequenceGenerator in
        var g = SequenceGenerator(seed: seed)
        g.mode = m.0
        return g
    }
    for n in 0..<count {
        let k = n % runnable.count
        let (mode, machine) = runnable[k]
        let seq = gens[k].next()
        let (diffs, hout) = compareOnce(seq, machine: machine)
        if case .exception(0xFF, _) = hout {
            report.oracleUnavailable = true
            return report
        }
        switch hout {
        case .completed: report.outcomes["completed", default: 0] += 1
        case .exception(let v, _): report.outcomes["#" + exceptionName(v), default: 0] += 1
        }
        var floatingPoint = 0, reachable = 0
        for i in seq.instructions where i.reachable {
            reachable += 1
            if isFloatingPointEncoding(i.bytes) { floatingPoint += 1 }
        }
        report.instructions += reachable
        report.floatingPointInstructions += floatingPoint
        if floatingPoint > 0 { report.floatingPointSequences += 1 }
        if collectMix {
            for i in seq.instructions where i.reachable {
                let word = i.text.split(separator: " ", maxSplits: 1).first.map(String.init) ?? i.text
                report.mix[word, default: 0] += 1
            }
        }
        if diffs.isEmpty {
            report.passed += 1
            report.perMode[mode, default: ModeTally()].passed += 1
        } else {
            report.failed += 1
            report.perMode[mode, default: ModeTally()].failed += 1
            if report.failures.count < keep {
                report.failures.append(DifferentialFailure(seed: seq.seed, index: seq.index, mode: mode, listing: seq.listing,
                                                           differences: diffs))
            }
        }
        if (n + 1) % progressInterval == 0 { progress(n + 1, report.failed) }
    }
    return report
}
