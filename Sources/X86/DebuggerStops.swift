// Breakpoints and watchpoints a VMM's debugger keeps outside the guest (a gdb stub): the guest's
// memory never holds an INT3 and its DR0-DR7 stay its own. While any is set, `CPU.run` executes one
// instruction per step and asks `DebuggerStops.check` before each one whether to stop; with only
// breakpoints set, 64-bit code off their pages runs in blocks until RIP enters one of those pages.

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
        /// The instruction before read bytes of a read watchpoint (gdb's Z3): its address.
        case readWatch(UInt64)
        /// The instruction before read or wrote bytes of an access watchpoint (gdb's Z4): its address.
        case accessWatch(UInt64)
    }

    /// A write watchpoint: `length` bytes at a guest-linear address and the value last seen there (nil
    /// while unmapped).
    struct Watch {
        var address: UInt64
        var length: Int
        var last: [UInt8]?
    }

    // The processor reads these before every instruction while stops exist: arrays (a debugger sets a
    // few) without exclusivity checks.
    /// Software breakpoints: RIP values (gdb's Z0).
    @exclusivity(unchecked) public private(set) var softwareBreakpoints: [UInt64] = []
    /// Hardware breakpoints: RIP values (gdb's Z1).
    @exclusivity(unchecked) public private(set) var hardwareBreakpoints: [UInt64] = []
    /// The linear pages (address >> 12) holding a breakpoint.
    @exclusivity(unchecked) var breakpointPages: [UInt64] = []
    @exclusivity(unchecked) var watches: [Watch] = []
    /// Read (gdb's Z3) and access (Z4, `includesWrites`) watchpoints: `length` bytes at a linear address.
    struct AccessWatch: Equatable {
        var address: UInt64
        var length: Int
        var includesWrites: Bool
    }
    @exclusivity(unchecked) var accessWatches: [AccessWatch] = []
    /// Whether any read or access watchpoint is set (the data accesses are then checked).
    @exclusivity(unchecked) public private(set) var watchesAccesses = false
    /// The access watchpoint the current instruction touched.
    @exclusivity(unchecked) var accessHit: Hit?
    /// Whether any condition is set (the processor then checks before every instruction).
    @exclusivity(unchecked) public private(set) var isEmpty = true
    /// The stop `check` reported last (cleared by `resume`).
    @exclusivity(unchecked) public private(set) var hit: Hit?
    /// No stop at this RIP before an instruction retires: the instruction a resume starts on.
    @exclusivity(unchecked) var resumeRIP: UInt64 = ~0
    @exclusivity(unchecked) var resumeCount: UInt64 = ~0

    /// Creates an empty set.
    public init() {}

    /// Recomputes `isEmpty`, `watchesAccesses` and the breakpoint pages after a change.
    func changed() {
        watchesAccesses = !accessWatches.isEmpty
        isEmpty = softwareBreakpoints.isEmpty && hardwareBreakpoints.isEmpty && watches.isEmpty && !watchesAccesses
        breakpointPages = Array(Set((softwareBreakpoints + hardwareBreakpoints).map { $0 >> 12 }))
    }

    /// Whether only breakpoints are set (no watchpoint), none of them on the linear page of `rip`: the
    /// processor may then run whole blocks of 64-bit code until RIP enters such a page.
    @inline(__always)
    func onlyBreakpoints(noneOnPageOf rip: UInt64) -> Bool {
        watches.isEmpty && !watchesAccesses && !breakpointPages.contains(rip >> 12)
    }

    /// Whether a breakpoint is on the linear page of `rip`.
    @inline(__always)
    func breakpoint(onPageOf rip: UInt64) -> Bool { breakpointPages.contains(rip >> 12) }

    /// Adds or removes a software breakpoint.
    public func setSoftwareBreakpoint(_ rip: UInt64, _ on: Bool) {
        softwareBreakpoints.removeAll { $0 == rip }
        if on { softwareBreakpoints.append(rip) }
        changed()
    }

    /// Adds or removes a hardware breakpoint.
    public func setHardwareBreakpoint(_ rip: UInt64, _ on: Bool) {
        hardwareBreakpoints.removeAll { $0 == rip }
        if on { hardwareBreakpoints.append(rip) }
        changed()
    }

    /// Adds a write watchpoint on `length` (1-4096) bytes at a guest-linear address, with `current` the
    /// bytes there now (nil when unmapped); false for a bad length.
    public func addWatch(_ address: UInt64, length: Int, current: [UInt8]?) -> Bool {
        guard (1...4096).contains(length) else { return false }
        watches.append(Watch(address: address, length: length, last: current))
        changed()
        return true
    }

    /// Removes the write watchpoint at `address` with `length`; false when there is none.
    @discardableResult
    public func removeWatch(_ address: UInt64, length: Int) -> Bool {
        guard let i = watches.firstIndex(where: { $0.address == address && $0.length == length }) else { return false }
        watches.remove(at: i)
        changed()
        return true
    }

    /// Adds a read watchpoint (or, with `includesWrites`, an access watchpoint) on `length` (1-4096) bytes at
    /// a guest-linear address; false for a bad length.
    public func addAccessWatch(_ address: UInt64, length: Int, includesWrites: Bool) -> Bool {
        guard (1...4096).contains(length) else { return false }
        accessWatches.append(AccessWatch(address: address, length: length, includesWrites: includesWrites))
        changed()
        return true
    }

    /// Removes a read or access watchpoint; false when there is none.
    @discardableResult
    public func removeAccessWatch(_ address: UInt64, length: Int, includesWrites: Bool) -> Bool {
        guard let i = accessWatches.firstIndex(of: AccessWatch(address: address, length: length, includesWrites: includesWrites)) else { return false }
        accessWatches.remove(at: i)
        changed()
        return true
    }

    /// Removes every condition.
    public func removeAll() {
        softwareBreakpoints = []
        hardwareBreakpoints = []
        watches = []
        accessWatches = []
        accessHit = nil
        hit = nil
        changed()
    }

    /// A data access of `size` bytes at linear address `la` (a write when `write`): remembered when it
    /// overlaps a read or access watchpoint, for `check` to stop at the next instruction boundary.
    func noteAccess(_ la: UInt64, size: Int, write: Bool) {
        for w in accessWatches where (write ? w.includesWrites : true)
            && la < w.address &+ UInt64(w.length) && w.address < la &+ UInt64(size) {
            accessHit = w.includesWrites ? .accessWatch(w.address) : .readWatch(w.address)
            return
        }
    }

    /// Called before the guest resumes at `rip` with `instructionCount` retired: the instruction there runs
    /// even if a breakpoint is set on it (the debugger continues from a breakpoint).
    public func resume(rip: UInt64, instructionCount: UInt64) {
        resumeRIP = rip
        resumeCount = instructionCount
        hit = nil
        accessHit = nil
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
        if let a = accessHit {
            accessHit = nil
            hit = a
            return true
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
        if stops.watchesAccesses {
            // The watched pages leave the TLB, so the instruction's data accesses to them take the slow paths,
            // which report them (`debuggerAccessed`).
            for w in stops.accessWatches {
                var page = w.address & ~0xFFF
                while page < w.address &+ UInt64(w.length) { tlb.flush(page: page); page &+= 4096 }
            }
        }
        return stops.check(rip: ripValue, instructionCount: instructionCount) { la, n in
            self.debuggerPeek(la, count: n)
        }
    }

    /// A data access the slow path made while read or access watchpoints exist: noted, and its page dropped
    /// from the TLB again, so the same instruction's next access to the page is seen too.
    func debuggerAccessed(_ la: UInt64, _ size: Int, write: Bool) {
        guard let stops = debuggerStops else { return }
        stops.noteAccess(la, size: size, write: write)
        tlb.flush(page: la)
        if (la & 0xFFF) &+ UInt64(size) > 4096 { tlb.flush(page: maskLinear((la | 0xFFF) &+ 1)) }
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
