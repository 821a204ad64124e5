// VM-entry checks as named rules (SDM Vol. 3C §26.2 "Checks on VMX Controls and Host-State Area",
// §26.3 "Checking and Loading Guest State", §26.4 "Loading MSRs").

/// One VM-entry check. Each case names the rule; `section` gives where the SDM states it.
public enum EntryCheck: String, CaseIterable, Sendable, Codable {
    // §26.2.1.1 VM-execution control fields
    case pinBasedControlsReserved, primaryControlsReserved, secondaryControlsReserved
    case cr3TargetCount, ioBitmapAddresses, msrBitmapAddress
    case virtualAPICAddress, tprThresholdReservedBits, tprThresholdAboveVirtualTPR
    case virtualNMIsRequireNMIExiting, nmiWindowRequiresVirtualNMIs
    case vpidNonZero, eptPointerValid, unrestrictedGuestRequiresEPT
    // §26.2.1.2 VM-exit control fields
    case exitControlsReserved, preemptionTimerSaveRequiresActivate, exitMSRStoreAddress, exitMSRLoadAddress
    // §26.2.1.3 VM-entry control fields
    case entryControlsReserved, entryInterruptionTypeValid, entryInterruptionVectorValid
    case entryDeliverErrorCodeConsistent, entryInterruptionReservedBits, entryErrorCodeReservedBits
    case entryInstructionLength, entryMSRLoadAddress
    // §26.2.2 host control registers and MSRs
    case hostCR0FixedBits, hostCR4FixedBits, hostCR3Width, hostSysenterCanonical
    case hostPATValid, hostEFERValid
    // §26.2.3 host segment and descriptor-table registers
    case hostSelectorRPLTI, hostCSNonNull, hostTRNonNull, hostSSNonNull, hostBasesCanonical
    // §26.2.4 address-space size
    case hostAddressSpaceSize, guestIA32eModeRequiresHost64, hostRIPHigh, hostPCIDERequires64, hostCR4PAEIn64, hostRIPCanonical
    // §26.3.1.1 guest control registers, debug registers and MSRs
    case guestCR0FixedBits, guestCR0PagingRequiresPE, guestCR4FixedBits, guestDebugCtlReserved
    case guestIA32eModeRequiresPaging, guestPCIDERequiresIA32eMode, guestCR3Width, guestDR7High
    case guestSysenterCanonical, guestPATValid, guestEFERReserved, guestEFERLMA, guestEFERLME
    // §26.3.1.2 guest segment registers
    case guestTRTableIndicator, guestLDTRTableIndicator, guestSSRPLEqualsCSRPL
    case guestV86Segment, guestBaseCanonical, guestCSBaseHigh, guestDataBaseHigh
    case guestCSType, guestCSDescriptorType, guestCSDPL, guestCSPresent, guestCSReservedBits, guestCSLongAndDefault, guestCSGranularity
    case guestSSType, guestSSDPL, guestSSPresent, guestSSReservedBits, guestSSGranularity
    case guestDataType, guestDataDPL, guestDataPresent, guestDataReservedBits, guestDataGranularity
    case guestTRType, guestTRDescriptorType, guestTRPresent, guestTRReservedBits, guestTRGranularity, guestTRUsable
    case guestLDTRType, guestLDTRPresent, guestLDTRReservedBits, guestLDTRGranularity
    // §26.3.1.3 descriptor-table registers
    case guestGDTRIDTRBaseCanonical, guestGDTRIDTRLimit
    // §26.3.1.4 RIP and RFLAGS
    case guestRIPHigh, guestRIPLinearAddressWidth, guestRFLAGSReserved, guestRFLAGSVM, guestRFLAGSIFForInterrupt
    // §26.3.1.5 non-register state
    case guestActivityStateValid, guestActivityHLTRequiresDPL0, guestActivityActiveWithSTIOrMovSSBlocking, guestActivityStateInjection
    case guestInterruptibilityReserved, guestInterruptibilitySTIAndMovSS, guestInterruptibilitySTIRequiresIF, guestInterruptibilitySMIOutsideSMM
    case guestInterruptibilityExternalInjection, guestInterruptibilityNMIInjection
    case guestPendingDebugReserved, guestPendingDebugBS
    case guestVMCSLinkPointer
    // §26.3.1.6 PDPTEs
    case guestPDPTEReserved
    // §26.4 MSR loading
    case entryMSRLoadEntry

    /// The SDM section that states the rule.
    public var section: String {
        switch self {
        case .pinBasedControlsReserved, .primaryControlsReserved, .secondaryControlsReserved, .cr3TargetCount,
             .ioBitmapAddresses, .msrBitmapAddress, .virtualAPICAddress, .tprThresholdReservedBits,
             .tprThresholdAboveVirtualTPR, .virtualNMIsRequireNMIExiting,
             .nmiWindowRequiresVirtualNMIs, .vpidNonZero, .eptPointerValid, .unrestrictedGuestRequiresEPT:
            return "§26.2.1.1"
        case .exitControlsReserved, .preemptionTimerSaveRequiresActivate, .exitMSRStoreAddress, .exitMSRLoadAddress:
            return "§26.2.1.2"
        case .entryControlsReserved, .entryInterruptionTypeValid, .entryInterruptionVectorValid,
             .entryDeliverErrorCodeConsistent, .entryInterruptionReservedBits, .entryErrorCodeReservedBits,
             .entryInstructionLength, .entryMSRLoadAddress:
            return "§26.2.1.3"
        case .hostCR0FixedBits, .hostCR4FixedBits, .hostCR3Width, .hostSysenterCanonical, .hostPATValid, .hostEFERValid:
            return "§26.2.2"
        case .hostSelectorRPLTI, .hostCSNonNull, .hostTRNonNull, .hostSSNonNull, .hostBasesCanonical:
            return "§26.2.3"
        case .hostAddressSpaceSize, .guestIA32eModeRequiresHost64, .hostRIPHigh, .hostPCIDERequires64, .hostCR4PAEIn64, .hostRIPCanonical:
            return "§26.2.4"
        case .guestCR0FixedBits, .guestCR0PagingRequiresPE, .guestCR4FixedBits, .guestDebugCtlReserved,
             .guestIA32eModeRequiresPaging, .guestPCIDERequiresIA32eMode, .guestCR3Width, .guestDR7High,
             .guestSysenterCanonical, .guestPATValid, .guestEFERReserved, .guestEFERLMA, .guestEFERLME:
            return "§26.3.1.1"
        case .guestGDTRIDTRBaseCanonical, .guestGDTRIDTRLimit:
            return "§26.3.1.3"
        case .guestRIPHigh, .guestRIPLinearAddressWidth, .guestRFLAGSReserved, .guestRFLAGSVM, .guestRFLAGSIFForInterrupt:
            return "§26.3.1.4"
        case .guestActivityStateValid, .guestActivityHLTRequiresDPL0, .guestActivityActiveWithSTIOrMovSSBlocking,
             .guestActivityStateInjection, .guestInterruptibilityReserved, .guestInterruptibilitySTIAndMovSS,
             .guestInterruptibilitySTIRequiresIF, .guestInterruptibilitySMIOutsideSMM,
             .guestInterruptibilityExternalInjection, .guestInterruptibilityNMIInjection, .guestPendingDebugReserved,
             .guestPendingDebugBS, .guestVMCSLinkPointer:
            return "§26.3.1.5"
        case .guestPDPTEReserved: return "§26.3.1.6"
        case .entryMSRLoadEntry: return "§26.4"
        default: return "§26.3.1.2"
        }
    }

