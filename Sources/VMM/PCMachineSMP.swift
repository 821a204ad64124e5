// Several processors (`--smp N`): N vCPUs on the one virtual machine, each with its local APIC, run in
// turn on the one host thread. Processor 0 boots; the others start in the wait-for-SIPI state and are
// brought up by INIT and start-up IPIs through the APIC bus (LocalAPIC.swift). Guest time is per processor
// (its retired instructions plus skipped time, which is also its TSC); the processors run in rounds, each
// up to the same guest time (at most `smpSlice` instructions on, and never past a device deadline), in
// processor order, so a run is as reproducible as with one processor under `--clock deterministic`.
import Devices
import Hypervisor
import X86

/// One processor of the machine: its vCPU, its local APIC, and what the VMM keeps per processor. The
/// processor the VMM is handling has these in the machine's own fields (`PCMachine.switchProcessor(to:)`).
final class PCProcessor {
    let vcpu: VCPU
    let localAPIC: LocalAPIC?
    /// The VTPR byte of its virtual-APIC page.
    let virtualTPR: UnsafeMutablePointer<UInt8>
    /// Its virtual-APIC page's guest-physical address (VMM-private).
    let virtualAPICPage: UInt64
    var halted = false
    var primaryControls: PrimaryProcessorControls = []
    var injectionPending = false
    var tprThreshold: UInt64 = 0
    var skippedTime: UInt64 = 0
    var exitTime: UInt64 = 0
    /// What its last exit said about an event it interrupted (re-injected before its next entry).
    var interrupted = PCMachine.InterruptedEvent()

    init(vcpu: VCPU, localAPIC: LocalAPIC?, virtualTPR: UnsafeMutablePointer<UInt8>, virtualAPICPage: UInt64) {
        self.vcpu = vcpu
        self.localAPIC = localAPIC
        self.virtualTPR = virtualTPR
        self.virtualAPICPage = virtualAPICPage
    }
}

/// The local APIC page as each processor sees it: the APIC of the processor the VMM is handling (several
/// processors share one guest-physical address for their own APIC).
final class LocalAPICWindow: Device {
    weak var machine: PCMachine?
    init(_ machine: PCMachine) { self.machine = machine }
    func read(offset: UInt64, size: Int) -> UInt64 { machine?.localAPIC?.read(offset: offset, size: size) ?? 0 }
    func write(offset: UInt64, size: Int, value: UInt64) { machine?.localAPIC?.write(offset: offset, size: size, value: value) }
}

extension PCMachine {
    /// Most instructions a processor runs in one round before the next processor runs.
    static let smpSlice: UInt64 = 4_000

    /// Makes processor `index` the one the VMM handles: the current one's state goes back to its record and
    /// `index`'s comes into the machine's fields.
    func switchProcessor(to index: Int) {
        guard index != current, processors.indices.contains(index) else { return }
        let old = processors[current]
        old.halted = halted
        old.primaryControls = primaryControls
        old.injectionPending = injectionPending
        old.tprThreshold = tprThreshold
        old.skippedTime = skippedTime
        old.exitTime = exitTime
        let new = processors[index]
        current = index
        vcpu = new.vcpu
        localAPIC = new.localAPIC
        virtualTPR = new.virtualTPR
        halted = new.halted
        primaryControls = new.primaryControls
        injectionPending = new.injectionPending
        tprThreshold = new.tprThreshold
        skippedTime = new.skippedTime
        exitTime = new.exitTime
    }

    /// Guest time of processor `index` (its retired instructions plus the time it skipped).
    func guestTime(ofProcessor index: Int) -> UInt64 {
        index == current ? guestTime : processors[index].vcpu.instructionCount &+ processors[index].skippedTime
    }

    /// Whether processor `index` is in the wait-for-SIPI state (not started, or INIT since).
    func isWaitingForSIPI(_ index: Int) -> Bool { processors[index].vcpu.isWaitingForSIPI }

    /// Applies the NMI, INIT and start-up IPIs sent while the last exit was handled (the bus queues them: an
    /// INIT to the processor whose instruction sent it must not rewrite its state mid-instruction).
    func applyProcessorSignals() {
        let senderTime = guestTime
        let signals = pendingSignals
        pendingSignals.removeAll()
        for (index, signal) in signals where processors.indices.contains(index) {
            let previous = current
            switchProcessor(to: index)
            switch signal {
            case .nmi:
                vcpu.raiseNMI()
                halted = false
            case .initialization:
                vcpu.initSignal()
                halted = false
                injectionPending = false
                processors[index].interrupted = InterruptedEvent()
                setInterruptWindowExiting(false)
            case .startup(let vector):
                if vcpu.startUp(vector: vector) {
                    halted = false
                    // It starts at the sender's guest time: its TSC and timer go on from there.
                    let now = guestTime
                    if senderTime > now { advanceTime(by: senderTime - now) }
                }
            }
            switchProcessor(to: previous)
        }
    }

