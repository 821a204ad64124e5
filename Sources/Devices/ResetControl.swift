// The PC's reset registers: System Control Port A (port 0x92, the PS/2 "fast
// reset" and fast A20 gate) and the PIIX/ICH Reset Control Register (port
// 0xCF9, the register an ACPI FADT RESET_REG usually names). Both only raise a
// request through an injected `ResetRequestHandler`; what a reset means for
// the machine is the VMM's business. The keyboard controller (I8042.swift)
// reports its reset line through the same handler.

/// Which register asked for a platform reset.
public enum ResetCause: Equatable, Hashable, Codable, Sendable, CustomStringConvertible {
    /// The 8042 keyboard controller pulsed its reset output (command 0xF0–0xFF
    /// with bit 0 clear, e.g. 0xFE, or an output-port write with bit 0 clear).
    case keyboardController
    /// System Control Port A (port 0x92) bit 0 went from 0 to 1 (fast reset).
    case systemControlPortA
    /// The Reset Control Register (port 0xCF9) was written with RST_CPU set;
    /// `hard` is SYS_RST (or FULL_RST): a hard reset rather than a CPU-only one.
    case resetControlRegister(hard: Bool)

    /// A short name of the register and the kind of reset.
    public var description: String {
        switch self {
        case .keyboardController: "8042 keyboard controller reset line"
        case .systemControlPortA: "System Control Port A (0x92) fast reset"
        case let .resetControlRegister(hard): "Reset Control Register (0xCF9) \(hard ? "hard" : "soft") reset"
        }
    }
}

/// Receives a guest's request to reset the platform.
public protocol ResetRequestHandler: AnyObject {
    /// The guest asked for a reset through the register named by `cause`.
    func requestReset(_ cause: ResetCause)
}

/// A reset handler that records the requests it receives (for tests, and for a
/// VMM that polls after each exit).
public final class RecordingResetHandler: ResetRequestHandler {
    /// The requests received so far, oldest first.
    public private(set) var causes: [ResetCause] = []
    /// Creates the handler.
    public init() {}
    /// Records the request.
    public func requestReset(_ cause: ResetCause) { causes.append(cause) }
    /// Forgets the requests received so far.
    public func removeAll() { causes.removeAll() }
}

/// The state of System Control Port A.
public struct SystemControlPortAState: Equatable, Codable, Sendable {
    /// The register as last written (bit 0 ALT_RESET, bit 1 ALT_A20_GATE, the
    /// other bits stored and read back).
    public var value: UInt8 = 0x02
    /// Creates the power-on state: A20 enabled (the state firmware leaves), no reset.
    public init() {}
}

/// System Control Port A (port 0x92, one byte; map it with length 1).
///
/// Bit 0 (fast reset): writing 1 while it reads 0 requests a reset
/// (`ResetCause.systemControlPortA`); the bit reads back as written until
/// `reset()` clears it, so a second reset needs a 0 written first. Bit 1 gates
/// A20 (`a20Enabled`). Other bits are stored and read back. Offsets other than
/// 0 read 0xFF and ignore writes.
public final class SystemControlPortA: ByteRegisterDevice {
    /// Bit 0: fast (alternate) reset.
    public static let fastReset: UInt8 = 1 << 0
    /// Bit 1: A20 gate (1 = address line 20 passes through).
    public static let a20Gate: UInt8 = 1 << 1
    /// The conventional port.
    public static let port: UInt16 = 0x92

    /// The register state.
    @exclusivity(unchecked) public private(set) var state = SystemControlPortAState()
    private let handler: any ResetRequestHandler

    /// Creates the port reporting resets to `handler`.
    public init(handler: any ResetRequestHandler) { self.handler = handler }

    /// Whether the A20 gate is open (bit 1).
    public var a20Enabled: Bool { state.value & Self.a20Gate != 0 }

    /// Replaces the state (restoring a snapshot).
    public func restore(_ state: SystemControlPortAState) { self.state = state }

    /// The machine reset: clears bit 0 (the reset has happened) and keeps the rest.
    public func reset() { state.value &= ~Self.fastReset }

    /// Reads the register at offset 0; 0xFF elsewhere.
    public func readByte(offset: UInt64) -> UInt8 { offset == 0 ? state.value : 0xFF }

    /// Writes the register at offset 0, requesting a reset on a 0→1 change of bit 0.
    public func writeByte(offset: UInt64, value: UInt8) {
        guard offset == 0 else { return }
        let rising = value & Self.fastReset != 0 && state.value & Self.fastReset == 0
        state.value = value
        if rising { handler.requestReset(.systemControlPortA) }
    }
}

/// The state of the Reset Control Register.
public struct ResetControlRegisterState: Equatable, Codable, Sendable {
    /// The stored bits: SYS_RST (bit 1) and FULL_RST (bit 3); RST_CPU reads 0.
    public var value: UInt8 = 0
    /// Creates the power-on state (all clear).
    public init() {}
}

/// The Reset Control Register (port 0xCF9, one byte; map it with length 1, so
/// that a dword access at 0xCF8 still reaches the PCI CONFIG_ADDRESS register).
///
/// Writing a value with RST_CPU (bit 2) set requests a reset, hard when
/// SYS_RST (bit 1) or FULL_RST (bit 3) is set — as QEMU's PIIX does, any write
/// with bit 2 set resets (Linux writes 0x02 then 0x06; ACPI's RESET_VALUE is
/// 0x06). SYS_RST and FULL_RST are stored and read back; RST_CPU reads 0.
/// Offsets other than 0 read 0xFF and ignore writes.
public final class ResetControlRegister: ByteRegisterDevice {
    /// Bit 1: SYS_RST, the reset is a hard (system) reset.
    public static let systemReset: UInt8 = 1 << 1
    /// Bit 2: RST_CPU, initiates the reset.
    public static let resetCPU: UInt8 = 1 << 2
    /// Bit 3: FULL_RST, a full reset (power cycle) on ICH chipsets.
    public static let fullReset: UInt8 = 1 << 3
    /// The conventional port.
    public static let port: UInt16 = 0xCF9
    /// The value an ACPI FADT's RESET_VALUE writes here for a hard reset.
    public static let acpiResetValue: UInt8 = systemReset | resetCPU

    /// The register state.
    @exclusivity(unchecked) public private(set) var state = ResetControlRegisterState()
    private let handler: any ResetRequestHandler

    /// Creates the register reporting resets to `handler`.
    public init(handler: any ResetRequestHandler) { self.handler = handler }

    /// Replaces the state (restoring a snapshot).
    public func restore(_ state: ResetControlRegisterState) { self.state = state }

    /// The machine reset: clears the register.
    public func reset() { state = ResetControlRegisterState() }

    /// Reads the register at offset 0; 0xFF elsewhere.
    public func readByte(offset: UInt64) -> UInt8 { offset == 0 ? state.value : 0xFF }

    /// Writes the register at offset 0; RST_CPU set requests a reset.
    public func writeByte(offset: UInt64, value: UInt8) {
        guard offset == 0 else { return }
        state.value = value & (Self.systemReset | Self.fullReset)
        if value & Self.resetCPU != 0 {
            handler.requestReset(.resetControlRegister(hard: value & (Self.systemReset | Self.fullReset) != 0))
        }
    }
}
