// The exit-handling loop of the PC machine: bring devices to the guest's time, deliver the interrupt the
// PIC asks for (event injection, or interrupt-window exiting when the guest cannot take it yet), run the
// vCPU until the next deadline or a VM exit, and handle the exit — one exhaustive switch.
import Devices
import Hypervisor
import Loaders
import X86

extension PCMachine {
    /// Most instructions one entry runs before the VMM looks at the console and the host clock again.
    static let maximumSlice: UInt64 = 2_000_000

    /// Guest time (nanoseconds, which are also TSC cycles) a VM exit and its handling take: on hardware the
    /// exit, the hypervisor's handler and the entry back cost the guest on the order of a thousand cycles
    /// (a CPUID exit round trip under KVM on recent Intel processors measures 1,000–2,000), which it sees in
    /// the TSC and its timers; kvm-unit-tests' vmexit tests time loops of exiting instructions against the
    /// TSC. A fixed cost keeps `--clock deterministic` runs reproducible. The VMX-preemption timer's exits,
    /// the VMM's own slicing, cost nothing.
    static let exitCost: UInt64 = 1200

    /// Runs the guest until it powers off, resets, exits through isa-debug-exit, faults fatally, or
    /// `instructionLimit` instructions have retired.
    public func run(instructionLimit: UInt64? = nil) -> MachineOutcome {
        let outcome = processors.count > 1 ? loopSMP(instructionLimit: instructionLimit) : loop(instructionLimit: instructionLimit)
        switchProcessor(to: 0)                          // `vcpu` is processor 0's again between runs
        debugger?.finished(outcome)
        serialSink.flush()
        console.flush()
        return outcome
    }

    func loop(instructionLimit: UInt64?) -> MachineOutcome {
        // What the last exit said about an event it interrupted (re-injected by `deliverInterrupts`).
        var interrupted = InterruptedEvent()
        var stuck = 0, lastProgress: (UInt64, UInt64) = (0, 0)
        while true {
            if let o = exitRequests.outcome { return o }
            if let debugger, let o = debugger.checkpoint(self) { return o }
            // A watchdog on the VMM itself: neither instructions nor guest time moving for a million
            // iterations is a bug in a device model or here, reported instead of spinning forever.
            let retired = vcpu.instructionCount         // read once per iteration (a call into the processor)
            let now = retired &+ skippedTime            // guestTime
            let progress = (retired, now)
            if progress == lastProgress {
                stuck += 1
                if stuck >= 1_000_000 {
                    return .error("the VMM made no progress (halted=\(halted), rip 0x\(String(vcpu.read(.guestRIP), radix: 16)), "
                                  + "guest time \(guestTime), next deadline \(advanceDevices(to: guestTime).map { "\($0)" } ?? "none"), "
                                  + "\(apicSummary()))")
                }
            } else {
                stuck = 0
                lastProgress = progress
            }
            if let limit = instructionLimit, retired &+ emulatedWork >= limit { return .instructionLimit(limit) }
            var deadline = advanceDevices(to: now)
            if let o = pollConsole() { return o }
            deliverInterrupts(reinjecting: interrupted)
            interrupted = InterruptedEvent()
            if halted, let ticks = vcpu.nestedGuestTimerTicks {
                // L2 halted with the guest hypervisor's VMX-preemption timer armed: wake for it (an exit to L1).
                if ticks == 0 { halted = false } else { deadline = min(deadline ?? UInt64.max, now &+ ticks) }
            }
            if halted {
                if let o = idle(until: deadline) { return o }
                continue
            }
            var budget = debugger == nil ? Self.maximumSlice : GDBSession.maximumSlice
            if let d = deadline { budget = min(budget, d > now ? d - now : 1) }
            if let limit = instructionLimit { budget = min(budget, max(1, limit &- retired)) }
            let (exit, outcome) = enterGuest(budget: budget, failure: "VM entry failed")
            if let outcome { return outcome }
            if let exit { interrupted = InterruptedEvent(exit) }
        }
    }

