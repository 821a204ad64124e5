// The time-stamp counter as RDTSC, RDTSCP and RDMSR read it (SDM Vol. 3B §18.17; the VMX TSC offset, Vol. 3C
// §26.3).

extension CPU {
    /// The TSC: instructions retired plus the offset (deterministic guest time).
    func readTSC() throws(Abort) -> UInt64 {
        try hookRDTSC()
        return instructionCount &+ tscOffset &+ msrs.tscAdjust &+ (vmxNonRoot ? vmxTSCOffset : 0)
    }

    /// Moves the TSC on by `cycles` without instructions retiring: time the processor spent outside the
    /// guest's instruction stream, such as a VM exit and its handling (the VMM's cost model). It changes no
    /// VMCS field, so the guest state the processor holds after an exit stays where it is.
    public func advanceTimeStampCounter(by cycles: UInt64) {
        tscOffsetValue &+= cycles
    }
}
