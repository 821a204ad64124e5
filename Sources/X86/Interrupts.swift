// Interrupt and exception delivery, IRET (SDM Vol. 3A chapter 6; Vol. 2A "INT n", "IRET").

/// How an event arose; decides privilege checks, the EXT bit and which RIP is saved.
public enum EventKind: UInt8, Sendable, Codable {
    /// External interrupt (INTR).
    case external = 0
    /// Non-maskable interrupt.
    case nmi = 2
    /// Hardware exception.
    case hardwareException = 3
    /// Software interrupt (INT n).
    case softwareInterrupt = 4
    /// Privileged software exception (INT1 / ICEBP).
    case privilegedSoftwareException = 5
    /// Software exception (INT3, INTO).
    case softwareException = 6
}

extension CPU {
    /// Whether an exception vector is a fault (SDM Vol. 3A Table 6-1): #DE, #BR, #UD, #NM, #TS, #NP, #SS, #GP,
    /// #PF, #MF, #AC, #XM, #VE, #CP. (#DB is a fault or a trap; #BP and #OF are traps; #DF and #MC abort.)
    public static func isFaultClass(_ v: UInt8) -> Bool {
        v == 0 || v == 5 || v == 6 || v == 7 || (v >= 10 && v <= 14) || v == 16 || v == 17 || v == 19 || v == 20 || v == 21
    }

    /// Exception classes for double-fault detection (SDM Vol. 3A §6.15, Table 6-4/6-5).
    private func isContributory(_ v: UInt8) -> Bool { v == 0 || (v >= 10 && v <= 13) }

    /// Delivers a hardware exception raised by an instruction (RIP is that instruction's).
    /// Handles exceptions during delivery: double fault, triple fault.
    func deliverException(_ v: UInt8, _ code: UInt32?) {
        var vector = v
        var errorCode = code
        // A fault-class exception pushes RFLAGS.RF = 1 (SDM Vol. 3A §17.3.1.1), so that IRET back to the
        // faulting instruction does not take an instruction breakpoint on it again; #DB is left alone (its
        // instruction-breakpoint faults push RF as it was, its traps likewise).
        deliveringFault = CPU.isFaultClass(v)
        defer { deliveringFault = false }
        if v == ExceptionVector.pf.rawValue { cr2 = pendingCR2 }
        var attempts = 0
        while attempts < 3 {
            attempts += 1
            if attempts > 1 && vmxNonRoot && exceptionCausesExit(vector, errorCode) {
                // An exception raised while delivering another: the exit carries IDT-vectoring information.
                vmx.pendingExit = exceptionExit(vector, errorCode, kind: .hardwareException)
                stopReason = .vmExit
                return
            }
            do throws(Abort) {
                try deliverEventThrowing(vector: vector, kind: .hardwareException, errorCode: errorCode)
                return
            } catch {
                // A fault after a task switch's commit point is delivered in the new task, like any other.
                taskSwitchCommitted = false
                switch error {
                case .exception(let v2, let c2):
                    if vector == ExceptionVector.df.rawValue { enterShutdown(); return }
                    if exceptionIntercept & (1 << UInt32(v2 & 31)) != 0 {
                        stopReason = .exception(vector: v2, errorCode: c2)
                        return
                    }
                    if v2 == ExceptionVector.pf.rawValue { cr2 = pendingCR2 }
                    let first = vector
                    if (isContributory(first) && isContributory(v2)) ||
                        (first == ExceptionVector.pf.rawValue && (isContributory(v2) || v2 == ExceptionVector.pf.rawValue)) {
                        vector = ExceptionVector.df.rawValue
                        errorCode = 0
                        if exceptionIntercept & (1 << UInt32(vector)) != 0 {
                            stopReason = .exception(vector: vector, errorCode: errorCode)
                            return
                        }
                    } else {
                        vector = v2
                        errorCode = c2
                    }
                case .shutdown: enterShutdown(); return
                case .stop: return
                }
            }
        }
        enterShutdown()
    }