    /// One VM entry into the current vCPU for at most `budget` instructions and the handling of the exit that
    /// ends it — the TPR copied into the virtual-APIC page and back, the exit trace, the statistics and the
    /// exit's cost in guest time — the one path of both run loops (one processor: `loop`; several:
    /// PCMachineSMP.swift). Returns the exit, and the outcome when the machine must stop (`failure` prefixes
    /// a failed entry's error).
    func enterGuest(budget: UInt64, failure: String) -> (exit: VMExit?, outcome: MachineOutcome?) {
        if localAPIC != nil { syncTPRBeforeEntry() }
        let exit: VMExit
        do { exit = try vcpu.run(instructionBudget: budget) } catch {
            return (nil, .error("\(failure): \(error)"))
        }
        // The guest's MOV CR8 writes went to the VTPR without exits: the APIC's TPR follows it.
        if let localAPIC { localAPIC.taskPriority = virtualTPR.pointee }
        injectionPending = false
        if let exitTrace { exitTrace(traceLine(exit)) }
        let started = statistics.begin()
        let o = handle(exit)
        statistics.end(exit.reason, since: started)
        if exit.reason != .vmxPreemptionTimerExpired { chargeExit() }
        return (exit, o)
    }

    // MARK: Exits

    /// Console input to COM1; the port bus re-advances its devices (the UART's deadline may have moved).
    func receiveConsoleInput(_ bytes: [UInt8]) {
        com1.enqueueInput(bytes)
        ports.deviceStateChanged()
    }

    /// Handles one exit; returns an outcome when the run must stop.
    func handle(_ e: VMExit) -> MachineOutcome? {
        switch e.reason {
        case .vmxPreemptionTimerExpired:
            return nil                                  // the run deadline: devices advance next iteration
        case .ioInstruction:
            return emulatePortIO(e)
        case .hlt:
            skip(e)
            halted = !injectionPending                  // a single-step #DB after HLT runs first (PCMachineDebug.swift)
            return nil
        case .interruptWindow:
            return nil                                  // deliverInterrupts injects now
        case .cpuid:
            emulateCPUID()
            skip(e)
            return nil
        case .xsetbv:
            if vcpu.read(.rcx) & 0xFFFF_FFFF == 0, vcpu.setXCR0(edxEAX) { skip(e) } else { injectException(13, errorCode: 0) }
            return nil
        case .vmcall:
            emulateHypercall(e)
            return nil
        case .vmclear, .vmlaunch, .vmptrld, .vmptrst, .vmread, .vmresume, .vmwrite, .vmxoff, .vmxon,
             .invept, .invvpid, .vmfunc, .getsec, .encls:
            injectException(6)                          // no VMX or SMX for this guest: #UD as on a CPU without them
            return nil
        case .rdmsr:
            emulateRDMSR(e)
            return nil
        case .wrmsr:
            emulateWRMSR(e)
            return nil
        case .invd, .wbinvd:
            skip(e)                                     // caches are coherent in the model: nothing to do
            return nil
        case .monitorTrapFlag where debugger != nil:
            return nil                                  // a debugger's single step: its checkpoint reports it
        case .tripleFault:
            return .tripleFault(rip: vcpu.read(.guestRIP))
        case .eptViolation where mmio.device(at: e.guestPhysicalAddress) != nil:
            return emulateMMIO(e)
        case .controlRegisterAccess:
            return emulateControlRegisterAccess(e)
        case .pause:
            skip(e)                                     // (several processors: the spinning one yields its slice)
            return nil
        case .tprBelowThreshold:
            return nil                                  // the TPR sync before the next entry delivers
        case .eptViolation:
            return .error("guest access to unmapped guest-physical address 0x\(String(e.guestPhysicalAddress, radix: 16)) "
                          + "(qualification 0x\(String(e.qualification, radix: 16)), linear 0x\(String(e.guestLinearAddress, radix: 16)), "
                          + "rip 0x\(String(vcpu.read(.guestRIP), radix: 16))): no device there")
        case .entryFailureGuestState, .entryFailureMSRLoading, .entryFailureMachineCheck:
            return .error("VM entry failed: \(e.failedCheck.map { "\($0)" } ?? "\(e.reason)")")
        case .exceptionOrNMI, .externalInterrupt, .initSignal, .startupIPI, .ioSMI, .otherSMI, .nmiWindow,
             .taskSwitch, .invlpg, .rdpmc, .rdtsc, .rsm, .movDR,
             .mwait, .monitorTrapFlag, .monitor, .apicAccess, .virtualizedEOI,
             .accessToGDTRorIDTR, .accessToLDTRorTR, .eptMisconfiguration, .rdtscp, .apicWrite, .rdrand,
             .invpcid, .rdseed, .pmlFull, .xsaves, .xrstors:
            return .error("unexpected VM exit \(e.reason) (\(e.reason.rawValue)) at rip 0x\(String(vcpu.read(.guestRIP), radix: 16)): "
                          + "its control is off in this machine")
        }
    }

