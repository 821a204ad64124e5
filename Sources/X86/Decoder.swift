// Instruction decoding: prefixes, opcode maps, ModRM/SIB, displacement and immediates
// (SDM Vol. 2A chapter 2, opcode maps in Vol. 2D appendix A).

/// Form bits of an opcode-table entry.
struct Form {
    static let modrm: UInt32 = 1 << 0
    static let byte: UInt32 = 1 << 1       // operand size 1
    static let ib: UInt32 = 1 << 2         // imm8, sign-extended
    static let iz: UInt32 = 1 << 3         // imm16/32 by operand size, sign-extended to 64
    static let iv: UInt32 = 1 << 4         // imm16/32/64 by operand size
    static let iw: UInt32 = 1 << 5         // imm16
    static let jb: UInt32 = 1 << 6         // rel8
    static let jz: UInt32 = 1 << 7         // rel16/32
    static let ptr: UInt32 = 1 << 8        // far pointer: offset16/32 then selector
    static let moffs: UInt32 = 1 << 9      // offset of address size
    static let def64: UInt32 = 1 << 10     // operand size 64 by default in 64-bit mode
    static let force64: UInt32 = 1 << 11   // operand size 64 in 64-bit mode, 66 ignored
    static let inv64: UInt32 = 1 << 12     // #UD in 64-bit mode
    static let iwib: UInt32 = 1 << 13      // ENTER: imm16, imm8
    static let group: UInt32 = 1 << 14     // resolved by ModRM.reg
    static let src8: UInt32 = 1 << 15      // source operand is a byte (MOVZX/MOVSX): rm uses byte registers
    static let src16: UInt32 = 1 << 16     // source operand is a word
    static let only64: UInt32 = 1 << 17    // #UD outside 64-bit mode
    static let regIsCR: UInt32 = 1 << 18   // MOV CR/DR: mod is ignored (always register)
}

/// One opcode-table entry.
struct OpInfo {
    var op: Op
    var sub: UInt8
    var form: UInt32
    init(_ op: Op, _ sub: UInt8 = 0, _ form: UInt32 = 0) { self.op = op; self.sub = sub; self.form = form }
}

