import Testing
@testable import X86

// SSE3, SSSE3, SSE4.1 and SSE4.2: each vector runs one instruction in a 64-bit guest with XMM0 = m,
// XMM1 and MM1 = a, XMM2 and MM2 = b, RAX and RDX as given, RCX = 0x1111222233334444, RFLAGS status bits
// set and MXCSR = 0x1F80 (or the vector's rounding control, DAZ and FTZ), and compares XMM0, XMM1, MM1, RAX, RCX, the status flags and MXCSR with what
// an x86-64 host (SSE4.2) produced for the same bytes and inputs. Most instructions use ModRM 0xCA
// (reg XMM1/MM1, r/m XMM2/MM2); GPR forms use EAX/EDX.

/// One instruction, its inputs, and the host's outputs.
struct SIMDVector: CustomTestStringConvertible, Sendable {
    var name: String
    var code: [UInt8]
    var m, a, b: (UInt64, UInt64)
    var rax, rdx: UInt64
    var xmm0, xmm1: (UInt64, UInt64)
    var mm1, rax2, rcx, flags, mxcsr: UInt64
    /// MXCSR before the instruction (rounding control, DAZ, FTZ).
    var mxcsrIn: UInt32
    var testDescription: String { name }

    init(_ name: String, _ hex: String, m: (UInt64, UInt64), a: (UInt64, UInt64), b: (UInt64, UInt64), rax: UInt64, rdx: UInt64,
         xmm0: (UInt64, UInt64), xmm1: (UInt64, UInt64), mm1: UInt64, rax2: UInt64, rcx: UInt64, flags: UInt64, mxcsr: UInt64, mxcsrIn: UInt32 = 0x1F80) {
        self.name = name
        var bytes: [UInt8] = []
        var s = Substring(hex)
        while s.count >= 2 { bytes.append(UInt8(s.prefix(2), radix: 16) ?? 0); s = s.dropFirst(2) }
        code = bytes
        self.m = m; self.a = a; self.b = b; self.rax = rax; self.rdx = rdx
        self.xmm0 = xmm0; self.xmm1 = xmm1; self.mm1 = mm1; self.rax2 = rax2; self.rcx = rcx; self.flags = flags; self.mxcsr = mxcsr
        self.mxcsrIn = mxcsrIn
    }
}

/// ModRM + SIB + disp32 for an absolute address with ModRM.reg = `reg`.
private func absolute(_ reg: UInt8, _ addr: UInt32) -> [UInt8] {
    [0x04 | reg << 3, 0x25] + withUnsafeBytes(of: addr.littleEndian, Array.init)
}