    /// Sends an exception where it goes: a stop of the run when `exceptionIntercept` names its vector, a VM
    /// exit when the exception bitmap says so (SDM Vol. 3C §25.2), else delivery through the IDT.
    func routeException(_ vector: UInt8, _ errorCode: UInt32?) {
        if exceptionIntercept & (1 << UInt32(vector & 31)) != 0 {
            stopReason = .exception(vector: vector, errorCode: errorCode)
        } else if vmxNonRoot && exceptionCausesExit(vector, errorCode) {
            vmx.pendingExit = exceptionExit(vector, errorCode, kind: .hardwareException)
            stopReason = .vmExit
        } else {
            deliverException(vector, errorCode)
        }
    }

    /// Delivers an event that did not come from an instruction fault (external interrupt, NMI, injected event).
    /// A fault during delivery is handled like an exception raised at the current RIP.
    func deliverEvent(vector: UInt8, kind: EventKind, errorCode: UInt32?) {
        do throws(Abort) {
            try deliverEventThrowing(vector: vector, kind: kind, errorCode: errorCode)
        } catch {
            taskSwitchCommitted = false
            switch error {
            case .exception(let v2, let c2):
                routeException(v2, c2)
            case .shutdown: enterShutdown()
            case .stop: break
            }
        }
    }

    /// Software interrupt instructions: INT n, INT3, INTO, INT1. RIP already points past the instruction.
    func softwareInterrupt(_ vector: UInt8, kind: EventKind) throws(Abort) {
        if exceptionIntercept & (1 << UInt32(vector & 31)) != 0 && kind != .softwareInterrupt {
            stopReason = .exception(vector: vector, errorCode: nil)
            throw Abort.stop
        }
        if vmxNonRoot && kind != .softwareInterrupt && exceptionCausesExit(vector, nil) {
            // INT3/INTO/INT1 intercepted by the exception bitmap: the exit reports the instruction length.
            vmx.pendingExit = exceptionExit(vector, nil, kind: kind)
            ripValue = startRIP
            throw Abort.stop
        }
        if mode == .virtual8086 && kind == .softwareInterrupt {
            // CR4.VME: a clear bit in the software-interrupt redirection bitmap sends INT n to the
            // 8086 program's own IVT (SDM Vol. 3A §20.3.3, methods 5 and 6 of Table 20-2).
            if cr4Value & CR4.vme.rawValue != 0, try !interruptRedirected(vector) {
                try deliverV86Redirected(vector)
                return
            }
            if iopl < 3 { throw Abort.gp(0) }
        }
        try deliverEventThrowing(vector: vector, kind: kind, errorCode: nil)
    }

    /// Whether bit `vector` of the software-interrupt redirection bitmap (the 32 bytes below the I/O
    /// map base of the 32-bit TSS) is set, meaning INT n goes to the protected-mode handler.
    private func interruptRedirected(_ vector: UInt8) throws(Abort) -> Bool {
        let tr = seg[SegmentRegisterName.tr.rawValue]
        guard !tr.unusable, tr.type & 8 != 0, tr.limit >= 0x67 else { throw Abort.gp(0) }
        let mapBase = try readLinear(maskLinear(tr.base &+ 0x66), 2, user: false)
        let off = (mapBase &- 32 &+ UInt64(vector >> 3)) & 0xFFFF
        if off > UInt64(tr.limit) { throw Abort.gp(0) }
        let b = try readLinear(maskLinear(tr.base &+ off), 1, user: false)
        return (b >> UInt64(vector & 7)) & 1 != 0
    }

