// CR0 and CR4 owned by the VMM where VMX cannot hold the guest's value (SDM Vol. 3C 25.6.6, 26.1.3): CR0.NE
// must be 1 in VMX operation and CR4.VMXE belongs to the VMM, so both sit in the guest/host masks; the read
// shadows hold what the guest wrote, and a guest MOV to CR0/CR4 (or CLTS, LMSW) that would change an owned
// bit exits (reason 28) and is emulated here as the processor would execute it.
import Hypervisor
import X86

extension PCMachine {
    /// CR0 bits the VMM owns: NE (fixed to 1 in VMX operation).
    static let cr0OwnedBits = CR0.ne.rawValue
    /// CR4 bits the VMM owns: VMXE (VMX is not offered to the guest).
    static let cr4OwnedBits = CR4.vmxe.rawValue

    /// CR0 as the guest sees it: the owned bits from the read shadow.
    var guestViewCR0: UInt64 {
        (vcpu.read(.guestCR0) & ~Self.cr0OwnedBits) | (vcpu.read(.cr0ReadShadow) & Self.cr0OwnedBits)
    }

    /// CR4 as the guest sees it.
    var guestViewCR4: UInt64 {
        (vcpu.read(.guestCR4) & ~Self.cr4OwnedBits) | (vcpu.read(.cr4ReadShadow) & Self.cr4OwnedBits)
    }

    /// A control-register-access exit (qualification, SDM Vol. 3C Table 27-3): bits 3:0 the register, 5:4 the
    /// access type (0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW), 11:8 the general-purpose register, 31:16
    /// LMSW's source.
    func emulateControlRegisterAccess(_ e: VMExit) -> MachineOutcome? {
        let q = e.qualification
        let cr = Int(q & 0xF), type = q >> 4 & 3
        let register = GPR(rawValue: Int(q >> 8 & 0xF)) ?? .rax
        let done: Bool
        switch (type, cr) {
        case (0, 0): done = writeCR0(vcpu.read(register))
        case (0, 4): done = writeCR4(vcpu.read(register))
        case (1, 0): vcpu.write(register, guestViewCR0); done = true
        case (1, 4): vcpu.write(register, guestViewCR4); done = true
        case (2, _): done = writeCR0(guestViewCR0 & ~CR0.ts.rawValue)
        case (3, _):
            // LMSW loads PE, MP, EM and TS from the source, and cannot clear PE.
            let old = guestViewCR0, source = q >> 16 & 0xF
            done = writeCR0((old & ~0xE) | (source & 0xF) | (old & 1))
        default:
            return .error("control-register access exit for CR\(cr) (qualification 0x\(String(q, radix: 16))) at rip 0x\(String(vcpu.read(.guestRIP), radix: 16))")
        }
        if done { skip(e) } else { injectException(13, errorCode: 0) }
        return nil
    }

    /// MOV to CR0 as the processor executes it (SDM Vol. 3A 2.5, 9.8.5): #GP (false) for bits 63:32, PG
    /// without PE, NW without CD, paging on with EFER.LME but not CR4.PAE, paging off in 64-bit mode;
    /// turning paging on or off with EFER.LME set activates or deactivates IA-32e mode.
    func writeCR0(_ value: UInt64) -> Bool {
        let pg = CR0.pg.rawValue
        guard value >> 32 == 0,
              value & pg == 0 || value & CR0.pe.rawValue != 0,
              value & CR0.nw.rawValue == 0 || value & CR0.cd.rawValue != 0 else { return false }
        let old = guestViewCR0
        var efer = vcpu.read(.guestIA32EFER)
        var entry = VMEntryControls(rawValue: UInt32(truncatingIfNeeded: vcpu.read(.vmEntryControls)))
        if value & pg != 0 && old & pg == 0 && efer & EFER.lme.rawValue != 0 {
            guard guestViewCR4 & CR4.pae.rawValue != 0 else { return false }
            efer |= EFER.lma.rawValue
            entry.insert(.ia32eModeGuest)
        } else if value & pg == 0 && old & pg != 0 && efer & EFER.lma.rawValue != 0 {
            guard vcpu.read(.guestCSAccessRights) & (1 << 13) == 0 else { return false }   // CS.L: 64-bit mode
            efer &= ~EFER.lma.rawValue
            entry.remove(.ia32eModeGuest)
        }
        try? vcpu.write(.guestIA32EFER, efer)
        try? vcpu.write(.vmEntryControls, UInt64(entry.rawValue))
        try? vcpu.write(.cr0ReadShadow, value & Self.cr0OwnedBits)
        try? vcpu.write(.guestCR0, value | Self.cr0OwnedBits | CR0.et.rawValue)
        return true
    }

    /// MOV to CR4 as the processor executes it: #GP (false) for a bit the processor does not support
    /// (IA32_VMX_CR4_FIXED1), for VMXE (VMX is not offered), and for clearing PAE in IA-32e mode.
    func writeCR4(_ value: UInt64) -> Bool {
        let supported = (VCPU.capability(0x489) ?? 0) & ~Self.cr4OwnedBits
        guard value & ~supported == 0 else { return false }
        if value & CR4.pae.rawValue == 0 && vcpu.read(.guestIA32EFER) & EFER.lma.rawValue != 0 { return false }
        try? vcpu.write(.cr4ReadShadow, value & Self.cr4OwnedBits)
        try? vcpu.write(.guestCR4, value | Self.cr4OwnedBits)
        return true
    }
}
