// The VMM of `swiftvmx demo`: loads the demo guest OS, programs the VMCS, emulates its devices (the debug
// port, a timer) and handles every VM exit in one switch, then reports what each VT-x mechanism did.
// It lives in the VMM target, not in the CLI, so that tests run the same code path.
import Hypervisor
import X86

/// A small VMM for the demo guest OS (`Guests.DemoOS`).
public final class DemoMonitor {
    /// What the VMM must know about the guest image and the platform contract it was built for.
    public struct Machine: Sendable {
        /// Memory contents: (guest-physical address, bytes).
        public var segments: [(address: UInt64, bytes: [UInt8])]
        /// 64-bit entry point (CPL 0).
        public var entry: UInt64
        /// Initial RSP.
        public var stackTop: UInt64
        /// RAM at guest-physical 0.
        public var ramSize: UInt64
        /// Where the loader builds the boot page tables (PML4, then PDPT and PD at +0x1000, +0x2000).
        public var bootPML4: UInt64
        /// The virtual-APIC page ("use TPR shadow").
        public var virtualAPIC: UInt64
        /// The MSR bitmap (zero: RDMSR/WRMSR run in the guest).
        public var msrBitmap: UInt64
        /// The debug port (lines of text).
        public var debugPort: UInt16
        /// The timer's interrupt vector.
        public var timerVector: UInt8
        /// The TPR threshold to program.
        public var tprThreshold: UInt8
        /// VMCALL function numbers (RAX): power off (RBX = status), trap the next descriptor-table access,
        /// start the timer, deliver the timer through external-interrupt exiting.
        public var powerOff: UInt64, trapDescriptorTable: UInt64, startTimer: UInt64, externalInterruptTimer: UInt64

        /// Creates a machine description.
        public init(segments: [(address: UInt64, bytes: [UInt8])], entry: UInt64, stackTop: UInt64, ramSize: UInt64,
                    bootPML4: UInt64, virtualAPIC: UInt64, msrBitmap: UInt64, debugPort: UInt16, timerVector: UInt8,
                    tprThreshold: UInt8, powerOff: UInt64, trapDescriptorTable: UInt64, startTimer: UInt64,
                    externalInterruptTimer: UInt64) {
            self.segments = segments; self.entry = entry; self.stackTop = stackTop; self.ramSize = ramSize
            self.bootPML4 = bootPML4; self.virtualAPIC = virtualAPIC; self.msrBitmap = msrBitmap
            self.debugPort = debugPort; self.timerVector = timerVector; self.tprThreshold = tprThreshold
            self.powerOff = powerOff; self.trapDescriptorTable = trapDescriptorTable; self.startTimer = startTimer
            self.externalInterruptTimer = externalInterruptTimer
        }
    }

    /// One mechanism of DESIGN.md's table: what the guest reported, what the VMM saw, and the exits.
    public struct Row: Sendable {
        /// The mechanism.
        public var mechanism: String
        /// The guest's report lines for it (tag removed).
        public var guestSaw: [String]
        /// What the VMM read from the VMCS for it.
        public var vmmSaw: [String]
        /// The exits that belong to it, with counts (zero counts show exits that did not happen).
        public var exits: [(reason: ExitReason, count: Int)]
    }

    /// The result of a demo run.
    public struct Report: Sendable {
        /// One row per mechanism.
        public var rows: [Row]
        /// Every line the guest wrote to the debug port.
        public var lines: [String]
        /// Exits by reason.
        public var exitCounts: [ExitReason: Int]
        /// Instructions the guest retired.
        public var instructions: UInt64
        /// Timer ticks the VMM raised, and how many it delivered.
        public var ticksRaised: Int, ticksDelivered: Int
        /// nil if every check passed, else one line saying what failed.
        public var failure: String?
    }

    /// Why the VMM stopped before the guest powered off.
    public struct Failure: Error, CustomStringConvertible {
        /// One line.
        public var description: String
    }

    /// Guest instructions between timer ticks (the clock is the run deadline, `run(instructionBudget:)`).
    public static let timerPeriod: UInt64 = 4_000
    /// A guest that has not powered off after this many instructions has failed.
    public static let instructionLimit: UInt64 = 2_000_000