    /// INT n redirected to the virtual-8086 program's IVT at linear address 0 (CR4.VME). At IOPL < 3
    /// the pushed FLAGS carry VIF in the IF position and IOPL = 3, and VIF (not IF) is cleared.
    private func deliverV86Redirected(_ vector: UInt8) throws(Abort) {
        let entry = try readLinear(UInt64(vector) &* 4, 4, user: true)
        let f = materializedFlags()
        var image = f & 0xFFFF
        if iopl < 3 {
            image = (image & ~RFLAGS.if.rawValue) | ((f & RFLAGS.vif.rawValue) >> 10) | RFLAGS.iopl.rawValue
        }
        try push(image, 2)
        try push(UInt64(seg[Seg.cs].selector), 2)
        try push(ripValue & 0xFFFF, 2)
        var nf = f & ~RFLAGS.tf.rawValue
        nf &= iopl < 3 ? ~RFLAGS.vif.rawValue : ~RFLAGS.if.rawValue
        flagsBase = nf | 2
        lazy.op = .none
        let sel = UInt16(truncatingIfNeeded: entry >> 16)
        seg[Seg.cs] = SegmentRegister(selector: sel, base: UInt64(sel) << 4, limit: 0xFFFF, accessRights: 0xFB)
        ripValue = entry & 0xFFFF
    }

    /// The current I/O privilege level.
    var iopl: Int { Int((flagsBase >> 12) & 3) }

    /// Delivers an event through the IVT or IDT. Throws the exception that prevents delivery.
    func deliverEventThrowing(vector: UInt8, kind: EventKind, errorCode: UInt32?) throws(Abort) {
        halted = false
        if vmxNonRoot {
            // An exit during this delivery reports the event in the IDT-vectoring information field.
            vmx.vectoring = (vector, kind, errorCode)
            try deliverEventDispatch(vector: vector, kind: kind, errorCode: errorCode)
            vmx.vectoring = nil
            return
        }
        try deliverEventDispatch(vector: vector, kind: kind, errorCode: errorCode)
    }

    /// Delivers an event through the IVT or IDT for the current mode.
    private func deliverEventDispatch(vector: UInt8, kind: EventKind, errorCode: UInt32?) throws(Abort) {
        eventDeliveries &+= 1
        let ext: UInt32 = (kind == .softwareInterrupt || kind == .softwareException) ? 0 : 1
        let hasCode = kind == .hardwareException && errorCode != nil
        if mode == .real {
            try deliverRealMode(vector)
            return
        }
        if longModeActive {
            try deliverLongMode(vector: vector, kind: kind, errorCode: hasCode ? errorCode : nil, ext: ext)
            return
        }
        try deliverProtectedMode(vector: vector, kind: kind, errorCode: hasCode ? errorCode : nil, ext: ext)
    }

    /// Real-address mode: the IVT at IDTR.base (SDM Vol. 3A §20.1.4).
    private func deliverRealMode(_ vector: UInt8) throws(Abort) {
        let off = UInt64(vector) * 4
        if off + 3 > UInt64(idtr.limit) { throw Abort.gp(UInt32(vector) * 8 + 2) }
        let entry = try readLinear(maskLinear(idtr.base &+ off), 4, user: false)
        let flags = materializedFlags()
        try push(flags & 0xFFFF, 2)
        try push(UInt64(seg[Seg.cs].selector), 2)
        try push(ripValue & 0xFFFF, 2)
        flagsBase = flags & ~(RFLAGS.if.rawValue | RFLAGS.tf.rawValue | RFLAGS.ac.rawValue | RFLAGS.rf.rawValue)
        lazy.op = .none
        let sel = UInt16(truncatingIfNeeded: entry >> 16)
        var cs = seg[Seg.cs]
        cs.selector = sel
        cs.base = UInt64(sel) << 4
        setCS(cs, rip: entry & 0xFFFF)
    }

    /// Reads an IDT gate for `vector` and checks it (present, type, DPL for software interrupts).
    private func idtGate(_ vector: UInt8, kind: EventKind, ext: UInt32, wide: Bool) throws(Abort) -> Descriptor {
        let size: UInt64 = wide ? 16 : 8
        let off = UInt64(vector) * size
        let idtCode = UInt32(vector) * 8 + 2 + ext
        if off + size - 1 > UInt64(idtr.limit) { throw Abort.gp(idtCode) }
        let la = maskLinear(idtr.base &+ off)
        let raw = try readLinear(la, 8, user: false)
        var g = Descriptor(low: UInt32(truncatingIfNeeded: raw), high: UInt32(truncatingIfNeeded: raw >> 32))
        if wide { g.upper = try readLinear(maskLinear(la &+ 8), 8, user: false) }
        let t = g.type
        if g.s { throw Abort.gp(idtCode) }
        if wide {
            if t != SystemType.interruptGate32 && t != SystemType.trapGate32 { throw Abort.gp(idtCode) }
        } else if ![SystemType.taskGate, SystemType.interruptGate16, SystemType.trapGate16,
                    SystemType.interruptGate32, SystemType.trapGate32].contains(t) {
            throw Abort.gp(idtCode)
        }
        if (kind == .softwareInterrupt || kind == .softwareException) && g.dpl < cpl {
            throw Abort.gp(UInt32(vector) * 8 + 2)
        }
        if !g.present { throw Abort.np(idtCode) }
        return g
    }

