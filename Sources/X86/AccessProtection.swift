// Supervisor-mode access protections and protection keys (SDM Vol. 3A §4.6): SMEP, SMAP with STAC/CLAC,
// protection keys for user-mode pages (CR4.PKE, PKRU, RDPKRU/WRPKRU) and for supervisor-mode pages
// (CR4.PKS, IA32_PKRS).

/// The verdict of the access-rights check of a page walk.
struct AccessRights {
    /// The access is not permitted: a #PF.
    var fault = false
    /// The fault comes from a protection key (error-code bit 5, PK).
    var protectionKey = false
    /// The software TLB may keep the translation: it does not depend on RFLAGS.AC or the CPL (SMAP), which
    /// a TLB hit does not look at. (CR4, CR0.WP, PKRU and IA32_PKRS changes flush the TLB instead.)
    var cacheable = true
}

extension MSRIndex {
    /// IA32_PKRS: the protection-key rights for supervisor-mode pages (SDM Vol. 4, table 2-2).
    public static let pkrs: UInt32 = 0x6E1
}

extension CPU {
    /// CR4 bits of the access protections this file implements: UMIP, SMEP, SMAP, PKE, PKS.
    static let accessProtectionCR4: UInt64 = CR4.umip.rawValue | CR4.smep.rawValue | CR4.smap.rawValue |
        CR4.pke.rawValue | CR4.pks.rawValue

    /// CPUID.(EAX=07H,ECX=0):EBX bits reported for these features: SMEP (7), SMAP (20).
    static let accessProtectionCPUID7EBX: UInt32 = (1 << 7) | (1 << 20)

    /// CPUID.(EAX=07H,ECX=0):ECX bits: UMIP (2), PKU (3), OSPKE (4, CR4.PKE as software set it), PKS (31).
    var accessProtectionCPUID7ECX: UInt32 {
        (1 << 2) | (1 << 3) | (cr4Value & CR4.pke.rawValue != 0 ? 1 << 4 : 0) | (1 << 31)
    }

    /// Whether an access is permitted by the combined U/S, R/W and XD bits of the walk, SMEP, SMAP and the
    /// protection keys of the leaf entry (SDM Vol. 3A §4.6). `user` is a user-mode access (CPL 3, explicit);
    /// a supervisor-mode access made while CPL = 3 is an implicit one (descriptor tables, the TSS, the stacks
    /// of an event delivery), which SMAP checks whatever RFLAGS.AC says. `keys`: 4-level paging, where the
    /// leaf's bits 62:59 are its protection key.
    @inline(__always)
    func accessRights(user: Bool, write: Bool, fetch: Bool, userOK: Bool, writeOK: Bool, execOK: Bool, wp: Bool,
                      leaf: UInt64, keys: Bool) -> AccessRights {
        var r = AccessRights()
        r.fault = (user && !userOK) || (write && !writeOK && (user || wp)) || (fetch && !execOK)
        let cr4 = cr4Value
        if cr4 & CPU.accessProtectionCR4 == 0 || probingTranslation { return r }
        if !r.fault && !user && userOK {
            // A supervisor-mode access to a user-mode address.
            if fetch {
                if cr4 & CR4.smep.rawValue != 0 { r.fault = true }
            } else if cr4 & CR4.smap.rawValue != 0 {
                r.cacheable = false
                if cplValue == 3 || flagsBase & RFLAGS.ac.rawValue == 0 { r.fault = true }
            }
        }
        if keys && !fetch {
            // The key is checked whatever else faults: a #PF's PK bit says the key forbids the access, even when
            // the R/W or U/S bits (or SMAP) forbid it too (SDM Vol. 3A §4.7, "PK flag").
            let rights: UInt64
            if userOK {
                guard cr4 & CR4.pke.rawValue != 0 else { return r }
                rights = UInt64(pkru)
            } else {
                guard cr4 & CR4.pks.rawValue != 0 else { return r }
                rights = msrs.pkrs
            }
            let key = (leaf >> 59) & 0xF
            let ad = (rights >> (2 &* key)) & 1 != 0
            let wd = (rights >> (2 &* key &+ 1)) & 1 != 0
            // AD: no data access; WD: no user-mode write, and no supervisor-mode write when CR0.WP = 1.
            if ad || (wd && write && (user || wp)) { r.fault = true; r.protectionKey = true }
        }
        return r
    }

    /// STAC (sub 1) and CLAC (sub 0): set or clear RFLAGS.AC; #UD at CPL > 0 and in virtual-8086 mode.
    func execSetClearAC(set: Bool) throws(Abort) {
        if cplValue != 0 || mode == .virtual8086 { throw Abort.ud }
        if set { flagsBase |= RFLAGS.ac.rawValue } else { flagsBase &= ~RFLAGS.ac.rawValue }
    }

    /// RDPKRU: EDX:EAX = 0:PKRU; #UD while CR4.PKE = 0, #GP(0) unless ECX = 0.
    func execRDPKRU() throws(Abort) {
        if cr4Value & CR4.pke.rawValue == 0 { throw Abort.ud }
        if gpr[Reg.rcx] & 0xFFFF_FFFF != 0 { throw Abort.gp(0) }
        writeReg(0, 4, UInt64(pkru))
        writeReg(2, 4, 0)
    }

    /// WRPKRU: PKRU = EAX; #UD while CR4.PKE = 0, #GP(0) unless ECX = EDX = 0. Cached translations were
    /// checked against the old rights, so the TLB is flushed.
    func execWRPKRU() throws(Abort) {
        if cr4Value & CR4.pke.rawValue == 0 { throw Abort.ud }
        if gpr[Reg.rcx] & 0xFFFF_FFFF != 0 || gpr[Reg.rdx] & 0xFFFF_FFFF != 0 { throw Abort.gp(0) }
        pkru = UInt32(truncatingIfNeeded: gpr[Reg.rax])
        tlb.flushAll()
    }

    /// WRMSR to IA32_PKRS: bits 63:32 are reserved (#GP(0)); the TLB is flushed as for WRPKRU.
    func writePKRS(_ v: UInt64) throws(Abort) {
        if v >> 32 != 0 { throw Abort.gp(0) }
        msrs.pkrs = v
        tlb.flushAll()
    }
}
