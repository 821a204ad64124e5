// A gdb attached to the PC machine: the connection (a `GDBTransport`), the stub, and the run control the
// machine's exit loop calls at every iteration (`checkpoint`): stop replies for breakpoints, watchpoints,
// single steps (the monitor trap flag) and Ctrl-C, then packets served until gdb resumes the guest.
import Hypervisor
import X86

/// The byte stream to gdb: a listening endpoint that holds at most one connection.
public protocol GDBTransport: AnyObject {
    /// Whether a debugger is connected, accepting a waiting connection first (waiting for one when
    /// `waiting`).
    func accept(waiting: Bool) -> Bool
    /// Bytes from the connected debugger, waiting at most `milliseconds` (nil: until some arrive); empty
    /// when none arrived, nil when the connection closed (or there is none).
    func receive(waitingAtMost milliseconds: Int?) -> [UInt8]?
    /// Sends bytes to the connected debugger (dropped without one).
    func send(_ bytes: [UInt8])
    /// Closes the connection (the endpoint keeps listening).
    func disconnect()
}

/// gdb attached to a PC machine.
public final class GDBSession {
    enum State: Equatable {
        /// No debugger: the guest runs; the transport is polled for a connection.
        case listening
        /// Stopped, serving packets.
        case stopped
        /// Running (continue) or executing one instruction (step), a stop reply owed.
        case running(step: Bool)
    }

    /// The connection.
    public let transport: GDBTransport
    let target: PCMachineDebugTarget
    /// The stub.
    public let stub: GDBStub
    var reader = GDBPacketReader()
    /// Inputs read but not yet served (packets that arrived with a resume or while the guest ran).
    var pending: [GDBInput] = []
    var state = State.listening
    /// Host time of the last poll of the connection while the guest runs.
    var lastPoll: UInt64 = 0
    /// Where the guest resumed (a step ends when RIP or the instruction count moves).
    var resumedAt: (rip: UInt64, count: UInt64) = (0, 0)
    /// Packets seen (for tests and `--stats`).
    public private(set) var packets = 0
    /// How often the connection is polled for Ctrl-C while the guest runs, in host nanoseconds.
    static let pollInterval: UInt64 = 10_000_000
    /// Most instructions one entry runs while `--gdb` is on (`PCMachine.maximumSlice` otherwise): the
    /// connection is looked at between entries, so this bounds how late a connecting gdb or a Ctrl-C is
    /// answered (gdb gives up on a reply after 2 s; a debug build runs well under a million instructions a second).
    static let maximumSlice: UInt64 = 100_000

    /// Attaches to `machine`; with `waitForDebugger`, blocks until gdb connects and stops the guest before
    /// its first instruction (QEMU's `-S`), else gdb may connect at any time and stops the guest then.
    public init(transport: GDBTransport, machine: PCMachine, waitForDebugger: Bool) {
        self.transport = transport
        target = PCMachineDebugTarget(machine)
        stub = GDBStub(target: target)
        attach(machine)
        if waitForDebugger && transport.accept(waiting: true) { state = .stopped }
    }

    /// Makes `machine` the debugged one (a new machine after a reboot keeps the breakpoints).
    public func attach(_ machine: PCMachine) {
        target.machine = machine
        machine.vcpu.debuggerStops = target.stops
        machine.debugger = self
    }

    /// Called by the exit loop before each entry: nil to run on, or the outcome that ends the run.
    func checkpoint(_ machine: PCMachine) -> MachineOutcome? {
        switch state {
        case .listening:
            guard pollDue(machine) else { return nil }
            guard transport.accept(waiting: false) else { return nil }
            reader = GDBPacketReader()
            pending = []
            stub.stopReason = .trap
            state = .stopped
            return serve(machine, announce: false)
        case .running(let step):
            let vcpu = machine.vcpu
            if let hit = target.stops.hit {
                stub.stopReason = .hit(hit)
            } else if step && (vcpu.read(.guestRIP) != resumedAt.rip || vcpu.instructionCount != resumedAt.count) {
                stub.stopReason = .trap
            } else {
                guard pollDue(machine) else { return nil }
                guard let bytes = transport.receive(waitingAtMost: 0) else { detach(machine); return nil }
                let inputs = reader.feed(bytes)
                pending += inputs.filter { $0 != .interrupt }      // served once the guest stops
                guard inputs.contains(.interrupt) else { return nil }
                stub.stopReason = .interrupt
            }
            state = .stopped
            return serve(machine, announce: true)
        case .stopped:
            return serve(machine, announce: false)
        }
    }

