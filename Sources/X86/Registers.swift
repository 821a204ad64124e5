// Architectural register types, named after the Intel SDM (Vol. 1 §3.4, Vol. 3A §2.5).

/// A general-purpose register, in instruction-encoding order (SDM Vol. 2A §2.1.5, Table 2-2).
public enum GPR: Int, CaseIterable, Sendable, Codable {
    case rax = 0, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15
}

/// A segment register, in encoding order (SDM Vol. 2A Table 3-? "Sreg"), followed by LDTR and TR.
public enum SegmentRegisterName: Int, CaseIterable, Sendable, Codable {
    case es = 0, cs, ss, ds, fs, gs
    /// The local-descriptor-table register (SDM Vol. 3A §2.4.2).
    case ldtr
    /// The task register (SDM Vol. 3A §2.4.4).
    case tr
}

/// Indices into the processor's register file `CPU.gpr` by register name (encoding order, as `GPR`):
/// `gpr[Reg.rsp]` rather than `gpr[4]`.
enum Reg {
    static let rax = 0, rcx = 1, rdx = 2, rbx = 3, rsp = 4, rbp = 5, rsi = 6, rdi = 7
    static let r8 = 8, r9 = 9, r10 = 10, r11 = 11, r12 = 12, r13 = 13, r14 = 14, r15 = 15
}

/// Indices into the processor's segment registers `CPU.seg` by name (as `SegmentRegisterName`):
/// `seg[Seg.cs]` rather than `seg[1]`.
enum Seg {
    static let es = 0, cs = 1, ss = 2, ds = 3, fs = 4, gs = 5, ldtr = 6, tr = 7
}

/// RFLAGS (SDM Vol. 1 §3.4.3).
public struct RFLAGS: OptionSet, Sendable, Hashable, Codable {
    public var rawValue: UInt64
    /// Creates flags from their raw bits.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Carry flag.
    public static let cf = RFLAGS(rawValue: 1 << 0)
    /// Bit 1, reserved, always set.
    public static let fixed1 = RFLAGS(rawValue: 1 << 1)
    /// Parity flag.
    public static let pf = RFLAGS(rawValue: 1 << 2)
    /// Auxiliary carry flag.
    public static let af = RFLAGS(rawValue: 1 << 4)
    /// Zero flag.
    public static let zf = RFLAGS(rawValue: 1 << 6)
    /// Sign flag.
    public static let sf = RFLAGS(rawValue: 1 << 7)
    /// Trap flag.
    public static let tf = RFLAGS(rawValue: 1 << 8)
    /// Interrupt enable flag.
    public static let `if` = RFLAGS(rawValue: 1 << 9)
    /// Direction flag.
    public static let df = RFLAGS(rawValue: 1 << 10)
    /// Overflow flag.
    public static let of = RFLAGS(rawValue: 1 << 11)
    /// I/O privilege level (two bits).
    public static let iopl = RFLAGS(rawValue: 3 << 12)
    /// Nested task.
    public static let nt = RFLAGS(rawValue: 1 << 14)
    /// Resume flag.
    public static let rf = RFLAGS(rawValue: 1 << 16)
    /// Virtual-8086 mode.
    public static let vm = RFLAGS(rawValue: 1 << 17)
    /// Alignment check / access control.
    public static let ac = RFLAGS(rawValue: 1 << 18)
    /// Virtual interrupt flag.
    public static let vif = RFLAGS(rawValue: 1 << 19)
    /// Virtual interrupt pending.
    public static let vip = RFLAGS(rawValue: 1 << 20)
    /// CPUID available (toggleable).
    public static let id = RFLAGS(rawValue: 1 << 21)
    /// The six arithmetic status flags.
    public static let status: RFLAGS = [.cf, .pf, .af, .zf, .sf, .of]
    /// Bits software can change (all defined flags).
    public static let defined: RFLAGS = [.cf, .pf, .af, .zf, .sf, .tf, .if, .df, .of, .iopl, .nt, .rf, .vm, .ac, .vif, .vip, .id]
}

