// XSAVE feature set for the x87 and SSE state components (SDM Vol. 1 chapter 13; Vol. 2 XSAVE, XRSTOR,
// XSAVEOPT, XGETBV, XSETBV): XCR0, the standard (non-compacted) XSAVE area of 576 bytes (the 512-byte
// legacy region laid out as by FXSAVE, then the 64-byte XSAVE header), init-state tracking (XINUSE)
// and CPUID leaf 0xD.
//
// Not implemented: the compacted form (XSAVEC/XSAVES/XRSTORS; CPUID.(EAX=0DH,ECX=1):EAX[1,3] = 0), the
// "modified optimization" of XSAVEOPT (permitted: SDM Vol. 1 §13.9), XGETBV with ECX = 1 (XINUSE) and
// any state component beyond SSE.

/// XCR0 and the XSAVE area layout (SDM Vol. 1 §13.3, §13.4).
enum XSave {
    /// XCR0 bit 0: x87 state (always set).
    static let x87: UInt64 = 1 << 0
    /// XCR0 bit 1: SSE state (XMM registers and MXCSR).
    static let sse: UInt64 = 1 << 1
    /// The XCR0 bits this processor supports (CPUID.(EAX=0DH,ECX=0):EDX:EAX).
    static let supported: UInt64 = x87 | sse
    /// Size of the legacy region (bytes 0–511, the FXSAVE layout).
    static let legacySize = 512
    /// Offset of the XSAVE header; XSTATE_BV is its first 8 bytes, XCOMP_BV the next 8.
    static let headerOffset = 512
    /// Size of the whole area for x87 and SSE (legacy region + header) (CPUID.(EAX=0DH,ECX=0):EBX/ECX).
    static let areaSize = 576
    /// Required alignment of an XSAVE area.
    static let alignment: UInt64 = 64
}

extension CPU {
    /// CPUID.1:ECX bits of the XSAVE feature set: XSAVE (26), and OSXSAVE (27) mirroring CR4.OSXSAVE.
    var xsaveFeatureECX1: UInt32 {
        (1 << 26) | (cr4Value & CR4.osxsave.rawValue != 0 ? 1 << 27 : 0)
    }

    /// CPUID leaf 0xD (SDM Vol. 2A CPUID, "Processor Extended State Enumeration").
    func xsaveCPUIDLeaf(subleaf: UInt32) -> (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
        switch subleaf {
        case 0:
            // EDX:EAX supported XCR0 bits; EBX size for the features enabled in XCR0; ECX maximum size.
            // x87 and SSE both live in the legacy region, so both sizes are the legacy region + header.
            return (UInt32(XSave.supported), UInt32(XSave.areaSize), UInt32(XSave.areaSize), 0)
        case 1:
            return (1, 0, 0, 0)    // EAX[0] XSAVEOPT; no XSAVEC, XGETBV ECX=1, XSAVES
        default:
            return (0, 0, 0, 0)
        }
    }

    /// XINUSE: bit i clear when state component i is in its initial configuration (SDM Vol. 1 §13.6).
    /// x87: FCW 037FH, FSW 0, all registers empty and zero, FOP/FIP/FDP 0. SSE: every XMM register zero
    /// (MXCSR is not tracked).
    var xinuse: UInt64 {
        var v: UInt64 = 0
        var x87Init = fpu.fcw == 0x37F && fpu.fsw == 0 && fpu.tagValid == 0 && fpu.fop == 0 &&
            fpu.fip == 0 && fpu.fdp == 0 && fpu.fcs == 0 && fpu.fds == 0
        if x87Init { for r in 0..<8 where fpu.stSig[r] != 0 || fpu.stSE[r] != 0 { x87Init = false } }
        if !x87Init { v |= XSave.x87 }
        for k in 0..<32 where fpu.xmm[k] != 0 { v |= XSave.sse; break }
        return v
    }

    // MARK: XGETBV / XSETBV

    /// XGETBV (0F 01 D0) and XSETBV (0F 01 D1). #UD with CR4.OSXSAVE clear; XSETBV needs CPL 0 and then
    /// always exits in VMX non-root operation (those faults take priority over the exit, SDM Vol. 3C §26.1.1).
    func execXCRAccess(_ i: borrowing Instruction) throws(Abort) {
        let locked = i.flags & InstructionFlags.lock != 0
        if cr4Value & CR4.osxsave.rawValue == 0 || locked { throw Abort.ud }
        let ecx = UInt32(truncatingIfNeeded: gpr[Reg.rcx])
        if i.op == .xgetbv {
            if ecx != 0 { throw Abort.gp(0) }
            writeReg(0, 4, fpu.xcr0 & 0xFFFF_FFFF)
            writeReg(2, 4, fpu.xcr0 >> 32)
            return
        }
        if cpl != 0 || mode == .virtual8086 { throw Abort.gp(0) }
        if vmxNonRoot { throw instructionExit(.xsetbv) }
        let v = (gpr[Reg.rdx] & 0xFFFF_FFFF) << 32 | (gpr[Reg.rax] & 0xFFFF_FFFF)
        if ecx != 0 || v & XSave.x87 == 0 || v & ~XSave.supported != 0 { throw Abort.gp(0) }
        fpu.xcr0 = v
    }

    // MARK: XSAVE / XRSTOR / XSAVEOPT

