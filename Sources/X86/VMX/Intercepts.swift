// Points where VMX non-root operation intercepts instructions (SDM Vol. 3C §25.1.3 "Instructions That
// Cause VM Exits Conditionally", §25.1.2 unconditionally). In bare execution (not in non-root operation)
// every hook returns at once.

extension CPU {
    /// HLT ("HLT exiting").
    @inline(__always) func hookHLT() throws(Abort) {
        if vmxNonRoot && vmx.primary.contains(.hltExiting) { throw instructionExit(.hlt) }
    }

    /// INVD (always exits) / WBINVD ("WBINVD exiting").
    @inline(__always) func hookCacheControl(_ i: borrowing Instruction) throws(Abort) {
        guard vmxNonRoot else { return }
        if i.op == .invd { throw instructionExit(.invd) }
        if vmx.secondary.contains(.wbinvdExiting) { throw instructionExit(.wbinvd) }
    }

    /// INVLPG of a linear address ("INVLPG exiting"; the qualification is the linear address).
    @inline(__always) func hookINVLPG(_ la: UInt64) throws(Abort) {
        if vmxNonRoot && vmx.primary.contains(.invlpgExiting) { throw instructionExit(.invlpg, qualification: la) }
    }

    /// LGDT, LIDT, LLDT, LTR, SGDT, SIDT, SLDT, STR ("descriptor-table exiting"): exit reasons 46/47 with
    /// the VM-exit instruction-information field of SDM Vol. 3C Tables 27-10 and 27-11.
    @inline(__always) func hookDescriptorTable(_ i: Instruction) throws(Abort) {
        guard vmxNonRoot && vmx.secondary.contains(.descriptorTableExiting) else { return }
        var info = InstructionInformation(operandOf: i)
        let identity: Int
        let reason: ExitReason
        switch i.op {
        case .sgdt: identity = 0; reason = .accessToGDTRorIDTR
        case .sidt: identity = 1; reason = .accessToGDTRorIDTR
        case .lgdt: identity = 2; reason = .accessToGDTRorIDTR
        case .lidt: identity = 3; reason = .accessToGDTRorIDTR
        case .sldt: identity = 0; reason = .accessToLDTRorTR
        case .str: identity = 1; reason = .accessToLDTRorTR
        case .lldt: identity = 2; reason = .accessToLDTRorTR
        default: identity = 3; reason = .accessToLDTRorTR
        }
        if reason == .accessToGDTRorIDTR { info.operandSize32 = i.opSize != 2 }
        info.instructionIdentity = identity
        let qualification: UInt64 = i.isMem ? UInt64(bitPattern: i.disp) : 0
        throw instructionExit(reason, qualification: qualification, info: info.rawValue)
    }

    /// CR0 as the guest reads it: bits the host owns (CR0 guest/host mask) come from the read shadow.
    @inline(__always) func hookReadCR0Shadowed() throws(Abort) -> UInt64 {
        guard vmxNonRoot else { return cr0Value }
        let mask = vmx.current.pointee[.cr0GuestHostMask]
        return (cr0Value & ~mask) | (vmx.current.pointee[.cr0ReadShadow] & mask)
    }

    /// CR4 as the guest reads it.
    @inline(__always) func hookReadCR4Shadowed() throws(Abort) -> UInt64 {
        guard vmxNonRoot else { return cr4Value }
        let mask = vmx.current.pointee[.cr4GuestHostMask]
        var v = (cr4Value & ~mask) | (vmx.current.pointee[.cr4ReadShadow] & mask)
        // With nesting, L1's CR4.VMXE is the model's own when L0 owns the bit.
        if vmx.nested.enabled && !vmx.nested.inL2 && mask & CR4.vmxe.rawValue != 0 && vmx.nested.vmxe { v |= CR4.vmxe.rawValue }
        return v
    }

    /// LMSW: exits when it would change a host-owned bit of CR0[3:0] away from the shadow (§25.1.3).
    @inline(__always) func hookLMSW(_ v: UInt64, _ i: borrowing Instruction) throws(Abort) {
        guard vmxNonRoot else { return }
        let mask = vmx.current.pointee[.cr0GuestHostMask] & 0xF
        let shadow = vmx.current.pointee[.cr0ReadShadow]
        let exits = (mask & 1 != 0 && v & 1 != 0 && shadow & 1 == 0) || (mask & 0xE) & (v ^ shadow) != 0
        if exits {
            let q = CRAccessQualification(lmswSource: UInt16(truncatingIfNeeded: v), memoryOperand: i.isMem)
            throw instructionExit(.controlRegisterAccess, qualification: q.rawValue, linear: i.isMem ? effectiveAddress(i) : 0)
        }
    }

