// The processor: architectural state and the execution loop.

/// Why `CPU.run` returned.
public enum StopReason: Equatable, Sendable {
    /// The instruction limit was reached.
    case instructionLimit
    /// The processor executed HLT (or is halted) and no interrupt is pending.
    case halted
    /// A triple fault (or a fault during shutdown) put the processor in the shutdown state.
    case shutdown
    /// An exception whose bit is set in `CPU.exceptionIntercept` was raised; it was not delivered.
    /// RIP is that of the faulting instruction for faults, the next instruction for traps.
    case exception(vector: UInt8, errorCode: UInt32?)
    /// `CPU.requestStop()` was called.
    case stopRequested
    /// A VM exit ended VMX non-root operation (see `CPU.runGuest`).
    case vmExit
}

/// Why an instruction did not complete: an exception to deliver, or an abort of the run.
enum Abort: Error {
    /// An exception (SDM Vol. 3A §6.3), with error code where the vector defines one.
    case exception(UInt8, UInt32?)
    /// The processor entered the shutdown state (triple fault).
    case shutdown
    /// Leave the run loop at once (a VM exit, or HLT with nothing to wake up).
    case stop
}

/// Named faults (SDM Vol. 3A §6.15, "Exception and Interrupt Reference"): `throw Abort.gp(0)` reads as
/// the SDM's `#GP(0)`. Each builds the `exception` case with the vector of `ExceptionVector`.
extension Abort {
    /// #DE, divide error (vector 0).
    static var de: Abort { .exception(ExceptionVector.de.rawValue, nil) }
    /// #DB, debug exception (vector 1).
    static var db: Abort { .exception(ExceptionVector.db.rawValue, nil) }
    /// #BR, BOUND range exceeded (vector 5).
    static var br: Abort { .exception(ExceptionVector.br.rawValue, nil) }
    /// #UD, invalid opcode (vector 6).
    static var ud: Abort { .exception(ExceptionVector.ud.rawValue, nil) }
    /// #NM, device not available (vector 7).
    static var nm: Abort { .exception(ExceptionVector.nm.rawValue, nil) }
    /// #TS(code), invalid TSS (vector 10).
    static func ts(_ code: UInt32) -> Abort { .exception(ExceptionVector.ts.rawValue, code) }
    /// #NP(code), segment not present (vector 11).
    static func np(_ code: UInt32) -> Abort { .exception(ExceptionVector.np.rawValue, code) }
    /// #SS(code), stack-segment fault (vector 12).
    static func ss(_ code: UInt32) -> Abort { .exception(ExceptionVector.ss.rawValue, code) }
    /// #GP(code), general protection (vector 13).
    static func gp(_ code: UInt32) -> Abort { .exception(ExceptionVector.gp.rawValue, code) }
    /// #PF(code), page fault (vector 14); CR2 is set by the caller.
    static func pf(_ code: UInt32) -> Abort { .exception(ExceptionVector.pf.rawValue, code) }
    /// #MF, x87 floating-point error (vector 16).
    static var mf: Abort { .exception(ExceptionVector.mf.rawValue, nil) }
    /// #AC(code), alignment check (vector 17).
    static func ac(_ code: UInt32) -> Abort { .exception(ExceptionVector.ac.rawValue, code) }
    /// #XM, SIMD floating-point exception (vector 19).
    static var xm: Abort { .exception(ExceptionVector.xm.rawValue, nil) }
}

/// An x86-64 processor.
///
/// One `CPU` belongs to one thread. All architectural state is reachable through its
/// properties; `run(instructionLimit:)` executes instructions until a stop condition.
public final class CPU {
    // MARK: Hot state, reached through pointers allocated once (no exclusivity checks, no ARC).

    /// The 16 general-purpose registers, in encoding order.
    let gpr: UnsafeMutablePointer<UInt64>
    /// Segment registers ES, CS, SS, DS, FS, GS, LDTR, TR with their descriptor caches.
    let seg: UnsafeMutablePointer<SegmentRegister>
    /// Instruction pointer of the next instruction (the current one's during its execution, after decode: the next).
    var ripValue: UInt64 = 0
    /// RIP of the instruction being executed (restored on a fault).
    var startRIP: UInt64 = 0
    /// RFLAGS except the status flags when `lazy.op != .none`.
    var flagsBase: UInt64 = 2
    /// Lazily evaluated status flags.
    var lazy = LazyFlags()

    // MARK: System state

