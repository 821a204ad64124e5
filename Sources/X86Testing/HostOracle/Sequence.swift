// Generated user-mode instruction sequences: the unit the host oracle runs and compares.

/// The code segment a sequence runs in (at CPL 3, under a 64-bit kernel): the 64-bit user code segment, a
/// 32-bit one (compatibility mode) or a 16-bit one (compatibility mode, CS.D=0, with 16-bit data and stack
/// segments based at the data area).
public enum CodeSegmentMode: Int, CaseIterable, Sendable, CustomStringConvertible {
    case mode16 = 16
    case mode32 = 32
    case mode64 = 64

    /// Where the code starts as the code sees it: the code area's linear address, or offset 0 of the 16-bit
    /// code segment (based at the code area).
    public var codeBase: UInt64 { self == .mode16 ? 0 : HostCPU.codeAddress }
    /// Where the data area starts as the code sees it (offset 0 of the 16-bit data segment in 16-bit code).
    public var dataBase: UInt64 { self == .mode16 ? 0 : HostCPU.dataAddress }
    /// The register width the oracle compares: 64 bits, else the low 32 bits of RAX–RDI (outside 64-bit mode
    /// the upper halves and R8–R15 are not architecturally defined across the mode switch).
    public var comparedRegisterMask: UInt64 { self == .mode64 ? ~0 : 0xFFFF_FFFF }
    /// "16-bit", "32-bit", "64-bit".
    public var description: String { "\(rawValue)-bit" }
}

/// One generated instruction (setup MOVs that pin address registers are instructions of their own).
public struct GeneratedInstruction: Equatable, Sendable {
    /// The raw encoding.
    public var bytes: [UInt8]
    /// Intel-syntax text for failure reports (branch targets shown as absolute addresses).
    public var text: String
    /// Linear address of the first byte.
    public var address: UInt64
    /// RFLAGS bits whose value is undefined before / after this instruction (a join over every path
    /// that reaches it; for loop bodies over every iteration).
    public var undefinedFlagsBefore: UInt64
    public var undefinedFlagsAfter: UInt64
    /// GPRs (0 = RAX ... 15 = R15) whose value is undefined before / after this instruction.
    public var undefinedRegistersBefore: Set<Int>
    public var undefinedRegistersAfter: Set<Int>
    /// False for instructions no path reaches (code skipped by an unconditional jump).
    public var reachable: Bool

    /// The bytes as hex, for reports.
    public var hex: String { bytes.map { String($0, radix: 16).leftPadded(2) }.joined(separator: " ") }
}

/// A generated sequence with its initial machine state and the comparison masks.
public struct GeneratedSequence: Equatable, Sendable {
    /// The seed and index that regenerate it: `SequenceGenerator.sequence(seed:index:)`.
    public var seed: UInt64
    public var index: UInt64
    /// The instructions in address order.
    public var instructions: [GeneratedInstruction]
    /// The concatenated bytes, placed at `HostCPU.codeAddress`.
    public var code: [UInt8]
    /// Registers at entry (RIP = `HostCPU.codeAddress`; RSP inside the data area).
    public var initialState: HostState
    /// The data area at entry (`HostCPU.dataSize` bytes at `HostCPU.dataAddress`).
    public var initialData: [UInt8]
    /// RFLAGS bits to compare when the run completes: CF PF AF ZF SF OF DF minus any flag some path
    /// leaves undefined.
    public var definedFlagsMask: UInt64
    /// GPRs whose final value is undefined (e.g. BSF/BSR destination with a zero source).
    public var undefinedRegisters: Set<Int>
    /// The code-segment mode it was generated for (addresses above are as that code sees them).
    public var mode: CodeSegmentMode = .mode64
    /// 16-bit code only: SS is a 32-bit stack segment (B=1: pushes and pops use ESP) instead of a 16-bit one.
    public var stack32 = false

    /// The RFLAGS mask and undefined GPRs to use for a given outcome: for `.completed` the sequence's;
    /// for an exception, those before the instruction at `faultRIP` (faults), or after the instruction
    /// ending at `faultRIP` (traps); if neither matches, the union over the whole sequence.
    public func comparisonMasks(for outcome: HostOutcome) -> (definedFlags: UInt64, undefinedRegisters: Set<Int>) {
        guard case .exception(_, let rip) = outcome else { return (definedFlagsMask, undefinedRegisters) }
        if let i = instructions.first(where: { $0.address == rip }) {
            return (HostFlags.compared & ~i.undefinedFlagsBefore, i.undefinedRegistersBefore)
        }
        if let i = instructions.first(where: { $0.address + UInt64($0.bytes.count) == rip }) {
            return (HostFlags.compared & ~i.undefinedFlagsAfter, i.undefinedRegistersAfter)
        }
        var flags: UInt64 = 0
        var regs = undefinedRegisters
        for i in instructions {
            flags |= i.undefinedFlagsBefore | i.undefinedFlagsAfter
            regs.formUnion(i.undefinedRegistersAfter)
        }
        return (HostFlags.compared & ~flags, regs)
    }

    /// A multi-line listing: address, bytes, text, undefined flags after.
    public var listing: String {
        var s = "seed \(seed) index \(index)\(mode == .mode64 ? "" : " (\(mode) code\(stack32 ? ", 32-bit stack" : ""))")\n"
        for i in instructions {
            s += "  0x\(String(i.address, radix: 16))  \(i.hex.rightPadded(36)) \(i.text)"
            if i.undefinedFlagsAfter != 0 { s += "   ; undef flags 0x\(String(i.undefinedFlagsAfter, radix: 16))" }
            if !i.reachable { s += "   ; unreachable" }
            s += "\n"
        }
        return s
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
    func rightPadded(_ n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
