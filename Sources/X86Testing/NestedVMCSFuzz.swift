// Nested cases of the VMCS fuzzer: guest code (L1) that drives the VMX instructions itself — VMXON, random
// VMWRITEs over a valid VMCS, VMLAUNCH/VMRESUME of random L2 code, VMREAD, VMCLEAR/VMPTRLD/VMPTRST,
// INVEPT/INVVPID, VMXOFF — on a vCPU with nested VMX on. The invariants are the plain cases' (no trap, every
// exit L0 gets agrees with the VMCS it sees), plus: an exit from L2 only while L2 runs.
import Hypervisor
import X86
import X86Assembler

extension VMCSFuzzer {
    /// Guest-physical layout of the nested cases (beside `Layout`).
    enum NestedLayout {
        static let msrBitmap: UInt64 = 0x7000      // all zeros: L1's MSR accesses run in the model
        static let vmxonRegion: UInt64 = 0x20000
        static let vmcsRegions: [UInt64] = [0x21000, 0x22000]
        static let pointers: UInt64 = 0x23000      // qwords: VMXON region, VMCS regions, random values
        static let l2Code: UInt64 = 0x30000
        static let l1Stack: UInt64 = 0x9000
    }

    /// VMX instruction snippets L1's exit handler and main line draw from.
    enum VMXStep: CaseIterable { case vmwrite, vmread, vmresume, vmlaunch, advanceRIP, vmclear, vmptrld, vmptrst, invept, invvpid, vmxoff, vmxon }

    /// Emits `mov eax, field; mov rbx, value; vmwrite rax, rbx`.
    static func emitWrite(_ a: Assembler, _ field: UInt32, _ value: UInt64) {
        a.mov(.eax, .imm(field))
        a.mov(.rbx, .imm(value))
        a.vmwrite(.rax, .rbx)
    }

    /// One random VMX instruction with random operands.
    static func emitStep(_ a: Assembler, _ r: inout OracleRandom) {
        let pointer = Int64(NestedLayout.pointers) + Int64(r.below(8) * 8)
        switch r.pick(VMXStep.allCases) {
        case .vmwrite:
            let f = r.oneIn(6) ? UInt32(truncatingIfNeeded: r.next() & 0x7FFF) : r.pick(interesting).rawValue
            emitWrite(a, f, r.coin() ? UInt64(r.below(0x10000)) : r.next())
        case .vmread:
            let f = r.oneIn(4) ? UInt32(truncatingIfNeeded: r.next() & 0x7FFF) : r.pick(VMCSField.allCases).rawValue
            a.mov(.eax, .imm(f))
            if r.coin() { a.vmread(.rbx, .rax) } else { a.vmread(.qword[.absolute(pointer + 64)], .rax) }
        case .vmresume: a.vmresume()
        case .vmlaunch: a.vmlaunch()
        case .advanceRIP:
            a.mov(.esi, 0x681E); a.vmread(.rdi, .rsi)
            a.mov(.esi, 0x440C); a.vmread(.rsi, .rsi)
            a.add(.rdi, .rsi)
            a.mov(.esi, 0x681E); a.vmwrite(.rsi, .rdi)
        case .vmclear: a.vmclear(.qword[.absolute(pointer)])
        case .vmptrld: a.vmptrld(.qword[.absolute(pointer)])
        case .vmptrst: a.vmptrst(.qword[.absolute(pointer + 64)])
        case .invept, .invvpid:
            a.mov(.ecx, .imm(r.below(5)))
            let descriptor = Operand.xmmword[.absolute(pointer)]
            if r.coin() { a.invept(.rcx, descriptor) } else { a.invvpid(.rcx, descriptor) }
        case .vmxoff: if r.oneIn(4) { a.vmxoff() } else { a.nop() }
        case .vmxon: a.vmxon(.qword[.absolute(Int64(NestedLayout.pointers))])
        }
    }

