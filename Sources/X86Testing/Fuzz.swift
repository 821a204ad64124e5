// The robustness fuzzer: random instruction streams in every operating mode. A case passes when
// the run ends in an architectural outcome (exception, HLT, shutdown, step limit) and the state
// afterwards satisfies the processor's invariants. A Swift trap kills the process; the driver
// (`swiftvmx-dev fuzz`) runs cases in worker processes to count those.
import X86

/// The operating environment a fuzz case starts in.
public enum FuzzEnvironment: String, CaseIterable, Sendable {
    /// Real-address mode.
    case real
    /// Virtual-8086 mode (protected mode, RFLAGS.VM = 1), with or without paging.
    case virtual8086
    /// 16-bit protected mode without paging.
    case protected16
    /// 32-bit protected mode without paging.
    case protected32
    /// 16-bit protected mode with 32-bit or PAE paging.
    case protected16Paging
    /// 32-bit protected mode with 32-bit or PAE paging.
    case protected32Paging
    /// IA-32e compatibility mode (16- or 32-bit code segment).
    case compatibility
    /// IA-32e 64-bit mode.
    case long64
}

/// The outcome of one fuzz case.
public struct FuzzResult: Sendable {
    /// The case's index.
    public var index: UInt64
    /// The environment it started in.
    public var environment: FuzzEnvironment
    /// The privilege level it started at.
    public var cpl: Int
    /// Why the run stopped.
    public var stop: StopReason
    /// Instructions retired.
    public var instructions: UInt64
    /// The first invariant the final state violates, or nil.
    public var violation: String?
    /// The first bytes of the instruction stream, in hex (for reports).
    public var codePrefix: String

    /// Whether the case passed.
    public var passed: Bool { violation == nil }
}

/// Generates and runs fuzz cases. Each case is a pure function of (seed, index).
public enum Fuzzer {
    /// Guest-physical memory layout of a case.
    enum Layout {
        static let ram: UInt64 = 2 << 20
        static let gdt: UInt64 = 0x1000
        static let idt: UInt64 = 0x2000
        static let tss: UInt64 = 0x3000
        static let tss2: UInt64 = 0x3800
        static let paging: UInt64 = 0x4000      // 0x4000–0x7FFF
        static let stubs: UInt64 = 0x8000       // 16 bytes per vector
        static let gateTarget: UInt64 = 0x8F00
        static let ldt: UInt64 = 0x9000
        static let code: UInt64 = 0x10000
        static let data: UInt64 = 0x20000       // 0x20000–0x3FFFF random data
        static let stack3: UInt64 = 0x6F000
        static let stack0: UInt64 = 0x7F000
        static let ist1: UInt64 = 0x7E000
    }

    /// GDT selectors of the case environment.
    enum Sel {
        static let code64: UInt16 = 0x08, data0: UInt16 = 0x10, code32: UInt16 = 0x18
        static let code16: UInt16 = 0x20, data16: UInt16 = 0x28
        static let code64u: UInt16 = 0x33, data3: UInt16 = 0x3B, code32u: UInt16 = 0x43
        static let code16u: UInt16 = 0x4B, data16u: UInt16 = 0x53
        static let tss: UInt16 = 0x58, ldt: UInt16 = 0x68, callGate: UInt16 = 0x70
        static let conforming: UInt16 = 0x80, tss2: UInt16 = 0x88
    }

    /// A legacy segment descriptor.
    static func descriptor(base: UInt32, limit: UInt32, access: UInt8, flags: UInt8) -> UInt64 {
        let b = UInt64(base), l = UInt64(limit)
        return (l & 0xFFFF) | ((b & 0xFF_FFFF) << 16) | (UInt64(access) << 40) | (((l >> 16) & 0xF) << 48)
            | (UInt64(flags & 0xF) << 52) | ((b >> 24) << 56)
    }

    /// The descriptor-cache form of a descriptor (VMCS access-rights layout).
    static func cache(_ selector: UInt16, _ d: UInt64) -> SegmentRegister {
        let base = ((d >> 16) & 0xFF_FFFF) | ((d >> 56) << 24)
        var limit = UInt32((d & 0xFFFF) | ((d >> 32) & 0xF_0000))
        let ar = UInt32((d >> 40) & 0xFF) | UInt32((d >> 52) & 0xF) << 12
        if ar & 0x8000 != 0 { limit = (limit << 12) | 0xFFF }
        return SegmentRegister(selector: selector, base: base, limit: limit, accessRights: ar)
    }

