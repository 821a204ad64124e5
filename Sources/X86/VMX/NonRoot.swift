// VMX non-root operation: the processor's VMX state, the run loop that enters the guest and runs it until a
// VM exit, and the VMCS as the embedding API reads and writes it (SDM Vol. 3C chapter 25 "VMX Non-Root
// Operation"). Entry is in VMEntry.swift, injection in EventInjection.swift, exits in VMExitDelivery.swift,
// the conditions that cause exits in Intercepts.swift.

/// The VMX state of a processor: the current VMCS and what the run loop needs from it.
///
/// ## The one synchronisation point between the processor and the VMCS
///
/// After a VM exit the processor keeps the guest's state and the VMCS lags it; copying the whole guest-state
/// area on every exit and loading it on every entry would cost more than the exits themselves. Four flags
/// say which side is newer, and every access to the VMCS from outside the processor goes through
/// `CPU.vmcsRead`, `CPU.vmcsWrite`, `CPU.currentVMCS` or `VMXRuntime.vmcs`, which settle them:
///
/// - `guestStateStale`: the processor holds newer guest state than the guest-state area. Set by every exit
///   (`CPU.completeExit`); cleared by `CPU.syncGuestState` (which writes the area) before any read or
///   write of a guest-state field other than RIP, RSP, RFLAGS and the interruptibility state, which
///   `vmcsRead`/`vmcsWrite` serve from the processor directly.
/// - `exitInformationStale`: the exit-information fields lag `Hot.exit`. Set by every exit; cleared by
///   `syncExitInformation` before any read of an exit-information field.
/// - `loadNeeded`: the VMCS holds state the processor must load on the next entry (the VMM wrote a field
///   other than the exit information). Cleared by an exit, set by `vmcsWrite`/`currentVMCS`'s setter.
/// - `ExitToken` / `exitPending`: an exit has been built in `Hot.exit` and the run loop has not taken it
///   yet. Set where the exit is caused (`instructionExit`, `eptCheck`, `exceptionExit`…), cleared by the
///   run loop, which completes the exit (`completeExit`).
///
/// Nothing else reads `current.pointee` while these say it lags, so the rule is kept in these functions
/// alone.
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
        /// L2 runs with the guest hypervisor's EPT: guest-physical addresses go through it (NestedEPT.swift).
        var nestedEPT = false
    }
    @usableFromInline let hot: UnsafeMutablePointer<Hot>
    /// The #DB trap (DR6.B0–B3, BS) of the pending debug exceptions a VM entry loaded without STI or MOV SS
    /// blocking, not delivered yet (SDM Vol. 3C §26.7.3); a VM exit saves it in the guest-state area.
    var pendingDebugExceptions: UInt64 = 0
    /// The instruction and event-delivery counts at the last VM entry: with "monitor trap flag", the first
    /// instruction boundary after either moved is the MTF VM exit's (SDM Vol. 3C §25.5.2) — also inside a
    /// batch L2 runs in after L1's VMRESUME, and after a fault's delivery (RIP at its handler).
    var monitorTrapMark: (instructions: UInt64, deliveries: UInt64) = (0, 0)
    /// VMX operation of the code running in the model (a guest hypervisor) and its nested guest (NestedVMX.swift).
    /// Read on every entry, exit and VMCS access (`vmx.nested.inL2`): unchecked, as the CPU's hot properties
    /// are, or each read pays a dynamic exclusivity check (`swift_beginAccess`).
    @exclusivity(unchecked) var nested = NestedVMXState()

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
        if !vmxNonRoot && vmx.nested.inL2 && nestedEntryFromL0() {
            // L0's injected interrupt became an exit to L1, which runs next.
        } else if !vmxNonRoot {
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
                    e.qualification = failure.exitQualification
                    e.failedCheck = failure
                    recordExitFields(e)
                    vmx.hot.pointee.exit = e
                    return .exit
                }
            }
            // (L0's re-entry into L2: vmcs12's MSR-load list is L1's, processed at L1's VMLAUNCH/VMRESUME only.)
            if !vmx.loadNeeded && (vmx.nested.inL2 || vmx.current.pointee[.vmEntryMSRLoadCount] == 0) {
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
            vmx.monitorTrapMark = (instructionCount, eventDeliveries)
            if monitorTrapAfterL0Instruction() {
                if !reflectNestedExit() { return .exit }
            } else if injectEventOnEntry() && !reflectNestedExit() { return .exit }
        }
        var remaining = instructionLimit
        while remaining > 0 && vmxNonRoot {
            if checkPendingExitsAtBoundary() != nil {
                completeExit()
                if reflectNestedExit() { continue }
                return .exit
            }
            if vmx.nested.inL2 && l0InterruptWindowOpen() {
                exitIsL0s()
                finishExitInPlace(VMExit(reason: .interruptWindow))
                if reflectNestedExit() { continue }
                return .exit
            }
            let mtf = vmx.primary.contains(.monitorTrapFlag)
            var budget = mtf ? 1 : min(remaining, preemptionBudget())
            if vmx.nested.inL2 {
                // L0's own deadline and interrupt window still count while L2 runs.
                budget = min(budget, l0PreemptionBudget())
                if vmx.nested.vmcs01.primary.contains(.interruptWindowExiting) { budget = min(budget, 64) }
            }
            let before = instructionCount
            let r = run(instructionLimit: budget)
            remaining -= max(1, Int(truncatingIfNeeded: instructionCount &- before))
            if vmx.exitPending {
                vmx.exitPending = false
                completeExit()
                if reflectNestedExit() { continue }
                return .exit
            }
            switch r {
            case .shutdown:
                inShutdown = false
                finishExitInPlace(VMExit(reason: .tripleFault))
                if reflectNestedExit() { continue }
                return .exit
            case .halted:
                // HLT inside the guest with HLT exiting off: activity state HLT until an event arrives (L0
                // waits for it, also when L2 halted).
                if !eventCanWake() {
                    exitIsL0s()
                    finishExitInPlace(VMExit(reason: .hlt), asHaltedActivity: true)
                    _ = reflectNestedExit()
                    return .exit
                }
            case .stopRequested:
                // `requestStop()` (hv_vcpus_exit): leave non-root operation like a preemption-timer exit.
                exitIsL0s()
                finishExitInPlace(VMExit(reason: .vmxPreemptionTimerExpired))
                _ = reflectNestedExit()
                return .exit
            case .exception(let v, let c):
                // Intercepted by the bare-mode intercept mask: surface as an exception exit.
                var e = VMExit(reason: .exceptionOrNMI)
                e.interruptionInformation = InterruptionInfo(vector: v, type: .hardwareException, deliverErrorCode: c != nil)
                e.interruptionErrorCode = c ?? 0
                finishExitInPlace(e)
                if reflectNestedExit() { continue }
                return .exit
            case .vmExit:
                break
            case .instructionLimit:
                if mtf && instructionCount != before {
                    // Monitor trap flag: a VM exit after the guest completes one instruction (SDM Vol. 3C §25.5.2).
                    finishExitInPlace(VMExit(reason: .monitorTrapFlag))
                    if reflectNestedExit() { continue }
                    return .exit
                }
                if vmx.pin.contains(.activateVMXPreemptionTimer) && preemptionClock >= vmx.preemptionDeadline {
                    finishExitInPlace(VMExit(reason: .vmxPreemptionTimerExpired))
                    if reflectNestedExit() { continue }
                    return .exit
                }
                if vmx.nested.inL2 && l0PreemptionBudget() <= 1 {
                    exitIsL0s()
                    finishExitInPlace(VMExit(reason: .vmxPreemptionTimerExpired))
                    _ = reflectNestedExit()
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
        exitIsL0s()
        finishExitInPlace(VMExit(reason: reason))
        _ = reflectNestedExit()
        return vmx.hot.pointee.exit
    }

    /// Instructions to run before the VMX-preemption timer fires.
    func preemptionBudget() -> Int {
        guard vmx.pin.contains(.activateVMXPreemptionTimer) else { return Int.max }
        let now = preemptionClock
        return now >= vmx.preemptionDeadline ? 1 : Int(min(vmx.preemptionDeadline &- now, 1 << 40))
    }

    // MARK: VMCS access for the embedding API

    /// The current VMCS with the guest-state area up to date.
    public var currentVMCS: VMCS {
        get {
            if vmx.nested.inL2 { return composedVMCSForL0() }
            syncGuestState(); vmx.syncExitInformation(); return vmx.current.pointee
        }
        set {
            if vmx.nested.inL2 { setComposedVMCSForL0(newValue); return }
            vmx.hot.pointee.exitInformationStale = false
            vmx.current.pointee = newValue
            vmx.guestStateStale = false
            vmx.loadNeeded = true
        }
    }

    /// Reads a VMCS field (VMREAD); guest RIP, RSP and RFLAGS come straight from the processor after an exit.
    public func vmcsRead(_ field: VMCSField) -> UInt64 {
        // While L2 runs, L0 sees its own controls and host state, and L2's guest state (NestedVMX.swift).
        if vmx.nested.inL2 && CPU.isL0Field(field) { return vmx.nested.vmcs01[field] }
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
        if vmx.nested.inL2 && CPU.isL0Field(field) { vmx.nested.vmcs01[field] = value; return }
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
        var q = EPTViolationQualification(access: kind)
        if perms.contains(.read) { q.insert(.readable) }
        if perms.contains(.write) { q.insert(.writable) }
        if perms.contains(.execute) { q.insert(.executable) }
        // The guest-linear address is valid; the access was to the translated address (not a paging-structure
        // entry) unless it happened during a page walk.
        q.insert(.linearAddressValid)
        if !inPageWalk { q.insert(.translatedAccess) }
        exitIsL0s()     // L0's memory map: its exit also while L2 runs
        throw eptExit(.eptViolation, pa, qualification: q.rawValue)
    }

    /// Builds an EPT violation or misconfiguration exit for the current access (guest-physical and linear
    /// address, instruction length) and abandons the instruction.
    func eptExit(_ reason: ExitReason, _ gpa: UInt64, qualification: UInt64) -> Abort {
        var e = VMExit(reason: reason)
        e.qualification = qualification
        e.guestPhysicalAddress = gpa
        e.guestLinearAddress = currentAccess.linear
        // The instruction pointer wraps at the code size (16-bit code past FFFFH: an unrestricted guest
        // left with a 64-bit guest's CS, whose D bit is 0, runs 16-bit code at a 4-MiB address).
        let len = (ripValue &- startRIP) & (codeSize == 8 ? ~0 : (codeSize == 4 ? 0xFFFF_FFFF : 0xFFFF))
        e.instructionLength = UInt32(truncatingIfNeeded: len)
        ripValue = startRIP
        vmx.hot.pointee.exit = e
        vmx.exitPending = true
        return Abort.stop
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
