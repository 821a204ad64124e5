// VMCS fields and their encodings (SDM Vol. 3D appendix B, "Field Encoding in VMCS";
// the encoding layout is SDM Vol. 3C §24.11.2).

/// A VMCS field, by its SDM name; the raw value is the field's full-access encoding.
public enum VMCSField: UInt32, CaseIterable, Sendable, Codable {
    /// Virtual-processor identifier (VPID).
    case vpid = 0x0000
    /// Posted-interrupt notification vector.
    case postedInterruptNotificationVector = 0x0002
    /// EPTP index.
    case eptpIndex = 0x0004
    /// Last PID-pointer index.
    case lastPIDPointerIndex = 0x0008
    /// Guest ES selector.
    case guestESSelector = 0x0800
    /// Guest CS selector.
    case guestCSSelector = 0x0802
    /// Guest SS selector.
    case guestSSSelector = 0x0804
    /// Guest DS selector.
    case guestDSSelector = 0x0806
    /// Guest FS selector.
    case guestFSSelector = 0x0808
    /// Guest GS selector.
    case guestGSSelector = 0x080A
    /// Guest LDTR selector.
    case guestLDTRSelector = 0x080C
    /// Guest TR selector.
    case guestTRSelector = 0x080E
    /// Guest interrupt status.
    case guestInterruptStatus = 0x0810
    /// PML index.
    case pmlIndex = 0x0812
    /// Guest user-interrupt notification vector (UINV).
    case guestUINV = 0x0814
    /// Host ES selector.
    case hostESSelector = 0x0C00
    /// Host CS selector.
    case hostCSSelector = 0x0C02
    /// Host SS selector.
    case hostSSSelector = 0x0C04
    /// Host DS selector.
    case hostDSSelector = 0x0C06
    /// Host FS selector.
    case hostFSSelector = 0x0C08
    /// Host GS selector.
    case hostGSSelector = 0x0C0A
    /// Host TR selector.
    case hostTRSelector = 0x0C0C
    /// Address of I/O bitmap A.
    case ioBitmapA = 0x2000
    /// Address of I/O bitmap B.
    case ioBitmapB = 0x2002
    /// Address of MSR bitmaps.
    case msrBitmap = 0x2004
    /// VM-exit MSR-store address.
    case vmExitMSRStoreAddress = 0x2006
    /// VM-exit MSR-load address.
    case vmExitMSRLoadAddress = 0x2008
    /// VM-entry MSR-load address.
    case vmEntryMSRLoadAddress = 0x200A
    /// Executive-VMCS pointer.
    case executiveVMCSPointer = 0x200C
    /// PML address.
    case pmlAddress = 0x200E
    /// TSC offset.
    case tscOffset = 0x2010
    /// Virtual-APIC address.
    case virtualAPICAddress = 0x2012
    /// APIC-access address.
    case apicAccessAddress = 0x2014
    /// Posted-interrupt descriptor address.
    case postedInterruptDescriptorAddress = 0x2016
    /// VM-function controls.
    case vmFunctionControls = 0x2018
    /// EPT pointer (EPTP).
    case eptPointer = 0x201A
    /// EOI-exit bitmap 0.
    case eoiExitBitmap0 = 0x201C
    /// EOI-exit bitmap 1.
    case eoiExitBitmap1 = 0x201E
    /// EOI-exit bitmap 2.
    case eoiExitBitmap2 = 0x2020
    /// EOI-exit bitmap 3.
    case eoiExitBitmap3 = 0x2022
    /// EPTP-list address.
    case eptpListAddress = 0x2024
    /// VMREAD-bitmap address.
    case vmreadBitmapAddress = 0x2026
    /// VMWRITE-bitmap address.
    case vmwriteBitmapAddress = 0x2028
    /// Virtualization-exception information address.
    case virtualizationExceptionInformationAddress = 0x202A
    /// XSS-exiting bitmap.
    case xssExitingBitmap = 0x202C
    /// ENCLS-exiting bitmap.
    case enclsExitingBitmap = 0x202E
    /// TSC multiplier.
    case tscMultiplier = 0x2032
    /// Sub-page-permission-table pointer (SPPTP).
    case subPagePermissionTablePointer = 0x2030
    /// Tertiary processor-based VM-execution controls.
    case tertiaryProcessorBasedControls = 0x2034
    /// ENCLV-exiting bitmap.
    case enclvExitingBitmap = 0x2036
    /// Low PASID directory address.
    case lowPASIDDirectoryAddress = 0x2038
    /// High PASID directory address.
    case highPASIDDirectoryAddress = 0x203A
    /// Shared EPT pointer.
    case sharedEPTPointer = 0x203C
    /// PCONFIG-exiting bitmap.
    case pconfigExitingBitmap = 0x203E
    /// Hypervisor-managed linear-address translation pointer (HLATP).
    case hlatPointer = 0x2040
    /// PID-pointer table address.
    case pidPointerTableAddress = 0x2042
    /// Secondary VM-exit controls.
    case secondaryVMExitControls = 0x2044
    /// IA32_SPEC_CTRL mask.
    case ia32SpecCtrlMask = 0x204A
    /// IA32_SPEC_CTRL shadow.
    case ia32SpecCtrlShadow = 0x204C
    /// Guest-physical address (read-only exit information).
    case guestPhysicalAddress = 0x2400
    /// VMCS link pointer.
    case vmcsLinkPointer = 0x2800
    /// Guest IA32_DEBUGCTL.
    case guestIA32DebugCtl = 0x2802
    /// Guest IA32_PAT.
    case guestIA32PAT = 0x2804
    /// Guest IA32_EFER.
    case guestIA32EFER = 0x2806
    /// Guest IA32_PERF_GLOBAL_CTRL.
    case guestIA32PerfGlobalCtrl = 0x2808
    /// Guest PDPTE0.
    case guestPDPTE0 = 0x280A
    /// Guest PDPTE1.
    case guestPDPTE1 = 0x280C
    /// Guest PDPTE2.
    case guestPDPTE2 = 0x280E
    /// Guest PDPTE3.
    case guestPDPTE3 = 0x2810
    /// Guest IA32_BNDCFGS.
    case guestIA32BNDCFGS = 0x2812
    /// Guest IA32_RTIT_CTL.
    case guestIA32RTITCtl = 0x2814
    /// Guest IA32_LBR_CTL.
    case guestIA32LBRCtl = 0x2816
    /// Guest IA32_PKRS.
    case guestIA32PKRS = 0x2818
    /// Host IA32_PAT.
    case hostIA32PAT = 0x2C00
    /// Host IA32_EFER.
    case hostIA32EFER = 0x2C02
    /// Host IA32_PERF_GLOBAL_CTRL.
    case hostIA32PerfGlobalCtrl = 0x2C04
    /// Host IA32_PKRS.
    case hostIA32PKRS = 0x2C06
    /// Pin-based VM-execution controls.
    case pinBasedControls = 0x4000
    /// Primary processor-based VM-execution controls.
    case primaryProcessorBasedControls = 0x4002
    /// Exception bitmap.
    case exceptionBitmap = 0x4004
    /// Page-fault error-code mask.
    case pageFaultErrorCodeMask = 0x4006
    /// Page-fault error-code match.
    case pageFaultErrorCodeMatch = 0x4008
    /// CR3-target count.
    case cr3TargetCount = 0x400A
    /// VM-exit controls.
    case vmExitControls = 0x400C
    /// VM-exit MSR-store count.
    case vmExitMSRStoreCount = 0x400E
    /// VM-exit MSR-load count.
    case vmExitMSRLoadCount = 0x4010
    /// VM-entry controls.
    case vmEntryControls = 0x4012
    /// VM-entry MSR-load count.
    case vmEntryMSRLoadCount = 0x4014
    /// VM-entry interruption-information field.
    case vmEntryInterruptionInformation = 0x4016
    /// VM-entry exception error code.
    case vmEntryExceptionErrorCode = 0x4018
    /// VM-entry instruction length.
    case vmEntryInstructionLength = 0x401A
    /// TPR threshold.
    case tprThreshold = 0x401C
    /// Secondary processor-based VM-execution controls.
    case secondaryProcessorBasedControls = 0x401E
    /// PAUSE-loop exiting gap.
    case pleGap = 0x4020
    /// PAUSE-loop exiting window.
    case pleWindow = 0x4022
    /// Instruction-timeout control.
    case instructionTimeoutControl = 0x4024
    /// VM-instruction error.
    case vmInstructionError = 0x4400
    /// Exit reason.
    case exitReason = 0x4402
    /// VM-exit interruption information.
    case vmExitInterruptionInformation = 0x4404
    /// VM-exit interruption error code.
    case vmExitInterruptionErrorCode = 0x4406
    /// IDT-vectoring information field.
    case idtVectoringInformation = 0x4408
    /// IDT-vectoring error code.
    case idtVectoringErrorCode = 0x440A
    /// VM-exit instruction length.
    case vmExitInstructionLength = 0x440C
    /// VM-exit instruction information.
    case vmExitInstructionInformation = 0x440E
    /// Guest ES limit.
    case guestESLimit = 0x4800
    /// Guest CS limit.
    case guestCSLimit = 0x4802
    /// Guest SS limit.
    case guestSSLimit = 0x4804
    /// Guest DS limit.
    case guestDSLimit = 0x4806
    /// Guest FS limit.
    case guestFSLimit = 0x4808
    /// Guest GS limit.
    case guestGSLimit = 0x480A
    /// Guest LDTR limit.
    case guestLDTRLimit = 0x480C
    /// Guest TR limit.
    case guestTRLimit = 0x480E
    /// Guest GDTR limit.
    case guestGDTRLimit = 0x4810
    /// Guest IDTR limit.
    case guestIDTRLimit = 0x4812
    /// Guest ES access rights.
    case guestESAccessRights = 0x4814
    /// Guest CS access rights.
    case guestCSAccessRights = 0x4816
    /// Guest SS access rights.
    case guestSSAccessRights = 0x4818
    /// Guest DS access rights.
    case guestDSAccessRights = 0x481A
    /// Guest FS access rights.
    case guestFSAccessRights = 0x481C
    /// Guest GS access rights.
    case guestGSAccessRights = 0x481E
    /// Guest LDTR access rights.
    case guestLDTRAccessRights = 0x4820
    /// Guest TR access rights.
    case guestTRAccessRights = 0x4822
    /// Guest interruptibility state.
    case guestInterruptibilityState = 0x4824
    /// Guest activity state.
    case guestActivityState = 0x4826
    /// Guest SMBASE.
    case guestSMBASE = 0x4828
    /// Guest IA32_SYSENTER_CS.
    case guestIA32SysenterCS = 0x482A
    /// VMX-preemption timer value.
    case vmxPreemptionTimerValue = 0x482E
    /// Host IA32_SYSENTER_CS.
    case hostIA32SysenterCS = 0x4C00
    /// CR0 guest/host mask.
    case cr0GuestHostMask = 0x6000
    /// CR4 guest/host mask.
    case cr4GuestHostMask = 0x6002
    /// CR0 read shadow.
    case cr0ReadShadow = 0x6004
    /// CR4 read shadow.
    case cr4ReadShadow = 0x6006
    /// CR3-target value 0.
    case cr3TargetValue0 = 0x6008
    /// CR3-target value 1.
    case cr3TargetValue1 = 0x600A
    /// CR3-target value 2.
    case cr3TargetValue2 = 0x600C
    /// CR3-target value 3.
    case cr3TargetValue3 = 0x600E
    /// Exit qualification.
    case exitQualification = 0x6400
    /// I/O RCX.
    case ioRCX = 0x6402
    /// I/O RSI.
    case ioRSI = 0x6404
    /// I/O RDI.
    case ioRDI = 0x6406
    /// I/O RIP.
    case ioRIP = 0x6408
    /// Guest-linear address.
    case guestLinearAddress = 0x640A
    /// Guest CR0.
    case guestCR0 = 0x6800
    /// Guest CR3.
    case guestCR3 = 0x6802
    /// Guest CR4.
    case guestCR4 = 0x6804
    /// Guest ES base.
    case guestESBase = 0x6806
    /// Guest CS base.
    case guestCSBase = 0x6808
    /// Guest SS base.
    case guestSSBase = 0x680A
    /// Guest DS base.
    case guestDSBase = 0x680C
    /// Guest FS base.
    case guestFSBase = 0x680E
    /// Guest GS base.
    case guestGSBase = 0x6810
    /// Guest LDTR base.
    case guestLDTRBase = 0x6812
    /// Guest TR base.
    case guestTRBase = 0x6814
    /// Guest GDTR base.
    case guestGDTRBase = 0x6816
    /// Guest IDTR base.
    case guestIDTRBase = 0x6818
    /// Guest DR7.
    case guestDR7 = 0x681A
    /// Guest RSP.
    case guestRSP = 0x681C
    /// Guest RIP.
    case guestRIP = 0x681E
    /// Guest RFLAGS.
    case guestRFLAGS = 0x6820
    /// Guest pending debug exceptions.
    case guestPendingDebugExceptions = 0x6822
    /// Guest IA32_SYSENTER_ESP.
    case guestIA32SysenterESP = 0x6824
    /// Guest IA32_SYSENTER_EIP.
    case guestIA32SysenterEIP = 0x6826
    /// Guest IA32_S_CET.
    case guestIA32SCET = 0x6828
    /// Guest SSP.
    case guestSSP = 0x682A
    /// Guest IA32_INTERRUPT_SSP_TABLE_ADDR.
    case guestIA32InterruptSSPTableAddr = 0x682C
    /// Host CR0.
    case hostCR0 = 0x6C00
    /// Host CR3.
    case hostCR3 = 0x6C02
    /// Host CR4.
    case hostCR4 = 0x6C04
    /// Host FS base.
    case hostFSBase = 0x6C06
    /// Host GS base.
    case hostGSBase = 0x6C08
    /// Host TR base.
    case hostTRBase = 0x6C0A
    /// Host GDTR base.
    case hostGDTRBase = 0x6C0C
    /// Host IDTR base.
    case hostIDTRBase = 0x6C0E
    /// Host IA32_SYSENTER_ESP.
    case hostIA32SysenterESP = 0x6C10
    /// Host IA32_SYSENTER_EIP.
    case hostIA32SysenterEIP = 0x6C12
    /// Host RSP.
    case hostRSP = 0x6C14
    /// Host RIP.
    case hostRIP = 0x6C16
    /// Host IA32_S_CET.
    case hostIA32SCET = 0x6C18
    /// Host SSP.
    case hostSSP = 0x6C1A
    /// Host IA32_INTERRUPT_SSP_TABLE_ADDR.
    case hostIA32InterruptSSPTableAddr = 0x6C1C
}