    /// Port I/O ("unconditional I/O exiting", "use I/O bitmaps"): exit reason 30 with the qualification of
    /// SDM Vol. 3C Table 27-5.
    @inline(__always) func hookIO(port: UInt16, size: Int, input: Bool) throws(Abort) {
        guard vmxNonRoot else { return }
        if !ioExits(vmx.current.pointee, port: port, size: size) {
            // While L2 runs, an access L1 lets through is L0's if L0 intercepts it (NestedVMX.swift).
            guard vmx.nested.inL2 && l0WantsIO(port: port, size: size) else { return }
            exitIsL0s()
        }
        // INS/OUTS also report their address size and segment (SDM Vol. 3C Table 27-8).
        var info = InstructionInformation(rawValue: 0)
        if let i = currentInstruction, i.op == .string {
            info.addressSize = i.addrSize == 2 ? 0 : (i.addrSize == 4 ? 1 : 2)
            info.segment = Int(i.seg)
        }
        throw instructionExit(.ioInstruction, qualification: ioExitQualification(port: port, size: size, input: input), info: info.rawValue)
    }

    /// Whether a VMCS's controls make an I/O access exit: "unconditional I/O exiting", or the I/O bitmaps.
    func ioExits(_ v: borrowing VMCS, port: UInt16, size: Int) -> Bool {
        let primary = v.primary
        guard primary.contains(.useIOBitmaps) else { return primary.contains(.unconditionalIOExiting) }
        for k in 0..<size {
            let p = UInt64(port) &+ UInt64(k)
            if p > 0xFFFF { return true }
            let base = p < 0x8000 ? v[.ioBitmapA] : v[.ioBitmapB]
            let bit = p & 0x7FFF
            let byte = memory.readInteger(at: base &+ (bit >> 3), size: 1)
            if byte & (1 << (bit & 7)) != 0 { return true }
        }
        return false
    }

    /// The I/O exit qualification for the current instruction.
    func ioExitQualification(port: UInt16, size: Int, input: Bool) -> UInt64 {
        // The current instruction tells string/REP/immediate forms apart.
        let i = currentInstruction
        let string = i?.op == .string
        return IOQualification(port: port, size: size, input: input, string: string, rep: string && i?.hasRep == true,
                               immediate: i?.op == .inImm || i?.op == .outImm).rawValue
    }

    /// RDTSC / RDTSCP ("RDTSC exiting") and the TSC offset.
    @inline(__always) func hookRDTSC() throws(Abort) {
        guard vmxNonRoot, let i = currentInstruction else { return }
        // RDTSCP raises #UD in non-root operation unless "enable RDTSCP" is set (§25.3).
        if i.op == .rdtscp && !vmx.secondary.contains(.enableRDTSCP) { throw Abort.ud }
        guard vmx.primary.contains(.rdtscExiting) else { return }
        if i.op == .rdtsc { throw instructionExit(.rdtsc) }
        if i.op == .rdtscp { throw instructionExit(.rdtscp) }
    }

    /// RDMSR/WRMSR: exit unless the MSR bitmap clears the MSR's bit (§25.1.3; bitmaps in §24.6.9).
    @inline(__always) func hookMSR(_ index: UInt32, write: Bool) throws(Abort) {
        guard vmxNonRoot, let i = currentInstruction, i.op == .rdmsr || i.op == .wrmsr else { return }
        if !msrExits(vmx.current.pointee, index, write: write) {
            // While L2 runs, an MSR L1 lets through is L0's if L0's bitmap intercepts it.
            guard vmx.nested.inL2 && l0WantsMSR(index, write: write) else { return }
            exitIsL0s()
        }
        throw instructionExit(write ? .wrmsr : .rdmsr)
    }

    /// Whether a VMCS's controls make RDMSR/WRMSR of an MSR exit: always without "use MSR bitmaps", else
    /// the MSR's bit in the bitmap (MSRs outside the bitmap's two ranges always exit).
    func msrExits(_ v: borrowing VMCS, _ index: UInt32, write: Bool) -> Bool {
        guard v.primary.contains(.useMSRBitmaps) else { return true }
        let offset: UInt64
        if index <= 0x1FFF { offset = 0 } else if index >= 0xC000_0000 && index <= 0xC000_1FFF { offset = 1024 } else { return true }
        let bit = UInt64(index & 0x1FFF)
        let addr = v[.msrBitmap] &+ offset &+ (write ? 2048 : 0) &+ (bit >> 3)
        return memory.readInteger(at: addr, size: 1) & (1 << (bit & 7)) != 0
    }

