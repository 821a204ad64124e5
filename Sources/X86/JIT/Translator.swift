// The JIT's translator: a pre-decoded block (BlockCache.swift) whose leading entries have specialised forms
// (FastForms.swift) in the supported subset becomes one host function that runs them on the context block.
//
// Front end and back end: the front end is the block builder and `Instruction.fastForm64`, which resolve each
// guest instruction to a `FastForm`; this file is the x86-64 back end, one emission per form. An AArch64 back
// end would emit the same forms with the same exits and the same `JITExit` encoding.
//
// The generated function is `@convention(c) (gpr, ctx) -> UInt64` (System V: RDI = the 16 guest registers,
// RSI = the JIT context, `JITContext`). Guest registers live in the register file and are loaded and stored per
// instruction. It returns a `JITExit` word: how many instructions retired, the page offset of the next RIP, and
// which flag state the caller must install (see `CPU.runTranslated`).
//
// One semantics (the interpreter's): an operation that records flags writes the LazyFlags record exactly as
// the interpreter's helper does (operands masked to the size, the result, the op and size), and the caller
// installs it in `CPU.lazy`, so the flags are always materialised by `CPU.materializedFlags`. Within a block a
// conditional branch right after such an operation reads the host's flags of the same host operation, which are
// the flags `CPU.condition` computes from that record (add/sub/logic at the same width; INC/DEC keep CF). The
// lockstep test checks all of this against the interpreter.
//
// Precise state: a load or store whose page is not in the software TLB (or crosses the page) leaves the block
// at that instruction, with everything before it retired, and the interpreter runs it (and raises its faults).
// A store through a write-TLB entry never writes a page holding decoded code (MMU.swift), so a translated block
// never rewrites itself; the page generation is checked before a translation runs.

/// Offsets (in 8-byte words) of the JIT context the generated code reads and writes.
enum JITContext {
    /// LazyFlags dst, src, res of the last flag-recording operation.
    static let lazyDst = 0, lazySrc = 1, lazyRes = 2
    /// CF made concrete by INC/DEC (`CPU.incDec`), bit 0 of the byte.
    static let carry = 3
    /// Linear address of the code page (RIP-relative addressing).
    static let page = 4
    /// Start of the software TLB's tag and host arrays for reads and writes at the current privilege.
    static let readTags = 5, readHosts = 6, writeTags = 7, writeHosts = 8
    /// The processor (an unretained `CPU` reference), for calls into the interpreter (`jitInterpretOne`).
    static let cpu = 9
    /// The software TLB's current generation (`TLB.generation`): a tag hits when it is the page OR'd with it.
    static let tlbGeneration = 10
    static let words = 11

    static func disp(_ word: Int) -> Int32 { Int32(word * 8) }
}

/// The word a translation returns.
enum JITExit {
    /// Bits 0–15: instructions retired. Bits 16–28: page offset of the next RIP (0–4096). Bit 32: the LazyFlags
    /// record in the context is current (op in bits 40–47, size in 48–55). Bit 33: CF in the context goes to
    /// `flagsBase`.
    static func make(retired: Int, offset: Int, flagOp: FlagOp?, size: UInt8, carry: Bool) -> UInt64 {
        var v = UInt64(retired) | UInt64(offset) << 16
        if let op = flagOp { v |= 1 << 32 | UInt64(op.rawValue) << 40 | UInt64(size) << 48 }
        if carry { v |= 1 << 33 }
        return v
    }
}

/// Which specialised forms the back end translates.
extension FastForm {
    /// The flag operation this form records (the interpreter's `alu`/`testFlags`/`incDec`), nil if none.
    var recordedFlagOp: FlagOp? {
        switch self {
        case .add32RR, .add64RR, .add32RI, .add64RI: return .add
        case .sub32RR, .sub64RR, .sub32RI, .sub64RI, .cmp32RR, .cmp64RR, .cmp32RI, .cmp64RI,
             .cmpMemImm32, .cmpMemImm64, .cmpMemReg32, .cmpMemReg64: return .sub
        case .or32RR, .or64RR, .or32RI, .or64RI, .and32RR, .and64RR, .and32RI, .and64RI,
             .xor32RR, .xor64RR, .xor32RI, .xor64RI, .test32RR, .test64RR, .test32RI, .test64RI,
             .testMemImm32, .testMemImm64: return .logic
        case .inc32, .inc64: return .inc
        case .dec32, .dec64: return .dec
        default: return nil
        }
    }
}

