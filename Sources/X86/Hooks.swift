// Points where VMX non-root operation intercepts instructions (SDM Vol. 3C chapter 25,
// "VMX Non-Root Operation"). In bare execution (VMX off) every hook returns at once;
// the VMX layer makes them raise VM exits by throwing `Abort.stop` after recording the exit.

extension CPU {
    /// HLT.
    @inline(__always) func hookHLT() throws(Abort) {}
    /// INVD / WBINVD.
    @inline(__always) func hookCacheControl(_ i: Instruction) throws(Abort) {}
    /// INVLPG of a linear address.
    @inline(__always) func hookINVLPG(_ la: UInt64) throws(Abort) {}
    /// LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR (descriptor-table exiting).
    @inline(__always) func hookDescriptorTable(_ i: Instruction) throws(Abort) {}
    /// CR0 as the guest reads it (read shadow in non-root operation).
    @inline(__always) func hookReadCR0Shadowed() throws(Abort) -> UInt64 { cr0Value }
    /// CR4 as the guest reads it.
    @inline(__always) func hookReadCR4Shadowed() throws(Abort) -> UInt64 { cr4Value }
    /// LMSW (CR0 guest/host mask).
    @inline(__always) func hookLMSW(_ v: UInt64, _ i: Instruction) throws(Abort) {}
    /// Port I/O (I/O exiting, I/O bitmaps).
    @inline(__always) func hookIO(port: UInt16, size: Int, input: Bool) throws(Abort) {}
    /// RDTSC/RDTSCP/RDMSR of the TSC (RDTSC exiting).
    @inline(__always) func hookRDTSC() throws(Abort) {}
    /// RDMSR/WRMSR (MSR bitmaps).
    @inline(__always) func hookMSR(_ index: UInt32, write: Bool) throws(Abort) {}
    /// CPUID (always exits in non-root operation).
    @inline(__always) func hookCPUID() throws(Abort) {}
    /// MOV from CR3 (CR3-store exiting).
    @inline(__always) func hookCR3Read(_ i: Instruction) throws(Abort) {}
    /// MOV from CR8 (CR8-store exiting, TPR shadow).
    @inline(__always) func hookReadCR8(_ i: Instruction) throws(Abort) -> UInt64 { cr8 }
    /// MOV to CR0/CR3/CR4/CR8: returns true when the write was handled (shadowed) without changing the register.
    @inline(__always) func hookCRWrite(_ n: Int, _ v: UInt64, _ i: Instruction) throws(Abort) -> Bool { false }
    /// MOV DR (MOV-DR exiting).
    @inline(__always) func hookMovDR(_ i: Instruction) throws(Abort) {}
    /// PAUSE (PAUSE exiting).
    @inline(__always) func hookPause() throws(Abort) {}

    /// VMX instructions. With VMX not reported in CPUID and CR4.VMXE clear they raise #UD
    /// (SDM Vol. 3C §30.3: VMXON with CR4.VMXE = 0, and every other VMX instruction outside VMX operation).
    func executeVMXInstruction(_ i: Instruction) throws(Abort) {
        throw Abort.exception(6, nil)
    }

    /// Extra CPUID.1:ECX feature bits reported by optional units (VMX, SSE3…).
    var featureECX1: UInt32 { 0 }
    /// Extra CPUID.1:EDX feature bits reported by optional units (FPU, FXSR, SSE, SSE2).
    var featureEDX1: UInt32 { 0 }
    /// CR4 bits supported by optional units (OSFXSR, OSXMMEXCPT, VMXE).
    var supportedCR4Extra: UInt64 { 0 }
}
