// A small x86-64 machine-code emitter writing into a fixed buffer (the JIT's back end).
//
// Why not Sources/X86Assembler: that assembler builds an instruction list, allocates per instruction and
// resolves labels at `finish()`, which suits test programs but not a translator emitting thousands of blocks;
// it is also a separate module the processor model does not depend on. The JIT needs a dozen encodings,
// written straight into a preallocated buffer with rel32 branches patched in place, so they are here. The
// encodings follow the SDM Vol. 2 opcode tables (REX, ModRM, SIB), as the assembler's do.

/// Host general-purpose registers by encoding number.
enum HostReg: UInt8 {
    case rax = 0, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11
}

/// Writes x86-64 instructions into a fixed buffer. Writing past the end sets `overflowed` and writes nothing.
struct HostEmitter {
    let buffer: UnsafeMutablePointer<UInt8>
    let capacity: Int
    private(set) var position = 0
    private(set) var overflowed = false

    init(buffer: UnsafeMutablePointer<UInt8>, capacity: Int) {
        self.buffer = buffer
        self.capacity = capacity
    }

    mutating func byte(_ b: UInt8) {
        guard position < capacity else { overflowed = true; return }
        // Safe: position < capacity, the buffer's size.
        buffer[position] = b
        position += 1
    }

    mutating func u32(_ v: UInt32) {
        for i in 0..<4 { byte(UInt8(truncatingIfNeeded: v >> (UInt32(i) * 8))) }
    }

    mutating func u64(_ v: UInt64) {
        for i in 0..<8 { byte(UInt8(truncatingIfNeeded: v >> (UInt64(i) * 8))) }
    }

    /// A REX prefix when any bit is needed (W, R from `reg`, X from `index`, B from `rm`), or always when `force`.
    private mutating func rex(w: Bool, reg: UInt8, index: UInt8 = 0, rm: UInt8, force: Bool = false) {
        let v: UInt8 = 0x40 | (w ? 8 : 0) | ((reg >> 3) & 1) << 2 | ((index >> 3) & 1) << 1 | ((rm >> 3) & 1)
        if v != 0x40 || force { byte(v) }
    }

    /// `opcode` with ModRM naming `[base + disp32]` (base not RSP/R12: no SIB) and register field `reg`.
    private mutating func memory(_ opcode: [UInt8], w: Bool, reg: UInt8, base: HostReg, disp: Int32, byteReg: Bool = false) {
        rex(w: w, reg: reg, rm: base.rawValue, force: byteReg && reg >= 4)
        for b in opcode { byte(b) }
        byte(0x80 | (reg & 7) << 3 | (base.rawValue & 7))
        u32(UInt32(bitPattern: disp))
    }

    /// `opcode` with a register-direct ModRM (`reg`, `rm`).
    private mutating func direct(_ opcode: [UInt8], w: Bool, reg: UInt8, rm: UInt8) {
        rex(w: w, reg: reg, rm: rm)
        for b in opcode { byte(b) }
        byte(0xC0 | (reg & 7) << 3 | (rm & 7))
    }

    /// MOV r64, [base + disp] (`wide`) or MOV r32, [base + disp] (zero-extending).
    mutating func load(_ r: HostReg, _ base: HostReg, _ disp: Int32, wide: Bool = true) {
        memory([0x8B], w: wide, reg: r.rawValue, base: base, disp: disp)
    }

    /// MOV [base + disp], r64.
    mutating func store(_ base: HostReg, _ disp: Int32, _ r: HostReg) {
        memory([0x89], w: true, reg: r.rawValue, base: base, disp: disp)
    }

    /// MOV [base + disp], r at `size` bytes (1, 2, 4, 8).
    mutating func store(_ base: HostReg, _ disp: Int32, _ r: HostReg, size: Int) {
        switch size {
        case 1: memory([0x88], w: false, reg: r.rawValue, base: base, disp: disp, byteReg: true)
        case 2: byte(0x66); memory([0x89], w: false, reg: r.rawValue, base: base, disp: disp)
        case 4: memory([0x89], w: false, reg: r.rawValue, base: base, disp: disp)
        default: store(base, disp, r)
        }
    }

    /// MOVZX r32, byte/word [base + disp].
    mutating func loadZX(_ r: HostReg, _ base: HostReg, _ disp: Int32, size: Int) {
        memory([0x0F, size == 1 ? 0xB6 : 0xB7], w: false, reg: r.rawValue, base: base, disp: disp)
    }

    /// MOVSXD r64, dword [base + disp].
    mutating func loadSX32(_ r: HostReg, _ base: HostReg, _ disp: Int32) {
        memory([0x63], w: true, reg: r.rawValue, base: base, disp: disp)
    }

    /// MOV r, imm: the shortest form that leaves `v` in the whole 64-bit register. Changes no flag.
    mutating func movImm(_ r: HostReg, _ v: UInt64) {
        if v <= 0xFFFF_FFFF {
            rex(w: false, reg: 0, rm: r.rawValue)
            byte(0xB8 | (r.rawValue & 7))
            u32(UInt32(v))
        } else if Int64(bitPattern: v) >= Int64(Int32.min) && Int64(bitPattern: v) <= Int64(Int32.max) {
            direct([0xC7], w: true, reg: 0, rm: r.rawValue)
            u32(UInt32(truncatingIfNeeded: v))
        } else {
            rex(w: true, reg: 0, rm: r.rawValue)
            byte(0xB8 | (r.rawValue & 7))
            u64(v)
        }
    }

    /// MOV dst, src (64-bit, or 32-bit zero-extending).
    mutating func mov(_ dst: HostReg, _ src: HostReg, wide: Bool = true) {
        direct([0x89], w: wide, reg: src.rawValue, rm: dst.rawValue)
    }

