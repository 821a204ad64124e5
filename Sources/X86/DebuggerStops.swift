// Breakpoints and write watchpoints a VMM's debugger keeps outside the guest (a gdb stub): the guest's
// memory never holds an INT3 and its DR0-DR7 stay its own. While any is set, `CPU.run` executes one
// instruction per step and asks `DebuggerStops.check` before each one whether to stop.

/// The debugger's stop conditions, checked by the processor at every instruction boundary while any exists.
public final class DebuggerStops {
    /// Why the processor stopped for the debugger.
    public enum Hit: Equatable, Sendable {
        /// RIP reached a software breakpoint (gdb's Z0).
        case softwareBreakpoint(UInt64)
        /// RIP reached a hardware breakpoint (gdb's Z1).
        case hardwareBreakpoint(UInt64)
        /// The bytes of a write watchpoint changed (gdb's Z2): its address.
        case watch(UInt64)
    }

    /// A write watchpoint: `length` bytes at a guest-linear address and the value last seen there (nil
    /// while unmapped).
    struct Watch {
        var address: UInt64
        var length: Int
        var last: [UInt8]?
    }

    /// Software breakpoints: RIP values (gdb's Z0).
    public private(set) var softwareBreakpoints: Set<UInt64> = []
    /// Hardware breakpoints: RIP values (gdb's Z1).
    public private(set) var hardwareBreakpoints: Set<UInt64> = []
    var watches: [Watch] = []
    /// The stop `check` reported last (cleared by `resume`).
    public private(set) var hit: Hit?
    /// No stop at this RIP before an instruction retires: the instruction a resume starts on.
    var resumeRIP: UInt64 = ~0
    var resumeCount: UInt64 = ~0

    /// Creates an empty set.
    public init() {}

    /// Whether any condition is set (the processor then steps one instruction at a time).
    public var isEmpty: Bool { softwareBreakpoints.isEmpty && hardwareBreakpoints.isEmpty && watches.isEmpty }

    /// Adds or removes a software breakpoint.
    public func setSoftwareBreakpoint(_ rip: UInt64, _ on: Bool) {
        if on { softwareBreakpoints.insert(rip) } else { softwareBreakpoints.remove(rip) }
    }

    /// Adds or removes a hardware breakpoint.
    public func setHardwareBreakpoint(_ rip: UInt64, _ on: Bool) {
        if on { hardwareBreakpoints.insert(rip) } else { hardwareBreakpoints.remove(rip) }
    }

    /// Adds a write watchpoint on `length` (1-4096) bytes at a guest-linear address, with `current` the
    /// bytes there now (nil when unmapped); false for a bad length.
    public func addWatch(_ address: UInt64, length: Int, current: [UInt8]?) -> Bool {
        guard (1...4096).contains(length) else { return false }
        watches.append(Watch(address: address, length: length, last: current))
        return true
    }

    /// Removes the write watchpoint at `address` with `length`; false when there is none.
    @discardableResult
    public func removeWatch(_ address: UInt64, length: Int) -> Bool {
        guard let i = watches.firstIndex(where: { $0.address == address && $0.length == length }) else { return false }
        watches.remove(at: i)
        return true
    }

    /// Removes every condition.
    public func removeAll() {
        softwareBreakpoints = []
        hardwareBreakpoints = []
        watches = []
        hit = nil
    }

    /// Called before the guest resumes at `rip` with `instructionCount` retired: the instruction there runs
    /// even if a breakpoint is set on it (the debugger continues from a breakpoint).
    public func resume(rip: UInt64, instructionCount: UInt64) {
        resumeRIP = rip
        resumeCount = instructionCount
        hit = nil
    }

    /// Whether to stop before the instruction at `rip`; `read` gives the bytes at a guest-linear address
    /// now (nil when unmapped). Watchpoints are checked first (the instruction before wrote them).
    func check(rip: UInt64, instructionCount: UInt64, read: (UInt64, Int) -> [UInt8]?) -> Bool {
        for i in watches.indices {
            let now = read(watches[i].address, watches[i].length)
            if now != watches[i].last {
                watches[i].last = now
                hit = .watch(watches[i].address)
                return true
            }
        }
        if rip == resumeRIP && instructionCount == resumeCount { return false }
        if softwareBreakpoints.contains(rip) { hit = .softwareBreakpoint(rip); return true }
        if hardwareBreakpoints.contains(rip) { hit = .hardwareBreakpoint(rip); return true }
        return false
    }
}

extension CPU {
    /// Whether the debugger stops the processor before the instruction at RIP (`debuggerStops` set).
    func debuggerStopsHere(_ stops: DebuggerStops) -> Bool {
        stops.check(rip: ripValue, instructionCount: instructionCount) { la, n in
            self.debuggerPeek(la, count: n)
        }
    }

    /// The bytes at a linear address through the current paging structures, without side effects (no
    /// accessed/dirty bits, no fault); nil when any byte is unmapped or outside RAM.
    func debuggerPeek(_ la: UInt64, count: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        var a = la
        while bytes.count < count {
            guard let pa = probeTranslation(a, cr0: cr0Value, cr3: cr3Value, cr4: cr4Value, efer: eferValue) else { return nil }
            let n = min(count - bytes.count, Int(4096 - (pa & 0xFFF)))
            guard memory.region(containing: pa) != nil else { return nil }
            bytes += memory.read(at: pa, count: n)
            a &+= UInt64(n)
        }
        return bytes
    }
}
