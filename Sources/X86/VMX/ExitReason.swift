// Basic exit reasons (SDM Vol. 3D appendix C, "VMX Basic Exit Reasons").

/// The basic exit reason: bits 15:0 of the exit-reason field.
public enum ExitReason: UInt16, CaseIterable, Sendable, Codable {
    /// Exception or non-maskable interrupt (the exception bitmap or NMI exiting).
    case exceptionOrNMI = 0
    /// External interrupt ("external-interrupt exiting").
    case externalInterrupt = 1
    /// Triple fault.
    case tripleFault = 2
    /// INIT signal.
    case initSignal = 3
    /// Start-up IPI (SIPI).
    case startupIPI = 4
    /// I/O system-management interrupt.
    case ioSMI = 5
    /// Other SMI.
    case otherSMI = 6
    /// Interrupt window ("interrupt-window exiting").
    case interruptWindow = 7
    /// NMI window ("NMI-window exiting").
    case nmiWindow = 8
    /// Task switch.
    case taskSwitch = 9
    /// CPUID.
    case cpuid = 10
    /// GETSEC.
    case getsec = 11
    /// HLT ("HLT exiting").
    case hlt = 12
    /// INVD.
    case invd = 13
    /// INVLPG ("INVLPG exiting").
    case invlpg = 14
    /// RDPMC ("RDPMC exiting").
    case rdpmc = 15
    /// RDTSC ("RDTSC exiting").
    case rdtsc = 16
    /// RSM in SMM.
    case rsm = 17
    /// VMCALL.
    case vmcall = 18
    /// VMCLEAR.
    case vmclear = 19
    /// VMLAUNCH.
    case vmlaunch = 20
    /// VMPTRLD.
    case vmptrld = 21
    /// VMPTRST.
    case vmptrst = 22
    /// VMREAD.
    case vmread = 23
    /// VMRESUME.
    case vmresume = 24
    /// VMWRITE.
    case vmwrite = 25
    /// VMXOFF.
    case vmxoff = 26
    /// VMXON.
    case vmxon = 27
    /// Control-register access (MOV CR, CLTS, LMSW).
    case controlRegisterAccess = 28
    /// MOV DR ("MOV-DR exiting").
    case movDR = 29
    /// I/O instruction (I/O exiting or I/O bitmaps).
    case ioInstruction = 30
    /// RDMSR (MSR bitmaps).
    case rdmsr = 31
    /// WRMSR (MSR bitmaps).
    case wrmsr = 32
    /// VM-entry failure due to invalid guest state.
    case entryFailureGuestState = 33
    /// VM-entry failure due to MSR loading.
    case entryFailureMSRLoading = 34
    /// MWAIT ("MWAIT exiting").
    case mwait = 36
    /// Monitor trap flag.
    case monitorTrapFlag = 37
    /// MONITOR ("MONITOR exiting").
    case monitor = 39
    /// PAUSE ("PAUSE exiting" or PAUSE-loop exiting).
    case pause = 40
    /// VM-entry failure due to a machine-check event.
    case entryFailureMachineCheck = 41
    /// TPR below threshold ("use TPR shadow").
    case tprBelowThreshold = 43
    /// APIC access.
    case apicAccess = 44
    /// Virtualized EOI.
    case virtualizedEOI = 45
    /// Access to GDTR or IDTR ("descriptor-table exiting").
    case accessToGDTRorIDTR = 46
    /// Access to LDTR or TR ("descriptor-table exiting").
    case accessToLDTRorTR = 47
    /// EPT violation.
    case eptViolation = 48
    /// EPT misconfiguration.
    case eptMisconfiguration = 49
    /// INVEPT.
    case invept = 50
    /// RDTSCP.
    case rdtscp = 51
    /// VMX-preemption timer expired.
    case vmxPreemptionTimerExpired = 52
    /// INVVPID.
    case invvpid = 53
    /// WBINVD ("WBINVD exiting").
    case wbinvd = 54
    /// XSETBV.
    case xsetbv = 55
    /// APIC write.
    case apicWrite = 56
    /// RDRAND.
    case rdrand = 57
    /// INVPCID.
    case invpcid = 58
    /// VMFUNC.
    case vmfunc = 59
    /// ENCLS.
    case encls = 60
    /// RDSEED.
    case rdseed = 61
    /// Page-modification log full.
    case pmlFull = 62
    /// XSAVES.
    case xsaves = 63
    /// XRSTORS.
    case xrstors = 64

    /// What the exit means, in one line.
    public var explanation: String {
        switch self {
        case .exceptionOrNMI: return "an exception or NMI the exception bitmap or NMI exiting selected"
        case .externalInterrupt: return "an external interrupt arrived with external-interrupt exiting set"
        case .tripleFault: return "the guest triple-faulted"
        case .initSignal: return "an INIT signal arrived"
        case .startupIPI: return "a start-up IPI arrived in wait-for-SIPI state"
        case .interruptWindow: return "the guest can take an interrupt now (interrupt-window exiting)"
        case .nmiWindow: return "the guest can take an NMI now (NMI-window exiting)"
        case .taskSwitch: return "the guest attempted a task switch"
        case .cpuid: return "the guest executed CPUID (always exits)"
        case .hlt: return "the guest executed HLT with HLT exiting set"
        case .ioInstruction: return "the guest executed IN/OUT/INS/OUTS on an intercepted port"
        case .controlRegisterAccess: return "the guest accessed a control register the controls intercept"
        case .entryFailureGuestState: return "VM entry failed: invalid guest state"
        case .entryFailureMSRLoading: return "VM entry failed while loading MSRs"
        case .eptViolation: return "an access to guest-physical memory that is unmapped or not permitted"
        case .accessToGDTRorIDTR: return "LGDT/LIDT/SGDT/SIDT with descriptor-table exiting set"
        case .accessToLDTRorTR: return "LLDT/LTR/SLDT/STR with descriptor-table exiting set"
        case .tprBelowThreshold: return "the virtual TPR dropped below the TPR threshold"
        case .vmxPreemptionTimerExpired: return "the VMX-preemption timer counted down to zero"
        case .vmcall: return "the guest called the VMM with VMCALL"
        default: return "the guest executed or caused \(self)"
        }
    }
}
