// VM entry, VM exit and the conditions that cause exits in VMX non-root operation
// (SDM Vol. 3C chapters 25 "VMX Non-Root Operation", 26 "VM Entries", 27 "VM Exits").

/// The VMX state of a processor: the current VMCS and what the run loop needs from it.
public final class VMXRuntime {
    /// The current VMCS, reached through a pointer allocated once so the processor's many field accesses on
    /// entry and exit pay no exclusivity checks.
    let current: UnsafeMutablePointer<VMCS>
    /// The current VMCS (for the Hypervisor API: the vCPU's VMCS).
    public var vmcs: VMCS {
        get { syncExitInformation(); return current.pointee }
        set { current.pointee = newValue; hot.pointee.exitInformationStale = false }
    }

    /// Writes the last exit into the VMCS exit-information fields if they lag it.
    func syncExitInformation() {
        guard hot.pointee.exitInformationStale else { return }
        hot.pointee.exitInformationStale = false
        current.pointee.storeExitInformation(hot.pointee.exit)
    }
    /// The run loop's VMX state, in a struct behind a pointer allocated once (no exclusivity checks).
    @usableFromInline struct Hot {
        /// The exit being produced (valid while `exitPending`), then the exit being completed: one place
        /// the exit is built and finished in, instead of copies of an optional passed along.
        @usableFromInline var exit = VMExit(reason: .exceptionOrNMI)
        /// Whether `exit` holds an exit something caused and the run loop has not taken yet.
        var exitPending = false
        /// Whether the VMCS exit-information fields lag `exit` (the last completed exit): like the guest-state
        /// area, they are written when someone reads the VMCS (`syncExitInformation`), not on every exit.
        var exitInformationStale = false
        /// The failed check and VM-instruction error of the last entry that failed with VMfailValid.
        var entryFailure = EntryFailure(.pinBasedControlsReserved)
        var entryFailureError: UInt32 = 0
        /// Controls cached at VM entry.
        var pin: PinBasedControls = []
        var primary: PrimaryProcessorControls = []
        var secondary: SecondaryProcessorControls = []
        var exitControls: VMExitControls = []
        /// An event being delivered (for IDT-vectoring information), or nil.
        var vectoring: (vector: UInt8, kind: EventKind, errorCode: UInt32?)?
        /// TSC value at which the VMX-preemption timer fires, when active.
        var preemptionDeadline: UInt64 = 0
        /// After an exit the processor still holds the guest state; the VMCS guest-state area is written on
        /// demand (when the VMM reads or writes it), the way a VMM caches guest registers.
        var guestStateStale = false
        /// The next VM entry must load the guest-state area (the VMM wrote the VMCS since the last exit).
        var loadNeeded = true
    }
    @usableFromInline let hot: UnsafeMutablePointer<Hot>

    /// Whether an exit is being produced: set to the token of an exit built in `hot.pointee.exit` (by
    /// `exceptionExit`, `checkPendingExitsAtBoundary`…), nil once the run loop took it. A one-byte token,
    /// so the interpreter's `pendingExit != nil` tests copy no exit.
    var pendingExit: ExitToken? {
        @inline(__always) get { hot.pointee.exitPending ? ExitToken() : nil }
        @inline(__always) set { hot.pointee.exitPending = newValue != nil }
    }
    /// Whether an exit is pending (`pendingExit != nil` without copying the exit).
    var exitPending: Bool {
        @inline(__always) get { hot.pointee.exitPending }
        @inline(__always) set { hot.pointee.exitPending = newValue }
    }
    /// Pin-based controls cached at VM entry.
    var pin: PinBasedControls {
        @inline(__always) get { hot.pointee.pin }
        @inline(__always) set { hot.pointee.pin = newValue }
    }
    /// Primary processor-based controls cached at VM entry.
    var primary: PrimaryProcessorControls {
        @inline(__always) get { hot.pointee.primary }
        @inline(__always) set { hot.pointee.primary = newValue }
    }
    /// Secondary processor-based controls cached at VM entry.
    var secondary: SecondaryProcessorControls {
        @inline(__always) get { hot.pointee.secondary }
        @inline(__always) set { hot.pointee.secondary = newValue }
    }
    /// VM-exit controls cached at VM entry.
    var exitControls: VMExitControls {
        @inline(__always) get { hot.pointee.exitControls }
        @inline(__always) set { hot.pointee.exitControls = newValue }
    }
    /// An event being delivered (for IDT-vectoring information), or nil.
    var vectoring: (vector: UInt8, kind: EventKind, errorCode: UInt32?)? {
        @inline(__always) get { hot.pointee.vectoring }
        @inline(__always) set { hot.pointee.vectoring = newValue }
    }
    /// TSC value at which the VMX-preemption timer fires.
    var preemptionDeadline: UInt64 {
        @inline(__always) get { hot.pointee.preemptionDeadline }
        @inline(__always) set { hot.pointee.preemptionDeadline = newValue }
    }
    /// Whether the VMCS guest-state area lags the processor.
    var guestStateStale: Bool {
        @inline(__always) get { hot.pointee.guestStateStale }
        @inline(__always) set { hot.pointee.guestStateStale = newValue }
    }
    /// Whether the next entry must load the guest-state area.
    var loadNeeded: Bool {
        @inline(__always) get { hot.pointee.loadNeeded }
        @inline(__always) set { hot.pointee.loadNeeded = newValue }
    }

