// VMX operation for code running in the model: the VMX instructions a guest hypervisor (L1) executes, and
// its guest (L2) run nested under the Swift VMM (L0) with L1's VMCS (SDM Vol. 3C chapter 23 "Introduction
// to VMX Operation", chapter 24 "Virtual Machine Control Structures", Vol. 3C chapter 31 "VMX Instruction
// Reference"; for when L1 wants an exit, KVM's arch/x86/kvm/vmx/nested.c decides the same question).
//
// L1 runs in non-root operation of L0's VMCS (vmcs01). Its VMX instructions are not exits to L0: the
// model implements them ("VMX operation" here is the model's own). When L1 enters L2, the model's current
// VMCS becomes L1's (vmcs12, cached from L1 memory), so the one entry/exit implementation (VMEntry.swift,
// VMExitDelivery.swift) loads L2 from it and saves L2 into it, and every intercept asks L1's controls. An
// exit L1 asked for is completed inside the model: L2's state saved in vmcs12, L1's host state loaded, and
// L1 continues, with no return from `run()`. Exits only L0 wants (its memory map, its devices, its deadline)
// return from `run()` with `VMExit.fromNestedGuest` set; L0's API then sees L2's registers and guest state
// with its own controls (`CPU.vmcsRead`).

/// The VMX state of the code running in the model (a guest hypervisor).
struct NestedVMXState {
    /// Whether VMX is offered to the code running in the model (CPUID.1:ECX.VMX, the capability MSRs).
    var enabled = false
    /// L1's CR4.VMXE when L0 owns the bit (the CR4 guest/host mask); L1 sees and sets this one.
    var vmxe = false
    /// Whether L1 executed VMXON (and not VMXOFF).
    var inVMXOperation = false
    /// The VMXON pointer.
    var vmxonPointer: UInt64 = 0
    /// The current-VMCS pointer (all ones: none).
    var currentPointer: UInt64 = ~0
    /// L1's current VMCS while L1 runs (vmcs12, cached from its region; VMCLEAR writes it back).
    var cache = VMCS()
    /// Whether L2 runs: `VMXRuntime.current` then holds vmcs12, and `vmcs01`/`hot01` hold L0's.
    var inL2 = false
    /// L0's VMCS while L2 runs.
    var vmcs01 = VMCS()
    /// L0's run-loop state while L2 runs.
    var hot01 = VMXRuntime.Hot()
    /// L0's TSC offset for L1 while L2 runs.
    var tscOffset01: UInt64 = 0
    /// The exit being completed is one only L0 wants (it returns from `run()`).
    var exitForL0 = false
    /// An external interrupt L0 injected while L2 ran that became an exit to L1 without "acknowledge
    /// interrupt on exit": L1 takes it when it can.
    var pendingL1Vector: UInt8? = nil
    /// The last VMLAUNCH/VMRESUME of L1 that failed a check: the check and the VM-instruction error.
    var lastEntryFailure: (failure: EntryFailure, error: UInt32)? = nil
    /// Called when an L1 VM entry fails a named check (`swiftvmx run --trace`).
    var onEntryFailure: ((EntryFailure, UInt32) -> Void)? = nil
    /// The PDPTE registers of an L2 that uses PAE paging under L1's EPT, loaded from vmcs12 by the entry.
    var pdptes = PDPTERegisters()
    /// L2's RIP at an exit only L0 wanted, until L0 enters L2 again: a RIP moved on then means L0 completed
    /// the instruction for L2 (an I/O port, a control register it emulates), which L1's monitor trap flag sees.
    var l0ExitRIP: UInt64? = nil
}

/// The four PDPTE registers of PAE paging (SDM Vol. 3A §4.4.1) as a VM entry with "enable EPT" loads them
/// from the guest-state area (SDM Vol. 3C §26.3.2.4) instead of from the table guest CR3 names. They hold
/// while the paging state they were loaded under does (CR0, CR3, CR4 unchanged); a MOV to CR0, CR3 or CR4
/// that changes it goes back to the table in memory, which is where that instruction loads them from.
struct PDPTERegisters {
    /// Whether a VM entry loaded them (cleared by the VM exit).
    var loaded = false
    /// CR0, CR3 and CR4 when they were loaded.
    var cr0: UInt64 = 0, cr3: UInt64 = 0, cr4: UInt64 = 0
    /// PDPTE0–PDPTE3.
    var entries: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// The CR0 bits whose change makes a MOV to CR0 load the PDPTEs again: PG, CD, NW (SDM Vol. 3A §4.4.1).
    static let cr0Bits: UInt64 = CR0.pg.rawValue | (1 << 30) | (1 << 29)
    /// The CR4 bits whose change makes a MOV to CR4 load them again: PAE, PGE, PSE, SMEP.
    static let cr4Bits: UInt64 = CR4.pae.rawValue | CR4.pge.rawValue | CR4.pse.rawValue | CR4.smep.rawValue

    /// Loaded registers for this paging state and these entries.
    init(cr0 c0: UInt64, cr3 c3: UInt64, cr4 c4: UInt64, entries e: (UInt64, UInt64, UInt64, UInt64)) {
        loaded = true
        cr0 = c0 & PDPTERegisters.cr0Bits; cr3 = c3; cr4 = c4 & PDPTERegisters.cr4Bits
        entries = e
    }

    /// No registers loaded.
    init() {}

