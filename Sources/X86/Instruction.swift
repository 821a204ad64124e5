// A decoded instruction: one compact value, produced once and cached (SDM Vol. 2A chapter 2).

/// Operations, after opcode and ModRM.reg group resolution. The decoder maps opcode bytes to these;
/// `CPU.execute` dispatches on them.
enum Op: UInt16 {
    case invalid = 0
    // Integer ALU. `sub` holds the ALU operation (0 ADD, 1 OR, 2 ADC, 3 SBB, 4 AND, 5 SUB, 6 XOR, 7 CMP).
    case aluRMReg, aluRegRM, aluRMImm
    case testRMReg, testRMImm
    case incRM, decRM, notRM, negRM
    case mulRM, imulRM, divRM, idivRM
    case imulRegRM, imulRegRMImm
    case shiftRMImm, shiftRM1, shiftRMCL          // sub = ROL ROR RCL RCR SHL SHR SAL SAR
    case shldImm, shldCL, shrdImm, shrdCL
    case btRMReg, btRMImm                          // sub = 0 BT, 1 BTS, 2 BTR, 3 BTC
    case bsf, bsr, popcnt, bswap
    case cmpxchg, cmpxchg8b, xadd, xchgRMReg
    case movbeLoad, movbeStore
    // Data movement.
    case movRMReg, movRegRM, movRMImm, movRegImm
    case movRMSreg, movSregRM
    case movAccMoffs, movMoffsAcc
    case movzx, movsx, movsxd, lea
    case cmov, setcc
    case cbw, cwd, lahf, sahf, xlat
    case pushReg, popReg, pushImm, pushRM, popRM, pushSreg, popSreg
    case pusha, popa, pushf, popf, enter, leave
    case lxs                                       // LDS LES LSS LFS LGS; sub = segment
    // Control flow.
    case jcc, jmpRel, callRel, jmpRM, callRM, retNear
    case jmpFarImm, callFarImm, jmpFarM, callFarM, retFar
    case loop, jcxz                                // loop sub: 0 LOOPNE, 1 LOOPE, 2 LOOP
    case intN, int3, into, int1, iret, bound
    // Strings. sub = 0 MOVS, 1 CMPS, 2 STOS, 3 LODS, 4 SCAS, 5 INS, 6 OUTS.
    case string
    // I/O.
    case inImm, inDX, outImm, outDX
    // Flags and misc.
    case clc, stc, cmc, cld, std, cli, sti, hlt, nop, pause, ud, fwait
    case daa, das, aaa, aas, aam, aad
    /// SALC (D6): AL = CF ? FFh : 00h; undocumented in the SDM's opcode map but executed by every Intel
    /// processor outside 64-bit mode (#UD there), and used by real-mode test code such as kvm-unit-tests.
    case salc
    case arpl
    case cpuid, rdtsc, rdtscp, rdmsr, wrmsr, rdpmc
    case syscall, sysret, sysenter, sysexit, swapgs
    case sldt, str, lldt, ltr, verr, verw
    case sgdt, sidt, lgdt, lidt, smsw, lmsw, invlpg
    /// INVPCID r, m128 (66 0F 38 82).
    case invpcid
    case lar, lsl, clts, invd, wbinvd
    case movFromCR, movToCR, movFromDR, movToDR
    case fence, clflush
    case monitor, mwait, xgetbv, xsetbv
    // SMAP and protection keys (AccessProtection.swift).
    case clac, stac, rdpkru, wrpkru
    // VMX instructions (sub selects which); in bare execution they raise #UD.
    case vmx
    // x87 escape (D8–DF) and SSE: handled by the floating-point unit.
    case x87, sse
}

/// Prefix and form bits of a decoded instruction.
struct InstructionFlags {
    static let rep: UInt8 = 1        // F3
    static let repne: UInt8 = 2      // F2
    static let lock: UInt8 = 4       // F0
    static let rex: UInt8 = 8        // any REX prefix
    static let mem: UInt8 = 16       // ModRM names memory
    static let rexW: UInt8 = 32      // REX.W
    static let opsize: UInt8 = 64    // 66 prefix present
    static let segOverride: UInt8 = 128
}

