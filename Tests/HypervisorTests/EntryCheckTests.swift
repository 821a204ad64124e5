// Every VM-entry check (`EntryCheck`) has a VMCS that breaks exactly that rule; and the list of checks
// is compared with the rules of SDM Vol. 3C §26.2–26.4 that apply to what the model implements.
import Testing
@testable import X86
@testable import Hypervisor

/// Valid starting points for a mutation.
enum EntryBase: String, Sendable {
    /// `VCPU.defaultVMCS()`: flat 32-bit protected mode, paging off, unrestricted guest.
    case protected32
    /// An IA-32e mode guest in 64-bit mode (CS.L = 1), paging on.
    case long64
    /// Without "unrestricted guest": 32-bit protected mode with paging.
    case restricted
    /// A virtual-8086 guest (RFLAGS.VM = 1).
    case v86
    /// Real-address mode with unrestricted guest.
    case real

    /// The valid VMCS of this shape.
    var vmcs: VMCS {
        var v = VCPU.defaultVMCS()
        switch self {
        case .protected32:
            break
        case .long64:
            v.entryControls.insert(.ia32eModeGuest)
            v[.guestCR0] |= CR0.pg.rawValue
            v[.guestCR4] |= CR4.pae.rawValue
            v[.guestCR3] = 0x10000
            v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
        case .restricted:
            v[.secondaryProcessorBasedControls] = UInt64(SecondaryProcessorControls.enableEPT.rawValue)
            v[.guestCR0] |= CR0.pg.rawValue
            v[.guestCR3] = 0x10000
        case .v86:
            v[.guestRFLAGS] = 2 | RFLAGS.vm.rawValue
            for s in [SegmentRegisterName.cs, .ss, .ds, .es, .fs, .gs] {
                v.setGuestSegment(s, SegmentRegister(selector: 0x100, base: 0x1000, limit: 0xFFFF, accessRights: 0xF3))
            }
        case .real:
            v[.guestCR0] = CR0.ne.rawValue | CR0.et.rawValue
            v.setGuestSegment(.cs, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x9B))
            for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] {
                v.setGuestSegment(s, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x93))
            }
        }
        return v
    }
}

/// One row of the table: a check and a mutation of a valid VMCS that breaks exactly that rule.
struct EntryCheckCase: Sendable, CustomStringConvertible {
    let check: EntryCheck
    let base: EntryBase
    /// Whether the processor is in IA-32e mode at VM entry (`VCPU` is always a 64-bit host).
    let hostIn64: Bool
    let mutate: @Sendable (inout VMCS, PhysicalMemory) -> Void

    init(_ check: EntryCheck, _ base: EntryBase = .protected32, hostIn64: Bool = true,
         _ mutate: @escaping @Sendable (inout VMCS, PhysicalMemory) -> Void) {
        self.check = check; self.base = base; self.hostIn64 = hostIn64; self.mutate = mutate
    }

    var description: String { "\(check) (\(base))" }
}

private let valid = 1 << 31 as UInt64
private func seg(_ v: inout VMCS, _ s: SegmentRegisterName, _ change: (inout SegmentRegister) -> Void) {
    var r = v.guestSegment(s)
    change(&r)
    v.setGuestSegment(s, r)
}
private func ar(_ v: inout VMCS, _ s: SegmentRegisterName, _ value: UInt64) {
    v[VMCS.guestFields(s).accessRights] = value
}
private func or(_ v: inout VMCS, _ f: VMCSField, _ bits: UInt32) { v[f] |= UInt64(bits) }

