// Operands of the assembler: registers, immediates, memory references and labels.

/// The default operand and address size of the code being assembled.
public enum Mode: Sendable, Hashable, CustomStringConvertible {
    /// 16-bit code (real mode, 16-bit protected mode): `.code16`.
    case bits16
    /// 32-bit code (protected mode, compatibility mode): `.code32`.
    case bits32
    /// 64-bit code (IA-32e 64-bit mode): `.code64`.
    case bits64

    /// The width in bits (16, 32 or 64).
    public var bits: Int {
        switch self {
        case .bits16: 16
        case .bits32: 32
        case .bits64: 64
        }
    }

    /// "bits16", "bits32" or "bits64".
    public var description: String { "bits\(bits)" }
}

/// A register operand: general-purpose, segment, control, debug, or RIP (for addressing only).
public struct Register: Hashable, Sendable, CustomStringConvertible {
    /// The register file a register belongs to.
    public enum Kind: Sendable, Hashable {
        /// A general-purpose register (8, 16, 32 or 64 bits).
        case gpr
        /// A segment register (ES, CS, SS, DS, FS, GS).
        case segment
        /// A control register (CR0, CR2, CR3, CR4, CR8).
        case control
        /// A debug register (DR0–DR7).
        case debug
        /// The instruction pointer (RIP-relative addressing only).
        case rip
    }

    /// The register file.
    public let kind: Kind
    /// The width in bits.
    public let size: Int
    /// The 4-bit encoding number (bit 3 goes into REX).
    public let number: UInt8
    /// The lower-case assembler name, e.g. "eax".
    public let name: String
    /// True for AH, CH, DH, BH, which cannot be encoded in an instruction with a REX prefix.
    public let isHigh8: Bool

    /// Creates a register value; the predefined constants (`.eax`, `.cr0`, …) are the usual way.
    public init(kind: Kind, size: Int, number: UInt8, name: String, isHigh8: Bool = false) {
        self.kind = kind
        self.size = size
        self.number = number
        self.name = name
        self.isHigh8 = isHigh8
    }

    /// The register's name.
    public var description: String { name }

    /// True for SPL, BPL, SIL, DIL, which need a REX prefix.
    var needsRex: Bool { kind == .gpr && size == 8 && !isHigh8 && number >= 4 && number < 8 }
}

/// A position in the output, bound with `Assembler.bind(_:)`; its value is the absolute address (origin + offset).
public struct Label: Hashable, Sendable, CustomStringConvertible {
    /// The label's index in its assembler.
    public let id: Int
    /// A name for error messages.
    public let name: String

    /// The name, or "L<id>".
    public var description: String { name.isEmpty ? "L\(id)" : name }
}

/// An immediate value: a constant, or a label's address plus a constant.
public struct Immediate: Sendable, Hashable {
    /// The constant (added to the label's address when there is a label).
    public var value: Int64
    /// The label whose address is added, if any.
    public var label: Label?
}

/// The address part of a memory operand: base + index * scale + displacement (+ label address).
public struct Address: Sendable, Hashable, ExpressibleByIntegerLiteral {
    /// The base register (or RIP), if any.
    public var base: Register?
    /// The index register, if any.
    public var index: Register?
    /// The index scale: 1, 2, 4 or 8.
    public var scale: Int = 1
    /// The constant displacement.
    public var displacement: Int64 = 0
    /// A label whose address is added to the displacement (relative to RIP when the base is RIP).
    public var label: Label?

    /// An address made of one register.
    public init(register: Register) { base = register }

    /// An absolute address.
    public init(integerLiteral value: Int64) { displacement = value }

    /// An address from its parts.
    public init(base: Register? = nil, index: Register? = nil, scale: Int = 1, displacement: Int64 = 0, label: Label? = nil) {
        self.base = base
        self.index = index
        self.scale = scale
        self.displacement = displacement
        self.label = label
    }

    /// An absolute address given as an integer.
    public static func absolute(_ value: Int64) -> Address { Address(displacement: value) }

    /// `base + index`, `base + displacement`, … : the sum of two partial addresses.
    public static func + (lhs: Address, rhs: Address) -> Address {
        var r = lhs
        r.displacement = lhs.displacement &+ rhs.displacement
        if rhs.label != nil { r.label = rhs.label }
        if let b = rhs.base {
            if r.base == nil {
                r.base = b
            } else if r.index == nil {
                r.index = b
                r.scale = 1
            } else {
                r.scale = 0  // too many registers: rejected when encoded
            }
        }
        if let i = rhs.index {
            if r.index == nil {
                r.index = i
                r.scale = rhs.scale
            } else {
                r.scale = 0
            }
        }
        return r
    }

    /// Adds a displacement.
    public static func + (lhs: Address, rhs: Int) -> Address {
        var r = lhs
        r.displacement = lhs.displacement &+ Int64(rhs)
        return r
    }

    /// Subtracts a displacement.
    public static func - (lhs: Address, rhs: Int) -> Address {
        var r = lhs
        r.displacement = lhs.displacement &- Int64(rhs)
        return r
    }

    /// Adds a label's address (or, with `.rip`, makes the operand RIP-relative to the label).
    public static func + (lhs: Address, rhs: Label) -> Address {
        var r = lhs
        r.label = rhs
        return r
    }