    /// Creates the state with a fresh VMCS.
    public init() {
        current = .allocate(capacity: 1)
        current.initialize(to: VMCS())
        hot = .allocate(capacity: 1)
        hot.initialize(to: Hot())
    }

    deinit {
        current.deinitialize(count: 1)
        current.deallocate()
        hot.deinitialize(count: 1)
        hot.deallocate()
    }
}

/// Says that `VMXRuntime.hot.pointee.exit` holds a freshly built exit (see `VMXRuntime.pendingExit`).
struct ExitToken: Equatable {}

/// Outcome of `CPU.enterAndRunGuest`: `GuestRunResult` without payloads (see `CPU.lastExit`).
public enum GuestRunStop: Equatable, Sendable {
    /// The guest exited: `CPU.lastExit`.
    case exit
    /// VM entry failed a control or host-state check: `CPU.lastEntryFailure`.
    case entryFailed
    /// The instruction budget ran out with the guest still in non-root operation.
    case instructionLimit
    /// `requestStop()` was called.
    case stopRequested
}

/// Outcome of `CPU.runGuest`.
public enum GuestRunResult: Equatable, Sendable {
    /// The guest exited; the exit's fields are also in the VMCS exit-information area.
    case exit(VMExit)
    /// VM entry failed a control or host-state check (VMfailValid with this VM-instruction error).
    case entryFailed(EntryFailure, instructionError: UInt32)
    /// The instruction budget ran out with the guest still in non-root operation (call again to continue).
    case instructionLimit
    /// `requestStop()` was called.
    case stopRequested
}

extension CPU {
    // MARK: Entering and leaving the guest

    /// Performs a VM entry from `vmx.current.pointee` (unless already in non-root operation), runs the guest until a VM
    /// exit or the instruction budget, and returns what happened. Guest GPRs other than RSP live in the CPU;
    /// the rest of the guest state is read from and written back to the VMCS.
    public func runGuest(instructionLimit: Int) -> GuestRunResult {
        switch enterAndRunGuest(instructionLimit: instructionLimit) {
        case .exit: return .exit(vmx.hot.pointee.exit)
        case .entryFailed: return .entryFailed(vmx.hot.pointee.entryFailure, instructionError: vmx.hot.pointee.entryFailureError)
        case .instructionLimit: return .instructionLimit
        case .stopRequested: return .stopRequested
        }
    }

    /// The exit the last `enterAndRunGuest` returned `.exit` for (also in the VMCS exit-information fields).
    /// Inlinable: the caller copies the exit straight from where it was built.
    @inlinable public var lastExit: VMExit { vmx.hot.pointee.exit }

    /// The failed check and VM-instruction error of the last `enterAndRunGuest` that returned `.entryFailed`.
    public var lastEntryFailure: (failure: EntryFailure, instructionError: UInt32) {
        (vmx.hot.pointee.entryFailure, vmx.hot.pointee.entryFailureError)
    }

    /// `runGuest` without a payload in its result: the exit is `lastExit`, an entry failure `lastEntryFailure`
    /// (an embedding API's run loop copies the exit once, from where it was built).
    public func enterAndRunGuest(instructionLimit: Int) -> GuestRunStop {
        if !vmxNonRoot {
            if let failure = cachedEntryCheck() {
                switch failure.kind {
                case .vmFailValid(let n):
                    vmx.current.pointee[.vmInstructionError] = UInt64(n)
                    vmx.hot.pointee.entryFailure = failure
                    vmx.hot.pointee.entryFailureError = n
                    return .entryFailed
                case .vmExit(let reason):
                    var e = VMExit(reason: reason)
                    e.entryFailure = true
                    e.qualification = reason == .entryFailureMSRLoading ? UInt64(failure.msrIndex) : 0
                    e.failedCheck = failure
                    recordExitFields(e)
                    vmx.hot.pointee.exit = e
                    return .exit
                }
            }
            if !vmx.loadNeeded && vmx.current.pointee[.vmEntryMSRLoadCount] == 0 {
                // Re-entry after an exit with the VMCS untouched but for RIP/RSP: the processor already holds
                // the guest state the load would produce.
                vmx.guestStateStale = false
            } else if let msrFailure = loadGuestState() {
                var e = VMExit(reason: .entryFailureMSRLoading)
                e.entryFailure = true
                e.qualification = UInt64(msrFailure.msrIndex)
                e.failedCheck = msrFailure
                recordExitFields(e)
                vmx.hot.pointee.exit = e
                return .exit
            }
            vmx.current.pointee.launched = true
            vmxNonRoot = true
            if injectEventOnEntry() { return .exit }
        }
        var remaining = instructionLimit
        while remaining > 0 && vmxNonRoot {
            if checkPendingExitsAtBoundary() != nil {
                completeExit()
                return .exit
            }
            let mtf = vmx.primary.contains(.monitorTrapFlag)
            let budget = mtf ? 1 : min(remaining, preemptionBudget())
            let before = instructionCount
            let r = run(instructionLimit: budget)
            remaining -= max(1, Int(truncatingIfNeeded: instructionCount &- before))
            if vmx.exitPending {
                vmx.exitPending = false
                completeExit()
                return .exit
            }
            switch r {
            case .shutdown:
                inShutdown = false
                finishExitInPlace(VMExit(reason: .tripleFault))
                return .exit
            case .halted:
                // HLT inside the guest with HLT exiting off: activity state HLT until an event arrives.
                if !eventCanWake() { finishExitInPlace(VMExit(reason: .hlt), asHaltedActivity: true); return .exit }
            case .stopRequested:
                // `requestStop()` (hv_vcpus_exit): leave non-root operation like a preemption-timer exit.
                finishExitInPlace(VMExit(reason: .vmxPreemptionTimerExpired))
                return .exit
            case .exception(let v, let c):
                // Intercepted by the bare-mode intercept mask: surface as an exception exit.
                var e = VMExit(reason: .exceptionOrNMI)
                e.interruptionInformation = InterruptionInfo(vector: v, type: .hardwareException, deliverErrorCode: c != nil)
                e.interruptionErrorCode = c ?? 0
                finishExitInPlace(e)
                return .exit
            case .vmExit:
                break
            case .instructionLimit:
                if mtf && instructionCount != before {
                    // Monitor trap flag: a VM exit after the guest completes one instruction (SDM Vol. 3C §25.5.2).
                    finishExitInPlace(VMExit(reason: .monitorTrapFlag))
                    return .exit
                }
                if vmx.pin.contains(.activateVMXPreemptionTimer) && instructionCount &+ tscOffset >= vmx.preemptionDeadline {
                    finishExitInPlace(VMExit(reason: .vmxPreemptionTimerExpired))
                    return .exit
                }
            }
        }
        if vmxNonRoot { saveGuestState() }
        return .instructionLimit
    }

