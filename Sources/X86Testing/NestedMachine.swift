// The Swift VMM side (L0) of a nested run, shared by the tests and the nested benchmark.
import Hypervisor
import X86

/// Loads a guest hypervisor's image into `vm` and makes its vCPU: 64-bit mode at CPL 0 with the given page
/// tables, nested VMX on (unless `nested` is false), every MSR access left to the model (the all-zero MSR
/// bitmap at `msrBitmap`), HLT exiting so that L1's final HLT comes back to L0.
public func makeGuestHypervisorVCPU(_ vm: VirtualMachine, chunks: [(address: UInt64, bytes: [UInt8])], cr3: UInt64,
                                    entry: UInt64, stackTop: UInt64, msrBitmap: UInt64 = 0x5000, nested: Bool = true) -> VCPU {
    for c in chunks { vm.memory.write(c.bytes, at: c.address) }
    let vcpu = vm.makeVCPU()
    vcpu.nestedVirtualization = nested
    var v = vcpu.vmcs
    v[.guestCR0] = CR0.pe.rawValue | CR0.ne.rawValue | CR0.et.rawValue | CR0.pg.rawValue
    v[.guestCR3] = cr3
    v[.guestCR4] = CR4.pae.rawValue | CR4.vmxe.rawValue
    v.entryControls.insert(.ia32eModeGuest)
    v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
    v[.guestRIP] = entry
    v[.guestRSP] = stackTop
    v.primary.insert([.hltExiting, .useMSRBitmaps])
    v[.msrBitmap] = msrBitmap
    vcpu.vmcs = v
    return vcpu
}