    // MARK: Hypercalls

    /// KVM's "no such hypercall" (-KVM_ENOSYS) and "not from CPL 0" (-KVM_EPERM) results.
    static let hypercallNotImplemented: UInt64 = UInt64(bitPattern: -1000)
    static let hypercallNotPermitted: UInt64 = UInt64(bitPattern: -1)
    /// KVM_EINVAL: a hypercall's arguments are refused.
    static let hypercallInvalid: UInt64 = UInt64(bitPattern: -22)
    /// KVM_HC_SEND_IPI: fixed IPIs to a set of APIC IDs given as a bitmap.
    static let hypercallSendIPI: UInt64 = 10

    /// VMCALL exits (unconditional in VMX non-root operation, SDM Vol. 3C §26.1.2). The machine offers KVM's
    /// hypercall convention (Linux's Documentation/virt/kvm/x86/hypercalls.rst: number in RAX, arguments in
    /// RBX, RCX, RDX, RSI, result in RAX; outside 64-bit mode all are 32 bits) and answers as KVM does: -1
    /// (KVM_EPERM) from any privilege level but 0, -1000 (KVM_ENOSYS) for a hypercall it does not implement,
    /// and the instruction retires. A guest that calls VMCALL to probe for a hypervisor thus continues
    /// (kvm-unit-tests' hypercall and vmexit_vmcall), where a processor without a hypervisor raises #UD.
    /// Implemented: KVM_HC_SEND_IPI (`sendIPIHypercall`). Linux uses the convention only after finding KVM's
    /// CPUID signature, which this machine does not report.
    func emulateHypercall(_ e: VMExit) {
        let cpl = (vcpu.read(.guestSSAccessRights) >> 5) & 3          // SS.DPL is the CPL (SDM Vol. 3C §26.3.1.2)
        let longMode = vcpu.read(.guestCSAccessRights) & (1 << 13) != 0 && vcpu.read(.guestIA32EFER) & (1 << 10) != 0
        let width: UInt64 = longMode ? ~0 : 0xFFFF_FFFF
        let number = vcpu.read(.rax) & width
        let result: UInt64
        if cpl != 0 {
            result = Self.hypercallNotPermitted
        } else if number == Self.hypercallSendIPI {
            result = sendIPIHypercall(low: vcpu.read(.rbx) & width, high: vcpu.read(.rcx) & width,
                                      firstID: vcpu.read(.rdx) & width, command: vcpu.read(.rsi) & width,
                                      clusterSize: longMode ? 64 : 32)
        } else {
            result = Self.hypercallNotImplemented
        }
        vcpu.write(.rax, result)
        skip(e)
    }

    /// KVM_HC_SEND_IPI (Linux's hypercalls.rst): bit i of the 2 × `clusterSize`-bit bitmap `low`:`high`
    /// selects the APIC whose ID is `firstID` + i, and each selected APIC gets the interrupt the low ICR word
    /// `command` describes, in physical destination mode with no shorthand (anything else: KVM_EINVAL).
    /// Fixed and lowest-priority IPIs only here (other delivery modes: KVM_EINVAL). Returns how many APICs
    /// accepted the interrupt. xAPIC IDs reach 254 (255 is the broadcast destination).
    func sendIPIHypercall(low: UInt64, high: UInt64, firstID: UInt64, command: UInt64, clusterSize: UInt64) -> UInt64 {
        let logicalOrShorthand: UInt64 = 1 << 11 | 3 << 18
        let mode = APICDeliveryMode(field: command >> 8)
        guard command & logicalOrShorthand == 0, mode == .fixed || mode == .lowestPriority else { return Self.hypercallInvalid }
        var delivered: UInt64 = 0
        for bit in 0..<2 * clusterSize {
            let word = bit < clusterSize ? low : high
            guard (word >> (bit % clusterSize)) & 1 != 0 else { continue }
            guard firstID <= 0xFE, bit <= 0xFE - firstID else { break }      // no APIC has this ID or any above
            let message = APICInterruptMessage(vector: UInt8(truncatingIfNeeded: command), deliveryMode: mode,
                                               destination: UInt8(firstID + bit))
            let accepted = apicBus.map { $0.deliver(message) } ?? (localAPIC?.deliver(message) ?? false)
            if accepted { delivered += 1 }
        }
        return delivered
    }

