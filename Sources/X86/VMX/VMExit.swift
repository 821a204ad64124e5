// The value a VM exit produces (SDM Vol. 3C chapter 27, "VM Exits"; §24.9 exit-information fields).

/// A VM exit: the basic exit reason and every exit-information field the SDM defines for it.
///
/// A plain value: no references (the failure details are inline too), so an exit is returned, stored and
/// copied as bytes, without reference counting — it crosses several layers on every exit. A test keeps it so.
public struct VMExit: Equatable, Sendable, Codable {
    /// Basic exit reason.
    public var reason: ExitReason
    /// Bit 31 of the exit-reason field: VM-entry failure.
    public var entryFailure: Bool = false
    /// The exit came from L2, the guest of a guest hypervisor running nested, and only the Swift VMM (L0)
    /// wanted it (its memory map, devices or deadline); the VMCS fields the API shows hold L2's guest state.
    public var fromNestedGuest: Bool = false
    /// Exit qualification.
    public var qualification: UInt64 = 0
    /// Guest-linear address (for exits that define it).
    public var guestLinearAddress: UInt64 = 0
    /// Guest-physical address (EPT violations and misconfigurations).
    public var guestPhysicalAddress: UInt64 = 0
    /// VM-exit instruction length (exits caused by instructions, and events during software-interrupt delivery).
    public var instructionLength: UInt32 = 0
    /// VM-exit instruction information (descriptor-table, VMX, INS/OUTS… exits).
    public var instructionInformation: UInt32 = 0
    /// VM-exit interruption information (exits caused by events).
    public var interruptionInformation: InterruptionInfo = InterruptionInfo(rawValue: 0)
    /// VM-exit interruption error code.
    public var interruptionErrorCode: UInt32 = 0
    /// IDT-vectoring information (the exit happened during event delivery).
    public var idtVectoringInformation: InterruptionInfo = InterruptionInfo(rawValue: 0)
    /// IDT-vectoring error code.
    public var idtVectoringErrorCode: UInt32 = 0
    /// I/O RCX, RSI, RDI, RIP: saved for SMIs during I/O instructions, zero otherwise (SDM Vol. 3C §24.9.2).
    /// Always zero here: the processor model has no SMM, so no exit reports an SMI (and the exit value stays
    /// small enough to copy inline).
    public var ioRCX: UInt64 { 0 }
    /// See `ioRCX`.
    public var ioRSI: UInt64 { 0 }
    /// See `ioRCX`.
    public var ioRDI: UInt64 { 0 }
    /// See `ioRCX`.
    public var ioRIP: UInt64 { 0 }
    /// For a failed VM entry: the check that failed, its SDM section and the offending values.
    public var failedCheck: EntryFailure? = nil

    /// Creates an exit.
    public init(reason: ExitReason) { self.reason = reason }

    /// The raw exit-reason field (bit 31 set for entry failures).
    public var exitReasonField: UInt32 { UInt32(reason.rawValue) | (entryFailure ? 1 << 31 : 0) }
}

/// A failed VM-entry check: which rule, where the SDM states it, and the values that broke it.
///
/// A plain value like the `VMExit` that carries it: the offending values are held inline (at most
/// `EntryFailure.maximumValues`), each named by a label rather than by text.
public struct EntryFailure: Equatable, Sendable, Codable, CustomStringConvertible {
    /// The rule.
    public var check: EntryCheck
    /// MSR-load entry index for MSR-loading failures (the exit qualification), else 0.
    public var msrIndex: UInt32 = 0
    /// The offending values, inline: numbers, then names (apart, so the value packs without padding);
    /// unused slots stay at `EntryFailureValue.unused`.
    private var value0: UInt64 = 0, value1: UInt64 = 0, value2: UInt64 = 0, value3: UInt64 = 0
    private var name0 = EntryFailureValue.unused.name, name1 = EntryFailureValue.unused.name
    private var name2 = EntryFailureValue.unused.name, name3 = EntryFailureValue.unused.name
    /// How many of the inline values are in use.
    private var count: UInt8 = 0

    /// Most offending values a failure records (the checks name at most four).
    public static let maximumValues = 4

    /// Creates a failure; values past `maximumValues` are dropped.
    public init(_ check: EntryCheck, _ values: [EntryFailureValue] = [], msrIndex: UInt32 = 0) {
        self.check = check
        self.msrIndex = msrIndex
        self.values = values
    }

