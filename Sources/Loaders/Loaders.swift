// Loaders: Linux boot protocol, multiboot v1, ELF, flat binaries, firmware ROMs.
//
// Every loader is a pure function from bytes to a `LoadPlan`: what to copy
// where in guest-physical memory and the processor state to start in. The VMM
// applies the plan through the Hypervisor API; nothing here touches a CPU.

/// One piece of guest-physical memory a loader wants filled.
public struct LoadSegment: Equatable, Sendable, Codable {
    /// Where the memory backing the segment comes from.
    public enum Kind: String, Equatable, Sendable, Codable {
        /// Copy into guest RAM (must lie in usable RAM of the memory map).
        case ram
        /// Map as read-only ROM (firmware); may lie outside RAM.
        case rom
    }

    /// First guest-physical address of the segment.
    public var guestPhysical: UInt64
    /// Bytes to copy at `guestPhysical`.
    public var bytes: [UInt8]
    /// Number of zero bytes that follow `bytes` (an ELF `.bss`, a multiboot `bss_end_addr`).
    public var zeroFill: UInt64
    /// RAM or ROM.
    public var kind: Kind
    /// What the segment holds, for logs and diagnostics ("kernel", "boot_params", "GDT"...).
    public var name: String

    /// Creates a segment.
    public init(guestPhysical: UInt64, bytes: [UInt8], zeroFill: UInt64 = 0, kind: Kind = .ram, name: String) {
        self.guestPhysical = guestPhysical
        self.bytes = bytes
        self.zeroFill = zeroFill
        self.kind = kind
        self.name = name
    }

    /// Total guest-physical bytes covered: `bytes.count + zeroFill` (never overflows for a validated plan).
    public var size: UInt64 { UInt64(bytes.count) &+ zeroFill }
}

/// The processor mode a boot protocol starts the guest in.
public enum ExecutionMode: String, Equatable, Sendable, Codable {
    /// Real mode (firmware reset vector, flat real-mode binaries).
    case real
    /// 32-bit protected mode, paging off, flat 4 GiB segments (multiboot, ELF32).
    case protected32
    /// 64-bit long mode with identity paging (Linux 64-bit boot protocol, ELF64).
    case long64
}

/// A segment register as the VMCS guest-state area holds it (SDM Vol. 3C 24.4.1).
public struct SegmentState: Equatable, Sendable, Codable {
    /// Visible selector.
    public var selector: UInt16
    /// Hidden base.
    public var base: UInt64
    /// Hidden limit, in bytes (already scaled by granularity).
    public var limit: UInt32
    /// Access rights in VMX format: type[3:0], S[4], DPL[6:5], P[7], AVL[12], L[13], D/B[14], G[15], unusable[16].
    public var accessRights: UInt32

    /// Creates a segment state.
    public init(selector: UInt16, base: UInt64, limit: UInt32, accessRights: UInt32) {
        self.selector = selector
        self.base = base
        self.limit = limit
        self.accessRights = accessRights
    }
}

/// A descriptor-table register (GDTR/IDTR).
public struct DescriptorTableState: Equatable, Sendable, Codable {
    /// Linear base address.
    public var base: UInt64
    /// Limit in bytes (size - 1).
    public var limit: UInt16

    /// Creates a descriptor-table state.
    public init(base: UInt64, limit: UInt16) {
        self.base = base
        self.limit = limit
    }
}

/// The processor state a boot protocol specifies at the first guest instruction.
public struct EntryState: Equatable, Sendable, Codable {
    /// Real, 32-bit protected or 64-bit long mode.
    public var mode: ExecutionMode
    /// Instruction pointer (offset in CS for real mode).
    public var rip: UInt64
    /// RAX (multiboot: magic 0x2BADB002).
    public var rax: UInt64 = 0
    /// RBX (multiboot: information structure address).
    public var rbx: UInt64 = 0
    /// RCX.
    public var rcx: UInt64 = 0
    /// RDX.
    public var rdx: UInt64 = 0
    /// RSI (Linux 64-bit: boot_params address).
    public var rsi: UInt64 = 0
    /// RDI.
    public var rdi: UInt64 = 0
    /// RSP (undefined by most protocols; 0 unless a protocol sets it).
    public var rsp: UInt64 = 0
    /// RBP.
    public var rbp: UInt64 = 0
    /// RFLAGS: bit 1 set, interrupts off.
    public var rflags: UInt64 = 0x2
    /// CR0.
    public var cr0: UInt64
    /// CR3 (page-table root in long mode, else 0).
    public var cr3: UInt64 = 0
    /// CR4.
    public var cr4: UInt64 = 0
    /// IA32_EFER.
    public var efer: UInt64 = 0
    /// Code segment.
    public var cs: SegmentState
    /// Data segments.
    public var ds: SegmentState
    /// ES.
    public var es: SegmentState
    /// SS.
    public var ss: SegmentState
    /// FS.
    public var fs: SegmentState
    /// GS.
    public var gs: SegmentState
    /// GDTR (points at a GDT segment of the plan in protected and long mode).
    public var gdtr: DescriptorTableState
    /// IDTR (empty: protocols start with interrupts off and no IDT).
    public var idtr: DescriptorTableState = DescriptorTableState(base: 0, limit: 0)
}

/// What a loader returns: the memory to fill and the state to start in.
public struct LoadPlan: Equatable, Sendable, Codable {
    /// Memory contents, sorted by address, non-overlapping.
    public var segments: [LoadSegment]
    /// The processor state at entry.
    public var entry: EntryState

    /// Creates a plan.
    public init(segments: [LoadSegment], entry: EntryState) {
        self.segments = segments
        self.entry = entry
    }

    /// The segment named `name`, if any.
    public func segment(named name: String) -> LoadSegment? {
        segments.first { $0.name == name }
    }
}
