import Testing
import X86Assembler
@testable import X86

// CPU models (Sources/X86/CPUModel.swift): QEMU's -cpu syntax, each model's CPUID, the vendor's SYSCALL/SYSRET
// semantics (FastSystemCalls.swift) and VMX mode-based execute control for EPT (NestedEPT.swift).

// MARK: Parsing and CPUID

@Test(arguments: ["Pentium", "max,+nosuchfeature", "max,+svm", "max,+vmx-apicv-xapic", "max,vendor=CyrixInstead",
                  "max,x2apic=maybe", "Opteron_G1,phys-bits=36", ""])
func badCPUOptionsAreOneLineErrors(_ text: String) {
    #expect(throws: CPUModelError.self) { try CPUModel.parse(text) }
}

@Test func featureOptionsTurnFeaturesOnAndOff() throws {
    let m = try CPUModel.parse("qemu64,-x2apic,+tsc-deadline")
    #expect(!m.reports("x2apic"))
    #expect(m.reports("tsc-deadline"))
    #expect(try CPUModel.parse("max,x2apic=off").reports("x2apic") == false)
    #expect(try CPUModel.parse("Opteron_G1").reports("x2apic") == false)
    #expect(try CPUModel.parse("Opteron_G1,+x2apic").reports("x2apic"))
    #expect(try CPUModel.parse("Skylake-Server,host-phys-bits,+vmx,+vmx-mbec").modeBasedExecuteControl)
    #expect(try CPUModel.parse("max,host-phys-bits,+vmx,-vmx-mbec").modeBasedExecuteControl == false)
    #expect(try CPUModel.parse("max,vendor=AuthenticAMD").vendor == .amd)
    #expect(try CPUModel.parse("max").vendor == .intel)
}

@Test func defaultModelKeepsTheImplementedCPUID() {
    let cpu = CPU(memory: PhysicalMemory(ramSize: 1 << 20))
    for leaf: UInt32 in [0, 1, 7, 0xD, 0x8000_0000, 0x8000_0001, 0x8000_0002, 0x8000_0008] {
        #expect(cpu.cpuid(leaf: leaf, subleaf: 0) == cpu.implementedCPUID(leaf: leaf, subleaf: 0))
    }
    #expect(cpu.cpuid(leaf: 1, subleaf: 0).eax == 0x0008_06C1)
}

private func vendorString(_ r: (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32)) -> String {
    let bytes = [r.ebx, r.edx, r.ecx].flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> ($0 * 8)) } }
    return String(decoding: bytes, as: UTF8.self)
}

@Test func opteronG1IsAnAMDFamily15ProcessorWithSSE3Only() throws {
    let cpu = CPU(memory: PhysicalMemory(ramSize: 1 << 20))
    cpu.cpuModel = try CPUModel.parse("Opteron_G1,vendor=AuthenticAMD")
    let l0 = cpu.cpuid(leaf: 0, subleaf: 0)
    #expect(vendorString(l0) == "AuthenticAMD")
    #expect(l0.eax == 5)
    let l1 = cpu.cpuid(leaf: 1, subleaf: 0)
    #expect(l1.eax == 0xF61)                            // family 15, model 6, stepping 1
    #expect(l1.ecx == 1)                                // SSE3; no SSSE3, SSE4, POPCNT, CX16, XSAVE, MOVBE
    #expect(l1.edx & (1 << 26) != 0 && l1.edx & (1 << 11) != 0)   // SSE2, SEP
    #expect(cpu.cpuid(leaf: 7, subleaf: 0) == (0, 0, 0, 0))     // above the highest basic leaf
    let e1 = cpu.cpuid(leaf: 0x8000_0001, subleaf: 0)
    #expect(e1.edx == (1 << 11) | (1 << 20) | (1 << 29))         // SYSCALL, NX, LM
    #expect(e1.ecx == 0)
}