    /// Reads and checks the target code segment of a gate.
    private func gateTarget(_ g: Descriptor, ext: UInt32) throws(Abort) -> Descriptor {
        let sel = g.gateSelector
        if sel & 0xFFFC == 0 { throw Abort.gp(ext) }
        let d: Descriptor
        do throws(Abort) {
            d = try readDescriptor(sel, vector: 13)
        } catch {
            // The selector lies outside its table: #GP(selector + EXT).
            if case .exception(13, let c?) = error { throw Abort.gp(c | ext) }
            throw error
        }
        if !d.isCode || d.dpl > cpl { throw Abort.gp(UInt32(sel & 0xFFFC) + ext) }
        if !d.present { throw Abort.np(UInt32(sel & 0xFFFC) + ext) }
        return d
    }

    /// Protected mode (and virtual-8086 mode): 8-byte IDT gates (SDM Vol. 3A §6.12).
    private func deliverProtectedMode(vector: UInt8, kind: EventKind, errorCode: UInt32?, ext: UInt32) throws(Abort) {
        let g = try idtGate(vector, kind: kind, ext: ext, wide: false)
        if g.type == SystemType.taskGate {
            try taskSwitch(to: g.gateSelector, reason: .interrupt, errorCode: errorCode, ext: ext)
            return
        }
        let d = try gateTarget(g, ext: ext)
        let gate32 = g.type & 8 != 0
        let size: UInt8 = gate32 ? 4 : 2
        let newCPL = d.isConforming ? cpl : d.dpl
        let oldFlags = materializedFlags() | (deliveringFault ? RFLAGS.rf.rawValue : 0)
        let oldCS = UInt64(seg[Seg.cs].selector)
        let oldSS = seg[Seg.ss]
        let oldSP = gpr[Reg.rsp]
        let fromV86 = mode == .virtual8086
        var frame: [UInt64] = []
        var newSS = oldSS
        var sp: UInt64
        if newCPL < cpl {
            if fromV86 && newCPL != 0 { throw Abort.gp(UInt32(g.gateSelector & 0xFFFC)) }
            let (ssSel, esp) = try innerStack(from: newCPL)
            newSS = try stackSegment(ssSel, cpl: newCPL)
            sp = esp
            if fromV86 {
                frame += [UInt64(seg[Seg.gs].selector), UInt64(seg[Seg.fs].selector), UInt64(seg[Seg.ds].selector), UInt64(seg[Seg.es].selector)]
            }
            frame += [UInt64(oldSS.selector), oldSP]
        } else {
            if fromV86 { throw Abort.gp(UInt32(g.gateSelector & 0xFFFC)) }
            sp = oldSS.db ? oldSP & 0xFFFF_FFFF : oldSP & 0xFFFF
        }
        frame += [oldFlags, oldCS, ripValue]
        if let c = errorCode { frame.append(UInt64(c)) }
        let offset = gate32 ? g.gateOffset & 0xFFFF_FFFF : g.gateOffset & 0xFFFF
        if offset > UInt64(d.limit) { throw Abort.gp(0) }
        // Write the frame on the new stack (checked as the new CPL's supervisor accesses).
        let stackMask: UInt64 = newSS.db ? 0xFFFF_FFFF : 0xFFFF
        for v in frame {
            sp = (sp &- UInt64(size)) & stackMask
            if newSS.unusable || sp &+ UInt64(size) &- 1 > UInt64(newSS.limit) {
                throw Abort.ss(newCPL < cpl ? UInt32(newSS.selector & 0xFFFC) + ext : ext)
            }
            try writeLinear((newSS.base &+ sp) & 0xFFFF_FFFF, Int(size), v, user: newCPL == 3)
        }
        // Commit.
        if newCPL < cpl {
            seg[Seg.ss] = newSS
        }
        if fromV86 {
            for s in [0, 3, 4, 5] { seg[s] = SegmentRegister(selector: 0, base: 0, limit: 0, accessRights: 0x10000) }
        }
        gpr[Reg.rsp] = newSS.db ? sp : (gpr[Reg.rsp] & ~0xFFFF) | sp
        var nf = oldFlags & ~(RFLAGS.tf.rawValue | RFLAGS.nt.rawValue | RFLAGS.rf.rawValue | RFLAGS.vm.rawValue)
        if g.type & 1 == 0 { nf &= ~RFLAGS.if.rawValue }
        flagsBase = nf
        lazy.op = .none
        try enterCodeSegment(d, selector: g.gateSelector, cpl: newCPL, rip: offset)
    }