/// The table: one entry per `EntryCheck`.
let entryCheckCases: [EntryCheckCase] = [
    // §26.2.1.1
    .init(.pinBasedControlsReserved) { v, _ in or(&v, .pinBasedControls, PinBasedControls.processPostedInterrupts.rawValue) },
    .init(.primaryControlsReserved) { v, _ in or(&v, .primaryProcessorBasedControls, 1) },
    .init(.secondaryControlsReserved) { v, _ in or(&v, .secondaryProcessorBasedControls, SecondaryProcessorControls.virtualizeAPICAccesses.rawValue) },
    .init(.cr3TargetCount) { v, _ in v[.cr3TargetCount] = 5 },
    .init(.ioBitmapAddresses) { v, _ in
        or(&v, .primaryProcessorBasedControls, PrimaryProcessorControls.useIOBitmaps.rawValue); v[.ioBitmapA] = 0x1001 },
    .init(.msrBitmapAddress) { v, _ in
        or(&v, .primaryProcessorBasedControls, PrimaryProcessorControls.useMSRBitmaps.rawValue); v[.msrBitmap] = 0x10 },
    .init(.virtualAPICAddress) { v, _ in
        or(&v, .primaryProcessorBasedControls, PrimaryProcessorControls.useTPRShadow.rawValue); v[.virtualAPICAddress] = 0x6001 },
    .init(.tprThresholdReservedBits) { v, _ in
        or(&v, .primaryProcessorBasedControls, PrimaryProcessorControls.useTPRShadow.rawValue)
        v[.virtualAPICAddress] = 0x6000; v[.tprThreshold] = 0x10 },
    .init(.tprThresholdAboveVirtualTPR) { v, m in
        or(&v, .primaryProcessorBasedControls, PrimaryProcessorControls.useTPRShadow.rawValue)
        v[.virtualAPICAddress] = 0x6000; v[.tprThreshold] = 5
        m.writeInteger(0x40, at: 0x6080, size: 1) },
    .init(.virtualNMIsRequireNMIExiting) { v, _ in or(&v, .pinBasedControls, PinBasedControls.virtualNMIs.rawValue) },
    .init(.nmiWindowRequiresVirtualNMIs) { v, _ in or(&v, .primaryProcessorBasedControls, PrimaryProcessorControls.nmiWindowExiting.rawValue) },
    .init(.vpidNonZero) { v, _ in or(&v, .secondaryProcessorBasedControls, SecondaryProcessorControls.enableVPID.rawValue) },
    .init(.eptPointerValid) { v, _ in v[.eptPointer] = 0 | (3 << 3) },   // uncacheable: not reported
    .init(.unrestrictedGuestRequiresEPT) { v, _ in v[.secondaryProcessorBasedControls] = UInt64(SecondaryProcessorControls.unrestrictedGuest.rawValue) },
    // §26.2.1.2
    .init(.exitControlsReserved) { v, _ in or(&v, .vmExitControls, 1 << 23) },
    .init(.preemptionTimerSaveRequiresActivate) { v, _ in or(&v, .vmExitControls, VMExitControls.saveVMXPreemptionTimerValue.rawValue) },
    .init(.exitMSRStoreAddress) { v, _ in v[.vmExitMSRStoreCount] = 1; v[.vmExitMSRStoreAddress] = 0x5008 },
    .init(.exitMSRLoadAddress) { v, _ in v[.vmExitMSRLoadCount] = 1; v[.vmExitMSRLoadAddress] = 0x5008 },
    // §26.2.1.3
    .init(.entryControlsReserved) { v, _ in or(&v, .vmEntryControls, VMEntryControls.entryToSMM.rawValue) },
    .init(.entryInterruptionTypeValid) { v, _ in v[.vmEntryInterruptionInformation] = valid | 1 << 8 | 0x20 },
    .init(.entryInterruptionVectorValid) { v, _ in v[.vmEntryInterruptionInformation] = valid | 2 << 8 | 3 },
    .init(.entryDeliverErrorCodeConsistent) { v, _ in v[.vmEntryInterruptionInformation] = valid | 3 << 8 | 13 },
    .init(.entryInterruptionReservedBits) { v, _ in
        v[.guestRFLAGS] = 0x202; v[.vmEntryInterruptionInformation] = valid | 1 << 12 | 0x20 },
    .init(.entryErrorCodeReservedBits) { v, _ in
        v[.vmEntryInterruptionInformation] = valid | 1 << 11 | 3 << 8 | 13; v[.vmEntryExceptionErrorCode] = 0x10000 },
    .init(.entryInstructionLength) { v, _ in v[.vmEntryInterruptionInformation] = valid | 4 << 8 | 0x80 },
    .init(.entryMSRLoadAddress) { v, _ in v[.vmEntryMSRLoadCount] = 1; v[.vmEntryMSRLoadAddress] = 0x5004 },
    // §26.2.2
    .init(.hostCR0FixedBits) { v, _ in v[.hostCR0] &= ~CR0.ne.rawValue },
    .init(.hostCR4FixedBits) { v, _ in v[.hostCR4] &= ~CR4.vmxe.rawValue },
    .init(.hostCR3Width) { v, _ in v[.hostCR3] = 1 << 40 },
    .init(.hostSysenterCanonical) { v, _ in v[.hostIA32SysenterESP] = 1 << 47 },
    .init(.hostPATValid) { v, _ in or(&v, .vmExitControls, VMExitControls.loadIA32PAT.rawValue); v[.hostIA32PAT] = 2 },
    .init(.hostEFERValid) { v, _ in or(&v, .vmExitControls, VMExitControls.loadIA32EFER.rawValue); v[.hostIA32EFER] = 0 },
    // §26.2.3
    .init(.hostSelectorRPLTI) { v, _ in v[.hostDSSelector] = 3 },
    .init(.hostCSNonNull) { v, _ in v[.hostCSSelector] = 0 },
    .init(.hostTRNonNull) { v, _ in v[.hostTRSelector] = 0 },
    .init(.hostSSNonNull) { v, _ in v.exitControls.remove(.hostAddressSpaceSize); v[.hostSSSelector] = 0 },
    .init(.hostBasesCanonical) { v, _ in v[.hostFSBase] = 1 << 47 },
    // §26.2.4
    .init(.hostAddressSpaceSize) { v, _ in v.exitControls.remove(.hostAddressSpaceSize) },
    .init(.guestIA32eModeRequiresHost64, hostIn64: false) { v, _ in
        v.exitControls.remove(.hostAddressSpaceSize); v.entryControls.insert(.ia32eModeGuest) },
    .init(.hostRIPHigh, hostIn64: false) { v, _ in v.exitControls.remove(.hostAddressSpaceSize); v[.hostRIP] = 1 << 32 },
    .init(.hostPCIDERequires64, hostIn64: false) { v, _ in
        v.exitControls.remove(.hostAddressSpaceSize); v[.hostCR4] |= CR4.pcide.rawValue },
    .init(.hostCR4PAEIn64) { v, _ in v[.hostCR4] &= ~CR4.pae.rawValue },
    .init(.hostRIPCanonical) { v, _ in v[.hostRIP] = 1 << 47 },
    // §26.3.1.1
    .init(.guestCR0FixedBits) { v, _ in v[.guestCR0] &= ~CR0.ne.rawValue },
    .init(.guestCR0PagingRequiresPE) { v, _ in v[.guestCR0] = CR0.pg.rawValue | CR0.ne.rawValue | CR0.et.rawValue },
    .init(.guestCR4FixedBits) { v, _ in v[.guestCR4] = 0 },
    .init(.guestDebugCtlReserved) { v, _ in v.entryControls.insert(.loadDebugControls); v[.guestIA32DebugCtl] = 1 << 5 },
    .init(.guestIA32eModeRequiresPaging) { v, _ in v.entryControls.insert(.ia32eModeGuest) },
    .init(.guestPCIDERequiresIA32eMode) { v, _ in v[.guestCR4] |= CR4.pcide.rawValue },
    .init(.guestCR3Width) { v, _ in v[.guestCR3] = 1 << 40 },
    .init(.guestDR7High) { v, _ in v.entryControls.insert(.loadDebugControls); v[.guestDR7] = 1 << 32 | 0x400 },
    .init(.guestSysenterCanonical) { v, _ in v[.guestIA32SysenterEIP] = 1 << 47 },
    .init(.guestPATValid) { v, _ in v.entryControls.insert(.loadIA32PAT); v[.guestIA32PAT] = 3 },
    .init(.guestEFERReserved) { v, _ in v.entryControls.insert(.loadIA32EFER); v[.guestIA32EFER] = 1 << 1 },
    .init(.guestEFERLMA) { v, _ in v.entryControls.insert(.loadIA32EFER); v[.guestIA32EFER] = EFER.lma.rawValue },
    .init(.guestEFERLME, .long64) { v, _ in v.entryControls.insert(.loadIA32EFER); v[.guestIA32EFER] = EFER.lma.rawValue },
    // §26.3.1.2
    .init(.guestTRTableIndicator) { v, _ in v[.guestTRSelector] = 0x1C },
    .init(.guestLDTRTableIndicator) { v, _ in v.setGuestSegment(.ldtr, SegmentRegister(selector: 0x24, base: 0, limit: 0xFF, accessRights: 0x82)) },
    .init(.guestSSRPLEqualsCSRPL, .restricted) { v, _ in v[.guestSSSelector] = 0x13 },
    .init(.guestV86Segment, .v86) { v, _ in v[.guestDSBase] = 0x10 },
    .init(.guestBaseCanonical) { v, _ in v[.guestFSBase] = 1 << 47 },
    .init(.guestCSBaseHigh) { v, _ in v[.guestCSBase] = 1 << 32 },
    .init(.guestDataBaseHigh) { v, _ in v[.guestDSBase] = 1 << 32 },
    .init(.guestCSType) { v, _ in ar(&v, .cs, 0xC09A) },
    .init(.guestCSDescriptorType) { v, _ in ar(&v, .cs, 0xC08B) },
    .init(.guestCSDPL) { v, _ in ar(&v, .cs, 0xC0BB) },
    .init(.guestCSPresent) { v, _ in ar(&v, .cs, 0xC01B) },
    .init(.guestCSReservedBits) { v, _ in ar(&v, .cs, 0xC19B) },
    .init(.guestCSLongAndDefault, .long64) { v, _ in ar(&v, .cs, 0xE09B) },
    .init(.guestCSGranularity) { v, _ in v[.guestCSLimit] = 0xFFFF_F000 },
    .init(.guestSSType) { v, _ in ar(&v, .ss, 0xC091) },
    .init(.guestSSDPL, .restricted) { v, _ in ar(&v, .cs, 0xC09F); ar(&v, .ss, 0xC0B3) },
    .init(.guestSSPresent) { v, _ in ar(&v, .ss, 0xC013) },
    .init(.guestSSReservedBits) { v, _ in ar(&v, .ss, 0xC293) },
    .init(.guestSSGranularity) { v, _ in v[.guestSSLimit] = 0xFFFF_F000 },
    .init(.guestDataType) { v, _ in ar(&v, .ds, 0xC092) },
    .init(.guestDataDPL, .restricted) { v, _ in v[.guestDSSelector] = 0x13 },
    .init(.guestDataPresent) { v, _ in ar(&v, .es, 0xC013) },
    .init(.guestDataReservedBits) { v, _ in ar(&v, .fs, 0xC193) },
    .init(.guestDataGranularity) { v, _ in v[.guestGSLimit] = 0xFFFF_F000 },
    .init(.guestTRType) { v, _ in ar(&v, .tr, 0x89) },
    .init(.guestTRDescriptorType) { v, _ in ar(&v, .tr, 0x9B) },
    .init(.guestTRPresent) { v, _ in ar(&v, .tr, 0x0B) },
    .init(.guestTRReservedBits) { v, _ in ar(&v, .tr, 0x18B) },
    .init(.guestTRGranularity) { v, _ in ar(&v, .tr, 0x808B) },
    .init(.guestTRUsable) { v, _ in ar(&v, .tr, 0x1008B) },
    .init(.guestLDTRType) { v, _ in v.setGuestSegment(.ldtr, SegmentRegister(selector: 0x20, base: 0, limit: 0xFF, accessRights: 0x83)) },
    .init(.guestLDTRPresent) { v, _ in v.setGuestSegment(.ldtr, SegmentRegister(selector: 0x20, base: 0, limit: 0xFF, accessRights: 0x02)) },
    .init(.guestLDTRReservedBits) { v, _ in
        v.setGuestSegment(.ldtr, SegmentRegister(selector: 0x20, base: 0, limit: 0xFF, accessRights: 0x82)); ar(&v, .ldtr, 0x182) },
    .init(.guestLDTRGranularity) { v, _ in v.setGuestSegment(.ldtr, SegmentRegister(selector: 0x20, base: 0, limit: 0xFF, accessRights: 0x8082)) },
    // §26.3.1.3
    .init(.guestGDTRIDTRBaseCanonical) { v, _ in v[.guestGDTRBase] = 1 << 47 },
    .init(.guestGDTRIDTRLimit) { v, _ in v[.guestIDTRLimit] = 0x10000 },
    // §26.3.1.4
    .init(.guestRIPHigh) { v, _ in v[.guestRIP] = 1 << 32 },
    .init(.guestRIPLinearAddressWidth, .long64) { v, _ in v[.guestRIP] = 1 << 48 },
    .init(.guestRFLAGSReserved) { v, _ in v[.guestRFLAGS] = 0 },
    .init(.guestRFLAGSVM, .v86) { v, _ in v[.guestCR0] &= ~CR0.pe.rawValue },
    .init(.guestRFLAGSIFForInterrupt) { v, _ in v[.vmEntryInterruptionInformation] = valid | 0x20 },
    // §26.3.1.5
    .init(.guestActivityStateValid) { v, _ in v[.guestActivityState] = 4 },
    .init(.guestActivityHLTRequiresDPL0, .v86) { v, _ in v[.guestActivityState] = 1 },
    .init(.guestActivityActiveWithSTIOrMovSSBlocking) { v, _ in v[.guestActivityState] = 1; v[.guestInterruptibilityState] = 2 },
    .init(.guestActivityStateInjection) { v, _ in v[.guestActivityState] = 3; v[.vmEntryInterruptionInformation] = valid | 2 << 8 | 2 },
    .init(.guestInterruptibilityReserved) { v, _ in v[.guestInterruptibilityState] = 0x10 },
    .init(.guestInterruptibilitySTIAndMovSS) { v, _ in v[.guestRFLAGS] = 0x202; v[.guestInterruptibilityState] = 3 },
    .init(.guestInterruptibilitySTIRequiresIF) { v, _ in v[.guestInterruptibilityState] = 1 },
    .init(.guestInterruptibilitySMIOutsideSMM) { v, _ in v[.guestInterruptibilityState] = 4 },
    .init(.guestInterruptibilityExternalInjection) { v, _ in
        v[.guestRFLAGS] = 0x202; v[.guestInterruptibilityState] = 1; v[.vmEntryInterruptionInformation] = valid | 0x20 },
    .init(.guestInterruptibilityNMIInjection) { v, _ in v[.guestInterruptibilityState] = 2; v[.vmEntryInterruptionInformation] = valid | 2 << 8 | 2 },
    .init(.guestPendingDebugReserved) { v, _ in v[.guestPendingDebugExceptions] = 1 << 16 },
    .init(.guestPendingDebugBS) { v, _ in v[.guestInterruptibilityState] = 2; v[.guestPendingDebugExceptions] = 1 << 14 },
    .init(.guestVMCSLinkPointer) { v, _ in v[.vmcsLinkPointer] = 0x7000 },   // zeroed memory: wrong revision identifier
    // §26.3.1.6
    .init(.guestPDPTEReserved) { v, _ in
        v[.guestCR0] |= CR0.pg.rawValue; v[.guestCR4] |= CR4.pae.rawValue; v[.guestPDPTE2] = 0x3003 },
    // §26.4
    .init(.entryMSRLoadEntry) { v, m in
        v[.vmEntryMSRLoadCount] = 2; v[.vmEntryMSRLoadAddress] = 0x5000
        m.writeInteger(UInt64(MSRIndex.sysenterCS), at: 0x5000, size: 4)
        m.writeInteger(0x10, at: 0x5008, size: 8)
        m.writeInteger(UInt64(MSRIndex.fsBase), at: 0x5010, size: 4) },
]

