// Instruction dispatch and the general-purpose data-movement, control-flow and string instructions.

extension CPU {
    /// Executes one decoded instruction. RIP already points past it.
    @inline(__always)
    func execute(_ p: UnsafeMutablePointer<Instruction>) throws(Abort) {
        switch p.pointee.op {
        // Register forms of the ALU operations run inline.
        case .aluRMReg:
            if p.pointee.flags & InstructionFlags.mem == 0 {
                aluIntoRegister(p.pointee.sub, p.pointee.opSize, p.pointee.rm, readReg(p.pointee.reg, p.pointee.opSize))
            } else { try execALURMReg(p.pointee) }
        case .aluRegRM:
            if p.pointee.flags & InstructionFlags.mem == 0 {
                aluIntoRegister(p.pointee.sub, p.pointee.opSize, p.pointee.reg, readReg(p.pointee.rm, p.pointee.opSize))
            } else { try execALURegRM(p.pointee) }
        case .aluRMImm:
            if p.pointee.flags & InstructionFlags.mem == 0 {
                aluIntoRegister(p.pointee.sub, p.pointee.opSize, p.pointee.rm, p.pointee.imm & sizeMask(p.pointee.opSize))
            } else { try execALURMImm(p.pointee) }
        case .movRMReg:
            if p.pointee.isMem { try writeMem(p.pointee.seg, effectiveAddress(p.pointee), p.pointee.opSize, readReg(p.pointee.reg, p.pointee.opSize)) }
            else { writeReg(p.pointee.rm, p.pointee.opSize, readReg(p.pointee.reg, p.pointee.opSize)) }
        case .movRegRM:
            if p.pointee.isMem { writeReg(p.pointee.reg, p.pointee.opSize, try readMem(p.pointee.seg, effectiveAddress(p.pointee), p.pointee.opSize)) }
            else { writeReg(p.pointee.reg, p.pointee.opSize, readReg(p.pointee.rm, p.pointee.opSize)) }
        case .movRMImm: try writeRM(p.pointee, p.pointee.imm & sizeMask(p.pointee.opSize))
        case .movRegImm: writeReg(p.pointee.rm, p.pointee.opSize, p.pointee.imm)
        case .lea: writeReg(p.pointee.reg, p.pointee.opSize, effectiveAddress(p.pointee))
        case .jcc:
            if condition(p.pointee.sub) { try branch(to: ripValue &+ p.pointee.imm, p.pointee.opSize) }
        case .jmpRel: try branch(to: ripValue &+ p.pointee.imm, p.pointee.opSize)
        case .callRel:
            let target = ripValue &+ p.pointee.imm
            try push(ripValue, p.pointee.opSize)
            try branch(to: target, p.pointee.opSize)
        case .retNear:
            let target = try pop(p.pointee.opSize)
            if p.pointee.sub != 0 { adjustSP(p.pointee.imm) }
            try branch(to: target, p.pointee.opSize)
        case .pushReg: try push(readReg(p.pointee.rm, p.pointee.opSize), p.pointee.opSize)
        case .popReg:
            let v = try pop(p.pointee.opSize)
            writeReg(p.pointee.rm, p.pointee.opSize, v)
        case .testRMReg: try execTest(p.pointee, imm: false)
        case .testRMImm: try execTest(p.pointee, imm: true)
        case .incRM:
            if p.pointee.flags & InstructionFlags.mem == 0 {
                writeReg(p.pointee.rm, p.pointee.opSize, incDec(readReg(p.pointee.rm, p.pointee.opSize), p.pointee.opSize, dec: false))
            }
            else { try execIncDec(p.pointee, dec: false) }
        case .decRM:
            if p.pointee.flags & InstructionFlags.mem == 0 {
                writeReg(p.pointee.rm, p.pointee.opSize, incDec(readReg(p.pointee.rm, p.pointee.opSize), p.pointee.opSize, dec: true))
            }
            else { try execIncDec(p.pointee, dec: true) }
        case .cmov:
            let v = try readRM(p.pointee)
            if condition(p.pointee.sub) { writeReg(p.pointee.reg, p.pointee.opSize, v) }
            else if p.pointee.opSize == 4 { writeReg(p.pointee.reg, 4, readReg(p.pointee.reg, 4)) }
        case .setcc: try writeRM(p.pointee, condition(p.pointee.sub) ? 1 : 0)
        case .movzx: writeReg(p.pointee.reg, p.pointee.opSize, try readRM(p.pointee, size: p.pointee.size2))
        case .movsx: writeReg(p.pointee.reg, p.pointee.opSize, signExtend(try readRM(p.pointee, size: p.pointee.size2), p.pointee.size2) & sizeMask(p.pointee.opSize))
        case .movsxd: writeReg(p.pointee.reg, p.pointee.opSize, signExtend(try readRM(p.pointee, size: 4), 4) & sizeMask(p.pointee.opSize))
        // Register forms of the shifts by an immediate, 1 or CL run inline (the rotates through `rotate`).
        case .shiftRMImm:
            if p.pointee.flags & InstructionFlags.mem == 0 {
                shiftRegister(p.pointee.sub, p.pointee.opSize, p.pointee.rm, p.pointee.imm & 0xFF)
            } else { try execShift(p.pointee, count: p.pointee.imm & 0xFF) }
        case .shiftRM1:
            if p.pointee.flags & InstructionFlags.mem == 0 {
                shiftRegister(p.pointee.sub, p.pointee.opSize, p.pointee.rm, 1)
            } else { try execShift(p.pointee, count: 1) }
        case .shiftRMCL:
            if p.pointee.flags & InstructionFlags.mem == 0 {
                shiftRegister(p.pointee.sub, p.pointee.opSize, p.pointee.rm, gpr[Reg.rcx] & 0xFF)
            } else { try execShift(p.pointee, count: gpr[Reg.rcx] & 0xFF) }
        case .notRM: try execNotNeg(p.pointee, neg: false)
        case .negRM: try execNotNeg(p.pointee, neg: true)
        case .mulRM: try execMul(p.pointee, signed: false)
        case .imulRM: try execMul(p.pointee, signed: true)
        case .divRM: try execDiv(p.pointee, signed: false)
        case .idivRM: try execDiv(p.pointee, signed: true)
        case .imulRegRM: try execIMulReg(p.pointee, three: false)
        case .imulRegRMImm: try execIMulReg(p.pointee, three: true)
        case .shldImm: try execDoubleShift(p.pointee, left: true, count: p.pointee.imm & 0xFF)
        case .shldCL: try execDoubleShift(p.pointee, left: true, count: gpr[Reg.rcx] & 0xFF)
        case .shrdImm: try execDoubleShift(p.pointee, left: false, count: p.pointee.imm & 0xFF)
        case .shrdCL: try execDoubleShift(p.pointee, left: false, count: gpr[Reg.rcx] & 0xFF)
        case .btRMReg: try execBitTest(p.pointee, immediate: false)
        case .btRMImm: try execBitTest(p.pointee, immediate: true)
        case .bsf: try execBitScan(p.pointee, reverse: false)
        case .bsr: try execBitScan(p.pointee, reverse: true)
        case .popcnt: try execPopcnt(p.pointee)
        case .bswap: execBswap(p.pointee)
        case .cmpxchg: try execCmpxchg(p.pointee)
        case .cmpxchg8b: try execCmpxchg8b(p.pointee)
        case .xadd: try execXadd(p.pointee)
        case .xchgRMReg: try execXchg(p.pointee)
        case .movbeLoad:
            guard p.pointee.isMem else { throw Abort.ud }
            let v = try readRM(p.pointee)
            writeReg(p.pointee.reg, p.pointee.opSize, byteSwap(v, p.pointee.opSize))
        case .movbeStore:
            guard p.pointee.isMem else { throw Abort.ud }
            try writeRM(p.pointee, byteSwap(readReg(p.pointee.reg, p.pointee.opSize), p.pointee.opSize))
        case .cbw:
            switch p.pointee.opSize {
            case 2: writeReg(0, 2, signExtend(gpr[Reg.rax] & 0xFF, 1))
            case 4: writeReg(0, 4, signExtend(gpr[Reg.rax] & 0xFFFF, 2))
            default: gpr[Reg.rax] = signExtend(gpr[Reg.rax] & 0xFFFF_FFFF, 4)
            }
        case .cwd:
            let s = readReg(0, p.pointee.opSize) & signBit(p.pointee.opSize) != 0
            writeReg(2, p.pointee.opSize, s ? sizeMask(p.pointee.opSize) : 0)
        case .lahf:
            let f = materializedFlags()
            writeReg(16, 1, (f & 0xD5) | 2)
        case .sahf:
            let ah = (gpr[Reg.rax] >> 8) & 0xD5
            setStatusFlags(ah, mask: 0xD5)
        case .xlat:
            let off = (readReg(3, p.pointee.addrSize) &+ (gpr[Reg.rax] & 0xFF)) & sizeMask(p.pointee.addrSize)
            writeReg(0, 1, try readMem(p.pointee.seg, off, 1))
        case .pushImm: try push(p.pointee.imm & sizeMask(p.pointee.opSize), p.pointee.opSize)
        case .pushRM: try push(try readRM(p.pointee), p.pointee.opSize)
        case .popRM:
            let v = try pop(p.pointee.opSize)
            try writeRM(p.pointee, v)
        case .enter: try execEnter(p.pointee)
        case .leave:
            let sa = stackAddrSize
            let bp = readReg(5, sa)
            writeReg(4, sa, bp)
            let v = try pop(p.pointee.opSize)
            writeReg(5, p.pointee.opSize, v)
        case .pusha: try execPusha(p.pointee)
        case .popa: try execPopa(p.pointee)
        case .jmpRM: try branch(to: try readRM(p.pointee), p.pointee.opSize)
        case .callRM:
            let target = try readRM(p.pointee)
            try push(ripValue, p.pointee.opSize)
            try branch(to: target, p.pointee.opSize)
        case .loop:
            let asz = p.pointee.addrSize
            let c = (readReg(1, asz) &- 1) & sizeMask(asz)
            let take: Bool
            switch p.pointee.sub {
            case 0: take = c != 0 && !zeroFlag
            case 1: take = c != 0 && zeroFlag
            default: take = c != 0
            }
            writeReg(1, asz, c)
            if take { try branch(to: ripValue &+ p.pointee.imm, p.pointee.opSize) }
        case .jcxz:
            if readReg(1, p.pointee.addrSize) == 0 { try branch(to: ripValue &+ p.pointee.imm, p.pointee.opSize) }
        case .string: try execString(p.pointee)
        case .movAccMoffs: writeReg(0, p.pointee.opSize, try readMem(p.pointee.seg, UInt64(bitPattern: p.pointee.disp) & sizeMask(p.pointee.addrSize), p.pointee.opSize))
        case .movMoffsAcc: try writeMem(p.pointee.seg, UInt64(bitPattern: p.pointee.disp) & sizeMask(p.pointee.addrSize), p.pointee.opSize, readReg(0, p.pointee.opSize))
        case .clc: setCarryOnly(false)
        case .stc: setCarryOnly(true)
        case .cmc: setCarryOnly(!carryFlag)
        case .cld: flagsBase &= ~RFLAGS.df.rawValue
        case .std: flagsBase |= RFLAGS.df.rawValue
        case .nop: break
        case .pause: try execPause()
        case .ud, .invalid: throw Abort.ud
        case .daa: execDAA(subtract: false)
        case .das: execDAA(subtract: true)
        case .aaa: execAAA(subtract: false)
        case .aas: execAAA(subtract: true)
        case .aam: try execAAM(p.pointee.imm & 0xFF)
        case .aad: execAAD(p.pointee.imm & 0xFF)
        case .salc: writeReg(0, 1, carryFlag ? 0xFF : 0)
        case .fence: break
        case .clflush:
            guard p.pointee.isMem else { throw Abort.ud }
            _ = try linearAddress(p.pointee.seg, effectiveAddress(p.pointee), 1, write: false)
        case .bound: try execBound(p.pointee)
        case .x87: try execX87(p.pointee)
        case .sse: try execSSE(p.pointee)
        case .fwait: try execFwait()
        default: try executeSystem(p.pointee)
        }
    }

