// Decode-time specialised forms of the most frequent 64-bit instructions.
//
// `CPU.execute` dispatches on the operation and then branches at run time on operand size, register or
// memory form, ALU operation and condition code. For the forms that dominate real 64-bit code (measured on
// the Linux boot: 32- and 64-bit register ALU operations, moves, loads and stores, LEA, shifts by an
// immediate, conditional branches, CALL/RET/PUSH/POP), the block builder (`CPU.buildBlock`) resolves all of
// that once and stores a `FastForm` in the instruction; the block loop then runs a handler with nothing left
// to decide.
//
// A handler only reaches its operands a faster way: the operation itself is the general path's (`CPU.alu`,
// `shift`, `imul`, `incDec`, `testFlags` in ALU.swift), so there is one semantics per operation. The
// differential test checks each layer on its own (`swiftvmx-dev differential --path general|blocks|all`).
// Every handler keeps two promises that let the block loop skip work (a debug build asserts both after every
// specialised instruction, `CPU.checkFastFormPromises`):
// - it changes no architectural state before its last possible fault, so a fault needs no undo snapshot;
// - it touches no event, mode or privilege state (interrupt flag, shadows, CPL, CR0/CR3/CR4/EFER, segments),
//   so after it only RIP (a taken branch) and, for memory forms, the code page and the TLB can have changed.
// Only 64-bit code with 64-bit addressing and no LOCK prefix gets a form; everything else stays `.none`.

/// A specialised instruction form (`Instruction.fast`); `none` runs through `CPU.execute`.
enum FastForm: UInt8 {
    case none = 0
    // Register ALU operations, destination ModRM.rm, source ModRM.reg (01 09 21 29 31 39 with a register r/m).
    case add32RR, or32RR, and32RR, sub32RR, xor32RR, cmp32RR
    case add64RR, or64RR, and64RR, sub64RR, xor64RR, cmp64RR
    // Destination ModRM.rm, source the immediate (81 and 83 with a register r/m).
    case add32RI, or32RI, and32RI, sub32RI, xor32RI, cmp32RI
    case add64RI, or64RI, and64RI, sub64RI, xor64RI, cmp64RI
    // TEST r/m, reg and TEST r/m, imm with a register r/m.
    case test32RR, test64RR, test32RI, test64RI
    // MOV between registers: destination ModRM.rm (89) or ModRM.reg (8B).
    case mov32ToRM, mov64ToRM, mov32ToReg, mov64ToReg
    // MOV reg, imm (B8+r, C7 with a register r/m).
    case movImm32, movImm64
    // Shifts of a register by an immediate, by 1 or by CL.
    case shl32, shr32, sar32, shl64, shr64, sar64
    // INC/DEC of a register.
    case inc32, dec32, inc64, dec64
    // IMUL reg, r/m with a register r/m.
    case imul32RR, imul64RR
    // CMOVcc reg, r/m with a register r/m (condition in `sub`).
    case cmov32RR, cmov64RR
    // LEA at 64- and 32-bit operand size.
    case lea64, lea32
    // Jcc by condition code (sub 0–15).
    case jo, jno, jb, jae, je, jne, jbe, ja, js, jns, jp, jnp, jl, jge, jle, jg
    // Near JMP/CALL relative, RET without an immediate.
    case jmpRel, callRel, ret
    // NOP (90, 0F 1F).
    case nop
    // IMUL reg, r/m, imm with a register r/m.
    case imul32RRI, imul64RRI
    // MOVZX from a byte or word register (not AH–BH), MOVSXD from a register.
    case movzx8RR, movzx16RR, movsxdRR
    // JMP through a 64-bit register.
    case jmpReg64
    // SETcc of a low byte register (condition in `sub`); TEST of two low byte registers.
    case setccReg, test8RR
    // ADD OR AND SUB XOR CMP of a low byte register and an immediate (operation in `sub`).
    case alu8RI
    // ADC and SBB of 64-bit registers (destination ModRM.rm).
    case adc64RR, sbb64RR
    // NOT of a register.
    case not32, not64
    // From here on: forms that access memory (the block loop re-checks the code page and TLB after them).
    case load32, load64, loadZX8, loadZX16
    case store8, store16, store32, store64
    // ALU reg, [mem] (03 0B 23 2B 33 3B); ALU operation in `sub`.
    case aluLoad32, aluLoad64
    // PUSH/POP of a 64-bit register.
    case push64, pop64
    // MOVSXD reg, [mem]; MOV [mem], imm.
    case movsxdLoad, storeImm32, storeImm64
    // CMP [mem], imm / CMP [mem], reg / TEST [mem], imm (read only).
    case cmpMemImm32, cmpMemImm64, cmpMemReg32, cmpMemReg64, testMemImm32, testMemImm64
    // CALL through a register or memory, JMP through memory (64-bit).
    case callReg64, callMem64, jmpMem64
    // CMP byte [mem], imm; TEST byte [mem], imm; MOV byte [mem], imm.
    case cmpMemImm8, testMemImm8, storeImm8
    // SSE2 ADDSD SUBSD MULSD DIVSD SQRTSD (register or m64 source), the same packed on registers (opcode
    // byte in `opcode`), MOVSD xmm, m64 and MOVSD m64, xmm.
    case sseScalarDouble, ssePackedDouble, movsdLoad, movsdStore
    // x87 FLD m64fp, FSTP m64fp, FADD m64fp, FMUL m64fp.
    case fldDouble, fstpDouble, faddDouble, fmulDouble