    /// The interrupt line of the timer when it is delivered through external-interrupt exiting.
    final class TimerLine: InterruptController {
        var pending: UInt8?
        func hasInterrupt() -> Bool { pending != nil }
        func acknowledge() -> UInt8? { defer { pending = nil }; return pending }
    }

    let machine: Machine
    let vm = VirtualMachine()
    let vcpu: VCPU
    let trace: ((String) -> Void)?
    let line = TimerLine()
    var lines: [String] = []
    var partial: [UInt8] = []
    // Timer state.
    var timerRunning = false, externalInterruptMode = false
    var deadline: UInt64 = 0
    var pendingVector: UInt8?
    var ticksRaised = 0, ticksInjected = 0
    // Observations.
    var powerOffStatus: UInt64?
    var vmm: [String: [String]] = [:]
    var sawCR3Switch = false, sawUserState = false
    var descriptorExits = 0
    var tprArmed = false

    init(_ machine: Machine, trace: ((String) -> Void)?) {
        self.machine = machine
        self.trace = trace
        vcpu = vm.makeVCPU()
    }

    /// Runs the demo guest to power-off and reports each mechanism. Throws if the VMM itself failed
    /// (an unhandled exit, a failed VM entry); a guest or check failure is in `Report.failure`.
    public static func run(_ machine: Machine, trace: ((String) -> Void)? = nil) throws -> Report {
        let m = DemoMonitor(machine, trace: trace)
        try m.load()
        let hostBefore = m.hostState()
        try m.loop()
        if m.hostState() != hostBefore { m.note("compression", "FAIL host-state area changed") }
        else { m.note("compression", "host-state area (the VMM's CR0/CR3/CR4/selectors) unchanged across \(m.vcpu.exitCounts.values.reduce(0, +)) exits") }
        return m.report()
    }

    // MARK: Loading

    func load() throws {
        try vm.allocate(guestPhysical: 0, size: machine.ramSize)
        for s in machine.segments { _ = vm.memory.write(s.bytes, at: s.address) }
        // Boot page tables, as a 64-bit boot protocol hands them over: 0–2 MiB identity, one 2 MiB page.
        let p = machine.bootPML4
        vm.memory.writeInteger((p + 0x1000) | 3, at: p, size: 8)
        vm.memory.writeInteger((p + 0x2000) | 3, at: p + 0x1000, size: 8)
        vm.memory.writeInteger(0x83, at: p + 0x2000, size: 8)
        var v = vcpu.vmcs
        v[.guestCR0] = CR0.pe.rawValue | CR0.ne.rawValue | CR0.et.rawValue | CR0.pg.rawValue
        v[.guestCR3] = machine.bootPML4
        v[.guestCR4] = CR4.pae.rawValue | CR4.vmxe.rawValue
        v.entryControls.formUnion([.ia32eModeGuest, .loadIA32EFER])
        v.exitControls.insert(.saveIA32EFER)
        v[.guestIA32EFER] = EFER.lme.rawValue | EFER.lma.rawValue
        v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
        v[.guestRIP] = machine.entry
        v[.guestRSP] = machine.stackTop
        v[.guestRFLAGS] = 2
        // Port I/O is the VMM's (every IN/OUT exits); MSRs and CR3 are the guest's; CR8 is shadowed.
        v.primary.formUnion([.unconditionalIOExiting, .useMSRBitmaps, .useTPRShadow])
        v[.msrBitmap] = machine.msrBitmap
        v[.virtualAPICAddress] = machine.virtualAPIC
        v[.tprThreshold] = 0            // armed by `armTPRThreshold` once the VTPR allows it
        v[.exceptionBitmap] = 0
        // CR4.VMXE is the VMM's: the guest reads CR4 through the read shadow without it.
        v[.cr4GuestHostMask] = CR4.vmxe.rawValue
        v[.cr4ReadShadow] = 0
        vcpu.vmcs = v
    }