/// The one-byte opcode map.
let oneByteMap: [OpInfo] = {
    var t = [OpInfo](repeating: OpInfo(.invalid), count: 256)
    for alu in 0..<8 {
        let b = alu * 8
        t[b + 0] = OpInfo(.aluRMReg, UInt8(alu), Form.modrm | Form.byte)
        t[b + 1] = OpInfo(.aluRMReg, UInt8(alu), Form.modrm)
        t[b + 2] = OpInfo(.aluRegRM, UInt8(alu), Form.modrm | Form.byte)
        t[b + 3] = OpInfo(.aluRegRM, UInt8(alu), Form.modrm)
        t[b + 4] = OpInfo(.aluRMImm, UInt8(alu), Form.byte | Form.ib)   // AL, imm8 (rm = 0 register)
        t[b + 5] = OpInfo(.aluRMImm, UInt8(alu), Form.iz)
    }
    t[0x06] = OpInfo(.pushSreg, 0, Form.inv64); t[0x07] = OpInfo(.popSreg, 0, Form.inv64)
    t[0x0E] = OpInfo(.pushSreg, 1, Form.inv64)
    t[0x16] = OpInfo(.pushSreg, 2, Form.inv64); t[0x17] = OpInfo(.popSreg, 2, Form.inv64)
    t[0x1E] = OpInfo(.pushSreg, 3, Form.inv64); t[0x1F] = OpInfo(.popSreg, 3, Form.inv64)
    t[0x27] = OpInfo(.daa, 0, Form.inv64); t[0x2F] = OpInfo(.das, 0, Form.inv64)
    t[0x37] = OpInfo(.aaa, 0, Form.inv64); t[0x3F] = OpInfo(.aas, 0, Form.inv64)
    for r in 0..<8 {
        t[0x40 + r] = OpInfo(.incRM, UInt8(r), Form.inv64)   // sub = register
        t[0x48 + r] = OpInfo(.decRM, UInt8(r), Form.inv64)
        t[0x50 + r] = OpInfo(.pushReg, UInt8(r), Form.def64)
        t[0x58 + r] = OpInfo(.popReg, UInt8(r), Form.def64)
        t[0x90 + r] = OpInfo(.xchgRMReg, UInt8(r))            // XCHG rAX, r (90 = NOP, resolved in decode)
        t[0xB0 + r] = OpInfo(.movRegImm, UInt8(r), Form.byte | Form.ib)
        t[0xB8 + r] = OpInfo(.movRegImm, UInt8(r), Form.iv)
    }
    t[0x60] = OpInfo(.pusha, 0, Form.inv64); t[0x61] = OpInfo(.popa, 0, Form.inv64)
    t[0x62] = OpInfo(.bound, 0, Form.modrm | Form.inv64)
    t[0x63] = OpInfo(.arpl, 0, Form.modrm)    // MOVSXD in 64-bit mode (resolved in decode)
    t[0x68] = OpInfo(.pushImm, 0, Form.iz | Form.def64)
    t[0x69] = OpInfo(.imulRegRMImm, 0, Form.modrm | Form.iz)
    t[0x6A] = OpInfo(.pushImm, 0, Form.ib | Form.def64)
    t[0x6B] = OpInfo(.imulRegRMImm, 0, Form.modrm | Form.ib)
    t[0x6C] = OpInfo(.string, 5, Form.byte); t[0x6D] = OpInfo(.string, 5)
    t[0x6E] = OpInfo(.string, 6, Form.byte); t[0x6F] = OpInfo(.string, 6)
    for cc in 0..<16 { t[0x70 + cc] = OpInfo(.jcc, UInt8(cc), Form.jb | Form.force64) }
    t[0x80] = OpInfo(.aluRMImm, 0, Form.modrm | Form.byte | Form.ib | Form.group)
    t[0x81] = OpInfo(.aluRMImm, 0, Form.modrm | Form.iz | Form.group)
    t[0x82] = OpInfo(.aluRMImm, 0, Form.modrm | Form.byte | Form.ib | Form.group | Form.inv64)
    t[0x83] = OpInfo(.aluRMImm, 0, Form.modrm | Form.ib | Form.group)
    t[0x84] = OpInfo(.testRMReg, 0, Form.modrm | Form.byte); t[0x85] = OpInfo(.testRMReg, 0, Form.modrm)
    t[0x86] = OpInfo(.xchgRMReg, 0xFF, Form.modrm | Form.byte); t[0x87] = OpInfo(.xchgRMReg, 0xFF, Form.modrm)
    t[0x88] = OpInfo(.movRMReg, 0, Form.modrm | Form.byte); t[0x89] = OpInfo(.movRMReg, 0, Form.modrm)
    t[0x8A] = OpInfo(.movRegRM, 0, Form.modrm | Form.byte); t[0x8B] = OpInfo(.movRegRM, 0, Form.modrm)
    t[0x8C] = OpInfo(.movRMSreg, 0, Form.modrm); t[0x8D] = OpInfo(.lea, 0, Form.modrm)
    t[0x8E] = OpInfo(.movSregRM, 0, Form.modrm | Form.src16)
    t[0x8F] = OpInfo(.popRM, 0, Form.modrm | Form.def64 | Form.group)
    t[0x98] = OpInfo(.cbw); t[0x99] = OpInfo(.cwd)
    t[0x9A] = OpInfo(.callFarImm, 0, Form.ptr | Form.inv64)
    t[0x9B] = OpInfo(.fwait)
    t[0x9C] = OpInfo(.pushf, 0, Form.def64); t[0x9D] = OpInfo(.popf, 0, Form.def64)
    t[0x9E] = OpInfo(.sahf); t[0x9F] = OpInfo(.lahf)
    t[0xA0] = OpInfo(.movAccMoffs, 0, Form.moffs | Form.byte); t[0xA1] = OpInfo(.movAccMoffs, 0, Form.moffs)
    t[0xA2] = OpInfo(.movMoffsAcc, 0, Form.moffs | Form.byte); t[0xA3] = OpInfo(.movMoffsAcc, 0, Form.moffs)
    t[0xA4] = OpInfo(.string, 0, Form.byte); t[0xA5] = OpInfo(.string, 0)
    t[0xA6] = OpInfo(.string, 1, Form.byte); t[0xA7] = OpInfo(.string, 1)
    t[0xA8] = OpInfo(.testRMImm, 0, Form.byte | Form.ib); t[0xA9] = OpInfo(.testRMImm, 0, Form.iz)
    t[0xAA] = OpInfo(.string, 2, Form.byte); t[0xAB] = OpInfo(.string, 2)
    t[0xAC] = OpInfo(.string, 3, Form.byte); t[0xAD] = OpInfo(.string, 3)
    t[0xAE] = OpInfo(.string, 4, Form.byte); t[0xAF] = OpInfo(.string, 4)
    t[0xC0] = OpInfo(.shiftRMImm, 0, Form.modrm | Form.byte | Form.ib | Form.group)
    t[0xC1] = OpInfo(.shiftRMImm, 0, Form.modrm | Form.ib | Form.group)
    t[0xC2] = OpInfo(.retNear, 1, Form.iw | Form.force64); t[0xC3] = OpInfo(.retNear, 0, Form.force64)
    t[0xC4] = OpInfo(.lxs, 0, Form.modrm | Form.inv64); t[0xC5] = OpInfo(.lxs, 3, Form.modrm | Form.inv64)
    t[0xC6] = OpInfo(.movRMImm, 0, Form.modrm | Form.byte | Form.ib | Form.group)
    t[0xC7] = OpInfo(.movRMImm, 0, Form.modrm | Form.iz | Form.group)
    t[0xC8] = OpInfo(.enter, 0, Form.iwib | Form.def64); t[0xC9] = OpInfo(.leave, 0, Form.def64)
    t[0xCA] = OpInfo(.retFar, 1, Form.iw); t[0xCB] = OpInfo(.retFar, 0)
    t[0xCC] = OpInfo(.int3); t[0xCD] = OpInfo(.intN, 0, Form.ib); t[0xCE] = OpInfo(.into, 0, Form.inv64)
    t[0xCF] = OpInfo(.iret)
    t[0xD0] = OpInfo(.shiftRM1, 0, Form.modrm | Form.byte | Form.group); t[0xD1] = OpInfo(.shiftRM1, 0, Form.modrm | Form.group)
    t[0xD2] = OpInfo(.shiftRMCL, 0, Form.modrm | Form.byte | Form.group); t[0xD3] = OpInfo(.shiftRMCL, 0, Form.modrm | Form.group)
    t[0xD4] = OpInfo(.aam, 0, Form.ib | Form.inv64); t[0xD5] = OpInfo(.aad, 0, Form.ib | Form.inv64)
    t[0xD6] = OpInfo(.salc, 0, Form.inv64)
    t[0xD7] = OpInfo(.xlat)
    for i in 0..<8 { t[0xD8 + i] = OpInfo(.x87, UInt8(i), Form.modrm) }
    t[0xE0] = OpInfo(.loop, 0, Form.jb | Form.force64); t[0xE1] = OpInfo(.loop, 1, Form.jb | Form.force64)
    t[0xE2] = OpInfo(.loop, 2, Form.jb | Form.force64); t[0xE3] = OpInfo(.jcxz, 0, Form.jb | Form.force64)
    t[0xE4] = OpInfo(.inImm, 0, Form.byte | Form.ib); t[0xE5] = OpInfo(.inImm, 0, Form.ib)
    t[0xE6] = OpInfo(.outImm, 0, Form.byte | Form.ib); t[0xE7] = OpInfo(.outImm, 0, Form.ib)
    t[0xE8] = OpInfo(.callRel, 0, Form.jz | Form.force64); t[0xE9] = OpInfo(.jmpRel, 0, Form.jz | Form.force64)
    t[0xEA] = OpInfo(.jmpFarImm, 0, Form.ptr | Form.inv64); t[0xEB] = OpInfo(.jmpRel, 0, Form.jb | Form.force64)
    t[0xEC] = OpInfo(.inDX, 0, Form.byte); t[0xED] = OpInfo(.inDX)
    t[0xEE] = OpInfo(.outDX, 0, Form.byte); t[0xEF] = OpInfo(.outDX)
    t[0xF1] = OpInfo(.int1); t[0xF4] = OpInfo(.hlt); t[0xF5] = OpInfo(.cmc)
    t[0xF6] = OpInfo(.testRMImm, 0, Form.modrm | Form.byte | Form.group)
    t[0xF7] = OpInfo(.testRMImm, 0, Form.modrm | Form.group)
    t[0xF8] = OpInfo(.clc); t[0xF9] = OpInfo(.stc); t[0xFA] = OpInfo(.cli); t[0xFB] = OpInfo(.sti)
    t[0xFC] = OpInfo(.cld); t[0xFD] = OpInfo(.std)
    t[0xFE] = OpInfo(.incRM, 0, Form.modrm | Form.byte | Form.group)
    t[0xFF] = OpInfo(.incRM, 0, Form.modrm | Form.group)
    return t
}()

