// Model-specific registers (SDM Vol. 4) and CPUID (SDM Vol. 2A "CPUID").

/// Architectural MSR indices used by the model (SDM Vol. 4, chapter 2).
public enum MSRIndex {
    /// IA32_TIME_STAMP_COUNTER.
    public static let tsc: UInt32 = 0x10
    /// IA32_APIC_BASE.
    public static let apicBase: UInt32 = 0x1B
    /// IA32_FEATURE_CONTROL.
    public static let featureControl: UInt32 = 0x3A
    /// IA32_TSC_ADJUST.
    public static let tscAdjust: UInt32 = 0x3B
    /// IA32_SYSENTER_CS.
    public static let sysenterCS: UInt32 = 0x174
    /// IA32_SYSENTER_ESP.
    public static let sysenterESP: UInt32 = 0x175
    /// IA32_SYSENTER_EIP.
    public static let sysenterEIP: UInt32 = 0x176
    /// IA32_MISC_ENABLE.
    public static let miscEnable: UInt32 = 0x1A0
    /// IA32_PAT.
    public static let pat: UInt32 = 0x277
    /// IA32_DEBUGCTL.
    public static let debugCtl: UInt32 = 0x1D9
    /// IA32_EFER.
    public static let efer: UInt32 = 0xC000_0080
    /// IA32_STAR.
    public static let star: UInt32 = 0xC000_0081
    /// IA32_LSTAR.
    public static let lstar: UInt32 = 0xC000_0082
    /// IA32_CSTAR.
    public static let cstar: UInt32 = 0xC000_0083
    /// IA32_FMASK.
    public static let fmask: UInt32 = 0xC000_0084
    /// IA32_FS_BASE.
    public static let fsBase: UInt32 = 0xC000_0100
    /// IA32_GS_BASE.
    public static let gsBase: UInt32 = 0xC000_0101
    /// IA32_KERNEL_GS_BASE.
    public static let kernelGSBase: UInt32 = 0xC000_0102
    /// IA32_BIOS_SIGN_ID: the microcode update signature in bits 63:32 (SDM Vol. 3A 10.11.7).
    public static let biosSignID: UInt32 = 0x8B
    /// IA32_ARCH_CAPABILITIES: enumerates the speculative-execution issues the processor is not subject to.
    public static let archCapabilities: UInt32 = 0x10A
    /// IA32_TSC_DEADLINE: the local APIC timer's deadline (SDM Vol. 3A 11.5.4.1) — the APIC is a device of
    /// the VMM, which intercepts this MSR; the processor model alone raises #GP for it.
    public static let tscDeadline: UInt32 = 0x6E0
    /// IA32_TSC_AUX.
    public static let tscAux: UInt32 = 0xC000_0103
}

/// MSRs with no dedicated register elsewhere.
struct MSRFile: Equatable {
    var sysenterCS: UInt64 = 0
    var sysenterESP: UInt64 = 0
    var sysenterEIP: UInt64 = 0
    var star: UInt64 = 0
    var lstar: UInt64 = 0
    var cstar: UInt64 = 0
    var fmask: UInt64 = 0
    var kernelGSBase: UInt64 = 0
    var tscAux: UInt64 = 0
    var tscAdjust: UInt64 = 0
    var pat: UInt64 = 0x0007_0406_0007_0406
    var apicBase: UInt64 = 0xFEE0_0900
    var featureControl: UInt64 = 0
    var miscEnable: UInt64 = 1      // fast strings
    var debugCtl: UInt64 = 0
    /// IA32_PKRS (AccessProtection.swift).
    var pkrs: UInt64 = 0
    /// AMD's legacy performance-monitoring MSRs (C001_0000H–C001_0007H: PerfEvtSel0–3, PerfCtr0–3), present
    /// with the AMD vendor: storage only, no event counts (`CPU.amdPerformanceMSR`).
    var amdPerformance = [UInt64](repeating: 0, count: 8)
}