    /// The host-state area: the VMM's own state, which exits load and nothing in the guest may change.
    func hostState() -> [UInt64] {
        [.hostCR0, .hostCR3, .hostCR4, .hostCSSelector, .hostSSSelector, .hostTRSelector, .hostIA32EFER].map { vcpu.read($0) }
    }

    func note(_ key: String, _ text: String) { vmm[key, default: []].append(text) }

    func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    // MARK: The exit loop

    func loop() throws {
        while powerOffStatus == nil {
            let now = vcpu.instructionCount
            guard now < Self.instructionLimit else {
                throw Failure(description: "guest still running after \(Self.instructionLimit) instructions")
            }
            let budget = timerRunning ? max(1, deadline > now ? deadline - now : 1) : Self.instructionLimit - now
            let e: VMExit
            do { e = try vcpu.run(instructionBudget: budget) } catch {
                throw Failure(description: "VM entry failed: \(error)")
            }
            observeGuestState()
            try armTPRThreshold()
            switch e.reason {
            case .vmxPreemptionTimerExpired:
                // The run deadline: the timer's clock.
                guard timerRunning else { throw Failure(description: "guest ran \(Self.instructionLimit) instructions without powering off") }
                if vcpu.instructionCount >= deadline { tick() }
            case .hlt:
                // HLT exiting is off: the guest is in activity state HLT (hidden state the VMCS holds).
                let activity = vcpu.read(.guestActivityState)
                note("hidden", "exit \(e.reason.rawValue) at rip=\(hex(vcpu.read(.guestRIP))): activity state \(activity == 1 ? "HLT" : "\(activity)") (1), RFLAGS.IF=\(vcpu.read(.guestRFLAGS) >> 9 & 1)")
                guard activity == 1, timerRunning else { throw Failure(description: "guest halted with nothing to wake it") }
                tick()                                  // idle until the next tick
                note("hidden", "re-entered in HLT with the tick injected: the entry wakes it")
            case .interruptWindow:
                setPrimary(.interruptWindowExiting, false)
                injectPending()
            case .externalInterrupt:
                // "Acknowledge interrupt on exit": the vector is in the exit's interruption information.
                guard e.interruptionInformation.valid else { throw Failure(description: "external-interrupt exit without a vector") }
                pendingVector = e.interruptionInformation.vector
                injectPending()
            case .ioInstruction:
                try emulatePortIO(e)
            case .vmcall:
                try hypercall()
                try advance(e)
            case .accessToGDTRorIDTR, .accessToLDTRorTR:
                try emulateDescriptorTableAccess(e)
            case .tprBelowThreshold:
                let vtpr = vm.memory.readInteger(at: machine.virtualAPIC + 0x80, size: 1) >> 4
                note("tpr", "exit after the write: VTPR=\(vtpr) < threshold \(vcpu.read(.tprThreshold)); threshold lowered to 0")
                try vcpu.write(.tprThreshold, 0)
            case .exceptionOrNMI, .tripleFault, .initSignal, .startupIPI, .ioSMI, .otherSMI, .nmiWindow, .taskSwitch,
                 .cpuid, .getsec, .invd, .invlpg, .rdpmc, .rdtsc, .rsm, .vmclear, .vmlaunch, .vmptrld, .vmptrst,
                 .vmread, .vmresume, .vmwrite, .vmxoff, .vmxon, .controlRegisterAccess, .movDR, .rdmsr, .wrmsr,
                 .entryFailureGuestState, .entryFailureMSRLoading, .mwait, .monitorTrapFlag, .monitor, .pause,
                 .entryFailureMachineCheck, .apicAccess, .virtualizedEOI, .eptViolation, .eptMisconfiguration,
                 .invept, .rdtscp, .invvpid, .wbinvd, .xsetbv, .apicWrite, .rdrand, .invpcid, .vmfunc, .encls,
                 .rdseed, .pmlFull, .xsaves, .xrstors:
                var detail = "unhandled exit \(e.reason) (\(e.reason.rawValue)) at rip=\(hex(vcpu.read(.guestRIP)))"
                if let f = e.failedCheck { detail += ": \(f)" }
                if e.reason == .exceptionOrNMI { detail += " vector \(e.interruptionInformation.vector)" }
                throw Failure(description: detail)
            }
        }
    }