    /// Ends non-root operation now with an exit of the given reason (a run deadline), saving guest state.
    public func exitGuest(_ reason: ExitReason) -> VMExit {
        guard vmxNonRoot else { return VMExit(reason: reason) }
        return finishExit(VMExit(reason: reason))
    }

    /// The entry checks, or the cached verdict when nothing they read has been written since they passed.
    @inline(__always)
    func cachedEntryCheck() -> EntryFailure? {
        // The common re-entry, inlined: the processor holds the guest state it left non-root operation with,
        // the VMM wrote at most RIP/RSP, every check passed before, and no check reads guest memory.
        let v = vmx.current
        if vmx.guestStateStale && !vmx.loadNeeded && v.pointee.checkedAll
            && !(v.pointee.primary.contains(.useTPRShadow) && v.pointee[.tprThreshold] & 0xF != 0)
            && v.pointee[.vmcsLinkPointer] == ~0
            && (codeSize == 8 ? isCanonical(ripValue) : ripValue >> 32 == 0) {
            v.pointee.ripChanged = false
            return nil
        }
        return checkEntryAgain()
    }

    /// `cachedEntryCheck` off its fast path.
    @inline(never)
    func checkEntryAgain() -> EntryFailure? {
        // Checks that read guest memory (the VTPR byte of the virtual-APIC page, the revision at a VMCS link
        // pointer) can change without a VMWRITE: with every field-based check passed, re-run just those.
        if vmx.current.pointee.checkedAll && (vmx.current.pointee.primary.contains(.useTPRShadow) && vmx.current.pointee[.tprThreshold] & 0xF != 0
                                                || vmx.current.pointee[.vmcsLinkPointer] != ~0),
           let f = CPU.checkEntryMemory(vmx.current.pointee, memory: memory) {
            vmx.current.pointee.checkedAll = false
            return f
        }
        if vmx.guestStateStale && !vmx.loadNeeded && vmx.current.pointee.checkedAll {
            // The processor holds the guest state it left non-root operation with; only RIP/RSP were written.
            let ok = codeSize == 8 ? isCanonical(ripValue) : ripValue >> 32 == 0
            if ok { vmx.current.pointee.ripChanged = false; return nil }
            syncGuestState()
            vmx.current.pointee.checkedAll = false
        }
        if vmx.current.pointee.checkedAll {
            if vmx.current.pointee.ripChanged {
                // Only the guest RIP changed: re-run the RIP rules (§26.3.1.4) against the cached verdict.
                let rip = vmx.current.pointee[.guestRIP]
                let ia32e = vmx.current.pointee.entryControls.contains(.ia32eModeGuest)
                let csL = vmx.current.pointee[.guestCSAccessRights] & 0x2000 != 0
                if (!ia32e || !csL) ? rip >> 32 != 0 : !isCanonical(rip) {
                    vmx.current.pointee.checkedAll = false
                    return CPU.checkVMEntry(vmx.current.pointee, memory: memory)
                }
                vmx.current.pointee.ripChanged = false
            }
            return nil
        }
        let f = CPU.checkVMEntry(vmx.current.pointee, memory: memory)
        if f == nil { vmx.current.pointee.checkedAll = true; vmx.current.pointee.ripChanged = false }
        return f
    }

    /// Instructions to run before the VMX-preemption timer fires.
    func preemptionBudget() -> Int {
        guard vmx.pin.contains(.activateVMXPreemptionTimer) else { return Int.max }
        let now = instructionCount &+ tscOffset
        return now >= vmx.preemptionDeadline ? 1 : Int(min(vmx.preemptionDeadline &- now, 1 << 40))
    }