@Test func skylakeServerReportsItsFeaturesThatAreImplemented() throws {
    let cpu = CPU(memory: PhysicalMemory(ramSize: 1 << 20))
    cpu.cpuModel = try CPUModel.parse("Skylake-Server,host-phys-bits,+vmx,+vmx-mbec")
    cpu.nestedVMX = true
    #expect(vendorString(cpu.cpuid(leaf: 0, subleaf: 0)) == "GenuineIntel")
    let l1 = cpu.cpuid(leaf: 1, subleaf: 0)
    #expect(l1.eax == 0x5_0654)                         // family 6, model 85, stepping 4
    #expect(l1.ecx & (1 << 5) != 0)                     // VMX (+vmx)
    #expect(l1.ecx & (1 << 20) != 0)                    // SSE4.2
    #expect(l1.ecx & (1 << 17) != 0)                    // PCID
    let l7 = cpu.cpuid(leaf: 7, subleaf: 0)
    #expect(l7.ebx == (1 << 7) | (1 << 10) | (1 << 20)) // SMEP, INVPCID, SMAP (no AVX2, AVX-512: not implemented)
    #expect(l7.ecx == (1 << 3))                         // PKU; UMIP and PKS are not Skylake-Server's
    #expect(cpu.guestMSR(VMXCapability.Index.procbased2).map { $0 >> 32 & (1 << 22) } == 1 << 22)
    cpu.cpuModel.modeBasedExecuteControl = false
    #expect(cpu.guestMSR(VMXCapability.Index.procbased2).map { $0 >> 32 & (1 << 22) } == 0)
}

/// The list of implemented features matches what the processor's CPUID reports: a feature implemented later
/// (its CPUID bit set) fails here until `CPUModel.implementedFeatures` names it, so `+feat` keeps working.
@Test func implementedFeaturesAreExactlyTheReportedOnes() {
    let cpu = CPU(memory: PhysicalMemory(ramSize: 1 << 20))
    cpu.nestedVMX = true
    cpu.cr4 = CR4.pae.rawValue | CR4.osfxsr.rawValue | CR4.osxsave.rawValue | CR4.pke.rawValue
    for (name, (register, bit)) in CPUModel.featureBits where !CPUModel.platformFeatures.contains(name) {
        let value: UInt32
        switch register {
        case .leaf1ECX: value = cpu.cpuid(leaf: 1, subleaf: 0).ecx
        case .leaf1EDX: value = cpu.cpuid(leaf: 1, subleaf: 0).edx
        case .leaf7EBX: value = cpu.cpuid(leaf: 7, subleaf: 0).ebx
        case .leaf7ECX: value = cpu.cpuid(leaf: 7, subleaf: 0).ecx
        case .leaf7EDX: value = cpu.cpuid(leaf: 7, subleaf: 0).edx
        case .ext1ECX: value = cpu.cpuid(leaf: 0x8000_0001, subleaf: 0).ecx
        case .ext1EDX: value = cpu.cpuid(leaf: 0x8000_0001, subleaf: 0).edx
        }
        #expect((value >> UInt32(bit) & 1 != 0) == CPUModel.implementedFeatures.contains(name), "feature \(name)")
    }
}

@Test func withoutX2APICTheEXTDBitIsReserved() throws {
    let cpu = LongModeMachine().cpu
    let base: UInt64 = 0xFEE0_0000 | 0x100, en: UInt64 = 0x800, extd: UInt64 = 0x400
    cpu.cpuModel = try CPUModel.parse("qemu64,-x2apic")
    #expect(!cpu.setGuestMSR(MSRIndex.apicBase, base | en | extd))
    cpu.cpuModel = try CPUModel.parse("qemu64,+x2apic")
    #expect(cpu.setGuestMSR(MSRIndex.apicBase, base | en | extd))
}

// MARK: SYSCALL and SYSRET

private let star: UInt64 = 0x23 << 48 | 0x08 << 32        // SYSRET base 0x23 (user CS32 0x23, SS 0x2B, CS64 0x33)

