// What a debugger attached to a VMM needs of a vCPU beyond Hypervisor.framework's API: stop conditions
// the VMM keeps (breakpoints and watchpoints the guest never sees), and the x87/SSE and CR2 state that
// hv_vcpu_read_fpstate and hv_vcpu_read_register give on a Mac.
import X86

extension VCPU {
    /// The debugger's breakpoints and write watchpoints (nil: none). While set and not empty, the vCPU
    /// checks them before every instruction and leaves the guest with a VMX-preemption-timer exit where
    /// one stops it (`DebuggerStops.hit` says which).
    public var debuggerStops: DebuggerStops? {
        get { cpu.debuggerStops }
        set { cpu.debuggerStops = newValue }
    }

    /// The guest's CR2 (not part of the VMCS guest-state area).
    public var cr2: UInt64 {
        get { cpu.cr2 }
        set { cpu.cr2 = newValue }
    }

    /// XMM register `n` (0-15) as its low and high 64-bit halves.
    public func xmm(_ n: Int) -> (low: UInt64, high: UInt64) { cpu.xmm(n) }

    /// Writes XMM register `n` (0-15).
    public func setXMM(_ n: Int, low: UInt64, high: UInt64) { cpu.setXMM(n, low: low, high: high) }

    /// MXCSR (writes keep only its defined bits).
    public var mxcsr: UInt32 {
        get { cpu.mxcsr }
        set { cpu.mxcsr = newValue }
    }

    /// The x87 control word (FCW).
    public var x87ControlWord: UInt16 {
        get { cpu.x87ControlWord }
        set { cpu.x87ControlWord = newValue }
    }

    /// The x87 status word (FSW).
    public var x87StatusWord: UInt16 {
        get { cpu.x87StatusWord }
        set { cpu.x87StatusWord = newValue }
    }

    /// The x87 full tag word (11 = empty).
    public var x87TagWord: UInt16 { cpu.x87TagWord }

    /// ST(i) as its 80-bit encoding, or nil when the register is empty.
    public func x87Register(st i: Int) -> (significand: UInt64, signExponent: UInt16)? { cpu.x87Register(st: i) }

    /// The mode the guest's code runs in, from the guest-state area: 64-bit (IA-32e mode and CS.L), 32-bit
    /// (protected mode, CS.D), or 16-bit (real mode, virtual-8086 mode or a 16-bit code segment).
    public var guestCodeSize: Int {
        let cr0 = read(.guestCR0)
        let access = read(.guestCSAccessRights)
        let ia32e = read(.vmEntryControls) & UInt64(VMEntryControls.ia32eModeGuest.rawValue) != 0
        if ia32e && access & (1 << 13) != 0 { return 64 }
        if cr0 & CR0.pe.rawValue == 0 || read(.guestRFLAGS) & (1 << 17) != 0 { return 16 }
        return access & (1 << 14) != 0 ? 32 : 16
    }
}
