// Instruction dispatch and the general-purpose data-movement, control-flow and string instructions.

extension CPU {
    /// Executes one decoded instruction. RIP already points past it.
    @inline(__always)
    func execute(_ p: UnsafeMutablePointer<Instruction>) throws(Abort) {
        let i = p.pointee
        switch i.op {
        case .aluRMReg: try execALURMReg(i)
        case .aluRegRM: try execALURegRM(i)
        case .aluRMImm: try execALURMImm(i)
        case .movRMReg:
            if i.isMem { try writeMem(i.seg, effectiveAddress(i), i.opSize, readReg(i.reg, i.opSize)) }
            else { writeReg(i.rm, i.opSize, readReg(i.reg, i.opSize)) }
        case .movRegRM: writeReg(i.reg, i.opSize, try readRM(i))
        case .movRMImm: try writeRM(i, i.imm & sizeMask(i.opSize))
        case .movRegImm: writeReg(i.rm, i.opSize, i.imm)
        case .lea: writeReg(i.reg, i.opSize, effectiveAddress(i))
        case .jcc:
            if condition(i.sub) { try branch(to: ripValue &+ i.imm, i.opSize) }
        case .jmpRel: try branch(to: ripValue &+ i.imm, i.opSize)
        case .callRel:
            let target = ripValue &+ i.imm
            try push(ripValue, i.opSize)
            try branch(to: target, i.opSize)
        case .retNear:
            let target = try pop(i.opSize)
            if i.sub != 0 { adjustSP(i.imm) }
            try branch(to: target, i.opSize)
        case .pushReg: try push(readReg(i.rm, i.opSize), i.opSize)
        case .popReg:
            let v = try pop(i.opSize)
            writeReg(i.rm, i.opSize, v)
        case .testRMReg: try execTest(i, imm: false)
        case .testRMImm: try execTest(i, imm: true)
        case .incRM: try execIncDec(i, dec: false)
        case .decRM: try execIncDec(i, dec: true)
        case .cmov:
            let v = try readRM(i)
            if condition(i.sub) { writeReg(i.reg, i.opSize, v) }
            else if i.opSize == 4 { writeReg(i.reg, 4, readReg(i.reg, 4)) }
        case .setcc: try writeRM(i, condition(i.sub) ? 1 : 0)
        case .movzx: writeReg(i.reg, i.opSize, try readRM(i, size: i.size2))
        case .movsx: writeReg(i.reg, i.opSize, signExtend(try readRM(i, size: i.size2), i.size2) & sizeMask(i.opSize))
        case .movsxd: writeReg(i.reg, i.opSize, signExtend(try readRM(i, size: 4), 4) & sizeMask(i.opSize))
        case .shiftRMImm: try execShift(i, count: i.imm & 0xFF)
        case .shiftRM1: try execShift(i, count: 1)
        case .shiftRMCL: try execShift(i, count: gpr[1] & 0xFF)
        case .notRM: try execNotNeg(i, neg: false)
        case .negRM: try execNotNeg(i, neg: true)
        case .mulRM: try execMul(i, signed: false)
        case .imulRM: try execMul(i, signed: true)
        case .divRM: try execDiv(i, signed: false)
        case .idivRM: try execDiv(i, signed: true)
        case .imulRegRM: try execIMulReg(i, three: false)
        case .imulRegRMImm: try execIMulReg(i, three: true)
        case .shldImm: try execDoubleShift(i, left: true, count: i.imm & 0xFF)
        case .shldCL: try execDoubleShift(i, left: true, count: gpr[1] & 0xFF)
        case .shrdImm: try execDoubleShift(i, left: false, count: i.imm & 0xFF)
        case .shrdCL: try execDoubleShift(i, left: false, count: gpr[1] & 0xFF)
        case .btRMReg: try execBitTest(i, immediate: false)
        case .btRMImm: try execBitTest(i, immediate: true)
        case .bsf: try execBitScan(i, reverse: false)
        case .bsr: try execBitScan(i, reverse: true)
        case .popcnt: try execPopcnt(i)
        case .bswap: execBswap(i)
        case .cmpxchg: try execCmpxchg(i)
        case .cmpxchg8b: try execCmpxchg8b(i)
        case .xadd: try execXadd(i)
        case .xchgRMReg: try execXchg(i)
        case .movbeLoad:
            guard i.isMem else { throw Abort.exception(6, nil) }
            let v = try readRM(i)
            writeReg(i.reg, i.opSize, byteSwap(v, i.opSize))
        case .movbeStore:
            guard i.isMem else { throw Abort.exception(6, nil) }
            try writeRM(i, byteSwap(readReg(i.reg, i.opSize), i.opSize))
        case .cbw:
            switch i.opSize {
            case 2: writeReg(0, 2, signExtend(gpr[0] & 0xFF, 1))
            case 4: writeReg(0, 4, signExtend(gpr[0] & 0xFFFF, 2))
            default: gpr[0] = signExtend(gpr[0] & 0xFFFF_FFFF, 4)
            }
        case .cwd:
            let s = readReg(0, i.opSize) & signBit(i.opSize) != 0
            writeReg(2, i.opSize, s ? sizeMask(i.opSize) : 0)
        case .lahf:
            let f = materializedFlags()
            writeReg(16, 1, (f & 0xD5) | 2)
        case .sahf:
            let ah = (gpr[0] >> 8) & 0xD5
            setStatusFlags(ah, mask: 0xD5)
        case .xlat:
            let off = (readReg(3, i.addrSize) &+ (gpr[0] & 0xFF)) & sizeMask(i.addrSize)
            writeReg(0, 1, try readMem(i.seg, off, 1))
        case .pushImm: try push(i.imm & sizeMask(i.opSize), i.opSize)
        case .pushRM: try push(try readRM(i), i.opSize)
        case .popRM:
            let v = try pop(i.opSize)
            try writeRM(i, v)
        case .enter: try execEnter(i)
        case .leave:
            let sa = stackAddrSize
            let bp = readReg(5, sa)
            writeReg(4, sa, bp)
            let v = try pop(i.opSize)
            writeReg(5, i.opSize, v)
        case .pusha: try execPusha(i)
        case .popa: try execPopa(i)
        case .jmpRM: try branch(to: try readRM(i), i.opSize)
        case .callRM:
            let target = try readRM(i)
            try push(ripValue, i.opSize)
            try branch(to: target, i.opSize)
        case .loop:
            let asz = i.addrSize
            let c = (readReg(1, asz) &- 1) & sizeMask(asz)
            let take: Bool
            switch i.sub {
            case 0: take = c != 0 && !zeroFlag
            case 1: take = c != 0 && zeroFlag
            default: take = c != 0
            }
            writeReg(1, asz, c)
            if take { try branch(to: ripValue &+ i.imm, i.opSize) }
        case .jcxz:
            if readReg(1, i.addrSize) == 0 { try branch(to: ripValue &+ i.imm, i.opSize) }
        case .string: try execString(i)
        case .movAccMoffs: writeReg(0, i.opSize, try readMem(i.seg, UInt64(bitPattern: i.disp) & sizeMask(i.addrSize), i.opSize))
        case .movMoffsAcc: try writeMem(i.seg, UInt64(bitPattern: i.disp) & sizeMask(i.addrSize), i.opSize, readReg(0, i.opSize))
        case .clc: setCarryOnly(false)
        case .stc: setCarryOnly(true)
        case .cmc: setCarryOnly(!carryFlag)
        case .cld: flagsBase &= ~RFLAGS.df.rawValue
        case .std: flagsBase |= RFLAGS.df.rawValue
        case .nop: break
        case .pause: try execPause()
        case .ud, .invalid: throw Abort.exception(6, nil)
        case .daa: execDAA(subtract: false)
        case .das: execDAA(subtract: true)
        case .aaa: execAAA(subtract: false)
        case .aas: execAAA(subtract: true)
        case .aam: try execAAM(i.imm & 0xFF)
        case .aad: execAAD(i.imm & 0xFF)
        case .fence: break
        case .clflush:
            guard i.isMem else { throw Abort.exception(6, nil) }
            _ = try linearAddress(i.seg, effectiveAddress(i), 1, write: false)
        case .bound: try execBound(i)
        case .x87: try execX87(i)
        case .sse: try execSSE(i)
        case .fwait: try execFwait()
        default: try executeSystem(i)
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
            if !isCanonical(target) { throw Abort.exception(13, 0) }
            ripValue = target
            return
        }
        let t = target & sizeMask(size)
        if codeSize != 8 && t > UInt64(seg[1].limit) { throw Abort.exception(13, 0) }
        ripValue = t
    }