    /// Whether they apply to this paging state: no MOV to CR3, and none to CR0 or CR4 that would load them.
    @inline(__always)
    func hold(cr0 c0: UInt64, cr3 c3: UInt64, cr4 c4: UInt64) -> Bool {
        loaded && c3 == cr3 && c0 & PDPTERegisters.cr0Bits == cr0 && c4 & PDPTERegisters.cr4Bits == cr4
    }

    /// PDPTE `index` (bits 31:30 of a linear address).
    func entry(_ index: UInt64) -> UInt64 {
        switch index & 3 {
        case 0: return entries.0
        case 1: return entries.1
        case 2: return entries.2
        default: return entries.3
        }
    }
}

/// VM-instruction error numbers (SDM Vol. 3C §31.4, Table 31-1).
enum VMInstructionError: UInt32 {
    case vmclearInvalidAddress = 2, vmclearVMXONPointer = 3, vmlaunchNonClear = 4, vmresumeNonLaunched = 5
    case invalidControlFields = 7, vmptrldInvalidAddress = 9, vmptrldVMXONPointer = 10
    case vmptrldIncorrectRevision = 11, unsupportedComponent = 12, readOnlyComponent = 13
    case vmxonInVMXRoot = 15, blockedByMovSS = 26, invalidOperand = 28
}

extension VMCS {
    /// The fields in the order they are kept in a VMCS region in guest memory (after 16 bytes of header:
    /// revision identifier, VMX-abort indicator, launch state). The layout is this model's own, as the SDM
    /// leaves it to the implementation (§24.2).
    static let regionFields: [VMCSField] = VMCSField.allCases

    /// Reads a VMCS from its region in memory.
    static func load(from memory: PhysicalMemory, at address: UInt64) -> VMCS {
        var v = VMCS()
        v.revisionIdentifier = UInt32(truncatingIfNeeded: memory.readInteger(at: address, size: 4))
        v.abortIndicator = UInt32(truncatingIfNeeded: memory.readInteger(at: address &+ 4, size: 4))
        v.launched = memory.readInteger(at: address &+ 8, size: 1) == 1
        for (k, f) in regionFields.enumerated() {
            v.store(f, memory.readInteger(at: address &+ 16 &+ UInt64(k * 8), size: 8))
        }
        v.checkedAll = false
        return v
    }

    /// Writes a VMCS into its region in memory.
    func store(to memory: PhysicalMemory, at address: UInt64) {
        memory.writeInteger(UInt64(revisionIdentifier), at: address, size: 4)
        memory.writeInteger(UInt64(abortIndicator), at: address &+ 4, size: 4)
        memory.writeInteger(launched ? 1 : 0, at: address &+ 8, size: 1)
        for (k, f) in VMCS.regionFields.enumerated() {
            memory.writeInteger(self[f], at: address &+ 16 &+ UInt64(k * 8), size: 8)
        }
    }
}

extension VMXCapability {
    /// The capability MSRs as the code running in the model reads them: what nested VMX implements — all
    /// of L0's, and execute-only EPT translations (L1's EPT is walked by NestedEPT.swift).
    public static func nestedRead(_ index: UInt32) -> UInt64? {
        index == Index.eptVPIDCap ? eptVPIDCap | 1 : read(index)
    }
}

extension CPU {
    // MARK: Settings and state for the embedding API

    /// Whether VMX is offered to the code running in the model (nested VMX): CPUID.1:ECX.VMX, the VMX
    /// capability MSRs, CR4.VMXE and the VMX instructions.
    public var nestedVMX: Bool {
        get { vmx.nested.enabled }
        set { vmx.nested.enabled = newValue }
    }

    /// Whether the last exit (or the processor now) is in L2, the guest of the guest hypervisor.
    public var inNestedGuest: Bool { vmx.nested.inL2 }

    /// The last failed VM entry of the guest hypervisor: its named check and VM-instruction error.
    public var lastNestedEntryFailure: (failure: EntryFailure, error: UInt32)? { vmx.nested.lastEntryFailure }

    /// Called with the named check and VM-instruction error whenever a VM entry of the guest hypervisor fails.
    public var onNestedEntryFailure: ((EntryFailure, UInt32) -> Void)? {
        get { vmx.nested.onEntryFailure }
        set { vmx.nested.onEntryFailure = newValue }
    }

    /// L1's view of CR4.VMXE.
    var l1VMXE: Bool {
        guard vmxNonRoot || vmx.nested.inL2 else { return cr4Value & CR4.vmxe.rawValue != 0 }
        let mask = vmx.nested.inL2 ? vmx.nested.vmcs01[.cr4GuestHostMask] : vmx.current.pointee[.cr4GuestHostMask]
        return mask & CR4.vmxe.rawValue != 0 ? vmx.nested.vmxe : cr4Value & CR4.vmxe.rawValue != 0
    }

    // MARK: The instructions (SDM Vol. 3C chapter 31)

    /// VMsucceed: CF, PF, AF, ZF, SF and OF cleared.
    func vmSucceed() {
        materializeFlags()
        flagsBase &= ~CPU.statusBits
    }

    /// VMfailInvalid: CF set, the other status flags cleared.
    func vmFailInvalid() {
        materializeFlags()
        flagsBase = (flagsBase & ~CPU.statusBits) | CPU.cfBit
    }

    /// VMfailValid(error) with a current VMCS, VMfailInvalid without one.
    func vmFail(_ error: VMInstructionError) {
        guard vmx.nested.currentPointer != ~0 else { vmFailInvalid(); return }
        materializeFlags()
        flagsBase = (flagsBase & ~CPU.statusBits) | CPU.zfBit
        vmx.nested.cache.store(.vmInstructionError, UInt64(error.rawValue))
    }