    /// Reads guest state the VMCS holds at an exit, for the address-space-compression and hidden-state rows.
    func observeGuestState() {
        let cr3 = vcpu.read(.guestCR3)
        if !sawCR3Switch && cr3 != machine.bootPML4 {
            sawCR3Switch = true
            note("compression", "VMCS at an exit: guest CR3=\(hex(cr3)) (entered with \(hex(machine.bootPML4))), GDTR.base=\(hex(vcpu.read(.guestGDTRBase))), IDTR.base=\(hex(vcpu.read(.guestIDTRBase))), TR=\(hex(vcpu.read(.guestTRSelector)))")
        }
        if !sawUserState && vcpu.read(.guestCSSelector) & 3 == 3 {
            sawUserState = true
            note("compression", "at an exit from CPL 3: CS=\(hex(vcpu.read(.guestCSSelector))) SS=\(hex(vcpu.read(.guestSSSelector))) RIP=\(hex(vcpu.read(.guestRIP))) RSP=\(hex(vcpu.read(.rsp)))")
            note("hidden", "CS access rights \(hex(vcpu.read(.guestCSAccessRights))) (L=1, DPL 3) and limit \(hex(vcpu.read(.guestCSLimit))) saved from the segment cache")
        }
    }

    /// Programs the TPR threshold once the guest's VTPR is at least as high: a VM entry with the threshold
    /// above the VTPR fails (SDM Vol. 3C §26.2.1.1).
    func armTPRThreshold() throws {
        guard !tprArmed else { return }
        let vtpr = vm.memory.readInteger(at: machine.virtualAPIC + 0x80, size: 1) >> 4
        guard vtpr >= UInt64(machine.tprThreshold) else { return }
        tprArmed = true
        try vcpu.write(.tprThreshold, UInt64(machine.tprThreshold))
        note("tpr", "at exit \(vcpu.read(.exitReason)) VTPR=\(vtpr): TPR threshold \(machine.tprThreshold) programmed")
    }

    func setPrimary(_ c: PrimaryProcessorControls, _ on: Bool) {
        var v = vcpu.vmcs
        if on { v.primary.insert(c) } else { v.primary.remove(c) }
        vcpu.vmcs = v
    }

    func advance(_ e: VMExit) throws {
        try vcpu.write(.guestRIP, vcpu.read(.guestRIP) &+ UInt64(e.instructionLength))
    }

    // MARK: Timer

    /// The timer's deadline passed: raise the interrupt.
    func tick() {
        ticksRaised += 1
        deadline = vcpu.instructionCount + Self.timerPeriod
        if externalInterruptMode {
            line.pending = machine.timerVector         // the next entry exits with reason 1
        } else if pendingVector == nil {
            pendingVector = machine.timerVector
            injectPending()
        }
    }

    /// Injects the pending vector if the guest can take it now, else waits for the interrupt window.
    func injectPending() {
        guard let vector = pendingVector else { return }
        let canTake = vcpu.read(.guestRFLAGS) & RFLAGS.if.rawValue != 0 && vcpu.read(.guestInterruptibilityState) & 3 == 0
        if canTake {
            try? vcpu.write(.vmEntryInterruptionInformation, UInt64(InterruptionInfo(vector: vector, type: .external).rawValue))
            pendingVector = nil
            ticksInjected += 1
        } else {
            setPrimary(.interruptWindowExiting, true)
        }
    }

    // MARK: Devices

