// The VMCS fuzzer: random VMCS configurations, valid and invalid, entered through the Hypervisor API
// with random guest code. A case passes when every entry ends in a VM exit, a failed entry that names
// its check, or the instruction budget, and the VMCS afterwards agrees with what `run` returned.
// A Swift trap kills the process; `swiftvmx-dev fuzz-vmcs` runs cases in worker processes to count those.
import Hypervisor
import X86

/// Generates and runs VMCS fuzz cases. Each case is a pure function of (seed, index).
public enum VMCSFuzzer {
    /// The valid VMCS a case starts from before its mutations.
    public enum Shape: String, CaseIterable, Sendable {
        /// Flat 32-bit protected mode, paging off (`VCPU.defaultVMCS()`).
        case protected32
        /// IA-32e 64-bit mode with identity-mapped 2-MiB pages.
        case long64
        /// Real-address mode with "unrestricted guest".
        case real
        /// Virtual-8086 mode.
        case v86
    }

    /// How a case's last entry ended.
    public enum Outcome: Int, Sendable {
        /// A VM exit (including the instruction-budget exit).
        case exit = 0
        /// VMfailValid: a control or host-state check failed.
        case failValid = 1
        /// A VM-entry failure exit (reason 33 or 34).
        case failExit = 2
        /// The case ran all its entries.
        case budget = 3
    }

    /// The result of one case.
    public struct Result: Sendable {
        /// Base shape.
        public var shape: Shape
        /// Fields mutated.
        public var mutations: Int
        /// How the last entry ended.
        public var outcome: Outcome
        /// The first invariant broken, or nil.
        public var violation: String?
        /// A short trace of the entries (for reports).
        public var trace: String
    }

    /// Guest-physical layout of a case.
    enum Layout {
        static let ram: UInt64 = 1 << 20
        static let pml4: UInt64 = 0x1000, pdpt: UInt64 = 0x2000, pd: UInt64 = 0x3000
        static let msrArea: UInt64 = 0x5000
        static let vapic: UInt64 = 0x6000
        static let stack: UInt64 = 0x8000
        static let code: UInt64 = 0x10000
    }

    /// Instructions that exit, fault, switch state or touch memory (all modes; some only decode in some).
    static let snippets: [[UInt8]] = [
        [0x0F, 0xA2], [0xF4], [0x0F, 0x31], [0x0F, 0x32], [0x0F, 0x30], [0xE6, 0x80], [0xE4, 0x60], [0xEC], [0x6C],
        [0xCC], [0xCD, 0x80], [0x0F, 0x0B], [0xFB], [0xFA], [0x8E, 0xD0], [0x9C], [0x9D], [0x90], [0xEB, 0xFE],
        [0xB8, 0x33, 0x00, 0x01, 0x80], [0x0F, 0x22, 0xC0], [0x0F, 0x20, 0xC0], [0x0F, 0x22, 0xD8], [0x0F, 0x22, 0xE0],
        [0x44, 0x0F, 0x22, 0xC0], [0x44, 0x0F, 0x20, 0xC0], [0x0F, 0x01, 0x38], [0x0F, 0x01, 0x10], [0x0F, 0x01, 0x00],
        [0x0F, 0x00, 0xD0], [0x0F, 0x00, 0xD8], [0x0F, 0x01, 0xC1], [0x0F, 0x33], [0x0F, 0x01, 0xC8], [0x0F, 0x01, 0xC9],
        [0x0F, 0x01, 0xD1], [0x0F, 0x09], [0x0F, 0x08], [0xF3, 0x90], [0x0F, 0x01, 0xF9], [0xCF], [0x0F, 0x05],
        [0x0F, 0x34], [0x0F, 0x23, 0xF8], [0x0F, 0x21, 0xF8], [0x89, 0x00], [0x8B, 0x05, 0x00, 0x00, 0x20, 0x00], [0xF3, 0xA4],
        [0xF1], [0xCE], [0xC3], [0xE8, 0, 0, 0, 0], [0x0F, 0x37], [0x0F, 0xC7, 0x30], [0x0F, 0x78, 0xC0], [0x31, 0xC0],
        [0xF7, 0xF1], [0x0F, 0x06], [0x0F, 0x01, 0xD0], [0x66, 0x0F, 0x38, 0x80, 0x00], [0x0F, 0xAE, 0x00], [0xD9, 0xE8],
        [0xB9, 0x80, 0x00, 0x00, 0xC0], [0xB9, 0x74, 0x01, 0x00, 0x00], [0x8E, 0xD8], [0xEA, 0, 0, 0, 0, 0x08, 0x00],
        [0x0F, 0x01, 0xF8], [0x0F, 0x07], [0x0F, 0x35], [0x0F, 0xC7, 0xF0], [0x0F, 0x01, 0xCA], [0x0F, 0x01, 0xCB],
    ]