/// One decoded instruction.
struct Instruction {
    /// What to do.
    var op: Op = .invalid
    /// Group member, ALU operation, condition code or segment, depending on `op`.
    var sub: UInt8 = 0
    /// Length in bytes (1–15).
    var length: UInt8 = 0
    /// Operand size in bytes: 1, 2, 4 or 8.
    var opSize: UInt8 = 4
    /// Address size in bytes: 2, 4 or 8.
    var addrSize: UInt8 = 4
    /// Prefix and form bits (`InstructionFlags`).
    var flags: UInt8 = 0
    /// Segment of the memory operand (default or overridden), `SegmentRegisterName` raw value.
    var seg: UInt8 = 3
    /// ModRM.reg (with REX.R); for byte operands without REX, 4–7 name AH, CH, DH, BH as 16–19.
    var reg: UInt8 = 0
    /// ModRM.rm (with REX.B) when it names a register; same byte-register convention.
    var rm: UInt8 = 0
    /// Base register of the memory operand, 16 for RIP, 0xFF for none.
    var base: UInt8 = 0xFF
    /// Index register, 0xFF for none.
    var index: UInt8 = 0xFF
    /// Scale as a shift count (0–3).
    var scale: UInt8 = 0
    /// Second operand size (source size for MOVZX/MOVSX) in bytes.
    var size2: UInt8 = 0
    /// Displacement.
    var disp: Int64 = 0
    /// Immediate (sign- or zero-extended as the instruction defines), or a branch displacement.
    var imm: UInt64 = 0
    /// Second immediate (far pointer selector, ENTER nesting level).
    var imm2: UInt16 = 0
    /// Opcode byte with its map in bits 8–9 (0 one-byte, 1 = 0F, 2 = 0F 38, 3 = 0F 3A); read by the FPU/SSE unit.
    var opcode: UInt16 = 0
    /// Decode-cache tag: physical address of the first byte (or `~0` when not cached).
    var tag: UInt64 = ~0
    /// Generation of the code page at decode time.
    var generation: UInt32 = 0
    /// Decode mode at decode time.
    var mode: UInt8 = 0xFF
    /// Specialised form for the block loop (`FastForms.swift`); set only in pre-decoded blocks.
    var fast: FastForm = .none
    /// Whether `fast` is a form that accesses memory (`FastForm.firstMemoryForm` and after).
    var fastAccessesMemory = false
    /// Unused: pads the entry to 64 bytes, so that a decode-cache entry fills exactly one cache line.
    var padding: UInt64 = 0

    @inline(__always) var isMem: Bool { flags & InstructionFlags.mem != 0 }
    @inline(__always) var hasRep: Bool { flags & (InstructionFlags.rep | InstructionFlags.repne) != 0 }
}

/// The decoded-instruction cache: direct-mapped by physical address of the first byte, validated
/// by the code page's generation (bumped by any write to the page) and the decode mode.
final class DecodeCache {
    static let bits = 12
    static let size = 1 << bits
    let entries: UnsafeMutablePointer<Instruction>
    /// Storage of `entries`.
    private let table: ZeroedTable<Instruction>
    /// Scratch entry for instructions that are not cached (page-crossing or fetched from MMIO).
    let scratch: UnsafeMutablePointer<Instruction>

    init() {
        // Page-aligned (a lookup touches one 64-byte line) and zero-filled: an all-zero entry never validates,
        // since its generation 0 differs from every tracked page's generation (always odd), and its tag 0
        // matches no untracked page.
        table = ZeroedTable(count: DecodeCache.size, zero: Instruction(tag: ~0, generation: 0))
        entries = table.base
        scratch = .allocate(capacity: 1)
        scratch.initialize(to: Instruction())
    }

    deinit {
        table.free()
        scratch.deallocate()
    }

    @inline(__always) func slot(_ pa: UInt64) -> UnsafeMutablePointer<Instruction> {
        entries + Int(truncatingIfNeeded: (pa ^ (pa >> 15)) & UInt64(DecodeCache.size - 1))
    }

    /// Drops every entry.
    func flush() {
        for i in 0..<DecodeCache.size { entries[i].tag = ~0 }
    }
}