    // MARK: MSRs

    /// EDX:EAX, the 64-bit operand of WRMSR and XSETBV.
    var edxEAX: UInt64 { (vcpu.read(.rdx) & 0xFFFF_FFFF) << 32 | (vcpu.read(.rax) & 0xFFFF_FFFF) }

    /// IA32_MCG_CAP: machine-check capabilities (read-only).
    static let machineCheckCapabilities: UInt32 = 0x179
    /// IA32_MCG_STATUS.
    static let machineCheckStatus: UInt32 = 0x17A

    /// RDMSR exits for MSRs outside the bitmap's ranges or with their bit set: IA32_TSC_DEADLINE reads the
    /// local APIC; IA32_MCG_CAP and IA32_MCG_STATUS read 0 (a machine-check architecture with no banks, as
    /// a VMM presents it); any other reads the model's MSR, or #GP(0) when it has none.
    func emulateRDMSR(_ e: VMExit) {
        let index = UInt32(truncatingIfNeeded: vcpu.read(.rcx))
        let value: UInt64?
        switch index {
        case MSRIndex.tscDeadline where localAPIC != nil: value = localAPIC?.readTSCDeadline()
        case LocalAPIC.x2APICFirstMSR...LocalAPIC.x2APICLastMSR: value = readX2APICMSR(index)   // PCMachineX2APIC.swift
        case Self.machineCheckCapabilities, Self.machineCheckStatus: value = 0    // no banks, nothing in progress
        default: value = vcpu.readMSR(index)
        }
        guard let value else { injectException(13, errorCode: 0); return }
        vcpu.write(.rax, value & 0xFFFF_FFFF)
        vcpu.write(.rdx, value >> 32)
        skip(e)
    }

    /// WRMSR exits: IA32_TSC_DEADLINE arms the local APIC timer; any other writes the model's MSR, or #GP(0).
    func emulateWRMSR(_ e: VMExit) {
        let index = UInt32(truncatingIfNeeded: vcpu.read(.rcx))
        if index == MSRIndex.tscDeadline, let localAPIC {
            localAPIC.writeTSCDeadline(edxEAX)
        } else if index == MSRIndex.apicBase || (LocalAPIC.x2APICFirstMSR...LocalAPIC.x2APICLastMSR).contains(index) {
            guard writeX2APICMSR(index, edxEAX) else { injectException(13, errorCode: 0); return }   // PCMachineX2APIC.swift
        } else if !vcpu.writeMSR(index, edxEAX) {
            injectException(13, errorCode: 0)
            return
        }
        skip(e)
    }

    /// Moves RIP past the instruction that exited, as retiring it would: RIP advances and blocking by STI or
    /// by MOV SS ends (the shadow covers one instruction — `STI; HLT` must not leave the halted guest blocked).
    func skip(_ e: VMExit) { retire(length: UInt64(e.instructionLength)) }

    /// Moves RIP `length` bytes on and ends STI/MOV-SS blocking (an instruction the VMM emulated retired).
    func retire(length: UInt64) {
        let movSS = vcpu.read(.guestInterruptibilityState) & 2 != 0
        vcpu.retireInstruction(length: length)
        singleStepTrap(afterMovSS: movSS)               // PCMachineDebug.swift
    }