    /// Fields a mutation favours: every control, guest state the checks read, event injection, MSR lists.
    static let interesting: [VMCSField] = [
        .pinBasedControls, .primaryProcessorBasedControls, .secondaryProcessorBasedControls, .vmExitControls,
        .vmEntryControls, .exceptionBitmap, .pageFaultErrorCodeMask, .pageFaultErrorCodeMatch, .cr3TargetCount,
        .vmEntryInterruptionInformation, .vmEntryExceptionErrorCode, .vmEntryInstructionLength, .tprThreshold,
        .vmEntryMSRLoadCount, .vmEntryMSRLoadAddress, .vmExitMSRLoadCount, .vmExitMSRLoadAddress,
        .vmExitMSRStoreCount, .vmExitMSRStoreAddress, .ioBitmapA, .ioBitmapB, .msrBitmap, .virtualAPICAddress,
        .eptPointer, .vpid, .vmcsLinkPointer, .tscOffset, .vmxPreemptionTimerValue,
        .cr0GuestHostMask, .cr0ReadShadow, .cr4GuestHostMask, .cr4ReadShadow,
        .guestCR0, .guestCR3, .guestCR4, .guestDR7, .guestRSP, .guestRIP, .guestRFLAGS,
        .guestCSSelector, .guestCSBase, .guestCSLimit, .guestCSAccessRights,
        .guestSSSelector, .guestSSBase, .guestSSLimit, .guestSSAccessRights,
        .guestDSSelector, .guestDSAccessRights, .guestESAccessRights, .guestFSBase, .guestFSAccessRights,
        .guestGSBase, .guestGSAccessRights, .guestTRSelector, .guestTRBase, .guestTRLimit, .guestTRAccessRights,
        .guestLDTRSelector, .guestLDTRBase, .guestLDTRLimit, .guestLDTRAccessRights,
        .guestGDTRBase, .guestGDTRLimit, .guestIDTRBase, .guestIDTRLimit,
        .guestInterruptibilityState, .guestActivityState, .guestPendingDebugExceptions,
        .guestIA32DebugCtl, .guestIA32PAT, .guestIA32EFER, .guestIA32SysenterCS, .guestIA32SysenterESP, .guestIA32SysenterEIP,
        .guestPDPTE0, .guestPDPTE1, .guestPDPTE2, .guestPDPTE3,
        .hostCR0, .hostCR3, .hostCR4, .hostRIP, .hostCSSelector, .hostSSSelector, .hostTRSelector, .hostIA32EFER, .hostIA32PAT,
    ]

    /// MSRs for MSR-load entries.
    static let msrIndices: [UInt32] = [0x10, 0x1B, 0x3A, 0x3B, 0x174, 0x175, 0x176, 0x1A0, 0x1D9, 0x277, 0x480, 0x48D,
                                       0x9B, 0x802, 0x8FF, 0xC000_0080, 0xC000_0081, 0xC000_0082, 0xC000_0084,
                                       0xC000_0100, 0xC000_0101, 0xC000_0102, 0xC000_0103, 0x4000_0000, 0xFFFF_FFFF]

