// SYSCALL, SYSRET, SYSENTER and SYSEXIT (SDM Vol. 2B instruction pages; Vol. 3A §5.8.7, §5.8.8).

extension CPU {
    /// SYSCALL (SDM Vol. 2B; AMD APM Vol. 3). Intel processors execute it in 64-bit mode only (#UD elsewhere);
    /// with the AMD vendor (`cpuModel.vendor`) it also runs in compatibility mode (target CSTAR, a 64-bit
    /// kernel) and in legacy protected mode (target STAR[31:0], a 32-bit kernel), as AMD's APM describes.
    func execSyscall() throws(Abort) {
        if eferValue & EFER.sce.rawValue == 0 { throw Abort.ud }
        let amd = cpuModel.vendor == .amd
        if !amd && !(longModeActive && codeSize == 8) { throw Abort.ud }
        let star = msrs.star
        let csSel = UInt16((star >> 32) & 0xFFFC)
        let f = materializedFlags()
        if longModeActive {
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
        singleStepAfterFastSystemCall(trapFlagAtStart: f & RFLAGS.tf.rawValue != 0)
        lazyEventCheck = true
    }

    /// SYSRET (SDM Vol. 2B; AMD APM Vol. 3). Intel processors execute it in 64-bit mode only (#UD elsewhere);
    /// with the AMD vendor it also runs in compatibility mode and in legacy protected mode, where it returns to
    /// 32-bit code at ECX with RFLAGS.IF set (RFLAGS is not loaded from R11 outside long mode).
    func execSysret(_ i: borrowing Instruction) throws(Abort) {
        if eferValue & EFER.sce.rawValue == 0 { throw Abort.ud }
        let amd = cpuModel.vendor == .amd
        if !amd && !(longModeActive && codeSize == 8) { throw Abort.ud }
        if !protectedMode || cpl != 0 { throw Abort.gp(0) }
        let tfAtStart = flagsBase & RFLAGS.tf.rawValue != 0
        let base = UInt16((msrs.star >> 48) & 0xFFFF)
        let rexW = i.flags & InstructionFlags.rexW != 0
        let to64 = longModeActive && rexW
        if to64 && !isCanonical(gpr[Reg.rcx]) { throw Abort.gp(0) }
        let target = to64 ? gpr[Reg.rcx] : gpr[Reg.rcx] & 0xFFFF_FFFF
        if longModeActive {
            flagsBase = (gpr[Reg.r11] & 0x3C_7FD7) | 2
        } else {
            flagsBase = (materializedFlags() & ~RFLAGS.rf.rawValue) | RFLAGS.if.rawValue | 2
        }
        lazy.op = .none
        seg[Seg.ss] = SegmentRegister(selector: (base &+ 8) | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0F3)
        let cs = to64 ? SegmentRegister(selector: (base &+ 16) | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA0FB)
            : SegmentRegister(selector: base | 3, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC0FB)
        setCS(cs, rip: target)
        singleStepAfterFastSystemCall(trapFlagAtStart: tfAtStart)
        lazyEventCheck = true
    }

    /// The single-step trap of SYSCALL and SYSRET follows RFLAGS.TF at the end of the instruction, not at its
    /// start: SYSCALL that masks TF off is not followed by a #DB, SYSRET that loads TF = 1 is (kvm-unit-tests'
    /// x86/syscall.c checks both). Begun with TF set, the instruction runs single-stepped and `runSingleStep`
    /// decides from TF now (`trapFlagAtEnd`); begun with TF clear, the trap is delivered here, after the
    /// instruction's effects, with DR6.BS, as `runSingleStep` would.
    private func singleStepAfterFastSystemCall(trapFlagAtStart: Bool) {
        if trapFlagAtStart {
            trapFlagAtEnd = true
        } else if flagsBase & RFLAGS.tf.rawValue != 0 {
            dr[6] = (dr[6] & ~0xF) | CPU.dr6SingleStep
            routeException(ExceptionVector.db.rawValue, nil)
        }
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
}
