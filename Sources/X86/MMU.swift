// Linear-address translation: the software TLB and the page walks of SDM Vol. 3A chapter 4.

/// Kinds of memory access, as paging distinguishes them.
enum AccessKind: Int {
    case read = 0, write = 1, fetch = 2
}

/// A direct-mapped software TLB. Each slot caches one linear page for one access kind at one
/// privilege (supervisor or user), so a hit means the access is already known to be permitted.
/// Behind each slot is one victim slot (`slots` further on) holding the translation the slot's last fill
/// displaced: the slow paths look there before walking the page tables, so two pages that share a slot
/// (linear addresses a multiple of 4 MiB apart: a stack and a global, a loop's code and its data) swap
/// in a few instructions instead of a page walk on every access. `readLinear` and `writeLinear` look at the
/// victim slot inline; other fast paths (specialised forms, translated code) see only the slots.
///
/// Flushes by generation. A slot's tag is its page-aligned linear address with a 12-bit generation in the low
/// bits; a hit is one comparison of `tags[slot]` with `key(la)`, the page OR'd with the current generation
/// (`generation`). A flush takes a new generation, so every slot tagged with an older one stops hitting: a
/// whole or non-global flush costs the same whatever the TLB holds. A global translation (SDM Vol. 3A §4.10.2.4)
/// stays usable while its generation is at least `globalFloor`, the generation of the last flush that drops
/// global translations: the slow paths check that (`revalidate`) and retag the slot with the current generation.
/// When the generations run out the context's slots are really cleared and numbering starts again.
///
/// Process-context identifiers (SDM Vol. 3A §4.10.1): each PCID of a context has its own generation
/// (`pcidGenerations`), so translations of PCID A made before a switch to B (a CR3 load with bit 63 set) hit
/// again after the switch back; a generation handed out before `pcidFloor` (a flush of all PCIDs) is stale.
///
/// Translations are tagged by context (SDM Vol. 3C §29.4.1, "Information That May Be Cached"): context 0
/// holds every translation made outside a VPID-tagged L2; a few more hold those of L2 guests a guest
/// hypervisor runs with "enable VPID" (one per VPID and EPTP). Each context has its own slot arrays and
/// generations, and `tags`, `hosts`, `phys`, `global` and `generation` are always the current context's.
/// Switching context (`select`) changes those pointers and bumps `epoch`: a holder of copies of them (the CPU's
/// `tlbTags`, `tlbPhys`, `tlbHosts`) re-reads them after a switch.
final class TLB {
    static let bits = 10
    static let size = 1 << bits
    /// Tagged linear page address per slot (`key`), or `invalid` (the current context's).
    @exclusivity(unchecked) private(set) var tags: UnsafeMutablePointer<UInt64>
    /// Host address of the page per slot (the current context's).
    @exclusivity(unchecked) private(set) var hosts: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Physical page address per slot (the current context's).
    @exclusivity(unchecked) private(set) var phys: UnsafeMutablePointer<UInt64>
    /// Whether the slot holds a global translation (the current context's).
    @exclusivity(unchecked) private(set) var global: UnsafeMutablePointer<Bool>
    /// No generation is ever 0xFFF, so no key equals `invalid`.
    static let invalid: UInt64 = ~0
    static let slots = 6 * size
    /// Entries per context: the slots, then one victim slot each.
    static let entries = 2 * slots
    /// The highest generation handed out before the slots are cleared.
    static let maxGeneration: UInt64 = 0xFFE
    /// `pcidGenerations` value of a PCID with no generation.
    static let noGeneration: UInt16 = 0xFFFF
    /// Incremented by every flush and context switch, so a copy of a translation held outside the TLB (the
    /// run loop's current code page) knows when it may have gone stale. A pointer cell: read without ARC or
    /// exclusivity checks. One cell for all contexts.
    let epoch: UnsafeMutablePointer<UInt64>
    /// The current context's current generation (0...`maxGeneration`): a hit compares a tag with the page
    /// OR'd with it (`key`). A pointer cell, like `epoch`, for the hot paths and translated code.
    let generation: UnsafeMutablePointer<UInt64>

    /// What tags a context: L1's VPID for its guest and, when L1's EPT translates for that guest, the EPT
    /// PML4 address (EP4TA) of its EPTP (0 without).
    struct Tag: Equatable {
        var vpid: UInt16
        var ep4ta: UInt64
    }

    /// The paging state translations were checked under (a TLB hit rechecks none of it). A context whose
    /// state changed while another was current is flushed when it becomes current again.
    struct PagingState: Equatable {
        var cr0: UInt64, cr3: UInt64, cr4: UInt64, efer: UInt64, pkru: UInt32, pkrs: UInt64
    }

    /// One context's slot arrays, generations and what it holds.
    private final class Context {
        let tags: UnsafeMutablePointer<UInt64>
        let hosts: UnsafeMutablePointer<UnsafeMutableRawPointer?>
        let phys: UnsafeMutablePointer<UInt64>
        let global: UnsafeMutablePointer<Bool>
        /// The generation each PCID's non-global translations carry, or `noGeneration`.
        let pcidGenerations: UnsafeMutablePointer<UInt16>
        /// nil for context 0 (untagged).
        var tag: Tag?
        /// The paging state when it stopped being current.
        var state: PagingState?
        /// The `select` count when last made current (least recently used is reused first).
        var lastUse: UInt64 = 0
        /// The generation translations are made under now.
        var current: UInt64 = 0
        /// The next generation to hand out.
        var next: UInt64 = 1
        /// Global translations of an older generation are stale.
        var globalFloor: UInt64 = 0
        /// PCID generations older than this are stale.
        var pcidFloor: UInt64 = 0
        /// The PCID `current` belongs to, or -1: the processor's current PCID, whichever it is (a flush that
        /// did not say, after which every translation was made under the current CR3).
        var pcid = -1

        init(tag: Tag?) {
            // The slots, then their victim slots.
            tags = .allocate(capacity: TLB.entries)
            tags.initialize(repeating: TLB.invalid, count: TLB.entries)
            hosts = .allocate(capacity: TLB.entries)
            hosts.initialize(repeating: nil, count: TLB.entries)
            phys = .allocate(capacity: TLB.entries)
            phys.initialize(repeating: 0, count: TLB.entries)
            global = .allocate(capacity: TLB.entries)
            global.initialize(repeating: false, count: TLB.entries)
            pcidGenerations = .allocate(capacity: 4096)
            pcidGenerations.initialize(repeating: TLB.noGeneration, count: 4096)
            self.tag = tag
        }

        deinit {
            tags.deallocate(); hosts.deallocate(); phys.deallocate(); global.deallocate()
            pcidGenerations.deallocate()
        }

        /// A generation no slot carries; clears the slots when they have all been used.
        func newGeneration() -> UInt64 {
            if next > TLB.maxGeneration {
                tags.update(repeating: TLB.invalid, count: TLB.entries)
                pcidGenerations.update(repeating: TLB.noGeneration, count: 4096)
                next = 0; globalFloor = 0; pcidFloor = 0
            }
            let g = next
            next &+= 1
            return g
        }

        /// Makes `g` the current generation, PCID `p`'s (or the processor's current PCID's, -1).
        func use(_ g: UInt64, pcid p: Int) {
            current = g
            pcid = p
            if p >= 0 { pcidGenerations[p & 0xFFF] = UInt16(g) }
        }

        /// Drops every translation, global ones too, of every PCID.
        func flushAll() {
            let g = newGeneration()
            globalFloor = g
            pcidFloor = g
            use(g, pcid: -1)
        }

        /// Drops the non-global translations of the current PCID.
        func flushNonGlobal() { use(newGeneration(), pcid: -1) }

        /// Drops the non-global translations of every PCID.
        func flushNonGlobalAllPCIDs() {
            let g = newGeneration()
            pcidFloor = g
            use(g, pcid: -1)
        }

        /// Makes PCID `p` current (the processor's PCID was `old`), dropping its non-global translations when
        /// `flush`.
        func switchPCID(to p: Int, from old: Int, flush: Bool) {
            if pcid < 0 { use(current, pcid: old) }
            let saved = pcidGenerations[p & 0xFFF]
            if !flush && saved != TLB.noGeneration && UInt64(saved) >= pcidFloor {
                use(UInt64(saved), pcid: p)
            } else {
                use(newGeneration(), pcid: p)
            }
        }

        /// Drops the non-global translations of PCID `p`, the current one when `isCurrent`.
        func flushPCID(_ p: Int, isCurrent: Bool) {
            if isCurrent { use(newGeneration(), pcid: p) } else { pcidGenerations[p & 0xFFF] = TLB.noGeneration }
        }

        /// Whether the translation in entry `i` is of `page` and still valid (current generation, or a global
        /// one not dropped since it was made).
        @inline(__always) func valid(_ i: Int, page: UInt64) -> Bool {
            let t = tags[i]
            if t == page | current { return true }
            return t != TLB.invalid && t & ~0xFFF == page && global[i] && t & 0xFFF >= globalFloor
        }

        /// Drops one linear page from its six slots (three access kinds, two privileges) and their victims,
        /// whatever their generation.
        func flush(page la: UInt64) {
            let page = la & ~0xFFF
            for k in 0..<12 {
                let i = k &* TLB.size &+ Int(truncatingIfNeeded: (la >> 12) & UInt64(TLB.size &- 1))
                if tags[i] & ~0xFFF == page { tags[i] = TLB.invalid }
            }
        }

        /// Drops every write translation (slots and victims) to physical page `pp`.
        func flushWrites(toPhysicalPage pp: UInt64) {
            for base in [0, TLB.slots] {
                for i in (base + 2 * TLB.size)..<(base + 4 * TLB.size) where tags[i] != TLB.invalid && phys[i] == pp {
                    tags[i] = TLB.invalid
                }
            }
        }
    }

    /// The most tagged contexts kept at once (besides context 0).
    static let taggedContexts = 3
    @exclusivity(unchecked) private var contexts: [Context]
    @exclusivity(unchecked) private var currentIndex = 0
    @exclusivity(unchecked) private var uses: UInt64 = 0

    init() {
        let c = Context(tag: nil)
        contexts = [c]
        tags = c.tags; hosts = c.hosts; phys = c.phys; global = c.global
        epoch = .allocate(capacity: 1)
        epoch.initialize(to: 0)
        generation = .allocate(capacity: 1)
        generation.initialize(to: c.current)
    }

    deinit {
        epoch.deallocate()
        generation.deallocate()
    }

    /// Slot of a linear address for an access kind and privilege.
    @inline(__always) static func slot(_ la: UInt64, _ kind: AccessKind, _ user: Bool) -> Int {
        (kind.rawValue &* 2 &+ (user ? 1 : 0)) &* size &+ Int(truncatingIfNeeded: (la >> 12) & UInt64(size &- 1))
    }

    /// The tag a slot holding the page of `la` has when it hits now.
    @inline(__always) func key(_ la: UInt64) -> UInt64 { (la & ~0xFFF) | generation.pointee }

    /// The current context.
    private var context: Context { contexts[currentIndex] }

    /// After a flush of the current context: the new generation for the hot paths, and the epoch.
    @inline(__always) private func flushed() {
        generation.pointee = contexts[currentIndex].current
        epoch.pointee &+= 1
    }

    /// Fills slot `s` with a translation of the current generation; the one it held moves to the victim slot.
    @inline(__always) func fill(_ s: Int, page: UInt64, host: UnsafeMutableRawPointer?, physical: UInt64, global g: Bool) {
        let v = s &+ TLB.slots
        tags[v] = tags[s]; hosts[v] = hosts[s]; phys[v] = phys[s]; global[v] = global[s]
        tags[s] = page | generation.pointee; hosts[s] = host; phys[s] = physical; global[s] = g
    }

    /// Whether slot `s` holds a global translation of `page` made before the last non-global flush that is
    /// still valid: then it is retagged with the current generation (a hit from now on).
    @inline(__always) func revalidate(_ s: Int, page: UInt64) -> Bool {
        guard context.valid(s, page: page) else { return false }
        tags[s] = page | generation.pointee
        return true
    }

    /// Whether slot `s` holds `page` (`revalidate`), or its victim slot does: then the two swap, and slot `s`
    /// holds it.
    @inline(__always) func promote(_ s: Int, page: UInt64) -> Bool {
        if revalidate(s, page: page) { return true }
        let v = s &+ TLB.slots
        guard context.valid(v, page: page) else { return false }
        let (t, h, p, g) = (tags[s], hosts[s], phys[s], global[s])
        tags[s] = page | generation.pointee; hosts[s] = hosts[v]; phys[s] = phys[v]; global[s] = global[v]
        tags[v] = t; hosts[v] = h; phys[v] = p; global[v] = g
        return true
    }

    /// The tag of the current context (nil: context 0).
    var currentTag: Tag? { contexts[currentIndex].tag }

    /// Makes the context of `tag` (nil: context 0) current, taking over the least recently used tagged
    /// context (flushed) when none holds the tag. `leaving` is the paging state the current context's
    /// translations were made under, `now` the state the new one is entered with: a context whose state
    /// differs is flushed. Returns true when the arrays changed (copies of the pointers must be re-read).
    func select(_ tag: Tag?, leaving: PagingState, now: PagingState) -> Bool {
        uses &+= 1
        contexts[currentIndex].state = leaving
        var index = contexts.firstIndex { $0.tag == tag }
        if index == nil {
            if contexts.count <= TLB.taggedContexts {
                contexts.append(Context(tag: tag))
                index = contexts.count - 1
            } else {
                var oldest = 1
                for k in 2..<contexts.count where contexts[k].lastUse < contexts[oldest].lastUse { oldest = k }
                contexts[oldest].tag = tag
                contexts[oldest].state = nil
                index = oldest
            }
        }
        let k = index ?? 0
        if contexts[k].state != now { contexts[k].flushAll() }
        contexts[k].lastUse = uses
        let changed = k != currentIndex
        currentIndex = k
        flushed()
        guard changed else { return false }
        let c = contexts[k]
        tags = c.tags; hosts = c.hosts; phys = c.phys; global = c.global
        return true
    }

    /// Drops every translation of the current context, global ones too, of every PCID.
    func flushAll() {
        context.flushAll()
        flushed()
    }

    /// Drops every translation of every context (the physical memory map changed).
    func flushAllContexts() {
        for c in contexts { c.flushAll() }
        flushed()
    }

    /// Drops the translations of the tagged contexts `matching` selects (INVVPID, INVEPT): all of them,
    /// one linear page (`page`), or all but global ones (`keepGlobal`).
    func flushTagged(page: UInt64? = nil, keepGlobal: Bool = false, matching: (Tag) -> Bool) {
        for c in contexts {
            guard let tag = c.tag, matching(tag) else { continue }
            if let page { c.flush(page: page) } else if keepGlobal { c.flushNonGlobalAllPCIDs() } else { c.flushAll() }
        }
        flushed()
    }

    /// Drops every non-global translation of the current context's current PCID (a CR3 load with CR4.PGE
    /// set, outside PCID rules).
    func flushNonGlobal() {
        context.flushNonGlobal()
        flushed()
    }

    /// Drops every non-global translation of every PCID of the current context (INVPCID type 3).
    func flushNonGlobalAllPCIDs() {
        context.flushNonGlobalAllPCIDs()
        flushed()
    }

    /// A CR3 load: PCID `p` becomes current (it was `old`), and its non-global translations are dropped when
    /// `flush` (SDM Vol. 3A §4.10.4.1; with CR4.PCIDE clear both are 0 and `flush` is true).
    func switchPCID(to p: Int, from old: Int, flush: Bool) {
        context.switchPCID(to: p, from: old, flush: flush)
        flushed()
    }

    /// Drops the non-global translations of PCID `p` (INVPCID type 1), the processor's current one when
    /// `isCurrent`.
    func flushPCID(_ p: Int, isCurrent: Bool) {
        context.flushPCID(p, isCurrent: isCurrent)
        flushed()
    }

    /// Drops the translations of one linear page (INVLPG, INVPCID type 0) in the current context, in the
    /// slots and their victim slots, of every PCID.
    func flush(page la: UInt64) {
        epoch.pointee &+= 1
        context.flush(page: la)
    }

    /// Drops every write translation to a physical page, in every context (it now holds decoded code:
    /// writes must be seen).
    func flushWrites(toPhysicalPage pp: UInt64) {
        epoch.pointee &+= 1
        for c in contexts { c.flushWrites(toPhysicalPage: pp) }
    }
}

/// The result of a page walk.
struct Translation {
    var physical: UInt64
    var writable: Bool
    var global: Bool
    /// Whether the software TLB may keep the translation: false when the access was permitted only because
    /// of state a TLB hit does not recheck (RFLAGS.AC and the CPL for SMAP).
    var cacheable: Bool = true
    /// Whether paging maps the address as a user-mode linear address (U/S = 1 at every level), which
    /// EPT's mode-based execute control distinguishes (NestedEPT.swift).
    var userAddress: Bool = false
}

extension CPU {
    /// Highest physical address bit + 1 (CPUID.80000008H:EAX[7:0]).
    static let maxPhysicalAddressBits: UInt64 = 40
    static let physicalAddressMask: UInt64 = (1 << 40) - 1

