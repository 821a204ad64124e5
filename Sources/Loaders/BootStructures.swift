/// The guest-physical layout of the structures the loaders build (one place, like Firecracker's layout.rs).
public enum BootLayout {
    /// GDT (4 entries: null, null, code at 0x10, data at 0x18).
    public static let gdt: UInt64 = 0x500
    /// Linux boot_params ("zero page").
    public static let bootParams: UInt64 = 0x7000
    /// Multiboot information structure and everything it points to (grows up to `lowLimit`).
    public static let multibootInfo: UInt64 = 0x8000
    /// Long-mode page tables: PML4, then PDPT, then four page directories (identity map of 4 GiB, 2 MiB pages).
    public static let pml4: UInt64 = 0x9000
    /// Linux command line.
    public static let commandLine: UInt64 = 0x2_0000
    /// Top of the low-memory area the loaders use (below the EBDA).
    public static let lowLimit: UInt64 = 0x9_F000
    /// Lowest address for kernels and initrds (1 MiB).
    public static let highMemory: UInt64 = 0x10_0000
    /// Code selector (Linux __BOOT_CS).
    public static let codeSelector: UInt16 = 0x10
    /// Data selector (Linux __BOOT_DS).
    public static let dataSelector: UInt16 = 0x18
}

/// Builders for the GDT, page tables and entry states shared by the loaders.
enum BootStructures {
    /// CR0.PE (SDM Vol. 3A 2.5).
    static let cr0PE: UInt64 = 1 << 0
    /// CR0.ET.
    static let cr0ET: UInt64 = 1 << 4
    /// CR0.NE.
    static let cr0NE: UInt64 = 1 << 5
    /// CR0.PG.
    static let cr0PG: UInt64 = 1 << 31
    /// CR4.PAE.
    static let cr4PAE: UInt64 = 1 << 5
    /// EFER.LME | EFER.LMA (SDM Vol. 3A 2.2.1).
    static let eferLongMode: UInt64 = (1 << 8) | (1 << 10)

    /// VMX access rights: code, execute/read, accessed, S, P, L, G (64-bit code).
    static let arCode64: UInt32 = 0xA09B
    /// VMX access rights: code, execute/read, accessed, S, P, D/B, G (32-bit code).
    static let arCode32: UInt32 = 0xC09B
    /// VMX access rights: data, read/write, accessed, S, P, D/B, G.
    static let arData: UInt32 = 0xC093

    /// The GDT segment: null, null, code (64-bit or 32-bit), flat data — selectors 0x10 and 0x18.
    static func gdt(longMode: Bool) -> LoadSegment {
        var bytes: [UInt8] = []
        bytes.append64(0)
        bytes.append64(0)
        bytes.append64(longMode ? 0x00AF_9B00_0000_FFFF : 0x00CF_9B00_0000_FFFF)
        bytes.append64(0x00CF_9300_0000_FFFF)
        return LoadSegment(guestPhysical: BootLayout.gdt, bytes: bytes, name: "GDT")
    }

    /// Identity page tables for 0–4 GiB with 2 MiB pages: PML4, PDPT and four page directories (6 pages).
    static func identityPageTables() -> LoadSegment {
        let base = BootLayout.pml4
        var bytes = [UInt8](repeating: 0, count: 6 * 4096)
        bytes.put64((base + 0x1000) | 0x3, at: 0)                        // PML4[0] -> PDPT, P|RW
        for i in 0..<4 {
            bytes.put64((base + 0x2000 + UInt64(i) * 0x1000) | 0x3, at: 0x1000 + 8 * i)  // PDPT[i] -> PD i
        }
        for entry in 0..<(4 * 512) {
            bytes.put64(UInt64(entry) << 21 | 0x83, at: 0x2000 + 8 * entry)  // 2 MiB page, P|RW|PS
        }
        return LoadSegment(guestPhysical: base, bytes: bytes, name: "page tables")
    }

    /// The first 4 GiB covered by `identityPageTables`.
    static let identityMapEnd: UInt64 = 0x1_0000_0000

