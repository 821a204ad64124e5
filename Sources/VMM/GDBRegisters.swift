// The register layouts gdb's x86 targets expect, in its order (features org.gnu.gdb.i386.core, .sse and
// .segments as gdb's own target descriptions define them), with this VMM's system registers after them,
// and the XML target description generated from the same table so the `g` packet and the XML agree.
import X86

/// A register the stub serves.
public enum GDBRegister: Equatable, Sendable {
    /// A general-purpose register (its low 32 bits in the i386 layout).
    case gpr(GPR)
    /// RIP (EIP).
    case rip
    /// RFLAGS (32 bits).
    case eflags
    /// A segment selector (32 bits; read-only here).
    case segment(SegmentRegisterName)
    /// ST(i), 80 bits.
    case st(Int)
    /// The x87 control word.
    case fctrl
    /// The x87 status word.
    case fstat
    /// The x87 tag word (full form).
    case ftag
    /// The x87 last instruction's code selector (reads 0).
    case fiseg
    /// The x87 last instruction's offset (reads 0).
    case fioff
    /// The x87 last operand's selector (reads 0).
    case foseg
    /// The x87 last operand's offset (reads 0).
    case fooff
    /// The x87 last opcode (reads 0).
    case fop
    /// XMMi, 128 bits.
    case xmm(Int)
    /// MXCSR.
    case mxcsr
    /// The FS base.
    case fsBase
    /// The GS base.
    case gsBase
    /// CR0 (read-only here).
    case cr0
    /// CR2.
    case cr2
    /// CR3.
    case cr3
    /// CR4 (read-only here).
    case cr4
    /// IA32_EFER (read-only here).
    case efer
}

/// One entry of a layout: gdb's name, width in bits, XML type and group, and the feature it belongs to.
public struct GDBRegisterEntry: Sendable {
    /// gdb's register name.
    public var name: String
    /// Width in bits (a multiple of 8).
    public var bits: Int
    /// The XML type.
    public var type: String
    /// The feature (org.gnu.gdb.i386.core, …).
    public var feature: String
    /// The register.
    public var register: GDBRegister
    /// Width in bytes.
    public var bytes: Int { bits / 8 }
}

/// gdb's x86 register layout for one architecture: the 64-bit one (i386:x86-64) or the 32-bit one
/// (i386, and for 16-bit code the same registers named i8086).
public struct GDBRegisterLayout: Sendable {
    /// Whether this is the x86-64 layout.
    public let is64: Bool
    /// gdb's architecture name: i386:x86-64, i386, or i8086 (the i386 layout with 16-bit disassembly).
    public let architecture: String
    /// The registers in gdb's numbering.
    public let entries: [GDBRegisterEntry]

    static let core = "org.gnu.gdb.i386.core", sse = "org.gnu.gdb.i386.sse"
    static let segments = "org.gnu.gdb.i386.segments", system = "org.swiftvmx.gdb.x86.system"

    /// The layout for code of `codeSize` bits: x86-64 for 64, i386 for 32, i386 named i8086 for 16.
    public init(codeSize: Int) {
        self.init(is64: codeSize == 64, architecture: codeSize == 64 ? "i386:x86-64" : (codeSize == 16 ? "i8086" : "i386"))
    }

    /// The layout for 64-bit (true) or 32-bit guests.
    public init(is64: Bool) {
        self.init(is64: is64, architecture: is64 ? "i386:x86-64" : "i386")
    }