    /// Byte-swaps the low `size` bytes.
    @inline(__always) func byteSwap(_ v: UInt64, _ size: UInt8) -> UInt64 {
        switch size {
        case 2: return UInt64(UInt16(truncatingIfNeeded: v).byteSwapped)
        case 4: return UInt64(UInt32(truncatingIfNeeded: v).byteSwapped)
        default: return v.byteSwapped
        }
    }

    /// Near branch: truncates the target to the operand size and checks the CS limit (or canonicality).
    @inline(__always)
    func branch(to target: UInt64, _ size: UInt8) throws(Abort) {
        if size == 8 {
            if !isCanonical(target) { throw Abort.gp(0) }
            ripValue = target
            return
        }
        let t = target & sizeMask(size)
        if codeSize != 8 && t > UInt64(seg[Seg.cs].limit) { throw Abort.gp(0) }
        ripValue = t
    }

    /// ENTER (SDM Vol. 2A): builds a stack frame with `level` nested frame pointers.
    func execEnter(_ i: borrowing Instruction) throws(Abort) {
        let size = i.opSize
        let sa = stackAddrSize
        let level = UInt64(i.imm2 & 31)
        let allocation = i.imm & 0xFFFF
        try push(readReg(5, size), size)
        let frameTemp = readReg(4, sa)
        if level > 0 {
            var bp = readReg(5, sa)
            if level > 1 {
                for _ in 1..<level {
                    bp = (bp &- UInt64(size)) & sizeMask(sa)
                    let v = try readMem(2, bp, size)
                    try push(v, size)
                }
            }
            try push(frameTemp, size)
        }
        let newSP = (readReg(4, sa) &- allocation) & sizeMask(sa)
        // The new stack top must be writable (a #PF or #SS is raised before any register changes).
        if allocation > 0 { try probeWrite(2, newSP, 1) }
        writeReg(5, size, frameTemp)
        writeReg(4, sa, newSP)
    }

