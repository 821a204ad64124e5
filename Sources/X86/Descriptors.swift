// Segment descriptors, selectors and segment-register loads (SDM Vol. 3A chapter 3, §5.5–5.8).

/// A raw segment or gate descriptor (8 bytes; 16 for system descriptors in IA-32e mode).
struct Descriptor {
    var low: UInt32
    var high: UInt32
    /// Upper 8 bytes of a 16-byte system descriptor (IA-32e mode), else 0.
    var upper: UInt64 = 0

    /// Base address (bits 31:0; plus bits 63:32 of a 16-byte descriptor).
    var base: UInt64 {
        UInt64(low >> 16) | UInt64(high & 0xFF) << 16 | UInt64(high & 0xFF00_0000) | (upper & 0xFFFF_FFFF) << 32
    }
    /// Limit in bytes, scaled by the granularity bit.
    var limit: UInt32 {
        let raw = (low & 0xFFFF) | (high & 0xF_0000)
        return high & 0x80_0000 != 0 ? (raw << 12) | 0xFFF : raw
    }
    /// Access rights in the VMCS layout.
    var accessRights: UInt32 { (high >> 8) & 0xF0FF }
    var type: UInt32 { (high >> 8) & 0xF }
    var s: Bool { high & 0x1000 != 0 }
    var dpl: Int { Int((high >> 13) & 3) }
    var present: Bool { high & 0x8000 != 0 }
    var isCode: Bool { s && type & 8 != 0 }
    var isConforming: Bool { isCode && type & 4 != 0 }
    var l: Bool { high & 0x20_0000 != 0 }
    var db: Bool { high & 0x40_0000 != 0 }

    /// Gate fields: target selector, offset, parameter count.
    var gateSelector: UInt16 { UInt16(truncatingIfNeeded: low >> 16) }
    var gateOffset: UInt64 {
        UInt64(low & 0xFFFF) | UInt64(high & 0xFFFF_0000) | (upper & 0xFFFF_FFFF) << 32
    }
    var gateParamCount: Int { Int(high & 0x1F) }
    /// Interrupt-stack-table index of a 64-bit interrupt/trap gate.
    var ist: Int { Int(high & 7) }

    /// The segment-register value this descriptor loads with `selector`.
    func segment(selector: UInt16) -> SegmentRegister {
        SegmentRegister(selector: selector, base: base & 0xFFFF_FFFF, limit: limit, accessRights: accessRights)
    }
}

/// System-descriptor types (SDM Vol. 3A §3.5, Table 3-2).
enum SystemType {
    static let tss16Available: UInt32 = 1, ldt: UInt32 = 2, tss16Busy: UInt32 = 3, callGate16: UInt32 = 4
    static let taskGate: UInt32 = 5, interruptGate16: UInt32 = 6, trapGate16: UInt32 = 7
    static let tss32Available: UInt32 = 9, tss32Busy: UInt32 = 11, callGate32: UInt32 = 12
    static let interruptGate32: UInt32 = 14, trapGate32: UInt32 = 15
}

extension CPU {
    /// Reads the descriptor a selector names from the GDT or LDT (supervisor access), or raises
    /// `vector`(selector) if it lies outside the table. `wide` reads 16 bytes (IA-32e system descriptors).
    func readDescriptor(_ selector: UInt16, vector: UInt8 = 13, wide: Bool = false) throws(Abort) -> Descriptor {
        let index = UInt64(selector & 0xFFF8)
        let base: UInt64, limit: UInt64
        if selector & 4 != 0 {
            let ldtr = seg[SegmentRegisterName.ldtr.rawValue]
            if ldtr.unusable || ldtr.selector & 0xFFFC == 0 { throw Abort.exception(vector, UInt32(selector & 0xFFFC)) }
            base = ldtr.base; limit = UInt64(ldtr.limit)
        } else {
            base = gdtr.base; limit = UInt64(gdtr.limit)
        }
        let size: UInt64 = wide ? 15 : 7
        if index &+ size > limit { throw Abort.exception(vector, UInt32(selector & 0xFFFC)) }
        let la = maskLinear(base &+ index)
        let raw = try readLinear(la, 8, user: false)
        var d = Descriptor(low: UInt32(truncatingIfNeeded: raw), high: UInt32(truncatingIfNeeded: raw >> 32))
        if wide { d.upper = try readLinear(maskLinear(la &+ 8), 8, user: false) }
        return d
    }

    /// Sets the accessed bit of a code/data descriptor in memory if it is clear.
    func markAccessed(_ selector: UInt16, _ d: Descriptor) throws(Abort) {
        guard d.s, d.type & 1 == 0 else { return }
        let base = selector & 4 != 0 ? seg[SegmentRegisterName.ldtr.rawValue].base : gdtr.base
        let la = maskLinear(base &+ UInt64(selector & 0xFFF8) &+ 5)
        let b = try readLinear(la, 1, user: false)
        try writeLinear(la, 1, b | 1, user: false)
    }