/// The two-byte opcode map (0F xx).
let twoByteMap: [OpInfo] = {
    var t = [OpInfo](repeating: OpInfo(.invalid), count: 256)
    t[0x00] = OpInfo(.sldt, 0, Form.modrm | Form.group)
    t[0x01] = OpInfo(.sgdt, 0, Form.modrm | Form.group)
    t[0x02] = OpInfo(.lar, 0, Form.modrm | Form.src16); t[0x03] = OpInfo(.lsl, 0, Form.modrm | Form.src16)
    t[0x05] = OpInfo(.syscall); t[0x06] = OpInfo(.clts); t[0x07] = OpInfo(.sysret)
    t[0x08] = OpInfo(.invd); t[0x09] = OpInfo(.wbinvd); t[0x0B] = OpInfo(.ud)
    t[0x0D] = OpInfo(.nop, 0, Form.modrm)
    for i in 0x18...0x1F { t[i] = OpInfo(.nop, 0, Form.modrm) }
    t[0x20] = OpInfo(.movFromCR, 0, Form.modrm | Form.force64 | Form.regIsCR)
    t[0x21] = OpInfo(.movFromDR, 0, Form.modrm | Form.force64 | Form.regIsCR)
    t[0x22] = OpInfo(.movToCR, 0, Form.modrm | Form.force64 | Form.regIsCR)
    t[0x23] = OpInfo(.movToDR, 0, Form.modrm | Form.force64 | Form.regIsCR)
    t[0x30] = OpInfo(.wrmsr); t[0x31] = OpInfo(.rdtsc); t[0x32] = OpInfo(.rdmsr); t[0x33] = OpInfo(.rdpmc)
    t[0x34] = OpInfo(.sysenter); t[0x35] = OpInfo(.sysexit)
    t[0x37] = OpInfo(.vmx, 12)       // GETSEC: #UD without SMX; always a VM exit in non-root operation
    for cc in 0..<16 {
        t[0x40 + cc] = OpInfo(.cmov, UInt8(cc), Form.modrm)
        t[0x80 + cc] = OpInfo(.jcc, UInt8(cc), Form.jz | Form.force64)
        t[0x90 + cc] = OpInfo(.setcc, UInt8(cc), Form.modrm | Form.byte)
    }
    t[0x78] = OpInfo(.vmx, 8, Form.modrm | Form.force64)   // VMREAD
    t[0x79] = OpInfo(.vmx, 9, Form.modrm | Form.force64)   // VMWRITE
    t[0xA0] = OpInfo(.pushSreg, 4, Form.def64); t[0xA1] = OpInfo(.popSreg, 4, Form.def64)
    t[0xA2] = OpInfo(.cpuid); t[0xA3] = OpInfo(.btRMReg, 0, Form.modrm)
    t[0xA4] = OpInfo(.shldImm, 0, Form.modrm | Form.ib); t[0xA5] = OpInfo(.shldCL, 0, Form.modrm)
    t[0xA8] = OpInfo(.pushSreg, 5, Form.def64); t[0xA9] = OpInfo(.popSreg, 5, Form.def64)
    t[0xAB] = OpInfo(.btRMReg, 1, Form.modrm)
    t[0xAC] = OpInfo(.shrdImm, 0, Form.modrm | Form.ib); t[0xAD] = OpInfo(.shrdCL, 0, Form.modrm)
    t[0xAE] = OpInfo(.fence, 0, Form.modrm | Form.group)
    t[0xAF] = OpInfo(.imulRegRM, 0, Form.modrm)
    t[0xB0] = OpInfo(.cmpxchg, 0, Form.modrm | Form.byte); t[0xB1] = OpInfo(.cmpxchg, 0, Form.modrm)
    t[0xB2] = OpInfo(.lxs, 2, Form.modrm); t[0xB3] = OpInfo(.btRMReg, 2, Form.modrm)
    t[0xB4] = OpInfo(.lxs, 4, Form.modrm); t[0xB5] = OpInfo(.lxs, 5, Form.modrm)
    t[0xB6] = OpInfo(.movzx, 0, Form.modrm | Form.src8); t[0xB7] = OpInfo(.movzx, 0, Form.modrm | Form.src16)
    t[0xB8] = OpInfo(.popcnt, 0, Form.modrm)   // F3 required (checked in decode)
    t[0xB9] = OpInfo(.ud, 1, Form.modrm)       // UD1
    t[0xBA] = OpInfo(.btRMImm, 0, Form.modrm | Form.ib | Form.group)
    t[0xBB] = OpInfo(.btRMReg, 3, Form.modrm)
    t[0xBC] = OpInfo(.bsf, 0, Form.modrm); t[0xBD] = OpInfo(.bsr, 0, Form.modrm)
    t[0xBE] = OpInfo(.movsx, 0, Form.modrm | Form.src8); t[0xBF] = OpInfo(.movsx, 0, Form.modrm | Form.src16)
    t[0xC0] = OpInfo(.xadd, 0, Form.modrm | Form.byte); t[0xC1] = OpInfo(.xadd, 0, Form.modrm)
    t[0xC7] = OpInfo(.cmpxchg8b, 0, Form.modrm | Form.group)
    for r in 0..<8 { t[0xC8 + r] = OpInfo(.bswap, UInt8(r)) }
    t[0xFF] = OpInfo(.ud, 0, Form.modrm)       // UD0
    // SSE/SSE2 encodings: decoded for length, executed by the floating-point unit.
    for i in [0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F] {
        t[i] = OpInfo(.sse, 0, Form.modrm)
    }
    for i in 0x50...0x7F { t[i] = OpInfo(.sse, 0, Form.modrm) }
    for i in [0x70, 0x71, 0x72, 0x73, 0xC2, 0xC4, 0xC5, 0xC6] { t[i] = OpInfo(.sse, 0, Form.modrm | Form.ib) }
    t[0x77] = OpInfo(.sse, 0)     // EMMS
    t[0x78] = OpInfo(.vmx, 8, Form.modrm | Form.force64)
    t[0x79] = OpInfo(.vmx, 9, Form.modrm | Form.force64)
    t[0xC3] = OpInfo(.sse, 0, Form.modrm)    // MOVNTI
    for i in 0xD0...0xFE { t[i] = OpInfo(.sse, 0, Form.modrm) }
    return t
}()