    /// Physical memory.
    public let memory: PhysicalMemory
    /// Ports and MMIO.
    @exclusivity(unchecked) public var bus: PlatformBus
    /// CR0.
    var cr0Value: UInt64 = 0x60000010
    /// CR2: the last page-fault linear address.
    @exclusivity(unchecked) public var cr2: UInt64 = 0
    /// Linear address of a page fault being raised (copied to CR2 when it is delivered).
    var pendingCR2: UInt64 = 0
    /// CR3.
    var cr3Value: UInt64 = 0
    /// CR4.
    var cr4Value: UInt64 = 0
    /// CR8 / task-priority register (bits 3:0).
    @exclusivity(unchecked) public var cr8: UInt64 = 0
    /// IA32_EFER.
    var eferValue: UInt64 = 0
    /// DR0–DR3, DR6, DR7 (DR4/DR5 alias DR6/DR7).
    @exclusivity(unchecked) public var dr: [UInt64] = [0, 0, 0, 0, 0, 0, 0xFFFF0FF0, 0x400]
    /// DR6.B0–B3 of the data breakpoints the current instruction matched (DebugRegisters.swift).
    @exclusivity(unchecked) var pendingDataBreakpoints: UInt64 = 0
    /// GDTR.
    @exclusivity(unchecked) public var gdtr = DescriptorTableRegister(base: 0, limit: 0xFFFF)
    /// IDTR.
    @exclusivity(unchecked) public var idtr = DescriptorTableRegister(base: 0, limit: 0xFFFF)
    /// Model-specific registers other than those with dedicated storage.
    var msrs = MSRFile()
    /// The CPU model: CPUID's vendor and features, and the vendor's semantics (CPUModel.swift).
    public var cpuModel = CPUModel.default {
        // PCID and INVPCID work only where the model reports them (`-pcid`: CR4.PCIDE is reserved, INVPCID #UD).
        didSet {
            pcidSupported = cpuModel.reports("pcid")
            invpcidSupported = cpuModel.reports("invpcid")
        }
    }
    /// Set by a SYSCALL or SYSRET begun with RFLAGS.TF set: the single-step trap after it follows TF at its end
    /// (FastSystemCalls.swift, DebugRegisters.swift).
    var trapFlagAtEnd = false
    /// Set while `deliverException` delivers a fault-class exception: the RFLAGS image pushed has RF = 1.
    var deliveringFault = false
    /// Events delivered through the IVT or IDT so far (wraps): tells the single-step loop that an instruction
    /// raised an exception or interrupt, which takes the place of its single-step trap.
    var eventDeliveries: UInt64 = 0
    /// PKRU: the protection-key rights for user-mode pages (AccessProtection.swift).
    var pkru: UInt32 = 0
    /// Current privilege level.
    public internal(set) var cpl: Int {
        @inline(__always) get { cplValue }
        @inline(__always) set { cplValue = newValue }
    }
    /// Current operating mode (derived from CR0, EFER, RFLAGS.VM and CS).
    public internal(set) var mode: ProcessorMode {
        @inline(__always) get { modeValue }
        @inline(__always) set { modeValue = newValue }
    }
    // Internal storage behind the public properties read on every memory access and every
    // instruction: the compiler sees every access to an internal stored property, so it can drop
    // the dynamic exclusivity checks (swift_beginAccess) it keeps for public stored properties.
    /// Storage of `cpl`.
    var cplValue: Int = 0
    /// Storage of `mode`.
    var modeValue: ProcessorMode = .real
    /// Storage of `interruptibility`.
    var interruptibilityValue: UInt32 = 0
    /// Storage of `halted`.
    var haltedValue = false
    /// Storage of `inShutdown`.
    var inShutdownValue = false
    /// Storage of `instructionCount`.
    var instructionCountValue: UInt64 = 0
    /// Default code size of the current code segment in bytes: 2, 4 or 8.
    var codeSize: UInt8 = 2
    /// Key of the decoding mode for the decoded-instruction cache.
    var decodeMode: UInt8 = 0

    // MARK: Execution control