/// Translates blocks into host code.
struct Translator {
    var e: HostEmitter
    /// Pending exits to the interpreter at a TLB miss: jump positions to patch, and the exit word.
    private var misses: [(patches: [Int], exit: UInt64)] = []

    init(buffer: UnsafeMutablePointer<UInt8>, capacity: Int) {
        e = HostEmitter(buffer: buffer, capacity: capacity)
    }

    /// How the translation of an entry reads its operands: nil when the entry is not translated (the block's
    /// translated prefix ends before it). `flagsLive`: host flags hold a flag-recording operation's flags.
    static func supported(_ d: Instruction, flagsLive: Bool, offset: Int) -> Bool {
        let f = d.fast
        switch f {
        case .add32RR, .or32RR, .and32RR, .sub32RR, .xor32RR, .cmp32RR,
             .add64RR, .or64RR, .and64RR, .sub64RR, .xor64RR, .cmp64RR,
             .add32RI, .or32RI, .and32RI, .sub32RI, .xor32RI, .cmp32RI,
             .add64RI, .or64RI, .and64RI, .sub64RI, .xor64RI, .cmp64RI,
             .test32RR, .test64RR, .test32RI, .test64RI,
             .mov32ToRM, .mov64ToRM, .mov32ToReg, .mov64ToReg, .movImm32, .movImm64,
             .lea64, .lea32, .not32, .not64, .movzx8RR, .movzx16RR, .movsxdRR, .nop:
            return true
        case .inc32, .inc64, .dec32, .dec64:
            // CF comes from the previous operation: only when that is one this translation ran.
            return flagsLive
        case _ where f.runsThroughInterpreter:
            return true
        case .jo, .jno, .jb, .jae, .je, .jne, .jbe, .ja, .js, .jns, .jp, .jnp, .jl, .jge, .jle, .jg, .jmpRel:
            // The target must lie on the page (then it is canonical); a condition needs live host flags.
            let target = Int64(offset) + Int64(d.length) + Int64(bitPattern: d.imm)
            return target >= 0 && target < 4096 && (f == .jmpRel || flagsLive)
        case .load32, .load64, .loadZX8, .loadZX16, .movsxdLoad, .aluLoad32, .aluLoad64,
             .store8, .store16, .store32, .store64, .storeImm8, .storeImm32, .storeImm64,
             .cmpMemImm32, .cmpMemImm64, .cmpMemReg32, .cmpMemReg64, .testMemImm32, .testMemImm64:
            // Segments ES CS SS DS only (base 0 in 64-bit mode); a RIP-relative operand is fine.
            return d.seg < 4
        default:
            return false
        }
    }

    /// Whether the entry can leave the translated block early (a taken branch or a TLB miss), or reads the
    /// flag record through the interpreter.
    static func mayExit(_ f: FastForm) -> Bool {
        f.rawValue >= FastForm.firstMemoryForm.rawValue || (f.rawValue >= FastForm.jo.rawValue && f.rawValue <= FastForm.jg.rawValue)
            || f.runsThroughInterpreter
    }