    /// Whether a halted guest has an event that wakes it (an interrupt it can take, or an NMI).
    func eventCanWake() -> Bool {
        if nmiPending && interruptibility & 2 == 0 && (vmx.pin.contains(.nmiExiting) || !nmiBlocked) { return true }
        if let ic = interruptController, ic.hasInterrupt(), interruptibility == 0 {
            if vmx.pin.contains(.externalInterruptExiting) { return true }
            if flagsBase & RFLAGS.if.rawValue != 0 { return true }
        }
        return false
    }

    /// Loads the guest-state area into the processor (SDM Vol. 3C §26.3.2), then the MSR-load area (§26.4).
    func loadGuestState() -> EntryFailure? {
        let v = vmx.current.pointee
        vmx.pin = v.pinBased
        vmx.primary = v.primary
        vmx.secondary = v.secondary
        vmx.exitControls = v.exitControls
        let entry = v.entryControls
        let ia32e = entry.contains(.ia32eModeGuest)
        let pagingBefore = (cr0Value, cr3Value, cr4Value, eferValue)
        cr0Value = v[.guestCR0] | CR0.et.rawValue
        cr3Value = v[.guestCR3]
        cr4Value = v[.guestCR4]
        if entry.contains(.loadDebugControls) {
            dr[7] = v[.guestDR7] | 0x400
            msrs.debugCtl = v[.guestIA32DebugCtl]
        }
        msrs.sysenterCS = v[.guestIA32SysenterCS]
        msrs.sysenterESP = v[.guestIA32SysenterESP]
        msrs.sysenterEIP = v[.guestIA32SysenterEIP]
        if entry.contains(.loadIA32PAT) { msrs.pat = v[.guestIA32PAT] }
        if entry.contains(.loadIA32EFER) {
            eferValue = v[.guestIA32EFER]
        } else {
            // EFER.LMA and, with paging, EFER.LME follow "IA-32e mode guest".
            eferValue &= ~(EFER.lma.rawValue | EFER.lme.rawValue)
            if ia32e { eferValue |= EFER.lma.rawValue | EFER.lme.rawValue }
        }
        for s in SegmentRegisterName.allCases {
            var r = v.guestSegment(s)
            if s == .cs { r.accessRights &= ~0x10000 }
            seg[s.rawValue] = r
        }
        gdtr = DescriptorTableRegister(base: v[.guestGDTRBase], limit: UInt16(truncatingIfNeeded: v[.guestGDTRLimit]))
        idtr = DescriptorTableRegister(base: v[.guestIDTRBase], limit: UInt16(truncatingIfNeeded: v[.guestIDTRLimit]))
        gpr[Reg.rsp] = v[.guestRSP]
        ripValue = v[.guestRIP]
        flagsBase = (v[.guestRFLAGS] & RFLAGS.defined.rawValue) | 2
        lazy.op = .none
        interruptibility = UInt32(truncatingIfNeeded: v[.guestInterruptibilityState] & 3)
        nmiBlocked = v[.guestInterruptibilityState] & 8 != 0
        halted = v[.guestActivityState] == 1
        inShutdown = false
        if vmx.primary.contains(.useTSCOffsetting) { vmxTSCOffset = v[.tscOffset] } else { vmxTSCOffset = 0 }
        if vmx.pin.contains(.activateVMXPreemptionTimer) {
            vmx.preemptionDeadline = instructionCount &+ tscOffset &+ (v[.vmxPreemptionTimerValue] << VMXCapability.preemptionTimerRate)
        }
        vmx.vectoring = nil
        vmx.exitPending = false
        updateMode()
        // Translations stay valid across an exit and re-entry unless the paging state changed
        // (the VM's memory map has its own generation check).
        if pagingBefore != (cr0Value, cr3Value, cr4Value, eferValue) { tlb.flushAll() }
        // MSR-load area: 16-byte entries {index, reserved, value}.
        let count = Int(min(v[.vmEntryMSRLoadCount], 512))
        for k in 0..<count {
            let a = v[.vmEntryMSRLoadAddress] &+ UInt64(k * 16)
            let index = UInt32(truncatingIfNeeded: memory.readInteger(at: a, size: 4))
            let reserved = memory.readInteger(at: a &+ 4, size: 4)
            let value = memory.readInteger(at: a &+ 8, size: 8)
            if reserved != 0 || index == MSRIndex.fsBase || index == MSRIndex.gsBase || index >> 8 == 0x8 || index == 0x9B {
                return EntryFailure(.entryMSRLoadEntry, [EntryFailureValue(.label(.msrLoadEntry), UInt64(k + 1)), EntryFailureValue(.label(.msr), UInt64(index))],
                                    msrIndex: UInt32(k + 1))
            }
            do throws(Abort) { try writeMSR(index, value) } catch {
                return EntryFailure(.entryMSRLoadEntry, [EntryFailureValue(.label(.msrLoadEntry), UInt64(k + 1)), EntryFailureValue(.label(.msr), UInt64(index)),
                                            EntryFailureValue(.label(.value), value)], msrIndex: UInt32(k + 1))
            }
        }
        return nil
    }

    /// Delivers the event in the VM-entry interruption-information field (SDM Vol. 3C §26.6).
    /// Returns an exit if delivery itself caused one.
    /// Returns whether delivery itself caused an exit (completed, in `vmx.hot.pointee.exit`).
    @inline(__always)
    func injectEventOnEntry() -> Bool {
        // Bit 31 (valid) clear: nothing to inject, the usual case.
        guard vmx.current.pointee[.vmEntryInterruptionInformation] & (1 << 31) != 0 else { return false }
        return injectEvent()
    }