    /// Interrupt shadow: interrupts are inhibited for one instruction after STI or MOV SS/POP SS.
    /// 1 = blocking by STI, 2 = blocking by MOV SS (the VMCS interruptibility-state bits).
    public var interruptibility: UInt32 {
        @inline(__always) get { interruptibilityValue }
        @inline(__always) set { interruptibilityValue = newValue }
    }
    /// Shadow set by the instruction just executed (moved to `interruptibility` after it completes).
    var newShadow: UInt32 = 0
    /// The processor is halted (activity state HLT).
    public var halted: Bool {
        @inline(__always) get { haltedValue }
        @inline(__always) set { haltedValue = newValue }
    }
    /// The processor is in the shutdown state.
    public internal(set) var inShutdown: Bool {
        @inline(__always) get { inShutdownValue }
        @inline(__always) set { inShutdownValue = newValue }
    }
    /// A maskable external interrupt is requested (the INTR line), with its vector source.
    @exclusivity(unchecked) public var interruptController: InterruptController?
    /// A non-maskable interrupt is pending.
    public var nmiPending: Bool {
        @inline(__always) get { nmiPendingValue }
        set { nmiPendingValue = newValue }
    }
    var nmiPendingValue = false
    /// NMIs are blocked (from NMI delivery until the next IRET).
    public var nmiBlocked: Bool {
        @inline(__always) get { nmiBlockedValue }
        set { nmiBlockedValue = newValue }
    }
    var nmiBlockedValue = false
    /// Exceptions whose bit is set stop `run` instead of being delivered (bare-mode tests, fuzzing).
    @exclusivity(unchecked) public var exceptionIntercept: UInt32 = 0
    /// Set by HLT when no interrupt can wake the processor in this run.
    var stopReason: StopReason = .instructionLimit
    /// Instructions retired since creation.
    public internal(set) var instructionCount: UInt64 {
        @inline(__always) get { instructionCountValue }
        @inline(__always) set { instructionCountValue = newValue }
    }
    /// Time-stamp counter offset: TSC = instructionCount + tscOffset.
    public var tscOffset: UInt64 {
        @inline(__always) get { tscOffsetValue }
        set { tscOffsetValue = newValue }
    }
    var tscOffsetValue: UInt64 = 0
    /// Set from another thread to make `run` return soon.
    let stopFlag: UnsafeMutablePointer<UInt8>
    /// Set when a fault is raised after a task switch's commit point: the state is the new task's, not rolled back.
    var taskSwitchCommitted = false
    /// An exception being delivered (for double-fault detection), or nil.
    var deliveringVector: UInt8? = nil
    /// A debugger's breakpoints and watchpoints (DebuggerStops.swift): while set and not empty, `run` steps
    /// one instruction at a time and returns `.stopRequested` before an instruction they stop at.
    @exclusivity(unchecked) public var debuggerStops: DebuggerStops? = nil
    /// Hook for a VMX layer to intercept instructions and events; nil in bare execution.
    @exclusivity(unchecked) public var nonRootHooks: NonRootHooks? = nil
    /// VMX state: the current VMCS and the controls in force.
    public let vmx = VMXRuntime()
    /// Whether the processor is in VMX non-root operation.
    /// (Public stored properties are checked for exclusive access at run time; internal storage is not.)
    public internal(set) var vmxNonRoot: Bool {
        @inline(__always) get { vmxNonRootValue }
        set { vmxNonRootValue = newValue }
    }
    var vmxNonRootValue = false
    /// TSC offset applied in non-root operation ("use TSC offsetting").
    var vmxTSCOffset: UInt64 = 0
    /// Nesting depth of paging-structure accesses (EPT-violation qualification bit 8).
    var pageWalkDepth = 0
    /// Linear address and kind of the access being translated (EPT-violation qualifications).
    var currentAccess: (linear: UInt64, kind: AccessKind) = (0, .read)
    /// Completes non-root accesses to guest-physical addresses outside RAM while set (`executeCompletingMMIO`).
    var mmioHandler: (any MMIOHandler)? = nil
    /// Whether `translate` is probing for `probeTranslation`: no accessed/dirty writes, no EPT exits.
    var probingTranslation = false
    /// The system instruction being executed (for VM-exit qualifications), or nil.
    var currentInstruction: Instruction? = nil
    /// x87, SSE and MXCSR state (the floating-point unit, Sources/X86/FPU).
    let fpu = FPUState()

    // MARK: Caches

