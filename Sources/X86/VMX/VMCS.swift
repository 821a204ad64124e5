// The virtual-machine control structure as a value (SDM Vol. 3C chapter 24).

/// A VMCS: every field of SDM Vol. 3D appendix B, the revision identifier and the launch state.
/// It is a value (`Equatable`, `Codable`): snapshot it, compare it, serialize it.
public struct VMCS: Equatable, Sendable, Codable {
    /// VMCS revision identifier (bits 30:0 of the region's first word).
    public var revisionIdentifier: UInt32 = VMXCapability.vmcsRevision
    /// Launch state: "clear" until VMLAUNCH succeeds, then "launched" (SDM Vol. 3C §24.1).
    public var launched = false
    /// VMX-abort indicator (SDM Vol. 3C §24.2).
    public var abortIndicator: UInt32 = 0
    /// Field storage indexed by `VMCSField.slot`.
    var storage = [UInt64](repeating: 0, count: VMCSField.slotCount)
    /// Entry-check verdict cache (SDM checks are re-run only after a write that could change the verdict):
    /// `checkedAll` says the whole VMCS passed; `ripChanged` says only the guest RIP was written since.
    var checkedAll = false
    var ripChanged = false

    private enum CodingKeys: String, CodingKey { case revisionIdentifier, launched, abortIndicator, storage }

    /// Two VMCSs are equal when their fields, revision and launch state are.
    public static func == (a: VMCS, b: VMCS) -> Bool {
        a.revisionIdentifier == b.revisionIdentifier && a.launched == b.launched &&
            a.abortIndicator == b.abortIndicator && a.storage == b.storage
    }

    /// Creates a VMCS with every field zero and the VMCS link pointer all ones.
    public init() {
        self[.vmcsLinkPointer] = ~0
    }

    /// Reads or writes a field (writes are truncated to the field's width).
    public subscript(field: VMCSField) -> UInt64 {
        @inline(__always) get { storage[field.slot] }
        @inline(__always) set {
            storage[field.slot] = newValue & field.valueMask
            if field == .guestRIP { ripChanged = true } else if field.type != .exitInformation { checkedAll = false }
        }
    }

    /// Stores a field as the processor does on a VM exit (saving guest state, writing exit information):
    /// the entry-check verdict stays valid.
    @inline(__always) mutating func store(_ field: VMCSField, _ value: UInt64) {
        storage[field.slot] = value & field.valueMask
    }

    /// Reads a field as 32 bits.
    @inline(__always) func u32(_ f: VMCSField) -> UInt32 { UInt32(truncatingIfNeeded: storage[f.slot]) }

    /// The pin-based controls.
    public var pinBased: PinBasedControls {
        get { PinBasedControls(rawValue: u32(.pinBasedControls)) }
        set { self[.pinBasedControls] = UInt64(newValue.rawValue) }
    }
    /// The primary processor-based controls.
    public var primary: PrimaryProcessorControls {
        get { PrimaryProcessorControls(rawValue: u32(.primaryProcessorBasedControls)) }
        set { self[.primaryProcessorBasedControls] = UInt64(newValue.rawValue) }
    }
    /// The secondary processor-based controls as they take effect (zero unless activated).
    public var secondary: SecondaryProcessorControls {
        get {
            primary.contains(.activateSecondaryControls)
                ? SecondaryProcessorControls(rawValue: u32(.secondaryProcessorBasedControls)) : []
        }
        set { self[.secondaryProcessorBasedControls] = UInt64(newValue.rawValue) }
    }
    /// The VM-exit controls.
    public var exitControls: VMExitControls {
        get { VMExitControls(rawValue: u32(.vmExitControls)) }
        set { self[.vmExitControls] = UInt64(newValue.rawValue) }
    }
    /// The VM-entry controls.
    public var entryControls: VMEntryControls {
        get { VMEntryControls(rawValue: u32(.vmEntryControls)) }
        set { self[.vmEntryControls] = UInt64(newValue.rawValue) }
    }

    /// Guest segment fields for a segment register: selector, base, limit, access rights.
    public static func guestFields(_ s: SegmentRegisterName) -> (selector: VMCSField, base: VMCSField, limit: VMCSField, accessRights: VMCSField) {
        switch s {
        case .es: return (.guestESSelector, .guestESBase, .guestESLimit, .guestESAccessRights)
        case .cs: return (.guestCSSelector, .guestCSBase, .guestCSLimit, .guestCSAccessRights)
        case .ss: return (.guestSSSelector, .guestSSBase, .guestSSLimit, .guestSSAccessRights)
        case .ds: return (.guestDSSelector, .guestDSBase, .guestDSLimit, .guestDSAccessRights)
        case .fs: return (.guestFSSelector, .guestFSBase, .guestFSLimit, .guestFSAccessRights)
        case .gs: return (.guestGSSelector, .guestGSBase, .guestGSLimit, .guestGSAccessRights)
        case .ldtr: return (.guestLDTRSelector, .guestLDTRBase, .guestLDTRLimit, .guestLDTRAccessRights)
        case .tr: return (.guestTRSelector, .guestTRBase, .guestTRLimit, .guestTRAccessRights)
        }
    }