    /// `injectEventOnEntry` with a valid event.
    @inline(never)
    func injectEvent() -> Bool {
        let info = InterruptionInfo(rawValue: UInt32(truncatingIfNeeded: vmx.current.pointee[.vmEntryInterruptionInformation]))
        guard info.valid else { return false }
        vmx.current.pointee.store(.vmEntryInterruptionInformation, UInt64(info.rawValue & ~(1 << 31)))
        // Type 7, "other event" vector 0: a pending MTF VM exit, before any guest instruction (SDM Vol. 3C §26.6.2).
        if info.typeBits == 7 { finishExitInPlace(VMExit(reason: .monitorTrapFlag)); return true }
        let kind = info.type ?? .hardwareException
        let code: UInt32? = info.deliverErrorCode ? UInt32(truncatingIfNeeded: vmx.current.pointee[.vmEntryExceptionErrorCode]) : nil
        halted = false
        if kind == .softwareInterrupt || kind == .softwareException || kind == .privilegedSoftwareException {
            ripValue = ripValue &+ vmx.current.pointee[.vmEntryInstructionLength]
        }
        if kind == .nmi { nmiBlocked = true }
        startRIP = ripValue
        deliverEvent(vector: info.vector, kind: kind, errorCode: code)
        if vmx.exitPending {
            vmx.exitPending = false
            completeExit()
            return true
        }
        if inShutdown { inShutdown = false; finishExitInPlace(VMExit(reason: .tripleFault)); return true }
        return false
    }

    /// Exits that happen at an instruction boundary before the next instruction (SDM Vol. 3C §25.2, §26.7.5–26.7.6),
    /// built in `vmx.hot.pointee.exit`.
    @inline(__always)
    func checkPendingExitsAtBoundary() -> ExitToken? {
        // Most entries have none of these controls on and no NMI pending: one test, inlined, answers for all
        // of them (and no optional exit is built).
        let pinMask: PinBasedControls = [.externalInterruptExiting, .nmiExiting, .activateVMXPreemptionTimer]
        let primaryMask: PrimaryProcessorControls = [.nmiWindowExiting, .interruptWindowExiting]
        if vmx.pin.isDisjoint(with: pinMask) && vmx.primary.isDisjoint(with: primaryMask) && !nmiPending { return nil }
        guard let e = pendingExitAtBoundary() else { return nil }
        vmx.hot.pointee.exit = e
        return ExitToken()
    }

    /// `checkPendingExitsAtBoundary` with a control on or an NMI pending.
    @inline(never)
    func pendingExitAtBoundary() -> VMExit? {
        let blockedBySTIorSS = interruptibility != 0
        if vmx.primary.contains(.nmiWindowExiting) && !nmiBlocked && interruptibility & 2 == 0 {
            return VMExit(reason: .nmiWindow)
        }
        if nmiPending && vmx.pin.contains(.nmiExiting) && interruptibility & 2 == 0 {
            nmiPending = false
            var e = VMExit(reason: .exceptionOrNMI)
            e.interruptionInformation = InterruptionInfo(vector: 2, type: .nmi)
            return e
        }
        if vmx.pin.contains(.externalInterruptExiting), !blockedBySTIorSS, let ic = interruptController, ic.hasInterrupt() {
            var e = VMExit(reason: .externalInterrupt)
            if vmx.exitControls.contains(.acknowledgeInterruptOnExit), let vector = ic.acknowledge() {
                e.interruptionInformation = InterruptionInfo(vector: vector, type: .external)
            }
            halted = false
            return e
        }
        if vmx.primary.contains(.interruptWindowExiting) && flagsBase & RFLAGS.if.rawValue != 0 && !blockedBySTIorSS {
            halted = false
            return VMExit(reason: .interruptWindow)
        }
        if vmx.pin.contains(.activateVMXPreemptionTimer) && instructionCount &+ tscOffset >= vmx.preemptionDeadline {
            return VMExit(reason: .vmxPreemptionTimerExpired)
        }
        return nil
    }

    /// Completes a VM exit: IDT-vectoring information, saving guest state (SDM Vol. 3C §27.3), exit fields.
    func finishExit(_ e: VMExit, asHaltedActivity: Bool = false) -> VMExit {
        finishExitInPlace(e, asHaltedActivity: asHaltedActivity)
        return vmx.hot.pointee.exit
    }

    /// `finishExit` leaving the exit in `vmx.hot.pointee.exit` only.
    func finishExitInPlace(_ e: VMExit, asHaltedActivity: Bool = false) {
        vmx.hot.pointee.exit = e
        _ = asHaltedActivity   // the processor's halted state is the activity state
        completeExit()
    }

