// Pre-decoded basic blocks: straight-line runs of decoded instructions laid out one after another, so the
// execution loop steps to the next instruction by a pointer increment instead of a decode-cache lookup.
//
// A block starts at a physical address and holds the instructions that follow it on the same 4 KiB page, up
// to an indirect or out-of-page control transfer, a system instruction, an instruction that does not decode or
// would cross the page, or `BlockCache.maxLength` instructions. A direct JMP or CALL to a target on the same
// page continues the block at its target. Conditional branches do not end a block: when one is taken, RIP
// differs from the next entry's address (its page offset is that of its physical address) and the loop leaves
// the block there.
//
// Validity is that of the decoded-instruction cache (`DecodeCache`): a block is tagged with its physical
// address, the decode mode and the generation of its code page, and any write to the page bumps the
// generation. The loop re-checks generation, mode, TLB epoch and CPL before each instruction after the first
// (a store in the block may rewrite the block itself), so a block never runs an instruction that the
// one-at-a-time path would not have decoded the same way.

/// Directory entry of one block.
struct BlockEntry {
    /// Physical address of the block's first instruction (`~0`: empty).
    var tag: UInt64 = ~0
    /// Generation of the code page when the block was built (`PhysicalMemory.generation(page:)`).
    var generation: UInt32 = 0
    /// Index of the first instruction in the arena.
    var start: UInt32 = 0
    /// Number of instructions.
    var count: UInt16 = 0
    /// Decode mode when the block was built.
    var mode: UInt8 = 0xFF
    /// Runs of the block the JIT counted before translating it (`CPU.jitHotRuns`); stops there.
    var jitHeat: UInt8 = 0
    /// Instructions the JIT translation runs at most (its translated prefix of the block).
    var jitCount: UInt16 = 0
    /// Code-cache epoch the JIT looked at this block under (`ExecutableMemory.epoch`); 0: not looked at yet.
    var jitEpoch: UInt32 = 0
    /// Offset of the block's translation in the code cache; 0: no translation.
    var jitCode: UInt32 = 0
}

/// Storage of the pre-decoded blocks: a direct-mapped directory and a bump-allocated arena of instructions,
/// emptied as a whole when full.
final class BlockCache {
    /// Instructions per block at most.
    static let maxLength = 48
    /// Directory slots (a power of two).
    static let directorySize = 1 << 13
    /// Arena capacity in instructions.
    static let arenaSize = 1 << 14

    let directory: UnsafeMutablePointer<BlockEntry>
    let arena: UnsafeMutablePointer<Instruction>
    /// Storage of `directory` and `arena`: zero-filled; an all-zero directory entry never validates
    /// (generation 0 is never a code page's generation), and arena slots are written before they are read.
    private let directoryTable: ZeroedTable<BlockEntry>
    private let arenaTable: ZeroedTable<Instruction>
    /// Next free arena index.
    var used = 0
    /// Whether 64-bit code runs in blocks (`ExecutionPath.blocks`, `.all`); otherwise one instruction at a time.
    var enabled = true
    /// Whether blocks are built with specialised forms (`ExecutionPath.all`).
    var fastForms = true
    /// The JIT (`ExecutionPath.jit` on an x86-64 host), which translates blocks into host code.
    var jit: JITEngine?

    init() {
        let path = ExecutionPath.processorDefault
        enabled = path != .general
        fastForms = path == .all || path == .jit
        jit = path == .jit ? JITEngine() : nil
        directoryTable = ZeroedTable(count: BlockCache.directorySize, zero: BlockEntry())
        arenaTable = ZeroedTable(count: BlockCache.arenaSize, zero: Instruction())
        directory = directoryTable.base
        arena = arenaTable.base
    }

    deinit {
        directoryTable.free()
        arenaTable.free()
    }

    /// The directory slot for a physical address.
    @inline(__always) func slot(_ pa: UInt64) -> UnsafeMutablePointer<BlockEntry> {
        directory + Int(truncatingIfNeeded: (pa ^ (pa >> 14)) & UInt64(BlockCache.directorySize - 1))
    }