    // MARK: Fast paths

    /// The tag a TLB slot holding the page of `la` has when it hits now (`TLB.key`).
    @inline(__always) func tlbKey(_ la: UInt64) -> UInt64 { (la & ~0xFFF) | tlbGeneration.pointee }

    /// Reads `size` bytes (1, 2, 4, 8) at a linear address.
    @inline(__always)
    func readLinear(_ la: UInt64, _ size: Int, user: Bool) throws(Abort) -> UInt64 {
        let s = TLB.slot(la, .read, user)
        if tlbTags[s] == tlbKey(la) && (la & 0xFFF) &+ UInt64(size) <= 4096, let h = tlbHosts[s] {
            let p = h + Int(truncatingIfNeeded: la & 0xFFF)
            return hostLoad(p, size)
        }
        let v = s &+ TLB.slots                                  // the victim slot (`TLB`)
        if tlbTags[v] == tlbKey(la) && (la & 0xFFF) &+ UInt64(size) <= 4096, let h = tlbHosts[v] {
            return hostLoad(h + Int(truncatingIfNeeded: la & 0xFFF), size)
        }
        return try readLinearSlow(la, size, user: user, kind: .read)
    }

    /// Writes `size` bytes (1, 2, 4, 8) at a linear address.
    @inline(__always)
    func writeLinear(_ la: UInt64, _ size: Int, _ value: UInt64, user: Bool) throws(Abort) {
        let s = TLB.slot(la, .write, user)
        if tlbTags[s] == tlbKey(la) && (la & 0xFFF) &+ UInt64(size) <= 4096, let h = tlbHosts[s] {
            let p = h + Int(truncatingIfNeeded: la & 0xFFF)
            hostStore(p, size, value)
            return
        }
        let v = s &+ TLB.slots                                  // the victim slot (`TLB`)
        if tlbTags[v] == tlbKey(la) && (la & 0xFFF) &+ UInt64(size) <= 4096, let h = tlbHosts[v] {
            hostStore(h + Int(truncatingIfNeeded: la & 0xFFF), size, value)
            return
        }
        try writeLinearSlow(la, size, value, user: user)
    }

