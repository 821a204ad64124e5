// System instructions: segment loads, far transfers, control registers, MSRs, CPUID, I/O,
// fast system calls, descriptor tables (SDM Vol. 2 instruction pages, Vol. 3A chapters 2–7).

extension CPU {
    /// Instructions outside the hot path.
    func executeSystem(_ i: Instruction) throws(Abort) {
        currentInstruction = i
        switch i.op {
        case .movRMSreg:
            if i.reg & 7 > 5 { throw Abort.ud }
            let v = UInt64(seg[Int(i.reg & 7)].selector)
            if i.isMem { try writeMem(i.seg, effectiveAddress(i), 2, v) } else { writeReg(i.rm, i.opSize, v) }
        case .movSregRM:
            let s = i.reg & 7
            if s == 1 || s > 5 { throw Abort.ud }
            let v = try readRM(i, size: 2)
            try loadSegment(s, UInt16(truncatingIfNeeded: v))
            if s == 2 { newShadow = 2 }
        case .pushSreg:
            let v = UInt64(seg[Int(i.sub)].selector)
            if i.opSize == 2 {
                try push(v, 2)
            } else {
                // A 16-bit write into a full-size stack slot (recent Intel processors).
                let sa = stackAddrSize
                let newSP = (readReg(4, sa) &- UInt64(i.opSize)) & sizeMask(sa)
                try probeWrite(2, newSP, Int(i.opSize))
                try writeMem(2, newSP, 2, v)
                writeReg(4, sa, newSP)
            }
        case .popSreg:
            let v = try peekStack(0, i.opSize)
            try loadSegment(i.sub, UInt16(truncatingIfNeeded: v))
            adjustSP(UInt64(i.opSize))
            if i.sub == 2 { newShadow = 2 }
        case .lxs:
            guard i.isMem else { throw Abort.ud }
            let ea = effectiveAddress(i)
            let off = try readMem(i.seg, ea, i.opSize)
            let sel = try readMem(i.seg, (ea &+ UInt64(i.opSize)) & sizeMask(i.addrSize), 2)
            try loadSegment(i.sub, UInt16(sel))
            writeReg(i.reg, i.opSize, off)
            if i.sub == 2 { newShadow = 2 }
        case .jmpFarImm: try farJump(selector: i.imm2, offset: i.imm, size: i.opSize)
        case .callFarImm: try farCall(selector: i.imm2, offset: i.imm, size: i.opSize)
        case .jmpFarM, .callFarM:
            guard i.isMem else { throw Abort.ud }
            let ea = effectiveAddress(i)
            let off = try readMem(i.seg, ea, i.opSize)
            let sel = UInt16(try readMem(i.seg, (ea &+ UInt64(i.opSize)) & sizeMask(i.addrSize), 2))
            if i.op == .jmpFarM { try farJump(selector: sel, offset: off, size: i.opSize) }
            else { try farCall(selector: sel, offset: off, size: i.opSize) }
        case .retFar: try farReturn(size: i.opSize, release: i.sub != 0 ? i.imm : 0)
        case .iret: try execIret(i)
        case .intN: try softwareInterrupt(UInt8(i.imm & 0xFF), kind: .softwareInterrupt)
        case .int3: try softwareInterrupt(3, kind: .softwareException)
        case .into: if overflowFlag { try softwareInterrupt(4, kind: .softwareException) }
        case .int1: try softwareInterrupt(1, kind: .privilegedSoftwareException)
        case .pushf: try execPushf(i)
        case .popf: try execPopf(i)
        case .cli:
            if protectedMode && cpl > iopl {
                if mode == .virtual8086 && cr4Value & CR4.vme.rawValue != 0 { flagsBase &= ~RFLAGS.vif.rawValue; return }
                if mode != .virtual8086 && cpl == 3 && cr4Value & CR4.pvi.rawValue != 0 { flagsBase &= ~RFLAGS.vif.rawValue; return }
                throw Abort.gp(0)
            }
            flagsBase &= ~RFLAGS.if.rawValue
        case .sti:
            if protectedMode && cpl > iopl {
                if (mode == .virtual8086 && cr4Value & CR4.vme.rawValue != 0) || (mode != .virtual8086 && cpl == 3 && cr4Value & CR4.pvi.rawValue != 0) {
                    if flagsBase & RFLAGS.vip.rawValue != 0 { throw Abort.gp(0) }
                    flagsBase |= RFLAGS.vif.rawValue
                    return
                }
                throw Abort.gp(0)
            }
            if flagsBase & RFLAGS.if.rawValue == 0 {
                flagsBase |= RFLAGS.if.rawValue
                newShadow = 1
                lazyEventCheck = true
            }
        case .hlt:
            if cpl != 0 { throw Abort.gp(0) }
            try hookHLT()
            halted = true
        case .inImm: writeReg(0, i.opSize, UInt64(try portIn(UInt16(i.imm & 0xFF), Int(i.opSize))))
        case .inDX: writeReg(0, i.opSize, UInt64(try portIn(UInt16(truncatingIfNeeded: gpr[Reg.rdx]), Int(i.opSize))))
        case .outImm: try portOut(UInt16(i.imm & 0xFF), Int(i.opSize), UInt32(truncatingIfNeeded: gpr[Reg.rax]))
        case .outDX: try portOut(UInt16(truncatingIfNeeded: gpr[Reg.rdx]), Int(i.opSize), UInt32(truncatingIfNeeded: gpr[Reg.rax]))
        case .cpuid: try execCPUID()
        case .rdtsc:
            if cr4Value & CR4.tsd.rawValue != 0 && cpl != 0 && protectedMode { throw Abort.gp(0) }
            let t = try readTSC()
            writeReg(0, 4, t & 0xFFFF_FFFF); writeReg(2, 4, t >> 32)
        case .rdtscp:
            if cr4Value & CR4.tsd.rawValue != 0 && cpl != 0 && protectedMode { throw Abort.gp(0) }
            let t = try readTSC()
            writeReg(0, 4, t & 0xFFFF_FFFF); writeReg(2, 4, t >> 32)
            writeReg(1, 4, msrs.tscAux & 0xFFFF_FFFF)
        case .rdmsr:
            if cpl != 0 || mode == .virtual8086 { throw Abort.gp(0) }
            let v = try readMSR(UInt32(truncatingIfNeeded: gpr[Reg.rcx]))
            writeReg(0, 4, v & 0xFFFF_FFFF); writeReg(2, 4, v >> 32)
        case .wrmsr:
            if cpl != 0 || mode == .virtual8086 { throw Abort.gp(0) }
            try writeMSR(UInt32(truncatingIfNeeded: gpr[Reg.rcx]), (gpr[Reg.rdx] & 0xFFFF_FFFF) << 32 | (gpr[Reg.rax] & 0xFFFF_FFFF))
        case .rdpmc:
            if vmxNonRoot && vmx.primary.contains(.rdpmcExiting) { throw instructionExit(.rdpmc) }
            // No performance-monitoring counters are reported (CPUID leaf 0AH is zero).
            throw Abort.gp(0)
        case .syscall: try execSyscall()
        case .sysret: try execSysret(i)
        case .sysenter: try execSysenter()
        case .sysexit: try execSysexit(i)
        case .swapgs:
            if cpl != 0 { throw Abort.gp(0) }
            let t = seg[Seg.gs].base
            seg[Seg.gs].base = msrs.kernelGSBase
            msrs.kernelGSBase = t
        case .movFromCR: try movFromCR(i)
        case .movToCR: try movToCR(i)
        case .movFromDR: try movFromDR(i)
        case .movToDR: try movToDR(i)
        case .clts:
            if cpl != 0 { throw Abort.gp(0) }
            cr0Value &= ~CR0.ts.rawValue
        case .invd, .wbinvd:
            if cpl != 0 { throw Abort.gp(0) }
            try hookCacheControl(i)
        case .invlpg:
            guard i.isMem else { throw Abort.ud }
            if cpl != 0 { throw Abort.gp(0) }
            let ea = effectiveAddress(i)
            let la = codeSize == 8 ? (i.seg >= 4 ? seg[Int(i.seg)].base &+ ea : ea) : (seg[Int(i.seg)].base &+ ea) & 0xFFFF_FFFF
            try hookINVLPG(la)
            tlb.flush(page: la)
        case .sgdt, .sidt:
            guard i.isMem else { throw Abort.ud }
            if cr4Value & CR4.umip.rawValue != 0 && cpl > 0 { throw Abort.gp(0) }
            try hookDescriptorTable(i)
            let r = i.op == .sgdt ? gdtr : idtr
            let ea = effectiveAddress(i)
            try probeWrite(i.seg, ea, codeSize == 8 ? 10 : 6)
            try writeMem(i.seg, ea, 2, UInt64(r.limit))
            let baseSize: UInt8 = codeSize == 8 ? 8 : 4
            let base = codeSize == 8 ? r.base : (i.opSize == 2 ? r.base & 0xFFFFFF : r.base & 0xFFFF_FFFF)
            try writeMem(i.seg, (ea &+ 2) & sizeMask(i.addrSize), baseSize, base)
        case .lgdt, .lidt:
            guard i.isMem else { throw Abort.ud }
            if cpl != 0 { throw Abort.gp(0) }
            try hookDescriptorTable(i)
            let ea = effectiveAddress(i)
            let limit = UInt16(try readMem(i.seg, ea, 2))
            var base = try readMem(i.seg, (ea &+ 2) & sizeMask(i.addrSize), codeSize == 8 ? 8 : 4)
            if codeSize != 8 && i.opSize == 2 { base &= 0xFF_FFFF }
            if codeSize == 8 && !isCanonical(base) { throw Abort.gp(0) }
            if i.op == .lgdt { gdtr = DescriptorTableRegister(base: base, limit: limit) }
            else { idtr = DescriptorTableRegister(base: base, limit: limit) }
        case .sldt, .str:
            if !protectedMode || mode == .virtual8086 { throw Abort.ud }
            if cr4Value & CR4.umip.rawValue != 0 && cpl > 0 { throw Abort.gp(0) }
            try hookDescriptorTable(i)
            let v = UInt64(seg[i.op == .sldt ? 6 : 7].selector)
            if i.isMem { try writeMem(i.seg, effectiveAddress(i), 2, v) } else { writeReg(i.rm, i.opSize, v) }
        case .lldt, .ltr:
            if !protectedMode || mode == .virtual8086 { throw Abort.ud }
            if cpl != 0 { throw Abort.gp(0) }
            try hookDescriptorTable(i)
            let sel = UInt16(try readRM(i, size: 2))
            if i.op == .lldt { try loadLDTR(sel) } else { try loadTR(sel) }
        case .smsw:
            if cr4Value & CR4.umip.rawValue != 0 && cpl > 0 { throw Abort.gp(0) }
            let v = try hookReadCR0Shadowed()
            if i.isMem { try writeMem(i.seg, effectiveAddress(i), 2, v & 0xFFFF) } else { writeReg(i.rm, i.opSize, v & sizeMask(i.opSize)) }
        case .lmsw:
            if cpl != 0 { throw Abort.gp(0) }
            let v = try readRM(i, size: 2)
            try hookLMSW(v, i)
            // LMSW can set but not clear PE, and changes MP, EM, TS.
            let newCR0 = (cr0Value & ~0xE) | (v & 0xF) | (cr0Value & 1)
            try writeCR0(newCR0)
        case .lar, .lsl: try execLarLsl(i)
        case .verr, .verw: try execVerify(i)
        case .arpl:
            if !protectedMode || mode == .virtual8086 { throw Abort.ud }
            let dst = try readRM(i, size: 2)
            let src = readReg(i.reg, 2)
            let f = materializedFlags()
            if dst & 3 < src & 3 {
                try writeRM(i, size: 2, (dst & ~3) | (src & 3))
                flagsBase = f | CPU.zfBit
            } else {
                flagsBase = f & ~CPU.zfBit
            }
            lazy.op = .none
        case .xgetbv, .xsetbv: try execXCRAccess(i)     // Sources/X86/FPU/XSave.swift (XSETBV's VM exit too)
        case .monitor, .mwait:
            // The VM exits take priority over the #UD of an instruction CPUID does not report (§25.1.3).
            if vmxNonRoot {
                if i.op == .monitor && vmx.primary.contains(.monitorExiting) { throw instructionExit(.monitor) }
                if i.op == .mwait && vmx.primary.contains(.mwaitExiting) { throw instructionExit(.mwait) }
            }
            // Not reported in CPUID: MONITOR/MWAIT are absent.
            throw Abort.ud
        case .vmx: try executeVMXInstruction(i)
        default:
            throw Abort.ud
        }
    }

