// The embedding API, shaped like Apple's Hypervisor.framework: a virtual machine owns guest-physical
// memory; its vCPUs run in VMX non-root operation and return VM exits.
import X86

/// Errors of the Hypervisor API.
public enum HypervisorError: Error, Equatable, CustomStringConvertible {
    /// A mapping request was misaligned, overlapping or out of range.
    case badMapping(PhysicalMemory.MapError)
    /// VM entry failed a control or host-state check: VMfailValid with this VM-instruction error.
    case entryFailed(EntryFailure, instructionError: UInt32)
    /// The VMCS field is read-only (VM-exit information).
    case readOnlyField(VMCSField)

    /// One line explaining the error.
    public var description: String {
        switch self {
        case .badMapping(let e): return "guest-physical mapping refused: \(e)"
        case .entryFailed(let f, let n): return "\(f) — VMfailValid, VM-instruction error \(n)"
        case .readOnlyField(let f): return "VMCS field \(f) is read-only"
        }
    }
}

/// A virtual machine: guest-physical memory (the EPT of Hypervisor.framework's model) and its vCPUs.
public final class VirtualMachine {
    /// Guest-physical memory.
    public let memory: PhysicalMemory

    /// Creates a virtual machine with no memory mapped.
    public init() {
        memory = PhysicalMemory()
    }

    /// Maps host memory at a guest-physical range (`hv_vm_map`). The caller keeps the memory alive.
    public func map(_ host: UnsafeMutableRawPointer, guestPhysical: UInt64, size: UInt64,
                    permissions: PhysicalMemory.Permissions = .all) throws(HypervisorError) {
        do { try memory.map(host: host, at: guestPhysical, size: size, permissions: permissions) }
        catch { throw .badMapping(error) }
    }

    /// Allocates zeroed memory owned by the VM and maps it (a convenience over `map`).
    @discardableResult
    public func allocate(guestPhysical: UInt64, size: UInt64,
                         permissions: PhysicalMemory.Permissions = .all) throws(HypervisorError) -> UnsafeMutableRawPointer {
        do { return try memory.allocateRAM(at: guestPhysical, size: size, permissions: permissions) }
        catch { throw .badMapping(error) }
    }

    /// Removes mappings inside a range (`hv_vm_unmap`): later accesses are EPT violations.
    public func unmap(guestPhysical: UInt64, size: UInt64) {
        memory.unmap(at: guestPhysical, size: size)
    }

    /// Changes permissions of mappings inside a range (`hv_vm_protect`).
    public func protect(guestPhysical: UInt64, size: UInt64, permissions: PhysicalMemory.Permissions) {
        memory.protect(at: guestPhysical, size: size, permissions: permissions)
    }

    /// Creates a vCPU (`hv_vcpu_create`). It belongs to the calling thread. A virtual machine may have
    /// several vCPUs, sharing its memory (each with its own VMCS, registers, TLB and time-stamp counter); a
    /// VMM runs them in turn on one thread, as `PCMachine` does (their shared memory is not synchronized).
    public func makeVCPU() -> VCPU {
        VCPU(vm: self)
    }
}