    /// The GDT, indexed by selector >> 3.
    static let gdt: [UInt64] = {
        var g = [UInt64](repeating: 0, count: 19)
        g[1] = descriptor(base: 0, limit: 0xFFFFF, access: 0x9B, flags: 0xA)
        g[2] = descriptor(base: 0, limit: 0xFFFFF, access: 0x93, flags: 0xC)
        g[3] = descriptor(base: 0, limit: 0xFFFFF, access: 0x9B, flags: 0xC)
        g[4] = descriptor(base: 0x10000, limit: 0xFFFF, access: 0x9B, flags: 0)
        g[5] = descriptor(base: 0, limit: 0xFFFF, access: 0x93, flags: 0)
        g[6] = descriptor(base: 0, limit: 0xFFFFF, access: 0xFB, flags: 0xA)
        g[7] = descriptor(base: 0, limit: 0xFFFFF, access: 0xF3, flags: 0xC)
        g[8] = descriptor(base: 0, limit: 0xFFFFF, access: 0xFB, flags: 0xC)
        g[9] = descriptor(base: 0x10000, limit: 0xFFFF, access: 0xFB, flags: 0)
        g[10] = descriptor(base: 0, limit: 0xFFFF, access: 0xF3, flags: 0)
        g[11] = descriptor(base: UInt32(Layout.tss), limit: 0xFFF, access: 0x8B, flags: 0)   // busy TSS
        g[12] = 0                                                                            // its upper half
        g[13] = descriptor(base: UInt32(Layout.ldt), limit: 0xFF, access: 0x82, flags: 0)    // LDT
        // 32-bit call gate, DPL 3, to code32:gateTarget (upper half zero for the 64-bit form).
        g[14] = (Layout.gateTarget & 0xFFFF) | (UInt64(Sel.code32) << 16) | (UInt64(0xEC) << 40) | ((Layout.gateTarget >> 16) << 48)
        g[15] = 0
        g[16] = descriptor(base: 0, limit: 0xFFFFF, access: 0x9F, flags: 0xC)                // conforming code32 DPL 0
        g[17] = descriptor(base: UInt32(Layout.tss2), limit: 0x67, access: 0x89, flags: 0)   // available TSS
        g[18] = descriptor(base: 0, limit: 0xFFFFF, access: 0xFF, flags: 0xC)                // conforming code32 DPL 3
        return g
    }()

