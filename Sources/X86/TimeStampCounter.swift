// The time-stamp counter as RDTSC, RDTSCP and RDMSR read it (SDM Vol. 3B §18.17; the VMX TSC offset, Vol. 3C
// §26.3).

extension CPU {
    /// The TSC: instructions retired plus the offset (deterministic guest time).
    func readTSC() throws(Abort) -> UInt64 {
        try hookRDTSC()
        return instructionCount &+ tscOffset &+ msrs.tscAdjust &+ (vmxNonRoot ? vmxTSCOffset : 0)
    }
}
