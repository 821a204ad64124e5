// A virtual CPU: VMCS access by field name, registers, MSRs, run() returning a VM exit.
import X86

/// A virtual CPU. Use it from one thread; `interrupt()` may be called from any thread.
public final class VCPU {
    /// The virtual machine.
    public let vm: VirtualMachine
    /// The processor model underneath.
    let cpu: CPU
    /// Exits counted by basic exit reason (a buffer allocated once: counting costs no exclusivity check).
    private let exitTally: UnsafeMutablePointer<Int>
    /// Exits by reason since creation.
    public var exitCounts: [ExitReason: Int] {
        var d: [ExitReason: Int] = [:]
        for r in ExitReason.allCases where exitTally[Int(r.rawValue)] > 0 { d[r] = exitTally[Int(r.rawValue)] }
        return d
    }

    init(vm: VirtualMachine) {
        self.vm = vm
        cpu = CPU(memory: vm.memory)
        exitTally = .allocate(capacity: 80)
        exitTally.initialize(repeating: 0, count: 80)
        cpu.currentVMCS = VCPU.defaultVMCS()
    }

    /// A VMCS that passes every VM-entry check: controls at their default settings plus EPT and unrestricted
    /// guest, a 64-bit host, and a flat 32-bit protected-mode guest at CPL 0 with paging off: the state a VMM
    /// starts from.
    public static func defaultVMCS() -> VMCS {
        var v = VMCS()
        v[.pinBasedControls] = UInt64(VMXCapability.pinDefault1)
        v[.primaryProcessorBasedControls] = UInt64(VMXCapability.primaryTrueDefault1 | PrimaryProcessorControls.activateSecondaryControls.rawValue)
        // The VM's memory map is the EPT (Hypervisor.framework's model): "enable EPT" is on, with an
        // EPTP naming write-back memory and a 4-level walk; "unrestricted guest" lets the guest run with
        // paging or protection off.
        v[.secondaryProcessorBasedControls] = UInt64((SecondaryProcessorControls.enableEPT.rawValue | SecondaryProcessorControls.unrestrictedGuest.rawValue))
        v[.eptPointer] = 6 | (3 << 3)
        v[.vmExitControls] = UInt64(VMXCapability.exitDefault1 & ~UInt32(1 << 2)) | UInt64(VMExitControls.hostAddressSpaceSize.rawValue)
        v[.vmEntryControls] = UInt64(VMXCapability.entryDefault1 & ~UInt32(1 << 2))
        // Host state: the VMM's own (a 64-bit host, as on the hardware a VMM runs on).
        v[.hostCR0] = 0x8005_0033
        v[.hostCR4] = 0x2020
        v[.hostCSSelector] = 0x10
        v[.hostSSSelector] = 0x18
        v[.hostTRSelector] = 0x40
        // Guest: flat 32-bit protected mode, CPL 0.
        v[.guestCR0] = CR0.pe.rawValue | CR0.ne.rawValue | CR0.et.rawValue
        v[.guestCR4] = CR4.vmxe.rawValue
        v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC09B))
        for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] {
            v.setGuestSegment(s, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
        }
        v.setGuestSegment(.ldtr, .null)
        v.setGuestSegment(.tr, SegmentRegister(selector: 0x18, base: 0, limit: 0x67, accessRights: 0x8B))
        v[.guestGDTRLimit] = 0xFFFF
        v[.guestIDTRLimit] = 0xFFFF
        v[.guestRFLAGS] = 2
        v[.guestDR7] = 0x400
        v[.vmcsLinkPointer] = ~0
        return v
    }

    deinit { exitTally.deallocate() }

    // MARK: VMCS

    /// Reads a VMCS field (`hv_vmx_vcpu_read_vmcs`).
    public func read(_ field: VMCSField) -> UInt64 { cpu.vmcsRead(field) }

    /// Writes a VMCS field (`hv_vmx_vcpu_write_vmcs`); VM-exit information fields are read-only.
    public func write(_ field: VMCSField, _ value: UInt64) throws(HypervisorError) {
        guard field.isWritable else { throw .readOnlyField(field) }
        cpu.vmcsWrite(field, value)
    }

    /// The whole VMCS as a value.
    public var vmcs: VMCS {
        get { cpu.currentVMCS }
        set { cpu.currentVMCS = newValue }
    }

    /// Reads a capability MSR (IA32_VMX_BASIC … IA32_VMX_TRUE_ENTRY_CTLS), or nil for another index.
    public static func capability(_ msr: UInt32) -> UInt64? { VMXCapability.read(msr) }

    // MARK: Registers

    /// Reads a general-purpose register (RSP reads the guest-state area).
    public func read(_ r: GPR) -> UInt64 { r == .rsp ? cpu.vmcsRead(.guestRSP) : cpu.gpr(r) }

    /// Writes a general-purpose register.
    public func write(_ r: GPR, _ value: UInt64) {
        if r == .rsp { cpu.vmcsWrite(.guestRSP, value) } else { cpu.setGPR(r, value) }
    }

    /// Retires an instruction the VMM emulated after its exit: guest RIP moves `length` bytes on (the exit's
    /// instruction length) and blocking by STI or by MOV SS ends, as the processor does when an instruction
    /// retires. The same as writing `.guestRIP` and `.guestInterruptibilityState`, in one call.
    public func retireInstruction(length: UInt64) {
        cpu.retireEmulatedInstruction(length: length)
    }

    /// The guest's DR6 (`hv_vcpu_read_register(HV_X86_DR6)`): a VMM that emulates an instruction sets the
    /// debug status of the #DB it injects for it (DR6.BS for a single-step trap).
    public var debugStatus: UInt64 {
        get { cpu.dr[6] }
        set { cpu.dr[6] = newValue | 0xFFFF_0FF0 }
    }

    // MARK: MSRs

    /// Reads a guest MSR (`hv_vcpu_read_msr`); nil for an MSR the processor does not implement.
    /// MSRs held in the guest-state area (SYSENTER, EFER, PAT, DEBUGCTL, FS/GS base) read the VMCS.
    public func readMSR(_ index: UInt32) -> UInt64? {
        cpu.guestMSR(index)
    }

    /// Writes a guest MSR (`hv_vcpu_write_msr`); false if the MSR is not implemented or the value is invalid.
    @discardableResult
    public func writeMSR(_ index: UInt32, _ value: UInt64) -> Bool {
        cpu.setGuestMSR(index, value)
    }

    // MARK: Extended state and CPUID

    /// The guest's XCR0 (`hv_vcpu_read_register(HV_X86_XCR0)`).
    public var xcr0: UInt64 { cpu.xcr0 }

    /// Sets the guest's XCR0 as XSETBV would (a VMM emulating the XSETBV exit, reason 55); false, with
    /// nothing changed, for a value XSETBV refuses with #GP.
    @discardableResult
    public func setXCR0(_ value: UInt64) -> Bool { cpu.setXCR0(value) }

    // MARK: Nested VMX

    /// Whether the guest may use VMX itself (nested virtualization, as Hypervisor.framework offers EL2 on
    /// Apple silicon): CPUID.1:ECX.VMX, the VMX capability MSRs, CR4.VMXE and the VMX instructions, which the
    /// processor model implements for the guest; the guest's own guests run nested, and exits they cause
    /// that the guest hypervisor asked for never reach this vCPU's `run()`. Off by default.
    public var nestedVirtualization: Bool {
        get { cpu.nestedVMX }
        set { cpu.nestedVMX = newValue }
    }

    /// Whether the vCPU is running (or stopped in) the guest hypervisor's own guest, L2: then the guest
    /// registers and guest-state fields are L2's (`VMExit.fromNestedGuest` says the same of an exit).
    public var inNestedGuest: Bool { cpu.inNestedGuest }

    /// After a HLT exit from L2 (halted with nothing to wake it): when the guest hypervisor armed its
    /// VMX-preemption timer for L2, the TSC ticks until that timer fires (0: it has). A VMM that idles
    /// while its guest is halted wakes by then (skipping time through its TSC offset) and runs the vCPU
    /// again, which then exits to the guest hypervisor. nil when no such timer is armed.
    public var nestedGuestTimerTicks: UInt64? { cpu.nestedGuestTimerTicks }

    /// Whether the vCPU is in L2 and the guest hypervisor asked for external-interrupt exiting: an external
    /// interrupt injected now becomes the guest hypervisor's exit whatever L2's RFLAGS.IF (a VMM injects
    /// when this or RFLAGS.IF holds, and no STI/MOV-SS blocking).
    public var nestedGuestExitsOnExternalInterrupt: Bool { cpu.nestedGuestExitsOnExternalInterrupt }

    /// The named check and VM-instruction error of the guest hypervisor's last failed VMLAUNCH/VMRESUME.
    public var lastNestedEntryFailure: (failure: EntryFailure, error: UInt32)? { cpu.lastNestedEntryFailure }

    /// Called whenever a VMLAUNCH/VMRESUME of the guest hypervisor fails a named check (VM-instruction error
    /// 0 for a guest-state check, reported to the guest hypervisor as exit reason 33).
    public var onNestedEntryFailure: ((EntryFailure, UInt32) -> Void)? {
        get { cpu.onNestedEntryFailure }
        set { cpu.onNestedEntryFailure = newValue }
    }

    /// The CPU model (CPUModel.swift): CPUID's vendor, signature and features, the vendor's semantics where
    /// Intel and AMD differ, and VMX mode-based execute control. SwiftVMX's own processor by default.
    public var cpuModel: CPUModel {
        get { cpu.cpuModel }
        set { cpu.cpuModel = newValue }
    }

    /// What the processor model's CPUID returns for `leaf`/`subleaf` in the vCPU's current state (like
    /// `KVM_GET_SUPPORTED_CPUID`): CPUID always exits in non-root operation, and a VMM answers the exit
    /// from these values, adjusted to the machine it presents.
    public func supportedCPUID(leaf: UInt32, subleaf: UInt32) -> (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
        cpu.cpuid(leaf: leaf, subleaf: subleaf)
    }

    // MARK: Running

    /// Enters the guest and runs it until a VM exit (`hv_vcpu_run`).
    public func run() throws(HypervisorError) -> VMExit {
        try run(instructionBudget: nil)
    }

    /// Runs until a VM exit or until the guest has retired `instructions` more instructions
    /// (`hv_vcpu_run_until`); the deadline shows as a VMX-preemption-timer exit.
    public func run(instructionBudget instructions: UInt64?) throws(HypervisorError) -> VMExit {
        var left = instructions ?? UInt64.max
        var stalls = 0
        while true {
            let chunk = Int(min(left, 1 << 20))
            let before = cpu.instructionCount
            let r = cpu.enterAndRunGuest(instructionLimit: chunk)
            if let e = try exit(after: r) { return e }
            let done = cpu.instructionCount &- before
            // A guest that retires nothing (halted with only undeliverable events) must not spin the host.
            stalls = done == 0 ? stalls + 1 : 0
            if stalls > 2 {
                exitTally[Int(ExitReason.hlt.rawValue)] += 1
                return cpu.exitGuest(.hlt)
            }
            if instructions != nil {
                left = left > done ? left - done : 0
                if left == 0 {
                    exitTally[Int(ExitReason.vmxPreemptionTimerExpired.rawValue)] += 1
                    return cpu.exitGuest(.vmxPreemptionTimerExpired)
                }
            }
        }
    }

    /// Completes a memory-mapped I/O access (the role of KVM's in-kernel instruction emulator): after an
    /// EPT-violation exit at a device's guest-physical address, executes the faulting instruction once with
    /// the processor model's own decoder and executor, its accesses to addresses outside RAM that `device`
    /// claims going to `device` — any form: MOV and moffs, ALU with a memory destination, MOVS/STOS, BT*,
    /// locked forms, in 16-, 32- and 64-bit code. Returns nil when the instruction retired (or an exception
    /// it raised was delivered through the guest's IDT); otherwise the exit that happened instead (an access
    /// to an address `device` does not claim, an intercepted exception…), to handle like any other. After
    /// nil the exit-information fields describe a monitor-trap-flag exit (the single step).
    public func completeMMIO(_ device: any MMIOHandler) throws(HypervisorError) -> VMExit? {
        let r = cpu.executeCompletingMMIO(device)
        if let e = try exit(after: r) { return e }
        _ = cpu.exitGuest(.monitorTrapFlag)
        return nil
    }

    /// The exit a run of the processor ended with (counted), the entry failure thrown, or nil when the
    /// instruction budget ran out with the guest still in non-root operation.
    private func exit(after r: GuestRunStop) throws(HypervisorError) -> VMExit? {
        switch r {
        case .exit:
            // The exit is copied once, from where the processor built it.
            let e = cpu.lastExit
            exitTally[Int(e.reason.rawValue)] += 1
            return e
        case .entryFailed:
            let (f, n) = cpu.lastEntryFailure
            throw .entryFailed(f, instructionError: n)
        case .stopRequested:
            exitTally[Int(ExitReason.vmxPreemptionTimerExpired.rawValue)] += 1
            return cpu.exitGuest(.vmxPreemptionTimerExpired)
        case .instructionLimit:
            return nil
        }
    }

    /// The guest-physical address a guest-linear address maps to through the guest's paging structures
    /// (CR0, CR3, CR4 and IA32_EFER from the guest-state area), walked by the processor model's MMU without
    /// side effects; nil when not mapped. Without paging, the address itself (truncated to 32 bits).
    public func translate(linear: UInt64) -> UInt64? {
        // IA-32e mode is the "IA-32e mode guest" entry control (which a VM exit sets to EFER.LMA), whether or
        // not the VMM loads IA32_EFER on entry.
        var efer = read(.guestIA32EFER) & ~(EFER.lma.rawValue | EFER.lme.rawValue)
        if read(.vmEntryControls) & UInt64(VMEntryControls.ia32eModeGuest.rawValue) != 0 { efer |= EFER.lma.rawValue | EFER.lme.rawValue }
        return cpu.probeTranslation(linear, cr0: read(.guestCR0), cr3: read(.guestCR3), cr4: read(.guestCR4), efer: efer)
    }

    // MARK: INIT and start-up (multiprocessor bring-up)

    /// The guest activity state of the wait-for-SIPI state (SDM Vol. 3C 24.4.2).
    public static let waitForSIPIActivityState: UInt64 = 3

    /// Whether the vCPU is in the wait-for-SIPI state (guest activity state 3): it executes nothing until a
    /// start-up IPI (`startUp(vector:)`). A VMM does not run a vCPU in this state: it waits for the SIPI,
    /// as the processor would (Hypervisor.framework leaves INIT and SIPI to the VMM too).
    public var isWaitingForSIPI: Bool { cpu.vmcsRead(.guestActivityState) == Self.waitForSIPIActivityState }

    /// The INIT signal (SDM Vol. 3A 9.1.1, Table 9-1): the guest state becomes the processor's state after
    /// INIT — real mode, CR0 = 0x60000010 (with NE, which VMX requires, held in the guest CR0 and the
    /// architectural value in the CR0 read shadow), CS:IP = F000:FFF0 with base 0xFFFF0000, EFLAGS = 2,
    /// EDX = the processor signature (CPUID.1:EAX), other general-purpose registers 0, IA32_EFER 0,
    /// DR7 = 0x400 — and the vCPU enters the wait-for-SIPI state (an application processor's response to
    /// INIT). Pending injected events and NMIs are dropped. MSRs other than IA32_EFER keep their values.
    public func initSignal() {
        var v = cpu.currentVMCS
        v[.guestCR0] = 0x6000_0010 | CR0.ne.rawValue
        v[.cr0ReadShadow] = 0x6000_0010
        v[.guestCR3] = 0
        v[.guestCR4] = CR4.vmxe.rawValue
        v[.cr4ReadShadow] = 0
        v[.guestIA32EFER] = 0
        v.entryControls.remove(.ia32eModeGuest)
        v.setGuestSegment(.cs, SegmentRegister(selector: 0xF000, base: 0xFFFF_0000, limit: 0xFFFF, accessRights: 0x9B))
        for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] {
            v.setGuestSegment(s, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x93))
        }
        v.setGuestSegment(.ldtr, .null)
        // VM entry requires a busy TSS in TR (SDM Vol. 3C 26.3.1.2); real mode never uses it.
        v.setGuestSegment(.tr, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x8B))
        v[.guestGDTRBase] = 0
        v[.guestGDTRLimit] = 0xFFFF
        v[.guestIDTRBase] = 0
        v[.guestIDTRLimit] = 0xFFFF
        v[.guestRIP] = 0xFFF0
        v[.guestRSP] = 0
        v[.guestRFLAGS] = 2
        v[.guestDR7] = 0x400
        v[.guestInterruptibilityState] = 0
        v[.guestPendingDebugExceptions] = 0
        v[.vmEntryInterruptionInformation] = 0
        v[.guestActivityState] = Self.waitForSIPIActivityState
        cpu.currentVMCS = v
        cpu.nmiPending = false
        let signature = UInt64(cpu.cpuid(leaf: 1, subleaf: 0).eax)
        for r in GPR.allCases where r != .rsp { cpu.setGPR(r, r == .rdx ? signature : 0) }
    }

    /// A start-up IPI with `vector` (SDM Vol. 3A 8.4.4.1): a vCPU in the wait-for-SIPI state starts in real
    /// mode at physical address `vector << 12` (CS selector `vector << 8`, CS base `vector << 12`, IP 0) in
    /// the active state. Returns false, changing nothing, when the vCPU is not waiting for a SIPI (the
    /// processor ignores it then).
    @discardableResult
    public func startUp(vector: UInt8) -> Bool {
        guard isWaitingForSIPI else { return false }
        var v = cpu.currentVMCS
        v.setGuestSegment(.cs, SegmentRegister(selector: UInt16(vector) << 8, base: UInt64(vector) << 12, limit: 0xFFFF, accessRights: 0x9B))
        v[.guestRIP] = 0
        v[.guestActivityState] = 0
        cpu.currentVMCS = v
        return true
    }

    /// Raises the NMI line: the guest takes an NMI (or, with "NMI exiting", the vCPU exits with reason 0).
    public func raiseNMI() { cpu.nmiPending = true }

    /// Makes a running vCPU exit soon (`hv_vcpus_exit`). Safe from any thread.
    public func interrupt() { cpu.requestStop() }

    /// The source of external interrupts (the INTR line) the guest sees.
    public var interruptController: InterruptController? {
        get { cpu.interruptController }
        set { cpu.interruptController = newValue }
    }

    /// Instructions the guest has retired.
    public var instructionCount: UInt64 { cpu.instructionCount }

    /// Moves the guest's TSC on by `cycles` without instructions retiring and without a VMCS write (the
    /// time a VM exit and its handling cost the guest: `PCMachine.exitCost`).
    public func advanceTimeStampCounter(by cycles: UInt64) { cpu.advanceTimeStampCounter(by: cycles) }
}