    /// IA-32e mode: 16-byte IDT gates, 64-bit frames, IST (SDM Vol. 3A §6.14).
    private func deliverLongMode(vector: UInt8, kind: EventKind, errorCode: UInt32?, ext: UInt32) throws(Abort) {
        let g = try idtGate(vector, kind: kind, ext: ext, wide: true)
        let d = try gateTarget(g, ext: ext)
        if !d.l || d.db { throw Abort.gp(UInt32(g.gateSelector & 0xFFFC) + ext) }
        let newCPL = d.isConforming ? cpl : d.dpl
        let oldFlags = materializedFlags() | (deliveringFault ? RFLAGS.rf.rawValue : 0)
        var rsp: UInt64
        var newSS = seg[Seg.ss]
        if newCPL < cpl {
            rsp = try readTSS64(4 + 8 * UInt64(newCPL))
            newSS = SegmentRegister(selector: UInt16(newCPL), base: 0, limit: 0, accessRights: 0x10000 | UInt32(newCPL) << 5)
        } else {
            rsp = gpr[Reg.rsp]
        }
        if g.ist != 0 { rsp = try readTSS64(0x24 + 8 * UInt64(g.ist - 1)) }
        rsp &= ~0xF
        let target = g.gateOffset
        if !isCanonical(target) { throw Abort.gp(ext) }
        var frame: [UInt64] = [UInt64(seg[Seg.ss].selector), gpr[Reg.rsp], oldFlags, UInt64(seg[Seg.cs].selector), ripValue]
        if let c = errorCode { frame.append(UInt64(c)) }
        for v in frame {
            rsp = rsp &- 8
            if !isCanonical(rsp) { throw Abort.ss(ext) }
            try writeLinear(rsp, 8, v, user: newCPL == 3)
        }
        seg[Seg.ss] = newSS
        gpr[Reg.rsp] = rsp
        var nf = oldFlags & ~(RFLAGS.tf.rawValue | RFLAGS.nt.rawValue | RFLAGS.rf.rawValue | RFLAGS.vm.rawValue)
        if g.type & 1 == 0 { nf &= ~RFLAGS.if.rawValue }
        flagsBase = nf
        lazy.op = .none
        setCS(codeSegment(from: d, selector: g.gateSelector, cpl: newCPL), rip: target)
    }

    /// Reads a 64-bit field of the 64-bit TSS (RSPn at 4 + 8n, ISTn at 0x24 + 8(n-1)).
    func readTSS64(_ offset: UInt64) throws(Abort) -> UInt64 {
        let tr = seg[SegmentRegisterName.tr.rawValue]
        if offset + 7 > UInt64(tr.limit) { throw Abort.ts(UInt32(tr.selector & 0xFFFC)) }
        return try readLinear(tr.base &+ offset, 8, user: false)
    }

