// Operand access: registers, effective addresses and segmented memory (SDM Vol. 3A §3.4, §5.3).

extension CPU {
    // MARK: Registers

    /// Reads a register operand of `size` bytes; 16–19 name AH, CH, DH, BH.
    @inline(__always) func readReg(_ r: UInt8, _ size: UInt8) -> UInt64 {
        switch size {
        case 1:
            if r >= 16 { return (gpr[Int(r & 3)] >> 8) & 0xFF }
            return gpr[Int(r & 15)] & 0xFF
        case 2: return gpr[Int(r & 15)] & 0xFFFF
        case 4: return gpr[Int(r & 15)] & 0xFFFF_FFFF
        default: return gpr[Int(r & 15)]
        }
    }

    /// Writes a register operand; 32-bit writes zero the upper half, 8/16-bit writes merge.
    @inline(__always) func writeReg(_ r: UInt8, _ size: UInt8, _ v: UInt64) {
        switch size {
        case 1:
            if r >= 16 {
                let k = Int(r & 3)
                gpr[k] = (gpr[k] & ~0xFF00) | ((v & 0xFF) << 8)
            } else {
                let k = Int(r & 15)
                gpr[k] = (gpr[k] & ~0xFF) | (v & 0xFF)
            }
        case 2:
            let k = Int(r & 15)
            gpr[k] = (gpr[k] & ~0xFFFF) | (v & 0xFFFF)
        case 4: gpr[Int(r & 15)] = v & 0xFFFF_FFFF
        default: gpr[Int(r & 15)] = v
        }
    }

    // MARK: Effective addresses

    /// The effective address (offset within the segment) of the memory operand (SDM Vol. 1 §3.7.5).
    @inline(__always) func effectiveAddress(_ i: borrowing Instruction) -> UInt64 {
        var a = UInt64(bitPattern: i.disp)
        if i.base != 0xFF { a &+= i.base == 16 ? ripValue : gpr[Int(i.base & 15)] }
        if i.index != 0xFF { a &+= gpr[Int(i.index & 15)] &<< UInt64(i.scale) }
        switch i.addrSize {
        case 2: return a & 0xFFFF
        case 4: return a & 0xFFFF_FFFF
        default: return a
        }
    }

    // MARK: Segmentation

    /// Converts segment:offset to a linear address, checking the segment's usability, type and limit
    /// (SDM Vol. 3A §5.3) outside 64-bit mode, and canonicality inside it. Faults are #GP(0), or #SS(0) for SS.
    @inline(__always)
    func linearAddress(_ s: UInt8, _ off: UInt64, _ size: Int, write: Bool) throws(Abort) -> UInt64 {
        if codeSize == 8 {
            let la = s >= 4 ? seg[Int(s)].base &+ off : off
            if !isCanonical(la) || !isCanonical(la &+ UInt64(size &- 1)) {
                throw Abort.exception(s == 2 ? 12 : 13, 0)
            }
            return la
        }
        return try linearAddressLegacy(s, off, size, write: write)
    }

    /// Segment checks outside 64-bit mode.
    @inline(__always)
    func linearAddressLegacy(_ s: UInt8, _ off: UInt64, _ size: Int, write: Bool) throws(Abort) -> UInt64 {
        let sr = seg[Int(s & 7)]
        let vec: UInt8 = s == 2 ? 12 : 13
        let last = off &+ UInt64(size &- 1)
        if mode == .real || mode == .virtual8086 {
            if last > UInt64(sr.limit) && !(sr.type & 0xC == 4 && off > UInt64(sr.limit)) {
                throw Abort.exception(vec, 0)
            }
            return (sr.base &+ off) & 0xFFFF_FFFF
        }
        let ar = sr.accessRights
        if ar & 0x10000 != 0 || ar & 0x80 == 0 { throw Abort.exception(vec, 0) }
        let type = ar & 0xF
        if ar & 0x10 == 0 { throw Abort.exception(vec, 0) }
        if write {
            if type & 0xA != 0x2 { throw Abort.exception(vec, 0) }      // writable data only
        } else if type & 0xA == 0x8 {
            throw Abort.exception(vec, 0)                               // execute-only code
        }
        if type & 0xC == 0x4 {
            // Expand-down data: valid offsets are limit+1 ... 0xFFFF or 0xFFFFFFFF.
            let upper: UInt64 = ar & 0x4000 != 0 ? 0xFFFF_FFFF : 0xFFFF
            if off <= UInt64(sr.limit) || last > upper || last < off { throw Abort.exception(vec, 0) }
        } else if last > UInt64(sr.limit) || last < off {
            throw Abort.exception(vec, 0)
        }
        return (sr.base &+ off) & 0xFFFF_FFFF
    }