    /// How a failure of this check is reported.
    public var kind: EntryFailureKind {
        switch section {
        case "§26.2.1.1", "§26.2.1.2", "§26.2.1.3": return .vmFailValid(7)
        case "§26.2.2", "§26.2.3", "§26.2.4": return .vmFailValid(8)
        case "§26.4": return .vmExit(.entryFailureMSRLoading)
        default: return .vmExit(.entryFailureGuestState)
        }
    }

    /// The rule in one sentence.
    public var rule: String {
        switch self {
        case .pinBasedControlsReserved: return "pin-based controls must respect IA32_VMX_TRUE_PINBASED_CTLS"
        case .primaryControlsReserved: return "primary processor-based controls must respect IA32_VMX_TRUE_PROCBASED_CTLS"
        case .secondaryControlsReserved: return "secondary controls must respect IA32_VMX_PROCBASED_CTLS2"
        case .cr3TargetCount: return "CR3-target count must not exceed 4"
        case .ioBitmapAddresses: return "I/O bitmap addresses must be 4-KByte aligned and within the physical-address width"
        case .msrBitmapAddress: return "the MSR-bitmap address must be 4-KByte aligned and within the physical-address width"
        case .virtualAPICAddress: return "with \"use TPR shadow\", the virtual-APIC address must be 4-KByte aligned and within the physical-address width"
        case .tprThresholdReservedBits: return "with \"use TPR shadow\", bits 31:4 of the TPR threshold must be 0"
        case .tprThresholdAboveVirtualTPR: return "with \"use TPR shadow\", TPR threshold bits 3:0 must not exceed VTPR bits 7:4"
        case .virtualNMIsRequireNMIExiting: return "\"virtual NMIs\" requires \"NMI exiting\""
        case .nmiWindowRequiresVirtualNMIs: return "\"NMI-window exiting\" requires \"virtual NMIs\""
        case .vpidNonZero: return "with \"enable VPID\", the VPID must not be 0"
        case .eptPointerValid: return "with \"enable EPT\", the EPTP must name a supported memory type (write-back) and a 4-level walk, with reserved bits 0"
        case .unrestrictedGuestRequiresEPT: return "\"unrestricted guest\" requires \"enable EPT\""
        case .exitControlsReserved: return "VM-exit controls must respect IA32_VMX_TRUE_EXIT_CTLS"
        case .preemptionTimerSaveRequiresActivate: return "\"save VMX-preemption timer value\" requires \"activate VMX-preemption timer\""
        case .exitMSRStoreAddress: return "the VM-exit MSR-store area must be 16-byte aligned, its first and last bytes within the physical-address width"
        case .exitMSRLoadAddress: return "the VM-exit MSR-load area must be 16-byte aligned, its first and last bytes within the physical-address width"
        case .entryControlsReserved: return "VM-entry controls must respect IA32_VMX_TRUE_ENTRY_CTLS"
        case .entryInterruptionTypeValid: return "the injected event's type must not be reserved (1)"
        case .entryInterruptionVectorValid: return "an injected NMI must have vector 2, a hardware exception a vector up to 31, \"other event\" vector 0"
        case .entryDeliverErrorCodeConsistent: return "\"deliver error code\" must be set exactly for hardware exceptions 8, 10–14 and 17 in protected mode"
        case .entryInterruptionReservedBits: return "bits 30:12 of the VM-entry interruption-information field must be 0"
        case .entryErrorCodeReservedBits: return "bits 31:16 of the VM-entry exception error code must be 0"
        case .entryInstructionLength: return "software interrupts and exceptions need a VM-entry instruction length of 1–15"
        case .entryMSRLoadAddress: return "the VM-entry MSR-load area must be 16-byte aligned, its first and last bytes within the physical-address width"
        case .hostCR0FixedBits: return "host CR0 must respect IA32_VMX_CR0_FIXED0/1"
        case .hostCR4FixedBits: return "host CR4 must respect IA32_VMX_CR4_FIXED0/1"
        case .hostCR3Width: return "host CR3 must be within the physical-address width"
        case .hostSysenterCanonical: return "host IA32_SYSENTER_ESP/EIP must be canonical"
        case .hostPATValid: return "with \"load IA32_PAT\", each host PAT entry must be a valid memory type"
        case .hostEFERValid: return "with \"load IA32_EFER\", host EFER reserved bits must be 0 and LMA = LME = host address-space size"
        case .hostSelectorRPLTI: return "host selector fields must have RPL 0 and TI 0"
        case .hostCSNonNull: return "the host CS selector must not be 0"
        case .hostTRNonNull: return "the host TR selector must not be 0"
        case .hostSSNonNull: return "the host SS selector must not be 0 when \"host address-space size\" is 0"
        case .hostBasesCanonical: return "host FS, GS, GDTR, IDTR and TR bases must be canonical"
        case .hostAddressSpaceSize: return "a processor in IA-32e mode must set \"host address-space size\""
        case .hostPCIDERequires64: return "host CR4.PCIDE needs \"host address-space size\""
        case .guestIA32eModeRequiresHost64: return "\"IA-32e mode guest\" requires \"host address-space size\""
        case .hostRIPHigh: return "without \"host address-space size\", bits 63:32 of host RIP must be 0"
        case .hostCR4PAEIn64: return "with \"host address-space size\", host CR4.PAE must be 1"
        case .hostRIPCanonical: return "with \"host address-space size\", host RIP must be canonical"
        case .guestCR0FixedBits: return "guest CR0 must respect IA32_VMX_CR0_FIXED0/1 (PE and PG may be 0 for an unrestricted guest)"
        case .guestCR0PagingRequiresPE: return "guest CR0.PG requires CR0.PE"
        case .guestCR4FixedBits: return "guest CR4 must respect IA32_VMX_CR4_FIXED0/1"
        case .guestDebugCtlReserved: return "with \"load debug controls\", reserved bits of guest IA32_DEBUGCTL must be 0"
        case .guestIA32eModeRequiresPaging: return "an IA-32e mode guest needs CR0.PG and CR4.PAE"
        case .guestPCIDERequiresIA32eMode: return "guest CR4.PCIDE needs \"IA-32e mode guest\""
        case .guestCR3Width: return "guest CR3 must be within the physical-address width"
        case .guestDR7High: return "with \"load debug controls\", bits 63:32 of guest DR7 must be 0"
        case .guestSysenterCanonical: return "guest IA32_SYSENTER_ESP/EIP must be canonical"
        case .guestPATValid: return "with \"load IA32_PAT\", each guest PAT entry must be a valid memory type"
        case .guestEFERReserved: return "with \"load IA32_EFER\", guest EFER reserved bits must be 0"
        case .guestEFERLMA: return "with \"load IA32_EFER\", guest EFER.LMA must equal \"IA-32e mode guest\""
        case .guestEFERLME: return "with \"load IA32_EFER\" and CR0.PG, guest EFER.LME must equal EFER.LMA"
        case .guestTRTableIndicator: return "the guest TR selector must have TI 0"
        case .guestLDTRTableIndicator: return "a usable guest LDTR must have TI 0"
        case .guestSSRPLEqualsCSRPL: return "guest SS.RPL must equal CS.RPL (not virtual-8086, not unrestricted)"
        case .guestV86Segment: return "in virtual-8086 mode each segment needs base = selector × 16, limit FFFFH, access rights F3H"
        case .guestBaseCanonical: return "guest TR, FS, GS and usable LDTR bases must be canonical"
        case .guestCSBaseHigh: return "bits 63:32 of the guest CS base must be 0"
        case .guestDataBaseHigh: return "bits 63:32 of usable guest SS, DS, ES bases must be 0"
        case .guestCSType: return "guest CS type must be 9, 11, 13 or 15 (3 for an unrestricted guest)"
        case .guestCSDescriptorType: return "guest CS must be a code/data descriptor (S = 1)"
        case .guestCSDPL: return "guest CS DPL must fit its type and SS.DPL"
        case .guestCSPresent: return "guest CS must be present"
        case .guestCSReservedBits: return "reserved bits 11:8 and 31:17 of guest CS access rights must be 0"
        case .guestCSLongAndDefault: return "an IA-32e mode guest's CS with L = 1 must have D/B = 0"
        case .guestCSGranularity: return "guest CS limit and G bit must agree"
        case .guestSSType: return "a usable guest SS must be type 3 or 7"
        case .guestSSDPL: return "guest SS.DPL must equal its RPL (0 with CS type 3 or CR0.PE = 0)"
        case .guestSSPresent: return "a usable guest SS must be present"
        case .guestSSReservedBits: return "reserved bits of usable guest SS access rights must be 0"
        case .guestSSGranularity: return "guest SS limit and G bit must agree"
        case .guestDataType: return "usable guest DS, ES, FS, GS must be accessed, and code segments readable"
        case .guestDataDPL: return "usable guest DS, ES, FS, GS of type 0–11 need DPL ≥ RPL"
        case .guestDataPresent: return "usable guest DS, ES, FS, GS must be present"
        case .guestDataReservedBits: return "reserved bits of usable guest DS, ES, FS, GS access rights must be 0"
        case .guestDataGranularity: return "usable guest DS, ES, FS, GS limit and G bit must agree"
        case .guestTRType: return "guest TR must be a busy TSS (type 11, or 3 outside IA-32e mode)"
        case .guestTRDescriptorType: return "guest TR must be a system descriptor (S = 0)"
        case .guestTRPresent: return "guest TR must be present"
        case .guestTRReservedBits: return "reserved bits of guest TR access rights must be 0"
        case .guestTRGranularity: return "guest TR limit and G bit must agree"
        case .guestTRUsable: return "guest TR must be usable"
        case .guestLDTRType: return "a usable guest LDTR must be type 2"
        case .guestLDTRPresent: return "a usable guest LDTR must be present"
        case .guestLDTRReservedBits: return "reserved bits of usable guest LDTR access rights must be 0 (and S = 0)"
        case .guestLDTRGranularity: return "usable guest LDTR limit and G bit must agree"
        case .guestGDTRIDTRBaseCanonical: return "guest GDTR and IDTR bases must be canonical"
        case .guestGDTRIDTRLimit: return "bits 31:16 of guest GDTR and IDTR limits must be 0"
        case .guestRIPHigh: return "outside IA-32e mode (or with CS.L = 0) bits 63:32 of guest RIP must be 0"
        case .guestRIPLinearAddressWidth: return "in 64-bit mode bits 63:48 of guest RIP must be identical"
        case .guestRFLAGSReserved: return "guest RFLAGS reserved bits must be 0 and bit 1 must be 1"
        case .guestRFLAGSVM: return "guest RFLAGS.VM must be 0 in IA-32e mode or with CR0.PE = 0"
        case .guestRFLAGSIFForInterrupt: return "injecting an external interrupt needs guest RFLAGS.IF = 1"
        case .guestActivityStateValid: return "the guest activity state must be 0–3 and supported"
        case .guestActivityHLTRequiresDPL0: return "activity state HLT needs SS.DPL = 0"
        case .guestActivityActiveWithSTIOrMovSSBlocking: return "with blocking by STI or by MOV SS the activity state must be active"
        case .guestActivityStateInjection: return "events injected into HLT, shutdown or wait-for-SIPI must be ones that state allows"
        case .guestInterruptibilityReserved: return "bits 31:5 of guest interruptibility state must be 0 (bit 4 unsupported)"
        case .guestInterruptibilitySTIAndMovSS: return "blocking by STI and by MOV SS must not both be set"
        case .guestInterruptibilitySTIRequiresIF: return "blocking by STI needs RFLAGS.IF = 1"
        case .guestInterruptibilitySMIOutsideSMM: return "blocking by SMI (bit 2) must be 0 outside SMM"
        case .guestInterruptibilityExternalInjection: return "injecting an external interrupt needs no blocking by STI or MOV SS"
        case .guestInterruptibilityNMIInjection: return "injecting an NMI needs no blocking by MOV SS (and no NMI blocking with virtual NMIs)"
        case .guestPendingDebugReserved: return "reserved bits of guest pending debug exceptions must be 0 (bit 16, RTM, too: RTM is not supported)"
        case .guestPendingDebugBS: return "with STI/MOV SS blocking or HLT, pending-debug BS must equal RFLAGS.TF without BTF"
        case .guestVMCSLinkPointer: return "a VMCS link pointer other than FFFFFFFF_FFFFFFFFH must be 4-KByte aligned, within the physical-address width, and point to a VMCS with this revision identifier and shadow-VMCS indicator 0"
        case .guestPDPTEReserved: return "with PAE paging, reserved bits of the present guest PDPTEs (the VMCS fields with EPT, else the table at guest CR3) must be 0"
        case .entryMSRLoadEntry: return "each VM-entry MSR-load entry must name a loadable MSR with a valid value"
        }
    }
}

