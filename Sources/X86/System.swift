// System instructions: their dispatch (`executeSystem`), PUSHF/POPF, LDTR and TR, LAR/LSL/VERR/VERW
// (SDM Vol. 2 instruction pages, Vol. 3A chapters 2–7). Far transfers are in FarTransfers.swift, port I/O in
// PortIO.swift, SYSCALL/SYSENTER in FastSystemCalls.swift, the time-stamp counter in TimeStampCounter.swift.

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
        case .invpcid:
            try invpcid(i)
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
        case .clac, .stac: try execSetClearAC(set: i.op == .stac)
        case .rdpkru: try execRDPKRU()
        case .wrpkru: try execWRPKRU()
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
        // TF set: the run loop leaves the batch and single-steps from the next instruction on.
        if flagsBase & RFLAGS.tf.rawValue != 0 { lazyEventCheck = true }
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
        // IA-32e mode: the 16-byte descriptor's base must be canonical (SDM Vol. 2A "LLDT").
        if longModeActive && !isCanonical(d.base) { throw Abort.gp(code) }
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
        // IA-32e mode: the 16-byte descriptor's base must be canonical (SDM Vol. 2A "LTR").
        if longModeActive && !isCanonical(d.base) { throw Abort.gp(code) }
        let la = maskLinear(gdtr.base &+ UInt64(sel & 0xFFF8) &+ 5)
        let b = try readLinear(la, 1, user: false)
        try writeLinear(la, 1, b | 2, user: false)
        var r = d.segment(selector: sel)
        r.accessRights |= 2
        if longModeActive { r.base = d.base }
        seg[Seg.tr] = r
    }

    // MARK: LAR, LSL, VERR, VERW

    /// The descriptor `selector` names for LAR, LSL, VERR and VERW, or nil when the selector is null or
    /// lies outside its table (the LDT unusable or the index beyond the limit): then the instruction clears
    /// ZF. A fault while reading the descriptor (a #PF, an EPT violation) is raised, not turned into ZF=0
    /// (SDM Vol. 2A "LAR", "LSL", "VERR/VERW": Protected Mode Exceptions, #PF(fault-code)).
    func descriptorForCheck(_ selector: UInt16) throws(Abort) -> Descriptor? {
        guard selector & 0xFFFC != 0 else { return nil }
        let limit: UInt64
        if selector & 4 != 0 {
            let ldtr = seg[Seg.ldtr]
            if ldtr.unusable || ldtr.selector & 0xFFFC == 0 { return nil }
            limit = UInt64(ldtr.limit)
        } else {
            limit = UInt64(gdtr.limit)
        }
        if UInt64(selector & 0xFFF8) &+ 7 > limit { return nil }
        return try readDescriptor(selector)
    }

    func execLarLsl(_ i: borrowing Instruction) throws(Abort) {
        if !protectedMode || mode == .virtual8086 { throw Abort.ud }
        let sel = UInt16(try readRM(i, size: 2))
        let f = materializedFlags()
        var ok = false
        var value: UInt64 = 0
        if let d = try descriptorForCheck(sel) {
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
        if let d = try descriptorForCheck(sel), d.s {
            let privOK = d.isConforming || (d.dpl >= cpl && d.dpl >= Int(sel & 3))
            if i.op == .verr { ok = privOK && (!d.isCode || d.type & 2 != 0) }
            else { ok = privOK && !d.isCode && d.type & 2 != 0 }
        }
        flagsBase = ok ? f | CPU.zfBit : f & ~CPU.zfBit
        lazy.op = .none
    }
}