    /// Completes the exit in `vmx.hot.pointee.exit` in place: IDT-vectoring information, saving guest state
    /// (SDM Vol. 3C §27.3), exit-information fields; leaves non-root operation.
    func completeExit() {
        let hot = vmx.hot
        if let d = hot.pointee.vectoring, hot.pointee.exit.reason != .tripleFault {
            hot.pointee.exit.idtVectoringInformation = InterruptionInfo(vector: d.vector, type: d.kind, deliverErrorCode: d.errorCode != nil)
            hot.pointee.exit.idtVectoringErrorCode = d.errorCode ?? 0
        }
        hot.pointee.vectoring = nil
        storeExitMSRs()
        // Guest state stays in the processor; `vmcsRead`/`vmcs` write it into the VMCS when asked.
        hot.pointee.guestStateStale = true
        hot.pointee.loadNeeded = false
        // The exit-information fields follow when the VMCS is read (`VMXRuntime.syncExitInformation`).
        hot.pointee.exitInformationStale = true
        vmxNonRoot = false
    }

    // MARK: VMCS access for the embedding API

    /// The current VMCS with the guest-state area up to date.
    public var currentVMCS: VMCS {
        get { syncGuestState(); vmx.syncExitInformation(); return vmx.current.pointee }
        set {
            vmx.hot.pointee.exitInformationStale = false
            vmx.current.pointee = newValue
            vmx.guestStateStale = false
            vmx.loadNeeded = true
        }
    }

    /// Reads a VMCS field (VMREAD); guest RIP, RSP and RFLAGS come straight from the processor after an exit.
    public func vmcsRead(_ field: VMCSField) -> UInt64 {
        if vmx.hot.pointee.exitInformationStale && field.isExitInformation { vmx.syncExitInformation() }
        if vmx.guestStateStale {
            switch field {
            case .guestRIP: return ripValue
            case .guestRSP: return gpr[Reg.rsp]
            case .guestRFLAGS: return materializedFlags()
            case .guestInterruptibilityState: return interruptibilityStateField
            default:
                if field.type == .guestState || field == .vmEntryControls { syncGuestState() }
            }
        }
        return vmx.current.pointee[field]
    }

    /// Writes a VMCS field (VMWRITE; the caller enforces the read-only rule).
    public func vmcsWrite(_ field: VMCSField, _ value: UInt64) {
        if vmx.hot.pointee.exitInformationStale && field.isExitInformation { vmx.syncExitInformation() }
        if vmx.guestStateStale {
            switch field {
            case .guestRIP:
                // The VMCS field is written when the guest state is synced (`saveGuestState`); the flag keeps
                // the RIP rules' re-check (`cachedEntryCheck`) as a VMWRITE would.
                ripValue = value
                vmx.current.pointee.ripChanged = true
                return
            case .guestRSP:
                gpr[Reg.rsp] = value
                vmx.current.pointee[field] = value
                return
            default:
                syncGuestState()
            }
        }
        if field.type != .exitInformation { vmx.loadNeeded = true }
        vmx.current.pointee[field] = value
    }

    /// Moves the guest RIP `length` bytes on and ends blocking by STI and by MOV SS, as retiring an instruction
    /// the VMM emulated does: the same as writing guest RIP and the interruptibility state through
    /// `vmcsWrite`, without the field-by-field round trips when the processor still holds the guest state.
    public func retireEmulatedInstruction(length: UInt64) {
        if vmx.guestStateStale {
            ripValue = ripValue &+ length
            vmx.current.pointee.ripChanged = true
            if interruptibility & 3 != 0 { vmcsWrite(.guestInterruptibilityState, interruptibilityStateField & ~3) }
            return
        }
        vmcsWrite(.guestRIP, vmcsRead(.guestRIP) &+ length)
        let blocking = vmcsRead(.guestInterruptibilityState)
        if blocking & 3 != 0 { vmcsWrite(.guestInterruptibilityState, blocking & ~3) }
    }

    /// Writes the processor's guest state into the VMCS if it is newer.
    func syncGuestState() {
        if vmx.guestStateStale {
            saveGuestState()
            vmx.guestStateStale = false
            // The VMCS now matches the processor: a re-entry needs no load unless the VMM writes again.
        }
    }

    /// The VM-exit MSR-store area (SDM Vol. 3C §27.4): the guest's value of each listed MSR is stored.
    /// (The VM-exit MSR-load area loads host MSRs; the embedding API has no host processor state to load.)
    @inline(__always)
    func storeExitMSRs() {
        if vmx.current.pointee[.vmExitMSRStoreCount] != 0 { storeExitMSRList() }
    }

    /// `storeExitMSRs` with a non-empty list.
    @inline(never)
    func storeExitMSRList() {
        let count = Int(min(vmx.current.pointee[.vmExitMSRStoreCount], 512))
        guard count > 0 else { return }
        let base = vmx.current.pointee[.vmExitMSRStoreAddress]
        let wasNonRoot = vmxNonRoot
        vmxNonRoot = false
        defer { vmxNonRoot = wasNonRoot }
        for k in 0..<count {
            let a = base &+ UInt64(k * 16)
            let index = UInt32(truncatingIfNeeded: memory.readInteger(at: a, size: 4))
            do throws(Abort) {
                let v = try readMSR(index)
                memory.writeInteger(v, at: a &+ 8, size: 8)
            } catch {
                // An MSR that cannot be read is a VMX abort on hardware; record it and stop the list.
                vmx.current.pointee.abortIndicator = 1
                return
            }
        }
    }

    /// The guest-interruptibility-state field as a VM exit saves it: blocking by STI and by MOV SS, and
    /// blocking by NMI with virtual NMIs (SDM Vol. 3C §24.4.2, Table 24-3).
    var interruptibilityStateField: UInt64 {
        UInt64(interruptibility & 3) | (nmiBlocked && vmx.pin.contains(.virtualNMIs) ? 8 : 0)
    }