    /// ENTER (SDM Vol. 2A): builds a stack frame with `level` nested frame pointers.
    func execEnter(_ i: Instruction) throws(Abort) {
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

    func execPusha(_ i: Instruction) throws(Abort) {
        let size = i.opSize
        let sp = readReg(4, size)
        for r: UInt8 in 0..<8 { try push(r == 4 ? sp : readReg(r, size), size) }
    }

    func execPopa(_ i: Instruction) throws(Abort) {
        let size = i.opSize
        var vals = [UInt64](repeating: 0, count: 8)
        for k in 0..<8 { vals[7 - k] = try pop(size) }
        for r: UInt8 in 0..<8 where r != 4 { writeReg(r, size, vals[Int(r)]) }
    }

    func execBound(_ i: Instruction) throws(Abort) {
        guard i.isMem else { throw Abort.exception(6, nil) }
        let size = i.opSize
        let ea = effectiveAddress(i)
        let lo = Int64(bitPattern: signExtend(try readMem(i.seg, ea, size), size))
        let hi = Int64(bitPattern: signExtend(try readMem(i.seg, (ea &+ UInt64(size)) & sizeMask(i.addrSize), size), size))
        let v = Int64(bitPattern: signExtend(readReg(i.reg, size), size))
        if v < lo || v > hi { throw Abort.exception(5, nil) }
    }

    // MARK: Strings

    /// MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE (SDM Vol. 2B "REP/REPE/REPZ/REPNE/REPNZ").
    /// A repeated instruction runs in chunks; RIP stays on it until RCX reaches zero, so it can be interrupted.
    func execString(_ i: Instruction) throws(Abort) {
        let size = i.opSize
        let asz = i.addrSize
        let am = sizeMask(asz)
        let delta: UInt64 = flagsBase & RFLAGS.df.rawValue != 0 ? 0 &- UInt64(size) : UInt64(size)
        let rep = i.hasRep
        let kind = i.sub
        if kind >= 5 { currentInstruction = i; try checkIOPermission(port: UInt16(truncatingIfNeeded: gpr[2]), size: Int(size)) }
        var count = rep ? readReg(1, asz) : 1
        if count == 0 { return }
        var chunk = 1024
        let srcSeg = i.seg
        while count > 0 && chunk > 0 {
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
                let v = try portRead(UInt16(truncatingIfNeeded: gpr[2]), Int(size))
                try writeMem(0, di, size, UInt64(v))
                writeReg(7, asz, (di &+ delta) & am)
            default: // OUTS
                let v = try readMem(srcSeg, si, size)
                try portWrite(UInt16(truncatingIfNeeded: gpr[2]), Int(size), UInt32(truncatingIfNeeded: v))
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