    /// The 64-bit memory operand of VMXON, VMCLEAR and VMPTRLD (a physical address).
    func vmxPointerOperand(_ i: borrowing Instruction) throws(Abort) -> UInt64 {
        try readMem(i.seg, effectiveAddress(i), 8)
    }

    /// Whether a VMXON/VMCS pointer is 4-KiB aligned and within the physical-address width.
    func validVMXPointer(_ p: UInt64) -> Bool { p & 0xFFF == 0 && p & ~CPU.physicalAddressMask == 0 }

    /// Executes a VMX instruction for the guest hypervisor (nesting on, L1 running): the checks and faults
    /// of each instruction's operation section (SDM Vol. 3C §31.3).
    func executeVMXInstructionForL1(_ i: borrowing Instruction) throws(Abort) {
        // #UD outside VMX operation (VMXON: CR4.VMXE clear), in virtual-8086 mode, in compatibility mode.
        if !protectedMode || flagsBase & RFLAGS.vm.rawValue != 0 || (longModeActive && codeSize != 8) { throw Abort.ud }
        let sub = i.sub
        if sub == 7 { guard l1VMXE else { throw Abort.ud } } else if !vmx.nested.inVMXOperation { throw Abort.ud }
        let isMem = i.isMem
        if (sub == 10 || sub == 11 || sub == 4 || sub == 5 || sub == 6 || sub == 7) && !isMem { throw Abort.ud }
        if cplValue != 0 { throw Abort.gp(0) }
        switch sub {
        case 7: try vmxon(i)
        case 3:
            // VMXOFF: leaves VMX operation (no dual-monitor treatment here).
            if vmx.nested.currentPointer != ~0 { vmx.nested.cache.store(to: memory, at: vmx.nested.currentPointer) }
            vmx.nested.inVMXOperation = false
            vmx.nested.currentPointer = ~0
            vmSucceed()
        case 5:
            let p = try vmxPointerOperand(i)
            guard validVMXPointer(p) else { vmFail(.vmclearInvalidAddress); return }
            guard p != vmx.nested.vmxonPointer else { vmFail(.vmclearVMXONPointer); return }
            if p == vmx.nested.currentPointer {
                vmx.nested.cache.launched = false
                vmx.nested.cache.store(to: memory, at: p)
                vmx.nested.currentPointer = ~0
            }
            memory.writeInteger(0, at: p &+ 8, size: 1)     // launch state: clear
            vmSucceed()
        case 4:
            let p = try vmxPointerOperand(i)
            guard validVMXPointer(p) else { vmFail(.vmptrldInvalidAddress); return }
            guard p != vmx.nested.vmxonPointer else { vmFail(.vmptrldVMXONPointer); return }
            let revision = UInt32(truncatingIfNeeded: memory.readInteger(at: p, size: 4))
            guard revision == VMXCapability.vmcsRevision else { vmFail(.vmptrldIncorrectRevision); return }
            if p != vmx.nested.currentPointer {
                if vmx.nested.currentPointer != ~0 { vmx.nested.cache.store(to: memory, at: vmx.nested.currentPointer) }
                vmx.nested.cache = VMCS.load(from: memory, at: p)
                vmx.nested.currentPointer = p
            }
            vmSucceed()
        case 6:
            try writeMem(i.seg, effectiveAddress(i), 8, vmx.nested.currentPointer)
            vmSucceed()
        case 8, 9: try vmreadOrVMWRITE(i, write: sub == 9)
        case 10: try invept(i)
        case 11: try invvpid(i)
        case 1, 2: try nestedVMEntry(launch: sub == 1)
        default: throw Abort.ud
        }
    }

    /// VMXON: enters VMX operation with the region at the operand's address (SDM Vol. 3C §31.3 "VMXON").
    func vmxon(_ i: borrowing Instruction) throws(Abort) {
        if vmx.nested.inVMXOperation {
            vmFail(.vmxonInVMXRoot)
            return
        }
        let cr0 = try hookReadCR0Shadowed()
        if cr0 & VMXCapability.cr0Fixed0 != VMXCapability.cr0Fixed0 { throw Abort.gp(0) }
        // IA32_FEATURE_CONTROL: locked, VMX outside SMX enabled.
        if msrs.featureControl & 0x5 != 0x5 { throw Abort.gp(0) }
        let p = try vmxPointerOperand(i)
        guard validVMXPointer(p),
              UInt32(truncatingIfNeeded: memory.readInteger(at: p, size: 4)) == VMXCapability.vmcsRevision else {
            vmFailInvalid()
            return
        }
        vmx.nested.inVMXOperation = true
        vmx.nested.vmxonPointer = p
        vmx.nested.currentPointer = ~0
        vmSucceed()
    }

    /// VMREAD and VMWRITE: register and memory forms, 64-bit operands in 64-bit mode and 32-bit otherwise,
    /// the high half of 64-bit fields, the read-only exit-information fields (SDM Vol. 3C §31.3).
    func vmreadOrVMWRITE(_ i: borrowing Instruction, write: Bool) throws(Abort) {
        guard vmx.nested.currentPointer != ~0 else { vmFailInvalid(); return }
        let size: UInt8 = codeSize == 8 ? 8 : 4
        let encoding = readReg(i.reg, size)
        // The source operand is read (and may fault) before the field is looked up.
        let source = write ? try readRM(i, size: size) : 0
        guard let (field, high) = VMCSField.decode(encoding: encoding) else { vmFail(.unsupportedComponent); return }
        if write {
            guard field.isWritable else { vmFail(.readOnlyComponent); return }
            let old = vmx.nested.cache[field]
            vmx.nested.cache[field] = high ? (old & 0xFFFF_FFFF) | (source << 32) : source
        } else {
            let value = vmx.nested.cache[field]
            try writeRM(i, size: size, high ? value >> 32 : value)
        }
        vmSucceed()
    }

