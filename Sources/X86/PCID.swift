// Process-context identifiers and INVPCID (SDM Vol. 3A §4.10.1, §4.10.4.1; Vol. 2A "INVPCID"). The TLB tags
// translations by PCID through its generations (MMU.swift, `TLB`).

extension CPU {
    /// The current PCID: CR3[11:0] with CR4.PCIDE set, 000H otherwise.
    var currentPCID: Int {
        cr4Value & CR4.pcide.rawValue != 0 ? Int(truncatingIfNeeded: cr3Value & 0xFFF) : 0
    }

    /// MOV to CR3 after its VMX checks: with CR4.PCIDE set, bit 63 of the source asks to keep the new PCID's
    /// translations and is not stored; otherwise it is reserved. The new PCID's non-global translations are
    /// dropped unless kept.
    func loadCR3(_ v: UInt64) throws(Abort) {
        let pcide = cr4Value & CR4.pcide.rawValue != 0
        let keep = pcide && v >> 63 != 0
        let value = pcide ? v & ~(1 << 63) : v
        if longModeActive && value & ~CPU.physicalAddressMask != 0 { throw Abort.gp(0) }
        let old = currentPCID
        cr3Value = value
        tlb.switchPCID(to: currentPCID, from: old, flush: !keep)
    }

    /// The #GP checks of a MOV to CR4 that concern PCIDs: CR4.PCIDE may be set only in IA-32e mode and with
    /// CR3[11:0] = 000H.
    func checkCR4PCIDE(_ v: UInt64) throws(Abort) {
        guard v & CR4.pcide.rawValue != 0, cr4Value & CR4.pcide.rawValue == 0 else { return }
        if !longModeActive || cr3Value & 0xFFF != 0 { throw Abort.gp(0) }
    }

    /// INVPCID r, m128: invalidates by PCID as the type in the register says — one linear address of a PCID
    /// (0), one PCID (1), everything including global translations (2), everything but global translations (3).
    /// Types 0 and 1 may also drop other translations, as the SDM allows: type 0 drops the page in every
    /// PCID, global translations too. In VMX non-root operation it needs "enable INVPCID" (#UD without) and
    /// exits with "INVLPG exiting" (SDM Vol. 3C §26.1.2, §26.1.3).
    func invpcid(_ i: borrowing Instruction) throws(Abort) {
        guard invpcidSupported, i.isMem else { throw Abort.ud }
        if vmxNonRoot {
            guard vmx.secondary.contains(.enableINVPCID) else { throw Abort.ud }
            if cpl == 0 && vmx.primary.contains(.invlpgExiting) {
                var info = InstructionInformation(operandOf: i)
                info.register2 = Int(i.reg & 15)
                throw instructionExit(.invpcid, qualification: UInt64(bitPattern: i.disp), info: info.rawValue)
            }
        }
        if cpl != 0 || mode == .virtual8086 { throw Abort.gp(0) }
        let type = readReg(i.reg, codeSize == 8 ? 8 : 4)
        let ea = effectiveAddress(i)
        let low = try readMem(i.seg, ea, 8)
        let address = try readMem(i.seg, ea &+ 8, 8)
        let pcid = Int(truncatingIfNeeded: low & 0xFFF)
        guard type <= 3, low >> 12 == 0 else { throw Abort.gp(0) }
        if type <= 1 && pcid != 0 && cr4Value & CR4.pcide.rawValue == 0 { throw Abort.gp(0) }
        switch type {
        case 0:
            if !isCanonical(address) { throw Abort.gp(0) }
            tlb.flush(page: address)
        case 1: tlb.flushPCID(pcid, isCurrent: pcid == currentPCID)
        case 2: tlb.flushAll()
        default: tlb.flushNonGlobalAllPCIDs()
        }
    }
}
