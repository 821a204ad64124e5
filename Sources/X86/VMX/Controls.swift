// VM-execution, VM-exit and VM-entry controls (SDM Vol. 3C §24.6–24.8).

/// Pin-based VM-execution controls (SDM Vol. 3C §24.6.1, Table 24-5).
public struct PinBasedControls: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    /// Creates controls from raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// External-interrupt exiting.
    public static let externalInterruptExiting = PinBasedControls(rawValue: 1 << 0)
    /// NMI exiting.
    public static let nmiExiting = PinBasedControls(rawValue: 1 << 3)
    /// Virtual NMIs.
    public static let virtualNMIs = PinBasedControls(rawValue: 1 << 5)
    /// Activate VMX-preemption timer.
    public static let activateVMXPreemptionTimer = PinBasedControls(rawValue: 1 << 6)
    /// Process posted interrupts.
    public static let processPostedInterrupts = PinBasedControls(rawValue: 1 << 7)
}

/// Primary processor-based VM-execution controls (SDM Vol. 3C §24.6.2, Table 24-6).
public struct PrimaryProcessorControls: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    /// Creates controls from raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Interrupt-window exiting.
    public static let interruptWindowExiting = PrimaryProcessorControls(rawValue: 1 << 2)
    /// Use TSC offsetting.
    public static let useTSCOffsetting = PrimaryProcessorControls(rawValue: 1 << 3)
    /// HLT exiting.
    public static let hltExiting = PrimaryProcessorControls(rawValue: 1 << 7)
    /// INVLPG exiting.
    public static let invlpgExiting = PrimaryProcessorControls(rawValue: 1 << 9)
    /// MWAIT exiting.
    public static let mwaitExiting = PrimaryProcessorControls(rawValue: 1 << 10)
    /// RDPMC exiting.
    public static let rdpmcExiting = PrimaryProcessorControls(rawValue: 1 << 11)
    /// RDTSC exiting.
    public static let rdtscExiting = PrimaryProcessorControls(rawValue: 1 << 12)
    /// CR3-load exiting.
    public static let cr3LoadExiting = PrimaryProcessorControls(rawValue: 1 << 15)
    /// CR3-store exiting.
    public static let cr3StoreExiting = PrimaryProcessorControls(rawValue: 1 << 16)
    /// CR8-load exiting.
    public static let cr8LoadExiting = PrimaryProcessorControls(rawValue: 1 << 19)
    /// CR8-store exiting.
    public static let cr8StoreExiting = PrimaryProcessorControls(rawValue: 1 << 20)
    /// Use TPR shadow.
    public static let useTPRShadow = PrimaryProcessorControls(rawValue: 1 << 21)
    /// NMI-window exiting.
    public static let nmiWindowExiting = PrimaryProcessorControls(rawValue: 1 << 22)
    /// MOV-DR exiting.
    public static let movDRExiting = PrimaryProcessorControls(rawValue: 1 << 23)
    /// Unconditional I/O exiting.
    public static let unconditionalIOExiting = PrimaryProcessorControls(rawValue: 1 << 24)
    /// Use I/O bitmaps.
    public static let useIOBitmaps = PrimaryProcessorControls(rawValue: 1 << 25)
    /// Monitor trap flag.
    public static let monitorTrapFlag = PrimaryProcessorControls(rawValue: 1 << 27)
    /// Use MSR bitmaps.
    public static let useMSRBitmaps = PrimaryProcessorControls(rawValue: 1 << 28)
    /// MONITOR exiting.
    public static let monitorExiting = PrimaryProcessorControls(rawValue: 1 << 29)
    /// PAUSE exiting.
    public static let pauseExiting = PrimaryProcessorControls(rawValue: 1 << 30)
    /// Activate secondary controls.
    public static let activateSecondaryControls = PrimaryProcessorControls(rawValue: 1 << 31)
}