/// A long-mode machine with EFER.SCE, running compatibility-mode code (CS 0x18, 32-bit) at `code`: SYSCALL, HLT.
private func compatibilityModeSyscall(vendor: String) throws -> (LongModeMachine, StopReason) {
    let m = LongModeMachine()
    m.cpu.cpuModel = try CPUModel.parse("max,vendor=\(vendor)")
    m.cpu.efer = m.cpu.efer | EFER.sce.rawValue
    #expect(m.cpu.setGuestMSR(MSRIndex.star, star))
    #expect(m.cpu.setGuestMSR(MSRIndex.cstar, 0x10_1000))
    #expect(m.cpu.setGuestMSR(MSRIndex.lstar, 0x10_2000))
    _ = m.mem.write([0x0F, 0x05, 0xF4], at: LongModeMachine.code)         // syscall; hlt
    _ = m.mem.write([0xCC], at: 0x10_1000)                                 // int3 at CSTAR
    _ = m.mem.write([0xCC], at: 0x10_2000)                                 // int3 at LSTAR
    m.cpu.setSegment(.cs, SegmentRegister(selector: 0x18, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC09B))
    m.cpu.rip = LongModeMachine.code
    m.cpu.exceptionIntercept |= 1 << 3
    return (m, m.cpu.run(instructionLimit: 10))
}

@Test func intelSyscallInCompatibilityModeIsUndefined() throws {
    let (m, stop) = try compatibilityModeSyscall(vendor: "GenuineIntel")
    #expect(stop == .exception(vector: 6, errorCode: nil))
    #expect(m.cpu.rip == LongModeMachine.code)
}

@Test func amdSyscallInCompatibilityModeEntersCSTARIn64BitMode() throws {
    let (m, stop) = try compatibilityModeSyscall(vendor: "AuthenticAMD")
    #expect(stop == .exception(vector: 3, errorCode: nil))
    #expect(m.cpu.rip == 0x10_1001)                                        // past the INT3 at CSTAR
    #expect(m.cpu.segment(.cs).selector == 0x08)
    #expect(m.cpu.segment(.cs).accessRights & 0x2000 != 0)                 // CS.L: 64-bit kernel
    #expect(m.cpu.gpr(.rcx) == LongModeMachine.code + 2)
}

/// 64-bit code at CPL 0: SYSRET with operand size 32 (to compatibility mode at 0x103000, a user page).
private func sysretToCompatibilityMode(vendor: String, r11: UInt64) throws -> (LongModeMachine, StopReason) {
    let m = LongModeMachine()
    m.cpu.cpuModel = try CPUModel.parse("max,vendor=\(vendor)")
    m.cpu.efer = m.cpu.efer | EFER.sce.rawValue
    #expect(m.cpu.setGuestMSR(MSRIndex.star, star))
    for page: UInt64 in [0x10_0000, 0x10_3000] { m.setPage(page, flags: 7) }
    _ = m.mem.write([0x90, 0x90, 0xCC], at: 0x10_3000)                     // nop; nop; int3
    m.cpu.setGPR(.rcx, 0x10_3000)
    m.cpu.setGPR(.r11, r11)
    _ = m.mem.write([0x0F, 0x07], at: LongModeMachine.code)                // sysretl
    m.cpu.exceptionIntercept |= 1 << 1 | 1 << 3
    return (m, m.cpu.run(instructionLimit: 10))
}

@Test(arguments: ["GenuineIntel", "AuthenticAMD"])
func sysretThatSetsTFTrapsBeforeTheFirstUserInstruction(vendor: String) throws {
    let (m, stop) = try sysretToCompatibilityMode(vendor: vendor, r11: 0x102)
    #expect(stop == .exception(vector: 1, errorCode: nil))
    #expect(m.cpu.rip == 0x10_3000)
    #expect(m.cpu.segment(.cs).selector == 0x23)
    #expect(m.cpu.dr[6] & CPU.dr6SingleStep != 0)
    let (m2, stop2) = try sysretToCompatibilityMode(vendor: vendor, r11: 0x2)
    #expect(stop2 == .exception(vector: 3, errorCode: nil))                // no trap: the NOPs run to the INT3
    #expect(m2.cpu.rip == 0x10_3003)
}