    /// The software TLB.
    let tlb: TLB
    /// The decoded-instruction cache.
    let icache: DecodeCache
    /// Pre-decoded basic blocks (64-bit code).
    let blocks = BlockCache()
    /// Memory map generation the TLB was filled under.
    var tlbMapGeneration: UInt64 = 0
    // Raw pointers into the fetch TLB, the decode cache and the page-state table, kept here so the
    // fetch fast path does not chase object references (each a dependent load per instruction).
    // The three below follow the TLB's current context: `selectTLBContext` (MMU.swift) re-reads them, and
    // bumps `tlbEpoch`, when a nested VM entry or exit switches context (VPID tagging).
    /// `tlb.tags`.
    @exclusivity(unchecked) var tlbTags: UnsafeMutablePointer<UInt64>
    /// `tlb.phys`.
    @exclusivity(unchecked) var tlbPhys: UnsafeMutablePointer<UInt64>
    /// `tlb.hosts`.
    @exclusivity(unchecked) var tlbHosts: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// `tlb.epoch`.
    let tlbEpoch: UnsafeMutablePointer<UInt64>
    /// Whether CPUID reports PCID (CPUID.1:ECX[17]) and CR4.PCIDE can be set (PCID.swift).
    public var pcidSupported = true
    /// Whether CPUID reports INVPCID (CPUID.(EAX=7,ECX=0):EBX[10]) and the instruction runs (PCID.swift).
    public var invpcidSupported = true
    /// `tlb.generation`: a TLB hit compares a slot's tag with `tlbKey(la)`.
    let tlbGeneration: UnsafeMutablePointer<UInt64>
    /// Whether the TLB may hold a supervisor write translation of a read-only page, permitted only because
    /// CR0.WP was clear: setting CR0.WP must drop it (`writeCR0`). Without one a CR0.WP change keeps the TLB.
    var tlbHoldsWPOnlyWrites = false
    /// `icache.entries`.
    let icacheEntries: UnsafeMutablePointer<Instruction>
    /// `memory.pageState` (owned by `memory`, which this processor keeps alive).
    let pageState: UnsafeMutablePointer<UInt32>
    /// `memory.trackedPages`.
    let trackedPages: UInt64

    /// Creates a processor in the reset state (SDM Vol. 3A §9.1.1), attached to memory and a bus.
    public init(memory: PhysicalMemory, bus: PlatformBus = EmptyBus()) {
        self.memory = memory
        self.bus = bus
        gpr = .allocate(capacity: 16)
        gpr.initialize(repeating: 0, count: 16)
        seg = .allocate(capacity: 8)
        seg.initialize(repeating: .null, count: 8)
        stopFlag = .allocate(capacity: 1)
        stopFlag.initialize(to: 0)
        tlb = TLB()
        icache = DecodeCache()
        tlbTags = tlb.tags
        tlbPhys = tlb.phys
        tlbHosts = tlb.hosts
        tlbEpoch = tlb.epoch
        tlbGeneration = tlb.generation
        icacheEntries = icache.entries
        pageState = memory.pageState
        trackedPages = UInt64(memory.trackedPages)
        reset()
    }

    deinit {
        gpr.deallocate()
        seg.deallocate()
        stopFlag.deallocate()
    }