extension CPU {
    /// Returns the decoded instruction at RIP, from the cache or freshly decoded, and advances RIP past it.
    @inline(__always)
    func fetchDecoded() throws(Abort) -> UnsafeMutablePointer<Instruction> {
        let ip = ripValue
        let la: UInt64 = codeSize == 8 ? ip : (seg[Seg.cs].base &+ ip) & 0xFFFF_FFFF
        let user = cpl == 3
        let s = TLB.slot(la, .fetch, user)
        if tlb.tags[s] == tlb.key(la) || tlb.revalidate(s, page: la & ~0xFFF) {
            let pa = tlb.phys[s] | (la & 0xFFF)
            let e = icache.slot(pa)
            if e.pointee.tag == pa && e.pointee.mode == decodeMode && e.pointee.generation == memory.generation(page: pa >> 12) {
                let len = UInt64(e.pointee.length)
                if codeSize == 8 {
                    ripValue = ip &+ len
                } else {
                    if ip &+ len &- 1 > UInt64(seg[Seg.cs].limit) { throw Abort.gp(0) }
                    ripValue = (ip &+ len) & sizeMask(codeSize)
                }
                return e
            }
        }
        return try fetchDecodedSlow(ip: ip, la: la, user: user)
    }

    /// Translates, decodes and caches the instruction at RIP.
    @inline(never)
    func fetchDecodedSlow(ip: UInt64, la: UInt64, user: Bool) throws(Abort) -> UnsafeMutablePointer<Instruction> {
        try checkMapGeneration()
        if codeSize == 8 {
            if !isCanonical(la) { throw Abort.gp(0) }
        } else if ip > UInt64(seg[Seg.cs].limit) {
            throw Abort.gp(0)
        }
        let t = try translate(la, .fetch, user: user)
        let pa = t.physical
        var bytes = (UInt64(0), UInt64(0))   // 16-byte buffer
        let avail = Int(4096 - (la & 0xFFF))
        let region = memory.region(containing: pa)
        let inRAM = region.map { $0.permissions.contains(.execute) && pa &- $0.base &+ UInt64(min(avail, 15)) <= $0.size } ?? false
        var count = 0
        let entry: UnsafeMutablePointer<Instruction>
        try withUnsafeMutableBytes(of: &bytes) { (buf: UnsafeMutableRawBufferPointer) throws(Abort) in
            // Bytes on the first page.
            let firstPage = min(avail, 15)
            if inRAM, let r = region {
                let host = r.host + Int(pa &- r.base)
                for i in 0..<firstPage { buf[i] = host.load(fromByteOffset: i, as: UInt8.self) }
            } else {
                for i in 0..<firstPage { buf[i] = UInt8(truncatingIfNeeded: try readPhysical(pa &+ UInt64(i), 1)) }
            }
            count = firstPage
        }
        // Decode; if the instruction runs past the page, fetch the rest from the next page and retry.
        var crossed = false
        var decoded = Instruction()
        var result = withUnsafeBytes(of: &bytes) { decode(UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &decoded) }
        if result == .needMore && count < 15 {
            crossed = true
            let la2 = maskLinear((la | 0xFFF) &+ 1)
            let pa2 = try translate(la2, .fetch, user: user).physical
            let more = 15 - count
            try withUnsafeMutableBytes(of: &bytes) { (buf: UnsafeMutableRawBufferPointer) throws(Abort) in
                for i in 0..<more { buf[count + i] = UInt8(truncatingIfNeeded: try readPhysical(pa2 &+ UInt64(i), 1)) }
            }
            count = 15
            result = withUnsafeBytes(of: &bytes) { decode(UnsafeRawBufferPointer(rebasing: $0[0..<count]), into: &decoded) }
        }
        switch result {
        case .ok: break
        case .needMore, .tooLong: throw Abort.gp(0)
        }
        let len = UInt64(decoded.length)
        if codeSize != 8 && ip &+ len &- 1 > UInt64(seg[Seg.cs].limit) { throw Abort.gp(0) }
        if inRAM && !crossed {
            entry = icache.slot(pa)
            let page = pa >> 12
            if !memory.isCode(page: page) {
                if memory.markCode(page: page) { tlb.flushWrites(toPhysicalPage: pa & ~0xFFF) }
            }
            decoded.tag = memory.isCode(page: page) ? pa : ~0
            decoded.generation = memory.generation(page: page)
            decoded.mode = decodeMode
            // Fill the fetch TLB slot for the next instructions on this page.
            let s = TLB.slot(la, .fetch, user)
            tlb.tags[s] = tlb.key(la)
            tlb.phys[s] = pa & ~0xFFF
            tlb.hosts[s] = nil
            tlb.global[s] = t.global
        } else {
            entry = icache.scratch
            decoded.tag = ~0
        }
        entry.pointee = decoded
        ripValue = codeSize == 8 ? ip &+ len : (ip &+ len) & sizeMask(codeSize)
        return entry
    }