    /// ALU `op` (ModRM.reg numbering: ADD OR ADC SBB AND SUB XOR CMP) dst, src at 32 or 64 bits.
    mutating func alu(_ op: UInt8, _ dst: HostReg, _ src: HostReg, wide: Bool) {
        direct([(op & 7) << 3 | 1], w: wide, reg: src.rawValue, rm: dst.rawValue)
    }

    /// TEST dst, src.
    mutating func test(_ dst: HostReg, _ src: HostReg, wide: Bool) {
        direct([0x85], w: wide, reg: src.rawValue, rm: dst.rawValue)
    }

    /// INC or DEC r (FF /0, FF /1).
    mutating func incDec(_ r: HostReg, dec: Bool, wide: Bool) {
        direct([0xFF], w: wide, reg: dec ? 1 : 0, rm: r.rawValue)
    }

    /// NOT r (F7 /2; changes no flag).
    mutating func not(_ r: HostReg, wide: Bool) {
        direct([0xF7], w: wide, reg: 2, rm: r.rawValue)
    }

    /// SHR r, imm8 (64-bit).
    mutating func shr(_ r: HostReg, _ count: UInt8) {
        direct([0xC1], w: true, reg: 5, rm: r.rawValue)
        byte(count)
    }

    /// AND r, imm32 (sign-extended at 64 bits).
    mutating func andImm(_ r: HostReg, _ v: Int32, wide: Bool) {
        direct([0x81], w: wide, reg: 4, rm: r.rawValue)
        u32(UInt32(bitPattern: v))
    }

    /// CMP r, imm32 (sign-extended at 64 bits).
    mutating func cmpImm(_ r: HostReg, _ v: Int32, wide: Bool) {
        direct([0x81], w: wide, reg: 7, rm: r.rawValue)
        u32(UInt32(bitPattern: v))
    }

    /// CMP r, [base + index*8] (64-bit).
    mutating func cmpIndexed(_ r: HostReg, base: HostReg, index: HostReg) {
        rex(w: true, reg: r.rawValue, index: index.rawValue, rm: base.rawValue)
        byte(0x3B)
        sib(reg: r.rawValue, base: base, index: index, scale: 3)
    }

    /// MOV r, [base + index*8] (64-bit).
    mutating func loadIndexed(_ r: HostReg, base: HostReg, index: HostReg) {
        rex(w: true, reg: r.rawValue, index: index.rawValue, rm: base.rawValue)
        byte(0x8B)
        sib(reg: r.rawValue, base: base, index: index, scale: 3)
    }

    /// ModRM + SIB for [base + index << scale] (base not RBP/R13, index not RSP).
    private mutating func sib(reg: UInt8, base: HostReg, index: HostReg, scale: UInt8) {
        byte((reg & 7) << 3 | 4)
        byte((scale & 3) << 6 | (index.rawValue & 7) << 3 | (base.rawValue & 7))
    }

    /// LEA dst, [base + index << scale + disp32] (64-bit; base not RBP/R13, index not RSP). Changes no flag.
    mutating func lea(_ dst: HostReg, base: HostReg, index: HostReg, scale: UInt8, disp: Int32) {
        rex(w: true, reg: dst.rawValue, index: index.rawValue, rm: base.rawValue)
        byte(0x8D)
        byte(0x80 | (dst.rawValue & 7) << 3 | 4)
        byte((scale & 3) << 6 | (index.rawValue & 7) << 3 | (base.rawValue & 7))
        u32(UInt32(bitPattern: disp))
    }

    /// LEA dst, [base + disp32] (64-bit; base not RSP/R12). Changes no flag.
    mutating func lea(_ dst: HostReg, base: HostReg, disp: Int32) {
        memory([0x8D], w: true, reg: dst.rawValue, base: base, disp: disp)
    }

    /// SETcc byte [base + disp] (condition code `cc`, SDM Vol. 1 Table B-1 numbering). Changes no flag.
    mutating func setcc(_ cc: UInt8, _ base: HostReg, _ disp: Int32) {
        memory([0x0F, 0x90 | (cc & 15)], w: false, reg: 0, base: base, disp: disp)
    }

    /// Jcc rel32 with a placeholder displacement; returns the position to `patch`.
    mutating func jcc(_ cc: UInt8) -> Int {
        byte(0x0F); byte(0x80 | (cc & 15))
        let at = position
        u32(0)
        return at
    }

    /// Points the rel32 at `at` (from `jcc`) to the current position.
    mutating func patch(_ at: Int) {
        guard at + 4 <= position else { return }
        let rel = UInt32(truncatingIfNeeded: position - (at + 4))
        for i in 0..<4 { buffer[at + i] = UInt8(truncatingIfNeeded: rel >> (UInt32(i) * 8)) }
    }

    /// RET.
    mutating func ret() { byte(0xC3) }

    /// PUSH r / POP r (RAX–RDI).
    mutating func push(_ r: HostReg) { byte(0x50 | (r.rawValue & 7)) }
    mutating func pop(_ r: HostReg) { byte(0x58 | (r.rawValue & 7)) }

    /// SUB RSP, imm8 / ADD RSP, imm8 (stack alignment around a call).
    mutating func adjustStack(_ delta: Int8) {
        byte(0x48); byte(0x83); byte(delta < 0 ? 0xEC : 0xC4); byte(UInt8(delta < 0 ? -Int(delta) : Int(delta)))
    }

    /// CALL r (absolute, through a register).
    mutating func call(_ r: HostReg) { rex(w: false, reg: 0, rm: r.rawValue); byte(0xFF); byte(0xD0 | (r.rawValue & 7)) }
}
