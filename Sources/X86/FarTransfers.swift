// Far JMP, far CALL and far RET in every mode, through call gates and task gates (SDM Vol. 2A "JMP",
// "CALL", Vol. 2B "RET"; Vol. 3A §5.8). IRET (Interrupts.swift) loads its code segment through the same
// `loadCodeSegment`.

extension CPU {
    /// The code segment a far JMP, CALL or RET loads in real or virtual-8086 mode: base selector × 16. Real
    /// mode keeps the cached limit and attributes (unreal mode); virtual-8086 mode has the fixed 64 KiB,
    /// DPL 3 code segment.
    func realModeCodeSegment(_ selector: UInt16) -> SegmentRegister {
        if mode == .virtual8086 {
            return SegmentRegister(selector: selector, base: UInt64(selector) << 4, limit: 0xFFFF, accessRights: 0xFB)
        }
        var r = seg[Seg.cs]
        r.selector = selector
        r.base = UInt64(selector) << 4
        return r
    }

    /// JMP ptr16:16/32 and JMP m16:16/32/64 (SDM Vol. 2A "JMP").
    func farJump(selector: UInt16, offset: UInt64, size: UInt8) throws(Abort) {
        if mode == .real || mode == .virtual8086 {
            let target = offset & sizeMask(size)
            let r = realModeCodeSegment(selector)
            if target > UInt64(r.limit) { throw Abort.gp(0) }
            setCS(r, rip: target)
            return
        }
        if selector & 0xFFFC == 0 { throw Abort.gp(0) }
        let code = UInt32(selector & 0xFFFC)
        let d = try readDescriptor(selector)
        if d.s {
            try checkCodeSegment(d, selector: selector, for: .direct)
            let target = try checkedTarget(offset & (size == 8 ? ~0 : sizeMask(size)), d)
            try enterCodeSegment(d, selector: selector, cpl: cpl, rip: target)
            return
        }
        switch d.type {
        case SystemType.callGate16, SystemType.callGate32:
            let (g, tsel, t) = try callGateTarget(selector, d, forCall: false)
            let off = longModeActive ? g.gateOffset : (d.type == SystemType.callGate32 ? g.gateOffset & 0xFFFF_FFFF : g.gateOffset & 0xFFFF)
            let target = try checkedTarget(off, t)
            try enterCodeSegment(t, selector: tsel, cpl: cpl, rip: target)
        case SystemType.taskGate, SystemType.tss16Available, SystemType.tss32Available:
            try farTransferToTask(selector, d, reason: .jump)
        default:
            throw Abort.gp(code)
        }
    }

    /// A far JMP or CALL to a TSS or through a task gate (not in IA-32e mode): the privilege and presence
    /// checks, then the task switch (SDM Vol. 3A §8.3).
    private func farTransferToTask(_ selector: UInt16, _ d: Descriptor, reason: TaskSwitchReason) throws(Abort) {
        let code = UInt32(selector & 0xFFFC)
        if longModeActive { throw Abort.gp(code) }
        if d.dpl < cpl || d.dpl < Int(selector & 3) { throw Abort.gp(code) }
        if !d.present { throw Abort.np(code) }
        let tss = d.type == SystemType.taskGate ? d.gateSelector : selector
        try taskSwitch(to: tss, reason: reason, errorCode: nil)
    }

    /// Reads and checks a call gate and the code segment it names, for a far JMP (the target keeps the CPL:
    /// conforming with DPL ≤ CPL or non-conforming with DPL = CPL) or a far CALL (DPL ≤ CPL; a more privileged
    /// non-conforming target switches stacks). Returns the gate, the target selector and its descriptor.
    private func callGateTarget(_ selector: UInt16, _ d: Descriptor, forCall: Bool) throws(Abort) -> (Descriptor, UInt16, Descriptor) {
        let code = UInt32(selector & 0xFFFC)
        let g = try readGate(selector, d)
        if g.dpl < cpl || g.dpl < Int(selector & 3) { throw Abort.gp(code) }
        if !g.present { throw Abort.np(code) }
        let tsel = g.gateSelector
        if tsel & 0xFFFC == 0 { throw Abort.gp(0) }
        let t = try readDescriptor(tsel)
        let tcode = UInt32(tsel & 0xFFFC)
        let privilegeOK = forCall ? t.dpl <= cpl : (t.isConforming ? t.dpl <= cpl : t.dpl == cpl)
        if !t.isCode || !privilegeOK { throw Abort.gp(tcode) }
        if !t.present { throw Abort.np(tcode) }
        if longModeActive && (!t.l || t.db) { throw Abort.gp(tcode) }
        return (g, tsel, t)
    }