    /// Writes the guest state back into the VMCS guest-state area.
    func saveGuestState() {
        vmx.current.pointee.store(.guestCR0, cr0Value)
        vmx.current.pointee.store(.guestCR3, cr3Value)
        vmx.current.pointee.store(.guestCR4, cr4Value)
        vmx.current.pointee.store(.guestDR7, dr[7])
        vmx.current.pointee.store(.guestRSP, gpr[Reg.rsp])
        vmx.current.pointee.store(.guestRIP, ripValue)
        vmx.current.pointee.store(.guestRFLAGS, materializedFlags())
        for s in SegmentRegisterName.allCases { vmx.current.pointee.storeGuestSegment(s, seg[s.rawValue]) }
        vmx.current.pointee.store(.guestGDTRBase, gdtr.base)
        vmx.current.pointee.store(.guestGDTRLimit, UInt64(gdtr.limit))
        vmx.current.pointee.store(.guestIDTRBase, idtr.base)
        vmx.current.pointee.store(.guestIDTRLimit, UInt64(idtr.limit))
        vmx.current.pointee.store(.guestIA32SysenterCS, msrs.sysenterCS)
        vmx.current.pointee.store(.guestIA32SysenterESP, msrs.sysenterESP)
        vmx.current.pointee.store(.guestIA32SysenterEIP, msrs.sysenterEIP)
        if vmx.exitControls.contains(.saveIA32EFER) { vmx.current.pointee.store(.guestIA32EFER, eferValue) }
        if vmx.exitControls.contains(.saveIA32PAT) { vmx.current.pointee.store(.guestIA32PAT, msrs.pat) }
        if vmx.exitControls.contains(.saveDebugControls) { vmx.current.pointee.store(.guestIA32DebugCtl, msrs.debugCtl) }
        // "IA-32e mode guest" follows EFER.LMA on every exit.
        var entry = vmx.current.pointee.entryControls
        if eferValue & EFER.lma.rawValue != 0 { entry.insert(.ia32eModeGuest) } else { entry.remove(.ia32eModeGuest) }
        vmx.current.pointee.store(.vmEntryControls, UInt64(entry.rawValue))
        vmx.current.pointee.store(.guestInterruptibilityState, interruptibilityStateField)
        vmx.current.pointee.store(.guestActivityState, halted ? 1 : 0)
        if vmx.pin.contains(.activateVMXPreemptionTimer) && vmx.exitControls.contains(.saveVMXPreemptionTimerValue) {
            let now = instructionCount &+ tscOffset
            vmx.current.pointee.store(.vmxPreemptionTimerValue, now >= vmx.preemptionDeadline ? 0 : (vmx.preemptionDeadline &- now) >> VMXCapability.preemptionTimerRate)
        }
    }

    /// Stores an exit's information in the VMCS exit-information fields (SDM Vol. 3C §24.9).
    func recordExitFields(_ e: VMExit) {
        vmx.hot.pointee.exitInformationStale = false
        vmx.current.pointee.storeExitInformation(e)
    }

    // MARK: Exits caused by instructions

    /// Raises a VM exit caused by the current instruction: RIP stays on the instruction and the
    /// instruction length is recorded. Throws to abandon the instruction.
    func instructionExit(_ reason: ExitReason, qualification: UInt64 = 0, info: UInt32 = 0, linear: UInt64 = 0) -> Abort {
        let hot = vmx.hot
        // Built in place (see `VMXRuntime.Hot.exit`).
        hot.pointee.exit = VMExit(reason: reason)
        hot.pointee.exit.qualification = qualification
        hot.pointee.exit.instructionInformation = info
        hot.pointee.exit.guestLinearAddress = linear
        let len = (ripValue &- startRIP) & (codeSize == 8 ? ~0 : 0xFFFF_FFFF)
        hot.pointee.exit.instructionLength = UInt32(truncatingIfNeeded: len)
        hot.pointee.exitPending = true
        ripValue = startRIP
        return Abort.stop
    }

    /// Raises a trap-like VM exit after the instruction completed (TPR below threshold, monitor trap flag).
    func trapExit(_ reason: ExitReason) {
        vmx.hot.pointee.exit = VMExit(reason: reason)
        vmx.exitPending = true
    }

    /// Whether an exception raised in the guest causes a VM exit (exception bitmap, §25.2).
    func exceptionCausesExit(_ v: UInt8, _ code: UInt32?) -> Bool {
        let bitmap = UInt32(truncatingIfNeeded: vmx.current.pointee[.exceptionBitmap])
        if v == ExceptionVector.pf.rawValue {
            let mask = UInt32(truncatingIfNeeded: vmx.current.pointee[.pageFaultErrorCodeMask])
            let match = UInt32(truncatingIfNeeded: vmx.current.pointee[.pageFaultErrorCodeMatch])
            let matches = (code ?? 0) & mask == match
            return (bitmap & (1 << 14) != 0) == matches
        }
        return bitmap & (1 << UInt32(v & 31)) != 0
    }