    /// OUT/OUTS to the debug port collect text lines; other ports read as all ones and ignore writes.
    func emulatePortIO(_ e: VMExit) throws {
        let q = IOQualification(rawValue: e.qualification)
        let size = q.size, isIn = q.isInput, isString = q.isString, isRep = q.isREP
        let port = q.port
        if isIn {
            guard !isString else { throw Failure(description: "INS from port \(hex(UInt64(port))) is not emulated") }
            let ones: UInt64 = size >= 4 ? 0xFFFF_FFFF : (1 << UInt64(size * 8)) - 1
            vcpu.write(.rax, (vcpu.read(.rax) & ~ones) | ones)
            try advance(e)
            return
        }
        var bytes: [UInt8] = []
        if isString {
            let count = isRep ? vcpu.read(.rcx) : 1
            guard count <= 4096 else { throw Failure(description: "OUTS of \(count) bytes") }
            let rsi = vcpu.read(.rsi)
            for i in 0..<count {
                guard let pa = translate(rsi &+ i * UInt64(size)) else { throw Failure(description: "OUTS source \(hex(rsi)) not mapped") }
                bytes += vm.memory.read(at: pa, count: size)
            }
            vcpu.write(.rsi, rsi &+ count * UInt64(size))
            if isRep { vcpu.write(.rcx, 0) }
        } else {
            let v = vcpu.read(.rax)
            bytes = (0..<size).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) }
        }
        if port == machine.debugPort {
            for b in bytes {
                if b == UInt8(ascii: "\n") {
                    let text = String(decoding: partial, as: UTF8.self)
                    lines.append(text)
                    trace?(text)
                    partial.removeAll()
                } else {
                    partial.append(b)
                }
            }
        }
        try advance(e)
    }

    /// The guest-physical address of a guest-linear address (the processor model's walk), or nil.
    func translate(_ linear: UInt64) -> UInt64? { vcpu.translate(linear: linear) }

    // MARK: Hypercalls and emulated instructions

    func hypercall() throws {
        let function = vcpu.read(.rax)
        switch function {
        case machine.powerOff:
            powerOffStatus = vcpu.read(.rbx)
        case machine.trapDescriptorTable:
            var v = vcpu.vmcs
            v.secondary.insert(.descriptorTableExiting)
            vcpu.vmcs = v
            note("tables", "descriptor-table exiting turned on for one access")
        case machine.startTimer:
            timerRunning = true
            deadline = vcpu.instructionCount + Self.timerPeriod
        case machine.externalInterruptTimer:
            externalInterruptMode = true
            vcpu.interruptController = line
            var v = vcpu.vmcs
            v.pinBased.insert(.externalInterruptExiting)
            v.exitControls.insert(.acknowledgeInterruptOnExit)
            vcpu.vmcs = v
        default:
            throw Failure(description: "unknown hypercall \(function)")
        }
    }

    /// Emulates SGDT/SIDT (exit 46) from the instruction information (SDM Vol. 3C Table 27-12), then
    /// turns descriptor-table exiting off again.
    func emulateDescriptorTableAccess(_ e: VMExit) throws {
        descriptorExits += 1
        let info = InstructionInformation(rawValue: e.instructionInformation)
        let identity = info.instructionIdentity
        guard e.reason == .accessToGDTRorIDTR, identity <= 1, !info.isRegister else {
            throw Failure(description: "descriptor-table exit \(e.reason) identity \(identity) not emulated")
        }
        var address = e.qualification
        if !info.baseInvalid, let base = GPR(rawValue: info.baseRegister) { address &+= vcpu.read(base) }
        if !info.indexInvalid, let index = GPR(rawValue: info.indexRegister) { address &+= vcpu.read(index) << UInt64(info.scaling) }
        let base = vcpu.read(identity == 0 ? .guestGDTRBase : .guestIDTRBase)
        let limit = vcpu.read(identity == 0 ? .guestGDTRLimit : .guestIDTRLimit)
        guard let pa = translate(address), let pa2 = translate(address + 2) else { throw Failure(description: "SGDT operand not mapped") }
        vm.memory.writeInteger(limit, at: pa, size: 2)
        vm.memory.writeInteger(base, at: pa2, size: 8)
        note("tables", "exit \(e.reason.rawValue) (\(identity == 0 ? "SGDT" : "SIDT"), instruction information \(hex(UInt64(info.rawValue)))): VMM stored base=\(hex(base)) limit=\(hex(limit)) at \(hex(address)); exiting off")
        var v = vcpu.vmcs
        v.secondary.remove(.descriptorTableExiting)
        vcpu.vmcs = v
        try advance(e)
    }

    // MARK: Report

    func report() -> Report {
        let counts = vcpu.exitCounts
        func c(_ r: ExitReason) -> (reason: ExitReason, count: Int) { (r, counts[r] ?? 0) }
        func saw(_ tags: [String]) -> [String] {
            tags.flatMap { tag in lines.filter { $0.hasPrefix(tag + ": ") }.map { String($0.dropFirst(tag.count + 2)) } }
        }
        let rows = [
            Row(mechanism: "VMX non-root at intended privilege", guestSaw: saw(["kernel", "user", "user-protection"]),
                vmmSaw: [], exits: [c(.exceptionOrNMI), c(.tripleFault)]),
            Row(mechanism: "Address-space compression", guestSaw: saw(["paging"]), vmmSaw: vmm["compression"] ?? [],
                exits: [c(.controlRegisterAccess)]),
            Row(mechanism: "Non-faulting access to privileged state", guestSaw: saw(["tables", "tables-exit"]),
                vmmSaw: vmm["tables"] ?? [], exits: [c(.accessToGDTRorIDTR), c(.accessToLDTRorTR)]),
            Row(mechanism: "Guest system calls", guestSaw: saw(["syscall"]), vmmSaw: [],
                exits: [c(.rdmsr), c(.wrmsr), c(.exceptionOrNMI)]),
            Row(mechanism: "Interrupt virtualization", guestSaw: saw(["irq-window", "timer", "ext-int"]),
                vmmSaw: ["timer: \(ticksRaised) ticks raised every \(Self.timerPeriod) instructions (run deadline), \(ticksInjected) injected through the VM-entry interruption-information field, the rest coalesced while IF=0"],
                exits: [c(.vmxPreemptionTimerExpired), c(.interruptWindow), c(.externalInterrupt)]),
            Row(mechanism: "Hidden state", guestSaw: saw(["hlt"]), vmmSaw: vmm["hidden"] ?? [], exits: [c(.hlt)]),
            Row(mechanism: "TPR shadow", guestSaw: saw(["tpr"]), vmmSaw: vmm["tpr"] ?? [],
                exits: [c(.tprBelowThreshold), c(.controlRegisterAccess)]),
        ]
        var r = Report(rows: rows, lines: lines, exitCounts: counts, instructions: vcpu.instructionCount,
                       ticksRaised: ticksRaised, ticksDelivered: ticksInjected)
        r.failure = check(r)
        return r
    }

    /// The demo's acceptance checks, in order; the first failure is reported.
    func check(_ r: Report) -> String? {
        if let bad = lines.first(where: { $0.hasPrefix("FAIL") }) { return "guest reported: \(bad)" }
        guard powerOffStatus == 0 else { return "guest powered off with status \(powerOffStatus.map(String.init) ?? "none")" }
        guard lines.last == "done" else { return "guest did not report done" }
        for row in r.rows where row.guestSaw.isEmpty { return "\(row.mechanism): the guest reported nothing" }
        let n = r.exitCounts
        func count(_ reason: ExitReason) -> Int { n[reason] ?? 0 }
        if count(.exceptionOrNMI) != 0 || count(.tripleFault) != 0 { return "an exception left the guest" }
        if count(.rdmsr) + count(.wrmsr) != 0 { return "an MSR access exited" }
        if count(.controlRegisterAccess) != 0 { return "a control-register access exited" }
        if count(.accessToGDTRorIDTR) != 1 || count(.accessToLDTRorTR) != 0 { return "expected exactly one exit 46, got \(count(.accessToGDTRorIDTR))" }
        if count(.tprBelowThreshold) != 1 { return "expected exactly one exit 43, got \(count(.tprBelowThreshold))" }
        if count(.hlt) != 1 { return "expected one HLT-activity exit, got \(count(.hlt))" }
        if count(.interruptWindow) < 1 { return "no interrupt-window exit" }
        if count(.externalInterrupt) < 1 { return "no external-interrupt exit" }
        if !sawCR3Switch || !sawUserState { return "the VMM never saw the guest's own CR3 or CPL-3 state at an exit" }
        if vmm["compression"]?.contains(where: { $0.hasPrefix("FAIL") }) == true { return "the host-state area changed" }
        return nil
    }
}