    /// XSAVE (/4), XRSTOR (/5), XSAVEOPT (/6) of 0F AE with a memory operand; REX.W selects the 64-bit
    /// FIP/FDP layout (XSAVE64 etc.). The requested-feature bitmap RFBM is XCR0 AND EDX:EAX.
    func execXSaveGroup(_ i: borrowing Instruction, reg: UInt8) throws(Abort) {
        let locked = i.flags & InstructionFlags.lock != 0
        if cr4Value & CR4.osxsave.rawValue == 0 || locked { throw Abort.ud }
        if cr0Value & CR0.ts.rawValue != 0 { throw Abort.nm }
        let rfbm = fpu.xcr0 & ((gpr[Reg.rdx] & 0xFFFF_FFFF) << 32 | (gpr[Reg.rax] & 0xFFFF_FFFF))
        let rexW = i.flags & InstructionFlags.rexW != 0
        let off = effectiveAddress(i)
        let la = try linearAddress(i.seg, off, XSave.areaSize, write: reg != 5)
        if la & (XSave.alignment - 1) != 0 { throw Abort.gp(0) }
        if reg == 5 { try xrstor(i, off, rfbm: rfbm, rexW: rexW) } else { try xsave(i, off, rfbm: rfbm, rexW: rexW, optimized: reg == 6) }
    }

    /// Standard-form XSAVE/XSAVEOPT (SDM Vol. 1 §13.7, §13.9): writes the components in RFBM (XSAVEOPT
    /// skips those in their initial configuration), MXCSR when RFBM[1] is set, and XSTATE_BV bits in RFBM
    /// from XINUSE; other bytes of the area are left as they were. Nothing is written if any byte faults.
    private func xsave(_ i: borrowing Instruction, _ off: UInt64, rfbm: UInt64, rexW: Bool, optimized: Bool) throws(Abort) {
        for page in stride(from: off, to: off &+ UInt64(XSave.areaSize), by: 256) {
            try probeWrite(i.seg, page, min(256, Int(off &+ UInt64(XSave.areaSize) &- page)))
        }
        let inUse = xinuse
        let oldBV = try readMem(i.seg, off &+ UInt64(XSave.headerOffset), 8)
        let img = fxsaveImage(rexW: rexW)
        let seg = i.seg
        func store(_ from: Int, _ to: Int) throws(Abort) {
            for k in stride(from: from, to: to, by: 8) {
                var v: UInt64 = 0
                for j in 0..<8 { v |= UInt64(img[k + j]) << UInt64(8 * j) }
                try writeMem(seg, off &+ UInt64(k), 8, v)
            }
        }
        let skip = optimized ? ~inUse : 0
        if rfbm & XSave.x87 != 0 && skip & XSave.x87 == 0 { try store(0, 24); try store(32, 160) }
        if rfbm & XSave.sse != 0 {
            try store(24, 32)
            if skip & XSave.sse == 0 { try store(160, 160 + 16 * (codeSize == 8 ? 16 : 8)) }
        }
        try writeMem(i.seg, off &+ UInt64(XSave.headerOffset), 8, (oldBV & ~rfbm) | (inUse & rfbm))
    }

    /// Standard-form XRSTOR (SDM Vol. 1 §13.8.1): #GP(0) for XSTATE_BV bits outside XCR0, nonzero
    /// header bytes 8–63 (XCOMP_BV and reserved; the compacted form is not supported) or reserved MXCSR
    /// bits. A component in RFBM is loaded when its XSTATE_BV bit is set, else put in its initial
    /// configuration; MXCSR is loaded when RFBM[1] is set. Nothing changes on a fault.
    private func xrstor(_ i: borrowing Instruction, _ off: UInt64, rfbm: UInt64, rexW: Bool) throws(Abort) {
        var header = [UInt64](repeating: 0, count: 8)
        for k in 0..<8 { header[k] = try readMem(i.seg, off &+ UInt64(XSave.headerOffset + 8 * k), 8) }
        let bv = header[0]
        if bv & ~fpu.xcr0 != 0 { throw Abort.gp(0) }
        for k in 1..<8 where header[k] != 0 { throw Abort.gp(0) }
        var img = [UInt8](repeating: 0, count: XSave.legacySize)
        for k in 0..<(XSave.legacySize / 8) {
            let v = try readMem(i.seg, off &+ UInt64(8 * k), 8)
            for j in 0..<8 { img[8 * k + j] = UInt8(truncatingIfNeeded: v >> UInt64(8 * j)) }
        }
        if rfbm & XSave.sse != 0 && UInt32(truncatingIfNeeded: CPU.imageField(img, 24, 4)) & ~MXCSR.writable != 0 {
            throw Abort.gp(0)
        }
        if rfbm & XSave.x87 != 0 {
            if bv & XSave.x87 != 0 {
                loadX87Image(img, rexW: rexW)
            } else {
                fpu.initX87()
                for r in 0..<8 { fpu.stSig[r] = 0; fpu.stSE[r] = 0 }
            }
        }
        if rfbm & XSave.sse != 0 {
            let mx = UInt32(truncatingIfNeeded: CPU.imageField(img, 24, 4))
            if bv & XSave.sse != 0 {
                loadSSEImage(img)
            } else {
                let n = codeSize == 8 ? 32 : 16
                for k in 0..<n { fpu.xmm[k] = 0 }
            }
            fpu.mxcsr = mx
        }
    }
}

extension CPU {
    /// Extended control register XCR0 (the state components XSAVE manages).
    public var xcr0: UInt64 { fpu.xcr0 }

    /// Sets XCR0 with the checks XSETBV makes (SDM Vol. 2C "XSETBV"): x87 set, only supported bits.
    /// Returns false, leaving XCR0 unchanged, where XSETBV would raise #GP — a VMM emulating an XSETBV
    /// exit injects #GP(0) then.
    public func setXCR0(_ value: UInt64) -> Bool {
        guard value & XSave.x87 != 0, value & ~XSave.supported == 0 else { return false }
        fpu.xcr0 = value
        return true
    }
}