/// Width of a VMCS field (encoding bits 14:13).
public enum VMCSFieldWidth: UInt32, Sendable {
    /// 16-bit.
    case bits16 = 0
    /// 64-bit (full and high access).
    case bits64 = 1
    /// 32-bit.
    case bits32 = 2
    /// Natural width (64 bits on processors that support Intel 64).
    case natural = 3
}

/// Type of a VMCS field (encoding bits 11:10).
public enum VMCSFieldType: UInt32, Sendable {
    /// A control field.
    case control = 0
    /// A read-only VM-exit information field.
    case exitInformation = 1
    /// A guest-state field.
    case guestState = 2
    /// A host-state field.
    case hostState = 3
}

extension VMCSField {
    /// The field's width.
    public var width: VMCSFieldWidth { VMCSFieldWidth(rawValue: (rawValue >> 13) & 3) ?? .natural }
    /// The field's type.
    @inlinable public var type: VMCSFieldType { VMCSFieldType(rawValue: (rawValue >> 10) & 3) ?? .control }
    /// Whether it is an exit-information field (type bits 11:10 = 1), tested without building the type.
    @inline(__always) var isExitInformation: Bool { (rawValue >> 10) & 3 == 1 }
    /// Whether VMWRITE may write it (read-only exit-information fields may not: no "VMWRITE to any field" support).
    @inlinable public var isWritable: Bool { type != .exitInformation }
    /// Mask of the bits the field holds.
    public var valueMask: UInt64 {
        switch width {
        case .bits16: return 0xFFFF
        case .bits32: return 0xFFFF_FFFF
        case .bits64, .natural: return ~0
        }
    }
    /// Slot of the field in `VMCS` storage: width, type and index bits of the encoding packed densely.
    @inline(__always) var slot: Int {
        let width: UInt32 = (rawValue >> 13) & 3
        let type: UInt32 = (rawValue >> 10) & 3
        let index: UInt32 = (rawValue >> 1) & 0x3F
        return Int(width << 8 | type << 6 | index)
    }
    /// Number of storage slots a VMCS needs.
    static let slotCount = 1024

    /// Resolves a VMREAD/VMWRITE encoding: a field and whether it is the high half of a 64-bit field.
    /// Returns nil for encodings that name no supported field (VM-instruction error 12).
    public static func decode(encoding: UInt64) -> (field: VMCSField, high: Bool)? {
        guard encoding >> 32 == 0 else { return nil }
        let e = UInt32(encoding)
        if e & 1 != 0 {
            guard let f = VMCSField(rawValue: e & ~1), f.width == .bits64 else { return nil }
            return (f, true)
        }
        guard let f = VMCSField(rawValue: e) else { return nil }
        return (f, false)
    }
}