    /// Encodings to mutate: common, privileged and mode-switching instructions.
    static let templates: [[UInt8]] = [
        [0x48, 0x89, 0xD8], [0x8B, 0x04, 0x24], [0x89, 0x44, 0x8B, 0x10], [0x01, 0xC8], [0x31, 0xC0],
        [0xF7, 0xF1], [0xF7, 0xF9], [0x0F, 0xAF, 0xC1], [0xD3, 0xE0], [0xC1, 0xF8, 0x05], [0x0F, 0xA5, 0xD0],
        [0x0F, 0xBC, 0xC1], [0x0F, 0xC7, 0x0E], [0x0F, 0xB1, 0x0B], [0xF0, 0x0F, 0xC1, 0x03], [0x86, 0x03],
        [0xCD, 0x80], [0xCD, 0x03], [0xCC], [0xCE], [0xF1], [0x62, 0x03], [0xCF], [0x48, 0xCF], [0x9D], [0x9C],
        [0xFA], [0xFB], [0xF4], [0x0F, 0x0B], [0xD4, 0x00], [0xD5, 0x0A], [0x27], [0x3F],
        [0x0F, 0x22, 0xC0], [0x0F, 0x20, 0xC0], [0x0F, 0x22, 0xD8], [0x0F, 0x22, 0xE0], [0x0F, 0x23, 0xF8], [0x0F, 0x21, 0xF8],
        [0x8E, 0xD8], [0x8E, 0xD0], [0x8E, 0xE0], [0x8C, 0xC8], [0x0F, 0xA1], [0x1F], [0x07], [0x17],
        [0xEA, 0x00, 0x00, 0x01, 0x00, 0x18, 0x00], [0xEA, 0x00, 0x00, 0x08, 0x00], [0x9A, 0x00, 0x00, 0x00, 0x00, 0x70, 0x00],
        [0xFF, 0x2B], [0xFF, 0x1B], [0xCA, 0x04, 0x00], [0xCB], [0x48, 0xCB], [0xC2, 0x08, 0x00], [0xC3], [0xE8, 0, 0, 0, 0],
        [0x0F, 0x00, 0xD8], [0x0F, 0x00, 0xD0], [0x0F, 0x00, 0xC0], [0x0F, 0x00, 0xE0], [0x0F, 0x00, 0xE8],
        [0x0F, 0x01, 0x10], [0x0F, 0x01, 0x18], [0x0F, 0x01, 0x00], [0x0F, 0x01, 0x08], [0x0F, 0x01, 0xF8], [0x0F, 0x01, 0x38],
        [0x0F, 0x01, 0xE0], [0x0F, 0x01, 0xF0], [0x0F, 0x01, 0xD0], [0x0F, 0x01, 0xD1], [0x0F, 0x01, 0xC8], [0x0F, 0x01, 0xC9],
        [0x0F, 0x02, 0xC3], [0x0F, 0x03, 0xC3], [0x0F, 0x06], [0x0F, 0x08], [0x0F, 0x09],
        [0x0F, 0x05], [0x0F, 0x07], [0x48, 0x0F, 0x07], [0x0F, 0x34], [0x0F, 0x35], [0x48, 0x0F, 0x35],
        [0x0F, 0xA2], [0x0F, 0x31], [0x0F, 0x32], [0x0F, 0x30], [0x0F, 0x33], [0x0F, 0x01, 0xF9],
        [0xE4, 0x60], [0xE6, 0x80], [0xEC], [0xED], [0xEE], [0xEF], [0x6C], [0x6D], [0x6E], [0x6F], [0xF3, 0x6C],
        [0xF3, 0xA4], [0xF3, 0x48, 0xAB], [0xF3, 0xA6], [0xF2, 0xAE], [0xAC], [0x66, 0xA5],
        [0xC8, 0x10, 0x00, 0x03], [0xC9], [0x60], [0x61], [0x0F, 0xC8], [0xD7], [0xE2, 0xFE], [0xE3, 0x02],
        [0x0F, 0x78, 0xC1], [0x0F, 0x79, 0xC1], [0x0F, 0xC7, 0x36], [0x66, 0x0F, 0xC7, 0x36], [0x0F, 0x01, 0xC4],
        [0x0F, 0x01, 0xC2], [0x0F, 0x01, 0xC3], [0x66, 0x0F, 0x38, 0x80, 0x03],
        [0xD9, 0xEE], [0xDD, 0x03], [0xDF, 0xE0], [0x9B], [0x0F, 0xAE, 0x03], [0x0F, 0xAE, 0x0B], [0x0F, 0xAE, 0xF0],
        [0x66, 0x0F, 0xEF, 0xC0], [0x0F, 0x28, 0x03], [0xF3, 0x0F, 0x10, 0x03], [0x66, 0x0F, 0x3A, 0x0F, 0xC1, 0x04],
        [0x0F, 0x38, 0xF0, 0x03], [0xF3, 0x0F, 0xB8, 0xC1], [0x0F, 0x0D, 0x0B], [0x0F, 0x18, 0x03], [0x0F, 0x1F, 0x00],
    ]