    /// A value with a random shape: small, one bit, all ones, random, or a flip of `old`.
    static func value(_ r: inout OracleRandom, old: UInt64) -> UInt64 {
        switch r.below(7) {
        case 0: return old ^ (1 << UInt64(r.below(64)))
        case 1: return old ^ (1 << UInt64(r.below(32)))
        case 2: return UInt64(r.below(16))
        case 3: return ~0
        case 4: return 0
        case 5: return old ^ (r.next() & r.next())
        default: return r.next() >> UInt64(r.below(64))
        }
    }

    /// The valid VMCS of a shape.
    static func base(_ shape: Shape) -> VMCS {
        var v = VCPU.defaultVMCS()
        v[.guestRIP] = Layout.code
        v[.guestRSP] = Layout.stack
        switch shape {
        case .protected32:
            break
        case .long64:
            v.entryControls.insert(.ia32eModeGuest)
            v[.guestCR0] |= CR0.pg.rawValue
            v[.guestCR4] |= CR4.pae.rawValue
            v[.guestCR3] = Layout.pml4
            v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
            v.setGuestSegment(.tr, SegmentRegister(selector: 0x18, base: 0, limit: 0x67, accessRights: 0x8B))
        case .real, .v86:
            let v86 = shape == .v86
            if v86 { v[.guestRFLAGS] = 2 | RFLAGS.vm.rawValue } else { v[.guestCR0] = CR0.ne.rawValue | CR0.et.rawValue }
            let ar: UInt32 = v86 ? 0xF3 : 0x93
            v.setGuestSegment(.cs, SegmentRegister(selector: UInt16(Layout.code >> 4), base: Layout.code, limit: 0xFFFF, accessRights: v86 ? 0xF3 : 0x9B))
            for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] {
                v.setGuestSegment(s, SegmentRegister(selector: 0, base: 0, limit: 0xFFFF, accessRights: ar))
            }
            v[.guestRIP] = 0
        }
        return v
    }

    /// Identity map for 64-bit guests: PML4 → PDPT → PD with 2-MiB pages covering 1 GiB.
    static func writeIdentityMap(_ mem: PhysicalMemory) {
        mem.writeInteger(Layout.pdpt | 0x7, at: Layout.pml4, size: 8)
        mem.writeInteger(Layout.pd | 0x7, at: Layout.pdpt, size: 8)
        for k in 0..<512 { mem.writeInteger(UInt64(k) << 21 | 0x87, at: Layout.pd + UInt64(k * 8), size: 8) }
    }

    /// Runs case `index` of `seed`.
    public static func run(seed: UInt64, index: UInt64) -> Result {
        var r = OracleRandom(seed: seed &* 0xA24B_AED4_963E_E407 ^ index &* 0x9FB2_1C65_1E98_DF25 ^ 0x766D_6373)
        let shape = r.pick(Shape.allCases)
        var result = Result(shape: shape, mutations: 0, outcome: .budget, violation: nil, trace: "")
        if r.oneIn(4) {
            // A nested case: guest code drives the VMX instructions (NestedVMCSFuzz.swift).
            var l2: [UInt8] = []
            while l2.count < 48 { l2 += r.oneIn(3) ? [UInt8(truncatingIfNeeded: r.next())] : r.pick(snippets) }
            return runNested(&r, result: &result, l2: l2)
        }
        let vm = VirtualMachine()
        // RAM: normally 1 MiB at 0; sometimes with a hole, read-only code, or not at all.
        do {
            switch r.below(8) {
            case 0: try vm.allocate(guestPhysical: 0, size: 0x10000)
            case 1: try vm.allocate(guestPhysical: 0, size: Layout.ram, permissions: [.read, .write])
            case 2: break
            default: try vm.allocate(guestPhysical: 0, size: Layout.ram)
            }
            if r.oneIn(4) { vm.unmap(guestPhysical: UInt64(r.below(256)) << 12, size: 0x1000) }
            if r.oneIn(8) { try vm.allocate(guestPhysical: 0xFEE0_0000, size: 0x1000) }
        } catch {
            result.violation = "mapping guest memory failed: \(error)"
            return result
        }
        let mem = vm.memory
        writeIdentityMap(mem)
        // Guest code: random bytes, or a mix of exiting and faulting instructions.
        var code: [UInt8] = []
        let mode = r.below(3)
        while code.count < 48 {
            if mode == 0 || (mode == 1 && r.oneIn(3)) {
                code.append(UInt8(truncatingIfNeeded: r.next()))
            } else {
                code += r.pick(snippets)
            }
        }
        mem.write(code, at: Layout.code)
        // An MSR-load area, sometimes used.
        for k in 0..<4 {
            let a = Layout.msrArea + UInt64(k * 16)
            mem.writeInteger(UInt64(r.pick(msrIndices)), at: a, size: 4)
            mem.writeInteger(r.oneIn(8) ? 1 : 0, at: a + 4, size: 4)
            mem.writeInteger(r.coin() ? UInt64(r.below(0x1000)) : r.next(), at: a + 8, size: 8)
        }
        mem.writeInteger(UInt64(r.below(256)), at: Layout.vapic + 0x80, size: 1)

        let vcpu = vm.makeVCPU()
        var v = base(shape)
        if r.oneIn(6) {
            v.entryControls.insert(.loadIA32EFER)
            v[.guestIA32EFER] = shape == .long64 ? EFER.lma.rawValue | EFER.lme.rawValue : 0
        }
        if r.oneIn(6) {
            v[.vmEntryMSRLoadCount] = UInt64(r.within(1...4))
            v[.vmEntryMSRLoadAddress] = Layout.msrArea
        }
        if r.oneIn(6) {
            v.primary.insert(.useTPRShadow)
            v[.virtualAPICAddress] = Layout.vapic
            v[.tprThreshold] = UInt64(r.below(16))
        }
        if r.oneIn(6) {
            // A well-formed event to inject.
            let kinds: [UInt64] = [0, 2, 3, 4, 5, 6, 7]
            let t = r.pick(kinds)
            let vector: UInt64 = t == 2 ? 2 : t == 7 ? 0 : t == 3 ? UInt64(r.below(32)) : UInt64(r.below(256))
            let code = t == 3 && [8, 10, 11, 12, 13, 14, 17].contains(vector) && shape != .real
            v[.vmEntryInterruptionInformation] = 1 << 31 | t << 8 | vector | (code ? 1 << 11 : 0)
            v[.vmEntryInstructionLength] = UInt64(r.within(1...3))
            if t == 0 { v[.guestRFLAGS] |= RFLAGS.if.rawValue }
        }
        if r.oneIn(4) { v[.primaryProcessorBasedControls] |= UInt64(PrimaryProcessorControls.hltExiting.rawValue) }
        if r.oneIn(4) { v[.exceptionBitmap] = r.next() & 0xFFFF_FFFF }
        // Mutations: none for a third of the cases, else a few random changes.
        let mutations = r.oneIn(3) ? 0 : r.within(1...6)
        for _ in 0..<mutations {
            let f = r.oneIn(5) ? r.pick(VMCSField.allCases) : r.pick(interesting)
            v[f] = value(&r, old: v[f])
        }
        result.mutations = mutations
        vcpu.vmcs = v
        for g in GPR.allCases where g != .rsp { vcpu.write(g, r.coin() ? UInt64(r.below(0x20000)) : r.next()) }

        var trace: [String] = []
        defer { result.trace = trace.joined(separator: " ") }
        for round in 0..<4 {
            do {
                let e = try vcpu.run(instructionBudget: UInt64(r.within(1...300)))
                trace.append("\(e.reason.rawValue)\(e.entryFailure ? "!" : "")")
                if let problem = check(exit: e, vcpu: vcpu) { result.violation = problem; return result }
                if e.entryFailure { result.outcome = .failExit; return result }
                result.outcome = .exit
                // Handle the exit: skip an instruction, map a page, or change a field, and enter again.
                if e.instructionLength > 0 && e.instructionLength <= 15 && r.below(4) != 0 {
                    let wide = vcpu.read(.vmEntryControls) & UInt64(VMEntryControls.ia32eModeGuest.rawValue) != 0
                        && vcpu.read(.guestCSAccessRights) & 0x2000 != 0
                    let rip = vcpu.read(.guestRIP) &+ UInt64(e.instructionLength)
                    try? vcpu.write(.guestRIP, wide ? rip : rip & 0xFFFF_FFFF)
                }
                if e.reason == .eptViolation && r.coin() && e.guestPhysicalAddress < 1 << 32 {
                    _ = try? vm.allocate(guestPhysical: e.guestPhysicalAddress & ~0xFFF, size: 0x1000)
                }
                if r.oneIn(3) {
                    let f = r.pick(interesting)
                    try? vcpu.write(f, value(&r, old: vcpu.read(f)))
                }
                if round == 3 { result.outcome = .budget }
            } catch {
                trace.append("fail")
                guard case .entryFailed(let f, let n) = error else {
                    result.violation = "run threw \(error)"
                    return result
                }
                if f.kind != .vmFailValid(n) || (n != 7 && n != 8) {
                    result.violation = "VMfailValid \(n) for \(f.check), whose kind is \(f.kind)"
                } else if vcpu.read(.vmInstructionError) != UInt64(n) {
                    result.violation = "VM-instruction error field \(vcpu.read(.vmInstructionError)) but VMfailValid \(n)"
                }
                result.outcome = .failValid
                return result
            }
        }
        return result
    }

    /// Invariants after a VM exit; returns the first one broken.
    static func check(exit e: VMExit, vcpu: VCPU) -> String? {
        if vcpu.read(.exitReason) != UInt64(e.exitReasonField) {
            return "exit-reason field 0x\(String(vcpu.read(.exitReason), radix: 16)) but run returned \(e.reason) (0x\(String(e.exitReasonField, radix: 16)))"
        }
        if e.entryFailure {
            guard let f = e.failedCheck else { return "entry-failure exit \(e.reason) names no check" }
            guard e.reason == .entryFailureGuestState || e.reason == .entryFailureMSRLoading else {
                return "entry-failure exit with reason \(e.reason)"
            }
            if f.kind != .vmExit(e.reason) { return "entry-failure exit \(e.reason) for \(f.check), whose kind is \(f.kind)" }
            return nil
        }
        if let f = e.failedCheck { return "exit \(e.reason) without entry failure names check \(f.check)" }
        if e.reason == .entryFailureGuestState || e.reason == .entryFailureMSRLoading { return "reason \(e.reason) without the entry-failure bit" }
        let rip = vcpu.read(.guestRIP)
        let ia32e = vcpu.read(.vmEntryControls) & UInt64(VMEntryControls.ia32eModeGuest.rawValue) != 0
        let csL = vcpu.read(.guestCSAccessRights) & 0x2000 != 0
        if ia32e && csL {
            let top = Int64(bitPattern: rip) >> 47
            if top != 0 && top != -1 { return "guest RIP 0x\(String(rip, radix: 16)) not canonical with CS.L = 1 after \(e.reason)" }
        } else if rip >> 32 != 0 {
            return "guest RIP 0x\(String(rip, radix: 16)) above 4 GiB outside 64-bit mode after \(e.reason)"
        }
        return nil
    }
}