    /// Injects a hardware exception at the next entry; the error code only in protected mode (real mode
    /// pushes none).
    func injectException(_ vector: UInt8, errorCode: UInt32? = nil) {
        let errorCode = vcpu.read(.guestCR0) & CR0.pe.rawValue != 0 ? errorCode : nil
        let info = InterruptionInfo(vector: vector, type: .hardwareException, deliverErrorCode: errorCode != nil)
        try? vcpu.write(.vmEntryInterruptionInformation, UInt64(info.rawValue))
        if let errorCode { try? vcpu.write(.vmEntryExceptionErrorCode, UInt64(errorCode)) }
        // The VMM emulated the faulting instruction: as a processor delivering a fault-class exception, the
        // RFLAGS image pushed has RF = 1 (SDM Vol. 3A §17.3.1.1; event injection pushes guest RFLAGS as it is).
        if CPU.isFaultClass(vector) { try? vcpu.write(.guestRFLAGS, vcpu.read(.guestRFLAGS) | RFLAGS.rf.rawValue) }
        injectionPending = true
    }

    // MARK: CPUID

    /// The processor model's CPUID as this machine presents it: VMX when the vCPU offers nesting, the hypervisor bit
    /// set, and leaf 0x40000000 naming SwiftVMX.
    func emulateCPUID() {
        let leaf = UInt32(truncatingIfNeeded: vcpu.read(.rax)), subleaf = UInt32(truncatingIfNeeded: vcpu.read(.rcx))
        var r = vcpu.supportedCPUID(leaf: leaf, subleaf: subleaf)
        x2APICCPUID(leaf: leaf, subleaf: subleaf, &r)       // PCMachineX2APIC.swift (leaf 0BH: each processor's x2APIC ID)
        switch leaf {
        case 1:
            // VMX (bit 5) as the vCPU offers it: set only with nested VMX (`VCPU.nestedVirtualization`).
            r.ecx |= 1 << 31                    // running under a hypervisor
            if processors.count > 1 { r.ebx = r.ebx & 0x00FF_FFFF | UInt32(current) << 24 }   // initial APIC ID
            if let localAPIC {
                if localAPIC.hardwareEnabled { r.edx |= 1 << 9 }    // the local APIC, unless IA32_APIC_BASE disabled it
                r.ecx |= 1 << 24                // its TSC-deadline timer mode
            }
        case 0x4000_0000:
            // "SwiftVMX" + NUL padding in EBX, ECX, EDX; max hypervisor leaf in EAX.
            r = (0x4000_0000, 0x6674_6953, 0x584D_5674, 0)
        default:
            break
        }
        vcpu.cpuModel.apply(leaf: leaf, &r)     // the CPU model's features, the machine's bits included (CPUModel.swift)
        vcpu.write(.rax, UInt64(r.eax))
        vcpu.write(.rbx, UInt64(r.ebx))
        vcpu.write(.rcx, UInt64(r.ecx))
        vcpu.write(.rdx, UInt64(r.edx))
    }

    // MARK: Interrupts

    /// Delivers what the interrupt controllers request: re-injects an event whose delivery an exit cut
    /// short (IDT-vectoring information), else injects the PIC's vector when the guest can take it (IF=1,
    /// no STI/MOV-SS blocking), else asks for an interrupt-window exit.
    func deliverInterrupts(reinjecting exit: InterruptedEvent) {
        guard !injectionPending else { return }
        if exit.information.valid {
            let info = exit.information
            try? vcpu.write(.vmEntryInterruptionInformation, UInt64(info.rawValue & ~(1 << 12)))
            if info.deliverErrorCode { try? vcpu.write(.vmEntryExceptionErrorCode, UInt64(exit.errorCode)) }
            try? vcpu.write(.vmEntryInstructionLength, UInt64(exit.instructionLength))
            injectionPending = true
            return
        }
        // The INTR line: the local APIC's highest request above its processor priority, else the 8259A when
        // it reaches the processor (no APIC, or the APIC's LINT0 in ExtINT mode: virtual wire).
        let fromAPIC = localAPIC?.pendingVector() != nil
        // (Only processor 0's LINT0 is wired to the 8259A.)
        let fromPIC = current == 0 && pic.interruptPending && (localAPIC?.lint0ExtINT ?? true)
        guard fromAPIC || fromPIC else {
            setInterruptWindowExiting(false)
            return
        }
        let rflags = vcpu.read(.guestRFLAGS), blocking = vcpu.read(.guestInterruptibilityState)
        // (While L2 runs with the guest hypervisor's external-interrupt exiting, L2's IF does not matter.)
        if (rflags & RFLAGS.if.rawValue != 0 || vcpu.nestedGuestExitsOnExternalInterrupt) && blocking & 3 == 0 {
            let vector = fromAPIC ? (localAPIC?.acknowledge() ?? pic.acknowledge()) : pic.acknowledge()
            try? vcpu.write(.vmEntryInterruptionInformation, UInt64(InterruptionInfo(vector: vector, type: .external).rawValue))
            injectionPending = true
            halted = false
            setInterruptWindowExiting(false)
        } else {
            setInterruptWindowExiting(true)
        }
    }

