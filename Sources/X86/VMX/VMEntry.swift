// VM entry (SDM Vol. 3C chapter 26 "VM Entries"): the checks with their cached verdict (§26.1–26.3.1) and
// loading the guest-state area and the MSR-load area (§26.3.2, §26.4).

extension CPU {
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
                                                || vmx.current.pointee[.vmcsLinkPointer] != ~0
                                                || CPU.loadsPDPTEsFromMemory(vmx.current.pointee)),
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
                    return CPU.checkVMEntry(vmx.current.pointee, memory: memory, mbec: cpuModel.modeBasedExecuteControl)
                }
                vmx.current.pointee.ripChanged = false
            }
            return nil
        }
        let f = CPU.checkVMEntry(vmx.current.pointee, memory: memory, mbec: cpuModel.modeBasedExecuteControl)
        if f == nil { vmx.current.pointee.checkedAll = true; vmx.current.pointee.ripChanged = false }
        return f
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
        // PAE paging in L2 under L1's EPT: the PDPTE registers come from the guest-state area (§26.3.2.4).
        // (L0's own entries leave PAE paging to the table at CR3: its API users keep no PDPTE fields.)
        if vmx.nested.inL2 && v.secondary.contains(.enableEPT) && !ia32e
            && cr0Value & CR0.pg.rawValue != 0 && cr4Value & CR4.pae.rawValue != 0 {
            vmx.nested.pdptes = PDPTERegisters(cr0: cr0Value, cr3: cr3Value, cr4: cr4Value,
                                               entries: (v[.guestPDPTE0], v[.guestPDPTE1], v[.guestPDPTE2], v[.guestPDPTE3]))
        } else {
            vmx.nested.pdptes = PDPTERegisters()
        }
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
        // Pending debug exceptions under STI or MOV SS blocking: the data-breakpoint matches wait for the
        // trap after the next instruction, as a MOV SS holds them back (§26.7.3); without blocking they are
        // delivered right after the entry (`injectEventOnEntry`).
        let pendingDebug = v[.guestPendingDebugExceptions]
        pendingDataBreakpoints = interruptibility != 0 ? pendingDebug & 0xF : 0
        vmx.pendingDebugExceptions = interruptibility != 0 ? 0 : pendingDebug & 0x400F
        nmiBlocked = v[.guestInterruptibilityState] & 8 != 0
        halted = v[.guestActivityState] == 1
        inShutdown = false
        if vmx.primary.contains(.useTSCOffsetting) { vmxTSCOffset = v[.tscOffset] } else { vmxTSCOffset = 0 }
        // L2's TSC: L1's (L0's offset for L1) plus L1's offset for L2.
        if vmx.nested.inL2 { vmxTSCOffset = vmx.nested.tscOffset01 &+ vmxTSCOffset }
        if vmx.pin.contains(.activateVMXPreemptionTimer) {
            vmx.preemptionDeadline = preemptionClock &+ (v[.vmxPreemptionTimerValue] << VMXCapability.preemptionTimerRate)
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
}