    /// INVVPID: individual-address (0), single-context (1), all-context (2) and single-context retaining
    /// globals (3) flush the TLB contexts of L2 guests with that VPID (all VPIDs for type 2; SDM Vol. 3C
    /// §31.3 "INVVPID"); invalid types and operands fail with error 28. L1's own translations (VPID 0) and
    /// those of an L2 without a VPID (flushed at every entry and exit) are not touched.
    func invvpid(_ i: borrowing Instruction) throws(Abort) {
        let type = readReg(i.reg, codeSize == 8 ? 8 : 4)
        let ea = effectiveAddress(i)
        let low = try readMem(i.seg, ea, 8)
        let address = try readMem(i.seg, ea &+ 8, 8)
        let vpid = low & 0xFFFF
        guard type <= 3, low >> 16 == 0 else { vmFail(.invalidOperand); return }
        if type != 2 && vpid == 0 { vmFail(.invalidOperand); return }
        if type == 0 && !isCanonical(address) { vmFail(.invalidOperand); return }
        let id = UInt16(vpid)
        switch type {
        case 0: tlb.flushTagged(page: address) { $0.vpid == id }
        case 1: tlb.flushTagged { $0.vpid == id }
        case 2: tlb.flushTagged { _ in true }
        default: tlb.flushTagged(keepGlobal: true) { $0.vpid == id }
        }
        vmSucceed()
    }

    /// INVEPT: single-context (1) flushes the TLB contexts tagged with the EPTP's PML4 address, all-context
    /// (2) every tagged context (translations of an L2 without a VPID are flushed at every entry and exit
    /// anyway); the types IA32_VMX_EPT_VPID_CAP reports. Other types fail with error 28.
    func invept(_ i: borrowing Instruction) throws(Abort) {
        let type = readReg(i.reg, codeSize == 8 ? 8 : 4)
        let eptp = try readMem(i.seg, effectiveAddress(i), 8)
        guard type == 1 || type == 2 else { vmFail(.invalidOperand); return }
        // Single-context: the EPTP must be one VM entry would accept (write-back or uncached, a 4-level walk).
        if type == 1 && ((eptp & 7 != 0 && eptp & 7 != 6) || (eptp >> 3) & 7 != 3 || eptp & ~CPU.physicalAddressMask & ~0xFFF != 0) {
            vmFail(.invalidOperand)
            return
        }
        let ep4ta = eptp & CPU.physicalAddressMask & ~0xFFF
        if type == 1 { tlb.flushTagged { $0.ep4ta == ep4ta } } else { tlb.flushTagged { _ in true } }
        vmSucceed()
    }

        // MARK: Entering L2

    /// VMLAUNCH/VMRESUME of L1: checks the launch state, then enters L2 with vmcs12 through the same entry
    /// code L0's entries use. On VMfailValid L1 continues after the instruction with the error recorded.
    func nestedVMEntry(launch: Bool) throws(Abort) {
        guard vmx.nested.currentPointer != ~0 else { vmFailInvalid(); return }
        if interruptibility & 2 != 0 { vmFail(.blockedByMovSS); return }
        if launch && vmx.nested.cache.launched { vmFail(.vmlaunchNonClear); return }
        if !launch && !vmx.nested.cache.launched { vmFail(.vmresumeNonLaunched); return }
        // L1's instruction retires here: RIP is past it (L1 resumes at the host RIP after an exit).
        vmSucceed()
        vmx.syncExitInformation()
        // The VMCSs change places without copying their fields: L0's into `vmcs01`, L1's (vmcs12) into the
        // current one; `cache` holds nothing while L2 runs (the exit swaps vmcs12 back).
        swap(&vmx.nested.vmcs01, &vmx.current.pointee)
        swap(&vmx.current.pointee, &vmx.nested.cache)
        vmx.nested.hot01 = vmx.hot.pointee
        vmx.nested.tscOffset01 = vmxTSCOffset
        vmx.hot.pointee.exitInformationStale = false
        vmx.hot.pointee.guestStateStale = false
        vmx.hot.pointee.loadNeeded = true
        vmx.hot.pointee.exitPending = false
        vmx.nested.inL2 = true
        vmx.nested.exitForL0 = false
        // L1's EPT, if it enables it, translates L2's guest-physical addresses; translations of L1 go.
        vmx.hot.pointee.nestedEPT = vmx.current.pointee.secondary.contains(.enableEPT)
        if let failure = cachedEntryCheck() {
            switch failure.kind {
            case .vmFailValid(let n):
                leaveL2WithoutExit()
                failNestedEntry(failure, n)
            case .vmExit(let reason):
                vmx.nested.onEntryFailure?(failure, 0)
                vmx.nested.lastEntryFailure = (failure, 0)
                var e = VMExit(reason: reason)
                e.entryFailure = true
                e.qualification = failure.exitQualification
                e.failedCheck = failure
                vmx.hot.pointee.exit = e
                recordExitFields(e)
                nestedVMExit(saveGuestState: false)
            }
            return
        }
        let l1Paging = tlbPagingState
        let wasNonRoot = vmxNonRoot
        vmxNonRoot = false      // the MSR-load area loads L2's MSRs without L0's MSR intercepts
        let msrFailure = loadGuestState()
        vmxNonRoot = wasNonRoot
        // Translations (SDM Vol. 3C §29.4.3.3): with "enable VPID", L2's are tagged by its VPID (and EPTP),
        // so this entry keeps them and L1's, switching context; without, the entry flushes them all.
        if let tag = nestedTLBTag(vmx.current.pointee) {
            selectTLBContext(tag, leaving: l1Paging)
        } else {
            tlb.flushAll()
        }
        if let msrFailure {
            var e = VMExit(reason: .entryFailureMSRLoading)
            e.entryFailure = true
            e.qualification = UInt64(msrFailure.msrIndex)
            e.failedCheck = msrFailure
            vmx.hot.pointee.exit = e
            recordExitFields(e)
            nestedVMExit(saveGuestState: false)
            return
        }
        vmx.current.pointee.launched = true
        vmxNonRoot = true
        // L1's VMLAUNCH/VMRESUME retires after this (`retireEndsBatch`), which would end an interrupt shadow:
        // the STI or MOV SS blocking just loaded is L2's and holds for L2's first instruction.
        newShadow = interruptibility
        // (The VMRESUME retires after this: it is not L2's instruction for the monitor trap flag.)
        vmx.monitorTrapMark = (instructionCount &+ 1, eventDeliveries)
        startRIP = ripValue
        lazyEventCheck = true
        if injectEventOnEntry() {
            // Delivery itself caused an exit (completed): it is L1's.
            _ = reflectNestedExit()
        }
    }