    /// Reads a call gate, 16 bytes wide in IA-32e mode (where only 64-bit gates exist).
    private func readGate(_ selector: UInt16, _ d: Descriptor) throws(Abort) -> Descriptor {
        if longModeActive {
            if d.type != SystemType.callGate32 { throw Abort.gp(UInt32(selector & 0xFFFC)) }
            let g = try readDescriptor(selector, wide: true)
            if (g.upper >> 40) & 0x1F != 0 { throw Abort.gp(UInt32(selector & 0xFFFC)) }
            return g
        }
        return d
    }

    /// How a far transfer reaches its code segment; the privilege rule differs.
    enum CodeSegmentTransfer {
        /// A far JMP or CALL without a gate: the CPL stays.
        case direct
        /// RETF or IRET: to the privilege level of the selector's RPL, never a more privileged one.
        case `return`
    }

    /// Reads and checks the code segment a RETF or IRET returns to (a null selector: #GP(0)); see
    /// `checkCodeSegment`.
    func loadCodeSegment(_ selector: UInt16, for transfer: CodeSegmentTransfer) throws(Abort) -> Descriptor {
        if selector & 0xFFFC == 0 { throw Abort.gp(0) }
        let d = try readDescriptor(selector)
        try checkCodeSegment(d, selector: selector, for: transfer)
        return d
    }

    /// The checks of the code segment a far JMP or CALL without a gate, a RETF or an IRET loads into CS, in
    /// the SDM's order (Vol. 2A "JMP", "CALL", "IRET", Vol. 2B "RET"): #GP(selector) when it is not a code
    /// segment, when IA-32e mode is active and L and D are both set, or when the privilege rule of `transfer`
    /// fails; #NP(selector) when it is not present.
    func checkCodeSegment(_ d: Descriptor, selector: UInt16, for transfer: CodeSegmentTransfer) throws(Abort) {
        let code = UInt32(selector & 0xFFFC)
        if !d.isCode || (longModeActive && d.l && d.db) { throw Abort.gp(code) }
        let rpl = Int(selector & 3)
        switch transfer {
        case .direct:
            if d.isConforming ? d.dpl > cpl : rpl > cpl || d.dpl != cpl { throw Abort.gp(code) }
        case .return:
            if rpl < cpl || (d.isConforming ? d.dpl > rpl : d.dpl != rpl) { throw Abort.gp(code) }
        }
        if !d.present { throw Abort.np(code) }
    }

    /// Loads CS from the checked code-segment descriptor `d` at privilege level `newCPL` and goes on at
    /// `rip`: the descriptor's accessed bit is set in memory first (which can fault), then the register.
    func enterCodeSegment(_ d: Descriptor, selector: UInt16, cpl newCPL: Int, rip: UInt64) throws(Abort) {
        try markAccessed(selector, d)
        setCS(codeSegment(from: d, selector: selector, cpl: newCPL), rip: rip)
    }

    /// Checks a far-transfer target offset against the new code segment.
    func checkedTarget(_ offset: UInt64, _ d: Descriptor) throws(Abort) -> UInt64 {
        if longModeActive && d.l {
            if !isCanonical(offset) { throw Abort.gp(0) }
            return offset
        }
        let t = offset & 0xFFFF_FFFF
        if t > UInt64(d.limit) { throw Abort.gp(0) }
        return t
    }

