// Typed views of the exit qualification and the VM-exit instruction-information field (SDM Vol. 3C §27.2.1,
// §27.2.5): the processor builds them and every VMM decodes them through these, so each bit layout is written
// once.

/// Exit qualification for I/O instructions (exit reason 30; SDM Vol. 3C Table 27-5).
public struct IOQualification: RawRepresentable, Equatable, Sendable {
    /// The raw exit qualification.
    public var rawValue: UInt64
    /// Wraps a raw exit qualification.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Builds the qualification of an IN, OUT, INS or OUTS.
    public init(port: UInt16, size: Int, input: Bool, string: Bool = false, rep: Bool = false, immediate: Bool = false) {
        rawValue = UInt64((size &- 1) & 7) | UInt64(port) << 16
        if input { rawValue |= 1 << 3 }
        if string { rawValue |= 1 << 4 }
        if rep { rawValue |= 1 << 5 }
        if immediate { rawValue |= 1 << 6 }
    }

    /// Bits 2:0 plus one: the access size in bytes (1, 2 or 4).
    public var size: Int { Int(rawValue & 7) + 1 }
    /// Bit 3: direction, IN/INS (true) or OUT/OUTS (false).
    public var isInput: Bool { rawValue & (1 << 3) != 0 }
    /// Bit 4: a string instruction (INS/OUTS).
    public var isString: Bool { rawValue & (1 << 4) != 0 }
    /// Bit 5: REP prefixed.
    public var isREP: Bool { rawValue & (1 << 5) != 0 }
    /// Bit 6: operand encoding, the port is an immediate (true) or in DX (false).
    public var isImmediate: Bool { rawValue & (1 << 6) != 0 }
    /// Bits 31:16: the port number.
    public var port: UInt16 { UInt16(truncatingIfNeeded: rawValue >> 16) }
}

/// Exit qualification for control-register accesses (exit reason 28; SDM Vol. 3C Table 27-3).
public struct CRAccessQualification: RawRepresentable, Equatable, Sendable {
    /// The raw exit qualification.
    public var rawValue: UInt64
    /// Wraps a raw exit qualification.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Bits 5:4: the access type.
    public enum AccessType: UInt8, Sendable {
        /// MOV to CR.
        case movToCR = 0
        /// MOV from CR.
        case movFromCR = 1
        /// CLTS.
        case clts = 2
        /// LMSW.
        case lmsw = 3
    }

    /// Builds the qualification of a MOV to or from a control register.
    public init(controlRegister: Int, access: AccessType, register: Int) {
        rawValue = UInt64(controlRegister & 15) | UInt64(access.rawValue) << 4 | UInt64(register & 15) << 8
    }

    /// Builds the qualification of an LMSW with its source data.
    public init(lmswSource: UInt16, memoryOperand: Bool) {
        rawValue = UInt64(AccessType.lmsw.rawValue) << 4 | UInt64(lmswSource) << 16 | (memoryOperand ? 1 << 6 : 0)
    }

    /// Bits 3:0: the control register (0 for CLTS and LMSW).
    public var controlRegister: Int { Int(rawValue & 15) }
    /// Bits 5:4: the access type.
    public var accessType: AccessType { AccessType(rawValue: UInt8(rawValue >> 4 & 3)) ?? .movToCR }
    /// Bit 6: LMSW operand type, memory (true) or register (false).
    public var lmswMemoryOperand: Bool { rawValue & (1 << 6) != 0 }
    /// Bits 11:8: the general-purpose register of a MOV CR (0 RAX … 15 R15).
    public var register: Int { Int(rawValue >> 8 & 15) }
    /// Bits 31:16: the LMSW source data.
    public var lmswSource: UInt16 { UInt16(truncatingIfNeeded: rawValue >> 16) }
}

/// Exit qualification for MOV DR (exit reason 29; SDM Vol. 3C Table 27-4).
public struct DebugRegisterQualification: RawRepresentable, Equatable, Sendable {
    /// The raw exit qualification.
    public var rawValue: UInt64
    /// Wraps a raw exit qualification.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Builds the qualification of a MOV to or from a debug register.
    public init(debugRegister: Int, fromDR: Bool, register: Int) {
        rawValue = UInt64(debugRegister & 7) | (fromDR ? 1 << 4 : 0) | UInt64(register & 15) << 8
    }
    /// Bits 2:0: the debug register.
    public var debugRegister: Int { Int(rawValue & 7) }
    /// Bit 4: direction, MOV from DR (true) or to DR (false).
    public var isFromDR: Bool { rawValue & (1 << 4) != 0 }
    /// Bits 11:8: the general-purpose register.
    public var register: Int { Int(rawValue >> 8 & 15) }
}

