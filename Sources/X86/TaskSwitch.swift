// Hardware task switching (SDM Vol. 3A chapter 8, "Task Management").
//
// The switch runs in two halves, split at the commit point of SDM §8.3 step 8:
// - before it, every check and every read of the new TSS happens while the old task's state is
//   intact; a fault there is delivered in the old task's context (the instruction restarts);
// - after it (TR, CR3, registers and selectors already hold the new task's values), the segment
//   descriptors are checked and loaded; a fault there is delivered in the new task's context,
//   so it sets `taskSwitchCommitted` and the run loop does not roll the state back.

/// What started a task switch (SDM Vol. 3A §8.3); decides busy bits, NT and the back link.
enum TaskSwitchReason {
    case call, jump, iret, interrupt
}

/// Offsets of the fields of the 32-bit and 16-bit TSS (SDM Vol. 3A §8.2.1, Figures 8-2 and 8-11).
enum TSSLayout {
    /// Previous task link (both formats).
    static let link: UInt64 = 0
    /// 32-bit TSS: CR3, EIP, EFLAGS, EAX (then ECX…EDI every 4 bytes), ES (then CS SS DS FS GS every 4 bytes), LDT, T bit, I/O map base.
    static let cr3: UInt64 = 0x1C, eip: UInt64 = 0x20, eflags: UInt64 = 0x24, eax: UInt64 = 0x28
    static let es: UInt64 = 0x48, ldt: UInt64 = 0x60, trap: UInt64 = 0x64, ioMapBase: UInt64 = 0x66
    /// 16-bit TSS: IP, FLAGS, AX (then CX…DI every 2 bytes), ES (then CS SS DS every 2 bytes), LDT.
    static let ip16: UInt64 = 0x0E, flags16: UInt64 = 0x10, ax16: UInt64 = 0x12, es16: UInt64 = 0x22, ldt16: UInt64 = 0x2A
    /// Minimum limits: 67H for a 32-bit TSS, 2BH for a 16-bit TSS (SDM Table 6-6 says 2CH; the last field ends at 2BH).
    static let minLimit32: UInt32 = 0x67, minLimit16: UInt32 = 0x2B
}

/// The dynamic state of a task, as read from its TSS.
private struct TaskState {
    var eip: UInt64 = 0
    var eflags: UInt64 = 0
    var gprs: [UInt64] = Array(repeating: 0, count: 8)
    /// ES, CS, SS, DS, FS, GS.
    var selectors: [UInt16] = Array(repeating: 0, count: 6)
    var ldt: UInt16 = 0
    var cr3: UInt64 = 0
    var trap = false
}