    init(is64: Bool, architecture: String) {
        self.is64 = is64
        self.architecture = architecture
        var e: [GDBRegisterEntry] = []
        func add(_ name: String, _ bits: Int, _ type: String, _ feature: String, _ r: GDBRegister) {
            e.append(GDBRegisterEntry(name: name, bits: bits, type: type, feature: feature, register: r))
        }
        let w = is64 ? 64 : 32
        let gprs: [(String, GPR)] = is64
            ? [("rax", .rax), ("rbx", .rbx), ("rcx", .rcx), ("rdx", .rdx), ("rsi", .rsi), ("rdi", .rdi), ("rbp", .rbp), ("rsp", .rsp),
               ("r8", .r8), ("r9", .r9), ("r10", .r10), ("r11", .r11), ("r12", .r12), ("r13", .r13), ("r14", .r14), ("r15", .r15)]
            : [("eax", .rax), ("ecx", .rcx), ("edx", .rdx), ("ebx", .rbx), ("esp", .rsp), ("ebp", .rbp), ("esi", .rsi), ("edi", .rdi)]
        for (n, r) in gprs {
            add(n, w, r == .rsp || r == .rbp ? "data_ptr" : (is64 ? "int64" : "int32"), Self.core, .gpr(r))
        }
        add(is64 ? "rip" : "eip", w, "code_ptr", Self.core, .rip)
        add("eflags", 32, "i386_eflags", Self.core, .eflags)
        for (n, s) in [("cs", SegmentRegisterName.cs), ("ss", .ss), ("ds", .ds), ("es", .es), ("fs", .fs), ("gs", .gs)] {
            add(n, 32, "int32", Self.core, .segment(s))
        }
        for i in 0..<8 { add("st\(i)", 80, "i387_ext", Self.core, .st(i)) }
        let x87: [(String, GDBRegister)] = [("fctrl", .fctrl), ("fstat", .fstat), ("ftag", .ftag), ("fiseg", .fiseg),
                                            ("fioff", .fioff), ("foseg", .foseg), ("fooff", .fooff), ("fop", .fop)]
        for (n, r) in x87 { add(n, 32, "int", Self.core, r) }
        for i in 0..<(is64 ? 16 : 8) { add("xmm\(i)", 128, "vec128", Self.sse, .xmm(i)) }
        add("mxcsr", 32, "i386_mxcsr", Self.sse, .mxcsr)
        // gdb 13's i386 (not x86-64) architecture numbers org.gnu.gdb.i386.segments past its register count
        // and fails an internal assertion: there the bases are registers of this VMM's own feature.
        add("fs_base", w, "int", is64 ? Self.segments : Self.system, .fsBase)
        add("gs_base", w, "int", is64 ? Self.segments : Self.system, .gsBase)
        let system: [(String, GDBRegister)] = [("cr0", .cr0), ("cr2", .cr2), ("cr3", .cr3), ("cr4", .cr4), ("efer", .efer)]
        for (n, r) in system { add(n, 64, "uint64", Self.system, r) }
        entries = e
    }

    /// The number of bytes of a `g` reply.
    public var packetBytes: Int { entries.reduce(0) { $0 + $1.bytes } }

    /// The target description (gdb's "Target Descriptions" appendix): the architecture and the features
    /// with their registers in this layout's order, with the vector, EFLAGS and MXCSR types they use.
    public var targetXML: String {
        var x = "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n<target version=\"1.0\">\n"
        x += "  <architecture>\(architecture)</architecture>\n"
        var current = ""
        for (n, r) in entries.enumerated() {
            if r.feature != current {
                if !current.isEmpty { x += "  </feature>\n" }
                current = r.feature
                x += "  <feature name=\"\(current)\">\n"
                if current == Self.core { x += Self.flagTypes(name: "i386_eflags", Self.eflagsBits) }
                if current == Self.sse { x += Self.vectorTypes + Self.flagTypes(name: "i386_mxcsr", Self.mxcsrBits) }
            }
            let group = r.feature == Self.sse ? " group=\"vector\"" : (r.feature == Self.system ? " group=\"system\"" : "")
            let float = [GDBRegister.fctrl, .fstat, .ftag, .fiseg, .fioff, .foseg, .fooff, .fop].contains(r.register) ? " group=\"float\"" : ""
            x += "    <reg name=\"\(r.name)\" bitsize=\"\(r.bits)\" type=\"\(r.type)\" regnum=\"\(n)\"\(group)\(float)/>\n"
        }
        x += "  </feature>\n</target>\n"
        return x
    }

    static let eflagsBits: [(String, Int)] = [("CF", 0), ("PF", 2), ("AF", 4), ("ZF", 6), ("SF", 7), ("TF", 8),
                                              ("IF", 9), ("DF", 10), ("OF", 11), ("NT", 14), ("RF", 16), ("VM", 17),
                                              ("AC", 18), ("VIF", 19), ("VIP", 20), ("ID", 21)]
    static let mxcsrBits: [(String, Int)] = [("IE", 0), ("DE", 1), ("ZE", 2), ("OE", 3), ("UE", 4), ("PE", 5), ("DAZ", 6),
                                             ("IM", 7), ("DM", 8), ("ZM", 9), ("OM", 10), ("UM", 11), ("PM", 12), ("FZ", 15)]

    static func flagTypes(name: String, _ bits: [(String, Int)]) -> String {
        var x = "    <flags id=\"\(name)\" size=\"4\">\n"
        for (n, b) in bits { x += "      <field name=\"\(n)\" start=\"\(b)\" end=\"\(b)\"/>\n" }
        return x + "    </flags>\n"
    }

    static let vectorTypes = """
                <vector id="v4f" type="ieee_single" count="4"/>
            <vector id="v2d" type="ieee_double" count="2"/>
            <vector id="v16i8" type="int8" count="16"/>
            <vector id="v8i16" type="int16" count="8"/>
            <vector id="v4i32" type="int32" count="4"/>
            <vector id="v2i64" type="int64" count="2"/>
            <union id="vec128">
                  <field name="v4_float" type="v4f"/>
              <field name="v2_double" type="v2d"/>
              <field name="v16_int8" type="v16i8"/>
              <field name="v8_int16" type="v8i16"/>
              <field name="v4_int32" type="v4i32"/>
              <field name="v2_int64" type="v2i64"/>
              <field name="uint128" type="uint128"/>
            </union>

        """
}
