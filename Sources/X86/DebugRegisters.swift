// The guest's single-step debugging (SDM Vol. 3B §18.3.1.4, "Single-Step Exception Condition"): with
// RFLAGS.TF set, a #DB trap follows each instruction, with DR6.BS. The run loop checks TF once per batch
// and, when it is set, runs instructions one at a time through `runSingleStep`: code that never sets TF
// pays nothing. (Breakpoints in DR0–DR3 are not modelled yet.)

extension CPU {
    /// DR6.BS: the #DB was a single-step trap.
    static let dr6SingleStep: UInt64 = 1 << 14

    /// Runs one instruction with RFLAGS.TF set, then raises its single-step trap: DR6.BS set and B0–B3
    /// cleared, #DB delivered with RIP at the next instruction (routed like any exception: a stop under
    /// `exceptionIntercept`, a VM exit under the exception bitmap, else the IDT).
    ///
    /// No trap follows an instruction that faulted or raised an event itself (INT n, INT3, INTO, INT1, an
    /// exception: its delivery cleared TF), one that stopped the run (a VM exit: the VMM completes the
    /// instruction), HLT (the processor halts first), or MOV SS/POP SS, whose blocking holds debug traps
    /// back for one instruction (the single-step trap of that instruction is lost, as on hardware).
    func runSingleStep() -> Int {
        let deliveries = eventDeliveries
        let n = runBatch(1)
        guard n == 1, stopReason == .instructionLimit, eventDeliveries == deliveries, !halted, !inShutdown,
              interruptibility & 2 == 0 else { return n }
        dr[6] = (dr[6] & ~0xF) | CPU.dr6SingleStep
        routeException(ExceptionVector.db.rawValue, nil)
        return n
    }
}