    /// Puts the processor in its power-up state: real mode, CS base FFFF0000, IP FFF0 (SDM Vol. 3A §9.1.1, Table 9-1).
    public func reset() {
        for i in 0..<16 { gpr[i] = 0 }
        gpr[GPR.rdx.rawValue] = 0x000806C1 // processor signature: family 6
        ripValue = 0xFFF0
        flagsBase = 2
        lazy = LazyFlags()
        cr0Value = 0x60000010
        cr2 = 0; cr3Value = 0; cr4Value = 0; cr8 = 0; eferValue = 0
        dr = [0, 0, 0, 0, 0, 0, 0xFFFF0FF0, 0x400]
        for s in [SegmentRegisterName.es, .ss, .ds, .fs, .gs] {
            seg[s.rawValue] = SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x93)
        }
        seg[SegmentRegisterName.cs.rawValue] = SegmentRegister(selector: 0xF000, base: 0xFFFF_0000, limit: 0xFFFF, accessRights: 0x9B)
        seg[SegmentRegisterName.ldtr.rawValue] = SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x82)
        seg[SegmentRegisterName.tr.rawValue] = SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x8B)
        gdtr = DescriptorTableRegister(base: 0, limit: 0xFFFF)
        idtr = DescriptorTableRegister(base: 0, limit: 0xFFFF)
        msrs = MSRFile()
        interruptibility = 0; newShadow = 0
        halted = false; inShutdown = false; nmiPending = false; nmiBlocked = false
        deliveringVector = nil
        resetFPU()
        updateMode()
        tlb.flushAll()
    }

    // MARK: Public register access

    /// Reads a general-purpose register.
    public func gpr(_ r: GPR) -> UInt64 { gpr[r.rawValue] }
    /// Writes a general-purpose register.
    public func setGPR(_ r: GPR, _ value: UInt64) { gpr[r.rawValue] = value }
    /// Reads a general-purpose register by encoding index (0–15).
    public func gpr(index: Int) -> UInt64 { gpr[index & 15] }
    /// Writes a general-purpose register by encoding index (0–15).
    public func setGPR(index: Int, _ value: UInt64) { gpr[index & 15] = value }

    /// The instruction pointer.
    public var rip: UInt64 {
        get { ripValue }
        set { ripValue = newValue }
    }

    /// RFLAGS, with the lazily evaluated status flags materialized. Writing loads all defined bits.
    public var rflags: UInt64 {
        get { materializedFlags() }
        set {
            flagsBase = (newValue & RFLAGS.defined.rawValue) | 2
            lazy.op = .none
            updateMode()
        }
    }

    /// Reads a segment register with its descriptor cache.
    public func segment(_ s: SegmentRegisterName) -> SegmentRegister { seg[s.rawValue] }
    /// Writes a segment register with its descriptor cache (no checks: the VMCS-load path and tests).
    public func setSegment(_ s: SegmentRegisterName, _ value: SegmentRegister) {
        seg[s.rawValue] = value
        if s == .cs || s == .ss { updateMode() }
    }

    /// CR0. Writing it through this property does no checks (the VMCS-load path); the MOV instruction checks.
    public var cr0: UInt64 {
        get { cr0Value }
        set { cr0Value = newValue | CR0.et.rawValue; updateMode(); tlb.flushAll() }
    }
    /// CR3.
    public var cr3: UInt64 {
        get { cr3Value }
        set { cr3Value = newValue; tlb.flushAll() }
    }
    /// CR4.
    public var cr4: UInt64 {
        get { cr4Value }
        set { cr4Value = newValue; tlb.flushAll() }
    }
    /// IA32_EFER.
    public var efer: UInt64 {
        get { eferValue }
        set { eferValue = newValue; updateMode(); tlb.flushAll() }
    }

    /// Asks a running `run` to return with `.stopRequested` soon. Safe to call from another thread.
    public func requestStop() {
        // A single byte store; the run loop polls it. Racy by design, like an interrupt line.
        stopFlag.pointee = 1
    }

    // MARK: Mode

    /// Recomputes the operating mode, CPL-independent decode parameters and the decode-cache key.
    func updateMode() {
        let cs = seg[SegmentRegisterName.cs.rawValue]
        if cr0Value & CR0.pe.rawValue == 0 {
            mode = .real
            codeSize = cs.db ? 4 : 2
        } else if eferValue & EFER.lma.rawValue != 0 {
            if cs.l { mode = .long64; codeSize = 8 } else { mode = .compatibility; codeSize = cs.db ? 4 : 2 }
        } else if flagsBase & RFLAGS.vm.rawValue != 0 {
            mode = .virtual8086
            codeSize = 2
        } else {
            mode = .protected
            codeSize = cs.db ? 4 : 2
        }
        switch mode {
        case .real: cpl = 0
        case .virtual8086: cpl = 3
        default: cpl = cs.dpl
        }
        if mode == .real && !cs.db { decodeMode = 0 } else { decodeMode = codeSize }
        if mode == .virtual8086 { decodeMode = 1 }
    }

    /// Whether the processor is in 64-bit mode.
    @inline(__always) var is64: Bool { codeSize == 8 }
    /// Whether paging is enabled.
    @inline(__always) var pagingEnabled: Bool { cr0Value & CR0.pg.rawValue != 0 }
    /// Whether protected mode is enabled.
    @inline(__always) var protectedMode: Bool { cr0Value & CR0.pe.rawValue != 0 }
    /// Whether IA-32e mode is active.
    @inline(__always) var longModeActive: Bool { eferValue & EFER.lma.rawValue != 0 }

    // MARK: Running

    /// Executes instructions until `instructionLimit` retire or a stop condition.
    public func run(instructionLimit: Int) -> StopReason {
        var remaining = instructionLimit
        stopReason = .instructionLimit
        if inShutdown { return .shutdown }
        while remaining > 0 {
            if stopFlag.pointee != 0 {
                stopFlag.pointee = 0
                return .stopRequested
            }
            if vmxNonRoot {
                if vmx.pendingExit != nil { return .vmExit }
                if let e = checkPendingExitsAtBoundary() { vmx.pendingExit = e; return .vmExit }
            }
            if interruptibility == 0 && (nmiPending || flagsBase & RFLAGS.if.rawValue != 0) {
                if let r = serviceEvents() { return r }
            }
            if halted {
                // Wake only for an event that can be delivered now; a blocked NMI or a masked interrupt leaves
                // the processor halted. Each wake attempt counts against the budget so the loop always ends.
                let nmiDeliverable = nmiPending && !nmiBlocked && interruptibility & 2 == 0
                let intrDeliverable = flagsBase & RFLAGS.if.rawValue != 0 && interruptibility == 0
                    && interruptController?.hasInterrupt() == true
                if nmiDeliverable || intrDeliverable {
                    remaining -= 1
                    continue
                }
                return .halted
            }
            // Batch: run straight-line instructions without re-checking events until something changes.
            var batch = min(remaining, 4096)
            // VMX "monitor trap flag": an exit at the boundary after each instruction (also for an L2 that
            // L1's VMRESUME entered inside this run).
            if vmxNonRoot && vmx.primary.contains(.monitorTrapFlag) { batch = 1 }
            if let stops = debuggerStops, !stops.isEmpty {
                if debuggerStopsHere(stops) { return .stopRequested }
                // 64-bit code off the breakpoints' pages runs in blocks: `runBatch` ends the batch on entering one.
                if !(codeSize == 8 && blocks.enabled && stops.onlyBreakpoints(noneOnPageOf: ripValue)) { batch = 1 }
            }
            // RFLAGS.TF or a DR7 breakpoint: one instruction at a time, checked before and after (DebugRegisters.swift).
            let done = flagsBase & RFLAGS.tf.rawValue != 0 || dr[7] & 0xFF != 0 ? runSingleStep() : runBatch(batch)
            remaining -= done
            if stopReason != .instructionLimit {
                let r = stopReason
                stopReason = .instructionLimit
                return r
            }
            if inShutdown { return .shutdown }
            if halted && done == 0 { return .halted }
        }
        return .instructionLimit
    }

    /// Runs up to `count` instructions; returns how many retired (or were attempted). Stops early
    /// when an interrupt might need delivery, on HLT, or on a stop condition.
    func runBatch(_ count: Int) -> Int {
        var n = 0
        // The current 64-bit code page's translation, held in registers: while no TLB flush happened
        // (same epoch) and the CPL is the same, it is what the fetch TLB slot said when it was copied.
        var codePage: UInt64 = ~0
        var codePhys: UInt64 = 0
        var codeEpoch: UInt64 = 0
        var codeCPL = -1
        let useBlocks = blocks.enabled
        while n < count {
            let ip = ripValue
            if codeSize == 8 && useBlocks {
                if ip & ~0xFFF != codePage || tlbEpoch.pointee != codeEpoch || cplValue != codeCPL {
                    // A debugger's breakpoint on the page RIP entered: the run loop checks each instruction there.
                    if n > 0, let stops = debuggerStops, stops.breakpoint(onPageOf: ip) { return n }
                    let s = TLB.slot(ip, .fetch, cplValue == 3)
                    if tlbTags[s] == tlbKey(ip) {
                        codePage = ip & ~0xFFF
                        codePhys = tlbPhys[s]
                        codeEpoch = tlbEpoch.pointee
                        codeCPL = cplValue
                    } else {
                        codePage = ~0
                    }
                }
                // A pre-decoded block at RIP (BlockCache.swift): run it entry after entry.
                let pa = codePhys | (ip & 0xFFF)
                let page = Int(truncatingIfNeeded: pa >> 12)
                var block: UnsafeMutablePointer<BlockEntry>? = nil
                if ip & ~0xFFF == codePage && UInt64(page) < trackedPages {
                    let b = blocks.slot(pa)
                    if b.pointee.tag == pa && b.pointee.mode == decodeMode && b.pointee.generation == pageState[page] | 1 {
                        block = b
                    } else {
                        block = buildBlock(at: pa)
                    }
                }
                if let b = block {
                    let generation = b.pointee.generation
                    let mode = b.pointee.mode
                    var e = blocks.arena + Int(b.pointee.start)
                    var left = Int(b.pointee.count)
                    var at = ip
                    // The JIT (JIT/JITEngine.swift): the block's translated prefix runs as host code; then the
                    // interpreter goes on with the entry it stopped before, if RIP is that entry's address.
                    if blocks.jit != nil {
                        let done = runTranslated(b, at: ip, budget: count - n)
                        if done > 0 {
                            n += done
                            if done >= left || n >= count { continue }
                            let stop = e + done
                            let stopRIP = (ip & ~0xFFF) | (stop.pointee.tag & 0xFFF)
                            if ripValue != stopRIP { continue }
                            e = stop
                            left -= done
                            at = stopRIP
                        }
                    }
                    while true {
                        n += 1
                        startRIP = at
                        let next = at &+ UInt64(e.pointee.length)
                        ripValue = next
                        let form = e.pointee.fast
                        if form != .none {
                            // A specialised form (FastForms.swift) changes nothing before it can fault, so the
                            // state at a fault is the state before the instruction; and it changes no mode,
                            // privilege or event state, so only RIP, the code page and the TLB need re-checking.
                            #if DEBUG
                            let before = FastFormState(self)
                            #endif
                            do throws(Abort) {
                                try executeFast(e, form)
                            } catch {
                                #if DEBUG
                                checkFastFormPromises(form, before: before, faulted: true)
                                #endif
                                finishAbort(error, savedFlags: flagsBase, savedLazy: lazy, savedSP: gpr[Reg.rsp])
                                return n
                            }
                            #if DEBUG
                            checkFastFormPromises(form, before: before, faulted: false)
                            #endif
                            // Retiring it: a specialised form sets no shadow, halt or event request, so only
                            // an interrupt shadow this block started under can end (see `retireEndsBatch`).
                            instructionCount &+= 1
                            if interruptibilityValue != 0 { interruptibilityValue = 0; return n }
                            left &-= 1
                            if n >= count { break }
                            if e.pointee.fastAccessesMemory
                                && (pageState[page] | 1 != generation || tlbEpoch.pointee != codeEpoch) { break }
                        } else {
                            let savedFlags = flagsBase
                            let savedLazy = lazy
                            let savedSP = gpr[Reg.rsp]
                            #if DEBUG
                            let assumed = BlockAssumptions(self)
                            #endif
                            do throws(Abort) {
                                try execute(e)
                            } catch {
                                finishAbort(error, savedFlags: savedFlags, savedLazy: savedLazy, savedSP: savedSP)
                                return n
                            }
                            #if DEBUG
                            checkContinuesBlock(e.pointee.op, before: assumed)
                            #endif
                            if retireEndsBatch() { return n }
                            left -= 1
                            // Stop when anything the block was decoded under changed.
                            if n >= count || pageState[page] | 1 != generation
                                || decodeMode != mode || tlbEpoch.pointee != codeEpoch || cplValue != codeCPL { break }
                        }
                        // Go on with the next entry if RIP is its address (same page, page offset of its physical
                        // address).
                        if left != 0 {
                            e += 1
                            if ripValue == next { at = next; continue }
                            let following = (at & ~0xFFF) | (e.pointee.tag & 0xFFF)
                            if ripValue == following { at = following; continue }
                        }
                        // The block ended, or a taken branch or an unfinished string instruction left it: go on
                        // directly with the block at RIP when it is on this page and was built from the page as it
                        // is now, in this mode (nothing it was decoded under has changed: the checks above hold).
                        let target = ripValue
                        if target & ~0xFFF != at & ~0xFFF { break }
                        let targetPA = (pa & ~0xFFF) | (target & 0xFFF)
                        let c = blocks.slot(targetPA)
                        if c.pointee.tag != targetPA || c.pointee.generation != generation || c.pointee.mode != mode { break }
                        // A block the JIT may run: back to the top, where translations run.
                        if let jit = blocks.jit, c.pointee.jitEpoch != jit.code.epoch || c.pointee.jitCode != 0 { break }
                        e = blocks.arena + Int(c.pointee.start)
                        left = Int(c.pointee.count)
                        at = target
                    }
                    continue
                }
            }
            // One instruction through the decoded-instruction cache.
            n += 1
            startRIP = ip
            let savedFlags = flagsBase
            let savedLazy = lazy
            let savedSP = gpr[Reg.rsp]
            do throws(Abort) {
                try execute(try fetchFast())
            } catch {
                finishAbort(error, savedFlags: savedFlags, savedLazy: savedLazy, savedSP: savedSP)
                return n
            }
            if retireEndsBatch() { return n }
        }
        return n
    }

    /// Counts a retired instruction and moves the interrupt shadow on; true when the batch must end here
    /// (the shadow just ended, HLT, or an event the run loop must look at).
    @inline(__always)
    func retireEndsBatch() -> Bool {
        instructionCount &+= 1
        if interruptibility != 0 || newShadow != 0 {
            interruptibility = newShadow
            newShadow = 0
            if interruptibility == 0 { return true }
        }
        if halted { return true }
        if lazyEventCheck { lazyEventCheck = false; return true }
        return false
    }

    /// Ends a batch on an aborted instruction: undoes the instruction's register effects for a fault (RIP,
    /// RFLAGS, RSP), then stops the run, exits to the VMM or delivers the exception.
    @inline(never)
    func finishAbort(_ error: Abort, savedFlags: UInt64, savedLazy: LazyFlags, savedSP: UInt64) {
        newShadow = 0
        switch error {
        case .exception(let v, let code):
            if taskSwitchCommitted {
                // A fault after a task switch's commit point belongs to the new task (SDM Vol. 3A §8.3).
                taskSwitchCommitted = false
            } else {
                ripValue = startRIP
                flagsBase = savedFlags
                lazy = savedLazy
                gpr[Reg.rsp] = savedSP
            }
            routeException(v, code)
            if inShutdown { stopReason = .shutdown }
        case .shutdown:
            ripValue = startRIP
            enterShutdown()
            stopReason = .shutdown
        case .stop:
            // A VM exit or an intercepted trap: RIP is what the stopping code left.
            if vmx.pendingExit != nil {
                // Faults and instruction exits leave the instruction unexecuted.
                flagsBase = savedFlags
                lazy = savedLazy
                gpr[Reg.rsp] = savedSP
                stopReason = .vmExit
            } else {
                instructionCount &+= 1
            }
        }
    }

    /// The decoded instruction at RIP, advancing RIP past it. The common case — 64-bit code, a fetch-TLB
    /// hit, a valid decode-cache entry — is handled here with raw pointers; everything else by `fetchDecoded`.
    @inline(__always)
    func fetchFast() throws(Abort) -> UnsafeMutablePointer<Instruction> {
        let ip = ripValue
        if codeSize == 8 {
            let s = TLB.slot(ip, .fetch, cplValue == 3)
            if tlbTags[s] == tlbKey(ip) {
                let pa = tlbPhys[s] | (ip & 0xFFF)
                let e = icacheEntries + Int(truncatingIfNeeded: (pa ^ (pa >> 15)) & UInt64(DecodeCache.size - 1))
                let page = pa >> 12
                if e.pointee.tag == pa && e.pointee.mode == decodeMode && page < trackedPages
                    && e.pointee.generation == pageState[Int(truncatingIfNeeded: page)] | 1 {
                    ripValue = ip &+ UInt64(e.pointee.length)
                    return e
                }
            }
        }
        return try fetchDecoded()
    }

    /// Set by instructions that change the interrupt flag or other event state, so the loop re-checks events.
    var lazyEventCheck = false

    /// Enters the shutdown state.
    func enterShutdown() {
        inShutdown = true
        halted = false
    }

    /// Delivers a pending NMI or external interrupt if one can be taken. Returns a stop reason if the run must end.
    func serviceEvents() -> StopReason? {
        if nmiPending && !nmiBlocked {
            nmiPending = false
            halted = false
            if let h = nonRootHooks, h.interceptNMI(self) { return stopReason(afterHook: ()) }
            nmiBlocked = true
            deliverEvent(vector: 2, kind: .nmi, errorCode: nil)
            return inShutdown ? .shutdown : nil
        }
        if vmx.nested.pendingL1Vector != nil && deliverPendingL1Interrupt() { return inShutdown ? .shutdown : nil }
        guard flagsBase & RFLAGS.if.rawValue != 0, let ic = interruptController, ic.hasInterrupt() else { return nil }
        halted = false
        if let h = nonRootHooks, h.interceptExternalInterrupt(self) { return stopReason(afterHook: ()) }
        guard let vector = ic.acknowledge() else { return nil }
        deliverEvent(vector: vector, kind: .external, errorCode: nil)
        return inShutdown ? .shutdown : nil
    }

    /// The stop reason a hook left, if any.
    func stopReason(afterHook: ()) -> StopReason? {
        let r = stopReason
        stopReason = .instructionLimit
        return r == .instructionLimit ? nil : r
    }

    /// Raises an exception from inside an instruction.
    @inline(__always) func fault(_ v: ExceptionVector, _ code: UInt32? = nil) -> Abort {
        .exception(v.rawValue, code)
    }
}

/// The source of maskable external interrupts (the INTR line of an interrupt controller).
public protocol InterruptController: AnyObject {
    /// Whether an interrupt is requested.
    func hasInterrupt() -> Bool
    /// Acknowledges the highest-priority request and returns its vector (the INTA cycle).
    func acknowledge() -> UInt8?
}

/// Hooks through which a VMX layer intercepts events in non-root operation.
public protocol NonRootHooks: AnyObject {
    /// Called before an external interrupt is acknowledged; return true if it caused a VM exit.
    func interceptExternalInterrupt(_ cpu: CPU) -> Bool
    /// Called before an NMI is delivered; return true if it caused a VM exit.
    func interceptNMI(_ cpu: CPU) -> Bool
}