    /// Drops every block (only between blocks: the execution loop holds no arena pointer then).
    func flush() {
        for i in 0..<BlockCache.directorySize { directory[i].tag = ~0 }
        used = 0
    }
}

/// The execution layers a processor uses (`CPU.executionPath`). Every layer computes the same results; the
/// forced configurations exist so that the differential test can check each layer on its own.
public enum ExecutionPath: String, CaseIterable, Sendable {
    /// One instruction at a time through the decoded-instruction cache and `CPU.execute`: no blocks and no
    /// specialised forms.
    case general
    /// Pre-decoded blocks for 64-bit code, every instruction through `CPU.execute` (no specialised forms).
    case blocks
    /// Blocks with the specialised forms of `FastForms.swift` (the default).
    case all
    /// As `all`, and blocks whose leading instructions the JIT supports run as translated host code
    /// (JIT/Translator.swift). On hosts the JIT does not support (not x86-64 Linux) this is `all`.
    case jit
}

extension ExecutionPath {
    /// The execution layers a processor starts with (default `.all`). A tool sets it once, before it creates any
    /// processor (`swiftvmx run --engine`), so no two threads ever touch it at once.
    nonisolated(unsafe) public static var processorDefault: ExecutionPath = .all

    /// Runs of a block in the interpreter before the JIT translates it, for processors created from now on
    /// (default 8). Checking tools set 0 so that code which runs once is checked on its
    /// translation too (`swiftvmx-dev fuzz --engine jit`); set once, before any processor exists, like
    /// `processorDefault`.
    nonisolated(unsafe) public static var jitHotRunsDefault: UInt8 = 8

    /// The path an `--engine` option names: `interpreter` (`.all`) or `jit`; nil for anything else.
    public init?(engine: String) {
        switch engine {
        case "interpreter": self = .all
        case "jit": self = .jit
        default: return nil
        }
    }

    /// Whether this host runs JIT translations (an x86-64 Linux host); elsewhere `.jit` behaves as `.all`.
    public static var jitAvailable: Bool { ExecutableMemory.hostSupported }
}

extension CPU {
    /// JIT statistics (debug builds count runs and retired instructions; release builds only translations):
    /// blocks translated, translation calls, instructions retired in translations. Nil without the JIT.
    public var jitStatistics: (translated: Int, runs: Int, retired: Int)? {
        blocks.jit.map { ($0.translated, $0.runs, $0.retired) }
    }

    /// Runs of a block in the interpreter before the JIT translates it (`ExecutionPath.jitHotRunsDefault` when
    /// the JIT was created; 0: at its first run). Without the JIT, 0 and setting it does nothing.
    public var jitHotRuns: UInt8 {
        get { blocks.jit?.hotRuns ?? 0 }
        set { blocks.jit?.hotRuns = newValue }
    }

    /// The execution layers this processor uses (default `.all`). Setting it drops every pre-decoded block.
    public var executionPath: ExecutionPath {
        get { blocks.enabled ? (blocks.fastForms ? (blocks.jit != nil ? .jit : .all) : .blocks) : .general }
        set {
            blocks.flush()
            blocks.enabled = newValue != .general
            blocks.fastForms = newValue == .all || newValue == .jit
            blocks.jit = newValue == .jit ? (blocks.jit ?? JITEngine()) : nil
        }
    }
}