    // MARK: Slow paths

    /// Reads through a full translation, byte by byte across page boundaries, from RAM or the bus.
    @inline(never)
    func readLinearSlow(_ la: UInt64, _ size: Int, user: Bool, kind: AccessKind) throws(Abort) -> UInt64 {
        let watched = kind == .read && debuggerStops?.watchesAccesses == true      // DebuggerStops.swift
        defer { if watched { debuggerAccessed(la, size, write: false) } }
        let breakpoints = kind == .read && dr[7] & 0xFF != 0                        // DebugRegisters.swift
        defer { if breakpoints { noteDataBreakpointAccess(la, size, write: false) } }
        try checkMapGeneration()
        if (la & 0xFFF) &+ UInt64(size) > 4096 {
            // Page-crossing: translate both pages first so a fault leaves nothing half done.
            let second = maskLinear((la | 0xFFF) &+ 1)
            let pa1 = try translate(la, kind, user: user).physical
            let pa2 = try translate(second, kind, user: user).physical
            let firstCount = Int(4096 &- (la & 0xFFF))
            var v: UInt64 = 0
            for i in 0..<size {
                let pa = i < firstCount ? pa1 &+ UInt64(i) : pa2 &+ UInt64(i &- firstCount)
                v |= try readPhysical(pa, 1) << (8 * UInt64(i))
            }
            return v
        }
        let s = TLB.slot(la, kind, user)
        if tlb.promote(s, page: la & ~0xFFF), let h = tlb.hosts[s] {
            return hostLoad(h + Int(truncatingIfNeeded: la & 0xFFF), size)       // the victim slot had it
        }
        let t = try translate(la, kind, user: user)
        if t.cacheable, let r = memory.region(containing: t.physical), r.permissions.contains(.read) {
            let pageHost = r.host + Int(truncatingIfNeeded: (t.physical & ~0xFFF) &- r.base)
            tlb.fill(s, page: la & ~0xFFF, host: pageHost, physical: t.physical & ~0xFFF, global: t.global)
            let p = pageHost + Int(truncatingIfNeeded: la & 0xFFF)
            return hostLoad(p, size)
        }
        return try readPhysical(t.physical, size)
    }