    func execPusha(_ i: borrowing Instruction) throws(Abort) {
        let size = i.opSize
        let sp = readReg(4, size)
        for r: UInt8 in 0..<8 { try push(r == 4 ? sp : readReg(r, size), size) }
    }

    func execPopa(_ i: borrowing Instruction) throws(Abort) {
        let size = i.opSize
        var vals = [UInt64](repeating: 0, count: 8)
        for k in 0..<8 { vals[7 - k] = try pop(size) }
        for r: UInt8 in 0..<8 where r != 4 { writeReg(r, size, vals[Int(r)]) }
    }

    func execBound(_ i: borrowing Instruction) throws(Abort) {
        guard i.isMem else { throw Abort.ud }
        let size = i.opSize
        let ea = effectiveAddress(i)
        let lo = Int64(bitPattern: signExtend(try readMem(i.seg, ea, size), size))
        let hi = Int64(bitPattern: signExtend(try readMem(i.seg, (ea &+ UInt64(size)) & sizeMask(i.addrSize), size), size))
        let v = Int64(bitPattern: signExtend(readReg(i.reg, size), size))
        if v < lo || v > hi { throw Abort.br }
    }

    // MARK: Strings

    /// One step of a forward REP MOVS (`kind` 0), CMPS (1), STOS (2) or SCAS (4) in 64-bit code: as many
    /// elements as lie in the current pages of the destination (and of the source), at most `count` and
    /// `budget`, done in host memory when the TLB serves both pages (`fastHostAddress`). Updates RSI and RDI
    /// (and for CMPS/SCAS the flags, as the last comparison left them) and returns the number of elements done;
    /// `stop` tells that a CMPS/SCAS comparison ended the repetition (REPE: unequal, REPNE: equal). Returns 0
    /// when this step must go element by element: a TLB miss, a fault to raise, an element crossing the page,
    /// or a MOVS whose destination starts inside the source run ahead of it (the element-by-element copy then
    /// repeats data, which a block copy would not).
    func bulkString(_ kind: UInt8, _ srcSeg: UInt8, _ size: UInt8, _ count: UInt64, _ budget: Int, repe: Bool,
                    stop: inout Bool) -> UInt64 {
        let width = Int(size)
        let di = gpr[Reg.rdi]
        var n = min(Int(min(count, UInt64(budget))), (4096 - Int(di & 0xFFF)) / width)
        guard n > 0, let dst = fastHostAddress(0, di, width, kind == 0 || kind == 2 ? .write : .read) else { return 0 }
        // MOVS and CMPS also read a source run, bounded by its own page.
        var src: UnsafeMutableRawPointer? = nil
        let si = gpr[Reg.rsi]
        if kind <= 1 {
            let sourceLinear = srcSeg >= 4 ? seg[Int(srcSeg)].base &+ si : si
            n = min(n, (4096 - Int(sourceLinear & 0xFFF)) / width)
            guard n > 0, let s = fastHostAddress(srcSeg, si, width, .read) else { return 0 }
            src = s
        }
        switch kind {
        case 0:
            let bytes = n * width
            guard let s = src, !(dst > s && dst < s + bytes) else { return 0 }
            // Safe: both runs lie in their pages (n was bounded by both); copyMemory allows the overlap that is
            // left (a destination at or before the source copies forward, as the instruction does).
            dst.copyMemory(from: s, byteCount: bytes)
        case 2:
            let v = gpr[Reg.rax]
            if width == 1 {
                dst.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: v), count: n)
            } else {
                // Safe: all n elements lie in the destination page (n was bounded by what is left of it).
                for k in 0..<n { hostStore(dst + k * width, width, v) }
            }
        default:
            // CMPS compares the source run with the destination run, SCAS the accumulator with it.
            var a = gpr[Reg.rax] & sizeMask(size), b: UInt64 = 0
            var k = 0
            // Safe: all n elements lie in their pages (as above).
            while k < n {
                if let s = src { a = hostLoad(s + k * width, width) }
                b = hostLoad(dst + k * width, width)
                k += 1
                if (a == b) != repe { stop = true; break }
            }
            n = k
            setLazy(.sub, size, a, b, (a &- b) & sizeMask(size))
        }
        if src != nil { gpr[Reg.rsi] = si &+ UInt64(n * width) }
        gpr[Reg.rdi] = di &+ UInt64(n * width)
        return UInt64(n)
    }

    /// MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE (SDM Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ").
    /// A repeated instruction runs in chunks; RIP stays on it until RCX reaches zero, so it can be interrupted.
    func execString(_ i: Instruction) throws(Abort) {
        let size = i.opSize
        let asz = i.addrSize
        let am = sizeMask(asz)
        let delta: UInt64 = flagsBase & RFLAGS.df.rawValue != 0 ? 0 &- UInt64(size) : UInt64(size)
        let rep = i.hasRep
        let kind = i.sub
        if kind >= 5 { currentInstruction = i; try checkIOPermission(port: UInt16(truncatingIfNeeded: gpr[Reg.rdx]), size: Int(size)) }
        var count = rep ? readReg(1, asz) : 1
        if count == 0 { return }
        var chunk = 1024
        let srcSeg = i.seg
        // Forward REP MOVS, CMPS, STOS and SCAS in 64-bit code go a page at a time on guest RAM (`bulkString`).
        let bulk = rep && kind != 3 && kind <= 4 && asz == 8 && codeSize == 8 && delta == UInt64(size)
        while count > 0 && chunk > 0 {
            if bulk {
                var stop = false
                let done = bulkString(kind, srcSeg, size, count, chunk, repe: i.flags & InstructionFlags.rep != 0,
                                      stop: &stop)
                if done > 0 {
                    count &-= done
                    chunk -= Int(done)
                    gpr[Reg.rcx] = count
                    if stop { return }
                    continue
                }
            }
            let si = readReg(6, asz), di = readReg(7, asz)
            switch kind {
            case 0: // MOVS
                let v = try readMem(srcSeg, si, size)
                try writeMem(0, di, size, v)
                writeReg(6, asz, (si &+ delta) & am)
                writeReg(7, asz, (di &+ delta) & am)
            case 1: // CMPS
                let a = try readMem(srcSeg, si, size)
                let b = try readMem(0, di, size)
                writeReg(6, asz, (si &+ delta) & am)
                writeReg(7, asz, (di &+ delta) & am)
                setLazy(.sub, size, a, b, (a &- b) & sizeMask(size))
            case 2: // STOS
                try writeMem(0, di, size, readReg(0, size))
                writeReg(7, asz, (di &+ delta) & am)
            case 3: // LODS
                writeReg(0, size, try readMem(srcSeg, si, size))
                writeReg(6, asz, (si &+ delta) & am)
            case 4: // SCAS
                let a = readReg(0, size)
                let b = try readMem(0, di, size)
                writeReg(7, asz, (di &+ delta) & am)
                setLazy(.sub, size, a, b, (a &- b) & sizeMask(size))
            case 5: // INS
                try probeWrite(0, di, Int(size))
                let v = try portRead(UInt16(truncatingIfNeeded: gpr[Reg.rdx]), Int(size))
                try writeMem(0, di, size, UInt64(v))
                writeReg(7, asz, (di &+ delta) & am)
            default: // OUTS
                let v = try readMem(srcSeg, si, size)
                try portWrite(UInt16(truncatingIfNeeded: gpr[Reg.rdx]), Int(size), UInt32(truncatingIfNeeded: v))
                writeReg(6, asz, (si &+ delta) & am)
            }
            if !rep { return }
            count = (count &- 1) & am
            writeReg(1, asz, count)
            if kind == 1 || kind == 4 {
                // REPE stops when ZF = 0, REPNE when ZF = 1.
                let zf = zeroFlag
                if i.flags & InstructionFlags.rep != 0 ? !zf : zf { return }
            }
            chunk -= 1
        }
        if count != 0 {
            // Not finished: execute the instruction again (events may be taken in between).
            ripValue = startRIP
        }
    }
}