/// Control register 0 (SDM Vol. 3A §2.5).
public struct CR0: OptionSet, Sendable, Hashable, Codable {
    public var rawValue: UInt64
    /// Creates CR0 from its raw bits.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Protection enable.
    public static let pe = CR0(rawValue: 1 << 0)
    /// Monitor coprocessor.
    public static let mp = CR0(rawValue: 1 << 1)
    /// x87 emulation.
    public static let em = CR0(rawValue: 1 << 2)
    /// Task switched.
    public static let ts = CR0(rawValue: 1 << 3)
    /// Extension type (hard-wired to 1).
    public static let et = CR0(rawValue: 1 << 4)
    /// Numeric error.
    public static let ne = CR0(rawValue: 1 << 5)
    /// Write protect.
    public static let wp = CR0(rawValue: 1 << 16)
    /// Alignment mask.
    public static let am = CR0(rawValue: 1 << 18)
    /// Not write-through.
    public static let nw = CR0(rawValue: 1 << 29)
    /// Cache disable.
    public static let cd = CR0(rawValue: 1 << 30)
    /// Paging.
    public static let pg = CR0(rawValue: 1 << 31)
}

/// Control register 4 (SDM Vol. 3A §2.5).
public struct CR4: OptionSet, Sendable, Hashable, Codable {
    public var rawValue: UInt64
    /// Creates CR4 from its raw bits.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Virtual-8086 mode extensions.
    public static let vme = CR4(rawValue: 1 << 0)
    /// Protected-mode virtual interrupts.
    public static let pvi = CR4(rawValue: 1 << 1)
    /// Time stamp disable.
    public static let tsd = CR4(rawValue: 1 << 2)
    /// Debugging extensions.
    public static let de = CR4(rawValue: 1 << 3)
    /// Page size extensions.
    public static let pse = CR4(rawValue: 1 << 4)
    /// Physical address extension.
    public static let pae = CR4(rawValue: 1 << 5)
    /// Machine-check enable.
    public static let mce = CR4(rawValue: 1 << 6)
    /// Page global enable.
    public static let pge = CR4(rawValue: 1 << 7)
    /// Performance-monitoring counter enable.
    public static let pce = CR4(rawValue: 1 << 8)
    /// OS support for FXSAVE/FXRSTOR.
    public static let osfxsr = CR4(rawValue: 1 << 9)
    /// OS support for unmasked SIMD exceptions.
    public static let osxmmexcpt = CR4(rawValue: 1 << 10)
    /// User-mode instruction prevention.
    public static let umip = CR4(rawValue: 1 << 11)
    /// VMX enable.
    public static let vmxe = CR4(rawValue: 1 << 13)
    /// SMX enable.
    public static let smxe = CR4(rawValue: 1 << 14)
    /// FSGSBASE enable.
    public static let fsgsbase = CR4(rawValue: 1 << 16)
    /// PCID enable.
    public static let pcide = CR4(rawValue: 1 << 17)
    /// XSAVE enable.
    public static let osxsave = CR4(rawValue: 1 << 18)
    /// Supervisor-mode execution prevention.
    public static let smep = CR4(rawValue: 1 << 20)
    /// Supervisor-mode access prevention.
    public static let smap = CR4(rawValue: 1 << 21)
    /// Protection keys for user-mode pages (PKRU).
    public static let pke = CR4(rawValue: 1 << 22)
    /// Protection keys for supervisor-mode pages (IA32_PKRS).
    public static let pks = CR4(rawValue: 1 << 24)
}

/// IA32_EFER (SDM Vol. 3A §2.2.1).
public struct EFER: OptionSet, Sendable, Hashable, Codable {
    public var rawValue: UInt64
    /// Creates EFER from its raw bits.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// SYSCALL enable.
    public static let sce = EFER(rawValue: 1 << 0)
    /// IA-32e mode enable.
    public static let lme = EFER(rawValue: 1 << 8)
    /// IA-32e mode active.
    public static let lma = EFER(rawValue: 1 << 10)
    /// Execute-disable bit enable.
    public static let nxe = EFER(rawValue: 1 << 11)
}

/// A segment register with its hidden descriptor cache (SDM Vol. 3A §3.4.3).
/// The access rights use the VMCS guest-state layout (SDM Vol. 3C §24.4.1, Table 24-2):
/// bits 3:0 type, 4 S, 6:5 DPL, 7 P, 12 AVL, 13 L, 14 D/B, 15 G, 16 segment unusable.
public struct SegmentRegister: Equatable, Hashable, Sendable, Codable {
    /// The visible selector.
    public var selector: UInt16
    /// The cached base address.
    public var base: UInt64
    /// The cached limit, in bytes (already scaled by the granularity bit).
    public var limit: UInt32
    /// The cached access rights, VMCS layout.
    public var accessRights: UInt32