    /// Produces the exit for an exception the exception bitmap intercepts, in `vmx.hot.pointee.exit`; the
    /// caller sets `vmx.pendingExit` to the token.
    func exceptionExit(_ v: UInt8, _ code: UInt32?, kind: EventKind) -> ExitToken {
        var e = VMExit(reason: .exceptionOrNMI)
        e.interruptionInformation = InterruptionInfo(vector: v, type: kind, deliverErrorCode: code != nil)
        e.interruptionErrorCode = code ?? 0
        if v == ExceptionVector.pf.rawValue { e.qualification = pendingCR2 }
        if v == ExceptionVector.db.rawValue { e.qualification = dr[6] & 0x600F }
        if kind == .softwareException || kind == .privilegedSoftwareException {
            e.instructionLength = UInt32(truncatingIfNeeded: (ripValue &- startRIP) & 0xF)
        }
        vmx.hot.pointee.exit = e
        return ExitToken()
    }
}

extension CPU {
    /// In non-root operation, guest-physical memory is the VM's map (Hypervisor.framework's model of EPT):
    /// an access to an unmapped address, or one the mapping does not permit, is an EPT violation
    /// (exit reason 48, qualification of SDM Vol. 3C Table 27-7).
    func eptCheck(_ pa: UInt64, _ size: Int, write: Bool) throws(Abort) {
        let kind = write ? AccessKind.write : currentAccess.kind
        let region = memory.region(containing: pa)
        let perms = region?.permissions ?? []
        let needed: PhysicalMemory.Permissions = kind == .write ? .write : (kind == .fetch ? .execute : .read)
        if let r = region, perms.contains(needed), pa &- r.base &+ UInt64(size) <= r.size { return }
        var q: UInt64 = 0
        switch kind {
        case .read: q |= 1
        case .write: q |= 2
        case .fetch: q |= 4
        }
        if perms.contains(.read) { q |= 1 << 3 }
        if perms.contains(.write) { q |= 1 << 4 }
        if perms.contains(.execute) { q |= 1 << 5 }
        // Bit 7: the guest-linear address is valid; bit 8: the access was to the translated address
        // (not a paging-structure entry). Accesses without paging or during a walk clear bit 8 only when walking.
        q |= 1 << 7
        if !inPageWalk { q |= 1 << 8 }
        var e = VMExit(reason: .eptViolation)
        e.qualification = q
        e.guestPhysicalAddress = pa
        e.guestLinearAddress = currentAccess.linear
        let len = (ripValue &- startRIP) & (codeSize == 8 ? ~0 : 0xFFFF_FFFF)
        e.instructionLength = UInt32(truncatingIfNeeded: len)
        ripValue = startRIP
        vmx.hot.pointee.exit = e
        vmx.exitPending = true
        throw Abort.stop
    }

    /// Whether the current physical access reads or writes a paging-structure entry.
    var inPageWalk: Bool { pageWalkDepth > 0 }
}

extension CPU {
    /// The guest's value of an MSR, for the embedding API: guest-state-area MSRs come from the VMCS, the
    /// rest from the processor. Nil if the MSR is not implemented.
    public func guestMSR(_ index: UInt32) -> UInt64? {
        switch index {
        case MSRIndex.sysenterCS: return vmcsRead(.guestIA32SysenterCS)
        case MSRIndex.sysenterESP: return vmcsRead(.guestIA32SysenterESP)
        case MSRIndex.sysenterEIP: return vmcsRead(.guestIA32SysenterEIP)
        case MSRIndex.fsBase: return vmcsRead(.guestFSBase)
        case MSRIndex.gsBase: return vmcsRead(.guestGSBase)
        case MSRIndex.pat: return vmcsRead(.guestIA32PAT)
        case MSRIndex.efer: return vmcsRead(.guestIA32EFER)
        case MSRIndex.debugCtl: return vmcsRead(.guestIA32DebugCtl)
        default:
            let wasNonRoot = vmxNonRoot
            vmxNonRoot = false
            defer { vmxNonRoot = wasNonRoot }
            do throws(Abort) { return try readMSR(index) } catch { return nil }
        }
    }

    /// Sets the guest's value of an MSR, for the embedding API. Returns false if the MSR is not
    /// implemented or the value is invalid for it.
    public func setGuestMSR(_ index: UInt32, _ value: UInt64) -> Bool {
        switch index {
        case MSRIndex.sysenterCS: vmcsWrite(.guestIA32SysenterCS, value)
        case MSRIndex.sysenterESP: vmcsWrite(.guestIA32SysenterESP, value)
        case MSRIndex.sysenterEIP: vmcsWrite(.guestIA32SysenterEIP, value)
        case MSRIndex.fsBase: vmcsWrite(.guestFSBase, value)
        case MSRIndex.gsBase: vmcsWrite(.guestGSBase, value)
        case MSRIndex.pat:
            guard CPU.validPAT(value) else { return false }
            vmcsWrite(.guestIA32PAT, value)
        case MSRIndex.efer:
            guard value & ~UInt64(0xD01) == 0 else { return false }
            vmcsWrite(.guestIA32EFER, value)
        case MSRIndex.debugCtl:
            guard value & ~UInt64(0x3) == 0 else { return false }
            vmcsWrite(.guestIA32DebugCtl, value)
        default:
            let wasNonRoot = vmxNonRoot
            vmxNonRoot = false
            defer { vmxNonRoot = wasNonRoot }
            do throws(Abort) { try writeMSR(index, value) } catch { return false }
        }
        return true
    }
}