    /// Writes through a full translation.
    @inline(never)
    func writeLinearSlow(_ la: UInt64, _ size: Int, _ value: UInt64, user: Bool) throws(Abort) {
        let watched = debuggerStops?.watchesAccesses == true                       // DebuggerStops.swift
        defer { if watched { debuggerAccessed(la, size, write: true) } }
        let breakpoints = dr[7] & 0xFF != 0                                          // DebugRegisters.swift
        defer { if breakpoints { noteDataBreakpointAccess(la, size, write: true) } }
        try checkMapGeneration()
        if (la & 0xFFF) &+ UInt64(size) > 4096 {
            let second = maskLinear((la | 0xFFF) &+ 1)
            let pa1 = try translate(la, .write, user: user).physical
            let pa2 = try translate(second, .write, user: user).physical
            let firstCount = Int(4096 &- (la & 0xFFF))
            for i in 0..<size {
                let pa = i < firstCount ? pa1 &+ UInt64(i) : pa2 &+ UInt64(i &- firstCount)
                try writePhysical(pa, 1, value >> (8 * UInt64(i)))
            }
            return
        }
        let s = TLB.slot(la, .write, user)
        if tlb.promote(s, page: la & ~0xFFF), let h = tlb.hosts[s] {
            hostStore(h + Int(truncatingIfNeeded: la & 0xFFF), size, value)          // the victim slot had it
            return
        }
        let t = try translate(la, .write, user: user)
        let page = t.physical >> 12
        if t.cacheable, let r = memory.region(containing: t.physical), r.permissions.contains(.write) {
            let pageHost = r.host + Int(truncatingIfNeeded: (t.physical & ~0xFFF) &- r.base)
            if memory.isCode(page: page) {
                memory.invalidateCode(page: page)
            }
            if !t.writable { tlbHoldsWPOnlyWrites = true }                  // a supervisor write with CR0.WP = 0
            tlb.fill(s, page: la & ~0xFFF, host: pageHost, physical: t.physical & ~0xFFF, global: t.global)
            let p = pageHost + Int(truncatingIfNeeded: la & 0xFFF)
            hostStore(p, size, value)
            return
        }
        try writePhysical(t.physical, size, value)
    }