/// Secondary processor-based VM-execution controls (SDM Vol. 3C §24.6.2, Table 24-7).
public struct SecondaryProcessorControls: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    /// Creates controls from raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Virtualize APIC accesses.
    public static let virtualizeAPICAccesses = SecondaryProcessorControls(rawValue: 1 << 0)
    /// Enable EPT.
    public static let enableEPT = SecondaryProcessorControls(rawValue: 1 << 1)
    /// Descriptor-table exiting.
    public static let descriptorTableExiting = SecondaryProcessorControls(rawValue: 1 << 2)
    /// Enable RDTSCP.
    public static let enableRDTSCP = SecondaryProcessorControls(rawValue: 1 << 3)
    /// Virtualize x2APIC mode.
    public static let virtualizeX2APICMode = SecondaryProcessorControls(rawValue: 1 << 4)
    /// Enable VPID.
    public static let enableVPID = SecondaryProcessorControls(rawValue: 1 << 5)
    /// WBINVD exiting.
    public static let wbinvdExiting = SecondaryProcessorControls(rawValue: 1 << 6)
    /// Unrestricted guest.
    public static let unrestrictedGuest = SecondaryProcessorControls(rawValue: 1 << 7)
    /// APIC-register virtualization.
    public static let apicRegisterVirtualization = SecondaryProcessorControls(rawValue: 1 << 8)
    /// Virtual-interrupt delivery.
    public static let virtualInterruptDelivery = SecondaryProcessorControls(rawValue: 1 << 9)
    /// PAUSE-loop exiting.
    public static let pauseLoopExiting = SecondaryProcessorControls(rawValue: 1 << 10)
    /// RDRAND exiting.
    public static let rdrandExiting = SecondaryProcessorControls(rawValue: 1 << 11)
    /// Enable INVPCID.
    public static let enableINVPCID = SecondaryProcessorControls(rawValue: 1 << 12)
    /// Enable VM functions.
    public static let enableVMFunctions = SecondaryProcessorControls(rawValue: 1 << 13)
    /// VMCS shadowing.
    public static let vmcsShadowing = SecondaryProcessorControls(rawValue: 1 << 14)
    /// Enable XSAVES/XRSTORS.
    public static let enableXSAVES = SecondaryProcessorControls(rawValue: 1 << 20)
    /// Mode-based execute control for EPT (offered with the CPU model's `vmx-mbec`, CPUModel.swift).
    public static let modeBasedExecuteControlForEPT = SecondaryProcessorControls(rawValue: 1 << 22)
}

/// VM-exit controls (SDM Vol. 3C §24.7.1, Table 24-11).
public struct VMExitControls: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    /// Creates controls from raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Save debug controls.
    public static let saveDebugControls = VMExitControls(rawValue: 1 << 2)
    /// Host address-space size.
    public static let hostAddressSpaceSize = VMExitControls(rawValue: 1 << 9)
    /// Load IA32_PERF_GLOBAL_CTRL.
    public static let loadIA32PerfGlobalCtrl = VMExitControls(rawValue: 1 << 12)
    /// Acknowledge interrupt on exit.
    public static let acknowledgeInterruptOnExit = VMExitControls(rawValue: 1 << 15)
    /// Save IA32_PAT.
    public static let saveIA32PAT = VMExitControls(rawValue: 1 << 18)
    /// Load IA32_PAT.
    public static let loadIA32PAT = VMExitControls(rawValue: 1 << 19)
    /// Save IA32_EFER.
    public static let saveIA32EFER = VMExitControls(rawValue: 1 << 20)
    /// Load IA32_EFER.
    public static let loadIA32EFER = VMExitControls(rawValue: 1 << 21)
    /// Save VMX-preemption timer value.
    public static let saveVMXPreemptionTimerValue = VMExitControls(rawValue: 1 << 22)
}

/// VM-entry controls (SDM Vol. 3C §24.8.1, Table 24-13).
public struct VMEntryControls: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    /// Creates controls from raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Load debug controls.
    public static let loadDebugControls = VMEntryControls(rawValue: 1 << 2)
    /// IA-32e mode guest.
    public static let ia32eModeGuest = VMEntryControls(rawValue: 1 << 9)
    /// Entry to SMM.
    public static let entryToSMM = VMEntryControls(rawValue: 1 << 10)
    /// Deactivate dual-monitor treatment.
    public static let deactivateDualMonitorTreatment = VMEntryControls(rawValue: 1 << 11)
    /// Load IA32_PERF_GLOBAL_CTRL.
    public static let loadIA32PerfGlobalCtrl = VMEntryControls(rawValue: 1 << 13)
    /// Load IA32_PAT.
    public static let loadIA32PAT = VMEntryControls(rawValue: 1 << 14)
    /// Load IA32_EFER.
    public static let loadIA32EFER = VMEntryControls(rawValue: 1 << 15)
}

