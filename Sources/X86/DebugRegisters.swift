// The guest's debugging with RFLAGS.TF and the debug registers (SDM Vol. 3B §18.2, §18.3):
// - single step (§18.3.1.4): with RFLAGS.TF set, a #DB trap follows each instruction, with DR6.BS;
// - breakpoints in DR0–DR3 enabled by DR7's L/G bits (§18.2.4, §18.3.1.1–§18.3.1.3): an instruction
//   breakpoint (R/W 00) is a fault before the instruction at its linear address unless RFLAGS.RF is set; a
//   data breakpoint (R/W 01 writes, 11 reads or writes; LEN 1, 2, 4 or 8 bytes at an aligned address) is a
//   trap after the instruction that accessed it; DR6.B0–B3 report which matched (the other DR6 bits stay);
// - general detect (DR7.GD, §18.3.1.2): MOV to or from a debug register is a #DB fault with DR6.BD
//   (`MSR.swift`, `debugRegisterIndex`).
// The run loop checks TF and DR7 once per batch and, when either is set, runs instructions one at a time
// through `runSingleStep`: code that sets neither pays nothing. While a data breakpoint is enabled its pages
// leave the software TLB before each instruction, so the accesses to them take the MMU's slow paths, which
// report them (`noteDataBreakpointAccess`), as the gdb stub's watchpoints do (DebuggerStops.swift).
// I/O breakpoints (R/W 10 with CR4.DE) are not modelled.

extension CPU {
    /// DR6.BS: the #DB was a single-step trap.
    static let dr6SingleStep: UInt64 = 1 << 14
    /// DR6.BD: the #DB was a general-detect fault (a MOV DR with DR7.GD set).
    static let dr6GeneralDetect: UInt64 = 1 << 13
    /// DR7.GD: general detect enable.
    static let dr7GeneralDetect: UInt64 = 1 << 13

    /// Whether DR7 enables any breakpoint in DR0–DR3 (L0–L3, G0–G3).
    @inline(__always) var breakpointsEnabled: Bool { dr[7] & 0xFF != 0 }

    /// Breakpoint `n` (0–3) as DR7 sets it: enabled (Ln or Gn), its R/Wn condition (0 execute, 1 write,
    /// 2 I/O, 3 read or write) and LENn in bytes (00: 1, 01: 2, 10: 8, 11: 4).
    func breakpoint(_ n: Int) -> (enabled: Bool, condition: UInt64, length: UInt64) {
        let d7 = dr[7]
        let lengthCode = (d7 >> UInt64(18 + 4 * n)) & 3
        return ((d7 >> UInt64(2 * n)) & 3 != 0, (d7 >> UInt64(16 + 4 * n)) & 3,
                lengthCode == 0 ? 1 : lengthCode == 1 ? 2 : lengthCode == 2 ? 8 : 4)
    }

    /// The B0–B3 bits of the enabled instruction breakpoints at linear address `la`.
    func instructionBreakpointHits(at la: UInt64) -> UInt64 {
        var hits: UInt64 = 0
        for n in 0..<4 {
            let b = breakpoint(n)
            if b.enabled && b.condition == 0 && maskLinear(dr[n]) == la { hits |= 1 << UInt64(n) }
        }
        return hits
    }

    /// The B0–B3 bits of the enabled data breakpoints a `size`-byte access at `la` (a write when `write`)
    /// matches: the breakpoint covers LEN bytes at its address aligned down to LEN.
    func dataBreakpointHits(_ la: UInt64, size: Int, write: Bool) -> UInt64 {
        var hits: UInt64 = 0
        for n in 0..<4 {
            let b = breakpoint(n)
            guard b.enabled, b.condition == 3 || (b.condition == 1 && write) else { continue }
            let start = maskLinear(dr[n]) & ~(b.length &- 1)
            if la < start &+ b.length && start < la &+ UInt64(size) { hits |= 1 << UInt64(n) }
        }
        return hits
    }

    /// A data access made by the MMU's slow paths while breakpoints are enabled: its matches accumulate in
    /// `pendingDataBreakpoints` for the trap after the instruction, and its page leaves the TLB again, so
    /// the same instruction's next access to it is seen too.
    func noteDataBreakpointAccess(_ la: UInt64, _ size: Int, write: Bool) {
        pendingDataBreakpoints |= dataBreakpointHits(la, size: size, write: write)
        tlb.flush(page: la)
        if (la & 0xFFF) &+ UInt64(size) > 4096 { tlb.flush(page: maskLinear((la | 0xFFF) &+ 1)) }
    }

    /// Drops the pages the enabled data breakpoints cover from the TLB, so the next instruction's accesses
    /// to them take the slow paths.
    func exposeDataBreakpointPages() {
        for n in 0..<4 {
            let b = breakpoint(n)
            guard b.enabled, b.condition & 1 != 0 else { continue }
            let start = maskLinear(dr[n]) & ~(b.length &- 1)
            tlb.flush(page: start)
            tlb.flush(page: maskLinear(start &+ b.length &- 1))
        }
    }

