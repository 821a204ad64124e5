// The place of the x87 FPU and SSE in the processor: their register state (`FPUState`), the CR0/CR4
// checks every floating-point instruction makes, MXCSR, FXSAVE/FXRSTOR and the public accessors.
// The instructions themselves are in Sources/X86/FPU: X87.swift, SSE.swift, SoftFloat.swift.

/// x87, SSE and MXCSR register state (SDM Vol. 1 §8.1, §10.2). Allocated once with the processor;
/// registers live in fixed buffers so the execution units pay no exclusivity or ARC costs.
final class FPUState {
    /// XMM0–XMM15, two 64-bit halves each (low half first).
    let xmm: UnsafeMutablePointer<UInt64>
    /// Significands of the physical x87 registers R0–R7 (explicit integer bit).
    let stSig: UnsafeMutablePointer<UInt64>
    /// Sign and exponent of R0–R7.
    let stSE: UnsafeMutablePointer<UInt16>
    /// x87 control word (FCW).
    var fcw: UInt16 = 0x37F
    /// x87 status word (FSW) including TOP in bits 13:11.
    var fsw: UInt16 = 0
    /// Bit i set: physical register Ri is not empty (the abridged tag word of FXSAVE).
    var tagValid: UInt8 = 0
    /// Last x87 opcode (11 bits).
    var fop: UInt16 = 0
    /// Last x87 instruction pointer and code selector.
    var fip: UInt64 = 0
    var fcs: UInt16 = 0
    /// Last x87 data pointer and data selector.
    var fdp: UInt64 = 0
    var fds: UInt16 = 0
    /// SSE control and status (MXCSR).
    var mxcsr: UInt32 = 0x1F80
    /// XCR0 (x87 always enabled).
    var xcr0: UInt64 = 1

    init() {
        xmm = .allocate(capacity: 32)
        xmm.initialize(repeating: 0, count: 32)
        stSig = .allocate(capacity: 8)
        stSig.initialize(repeating: 0, count: 8)
        stSE = .allocate(capacity: 8)
        stSE.initialize(repeating: 0, count: 8)
    }

    deinit {
        xmm.deallocate()
        stSig.deallocate()
        stSE.deallocate()
    }

    /// TOP, the physical index of ST(0).
    @inline(__always) var top: Int { Int(fsw >> 11) & 7 }
    /// Physical index of ST(i).
    @inline(__always) func phys(_ i: Int) -> Int { (top &+ i) & 7 }

    /// FNINIT (SDM Vol. 2A FINIT/FNINIT).
    func initX87() {
        fcw = 0x37F; fsw = 0; tagValid = 0
        fop = 0; fip = 0; fcs = 0; fdp = 0; fds = 0
    }

    /// The full 16-bit tag word: 00 valid, 01 zero, 10 special, 11 empty, for R0–R7 (SDM Vol. 1 §8.1.7).
    var fullTagWord: UInt16 {
        var t: UInt16 = 0
        for r in 0..<8 {
            let tag: UInt16
            if tagValid & (1 << r) == 0 {
                tag = 3
            } else {
                let e = stSE[r] & 0x7FFF, s = stSig[r]
                if e == 0 { tag = s == 0 ? 1 : 2 }
                else if e == 0x7FFF || s >> 63 == 0 { tag = 2 }
                else { tag = 0 }
            }
            t |= tag << UInt16(2 * r)
        }
        return t
    }
}

/// MXCSR bits (SDM Vol. 1 §10.2.3).
enum MXCSR {
    /// Exception flags IE DE ZE OE UE PE (bits 5:0).
    static let flags: UInt32 = 0x3F
    /// Denormals are zeros.
    static let daz: UInt32 = 1 << 6
    /// Exception masks (bits 12:7).
    static let maskShift: UInt32 = 7
    /// Rounding control (bits 14:13).
    static let rcShift: UInt32 = 13
    /// Flush to zero.
    static let ftz: UInt32 = 1 << 15
    /// Bits a guest may set (MXCSR_MASK).
    static let writable: UInt32 = 0xFFFF
}

extension CPU {
    /// Resets floating-point state (FNINIT state, MXCSR default, XMM registers zero; SDM Vol. 3A Table 9-1).
    func resetFPU() {
        fpu.initX87()
        fpu.fcw = 0x40    // power-up FCW; FNINIT sets 0x37F
        for r in 0..<8 { fpu.stSig[r] = 0; fpu.stSE[r] = 0 }
        for k in 0..<32 { fpu.xmm[k] = 0 }
        fpu.mxcsr = 0x1F80
        fpu.xcr0 = 1
    }

    /// WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set; then a pending unmasked x87 exception.
    func execFwait() throws(Abort) {
        let mpts = CR0.mp.rawValue | CR0.ts.rawValue
        if cr0Value & mpts == mpts { throw Abort.nm }
        try checkPendingX87()
    }