/// The VMX capability MSRs (SDM Vol. 3D appendix A), describing exactly what the model implements.
public enum VMXCapability {
    /// IA32_VMX_BASIC (480H): revision identifier, VMCS region size 4 KiB, write-back memory type,
    /// INS/OUTS exit information reported, TRUE_ control MSRs available.
    public static let basic: UInt64 = UInt64(vmcsRevision) | (0x1000 << 32) | (6 << 50) | (1 << 54) | (1 << 55)
    /// VMX-preemption timer rate: the timer counts down once every 2^rate TSC ticks (IA32_VMX_MISC bits 4:0).
    public static let preemptionTimerRate: UInt64 = 0
    /// The VMCS revision identifier of this model.
    public static let vmcsRevision: UInt32 = 0x5356_4D58 & 0x7FFF_FFFF   // "XMVS"
    /// MSR indices of the capability MSRs.
    public enum Index {
        /// IA32_VMX_BASIC.
        public static let basic: UInt32 = 0x480
        /// IA32_VMX_PINBASED_CTLS.
        public static let pinbased: UInt32 = 0x481
        /// IA32_VMX_PROCBASED_CTLS.
        public static let procbased: UInt32 = 0x482
        /// IA32_VMX_EXIT_CTLS.
        public static let exit: UInt32 = 0x483
        /// IA32_VMX_ENTRY_CTLS.
        public static let entry: UInt32 = 0x484
        /// IA32_VMX_MISC.
        public static let misc: UInt32 = 0x485
        /// IA32_VMX_CR0_FIXED0.
        public static let cr0Fixed0: UInt32 = 0x486
        /// IA32_VMX_CR0_FIXED1.
        public static let cr0Fixed1: UInt32 = 0x487
        /// IA32_VMX_CR4_FIXED0.
        public static let cr4Fixed0: UInt32 = 0x488
        /// IA32_VMX_CR4_FIXED1.
        public static let cr4Fixed1: UInt32 = 0x489
        /// IA32_VMX_VMCS_ENUM.
        public static let vmcsEnum: UInt32 = 0x48A
        /// IA32_VMX_PROCBASED_CTLS2.
        public static let procbased2: UInt32 = 0x48B
        /// IA32_VMX_EPT_VPID_CAP.
        public static let eptVPIDCap: UInt32 = 0x48C
        /// IA32_VMX_TRUE_PINBASED_CTLS.
        public static let truePinbased: UInt32 = 0x48D
        /// IA32_VMX_TRUE_PROCBASED_CTLS.
        public static let trueProcbased: UInt32 = 0x48E
        /// IA32_VMX_TRUE_EXIT_CTLS.
        public static let trueExit: UInt32 = 0x48F
        /// IA32_VMX_TRUE_ENTRY_CTLS.
        public static let trueEntry: UInt32 = 0x490
    }

    /// Pin-based controls the model implements (allowed 1-settings).
    public static let pinAllowed1: PinBasedControls = [.externalInterruptExiting, .nmiExiting, .virtualNMIs, .activateVMXPreemptionTimer]
    /// Pin-based default1 bits (1, 2, 4) of the non-TRUE MSR.
    public static let pinDefault1: UInt32 = 0x16
    /// Primary processor-based controls implemented.
    public static let primaryAllowed1: PrimaryProcessorControls = [
        .interruptWindowExiting, .useTSCOffsetting, .hltExiting, .invlpgExiting, .mwaitExiting, .rdpmcExiting,
        .rdtscExiting, .cr3LoadExiting, .cr3StoreExiting, .cr8LoadExiting, .cr8StoreExiting, .useTPRShadow,
        .nmiWindowExiting, .movDRExiting, .unconditionalIOExiting, .useIOBitmaps, .monitorTrapFlag,
        .useMSRBitmaps, .monitorExiting, .pauseExiting, .activateSecondaryControls]
    /// Primary default1 bits (1, 4–6, 8, 13–16, 26) of the non-TRUE MSR.
    public static let primaryDefault1: UInt32 = 0x0401_E172
    /// Primary controls that must be 1 even in the TRUE MSR: none beyond default1 minus CR3 exiting (bits 15, 16).
    public static let primaryTrueDefault1: UInt32 = 0x0401_E172 & ~UInt32((1 << 15) | (1 << 16))
    /// Secondary controls implemented.
    public static let secondaryAllowed1: SecondaryProcessorControls = [
        .enableEPT, .descriptorTableExiting, .enableRDTSCP, .enableVPID, .wbinvdExiting, .unrestrictedGuest,
        .enableINVPCID]
    /// VM-exit controls implemented.
    public static let exitAllowed1: VMExitControls = [
        .saveDebugControls, .hostAddressSpaceSize, .acknowledgeInterruptOnExit, .saveIA32PAT, .loadIA32PAT,
        .saveIA32EFER, .loadIA32EFER, .saveVMXPreemptionTimerValue]
    /// VM-exit default1 bits (0–8, 10, 11, 13, 14, 16, 17).
    public static let exitDefault1: UInt32 = 0x0003_6DFF
    /// VM-entry controls implemented.
    public static let entryAllowed1: VMEntryControls = [.loadDebugControls, .ia32eModeGuest, .loadIA32PAT, .loadIA32EFER]
    /// VM-entry default1 bits (0–8, 12).
    public static let entryDefault1: UInt32 = 0x0000_11FF