/// Exit qualification for EPT violations (exit reason 48; SDM Vol. 3C Table 27-7).
public struct EPTViolationQualification: OptionSet, Equatable, Sendable {
    /// The raw exit qualification.
    public var rawValue: UInt64
    /// Wraps a raw exit qualification.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Bit 0: the access was a data read.
    public static let read = EPTViolationQualification(rawValue: 1 << 0)
    /// Bit 1: the access was a data write.
    public static let write = EPTViolationQualification(rawValue: 1 << 1)
    /// Bit 2: the access was an instruction fetch.
    public static let fetch = EPTViolationQualification(rawValue: 1 << 2)
    /// Bit 3: the guest-physical address was readable (AND of the EPT entries' read bits).
    public static let readable = EPTViolationQualification(rawValue: 1 << 3)
    /// Bit 4: the guest-physical address was writable.
    public static let writable = EPTViolationQualification(rawValue: 1 << 4)
    /// Bit 5: the guest-physical address was executable.
    public static let executable = EPTViolationQualification(rawValue: 1 << 5)
    /// Bit 6: with mode-based execute control, the guest-physical address was executable for user-mode linear
    /// addresses (AND of the EPT entries' bit 10); 0 without it.
    public static let userExecutable = EPTViolationQualification(rawValue: 1 << 6)
    /// Bit 7: the guest-linear-address field is valid.
    public static let linearAddressValid = EPTViolationQualification(rawValue: 1 << 7)
    /// Bit 8 (with bit 7): the access was to the translated linear address, not to a paging-structure entry.
    public static let translatedAccess = EPTViolationQualification(rawValue: 1 << 8)
    /// Bit 12: NMI unblocking due to IRET.
    public static let nmiUnblockingDueToIRET = EPTViolationQualification(rawValue: 1 << 12)

    /// The access bits (2:0) for an access kind.
    init(access: AccessKind) {
        switch access {
        case .read: self = .read
        case .write: self = .write
        case .fetch: self = .fetch
        }
    }
}

/// The VM-exit instruction-information field (SDM Vol. 3C §27.2.5): one layout shared by INS/OUTS
/// (Table 27-8), the descriptor-table instructions (Tables 27-10, 27-11), INVEPT/INVVPID (Table 27-9),
/// VMCLEAR/VMPTRLD/VMPTRST/VMXON (Table 27-13) and VMREAD/VMWRITE (Table 27-14).
public struct InstructionInformation: RawRepresentable, Equatable, Sendable {
    /// The raw field.
    public var rawValue: UInt32
    /// Wraps a raw field.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    private func bits(_ low: UInt32, _ count: UInt32) -> UInt32 { rawValue >> low & ((1 << count) - 1) }
    private mutating func set(_ low: UInt32, _ count: UInt32, _ v: UInt32) {
        let mask: UInt32 = ((1 << count) - 1) << low
        rawValue = (rawValue & ~mask) | (v << low & mask)
    }

    /// Bits 1:0: scaling of the index register (0 none, 1 ×2, 2 ×4, 3 ×8).
    public var scaling: Int { get { Int(bits(0, 2)) } set { set(0, 2, UInt32(newValue)) } }
    /// Bits 6:3: the register operand (reg1) of a register form.
    public var register1: Int { get { Int(bits(3, 4)) } set { set(3, 4, UInt32(newValue)) } }
    /// Bits 9:7: address size (0 16-bit, 1 32-bit, 2 64-bit).
    public var addressSize: Int { get { Int(bits(7, 3)) } set { set(7, 3, UInt32(newValue)) } }
    /// Address size in bits (16, 32 or 64).
    public var addressBits: Int { [16, 32, 64][min(2, addressSize)] }
    /// Bit 10: the operand is a register (true) or memory (false).
    public var isRegister: Bool { get { bits(10, 1) != 0 } set { set(10, 1, newValue ? 1 : 0) } }
    /// Bit 11 for LGDT…SIDT: operand size 32-bit (true) or 16-bit (false).
    public var operandSize32: Bool { get { bits(11, 1) != 0 } set { set(11, 1, newValue ? 1 : 0) } }
    /// Bits 17:15: the segment register (0 ES … 5 GS).
    public var segment: Int { get { Int(bits(15, 3)) } set { set(15, 3, UInt32(newValue)) } }
    /// Bits 21:18: the index register.
    public var indexRegister: Int { get { Int(bits(18, 4)) } set { set(18, 4, UInt32(newValue)) } }
    /// Bit 22: the index register is invalid (absent).
    public var indexInvalid: Bool { get { bits(22, 1) != 0 } set { set(22, 1, newValue ? 1 : 0) } }
    /// Bits 26:23: the base register.
    public var baseRegister: Int { get { Int(bits(23, 4)) } set { set(23, 4, UInt32(newValue)) } }
    /// Bit 27: the base register is invalid (absent).
    public var baseInvalid: Bool { get { bits(27, 1) != 0 } set { set(27, 1, newValue ? 1 : 0) } }
    /// Bits 29:28 for the descriptor-table instructions: instruction identity (SGDT/SLDT 0, SIDT/STR 1,
    /// LGDT/LLDT 2, LIDT/LTR 3).
    public var instructionIdentity: Int { get { Int(bits(28, 2)) } set { set(28, 2, UInt32(newValue)) } }
    /// Bits 31:28 for VMREAD/VMWRITE and INVEPT/INVVPID: the second register operand (reg2: the field
    /// encoding, or the type register).
    public var register2: Int { get { Int(bits(28, 4)) } set { set(28, 4, UInt32(newValue)) } }
}

extension InstructionInformation {
    /// The operand of a decoded instruction: the memory operand's scaling, segment, index and base (or the
    /// register in reg1 for a register form) and the address size.
    init(operandOf i: borrowing Instruction) {
        self.init(rawValue: 0)
        addressSize = i.addrSize == 2 ? 0 : (i.addrSize == 4 ? 1 : 2)
        if i.isMem {
            scaling = Int(i.scale)
            segment = Int(i.seg)
            if i.index != 0xFF { indexRegister = Int(i.index & 15) } else { indexInvalid = true }
            let base = i.base
            if base != 0xFF && base != 16 { baseRegister = Int(base & 15) } else { baseInvalid = true }
        } else {
            isRegister = true
            register1 = Int(i.rm & 15)
        }
    }
}