    /// Offending fields and their values.
    public var values: [EntryFailureValue] {
        get {
            let all = [EntryFailureValue(name0, value0), EntryFailureValue(name1, value1),
                       EntryFailureValue(name2, value2), EntryFailureValue(name3, value3)]
            return Array(all.prefix(Int(count)))
        }
        set {
            let n = min(newValue.count, EntryFailure.maximumValues)
            count = UInt8(n)
            let v = Array(newValue.prefix(n)) + Array(repeating: EntryFailureValue.unused, count: EntryFailure.maximumValues - n)
            (name0, value0) = (v[0].name, v[0].value)
            (name1, value1) = (v[1].name, v[1].value)
            (name2, value2) = (v[2].name, v[2].value)
            (name3, value3) = (v[3].name, v[3].value)
        }
    }

    /// One line: the check, its section, and the values.
    public var description: String {
        let shown = values
        return "VM entry failed: \(check) (SDM Vol. 3C \(check.section)): \(check.rule)"
            + (shown.isEmpty ? "" : " [" + shown.map(\.description).joined(separator: ", ") + "]")
    }

    /// How the failure is reported: VMfailValid with a VM-instruction error number (controls and host
    /// state), or a VM exit with reason 33/34 (guest state, MSR loading).
    public var kind: EntryFailureKind { check.kind }

    /// The exit qualification of the VM exit a failure of guest state or MSR loading causes (SDM Vol. 3C
    /// §26.8): the 1-based MSR-load entry for MSR loading, 2 for a PDPTE that fails its checks, 4 for a bad
    /// VMCS link pointer, else 0.
    public var exitQualification: UInt64 {
        switch check {
        case .entryMSRLoadEntry: return UInt64(msrIndex)
        case .guestPDPTEReserved: return 2
        case .guestVMCSLinkPointer: return 4
        default: return 0
        }
    }

    private enum CodingKeys: String, CodingKey { case check, values, msrIndex }

    /// Decodes the check, its values and the MSR-load index.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(EntryCheck.self, forKey: .check), try c.decode([EntryFailureValue].self, forKey: .values),
                  msrIndex: try c.decode(UInt32.self, forKey: .msrIndex))
    }

    /// Encodes the check, its values and the MSR-load index.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(check, forKey: .check)
        try c.encode(values, forKey: .values)
        try c.encode(msrIndex, forKey: .msrIndex)
    }
}

/// One offending value of a failed VM-entry check: what it is and its value ("guest CR0=0x21").
public struct EntryFailureValue: Equatable, Sendable, Codable, CustomStringConvertible {
    /// What a value is.
    public enum Name: Equatable, Sendable, Codable {
        /// A field or register named by a label.
        case label(EntryFailureLabel)
        /// Part of a guest segment register ("ss base").
        case segment(SegmentRegisterName, EntryFailureLabel)
        /// A VMCS field, by its name.
        case field(VMCSField)
    }
    /// What the value is.
    public var name: Name
    /// The value.
    public var value: UInt64

    /// Creates a value.
    public init(_ name: Name, _ value: UInt64) { self.name = name; self.value = value }

    /// An unused inline slot of `EntryFailure`.
    static let unused = EntryFailureValue(.label(.value), 0)

    /// "name=0x…" (a decimal number for the MSR-load entry number).
    public var description: String {
        switch name {
        case .label(.msrLoadEntry): return "\(EntryFailureLabel.msrLoadEntry.rawValue)=\(value)"
        case .label(let l): return "\(l.rawValue)=0x" + String(value, radix: 16)
        case .segment(let s, let l): return "\(s) \(l.rawValue)=0x" + String(value, radix: 16)
        case .field(let f): return "\(f)=0x" + String(value, radix: 16)
        }
    }
}

/// How a failed VM-entry check is reported (SDM Vol. 3C §26.1–26.4).
public enum EntryFailureKind: Equatable, Sendable, Codable {
    /// VMfailValid with this VM-instruction error number (7: invalid control fields; 8: invalid host-state fields).
    case vmFailValid(UInt32)
    /// VM exit with basic reason 33 (invalid guest state) or 34 (MSR loading).
    case vmExit(ExitReason)
}