extension Op {
    /// Whether the instruction after this one (in address order) may run in the same block: false for
    /// unconditional control transfers and every instruction `CPU.executeSystem` handles (mode, paging,
    /// privilege and interrupt-flag changes end a block, so a block never outlives its assumptions).
    var continuesBlock: Bool {
        switch self {
        case .aluRMReg, .aluRegRM, .aluRMImm, .testRMReg, .testRMImm, .incRM, .decRM, .notRM, .negRM,
             .mulRM, .imulRM, .divRM, .idivRM, .imulRegRM, .imulRegRMImm,
             .shiftRMImm, .shiftRM1, .shiftRMCL, .shldImm, .shldCL, .shrdImm, .shrdCL,
             .btRMReg, .btRMImm, .bsf, .bsr, .popcnt, .bswap, .cmpxchg, .cmpxchg8b, .xadd, .xchgRMReg,
             .movbeLoad, .movbeStore, .movRMReg, .movRegRM, .movRMImm, .movRegImm, .movAccMoffs, .movMoffsAcc,
             .movzx, .movsx, .movsxd, .lea, .cmov, .setcc, .cbw, .cwd, .lahf, .sahf, .xlat,
             .pushReg, .popReg, .pushImm, .pushRM, .popRM, .enter, .leave,
             .jcc, .loop, .jcxz, .string, .clc, .stc, .cmc, .cld, .std, .nop, .fence, .x87, .sse:
            return true
        default:
            return false
        }
    }
}

extension CPU {
    /// Builds the block that starts at physical address `pa` (64-bit code; the page already holds decoded
    /// code, so writes to it are tracked) and returns its directory entry, or nil when no block can be built
    /// there (not RAM, not executable, first instruction incomplete on the page).
    func buildBlock(at pa: UInt64) -> UnsafeMutablePointer<BlockEntry>? {
        let page = pa >> 12
        guard page < trackedPages, pageState[Int(truncatingIfNeeded: page)] & 1 != 0,
              let region = memory.region(containing: pa), region.permissions.contains(.execute) else { return nil }
        if blocks.used + BlockCache.maxLength > BlockCache.arenaSize { blocks.flush() }
        // Safe: regions are page-aligned (`PhysicalMemory.map`), so the whole page of `pa` lies in `region`,
        // whose host memory stays mapped while `memory` (owned by this processor) lives.
        let pageHost = UnsafeRawPointer(region.host + Int(truncatingIfNeeded: (pa & ~0xFFF) &- region.base))
        var offset = Int(pa & 0xFFF)
        let first = blocks.used
        var count = 0
        while count < BlockCache.maxLength && offset < 4096 {
            var d = Instruction()
            let available = min(4096 - offset, 15)
            guard decode(UnsafeRawBufferPointer(start: pageHost + offset, count: available), into: &d) == .ok else { break }
            d.tag = (pa & ~0xFFF) | UInt64(offset)
            d.fast = blocks.fastForms ? d.fastForm64 : .none
            d.fastAccessesMemory = d.fast.rawValue >= FastForm.firstMemoryForm.rawValue
            blocks.arena[first + count] = d
            count += 1
            offset += Int(d.length)
            // A direct JMP or CALL whose target lies on this page continues the block at the target.
            if (d.op == .jmpRel || d.op == .callRel) && d.opSize == 8 {
                let target = Int64(offset) &+ Int64(bitPattern: d.imm)
                if target >= 0 && target < 4096 { offset = Int(target); continue }
                break
            }
            if !d.op.continuesBlock { break }
        }
        guard count > 0 else { return nil }
        blocks.used += count
        let e = blocks.slot(pa)
        e.pointee = BlockEntry(tag: pa, generation: pageState[Int(truncatingIfNeeded: page)] | 1, start: UInt32(first),
                               count: UInt16(count), mode: decodeMode)
        return e
    }
}

// MARK: The block path's promises, checked in debug builds
//
// The block loop (`CPU.runBatch`) skips work on two promises: a specialised form changes nothing before its last
// possible fault, so a fault needs no undo snapshot; and neither a specialised form nor an instruction whose
// `Op.continuesBlock` is true changes mode, paging, privilege or event state, so a block never outlives what it
// was decoded under. A debug build checks both after every instruction in a block (the differential and guest
// tests run in debug builds); a release build compiles none of this.

#if DEBUG
/// The mode, paging, privilege and event state a block assumes unchanged.
struct BlockAssumptions: Equatable {
    let cr0: UInt64, cr3: UInt64, cr4: UInt64, efer: UInt64
    let cpl: Int
    let mode: ProcessorMode
    let codeSize: UInt8, decodeMode: UInt8
    /// RFLAGS without the status flags and DF (which CLD and STD in a block change).
    let systemFlags: UInt64
    let interruptibility: UInt32, newShadow: UInt32
    let halted: Bool, eventCheck: Bool, shutdown: Bool
    let segments: [SegmentRegister]
    let gdtr: DescriptorTableRegister, idtr: DescriptorTableRegister