    /// Raises #MF for a pending unmasked x87 exception (FSW.ES) when CR0.NE is set (SDM Vol. 1 §8.7).
    /// With CR0.NE clear the processor would assert FERR#, which this model does not wire to an IRQ.
    @inline(__always) func checkPendingX87() throws(Abort) {
        if fpu.fsw & 0x80 != 0 && cr0Value & CR0.ne.rawValue != 0 { throw Abort.mf }
    }

    /// The checks of SSE instructions: #UD with CR0.EM set or CR4.OSFXSR clear, then #NM with CR0.TS set.
    @inline(__always) func checkSSEAvailable() throws(Abort) {
        if cr0Value & CR0.em.rawValue != 0 || cr4Value & CR4.osfxsr.rawValue == 0 { throw Abort.ud }
        if cr0Value & CR0.ts.rawValue != 0 { throw Abort.nm }
    }

    /// Raises the SIMD floating-point exception: #XM with CR4.OSXMMEXCPT, else #UD (SDM Vol. 3A §6.15, #XM).
    func simdException() -> Abort {
        Abort.exception(cr4Value & CR4.osxmmexcpt.rawValue != 0 ? 19 : 6, nil)
    }

    // MARK: 0F AE memory forms

    /// FXSAVE, FXRSTOR, LDMXCSR, STMXCSR (0F AE /0–/3); XSAVE, XRSTOR, XSAVEOPT (/4–/6, in FPU/XSave.swift).
    func execFPStateGroup(_ i: borrowing Instruction) throws(Abort) {
        let reg = i.reg & 7
        if i.flags & (InstructionFlags.rep | InstructionFlags.repne | InstructionFlags.opsize) != 0 { throw Abort.ud }
        switch reg {
        case 0, 1:
            if cr0Value & (CR0.em.rawValue | CR0.ts.rawValue) != 0 { throw Abort.nm }
            if reg == 0 { try fxsave(i) } else { try fxrstor(i) }
        case 2, 3:
            try checkSSEAvailable()
            let off = effectiveAddress(i)
            if reg == 2 {
                let v = UInt32(truncatingIfNeeded: try readMem(i.seg, off, 4))
                if v & ~MXCSR.writable != 0 { throw Abort.gp(0) }
                fpu.mxcsr = v
            } else {
                try writeMem(i.seg, off, 4, UInt64(fpu.mxcsr))
            }
        case 4, 5, 6:
            try execXSaveGroup(i, reg: reg)
        default:
            throw Abort.ud
        }
    }