extension CPU {
    /// AMD's legacy performance-monitoring MSRs, architectural on AMD processors from family 0FH on (AMD APM
    /// Vol. 2 §13.2.1): PerfEvtSel0–3, then PerfCtr0–3. Offered with the AMD vendor, as storage: software that
    /// resets or programs them (kvm-unit-tests' PMU set-up does, for any AMD processor) runs, but no event is
    /// counted.
    static let amdPerformanceMSRs: ClosedRange<UInt32> = 0xC001_0000...0xC001_0007

    /// The microcode revision IA32_BIOS_SIGN_ID reports.
    static let microcodeRevision: UInt32 = 1
    /// IA32_ARCH_CAPABILITIES: the model executes nothing speculatively, so it reports itself free of
    /// the transient-execution issues the MSR enumerates: RDCL_NO (0, Meltdown), SKIP_L1DFL_VMENTRY (3),
    /// SSB_NO (4), MDS_NO (5), PSCHANGE_MC_NO (6), TAA_NO (8), SBDR_SSDP_NO (13), FBSDP_NO (14),
    /// PSDP_NO (15), BHI_NO (20), PBRSB_NO (24), GDS_NO (26), RFDS_NO (27).
    static let archCapabilities: UInt64 = (1 << 0) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8)
        | (1 << 13) | (1 << 14) | (1 << 15) | (1 << 20) | (1 << 24) | (1 << 26) | (1 << 27)

    /// Reads an MSR; unknown indices raise #GP(0).
    func readMSR(_ index: UInt32) throws(Abort) -> UInt64 {
        try hookMSR(index, write: false)
        switch index {
        case MSRIndex.tsc: return try readTSC()
        case MSRIndex.apicBase: return msrs.apicBase
        case MSRIndex.featureControl: return msrs.featureControl
        case MSRIndex.tscAdjust: return msrs.tscAdjust
        case MSRIndex.sysenterCS: return msrs.sysenterCS
        case MSRIndex.sysenterESP: return msrs.sysenterESP
        case MSRIndex.sysenterEIP: return msrs.sysenterEIP
        case MSRIndex.miscEnable: return msrs.miscEnable
        case MSRIndex.pat: return msrs.pat
        case MSRIndex.debugCtl: return msrs.debugCtl
        case MSRIndex.efer: return eferValue
        case MSRIndex.star: return msrs.star
        case MSRIndex.lstar: return msrs.lstar
        case MSRIndex.cstar: return msrs.cstar
        case MSRIndex.fmask: return msrs.fmask
        case MSRIndex.fsBase: return seg[Seg.fs].base
        case MSRIndex.gsBase: return seg[Seg.gs].base
        case MSRIndex.kernelGSBase: return msrs.kernelGSBase
        case MSRIndex.tscAux: return msrs.tscAux
        case MSRIndex.biosSignID: return UInt64(CPU.microcodeRevision) << 32
        case MSRIndex.archCapabilities: return CPU.archCapabilities
        case MSRIndex.pkrs: return msrs.pkrs
        case CPU.amdPerformanceMSRs where cpuModel.vendor == .amd:
            return msrs.amdPerformance[Int(index - CPU.amdPerformanceMSRs.lowerBound)]
        case VMXCapability.Index.basic...VMXCapability.Index.trueEntry where vmx.nested.enabled:
            // The VMX capability MSRs, when VMX is offered to the code running in the model (NestedVMX.swift).
            guard let v = VMXCapability.nestedRead(index) else { throw Abort.gp(0) }
            if index == VMXCapability.Index.procbased2 && cpuModel.modeBasedExecuteControl {
                return v | UInt64(SecondaryProcessorControls.modeBasedExecuteControlForEPT.rawValue) << 32
            }
            return v
        default: throw Abort.gp(0)
        }
    }

    /// Writes an MSR; unknown indices and reserved bits raise #GP(0).
    func writeMSR(_ index: UInt32, _ v: UInt64) throws(Abort) {
        try hookMSR(index, write: true)
        func canonical() throws(Abort) { if !isCanonical(v) { throw Abort.gp(0) } }
        switch index {
        case MSRIndex.tsc: tscOffset = v &- instructionCount &- msrs.tscAdjust
        case MSRIndex.apicBase: try writeAPICBase(v)
        case MSRIndex.featureControl:
            if msrs.featureControl & 1 != 0 { throw Abort.gp(0) }
            msrs.featureControl = v & 0x7
        case MSRIndex.tscAdjust: msrs.tscAdjust = v
        case MSRIndex.sysenterCS: msrs.sysenterCS = v & 0xFFFF_FFFF
        case MSRIndex.sysenterESP: try canonical(); msrs.sysenterESP = v
        case MSRIndex.sysenterEIP: try canonical(); msrs.sysenterEIP = v
        case MSRIndex.miscEnable: msrs.miscEnable = v
        case MSRIndex.pat:
            for k in 0..<8 {
                let t = (v >> (8 * UInt64(k))) & 0xFF
                if t == 2 || t == 3 || t > 7 { throw Abort.gp(0) }
            }
            msrs.pat = v
        case MSRIndex.debugCtl:
            if v & ~0x3 != 0 { throw Abort.gp(0) }
            msrs.debugCtl = v
        case MSRIndex.efer:
            let allowed = EFER.sce.rawValue | EFER.lme.rawValue | EFER.lma.rawValue | EFER.nxe.rawValue
            if v & ~allowed != 0 { throw Abort.gp(0) }
            if pagingEnabled && (v ^ eferValue) & EFER.lme.rawValue != 0 { throw Abort.gp(0) }
            eferValue = (v & ~EFER.lma.rawValue) | (eferValue & EFER.lma.rawValue)
            tlb.flushAll()
            updateMode()
        case MSRIndex.star: msrs.star = v
        case MSRIndex.lstar: try canonical(); msrs.lstar = v
        case MSRIndex.cstar: try canonical(); msrs.cstar = v
        case MSRIndex.fmask: msrs.fmask = v & 0xFFFF_FFFF
        case MSRIndex.fsBase: try canonical(); seg[Seg.fs].base = v
        case MSRIndex.gsBase: try canonical(); seg[Seg.gs].base = v
        case MSRIndex.kernelGSBase: try canonical(); msrs.kernelGSBase = v
        case MSRIndex.tscAux: msrs.tscAux = v & 0xFFFF_FFFF
        case MSRIndex.biosSignID: break        // software writes 0 before CPUID to sample the revision
        case MSRIndex.pkrs: try writePKRS(v)
        case CPU.amdPerformanceMSRs where cpuModel.vendor == .amd:
            // PerfEvtSel's bits 63:32 are reserved in the legacy MSRs; the counters are 48 bits wide.
            let n = Int(index - CPU.amdPerformanceMSRs.lowerBound)
            if n < 4 && v >> 32 != 0 { throw Abort.gp(0) }
            msrs.amdPerformance[n] = n < 4 ? v : v & 0xFFFF_FFFF_FFFF
        default: throw Abort.gp(0)
        }
    }

    /// IA32_APIC_BASE: the base address (bits MAXPHYADDR-1:12), BSP (8), EXTD (10, x2APIC mode) and EN (11),
    /// with the mode transitions of SDM Vol. 3A §11.12.5 (Figure 11-27): EXTD without EN is invalid, x2APIC
    /// mode is entered only from xAPIC mode and left only to disabled; anything else raises #GP(0). The
    /// register is storage here: the local APIC is the VMM's device, which hears the write
    /// (`LocalAPIC.apicBaseChanged`) and reports x2APIC in CPUID.
    func writeAPICBase(_ v: UInt64) throws(Abort) {
        let en: UInt64 = 1 << 11, extd: UInt64 = 1 << 10
        if v & ~(CPU.physicalAddressMask & ~0xFFF | en | extd | 0x100) != 0 { throw Abort.gp(0) }
        let old = msrs.apicBase
        let wasX2 = old & (en | extd) == en | extd
        // Without x2APIC in CPUID, EXTD is a reserved bit (SDM Vol. 3A §11.12.1).
        if v & extd != 0 && !cpuModel.reports("x2apic") { throw Abort.gp(0) }
        switch v & (en | extd) {
        case extd: throw Abort.gp(0)                                // EXTD without EN: invalid state
        case en: if wasX2 { throw Abort.gp(0) }                     // x2APIC to xAPIC: only through disabled
        case en | extd: if old & en == 0 { throw Abort.gp(0) }      // disabled to x2APIC: only through xAPIC
        default: break                                              // disabled: reachable from every mode
        }
        msrs.apicBase = v
    }

    /// CPUID: reports the CPU model's vendor and exactly the implemented features the model has.
    func execCPUID() throws(Abort) {
        try hookCPUID()
        let r = cpuid(leaf: UInt32(truncatingIfNeeded: gpr[Reg.rax]), subleaf: UInt32(truncatingIfNeeded: gpr[Reg.rcx]))
        writeReg(0, 4, UInt64(r.eax)); writeReg(3, 4, UInt64(r.ebx))
        writeReg(1, 4, UInt64(r.ecx)); writeReg(2, 4, UInt64(r.edx))
    }

    /// The CPUID result for a leaf and subleaf: the implemented processor's, as the CPU model (`cpuModel`,
    /// CPUModel.swift) presents it.
    public func cpuid(leaf: UInt32, subleaf: UInt32) -> (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
        var r = implementedCPUID(leaf: leaf, subleaf: subleaf)
        cpuModel.apply(leaf: leaf, &r)
        return r
    }

    /// The CPUID result of everything SwiftVMX implements (the default model).
    func implementedCPUID(leaf: UInt32, subleaf: UInt32) -> (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
        switch leaf {
        case 0:
            // "GenuineIntel" in EBX, EDX, ECX.
            return (0xD, 0x756E_6547, 0x6C65_746E, 0x4965_6E69)
        case 1:
            let eax: UInt32 = 0x000806C1        // family 6, model 0x8C, stepping 1
            let ebx: UInt32 = (8 << 8) | (1 << 16)  // CLFLUSH line 64 bytes, 1 logical processor
            var ecx: UInt32 = 0
            ecx |= 1 << 13     // CMPXCHG16B
            ecx |= 1 << 22     // MOVBE
            ecx |= 1 << 23     // POPCNT
            ecx |= featureECX1
            ecx |= sseFeatureECX1  // SSE3, SSSE3, SSE4.1, SSE4.2 (Sources/X86/FPU/SSE4.swift)
            if pcidSupported { ecx |= 1 << 17 }     // PCID (PCID.swift)
            var edx: UInt32 = 0
            edx |= 1 << 1      // VME
            edx |= 1 << 2      // DE
            edx |= 1 << 3      // PSE
            edx |= 1 << 4      // TSC
            edx |= 1 << 5      // MSR
            edx |= 1 << 6      // PAE
            edx |= 1 << 8      // CX8
            edx |= 1 << 11     // SEP
            edx |= 1 << 13     // PGE
            edx |= 1 << 15     // CMOV
            edx |= 1 << 16     // PAT
            edx |= 1 << 17     // PSE-36
            edx |= 1 << 19     // CLFSH
            edx |= featureEDX1
            return (eax, ebx, ecx, edx)
        case 7:
            // EDX[29]: IA32_ARCH_CAPABILITIES exists (it reports the speculation bugs this model cannot have).
            // SMEP, SMAP, UMIP, PKU/OSPKE and PKS: AccessProtection.swift.
            guard subleaf == 0 else { return (0, 0, 0, 0) }
            let invpcid: UInt32 = invpcidSupported ? 1 << 10 : 0      // INVPCID (PCID.swift)
            return (0, CPU.accessProtectionCPUID7EBX | invpcid, accessProtectionCPUID7ECX, 1 << 29)
        case 0xD:
            return xsaveCPUIDLeaf(subleaf: subleaf)     // Sources/X86/FPU/XSave.swift
        case 0x8000_0000:
            return (0x8000_0008, 0, 0, 0)
        case 0x8000_0001:
            let ecx: UInt32 = 1 << 0          // LAHF/SAHF in 64-bit mode
            var edx: UInt32 = 0
            edx |= 1 << 11     // SYSCALL/SYSRET
            edx |= 1 << 20     // NX
            edx |= 1 << 26     // 1-GByte pages
            edx |= 1 << 27     // RDTSCP
            edx |= 1 << 29     // Intel 64
            return (0, 0, ecx, edx)
        case 0x8000_0002, 0x8000_0003, 0x8000_0004:
            let brand = Array("SwiftVMX x86-64 processor model".utf8) + [UInt8](repeating: 0, count: 48)
            let base = Int(leaf - 0x8000_0002) * 16
            func word(_ k: Int) -> UInt32 {
                UInt32(brand[base + k * 4]) | UInt32(brand[base + k * 4 + 1]) << 8 |
                    UInt32(brand[base + k * 4 + 2]) << 16 | UInt32(brand[base + k * 4 + 3]) << 24
            }
            return (word(0), word(1), word(2), word(3))
        case 0x8000_0008:
            return (UInt32(CPU.maxPhysicalAddressBits) | (48 << 8), 0, 0, 0)
        default:
            // Leaves 2–0xC that are not implemented report zero (no caches/topology described).
            return (0, 0, 0, 0)
        }
    }

    // MARK: Control and debug registers

    /// MOV r, CRn.
    func movFromCR(_ i: borrowing Instruction) throws(Abort) {
        if cpl != 0 || mode == .virtual8086 { throw Abort.gp(0) }
        let size: UInt8 = codeSize == 8 ? 8 : 4
        let v: UInt64
        switch i.reg {
        case 0: v = try hookReadCR0Shadowed()
        case 2: v = cr2
        case 3: try hookCR3Read(i); v = cr3Value
        case 4: v = try hookReadCR4Shadowed()
        case 8:
            guard codeSize == 8 else { throw Abort.ud }
            v = try hookReadCR8(i)
        default: throw Abort.ud
        }
        writeReg(i.rm, size, v & sizeMask(size))
    }

    /// MOV CRn, r.
    func movToCR(_ i: borrowing Instruction) throws(Abort) {
        if cpl != 0 || mode == .virtual8086 { throw Abort.gp(0) }
        let size: UInt8 = codeSize == 8 ? 8 : 4
        let v = readReg(i.rm, size)
        switch i.reg {
        case 0:
            if try hookCRWrite(0, v, i) { return }
            try writeCR0(v)
        case 2: cr2 = v
        case 3:
            if try hookCRWrite(3, v, i) { return }
            try loadCR3(v)                                                  // PCID.swift
        case 4:
            if try hookCRWrite(4, v, i) { return }
            try writeCR4(v)
        case 8:
            guard codeSize == 8 else { throw Abort.ud }
            if v & ~0xF != 0 { throw Abort.gp(0) }
            if try hookCRWrite(8, v, i) { return }
            cr8 = v
            lazyEventCheck = true
        default: throw Abort.ud
        }
    }

    /// Writes CR0 with the checks of MOV CR0 (SDM Vol. 3A §2.5, §9.8.5).
    func writeCR0(_ raw: UInt64) throws(Abort) {
        var v = raw
        if v >> 32 != 0 { throw Abort.gp(0) }
        v |= CR0.et.rawValue
        if v & CR0.pg.rawValue != 0 && v & CR0.pe.rawValue == 0 { throw Abort.gp(0) }
        if v & CR0.pg.rawValue == 0 && cr4Value & CR4.pcide.rawValue != 0 { throw Abort.gp(0) }
        if v & CR0.nw.rawValue != 0 && v & CR0.cd.rawValue == 0 { throw Abort.gp(0) }
        let enablingPaging = v & CR0.pg.rawValue != 0 && !pagingEnabled
        let disablingPaging = v & CR0.pg.rawValue == 0 && pagingEnabled
        if enablingPaging && eferValue & EFER.lme.rawValue != 0 {
            if cr4Value & CR4.pae.rawValue == 0 || seg[Seg.cs].l { throw Abort.gp(0) }
            eferValue |= EFER.lma.rawValue
        }
        if disablingPaging && longModeActive {
            if codeSize == 8 { throw Abort.gp(0) }
            eferValue &= ~EFER.lma.rawValue
        }
        if v & CR0.pe.rawValue == 0 && longModeActive { throw Abort.gp(0) }
        let changed = v ^ cr0Value
        cr0Value = v
        // The TLB holds permission decisions: a change of CR0.WP matters only to a supervisor write translation
        // of a read-only page made while WP was clear (SDM Vol. 3A §4.6.1), dropped when WP is set again.
        if changed & (CR0.pg.rawValue | CR0.pe.rawValue) != 0
            || (changed & CR0.wp.rawValue != 0 && v & CR0.wp.rawValue != 0 && tlbHoldsWPOnlyWrites) {
            tlb.flushAll()
            tlbHoldsWPOnlyWrites = false
        }
        updateMode()
    }

    /// Writes CR4 with the checks of MOV CR4.
    func writeCR4(_ v: UInt64) throws(Abort) {
        let supported = CR4.vme.rawValue | CR4.pvi.rawValue | CR4.tsd.rawValue | CR4.de.rawValue | CR4.pse.rawValue |
            CR4.pae.rawValue | CR4.pge.rawValue | CR4.pce.rawValue | CPU.accessProtectionCR4 | supportedCR4Extra |
            (pcidSupported ? CR4.pcide.rawValue : 0)
        if v & ~supported != 0 { throw Abort.gp(0) }
        if longModeActive && v & CR4.pae.rawValue == 0 { throw Abort.gp(0) }
        try checkCR4PCIDE(v)                                                // PCID.swift
        let changed = v ^ cr4Value
        cr4Value = v
        // Translations cached in the TLB were checked under the old paging mode and access protections.
        // A change of CR4.PGE or CR4.PCIDE drops every translation of every PCID (SDM Vol. 3A §4.10.4.1).
        let rechecked = CR4.pae.rawValue | CR4.pse.rawValue | CR4.pge.rawValue | CR4.smep.rawValue |
            CR4.smap.rawValue | CR4.pke.rawValue | CR4.pks.rawValue | CR4.pcide.rawValue
        if changed & rechecked != 0 { tlb.flushAll() }
    }

    /// The debug register a MOV DR names after the privilege, #UD and DR4/DR5-alias rules (SDM Vol. 3B §17.2.2).
    private func debugRegisterIndex(_ i: borrowing Instruction) throws(Abort) -> Int {
        if cpl != 0 || mode == .virtual8086 { throw Abort.gp(0) }
        var n = Int(i.reg)
        if n > 7 { throw Abort.ud }
        if n == 4 || n == 5 {
            if cr4Value & CR4.de.rawValue != 0 { throw Abort.ud }
            n += 2
        }
        try hookMovDR(i)
        if dr[7] & CPU.dr7GeneralDetect != 0 {
            // General detect (SDM Vol. 3B §18.2.4, §18.3.1.2): a #DB fault with DR6.BD; the processor clears GD
            // so that the handler may use the debug registers. Lower in priority than a "MOV-DR exiting" exit.
            dr[6] = (dr[6] & ~0xF) | CPU.dr6GeneralDetect
            dr[7] &= ~CPU.dr7GeneralDetect
            throw Abort.db
        }
        return n
    }

    /// MOV r, DRn.
    func movFromDR(_ i: borrowing Instruction) throws(Abort) {
        let n = try debugRegisterIndex(i)
        let size: UInt8 = codeSize == 8 ? 8 : 4
        writeReg(i.rm, size, dr[n] & sizeMask(size))
    }

    /// MOV DRn, r.
    func movToDR(_ i: borrowing Instruction) throws(Abort) {
        let n = try debugRegisterIndex(i)
        let size: UInt8 = codeSize == 8 ? 8 : 4
        let v = readReg(i.rm, size)
        if (n == 6 || n == 7) && v >> 32 != 0 { throw Abort.gp(0) }
        switch n {
        case 6: dr[6] = (v & 0xE00F) | 0xFFFF_0FF0
        case 7:
            dr[7] = (v & 0xFFFF_2BFF) | 0x400
            lazyEventCheck = true       // the run loop looks at DR7 again: enabled breakpoints are checked from here
            // RF clears as every instruction completes (SDM Vol. 3B §18.3.1.1); the model clears it only while
            // breakpoints are enabled (DebugRegisters.swift), so an RF an earlier fault's IRET left clears here.
            flagsBase &= ~RFLAGS.rf.rawValue
        default: dr[n] = v
        }
    }

    /// PAUSE: a hint, or a VM exit under "PAUSE exiting".
    func execPause() throws(Abort) { try hookPause() }
}