    /// CPUID always exits in non-root operation.
    @inline(__always) func hookCPUID() throws(Abort) {
        if vmxNonRoot { throw instructionExit(.cpuid) }
    }

    /// MOV from CR3 ("CR3-store exiting").
    @inline(__always) func hookCR3Read(_ i: borrowing Instruction) throws(Abort) {
        if vmxNonRoot && vmx.primary.contains(.cr3StoreExiting) {
            throw instructionExit(.controlRegisterAccess, qualification: CRAccessQualification(controlRegister: 3, access: .movFromCR, register: Int(i.rm)).rawValue)
        }
    }

    /// MOV from CR8: "CR8-store exiting", or the virtual TPR with "use TPR shadow".
    @inline(__always) func hookReadCR8(_ i: borrowing Instruction) throws(Abort) -> UInt64 {
        guard vmxNonRoot else { return cr8 }
        if vmx.primary.contains(.cr8StoreExiting) {
            throw instructionExit(.controlRegisterAccess, qualification: CRAccessQualification(controlRegister: 8, access: .movFromCR, register: Int(i.rm)).rawValue)
        }
        if vmx.primary.contains(.useTPRShadow) {
            return (memory.readInteger(at: vmx.current.pointee[.virtualAPICAddress] &+ 0x80, size: 1) >> 4) & 0xF
        }
        if vmx.nested.inL2 { return try l0ReadCR8(i) }
        return cr8
    }

    /// MOV to CR0/CR3/CR4/CR8 in non-root operation. Returns true when handled without changing the
    /// register (a TPR-shadow write); throws a VM exit when the controls say so.
    @inline(__always) func hookCRWrite(_ n: Int, _ v: UInt64, _ i: borrowing Instruction) throws(Abort) -> Bool {
        guard vmxNonRoot else { return false }
        let q = CRAccessQualification(controlRegister: n, access: .movToCR, register: Int(i.rm)).rawValue
        switch n {
        case 0, 4:
            let mask = vmx.current.pointee[n == 0 ? .cr0GuestHostMask : .cr4GuestHostMask]
            let shadow = vmx.current.pointee[n == 0 ? .cr0ReadShadow : .cr4ReadShadow]
            var compared = mask
            if vmx.nested.enabled && !vmx.nested.inL2 { try nestedCRWrite(n, v, mask: &compared) }
            if (v ^ shadow) & compared != 0 { throw instructionExit(.controlRegisterAccess, qualification: q) }
            // Host-owned bits keep their current values; the guest changes only its own bits.
            let current = n == 0 ? cr0Value : cr4Value
            let merged = (v & ~mask) | (current & mask)
            if n == 0 { try writeCR0(merged) } else { try writeCR4(merged) }
            return true
        case 3:
            if vmx.primary.contains(.cr3LoadExiting) {
                let count = Int(min(vmx.current.pointee[.cr3TargetCount], 4))
                let targets: [VMCSField] = [.cr3TargetValue0, .cr3TargetValue1, .cr3TargetValue2, .cr3TargetValue3]
                if !targets.prefix(count).contains(where: { vmx.current.pointee[$0] == v }) {
                    throw instructionExit(.controlRegisterAccess, qualification: q)
                }
            }
            return false
        case 8:
            if vmx.primary.contains(.cr8LoadExiting) { throw instructionExit(.controlRegisterAccess, qualification: q) }
            if vmx.primary.contains(.useTPRShadow) {
                // The virtual TPR (VTPR, byte 80H of the virtual-APIC page) takes the value; a TPR-below-threshold
                // VM exit follows the instruction when VTPR[7:4] drops below the threshold (§29.1.2).
                memory.writeInteger((v & 0xF) << 4, at: vmx.current.pointee[.virtualAPICAddress] &+ 0x80, size: 4)
                if (v & 0xF) < vmx.current.pointee[.tprThreshold] & 0xF {
                    trapExit(.tprBelowThreshold)
                    lazyEventCheck = true
                }
                return true
            }
            // While L2 runs, a write L1's controls let through goes to L1's TPR, which L0 may virtualise.
            if vmx.nested.inL2 { return try l0WriteCR8(v, qualification: q) }
            return false
        default:
            return false
        }
    }

