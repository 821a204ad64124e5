// L1's EPT for L2 (SDM Vol. 3C §28.3 "The Extended Page Table Mechanism"): when the guest hypervisor enables
// EPT for its guest, L2's guest-physical addresses are translated through L1's EPT paging structures, read
// from L1's memory (which is L0's guest-physical memory, itself checked against L0's map as always). A
// not-present or forbidding entry is an EPT violation (exit 48) and a misconfigured one an EPT
// misconfiguration (exit 49), both L1's exits.

extension CPU {
    /// Translates the guest-physical address of a paging-structure entry of L2 through L1's EPT (a violation
    /// there is one during a page walk: qualification bit 8 clear). With EPT accessed and dirty flags on,
    /// the walk's accesses to L2's paging structures are writes for EPT (SDM Vol. 3C §28.3.3.2: they may
    /// set the guest's own A/D flags), reported as read and write. With them off, reading an entry is an
    /// EPT read whatever the access being translated, and only setting the guest's accessed or dirty flag
    /// (`write`) is an EPT write, again reported as read and write (a locked read-modify-write).
    func nestedEPTTranslateEntry(_ gpa: UInt64, write: Bool) throws(Abort) -> UInt64 {
        pageWalkDepth += 1
        defer { pageWalkDepth -= 1 }
        let adEnabled = vmx.current.pointee[.eptPointer] & (1 << 6) != 0
        return try nestedEPTTranslate(gpa, adEnabled || write ? .write : .read)
    }

    /// Translates an L2 guest-physical address through L1's EPT (4-level walk, 1-GiB and 2-MiB pages,
    /// accessed and dirty flags when the EPTP enables them), or raises the exit L1 gets. With mode-based execute
    /// control (SDM Vol. 3C §29.3.3.2), bit 2 allows fetches from supervisor-mode linear addresses and bit 10
    /// from user-mode ones (`userAddress`: paging maps the linear address with U/S = 1 at every level), and an
    /// entry with any of bits 2:0 and 10 set is present. A probe (`probingTranslation`) sets no flags and raises
    /// no exit.
    func nestedEPTTranslate(_ gpa: UInt64, _ kind: AccessKind, userAddress: Bool = false) throws(Abort) -> UInt64 {
        let eptp = vmx.current.pointee[.eptPointer]
        let adEnabled = eptp & (1 << 6) != 0
        let permissionBits: UInt64 = vmx.current.pointee.secondary.contains(.modeBasedExecuteControlForEPT) ? 0x407 : 7
        var table = eptp & CPU.physicalAddressMask & ~0xFFF
        var allowed = permissionBits  // AND of the read, write and execute bits along the walk
        var level = 4
        while true {
            let index = (gpa >> UInt64(12 + 9 * (level - 1))) & 0x1FF
            let entryAddress = table &+ index &* 8
            var entry = memory.readInteger(at: entryAddress, size: 8)
            let rwx = entry & 7
            if entry & permissionBits == 0 { throw nestedEPTViolation(gpa, kind, allowed: 0) }
            // Misconfigurations (§28.3.3.1): write without read; reserved bits; a leaf's memory type 2, 3 or 7.
            let large = level > 1 && entry & (1 << 7) != 0
            let leaf = level == 1 || large
            // Bits 51:MAXPHYADDR of every entry are reserved.
            var reserved = entry & 0x000F_FFFF_FFFF_F000 & ~CPU.physicalAddressMask
            if !leaf { reserved |= entry & 0xF8 } else if large { reserved |= entry & (level == 3 ? 0x3FFF_F000 : 0x1F_F000) }
            if level == 4 && entry & 0x80 != 0 { reserved |= 0x80 }
            let memoryType = (entry >> 3) & 7
            // Execute-only (R=0, X=1) is allowed: IA32_VMX_EPT_VPID_CAP bit 0 says so to L1.
            if rwx & 3 == 2 || reserved != 0 || (leaf && (memoryType == 2 || memoryType == 3 || memoryType == 7)) {
                throw nestedEPTMisconfiguration(gpa)
            }
            allowed &= entry & permissionBits
            if adEnabled && !probingTranslation {
                var update = entry | (1 << 8)
                if leaf && kind == .write { update |= 1 << 9 }
                if update != entry { memory.writeInteger(update, at: entryAddress, size: 8); entry = update }
            }
            if leaf {
                let needed: UInt64 = kind == .write ? 2 : (kind == .fetch ? (permissionBits != 7 && userAddress ? 0x400 : 4) : 1)
                if allowed & needed == 0 { throw nestedEPTViolation(gpa, kind, allowed: allowed) }
                let pageBits = UInt64(12 + 9 * (level - 1))
                let base = entry & CPU.physicalAddressMask & ~((1 << pageBits) - 1)
                return base | (gpa & ((1 << pageBits) - 1))
            }
            table = entry & CPU.physicalAddressMask & ~0xFFF
            level -= 1
        }
    }

    /// The EPT-violation exit to L1 (qualification of SDM Vol. 3C Table 27-7).
    /// (A probe — `probingTranslation` — gets a plain fault instead, and no exit is built.)
    func nestedEPTViolation(_ gpa: UInt64, _ kind: AccessKind, allowed: UInt64) -> Abort {
        if probingTranslation { return Abort.pf(0) }
        var q = EPTViolationQualification(access: kind)
        if inPageWalk && kind == .write { q.insert(.read) }
        if allowed & 1 != 0 { q.insert(.readable) }
        if allowed & 2 != 0 { q.insert(.writable) }
        if allowed & 4 != 0 { q.insert(.executable) }
        if allowed & 0x400 != 0 { q.insert(.userExecutable) }      // set only under mode-based execute control
        q.insert(.linearAddressValid)
        if !inPageWalk { q.insert(.translatedAccess) }
        return eptExit(.eptViolation, gpa, qualification: q.rawValue)
    }

    /// The EPT-misconfiguration exit to L1.
    func nestedEPTMisconfiguration(_ gpa: UInt64) -> Abort {
        if probingTranslation { return Abort.pf(0) }
        return eptExit(.eptMisconfiguration, gpa, qualification: 0)
    }
}

extension CPU {
    /// The PDPTEs of L2's PAE paging as a VM exit saves them under L1's EPT (SDM Vol. 3C §27.3.4): the
    /// registers the entry loaded while they hold, else the table guest CR3 names, read through L1's EPT
    /// without side effects (nil when it is not mapped).
    func nestedPDPTEs() -> (UInt64, UInt64, UInt64, UInt64)? {
        let r = vmx.nested.pdptes
        if r.hold(cr0: cr0Value, cr3: cr3Value, cr4: cr4Value) { return r.entries }
        let saved = probingTranslation
        probingTranslation = true
        defer { probingTranslation = saved }
        let table: UInt64
        do throws(Abort) { table = try nestedEPTTranslate(cr3Value & 0xFFFF_FFE0, .read) } catch { return nil }
        func at(_ i: UInt64) -> UInt64 { memory.readInteger(at: table &+ i &* 8, size: 8) }
        return (at(0), at(1), at(2), at(3))
    }
}