    /// Translates the leading supported entries of `entries` (`count` of them). Returns the number translated
    /// (0: nothing worth translating) and leaves the code in the emitter's buffer.
    mutating func translate(_ entries: UnsafeMutablePointer<Instruction>, count: Int) -> Int {
        // Pass 1: the translated prefix.
        var k = 0
        var flagsLive = false
        while k < count {
            let d = entries[k]
            let offset = Int(d.tag & 0xFFF)
            guard Translator.supported(d, flagsLive: flagsLive, offset: offset) else { break }
            if d.fast.recordedFlagOp != nil || d.fast == .aluLoad32 || d.fast == .aluLoad64 { flagsLive = true }
            else if d.fast.rawValue >= FastForm.firstMemoryForm.rawValue || d.fast.runsThroughInterpreter { flagsLive = false }
            k += 1
        }
        // A lone branch or move is not worth a call.
        guard k >= 2 else { return 0 }

        // Pass 2: emit. `live[i]`: entry i's flag record is read at an exit before another record replaces it.
        var live = [Bool](repeating: false, count: k)
        var pendingRecord = -1
        for i in 0..<k {
            let f = entries[i].fast
            if Translator.mayExit(f) && pendingRecord >= 0 { live[pendingRecord] = true }
            if f.recordedFlagOp != nil || f == .aluLoad32 || f == .aluLoad64 { pendingRecord = i }
        }
        if pendingRecord >= 0 { live[pendingRecord] = true }

        var lastOp: FlagOp? = nil
        var lastSize: UInt8 = 8
        var carry = false
        var ended = false
        for i in 0..<k {
            let d = entries[i]
            let offset = Int(d.tag & 0xFFF)
            let next = offset + Int(d.length)
            let rm = Int(d.rm & 15), reg = Int(d.reg & 15)
            let here = JITExit.make(retired: i, offset: offset, flagOp: lastOp, size: lastSize, carry: carry)
            switch d.fast {
            case .add32RR, .or32RR, .and32RR, .sub32RR, .xor32RR, .cmp32RR,
                 .add64RR, .or64RR, .and64RR, .sub64RR, .xor64RR, .cmp64RR:
                // `CPU.fastALU(rm, gpr[reg], op)` → `CPU.alu`.
                let wide = d.fast.rawValue >= FastForm.add64RR.rawValue
                e.load(.rax, .rdi, gpr(rm), wide: wide)
                e.load(.rcx, .rdi, gpr(reg), wide: wide)
                emitALU(d.sub, wide: wide, live: live[i], writeBack: rm)
            case .add32RI, .or32RI, .and32RI, .sub32RI, .xor32RI, .cmp32RI,
                 .add64RI, .or64RI, .and64RI, .sub64RI, .xor64RI, .cmp64RI:
                // `CPU.fastALU(rm, imm, op)` → `CPU.alu`.
                let wide = d.fast.rawValue >= FastForm.add64RI.rawValue
                e.load(.rax, .rdi, gpr(rm), wide: wide)
                e.movImm(.rcx, wide ? d.imm : d.imm & 0xFFFF_FFFF)
                emitALU(d.sub, wide: wide, live: live[i], writeBack: rm)
            case .test32RR, .test64RR, .test32RI, .test64RI:
                // `CPU.testFlags(a, b)`: a logic record with res = a & b.
                let wide = d.fast == .test64RR || d.fast == .test64RI
                e.load(.rax, .rdi, gpr(rm), wide: wide)
                if d.fast == .test32RR || d.fast == .test64RR { e.load(.rcx, .rdi, gpr(reg), wide: wide) }
                else { e.movImm(.rcx, wide ? d.imm : d.imm & 0xFFFF_FFFF) }
                emitALU(ALUOp.and, wide: wide, live: live[i], writeBack: nil)
            case .mov32ToRM, .mov64ToRM:
                e.load(.rax, .rdi, gpr(reg), wide: d.fast == .mov64ToRM)
                e.store(.rdi, gpr(rm), .rax)
            case .mov32ToReg, .mov64ToReg:
                e.load(.rax, .rdi, gpr(rm), wide: d.fast == .mov64ToReg)
                e.store(.rdi, gpr(reg), .rax)
            case .movImm32, .movImm64:
                e.movImm(.rax, d.fast == .movImm64 ? d.imm : d.imm & 0xFFFF_FFFF)
                e.store(.rdi, gpr(rm), .rax)
            case .lea64, .lea32:
                // `CPU.fastOffset`.
                emitAddress(d, next: next)
                if d.fast == .lea32 { e.mov(.rax, .rax, wide: false) }
                e.store(.rdi, gpr(reg), .rax)
            case .not32, .not64:
                e.load(.rax, .rdi, gpr(rm), wide: d.fast == .not64)
                e.not(.rax, wide: d.fast == .not64)
                e.store(.rdi, gpr(rm), .rax)
            case .movzx8RR, .movzx16RR:
                e.loadZX(.rax, .rdi, gpr(rm), size: d.fast == .movzx8RR ? 1 : 2)
                e.store(.rdi, gpr(reg), .rax)
            case .movsxdRR:
                e.loadSX32(.rax, .rdi, gpr(rm))
                e.store(.rdi, gpr(reg), .rax)
            case .nop:
                break
            case .inc32, .inc64, .dec32, .dec64:
                // `CPU.incDec`: CF (the previous operation's, still in the host flags) goes to flagsBase; the
                // record is inc/dec with src 1.
                let wide = d.fast == .inc64 || d.fast == .dec64
                let dec = d.fast == .dec32 || d.fast == .dec64
                e.setcc(2, .rsi, JITContext.disp(JITContext.carry))   // SETB: CF
                carry = true
                e.load(.rax, .rdi, gpr(rm), wide: wide)
                if live[i] {
                    e.store(.rsi, JITContext.disp(JITContext.lazyDst), .rax)
                    e.movImm(.rcx, 1)
                    e.store(.rsi, JITContext.disp(JITContext.lazySrc), .rcx)
                }
                e.incDec(.rax, dec: dec, wide: wide)
                if live[i] { e.store(.rsi, JITContext.disp(JITContext.lazyRes), .rax) }
                e.store(.rdi, gpr(rm), .rax)
            case .jo, .jno, .jb, .jae, .je, .jne, .jbe, .ja, .js, .jns, .jp, .jnp, .jl, .jge, .jle, .jg:
                // `CPU.jump(if: condition(cc))`, the condition read from the host flags of the recording
                // operation (see the file comment).
                let cc = d.fast.rawValue - FastForm.jo.rawValue
                let target = Int(Int64(next) + Int64(bitPattern: d.imm))
                let skip = e.jcc(cc ^ 1)
                e.movImm(.rax, JITExit.make(retired: i + 1, offset: target, flagOp: lastOp, size: lastSize, carry: carry))
                e.ret()
                e.patch(skip)
            case .jmpRel:
                // The block builder continued the block at an on-page target; as the last entry it is an exit.
                if i == k - 1 {
                    let target = Int(Int64(next) + Int64(bitPattern: d.imm))
                    e.movImm(.rax, JITExit.make(retired: i + 1, offset: target, flagOp: lastOp, size: lastSize, carry: carry))
                    e.ret()
                    ended = true
                }
            case .load32, .load64, .loadZX8, .loadZX16, .movsxdLoad:
                // `fastRead` on a TLB hit; the miss leaves to the interpreter.
                emitAddress(d, next: next)
                let size = d.fast == .load64 ? 8 : d.fast == .loadZX8 ? 1 : d.fast == .loadZX16 ? 2 : 4
                emitTLB(size: size, write: false, exit: here)
                switch d.fast {
                case .load64: e.load(.rax, .r8, 0)
                case .loadZX8: e.loadZX(.rax, .r8, 0, size: 1)
                case .loadZX16: e.loadZX(.rax, .r8, 0, size: 2)
                case .movsxdLoad: e.loadSX32(.rax, .r8, 0)
                default: e.load(.rax, .r8, 0, wide: false)
                }
                e.store(.rdi, gpr(reg), .rax)
            case .aluLoad32, .aluLoad64:
                // `fastRead`, then `CPU.fastALU(reg, b, sub)`.
                let wide = d.fast == .aluLoad64
                emitAddress(d, next: next)
                emitTLB(size: wide ? 8 : 4, write: false, exit: here)
                e.load(.rcx, .r8, 0, wide: wide)
                e.load(.rax, .rdi, gpr(reg), wide: wide)
                emitALU(d.sub, wide: wide, live: live[i], writeBack: reg)
            case .cmpMemImm32, .cmpMemImm64, .cmpMemReg32, .cmpMemReg64, .testMemImm32, .testMemImm64:
                let wide = d.fast == .cmpMemImm64 || d.fast == .cmpMemReg64 || d.fast == .testMemImm64
                emitAddress(d, next: next)
                emitTLB(size: wide ? 8 : 4, write: false, exit: here)
                e.load(.rax, .r8, 0, wide: wide)
                if d.fast == .cmpMemReg32 || d.fast == .cmpMemReg64 { e.load(.rcx, .rdi, gpr(reg), wide: wide) }
                else { e.movImm(.rcx, wide ? d.imm : d.imm & 0xFFFF_FFFF) }
                let test = d.fast == .testMemImm32 || d.fast == .testMemImm64
                emitALU(test ? ALUOp.and : ALUOp.cmp, wide: wide, live: live[i], writeBack: nil)
            case .store8, .store16, .store32, .store64, .storeImm8, .storeImm32, .storeImm64:
                // `fastWrite` on a write-TLB hit (never a page holding decoded code); the miss leaves.
                let size: Int
                switch d.fast {
                case .store8, .storeImm8: size = 1
                case .store16: size = 2
                case .store32, .storeImm32: size = 4
                default: size = 8
                }
                emitAddress(d, next: next)
                emitTLB(size: size, write: true, exit: here)
                if d.fast == .storeImm8 || d.fast == .storeImm32 || d.fast == .storeImm64 {
                    e.movImm(.r9, d.imm)
                } else {
                    e.load(.r9, .rdi, gpr(reg))
                }
                e.store(.r8, 0, .r9, size: size)
            case _ where d.fast.runsThroughInterpreter:
                // The interpreter's own handler (`CPU.executeFast`) through `jitInterpretOne`, with the flag
                // state so far handed over; afterwards the processor's flags are current (no record pending).
                e.push(.rdi); e.push(.rsi); e.adjustStack(-8)
                e.load(.rdi, .rsi, JITContext.disp(JITContext.cpu))
                // Safe to embed: the entry lives in the block arena as long as this translation can run (a flush
                // of the arena drops the block, and with it the way to this code).
                e.movImm(.rsi, UInt64(UInt(bitPattern: entries + i)))
                e.movImm(.rdx, JITExit.make(retired: 0, offset: 0, flagOp: lastOp, size: lastSize, carry: carry))
                e.movImm(.rax, jitInterpretOneAddress)
                e.call(.rax)
                e.adjustStack(8); e.pop(.rsi); e.pop(.rdi)
                lastOp = nil
                carry = false
            default:
                // Never reached: pass 1 stopped before any other form.
                return 0
            }
            if let op = d.fast.recordedFlagOp {
                lastOp = op
                lastSize = d.fast.flagSize
            } else if d.fast == .aluLoad32 || d.fast == .aluLoad64 {
                lastOp = d.sub == ALUOp.add ? .add : (d.sub == ALUOp.sub || d.sub == ALUOp.cmp) ? .sub : .logic
                lastSize = d.fast == .aluLoad64 ? 8 : 4
            }
        }
        // Fall through past the last translated entry.
        if !ended {
            let last = entries[k - 1]
            let end = Int(last.tag & 0xFFF) + Int(last.length)
            e.movImm(.rax, JITExit.make(retired: k, offset: end, flagOp: lastOp, size: lastSize, carry: carry))
            e.ret()
        }
        // The TLB-miss exits.
        for m in misses {
            for p in m.patches { e.patch(p) }
            e.movImm(.rax, m.exit)
            e.ret()
        }
        return e.overflowed ? 0 : k
    }