    /// The TLB context of L2 under a VMCS of L1: its VPID and, with L1's EPT, the EPT PML4 address; nil
    /// without "enable VPID" (L2 then shares context 0, flushed at every entry and exit).
    func nestedTLBTag(_ v: borrowing VMCS) -> TLB.Tag? {
        let secondary = v.secondary
        guard secondary.contains(.enableVPID) else { return nil }
        let vpid = UInt16(truncatingIfNeeded: v[.vpid])
        guard vpid != 0 else { return nil }
        let ep4ta = secondary.contains(.enableEPT) ? v[.eptPointer] & CPU.physicalAddressMask & ~0xFFF : 0
        return TLB.Tag(vpid: vpid, ep4ta: ep4ta)
    }

    /// Records a failed L1 VM entry (VMfailValid) and names its check.
    func failNestedEntry(_ f: EntryFailure, _ error: UInt32) {
        vmx.nested.lastEntryFailure = (f, error)
        vmx.nested.onEntryFailure?(f, error)
        materializeFlags()
        flagsBase = (flagsBase & ~CPU.statusBits) | CPU.zfBit
        vmx.nested.cache.store(.vmInstructionError, UInt64(error))
    }

    /// Restores L0's VMCS and run-loop state after an L1 entry that failed before loading L2.
    func leaveL2WithoutExit() {
        swap(&vmx.nested.cache, &vmx.current.pointee)
        swap(&vmx.current.pointee, &vmx.nested.vmcs01)
        vmx.hot.pointee = vmx.nested.hot01
        vmxTSCOffset = vmx.nested.tscOffset01
        vmx.nested.inL2 = false
    }

    // MARK: Exits from L2

    /// After an exit completed while L2 ran: true when it went to L1 (completed inside the model, L1 runs
    /// on); false when it is L0's, to return from `run()`.
    func reflectNestedExit() -> Bool {
        guard vmx.nested.inL2 else { return false }
        if vmx.nested.exitForL0 {
            vmx.nested.exitForL0 = false
            vmx.hot.pointee.exit.fromNestedGuest = true
            vmx.nested.l0ExitRIP = ripValue
            return false
        }
        nestedVMExit(saveGuestState: true)
        return true
    }

    /// A VM exit from L2 to L1 (SDM Vol. 3C §27.3–27.6): L2's state and the exit information into vmcs12,
    /// L1's host-state area into the processor, the exit MSR-load area; L1 continues in non-root operation
    /// of L0's VMCS. The exit is in `vmx.hot.pointee.exit`.
    func nestedVMExit(saveGuestState save: Bool) {
        if save { syncGuestState() }
        vmx.nested.pdptes = PDPTERegisters()
        vmx.nested.l0ExitRIP = nil
        vmx.pendingDebugExceptions = 0              // saved in vmcs12: L2's, not L1's
        vmx.syncExitInformation()
        vmx.current.pointee.store(.vmEntryInterruptionInformation, vmx.current.pointee[.vmEntryInterruptionInformation] & ~(1 << 31))
        // vmcs12 back to `cache`, L0's VMCS back to the current one (swapped, not copied).
        swap(&vmx.nested.cache, &vmx.current.pointee)
        swap(&vmx.current.pointee, &vmx.nested.vmcs01)
        vmx.hot.pointee = vmx.nested.hot01
        vmx.nested.inL2 = false
        vmxTSCOffset = vmx.nested.tscOffset01
        loadHostState(vmx.nested.cache)
        // The processor holds L1's state; L0's VMCS lags it as after any exit.
        vmx.hot.pointee.guestStateStale = true
        vmx.hot.pointee.loadNeeded = false
        vmx.hot.pointee.exitPending = false
        vmx.hot.pointee.vectoring = nil
        // Controls L0 wrote while L2 ran take effect now, as its next entry would load them.
        refreshL0Controls()
        vmxNonRoot = true
        lazyEventCheck = true
    }