    // MARK: PUSHF / POPF

    func execPushf(_ i: Instruction) throws(Abort) {
        var f = materializedFlags()
        if mode == .virtual8086 && iopl < 3 {
            if cr4Value & CR4.vme.rawValue == 0 || i.opSize != 2 { throw Abort.gp(0) }
            f = (f & ~RFLAGS.if.rawValue) | ((f & RFLAGS.vif.rawValue) >> 10) | RFLAGS.iopl.rawValue
        }
        try push(f & ~(RFLAGS.vm.rawValue | RFLAGS.rf.rawValue) & sizeMask(i.opSize), i.opSize)
    }

    func execPopf(_ i: borrowing Instruction) throws(Abort) {
        let size = i.opSize
        let old = materializedFlags()
        if mode == .virtual8086 && iopl < 3 {
            if cr4Value & CR4.vme.rawValue == 0 || size != 2 { throw Abort.gp(0) }
            let v = try peekStack(0, 2)
            if (v & RFLAGS.tf.rawValue != 0) || (v & RFLAGS.if.rawValue != 0 && old & RFLAGS.vip.rawValue != 0) {
                throw Abort.gp(0)
            }
            adjustSP(2)
            let keep = ~UInt64(0xFFFF) | RFLAGS.if.rawValue | RFLAGS.iopl.rawValue
            var nf = (old & keep) | (v & ~keep & RFLAGS.defined.rawValue)   // reserved bits 3, 5, 15 stay 0
            nf = (nf & ~RFLAGS.vif.rawValue) | ((v & RFLAGS.if.rawValue) << 10)
            flagsBase = nf | 2
            lazy.op = .none
            return
        }
        let v = try pop(size)
        var changeable = RFLAGS.cf.rawValue | RFLAGS.pf.rawValue | RFLAGS.af.rawValue | RFLAGS.zf.rawValue |
            RFLAGS.sf.rawValue | RFLAGS.tf.rawValue | RFLAGS.df.rawValue | RFLAGS.of.rawValue | RFLAGS.nt.rawValue
        if size >= 4 { changeable |= RFLAGS.ac.rawValue | RFLAGS.id.rawValue }
        if mode == .real || mode == .virtual8086 || cpl == 0 {
            changeable |= RFLAGS.if.rawValue
            if mode != .virtual8086 { changeable |= RFLAGS.iopl.rawValue }
        } else if cpl <= iopl {
            changeable |= RFLAGS.if.rawValue
        }
        flagsBase = ((old & ~changeable) | (v & changeable)) & ~RFLAGS.rf.rawValue | 2
        lazy.op = .none
        if flagsBase & RFLAGS.if.rawValue != 0 && old & RFLAGS.if.rawValue == 0 { lazyEventCheck = true }
    }

