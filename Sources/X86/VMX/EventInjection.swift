// Events on VM entry and at instruction boundaries in non-root operation: injection through the VM-entry
// interruption-information field (SDM Vol. 3C §26.6) and the exits that wait for a boundary (§25.2, §26.7.5–26.7.6).

extension CPU {
    /// Whether a halted guest has an event that wakes it (an interrupt it can take, or an NMI).
    func eventCanWake() -> Bool {
        if nmiPending && interruptibility & 2 == 0 && (vmx.pin.contains(.nmiExiting) || !nmiBlocked) { return true }
        if let ic = interruptController, ic.hasInterrupt(), interruptibility == 0 {
            if vmx.pin.contains(.externalInterruptExiting) { return true }
            if flagsBase & RFLAGS.if.rawValue != 0 { return true }
        }
        return false
    }

    /// Delivers the event in the VM-entry interruption-information field (SDM Vol. 3C §26.6).
    /// Returns an exit if delivery itself caused one.
    /// Returns whether delivery itself caused an exit (completed, in `vmx.hot.pointee.exit`).
    @inline(__always)
    func injectEventOnEntry() -> Bool {
        // Bit 31 (valid) clear: nothing to inject, the usual case.
        guard vmx.current.pointee[.vmEntryInterruptionInformation] & (1 << 31) != 0 else {
            // No event to inject: pending debug exceptions (B0–B3, BS) without STI or MOV SS blocking are a
            // #DB trap before the guest's first instruction (SDM Vol. 3C §26.7.3).
            if vmx.pendingDebugExceptions != 0 { return deliverPendingDebugExceptions() }
            return false
        }
        return injectEvent()
    }

    /// The #DB of the pending debug exceptions a VM entry loaded, when no blocking holds them back (in the
    /// HLT state they stay pending; a VM exit saves them).
    @inline(never)
    func deliverPendingDebugExceptions() -> Bool {
        let pending = vmx.pendingDebugExceptions
        guard interruptibility == 0 && !halted else { return false }
        vmx.pendingDebugExceptions = 0
        startRIP = ripValue
        raiseDebugException(pending & 0x400F)
        if vmx.exitPending {
            vmx.exitPending = false
            completeExit()
            return true
        }
        return false
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
        let primaryMask: PrimaryProcessorControls = [.nmiWindowExiting, .interruptWindowExiting, .monitorTrapFlag]
        if vmx.pin.isDisjoint(with: pinMask) && vmx.primary.isDisjoint(with: primaryMask) && !nmiPending { return nil }
        guard let e = pendingExitAtBoundary() else { return nil }
        vmx.hot.pointee.exit = e
        return ExitToken()
    }

    /// `checkPendingExitsAtBoundary` with a control on or an NMI pending.
    @inline(never)
    func pendingExitAtBoundary() -> VMExit? {
        let blockedBySTIorSS = interruptibility != 0
        // MTF ranks above the VMX-preemption timer and the NMI and interrupt windows.
        if vmx.primary.contains(.monitorTrapFlag)
            && (instructionCount != vmx.monitorTrapMark.instructions || eventDeliveries != vmx.monitorTrapMark.deliveries) {
            return VMExit(reason: .monitorTrapFlag)
        }
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
        if vmx.pin.contains(.activateVMXPreemptionTimer) && preemptionClock >= vmx.preemptionDeadline {
            return VMExit(reason: .vmxPreemptionTimerExpired)
        }
        return nil
    }
}