    /// The run loop's copies of L0's controls, from L0's VMCS (`hot01` while L2 runs, `hot` after).
    func refreshL0Controls() {
        let v = vmx.nested.inL2 ? vmx.nested.vmcs01 : vmx.current.pointee
        var h = vmx.nested.inL2 ? vmx.nested.hot01 : vmx.hot.pointee
        h.pin = v.pinBased
        h.primary = v.primary
        h.secondary = v.secondary
        h.exitControls = v.exitControls
        if vmx.nested.inL2 { vmx.nested.hot01 = h } else { vmx.hot.pointee = h }
    }

    /// Loads the host-state area of L1's VMCS (SDM Vol. 3C §27.5) and processes the VM-exit MSR-load area.
    func loadHostState(_ v: VMCS) {
        let l2Paging = tlbPagingState
        let exitControls = v.exitControls
        let longHost = exitControls.contains(.hostAddressSpaceSize)
        cr0Value = v[.hostCR0] | CR0.et.rawValue
        cr3Value = v[.hostCR3]
        cr4Value = v[.hostCR4]
        dr[7] = 0x400
        msrs.debugCtl = 0
        msrs.sysenterCS = v[.hostIA32SysenterCS]
        msrs.sysenterESP = v[.hostIA32SysenterESP]
        msrs.sysenterEIP = v[.hostIA32SysenterEIP]
        if exitControls.contains(.loadIA32EFER) {
            eferValue = v[.hostIA32EFER]
        } else {
            eferValue &= ~(EFER.lma.rawValue | EFER.lme.rawValue)
            if longHost { eferValue |= EFER.lma.rawValue | EFER.lme.rawValue }
        }
        if exitControls.contains(.loadIA32PAT) { msrs.pat = v[.hostIA32PAT] }
        // CS: base 0, limit 4 GiB, execute/read accessed, DPL 0, L = host address-space size (§27.5.2).
        seg[Seg.cs] = SegmentRegister(selector: UInt16(truncatingIfNeeded: v[.hostCSSelector]) & 0xFFF8, base: 0, limit: 0xFFFF_FFFF,
                                      accessRights: 0x809B | (longHost ? 0x2000 : 0x4000))
        let data: [(SegmentRegisterName, VMCSField, UInt64)] = [
            (.es, .hostESSelector, 0), (.ss, .hostSSSelector, 0), (.ds, .hostDSSelector, 0),
            (.fs, .hostFSSelector, v[.hostFSBase]), (.gs, .hostGSSelector, v[.hostGSBase])]
        for (s, field, base) in data {
            let selector = UInt16(truncatingIfNeeded: v[field]) & 0xFFF8
            let usable = selector != 0 || s == .ss
            seg[s.rawValue] = SegmentRegister(selector: selector, base: base, limit: 0xFFFF_FFFF,
                                              accessRights: usable ? 0xC093 : 0x1C093)
        }
        seg[Seg.tr] = SegmentRegister(selector: UInt16(truncatingIfNeeded: v[.hostTRSelector]) & 0xFFF8, base: v[.hostTRBase],
                                      limit: 0x67, accessRights: 0x8B)
        seg[SegmentRegisterName.ldtr.rawValue] = .null
        gdtr = DescriptorTableRegister(base: v[.hostGDTRBase], limit: 0xFFFF)
        idtr = DescriptorTableRegister(base: v[.hostIDTRBase], limit: 0xFFFF)
        gpr[Reg.rsp] = v[.hostRSP]
        ripValue = v[.hostRIP]
        startRIP = ripValue
        flagsBase = 2
        lazy.op = .none
        interruptibility = 0
        halted = false
        inShutdown = false
        updateMode()
        // L2's translations stay in their context when it has a VPID; else the exit flushes them (§29.4.3.3).
        if tlb.currentTag != nil { selectTLBContext(nil, leaving: l2Paging) } else { tlb.flushAll() }
        // VM-exit MSR-load area: 16-byte entries {index, reserved, value}; a bad entry is a VMX abort.
        let count = Int(min(v[.vmExitMSRLoadCount], 512))
        guard count > 0 else { return }
        let wasNonRoot = vmxNonRoot
        vmxNonRoot = false
        defer { vmxNonRoot = wasNonRoot }
        for k in 0..<count {
            let a = v[.vmExitMSRLoadAddress] &+ UInt64(k * 16)
            let index = UInt32(truncatingIfNeeded: memory.readInteger(at: a, size: 4))
            let value = memory.readInteger(at: a &+ 8, size: 8)
            do throws(Abort) { try writeMSR(index, value) } catch {
                vmx.nested.cache.abortIndicator = 4     // VMX abort: failure loading an MSR on exit (§27.7)
                return
            }
        }
    }

    // MARK: What L0 still wants while L2 runs

    /// While L2 runs, an I/O instruction L1 lets through: an exit to L0 if L0's controls intercept it (the
    /// port is L0's device), else it runs. Called by `hookIO` after L1's controls said no exit.
    func l0WantsIO(port: UInt16, size: Int) -> Bool {
        ioExits(vmx.nested.vmcs01, port: port, size: size)
    }