    /// Whether alignment checking applies (CR0.AM, RFLAGS.AC, CPL 3; SDM Vol. 3A §6.15, #AC).
    @inline(__always) var alignmentCheck: Bool {
        cpl == 3 && flagsBase & RFLAGS.ac.rawValue != 0 && cr0Value & CR0.am.rawValue != 0
    }

    // MARK: Memory operands

    /// Reads `size` bytes at segment:offset.
    @inline(__always)
    func readMem(_ s: UInt8, _ off: UInt64, _ size: UInt8) throws(Abort) -> UInt64 {
        let la = try linearAddress(s, off, Int(size), write: false)
        if la & UInt64(size &- 1) != 0 && alignmentCheck { throw Abort.ac(0) }
        return try readLinear(la, Int(size), user: cpl == 3)
    }

    /// Writes `size` bytes at segment:offset.
    @inline(__always)
    func writeMem(_ s: UInt8, _ off: UInt64, _ size: UInt8, _ v: UInt64) throws(Abort) {
        let la = try linearAddress(s, off, Int(size), write: true)
        if la & UInt64(size &- 1) != 0 && alignmentCheck { throw Abort.ac(0) }
        try writeLinear(la, Int(size), v, user: cpl == 3)
    }

    /// Reads the memory destination of a read-modify-write instruction (ALU ops, INC, XCHG, CMPXCHG...).
    /// The read is checked as a write: a fault on it is reported with W/R = 1, as the processor does
    /// (SDM Vol. 3A §4.7), and happens before anything changes.
    @inline(__always)
    func readMemForWrite(_ s: UInt8, _ off: UInt64, _ size: UInt8) throws(Abort) -> UInt64 {
        let la = try linearAddress(s, off, Int(size), write: true)
        if la & UInt64(size &- 1) != 0 && alignmentCheck { throw Abort.ac(0) }
        let user = cpl == 3
        // A cached write translation of the page means the write is permitted: no walk needed.
        if tlb.tags[TLB.slot(la, .write, user)] != tlb.key(la) || (la & 0xFFF) &+ UInt64(size) > 4096 {
            _ = try translate(la, .write, user: user)
            if (la & 0xFFF) &+ UInt64(size) > 4096 { _ = try translate(maskLinear((la | 0xFFF) &+ 1), .write, user: user) }
        }
        return try readLinear(la, Int(size), user: user)
    }

    /// Reads the r/m operand of a read-modify-write instruction (memory: checked as a write).
    @inline(__always)
    func readRMForWrite(_ i: borrowing Instruction) throws(Abort) -> UInt64 {
        if i.flags & InstructionFlags.mem != 0 { return try readMemForWrite(i.seg, effectiveAddress(i), i.opSize) }
        return readReg(i.rm, i.opSize)
    }

    /// Checks that a write to segment:offset would succeed (segment and paging), without writing.
    func probeWrite(_ s: UInt8, _ off: UInt64, _ size: Int) throws(Abort) {
        let la = try linearAddress(s, off, size, write: true)
        _ = try translate(la, .write, user: cpl == 3)
        if (la & 0xFFF) &+ UInt64(size) > 4096 { _ = try translate(maskLinear((la | 0xFFF) &+ 1), .write, user: cpl == 3) }
    }

