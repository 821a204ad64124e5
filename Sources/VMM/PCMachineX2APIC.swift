// The x2APIC interface of the machine's local APIC (SDM Vol. 3A §11.12): CPUID reports it, WRMSR to
// IA32_APIC_BASE and RDMSR/WRMSR of MSRs 800H–8FFH exit (their bits set in the MSR bitmap) and reach the
// APIC here (Sources/Devices/LocalAPICX2APIC.swift has the register semantics).
import Devices
import Hypervisor
import X86

extension PCMachine {
    /// Sets the MSR-bitmap bits that make IA32_APIC_BASE writes and every access to 800H–8FFH exit.
    func interceptX2APICMSRs() {
        interceptMSR(MSRIndex.apicBase, quarter: 2048)
        for index in LocalAPIC.x2APICFirstMSR...LocalAPIC.x2APICLastMSR {
            for quarter: UInt64 in [0, 2048] { interceptMSR(index, quarter: quarter) }
        }
    }

    /// RDMSR of an x2APIC MSR: the APIC's register, nil for #GP(0).
    func readX2APICMSR(_ index: UInt32) -> UInt64? {
        localAPIC?.readX2APICMSR(index)
    }

    /// WRMSR of IA32_APIC_BASE or an x2APIC MSR; false for #GP(0). An IA32_APIC_BASE write the processor
    /// accepts (its mode-transition rules) is then reported to the APIC.
    func writeX2APICMSR(_ index: UInt32, _ value: UInt64) -> Bool {
        guard let localAPIC else { return index == MSRIndex.apicBase && vcpu.writeMSR(index, value) }
        if index == MSRIndex.apicBase {
            let old = vcpu.readMSR(index) ?? 0
            guard vcpu.writeMSR(index, value) else { return false }
            localAPIC.apicBaseChanged(from: old, to: value)
            relocateLocalAPICPage(from: old, to: value)
            return true
        }
        return localAPIC.writeX2APICMSR(index, value)
    }

    /// IA32_APIC_BASE moved the xAPIC page (SDM Vol. 3A §11.4.4): the local APIC's MMIO window moves to the new
    /// base. The machine has one window for all its processors (a base per processor is not modelled): software
    /// relocates the page on one processor while the others do not touch theirs (kvm-unit-tests' apic.c). A new
    /// base on another device's range leaves the window where it is (found on the bus, not at the old base).
    func relocateLocalAPICPage(from old: UInt64, to new: UInt64) {
        let mask: UInt64 = 0x000F_FFFF_FFFF_F000
        let to = new & mask
        guard old & mask != to else { return }
        for range in mmio.ranges {
            guard let (window, _) = mmio.device(at: range.base), window is LocalAPICWindow || window is LocalAPIC else { continue }
            if range.base == to { return }
            mmio.unmap(at: range.base)
            do { try mmio.map(window, at: to, length: 0x1000) } catch {
                try? mmio.map(window, at: range.base, length: 0x1000)
            }
            return
        }
    }

    /// CPUID bits of the x2APIC: leaf 1 ECX[21], and leaf 0BH (extended topology) with the x2APIC ID in EDX
    /// (one SMT level of one logical processor per APIC).
    func x2APICCPUID(leaf: UInt32, subleaf: UInt32, _ r: inout (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32)) {
        guard let localAPIC else { return }
        switch leaf {
        case 1: r.ecx |= 1 << 21
        case 0xB:
            let id = localAPIC.x2APICID
            r = subleaf == 0 ? (0, 1, 1 << 8 | subleaf, id) : (0, 0, subleaf & 0xFF, id)
        default: break
        }
    }
}
