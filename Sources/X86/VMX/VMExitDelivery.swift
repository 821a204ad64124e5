// VM-exit delivery (SDM Vol. 3C chapter 27 "VM Exits"): building the exit of an instruction or event,
// saving guest state (§27.3), the exit-information fields (§27.2) and the MSR-store area (§27.4).

extension CPU {
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
                var v = try readMSR(index)
                // IA32_TIME_STAMP_COUNTER is stored as the host of this VMCS reads it, without this VMCS's TSC
                // offset: from L2, L1's TSC (L0's offset for L1 applies; kvm-unit-tests' rdtsc_vmexit_diff_test).
                if index == MSRIndex.tsc && vmx.nested.inL2 { v = v &+ vmx.nested.tscOffset01 }
                memory.writeInteger(v, at: a &+ 8, size: 8)
            } catch {
                // An MSR that cannot be read is a VMX abort on hardware; record it and stop the list.
                vmx.current.pointee.abortIndicator = 1
                return
            }
        }
    }

    /// The guest-interruptibility-state field as a VM exit saves it: blocking by STI and by MOV SS, and in
    /// bit 3 blocking by NMI, which is virtual-NMI blocking when the "virtual NMIs" control is 1 (SDM Vol. 3C
    /// §24.4.2, Table 24-3). VM entry loads bit 3 back either way, so the guest's NMI blocking survives an exit.
    var interruptibilityStateField: UInt64 {
        UInt64(interruptibility & 3) | (nmiBlocked ? 8 : 0)
    }

    /// Writes the guest state back into the VMCS guest-state area.
    func saveGuestState() {
        vmx.current.pointee.store(.guestCR0, cr0Value)
        vmx.current.pointee.store(.guestCR3, cr3Value)
        vmx.current.pointee.store(.guestCR4, cr4Value)
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
        // DR7 and IA32_DEBUGCTL only with "save debug controls" (SDM Vol. 3C §27.3.1).
        if vmx.exitControls.contains(.saveDebugControls) {
            vmx.current.pointee.store(.guestDR7, dr[7])
            vmx.current.pointee.store(.guestIA32DebugCtl, msrs.debugCtl)
        }
        // PAE paging in L2 under L1's EPT: the PDPTEs (SDM Vol. 3C §27.3.4).
        if vmx.nested.inL2 && vmx.secondary.contains(.enableEPT) && eferValue & EFER.lma.rawValue == 0
            && cr0Value & CR0.pg.rawValue != 0 && cr4Value & CR4.pae.rawValue != 0, let p = nestedPDPTEs() {
            vmx.current.pointee.store(.guestPDPTE0, p.0)
            vmx.current.pointee.store(.guestPDPTE1, p.1)
            vmx.current.pointee.store(.guestPDPTE2, p.2)
            vmx.current.pointee.store(.guestPDPTE3, p.3)
        }
        // "IA-32e mode guest" follows EFER.LMA on every exit.
        var entry = vmx.current.pointee.entryControls
        if eferValue & EFER.lma.rawValue != 0 { entry.insert(.ia32eModeGuest) } else { entry.remove(.ia32eModeGuest) }
        vmx.current.pointee.store(.vmEntryControls, UInt64(entry.rawValue))
        vmx.current.pointee.store(.guestInterruptibilityState, interruptibilityStateField)
        vmx.current.pointee.store(.guestActivityState, halted ? 1 : 0)
        // Pending debug exceptions (§27.3.4): data-breakpoint matches held back by STI or MOV SS blocking,
        // and BS for a single step pending under that blocking or in the HLT state (the entry checks require it).
        var pendingDebug: UInt64 = 0
        if interruptibility & 3 != 0 || halted {
            if interruptibility & 2 != 0 && pendingDataBreakpoints & 0xF != 0 { pendingDebug = pendingDataBreakpoints & 0xF | 1 << 12 }
            if materializedFlags() & RFLAGS.tf.rawValue != 0 && msrs.debugCtl & 2 == 0 { pendingDebug |= CPU.dr6SingleStep }
        }
        // A #DB trap the entry loaded and has not delivered yet stays pending.
        if vmx.pendingDebugExceptions != 0 {
            pendingDebug |= vmx.pendingDebugExceptions | (vmx.pendingDebugExceptions & 0xF != 0 ? 1 << 12 : 0)
        }
        vmx.current.pointee.store(.guestPendingDebugExceptions, pendingDebug)
        if vmx.pin.contains(.activateVMXPreemptionTimer) && vmx.exitControls.contains(.saveVMXPreemptionTimerValue) {
            let now = preemptionClock
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
        // The instruction pointer wraps at the code size (16-bit code past FFFFH: an unrestricted guest
        // left with a 64-bit guest's CS, whose D bit is 0, runs 16-bit code at a 4-MiB address).
        let len = (ripValue &- startRIP) & (codeSize == 8 ? ~0 : (codeSize == 4 ? 0xFFFF_FFFF : 0xFFFF))
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