    /// Instruction-stream bytes, biased towards interesting encodings.
    static func codeBytes(_ r: inout OracleRandom, count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 16)
        let prefixes: [UInt8] = [0x66, 0x67, 0xF2, 0xF3, 0xF0, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65]
        func modrmTail(_ r: inout OracleRandom) {
            let modrm = UInt8(truncatingIfNeeded: r.next())
            out.append(modrm)
            if modrm & 7 == 4 && modrm >> 6 != 3 { out.append(UInt8(truncatingIfNeeded: r.next())) }
            for _ in 0..<r.below(5) { out.append(UInt8(truncatingIfNeeded: r.next())) }
        }
        while out.count < count {
            switch r.below(10) {
            case 0, 1:
                for _ in 0..<r.within(1...6) { out.append(UInt8(truncatingIfNeeded: r.next())) }
            case 2:
                out.append(r.pick(prefixes))
                if r.coin() { out.append(UInt8(0x40 | r.below(16))) }
            case 3:
                out.append(UInt8(truncatingIfNeeded: r.next()))
                modrmTail(&r)
            case 4:
                out.append(0x0F)
                switch r.below(4) {
                case 0: out.append(0x38)
                case 1: out.append(0x3A)
                default: break
                }
                out.append(UInt8(truncatingIfNeeded: r.next()))
                modrmTail(&r)
            case 5, 6, 7:
                var t = r.pick(templates)
                if r.oneIn(3) {
                    let i = r.below(t.count)
                    if r.coin() { t[i] ^= UInt8(1 << r.below(8)) } else { t[i] = UInt8(truncatingIfNeeded: r.next()) }
                }
                if r.oneIn(4) { out.append(r.pick(prefixes)) }
                out.append(contentsOf: t)
            default:
                // A plain opcode from the one-byte map with a ModRM byte naming registers or simple memory.
                out.append(UInt8(truncatingIfNeeded: r.next()) & 0x3F | (r.coin() ? 0x80 : 0))
                out.append(UInt8(truncatingIfNeeded: r.next()) | (r.coin() ? 0xC0 : 0))
            }
        }
        return out
    }

    /// A random register value, biased towards small numbers and pointers into the data area.
    static func registerValue(_ r: inout OracleRandom) -> UInt64 {
        switch r.below(8) {
        case 0: return r.next()
        case 1: return UInt64(r.below(0x10000))
        case 2, 3: return Layout.data &+ UInt64(r.below(0x20000))
        case 4: return 0
        case 5: return ~0
        case 6: return UInt64(r.below(16))
        default: return UInt64(truncatingIfNeeded: r.next() & 0xFFFF_FFFF)
        }
    }

    /// Writes a little-endian value into a byte image.
    static func put(_ image: inout [UInt8], _ offset: Int, _ value: UInt64, _ size: Int) {
        for i in 0..<size { image[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    /// Guest RAM and a processor, allocated once and reused by the cases run in one process
    /// (each case clears RAM and resets the processor, so a case's outcome depends only on its index).
    public final class Machine {
        let memory: PhysicalMemory
        let host: UnsafeMutableRawPointer
        let cpu: CPU

        /// Allocates the RAM and the processor.
        public init() {
            memory = PhysicalMemory(trackedLimit: 8 << 20)
            host = UnsafeMutableRawPointer.allocate(byteCount: Int(Layout.ram), alignment: 4096)
            host.initializeMemory(as: UInt8.self, repeating: 0, count: Int(Layout.ram))
            // Mapping a fresh aligned buffer at 0 in empty memory cannot overlap or be misaligned.
            try? memory.map(host: host, at: 0, size: Layout.ram, permissions: .all)
            cpu = CPU(memory: memory)
        }

        deinit { host.deallocate() }
    }

    /// Runs case `index` of the stream `seed` and checks the final state.
    public static func run(seed: UInt64, index: UInt64, machine: Machine) -> FuzzResult {
        var r = OracleRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ index &* 0xD6E8_FEB8_6659_FD93 ^ 0x5DEE_CE66D)
        let env = r.pick(FuzzEnvironment.allCases)
        var cpl = r.coin() ? 3 : 0
        if env == .real { cpl = 0 }
        if env == .virtual8086 { cpl = 3 }

        // Low memory image: tables, stubs, code, data (0–0x40000); the rest stays zero.
        var image = [UInt8](repeating: 0, count: 0x40000)
        let long = env == .compatibility || env == .long64
        let legacyPaging = env == .protected16Paging || env == .protected32Paging || (env == .virtual8086 && r.coin())
        let pae = long || (legacyPaging && env != .virtual8086 && r.coin())
        let pse = r.coin()
        let nxe = r.coin()

        // GDT.
        for (i, d) in gdt.enumerated() { put(&image, Int(Layout.gdt) + i * 8, d, 8) }
        // LDT: a copy of some data and code descriptors.
        for i in 0..<8 { put(&image, Int(Layout.ldt) + i * 8, gdt[r.pick([2, 5, 7, 10, 3, 8])], 8) }

        // Handler stubs: HLT, or return (skipping an error code), or random bytes.
        let stubKind = r.below(8)
        let errorVectors: Set<Int> = [8, 10, 11, 12, 13, 14, 17, 21]
        for v in 0..<256 {
            let o = Int(Layout.stubs) + v * 16
            var stub: [UInt8]
            switch stubKind {
            case 0...3: stub = [0xF4]
            case 4, 5, 6:
                if env == .real { stub = [0xCF] } else if env == .long64 || env == .compatibility {
                    stub = errorVectors.contains(v) ? [0x48, 0x83, 0xC4, 0x08, 0x48, 0xCF] : [0x48, 0xCF]
                } else {
                    stub = errorVectors.contains(v) ? [0x83, 0xC4, 0x04, 0xCF] : [0xCF]
                }
            default: stub = (0..<16).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            }
            for (i, b) in stub.enumerated() { image[o + i] = b }
        }
        image[Int(Layout.gateTarget)] = r.coin() ? 0xCB : 0xF4

        // IDT (or IVT in real mode).
        let idtLimit: UInt16
        if env == .real {
            for v in 0..<256 { put(&image, v * 4, UInt64(v * 16) | (UInt64(Layout.stubs >> 4) << 16), 4) }
            idtLimit = r.oneIn(10) ? UInt16(r.below(0x400)) : 0x3FF
        } else if long {
            for v in 0..<256 {
                let off = Layout.stubs + UInt64(v * 16)
                let type: UInt64 = r.oneIn(4) ? 0xF : 0xE
                let dpl: UInt64 = r.oneIn(4) ? 0 : 3
                let present: UInt64 = r.oneIn(40) ? 0 : 0x80
                let ist: UInt64 = r.oneIn(4) ? 1 : 0
                let low = (off & 0xFFFF) | (UInt64(Sel.code64) << 16) | (ist << 32) | ((present | dpl << 5 | type) << 40) | ((off >> 16) << 48)
                put(&image, Int(Layout.idt) + v * 16, low, 8)
                put(&image, Int(Layout.idt) + v * 16 + 8, off >> 32, 8)
            }
            idtLimit = r.oneIn(10) ? UInt16(r.below(0x1000)) : 0xFFF
        } else {
            for v in 0..<256 {
                let off = Layout.stubs + UInt64(v * 16)
                var type: UInt64 = r.oneIn(4) ? 0xF : 0xE
                var sel = UInt64(Sel.code32)
                if r.oneIn(16) { type = r.coin() ? 0x6 : 0x7 }
                if r.oneIn(32) { type = 0x5; sel = UInt64(Sel.tss2) }
                let dpl: UInt64 = r.oneIn(4) ? 0 : 3
                let present: UInt64 = r.oneIn(40) ? 0 : 0x80
                let low = (off & 0xFFFF) | (sel << 16) | ((present | dpl << 5 | type) << 40) | ((off >> 16) << 48)
                put(&image, Int(Layout.idt) + v * 8, low, 8)
            }
            idtLimit = r.oneIn(10) ? UInt16(r.below(0x800)) : 0x7FF
        }

        // TSS: stacks, IST1, I/O bitmap.
        let t = Int(Layout.tss)
        if long {
            put(&image, t + 4, Layout.stack0, 8)
            put(&image, t + 12, Layout.stack0 - 0x800, 8)
            put(&image, t + 20, Layout.stack0 - 0x1000, 8)
            put(&image, t + 0x24, Layout.ist1, 8)
        } else {
            put(&image, t + 4, Layout.stack0, 4)
            put(&image, t + 8, UInt64(Sel.data0), 2)
            put(&image, t + 12, Layout.stack0 - 0x800, 4)
            put(&image, t + 16, UInt64(Sel.data0), 2)
        }
        put(&image, t + 0x66, 0x68, 2)
        for i in 0x68..<0x100 { image[t + i] = r.oneIn(3) ? 0 : UInt8(truncatingIfNeeded: r.next()) }
        for i in 0x100..<0x1000 { image[t + i] = r.coin() ? 0xFF : 0 }
        // Second TSS (32-bit), a task-switch target: HLT at the stubs, flat segments.
        let t2 = Int(Layout.tss2)
        put(&image, t2 + 0x20, Layout.stubs, 4)                 // EIP
        put(&image, t2 + 0x24, 2, 4)                            // EFLAGS
        put(&image, t2 + 0x38, Layout.stack0 - 0x2000, 4)       // ESP
        for (off, sel) in [(0x48, Sel.data0), (0x4C, Sel.code32), (0x50, Sel.data0), (0x54, Sel.data0), (0x58, Sel.data0), (0x5C, Sel.data0)] {
            put(&image, t2 + off, UInt64(sel), 2)
        }

        // Paging structures (identity map of 0–4 MiB).
        var cr3: UInt64 = 0
        let p = Int(Layout.paging)
        let xd: UInt64 = nxe ? 1 << 63 : 0
        func leafFlags(_ page: UInt64, _ r: inout OracleRandom) -> UInt64 {
            var f: UInt64 = 0x7
            if page >= Layout.data && page < Layout.data + 0x20000 && r.oneIn(16) {
                f &= ~UInt64(1 << r.below(3))
            }
            return f
        }
        if long || pae {
            if long {
                put(&image, p, 0x5000 | 7, 8)                   // PML4[0]
                put(&image, 0x5000, 0x6000 | 7, 8)              // PDPT[0]
                cr3 = 0x4000
            } else {
                put(&image, p, 0x6000 | 1, 8)                   // PDPTE[0] (PDPT at 0x4000)
                cr3 = 0x4000
            }
            put(&image, 0x6000, 0x7000 | 7, 8)                  // PD[0] -> PT
            put(&image, 0x6008, 0x200000 | 0x87 | (r.oneIn(4) ? xd : 0), 8)  // PD[1]: 2 MiB page
            for i in 0..<512 {
                let page = UInt64(i) << 12
                let nx: UInt64 = (page >= Layout.data && r.oneIn(32)) ? xd : 0
                put(&image, 0x7000 + i * 8, page | leafFlags(page, &r) | nx, 8)
            }
        } else if legacyPaging {
            put(&image, p, 0x5000 | 7, 4)                       // PDE[0] -> PT at 0x5000
            put(&image, p + 4, 0x400000 | (pse ? 0x87 : 0), 4)   // PDE[1]: 4 MiB page with PSE
            for i in 0..<1024 {
                let page = UInt64(i) << 12
                put(&image, 0x5000 + i * 4, page | leafFlags(page, &r), 4)
            }
            cr3 = 0x4000
        }

        // Code and data.
        let code = codeBytes(&r, count: r.pick([16, 64, 256, 1024]))
        for (i, b) in code.enumerated() where Int(Layout.code) + i < Int(Layout.data) { image[Int(Layout.code) + i] = b }
        for i in stride(from: Int(Layout.data), to: Int(Layout.data) + 0x2000, by: 8) { put(&image, i, r.next(), 8) }

        let memory = machine.memory, host = machine.host
        // Clear RAM, load the image, and drop decoded code of the previous case (its pages' generations move on).
        host.initializeMemory(as: UInt8.self, repeating: 0, count: Int(Layout.ram))
        image.withUnsafeBytes { if let b = $0.baseAddress { host.copyMemory(from: b, byteCount: $0.count) } }
        memory.invalidateCode(from: 0, size: Layout.ram)
        let cpu = machine.cpu
        cpu.reset()
        cpu.tscOffset = 0 &- cpu.instructionCount   // the TSC starts at 0 in every case

        // Control registers.
        var cr0: UInt64 = CR0.et.rawValue
        if env != .real { cr0 |= CR0.pe.rawValue }
        if long || legacyPaging { cr0 |= CR0.pg.rawValue }
        for bit in [CR0.mp, CR0.em, CR0.ts, CR0.ne, CR0.wp, CR0.am] where r.oneIn(3) { cr0 |= bit.rawValue }
        var cr4: UInt64 = 0
        for bit in [CR4.vme, CR4.pvi, CR4.tsd, CR4.de, CR4.pge, CR4.osfxsr, CR4.osxmmexcpt, CR4.umip, CR4.fsgsbase] where r.oneIn(3) {
            cr4 |= bit.rawValue
        }
        if pse { cr4 |= CR4.pse.rawValue }
        if pae { cr4 |= CR4.pae.rawValue }
        if r.oneIn(16) { cr4 |= CR4.smep.rawValue }
        if r.oneIn(16) { cr4 |= CR4.osxsave.rawValue }
        if r.oneIn(32) { cr4 |= CR4.vmxe.rawValue }
        var efer: UInt64 = 0
        if long { efer |= EFER.lme.rawValue | EFER.lma.rawValue }
        if nxe { efer |= EFER.nxe.rawValue }
        if r.coin() { efer |= EFER.sce.rawValue }
        cpu.cr3 = cr3
        cpu.cr4 = cr4
        cpu.efer = efer
        cpu.cr0 = cr0
        cpu.gdtr = DescriptorTableRegister(base: Layout.gdt, limit: UInt16(gdt.count * 8 - 1))
        cpu.idtr = DescriptorTableRegister(base: env == .real ? 0 : Layout.idt, limit: idtLimit)
        if env != .real {
            cpu.setSegment(.tr, cache(Sel.tss, gdt[Int(Sel.tss >> 3)]))
            if r.coin() { cpu.setSegment(.ldtr, cache(Sel.ldt, gdt[Int(Sel.ldt >> 3)])) }
        }

        // Registers and flags.
        for i in 0..<16 { cpu.setGPR(index: i, registerValue(&r)) }
        var flags: UInt64 = 2 | (r.next() & 0x8D5)   // status flags, DF
        if r.oneIn(8) { flags |= RFLAGS.tf.rawValue }
        if r.oneIn(8) { flags |= RFLAGS.ac.rawValue }
        if r.oneIn(16) { flags |= RFLAGS.nt.rawValue }
        if r.oneIn(8) { flags |= RFLAGS.rf.rawValue }
        if r.coin() { flags |= RFLAGS.if.rawValue }
        if r.coin() { flags |= RFLAGS.id.rawValue }
        flags |= UInt64(r.below(4)) << 12
        if env == .virtual8086 { flags |= RFLAGS.vm.rawValue }

        // Segments and the entry point.
        let ring3 = cpl == 3
        func flat(_ sel: UInt16) -> SegmentRegister { cache(sel, gdt[Int(sel >> 3)]) }
        let stack = ring3 ? Layout.stack3 : Layout.stack0
        let sp = r.oneIn(16) ? registerValue(&r) : stack &- UInt64(r.below(64) * 8)
        switch env {
        case .real, .virtual8086:
            let ar: UInt32 = env == .real ? 0x93 : 0xF3
            cpu.setSegment(.cs, SegmentRegister(selector: UInt16(Layout.code >> 4), base: Layout.code, limit: 0xFFFF, accessRights: env == .real ? 0x9B : 0xF3))
            let dataSel = UInt16(Layout.data >> 4)
            for s in [SegmentRegisterName.ds, .es] { cpu.setSegment(s, SegmentRegister(selector: dataSel, base: Layout.data, limit: 0xFFFF, accessRights: ar)) }
            for s in [SegmentRegisterName.fs, .gs] { cpu.setSegment(s, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: ar)) }
            cpu.setSegment(.ss, SegmentRegister(selector: 0x7000, base: 0x70000, limit: 0xFFFF, accessRights: ar))
            cpu.rip = 0
            cpu.setGPR(.rsp, r.oneIn(8) ? registerValue(&r) : 0xF000 &- UInt64(r.below(64) * 2))
        case .protected16, .protected16Paging:
            cpu.setSegment(.cs, flat(ring3 ? Sel.code16u : Sel.code16))
            let d = flat(ring3 ? Sel.data16u : Sel.data16)
            for s in [SegmentRegisterName.ds, .es, .fs, .gs, .ss] { cpu.setSegment(s, d) }
            cpu.rip = 0
            cpu.setGPR(.rsp, r.oneIn(8) ? registerValue(&r) : 0xF000 &- UInt64(r.below(64) * 2))
        case .protected32, .protected32Paging, .compatibility, .long64:
            let cs: UInt16
            if env == .long64 { cs = ring3 ? Sel.code64u : Sel.code64 } else if env == .compatibility && r.oneIn(4) {
                cs = ring3 ? Sel.code16u : Sel.code16
            } else { cs = ring3 ? Sel.code32u : Sel.code32 }
            cpu.setSegment(.cs, flat(cs))
            let d = flat(ring3 ? Sel.data3 : Sel.data0)
            for s in [SegmentRegisterName.ds, .es, .fs, .gs, .ss] { cpu.setSegment(s, d) }
            if env == .long64 && r.oneIn(4) {
                for s in [SegmentRegisterName.ds, .es] { cpu.setSegment(s, .null) }
                if !ring3 && r.oneIn(2) { cpu.setSegment(.ss, SegmentRegister(selector: 0, base: 0, limit: 0, accessRights: 0x10000)) }
            }
            cpu.rip = cs == Sel.code16 || cs == Sel.code16u ? 0 : Layout.code
            cpu.setGPR(.rsp, sp)
        }
        cpu.rflags = flags
        cpu.exceptionIntercept = r.oneIn(4) ? UInt32(truncatingIfNeeded: r.next()) : 0
        let limit = r.pick([64, 256, 1024, 1024, 4096])

        let before = cpu.instructionCount
        let stop = cpu.run(instructionLimit: limit)
        let retired = cpu.instructionCount &- before
        let prefix = code.prefix(12).map { String($0, radix: 16) }.joined(separator: " ")
        return FuzzResult(index: index, environment: env, cpl: cpl, stop: stop, instructions: retired,
                          violation: checkInvariants(cpu, stop: stop, limit: limit, retired: retired), codePrefix: prefix)
    }

    /// The first invariant the state after a run violates, or nil.
    static func checkInvariants(_ cpu: CPU, stop: StopReason, limit: Int, retired: UInt64) -> String? {
        if stop == .stopRequested { return "run stopped with .stopRequested though nobody asked" }
        if retired > UInt64(limit) { return "retired \(retired) instructions with a limit of \(limit)" }
        let cr0 = cpu.cr0, cr4 = cpu.cr4, efer = cpu.efer, flags = cpu.rflags
        let cs = cpu.segment(.cs), ss = cpu.segment(.ss)
        let pe = cr0 & CR0.pe.rawValue != 0, pg = cr0 & CR0.pg.rawValue != 0
        let lma = efer & EFER.lma.rawValue != 0, lme = efer & EFER.lme.rawValue != 0
        if pg && !pe { return "CR0.PG set with CR0.PE clear (CR0 \(hex(cr0)))" }
        if lma != (lme && pg) { return "EFER.LMA \(lma) but LME \(lme) and PG \(pg)" }
        if lma && cr4 & CR4.pae.rawValue == 0 { return "IA-32e mode active with CR4.PAE clear" }
        if flags & 2 == 0 || flags & 0xFFFF_FFFF_FFC0_8028 != 0 { return "RFLAGS reserved bits wrong: \(hex(flags))" }
        let vm = flags & RFLAGS.vm.rawValue != 0
        if vm && (lma || !pe) { return "RFLAGS.VM set outside legacy protected mode" }
        let expected: ProcessorMode = !pe ? .real : lma ? (cs.l ? .long64 : .compatibility) : vm ? .virtual8086 : .protected
        if cpu.mode != expected { return "mode \(cpu.mode) but the registers say \(expected)" }
        switch cpu.mode {
        case .real:
            if cpu.cpl != 0 { return "CPL \(cpu.cpl) in real mode" }
        case .virtual8086:
            if cpu.cpl != 3 { return "CPL \(cpu.cpl) in virtual-8086 mode" }
        case .protected, .compatibility, .long64:
            // Not CPL == CS.RPL: after MOV CR0 sets PE, CS keeps its real-mode selector until a far jump.
            if !cs.isCode { return "CS is not a code segment (AR \(hex(UInt64(cs.accessRights))))" }
            if cs.type & 4 == 0 && cs.dpl != cpu.cpl { return "CPL \(cpu.cpl) but non-conforming CS.DPL \(cs.dpl)" }
            if cs.type & 4 != 0 && cs.dpl > cpu.cpl { return "CPL \(cpu.cpl) but conforming CS.DPL \(cs.dpl)" }
            if !ss.unusable && ss.dpl != cpu.cpl { return "CPL \(cpu.cpl) but SS.DPL \(ss.dpl)" }
        }
        if cpu.mode == .long64 {
            let top = Int64(bitPattern: cpu.rip) >> 47
            if top != 0 && top != -1 { return "RIP \(hex(cpu.rip)) not canonical in 64-bit mode" }
        } else if cpu.rip >> 32 != 0 {
            return "RIP \(hex(cpu.rip)) above 4 GiB outside 64-bit mode"
        }
        switch stop {
        case .halted: if !cpu.halted { return "stopped as halted but not in the HLT state" }
        case .shutdown: if !cpu.inShutdown { return "stopped as shutdown but not in the shutdown state" }
        default: break
        }
        return nil
    }

    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
}