    /// Flushes the TLB if the physical memory map changed.
    @inline(__always) func checkMapGeneration() throws(Abort) {
        if memory.mapGeneration != tlbMapGeneration {
            tlbMapGeneration = memory.mapGeneration
            tlb.flushAllContexts()
        }
    }

    /// The paging state the TLB's translations depend on (`TLB.PagingState`).
    var tlbPagingState: TLB.PagingState {
        TLB.PagingState(cr0: cr0Value, cr3: cr3Value, cr4: cr4Value, efer: eferValue, pkru: pkru, pkrs: msrs.pkrs)
    }

    /// Makes the TLB context of `tag` current (`TLB.select`) and re-reads the processor's copies of its
    /// slot pointers. `leaving` is the paging state the current context was used under.
    func selectTLBContext(_ tag: TLB.Tag?, leaving: TLB.PagingState) {
        if tlb.select(tag, leaving: leaving, now: tlbPagingState) {
            tlbTags = tlb.tags
            tlbPhys = tlb.phys
            tlbHosts = tlb.hosts
        }
    }

    /// Truncates a linear address outside 64-bit mode.
    @inline(__always) func maskLinear(_ la: UInt64) -> UInt64 {
        longModeActive ? la : la & 0xFFFF_FFFF
    }

    /// Reads physical memory (RAM or the bus).
    func readPhysical(_ pa: UInt64, _ size: Int) throws(Abort) -> UInt64 {
        if vmxNonRoot {
            if let h = mmioHandler, memory.region(containing: pa) == nil, h.handles(address: pa) {
                return h.read(address: pa, size: size)
            }
            try eptCheck(pa, size, write: false)
        }
        if let p = memory.hostPointer(pa, count: size) {
            var v: UInt64 = 0
            for i in 0..<size { v |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << (8 * UInt64(i)) }
            return v
        }
        return bus.mmioRead(address: pa, size: size)
    }