/// A VM with 1 MiB of RAM at 0 whose vCPU holds the case's VMCS; HLT at guest RIP.
private func makeVCPU(_ c: EntryCheckCase) throws -> (VirtualMachine, VCPU) {
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)
    vm.memory.write([0xF4], at: 0)
    let vcpu = vm.makeVCPU()
    var v = c.base.vmcs
    c.mutate(&v, vm.memory)
    vcpu.vmcs = v
    return (vm, vcpu)
}

@Test(arguments: [EntryBase.protected32, .long64, .restricted, .v86, .real])
func entryCheckBasesAreValid(_ base: EntryBase) {
    let f = CPU.checkVMEntry(base.vmcs, memory: PhysicalMemory())
    #expect(f == nil, "\(f?.description ?? "")")
}

@Test(arguments: entryCheckCases)
func entryCheckFailsExactlyItsRule(_ c: EntryCheckCase) throws {
    let (vm, vcpu) = try makeVCPU(c)
    let f = CPU.checkVMEntry(vcpu.vmcs, hostIn64: c.hostIn64, memory: vm.memory)
    if c.check == .entryMSRLoadEntry {
        // §26.4: checked while the MSR-load list is loaded, after every §26.2–26.3 check passed.
        #expect(f == nil, "\(f?.description ?? "")")
    } else {
        #expect(f?.check == c.check, "\(f?.description ?? "passed")")
        #expect(f?.kind == c.check.kind)
    }
    // The unmutated base passes in the same host mode, so the mutation alone broke the rule.
    var base = c.base.vmcs
    if !c.hostIn64 { base.exitControls.remove(.hostAddressSpaceSize) }
    #expect(CPU.checkVMEntry(base, hostIn64: c.hostIn64, memory: vm.memory) == nil)
    guard c.hostIn64 else { return }   // a VCPU's host is always in IA-32e mode
    // Through the Hypervisor API.
    switch c.check.kind {
    case .vmFailValid(let n):
        #expect(n == 7 || n == 8)
        #expect(n == (c.check.section.hasPrefix("§26.2.1") ? 7 : 8))
        do {
            let e = try vcpu.run(instructionBudget: 10)
            Issue.record("entry succeeded: \(e.reason)")
        } catch {
            guard case .entryFailed(let got, let error) = error else { Issue.record("wrong error \(error)"); return }
            #expect(got.check == c.check)
            #expect(error == n)
            #expect(vcpu.read(.vmInstructionError) == UInt64(n))
        }
    case .vmExit(let reason):
        let e = try vcpu.run(instructionBudget: 10)
        #expect(e.reason == reason)
        #expect(reason == (c.check == .entryMSRLoadEntry ? .entryFailureMSRLoading : .entryFailureGuestState))
        #expect(e.entryFailure)
        #expect(e.failedCheck?.check == c.check)
        #expect(vcpu.read(.exitReason) == UInt64(reason.rawValue) | 1 << 31)
        if c.check == .entryMSRLoadEntry { #expect(e.qualification == 2) }   // the second entry failed
    }
}

@Test func msrAreaChecksCoverTheAreasLastByte() {
    // An MSR area whose first byte is within the physical-address width but whose last byte is not
    // (kvm-unit-tests' vmx_controls_test: count 2 at 2^40 − 16) fails; 2^40 − 32 ends at the last byte.
    let width: UInt64 = 1 << 40
    let areas: [(EntryCheck, VMCSField, VMCSField)] = [(.exitMSRStoreAddress, .vmExitMSRStoreAddress, .vmExitMSRStoreCount),
                                                        (.exitMSRLoadAddress, .vmExitMSRLoadAddress, .vmExitMSRLoadCount),
                                                        (.entryMSRLoadAddress, .vmEntryMSRLoadAddress, .vmEntryMSRLoadCount)]
    for (check, address, count) in areas {
        for (start, fails) in [(width - 16, true), (width - 32, false), (width - 48, false)] {
            var v = EntryBase.protected32.vmcs
            v[count] = 2
            v[address] = start
            let f = CPU.checkVMEntry(v, memory: PhysicalMemory())
            #expect((f?.check == check) == fails, "\(check) at \(String(start, radix: 16)): \(f?.description ?? "passed")")
        }
    }
}

@Test func everyEntryCheckHasATest() {
    let tested = entryCheckCases.map(\.check)
    #expect(Set(tested).count == tested.count, "a check is tested twice")
    #expect(Set(tested) == Set(EntryCheck.allCases))
    #expect(Set(EntryCheck.allCases).subtracting(tested).isEmpty, "untested: \(Set(EntryCheck.allCases).subtracting(tested))")
}

// MARK: The SDM's list

/// A rule of SDM Vol. 3C §26.2–26.4 and the checks that implement it, or why it does not apply.
struct SDMRule: Sendable {
    let section: String
    let rule: String
    let checks: [EntryCheck]
    let notApplicable: String?

    init(_ section: String, _ rule: String, _ checks: EntryCheck...) {
        self.section = section; self.rule = rule; self.checks = checks; notApplicable = nil
    }
    init(_ section: String, _ rule: String, na reason: String) {
        self.section = section; self.rule = rule; checks = []; notApplicable = reason
    }
}

private let unsupportedSecondary = "the control is reserved in IA32_VMX_PROCBASED_CTLS2 (secondaryControlsReserved)"
private let noSMM = "the model has no SMM or dual-monitor treatment; \"entry to SMM\" is reserved (entryControlsReserved)"

/// SDM Vol. 3C §26.2.1.1–§26.2.4, §26.3.1.1–§26.3.1.6 and §26.4, rule by rule.
let sdmEntryRules: [SDMRule] = [
    .init("§26.2.1.1", "pin-based controls: reserved bits set per IA32_VMX_(TRUE_)PINBASED_CTLS", .pinBasedControlsReserved),
    .init("§26.2.1.1", "primary processor-based controls: reserved bits per IA32_VMX_(TRUE_)PROCBASED_CTLS", .primaryControlsReserved),
    .init("§26.2.1.1", "secondary controls (if activated): reserved bits per IA32_VMX_PROCBASED_CTLS2", .secondaryControlsReserved),
    .init("§26.2.1.1", "CR3-target count not greater than 4", .cr3TargetCount),
    .init("§26.2.1.1", "use I/O bitmaps: bitmap A and B addresses 4-KByte aligned, within physical-address width", .ioBitmapAddresses),
    .init("§26.2.1.1", "use MSR bitmaps: MSR-bitmap address 4-KByte aligned, within physical-address width", .msrBitmapAddress),
    .init("§26.2.1.1", "use TPR shadow: virtual-APIC address 4-KByte aligned, within physical-address width", .virtualAPICAddress),
    .init("§26.2.1.1", "use TPR shadow, no virtual-interrupt delivery: TPR threshold bits 31:4 are 0", .tprThresholdReservedBits),
    .init("§26.2.1.1", "use TPR shadow, no virtual-interrupt delivery: TPR threshold 3:0 not above VTPR 7:4", .tprThresholdAboveVirtualTPR),
    .init("§26.2.1.1", "NMI exiting 0 implies virtual NMIs 0", .virtualNMIsRequireNMIExiting),
    .init("§26.2.1.1", "virtual NMIs 0 implies NMI-window exiting 0", .nmiWindowRequiresVirtualNMIs),
    .init("§26.2.1.1", "virtualize APIC accesses: APIC-access address aligned and within width", na: unsupportedSecondary),
    .init("§26.2.1.1", "use TPR shadow 0 implies virtualize x2APIC, APIC-register virtualization, virtual-interrupt delivery 0", na: unsupportedSecondary),
    .init("§26.2.1.1", "virtualize x2APIC mode implies virtualize APIC accesses 0", na: unsupportedSecondary),
    .init("§26.2.1.1", "virtual-interrupt delivery implies external-interrupt exiting", na: unsupportedSecondary),
    .init("§26.2.1.1", "process posted interrupts: virtual-interrupt delivery, acknowledge on exit, vector, descriptor address",
          na: "\"process posted interrupts\" is reserved in IA32_VMX_TRUE_PINBASED_CTLS (pinBasedControlsReserved)"),
    .init("§26.2.1.1", "enable VPID: VPID is not 0000H", .vpidNonZero),
    .init("§26.2.1.1", "enable EPT: EPTP memory type supported, walk length 4, A/D bit only if supported, reserved bits 0", .eptPointerValid),
    .init("§26.2.1.1", "enable PML: enable EPT, PML address aligned and within width", na: unsupportedSecondary),
    .init("§26.2.1.1", "unrestricted guest implies enable EPT", .unrestrictedGuestRequiresEPT),
    .init("§26.2.1.1", "enable VM functions: reserved VM-function controls, EPTP switching and EPTP-list address", na: unsupportedSecondary),
    .init("§26.2.1.1", "VMCS shadowing: VMREAD/VMWRITE bitmap addresses aligned and within width", na: unsupportedSecondary),
    .init("§26.2.1.1", "EPT-violation #VE: virtualization-exception information address aligned and within width", na: unsupportedSecondary),
    .init("§26.2.1.2", "VM-exit controls: reserved bits per IA32_VMX_(TRUE_)EXIT_CTLS", .exitControlsReserved),
    .init("§26.2.1.2", "activate VMX-preemption timer 0 implies save VMX-preemption timer value 0", .preemptionTimerSaveRequiresActivate),
    .init("§26.2.1.2", "VM-exit MSR-store count > 0: address 16-byte aligned, within width", .exitMSRStoreAddress),
    .init("§26.2.1.2", "VM-exit MSR-load count > 0: address 16-byte aligned, within width", .exitMSRLoadAddress),
    .init("§26.2.1.3", "VM-entry controls: reserved bits per IA32_VMX_(TRUE_)ENTRY_CTLS", .entryControlsReserved),
    .init("§26.2.1.3", "injected event: interruption type not reserved; other event only with monitor trap flag", .entryInterruptionTypeValid),
    .init("§26.2.1.3", "injected event: NMI vector 2, hardware exception vector ≤ 31, other event vector 0", .entryInterruptionVectorValid),
    .init("§26.2.1.3", "injected event: deliver-error-code bit set exactly for #DF, #TS, #NP, #SS, #GP, #PF, #AC in protected mode", .entryDeliverErrorCodeConsistent),
    .init("§26.2.1.3", "injected event: reserved bits 30:12 are 0", .entryInterruptionReservedBits),
    .init("§26.2.1.3", "injected event with error code: error-code bits 31:16 are 0", .entryErrorCodeReservedBits),
    .init("§26.2.1.3", "injected software interrupt/exception/privileged exception: instruction length 1–15", .entryInstructionLength),
    .init("§26.2.1.3", "VM-entry MSR-load count > 0: address 16-byte aligned, within width", .entryMSRLoadAddress),
    .init("§26.2.1.3", "entry to SMM and deactivate dual-monitor treatment are 0 outside SMM", na: noSMM),
    .init("§26.2.1.3", "entry to SMM and deactivate dual-monitor treatment are not both 1", na: noSMM),
    .init("§26.2.2", "host CR0 respects IA32_VMX_CR0_FIXED0/1", .hostCR0FixedBits),
    .init("§26.2.2", "host CR4 respects IA32_VMX_CR4_FIXED0/1", .hostCR4FixedBits),
    .init("§26.2.2", "host CR3 within physical-address width", .hostCR3Width),
    .init("§26.2.2", "host IA32_SYSENTER_ESP and _EIP canonical", .hostSysenterCanonical),
    .init("§26.2.2", "load IA32_PERF_GLOBAL_CTRL: host value reserved bits 0",
          na: "\"load IA32_PERF_GLOBAL_CTRL\" is reserved (no performance counters)"),
    .init("§26.2.2", "load IA32_PAT: each host PAT entry a valid memory type", .hostPATValid),
    .init("§26.2.2", "load IA32_EFER: host EFER reserved bits 0, LMA and LME (with CR0.PG) equal host address-space size", .hostEFERValid),
    .init("§26.2.3", "host ES, CS, SS, DS, FS, GS, TR selectors: RPL 0 and TI 0", .hostSelectorRPLTI),
    .init("§26.2.3", "host CS selector not 0000H", .hostCSNonNull),
    .init("§26.2.3", "host TR selector not 0000H", .hostTRNonNull),
    .init("§26.2.3", "host SS selector not 0000H when host address-space size is 0", .hostSSNonNull),
    .init("§26.2.3", "host FS, GS, GDTR, IDTR, TR bases canonical", .hostBasesCanonical),
    .init("§26.2.4", "processor outside IA-32e mode: IA-32e mode guest and host address-space size are 0", .guestIA32eModeRequiresHost64),
    .init("§26.2.4", "processor in IA-32e mode: host address-space size is 1", .hostAddressSpaceSize),
    .init("§26.2.4", "host address-space size 0: host CR4.PCIDE is 0", .hostPCIDERequires64),
    .init("§26.2.4", "host address-space size 0: bits 63:32 of host RIP are 0", .hostRIPHigh),
    .init("§26.2.4", "host address-space size 1: host CR4.PAE is 1", .hostCR4PAEIn64),
    .init("§26.2.4", "host address-space size 1: host RIP canonical", .hostRIPCanonical),
    .init("§26.3.1.1", "guest CR0 respects IA32_VMX_CR0_FIXED0/1 (PE, PG free with unrestricted guest)", .guestCR0FixedBits),
    .init("§26.3.1.1", "guest CR0.PG implies CR0.PE", .guestCR0PagingRequiresPE),
    .init("§26.3.1.1", "guest CR4 respects IA32_VMX_CR4_FIXED0/1", .guestCR4FixedBits),
    .init("§26.3.1.1", "load debug controls: guest IA32_DEBUGCTL reserved bits 0", .guestDebugCtlReserved),
    .init("§26.3.1.1", "IA-32e mode guest: CR0.PG and CR4.PAE are 1", .guestIA32eModeRequiresPaging),
    .init("§26.3.1.1", "not IA-32e mode guest: CR4.PCIDE is 0", .guestPCIDERequiresIA32eMode),
    .init("§26.3.1.1", "guest CR3 within physical-address width", .guestCR3Width),
    .init("§26.3.1.1", "load debug controls: bits 63:32 of guest DR7 are 0", .guestDR7High),
    .init("§26.3.1.1", "guest IA32_SYSENTER_ESP and _EIP canonical", .guestSysenterCanonical),
    .init("§26.3.1.1", "load IA32_PERF_GLOBAL_CTRL: guest value reserved bits 0", na: "\"load IA32_PERF_GLOBAL_CTRL\" is reserved"),
    .init("§26.3.1.1", "load IA32_PAT: each guest PAT entry a valid memory type", .guestPATValid),
    .init("§26.3.1.1", "load IA32_EFER: guest EFER reserved bits 0", .guestEFERReserved),
    .init("§26.3.1.1", "load IA32_EFER: guest EFER.LMA equals IA-32e mode guest", .guestEFERLMA),
    .init("§26.3.1.1", "load IA32_EFER with CR0.PG: guest EFER.LME equals IA-32e mode guest", .guestEFERLME),
    .init("§26.3.1.1", "load IA32_BNDCFGS: reserved bits 0, base canonical", na: "\"load IA32_BNDCFGS\" is reserved (no MPX)"),
    .init("§26.3.1.2", "TR selector TI 0", .guestTRTableIndicator),
    .init("§26.3.1.2", "usable LDTR selector TI 0", .guestLDTRTableIndicator),
    .init("§26.3.1.2", "not virtual-8086, not unrestricted: SS.RPL equals CS.RPL", .guestSSRPLEqualsCSRPL),
    .init("§26.3.1.2", "virtual-8086: CS, SS, DS, ES, FS, GS base equals selector × 16", .guestV86Segment),
    .init("§26.3.1.2", "virtual-8086: CS, SS, DS, ES, FS, GS limit 0000FFFFH", .guestV86Segment),
    .init("§26.3.1.2", "virtual-8086: CS, SS, DS, ES, FS, GS access rights 000000F3H", .guestV86Segment),
    .init("§26.3.1.2", "TR, FS, GS bases and usable LDTR base canonical", .guestBaseCanonical),
    .init("§26.3.1.2", "CS base bits 63:32 are 0", .guestCSBaseHigh),
    .init("§26.3.1.2", "usable SS, DS, ES base bits 63:32 are 0", .guestDataBaseHigh),
    .init("§26.3.1.2", "CS type 9, 11, 13, 15 (or 3 with unrestricted guest)", .guestCSType),
    .init("§26.3.1.2", "usable SS type 3 or 7", .guestSSType),
    .init("§26.3.1.2", "usable DS, ES, FS, GS: accessed; code segments readable", .guestDataType),
    .init("§26.3.1.2", "S = 1 for CS and usable SS, DS, ES, FS, GS", .guestCSDescriptorType, .guestSSReservedBits, .guestDataReservedBits),
    .init("§26.3.1.2", "CS DPL: 0 for type 3, equal to SS.DPL for 9/11, not above SS.DPL for 13/15", .guestCSDPL),
    .init("§26.3.1.2", "SS DPL equals its RPL (not unrestricted); 0 with CS type 3 or CR0.PE 0", .guestSSDPL),
    .init("§26.3.1.2", "usable DS, ES, FS, GS of type 0–11: DPL not below RPL (not unrestricted)", .guestDataDPL),
    .init("§26.3.1.2", "P = 1 for CS and usable SS, DS, ES, FS, GS", .guestCSPresent, .guestSSPresent, .guestDataPresent),
    .init("§26.3.1.2", "access-rights bits 11:8 are 0 for CS and usable SS, DS, ES, FS, GS", .guestCSReservedBits, .guestSSReservedBits, .guestDataReservedBits),
    .init("§26.3.1.2", "IA-32e mode guest with CS.L = 1: CS.D/B is 0", .guestCSLongAndDefault),
    .init("§26.3.1.2", "limit and G agree for CS and usable SS, DS, ES, FS, GS", .guestCSGranularity, .guestSSGranularity, .guestDataGranularity),
    .init("§26.3.1.2", "access-rights bits 31:17 are 0 for CS and usable SS, DS, ES, FS, GS", .guestCSReservedBits, .guestSSReservedBits, .guestDataReservedBits),
    .init("§26.3.1.2", "TR type 3 or 11 (11 in IA-32e mode)", .guestTRType),
    .init("§26.3.1.2", "TR S = 0", .guestTRDescriptorType),
    .init("§26.3.1.2", "TR P = 1", .guestTRPresent),
    .init("§26.3.1.2", "TR access-rights bits 11:8 and 31:17 are 0", .guestTRReservedBits),
    .init("§26.3.1.2", "TR limit and G agree", .guestTRGranularity),
    .init("§26.3.1.2", "TR is usable", .guestTRUsable),
    .init("§26.3.1.2", "usable LDTR type 2", .guestLDTRType),
    .init("§26.3.1.2", "usable LDTR S = 0, access-rights bits 11:8 and 31:17 are 0", .guestLDTRReservedBits),
    .init("§26.3.1.2", "usable LDTR P = 1", .guestLDTRPresent),
    .init("§26.3.1.2", "usable LDTR limit and G agree", .guestLDTRGranularity),
    .init("§26.3.1.3", "GDTR and IDTR bases canonical", .guestGDTRIDTRBaseCanonical),
    .init("§26.3.1.3", "GDTR and IDTR limit bits 31:16 are 0", .guestGDTRIDTRLimit),
    .init("§26.3.1.4", "not IA-32e mode or CS.L = 0: RIP bits 63:32 are 0", .guestRIPHigh),
    .init("§26.3.1.4", "IA-32e mode and CS.L = 1: RIP bits 63:48 identical", .guestRIPLinearAddressWidth),
    .init("§26.3.1.4", "RFLAGS reserved bits 63:22, 15, 5, 3 are 0 and bit 1 is 1", .guestRFLAGSReserved),
    .init("§26.3.1.4", "RFLAGS.VM is 0 in IA-32e mode or with CR0.PE 0", .guestRFLAGSVM),
    .init("§26.3.1.4", "injecting an external interrupt: RFLAGS.IF is 1", .guestRFLAGSIFForInterrupt),
    .init("§26.3.1.5", "activity state 0–3 and supported (IA32_VMX_MISC)", .guestActivityStateValid),
    .init("§26.3.1.5", "activity state HLT only with SS.DPL 0", .guestActivityHLTRequiresDPL0),
    .init("§26.3.1.5", "blocking by STI or MOV SS: activity state active", .guestActivityActiveWithSTIOrMovSSBlocking),
    .init("§26.3.1.5", "injected event allowed in the activity state (HLT, shutdown, wait-for-SIPI)", .guestActivityStateInjection),
    .init("§26.3.1.5", "wait-for-SIPI not with entry to SMM", na: noSMM),
    .init("§26.3.1.5", "interruptibility reserved bits 31:4 (bit 4 without SGX) are 0", .guestInterruptibilityReserved),
    .init("§26.3.1.5", "not both blocking by STI and by MOV SS", .guestInterruptibilitySTIAndMovSS),
    .init("§26.3.1.5", "blocking by STI only with RFLAGS.IF 1", .guestInterruptibilitySTIRequiresIF),
    .init("§26.3.1.5", "injecting an external interrupt: no blocking by STI or MOV SS", .guestInterruptibilityExternalInjection),
    .init("§26.3.1.5", "injecting an NMI: no blocking by MOV SS", .guestInterruptibilityNMIInjection),
    .init("§26.3.1.5", "injecting an NMI with blocking by STI may fail (model-specific)", na: "the model accepts it (its choice of the allowed behaviour)"),
    .init("§26.3.1.5", "blocking by SMI is 0 outside SMM", .guestInterruptibilitySMIOutsideSMM),
    .init("§26.3.1.5", "blocking by SMI is 1 with entry to SMM", na: noSMM),
    .init("§26.3.1.5", "virtual NMIs, injecting an NMI: no blocking by NMI", .guestInterruptibilityNMIInjection),
    .init("§26.3.1.5", "pending debug exceptions: reserved bits 11:4, 13, 15, 63:17 (and 16 without RTM) are 0", .guestPendingDebugReserved),
    .init("§26.3.1.5", "STI/MOV SS blocking or HLT: BS is 1 if RFLAGS.TF 1 and DEBUGCTL.BTF 0", .guestPendingDebugBS),
    .init("§26.3.1.5", "STI/MOV SS blocking or HLT: BS is 0 if RFLAGS.TF 0 or DEBUGCTL.BTF 1", .guestPendingDebugBS),
    .init("§26.3.1.5", "pending debug exceptions with RTM bit set: RTM rules", na: "RTM is not supported: bit 16 is reserved (guestPendingDebugReserved)"),
    .init("§26.3.1.5", "VMCS link pointer (not all ones): bits 11:0 are 0", .guestVMCSLinkPointer),
    .init("§26.3.1.5", "VMCS link pointer (not all ones): within physical-address width", .guestVMCSLinkPointer),
    .init("§26.3.1.5", "VMCS link pointer (not all ones): referenced VMCS has this revision identifier", .guestVMCSLinkPointer),
    .init("§26.3.1.5", "VMCS link pointer (not all ones): shadow-VMCS indicator equals VMCS shadowing", .guestVMCSLinkPointer),
    .init("§26.3.1.5", "entry to SMM: executive-VMCS pointer and MSEG checks", na: noSMM),
    .init("§26.3.1.6", "PAE paging with EPT outside IA-32e mode: PDPTE fields' reserved bits are 0", .guestPDPTEReserved),
    .init("§26.3.1.6", "PAE paging without EPT: PDPTEs at CR3 have reserved bits 0",
          na: "\"enable EPT\" is always 1 in the Hypervisor API's model (EPT is the VM's memory map); the PDPTEs come from the VMCS"),
    .init("§26.4", "MSR-load entry: index is not FS_BASE (C0000100H) or GS_BASE (C0000101H)", .entryMSRLoadEntry),
    .init("§26.4", "MSR-load entry: index bits 31:8 are not 000008H (x2APIC MSRs)", .entryMSRLoadEntry),
    .init("§26.4", "MSR-load entry: index is not IA32_SMM_MONITOR_CTL", .entryMSRLoadEntry),
    .init("§26.4", "MSR-load entry: reserved bits 63:32 are 0", .entryMSRLoadEntry),
    .init("§26.4", "MSR-load entry: the value would not make WRMSR fault", .entryMSRLoadEntry),
]

@Test func entryChecksMatchTheSDM() {
    let covered = Set(sdmEntryRules.flatMap(\.checks))
    // Every check implements some SDM rule, and every applicable rule has a check.
    #expect(covered == Set(EntryCheck.allCases), "checks without an SDM rule: \(Set(EntryCheck.allCases).subtracting(covered))")
    for r in sdmEntryRules {
        #expect(r.checks.isEmpty != (r.notApplicable == nil), "\(r.section) \(r.rule)")
        for c in r.checks { #expect(c.section == r.section, "\(c) is in \(c.section), the rule in \(r.section)") }
    }
    let applicable = sdmEntryRules.filter { $0.notApplicable == nil }.count
    #expect(applicable + sdmEntryRules.filter { $0.notApplicable != nil }.count == sdmEntryRules.count)
    print("SDM §26.2–26.4: \(sdmEntryRules.count) rules, \(applicable) applicable and covered by \(EntryCheck.allCases.count) checks, \(sdmEntryRules.count - applicable) not applicable")
}

/// §26.3.1.4 checks bits 63:N of RIP with N the linear-address width (48), not canonicality: RIP = 2^47, just
/// past the lower canonical half, passes the checks (the guest's fetch there then takes #GP(0): kvm-unit-tests'
/// hypercall entry checks that a VMCALL ending at 0x7FFF_FFFF_FFFF returns into that fault), 2^48 does not.
@Test("a 64-bit guest RIP with bit 47 set but bits 63:48 clear passes the entry checks")
func guestRIPAboveLowerCanonicalHalfEnters() throws {
    var v = EntryBase.long64.vmcs
    #expect(CPU.checkVMEntry(v, memory: PhysicalMemory()) == nil)
    v[.guestRIP] = 1 << 47
    #expect(CPU.checkVMEntry(v, memory: PhysicalMemory()) == nil)
    v[.guestRIP] = 1 << 48
    #expect(CPU.checkVMEntry(v, memory: PhysicalMemory())?.check == .guestRIPLinearAddressWidth)
}