    /// Outcome of decoding a byte buffer.
    enum DecodeStatus { case ok, needMore, tooLong }

    /// Decodes one instruction from `b` in the current mode. Invalid opcodes decode to `Op.invalid`
    /// (raising #UD when executed) with their length.
    func decode(_ b: UnsafeRawBufferPointer, into d: inout Instruction) -> DecodeStatus {
        let mode64 = codeSize == 8
        var i = 0
        var opsizePrefix = false, addrPrefix = false
        var rex: UInt8 = 0
        var segOverride: UInt8 = 0xFF
        var flags: UInt8 = 0
        var lastPrefix: UInt8 = 0   // F2 or F3, whichever came last (mandatory-prefix selection)
        // Prefixes.
        prefixLoop: while true {
            guard i < b.count else { return .needMore }
            if i >= 14 { return .tooLong }
            let p = b[i]
            switch p {
            case 0x66: opsizePrefix = true; rex = 0
            case 0x67: addrPrefix = true; rex = 0
            case 0xF0: flags |= InstructionFlags.lock; rex = 0
            case 0xF2: flags = (flags & ~InstructionFlags.rep) | InstructionFlags.repne; lastPrefix = 0xF2; rex = 0
            case 0xF3: flags = (flags & ~InstructionFlags.repne) | InstructionFlags.rep; lastPrefix = 0xF3; rex = 0
            case 0x26: segOverride = 0; rex = 0
            case 0x2E: segOverride = 1; rex = 0
            case 0x36: segOverride = 2; rex = 0
            case 0x3E: segOverride = 3; rex = 0
            case 0x64: segOverride = 4; rex = 0
            case 0x65: segOverride = 5; rex = 0
            case 0x40...0x4F where mode64: rex = p
            default: break prefixLoop
            }
            i += 1
        }
        if rex != 0 { flags |= InstructionFlags.rex }
        if rex & 8 != 0 { flags |= InstructionFlags.rexW }
        if opsizePrefix { flags |= InstructionFlags.opsize }
        guard i < b.count else { return .needMore }
        var opcode = Int(b[i]); i += 1
        var info: OpInfo
        var twoByte = false
        var opcodeWord: UInt16 = 0   // 0F 38 / 0F 3A opcode with its map (see `Instruction.opcode`)
        if opcode == 0x0F {
            guard i < b.count else { return .needMore }
            opcode = Int(b[i]); i += 1
            twoByte = true
            if opcode == 0x38 || opcode == 0x3A {
                // Three-byte maps: MOVBE (0F 38 F0/F1), INVEPT/INVVPID/INVPCID (66 0F 38 80/81/82); the rest SSE.
                guard i < b.count else { return .needMore }
                let third = Int(b[i]); i += 1
                opcodeWord = (opcode == 0x38 ? 0x200 : 0x300) | UInt16(third)
                if opcode == 0x38 && (third == 0xF0 || third == 0xF1) && lastPrefix != 0xF2 {
                    info = OpInfo(third == 0xF0 ? .movbeLoad : .movbeStore, 0, Form.modrm)
                } else if opcode == 0x38 && (third == 0x80 || third == 0x81) && opsizePrefix {
                    info = OpInfo(.vmx, third == 0x80 ? 10 : 11, Form.modrm | Form.force64)
                } else if opcode == 0x38 && third == 0x82 && opsizePrefix {
                    info = OpInfo(.invpcid, 0, Form.modrm | Form.force64)
                } else if opcode == 0x3A {
                    info = OpInfo(.sse, 0, Form.modrm | Form.ib)
                } else if third == 0xF0 {
                    info = OpInfo(.sse, 0, Form.modrm | Form.src8)   // CRC32 r, r/m8: AH–BH without REX
                } else {
                    info = OpInfo(.sse, 0, Form.modrm)
                }
            } else {
                info = twoByteMap[opcode]
            }
        } else {
            info = oneByteMap[opcode]
        }
        var form = info.form
        d.op = info.op
        d.sub = info.sub
        d.opcode = opcodeWord != 0 ? opcodeWord : UInt16(opcode) | (twoByte ? 0x100 : 0)

        // Operand and address size (SDM Vol. 1 §3.6, Vol. 2A §2.2.1.2).
        let cs = codeSize
        var os: UInt8
        if mode64 {
            if form & Form.force64 != 0 { os = 8 }
            else if rex & 8 != 0 { os = 8 }
            else if opsizePrefix { os = 2 }
            else { os = form & Form.def64 != 0 ? 8 : 4 }
        } else {
            os = (cs == 4) != opsizePrefix ? 4 : 2
        }
        if form & Form.byte != 0 { os = 1 }
        let asz: UInt8 = mode64 ? (addrPrefix ? 4 : 8) : ((cs == 4) != addrPrefix ? 4 : 2)
        d.opSize = os
        d.addrSize = asz
        d.size2 = form & Form.src8 != 0 ? 1 : (form & Form.src16 != 0 ? 2 : 0)
        d.base = 0xFF; d.index = 0xFF; d.scale = 0; d.disp = 0; d.imm = 0; d.imm2 = 0
        d.seg = segOverride == 0xFF ? 3 : segOverride
        if segOverride != 0xFF { flags |= InstructionFlags.segOverride }

        // Special single-byte forms.
        if !twoByte {
            switch opcode {
            case 0x90 where rex & 1 == 0:
                d.op = lastPrefix == 0xF3 ? .pause : .nop
            case 0x63 where mode64:
                d.op = .movsxd; d.size2 = 4
            case 0x40...0x4F, 0x50...0x5F, 0x90...0x97, 0xB0...0xBF:
                // Register in the opcode's low bits, extended by REX.B.
                var r = UInt8(opcode & 7) | ((rex & 1) << 3)
                if os == 1 && rex == 0 && r >= 4 && r < 8 { r = 16 + (r - 4) }
                d.rm = r
            default: break
            }
        } else if opcode >= 0xC8 && opcode <= 0xCF {
            d.rm = UInt8(opcode & 7) | ((rex & 1) << 3)
        } else if opcode == 0xB8 && lastPrefix != 0xF3 {
            d.op = .invalid    // JMPE / POPCNT without F3
        }
        if form & Form.inv64 != 0 && mode64 { d.op = .invalid }

        // ModRM, SIB, displacement.
        if form & Form.modrm != 0 {
            guard i < b.count else { return .needMore }
            let modrm = b[i]; i += 1
            let mod = modrm >> 6
            let regField = (modrm >> 3) & 7
            let rmField = modrm & 7
            if form & Form.group != 0 {
                resolveGroup(twoByte: twoByte, opcode: opcode, reg: regField, mod: mod, rm: rmField,
                             lastPrefix: lastPrefix, opsizePrefix: opsizePrefix, mode64: mode64, d: &d, form: &form)
                if form & Form.force64 != 0 && mode64 { d.opSize = 8 }
                else if form & Form.def64 != 0 && mode64 && rex & 8 == 0 && !opsizePrefix { d.opSize = 8 }
            }
            var reg = regField | ((rex & 4) << 1)
            if d.opSize == 1 && rex == 0 && reg >= 4 && reg < 8 && form & (Form.src8 | Form.src16) == 0 { reg = 16 + (reg - 4) }
            d.reg = reg
            if mod == 3 || form & Form.regIsCR != 0 {
                var r = rmField | ((rex & 1) << 3)
                let byteRM = (d.opSize == 1 && form & Form.src16 == 0) || form & Form.src8 != 0
                if byteRM && rex == 0 && r >= 4 && r < 8 { r = 16 + (r - 4) }
                d.rm = r
            } else {
                flags |= InstructionFlags.mem
                if asz == 2 {
                    // 16-bit addressing (SDM Vol. 2A Table 2-1).
                    let bases: [(UInt8, UInt8)] = [(3, 6), (3, 7), (5, 6), (5, 7), (6, 0xFF), (7, 0xFF), (5, 0xFF), (3, 0xFF)]
                    if mod == 0 && rmField == 6 {
                        guard i + 2 <= b.count else { return .needMore }
                        d.disp = Int64(UInt16(b[i]) | UInt16(b[i + 1]) << 8)
                        i += 2
                    } else {
                        d.base = bases[Int(rmField)].0
                        d.index = bases[Int(rmField)].1
                        if segOverride == 0xFF && (rmField == 2 || rmField == 3 || rmField == 6) { d.seg = 2 }
                        if mod == 1 {
                            guard i < b.count else { return .needMore }
                            d.disp = Int64(Int8(bitPattern: b[i])); i += 1
                        } else if mod == 2 {
                            guard i + 2 <= b.count else { return .needMore }
                            d.disp = Int64(Int16(bitPattern: UInt16(b[i]) | UInt16(b[i + 1]) << 8)); i += 2
                        }
                    }
                } else {
                    var baseField = rmField
                    if rmField == 4 {
                        guard i < b.count else { return .needMore }
                        let sib = b[i]; i += 1
                        d.scale = sib >> 6
                        let idx = ((sib >> 3) & 7) | ((rex & 2) << 2)
                        if idx != 4 { d.index = idx }
                        baseField = sib & 7
                        if baseField == 5 && mod == 0 {
                            d.base = 0xFF
                            guard i + 4 <= b.count else { return .needMore }
                            d.disp = Int64(readI32(b, i)); i += 4
                        } else {
                            d.base = baseField | ((rex & 1) << 3)
                        }
                    } else if rmField == 5 && mod == 0 {
                        d.base = mode64 ? 16 : 0xFF
                        guard i + 4 <= b.count else { return .needMore }
                        d.disp = Int64(readI32(b, i)); i += 4
                    } else {
                        d.base = rmField | ((rex & 1) << 3)
                    }
                    if segOverride == 0xFF && (d.base == 4 || d.base == 5) { d.seg = 2 }
                    if mod == 1 {
                        guard i < b.count else { return .needMore }
                        d.disp = Int64(Int8(bitPattern: b[i])); i += 1
                    } else if mod == 2 {
                        guard i + 4 <= b.count else { return .needMore }
                        d.disp = Int64(readI32(b, i)); i += 4
                    }
                }
            }
        }

        // Immediates.
        if form & Form.ib != 0 {
            guard i < b.count else { return .needMore }
            d.imm = UInt64(bitPattern: Int64(Int8(bitPattern: b[i]))); i += 1
        } else if form & Form.iz != 0 {
            if d.opSize == 2 {
                guard i + 2 <= b.count else { return .needMore }
                d.imm = UInt64(bitPattern: Int64(Int16(bitPattern: UInt16(b[i]) | UInt16(b[i + 1]) << 8))); i += 2
            } else {
                guard i + 4 <= b.count else { return .needMore }
                d.imm = UInt64(bitPattern: Int64(readI32(b, i))); i += 4
            }
        } else if form & Form.iv != 0 {
            let n = Int(d.opSize)
            guard i + n <= b.count else { return .needMore }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(b[i + k]) << (8 * UInt64(k)) }
            d.imm = v; i += n
        } else if form & Form.iw != 0 {
            guard i + 2 <= b.count else { return .needMore }
            d.imm = UInt64(b[i]) | UInt64(b[i + 1]) << 8; i += 2
        } else if form & Form.iwib != 0 {
            guard i + 3 <= b.count else { return .needMore }
            d.imm = UInt64(b[i]) | UInt64(b[i + 1]) << 8
            d.imm2 = UInt16(b[i + 2]); i += 3
        } else if form & Form.jb != 0 {
            guard i < b.count else { return .needMore }
            d.imm = UInt64(bitPattern: Int64(Int8(bitPattern: b[i]))); i += 1
        } else if form & Form.jz != 0 {
            if d.opSize == 2 {
                guard i + 2 <= b.count else { return .needMore }
                d.imm = UInt64(bitPattern: Int64(Int16(bitPattern: UInt16(b[i]) | UInt16(b[i + 1]) << 8))); i += 2
            } else {
                guard i + 4 <= b.count else { return .needMore }
                d.imm = UInt64(bitPattern: Int64(readI32(b, i))); i += 4
            }
        } else if form & Form.ptr != 0 {
            let n = d.opSize == 2 ? 2 : 4
            guard i + n + 2 <= b.count else { return .needMore }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(b[i + k]) << (8 * UInt64(k)) }
            d.imm = v; i += n
            d.imm2 = UInt16(b[i]) | UInt16(b[i + 1]) << 8; i += 2
        } else if form & Form.moffs != 0 {
            let n = Int(asz)
            guard i + n <= b.count else { return .needMore }
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(b[i + k]) << (8 * UInt64(k)) }
            d.disp = Int64(bitPattern: v); i += n
            flags |= InstructionFlags.mem
        }
        if i > 15 { return .tooLong }
        // LOCK is allowed only on read-modify-write instructions with a memory destination (SDM Vol. 2A LOCK).
        if flags & InstructionFlags.lock != 0 && !lockAllowed(d, flags) { d.op = .invalid }
        d.flags = flags
        d.length = UInt8(i)
        return .ok
    }

    /// Reads a little-endian signed 32-bit value.
    @inline(__always) private func readI32(_ b: UnsafeRawBufferPointer, _ i: Int) -> Int32 {
        Int32(bitPattern: UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24)
    }

    /// Whether a LOCK prefix is valid on this instruction.
    private func lockAllowed(_ d: Instruction, _ flags: UInt8) -> Bool {
        guard flags & InstructionFlags.mem != 0 else { return false }
        switch d.op {
        case .aluRMReg, .aluRMImm: return d.sub != 7
        case .incRM, .decRM, .notRM, .negRM, .xadd, .cmpxchg, .cmpxchg8b: return true
        case .xchgRMReg: return true
        case .btRMReg, .btRMImm: return d.sub != 0
        default: return false
        }
    }

    /// Resolves an opcode group by ModRM.reg (SDM Vol. 2D Table A-6).
    private func resolveGroup(twoByte: Bool, opcode: Int, reg: UInt8, mod: UInt8, rm: UInt8, lastPrefix: UInt8,
                              opsizePrefix: Bool, mode64: Bool, d: inout Instruction, form: inout UInt32) {
        d.sub = reg
        if !twoByte {
            switch opcode {
            case 0x80, 0x81, 0x82, 0x83: d.op = .aluRMImm
            case 0x8F: if reg != 0 { d.op = .invalid }
            case 0xC0, 0xC1: d.op = .shiftRMImm
            case 0xD0, 0xD1: d.op = .shiftRM1
            case 0xD2, 0xD3: d.op = .shiftRMCL
            case 0xC6, 0xC7: if reg != 0 { d.op = .invalid }
            case 0xF6, 0xF7:
                switch reg {
                case 0, 1:
                    d.op = .testRMImm
                    form |= opcode == 0xF6 ? Form.ib : Form.iz
                case 2: d.op = .notRM
                case 3: d.op = .negRM
                case 4: d.op = .mulRM
                case 5: d.op = .imulRM
                case 6: d.op = .divRM
                default: d.op = .idivRM
                }
            case 0xFE:
                switch reg {
                case 0: d.op = .incRM
                case 1: d.op = .decRM
                default: d.op = .invalid
                }
            case 0xFF:
                switch reg {
                case 0: d.op = .incRM
                case 1: d.op = .decRM
                case 2: d.op = .callRM; form |= Form.force64
                case 3: d.op = mod == 3 ? .invalid : .callFarM
                case 4: d.op = .jmpRM; form |= Form.force64
                case 5: d.op = mod == 3 ? .invalid : .jmpFarM
                case 6: d.op = .pushRM; form |= Form.def64
                default: d.op = .invalid
                }
            default: break
            }
            return
        }
        switch opcode {
        case 0x00:
            let ops: [Op] = [.sldt, .str, .lldt, .ltr, .verr, .verw, .invalid, .invalid]
            d.op = ops[Int(reg)]
            if reg >= 2 { d.size2 = 2 }
        case 0x01:
            if mod == 3 {
                switch (reg, rm) {
                case (0, 1): d.op = .vmx; d.sub = 0        // VMCALL
                case (0, 2): d.op = .vmx; d.sub = 1        // VMLAUNCH
                case (0, 3): d.op = .vmx; d.sub = 2        // VMRESUME
                case (0, 4): d.op = .vmx; d.sub = 3        // VMXOFF
                case (1, 0): d.op = .monitor
                case (1, 1): d.op = .mwait
                case (1, 2): d.op = .clac
                case (1, 3): d.op = .stac
                case (5, 6): d.op = .rdpkru
                case (5, 7): d.op = .wrpkru
                case (2, 0): d.op = .xgetbv
                case (2, 1): d.op = .xsetbv
                case (4, _): d.op = .smsw
                case (6, _): d.op = .lmsw; d.size2 = 2
                case (7, 0): d.op = mode64 ? .swapgs : .invalid
                case (7, 1): d.op = .rdtscp
                default: d.op = .invalid
                }
            } else {
                let ops: [Op] = [.sgdt, .sidt, .lgdt, .lidt, .smsw, .invalid, .lmsw, .invlpg]
                d.op = ops[Int(reg)]
                if reg == 6 { d.size2 = 2 }
            }
        case 0xBA:
            if reg < 4 { d.op = .invalid } else { d.op = .btRMImm; d.sub = reg - 4 }
        case 0xC7:
            switch reg {
            case 1 where mod != 3: d.op = .cmpxchg8b
            case 6 where mod != 3:
                d.op = .vmx
                d.sub = lastPrefix == 0xF3 ? 7 : (opsizePrefix ? 5 : 4)   // VMXON, VMCLEAR, VMPTRLD
                form |= Form.force64
            case 7 where mod != 3: d.op = .vmx; d.sub = 6; form |= Form.force64     // VMPTRST
            default: d.op = .invalid
            }
        case 0xAE:
            if mod == 3 {
                switch reg {
                case 5, 6, 7: d.op = .fence
                default: d.op = .invalid
                }
            } else {
                switch reg {
                case 7: d.op = .clflush
                default: d.op = .sse       // FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, XSAVE, XRSTOR, XSAVEOPT
                }
            }
        default: break
        }
    }

    /// Whether a 64-bit linear address is canonical (bits 63:47 all equal).
    @inline(__always) func isCanonical(_ la: UInt64) -> Bool {
        let top = Int64(bitPattern: la) >> 47
        return top == 0 || top == -1
    }
}