@Test func amdSysretFromCompatibilityModeIsAllowedIntelsIsUndefined() throws {
    for (vendor, expected) in [("GenuineIntel", StopReason.exception(vector: 6, errorCode: nil)),
                               ("AuthenticAMD", StopReason.exception(vector: 3, errorCode: nil))] {
        let m = LongModeMachine()
        m.cpu.cpuModel = try CPUModel.parse("max,vendor=\(vendor)")
        m.cpu.efer = m.cpu.efer | EFER.sce.rawValue
        #expect(m.cpu.setGuestMSR(MSRIndex.star, star))
        for page: UInt64 in [0x10_0000, 0x10_3000] { m.setPage(page, flags: 7) }
        _ = m.mem.write([0xCC], at: 0x10_3000)
        m.cpu.setGPR(.rcx, 0x10_3000)
        m.cpu.setGPR(.r11, 2)
        _ = m.mem.write([0x0F, 0x07], at: LongModeMachine.code)
        m.cpu.setSegment(.cs, SegmentRegister(selector: 0x18, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC09B))
        m.cpu.rip = LongModeMachine.code
        m.cpu.exceptionIntercept |= 1 << 3
        #expect(m.cpu.run(instructionLimit: 10) == expected, "\(vendor)")
    }
}

/// SYSCALL executed with TF = 1: a #DB follows only if TF is still 1 after it (IA32_FMASK did not clear it).
@Test(arguments: [(UInt64(0x100), false), (UInt64(0), true)])
func syscallTrapsOnlyWhenTFSurvivesTheMask(fmask: UInt64, trap: Bool) throws {
    let m = LongModeMachine()
    m.cpu.efer = m.cpu.efer | EFER.sce.rawValue
    #expect(m.cpu.setGuestMSR(MSRIndex.star, star))
    #expect(m.cpu.setGuestMSR(MSRIndex.lstar, 0x10_2000))
    #expect(m.cpu.setGuestMSR(MSRIndex.fmask, fmask))
    _ = m.mem.write([0x90, 0xCC], at: 0x10_2000)                           // nop; int3 at LSTAR
    _ = try m.place(LongModeMachine.code) { a in
        a.db(0x9C)                                  // pushfq
        a.db(0x48, 0x81, 0x0C, 0x24, 0x00, 0x01, 0x00, 0x00)   // or qword [rsp], 0x100
        a.db(0x9D)                                  // popfq: TF from the next instruction on
        a.syscall()
    }
    m.cpu.exceptionIntercept |= 1 << 1 | 1 << 3
    let stop = m.cpu.run(instructionLimit: 20)
    if trap {
        #expect(stop == .exception(vector: 1, errorCode: nil))
        #expect(m.cpu.rip == 0x10_2000)
    } else {
        #expect(stop == .exception(vector: 3, errorCode: nil))
        #expect(m.cpu.rip == 0x10_2002)
    }
}

// MARK: Mode-based execute control for EPT

/// L1's EPT for an L2 guest-physical page 0x5000 → 0x7000 (WB), the leaf with `leaf` permission bits and the
/// other levels with every permission, and the VMCS with EPT (and MBEC when `mbec`) in the secondary controls.
private func eptMachine(leaf: UInt64, mbec: Bool) -> CPU {
    let mem = PhysicalMemory(ramSize: 4 << 20)
    let all: UInt64 = 0x407
    mem.writeInteger(0x21000 | all, at: 0x20000, size: 8)          // EPT PML4[0] → PDPT
    mem.writeInteger(0x22000 | all, at: 0x21000, size: 8)          // PDPT[0] → PD
    mem.writeInteger(0x23000 | all, at: 0x22000, size: 8)          // PD[0] → PT
    mem.writeInteger(0x7000 | 6 << 3 | leaf, at: 0x23000 + 5 * 8, size: 8)
    let cpu = CPU(memory: mem)
    cpu.vmx.current.pointee[.eptPointer] = 0x20000 | 3 << 3 | 6
    cpu.vmx.current.pointee.primary = [.activateSecondaryControls]
    cpu.vmx.current.pointee.secondary = mbec ? [.enableEPT, .modeBasedExecuteControlForEPT] : [.enableEPT]
    return cpu
}

/// The EPT-violation qualification of a translation, or nil when it succeeds.
private func eptQualification(_ cpu: CPU, _ kind: AccessKind, userAddress: Bool) -> UInt64? {
    do {
        let hpa = try cpu.nestedEPTTranslate(0x5123, kind, userAddress: userAddress)
        #expect(hpa == 0x7123)
        return nil
    } catch {
        return cpu.vmx.hot.pointee.exit.qualification
    }
}