extension CPU {
    /// Switches to the task whose TSS `selector` names (a TSS selector, already taken from a task gate).
    ///
    /// `ext` is the EXT bit for error codes (1 when an external event or hardware exception started
    /// the switch). `errorCode` is pushed on the new task's stack (exceptions through a task gate).
    func taskSwitch(to selector: UInt16, reason: TaskSwitchReason, errorCode: UInt32?, ext: UInt32 = 0) throws(Abort) {
        if vmxNonRoot {
            // Task switches always cause VM exits in non-root operation (SDM Vol. 3C §25.4.2); the
            // qualification holds the TSS selector and the source (0 CALL, 1 IRET, 2 JMP, 3 IDT task gate).
            let source: UInt64
            switch reason {
            case .call: source = 0
            case .iret: source = 1
            case .jump: source = 2
            case .interrupt: source = 3
            }
            throw instructionExit(.taskSwitch, qualification: UInt64(selector) | source << 30)
        }
        let code = UInt32(selector & 0xFFFC) | ext
        let iret = reason == .iret
        // The TSS descriptor: in the GDT, of the right type, present, with a large enough limit.
        let selectorFault: UInt8 = iret ? 10 : 13
        if selector & 0xFFFC == 0 || selector & 4 != 0 { throw Abort.exception(selectorFault, code) }
        if UInt64(selector & 0xFFF8) &+ 7 > UInt64(gdtr.limit) { throw Abort.exception(selectorFault, code) }
        let descLA = maskLinear(gdtr.base &+ UInt64(selector & 0xFFF8))
        let raw = try readLinear(descLA, 8, user: false)
        let d = Descriptor(low: UInt32(truncatingIfNeeded: raw), high: UInt32(truncatingIfNeeded: raw >> 32))
        let busyType = d.type == SystemType.tss16Busy || d.type == SystemType.tss32Busy
        let availableType = d.type == SystemType.tss16Available || d.type == SystemType.tss32Available
        if d.s || (iret ? !busyType : !availableType) { throw Abort.exception(selectorFault, code) }
        if !d.present { throw Abort.np(code) }
        let new32 = d.type & 8 != 0
        if d.limit < (new32 ? TSSLayout.minLimit32 : TSSLayout.minLimit16) { throw Abort.ts(code) }

        // The old TSS must be able to hold the state saved into it.
        let tr = seg[SegmentRegisterName.tr.rawValue]
        let old32 = tr.type & 8 != 0
        if tr.unusable || tr.limit < (old32 ? 0x5F : 0x29) {
            throw Abort.ts(UInt32(tr.selector & 0xFFFC) | ext)
        }

        // Read the new task's state (reads only: a page fault here leaves everything as it was).
        let nbase = d.base & 0xFFFF_FFFF
        func rd(_ off: UInt64, _ size: Int) throws(Abort) -> UInt64 {
            try readLinear(maskLinear(nbase &+ off), size, user: false)
        }
        var n = TaskState()
        if new32 {
            n.cr3 = try rd(TSSLayout.cr3, 4)
            n.eip = try rd(TSSLayout.eip, 4)
            n.eflags = try rd(TSSLayout.eflags, 4)
            for r in 0..<8 { n.gprs[r] = try rd(TSSLayout.eax &+ UInt64(r) &* 4, 4) }
            for s in 0..<6 { n.selectors[s] = UInt16(truncatingIfNeeded: try rd(TSSLayout.es &+ UInt64(s) &* 4, 2)) }
            n.ldt = UInt16(truncatingIfNeeded: try rd(TSSLayout.ldt, 2))
            n.trap = try rd(TSSLayout.trap, 2) & 1 != 0
        } else {
            n.eip = try rd(TSSLayout.ip16, 2)
            n.eflags = try rd(TSSLayout.flags16, 2)
            // The upper halves of the registers read as ones after a switch to a 16-bit task (as Bochs models it).
            for r in 0..<8 { n.gprs[r] = 0xFFFF_0000 | (try rd(TSSLayout.ax16 &+ UInt64(r) &* 2, 2)) }
            for s in 0..<4 { n.selectors[s] = UInt16(truncatingIfNeeded: try rd(TSSLayout.es16 &+ UInt64(s) &* 2, 2)) }
            n.ldt = UInt16(truncatingIfNeeded: try rd(TSSLayout.ldt16, 2))
        }

        // Save the old task's state into its TSS (SDM §8.3 step 5). IRET clears NT in the saved image.
        var oldFlags = materializedFlags()
        if iret { oldFlags &= ~RFLAGS.nt.rawValue }
        let obase = tr.base & 0xFFFF_FFFF
        func wr(_ off: UInt64, _ size: Int, _ v: UInt64) throws(Abort) {
            try writeLinear(maskLinear(obase &+ off), size, v, user: false)
        }
        if old32 {
            // EIP first, then the last field (GS): a page fault on either leaves the rest unwritten.
            try wr(TSSLayout.eip, 4, ripValue & 0xFFFF_FFFF)
            try wr(TSSLayout.es &+ 20, 4, UInt64(seg[Seg.gs].selector))
            try wr(TSSLayout.eflags, 4, oldFlags & 0xFFFF_FFFF)
            for r in 0..<8 { try wr(TSSLayout.eax &+ UInt64(r) &* 4, 4, gpr[r] & 0xFFFF_FFFF) }
            for s in 0..<6 { try wr(TSSLayout.es &+ UInt64(s) &* 4, 2, UInt64(seg[s].selector)) }
        } else {
            try wr(TSSLayout.ip16, 2, ripValue & 0xFFFF)
            try wr(TSSLayout.flags16, 2, oldFlags & 0xFFFF)
            for r in 0..<8 { try wr(TSSLayout.ax16 &+ UInt64(r) &* 2, 2, gpr[r] & 0xFFFF) }
            for s in 0..<4 { try wr(TSSLayout.es16 &+ UInt64(s) &* 2, 2, UInt64(seg[s].selector)) }
        }
        // Back link in the new TSS for CALL and interrupts.
        if reason == .call || reason == .interrupt {
            try writeLinear(maskLinear(nbase &+ TSSLayout.link), 2, UInt64(tr.selector), user: false)
        }
        // Busy bits: JMP and IRET free the old task; all but IRET mark the new task busy.
        if reason == .jump || iret {
            try setBusy(tr.selector, false)
        }
        if !iret {
            try setBusy(selector, true)
        }

        // Commit point (SDM §8.3 step 8): TR holds the new task.
        var newTR = d.segment(selector: selector)
        newTR.accessRights |= 2
        seg[SegmentRegisterName.tr.rawValue] = newTR
        cr0Value |= CR0.ts.rawValue
        // A task switch clears the local breakpoint enables L0–L3 and LE in DR7 (SDM Vol. 3A §17.2.4).
        dr[7] &= ~0x155
        if reason == .call || reason == .interrupt { n.eflags |= RFLAGS.nt.rawValue }

        do throws(Abort) {
            try loadTaskState(n, new32: new32, tssSelector: selector, ext: ext)
            if let c = errorCode { try push(UInt64(c), new32 ? 4 : 2) }
            if ripValue > UInt64(seg[Seg.cs].limit) { throw Abort.gp(ext) }
            if n.trap {
                // The debug trap bit: #DB with DR6.BT before the new task's first instruction.
                dr[6] |= 0x8000
                throw Abort.db
            }
        } catch {
            if case .exception = error { taskSwitchCommitted = true }
            throw error
        }
        lazyEventCheck = true
    }