    // MARK: Far transfers

    /// JMP ptr16:16/32 and JMP m16:16/32/64 (SDM Vol. 2A "JMP").
    func farJump(selector: UInt16, offset: UInt64, size: UInt8) throws(Abort) {
        if mode == .real || mode == .virtual8086 {
            let target = offset & sizeMask(size)
            var r = seg[Seg.cs]
            r.selector = selector
            r.base = UInt64(selector) << 4
            if mode == .virtual8086 { r = SegmentRegister(selector: selector, base: UInt64(selector) << 4, limit: 0xFFFF, accessRights: 0xFB) }
            if target > UInt64(r.limit) { throw Abort.gp(0) }
            setCS(r, rip: target)
            return
        }
        if selector & 0xFFFC == 0 { throw Abort.gp(0) }
        let code = UInt32(selector & 0xFFFC)
        let d = try readDescriptor(selector)
        if d.s {
            guard d.isCode else { throw Abort.gp(code) }
            try checkDirectCodeTarget(d, selector: selector)
            let target = try checkedTarget(offset & (size == 8 ? ~0 : sizeMask(size)), d)
            try markAccessed(selector, d)
            setCS(codeSegment(from: d, selector: selector, cpl: cpl), rip: target)
            return
        }
        switch d.type {
        case SystemType.callGate16, SystemType.callGate32:
            let (g, tsel, t) = try callGateTarget(selector, d, forCall: false)
            let off = longModeActive ? g.gateOffset : (d.type == SystemType.callGate32 ? g.gateOffset & 0xFFFF_FFFF : g.gateOffset & 0xFFFF)
            let target = try checkedTarget(off, t)
            try markAccessed(tsel, t)
            setCS(codeSegment(from: t, selector: tsel, cpl: cpl), rip: target)
        case SystemType.taskGate, SystemType.tss16Available, SystemType.tss32Available:
            if longModeActive { throw Abort.gp(code) }
            if d.dpl < cpl || d.dpl < Int(selector & 3) { throw Abort.gp(code) }
            if !d.present { throw Abort.np(code) }
            let tss = d.type == SystemType.taskGate ? d.gateSelector : selector
            try taskSwitch(to: tss, reason: .jump, errorCode: nil)
        default:
            throw Abort.gp(code)
        }
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

    /// Checks a direct far transfer to a code segment (no gate).
    private func checkDirectCodeTarget(_ d: Descriptor, selector: UInt16) throws(Abort) {
        let code = UInt32(selector & 0xFFFC)
        if d.isConforming {
            if d.dpl > cpl { throw Abort.gp(code) }
        } else if Int(selector & 3) > cpl || d.dpl != cpl {
            throw Abort.gp(code)
        }
        if !d.present { throw Abort.np(code) }
        if longModeActive && d.l && d.db { throw Abort.gp(code) }
    }

    /// Checks a far-transfer target offset against the new code segment.
    private func checkedTarget(_ offset: UInt64, _ d: Descriptor) throws(Abort) -> UInt64 {
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
            var r = seg[Seg.cs]
            r.selector = selector
            r.base = UInt64(selector) << 4
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
            guard d.isCode else { throw Abort.gp(code) }
            try checkDirectCodeTarget(d, selector: selector)
            let target = try checkedTarget(offset & (size == 8 ? ~0 : sizeMask(size)), d)
            try push(retCS, size)
            try push(retIP, size)
            try markAccessed(selector, d)
            setCS(codeSegment(from: d, selector: selector, cpl: cpl), rip: target)
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
                try markAccessed(tsel, t)
                setCS(codeSegment(from: t, selector: tsel, cpl: newCPL), rip: target)
            } else {
                try push(retCS, gateSize)
                try push(retIP, gateSize)
                try markAccessed(tsel, t)
                setCS(codeSegment(from: t, selector: tsel, cpl: cpl), rip: target)
            }
        case SystemType.taskGate, SystemType.tss16Available, SystemType.tss32Available:
            if longModeActive { throw Abort.gp(code) }
            if d.dpl < cpl || d.dpl < Int(selector & 3) { throw Abort.gp(code) }
            if !d.present { throw Abort.np(code) }
            let tss = d.type == SystemType.taskGate ? d.gateSelector : selector
            try taskSwitch(to: tss, reason: .call, errorCode: nil)
        default:
            throw Abort.gp(code)
        }
    }

    /// RETF, RETF imm16 (SDM Vol. 2B "RET").
    func farReturn(size: UInt8, release: UInt64) throws(Abort) {
        let ip = try peekStack(0, size)
        let csSel = UInt16(truncatingIfNeeded: try peekStack(UInt64(size), size))
        if mode == .real || mode == .virtual8086 {
            var r = seg[Seg.cs]
            r.selector = csSel
            r.base = UInt64(csSel) << 4
            let target = ip & sizeMask(size)
            if target > UInt64(r.limit) { throw Abort.gp(0) }
            adjustSP(2 * UInt64(size) &+ release)
            setCS(r, rip: target)
            return
        }
        if csSel & 0xFFFC == 0 { throw Abort.gp(0) }
        let d = try readDescriptor(csSel)
        let code = UInt32(csSel & 0xFFFC)
        let rpl = Int(csSel & 3)
        if !d.isCode || rpl < cpl { throw Abort.gp(code) }
        if d.isConforming ? d.dpl > rpl : d.dpl != rpl { throw Abort.gp(code) }
        if !d.present { throw Abort.np(code) }
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
            try markAccessed(csSel, d)
            setCS(codeSegment(from: d, selector: csSel, cpl: rpl), rip: target)
            seg[Seg.ss] = newSS
            let sa = stackAddrSize
            writeReg(4, sa, (sp &+ release) & sizeMask(sa))
            nullifyInaccessibleSegments()
        } else {
            adjustSP(2 * UInt64(size) &+ release)
            try markAccessed(csSel, d)
            setCS(codeSegment(from: d, selector: csSel, cpl: cpl), rip: target)
        }
    }

    // MARK: LDTR, TR

    /// LLDT: loads LDTR from a GDT descriptor of type LDT.
    func loadLDTR(_ sel: UInt16) throws(Abort) {
        if sel & 0xFFFC == 0 {
            seg[Seg.ldtr] = SegmentRegister(selector: sel, base: 0, limit: 0, accessRights: 0x10000)
            return
        }
        let code = UInt32(sel & 0xFFFC)
        if sel & 4 != 0 { throw Abort.gp(code) }
        let d = try readDescriptor(sel, wide: longModeActive)
        if d.s || d.type != SystemType.ldt { throw Abort.gp(code) }
        if !d.present { throw Abort.np(code) }
        var r = d.segment(selector: sel)
        if longModeActive { r.base = d.base }
        seg[Seg.ldtr] = r
    }

    /// LTR: loads TR from an available TSS descriptor and marks it busy.
    func loadTR(_ sel: UInt16) throws(Abort) {
        let code = UInt32(sel & 0xFFFC)
        if sel & 0xFFFC == 0 || sel & 4 != 0 { throw Abort.gp(code) }
        let d = try readDescriptor(sel, wide: longModeActive)
        let okType = longModeActive ? d.type == SystemType.tss32Available
            : (d.type == SystemType.tss32Available || d.type == SystemType.tss16Available)
        if d.s || !okType { throw Abort.gp(code) }
        if !d.present { throw Abort.np(code) }
        let la = maskLinear(gdtr.base &+ UInt64(sel & 0xFFF8) &+ 5)
        let b = try readLinear(la, 1, user: false)
        try writeLinear(la, 1, b | 2, user: false)
        var r = d.segment(selector: sel)
        r.accessRights |= 2
        if longModeActive { r.base = d.base }
        seg[Seg.tr] = r
    }

    // MARK: LAR, LSL, VERR, VERW

    func execLarLsl(_ i: borrowing Instruction) throws(Abort) {
        if !protectedMode || mode == .virtual8086 { throw Abort.ud }
        let sel = UInt16(try readRM(i, size: 2))
        let f = materializedFlags()
        var ok = false
        var value: UInt64 = 0
        if sel & 0xFFFC != 0, let d = try? readDescriptor(sel) {
            var typeOK: Bool
            if d.s {
                typeOK = true
            } else if longModeActive {
                typeOK = i.op == .lar ? [2, 9, 11, 12].contains(d.type) : [2, 9, 11].contains(d.type)
            } else {
                typeOK = i.op == .lar ? [1, 2, 3, 4, 5, 9, 11, 12].contains(d.type) : [1, 2, 3, 9, 11].contains(d.type)
            }
            if typeOK && !d.isConforming && (d.dpl < cpl || d.dpl < Int(sel & 3)) { typeOK = false }
            if typeOK {
                ok = true
                value = i.op == .lar ? UInt64(d.high & 0x00F0_FF00) : UInt64(d.limit)
            }
        }
        if ok {
            writeReg(i.reg, i.opSize, value & sizeMask(i.opSize))
            flagsBase = f | CPU.zfBit
        } else {
            flagsBase = f & ~CPU.zfBit
        }
        lazy.op = .none
    }

    func execVerify(_ i: borrowing Instruction) throws(Abort) {
        if !protectedMode || mode == .virtual8086 { throw Abort.ud }
        let sel = UInt16(try readRM(i, size: 2))
        let f = materializedFlags()
        var ok = false
        if sel & 0xFFFC != 0, let d = try? readDescriptor(sel), d.s {
            let privOK = d.isConforming || (d.dpl >= cpl && d.dpl >= Int(sel & 3))
            if i.op == .verr { ok = privOK && (!d.isCode || d.type & 2 != 0) }
            else { ok = privOK && !d.isCode && d.type & 2 != 0 }
        }
        flagsBase = ok ? f | CPU.zfBit : f & ~CPU.zfBit
        lazy.op = .none
    }

    // MARK: I/O

    /// Checks IOPL and the TSS I/O permission bitmap (SDM Vol. 1 §19.5).
    func checkIOPermission(port: UInt16, size: Int) throws(Abort) {
        guard protectedMode && (cpl > iopl || mode == .virtual8086) else { return }
        let tr = seg[Seg.tr]
        guard !tr.unusable, tr.type & 8 != 0, tr.limit >= 0x67 else { throw Abort.gp(0) }
        let mapBase = try readLinear(maskLinear(tr.base &+ 0x66), 2, user: false)
        let byteOff = mapBase &+ UInt64(port >> 3)
        if byteOff &+ 1 > UInt64(tr.limit) { throw Abort.gp(0) }
        let bits = try readLinear(maskLinear(tr.base &+ byteOff), 2, user: false)
        let mask = UInt64((1 << size) - 1) << UInt64(port & 7)
        if bits & mask != 0 { throw Abort.gp(0) }
    }

    /// IN with the permission check.
    func portIn(_ port: UInt16, _ size: Int) throws(Abort) -> UInt32 {
        try checkIOPermission(port: port, size: size)
        return try portRead(port, size)
    }

    /// OUT with the permission check.
    func portOut(_ port: UInt16, _ size: Int, _ value: UInt32) throws(Abort) {
        try checkIOPermission(port: port, size: size)
        try portWrite(port, size, value)
    }

    /// Reads a port through the bus (or causes a VM exit).
    func portRead(_ port: UInt16, _ size: Int) throws(Abort) -> UInt32 {
        let size = min(size, 4)   // REX.W does not widen I/O: 64-bit operand size means 32 bits.
        try hookIO(port: port, size: size, input: true)
        let v = bus.ioRead(port: port, size: size)
        return size == 4 ? v : v & ((1 << UInt32(size * 8)) - 1)
    }

    /// Writes a port through the bus (or causes a VM exit).
    func portWrite(_ port: UInt16, _ size: Int, _ value: UInt32) throws(Abort) {
        let size = min(size, 4)   // REX.W does not widen I/O: 64-bit operand size means 32 bits.
        try hookIO(port: port, size: size, input: false)
        bus.ioWrite(port: port, size: size, value: size == 4 ? value : value & ((1 << UInt32(size * 8)) - 1))
    }

    // MARK: Fast system calls

    /// SYSCALL (SDM Vol. 2B).
    func execSyscall() throws(Abort) {
        if eferValue & EFER.sce.rawValue == 0 { throw Abort.ud }
        let star = msrs.star
        let csSel = UInt16((star >> 32) & 0xFFFC)
        let f = materializedFlags()
        if longModeActive {
            if codeSize != 8 && mode != .compatibility { throw Abort.ud }
            gpr[Reg.rcx] = ripValue
            gpr[Reg.r11] = f & ~RFLAGS.rf.rawValue
            let target = codeSize == 8 ? msrs.lstar : msrs.cstar
            flagsBase = (f & ~msrs.fmask & ~RFLAGS.rf.rawValue) | 2
            lazy.op = .none
            seg[Seg.ss] = SegmentRegister(selector: csSel &+ 8, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093)
            setCS(SegmentRegister(selector: csSel, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B), rip: target)
        } else {
            if !protectedMode { throw Abort.ud }
            gpr[Reg.rcx] = ripValue & 0xFFFF_FFFF
            flagsBase = (f & ~(RFLAGS.vm.rawValue | RFLAGS.if.rawValue | RFLAGS.rf.rawValue)) | 2
            lazy.op = .none
            seg[Seg.ss] = SegmentRegister(selector: csSel &+ 8, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093)
            setCS(SegmentRegister(selector: csSel, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC09B), rip: star & 0xFFFF_FFFF)
        }
        lazyEventCheck = true
    }

    /// SYSRET (SDM Vol. 2B).
    func execSysret(_ i: borrowing Instruction) throws(Abort) {
        if eferValue & EFER.sce.rawValue == 0 { throw Abort.ud }
        if !protectedMode || cpl != 0 { throw Abort.gp(0) }
        guard longModeActive else { throw Abort.ud }
        let base = UInt16((msrs.star >> 48) & 0xFFFF)
        let to64 = i.flags & InstructionFlags.rexW != 0
        if to64 && !isCanonical(gpr[Reg.rcx]) { throw Abort.gp(0) }
        let target = to64 ? gpr[Reg.rcx] : gpr[Reg.rcx] & 0xFFFF_FFFF
        flagsBase = (gpr[Reg.r11] & 0x3C_7FD7) | 2
        lazy.op = .none
        seg[Seg.ss] = SegmentRegister(selector: (base &+ 8) | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0F3)
        let cs = to64 ? SegmentRegister(selector: (base &+ 16) | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA0FB)
            : SegmentRegister(selector: base | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0FB)
        setCS(cs, rip: target)
        lazyEventCheck = true
    }

    /// SYSENTER (SDM Vol. 2B).
    func execSysenter() throws(Abort) {
        if !protectedMode { throw Abort.gp(0) }
        let csSel = UInt16(msrs.sysenterCS & 0xFFFC)
        if csSel == 0 { throw Abort.gp(0) }
        let f = materializedFlags()
        flagsBase = (f & ~(RFLAGS.vm.rawValue | RFLAGS.if.rawValue | RFLAGS.rf.rawValue)) | 2
        lazy.op = .none
        seg[Seg.ss] = SegmentRegister(selector: csSel &+ 8, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093)
        if longModeActive {
            gpr[Reg.rsp] = msrs.sysenterESP
            setCS(SegmentRegister(selector: csSel, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B), rip: msrs.sysenterEIP)
        } else {
            gpr[Reg.rsp] = msrs.sysenterESP & 0xFFFF_FFFF
            setCS(SegmentRegister(selector: csSel, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC09B), rip: msrs.sysenterEIP & 0xFFFF_FFFF)
        }
        lazyEventCheck = true
    }

    /// SYSEXIT (SDM Vol. 2B).
    func execSysexit(_ i: borrowing Instruction) throws(Abort) {
        let csBase = UInt16(msrs.sysenterCS & 0xFFFC)
        if !protectedMode || mode == .virtual8086 || cpl != 0 || csBase == 0 { throw Abort.gp(0) }
        let to64 = i.flags & InstructionFlags.rexW != 0
        if to64 {
            if !isCanonical(gpr[Reg.rdx]) || !isCanonical(gpr[Reg.rcx]) { throw Abort.gp(0) }
            seg[Seg.ss] = SegmentRegister(selector: (csBase &+ 40) | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0F3)
            gpr[Reg.rsp] = gpr[Reg.rcx]
            setCS(SegmentRegister(selector: (csBase &+ 32) | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA0FB), rip: gpr[Reg.rdx])
        } else {
            seg[Seg.ss] = SegmentRegister(selector: (csBase &+ 24) | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0F3)
            gpr[Reg.rsp] = gpr[Reg.rcx] & 0xFFFF_FFFF
            setCS(SegmentRegister(selector: (csBase &+ 16) | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0FB), rip: gpr[Reg.rdx] & 0xFFFF_FFFF)
        }
        lazyEventCheck = true
    }

    // MARK: Time-stamp counter

    /// The TSC: instructions retired plus the offset (deterministic guest time).
    func readTSC() throws(Abort) -> UInt64 {
        try hookRDTSC()
        return instructionCount &+ tscOffset &+ msrs.tscAdjust &+ (vmxNonRoot ? vmxTSCOffset : 0)
    }
}