/// What an offending value of a failed VM-entry check is (`EntryFailureValue`): the words shown before it.
/// Each case's raw value is the text a report shows.
public enum EntryFailureLabel: String, Sendable, Codable {
    // Values of VM-entry MSR loading (§26.4): the entry's 1-based number, the MSR index, the value.
    case msrLoadEntry = "MSR-load entry", msr = "MSR", value = "value"
    // Fields and registers the checks of §26.2–26.3 read.
    case accessRights = "access rights"
    case activityState = "activity state"
    case base = "base"
    case cr3TargetCount = "CR3-target count"
    case csAccessRights = "CS access rights"
    case csBase = "CS base"
    case csLimit = "CS limit"
    case csSelector = "CS selector"
    case entryControls = "entry controls"
    case eptp = "EPTP"
    case errorCode = "error code"
    case exitControls = "exit controls"
    case gdtrBase = "GDTR base"
    case gdtrLimit = "GDTR limit"
    case guestCR0 = "guest CR0"
    case guestCR3 = "guest CR3"
    case guestCR4 = "guest CR4"
    case guestDebugCtl = "guest DEBUGCTL"
    case guestDR7 = "guest DR7"
    case guestEFER = "guest EFER"
    case guestPAT = "guest PAT"
    case guestRFLAGS = "guest RFLAGS"
    case guestRIP = "guest RIP"
    case guestSysenterEIP = "guest SYSENTER_EIP"
    case guestSysenterESP = "guest SYSENTER_ESP"
    case hostCR0 = "host CR0"
    case hostCR3 = "host CR3"
    case hostCR4 = "host CR4"
    case hostEFER = "host EFER"
    case hostPAT = "host PAT"
    case hostRIP = "host RIP"
    case hostSysenterEIP = "host SYSENTER_EIP"
    case hostSysenterESP = "host SYSENTER_ESP"
    case idtrBase = "IDTR base"
    case idtrLimit = "IDTR limit"
    case instructionLength = "instruction length"
    case interruptibility = "interruptibility"
    case interruptionInfo = "interruption info"
    case ldtrAccessRights = "LDTR access rights"
    case ldtrBase = "LDTR base"
    case ldtrLimit = "LDTR limit"
    case ldtrSelector = "LDTR selector"
    case limit = "limit"
    case msrBitmap = "MSR bitmap"
    case msrLoadAddress = "MSR-load address"
    case msrStoreAddress = "MSR-store address"
    case pendingDebugExceptions = "pending debug exceptions"
    case pdpteIndex = "PDPTE"
    case pinBased = "pin-based"
    case primary = "primary"
    case revisionIdentifierThere = "revision identifier there"
    case rflags = "RFLAGS"
    case secondary = "secondary"
    case selector = "selector"
    case ssAccessRights = "SS access rights"
    case ssLimit = "SS limit"
    case ssSelector = "SS selector"
    case tprThreshold = "TPR threshold"
    case trAccessRights = "TR access rights"
    case trLimit = "TR limit"
    case trSelector = "TR selector"
    case virtualAPICAddress = "virtual-APIC address"
    case vmcsLinkPointer = "VMCS link pointer"
    case vpid = "VPID"
    case vtpr = "VTPR"
}

