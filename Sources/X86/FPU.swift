// The place of the x87 FPU and SSE in the processor. Until the floating-point unit is
// implemented, CPUID reports no FPU, FXSR, SSE or SSE2, and their instructions fault as the
// SDM specifies for a processor without them: #NM when CR0.EM or CR0.TS asks for it (x87),
// otherwise #UD.

extension CPU {
    /// Resets floating-point state (FNINIT state, MXCSR default).
    func resetFPU() {}

    /// x87 escape opcodes D8–DF.
    func execX87(_ i: Instruction) throws(Abort) {
        if cr0Value & (CR0.em.rawValue | CR0.ts.rawValue) != 0 { throw Abort.exception(7, nil) }
        throw Abort.exception(6, nil)
    }

    /// WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set.
    func execFwait() throws(Abort) {
        let mpts = CR0.mp.rawValue | CR0.ts.rawValue
        if cr0Value & mpts == mpts { throw Abort.exception(7, nil) }
    }

    /// SSE/SSE2 and MMX encodings.
    func execSSE(_ i: Instruction) throws(Abort) {
        throw Abort.exception(6, nil)
    }
}