@Test func mbecSeparatesSupervisorAndUserExecute() {
    // R, X for supervisor-mode addresses (bit 2), not for user-mode ones (bit 10 clear).
    var cpu = eptMachine(leaf: 0x5, mbec: true)
    #expect(eptQualification(cpu, .fetch, userAddress: false) == nil)
    let q = eptQualification(cpu, .fetch, userAddress: true)
    #expect(q.map { $0 & 0x7F } == 0x4 | 0x8 | 0x20)        // fetch; readable, supervisor-executable, not user
    // R, X for user-mode addresses only.
    cpu = eptMachine(leaf: 0x401, mbec: true)
    #expect(eptQualification(cpu, .fetch, userAddress: true) == nil)
    #expect(eptQualification(cpu, .fetch, userAddress: false).map { $0 & 0x7F } == 0x4 | 0x8 | 0x40)
    #expect(eptQualification(cpu, .read, userAddress: false) == nil)
    // Execute for user-mode addresses only (bits 2:0 clear): present, so a read is a violation with bit 6.
    cpu = eptMachine(leaf: 0x400, mbec: true)
    #expect(eptQualification(cpu, .read, userAddress: true).map { $0 & 0x7F } == 0x1 | 0x40)
    #expect(eptQualification(cpu, .fetch, userAddress: true) == nil)
}

@Test func withoutMBECBit2IsExecuteForEveryAddressAndBit10IsIgnored() {
    var cpu = eptMachine(leaf: 0x5, mbec: false)
    #expect(eptQualification(cpu, .fetch, userAddress: true) == nil)
    #expect(eptQualification(cpu, .fetch, userAddress: false) == nil)
    cpu = eptMachine(leaf: 0x400, mbec: false)
    #expect(eptQualification(cpu, .fetch, userAddress: true).map { $0 & 0x7F } == 0x4)      // not present
    #expect(eptQualification(cpu, .read, userAddress: false).map { $0 & 0x40 } == 0)
}

@Test func amdLegacyPerformanceMSRsExistOnlyWithTheAMDVendor() throws {
    let cpu = LongModeMachine().cpu
    #expect(cpu.guestMSR(0xC001_0000) == nil)                              // GenuineIntel: #GP
    #expect(!cpu.setGuestMSR(0xC001_0004, 0))
    cpu.cpuModel = try CPUModel.parse("Opteron_G1")
    #expect(cpu.setGuestMSR(0xC001_0000, 0x43_00C0))                       // PerfEvtSel0
    #expect(!cpu.setGuestMSR(0xC001_0003, 1 << 32))                        // reserved bits
    #expect(cpu.setGuestMSR(0xC001_0007, ~0))                              // PerfCtr3: 48 bits
    #expect(cpu.guestMSR(0xC001_0000) == 0x43_00C0)
    #expect(cpu.guestMSR(0xC001_0007) == 0xFFFF_FFFF_FFFF)
    #expect(cpu.guestMSR(0xC001_0008) == nil)
}

/// `-pcid` and `-invpcid` take the features away, not only their CPUID bits: CR4.PCIDE cannot be set and
/// INVPCID raises #UD (kvm-unit-tests' pcid-disabled and pcid-asymmetric check both).
@Test func removingPCIDTakesTheFeatureAway() throws {
    let cpu = CPU(memory: PhysicalMemory(ramSize: 1 << 20))
    #expect(cpu.pcidSupported && cpu.invpcidSupported)
    cpu.cpuModel = try CPUModel.parse("qemu64,-pcid,+invpcid")
    #expect(!cpu.pcidSupported && cpu.invpcidSupported)
    #expect(cpu.cpuid(leaf: 1, subleaf: 0).ecx & (1 << 17) == 0)
    cpu.cpuModel = try CPUModel.parse("qemu64,-pcid,-invpcid")
    #expect(!cpu.pcidSupported && !cpu.invpcidSupported)
    #expect(cpu.cpuid(leaf: 7, subleaf: 0).ebx & (1 << 10) == 0)
}