    /// Reads the r/m operand at the instruction's operand size.
    @inline(__always)
    func readRM(_ i: borrowing Instruction) throws(Abort) -> UInt64 {
        if i.flags & InstructionFlags.mem != 0 { return try readMem(i.seg, effectiveAddress(i), i.opSize) }
        return readReg(i.rm, i.opSize)
    }

    /// Reads the r/m operand at a given size.
    @inline(__always)
    func readRM(_ i: borrowing Instruction, size: UInt8) throws(Abort) -> UInt64 {
        if i.flags & InstructionFlags.mem != 0 { return try readMem(i.seg, effectiveAddress(i), size) }
        return readReg(i.rm, size)
    }

    /// Writes the r/m operand at the instruction's operand size.
    @inline(__always)
    func writeRM(_ i: borrowing Instruction, _ v: UInt64) throws(Abort) {
        if i.flags & InstructionFlags.mem != 0 { try writeMem(i.seg, effectiveAddress(i), i.opSize, v) }
        else { writeReg(i.rm, i.opSize, v) }
    }

    /// Writes the r/m operand at a given size.
    @inline(__always)
    func writeRM(_ i: borrowing Instruction, size: UInt8, _ v: UInt64) throws(Abort) {
        if i.flags & InstructionFlags.mem != 0 { try writeMem(i.seg, effectiveAddress(i), size, v) }
        else { writeReg(i.rm, size, v) }
    }

    // MARK: Stack

    /// Stack address size in bytes: 8 in 64-bit mode, else SS.B selects 4 or 2.
    @inline(__always) var stackAddrSize: UInt8 {
        codeSize == 8 ? 8 : (seg[Seg.ss].db ? 4 : 2)
    }

    /// Pushes a value of `size` bytes.
    @inline(__always)
    func push(_ v: UInt64, _ size: UInt8) throws(Abort) {
        let sa = stackAddrSize
        let sp = gpr[Reg.rsp]
        let newSP: UInt64
        switch sa {
        case 8: newSP = sp &- UInt64(size)
        case 4: newSP = (sp &- UInt64(size)) & 0xFFFF_FFFF
        default: newSP = (sp &- UInt64(size)) & 0xFFFF
        }
        try writeMem(2, newSP, size, v)
        switch sa {
        case 8: gpr[Reg.rsp] = newSP
        case 4: gpr[Reg.rsp] = newSP
        default: gpr[Reg.rsp] = (sp & ~0xFFFF) | newSP
        }
    }

    /// Pops a value of `size` bytes.
    @inline(__always)
    func pop(_ size: UInt8) throws(Abort) -> UInt64 {
        let sa = stackAddrSize
        let sp = gpr[Reg.rsp]
        let off = sa == 8 ? sp : (sa == 4 ? sp & 0xFFFF_FFFF : sp & 0xFFFF)
        let v = try readMem(2, off, size)
        switch sa {
        case 8: gpr[Reg.rsp] = sp &+ UInt64(size)
        case 4: gpr[Reg.rsp] = (sp &+ UInt64(size)) & 0xFFFF_FFFF
        default: gpr[Reg.rsp] = (sp & ~0xFFFF) | ((sp &+ UInt64(size)) & 0xFFFF)
        }
        return v
    }

    /// Reads a value at stack offset `delta` from the current stack pointer without popping.
    @inline(__always)
    func peekStack(_ delta: UInt64, _ size: UInt8) throws(Abort) -> UInt64 {
        let sa = stackAddrSize
        let sp = gpr[Reg.rsp] &+ delta
        let off = sa == 8 ? sp : (sa == 4 ? sp & 0xFFFF_FFFF : sp & 0xFFFF)
        return try readMem(2, off, size)
    }

    /// Adds to the stack pointer at the stack address size.
    @inline(__always)
    func adjustSP(_ delta: UInt64) {
        let sa = stackAddrSize
        let sp = gpr[Reg.rsp]
        switch sa {
        case 8: gpr[Reg.rsp] = sp &+ delta
        case 4: gpr[Reg.rsp] = (sp &+ delta) & 0xFFFF_FFFF
        default: gpr[Reg.rsp] = (sp & ~0xFFFF) | ((sp &+ delta) & 0xFFFF)
        }
    }
}