    /// While L2 runs, an RDMSR/WRMSR L1 lets through: an exit to L0 if L0's MSR bitmap intercepts it.
    func l0WantsMSR(_ index: UInt32, write: Bool) -> Bool {
        msrExits(vmx.nested.vmcs01, index, write: write)
    }

    /// While L2 runs, a MOV from CR8 L1's controls let through reads L1's TPR, which L0's controls may
    /// intercept ("CR8-store exiting": an exit to L0) or virtualise ("use TPR shadow": L0's VTPR).
    func l0ReadCR8(_ i: borrowing Instruction) throws(Abort) -> UInt64 {
        let primary = vmx.nested.vmcs01.primary
        if primary.contains(.cr8StoreExiting) {
            exitIsL0s()
            throw instructionExit(.controlRegisterAccess, qualification: CRAccessQualification(controlRegister: 8, access: .movFromCR, register: Int(i.rm)).rawValue)
        }
        if primary.contains(.useTPRShadow) {
            return (memory.readInteger(at: vmx.nested.vmcs01[.virtualAPICAddress] &+ 0x80, size: 1) >> 4) & 0xF
        }
        return cr8
    }

    /// While L2 runs, a MOV to CR8 L1's controls let through writes L1's TPR: an exit to L0 with its
    /// "CR8-load exiting"; with its "use TPR shadow", L0's VTPR takes the value and dropping below L0's TPR
    /// threshold is L0's TPR-below-threshold exit after the instruction (SDM Vol. 3C §29.1.2), so an
    /// interrupt L0 held back for L1's TPR is delivered. Returns true when the VTPR took the value.
    func l0WriteCR8(_ v: UInt64, qualification q: UInt64) throws(Abort) -> Bool {
        let primary = vmx.nested.vmcs01.primary
        if primary.contains(.cr8LoadExiting) {
            exitIsL0s()
            throw instructionExit(.controlRegisterAccess, qualification: q)
        }
        guard primary.contains(.useTPRShadow) else { return false }
        memory.writeInteger((v & 0xF) << 4, at: vmx.nested.vmcs01[.virtualAPICAddress] &+ 0x80, size: 4)
        if (v & 0xF) < vmx.nested.vmcs01[.tprThreshold] & 0xF {
            exitIsL0s()
            trapExit(.tprBelowThreshold)
            lazyEventCheck = true
        }
        return true
    }

    /// Marks the exit being produced as L0's.
    func exitIsL0s() { if vmx.nested.inL2 { vmx.nested.exitForL0 = true } }

    /// At L0's entry while L2 runs: an event L0 injects (into "its guest") while L2 runs. An external
    /// interrupt becomes the external-interrupt exit to L1 when L1's pin-based controls ask for it (with the
    /// vector if L1 acknowledges on exit; else L1 takes it when it can); other events go to L2 as L0 gave them.
    /// Returns true when the entry became an exit to L1 (L1 runs next).
    func nestedEntryFromL0() -> Bool {
        refreshL0Controls()
        // L0 may have moved its TSC offset for L1 (time it skipped while L2 was halted): L1's TSC, L2's
        // (L1's plus L1's offset) and L1's VMX-preemption timer for L2 move with it.
        let offset01 = vmx.nested.vmcs01.primary.contains(.useTSCOffsetting) ? vmx.nested.vmcs01[.tscOffset] : 0
        vmxTSCOffset = vmxTSCOffset &- vmx.nested.tscOffset01 &+ offset01
        vmx.nested.tscOffset01 = offset01
        if vmx.nested.hot01.pin.contains(.activateVMXPreemptionTimer) {
            vmx.nested.hot01.preemptionDeadline = instructionCount &+ tscOffset
                &+ (vmx.nested.vmcs01[.vmxPreemptionTimerValue] << VMXCapability.preemptionTimerRate)
        }
        let info = InterruptionInfo(rawValue: UInt32(truncatingIfNeeded: vmx.nested.vmcs01[.vmEntryInterruptionInformation]))
        guard info.valid else { return false }
        vmx.nested.vmcs01.store(.vmEntryInterruptionInformation, UInt64(info.rawValue & ~(1 << 31)))
        let v12 = vmx.current.pointee
        if info.type == .external && v12.pinBased.contains(.externalInterruptExiting) {
            var e = VMExit(reason: .externalInterrupt)
            if v12.exitControls.contains(.acknowledgeInterruptOnExit) {
                e.interruptionInformation = InterruptionInfo(vector: info.vector, type: .external)
            } else {
                vmx.nested.pendingL1Vector = info.vector
            }
            vmx.hot.pointee.exit = e
            vmx.hot.pointee.vectoring = nil
            completeExit()
            nestedVMExit(saveGuestState: true)
            return true
        }
        vmx.current.pointee.store(.vmEntryInterruptionInformation, UInt64(info.rawValue))
        vmx.current.pointee.store(.vmEntryExceptionErrorCode, vmx.nested.vmcs01[.vmEntryExceptionErrorCode])
        vmx.current.pointee.store(.vmEntryInstructionLength, vmx.nested.vmcs01[.vmEntryInstructionLength])
        return false
    }