    /// The first form that accesses memory.
    static let firstMemoryForm = FastForm.load32
}

extension Instruction {
    /// The specialised form of this instruction in 64-bit code, or `.none`.
    var fastForm64: FastForm {
        if flags & InstructionFlags.lock != 0 { return .none }
        let mem = isMem
        if mem && addrSize != 8 { return .none }
        let size = opSize
        let wide = size == 8
        if size == 1 {
            switch op {
            case .setcc where !mem && rm < 16: return .setccReg
            case .testRMReg where !mem && rm < 16 && reg < 16: return .test8RR
            case .aluRMImm where !mem && rm < 16: return FastForm.aluIndex(sub) == nil ? .none : .alu8RI
            case .aluRMImm where mem && sub == 7: return .cmpMemImm8
            case .testRMImm where mem: return .testMemImm8
            case .movRMImm where mem: return .storeImm8
            default: break
            }
        }
        guard size == 4 || size == 8 || (op == .movRMReg && mem) || op == .jcc || op == .jmpRel
                || op == .callRel || op == .retNear || op == .pushReg || op == .popReg || op == .nop
                || op == .movzx || op == .sse || op == .x87 else { return .none }
        switch op {
        case .aluRMReg where !mem:
            guard let k = FastForm.aluIndex(sub) else {
                // ADC and SBB: only their 64-bit register forms are specialised.
                return wide && (sub == 2 || sub == 3) ? (sub == 2 ? .adc64RR : .sbb64RR) : .none
            }
            return FastForm(rawValue: (wide ? FastForm.add64RR : FastForm.add32RR).rawValue + k) ?? .none
        case .aluRMImm where !mem:
            guard let k = FastForm.aluIndex(sub) else { return .none }
            return FastForm(rawValue: (wide ? FastForm.add64RI : FastForm.add32RI).rawValue + k) ?? .none
        case .aluRegRM where mem:
            return FastForm.aluIndex(sub) == nil ? .none : (wide ? .aluLoad64 : .aluLoad32)
        case .testRMReg where !mem: return wide ? .test64RR : .test32RR
        case .testRMImm where !mem: return wide ? .test64RI : .test32RI
        case .movRMReg:
            if !mem { return wide ? .mov64ToRM : .mov32ToRM }
            switch size {
            case 1: return reg < 16 ? .store8 : .none
            case 2: return .store16
            case 4: return .store32
            default: return .store64
            }
        case .movRegRM: return mem ? (wide ? .load64 : .load32) : (wide ? .mov64ToReg : .mov32ToReg)
        case .movRegImm: return wide ? .movImm64 : .movImm32
        case .movRMImm where !mem: return wide ? .movImm64 : .movImm32
        case .movzx where mem && (size == 4 || size == 8):
            return size2 == 1 ? .loadZX8 : (size2 == 2 ? .loadZX16 : .none)
        case .shiftRMImm where !mem, .shiftRM1 where !mem, .shiftRMCL where !mem:
            switch sub {
            case 4, 6: return wide ? .shl64 : .shl32
            case 5: return wide ? .shr64 : .shr32
            case 7: return wide ? .sar64 : .sar32
            default: return .none
            }
        case .incRM where !mem: return wide ? .inc64 : .inc32
        case .decRM where !mem: return wide ? .dec64 : .dec32
        case .imulRegRM where !mem: return wide ? .imul64RR : .imul32RR
        case .cmov where !mem: return wide ? .cmov64RR : .cmov32RR
        case .lea where mem: return wide ? .lea64 : .lea32
        case .jcc where size == 8: return FastForm(rawValue: FastForm.jo.rawValue + (sub & 15)) ?? .none
        case .jmpRel where size == 8: return .jmpRel
        case .callRel where size == 8: return .callRel
        case .retNear where size == 8 && sub == 0: return .ret
        case .pushReg where size == 8: return .push64
        case .popReg where size == 8: return .pop64
        case .nop: return .nop
        case .imulRegRMImm where !mem: return wide ? .imul64RRI : .imul32RRI
        case .movzx where !mem && (size == 4 || size == 8) && rm < 16:
            return size2 == 1 ? .movzx8RR : (size2 == 2 ? .movzx16RR : .none)
        case .movsxd where wide: return mem ? .movsxdLoad : .movsxdRR
        case .movRMImm where mem: return wide ? .storeImm64 : .storeImm32
        case .aluRMImm where mem && sub == 7: return wide ? .cmpMemImm64 : .cmpMemImm32
        case .aluRMReg where mem && sub == 7: return wide ? .cmpMemReg64 : .cmpMemReg32
        case .testRMImm where mem: return wide ? .testMemImm64 : .testMemImm32
        case .callRM where wide: return mem ? .callMem64 : .callReg64
        case .jmpRM where wide: return mem ? .jmpMem64 : .jmpReg64
        case .x87 where mem:
            switch (sub & 7, reg & 7) {
            case (5, 0): return .fldDouble
            case (5, 3): return .fstpDouble
            case (4, 0): return .faddDouble
            case (4, 1): return .fmulDouble
            default: return .none
            }
        case .sse:
            let prefixes = flags & (InstructionFlags.rep | InstructionFlags.repne | InstructionFlags.opsize)
            let scalarDouble = prefixes & ~InstructionFlags.opsize == InstructionFlags.repne   // F2, not F3
            switch opcode {
            case 0x151, 0x158, 0x159, 0x15C, 0x15E:
                if scalarDouble { return .sseScalarDouble }
                if prefixes == InstructionFlags.opsize && !mem { return .ssePackedDouble }
                return .none
            case 0x110 where mem && scalarDouble: return .movsdLoad
            case 0x111 where mem && scalarDouble: return .movsdStore
            default: return .none
            }
        case .notRM where !mem: return wide ? .not64 : .not32
        default: return .none
        }
    }
}