    /// SS:ESP for privilege level `level` from the current 16- or 32-bit TSS.
    func innerStack(from level: Int) throws(Abort) -> (UInt16, UInt64) {
        let tr = seg[SegmentRegisterName.tr.rawValue]
        let code = UInt32(tr.selector & 0xFFFC)
        if tr.type & 8 != 0 {
            let off = UInt64(4 + level * 8)
            if off + 5 > UInt64(tr.limit) { throw Abort.ts(code) }
            let esp = try readLinear(maskLinear(tr.base &+ off), 4, user: false)
            let ss = try readLinear(maskLinear(tr.base &+ off &+ 4), 2, user: false)
            return (UInt16(ss), esp)
        }
        let off = UInt64(2 + level * 4)
        if off + 3 > UInt64(tr.limit) { throw Abort.ts(code) }
        let sp = try readLinear(maskLinear(tr.base &+ off), 2, user: false)
        let ss = try readLinear(maskLinear(tr.base &+ off &+ 2), 2, user: false)
        return (UInt16(ss), sp)
    }

    // MARK: IRET

    /// IRET/IRETD/IRETQ (SDM Vol. 2A "IRET/IRETD/IRETQ").
    func execIret(_ i: borrowing Instruction) throws(Abort) {
        let size = i.opSize
        nmiBlocked = false
        if mode == .real || mode == .virtual8086 {
            if mode == .virtual8086 && iopl < 3 {
                // CR4.VME with a 16-bit IRET: IF and IOPL are kept, the popped IF goes to VIF (SDM Vol. 2A "IRET").
                guard cr4Value & CR4.vme.rawValue != 0 && size == 2 else { throw Abort.gp(0) }
                let ip = try peekStack(0, 2)
                let cs = try peekStack(2, 2)
                let fl = try peekStack(4, 2)
                let old = materializedFlags()
                if fl & RFLAGS.tf.rawValue != 0 || (fl & RFLAGS.if.rawValue != 0 && old & RFLAGS.vip.rawValue != 0) {
                    throw Abort.gp(0)
                }
                adjustSP(6)
                let keep = ~UInt64(0xFFFF) | RFLAGS.if.rawValue | RFLAGS.iopl.rawValue
                var nf = (old & keep) | (fl & ~keep & RFLAGS.defined.rawValue)   // reserved bits 3, 5, 15 stay 0
                nf = (nf & ~RFLAGS.vif.rawValue) | ((fl & RFLAGS.if.rawValue) << 10)
                flagsBase = nf | 2
                lazy.op = .none
                seg[Seg.cs] = SegmentRegister(selector: UInt16(cs & 0xFFFF), base: (cs & 0xFFFF) << 4, limit: 0xFFFF, accessRights: 0xFB)
                ripValue = ip & 0xFFFF
                lazyEventCheck = true
                return
            }
            let ip = try peekStack(0, size)
            let cs = try peekStack(UInt64(size), size)
            let fl = try peekStack(2 * UInt64(size), size)
            if ip > UInt64(seg[Seg.cs].limit) && mode == .virtual8086 { throw Abort.gp(0) }
            adjustSP(3 * UInt64(size))
            let old = materializedFlags()
            var keep: UInt64 = size == 2 ? ~0xFFFF : (RFLAGS.vm.rawValue | RFLAGS.vip.rawValue | RFLAGS.vif.rawValue)
            if mode == .virtual8086 { keep |= RFLAGS.iopl.rawValue }
            flagsBase = ((old & keep) | (fl & ~keep) & RFLAGS.defined.rawValue) | 2
            lazy.op = .none
            if mode == .virtual8086 {
                seg[Seg.cs] = SegmentRegister(selector: UInt16(cs & 0xFFFF), base: (cs & 0xFFFF) << 4, limit: 0xFFFF, accessRights: 0xFB)
                ripValue = ip & 0xFFFF
            } else {
                var r = seg[Seg.cs]
                r.selector = UInt16(cs & 0xFFFF)
                r.base = (cs & 0xFFFF) << 4
                setCS(r, rip: ip)
            }
            updateMode()
            lazyEventCheck = true
            return
        }
        if flagsBase & RFLAGS.nt.rawValue != 0 {
            if longModeActive { throw Abort.gp(0) }
            try taskReturn()
            return
        }
        let newIP = try peekStack(0, size)
        let csSel = UInt16(truncatingIfNeeded: try peekStack(UInt64(size), size))
        let newFlags = try peekStack(2 * UInt64(size), size)
        let wasCPL = cpl
        // Return to virtual-8086 mode.
        if !longModeActive && size == 4 && newFlags & RFLAGS.vm.rawValue != 0 && cpl == 0 {
            let esp = try peekStack(12, 4)
            let ss = try peekStack(16, 4)
            let es = try peekStack(20, 4), ds = try peekStack(24, 4), fs = try peekStack(28, 4), gs = try peekStack(32, 4)
            flagsBase = (newFlags & RFLAGS.defined.rawValue) | 2
            lazy.op = .none
            func v86(_ s: UInt64, code: Bool = false) -> SegmentRegister {
                SegmentRegister(selector: UInt16(s & 0xFFFF), base: (s & 0xFFFF) << 4, limit: 0xFFFF, accessRights: code ? 0xFB : 0xF3)
            }
            seg[Seg.es] = v86(es); seg[Seg.ds] = v86(ds); seg[Seg.fs] = v86(fs); seg[Seg.gs] = v86(gs); seg[Seg.ss] = v86(ss)
            seg[Seg.cs] = v86(UInt64(csSel), code: true)
            gpr[Reg.rsp] = esp & 0xFFFF_FFFF
            ripValue = newIP & 0xFFFF
            updateMode()
            lazyEventCheck = true
            return
        }
        // Protected-mode or IA-32e return.
        let d = try loadCodeSegment(csSel, for: .return)
        let rpl = Int(csSel & 3)
        let toOuter = rpl > cpl
        let popsStack = toOuter || (codeSize == 8)
        var newSS = seg[Seg.ss]
        var newSP = gpr[Reg.rsp]
        if popsStack {
            let sp = try peekStack(3 * UInt64(size), size)
            let ssSel = UInt16(truncatingIfNeeded: try peekStack(4 * UInt64(size), size))
            if ssSel & 0xFFFC == 0 {
                if !(longModeActive && !(rpl == 3) && (d.l || codeSize == 8)) { throw Abort.gp(0) }
                newSS = SegmentRegister(selector: ssSel, base: 0, limit: 0, accessRights: 0x10000 | UInt32(rpl) << 5)
            } else {
                newSS = try stackSegment(ssSel, cpl: rpl, vector: 13)
            }
            newSP = sp
        }
        let target = try checkedTarget(newIP, d)
        // Commit.
        var changeable = RFLAGS.cf.rawValue | RFLAGS.pf.rawValue | RFLAGS.af.rawValue | RFLAGS.zf.rawValue |
            RFLAGS.sf.rawValue | RFLAGS.tf.rawValue | RFLAGS.df.rawValue | RFLAGS.of.rawValue | RFLAGS.nt.rawValue
        if size >= 4 { changeable |= RFLAGS.rf.rawValue | RFLAGS.ac.rawValue | RFLAGS.id.rawValue }
        if wasCPL <= iopl { changeable |= RFLAGS.if.rawValue }
        if wasCPL == 0 {
            changeable |= RFLAGS.iopl.rawValue
            if size >= 4 { changeable |= RFLAGS.vif.rawValue | RFLAGS.vip.rawValue }
        }
        let old = materializedFlags()
        flagsBase = ((old & ~changeable) | (newFlags & changeable)) | 2
        lazy.op = .none
        if popsStack {
            seg[Seg.ss] = newSS
            gpr[Reg.rsp] = codeSize == 8 || (d.l && longModeActive) || newSS.db ? newSP : newSP & 0xFFFF
        } else {
            adjustSP(3 * UInt64(size))
        }
        try enterCodeSegment(d, selector: csSel, cpl: rpl, rip: target)
        if toOuter { nullifyInaccessibleSegments() }
        lazyEventCheck = true
    }
}
