import Testing
@testable import X86
import X86Assembler

// x87, SSE and SSE2 tests: guests assembled from raw bytes (the assembler has no FP mnemonics) run in
// 64-bit mode at CPL 0; results are compared with the host's IEEE arithmetic (Swift Double/Float are
// correctly rounded on every host, so they are a valid oracle for round-to-nearest results).

/// A 64-bit machine: 2 MiB identity-mapped, code at 0x100000, data at 0x5000.
private func fpMachine(_ code: [UInt8], cr0Extra: UInt64 = CR0.ne.rawValue | CR0.mp.rawValue,
                       cr4Extra: UInt64 = CR4.osfxsr.rawValue | CR4.osxmmexcpt.rawValue,
                       setup: (PhysicalMemory) -> Void = { _ in }) -> (CPU, PhysicalMemory, StopReason) {
    let mem = PhysicalMemory(ramSize: 4 << 20)
    mem.writeInteger(0x1000 | 3, at: 0x10000, size: 8)
    mem.writeInteger(0x2000 | 3, at: 0x1000, size: 8)
    mem.writeInteger(0x0 | 0x83, at: 0x2000, size: 8)
    mem.write(code + [0xF4], at: 0x100000)
    setup(mem)
    let cpu = CPU(memory: mem)
    cpu.cr3 = 0x10000
    cpu.cr4 = CR4.pae.rawValue | cr4Extra
    cpu.efer = EFER.lme.rawValue | EFER.lma.rawValue
    cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue | cr0Extra
    cpu.setSegment(.cs, SegmentRegister(selector: 0x8, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
    cpu.setSegment(.ss, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
    cpu.setGPR(.rsp, 0x8000)
    cpu.rip = 0x100000
    cpu.exceptionIntercept = 0xFFFF_FFFF
    let r = cpu.run(instructionLimit: 10000)
    return (cpu, mem, r)
}

/// ModRM + SIB + disp32 for an absolute address with ModRM.reg = `reg`.
private func abs32(_ reg: UInt8, _ addr: UInt32) -> [UInt8] {
    [0x04 | reg << 3, 0x25, UInt8(addr & 0xFF), UInt8(addr >> 8 & 0xFF), UInt8(addr >> 16 & 0xFF), UInt8(addr >> 24)]
}

private func u64(_ m: PhysicalMemory, _ a: UInt64) -> UInt64 { m.readInteger(at: a, size: 8) }

@Test(arguments: [(1.5, 2.25), (1.0, 3.0), (-7.125e300, 3.5e-300), (2.0, 0.0), (1e-310, 3.0), (0.1, 0.2), (-0.0, 0.0)])
func sse2ScalarDoubleMatchesHost(_ a: Double, _ b: Double) {
    var c: [UInt8] = []
    c += [0xF2, 0x0F, 0x10] + abs32(0, 0x5000)         // movsd xmm0, [5000]
    c += [0xF2, 0x0F, 0x10] + abs32(1, 0x5008)         // movsd xmm1, [5008]
    for (k, op) in [UInt8(0x58), 0x59, 0x5E, 0x5C].enumerated() {
        c += [0x66, 0x0F, 0x28, 0xD0]                  // movapd xmm2, xmm0
        c += [0xF2, 0x0F, op, 0xD1]                    // op xmm2, xmm1
        c += [0xF2, 0x0F, 0x11] + abs32(2, 0x5100 + UInt32(8 * k))
    }
    c += [0xF2, 0x0F, 0x51, 0xD1]                      // sqrtsd xmm2, xmm1
    c += [0xF2, 0x0F, 0x11] + abs32(2, 0x5120)
    c += [0xF2, 0x0F, 0x5A, 0xD8]                      // cvtsd2ss xmm3, xmm0
    c += [0xF3, 0x0F, 0x11] + abs32(3, 0x5128)         // movss [5128], xmm3
    c += [0xF2, 0x48, 0x0F, 0x2C, 0xC0]                // cvttsd2si rax, xmm0
    c += [0x66, 0x0F, 0x2F, 0xC1]                      // comisd xmm0, xmm1
    c += [0x0F, 0x92] + abs32(0, 0x5130)               // setb [5130]
    c += [0x0F, 0x94] + abs32(0, 0x5131)               // sete [5131]
    let (cpu, m, r) = fpMachine(c) { m in
        m.writeInteger(a.bitPattern, at: 0x5000, size: 8)
        m.writeInteger(b.bitPattern, at: 0x5008, size: 8)
    }
    #expect(r == .halted)
    #expect(u64(m, 0x5100) == (a + b).bitPattern)
    #expect(u64(m, 0x5108) == (a * b).bitPattern)
    #expect(u64(m, 0x5110) == (a / b).bitPattern)
    #expect(u64(m, 0x5118) == (a - b).bitPattern)
    #expect(u64(m, 0x5120) == b.squareRoot().bitPattern)
    #expect(UInt32(truncatingIfNeeded: u64(m, 0x5128)) == Float(a).bitPattern)
    if abs(a) < 9e18 { #expect(Int64(bitPattern: cpu.gpr(.rax)) == Int64(a.rounded(.towardZero))) }
    else { #expect(cpu.gpr(.rax) == 0x8000_0000_0000_0000) }
    #expect(m.readInteger(at: 0x5130, size: 1) == (a < b ? 1 : 0))
    #expect(m.readInteger(at: 0x5131, size: 1) == (a == b ? 1 : 0))
}

@Test func sseRoundingControlAndFlags() {
    var c: [UInt8] = []
    c += [0x0F, 0xAE] + abs32(2, 0x5200)               // ldmxcsr [5200] (RC = up)
    c += [0xF2, 0x0F, 0x10] + abs32(0, 0x5000)
    c += [0xF2, 0x0F, 0x5E] + abs32(0, 0x5008)         // divsd xmm0, [5008]
    c += [0xF2, 0x0F, 0x11] + abs32(0, 0x5100)
    c += [0x0F, 0xAE] + abs32(3, 0x5204)               // stmxcsr [5204]
    let (_, m, r) = fpMachine(c) { m in
        m.writeInteger(0x1F80 | 2 << 13, at: 0x5200, size: 4)
        m.writeInteger((1.0).bitPattern, at: 0x5000, size: 8)
        m.writeInteger((3.0).bitPattern, at: 0x5008, size: 8)
    }
    #expect(r == .halted)
    #expect(u64(m, 0x5100) == 0x3FD5_5555_5555_5556)
    #expect(m.readInteger(at: 0x5204, size: 4) == 0x1F80 | 2 << 13 | 0x20)   // PE
}

@Test func sse2IntegerStrlenPattern() {
    let text = Array("hello, SIMD!\u{0}xyz".utf8)
    var c: [UInt8] = []
    c += [0xF3, 0x0F, 0x6F] + abs32(0, 0x5000)         // movdqu xmm0, [5000]
    c += [0x66, 0x0F, 0xEF, 0xC9]                      // pxor xmm1, xmm1
    c += [0x66, 0x0F, 0x74, 0xC8]                      // pcmpeqb xmm1, xmm0
    c += [0x66, 0x0F, 0xD7, 0xC1]                      // pmovmskb eax, xmm1
    c += [0x0F, 0xBC, 0xC8]                            // bsf ecx, eax
    c += [0x66, 0x0F, 0x70, 0xD0, 0x1B]                // pshufd xmm2, xmm0, 0x1B
    c += [0x66, 0x0F, 0x7F] + abs32(2, 0x5100)         // movdqa [5100], xmm2
    c += [0x66, 0x0F, 0xFC, 0xC0]                      // paddb xmm0, xmm0
    c += [0x66, 0x0F, 0x71, 0xD0, 0x03]                // psrlw xmm0, 3
    c += [0x66, 0x0F, 0xF3, 0x0F, 0x11, 0x04, 0x25, 0x10, 0x51, 0x00, 0x00].prefix(0)
    c += [0x66, 0x0F, 0x7F] + abs32(0, 0x5110)
    let (cpu, m, r) = fpMachine(c) { m in m.write(text, at: 0x5000) }
    #expect(r == .halted)
    #expect(cpu.gpr(.rcx) == 12)
    #expect(cpu.gpr(.rax) == 1 << 12)
    let lanes = (0..<4).map { k in UInt32(text[4 * k]) | UInt32(text[4 * k + 1]) << 8 | UInt32(text[4 * k + 2]) << 16 | UInt32(text[4 * k + 3]) << 24 }
    for k in 0..<4 { #expect(m.readInteger(at: 0x5100 + UInt64(4 * k), size: 4) == UInt64(lanes[3 - k])) }
    for k in 0..<8 {
        let w = UInt16(text[2 * k]) | UInt16(text[2 * k + 1]) << 8
        let doubled = UInt16(UInt8(truncatingIfNeeded: UInt16(text[2 * k]) * 2)) | UInt16(UInt8(truncatingIfNeeded: UInt16(text[2 * k + 1]) * 2)) << 8
        _ = w
        #expect(m.readInteger(at: 0x5110 + UInt64(2 * k), size: 2) == UInt64(doubled >> 3))
    }
}

@Test func sseUnmaskedExceptionRaisesXMOrUD() {
    var c: [UInt8] = []
    c += [0x0F, 0xAE] + abs32(2, 0x5200)               // ldmxcsr: ZM clear
    c += [0xF2, 0x0F, 0x10] + abs32(0, 0x5000)
    c += [0xF2, 0x0F, 0x5E] + abs32(0, 0x5008)         // divsd xmm0, [5008] = 1/0
    let setup: (PhysicalMemory) -> Void = { m in
        m.writeInteger(0x1F80 & ~0x200, at: 0x5200, size: 4)
        m.writeInteger((1.0).bitPattern, at: 0x5000, size: 8)
        m.writeInteger(0, at: 0x5008, size: 8)
    }
    let (cpu, _, r) = fpMachine(c, setup: setup)
    #expect(r == .exception(vector: 19, errorCode: nil))
    #expect(cpu.xmm(0).low == (1.0).bitPattern)         // destination unchanged
    #expect(cpu.mxcsr & 0x4 != 0)                       // ZE
    let (_, _, r2) = fpMachine(c, cr4Extra: CR4.osfxsr.rawValue, setup: setup)
    #expect(r2 == .exception(vector: 6, errorCode: nil))
}

@Test func sseAvailabilityFaults() {
    let code: [UInt8] = [0x66, 0x0F, 0xEF, 0xC0]       // pxor xmm0, xmm0
    #expect(fpMachine(code, cr4Extra: 0).2 == .exception(vector: 6, errorCode: nil))
    #expect(fpMachine(code, cr0Extra: CR0.ts.rawValue).2 == .exception(vector: 7, errorCode: nil))
    #expect(fpMachine(code, cr0Extra: CR0.em.rawValue).2 == .exception(vector: 6, errorCode: nil))
    #expect(fpMachine([0xD9, 0xE8], cr0Extra: CR0.ts.rawValue).2 == .exception(vector: 7, errorCode: nil))   // fld1
    #expect(fpMachine([0xD9, 0xE8], cr0Extra: CR0.em.rawValue).2 == .exception(vector: 7, errorCode: nil))
    #expect(fpMachine([0x9B], cr0Extra: CR0.ts.rawValue | CR0.mp.rawValue).2 == .exception(vector: 7, errorCode: nil))
    #expect(fpMachine([0x9B], cr0Extra: CR0.ts.rawValue).2 == .halted)
    // Misaligned MOVAPS: #GP(0).
    #expect(fpMachine([0x0F, 0x28] + abs32(0, 0x5008)).2 == .exception(vector: 13, errorCode: 0))
}

@Test(arguments: [(1.5, 2.25), (1.0, 3.0), (-7.125e30, 3.5e-3), (0.1, 0.2), (1e10, -3.0)])
func x87DoublePrecisionMatchesHost(_ a: Double, _ b: Double) {
    var c: [UInt8] = [0xDB, 0xE3]                      // fninit
    c += [0xD9] + abs32(5, 0x5200)                     // fldcw [5200] (PC = double)
    for (k, reg) in [UInt8(0), 1, 6, 4].enumerated() { // fadd, fmul, fdiv, fsub m64
        c += [0xDD] + abs32(0, 0x5000)                 // fld qword [5000]
        c += [0xDC] + abs32(reg, 0x5008)
        c += [0xDD] + abs32(3, 0x5100 + UInt32(8 * k)) // fstp qword
    }
    c += [0xDD] + abs32(0, 0x5008) + [0xD9, 0xFA]      // fld b; fsqrt
    c += [0xDD] + abs32(3, 0x5120)
    c += [0xDD] + abs32(0, 0x5008) + [0xDD] + abs32(0, 0x5000)   // fld b; fld a
    c += [0xDF, 0xF1, 0xDD, 0xD8]                      // fcomip st1; fstp st0
    c += [0x0F, 0x92] + abs32(0, 0x5130)               // setb
    c += [0x0F, 0x94] + abs32(0, 0x5131)               // sete
    c += [0xDD] + abs32(0, 0x5000)
    c += [0xDF] + abs32(7, 0x5140)                     // fistp qword [5140]
    c += [0xD9, 0xEB, 0xDD] + abs32(3, 0x5148)         // fldpi; fstp qword
    c += [0xDF, 0xE0]                                  // fnstsw ax
    let (cpu, m, r) = fpMachine(c) { m in
        m.writeInteger(0x27F, at: 0x5200, size: 2)
        m.writeInteger(a.bitPattern, at: 0x5000, size: 8)
        m.writeInteger(b.bitPattern, at: 0x5008, size: 8)
    }
    #expect(r == .halted)
    #expect(u64(m, 0x5100) == (a + b).bitPattern)
    #expect(u64(m, 0x5108) == (a * b).bitPattern)
    #expect(u64(m, 0x5110) == (a / b).bitPattern)
    #expect(u64(m, 0x5118) == (a - b).bitPattern)
    #expect(u64(m, 0x5120) == (b < 0 ? 0xFFF8_0000_0000_0000 : b.squareRoot().bitPattern))
    #expect(m.readInteger(at: 0x5130, size: 1) == (a < b ? 1 : 0))
    #expect(m.readInteger(at: 0x5131, size: 1) == (a == b ? 1 : 0))
    if abs(a) < 9e18 { #expect(Int64(bitPattern: u64(m, 0x5140)) == Int64(a.rounded(.toNearestOrEven))) }
    #expect(u64(m, 0x5148) == Double.pi.bitPattern)
    #expect(cpu.gpr(.rax) & 0x3800 == 0)               // TOP back to 0
    #expect(cpu.x87TagWord == 0xFFFF)
}

@Test func x87ExtendedAndIntegerFormats() {
    var c: [UInt8] = [0xDB, 0xE3]
    c += [0xDB] + abs32(5, 0x5000)                     // fld tbyte [5000]
    c += [0xDB] + abs32(7, 0x5100)                     // fstp tbyte [5100]
    c += [0xDB] + abs32(0, 0x5010)                     // fild dword [5010]
    c += [0xDE] + abs32(1, 0x5014)                     // fimul word [5014]
    c += [0xDB] + abs32(3, 0x5110)                     // fistp dword [5110]
    c += [0xDF] + abs32(4, 0x5020)                     // fbld [5020]
    c += [0xDF] + abs32(6, 0x5120)                     // fbstp [5120]
    c += [0xD9, 0xE8, 0xD9, 0xEE, 0xD9, 0xE5]          // fld1; fldz; fxam
    c += [0xDF, 0xE0]                                  // fnstsw ax
    let (cpu, m, r) = fpMachine(c) { m in
        m.writeInteger(0xC90F_DAA2_2168_C235, at: 0x5000, size: 8)
        m.writeInteger(0x4000, at: 0x5008, size: 2)
        m.writeInteger(UInt64(UInt32(bitPattern: -123456)), at: 0x5010, size: 4)
        m.writeInteger(3, at: 0x5014, size: 2)
        m.writeInteger(0x0000_0012_3456_7890, at: 0x5020, size: 8)
        m.writeInteger(0x8000, at: 0x5028, size: 2)
    }
    #expect(r == .halted)
    #expect(u64(m, 0x5100) == 0xC90F_DAA2_2168_C235)
    #expect(m.readInteger(at: 0x5108, size: 2) == 0x4000)
    #expect(m.readInteger(at: 0x5110, size: 4) == UInt64(UInt32(bitPattern: -370368)))
    #expect(u64(m, 0x5120) == 0x0000_0012_3456_7890)
    #expect(m.readInteger(at: 0x5128, size: 2) == 0x8000)
    let sw = UInt16(truncatingIfNeeded: cpu.gpr(.rax))
    #expect(sw & 0x4500 == 0x4000)                     // FXAM of +0: C3=1 C2=0 C0=0
    #expect(sw >> 11 & 7 == 6)                         // two values on the stack
}

@Test func x87UnmaskedExceptionRaisesMFAtNextInstruction() {
    var c: [UInt8] = [0xDB, 0xE3]
    c += [0xD9] + abs32(5, 0x5200)                     // fldcw: ZM clear
    c += [0xD9, 0xE8, 0xD9, 0xEE, 0xDE, 0xF9]          // fld1; fldz; fdivp st1, st0 (1/0)
    c += [0xDF, 0xE0]                                  // fnstsw ax (non-waiting: no #MF)
    c += [0x48, 0x89, 0xC3]                            // mov rbx, rax
    c += [0xD9, 0xE8]                                  // fld1: #MF
    let (cpu, _, r) = fpMachine(c) { m in m.writeInteger(0x37B, at: 0x5200, size: 2) }
    #expect(r == .exception(vector: 16, errorCode: nil))
    let sw = UInt16(truncatingIfNeeded: cpu.gpr(.rbx))
    #expect(sw & 0x84 == 0x84)                          // ZE and ES
    #expect(cpu.x87Register(st: 1)?.significand == 1 << 63)   // 1.0 kept (quotient not stored, no pop)
    // With CR0.NE clear the error is not signalled as #MF.
    let (_, _, r2) = fpMachine(c, cr0Extra: CR0.mp.rawValue) { m in m.writeInteger(0x37B, at: 0x5200, size: 2) }
    #expect(r2 == .halted)
}

@Test func fxsaveFxrstorAndFsaveRoundTrip() {
    var c: [UInt8] = [0xDB, 0xE3]
    c += [0xF3, 0x0F, 0x6F] + abs32(0, 0x5000)         // movdqu xmm0, [5000]
    c += [0xD9, 0xEB]                                  // fldpi
    c += [0x0F, 0xAE] + abs32(0, 0x6000)               // fxsave [6000]
    c += [0x66, 0x0F, 0xEF, 0xC0, 0xDB, 0xE3]          // pxor xmm0, xmm0; fninit
    c += [0x0F, 0xAE] + abs32(1, 0x6000)               // fxrstor [6000]
    c += [0x66, 0x0F, 0x7F] + abs32(0, 0x5100)         // movdqa [5100], xmm0
    c += [0xDD] + abs32(6, 0x6400)                     // fnsave [6400]
    c += [0xDD] + abs32(4, 0x6400)                     // frstor [6400]
    c += [0xDD] + abs32(3, 0x5110)                     // fstp qword [5110]
    let (_, m, r) = fpMachine(c) { m in
        m.writeInteger(0x0123_4567_89AB_CDEF, at: 0x5000, size: 8)
        m.writeInteger(0xFEDC_BA98_7654_3210, at: 0x5008, size: 8)
    }
    #expect(r == .halted)
    #expect(m.readInteger(at: 0x6000, size: 2) == 0x37F)
    #expect(m.readInteger(at: 0x6002, size: 2) == 0x3800)   // TOP = 7
    #expect(m.readInteger(at: 0x6004, size: 1) == 0x80)     // R7 valid
    #expect(m.readInteger(at: 0x6018, size: 4) == 0x1F80)
    #expect(u64(m, 0x6020) == 0xC90F_DAA2_2168_C235)
    #expect(u64(m, 0x60A0) == 0x0123_4567_89AB_CDEF)
    #expect(u64(m, 0x5100) == 0x0123_4567_89AB_CDEF)
    #expect(u64(m, 0x5108) == 0xFEDC_BA98_7654_3210)
    #expect(m.readInteger(at: 0x6408, size: 2) == 0x3FFF)   // FNSAVE tag word: only R7 valid
    #expect(u64(m, 0x5110) == Double.pi.bitPattern)
}

/// SoftFloat against the host's correctly rounded binary64/binary32 arithmetic on pseudo-random operands.
@Test func softFloatMatchesHostRoundToNearest() {
    var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed ^ (seed >> 29) }
    var mismatches = 0
    for n in 0..<20000 {
        var x = next(), y = next()
        if n % 4 == 1 { y = (x & 0xFFF0_0000_0000_0000) | (y & 0x000F_FFFF_FFFF_FFFF) }   // close exponents
        if n % 8 == 3 { x &= 0x800F_FFFF_FFFF_FFFF }                                     // denormals
        let a = Double(bitPattern: x), b = Double(bitPattern: y)
        var e = FPEnv()
        let ua = FPValue.unpack64(x, &e), ub = FPValue.unpack64(y, &e)
        let results: [(UInt64, Double)] = [
            (SoftFloat.add(ua, ub, .double, &e).bits64, a + b),
            (SoftFloat.add(ua, ub, negateB: true, .double, &e).bits64, a - b),
            (SoftFloat.mul(ua, ub, .double, &e).bits64, a * b),
            (SoftFloat.div(ua, ub, .double, &e).bits64, a / b),
            (SoftFloat.sqrt(ub, .double, &e).bits64, b.squareRoot()),
        ]
        for (got, want) in results where !(want.isNaN && Double(bitPattern: got).isNaN) && got != want.bitPattern { mismatches += 1 }
        let fa = Float(bitPattern: UInt32(truncatingIfNeeded: x)), fb = Float(bitPattern: UInt32(truncatingIfNeeded: y))
        let va = FPValue.unpack32(fa.bitPattern, &e), vb = FPValue.unpack32(fb.bitPattern, &e)
        let fr: [(UInt32, Float)] = [
            (SoftFloat.add(va, vb, .single, &e).bits32, fa + fb),
            (SoftFloat.mul(va, vb, .single, &e).bits32, fa * fb),
            (SoftFloat.div(va, vb, .single, &e).bits32, fa / fb),
            (SoftFloat.sqrt(vb, .single, &e).bits32, fb.squareRoot()),
            (SoftFloat.round(ua, .single, &e).bits32, Float(a)),
        ]
        for (got, want) in fr where !(want.isNaN && Float(bitPattern: got).isNaN) && got != want.bitPattern { mismatches += 1 }
    }
    #expect(mismatches == 0)
}

#if arch(x86_64) && !os(Windows)
/// Extended precision against the host's Float80 (x86-64 only).
@Test func softFloatExtendedMatchesFloat80() {
    var seed: UInt64 = 12345
    func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed ^ (seed >> 31) }
    var mismatches = 0
    for _ in 0..<20000 {
        let a = Float80(sign: next() & 1 == 0 ? .plus : .minus, exponentBitPattern: UInt(next() % 200 + 16283), significandBitPattern: next() | 1 << 63)
        let b = Float80(sign: next() & 1 == 0 ? .plus : .minus, exponentBitPattern: UInt(next() % 200 + 16283), significandBitPattern: next() | 1 << 63)
        var e = FPEnv()
        func up(_ f: Float80) -> FPValue {
            FPValue.unpack80(sig: f.significandBitPattern | (f.exponentBitPattern == 0 ? 0 : 1 << 63),
                             se: UInt16(f.exponentBitPattern) | (f.sign == .minus ? 0x8000 : 0), &e)
        }
        func same(_ v: FPValue, _ f: Float80) -> Bool {
            let bits = v.bits80
            return bits.sig == (f.significandBitPattern | (f.exponentBitPattern == 0 ? 0 : 1 << 63)) &&
                bits.se == UInt16(f.exponentBitPattern) | (f.sign == .minus ? 0x8000 : 0)
        }
        if !same(SoftFloat.add(up(a), up(b), .extended, &e), a + b) { mismatches += 1 }
        if !same(SoftFloat.mul(up(a), up(b), .extended, &e), a * b) { mismatches += 1 }
        if !same(SoftFloat.div(up(a), up(b), .extended, &e), a / b) { mismatches += 1 }
        if !same(SoftFloat.sqrt(up(abs(a)), .extended, &e), abs(a).squareRoot()) { mismatches += 1 }
    }
    #expect(mismatches == 0)
}
#endif

@Test func mmxIntegerAndTransitions() {
    var c: [UInt8] = [0xDB, 0xE3]
    c += [0x0F, 0x6F] + abs32(0, 0x5000)               // movq mm0, [5000]
    c += [0x0F, 0xFD] + abs32(0, 0x5008)               // paddw mm0, [5008]
    c += [0x0F, 0x70, 0xC8, 0x1B]                      // pshufw mm1, mm0, 0x1B
    c += [0x0F, 0x7F] + abs32(1, 0x5100)               // movq [5100], mm1
    c += [0x0F, 0xD7, 0xC1]                            // pmovmskb eax, mm1
    c += [0xD9] + abs32(6, 0x5200)                     // fnstenv [5200] (tag word: all valid)
    c += [0x0F, 0xE7] + abs32(1, 0x5108)               // movntq [5108], mm1
    c += [0x0F, 0x77]                                  // emms
    let (cpu, m, r) = fpMachine(c) { m in
        m.writeInteger(0x8001_7FFF_0002_FFFF, at: 0x5000, size: 8)
        m.writeInteger(0x0001_0001_0003_0001, at: 0x5008, size: 8)
    }
    #expect(r == .halted)
    // Sum words: FFFF+1=0000, 0002+3=0005, 7FFF+1=8000, 8001+1=8002; reversed by pshufw.
    #expect(u64(m, 0x5100) == 0x0000_0005_8000_8002)
    #expect(u64(m, 0x5108) == 0x0000_0005_8000_8002)
    #expect(cpu.gpr(.rax) == 0b0000_1111 & 0b0000_1010 | 0b0101 & 0)   // bytes 1 and 3 have bit 7 set
    #expect(m.readInteger(at: 0x5208, size: 2) == 0x555A)  // after MMX: all non-empty; MM0/MM1 special, rest zero
    #expect(cpu.x87TagWord == 0xFFFF)                   // EMMS
    #expect(fpMachine([0x0F, 0xEF, 0xC0], cr0Extra: CR0.em.rawValue).2 == .exception(vector: 6, errorCode: nil))
}

@Test(arguments: [(Float(1.5), Float(-2.25)), (1.0, 3.0), (3.4e38, 3.4e38), (1e-40, 7.0), (.nan, 1.0)])
func ssePackedSingleMatchesHost(_ a: Float, _ b: Float) {
    var c: [UInt8] = []
    c += [0x0F, 0x28] + abs32(0, 0x5000)               // movaps xmm0, [5000]
    c += [0x0F, 0x28] + abs32(1, 0x5010)               // movaps xmm1, [5010]
    for (k, op) in [UInt8(0x58), 0x59, 0x5E, 0x5C, 0x5D, 0x5F].enumerated() {
        c += [0x0F, 0x28, 0xD0]                        // movaps xmm2, xmm0
        c += [0x0F, op, 0xD1]                          // op ps xmm2, xmm1
        c += [0x0F, 0x29] + abs32(2, 0x5100 + UInt32(16 * k))
    }
    c += [0x0F, 0x28, 0xD0, 0x0F, 0xC2, 0xD1, 0x01]    // cmpltps xmm2, xmm1
    c += [0x0F, 0x29] + abs32(2, 0x5200)
    c += [0x66, 0x0F, 0x5B, 0xD0]                      // cvtps2dq xmm2, xmm0
    c += [0x0F, 0x29] + abs32(2, 0x5210)
    let (_, m, r) = fpMachine(c) { m in
        for k in 0..<4 {
            m.writeInteger(UInt64(a.bitPattern), at: 0x5000 + UInt64(4 * k), size: 4)
            m.writeInteger(UInt64(b.bitPattern), at: 0x5010 + UInt64(4 * k), size: 4)
        }
    }
    #expect(r == .halted)
    func f(_ addr: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: m.readInteger(at: addr, size: 4)) }
    func same(_ got: UInt32, _ want: Float) -> Bool { want.isNaN ? Float(bitPattern: got).isNaN : got == want.bitPattern }
    for k in 0..<4 {
        let o = UInt64(4 * k)
        #expect(same(f(0x5100 + o), a + b))
        #expect(same(f(0x5110 + o), a * b))
        #expect(same(f(0x5120 + o), a / b))
        #expect(same(f(0x5130 + o), a - b))
        #expect(f(0x5140 + o) == (a < b ? a : b).bitPattern)     // MINPS: second operand unless a < b
        #expect(f(0x5150 + o) == (a > b ? a : b).bitPattern)
        #expect(f(0x5200 + o) == (a < b ? 0xFFFF_FFFF : 0))
        let want: UInt32 = a.isNaN || abs(a) >= 2.147483648e9 ? 0x8000_0000 : UInt32(bitPattern: Int32(a.rounded(.toNearestOrEven)))
        #expect(f(0x5210 + o) == want)
    }
}

@Test func sseFlushToZeroAndDenormalsAreZero() {
    var c: [UInt8] = []
    c += [0x0F, 0xAE] + abs32(2, 0x5200)               // ldmxcsr
    c += [0xF3, 0x0F, 0x10] + abs32(0, 0x5000)         // movss xmm0, [5000]
    c += [0xF3, 0x0F, 0x59] + abs32(0, 0x5004)         // mulss xmm0, [5004] (tiny result)
    c += [0xF3, 0x0F, 0x11] + abs32(0, 0x5100)
    c += [0xF3, 0x0F, 0x10] + abs32(1, 0x5008)         // movss xmm1, [5008] (denormal)
    c += [0xF3, 0x0F, 0x58] + abs32(1, 0x5008)         // addss xmm1, [5008]
    c += [0xF3, 0x0F, 0x11] + abs32(1, 0x5104)
    c += [0x0F, 0xAE] + abs32(3, 0x5204)
    for (mx, tinyWant, denWant) in [(UInt64(0x1F80 | 0x8040), UInt64(0), UInt64(0)), (0x1F80, 0x0000_0001, 0x0000_0002)] {
        let (_, m, r) = fpMachine(c) { m in
            m.writeInteger(mx, at: 0x5200, size: 4)
            m.writeInteger(UInt64(Float(1e-20).bitPattern), at: 0x5000, size: 4)
            m.writeInteger(UInt64(Float(1.5e-25).bitPattern), at: 0x5004, size: 4)
            m.writeInteger(1, at: 0x5008, size: 4)
        }
        #expect(r == .halted)
        #expect(m.readInteger(at: 0x5100, size: 4) == (mx & 0x8000 != 0 ? tinyWant : UInt64((Float(1e-20) * Float(1.5e-25)).bitPattern)))
        #expect(m.readInteger(at: 0x5104, size: 4) == denWant)
        let flags = m.readInteger(at: 0x5204, size: 4) & 0x3F
        #expect(flags == (mx & 0x8000 != 0 ? 0x30 : 0x32))   // UE|PE, plus DE without DAZ
    }
}

@Test(arguments: [(10.5, 3.0), (-7.25, 2.0), (1e300, 3.7), (5.0, -0.75), (2.5, 5.0)])
func x87RemaindersMatchHost(_ a: Double, _ b: Double) {
    var c: [UInt8] = [0xDB, 0xE3]
    for (k, code) in [UInt8(0xF8), 0xF5].enumerated() {   // FPREM, FPREM1
        c += [0xDD] + abs32(0, 0x5008) + [0xDD] + abs32(0, 0x5000)
        let loop = c.count
        c += [0xD9, code, 0xDF, 0xE0, 0xF6, 0xC4, 0x04]   // fprem; fnstsw ax; test ah, 4
        c += [0x75, UInt8(bitPattern: Int8(loop - (c.count + 2)))]   // jnz loop
        c += [0xDD] + abs32(3, 0x5100 + UInt32(8 * k)) + [0xDD, 0xD8]
    }
    let (_, m, r) = fpMachine(c) { m in
        m.writeInteger(a.bitPattern, at: 0x5000, size: 8)
        m.writeInteger(b.bitPattern, at: 0x5008, size: 8)
    }
    #expect(r == .halted)
    #expect(u64(m, 0x5100) == a.truncatingRemainder(dividingBy: b).bitPattern)
    #expect(u64(m, 0x5108) == a.remainder(dividingBy: b).bitPattern)
}

@Test func x87EnvironmentLayouts() {
    var c: [UInt8] = [0xDB, 0xE3, 0xD9, 0xE8, 0xD9, 0xEE] // fninit; fld1; fldz
    c += [0xD9] + abs32(6, 0x5000)                     // fnstenv [5000] (28 bytes)
    c += [0x66, 0xD9] + abs32(6, 0x5100)               // fnstenv (16-bit, 14 bytes)
    c += [0xDB, 0xE3]
    c += [0xD9] + abs32(4, 0x5000)                     // fldenv [5000]
    c += [0xDF, 0xE0]                                  // fnstsw ax
    let (cpu, m, r) = fpMachine(c)
    #expect(r == .halted)
    #expect(m.readInteger(at: 0x5000, size: 4) == 0x37F)
    #expect(m.readInteger(at: 0x5004, size: 4) == 0x3000)    // TOP = 6
    #expect(m.readInteger(at: 0x5008, size: 4) == 0x1FFF)    // R7 valid (00), R6 zero (01)
    #expect(m.readInteger(at: 0x500C, size: 4) == 0x100000 + 4)   // FIP of fldz
    #expect(m.readInteger(at: 0x5100, size: 2) == 0x37F)
    #expect(m.readInteger(at: 0x5104, size: 2) == 0x1FFF)
    #expect(cpu.x87ControlWord == 0x37F | 0x3F)
    #expect(cpu.gpr(.rax) & 0x3800 == 0x3000)
    #expect(cpu.x87TagWord == 0x1FFF)
}

@Test func cpuidReportsFloatingPointUnits() {
    let mem = PhysicalMemory(ramSize: 1 << 20)
    let cpu = CPU(memory: mem)
    let r = cpu.cpuid(leaf: 1, subleaf: 0)
    #expect(r.edx & (1 << 0 | 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26) == (1 << 0 | 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26))
    #expect(r.ecx & (1 << 0 | 1 << 9 | 1 << 19 | 1 << 20) == (1 << 0 | 1 << 9 | 1 << 19 | 1 << 20))   // SSE3, SSSE3, SSE4.1, SSE4.2
    #expect(r.ecx & (1 << 26 | 1 << 27) == 1 << 26)   // XSAVE; OSXSAVE clear while CR4.OSXSAVE is
    cpu.cr4 = CR4.osxsave.rawValue
    #expect(cpu.cpuid(leaf: 1, subleaf: 0).ecx & (1 << 27) != 0)
    #expect(cpu.cpuid(leaf: 0, subleaf: 0).eax >= 0xD)
    let d0 = cpu.cpuid(leaf: 0xD, subleaf: 0)
    #expect(d0.eax == 3 && d0.ebx == 576 && d0.ecx == 576 && d0.edx == 0)
    #expect(cpu.cpuid(leaf: 0xD, subleaf: 1).eax == 1)    // XSAVEOPT only
}

// MARK: XSAVE feature set

private let osxsave = CR4.osfxsr.rawValue | CR4.osxmmexcpt.rawValue | CR4.osxsave.rawValue
private func movEAX(_ v: UInt32) -> [UInt8] { [0xB8] + withUnsafeBytes(of: v.littleEndian, Array.init) }
private func movECX(_ v: UInt32) -> [UInt8] { [0xB9] + withUnsafeBytes(of: v.littleEndian, Array.init) }
private func movEDX(_ v: UInt32) -> [UInt8] { [0xBA] + withUnsafeBytes(of: v.littleEndian, Array.init) }
private let xgetbv: [UInt8] = [0x0F, 0x01, 0xD0]
private let xsetbv: [UInt8] = [0x0F, 0x01, 0xD1]

@Test func xgetbvXsetbvManageXCR0() {
    #expect(fpMachine(xgetbv).2 == .exception(vector: 6, errorCode: nil))        // CR4.OSXSAVE clear
    #expect(fpMachine(xsetbv).2 == .exception(vector: 6, errorCode: nil))
    let (cpu0, _, r0) = fpMachine(movECX(0) + xgetbv, cr4Extra: osxsave)
    #expect(r0 == .halted && cpu0.gpr(.rax) == 1 && cpu0.gpr(.rdx) == 0)
    let (cpu1, _, r1) = fpMachine(movECX(0) + movEDX(0) + movEAX(3) + xsetbv + movEAX(0xFFFF) + xgetbv, cr4Extra: osxsave)
    #expect(r1 == .halted && cpu1.gpr(.rax) == 3 && cpu1.gpr(.rdx) == 0)
    #expect(fpMachine(movECX(1) + xgetbv, cr4Extra: osxsave).2 == .exception(vector: 13, errorCode: 0))
    for (ecx, edx, eax): (UInt32, UInt32, UInt32) in [(0, 0, 2), (0, 0, 0), (0, 0, 7), (0, 1, 3), (1, 0, 3)] {
        let r = fpMachine(movECX(ecx) + movEDX(edx) + movEAX(eax) + xsetbv, cr4Extra: osxsave).2
        #expect(r == .exception(vector: 13, errorCode: 0))
    }
}

@Test func xsaveXrstorRoundTrip() {
    var c: [UInt8] = movECX(0) + movEDX(0) + movEAX(3) + xsetbv + [0xDB, 0xE3]
    c += [0xD9, 0xE8, 0xD9, 0xEB]                          // fld1; fldpi
    c += [0xF2, 0x0F, 0x10] + abs32(3, 0x5000)             // movsd xmm3, [5000]
    c += movEDX(0xFFFF_FFFF) + movEAX(0xFFFF_FFFF)
    c += [0x48, 0x0F, 0xAE] + abs32(4, 0x6000)             // xsave64 [6000]
    c += [0xDB, 0xE3, 0x0F, 0x57, 0xDB]                    // fninit; xorps xmm3, xmm3
    c += [0x48, 0x0F, 0xAE] + abs32(5, 0x6000)             // xrstor64 [6000]
    c += [0xDB] + abs32(7, 0x5100)                         // fstp tword [5100]
    c += [0xF2, 0x0F, 0x11] + abs32(3, 0x5110)             // movsd [5110], xmm3
    let (cpu, m, r) = fpMachine(c, cr4Extra: osxsave) { m in
        m.writeInteger(Double(2.75).bitPattern, at: 0x5000, size: 8)
    }
    #expect(r == .halted)
    #expect(m.readInteger(at: 0x6000, size: 2) == 0x37F)
    #expect(m.readInteger(at: 0x6000 + 32, size: 8) == 0xC90F_DAA2_2168_C235)   // ST0 = π
    #expect(m.readInteger(at: 0x6000 + 40, size: 2) == 0x4000)
    #expect(m.readInteger(at: 0x6000 + 24, size: 4) == 0x1F80)
    #expect(m.readInteger(at: 0x6000 + 160 + 48, size: 8) == Double(2.75).bitPattern)
    #expect(m.readInteger(at: 0x6200, size: 8) == 3)                        // XSTATE_BV
    #expect(m.readInteger(at: 0x5100, size: 8) == 0xC90F_DAA2_2168_C235)
    #expect(m.readInteger(at: 0x5110, size: 8) == Double(2.75).bitPattern)
    #expect(cpu.x87Register(st: 0)?.significand == 1 << 63)                 // 1.0 remains
}

@Test func xsaveRespectsXCR0AndXsaveoptSkipsInitState() {
    // XCR0 = 1: only x87 state is saved, MXCSR and the XMM area are untouched; XSTATE_BV bit 1 is kept.
    var c: [UInt8] = [0xDB, 0xE3, 0xD9, 0xE8] + movEDX(0xFFFF_FFFF) + movEAX(0xFFFF_FFFF)
    c += [0x0F, 0xAE] + abs32(4, 0x6000)
    let (_, m, r) = fpMachine(c, cr4Extra: osxsave) { m in
        for k in stride(from: 0, to: 512, by: 8) { m.writeInteger(0xAAAA_AAAA_AAAA_AAAA, at: 0x6000 + UInt64(k), size: 8) }
        m.writeInteger(2, at: 0x6200, size: 8)
        m.writeInteger(0x55, at: 0x6208, size: 8)          // XCOMP_BV: XSAVE writes only XSTATE_BV
    }
    #expect(r == .halted)
    #expect(m.readInteger(at: 0x6208, size: 8) == 0x55)
    #expect(m.readInteger(at: 0x6000, size: 2) == 0x37F)
    #expect(m.readInteger(at: 0x6000 + 24, size: 8) == 0xAAAA_AAAA_AAAA_AAAA)
    #expect(m.readInteger(at: 0x6000 + 160, size: 8) == 0xAAAA_AAAA_AAAA_AAAA)
    #expect(m.readInteger(at: 0x6200, size: 8) == 3)
    // XSAVEOPT with the XMM registers zero (init state): MXCSR written, XMM area skipped, XSTATE_BV[1] = 0.
    var c2: [UInt8] = movECX(0) + movEDX(0) + movEAX(3) + xsetbv + [0xD9, 0xE8] + movEAX(3)
    c2 += [0x0F, 0xAE] + abs32(6, 0x6000)
    let (_, m2, r2) = fpMachine(c2, cr4Extra: osxsave) { m in
        for k in stride(from: 0, to: 512, by: 8) { m.writeInteger(0xAAAA_AAAA_AAAA_AAAA, at: 0x6000 + UInt64(k), size: 8) }
        m.writeInteger(2, at: 0x6200, size: 8)
    }
    #expect(r2 == .halted)
    #expect(m2.readInteger(at: 0x6000 + 24, size: 4) == 0x1F80)
    #expect(m2.readInteger(at: 0x6000 + 160, size: 8) == 0xAAAA_AAAA_AAAA_AAAA)
    #expect(m2.readInteger(at: 0x6200, size: 8) == 1)
}

@Test func xrstorInitialisesClearComponentsAndChecksHeader() {
    let pre: [UInt8] = movECX(0) + movEDX(0) + movEAX(3) + xsetbv + [0xD9, 0xE8] +
        [0xF2, 0x0F, 0x10] + abs32(3, 0x5000) + movEAX(3)
    let (cpu, _, r) = fpMachine(pre + [0x0F, 0xAE] + abs32(5, 0x6000), cr4Extra: osxsave) { m in
        m.writeInteger(1.5.bitPattern, at: 0x5000, size: 8)
        m.writeInteger(0x1F80 | 0x6000, at: 0x6000 + 24, size: 4)   // MXCSR loaded even with XSTATE_BV[1] = 0
    }
    #expect(r == .halted)
    #expect(cpu.x87TagWord == 0xFFFF && cpu.x87ControlWord == 0x37F)
    #expect(cpu.xmm(3).low == 0)
    #expect(cpu.mxcsr == 0x7F80)
    let bad: [(UInt64, UInt64)] = [(0x6200, 4), (0x6208, 1), (0x6230, 1), (0x6018, 0x10000)]   // XSTATE_BV bit 2, XCOMP_BV, reserved, MXCSR
    for (addr, v) in bad {
        let (cpu2, _, r2) = fpMachine(pre + [0x0F, 0xAE] + abs32(5, 0x6000), cr4Extra: osxsave) { m in
            m.writeInteger(1.5.bitPattern, at: 0x5000, size: 8)
            m.writeInteger(v, at: addr, size: 8)
        }
        #expect(r2 == .exception(vector: 13, errorCode: 0))
        #expect(cpu2.xmm(3).low == 1.5.bitPattern)
    }
    #expect(fpMachine(pre + [0x0F, 0xAE] + abs32(4, 0x6010), cr4Extra: osxsave).2 == .exception(vector: 13, errorCode: 0))
    #expect(fpMachine(pre + [0x0F, 0xAE] + abs32(5, 0x6020), cr4Extra: osxsave).2 == .exception(vector: 13, errorCode: 0))
    #expect(fpMachine([0x0F, 0xAE] + abs32(4, 0x6000)).2 == .exception(vector: 6, errorCode: nil))
    #expect(fpMachine([0x0F, 0xAE] + abs32(4, 0x6000), cr0Extra: CR0.ts.rawValue, cr4Extra: osxsave).2 == .exception(vector: 7, errorCode: nil))
}