    /// Whether the instruction at linear address `la` is ICEBP (F1H after any legacy or REX prefixes).
    func isICEBP(at la: UInt64) -> Bool {
        guard let bytes = debuggerPeek(la, count: 15) else { return false }
        for b in bytes {
            switch b {
            case 0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65, 0x66, 0x67, 0xF0, 0xF2, 0xF3: continue
            case 0x40...0x4F where codeSize == 8: continue
            default: return b == 0xF1
            }
        }
        return false
    }

    /// Runs one instruction with RFLAGS.TF or a DR7 breakpoint enabled.
    ///
    /// Before it: an enabled instruction breakpoint at its linear address raises a #DB fault (DR6.Bn set,
    /// RIP at the instruction, nothing executed) unless RFLAGS.RF is set or the instruction follows MOV SS
    /// (whose blocking inhibits it on Intel processors); RF clears as the instruction runs
    /// (§18.3.1.1: the handler sets RF in the image IRET restores, to go on past the breakpoint).
    /// After it: a #DB trap with the data breakpoints it matched (DR6.Bn) and, with TF, DR6.BS; B0–B3 are
    /// rewritten, the other DR6 bits stay. RIP is at the next instruction. The trap is routed like any
    /// exception: a stop under `exceptionIntercept`, a VM exit under the exception bitmap, else the IDT.
    ///
    /// No trap follows an instruction that faulted or raised an event itself (INT n, INT3, INTO, INT1, an
    /// exception: its delivery cleared TF), one that stopped the run (a VM exit: the VMM completes the
    /// instruction), HLT (the processor halts first), or MOV SS/POP SS, whose blocking holds debug traps
    /// back for one instruction (a single-step trap of that instruction is lost; data breakpoint matches
    /// stay pending for the next instruction's trap).
    func runSingleStep() -> Int {
        var stepping = flagsBase & RFLAGS.tf.rawValue != 0
        let armed = breakpointsEnabled
        trapFlagAtEnd = false
        if armed {
            let resuming = flagsBase & RFLAGS.rf.rawValue != 0
            flagsBase &= ~RFLAGS.rf.rawValue
            // Intel processors inhibit instruction breakpoints while MOV SS/POP SS blocking is active.
            if !resuming && interruptibility & 2 == 0 {
                let hits = instructionBreakpointHits(at: maskLinear(seg[Seg.cs].base &+ ripValue))
                if hits != 0 {
                    startRIP = ripValue
                    raiseDebugException(hits)
                    return 1            // no instruction retired; the budget still moves on
                }
            }
            exposeDataBreakpointPages()
        } else if interruptibility & 2 == 0 {
            pendingDataBreakpoints = 0      // (matches a MOV SS held back, or a VM entry's pending ones, stay)
        }
        // Data matches a MOV SS held back (its blocking covers this instruction), and whether this is ICEBP.
        let held = interruptibility & 2 != 0 ? pendingDataBreakpoints : 0
        let icebp = held != 0 && isICEBP(at: maskLinear(seg[Seg.cs].base &+ ripValue))
        let deliveries = eventDeliveries
        let n = runBatch(1)
        if trapFlagAtEnd {
            // SYSCALL or SYSRET: the trap follows TF as the instruction left it (FastSystemCalls.swift).
            stepping = flagsBase & RFLAGS.tf.rawValue != 0
            trapFlagAtEnd = false
        }
        guard n == 1, stopReason == .instructionLimit, eventDeliveries == deliveries, !halted, !inShutdown else {
            pendingDataBreakpoints = 0          // a faulting access matches nothing; an event ends the step
            if held != 0 && n == 1 && eventDeliveries != deliveries && stopReason == .instructionLimit && !inShutdown {
                // The instruction after MOV SS raised an event: the held matches join ICEBP's #DB, or follow any
                // other event's delivery as a #DB before its handler's first instruction.
                if icebp { dr[6] = (dr[6] & ~0xF) | held } else { raiseDebugException(held) }
            }
            return n
        }
        if interruptibility & 2 != 0 { return n }       // MOV SS blocking: data matches stay pending
        let data = pendingDataBreakpoints
        pendingDataBreakpoints = 0
        guard stepping || data != 0 else { return n }
        raiseDebugException(data | (stepping ? CPU.dr6SingleStep : 0))
        return n
    }

    /// Raises a #DB whose causes are `bits` (DR6.B0–B3, BD, BS), routed like any exception. Delivered, it
    /// writes them to DR6 (B0–B3 rewritten, the other bits kept); as a VM exit under the exception bitmap it
    /// leaves DR6 alone and the exit qualification reports exactly them (SDM Vol. 3C §27.1: a #DB that causes
    /// a VM exit does not update DR6; Table 27-1).
    func raiseDebugException(_ bits: UInt64) {
        let db = ExceptionVector.db.rawValue
        if exceptionIntercept & (1 << UInt32(db)) == 0 && vmxNonRoot && exceptionCausesExit(db, nil) {
            vmx.pendingExit = exceptionExit(db, nil, kind: .hardwareException)
            vmx.hot.pointee.exit.qualification = bits & 0x600F
            stopReason = .vmExit
            return
        }
        dr[6] = (dr[6] & ~0xF) | bits
        routeException(db, nil)
    }
}