    /// Writes physical memory (RAM or the bus).
    func writePhysical(_ pa: UInt64, _ size: Int, _ value: UInt64) throws(Abort) {
        if let r = memory.region(containing: pa), r.permissions.contains(.write), pa &- r.base &+ UInt64(size) <= r.size {
            let p = r.host + Int(pa &- r.base)
            for i in 0..<size { p.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))), toByteOffset: i, as: UInt8.self) }
            memory.invalidateCode(from: pa, size: UInt64(size))
            return
        }
        if vmxNonRoot {
            if let h = mmioHandler, memory.region(containing: pa) == nil, h.handles(address: pa) {
                h.write(address: pa, size: size, value: value)
                return
            }
            try eptCheck(pa, size, write: true)
        }
        bus.mmioWrite(address: pa, size: size, value: value)
    }

    /// Reads a paging-structure entry.
    @inline(__always) func readPTE(_ entry: UInt64, _ size: Int) throws(Abort) -> UInt64 {
        let pa = vmx.hot.pointee.nestedEPT ? try nestedEPTTranslateEntry(entry, write: false) : entry
        // An entry in RAM is read in place, with one region lookup. In non-root operation the map must also
        // permit the access as `eptCheck` requires it (the permission of the access being translated);
        // otherwise `readPhysical` raises the EPT violation.
        if probingTranslation {
            // A probe reads entries in RAM only and never exits.
            guard let p = memory.hostPointer(pa, count: size) else { throw Abort.pf(0) }
            return size == 8 ? UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                : UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
        }
        if let r = memory.region(containing: pa), pa &- r.base &+ UInt64(size) <= r.size {
            let kind = currentAccess.kind
            let needed: PhysicalMemory.Permissions = kind == .write ? .write : (kind == .fetch ? .execute : .read)
            if !vmxNonRoot || r.permissions.contains(needed) {
                // Safe: the region's host mapping holds all `size` bytes from `pa` (checked just above).
                let p = r.host + Int(truncatingIfNeeded: pa &- r.base)
                return size == 8 ? UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
                    : UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
            }
        }
        pageWalkDepth += 1
        defer { pageWalkDepth -= 1 }
        return try readPhysical(pa, size)
    }

    /// Writes a paging-structure entry (accessed and dirty bits).
    @inline(__always) func writePTE(_ entry: UInt64, _ size: Int, _ v: UInt64) throws(Abort) {
        if probingTranslation { return }            // a probe leaves accessed and dirty bits as they are
        let pa = vmx.hot.pointee.nestedEPT ? try nestedEPTTranslateEntry(entry, write: true) : entry
        pageWalkDepth += 1
        defer { pageWalkDepth -= 1 }
        try writePhysical(pa, size, v)
    }

    // MARK: Page walk

    /// The guest-physical address `linear` maps to under the given paging state, or nil when a level is
    /// not present, an entry has reserved bits set, or a paging structure lies outside RAM: the walk of
    /// `translate` for a supervisor read, without side effects (no accessed or dirty bits, no #PF, no CR2,
    /// no EPT violation). For a VMM that reads guest memory the way the guest addresses it.
    public func probeTranslation(_ linear: UInt64, cr0: UInt64, cr3: UInt64, cr4: UInt64, efer: UInt64) -> UInt64? {
        let saved = (cr0Value, cr3Value, cr4Value, eferValue, currentAccess, pendingCR2, probingTranslation)
        cr0Value = cr0; cr3Value = cr3; cr4Value = cr4; eferValue = efer
        probingTranslation = true
        defer {
            (cr0Value, cr3Value, cr4Value, eferValue, currentAccess, pendingCR2, probingTranslation) = saved
        }
        let la = efer & EFER.lma.rawValue != 0 ? linear : linear & 0xFFFF_FFFF
        do { return try translate(la, .read, user: false).physical } catch { return nil }
    }

    /// Executes the instruction at the guest's RIP once in non-root operation with `handler` completing its
    /// accesses to guest-physical addresses outside RAM that the handler claims, instead of EPT violations
    /// (what KVM's instruction emulator does for MMIO). `.instructionLimit` means the instruction retired (or
    /// an event it raised was delivered through the guest's IDT); anything else is as `enterAndRunGuest`.
    public func executeCompletingMMIO(_ handler: any MMIOHandler) -> GuestRunStop {
        let saved = mmioHandler
        mmioHandler = handler
        defer { mmioHandler = saved }
        return enterAndRunGuest(instructionLimit: 1)
    }

    /// Translates a linear address for an access, setting accessed/dirty bits, or raises #PF; while L2 runs
    /// with EPT of the guest hypervisor, the guest-physical address also goes through L1's EPT (NestedEPT.swift).
    @inline(__always)
    func translate(_ la: UInt64, _ kind: AccessKind, user: Bool) throws(Abort) -> Translation {
        var t = try translateLinear(la, kind, user: user)
        if vmx.hot.pointee.nestedEPT { t.physical = try nestedEPTTranslate(t.physical, kind, userAddress: t.userAddress) }
        return t
    }

    /// The page walk of `translate`: linear to (guest-)physical.
    func translateLinear(_ la: UInt64, _ kind: AccessKind, user: Bool) throws(Abort) -> Translation {
        currentAccess = (la, kind)
        if !pagingEnabled {
            return Translation(physical: la & 0xFFFF_FFFF, writable: true, global: false)
        }
        let write = kind == .write
        let fetch = kind == .fetch
        let nxe = eferValue & EFER.nxe.rawValue != 0
        let wp = cr0Value & CR0.wp.rawValue != 0
        func pageFault(present: Bool, reserved: Bool = false, protectionKey: Bool = false) -> Abort {
            var code: UInt32 = 0
            if present { code |= 1 }
            if protectionKey { code |= 32 }
            if write { code |= 2 }
            if user { code |= 4 }
            if reserved { code |= 8 | 1 }
            if fetch && (nxe || cr4Value & CR4.smep.rawValue != 0) { code |= 16 }
            pendingCR2 = la
            return .exception(ExceptionVector.pf.rawValue, code)
        }
        var userOK = true, writeOK = true, execOK = true
        var physical: UInt64 = 0
        var global = false
        let addrMask = CPU.physicalAddressMask & ~0xFFF

        if cr4Value & CR4.pae.rawValue == 0 {
            // 32-bit paging (SDM Vol. 3A §4.3).
            let pdeAddr = (cr3Value & 0xFFFF_F000) | ((la >> 20) & 0xFFC)
            var pde = try readPTE(pdeAddr, 4)
            if pde & 1 == 0 { throw pageFault(present: false) }
            userOK = pde & 4 != 0; writeOK = pde & 2 != 0
            if pde & 0x80 != 0 && cr4Value & CR4.pse.rawValue != 0 {
                if pde & (1 << 21) != 0 { throw pageFault(present: true, reserved: true) }
                let rights = accessRights(user: user, write: write, fetch: fetch, userOK: userOK, writeOK: writeOK,
                                          execOK: true, wp: wp, leaf: 0, keys: false)
                if rights.fault { throw pageFault(present: true, protectionKey: rights.protectionKey) }
                let newPDE = pde | 0x20 | (write ? 0x40 : 0)
                if newPDE != pde { try writePTE(pdeAddr, 4, newPDE); pde = newPDE }
                physical = (pde & 0xFFC0_0000) | ((pde & 0x1FE000) << 19) | (la & 0x3F_FFFF)
                global = pde & 0x100 != 0 && cr4Value & CR4.pge.rawValue != 0
                return Translation(physical: physical, writable: writeOK && pde & 0x40 != 0, global: global,
                                   cacheable: rights.cacheable, userAddress: userOK)
            }
            let pteAddr = (pde & 0xFFFF_F000) | ((la >> 10) & 0xFFC)
            var pte = try readPTE(pteAddr, 4)
            if pte & 1 == 0 { throw pageFault(present: false) }
            userOK = userOK && pte & 4 != 0; writeOK = writeOK && pte & 2 != 0
            let rights = accessRights(user: user, write: write, fetch: fetch, userOK: userOK, writeOK: writeOK,
                                      execOK: true, wp: wp, leaf: 0, keys: false)
            if rights.fault { throw pageFault(present: true, protectionKey: rights.protectionKey) }
            if pde & 0x20 == 0 { try writePTE(pdeAddr, 4, pde | 0x20) }
            let newPTE = pte | 0x20 | (write ? 0x40 : 0)
            if newPTE != pte { try writePTE(pteAddr, 4, newPTE); pte = newPTE }
            global = pte & 0x100 != 0 && cr4Value & CR4.pge.rawValue != 0
            return Translation(physical: (pte & 0xFFFF_F000) | (la & 0xFFF), writable: writeOK && pte & 0x40 != 0, global: global,
                               cacheable: rights.cacheable, userAddress: userOK)
        }

        // PAE and 4-level paging (SDM Vol. 3A §4.4, §4.5).
        // Reserved: bits 51:MAXPHYADDR (4-level; 62:52 are ignored) or 62:MAXPHYADDR (PAE);
        // bit 63 (XD) when EFER.NXE is clear.
        let rsvdHigh: UInt64 = ~CPU.physicalAddressMask & (longModeActive ? 0x000F_FFFF_FFFF_FFFF : 0x7FFF_FFFF_FFFF_FFFF)
        let xdReserved: UInt64 = nxe ? 0 : (1 << 63)
        func checkReserved(_ e: UInt64, _ extra: UInt64) -> Bool {
            e & (rsvdHigh | xdReserved | extra) != 0
        }
        var table: UInt64
        var level: Int
        if longModeActive {
            table = cr3Value & addrMask
            level = 4
        } else {
            // PAE: the PDPTE selected by bits 31:30, from the PDPTE registers an L1 VM entry with EPT loaded
            // (NestedVMX.swift) while they hold, else from the table CR3 names.
            let pdpte: UInt64
            if vmx.nested.pdptes.hold(cr0: cr0Value, cr3: cr3Value, cr4: cr4Value) {
                pdpte = vmx.nested.pdptes.entry(la >> 30)
            } else {
                pdpte = try readPTE((cr3Value & 0xFFFF_FFE0) | ((la >> 27) & 0x18), 8)
            }
            if pdpte & 1 == 0 { throw pageFault(present: false) }
            if checkReserved(pdpte, 0x1E6 | (1 << 63)) { throw pageFault(present: true, reserved: true) }
            table = pdpte & addrMask
            level = 2
        }
        while true {
            let shift = UInt64(12 + 9 * (level - 1))
            let eAddr = table | (((la >> shift) & 0x1FF) << 3)
            let e = try readPTE(eAddr, 8)
            if e & 1 == 0 { throw pageFault(present: false) }
            let isLarge = (level == 2 || level == 3) && e & 0x80 != 0
            var extra: UInt64 = 0
            if level == 4 { extra = 0x80 }
            if level == 3 && isLarge { extra = 0x3FFF_E000 }
            if level == 2 && isLarge { extra = 0x1F_E000 }
            if checkReserved(e, extra) { throw pageFault(present: true, reserved: true) }
            userOK = userOK && e & 4 != 0
            writeOK = writeOK && e & 2 != 0
            execOK = execOK && !(nxe && e & (1 << 63) != 0)
            if level == 1 || isLarge {
                // Protection keys apply to 4-level paging only (SDM Vol. 3A §4.6.2).
                let rights = accessRights(user: user, write: write, fetch: fetch, userOK: userOK, writeOK: writeOK,
                                          execOK: execOK, wp: wp, leaf: e, keys: longModeActive)
                if rights.fault { throw pageFault(present: true, protectionKey: rights.protectionKey) }
                // Accessed bit on the leaf, dirty bit on a write.
                let nv = e | 0x20 | (write ? 0x40 : 0)
                if nv != e { try writePTE(eAddr, 8, nv) }
                let pageMask: UInt64 = (1 << shift) - 1
                physical = (e & addrMask & ~pageMask) | (la & pageMask)
                global = e & 0x100 != 0 && cr4Value & CR4.pge.rawValue != 0
                let dirty = e & 0x40 != 0 || write
                return Translation(physical: physical, writable: writeOK && dirty, global: global, cacheable: rights.cacheable,
                                   userAddress: userOK)
            }
            // Accessed bit on a paging-structure entry used for the walk.
            if e & 0x20 == 0 { try writePTE(eAddr, 8, e | 0x20) }
            table = e & addrMask
            level -= 1
        }
    }
}

/// Loads a little-endian value of `size` bytes (1, 2, 4 or 8) from host memory that the caller has checked
/// holds all of them.
@_transparent
func hostLoad(_ p: UnsafeMutableRawPointer, _ size: Int) -> UInt64 {
    switch size {
    case 1: return UInt64(p.load(as: UInt8.self))
    case 2: return UInt64(UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
    case 4: return UInt64(UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
    default: return UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))
    }
}

/// Stores the low `size` bytes (1, 2, 4 or 8) of `v` little-endian to host memory that the caller has
/// checked holds all of them.
@_transparent
func hostStore(_ p: UnsafeMutableRawPointer, _ size: Int, _ v: UInt64) {
    switch size {
    case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: v), as: UInt8.self)
    case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: v).littleEndian, as: UInt16.self)
    case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: v).littleEndian, as: UInt32.self)
    default: p.storeBytes(of: v.littleEndian, as: UInt64.self)
    }
}