/// An offending value of a failed check, named by a label (`hex(.guestCR0, x)` shows as "guest CR0=0x…").
private func hex(_ label: EntryFailureLabel, _ x: UInt64) -> EntryFailureValue { EntryFailureValue(.label(label), x) }
/// An offending value named by a guest segment register and a label ("ss base=0x…").
private func hex(_ s: SegmentRegisterName, _ label: EntryFailureLabel, _ x: UInt64) -> EntryFailureValue {
    EntryFailureValue(.segment(s, label), x)
}
/// An offending value named by its VMCS field ("hostESSelector=0x…").
private func hex(field f: VMCSField, _ x: UInt64) -> EntryFailureValue { EntryFailureValue(.field(f), x) }

extension CPU {
    /// The checks of `checkVMEntry` that read guest memory instead of VMCS fields, so that a VMCS whose fields
    /// already passed every check can be re-checked without a VMWRITE: the VTPR on the virtual-APIC page
    /// against the TPR threshold (§26.2.1.1), the revision identifier at the VMCS link pointer (§26.3.1.5), and
    /// the PDPTEs at guest CR3 of a PAE guest without EPT (§26.3.1.6).
    static func checkEntryMemory(_ v: VMCS, memory: PhysicalMemory) -> EntryFailure? {
        if v.primary.contains(.useTPRShadow), let f = checkVirtualTPR(v, memory: memory) { return f }
        if v[.vmcsLinkPointer] != ~0, let f = checkLinkPointerRevision(v, memory: memory) { return f }
        if let f = checkPDPTEsInMemory(v, memory: memory) { return f }
        return nil
    }

    /// "TPR threshold ≤ VTPR[7:4]" with the VTPR read from the virtual-APIC page (SDM Vol. 3C §26.2.1.1).
    static func checkVirtualTPR(_ v: VMCS, memory: PhysicalMemory) -> EntryFailure? {
        let vtpr = memory.readInteger(at: v[.virtualAPICAddress] &+ 0x80, size: 1)
        guard v[.tprThreshold] & 0xF > vtpr >> 4 else { return nil }
        return EntryFailure(.tprThresholdAboveVirtualTPR, [hex(.tprThreshold, v[.tprThreshold]), hex(.vtpr, vtpr)])
    }

    /// The VMCS link pointer must name a region with the processor's VMCS revision (SDM Vol. 3C §26.3.1.5).
    static func checkLinkPointerRevision(_ v: VMCS, memory: PhysicalMemory) -> EntryFailure? {
        let link = v[.vmcsLinkPointer]
        let revision = memory.readInteger(at: link, size: 4)
        guard revision != UInt64(VMXCapability.vmcsRevision) else { return nil }
        return EntryFailure(.guestVMCSLinkPointer, [hex(.vmcsLinkPointer, link), hex(.revisionIdentifierThere, revision)])
    }