/// Runs `code` (then HLT) in a 64-bit guest at CPL 0: 2 MiB identity-mapped, code at 0x100000, data at
/// 0x5000 from `data`, SSE enabled with #XM reporting.
private func simdMachine(_ code: [UInt8], data: [UInt8] = [], cr4Extra: UInt64 = CR4.osfxsr.rawValue | CR4.osxmmexcpt.rawValue,
                         prepare: (CPU) -> Void = { _ in }) -> (CPU, PhysicalMemory, StopReason) {
    let mem = PhysicalMemory(ramSize: 4 << 20)
    mem.writeInteger(0x1000 | 3, at: 0x10000, size: 8)
    mem.writeInteger(0x2000 | 3, at: 0x1000, size: 8)
    mem.writeInteger(0x83, at: 0x2000, size: 8)
    mem.write(code + [0xF4], at: 0x100000)
    mem.write(data, at: 0x5000)
    let cpu = CPU(memory: mem)
    cpu.cr3 = 0x10000
    cpu.cr4 = CR4.pae.rawValue | cr4Extra
    cpu.efer = EFER.lme.rawValue | EFER.lma.rawValue
    cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue | CR0.ne.rawValue | CR0.mp.rawValue
    cpu.setSegment(.cs, SegmentRegister(selector: 0x8, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
    cpu.setSegment(.ss, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
    cpu.setGPR(.rsp, 0x8000)
    cpu.rip = 0x100000
    cpu.exceptionIntercept = 0xFFFF_FFFF
    prepare(cpu)
    let r = cpu.run(instructionLimit: 1000)
    return (cpu, mem, r)
}

private func le(_ v: UInt64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }

@Test(arguments: simdVectors)
func simdInstructionMatchesHostVector(_ v: SIMDVector) {
    let data = le(v.m.0) + le(v.m.1) + le(v.a.0) + le(v.a.1) + le(v.b.0) + le(v.b.1)
    var c: [UInt8] = []
    c += [0xF3, 0x0F, 0x6F] + absolute(0, 0x5000)   // movdqu xmm0, m
    c += [0xF3, 0x0F, 0x6F] + absolute(1, 0x5010)   // movdqu xmm1, a
    c += [0xF3, 0x0F, 0x6F] + absolute(2, 0x5020)   // movdqu xmm2, b
    c += [0x0F, 0x6F] + absolute(1, 0x5010)         // movq mm1, a
    c += [0x0F, 0x6F] + absolute(2, 0x5020)         // movq mm2, b
    c += v.code
    let (cpu, _, r) = simdMachine(c, data: data) { cpu in
        cpu.setGPR(.rax, v.rax)
        cpu.setGPR(.rdx, v.rdx)
        cpu.setGPR(.rcx, 0x1111_2222_3333_4444)
        cpu.rflags = 0x8D7
        cpu.mxcsr = v.mxcsrIn
    }
    #expect(r == .halted)
    #expect(cpu.xmm(0) == v.xmm0)
    #expect(cpu.xmm(1) == v.xmm1)
    #expect(cpu.mmValue(1) == v.mm1)
    #expect(cpu.gpr(.rax) == v.rax2)
    #expect(cpu.gpr(.rcx) == v.rcx)
    #expect(cpu.rflags & 0x8D5 == v.flags)
    #expect(UInt64(cpu.mxcsr) == v.mxcsr)
}


@Test func sse3To42FaultsAndMemoryForms() {
    let ud = StopReason.exception(vector: 6, errorCode: nil)
    #expect(simdMachine([0xF2, 0x0F, 0xF0, 0xC1]).2 == ud)                    // lddqu xmm0, xmm1
    #expect(simdMachine([0x66, 0x0F, 0x38, 0x2A, 0xC1]).2 == ud)              // movntdqa xmm0, xmm1
    #expect(simdMachine([0xF3, 0x0F, 0x38, 0x00, 0xC1]).2 == ud)              // F3 0F 38 00
    #expect(simdMachine([0x0F, 0x38, 0x17, 0xC1]).2 == ud)                    // ptest has no MMX form
    #expect(simdMachine([0x66, 0x0F, 0x38, 0x00, 0xC1], cr4Extra: 0).2 == ud) // CR4.OSFXSR clear
    // Aligned m128 operands: #GP(0) when misaligned, except LDDQU, PCMPxSTRx and the narrow loads.
    #expect(simdMachine([0x66, 0x0F, 0x38, 0x17] + absolute(0, 0x5008)).2 == .exception(vector: 13, errorCode: 0))
    #expect(simdMachine([0xF2, 0x0F, 0x7C] + absolute(0, 0x5004)).2 == .exception(vector: 13, errorCode: 0))
    let text = Array("xxxxxxxxhello\u{0}world".utf8) + [UInt8](repeating: 0, count: 16)
    var c: [UInt8] = []
    c += [0xF2, 0x0F, 0xF0] + absolute(1, 0x5008)                 // lddqu xmm1, [5008]
    c += [0x66, 0x0F, 0x3A, 0x63] + absolute(1, 0x5008) + [0x18]  // pcmpistri xmm1, [5008], equal each, negated
    c += [0x66, 0x0F, 0x38, 0x20] + absolute(2, 0x5003)           // pmovsxbw xmm2, [5003]
    c += [0xF2, 0x0F, 0x12] + absolute(3, 0x5009)                 // movddup xmm3, [5009]
    c += [0xF2, 0x0F, 0x38, 0xF1] + absolute(0, 0x5008)           // crc32 eax, dword [5008]
    c += [0x66, 0x0F, 0x3A, 0x14] + absolute(1, 0x5100) + [0x04]  // pextrb [5100], xmm1, 4
    let (cpu, mem, r) = simdMachine(c, data: text) { $0.setGPR(.rax, 0xFFFF_FFFF) }
    #expect(r == .halted)
    #expect(cpu.xmm(1).low == 0x6F77_006F_6C6C_6568)
    #expect(cpu.gpr(.rcx) == 16)                                   // a string against itself: no mismatch
    #expect(cpu.xmm(2).low == 0x0078_0078_0078_0078)
    #expect(cpu.xmm(3) == (0x726F_7700_6F6C_6C65, 0x726F_7700_6F6C_6C65))
    #expect(cpu.gpr(.rax) == UInt64(CPU.crc32c(0xFFFF_FFFF, 0x6C6C_6568, bytes: 4)))
    #expect(mem.readInteger(at: 0x5100, size: 1) == 0x6F)
}

@Test func crc32cKnownValue() {
    // CRC-32C("123456789") = E3069283h with the conventional initial value and final inversion (RFC 3720 B.4).
    var c: UInt32 = 0xFFFF_FFFF
    for ch in "123456789".utf8 { c = UInt32(CPU.crc32c(c, UInt64(ch), bytes: 1)) }
    #expect(~c == 0xE306_9283)
}

@Test func roundAndDotProductExceptions() {
    // ROUNDSD with the precision exception unmasked: #XM and the destination keeps its value; with imm8[3] set
    // (suppress precision) it completes.
    var c: [UInt8] = [0x0F, 0xAE] + absolute(2, 0x5100)                     // ldmxcsr [5100]: PM clear
    c += [0x66, 0x0F, 0x3A, 0x0B] + absolute(0, 0x5000) + [0x00]          // roundsd xmm0, [5000], nearest
    let data = le((2.5).bitPattern) + [UInt8](repeating: 0, count: 248) + le(0x1F80 & ~0x1000)
    let (cpu, _, r) = simdMachine(c, data: data) { $0.setXMM(0, low: 7, high: 9) }
    #expect(r == .exception(vector: 19, errorCode: nil))
    #expect(cpu.xmm(0) == (7, 9))
    #expect(cpu.mxcsr & 0x20 != 0)
    var c2: [UInt8] = [0x0F, 0xAE] + absolute(2, 0x5100)
    c2 += [0x66, 0x0F, 0x3A, 0x0B] + absolute(0, 0x5000) + [0x08]         // roundsd, precision suppressed
    let (cpu2, _, r2) = simdMachine(c2, data: data) { $0.setXMM(0, low: 7, high: 9) }
    #expect(r2 == .halted)
    #expect(cpu2.xmm(0) == ((2.0).bitPattern, 9))
    #expect(cpu2.mxcsr & 0x20 == 0)
    // DPPS: a signalling NaN in a selected lane raises IE and gives a quiet NaN; in an unselected lane nothing.
    let snan: UInt64 = 0x7F80_0001
    let one: UInt64 = 0x3F80_0000
    let (cpu3, _, r3) = simdMachine([0x66, 0x0F, 0x3A, 0x40, 0xCA, 0x11]) { cpu in
        cpu.setXMM(1, low: one | snan << 32, high: 0)
        cpu.setXMM(2, low: one | one << 32, high: 0)
    }
    #expect(r3 == .halted)
    #expect(cpu3.xmm(1) == (one, 0))
    #expect(cpu3.mxcsr & 1 == 0)
    let (cpu4, _, _) = simdMachine([0x66, 0x0F, 0x3A, 0x40, 0xCA, 0x21]) { cpu in
        cpu.setXMM(1, low: one | snan << 32, high: 0)
        cpu.setXMM(2, low: one | one << 32, high: 0)
    }
    #expect(cpu4.xmm(1) == (0x7FC0_0001, 0))
    #expect(cpu4.mxcsr & 1 != 0)
}

/// Host results for SSE3…SSE4.2 (generated by running each instruction on the host; see the file comment).
let simdVectors: [SIMDVector] = [
    SIMDVector("addsubps", "F20FD0CA", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xbfc00000bf800000, 0xbe4cccce00000000), mm1: 0xc01000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("haddps", "F20F7CCA", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7f61b1e6bf400000, 0x7f61b1e640500000), mm1: 0xc01000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("hsubps", "F20F7DCA", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7f61b1e640700000, 0x7f61b1e63fe00000), mm1: 0xc01000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("movsldup", "F30F12CA", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x4020000040200000, 0x7f61b1e67f61b1e6), mm1: 0xc01000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("movshdup", "F30F16CA", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x3f4000003f400000, 0xbe99999abe99999a), mm1: 0xc01000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("addsubpd", "660FD0CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x3ff8000000000000, 0xbfb999999999999a), b: (0x4006000000000000, 0x7fe1ccf385ebc8a0), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xbff4000000000000, 0x7fe1ccf385ebc8a0), mm1: 0x3ff8000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("haddpd", "660F7CCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x3ff8000000000000, 0xbfb999999999999a), b: (0x4006000000000000, 0x7fe1ccf385ebc8a0), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x3ff6666666666666, 0x7fe1ccf385ebc8a0), mm1: 0x3ff8000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("hsubpd", "660F7DCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x3ff8000000000000, 0xbfb999999999999a), b: (0x4006000000000000, 0x7fe1ccf385ebc8a0), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x3ff999999999999a, 0xffe1ccf385ebc8a0), mm1: 0x3ff8000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("movddup", "F20F12CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x3ff8000000000000, 0xbfb999999999999a), b: (0x4006000000000000, 0x7fe1ccf385ebc8a0), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x4006000000000000, 0x4006000000000000), mm1: 0x3ff8000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pshufb", "660F3800CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80000012ff0000, 0x7f7f7f00000000), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pshufb-mmx", "0F3800CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80000080ff0000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phaddw", "660F3801CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x68ac79ac0000ffff, 0x8000fffe02827d82), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phaddw-mmx", "0F3801CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x2827d820000ffff, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phaddd", "660F3802CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xacf1356880827f7e, 0x7fffffff7e040201), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phaddd-mmx", "0F3802CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x7e04020180827f7e, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phaddsw", "660F3803CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x68ac80000000ffff, 0x8000fffe02827d82), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phaddsw-mmx", "0F3803CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x2827d820000ffff, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmaddubsw", "660F3804CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xff8281fd0080bf01, 0xf7000000feaafe32), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmaddubsw-mmx", "0F3804CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0xff8281fd0080bf01, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phsubw", "660F3805CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x44444434fffefeff, 0x80000000047e7f80), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phsubw-mmx", "0F3805CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x47e7f80fffefeff, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phsubd", "660F3806CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x88888878807f7f80, 0x7fffffff7ffffb01), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phsubd-mmx", "0F3806CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x7ffffb01807f7f80, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phsubsw", "660F3807CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x444444347ffffeff, 0x7fff0000047e8000), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phsubsw-mmx", "0F3807CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x47e80007ffffeff, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("psignb", "660F3808CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017f0100800181, 0xee00000066442210), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("psignb-mmx", "0F3808CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017f0100800181, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("psignw", "660F3809CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7fff7fff00800081, 0xedcc000065442110), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("psignw-mmx", "0F3809CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x7fff7fff00800081, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("psignd", "660F380ACA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7ffe80010080ff7f, 0xedcba98865432110), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("psignd-mmx", "0F380ACA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x7ffe80010080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmulhrsw", "660F380BCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xfe0380007f0002, 0xedcc000000010000), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmulhrsw-mmx", "0F380BCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0xfe0380007f0002, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pabsb", "660F381CCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x10203807f01027f, 0x8000000001010101), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pabsb-mmx", "0F381CCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x10203807f01027f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pabsw", "660F381DCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xfe03807f01017f, 0x8000000000010001), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pabsw-mmx", "0F381DCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0xfe03807f01017f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pabsd", "660F381ECA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xfdfc807f01fe81, 0x8000000000000001), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pabsd-mmx", "0F381ECA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0xfdfc807f01fe81, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("psignb-zero", "660F3808CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80f0, 0x0), b: (0x7f8180f0f17f0001, 0xfff0f5fa00000000), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xf0, 0x0), mm1: 0x80f0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("psignw-zero", "660F3809CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80f0, 0x0), b: (0x7f8180f0f17f0001, 0xfff0f5fa00000000), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80f0, 0x0), mm1: 0x80f0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("psignd-zero", "660F380ACA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80f0, 0x0), b: (0x7f8180f0f17f0001, 0xfff0f5fa00000000), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xffff7f10, 0x0), mm1: 0x80f0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("palignr-5", "660F3A0FCA05", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xffffffffff0203, 0xff0080ff7f800000), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("palignr-19", "660F3A0FCA13", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xbcdef080017fff00, 0x123456789a), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("palignr-32", "660F3A0FCA20", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x0, 0x0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("palignr-mmx-3", "0F3A0FCA03", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80ff7fff0203807f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("palignr-mmx-9", "0F3A0FCA09", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("palignr-mmx-16", "0F3A0FCA10", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pblendvb", "660F3810CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xff017fff0001ff7f, 0x123400789affdeff), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("blendvps", "660F3814CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xff0203800080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("blendvpd", "660F3815CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xff0203807f01fe81, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("ptest", "660F3817CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x0, mxcsr: 0x1f80),
    SIMDVector("pmuldq", "660F3828CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x3fffc13effc0ff, 0x65432110), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pcmpeqq", "660F3829CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x0, 0x0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("packusdw", "660F382BCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xffff00000000ffff, 0xffff), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pcmpgtq", "660F3837CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x0, 0xffffffffffffffff), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pminsb", "660F3838CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x800103800080fe81, 0x800000009abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pminsd", "660F3839CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x800000009abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pminuw", "660F383ACA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x800103800080fe81, 0x123400009abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pminud", "660F383BCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmaxsb", "660F383CCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xff027fff7f01ff7f, 0x12345678ffffffff), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmaxsd", "660F383DCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xff0203807f01fe81, 0x12345678ffffffff), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmaxuw", "660F383ECA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xff027fff7f01ff7f, 0x80005678ffffffff), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmaxud", "660F383FCA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xff0203807f01fe81, 0x80000000ffffffff), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmulld", "660F3840CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x63dfc803effc0ff, 0x65432110), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("phminposuw", "660F3841CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x60000, 0x0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovsxbw", "660F3820CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7f0001fffeff81, 0xffff00020003ff80), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovsxbd", "660F3821CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xfffffffeffffff81, 0x7f00000001), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovsxbq", "660F3822CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xffffffffffffff81, 0xfffffffffffffffe), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovsxwd", "660F3823CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7f01fffffe81, 0xffffff0200000380), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovsxwq", "660F3824CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xfffffffffffffe81, 0x7f01), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovsxdq", "660F3825CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7f01fe81, 0xffffffffff020380), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovzxbw", "660F3830CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7f000100fe0081, 0xff000200030080), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovzxbd", "660F3831CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xfe00000081, 0x7f00000001), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovzxbq", "660F3832CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x81, 0xfe), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovzxwd", "660F3833CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7f010000fe81, 0xff0200000380), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovzxwq", "660F3834CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xfe81, 0x7f01), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pmovzxdq", "660F3835CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x7f01fe81, 0xff020380), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("ptest-zf", "660F3817CA", m: (0x8000000000ff0000, 0x800000800080), a: (0xf0f0, 0x0), b: (0xf0f, 0x0), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xf0f0, 0x0), mm1: 0xf0f0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x40, mxcsr: 0x1f80),
    SIMDVector("ptest-cf", "660F3817CA", m: (0x8000000000ff0000, 0x800000800080), a: (0xffff, 0x1), b: (0xf0f, 0x1), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xffff, 0x1), mm1: 0xffff, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x1, mxcsr: 0x1f80),
    SIMDVector("pcmpeqq-eq", "660F3829CA", m: (0x8000000000ff0000, 0x800000800080), a: (0x5, 0x7), b: (0x5, 0x8), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xffffffffffffffff, 0x0), mm1: 0x5, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("roundps-0", "660F3A08CA00", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundss-0", "660F3A0ACA00", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x40000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundpd-0", "660F3A09CA00", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundsd-0", "660F3A0BCA00", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundps-1", "660F3A08CA01", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundss-1", "660F3A0ACA01", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x40000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundpd-1", "660F3A09CA01", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc008000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundsd-1", "660F3A0BCA01", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc008000000000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundps-2", "660F3A08CA02", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xbf80000040400000, 0xc0e000003f800000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundss-2", "660F3A0ACA02", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x40400000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundpd-2", "660F3A09CA02", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundsd-2", "660F3A0BCA02", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundps-3", "660F3A08CA03", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xbf80000040000000, 0xc0e0000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundss-3", "660F3A0ACA03", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x40000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundpd-3", "660F3A09CA03", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundsd-3", "660F3A0BCA03", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundps-4", "660F3A08CA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundss-4", "660F3A0ACA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x40000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundpd-4", "660F3A09CA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundsd-4", "660F3A0BCA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("roundps-b", "660F3A08CA0B", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xbf80000040000000, 0xc0e0000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("roundss-b", "660F3A0ACA0B", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x40000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("roundpd-b", "660F3A09CA0B", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("roundsd-b", "660F3A0BCA0B", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("roundps-8", "660F3A08CA08", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("roundss-8", "660F3A0ACA08", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x40000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("roundpd-8", "660F3A09CA08", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("roundsd-8", "660F3A0BCA08", m: (0x8000000000ff0000, 0x800000800080), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc000000000000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("blendps", "660F3A0CCA05", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc010000040200000, 0x3dcccccd7f61b1e6), mm1: 0xc01000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("blendpd", "660F3A0DCA02", m: (0x8000000000ff0000, 0x800000800080), a: (0x3ff8000000000000, 0xbfb999999999999a), b: (0x4006000000000000, 0x7fe1ccf385ebc8a0), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x3ff8000000000000, 0x7fe1ccf385ebc8a0), mm1: 0x3ff8000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pblendw", "660F3A0ECAA5", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x800103800080fe81, 0x80005678ffffdef0), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pextrb", "660F3A14C805", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0xffffffffffffffff, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x7f, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pextrw", "660F3A15C80E", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0xffffffffffffffff, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x5678, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pextrd", "660F3A16C803", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0xffffffffffffffff, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x12345678, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pextrq", "66480F3A16C801", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x123456789abcdef0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("extractps", "660F3A17C802", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0xffffffffffffffff, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), mm1: 0xc01000003fc00000, rax2: 0x7f61b1e6, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pinsrb", "660F3A20C809", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x123456ab, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcabf0), mm1: 0x80017fff0080ff7f, rax2: 0x123456ab, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pinsrd", "660F3A22C802", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0xcafef00d, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x12345678cafef00d), mm1: 0x80017fff0080ff7f, rax2: 0xcafef00d, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pinsrq", "66480F3A22C801", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x1122334455667788, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x1122334455667788), mm1: 0x80017fff0080ff7f, rax2: 0x1122334455667788, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("insertps-9a", "660F3A21CA9A", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x3fc00000, 0x7f61b1e6), mm1: 0xc01000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("insertps-4c", "660F3A21CA4C", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc01000003f400000, 0x0), mm1: 0xc01000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("insertps-f0", "660F3A21CAF0", m: (0x8000000000ff0000, 0x800000800080), a: (0xc01000003fc00000, 0x3dcccccd7f61b1e6), b: (0x3f40000040200000, 0xbe99999a7f61b1e6), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xc01000003fc00000, 0xbe99999a7f61b1e6), mm1: 0xc01000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("dpps-f1", "660F3A40CAF1", m: (0x8000000000ff0000, 0x800000800080), a: (0xc00000003fc00000, 0x410000003e800000), b: (0x3f00000040400000, 0x3e000000c0800000), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x40600000, 0x0), mm1: 0xc00000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("dpps-7e", "660F3A40CA7E", m: (0x8000000000ff0000, 0x800000800080), a: (0xc00000003fc00000, 0x410000003e800000), b: (0x3f00000040400000, 0x3e000000c0800000), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x4020000000000000, 0x4020000040200000), mm1: 0xc00000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("dpps-35", "660F3A40CA35", m: (0x8000000000ff0000, 0x800000800080), a: (0xc00000003fc00000, 0x410000003e800000), b: (0x3f00000040400000, 0x3e000000c0800000), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x40600000, 0x40600000), mm1: 0xc00000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("dpps-ff", "660F3A40CAFF", m: (0x8000000000ff0000, 0x800000800080), a: (0xc00000003fc00000, 0x410000003e800000), b: (0x3f00000040400000, 0x3e000000c0800000), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x4060000040600000, 0x4060000040600000), mm1: 0xc00000003fc00000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("dppd-31", "660F3A41CA31", m: (0x8000000000ff0000, 0x800000800080), a: (0x3ff8000000000000, 0xbfb999999999999a), b: (0x4006000000000000, 0x7fe1ccf385ebc8a0), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xffac7b1f3cac7434, 0x0), mm1: 0x3ff8000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("dppd-22", "660F3A41CA22", m: (0x8000000000ff0000, 0x800000800080), a: (0x3ff8000000000000, 0xbfb999999999999a), b: (0x4006000000000000, 0x7fe1ccf385ebc8a0), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x0, 0xffac7b1f3cac7434), mm1: 0x3ff8000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("dppd-33", "660F3A41CA33", m: (0x8000000000ff0000, 0x800000800080), a: (0x3ff8000000000000, 0xbfb999999999999a), b: (0x4006000000000000, 0x7fe1ccf385ebc8a0), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0xffac7b1f3cac7434, 0xffac7b1f3cac7434), mm1: 0x3ff8000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fa0),
    SIMDVector("mpsadbw-0", "660F3A42CA00", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x17e01fd017d0101, 0x129024c01ef00fe), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("mpsadbw-5", "660F3A42CA05", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x20c020b0090017b, 0x1ae01f20236026a), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("mpsadbw-7", "660F3A42CA07", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x28a01cf0170017f, 0x1b401f8023c02a4), mm1: 0x80017fff0080ff7f, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("crc32b", "F20F38F0C2", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0xffffffff, rdx: 0x1234567890abcdef,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x10a13890, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("crc32b-dh", "F20F38F0C6", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0x0, rdx: 0x1234567890abcdef,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x7ca56a17, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("crc32w", "66F20F38F1C2", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0xdeadbeef, rdx: 0x1234567890abcdef,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x62c87954, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("crc32d", "F20F38F1C2", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0xffffffff12345678, rdx: 0x1234567890abcdef,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0xcb8c7ebd, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("crc32q", "F2480F38F1C2", m: (0x8000000000ff0000, 0x800000800080), a: (0x80017fff0080ff7f, 0x123456789abcdef0), b: (0xff0203807f01fe81, 0x80000000ffffffff), rax: 0xffffffff, rdx: 0x1234567890abcdef,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x80017fff0080ff7f, 0x123456789abcdef0), mm1: 0x80017fff0080ff7f, rax2: 0x3211f985, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-0", "660F3A61CA00", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x1, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-0", "660F3A63CA00", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-0", "660F3A60CA00", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0x2, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-0", "660F3A62CA00", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x2092, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-4", "660F3A61CA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x1, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-4", "660F3A63CA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-4", "660F3A60CA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0x402, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-4", "660F3A62CA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x669e, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-8", "660F3A61CA08", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x1, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-8", "660F3A63CA08", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-8", "660F3A60CA08", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0x2, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-8", "660F3A62CA08", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8002, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-c", "660F3A61CA0C", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x10, flags: 0xc0, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-c", "660F3A63CA0C", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x10, flags: 0xc0, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-c", "660F3A60CA0C", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0x0, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x80, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-c", "660F3A62CA0C", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0xc0, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-10", "660F3A61CA10", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x0, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-10", "660F3A63CA10", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x0, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-10", "660F3A60CA10", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0xfffd, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-10", "660F3A62CA10", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0xdf6d, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-30", "660F3A61CA30", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x0, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-30", "660F3A63CA30", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x0, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-30", "660F3A60CA30", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0xfffd, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-30", "660F3A62CA30", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x5f6d, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-40", "660F3A61CA40", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x7, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-40", "660F3A63CA40", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0xd, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-40", "660F3A60CA40", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0xff00, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-40", "660F3A62CA40", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0xff0000ff0000ff00, 0xff0000000000), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-14", "660F3A61CA14", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x0, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-14", "660F3A63CA14", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x0, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-14", "660F3A60CA14", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0xfbfd, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-14", "660F3A62CA14", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x9961, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-3a", "660F3A61CA3A", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x0, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-3a", "660F3A63CA3A", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x0, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-3a", "660F3A60CA3A", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0xfffd, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-3a", "660F3A62CA3A", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0xfffd, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8c1, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-2c", "660F3A61CA2C", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x5, rdx: 0xd,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x5, rcx: 0x10, flags: 0xc0, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-2c", "660F3A63CA2C", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x10, flags: 0xc0, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-2c", "660F3A60CA2C", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x3, rdx: 0x14,
               xmm0: (0x0, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x3, rcx: 0x1111222233334444, flags: 0x80, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-2c", "660F3A62CA2C", m: (0x8000000000ff0000, 0x800000800080), a: (0x756f696561, 0x0), b: (0x6f77206f6c6c6568, 0x6b6f202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x756f696561, 0x0), mm1: 0x756f696561, rax2: 0x0, rcx: 0x1111222233334444, flags: 0xc0, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-rng-4", "660F3A63CA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0x0, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-rng-4", "660F3A62CA04", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0x6f9f, 0x0), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-rng-6", "660F3A63CA06", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0x0, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-rng-6", "660F3A62CA06", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0x6f9f, 0x0), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-rng-44", "660F3A63CA44", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0xe, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-rng-44", "660F3A62CA44", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0xff0000ffffffffff, 0xffff00ffffffff), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-rng-14", "660F3A63CA14", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0x5, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-rng-14", "660F3A62CA14", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0x9060, 0x0), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-rng-34", "660F3A63CA34", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0x5, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistrm-rng-34", "660F3A62CA34", m: (0x8000000000ff0000, 0x800000800080), a: (0x39305a417a61, 0x0), b: (0x57202c6f6c6c6548, 0x21323420646c726f), rax: 0x0, rdx: 0x0,
               xmm0: (0x9060, 0x0), xmm1: (0x39305a417a61, 0x0), mm1: 0x39305a417a61, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-sub-c", "660F3A63CA0C", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f6c, 0x0), b: (0x6f77206f6c6c6568, 0x786f6c202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f6c, 0x0), mm1: 0x6f6c, rax2: 0x0, rcx: 0x3, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-sub-c", "660F3A60CA0C", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f6c, 0x0), b: (0x6f77206f6c6c6568, 0x786f6c202c646c72), rax: 0x2, rdx: 0xfffffff0,
               xmm0: (0x2008, 0x0), xmm1: (0x6f6c, 0x0), mm1: 0x6f6c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-sub-4c", "660F3A63CA4C", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f6c, 0x0), b: (0x6f77206f6c6c6568, 0x786f6c202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f6c, 0x0), mm1: 0x6f6c, rax2: 0x0, rcx: 0xd, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-sub-4c", "660F3A60CA4C", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f6c, 0x0), b: (0x6f77206f6c6c6568, 0x786f6c202c646c72), rax: 0x2, rdx: 0xfffffff0,
               xmm0: (0xff000000, 0xff0000000000), xmm1: (0x6f6c, 0x0), mm1: 0x6f6c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-sub-1c", "660F3A63CA1C", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f6c, 0x0), b: (0x6f77206f6c6c6568, 0x786f6c202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f6c, 0x0), mm1: 0x6f6c, rax2: 0x0, rcx: 0x0, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-sub-1c", "660F3A60CA1C", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f6c, 0x0), b: (0x6f77206f6c6c6568, 0x786f6c202c646c72), rax: 0x2, rdx: 0xfffffff0,
               xmm0: (0xdff7, 0x0), xmm1: (0x6f6c, 0x0), mm1: 0x6f6c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-sub-3c", "660F3A63CA3C", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f6c, 0x0), b: (0x6f77206f6c6c6568, 0x786f6c202c646c72), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f6c, 0x0), mm1: 0x6f6c, rax2: 0x0, rcx: 0x0, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-sub-3c", "660F3A60CA3C", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f6c, 0x0), b: (0x6f77206f6c6c6568, 0x786f6c202c646c72), rax: 0x2, rdx: 0xfffffff0,
               xmm0: (0xdff7, 0x0), xmm1: (0x6f6c, 0x0), mm1: 0x6f6c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0x881, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-w-d", "660F3A63CA0D", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x0, rcx: 0x3, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-w-d", "660F3A60CA0D", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x2, rdx: 0x7,
               xmm0: (0x8, 0x0), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-w-1", "660F3A63CA01", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x0, rcx: 0x2, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-w-1", "660F3A60CA01", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x2, rdx: 0x7,
               xmm0: (0x5c, 0x0), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-w-9", "660F3A63CA09", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x0, rcx: 0x8, flags: 0x80, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-w-9", "660F3A60CA09", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x2, rdx: 0x7,
               xmm0: (0x80, 0x0), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-w-4d", "660F3A63CA4D", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x0, rcx: 0x6, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-w-4d", "660F3A60CA4D", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x2, rdx: 0x7,
               xmm0: (0xffff000000000000, 0x0), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-w-3", "660F3A63CA03", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x0, rcx: 0x2, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-w-3", "660F3A60CA03", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x2, rdx: 0x7,
               xmm0: (0x5c, 0x0), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpistri-w-f", "660F3A63CA0F", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x0, rdx: 0x0,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x0, rcx: 0x3, flags: 0x81, mxcsr: 0x1f80),
    SIMDVector("pcmpestrm-w-f", "660F3A60CA0F", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f006c, 0x0), b: (0x6c006c00650068, 0x6f006c0020006f), rax: 0x2, rdx: 0x7,
               xmm0: (0x8, 0x0), xmm1: (0x6f006c, 0x0), mm1: 0x6f006c, rax2: 0x2, rcx: 0x1111222233334444, flags: 0xc1, mxcsr: 0x1f80),
    SIMDVector("pcmpestri-rexw", "66480F3A61CA0C", m: (0x8000000000ff0000, 0x800000800080), a: (0x6f6c, 0x0), b: (0x6f77206f6c6c6568, 0x786f6c202c646c72), rax: 0xfffffffffffffffe, rdx: 0x100000000,
               xmm0: (0x8000000000ff0000, 0x800000800080), xmm1: (0x6f6c, 0x0), mm1: 0x6f6c, rax2: 0xfffffffffffffffe, rcx: 0x3, flags: 0x81, mxcsr: 0x1f80),
    // Rounding control, DAZ and FTZ.
    SIMDVector("roundps-mxcsr-down", "660F3A08CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa0, mxcsrIn: 0x3f80),
    SIMDVector("roundpd-mxcsr-down", "660F3A09CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc008000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa0, mxcsrIn: 0x3f80),
    SIMDVector("roundps-imm-down", "660F3A08CA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa0, mxcsrIn: 0x3f80),
    SIMDVector("haddps-down", "F20F7CCA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x400000003f800000, 0x33ec39233f800000), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa0, mxcsrIn: 0x3f80),
    SIMDVector("hsubpd-down", "660F7DCA", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x4000000000000000, 0x8000000000000000), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3f80, mxcsrIn: 0x3f80),
    SIMDVector("addsubps-down", "F20FD0CA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f8000003f7fffff, 0xbf800000403fffff), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa0, mxcsrIn: 0x3f80),
    SIMDVector("haddps-tiny-down", "F20F7CCA", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000000000001, 0x337fffff807ffffd), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa2, mxcsrIn: 0x3f80),
    SIMDVector("addsubpd-tiny-down", "660FD0CA", m: (0x0, 0x0), a: (0x10000000000001, 0x3ff0000000000000), b: (0x8010000000000000, 0x3ca0000000000000), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x20000000000000, 0x3ff0000000000000), mm1: 0x10000000000001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa0, mxcsrIn: 0x3f80),
    SIMDVector("dpps-tiny-down", "660F3A40CAFF", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x337ffffe337ffffe, 0x337ffffe337ffffe), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fb2, mxcsrIn: 0x3f80),
    SIMDVector("dppd-down", "660F3A41CA33", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x8000000000000000, 0x8000000000000000), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3f80, mxcsrIn: 0x3f80),
    SIMDVector("dpps-down", "660F3A40CAF1", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x34a66e12, 0x0), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa0, mxcsrIn: 0x3f80),
    SIMDVector("roundps-denormal-down", "660F3A08CA02", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000080000000, 0x3f80000080000000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa0, mxcsrIn: 0x3f80),
    SIMDVector("roundss-denormal-down", "660F3A0ACA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0x80000001, 0x0), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xbf800000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x3fa0, mxcsrIn: 0x3f80),
    SIMDVector("roundps-mxcsr-up", "660F3A08CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xbf80000040400000, 0xc0e000003f800000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa0, mxcsrIn: 0x5f80),
    SIMDVector("roundpd-mxcsr-up", "660F3A09CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa0, mxcsrIn: 0x5f80),
    SIMDVector("roundps-imm-up", "660F3A08CA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa0, mxcsrIn: 0x5f80),
    SIMDVector("haddps-up", "F20F7CCA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x400000003f800001, 0x33ec39243f800001), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa0, mxcsrIn: 0x5f80),
    SIMDVector("hsubpd-up", "660F7DCA", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x4000000000000000, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5f80, mxcsrIn: 0x5f80),
    SIMDVector("addsubps-up", "F20FD0CA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f8000013f800000, 0xbf7fffff40400000), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa0, mxcsrIn: 0x5f80),
    SIMDVector("haddps-tiny-up", "F20F7CCA", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000100000001, 0x33800000807ffffd), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa2, mxcsrIn: 0x5f80),
    SIMDVector("addsubpd-tiny-up", "660FD0CA", m: (0x0, 0x0), a: (0x10000000000001, 0x3ff0000000000000), b: (0x8010000000000000, 0x3ca0000000000000), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x20000000000001, 0x3ff0000000000001), mm1: 0x10000000000001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa0, mxcsrIn: 0x5f80),
    SIMDVector("dpps-tiny-up", "660F3A40CAFF", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3380000033800000, 0x3380000033800000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fb2, mxcsrIn: 0x5f80),
    SIMDVector("dppd-up", "660F3A41CA33", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x0, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5f80, mxcsrIn: 0x5f80),
    SIMDVector("dpps-up", "660F3A40CAF1", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x34a66e15, 0x0), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa0, mxcsrIn: 0x5f80),
    SIMDVector("roundps-denormal-up", "660F3A08CA02", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000080000000, 0x3f80000080000000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa0, mxcsrIn: 0x5f80),
    SIMDVector("roundss-denormal-up", "660F3A0ACA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0x80000001, 0x0), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xbf800000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x5fa0, mxcsrIn: 0x5f80),
    SIMDVector("roundps-mxcsr-zero", "660F3A08CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xbf80000040000000, 0xc0e0000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa0, mxcsrIn: 0x7f80),
    SIMDVector("roundpd-mxcsr-zero", "660F3A09CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa0, mxcsrIn: 0x7f80),
    SIMDVector("roundps-imm-zero", "660F3A08CA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa0, mxcsrIn: 0x7f80),
    SIMDVector("haddps-zero", "F20F7CCA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x400000003f800000, 0x33ec39233f800000), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa0, mxcsrIn: 0x7f80),
    SIMDVector("hsubpd-zero", "660F7DCA", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x4000000000000000, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7f80, mxcsrIn: 0x7f80),
    SIMDVector("addsubps-zero", "F20FD0CA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f8000003f7fffff, 0xbf7fffff403fffff), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa0, mxcsrIn: 0x7f80),
    SIMDVector("haddps-tiny-zero", "F20F7CCA", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000000000001, 0x337fffff807ffffd), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa2, mxcsrIn: 0x7f80),
    SIMDVector("addsubpd-tiny-zero", "660FD0CA", m: (0x0, 0x0), a: (0x10000000000001, 0x3ff0000000000000), b: (0x8010000000000000, 0x3ca0000000000000), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x20000000000000, 0x3ff0000000000000), mm1: 0x10000000000001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa0, mxcsrIn: 0x7f80),
    SIMDVector("dpps-tiny-zero", "660F3A40CAFF", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3380000033800000, 0x3380000033800000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fb2, mxcsrIn: 0x7f80),
    SIMDVector("dppd-zero", "660F3A41CA33", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x0, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7f80, mxcsrIn: 0x7f80),
    SIMDVector("dpps-zero", "660F3A40CAF1", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x34a66e12, 0x0), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa0, mxcsrIn: 0x7f80),
    SIMDVector("roundps-denormal-zero", "660F3A08CA02", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000080000000, 0x3f80000080000000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa0, mxcsrIn: 0x7f80),
    SIMDVector("roundss-denormal-zero", "660F3A0ACA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0x80000001, 0x0), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xbf800000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x7fa0, mxcsrIn: 0x7f80),
    SIMDVector("roundps-mxcsr-daz-ftz", "660F3A08CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fe0, mxcsrIn: 0x9fc0),
    SIMDVector("roundpd-mxcsr-daz-ftz", "660F3A09CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fe0, mxcsrIn: 0x9fc0),
    SIMDVector("roundps-imm-daz-ftz", "660F3A08CA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fe0, mxcsrIn: 0x9fc0),
    SIMDVector("haddps-daz-ftz", "F20F7CCA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x400000003f800000, 0x33ec39243f800000), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fe0, mxcsrIn: 0x9fc0),
    SIMDVector("hsubpd-daz-ftz", "660F7DCA", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x4000000000000000, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fc0, mxcsrIn: 0x9fc0),
    SIMDVector("addsubps-daz-ftz", "F20FD0CA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f8000003f800000, 0xbf80000040400000), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fe0, mxcsrIn: 0x9fc0),
    SIMDVector("haddps-tiny-daz-ftz", "F20F7CCA", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000000000000, 0x3380000080800000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9ff0, mxcsrIn: 0x9fc0),
    SIMDVector("addsubpd-tiny-daz-ftz", "660FD0CA", m: (0x0, 0x0), a: (0x10000000000001, 0x3ff0000000000000), b: (0x8010000000000000, 0x3ca0000000000000), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x20000000000000, 0x3ff0000000000000), mm1: 0x10000000000001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fe0, mxcsrIn: 0x9fc0),
    SIMDVector("dpps-tiny-daz-ftz", "660F3A40CAFF", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3380000033800000, 0x3380000033800000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9ff0, mxcsrIn: 0x9fc0),
    SIMDVector("dppd-daz-ftz", "660F3A41CA33", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x0, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fc0, mxcsrIn: 0x9fc0),
    SIMDVector("dpps-daz-ftz", "660F3A40CAF1", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x34a66e13, 0x0), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fe0, mxcsrIn: 0x9fc0),
    SIMDVector("roundps-denormal-daz-ftz", "660F3A08CA02", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x80000000, 0x3f80000080000000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fe0, mxcsrIn: 0x9fc0),
    SIMDVector("roundss-denormal-daz-ftz", "660F3A0ACA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0x80000001, 0x0), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x80000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fc0, mxcsrIn: 0x9fc0),
    SIMDVector("roundps-mxcsr-daz", "660F3A08CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fe0, mxcsrIn: 0x1fc0),
    SIMDVector("roundpd-mxcsr-daz", "660F3A09CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fe0, mxcsrIn: 0x1fc0),
    SIMDVector("roundps-imm-daz", "660F3A08CA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fe0, mxcsrIn: 0x1fc0),
    SIMDVector("haddps-daz", "F20F7CCA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x400000003f800000, 0x33ec39243f800000), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fe0, mxcsrIn: 0x1fc0),
    SIMDVector("hsubpd-daz", "660F7DCA", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x4000000000000000, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fc0, mxcsrIn: 0x1fc0),
    SIMDVector("addsubps-daz", "F20FD0CA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f8000003f800000, 0xbf80000040400000), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fe0, mxcsrIn: 0x1fc0),
    SIMDVector("haddps-tiny-daz", "F20F7CCA", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000000000001, 0x3380000080800000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fc0, mxcsrIn: 0x1fc0),
    SIMDVector("addsubpd-tiny-daz", "660FD0CA", m: (0x0, 0x0), a: (0x10000000000001, 0x3ff0000000000000), b: (0x8010000000000000, 0x3ca0000000000000), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x20000000000000, 0x3ff0000000000000), mm1: 0x10000000000001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fe0, mxcsrIn: 0x1fc0),
    SIMDVector("dpps-tiny-daz", "660F3A40CAFF", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3380000033800000, 0x3380000033800000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1ff0, mxcsrIn: 0x1fc0),
    SIMDVector("dppd-daz", "660F3A41CA33", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x0, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fc0, mxcsrIn: 0x1fc0),
    SIMDVector("dpps-daz", "660F3A40CAF1", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x34a66e13, 0x0), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fe0, mxcsrIn: 0x1fc0),
    SIMDVector("roundps-denormal-daz", "660F3A08CA02", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x80000000, 0x3f80000080000000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fe0, mxcsrIn: 0x1fc0),
    SIMDVector("roundss-denormal-daz", "660F3A0ACA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0x80000001, 0x0), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x80000000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x1fc0, mxcsrIn: 0x1fc0),
    SIMDVector("roundps-mxcsr-ftz", "660F3A08CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fa0, mxcsrIn: 0x9f80),
    SIMDVector("roundpd-mxcsr-ftz", "660F3A09CA04", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xc004000000000000, 0x4415af1d78b58c40), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000000000000, 0x4415af1d78b58c40), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fa0, mxcsrIn: 0x9f80),
    SIMDVector("roundps-imm-ftz", "660F3A08CA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0xbfc0000040200000, 0xc0f666663efff2e5), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xc000000040000000, 0xc100000000000000), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fa0, mxcsrIn: 0x9f80),
    SIMDVector("haddps-ftz", "F20F7CCA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x400000003f800000, 0x33ec39243f800000), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fa0, mxcsrIn: 0x9f80),
    SIMDVector("hsubpd-ftz", "660F7DCA", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x4000000000000000, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9f80, mxcsrIn: 0x9f80),
    SIMDVector("addsubps-ftz", "F20FD0CA", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f8000003f800000, 0xbf80000040400000), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fa0, mxcsrIn: 0x9f80),
    SIMDVector("haddps-tiny-ftz", "F20F7CCA", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000000000000, 0x3380000080000000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fb2, mxcsrIn: 0x9f80),
    SIMDVector("addsubpd-tiny-ftz", "660FD0CA", m: (0x0, 0x0), a: (0x10000000000001, 0x3ff0000000000000), b: (0x8010000000000000, 0x3ca0000000000000), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x20000000000000, 0x3ff0000000000000), mm1: 0x10000000000001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fa0, mxcsrIn: 0x9f80),
    SIMDVector("dpps-tiny-ftz", "660F3A40CAFF", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3380000033800000, 0x3380000033800000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fb2, mxcsrIn: 0x9f80),
    SIMDVector("dppd-ftz", "660F3A41CA33", m: (0x0, 0x0), a: (0x3ff0000000000000, 0xbff0000000000000), b: (0x3c670ef54646d497, 0x3c670ef54646d497), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x0, 0x0), mm1: 0x3ff0000000000000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9f80, mxcsrIn: 0x9f80),
    SIMDVector("dpps-ftz", "660F3A40CAF1", m: (0x0, 0x0), a: (0x322bcc773f800000, 0xbf80000040400000), b: (0x3f800000322bcc77, 0x322bcc7733d6bf95), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x34a66e13, 0x0), mm1: 0x322bcc773f800000, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fa0, mxcsrIn: 0x9f80),
    SIMDVector("roundps-denormal-ftz", "660F3A08CA02", m: (0x0, 0x0), a: (0x8080000000800001, 0x3f80000000000005), b: (0x380800000, 0x3380000080000002), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0x3f80000080000000, 0x3f80000080000000), mm1: 0x8080000000800001, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fa0, mxcsrIn: 0x9f80),
    SIMDVector("roundss-denormal-ftz", "660F3A0ACA01", m: (0x0, 0x0), a: (0x0, 0x0), b: (0x80000001, 0x0), rax: 0x0, rdx: 0x0,
               xmm0: (0x0, 0x0), xmm1: (0xbf800000, 0x0), mm1: 0x0, rax2: 0x0, rcx: 0x1111222233334444, flags: 0x8d5, mxcsr: 0x9fa0, mxcsrIn: 0x9f80),
]