    /// Guest code and memory for a nested case: L1 in 64-bit mode at `Layout.code`, L2's random code.
    static func nestedGuest(_ r: inout OracleRandom, memory mem: PhysicalMemory, l2: [UInt8]) throws -> [UInt8] {
        let regions = [NestedLayout.vmxonRegion] + NestedLayout.vmcsRegions
        for (k, p) in regions.enumerated() { mem.writeInteger(p, at: NestedLayout.pointers + UInt64(k * 8), size: 8) }
        for k in regions.count..<8 {
            mem.writeInteger(r.oneIn(3) ? r.next() : UInt64(r.below(0x40)) << 12, at: NestedLayout.pointers + UInt64(k * 8), size: 8)
        }
        mem.write(l2, at: NestedLayout.l2Code)
        let a = Assembler(mode: .bits64, origin: Layout.code)
        let handler = a.label("handler")
        a.mov(.rsp, .imm(NestedLayout.l1Stack))
        a.mov(.rax, .cr4); a.or(.rax, 0x2000); a.mov(.cr4, .rax)
        a.mov(.ecx, 0x3A); a.mov(.eax, 5); a.xor(.edx, .edx); a.wrmsr()
        a.mov(.ecx, 0x480); a.rdmsr()
        for p in regions where !r.oneIn(16) { a.mov(.dword[.absolute(Int64(p))], .eax) }
        a.vmxon(.qword[.absolute(Int64(NestedLayout.pointers))])
        a.vmptrld(.qword[.absolute(Int64(NestedLayout.pointers) + 8)])
        // A valid VMCS for a 64-bit L2 (the plain cases' base), host state for L1, then random VMWRITEs.
        var v = base(.long64)
        v[.guestRIP] = NestedLayout.l2Code
        v[.guestRSP] = 0x38000
        v.secondary = []
        v[.eptPointer] = 0
        v[.hostCR3] = Layout.pml4
        v[.hostRSP] = NestedLayout.l1Stack
        for f in VMCSField.allCases where f.isWritable && v[f] != 0 && f != .hostRIP { emitWrite(a, f.rawValue, v[f]) }
        a.mov(.eax, .imm(VMCSField.hostRIP.rawValue))
        a.mov(.rbx, .label(handler))
        a.vmwrite(.rax, .rbx)
        for _ in 0..<r.below(6) { emitStep(a, &r) }
        a.vmlaunch()
        a.bind(handler)
        for _ in 0..<r.within(1...6) { emitStep(a, &r) }
        if r.coin() { emitStep(a, &r) } else { a.vmresume() }
        a.jmp(handler)
        return try a.finish()
    }

    /// Runs a nested case: L0 enters L1 (the 64-bit shape with nesting on) and handles what comes back.
    static func runNested(_ r: inout OracleRandom, result: inout Result, l2: [UInt8]) -> Result {
        result.shape = .long64
        let vm = VirtualMachine()
        do { try vm.allocate(guestPhysical: 0, size: Layout.ram) } catch {
            result.violation = "mapping guest memory failed: \(error)"
            return result
        }
        let mem = vm.memory
        writeIdentityMap(mem)
        let l1: [UInt8]
        do { l1 = try nestedGuest(&r, memory: mem, l2: l2) } catch {
            result.violation = "assembling the nested guest failed: \(error)"
            return result
        }
        mem.write(l1, at: Layout.code)
        let vcpu = vm.makeVCPU()
        vcpu.nestedVirtualization = true
        var v = base(.long64)
        v.primary.insert([.useMSRBitmaps, .hltExiting])
        v[.msrBitmap] = NestedLayout.msrBitmap
        if r.oneIn(3) { v.primary.insert(.unconditionalIOExiting) }
        vcpu.vmcs = v
        var trace: [String] = []
        enter(&r, vcpu: vcpu, result: &result, trace: &trace)
        result.trace = trace.joined(separator: " ")
        return result
    }

    /// The entries of a nested case, and L0's handling of what each returns.
    static func enter(_ r: inout OracleRandom, vcpu: VCPU, result: inout Result, trace: inout [String]) {
        for _ in 0..<6 {
            do {
                let inL2Before = vcpu.inNestedGuest
                let e = try vcpu.run(instructionBudget: UInt64(r.within(50...3000)))
                trace.append("\(e.reason.rawValue)\(e.fromNestedGuest ? "@L2" : "")\(e.entryFailure ? "!" : "")")
                if let problem = check(exit: e, vcpu: vcpu) { result.violation = problem; return }
                if e.fromNestedGuest != vcpu.inNestedGuest {
                    result.violation = "exit says from L2 = \(e.fromNestedGuest) but the processor is in L2 = \(vcpu.inNestedGuest) (before: \(inL2Before))"
                    return
                }
                result.outcome = e.entryFailure ? .failExit : .exit
                if e.instructionLength > 0 && e.instructionLength <= 15 && r.below(4) != 0 {
                    try? vcpu.write(.guestRIP, vcpu.read(.guestRIP) &+ UInt64(e.instructionLength))
                }
                if r.oneIn(4) {
                    try? vcpu.write(.vmEntryInterruptionInformation, UInt64(InterruptionInfo(vector: UInt8(r.within(32...255)), type: .external).rawValue))
                }
            } catch {
                trace.append("fail")
                result.outcome = .failValid
                return
            }
        }
        result.outcome = .budget
    }
}