    /// CR0 bits fixed to 1 in VMX operation (PE, NE, PG; PE and PG may be 0 for an unrestricted guest).
    public static let cr0Fixed0: UInt64 = 0x8000_0021
    /// CR0 bits allowed to be 1.
    public static let cr0Fixed1: UInt64 = 0xFFFF_FFFF
    /// CR4 bits fixed to 1 in VMX operation (VMXE).
    public static let cr4Fixed0: UInt64 = 0x2000
    /// CR4 bits allowed to be 1 (those the model implements: VME PVI TSD DE PSE PAE PGE PCE OSFXSR
    /// OSXMMEXCPT UMIP VMXE OSXSAVE SMEP SMAP PKE PKS).
    public static let cr4Fixed1: UInt64 = 0x176_2FBF       // with CR4.PCIDE (bit 17, PCID.swift)
    /// IA32_VMX_MISC: preemption timer rate 0 (ticks every TSC tick), activity states HLT, shutdown,
    /// wait-for-SIPI; 4 CR3-target values; 512 MSRs in the load/store lists (bits 27:25 = 0).
    public static let misc: UInt64 = 0 | (1 << 5) | (0x7 << 6) | (4 << 16)
    /// IA32_VMX_VMCS_ENUM: bits 9:1 hold the highest index (encoding bits 9:1) of any field VMREAD accepts,
    /// computed from `VMCSField` so it cannot drift from the fields the model implements (SDM Vol. 3D §A.9).
    public static let vmcsEnum: UInt64 = UInt64(VMCSField.allCases.map { ($0.rawValue >> 1) & 0x1FF }.max() ?? 0) << 1
    /// IA32_VMX_EPT_VPID_CAP: 4-level walks, WB memory type, 2 MiB and 1 GiB pages, INVEPT
    /// (single-context, all-context), accessed/dirty flags, INVVPID (individual, single, all, single-retaining-globals).
    public static let eptVPIDCap: UInt64 = (1 << 6) | (1 << 14) | (1 << 16) | (1 << 17) | (1 << 20) | (1 << 21)
        | (1 << 25) | (1 << 26) | (1 << 32) | (1 << 40) | (1 << 41) | (1 << 42) | (1 << 43)

    /// Reads a capability MSR, or nil for another index.
    public static func read(_ index: UInt32) -> UInt64? {
        func ctls(_ default1: UInt32, _ allowed1: UInt32) -> UInt64 { UInt64(default1) | UInt64(allowed1 | default1) << 32 }
        switch index {
        case Index.basic: return basic
        case Index.pinbased: return ctls(pinDefault1, pinAllowed1.rawValue)
        case Index.truePinbased: return ctls(pinDefault1, pinAllowed1.rawValue)
        case Index.procbased: return ctls(primaryDefault1, primaryAllowed1.rawValue)
        case Index.trueProcbased: return ctls(primaryTrueDefault1, primaryAllowed1.rawValue)
        case Index.procbased2: return UInt64(secondaryAllowed1.rawValue) << 32
        case Index.exit: return ctls(exitDefault1, exitAllowed1.rawValue)
        case Index.trueExit: return ctls(exitDefault1 & ~UInt32(1 << 2), exitAllowed1.rawValue)
        case Index.entry: return ctls(entryDefault1, entryAllowed1.rawValue)
        case Index.trueEntry: return ctls(entryDefault1 & ~UInt32(1 << 2), entryAllowed1.rawValue)
        case Index.misc: return misc
        case Index.cr0Fixed0: return cr0Fixed0
        case Index.cr0Fixed1: return cr0Fixed1
        case Index.cr4Fixed0: return cr4Fixed0
        case Index.cr4Fixed1: return cr4Fixed1
        case Index.vmcsEnum: return vmcsEnum
        case Index.eptVPIDCap: return eptVPIDCap
        default: return nil
        }
    }
}