    /// Runs every check of SDM Vol. 3C §26.2–26.3 on a VMCS, in the SDM's order. Returns the first failure.
    /// `memory` is guest-physical memory, for the checks that read it (the VTPR on the virtual-APIC page,
    /// the revision identifier at the VMCS link pointer); without it those parts are skipped.
    static func checkVMEntry(_ v: VMCS, hostIn64: Bool = true, memory: PhysicalMemory? = nil, mbec: Bool = false) -> EntryFailure? {
        func fail(_ c: EntryCheck, _ vals: EntryFailureValue...) -> EntryFailure { EntryFailure(c, vals) }
        let maxPA = CPU.physicalAddressMask
        func canonical(_ x: UInt64) -> Bool { let t = Int64(bitPattern: x) >> 47; return t == 0 || t == -1 }
        func ctlOK(_ value: UInt32, default1: UInt32, allowed1: UInt32) -> Bool {
            value & default1 == default1 && value & ~(allowed1 | default1) == 0
        }

        // §26.2.1.1
        let pin = v.u32(.pinBasedControls)
        let prim = v.u32(.primaryProcessorBasedControls)
        let sec = v.secondary.rawValue
        let pinC = PinBasedControls(rawValue: pin)
        let primC = PrimaryProcessorControls(rawValue: prim)
        let secC = SecondaryProcessorControls(rawValue: sec)
        if !ctlOK(pin, default1: VMXCapability.pinDefault1, allowed1: VMXCapability.pinAllowed1.rawValue) {
            return fail(.pinBasedControlsReserved, hex(.pinBased, UInt64(pin)))
        }
        if !ctlOK(prim, default1: VMXCapability.primaryTrueDefault1, allowed1: VMXCapability.primaryAllowed1.rawValue) {
            return fail(.primaryControlsReserved, hex(.primary, UInt64(prim)))
        }
        let secondaryAllowed1 = VMXCapability.secondaryAllowed1.rawValue |
            (mbec ? SecondaryProcessorControls.modeBasedExecuteControlForEPT.rawValue : 0)
        if primC.contains(.activateSecondaryControls) && sec & ~secondaryAllowed1 != 0 {
            return fail(.secondaryControlsReserved, hex(.secondary, UInt64(sec)))
        }
        if v[.cr3TargetCount] > 4 { return fail(.cr3TargetCount, hex(.cr3TargetCount, v[.cr3TargetCount])) }
        if primC.contains(.useIOBitmaps) {
            for f in [VMCSField.ioBitmapA, .ioBitmapB] where v[f] & 0xFFF != 0 || v[f] & ~maxPA != 0 {
                return fail(.ioBitmapAddresses, hex(field: f, v[f]))
            }
        }
        if primC.contains(.useMSRBitmaps) && (v[.msrBitmap] & 0xFFF != 0 || v[.msrBitmap] & ~maxPA != 0) {
            return fail(.msrBitmapAddress, hex(.msrBitmap, v[.msrBitmap]))
        }
        if primC.contains(.useTPRShadow) {
            let a = v[.virtualAPICAddress]
            if a & 0xFFF != 0 || a & ~maxPA != 0 { return fail(.virtualAPICAddress, hex(.virtualAPICAddress, a)) }
            if v[.tprThreshold] & ~0xF != 0 { return fail(.tprThresholdReservedBits, hex(.tprThreshold, v[.tprThreshold])) }
            if let m = memory, let f = checkVirtualTPR(v, memory: m) { return f }
        }
        if !pinC.contains(.nmiExiting) && pinC.contains(.virtualNMIs) { return fail(.virtualNMIsRequireNMIExiting, hex(.pinBased, UInt64(pin))) }
        if !pinC.contains(.virtualNMIs) && primC.contains(.nmiWindowExiting) { return fail(.nmiWindowRequiresVirtualNMIs, hex(.primary, UInt64(prim))) }
        if secC.contains(.enableVPID) && v[.vpid] == 0 { return fail(.vpidNonZero, hex(.vpid, 0)) }
        if secC.contains(.enableEPT) {
            let e = v[.eptPointer]
            let memType = e & 7
            let walk = (e >> 3) & 7
            let adOK = true   // accessed/dirty flags are supported (EPT_VPID_CAP bit 21)
            // Only write-back is reported (IA32_VMX_EPT_VPID_CAP bit 14; bit 8, uncacheable, is 0).
            if memType != 6 || walk != 3 || e & 0xF80 != 0 || e & ~maxPA & ~0xFFF != 0 || !adOK {
                return fail(.eptPointerValid, hex(.eptp, e))
            }
        }
        if secC.contains(.unrestrictedGuest) && !secC.contains(.enableEPT) { return fail(.unrestrictedGuestRequiresEPT, hex(.secondary, UInt64(sec))) }

        // §26.2.1.2
        let exitC = v.exitControls
        if !ctlOK(exitC.rawValue, default1: VMXCapability.exitDefault1 & ~UInt32(1 << 2), allowed1: VMXCapability.exitAllowed1.rawValue) {
            return fail(.exitControlsReserved, hex(.exitControls, UInt64(exitC.rawValue)))
        }
        if !pinC.contains(.activateVMXPreemptionTimer) && exitC.contains(.saveVMXPreemptionTimerValue) {
            return fail(.preemptionTimerSaveRequiresActivate, hex(.exitControls, UInt64(exitC.rawValue)))
        }
        // An MSR area (§26.2.1.2, §26.2.1.3): 16-byte aligned, and its first and last bytes (address + 16 × count
        // − 1, computed wider than the physical-address width) within the width.
        func msrAreaBad(_ address: UInt64, _ count: UInt64) -> Bool {
            count > 0 && (address & 0xF != 0 || address & ~maxPA != 0 || (address &+ (count &<< 4) &- 1) & ~maxPA != 0)
        }
        if msrAreaBad(v[.vmExitMSRStoreAddress], v[.vmExitMSRStoreCount]) {
            return fail(.exitMSRStoreAddress, hex(.msrStoreAddress, v[.vmExitMSRStoreAddress]))
        }
        if msrAreaBad(v[.vmExitMSRLoadAddress], v[.vmExitMSRLoadCount]) {
            return fail(.exitMSRLoadAddress, hex(.msrLoadAddress, v[.vmExitMSRLoadAddress]))
        }

        // §26.2.1.3
        let entryC = v.entryControls
        if !ctlOK(entryC.rawValue, default1: VMXCapability.entryDefault1 & ~UInt32(1 << 2), allowed1: VMXCapability.entryAllowed1.rawValue) {
            return fail(.entryControlsReserved, hex(.entryControls, UInt64(entryC.rawValue)))
        }
        let inj = InterruptionInfo(rawValue: v.u32(.vmEntryInterruptionInformation))
        let guestCR0 = v[.guestCR0]
        let unrestricted = secC.contains(.unrestrictedGuest)
        if inj.valid {
            let t = inj.typeBits
            // Type 7 ("other event", a pending MTF VM exit) is supported with the monitor trap flag.
            if t == 1 { return fail(.entryInterruptionTypeValid, hex(.interruptionInfo, UInt64(inj.rawValue))) }
            if (t == 2 && inj.vector != 2) || (t == 3 && inj.vector > 31) || (t == 7 && inj.vector != 0) {
                return fail(.entryInterruptionVectorValid, hex(.interruptionInfo, UInt64(inj.rawValue)))
            }
            let needsCode = t == 3 && [8, 10, 11, 12, 13, 14, 17].contains(inj.vector) && (guestCR0 & 1 != 0 || !unrestricted)
            if inj.deliverErrorCode != needsCode {
                return fail(.entryDeliverErrorCodeConsistent, hex(.interruptionInfo, UInt64(inj.rawValue)), hex(.guestCR0, guestCR0))
            }
            if inj.rawValue & 0x7FFF_F000 != 0 { return fail(.entryInterruptionReservedBits, hex(.interruptionInfo, UInt64(inj.rawValue))) }
            if inj.deliverErrorCode && v[.vmEntryExceptionErrorCode] & 0xFFFF_0000 != 0 {
                return fail(.entryErrorCodeReservedBits, hex(.errorCode, v[.vmEntryExceptionErrorCode]))
            }
            if t == 4 || t == 5 || t == 6 {
                let len = v[.vmEntryInstructionLength]
                if len < 1 || len > 15 { return fail(.entryInstructionLength, hex(.instructionLength, len)) }
            }
        }
        if msrAreaBad(v[.vmEntryMSRLoadAddress], v[.vmEntryMSRLoadCount]) {
            return fail(.entryMSRLoadAddress, hex(.msrLoadAddress, v[.vmEntryMSRLoadAddress]))
        }
        // "Entry to SMM" and "deactivate dual-monitor treatment" are reserved (no SMM): the reserved-bit check covers them.

        // §26.2.2 host state
        let hCR0 = v[.hostCR0], hCR4 = v[.hostCR4]
        if hCR0 & VMXCapability.cr0Fixed0 != VMXCapability.cr0Fixed0 || hCR0 & ~VMXCapability.cr0Fixed1 != 0 {
            return fail(.hostCR0FixedBits, hex(.hostCR0, hCR0))
        }
        if hCR4 & VMXCapability.cr4Fixed0 != VMXCapability.cr4Fixed0 || hCR4 & ~VMXCapability.cr4Fixed1 != 0 {
            return fail(.hostCR4FixedBits, hex(.hostCR4, hCR4))
        }
        if v[.hostCR3] & ~maxPA != 0 { return fail(.hostCR3Width, hex(.hostCR3, v[.hostCR3])) }
        if !canonical(v[.hostIA32SysenterESP]) || !canonical(v[.hostIA32SysenterEIP]) {
            return fail(.hostSysenterCanonical, hex(.hostSysenterESP, v[.hostIA32SysenterESP]), hex(.hostSysenterEIP, v[.hostIA32SysenterEIP]))
        }
        if exitC.contains(.loadIA32PAT) && !validPAT(v[.hostIA32PAT]) { return fail(.hostPATValid, hex(.hostPAT, v[.hostIA32PAT])) }
        let host64 = exitC.contains(.hostAddressSpaceSize)
        if exitC.contains(.loadIA32EFER) {
            let e = v[.hostIA32EFER]
            let lma = e & EFER.lma.rawValue != 0, lme = e & EFER.lme.rawValue != 0
            if e & ~UInt64(0xD01) != 0 || lma != host64 || (hCR0 & CR0.pg.rawValue != 0 && lme != host64) {
                return fail(.hostEFERValid, hex(.hostEFER, e))
            }
        }
        // §26.2.3
        let hostSel: [VMCSField] = [.hostESSelector, .hostCSSelector, .hostSSSelector, .hostDSSelector, .hostFSSelector, .hostGSSelector, .hostTRSelector]
        for f in hostSel where v[f] & 7 != 0 { return fail(.hostSelectorRPLTI, hex(field: f, v[f])) }
        if v[.hostCSSelector] == 0 { return fail(.hostCSNonNull) }
        if v[.hostTRSelector] == 0 { return fail(.hostTRNonNull) }
        if !host64 && v[.hostSSSelector] == 0 { return fail(.hostSSNonNull) }
        for f in [VMCSField.hostFSBase, .hostGSBase, .hostGDTRBase, .hostIDTRBase, .hostTRBase] where !canonical(v[f]) {
            return fail(.hostBasesCanonical, hex(field: f, v[f]))
        }
        // §26.2.4
        let ia32e = entryC.contains(.ia32eModeGuest)
        if hostIn64 && !host64 { return fail(.hostAddressSpaceSize, hex(.exitControls, UInt64(exitC.rawValue))) }
        if !hostIn64 && (ia32e || host64) { return fail(.guestIA32eModeRequiresHost64, hex(.entryControls, UInt64(entryC.rawValue))) }
        if !host64 && v[.hostRIP] >> 32 != 0 { return fail(.hostRIPHigh, hex(.hostRIP, v[.hostRIP])) }
        if !host64 && hCR4 & CR4.pcide.rawValue != 0 { return fail(.hostPCIDERequires64, hex(.hostCR4, hCR4)) }
        if host64 {
            if hCR4 & CR4.pae.rawValue == 0 { return fail(.hostCR4PAEIn64, hex(.hostCR4, hCR4)) }
            if !canonical(v[.hostRIP]) { return fail(.hostRIPCanonical, hex(.hostRIP, v[.hostRIP])) }
        }

        // §26.3.1.1 guest control registers
        var fixed0 = VMXCapability.cr0Fixed0
        if unrestricted { fixed0 &= ~(CR0.pe.rawValue | CR0.pg.rawValue) }
        if guestCR0 & fixed0 != fixed0 || guestCR0 & ~VMXCapability.cr0Fixed1 != 0 {
            return fail(.guestCR0FixedBits, hex(.guestCR0, guestCR0))
        }
        if guestCR0 & CR0.pg.rawValue != 0 && guestCR0 & CR0.pe.rawValue == 0 { return fail(.guestCR0PagingRequiresPE, hex(.guestCR0, guestCR0)) }
        let gCR4 = v[.guestCR4]
        if gCR4 & VMXCapability.cr4Fixed0 != VMXCapability.cr4Fixed0 || gCR4 & ~VMXCapability.cr4Fixed1 != 0 {
            return fail(.guestCR4FixedBits, hex(.guestCR4, gCR4))
        }
        if entryC.contains(.loadDebugControls) && v[.guestIA32DebugCtl] & ~UInt64(0x3) != 0 {
            return fail(.guestDebugCtlReserved, hex(.guestDebugCtl, v[.guestIA32DebugCtl]))
        }
        if ia32e && (guestCR0 & CR0.pg.rawValue == 0 || gCR4 & CR4.pae.rawValue == 0) {
            return fail(.guestIA32eModeRequiresPaging, hex(.guestCR0, guestCR0), hex(.guestCR4, gCR4))
        }
        if !ia32e && gCR4 & CR4.pcide.rawValue != 0 { return fail(.guestPCIDERequiresIA32eMode, hex(.guestCR4, gCR4)) }
        if v[.guestCR3] & ~maxPA != 0 { return fail(.guestCR3Width, hex(.guestCR3, v[.guestCR3])) }
        if entryC.contains(.loadDebugControls) && v[.guestDR7] >> 32 != 0 { return fail(.guestDR7High, hex(.guestDR7, v[.guestDR7])) }
        if !canonical(v[.guestIA32SysenterESP]) || !canonical(v[.guestIA32SysenterEIP]) {
            return fail(.guestSysenterCanonical, hex(.guestSysenterESP, v[.guestIA32SysenterESP]), hex(.guestSysenterEIP, v[.guestIA32SysenterEIP]))
        }
        if entryC.contains(.loadIA32PAT) && !validPAT(v[.guestIA32PAT]) { return fail(.guestPATValid, hex(.guestPAT, v[.guestIA32PAT])) }
        if entryC.contains(.loadIA32EFER) {
            let e = v[.guestIA32EFER]
            if e & ~UInt64(0xD01) != 0 { return fail(.guestEFERReserved, hex(.guestEFER, e)) }
            if (e & EFER.lma.rawValue != 0) != ia32e { return fail(.guestEFERLMA, hex(.guestEFER, e)) }
            if guestCR0 & CR0.pg.rawValue != 0 && (e & EFER.lme.rawValue != 0) != (e & EFER.lma.rawValue != 0) {
                return fail(.guestEFERLME, hex(.guestEFER, e))
            }
        }

        // §26.3.1.2 guest segment registers
        let rflags = v[.guestRFLAGS]
        let v86 = rflags & RFLAGS.vm.rawValue != 0
        let cs = v.guestSegment(.cs), ss = v.guestSegment(.ss), tr = v.guestSegment(.tr), ldtr = v.guestSegment(.ldtr)
        if tr.selector & 4 != 0 { return fail(.guestTRTableIndicator, hex(.trSelector, UInt64(tr.selector))) }
        if !ldtr.unusable && ldtr.selector & 4 != 0 { return fail(.guestLDTRTableIndicator, hex(.ldtrSelector, UInt64(ldtr.selector))) }
        if !v86 && !unrestricted && ss.selector & 3 != cs.selector & 3 {
            return fail(.guestSSRPLEqualsCSRPL, hex(.ssSelector, UInt64(ss.selector)), hex(.csSelector, UInt64(cs.selector)))
        }
        if v86 {
            for s in [SegmentRegisterName.cs, .ss, .ds, .es, .fs, .gs] {
                let r = v.guestSegment(s)
                if r.base != UInt64(r.selector) << 4 || r.limit != 0xFFFF || r.accessRights != 0xF3 {
                    return fail(.guestV86Segment, hex(s, .selector, UInt64(r.selector)), hex(s, .base, r.base), hex(s, .limit, UInt64(r.limit)), hex(s, .accessRights, UInt64(r.accessRights)))
                }
            }
        }
        for s in [SegmentRegisterName.tr, .fs, .gs] where !canonical(v.guestSegment(s).base) {
            return fail(.guestBaseCanonical, hex(s, .base, v.guestSegment(s).base))
        }
        if !ldtr.unusable && !canonical(ldtr.base) { return fail(.guestBaseCanonical, hex(.ldtrBase, ldtr.base)) }
        if cs.base >> 32 != 0 { return fail(.guestCSBaseHigh, hex(.csBase, cs.base)) }
        for s in [SegmentRegisterName.ss, .ds, .es] {
            let r = v.guestSegment(s)
            if !r.unusable && r.base >> 32 != 0 { return fail(.guestDataBaseHigh, hex(s, .base, r.base)) }
        }
        func granularityOK(_ r: SegmentRegister) -> Bool {
            if r.limit & 0xFFF != 0xFFF && r.g { return false }
            if r.limit & 0xFFF0_0000 != 0 && !r.g { return false }
            return true
        }
        if !v86 {
            // CS
            let csType = cs.type
            if !([9, 11, 13, 15].contains(csType) || (unrestricted && csType == 3)) { return fail(.guestCSType, hex(.csAccessRights, UInt64(cs.accessRights))) }
            if !cs.s { return fail(.guestCSDescriptorType, hex(.csAccessRights, UInt64(cs.accessRights))) }
            if csType == 3 && cs.dpl != 0 { return fail(.guestCSDPL, hex(.csAccessRights, UInt64(cs.accessRights))) }
            if (csType == 9 || csType == 11) && cs.dpl != ss.dpl { return fail(.guestCSDPL, hex(.csAccessRights, UInt64(cs.accessRights)), hex(.ssAccessRights, UInt64(ss.accessRights))) }
            if (csType == 13 || csType == 15) && cs.dpl > ss.dpl { return fail(.guestCSDPL, hex(.csAccessRights, UInt64(cs.accessRights)), hex(.ssAccessRights, UInt64(ss.accessRights))) }
            if !cs.present { return fail(.guestCSPresent, hex(.csAccessRights, UInt64(cs.accessRights))) }
            if cs.accessRights & 0xFFFE_0F00 != 0 { return fail(.guestCSReservedBits, hex(.csAccessRights, UInt64(cs.accessRights))) }
            if ia32e && cs.l && cs.db { return fail(.guestCSLongAndDefault, hex(.csAccessRights, UInt64(cs.accessRights))) }
            if !granularityOK(cs) { return fail(.guestCSGranularity, hex(.csLimit, UInt64(cs.limit)), hex(.csAccessRights, UInt64(cs.accessRights))) }
            // SS
            if !ss.unusable {
                if ss.type != 3 && ss.type != 7 { return fail(.guestSSType, hex(.ssAccessRights, UInt64(ss.accessRights))) }
                if ss.accessRights & 0x10 == 0 || ss.accessRights & 0xFFFE_0F00 != 0 { return fail(.guestSSReservedBits, hex(.ssAccessRights, UInt64(ss.accessRights))) }
                if !ss.present { return fail(.guestSSPresent, hex(.ssAccessRights, UInt64(ss.accessRights))) }
                if !granularityOK(ss) { return fail(.guestSSGranularity, hex(.ssLimit, UInt64(ss.limit)), hex(.ssAccessRights, UInt64(ss.accessRights))) }
            }
            if !unrestricted && ss.dpl != ss.rpl { return fail(.guestSSDPL, hex(.ssSelector, UInt64(ss.selector)), hex(.ssAccessRights, UInt64(ss.accessRights))) }
            if (cs.type == 3 || guestCR0 & 1 == 0) && ss.dpl != 0 { return fail(.guestSSDPL, hex(.ssAccessRights, UInt64(ss.accessRights))) }
            // DS, ES, FS, GS
            for s in [SegmentRegisterName.ds, .es, .fs, .gs] {
                let r = v.guestSegment(s)
                if r.unusable { continue }
                let ar = UInt64(r.accessRights)
                if r.type & 1 == 0 || (r.type & 8 != 0 && r.type & 2 == 0) { return fail(.guestDataType, hex(s, .accessRights, ar)) }
                if !r.s || r.accessRights & 0xFFFE_0F00 != 0 { return fail(.guestDataReservedBits, hex(s, .accessRights, ar)) }
                if !unrestricted && r.type <= 11 && r.dpl < r.rpl { return fail(.guestDataDPL, hex(s, .selector, UInt64(r.selector)), hex(s, .accessRights, ar)) }
                if !r.present { return fail(.guestDataPresent, hex(s, .accessRights, ar)) }
                if !granularityOK(r) { return fail(.guestDataGranularity, hex(s, .limit, UInt64(r.limit)), hex(s, .accessRights, ar)) }
            }
        }
        // TR
        let trAR = UInt64(tr.accessRights)
        if !(tr.type == 11 || (!ia32e && tr.type == 3)) { return fail(.guestTRType, hex(.trAccessRights, trAR)) }
        if tr.s { return fail(.guestTRDescriptorType, hex(.trAccessRights, trAR)) }
        if !tr.present { return fail(.guestTRPresent, hex(.trAccessRights, trAR)) }
        if tr.accessRights & 0xFFFE_0F00 != 0 { return fail(.guestTRReservedBits, hex(.trAccessRights, trAR)) }
        if !granularityOK(tr) { return fail(.guestTRGranularity, hex(.trLimit, UInt64(tr.limit)), hex(.trAccessRights, trAR)) }
        if tr.unusable { return fail(.guestTRUsable, hex(.trAccessRights, trAR)) }
        // LDTR
        if !ldtr.unusable {
            let ar = UInt64(ldtr.accessRights)
            if ldtr.type != 2 { return fail(.guestLDTRType, hex(.ldtrAccessRights, ar)) }
            if ldtr.s || ldtr.accessRights & 0xFFFE_0F00 != 0 { return fail(.guestLDTRReservedBits, hex(.ldtrAccessRights, ar)) }
            if !ldtr.present { return fail(.guestLDTRPresent, hex(.ldtrAccessRights, ar)) }
            if !granularityOK(ldtr) { return fail(.guestLDTRGranularity, hex(.ldtrLimit, UInt64(ldtr.limit)), hex(.ldtrAccessRights, ar)) }
        }

        // §26.3.1.3
        if !canonical(v[.guestGDTRBase]) || !canonical(v[.guestIDTRBase]) {
            return fail(.guestGDTRIDTRBaseCanonical, hex(.gdtrBase, v[.guestGDTRBase]), hex(.idtrBase, v[.guestIDTRBase]))
        }
        if v[.guestGDTRLimit] >> 16 != 0 || v[.guestIDTRLimit] >> 16 != 0 {
            return fail(.guestGDTRIDTRLimit, hex(.gdtrLimit, v[.guestGDTRLimit]), hex(.idtrLimit, v[.guestIDTRLimit]))
        }

        // §26.3.1.4
        let rip = v[.guestRIP]
        if (!ia32e || !cs.l) && rip >> 32 != 0 { return fail(.guestRIPHigh, hex(.guestRIP, rip)) }
        // Bits 63:N identical, N the linear-address width CPUID.80000008H:EAX[15:8] reports (48): bit 47 is not
        // in the check, so a RIP just past the lower canonical half (a VMM advancing RIP over an instruction
        // that ends at 0x7FFF_FFFF_FFFF) enters, and the guest's next fetch takes #GP.
        if ia32e && cs.l && !(Int64(bitPattern: rip) >> 48 == 0 || Int64(bitPattern: rip) >> 48 == -1) {
            return fail(.guestRIPLinearAddressWidth, hex(.guestRIP, rip))
        }
        if rflags & ~RFLAGS.defined.rawValue & ~2 != 0 || rflags & 2 == 0 { return fail(.guestRFLAGSReserved, hex(.guestRFLAGS, rflags)) }
        if v86 && (ia32e || guestCR0 & 1 == 0) { return fail(.guestRFLAGSVM, hex(.guestRFLAGS, rflags)) }
        if inj.valid && inj.typeBits == 0 && rflags & RFLAGS.if.rawValue == 0 { return fail(.guestRFLAGSIFForInterrupt, hex(.guestRFLAGS, rflags)) }

        // §26.3.1.5
        let activity = v[.guestActivityState]
        if activity > 3 || activity == 1 && false { return fail(.guestActivityStateValid, hex(.activityState, activity)) }
        if activity == 1 && ss.dpl != 0 { return fail(.guestActivityHLTRequiresDPL0, hex(.activityState, activity), hex(.ssAccessRights, UInt64(ss.accessRights))) }
        let intr = v[.guestInterruptibilityState]
        if activity != 0 && intr & 3 != 0 {
            return fail(.guestActivityActiveWithSTIOrMovSSBlocking, hex(.activityState, activity), hex(.interruptibility, intr))
        }
        if inj.valid && activity != 0 {
            let t = inj.typeBits
            let ok: Bool
            switch activity {
            case 1: ok = t == 0 || t == 2 || (t == 3 && (inj.vector == 1 || inj.vector == 18)) || (t == 7 && inj.vector == 0)
            case 2: ok = t == 2 || (t == 3 && inj.vector == 18)
            default: ok = false
            }
            if !ok { return fail(.guestActivityStateInjection, hex(.activityState, activity), hex(.interruptionInfo, UInt64(inj.rawValue))) }
        }
        if intr & ~UInt64(0xF) != 0 { return fail(.guestInterruptibilityReserved, hex(.interruptibility, intr)) }
        if intr & 3 == 3 { return fail(.guestInterruptibilitySTIAndMovSS, hex(.interruptibility, intr)) }
        if intr & 1 != 0 && rflags & RFLAGS.if.rawValue == 0 { return fail(.guestInterruptibilitySTIRequiresIF, hex(.interruptibility, intr), hex(.rflags, rflags)) }
        if intr & 4 != 0 { return fail(.guestInterruptibilitySMIOutsideSMM, hex(.interruptibility, intr)) }
        if inj.valid && inj.typeBits == 0 && intr & 3 != 0 { return fail(.guestInterruptibilityExternalInjection, hex(.interruptibility, intr)) }
        if inj.valid && inj.typeBits == 2 && (intr & 2 != 0 || (pinC.contains(.virtualNMIs) && intr & 8 != 0)) {
            return fail(.guestInterruptibilityNMIInjection, hex(.interruptibility, intr))
        }
        let pde = v[.guestPendingDebugExceptions]
        if pde & ~UInt64(0x500F) != 0 { return fail(.guestPendingDebugReserved, hex(.pendingDebugExceptions, pde)) }
        if intr & 3 != 0 || activity == 1 {
            let tf = rflags & RFLAGS.tf.rawValue != 0
            let btf = v[.guestIA32DebugCtl] & 2 != 0
            let bs = pde & (1 << 14) != 0
            if (tf && !btf) != bs { return fail(.guestPendingDebugBS, hex(.pendingDebugExceptions, pde), hex(.rflags, rflags)) }
        }
        let link = v[.vmcsLinkPointer]
        if link != ~0 {
            if link & 0xFFF != 0 || link & ~maxPA != 0 { return fail(.guestVMCSLinkPointer, hex(.vmcsLinkPointer, link)) }
            if let m = memory, let f = checkLinkPointerRevision(v, memory: m) { return f }
        }

        // §26.3.1.6: with EPT, PAE paging outside IA-32e mode takes its PDPTEs from the guest-state area;
        // without, from the table CR3 names in guest memory.
        if secC.contains(.enableEPT) && guestCR0 & CR0.pg.rawValue != 0 && gCR4 & CR4.pae.rawValue != 0 && !ia32e {
            for f in [VMCSField.guestPDPTE0, .guestPDPTE1, .guestPDPTE2, .guestPDPTE3] {
                let e = v[f]
                if CPU.pdpteReserved(e) { return fail(.guestPDPTEReserved, hex(field: f, e)) }
            }
        }
        if let m = memory, let f = checkPDPTEsInMemory(v, memory: m) { return f }
        return nil
    }