    /// Whether the connection should be polled now (every `pollInterval` of host time).
    func pollDue(_ machine: PCMachine) -> Bool {
        let now = machine.hostNanoseconds()
        guard now &- lastPoll >= Self.pollInterval || lastPoll == 0 else { return false }
        lastPoll = now
        return true
    }

    /// The guest is stopped: sends the stop reply when gdb waits for one, then serves packets until gdb
    /// resumes the guest (nil), kills it (an outcome) or goes away (detached: nil).
    func serve(_ machine: PCMachine, announce: Bool) -> MachineOutcome? {
        setMonitorTrapFlag(machine, false)
        machine.serialSink.flush()
        machine.console.flush()
        if announce { send(stub.stopReply) }
        while true {
            var inputs = pending
            pending = []
            if inputs.isEmpty {
                guard let bytes = transport.receive(waitingAtMost: nil) else { detach(machine); return nil }
                inputs = reader.feed(bytes)
            }
            for (i, input) in inputs.enumerated() {
                switch input {
                case .interrupt: continue                       // already stopped
                case .corrupt: transport.send([UInt8(ascii: "-")])
                case .packet(let payload):
                    packets += 1
                    transport.send([UInt8(ascii: "+")])
                    let (reply, action) = stub.handle(payload)
                    if let reply { transport.send(GDBPacketReader.frame(reply)) }
                    switch action {
                    case .none: break
                    case .resume(let step):
                        pending = Array(inputs[(i + 1)...])
                        resume(machine, step: step)
                        return nil
                    case .kill:
                        transport.disconnect()
                        state = .listening
                        return .error("killed by the debugger")
                    case .detach:
                        detach(machine)
                        return nil
                    }
                }
            }
        }
    }

    /// Resumes the guest: the instruction at RIP runs even under a breakpoint; a step sets the monitor trap
    /// flag, so the vCPU exits after one instruction.
    func resume(_ machine: PCMachine, step: Bool) {
        let vcpu = machine.vcpu
        resumedAt = (vcpu.read(.guestRIP), vcpu.instructionCount)
        target.stops.resume(rip: resumedAt.rip, instructionCount: resumedAt.count)
        setMonitorTrapFlag(machine, step)
        lastPoll = 0                                    // the first poll comes at once
        if step { machine.halted = false }
        state = .running(step: step)
    }

    /// gdb detached or went away: the guest runs on without breakpoints.
    func detach(_ machine: PCMachine) {
        target.stops.removeAll()
        setMonitorTrapFlag(machine, false)
        transport.disconnect()
        state = .listening
    }

    /// The guest's run ended with `outcome`: a gdb waiting for a stop hears that the "process" exited with
    /// the machine's exit status.
    func finished(_ outcome: MachineOutcome) {
        guard case .running = state else { return }
        let status = UInt8(truncatingIfNeeded: outcome.exitStatus)
        send("W" + String(decoding: hexBytes([status]), as: UTF8.self))
        state = .listening
    }

    func send(_ reply: String) { transport.send(GDBPacketReader.frame(Array(reply.utf8))) }

    /// Sets or clears the "monitor-trap flag" VM-execution control (SDM Vol. 3C §25.5.2).
    func setMonitorTrapFlag(_ machine: PCMachine, _ on: Bool) {
        guard machine.primaryControls.contains(.monitorTrapFlag) != on else { return }
        if on { machine.primaryControls.insert(.monitorTrapFlag) } else { machine.primaryControls.remove(.monitorTrapFlag) }
        try? machine.vcpu.write(.primaryProcessorBasedControls, UInt64(machine.primaryControls.rawValue))
    }
}