    /// The TPR shadow: the virtual-APIC page's VTPR holds the APIC's TPR while the guest runs (MOV CR8 reads
    /// and writes it without exits); the TPR threshold is the priority class of the highest request the TPR
    /// holds back, so lowering the TPR below it exits (reason 43) and the request is delivered.
    func syncTPRBeforeEntry() {
        guard let localAPIC else { return }
        let tpr = localAPIC.taskPriority
        virtualTPR.pointee = tpr
        var threshold: UInt64 = 0
        // The IRR first: when it is empty (most entries), no priority arithmetic is needed.
        if let requested = localAPIC.highestRequestedVector, localAPIC.pendingVector() == nil {
            threshold = min(UInt64(requested >> 4), UInt64(tpr >> 4))
        }
        if threshold != tprThreshold {
            tprThreshold = threshold
            try? vcpu.write(.tprThreshold, threshold)
        }
    }

    /// The part of an exit `deliverInterrupts` needs: the event the exit cut short (IDT-vectoring
    /// information, invalid when none), its error code, and the instruction length for a software event.
    struct InterruptedEvent {
        var information = InterruptionInfo(rawValue: 0)
        var errorCode: UInt32 = 0
        var instructionLength: UInt32 = 0
        init() {}
        init(_ e: VMExit) {
            information = e.idtVectoringInformation
            errorCode = e.idtVectoringErrorCode
            instructionLength = e.instructionLength
        }
    }

    func setInterruptWindowExiting(_ on: Bool) {
        guard primaryControls.contains(.interruptWindowExiting) != on else { return }
        if on { primaryControls.insert(.interruptWindowExiting) } else { primaryControls.remove(.interruptWindowExiting) }
        try? vcpu.write(.primaryProcessorBasedControls, UInt64(primaryControls.rawValue))
    }

    // MARK: Idling and the console

    /// The guest is halted and nothing could be injected: let guest time pass to the next deadline (waiting
    /// on the host in realtime mode, or for console input), or stop if nothing can ever wake it.
    func idle(until deadline: UInt64?) -> MachineOutcome? {
        // (A halted L2 with interrupts off still wakes for the guest hypervisor's preemption timer, or for an
        // interrupt that exits to the guest hypervisor.)
        if vcpu.read(.guestRFLAGS) & RFLAGS.if.rawValue == 0 && vcpu.nestedGuestTimerTicks == nil
            && !vcpu.nestedGuestExitsOnExternalInterrupt {
            return .halted(rip: vcpu.read(.guestRIP))
        }
        let now = guestTime
        let (outcome, target) = waitForWake(now: now, deadline: deadline)
        if let outcome { return outcome }
        if target > now { advanceTime(by: target - now) }
        return nil
    }