    /// At L0's entry into L2 after an exit only L0 wanted: when L0 completed L2's instruction (RIP moved on)
    /// and L1's "monitor trap flag" is 1, the MTF VM exit that follows the instruction (SDM Vol. 3C §25.5.2),
    /// built in place; true then. L0's single-step #DB for that instruction (an injected #DB) stays pending
    /// beside it, in the pending debug exceptions, as a #DB trap concurrent with MTF does (kvm-unit-tests'
    /// vmx_mtf_test). Another event L0 injects is delivered first, as at any entry.
    func monitorTrapAfterL0Instruction() -> Bool {
        guard let at = vmx.nested.l0ExitRIP else { return false }
        vmx.nested.l0ExitRIP = nil
        guard vmx.nested.inL2 && ripValue != at && vmx.current.pointee.primary.contains(.monitorTrapFlag) else { return false }
        let info = InterruptionInfo(rawValue: UInt32(truncatingIfNeeded: vmx.current.pointee[.vmEntryInterruptionInformation]))
        if info.valid && info.typeBits == 3 && info.vector == ExceptionVector.db.rawValue {
            vmx.current.pointee.store(.vmEntryInterruptionInformation, UInt64(info.rawValue & ~(1 << 31)))
            vmx.pendingDebugExceptions |= CPU.dr6SingleStep
        } else if info.valid {
            return false
        }
        finishExitInPlace(VMExit(reason: .monitorTrapFlag))
        return true
    }

    /// An external interrupt L1 did not acknowledge on exit, delivered when L1 can take it. Returns true if delivered.
    func deliverPendingL1Interrupt() -> Bool {
        guard let vector = vmx.nested.pendingL1Vector, !vmx.nested.inL2, flagsBase & RFLAGS.if.rawValue != 0,
              interruptibility == 0 else { return false }
        vmx.nested.pendingL1Vector = nil
        halted = false
        deliverEvent(vector: vector, kind: .external, errorCode: nil)
        return true
    }

    /// The clock the VMX-preemption timer of the running guest counts (at the TSC rate, SDM Vol. 3C §25.5.1):
    /// the TSC without VMX offsets for L0's guest; while L2 runs, L1's TSC without L1's offset for L2, so
    /// the time L0 skips while L2 is halted (its TSC offset for L1) counts down L1's timer for L2.
    var preemptionClock: UInt64 {
        instructionCount &+ tscOffset &+ (vmx.nested.inL2 ? vmx.nested.tscOffset01 : 0)
    }

    /// While L2 is halted (activity state HLT) with L1's VMX-preemption timer armed: the TSC ticks until
    /// the timer fires (0: it has), after which the next entry exits to L1. nil otherwise: the halted
    /// guest then waits for an event as usual.
    public var nestedGuestTimerTicks: UInt64? {
        guard vmx.nested.inL2, !vmxNonRoot, halted, vmx.pin.contains(.activateVMXPreemptionTimer) else { return nil }
        // With the TSC offset for L1 L0 has now (the next entry takes it, `nestedEntryFromL0`).
        let offset01 = vmx.nested.vmcs01.primary.contains(.useTSCOffsetting) ? vmx.nested.vmcs01[.tscOffset] : 0
        let now = instructionCount &+ tscOffset &+ offset01
        return now >= vmx.preemptionDeadline ? 0 : vmx.preemptionDeadline &- now
    }

    /// Whether L2 runs with L1's "external-interrupt exiting": an external interrupt L0 injects becomes an
    /// exit to L1 whatever L2's RFLAGS.IF (blocking by STI and MOV SS still holds it back, SDM Vol. 3C §25.3).
    public var nestedGuestExitsOnExternalInterrupt: Bool {
        vmx.nested.inL2 && vmx.current.pointee.pinBased.contains(.externalInterruptExiting)
    }

    /// L0's instructions left before its VMX-preemption timer fires while L2 runs.
    func l0PreemptionBudget() -> Int {
        let hot = vmx.nested.hot01
        guard hot.pin.contains(.activateVMXPreemptionTimer) else { return Int.max }
        let now = instructionCount &+ tscOffset
        return now >= hot.preemptionDeadline ? 1 : Int(min(hot.preemptionDeadline &- now, 1 << 40))
    }

    /// Whether L0's interrupt window is open while L2 runs: L0 asked for interrupt-window exiting and an
    /// interrupt it injects now would be taken (by L2, or as an exit to L1).
    func l0InterruptWindowOpen() -> Bool {
        guard vmx.nested.vmcs01.primary.contains(.interruptWindowExiting) else { return false }
        if vmx.current.pointee.pinBased.contains(.externalInterruptExiting) { return true }
        return flagsBase & RFLAGS.if.rawValue != 0 && interruptibility == 0
    }

    // MARK: The API's view while L2 runs

    /// Whether a field is L0's own while L2 runs (controls, host state, its preemption-timer value), as
    /// opposed to the guest state and exit information, which are L2's.
    static func isL0Field(_ f: VMCSField) -> Bool {
        f == .vmxPreemptionTimerValue || (f.type != .guestState && f.type != .exitInformation)
    }

    /// L0's VMCS as its API shows it while L2 runs: its controls with L2's guest state and the exit.
    func composedVMCSForL0() -> VMCS {
        syncGuestState()
        vmx.syncExitInformation()
        var v = vmx.nested.vmcs01
        for f in VMCSField.allCases where !CPU.isL0Field(f) { v.store(f, vmx.current.pointee[f]) }
        return v
    }

    /// Sets L0's VMCS while L2 runs: controls and host state to L0's, guest state to L2's.
    func setComposedVMCSForL0(_ v: VMCS) {
        syncGuestState()
        for f in VMCSField.allCases {
            if CPU.isL0Field(f) { vmx.nested.vmcs01[f] = v[f] } else if f.type == .guestState { vmx.current.pointee[f] = v[f] }
        }
        vmx.loadNeeded = true
    }
}