    /// The run loop with several processors (`run` with `processorCount > 1`): rounds in which every started
    /// processor runs up to the same guest time; when all are halted with nothing to deliver, the machine
    /// idles to the next deadline as with one processor.
    func loopSMP(instructionLimit: UInt64?) -> MachineOutcome {
        var stuck = 0, lastProgress: (UInt64, UInt64) = (0, 0)
        switchProcessor(to: 0)
        while true {
            if let o = exitRequests.outcome { return o }
            if let o = pollConsole() { return o }
            let started = processors.indices.filter { !isWaitingForSIPI($0) }
            guard let first = started.first else { return .halted(rip: vcpu.read(.guestRIP)) }
            let roundStart = started.map { guestTime(ofProcessor: $0) }.min() ?? 0
            let retired = processors.reduce(UInt64(0)) { $0 &+ $1.vcpu.instructionCount }
            if let limit = instructionLimit, retired &+ emulatedWork >= limit { return .instructionLimit(limit) }
            // The watchdog of `loop`: neither instructions nor guest time moving is a VMM bug.
            if (retired, roundStart) == lastProgress {
                stuck += 1
                if stuck >= 100_000 {
                    return .error("the VMM made no progress (\(processors.count) processors, guest time \(roundStart), \(apicSummary()))")
                }
            } else {
                stuck = 0
                lastProgress = (retired, roundStart)
            }
            // Who can run: deliver what is pending to each started processor; a halted one with nothing
            // delivered stays halted.
            var anyRunnable = false
            for i in started {
                switchProcessor(to: i)
                _ = advanceDevices(to: guestTime)
                deliverInterrupts(reinjecting: processors[i].interrupted)
                processors[i].interrupted = InterruptedEvent()
                if !halted { anyRunnable = true }
            }
            // Every device and APIC is current (each APIC at its processor's time): the earliest deadline of any
            // ends the round.
            var deadline = ports.advance(to: roundStart)
            for p in processors {
                if let d = p.localAPIC?.nextDeadline { deadline = min(deadline ?? d, d) }
            }
            if !anyRunnable {
                // Every processor halted: nothing runs until a deadline or input; none can wake if no
                // processor takes interrupts.
                let canWake = started.contains { i in
                    processors[i].vcpu.read(.guestRFLAGS) & RFLAGS.if.rawValue != 0
                }
                switchProcessor(to: first)
                guard canWake else { return .halted(rip: vcpu.read(.guestRIP)) }
                let (outcome, target) = waitForWake(now: roundStart, deadline: deadline)
                if let outcome { return outcome }
                for i in started {
                    switchProcessor(to: i)
                    let now = guestTime
                    if target > now { advanceTime(by: target - now) }
                }
                continue
            }
            var roundEnd = roundStart &+ Self.smpSlice
            if let d = deadline { roundEnd = min(roundEnd, max(d, roundStart &+ 1)) }
            for i in processors.indices {
                guard !isWaitingForSIPI(i) else { continue }
                switchProcessor(to: i)
                if let o = runProcessor(until: roundEnd) { return o }
            }
        }
    }

    /// Runs the current processor until its guest time reaches `end`, it halts with nothing to deliver, or it
    /// enters the wait-for-SIPI state; a halted processor's time then moves on to `end` (it idles while the
    /// others run). Returns an outcome when the machine must stop.
    func runProcessor(until end: UInt64) -> MachineOutcome? {
        let index = current
        while true {
            let now = guestTime
            guard now < end else { return nil }
            _ = advanceDevices(to: now)
            deliverInterrupts(reinjecting: processors[index].interrupted)
            processors[index].interrupted = InterruptedEvent()
            if halted {
                advanceTime(by: end - now)
                return nil
            }
            let (exit, outcome) = enterGuest(budget: end - now, failure: "VM entry failed on processor \(index)")
            if let outcome { return outcome }
            if let o = exitRequests.outcome { return o }
            if let exit { processors[index].interrupted = InterruptedEvent(exit) }
            if !pendingSignals.isEmpty { applyProcessorSignals() }
            if vcpu.isWaitingForSIPI { return nil }
            if exit?.reason == .pause {
                // A spin-wait: the others must move first. The processor idles to the end of the round.
                let now = guestTime
                if end > now { advanceTime(by: end - now) }
                return nil
            }
        }
    }
}