    /// Every processor is halted at guest time `now`: waits (realtime clock) or not (deterministic) until
    /// `deadline` or console input, and returns the guest time to skip to; or an outcome when the machine
    /// stops (nothing can wake it, or the user quit).
    func waitForWake(now: UInt64, deadline: UInt64?) -> (outcome: MachineOutcome?, target: UInt64) {
        serialSink.flush()
        console.flush()
        if let exitTrace {
            exitTrace("{\"idle\":true,\"rip\":\(vcpu.read(.guestRIP)),\"guest_ns\":\(now),"
                      + "\"deadline\":\(deadline.map { "\($0)" } ?? "null"),\"apic\":\"\(apicSummary())\"}")
        }
        if deadline == nil && !console.mayProvideInput {
            return (.halted(rip: vcpu.read(.guestRIP)), now)
        }
        var target = deadline ?? UInt64.max
        if target <= now { return (nil, now) }
        switch configuration.clock {
        case .realtime:
            let host = hostNanoseconds()
            if target > host {
                let wait = min(target - host, 50_000_000)
                switch console.read(waitingAtMost: wait) {
                case .quit: return (.quit, now)
                case .input(let bytes): receiveConsoleInput(bytes); target = max(now, min(target, hostNanoseconds()))
                case .none: target = min(target, max(now, hostNanoseconds()))
                }
            }
        case .deterministic:
            if deadline == nil {
                // Nothing scheduled: only input can wake the guest.
                switch console.read(waitingAtMost: 1_000_000_000) {
                case .quit: return (.quit, now)
                case .input(let bytes): receiveConsoleInput(bytes); target = now &+ 1
                case .none: return (nil, now)
                }
            }
        }
        return (nil, target)
    }

    /// Skips guest time (the guest is halted): moves the TSC with it, through the VMCS TSC offset.
    func advanceTime(by delta: UInt64) {
        skippedTime &+= delta
        try? vcpu.write(.tscOffset, skippedTime &- exitTime)
    }

    /// Charges the guest the time of a VM exit (`exitCost`): guest time and the TSC move on together. The TSC
    /// moves inside the processor rather than through the VMCS TSC offset: a VMCS write after every exit
    /// would make the processor reload the whole guest state on the next entry.
    func chargeExit() {
        skippedTime &+= Self.exitCost
        exitTime &+= Self.exitCost
        vcpu.advanceTimeStampCounter(by: Self.exitCost)
    }

    /// Reads console input every few hundred iterations.
    func pollConsole() -> MachineOutcome? {
        pollCountdown -= 1
        guard pollCountdown <= 0 else { return nil }
        pollCountdown = 256
        serialSink.flush()
        switch console.read(waitingAtMost: 0) {
        case .quit: return .quit
        case .input(let bytes): receiveConsoleInput(bytes)
        case .none: break
        }
        return nil
    }

    // MARK: Tracing

    /// The interrupt controllers' state in one line (for `--trace exits` idle records).
    func apicSummary() -> String {
        var parts = ["pic irq pending=\(pic.interruptPending) imr=\(pic.state.master.imr)/\(pic.state.slave.imr) irr=\(pic.state.master.irr)/\(pic.state.slave.irr) isr=\(pic.state.master.isr)/\(pic.state.slave.isr)"]
        if let a = localAPIC {
            parts.append("lapic irr=\(a.highestRequestedVector.map { "\($0)" } ?? "-") isr=\(a.highestInServiceVector.map { "\($0)" } ?? "-") tpr=\(a.taskPriority) ppr=\(a.processorPriority) lvtt=0x\(String(a.readRegister(.lvtTimer), radix: 16)) mode=\(a.timerMode) tscdl=\(a.readTSCDeadline()) next=\(a.nextDeadline.map { "\($0)" } ?? "-") sw=\(a.softwareEnabled)")
        }
        return parts.joined(separator: "; ")
    }

    /// One `--trace` record of an exit (docs/trace.md): numbers are JSON numbers; EPT violations and
    /// misconfigurations add the guest-physical address, exits that define one the guest-linear address.
    func traceLine(_ e: VMExit) -> String {
        var line = "{\"exit\":\(statistics.total),\"reason\":\"\(e.reason)\",\"code\":\(e.reason.rawValue),"
            + "\"qualification\":\(e.qualification),\"rip\":\(vcpu.read(.guestRIP)),"
        if e.reason == .eptViolation || e.reason == .eptMisconfiguration {
            line += "\"gpa\":\(e.guestPhysicalAddress),"
            if e.reason == .eptViolation && e.qualification & (1 << 7) != 0 {     // guest-linear address valid
                line += "\"gla\":\(e.guestLinearAddress),"
            }
        }
        return line + "\"guest_ns\":\(guestTime),\"host_ns\":\(hostNanoseconds())}"
    }
}