    /// IRET with NT set: returns to the task in the back link of the current TSS.
    func taskReturn() throws(Abort) {
        let tr = seg[SegmentRegisterName.tr.rawValue]
        let link = UInt16(truncatingIfNeeded: try readLinear(maskLinear(tr.base &+ TSSLayout.link), 2, user: false))
        try taskSwitch(to: link, reason: .iret, errorCode: nil)
    }

    /// Sets or clears the busy bit (type bit 1) of a TSS descriptor in the GDT.
    private func setBusy(_ selector: UInt16, _ busy: Bool) throws(Abort) {
        let la = maskLinear(gdtr.base &+ UInt64(selector & 0xFFF8) &+ 5)
        let b = try readLinear(la, 1, user: false)
        try writeLinear(la, 1, busy ? b | 2 : b & ~2, user: false)
    }

    /// Loads the new task's dynamic state after the commit point (SDM §8.3 steps 10–12), with the
    /// checks of the SDM table "Exception conditions checked during a task switch" in its order:
    /// LDT, CS type and privilege, SS, CS presence, then DS, ES, FS, GS.
    private func loadTaskState(_ n: TaskState, new32: Bool, tssSelector: UInt16, ext: UInt32) throws(Abort) {
        // EFLAGS, EIP and the general registers.
        let flagsMask = new32 ? RFLAGS.defined.rawValue : 0xFFFF & RFLAGS.defined.rawValue
        flagsBase = (n.eflags & flagsMask) | 2
        lazy.op = .none
        for r in 0..<8 { gpr[r] = n.gprs[r] & 0xFFFF_FFFF }
        ripValue = n.eip & 0xFFFF_FFFF

        // Selectors first, with unusable caches, so a fault below leaves them loaded (SDM §8.3).
        let csRPL = Int(n.selectors[1] & 3)
        for s in 0..<6 {
            seg[s] = SegmentRegister(selector: n.selectors[s], base: 0, limit: 0, accessRights: 0x10000)
        }
        seg[Seg.cs].accessRights = 0x1_009B | UInt32(csRPL) << 5
        seg[Seg.ldtr] = SegmentRegister(selector: n.ldt, base: 0, limit: 0, accessRights: 0x10000)
        updateMode()
        if mode == .virtual8086 { cpl = 3 }

        // CR3 (32-bit TSS, paging enabled); with PAE the four PDPTEs are checked as they are loaded.
        if new32 && pagingEnabled && !longModeActive {
            cr3Value = n.cr3 & 0xFFFF_FFFF
            if cr4Value & CR4.pge.rawValue != 0 { tlb.flushNonGlobal() } else { tlb.flushAll() }
            if cr4Value & CR4.pae.rawValue != 0 {
                for k in 0..<4 {
                    let e = try readPhysical((cr3Value & 0xFFFF_FFE0) &+ UInt64(k) &* 8, 8)
                    if e & 1 != 0 && e & (0x1E6 | ~CPU.physicalAddressMask) != 0 { throw Abort.gp(0) }
                }
            }
        }

        // LDTR: a GDT selector of a present LDT descriptor, or null.
        let ldtCode = UInt32(n.ldt & 0xFFFC) | ext
        if n.ldt & 4 != 0 { throw Abort.ts(ldtCode) }
        if n.ldt & 0xFFFC != 0 {
            let ld = try readDescriptor(n.ldt, vector: 10)
            if ld.s || ld.type != SystemType.ldt { throw Abort.ts(ldtCode) }
            if !ld.present { throw Abort.ts(ldtCode) }
            seg[Seg.ldtr] = ld.segment(selector: n.ldt)
        }

        if mode == .virtual8086 {
            for s in 0..<6 {
                seg[s] = SegmentRegister(selector: n.selectors[s], base: UInt64(n.selectors[s]) << 4, limit: 0xFFFF,
                                         accessRights: s == 1 ? 0xFB : 0xF3)
            }
            updateMode()
            return
        }

        // CS: a code segment whose DPL matches its RPL (or is ≤ RPL if conforming).
        let csSel = n.selectors[1]
        let csCode = UInt32(csSel & 0xFFFC) | ext
        if csSel & 0xFFFC == 0 { throw Abort.ts(csCode) }
        let cd = try readDescriptor(csSel, vector: 10)
        if !cd.isCode { throw Abort.ts(csCode) }
        if cd.isConforming ? cd.dpl > csRPL : cd.dpl != csRPL { throw Abort.ts(csCode) }

        // SS: a writable data segment at DPL = RPL = CS.RPL, present (#SS).
        let ssSel = n.selectors[2]
        let ssCode = UInt32(ssSel & 0xFFFC) | ext
        if ssSel & 0xFFFC == 0 { throw Abort.ts(ssCode) }
        let sd = try readDescriptor(ssSel, vector: 10)
        if !sd.s || sd.isCode || sd.type & 2 == 0 { throw Abort.ts(ssCode) }
        if !sd.present { throw Abort.ss(ssCode) }
        if sd.dpl != csRPL || Int(ssSel & 3) != csRPL { throw Abort.ts(ssCode) }

        // CS present, then commit CS and SS.
        if !cd.present { throw Abort.np(csCode) }
        try markAccessed(csSel, cd)
        var csr = cd.segment(selector: csSel)
        csr.accessRights |= 1
        seg[Seg.cs] = csr
        try markAccessed(ssSel, sd)
        var ssr = sd.segment(selector: ssSel)
        ssr.accessRights |= 1
        seg[Seg.ss] = ssr
        updateMode()
        cpl = csRPL

        // DS, ES, FS, GS: null, or readable and accessible at the new CPL.
        for s in [3, 0, 4, 5] {
            let sel = n.selectors[s]
            if sel & 0xFFFC == 0 { continue }
            let c = UInt32(sel & 0xFFFC) | ext
            let dd = try readDescriptor(sel, vector: 10)
            if !dd.s || (dd.isCode && dd.type & 2 == 0) { throw Abort.ts(c) }
            if !dd.isConforming && (dd.dpl < csRPL || dd.dpl < Int(sel & 3)) { throw Abort.ts(c) }
            if !dd.present { throw Abort.np(c) }
            try markAccessed(sel, dd)
            var r = dd.segment(selector: sel)
            r.accessRights |= 1
            seg[s] = r
        }
    }
}