extension FastForm {
    /// Position of an ALU operation (`Instruction.sub`) in the ADD OR AND SUB XOR CMP runs of forms; nil for
    /// ADC and SBB, which read CF and stay on the general path.
    static func aluIndex(_ sub: UInt8) -> UInt8? {
        switch sub {
        case 0: return 0
        case 1: return 1
        case 4: return 2
        case 5: return 3
        case 6: return 4
        case 7: return 5
        default: return nil
        }
    }
}

extension CPU {
    /// Runs an instruction that has a specialised form. RIP already points past it.
    @_transparent
    func executeFast(_ p: UnsafeMutablePointer<Instruction>, _ form: FastForm) throws(Abort) {
        let rm = Int(p.pointee.rm & 15)
        let reg = Int(p.pointee.reg & 15)
        switch form {
        case .none: break   // never dispatched here: the block loop sends these to `execute`
        case .add32RR: fastALU(rm, gpr[reg], ALUOp.add, size: 4)
        case .or32RR: fastALU(rm, gpr[reg], ALUOp.or, size: 4)
        case .and32RR: fastALU(rm, gpr[reg], ALUOp.and, size: 4)
        case .sub32RR: fastALU(rm, gpr[reg], ALUOp.sub, size: 4)
        case .xor32RR: fastALU(rm, gpr[reg], ALUOp.xor, size: 4)
        case .cmp32RR: fastALU(rm, gpr[reg], ALUOp.cmp, size: 4)
        case .add64RR: fastALU(rm, gpr[reg], ALUOp.add, size: 8)
        case .or64RR: fastALU(rm, gpr[reg], ALUOp.or, size: 8)
        case .and64RR: fastALU(rm, gpr[reg], ALUOp.and, size: 8)
        case .sub64RR: fastALU(rm, gpr[reg], ALUOp.sub, size: 8)
        case .xor64RR: fastALU(rm, gpr[reg], ALUOp.xor, size: 8)
        case .cmp64RR: fastALU(rm, gpr[reg], ALUOp.cmp, size: 8)
        case .add32RI: fastALU(rm, p.pointee.imm, ALUOp.add, size: 4)
        case .or32RI: fastALU(rm, p.pointee.imm, ALUOp.or, size: 4)
        case .and32RI: fastALU(rm, p.pointee.imm, ALUOp.and, size: 4)
        case .sub32RI: fastALU(rm, p.pointee.imm, ALUOp.sub, size: 4)
        case .xor32RI: fastALU(rm, p.pointee.imm, ALUOp.xor, size: 4)
        case .cmp32RI: fastALU(rm, p.pointee.imm, ALUOp.cmp, size: 4)
        case .add64RI: fastALU(rm, p.pointee.imm, ALUOp.add, size: 8)
        case .or64RI: fastALU(rm, p.pointee.imm, ALUOp.or, size: 8)
        case .and64RI: fastALU(rm, p.pointee.imm, ALUOp.and, size: 8)
        case .sub64RI: fastALU(rm, p.pointee.imm, ALUOp.sub, size: 8)
        case .xor64RI: fastALU(rm, p.pointee.imm, ALUOp.xor, size: 8)
        case .cmp64RI: fastALU(rm, p.pointee.imm, ALUOp.cmp, size: 8)
        case .test32RR: testFlags(gpr[rm] & 0xFFFF_FFFF, gpr[reg] & 0xFFFF_FFFF, 4)
        case .test64RR: testFlags(gpr[rm], gpr[reg], 8)
        case .test32RI: testFlags(gpr[rm] & 0xFFFF_FFFF, p.pointee.imm & 0xFFFF_FFFF, 4)
        case .test64RI: testFlags(gpr[rm], p.pointee.imm, 8)
        case .mov32ToRM: gpr[rm] = gpr[reg] & 0xFFFF_FFFF
        case .mov64ToRM: gpr[rm] = gpr[reg]
        case .mov32ToReg: gpr[reg] = gpr[rm] & 0xFFFF_FFFF
        case .mov64ToReg: gpr[reg] = gpr[rm]
        case .movImm32: gpr[rm] = p.pointee.imm & 0xFFFF_FFFF
        case .movImm64: gpr[rm] = p.pointee.imm
        case .shl32: fastShift(rm, shiftCount(p), ShiftOp.shl, wide: false)
        case .shr32: fastShift(rm, shiftCount(p), ShiftOp.shr, wide: false)
        case .sar32: fastShift(rm, shiftCount(p), ShiftOp.sar, wide: false)
        case .shl64: fastShift(rm, shiftCount(p), ShiftOp.shl, wide: true)
        case .shr64: fastShift(rm, shiftCount(p), ShiftOp.shr, wide: true)
        case .sar64: fastShift(rm, shiftCount(p), ShiftOp.sar, wide: true)
        case .inc32: gpr[rm] = incDec(gpr[rm] & 0xFFFF_FFFF, 4, dec: false)
        case .dec32: gpr[rm] = incDec(gpr[rm] & 0xFFFF_FFFF, 4, dec: true)
        case .inc64: gpr[rm] = incDec(gpr[rm], 8, dec: false)
        case .dec64: gpr[rm] = incDec(gpr[rm], 8, dec: true)
        case .imul32RR: gpr[reg] = imul(4, gpr[reg] & 0xFFFF_FFFF, gpr[rm] & 0xFFFF_FFFF)
        case .imul64RR: gpr[reg] = imul(8, gpr[reg], gpr[rm])
        case .cmov32RR: gpr[reg] = (condition(p.pointee.sub) ? gpr[rm] : gpr[reg]) & 0xFFFF_FFFF
        case .cmov64RR: if condition(p.pointee.sub) { gpr[reg] = gpr[rm] }
        case .lea64: gpr[reg] = fastOffset(p)
        case .lea32: gpr[reg] = fastOffset(p) & 0xFFFF_FFFF
        case .jo: try jump(p, if: condition(0))
        case .jno: try jump(p, if: condition(1))
        case .jb: try jump(p, if: condition(2))
        case .jae: try jump(p, if: condition(3))
        case .je: try jump(p, if: condition(4))
        case .jne: try jump(p, if: condition(5))
        case .jbe: try jump(p, if: condition(6))
        case .ja: try jump(p, if: condition(7))
        case .js: try jump(p, if: condition(8))
        case .jns: try jump(p, if: condition(9))
        case .jp: try jump(p, if: condition(10))
        case .jnp: try jump(p, if: condition(11))
        case .jl: try jump(p, if: condition(12))
        case .jge: try jump(p, if: condition(13))
        case .jle: try jump(p, if: condition(14))
        case .jg: try jump(p, if: condition(15))
        case .jmpRel: try jump(p, if: true)
        case .callRel: try callAbsolute(ripValue &+ p.pointee.imm)
        case .ret:
            let sp = gpr[Reg.rsp]
            let target = try fastRead(2, sp, 8)
            if !isCanonical(target) { throw Abort.gp(0) }
            gpr[Reg.rsp] = sp &+ 8
            ripValue = target
        case .nop: break
        case .load32: gpr[reg] = try fastRead(p.pointee.seg, fastOffset(p), 4)
        case .load64: gpr[reg] = try fastRead(p.pointee.seg, fastOffset(p), 8)
        case .loadZX8: gpr[reg] = try fastRead(p.pointee.seg, fastOffset(p), 1)
        case .loadZX16: gpr[reg] = try fastRead(p.pointee.seg, fastOffset(p), 2)
        case .store8: try fastWrite(p.pointee.seg, fastOffset(p), 1, gpr[reg])
        case .store16: try fastWrite(p.pointee.seg, fastOffset(p), 2, gpr[reg])
        case .store32: try fastWrite(p.pointee.seg, fastOffset(p), 4, gpr[reg])
        case .store64: try fastWrite(p.pointee.seg, fastOffset(p), 8, gpr[reg])
        case .aluLoad32:
            let b = try fastRead(p.pointee.seg, fastOffset(p), 4)
            fastALU(reg, b, p.pointee.sub, size: 4)
        case .aluLoad64:
            let b = try fastRead(p.pointee.seg, fastOffset(p), 8)
            fastALU(reg, b, p.pointee.sub, size: 8)
        case .push64:
            let v = gpr[rm]
            let sp = gpr[Reg.rsp] &- 8
            try fastWrite(2, sp, 8, v)
            gpr[Reg.rsp] = sp
        case .pop64:
            let sp = gpr[Reg.rsp]
            let v = try fastRead(2, sp, 8)
            gpr[Reg.rsp] = sp &+ 8
            gpr[rm] = v
        case .imul32RRI: gpr[reg] = imul(4, gpr[rm] & 0xFFFF_FFFF, p.pointee.imm & 0xFFFF_FFFF)
        case .imul64RRI: gpr[reg] = imul(8, gpr[rm], p.pointee.imm)
        case .movzx8RR: gpr[reg] = gpr[rm] & 0xFF
        case .movzx16RR: gpr[reg] = gpr[rm] & 0xFFFF
        case .movsxdRR: gpr[reg] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: gpr[rm])))
        case .jmpReg64: try jumpAbsolute(gpr[rm])
        case .setccReg: gpr[rm] = (gpr[rm] & ~0xFF) | (condition(p.pointee.sub) ? 1 : 0)
        case .test8RR: testFlags(gpr[rm] & 0xFF, gpr[reg] & 0xFF, 1)
        case .alu8RI: fastALU(rm, p.pointee.imm, p.pointee.sub, size: 1)
        case .adc64RR: gpr[rm] = alu(ALUOp.adc, 8, gpr[rm], gpr[reg])
        case .sbb64RR: gpr[rm] = alu(ALUOp.sbb, 8, gpr[rm], gpr[reg])
        case .not32: gpr[rm] = ~gpr[rm] & 0xFFFF_FFFF
        case .not64: gpr[rm] = ~gpr[rm]
        case .movsxdLoad:
            gpr[reg] = UInt64(bitPattern: Int64(Int32(truncatingIfNeeded: try fastRead(p.pointee.seg, fastOffset(p), 4))))
        case .storeImm32: try fastWrite(p.pointee.seg, fastOffset(p), 4, p.pointee.imm)
        case .storeImm64: try fastWrite(p.pointee.seg, fastOffset(p), 8, p.pointee.imm)
        case .cmpMemImm32:
            _ = alu(ALUOp.cmp, 4, try fastRead(p.pointee.seg, fastOffset(p), 4), p.pointee.imm & 0xFFFF_FFFF)
        case .cmpMemImm64:
            _ = alu(ALUOp.cmp, 8, try fastRead(p.pointee.seg, fastOffset(p), 8), p.pointee.imm)
        case .cmpMemReg32:
            _ = alu(ALUOp.cmp, 4, try fastRead(p.pointee.seg, fastOffset(p), 4), gpr[reg] & 0xFFFF_FFFF)
        case .cmpMemReg64:
            _ = alu(ALUOp.cmp, 8, try fastRead(p.pointee.seg, fastOffset(p), 8), gpr[reg])
        case .testMemImm32: testFlags(try fastRead(p.pointee.seg, fastOffset(p), 4), p.pointee.imm & 0xFFFF_FFFF, 4)
        case .testMemImm64: testFlags(try fastRead(p.pointee.seg, fastOffset(p), 8), p.pointee.imm, 8)
        case .callReg64: try callAbsolute(gpr[rm])
        case .callMem64: try callAbsolute(try fastRead(p.pointee.seg, fastOffset(p), 8))
        case .jmpMem64: try jumpAbsolute(try fastRead(p.pointee.seg, fastOffset(p), 8))
        case .cmpMemImm8:
            _ = alu(ALUOp.cmp, 1, try fastRead(p.pointee.seg, fastOffset(p), 1), p.pointee.imm & 0xFF)
        case .testMemImm8: testFlags(try fastRead(p.pointee.seg, fastOffset(p), 1), p.pointee.imm & 0xFF, 1)
        case .storeImm8: try fastWrite(p.pointee.seg, fastOffset(p), 1, p.pointee.imm)
        case .sseScalarDouble:
            let d = Int(p.pointee.reg & 15) * 2
            if sseFastUsable, let b = p.pointee.isMem ? ramRead64(p.pointee.seg, fastOffset(p)) : fpu.xmm[rm * 2],
               let z = CPU.hostDoubleArith(UInt8(truncatingIfNeeded: p.pointee.opcode), fpu.xmm[d], b),
               !z.inexact || precisionMasked {
                fpu.xmm[d] = z.bits
                if z.inexact { fpu.mxcsr |= UInt32(FPFlag.inexact) }
            } else {
                try execSSE(p.pointee)
            }
        case .ssePackedDouble:
            let d = Int(p.pointee.reg & 15) * 2
            let op = UInt8(truncatingIfNeeded: p.pointee.opcode)
            if sseFastUsable, let lo = CPU.hostDoubleArith(op, fpu.xmm[d], fpu.xmm[rm * 2]),
               let hi = CPU.hostDoubleArith(op, fpu.xmm[d + 1], fpu.xmm[rm * 2 + 1]),
               !(lo.inexact || hi.inexact) || precisionMasked {
                fpu.xmm[d] = lo.bits
                fpu.xmm[d + 1] = hi.bits
                if lo.inexact || hi.inexact { fpu.mxcsr |= UInt32(FPFlag.inexact) }
            } else {
                try execSSE(p.pointee)
            }
        case .fldDouble, .fstpDouble, .faddDouble, .fmulDouble:
            if !(try x87DoubleFast(p, form)) { try execX87(p.pointee) }
        case .movsdLoad:
            guard sseEnabled else { try execSSE(p.pointee); return }
            let v = try fastRead(p.pointee.seg, fastOffset(p), 8)
            let d = Int(p.pointee.reg & 15) * 2
            fpu.xmm[d] = v
            fpu.xmm[d + 1] = 0
        case .movsdStore:
            guard sseEnabled else { try execSSE(p.pointee); return }
            try fastWrite(p.pointee.seg, fastOffset(p), 8, fpu.xmm[reg * 2])
        }
    }

    /// ALU operation `op` (`ALUOp`, not ADC or SBB) on register `dst` at `size` 1 (the low byte; the rest is
    /// kept), 4 (the upper half is zeroed) or 8 bytes, with `source` (cut to `size` here); CMP writes nothing.
    @_transparent
    func fastALU(_ dst: Int, _ source: UInt64, _ op: UInt8, size: UInt8) {
        let r = alu(op, size, gpr[dst] & sizeMask(size), source & sizeMask(size))
        if op != ALUOp.cmp { gpr[dst] = size == 1 ? (gpr[dst] & ~0xFF) | r : r }
    }

    /// SHL, SHR or SAR (`op`, `ShiftOp`) of a 32-bit (`wide` false) or 64-bit register by a count (masked
    /// here): `CPU.shift`; a count of 0 changes no flag but still zero-extends a 32-bit destination.
    @_transparent
    func fastShift(_ r: Int, _ rawCount: UInt64, _ op: UInt8, wide: Bool) {
        let count = rawCount & (wide ? 63 : 31)
        let a = wide ? gpr[r] : gpr[r] & 0xFFFF_FFFF
        gpr[r] = count == 0 ? a : shift(op, wide ? 8 : 4, a, by: count)
    }

    /// The count of a shift by an immediate (C1), by one (D1) or by CL (D3).
    @_transparent
    func shiftCount(_ p: UnsafeMutablePointer<Instruction>) -> UInt64 {
        switch p.pointee.op {
        case .shiftRM1: return 1
        case .shiftRMCL: return gpr[Reg.rcx] & 0xFF
        default: return p.pointee.imm & 0xFF
        }
    }

    /// Near relative jump in 64-bit mode when `taken`.
    @_transparent
    func jump(_ p: UnsafeMutablePointer<Instruction>, if taken: Bool) throws(Abort) {
        if taken {
            let target = ripValue &+ p.pointee.imm
            if !isCanonical(target) { throw Abort.gp(0) }
            ripValue = target
        }
    }

    /// Whether SSE instructions run (CR0.EM clear, CR0.TS clear, CR4.OSFXSR set); otherwise the general path
    /// raises #UD or #NM.
    @_transparent
    var sseEnabled: Bool {
        cr0Value & (CR0.em.rawValue | CR0.ts.rawValue) == 0 && cr4Value & CR4.osfxsr.rawValue != 0
    }

    /// Whether the host-`Double` path can decide an SSE2 double operation: SSE enabled and MXCSR rounding to
    /// nearest (`CPU.hostDoubleArith` then answers, or declines, for the operand values).
    @_transparent
    var sseFastUsable: Bool {
        sseEnabled && fpu.mxcsr & (3 << MXCSR.rcShift) == 0
    }

    /// FLD, FSTP, FADD and FMUL with a 64-bit memory operand when the result is a plain rounding of normal
    /// numbers: x87 usable (CR0.EM and TS clear, no pending exception), every exception masked, precision
    /// control extended and rounding to nearest (FCW & 0xF3F == 0x33F), the operands normal with exponents far
    /// from the range limits, the stack registers as the instruction needs them. Then the only exception
    /// possible is precision, and the value is computed exactly here (128-bit significand arithmetic, one
    /// rounding to nearest even), as the soft-float would. Returns false, having changed nothing, when the
    /// instruction must go through `execX87`.
    @_transparent
    func x87DoubleFast(_ p: UnsafeMutablePointer<Instruction>, _ form: FastForm) throws(Abort) -> Bool {
        guard cr0Value & (CR0.em.rawValue | CR0.ts.rawValue) == 0, fpu.fsw & FSW.es == 0,
              fpu.fcw & 0xF3F == 0x33F else { return false }
        let off = fastOffset(p)
        let s = p.pointee.seg
        let top = fpu.top
        var inexact = false
        switch form {
        case .fldDouble:
            let r7 = (top &+ 7) & 7
            guard fpu.tagValid & (1 << r7) == 0, let bits = ramRead64(s, off) else { return false }
            let e = Int((bits >> 52) & 0x7FF)
            guard e != 0 && e != 0x7FF else { return false }
            fpu.stSig[r7] = 1 << 63 | (bits & 0xF_FFFF_FFFF_FFFF) << 11
            fpu.stSE[r7] = UInt16(truncatingIfNeeded: (bits >> 48) & 0x8000) | UInt16(e - 1023 + 16383)
            fpu.tagValid |= 1 << r7
            fpu.fsw = (fpu.fsw & ~0x3800) | UInt16(r7) << 11
        case .fstpDouble:
            guard fpu.tagValid & (1 << top) != 0 else { return false }
            let sig = fpu.stSig[top], se = fpu.stSE[top]
            let u = Int(se & 0x7FFF) - 16383
            guard sig >> 63 != 0, u >= -1021 && u <= 1022 else { return false }
            var m = sig >> 11
            let rest = sig & 0x7FF
            if rest > 0x400 || (rest == 0x400 && m & 1 != 0) { m += 1 }
            inexact = rest != 0
            // A carry out of the 53 bits makes the significand 2^53: the exponent goes up by one.
            let exponent = UInt64(u + 1023) + (m >> 53)
            let bits = UInt64(se & 0x8000) << 48 | exponent << 52 | (m & 0xF_FFFF_FFFF_FFFF)
            try fastWrite(s, off, 8, bits)
            fpu.tagValid &= ~(1 << top)
            fpu.fsw = (fpu.fsw & ~0x3800) | UInt16((top &+ 1) & 7) << 11
        default:
            guard fpu.tagValid & (1 << top) != 0, let bits = ramRead64(s, off) else { return false }
            let eb = Int((bits >> 52) & 0x7FF)
            let sigA = fpu.stSig[top], seA = fpu.stSE[top]
            let uA = Int(seA & 0x7FFF) - 16383
            guard eb != 0 && eb != 0x7FF, sigA >> 63 != 0, uA >= -8000 && uA <= 8000 else { return false }
            let uB = eb - 1023
            let sigB: UInt64 = 1 << 63 | (bits & 0xF_FFFF_FFFF_FFFF) << 11
            let signA = seA & 0x8000 != 0, signB = bits >> 63 != 0
            var hi: UInt64, lo: UInt64, u: Int
            let sign: Bool
            if form == .fmulDouble {
                (hi, lo) = sigA.multipliedFullWidth(by: sigB)
                u = uA + uB
                if hi >> 63 != 0 { u += 1 } else { hi = hi << 1 | lo >> 63; lo <<= 1 }
                sign = signA != signB
            } else {
                // Align to the larger exponent with the 64-bit significands as the high halves of 128 bits;
                // a shift of at most 62 loses nothing, so the sum or difference below is exact.
                let aLarger = uA > uB || (uA == uB && sigA >= sigB)
                let (big, small) = aLarger ? (sigA, sigB) : (sigB, sigA)
                let d = aLarger ? uA - uB : uB - uA
                guard d <= 62 else { return false }
                u = aLarger ? uA : uB
                let smallHi = d == 0 ? small : small >> UInt64(d)
                let smallLo = d == 0 ? 0 : small << UInt64(64 - d)
                if signA == signB {
                    let (l, c) = (0 as UInt64).addingReportingOverflow(smallLo)
                    var (h, carry) = big.addingReportingOverflow(smallHi)
                    lo = l
                    if c { h &+= 1 }
                    if carry {
                        // 2^128 carried out: shift right one, keeping the bit that falls off as sticky.
                        let sticky = lo & 1
                        lo = lo >> 1 | h << 63 | sticky
                        h = h >> 1 | 1 << 63
                        u += 1
                    }
                    hi = h
                    sign = signA
                } else {
                    let (l, borrow) = (0 as UInt64).subtractingReportingOverflow(smallLo)
                    var h = big &- smallHi
                    if borrow { h &-= 1 }
                    lo = l
                    guard h != 0 || lo != 0 else { return false }    // an exact zero: its sign is the general path's
                    let z = h != 0 ? h.leadingZeroBitCount : 64 + lo.leadingZeroBitCount
                    if z >= 64 { h = lo << UInt64(z - 64); lo = 0 }
                    else if z > 0 { h = h << UInt64(z) | lo >> UInt64(64 - z); lo <<= UInt64(z) }
                    hi = h
                    u -= z
                    sign = aLarger ? signA : signB
                }
            }
            // Round the 128-bit significand to 64 bits, to nearest even.
            inexact = lo != 0
            if lo > 1 << 63 || (lo == 1 << 63 && hi & 1 != 0) {
                hi &+= 1
                if hi == 0 { hi = 1 << 63; u += 1 }
            }
            guard u >= -16000 && u <= 16000 else { return false }
            fpu.stSig[top] = hi
            fpu.stSE[top] = (sign ? 0x8000 : 0) | UInt16(u + 16383)
        }
        if inexact { fpu.fsw |= UInt16(FPFlag.inexact) }
        recordX87Pointers(dataSegment: s, dataOffset: off)
        return true
    }

    /// Whether MXCSR masks the precision exception (then an inexact result only sets PE).
    @_transparent
    var precisionMasked: Bool { fpu.mxcsr & (UInt32(FPFlag.inexact) << MXCSR.maskShift) != 0 }

    /// Reads 8 bytes of guest RAM at segment `s`, offset `off` in 64-bit mode when `fastHostAddress` serves
    /// the access; nil otherwise, with nothing read, so the caller can hand the whole instruction to the
    /// general path.
    @_transparent
    func ramRead64(_ s: UInt8, _ off: UInt64) -> UInt64? {
        if let q = fastHostAddress(s, off, 8, .read) { return hostLoad(q, 8) }
        return nil
    }

    /// Near CALL to `target` in 64-bit mode: #GP(0) for a non-canonical target before anything is pushed
    /// (SDM Vol. 2A "CALL"), then the return address is pushed.
    @_transparent
    func callAbsolute(_ target: UInt64) throws(Abort) {
        if !isCanonical(target) { throw Abort.gp(0) }
        let sp = gpr[Reg.rsp] &- 8
        try fastWrite(2, sp, 8, ripValue)
        gpr[Reg.rsp] = sp
        ripValue = target
    }

    /// Near JMP to `target` in 64-bit mode (#GP(0) if it is not canonical).
    @_transparent
    func jumpAbsolute(_ target: UInt64) throws(Abort) {
        if !isCanonical(target) { throw Abort.gp(0) }
        ripValue = target
    }

    /// The effective address of a memory operand with 64-bit addressing (no segment base).
    @_transparent
    func fastOffset(_ p: UnsafeMutablePointer<Instruction>) -> UInt64 {
        var a = UInt64(bitPattern: p.pointee.disp)
        let base = p.pointee.base
        if base != 0xFF { a &+= base == 16 ? ripValue : gpr[Int(base & 15)] }
        let index = p.pointee.index
        if index != 0xFF { a &+= gpr[Int(index & 15)] &<< UInt64(p.pointee.scale) }
        return a
    }

    /// The host address of `size` bytes at segment `s`, offset `off` in 64-bit mode when the TLB holds a
    /// translation of the page for `kind` and the access needs no check beyond it: within the page, and
    /// aligned or with alignment checking off. A TLB tag is only ever a canonical page, so such an access is
    /// canonical; a write-TLB entry is never installed for a page holding decoded code. Nil otherwise.
    @_transparent
    func fastHostAddress(_ s: UInt8, _ off: UInt64, _ size: Int, _ kind: AccessKind) -> UnsafeMutableRawPointer? {
        let la = s >= 4 ? seg[Int(s)].base &+ off : off
        let slot = TLB.slot(la, kind, cplValue == 3)
        if tlbTags[slot] == tlbKey(la) && (la & 0xFFF) &+ UInt64(size) <= 4096
            && (la & UInt64(size &- 1) == 0 || !alignmentCheck), let h = tlbHosts[slot] {
            // Safe: a TLB entry's host pointer is the start of a mapped 4 KiB page of guest RAM, and the access
            // lies inside that page.
            return h + Int(truncatingIfNeeded: la & 0xFFF)
        }
        return nil
    }

    /// Reads `size` bytes at segment `s`, offset `off` in 64-bit mode: from the host page on a TLB hit
    /// (`fastHostAddress`), otherwise through `readMem`, which raises the faults.
    @_transparent
    func fastRead(_ s: UInt8, _ off: UInt64, _ size: Int) throws(Abort) -> UInt64 {
        if let q = fastHostAddress(s, off, size, .read) { return hostLoad(q, size) }
        return try readMem(s, off, UInt8(size))
    }

    /// Writes `size` bytes at segment `s`, offset `off` in 64-bit mode (see `fastRead`).
    @_transparent
    func fastWrite(_ s: UInt8, _ off: UInt64, _ size: Int, _ v: UInt64) throws(Abort) {
        if let q = fastHostAddress(s, off, size, .write) { hostStore(q, size, v); return }
        try writeMem(s, off, UInt8(size), v)
    }
}