    /// Flat 32-bit protected mode, paging off, with the plan's GDT.
    static func protected32Entry(rip: UInt64) -> EntryState {
        let code = SegmentState(selector: BootLayout.codeSelector, base: 0, limit: 0xFFFF_FFFF, accessRights: arCode32)
        let data = SegmentState(selector: BootLayout.dataSelector, base: 0, limit: 0xFFFF_FFFF, accessRights: arData)
        return EntryState(mode: .protected32, rip: rip, cr0: cr0PE | cr0ET | cr0NE,
                          cs: code, ds: data, es: data, ss: data, fs: data, gs: data,
                          gdtr: DescriptorTableState(base: BootLayout.gdt, limit: 31))
    }

    /// 64-bit long mode with the identity page tables and the plan's GDT.
    static func long64Entry(rip: UInt64) -> EntryState {
        let code = SegmentState(selector: BootLayout.codeSelector, base: 0, limit: 0xFFFF_FFFF, accessRights: arCode64)
        let data = SegmentState(selector: BootLayout.dataSelector, base: 0, limit: 0xFFFF_FFFF, accessRights: arData)
        return EntryState(mode: .long64, rip: rip, cr0: cr0PE | cr0ET | cr0NE | cr0PG, cr3: BootLayout.pml4,
                          cr4: cr4PAE, efer: eferLongMode,
                          cs: code, ds: data, es: data, ss: data, fs: data, gs: data,
                          gdtr: DescriptorTableState(base: BootLayout.gdt, limit: 31))
    }

    /// Real mode with CS = `codeSelector`/`codeBase` and IP = `ip` (reset: F000:FFF0, base 0xFFFF0000).
    static func realEntry(codeSelector: UInt16, codeBase: UInt64, ip: UInt64) -> EntryState {
        let code = SegmentState(selector: codeSelector, base: codeBase, limit: 0xFFFF, accessRights: 0x9B)
        let data = SegmentState(selector: 0, base: 0, limit: 0xFFFF, accessRights: 0x93)
        return EntryState(mode: .real, rip: ip, cr0: 0x6000_0010,
                          cs: code, ds: data, es: data, ss: data, fs: data, gs: data,
                          gdtr: DescriptorTableState(base: 0, limit: 0xFFFF),
                          idtr: DescriptorTableState(base: 0, limit: 0xFFFF))
    }

    /// The system structures and entry state for `mode` at `rip`.
    static func entry(mode: ExecutionMode, rip: UInt64) throws(LoaderError) -> (segments: [LoadSegment], entry: EntryState) {
        switch mode {
        case .real:
            guard rip < 0x10_0000 else { throw .invalidFlatImage("real-mode entry \(rip) is above 1 MiB") }
            return ([], realEntry(codeSelector: UInt16(rip >> 4), codeBase: rip & ~0xF, ip: rip & 0xF))
        case .protected32:
            guard rip <= UInt64(UInt32.max) else { throw .addressAbove4GiB(what: "32-bit entry", address: rip) }
            return ([gdt(longMode: false)], protected32Entry(rip: rip))
        case .long64:
            return ([gdt(longMode: true), identityPageTables()], long64Entry(rip: rip))
        }
    }

    /// Sorts the segments and checks that RAM segments lie in usable RAM and that no two overlap.
    static func validate(_ segments: [LoadSegment], memory: MemoryMap) throws(LoaderError) -> [LoadSegment] {
        let sorted = segments.sorted { $0.guestPhysical < $1.guestPhysical }
        for s in sorted where s.kind == .ram && s.size > 0 {
            guard memory.isUsableRAM(start: s.guestPhysical, size: s.size) else {
                throw .segmentOutsideRAM(name: s.name, start: s.guestPhysical, size: s.size)
            }
        }
        try checkOverlaps(sorted.map { ($0.name, $0.guestPhysical, $0.size) })
        return sorted
    }

    /// Throws `.overlappingSegments` for the first overlapping pair of `(name, start, size)` ranges.
    static func checkOverlaps(_ ranges: [(String, UInt64, UInt64)]) throws(LoaderError) {
        let sorted = ranges.filter { $0.2 > 0 }.sorted { $0.1 < $1.1 }
        guard sorted.count > 1 else { return }
        for i in 1..<sorted.count {
            let a = sorted[i - 1], b = sorted[i]
            let (aEnd, o) = a.1.addingReportingOverflow(a.2)
            if o || aEnd > b.1 {
                throw .overlappingSegments(first: a.0, firstStart: a.1, second: b.0, secondStart: b.1)
            }
        }
    }
}