    /// Scales a register to make it the index: `.rcx * 8`.
    public static func * (lhs: Address, rhs: Int) -> Address {
        var r = lhs
        if r.index == nil, let b = r.base {
            r.index = b
            r.base = nil
            r.scale = rhs
        } else {
            r.scale = 0
        }
        return r
    }
}

/// `label + n` as an absolute memory address.
public func + (lhs: Label, rhs: Int) -> Address { Address(displacement: Int64(rhs), label: lhs) }

/// A memory operand: size, optional segment override, and address.
public struct Memory: Sendable, Hashable {
    /// The operand size in bits (8, 16, 32, 48, 64, 80, 128), or 0 when unspecified.
    public var size: Int
    /// The segment-override register, if any.
    public var segment: Register?
    /// The effective address.
    public var address: Address
}

/// Builds sized memory operands: `.dword[.ebx + 8]`, `.byte[.fs, .rax]`, `.fword[label]`.
public struct MemorySize: Sendable {
    /// The size in bits, 0 for unspecified.
    public let bits: Int

    /// A memory operand at `address`.
    public subscript(_ address: Address) -> Operand {
        .memory(Memory(size: bits, segment: nil, address: address))
    }

    /// A memory operand at `address` with a segment override.
    public subscript(_ segment: Register, _ address: Address) -> Operand {
        .memory(Memory(size: bits, segment: segment, address: address))
    }

    /// A memory operand at a label's absolute address.
    public subscript(_ label: Label) -> Operand {
        .memory(Memory(size: bits, segment: nil, address: Address(label: label)))
    }

    /// A memory operand at a label's absolute address with a segment override.
    public subscript(_ segment: Register, _ label: Label) -> Operand {
        .memory(Memory(size: bits, segment: segment, address: Address(label: label)))
    }
}

/// An instruction operand. Integer literals are immediates; registers are `.eax`, `.cr0`, …;
/// memory is `.dword[.ebx + .esi * 4 + 8]`; a label's address as an immediate is `.label(l)`.
public enum Operand: Sendable, Hashable, ExpressibleByIntegerLiteral {
    /// A register.
    case register(Register)
    /// An immediate.
    case immediate(Immediate)
    /// A memory reference.
    case memory(Memory)

    /// An immediate from an integer literal.
    public init(integerLiteral value: Int64) { self = .immediate(Immediate(value: value, label: nil)) }

    /// An immediate from any integer (use for values above `Int64.max`, e.g. `.imm(UInt64.max)`).
    public static func imm<T: BinaryInteger>(_ value: T) -> Operand {
        .immediate(Immediate(value: Int64(truncatingIfNeeded: value), label: nil))
    }

    /// A label's absolute address (plus `offset`) as an immediate.
    public static func label(_ label: Label, plus offset: Int64 = 0) -> Operand {
        .immediate(Immediate(value: offset, label: label))
    }

    /// Byte-sized memory.
    public static let byte = MemorySize(bits: 8)
    /// Word-sized (16-bit) memory.
    public static let word = MemorySize(bits: 16)
    /// Doubleword (32-bit) memory.
    public static let dword = MemorySize(bits: 32)
    /// 48-bit memory (far pointer m16:32, descriptor-table pointer in 32-bit code).
    public static let fword = MemorySize(bits: 48)
    /// Quadword (64-bit) memory.
    public static let qword = MemorySize(bits: 64)
    /// 80-bit memory (far pointer m16:64, descriptor-table pointer in 64-bit code).
    public static let tword = MemorySize(bits: 80)
    /// 128-bit memory (CMPXCHG16B, INVEPT/INVVPID descriptors).
    public static let xmmword = MemorySize(bits: 128)
    /// Memory of unspecified size (LEA, LGDT, INVLPG, …).
    public static let mem = MemorySize(bits: 0)

    var register: Register? {
        if case .register(let r) = self { return r }
        return nil
    }
}

/// A condition code for Jcc, SETcc and CMOVcc (use the aliases `.z`, `.nz`, `.b`, `.ae`, …).
public struct Condition: Sendable, Hashable {
    /// The 4-bit condition code (0 = O … 15 = G).
    public let code: UInt8
}

/// How a relative jump to a label is encoded.
public enum JumpSize: Sendable {
    /// rel8 for a bound label within reach, else rel16/rel32 (forward references are always rel16/rel32).
    case auto
    /// rel8 always; `finish()` throws when the target is out of reach.
    case short
    /// rel16 in 16-bit code, rel32 otherwise.
    case near
}

/// An error found while assembling, thrown by `Assembler.finish()`.
public struct AssemblerError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// A label was referenced but never bound.
        case unboundLabel
        /// A label was bound twice.
        case labelBoundTwice
        /// A rel8 jump target is more than 127 bytes away.
        case rel8OutOfRange
        /// A value does not fit its field.
        case valueOutOfRange
        /// The operands are not valid for the instruction or the mode.
        case invalidOperands
    }

    /// The kind of error.
    public let kind: Kind
    /// A human-readable message naming the instruction and offset.
    public let message: String

    /// The message.
    public var description: String { message }
}