    init(_ cpu: CPU) {
        cr0 = cpu.cr0Value; cr3 = cpu.cr3Value; cr4 = cpu.cr4Value; efer = cpu.eferValue
        cpl = cpu.cplValue; mode = cpu.modeValue; codeSize = cpu.codeSize; decodeMode = cpu.decodeMode
        systemFlags = cpu.flagsBase & ~(CPU.statusBits | RFLAGS.df.rawValue)
        interruptibility = cpu.interruptibilityValue; newShadow = cpu.newShadow
        halted = cpu.haltedValue; eventCheck = cpu.lazyEventCheck; shutdown = cpu.inShutdownValue
        // Safe: `seg` holds the 8 segment registers for the processor's lifetime.
        segments = Array(UnsafeBufferPointer(start: cpu.seg, count: 8))
        gdtr = cpu.gdtr; idtr = cpu.idtr
    }
}

/// The architectural state a specialised form may change: what must be as it was when it faults.
struct FastFormState: Equatable {
    let gpr: [UInt64]
    var rip: UInt64
    let flagsBase: UInt64
    let lazy: [UInt64]
    let x87: [UInt64]
    let xmm: [UInt64]
    let mxcsr: UInt32
    let assumptions: BlockAssumptions

    init(_ cpu: CPU) {
        // Safe: `gpr` holds 16 registers, `fpu.xmm` 32 halves and `fpu.stSig` 8 significands, allocated once
        // with the processor.
        gpr = Array(UnsafeBufferPointer(start: cpu.gpr, count: 16))
        rip = cpu.ripValue
        flagsBase = cpu.flagsBase
        lazy = [UInt64(cpu.lazy.op.rawValue), UInt64(cpu.lazy.size), cpu.lazy.dst, cpu.lazy.src, cpu.lazy.res]
        let f = cpu.fpu
        x87 = Array(UnsafeBufferPointer(start: f.stSig, count: 8)) + (0..<8).map { UInt64(f.stSE[$0]) }
            + [UInt64(f.fcw), UInt64(f.fsw), UInt64(f.tagValid), UInt64(f.fop), f.fip, f.fdp]
        xmm = Array(UnsafeBufferPointer(start: f.xmm, count: 32))
        // Not the exception flags: an unmasked SIMD floating-point exception sets its flag before it raises
        // #XM (SDM Vol. 1 §11.5.1), as the general path does.
        mxcsr = f.mxcsr & ~0x3F
        assumptions = BlockAssumptions(cpu)
    }
}

extension CPU {
    /// Checks the promises of specialised form `form` (see above): after a fault (`faulted`), that nothing
    /// changed since `before`; otherwise that no mode, paging, privilege or event state changed.
    func checkFastFormPromises(_ form: FastForm, before: FastFormState, faulted: Bool) {
        if faulted {
            // A VM exit raised inside the form (an EPT violation) rewinds RIP to the instruction's start, as
            // the fault path does anyway: that RIP is the fault's, not a change the form made.
            var after = FastFormState(self)
            if after.rip == startRIP { after.rip = before.rip }
            assert(after == before, "specialised form \(form) changed state before faulting: "
                + "\(String(describing: before)) became \(String(describing: after))")
        } else {
            assert(BlockAssumptions(self) == before.assumptions,
                   "specialised form \(form) changed mode, paging, privilege or event state")
        }
    }

    /// Checks that an instruction that lets its block go on (`Op.continuesBlock`) changed none of the state
    /// the block assumes.
    func checkContinuesBlock(_ op: Op, before: BlockAssumptions) {
        if op.continuesBlock {
            assert(BlockAssumptions(self) == before,
                   "\(op) lets a block go on but changed mode, paging, privilege or event state")
        }
    }
}
#endif