    /// Loads a data segment register or SS with `selector` (MOV, POP, LDS…), with the protected-mode checks.
    func loadSegment(_ s: UInt8, _ selector: UInt16) throws(Abort) {
        let idx = Int(s)
        if mode == .real {
            // Real mode: base = selector × 16; limit and attributes stay (so "unreal mode" works).
            var r = seg[idx]
            r.selector = selector
            r.base = UInt64(selector) << 4
            r.accessRights &= ~0x10000
            if r.accessRights & 0x80 == 0 { r.accessRights = s == 1 ? 0x9B : 0x93 }
            seg[idx] = r
            if s == 1 || s == 2 { updateMode() }
            return
        }
        if mode == .virtual8086 {
            seg[idx] = SegmentRegister(selector: selector, base: UInt64(selector) << 4, limit: 0xFFFF,
                                       accessRights: s == 1 ? 0xFB : 0xF3)
            return
        }
        let rpl = Int(selector & 3)
        if selector & 0xFFFC == 0 {
            if s == 2 {
                // A null SS is allowed only in 64-bit mode at CPL < 3 with RPL = CPL.
                if !(codeSize == 8 && cpl < 3 && rpl == cpl) { throw Abort.gp(0) }
                seg[idx] = SegmentRegister(selector: selector, base: 0, limit: 0, accessRights: 0x10000 | UInt32(cpl) << 5)
                return
            }
            seg[idx] = SegmentRegister(selector: selector, base: 0, limit: 0, accessRights: 0x10000)
            return
        }
        let d = try readDescriptor(selector)
        let code = UInt32(selector & 0xFFFC)
        if s == 2 {
            if rpl != cpl || !d.s || d.isCode || d.type & 2 == 0 || d.dpl != cpl { throw Abort.gp(code) }
            if !d.present { throw Abort.ss(code) }
        } else {
            if !d.s || (d.isCode && d.type & 2 == 0) { throw Abort.gp(code) }
            if !d.isConforming && (rpl > d.dpl || cpl > d.dpl) { throw Abort.gp(code) }
            if !d.present { throw Abort.np(code) }
        }
        try markAccessed(selector, d)
        var r = d.segment(selector: selector)
        r.accessRights |= 1
        seg[idx] = r
        if s == 2 { updateMode() }
    }

    /// After a privilege drop (RET/IRET to an outer level), data segments the new CPL may not use become null.
    func nullifyInaccessibleSegments() {
        for s in [0, 3, 4, 5] {
            let r = seg[s]
            if r.unusable { continue }
            let dataOrNonConforming = !r.isCode || r.type & 4 == 0
            if dataOrNonConforming && r.dpl < cpl {
                seg[s] = SegmentRegister(selector: 0, base: r.base, limit: r.limit, accessRights: 0x10000)
            }
        }
    }

    /// Loads CS for a far transfer to a code segment: checks privilege and presence, sets RPL to the new CPL.
    func codeSegment(from d: Descriptor, selector: UInt16, cpl newCPL: Int) -> SegmentRegister {
        var r = d.segment(selector: (selector & 0xFFFC) | UInt16(newCPL))
        r.accessRights |= 1
        return r
    }

    /// Installs a new CS and RIP (and the CPL that goes with it).
    func setCS(_ r: SegmentRegister, rip newRIP: UInt64) {
        seg[Seg.cs] = r
        updateMode()
        cpl = mode == .real ? 0 : (mode == .virtual8086 ? 3 : Int(r.selector & 3))
        if mode != .real && mode != .virtual8086 { cpl = Int(r.selector & 3) }
        ripValue = newRIP
    }

    /// Loads an SS descriptor for a stack switch, with the #TS checks of an inner-level transfer.
    func stackSegment(_ selector: UInt16, cpl newCPL: Int, vector: UInt8 = 10) throws(Abort) -> SegmentRegister {
        let code = UInt32(selector & 0xFFFC)
        if selector & 0xFFFC == 0 {
            if longModeActive && newCPL < 3 {
                return SegmentRegister(selector: selector & 0xFFFC | UInt16(newCPL), base: 0, limit: 0, accessRights: 0x10000 | UInt32(newCPL) << 5)
            }
            throw Abort.exception(vector, code)
        }
        let d = try readDescriptor(selector, vector: vector)
        if Int(selector & 3) != newCPL || d.dpl != newCPL || !d.s || d.isCode || d.type & 2 == 0 {
            throw Abort.exception(vector, code)
        }
        if !d.present { throw Abort.ss(code) }
        try markAccessed(selector, d)
        var r = d.segment(selector: selector)
        r.accessRights |= 1
        return r
    }
}