    /// A guest segment register as the guest-state area holds it.
    public func guestSegment(_ s: SegmentRegisterName) -> SegmentRegister {
        let f = VMCS.guestFields(s)
        return SegmentRegister(selector: UInt16(truncatingIfNeeded: self[f.selector]), base: self[f.base],
                               limit: UInt32(truncatingIfNeeded: self[f.limit]), accessRights: UInt32(truncatingIfNeeded: self[f.accessRights]))
    }

    /// Stores a guest segment register into the guest-state area.
    public mutating func setGuestSegment(_ s: SegmentRegisterName, _ r: SegmentRegister) {
        let f = VMCS.guestFields(s)
        self[f.selector] = UInt64(r.selector)
        self[f.base] = r.base
        self[f.limit] = UInt64(r.limit)
        self[f.accessRights] = UInt64(r.accessRights & 0x1F0FF)
    }
}

/// Interruption-information format of the VM-entry, VM-exit and IDT-vectoring fields (SDM Vol. 3C §24.8.3).
public struct InterruptionInfo: Equatable, Sendable, Codable {
    /// Raw field value.
    public var rawValue: UInt32
    /// Creates the value from its raw bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// Creates a valid interruption-information value.
    public init(vector: UInt8, type: EventKind, deliverErrorCode: Bool = false) {
        rawValue = UInt32(vector) | UInt32(type.rawValue) << 8 | (deliverErrorCode ? 1 << 11 : 0) | 1 << 31
    }
    /// Bits 7:0.
    public var vector: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    /// Bits 10:8.
    public var typeBits: UInt8 { UInt8((rawValue >> 8) & 7) }
    /// The event type, if the bits name one.
    public var type: EventKind? { EventKind(rawValue: typeBits) }
    /// Bit 11.
    public var deliverErrorCode: Bool { rawValue & (1 << 11) != 0 }
    /// Bit 31.
    public var valid: Bool { rawValue & (1 << 31) != 0 }
}

extension VMCS {
    /// Saves a guest segment register as a VM exit does (keeps the entry-check verdict).
    mutating func storeGuestSegment(_ s: SegmentRegisterName, _ r: SegmentRegister) {
        let f = VMCS.guestFields(s)
        store(f.selector, UInt64(r.selector))
        store(f.base, r.base)
        store(f.limit, UInt64(r.limit))
        store(f.accessRights, UInt64(r.accessRights & 0x1F0FF))
    }
}

extension VMCS {
    /// Stores an exit's information in the exit-information fields (SDM Vol. 3C §24.9), as a VM exit does:
    /// the entry-check verdict stays valid. One pass over the storage (one uniqueness check, not ten).
    @inline(__always) mutating func storeExitInformation(_ e: VMExit) {
        guard storage.count == VMCSField.slotCount else {
            // A decoded VMCS whose storage has another length: the bounds-checked path.
            store(.exitReason, UInt64(e.exitReasonField))
            store(.exitQualification, e.qualification)
            store(.guestLinearAddress, e.guestLinearAddress)
            store(.guestPhysicalAddress, e.guestPhysicalAddress)
            store(.vmExitInstructionLength, UInt64(e.instructionLength))
            store(.vmExitInstructionInformation, UInt64(e.instructionInformation))
            store(.vmExitInterruptionInformation, UInt64(e.interruptionInformation.rawValue))
            store(.vmExitInterruptionErrorCode, UInt64(e.interruptionErrorCode))
            store(.idtVectoringInformation, UInt64(e.idtVectoringInformation.rawValue))
            store(.idtVectoringErrorCode, UInt64(e.idtVectoringErrorCode))
            return
        }
        storage.withUnsafeMutableBufferPointer { s in
            // Safe: every `VMCSField.slot` is below `VMCSField.slotCount`, which the guard above made the
            // storage's length; the 32-bit fields get 32-bit values, so no value mask is needed.
            s[VMCSField.exitReason.slot] = UInt64(e.exitReasonField)
            s[VMCSField.exitQualification.slot] = e.qualification
            s[VMCSField.guestLinearAddress.slot] = e.guestLinearAddress
            s[VMCSField.guestPhysicalAddress.slot] = e.guestPhysicalAddress
            s[VMCSField.vmExitInstructionLength.slot] = UInt64(e.instructionLength)
            s[VMCSField.vmExitInstructionInformation.slot] = UInt64(e.instructionInformation)
            s[VMCSField.vmExitInterruptionInformation.slot] = UInt64(e.interruptionInformation.rawValue)
            s[VMCSField.vmExitInterruptionErrorCode.slot] = UInt64(e.interruptionErrorCode)
            s[VMCSField.idtVectoringInformation.slot] = UInt64(e.idtVectoringInformation.rawValue)
            s[VMCSField.idtVectoringErrorCode.slot] = UInt64(e.idtVectoringErrorCode)
        }
    }
}