    /// CALL ptr16:16/32 and CALL m16:16/32/64, including call gates to inner levels (SDM Vol. 2A "CALL").
    func farCall(selector: UInt16, offset: UInt64, size: UInt8) throws(Abort) {
        let retCS = UInt64(seg[Seg.cs].selector)
        let retIP = ripValue
        if mode == .real || mode == .virtual8086 {
            let target = offset & sizeMask(size)
            let r = realModeCodeSegment(selector)
            if target > UInt64(r.limit) { throw Abort.gp(0) }
            try push(retCS, size)
            try push(retIP, size)
            setCS(r, rip: target)
            return
        }
        if selector & 0xFFFC == 0 { throw Abort.gp(0) }
        let code = UInt32(selector & 0xFFFC)
        let d = try readDescriptor(selector)
        if d.s {
            try checkCodeSegment(d, selector: selector, for: .direct)
            let target = try checkedTarget(offset & (size == 8 ? ~0 : sizeMask(size)), d)
            try push(retCS, size)
            try push(retIP, size)
            try enterCodeSegment(d, selector: selector, cpl: cpl, rip: target)
            return
        }
        switch d.type {
        case SystemType.callGate16, SystemType.callGate32:
            let (g, tsel, t) = try callGateTarget(selector, d, forCall: true)
            let gateSize: UInt8 = longModeActive ? 8 : (d.type == SystemType.callGate32 ? 4 : 2)
            let off = longModeActive ? g.gateOffset : (gateSize == 4 ? g.gateOffset & 0xFFFF_FFFF : g.gateOffset & 0xFFFF)
            let target = try checkedTarget(off, t)
            if !t.isConforming && t.dpl < cpl {
                // More privileged: switch to the inner stack from the TSS and copy parameters.
                let newCPL = t.dpl
                let oldSS = seg[Seg.ss], oldSP = gpr[Reg.rsp]
                var newSS: SegmentRegister
                var sp: UInt64
                if longModeActive {
                    sp = try readTSS64(4 + 8 * UInt64(newCPL))
                    newSS = SegmentRegister(selector: UInt16(newCPL), base: 0, limit: 0, accessRights: 0x10000 | UInt32(newCPL) << 5)
                } else {
                    let (ssSel, esp) = try innerStack(from: newCPL)
                    newSS = try stackSegment(ssSel, cpl: newCPL)
                    sp = esp
                }
                var frame: [UInt64] = [UInt64(oldSS.selector), oldSP]
                if !longModeActive {
                    let n = g.gateParamCount
                    var params: [UInt64] = []
                    for k in 0..<n {
                        let so = ((oldSS.db ? oldSP & 0xFFFF_FFFF : oldSP & 0xFFFF) &+ UInt64(k) * UInt64(gateSize))
                        params.append(try readMem(2, so, gateSize))
                    }
                    frame += params.reversed()
                }
                frame += [retCS, retIP]
                let wide = longModeActive
                let mask: UInt64 = wide ? ~0 : (newSS.db ? 0xFFFF_FFFF : 0xFFFF)
                for v in frame {
                    sp = (sp &- UInt64(gateSize)) & mask
                    let la: UInt64
                    if wide {
                        la = sp
                    } else {
                        if sp &+ UInt64(gateSize) &- 1 > UInt64(newSS.limit) { throw Abort.ss(UInt32(newSS.selector & 0xFFFC)) }
                        la = (newSS.base &+ sp) & 0xFFFF_FFFF
                    }
                    try writeLinear(la, Int(gateSize), v & sizeMask(gateSize), user: false)
                }
                seg[Seg.ss] = newSS
                gpr[Reg.rsp] = wide || newSS.db ? sp : (gpr[Reg.rsp] & ~0xFFFF) | sp
                try enterCodeSegment(t, selector: tsel, cpl: newCPL, rip: target)
            } else {
                try push(retCS, gateSize)
                try push(retIP, gateSize)
                try enterCodeSegment(t, selector: tsel, cpl: cpl, rip: target)
            }
        case SystemType.taskGate, SystemType.tss16Available, SystemType.tss32Available:
            try farTransferToTask(selector, d, reason: .call)
        default:
            throw Abort.gp(code)
        }
    }

    /// RETF, RETF imm16 (SDM Vol. 2B "RET").
    func farReturn(size: UInt8, release: UInt64) throws(Abort) {
        let ip = try peekStack(0, size)
        let csSel = UInt16(truncatingIfNeeded: try peekStack(UInt64(size), size))
        if mode == .real || mode == .virtual8086 {
            let r = realModeCodeSegment(csSel)
            let target = ip & sizeMask(size)
            if target > UInt64(r.limit) { throw Abort.gp(0) }
            adjustSP(2 * UInt64(size) &+ release)
            setCS(r, rip: target)
            return
        }
        let d = try loadCodeSegment(csSel, for: .return)
        let rpl = Int(csSel & 3)
        let target = try checkedTarget(size == 8 ? ip : ip & sizeMask(size), d)
        if rpl > cpl {
            let sp = try peekStack(2 * UInt64(size) &+ release, size)
            let ssSel = UInt16(truncatingIfNeeded: try peekStack(3 * UInt64(size) &+ release, size))
            var newSS: SegmentRegister
            if ssSel & 0xFFFC == 0 && longModeActive && rpl < 3 && d.l {
                newSS = SegmentRegister(selector: ssSel, base: 0, limit: 0, accessRights: 0x10000 | UInt32(rpl) << 5)
            } else {
                newSS = try stackSegment(ssSel, cpl: rpl, vector: 13)
            }
            try enterCodeSegment(d, selector: csSel, cpl: rpl, rip: target)
            seg[Seg.ss] = newSS
            let sa = stackAddrSize
            writeReg(4, sa, (sp &+ release) & sizeMask(sa))
            nullifyInaccessibleSegments()
        } else {
            adjustSP(2 * UInt64(size) &+ release)
            try enterCodeSegment(d, selector: csSel, cpl: cpl, rip: target)
        }
    }
}