    private func gpr(_ r: Int) -> Int32 { Int32(r * 8) }

    /// RAX = the operand's effective address (`CPU.fastOffset`): disp + base (RIP: the next instruction's
    /// linear address) + index << scale, wrapping. Changes no flag.
    private mutating func emitAddress(_ d: Instruction, next: Int) {
        e.movImm(.rax, UInt64(bitPattern: d.disp))
        if d.base == 16 {
            e.load(.rcx, .rsi, JITContext.disp(JITContext.page))
            e.lea(.rax, base: .rax, index: .rcx, scale: 0, disp: Int32(next))
        } else if d.base != 0xFF {
            e.load(.rcx, .rdi, gpr(Int(d.base & 15)))
            e.lea(.rax, base: .rax, index: .rcx, scale: 0, disp: 0)
        }
        if d.index != 0xFF {
            e.load(.rdx, .rdi, gpr(Int(d.index & 15)))
            e.lea(.rax, base: .rax, index: .rdx, scale: d.scale & 3, disp: 0)
        }
    }

    /// With the linear address in RAX: R8 = its host address when the software TLB holds its page for this
    /// access at the current privilege and the access stays on the page (`CPU.fastHostAddress`); otherwise
    /// leaves with `exit`. Clobbers RCX, RDX, R8 and the flags.
    private mutating func emitTLB(size: Int, write: Bool, exit: UInt64) {
        var patches: [Int] = []
        e.mov(.rcx, .rax)
        e.shr(.rcx, 12)
        e.andImm(.rcx, Int32(TLB.size - 1), wide: false)
        e.mov(.rdx, .rax)
        e.andImm(.rdx, -4096, wide: true)
        e.load(.r8, .rsi, JITContext.disp(JITContext.tlbGeneration))
        e.alu(1, .rdx, .r8, wide: true)                 // OR: the tag of a hit (`TLB.key`)
        e.load(.r8, .rsi, JITContext.disp(write ? JITContext.writeTags : JITContext.readTags))
        e.cmpIndexed(.rdx, base: .r8, index: .rcx)
        patches.append(e.jcc(5))                       // JNE: another page
        e.mov(.rdx, .rax, wide: false)
        e.andImm(.rdx, 0xFFF, wide: false)
        e.cmpImm(.rdx, Int32(4096 - size), wide: false)
        patches.append(e.jcc(7))                       // JA: crosses the page
        e.load(.r8, .rsi, JITContext.disp(write ? JITContext.writeHosts : JITContext.readHosts))
        e.loadIndexed(.r8, base: .r8, index: .rcx)
        e.test(.r8, .r8, wide: true)
        patches.append(e.jcc(4))                       // JE: no host page
        e.lea(.r8, base: .r8, index: .rdx, scale: 0, disp: 0)
        misses.append((patches, exit))
    }