    /// Creates a segment register value.
    public init(selector: UInt16, base: UInt64, limit: UInt32, accessRights: UInt32) {
        self.selector = selector; self.base = base; self.limit = limit; self.accessRights = accessRights
    }
    /// Segment type (access rights bits 3:0).
    public var type: UInt32 { accessRights & 0xF }
    /// Descriptor type: 1 for code/data, 0 for system.
    public var s: Bool { accessRights & 0x10 != 0 }
    /// Descriptor privilege level.
    public var dpl: Int { Int((accessRights >> 5) & 3) }
    /// Segment present.
    public var present: Bool { accessRights & 0x80 != 0 }
    /// 64-bit code segment.
    public var l: Bool { accessRights & 0x2000 != 0 }
    /// Default operation size (D/B).
    public var db: Bool { accessRights & 0x4000 != 0 }
    /// Granularity.
    public var g: Bool { accessRights & 0x8000 != 0 }
    /// Segment unusable (VMX access-rights bit 16; a null selector was loaded).
    public var unusable: Bool { accessRights & 0x10000 != 0 }
    /// Code segment (type bit 3 with S set).
    public var isCode: Bool { s && type & 8 != 0 }
    /// Requested privilege level of the selector.
    public var rpl: Int { Int(selector & 3) }

    /// Access rights of a real-mode or virtual-8086 data segment: present, DPL given, read/write, accessed.
    public static func realModeAccessRights(dpl: Int = 0, code: Bool = false) -> UInt32 {
        (code ? 0x9B : 0x93) | UInt32(dpl & 3) << 5
    }
    /// A real-mode segment whose base is selector × 16 and limit 64 KiB.
    public static func realMode(selector: UInt16, code: Bool = false) -> SegmentRegister {
        SegmentRegister(selector: selector, base: UInt64(selector) << 4, limit: 0xFFFF,
                        accessRights: realModeAccessRights(code: code))
    }
    /// An unusable segment (null selector).
    public static let null = SegmentRegister(selector: 0, base: 0, limit: 0, accessRights: 0x10000)
}

/// GDTR or IDTR (SDM Vol. 3A §2.4.1).
public struct DescriptorTableRegister: Equatable, Hashable, Sendable, Codable {
    /// Linear base address of the table.
    public var base: UInt64
    /// Table limit in bytes minus one.
    public var limit: UInt16
    /// Creates a descriptor-table register value.
    public init(base: UInt64, limit: UInt16) { self.base = base; self.limit = limit }
}

/// The operating mode of the processor (SDM Vol. 3A §2.2).
public enum ProcessorMode: UInt8, Sendable, Codable {
    /// Real-address mode.
    case real
    /// Protected mode (16- or 32-bit code segment).
    case protected
    /// Virtual-8086 mode.
    case virtual8086
    /// IA-32e compatibility mode.
    case compatibility
    /// IA-32e 64-bit mode.
    case long64
}

/// Exception and interrupt vectors (SDM Vol. 3A §6.3.1, Table 6-1).
public enum ExceptionVector: UInt8, Sendable, Codable {
    /// Divide error.
    case de = 0
    /// Debug exception.
    case db = 1
    /// Non-maskable interrupt.
    case nmi = 2
    /// Breakpoint (INT3).
    case bp = 3
    /// Overflow (INTO).
    case of = 4
    /// BOUND range exceeded.
    case br = 5
    /// Invalid opcode.
    case ud = 6
    /// Device not available.
    case nm = 7
    /// Double fault.
    case df = 8
    /// Invalid TSS.
    case ts = 10
    /// Segment not present.
    case np = 11
    /// Stack-segment fault.
    case ss = 12
    /// General protection.
    case gp = 13
    /// Page fault.
    case pf = 14
    /// x87 floating-point error.
    case mf = 16
    /// Alignment check.
    case ac = 17
    /// Machine check.
    case mc = 18
    /// SIMD floating-point exception.
    case xm = 19
    /// Virtualization exception.
    case ve = 20

    /// Whether delivery pushes an error code (SDM Vol. 3A §6.15).
    public var pushesErrorCode: Bool {
        switch self {
        case .df, .ts, .np, .ss, .gp, .pf, .ac: return true
        default: return false
        }
    }
}