    /// MOV DR ("MOV-DR exiting").
    @inline(__always) func hookMovDR(_ i: borrowing Instruction) throws(Abort) {
        if vmxNonRoot && vmx.primary.contains(.movDRExiting) {
            let q = DebugRegisterQualification(debugRegister: Int(i.reg), fromDR: i.op == .movFromDR, register: Int(i.rm))
            throw instructionExit(.movDR, qualification: q.rawValue)
        }
    }

    /// PAUSE ("PAUSE exiting").
    @inline(__always) func hookPause() throws(Abort) {
        if vmxNonRoot && vmx.primary.contains(.pauseExiting) { throw instructionExit(.pause) }
    }

    /// VMX instructions. In non-root operation they cause VM exits (§25.1.2), with the instruction
    /// information of SDM Vol. 3C Tables 27-9, 27-13 and 27-14 — but with nesting on, the model implements
    /// them for the guest hypervisor (L1) itself (NestedVMX.swift), and only L2's go to L1 as exits. Outside
    /// VMX operation (CR4.VMXE clear, VMX not reported in CPUID) they raise #UD (SDM Vol. 3C §30.3).
    func executeVMXInstruction(_ i: borrowing Instruction) throws(Abort) {
        let sub = i.sub
        if vmx.nested.enabled && vmxNonRoot && !vmx.nested.inL2 && sub != 0 && sub != 12 {
            try executeVMXInstructionForL1(i)
            return
        }
        guard vmxNonRoot else { throw Abort.ud }
        let r: ExitReason
        switch sub {
        case 1: r = .vmlaunch
        case 2: r = .vmresume
        case 3: r = .vmxoff
        case 4: r = .vmptrld
        case 5: r = .vmclear
        case 6: r = .vmptrst
        case 7: r = .vmxon
        case 8: r = .vmread
        case 9: r = .vmwrite
        case 10: r = .invept
        case 11: r = .invvpid
        case 12: r = .getsec
        default: r = .vmcall
        }
        var info = InstructionInformation(rawValue: 0)
        var qualification: UInt64 = 0
        if (4...11).contains(sub) {
            info = InstructionInformation(operandOf: i)
            if sub >= 8 { info.register2 = Int(i.reg & 15) }
            if i.isMem { qualification = UInt64(bitPattern: i.disp) }
        }
        throw instructionExit(r, qualification: qualification, info: info.rawValue)
    }

    /// MOV to CR0/CR4 by L1 with nesting on: CR4.VMXE is L1's own bit when L0 owns it (taken out of `mask`),
    /// and in VMX operation the fixed bits hold (#GP otherwise; SDM Vol. 3C §23.8).
    func nestedCRWrite(_ n: Int, _ v: UInt64, mask: inout UInt64) throws(Abort) {
        if n == 4 {
            if vmx.nested.inVMXOperation && v & CR4.vmxe.rawValue == 0 { throw Abort.gp(0) }
            if mask & CR4.vmxe.rawValue != 0 {
                vmx.nested.vmxe = v & CR4.vmxe.rawValue != 0
                mask &= ~CR4.vmxe.rawValue
            }
        } else if vmx.nested.inVMXOperation && v & VMXCapability.cr0Fixed0 != VMXCapability.cr0Fixed0 {
            throw Abort.gp(0)
        }
    }

    /// Extra CPUID.1:ECX feature bits reported by optional units (VMX, SSE3…): XSAVE and OSXSAVE (Sources/X86/FPU).
    var featureECX1: UInt32 { xsaveFeatureECX1 | (vmx.nested.enabled ? 1 << 5 : 0) }
    /// Extra CPUID.1:EDX feature bits reported by optional units (FPU, FXSR, SSE, SSE2).
    var featureEDX1: UInt32 {
        (1 << 0) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26)   // FPU, MMX, FXSR, SSE, SSE2 (Sources/X86/FPU)
    }
    /// CR4 bits supported by optional units (OSFXSR, OSXMMEXCPT, OSXSAVE, VMXE).
    var supportedCR4Extra: UInt64 {
        CR4.osfxsr.rawValue | CR4.osxmmexcpt.rawValue | CR4.osxsave.rawValue | (vmxNonRoot ? CR4.vmxe.rawValue : 0)
    }
}
