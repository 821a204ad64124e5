// The value a VM exit produces (SDM Vol. 3C chapter 27, "VM Exits"; §24.9 exit-information fields).

/// A VM exit: the basic exit reason and every exit-information field the SDM defines for it.
public struct VMExit: Equatable, Sendable, Codable {
    /// Basic exit reason.
    public var reason: ExitReason
    /// Bit 31 of the exit-reason field: VM-entry failure.
    public var entryFailure: Bool = false
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
    /// I/O RCX, RSI, RDI, RIP (SMIs during I/O; zero otherwise).
    public var ioRCX: UInt64 = 0, ioRSI: UInt64 = 0, ioRDI: UInt64 = 0, ioRIP: UInt64 = 0
    /// For a failed VM entry: the check that failed, its SDM section and the offending values.
    public var failedCheck: EntryFailure? {
        get { failureBox?.failure }
        set { failureBox = newValue.map { EntryFailureBox($0) } }
    }
    /// The failure, boxed so that an ordinary exit is a small value that copies without reference counting.
    private var failureBox: EntryFailureBox? = nil

    /// Creates an exit.
    public init(reason: ExitReason) { self.reason = reason }

    /// The raw exit-reason field (bit 31 set for entry failures).
    public var exitReasonField: UInt32 { UInt32(reason.rawValue) | (entryFailure ? 1 << 31 : 0) }
}

/// A failed VM-entry check: which rule, where the SDM states it, and the values that broke it.
public struct EntryFailure: Equatable, Sendable, Codable, CustomStringConvertible {
    /// The rule.
    public var check: EntryCheck
    /// Offending fields and their values.
    public var values: [String]
    /// MSR-load entry index for MSR-loading failures (the exit qualification), else 0.
    public var msrIndex: UInt32 = 0

    /// Creates a failure.
    public init(_ check: EntryCheck, _ values: [String] = [], msrIndex: UInt32 = 0) {
        self.check = check; self.values = values; self.msrIndex = msrIndex
    }

    /// One line: the check, its section, and the values.
    public var description: String {
        "VM entry failed: \(check) (SDM Vol. 3C \(check.section)): \(check.rule)" + (values.isEmpty ? "" : " [" + values.joined(separator: ", ") + "]")
    }

    /// How the failure is reported: VMfailValid with a VM-instruction error number (controls and host
    /// state), or a VM exit with reason 33/34 (guest state, MSR loading).
    public var kind: EntryFailureKind { check.kind }
}

/// How a failed VM-entry check is reported (SDM Vol. 3C §26.1–26.4).
public enum EntryFailureKind: Equatable, Sendable, Codable {
    /// VMfailValid with this VM-instruction error number (7: invalid control fields; 8: invalid host-state fields).
    case vmFailValid(UInt32)
    /// VM exit with basic reason 33 (invalid guest state) or 34 (MSR loading).
    case vmExit(ExitReason)
}

/// A reference holding an `EntryFailure` (see `VMExit.failedCheck`).
final class EntryFailureBox: Equatable, Codable, Sendable {
    let failure: EntryFailure
    init(_ f: EntryFailure) { failure = f }
    static func == (a: EntryFailureBox, b: EntryFailureBox) -> Bool { a.failure == b.failure }
    required init(from decoder: Decoder) throws { failure = try EntryFailure(from: decoder) }
    func encode(to encoder: Encoder) throws { try failure.encode(to: encoder) }
}