    /// Serializes the FXSAVE image (SDM Vol. 2A FXSAVE, Table 3-53/3-56) into 512 bytes.
    func fxsaveImage(rexW: Bool) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: 512)
        func put(_ off: Int, _ v: UInt64, _ n: Int) { for k in 0..<n { b[off + k] = UInt8(truncatingIfNeeded: v >> UInt64(8 * k)) } }
        put(0, UInt64(fpu.fcw), 2)
        put(2, UInt64(fpu.fsw), 2)
        put(4, UInt64(fpu.tagValid), 1)
        put(6, UInt64(fpu.fop), 2)
        if rexW {
            put(8, fpu.fip, 8); put(16, fpu.fdp, 8)
        } else {
            put(8, fpu.fip & 0xFFFF_FFFF, 4); put(12, UInt64(fpu.fcs), 2)
            put(16, fpu.fdp & 0xFFFF_FFFF, 4); put(20, UInt64(fpu.fds), 2)
        }
        put(24, UInt64(fpu.mxcsr), 4)
        put(28, UInt64(MXCSR.writable), 4)
        for st in 0..<8 {
            let r = fpu.phys(st)
            put(32 + 16 * st, fpu.stSig[r], 8)
            put(40 + 16 * st, UInt64(fpu.stSE[r]), 2)
        }
        let n = codeSize == 8 ? 16 : 8
        for x in 0..<n {
            put(160 + 16 * x, fpu.xmm[2 * x], 8)
            put(168 + 16 * x, fpu.xmm[2 * x + 1], 8)
        }
        return b
    }

    /// Loads state from an FXSAVE image (already validated).
    func loadFxsaveImage(_ b: [UInt8], rexW: Bool) {
        loadX87Image(b, rexW: rexW)
        loadSSEImage(b)
    }

    /// Little-endian field of a state image.
    @inline(__always) static func imageField(_ b: [UInt8], _ off: Int, _ n: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<n { v |= UInt64(b[off + k]) << UInt64(8 * k) }
        return v
    }

    /// Loads the x87 part (bytes 0–23 and 32–159) of an FXSAVE image or XSAVE legacy region.
    func loadX87Image(_ b: [UInt8], rexW: Bool) {
        func get(_ off: Int, _ n: Int) -> UInt64 { CPU.imageField(b, off, n) }
        fpu.fcw = UInt16(truncatingIfNeeded: get(0, 2))
        fpu.fsw = UInt16(truncatingIfNeeded: get(2, 2))
        fpu.tagValid = UInt8(truncatingIfNeeded: get(4, 1))
        fpu.fop = UInt16(truncatingIfNeeded: get(6, 2)) & 0x7FF
        if rexW {
            fpu.fip = get(8, 8); fpu.fdp = get(16, 8); fpu.fcs = 0; fpu.fds = 0
        } else {
            fpu.fip = get(8, 4); fpu.fcs = UInt16(truncatingIfNeeded: get(12, 2))
            fpu.fdp = get(16, 4); fpu.fds = UInt16(truncatingIfNeeded: get(20, 2))
        }
        for st in 0..<8 {
            let r = fpu.phys(st)
            fpu.stSig[r] = get(32 + 16 * st, 8)
            fpu.stSE[r] = UInt16(truncatingIfNeeded: get(40 + 16 * st, 2))
        }
    }

    /// Loads the SSE part (MXCSR at 24, XMM registers at 160) of an FXSAVE image or XSAVE legacy region.
    func loadSSEImage(_ b: [UInt8]) {
        fpu.mxcsr = UInt32(truncatingIfNeeded: CPU.imageField(b, 24, 4))
        let n = codeSize == 8 ? 16 : 8
        for x in 0..<n {
            fpu.xmm[2 * x] = CPU.imageField(b, 160 + 16 * x, 8)
            fpu.xmm[2 * x + 1] = CPU.imageField(b, 168 + 16 * x, 8)
        }
    }

    /// FXSAVE m512: 16-byte aligned (#GP otherwise); every byte is checked writable before any is written.
    func fxsave(_ i: borrowing Instruction) throws(Abort) {
        let off = effectiveAddress(i)
        let la = try linearAddress(i.seg, off, 512, write: true)
        if la & 15 != 0 { throw Abort.gp(0) }
        for page in stride(from: off, to: off &+ 512, by: 256) { try probeWrite(i.seg, page, 256) }
        let img = fxsaveImage(rexW: i.flags & InstructionFlags.rexW != 0)
        for k in 0..<64 {
            var v: UInt64 = 0
            for j in 0..<8 { v |= UInt64(img[8 * k + j]) << UInt64(8 * j) }
            try writeMem(i.seg, off &+ UInt64(8 * k), 8, v)
        }
    }

    /// FXRSTOR m512: 16-byte aligned; #GP(0) for reserved MXCSR bits; nothing changes on a fault.
    func fxrstor(_ i: borrowing Instruction) throws(Abort) {
        let off = effectiveAddress(i)
        let la = try linearAddress(i.seg, off, 512, write: false)
        if la & 15 != 0 { throw Abort.gp(0) }
        var img = [UInt8](repeating: 0, count: 512)
        for k in 0..<64 {
            let v = try readMem(i.seg, off &+ UInt64(8 * k), 8)
            for j in 0..<8 { img[8 * k + j] = UInt8(truncatingIfNeeded: v >> UInt64(8 * j)) }
        }
        let mx = UInt32(img[24]) | UInt32(img[25]) << 8 | UInt32(img[26]) << 16 | UInt32(img[27]) << 24
        if mx & ~MXCSR.writable != 0 { throw Abort.gp(0) }
        loadFxsaveImage(img, rexW: i.flags & InstructionFlags.rexW != 0)
    }

    // MARK: Public access

    /// An XMM register (0–15) as its low and high 64-bit halves.
    public func xmm(_ n: Int) -> (low: UInt64, high: UInt64) { (fpu.xmm[2 * (n & 15)], fpu.xmm[2 * (n & 15) + 1]) }
    /// Writes an XMM register.
    public func setXMM(_ n: Int, low: UInt64, high: UInt64) { fpu.xmm[2 * (n & 15)] = low; fpu.xmm[2 * (n & 15) + 1] = high }
    /// MXCSR.
    public var mxcsr: UInt32 {
        get { fpu.mxcsr }
        set { fpu.mxcsr = newValue & MXCSR.writable }
    }
    /// The x87 control word.
    public var x87ControlWord: UInt16 {
        get { fpu.fcw }
        set { fpu.fcw = newValue }
    }
    /// The x87 status word (TOP in bits 13:11).
    public var x87StatusWord: UInt16 {
        get { fpu.fsw }
        set { fpu.fsw = newValue }
    }
    /// The x87 full tag word (11 = empty).
    public var x87TagWord: UInt16 { fpu.fullTagWord }
    /// ST(i) as its 80-bit encoding (significand, sign and exponent), or nil when the register is empty.
    public func x87Register(st i: Int) -> (significand: UInt64, signExponent: UInt16)? {
        let r = fpu.phys(i & 7)
        if fpu.tagValid & (1 << r) == 0 { return nil }
        return (fpu.stSig[r], fpu.stSE[r])
    }
}