    /// With the destination operand in RAX and the source in RCX (both cut to the size): ALU operation `op`
    /// (`ALUOp`, not ADC/SBB) as `CPU.alu` computes it, its LazyFlags record stored when `live`, the result
    /// stored into guest register `writeBack` unless the operation is CMP (TEST passes nil).
    private mutating func emitALU(_ op: UInt8, wide: Bool, live: Bool, writeBack: Int?) {
        if live {
            e.store(.rsi, JITContext.disp(JITContext.lazyDst), .rax)
            e.store(.rsi, JITContext.disp(JITContext.lazySrc), .rcx)
        }
        // CMP is SUB without the write-back: the record holds the difference.
        e.alu(op == ALUOp.cmp ? ALUOp.sub : op, .rax, .rcx, wide: wide)
        if live { e.store(.rsi, JITContext.disp(JITContext.lazyRes), .rax) }
        if let r = writeBack, op != ALUOp.cmp { e.store(.rdi, gpr(r), .rax) }
    }
}

extension FastForm {
    /// Register-only forms the translation runs by calling the interpreter's handler (`jitInterpretOne`):
    /// none of them can fault, branch or touch memory.
    var runsThroughInterpreter: Bool {
        switch self {
        case .shl32, .shr32, .sar32, .shl64, .shr64, .sar64, .imul32RR, .imul64RR, .imul32RRI, .imul64RRI,
             .cmov32RR, .cmov64RR, .setccReg, .test8RR, .alu8RI, .adc64RR, .sbb64RR:
            return true
        default:
            return false
        }
    }

    /// Operand size of a flag-recording form.
    var flagSize: UInt8 {
        switch self {
        case .add64RR, .or64RR, .and64RR, .sub64RR, .xor64RR, .cmp64RR,
             .add64RI, .or64RI, .and64RI, .sub64RI, .xor64RI, .cmp64RI,
             .test64RR, .test64RI, .inc64, .dec64, .cmpMemImm64, .cmpMemReg64, .testMemImm64, .aluLoad64: return 8
        default: return 4
        }
    }
}