    /// Whether a PAE PDPTE fails the checks MOV to CR3 makes (SDM Vol. 3A §4.4.1): present, with a reserved
    /// bit set (2:1, 8:5, or 63:MAXPHYADDR).
    static func pdpteReserved(_ e: UInt64) -> Bool {
        e & 1 != 0 && (e & 0x1E6 != 0 || e & ~CPU.physicalAddressMask != 0)
    }

    /// Whether a VM entry to this VMCS loads the guest's PDPTEs from guest memory (SDM Vol. 3C §26.3.1.6,
    /// §26.3.2.4): PAE paging (CR0.PG, CR4.PAE, not "IA-32e mode guest") without "enable EPT".
    static func loadsPDPTEsFromMemory(_ v: borrowing VMCS) -> Bool {
        v[.guestCR0] & CR0.pg.rawValue != 0 && v[.guestCR4] & CR4.pae.rawValue != 0
            && !v.entryControls.contains(.ia32eModeGuest) && !v.secondary.contains(.enableEPT)
    }

    /// The four PDPTEs at the 32-byte-aligned table guest CR3 names (bits 31:5), as PAE paging reads them.
    static func pdptesAt(cr3: UInt64, memory: PhysicalMemory) -> [UInt64] {
        let table = cr3 & 0xFFFF_FFE0
        return (0..<4).map { memory.readInteger(at: table &+ UInt64($0 * 8), size: 8) }
    }

    /// The PDPTE check of a VM entry without EPT to a PAE guest (SDM Vol. 3C §26.3.1.6): the PDPTEs that
    /// guest CR3 names in memory pass the MOV-to-CR3 checks, or the entry fails (exit qualification 2).
    static func checkPDPTEsInMemory(_ v: borrowing VMCS, memory: PhysicalMemory) -> EntryFailure? {
        guard loadsPDPTEsFromMemory(v) else { return nil }
        let cr3 = v[.guestCR3]
        for (i, e) in pdptesAt(cr3: cr3, memory: memory).enumerated() where pdpteReserved(e) {
            return EntryFailure(.guestPDPTEReserved, [hex(.guestCR3, cr3), hex(.pdpteIndex, UInt64(i)), hex(.value, e)])
        }
        return nil
    }

    /// Whether each byte of a PAT value is a valid memory type (0, 1, 4, 5, 6, 7).
    static func validPAT(_ pat: UInt64) -> Bool {
        for k in 0..<8 {
            let t = (pat >> (8 * UInt64(k))) & 0xFF
            if t == 2 || t == 3 || t > 7 { return false }
        }
        return true
    }
}
