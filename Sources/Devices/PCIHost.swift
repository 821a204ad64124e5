// PCI configuration mechanism #1 (PCI Local Bus Specification 3.0 §3.2.2.3.2):
// CONFIG_ADDRESS at port 0xCF8 (dword only) selects bus, device, function
// and register; CONFIG_DATA at 0xCFC–0xCFF reads or writes that dword, a byte
// or word access reaching the byte lanes of its port offset. Behind it sits
// bus 0 with an Intel 440FX host bridge at device 0, function 0; further
// functions plug in through the `PCIFunction` protocol.

/// One PCI function's 256-byte configuration space, as the host bridge reaches it.
public protocol PCIFunction: AnyObject {
    /// Reads the configuration dword at `register` (a multiple of 4, 0–252).
    func readConfiguration(register: UInt8) -> UInt32
    /// Writes the bytes of `value` whose bit is set in `byteEnables` (bit n:
    /// byte n of the dword, bits 0–3) to the configuration dword at `register`
    /// (a multiple of 4, 0–252).
    func writeConfiguration(register: UInt8, value: UInt32, byteEnables: UInt8)
}

/// Offsets of the type 0 configuration header (PCI 3.0 §6.1).
public enum PCIConfigurationRegister {
    /// Vendor ID, 16 bits.
    public static let vendorID: UInt8 = 0x00
    /// Device ID, 16 bits.
    public static let deviceID: UInt8 = 0x02
    /// Command, 16 bits.
    public static let command: UInt8 = 0x04
    /// Status, 16 bits.
    public static let status: UInt8 = 0x06
    /// Revision ID, 8 bits.
    public static let revisionID: UInt8 = 0x08
    /// Class code: programming interface (0x09), sub-class (0x0A), base class (0x0B).
    public static let classCode: UInt8 = 0x09
    /// Cache line size, 8 bits.
    public static let cacheLineSize: UInt8 = 0x0C
    /// Latency timer, 8 bits.
    public static let latencyTimer: UInt8 = 0x0D
    /// Header type, 8 bits (bit 7: multi-function device).
    public static let headerType: UInt8 = 0x0E
    /// Subsystem vendor ID, 16 bits.
    public static let subsystemVendorID: UInt8 = 0x2C
    /// Subsystem ID, 16 bits.
    public static let subsystemID: UInt8 = 0x2E
}

/// A 256-byte configuration space with per-bit write behaviour: the storage a
/// `PCIFunction` can keep as its state.
public struct PCIConfigurationRegisters: Equatable, Codable, Sendable {
    /// The 256 bytes as read.
    public var bytes: [UInt8]
    /// Bits a write stores (1) or leaves alone (0).
    public var writableMask: [UInt8]
    /// Bits a write of 1 clears (status bits).
    public var writeOneToClearMask: [UInt8]

    /// An all-zero, read-only space.
    public init() {
        bytes = [UInt8](repeating: 0, count: 256)
        writableMask = [UInt8](repeating: 0, count: 256)
        writeOneToClearMask = [UInt8](repeating: 0, count: 256)
    }

    /// Sets the little-endian value of `size` bytes at `offset` (bytes past 255 are dropped).
    public mutating func set(_ value: UInt32, at offset: UInt8, size: Int) {
        for index in 0..<min(max(size, 0), 4) {
            let at = Int(offset) + index
            if bytes.indices.contains(at) { bytes[at] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
        }
    }

    /// Marks bits of `size` bytes at `offset` as writable (`mask`) or write-1-to-clear (`clearMask`).
    public mutating func setWriteBehaviour(at offset: UInt8, size: Int, writable mask: UInt32, writeOneToClear clearMask: UInt32 = 0) {
        for index in 0..<min(max(size, 0), 4) {
            let at = Int(offset) + index
            guard writableMask.indices.contains(at), writeOneToClearMask.indices.contains(at) else { continue }
            writableMask[at] = UInt8(truncatingIfNeeded: mask >> (8 * UInt32(index)))
            writeOneToClearMask[at] = UInt8(truncatingIfNeeded: clearMask >> (8 * UInt32(index)))
        }
    }

    /// The dword at `register` (rounded down to a multiple of 4).
    public func read(register: UInt8) -> UInt32 {
        let base = Int(register & 0xFC)
        var value: UInt32 = 0
        for index in 0..<4 where bytes.indices.contains(base + index) {
            value |= UInt32(bytes[base + index]) << (8 * UInt32(index))
        }
        return value
    }

    /// Writes the enabled bytes of `value` to the dword at `register`, honouring the masks.
    public mutating func write(register: UInt8, value: UInt32, byteEnables: UInt8) {
        let base = Int(register & 0xFC)
        for index in 0..<4 where byteEnables & (1 << UInt8(index)) != 0 {
            let at = base + index
            guard bytes.indices.contains(at), writableMask.indices.contains(at),
                  writeOneToClearMask.indices.contains(at) else { continue }
            let byte = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))
            let writable = writableMask[at], clear = writeOneToClearMask[at]
            var stored = bytes[at]
            stored = (stored & ~writable) | (byte & writable)
            stored &= ~(byte & clear)
            bytes[at] = stored
        }
    }
}

/// The Intel 82441FX (440FX) PCI and memory controller, the host bridge of
/// QEMU's "pc" machine: vendor 0x8086, device 0x1237, revision 0x02, class
/// 0x060000 (host bridge), header type 0.
///
/// Command reads 0x0006 (memory space and bus master hardwired on; parity
/// error response and SERR# enable writable); status reads 0x0280 (fast
/// back-to-back capable, medium DEVSEL timing; the error bits 8 and 11–15 are
/// write-1-to-clear and never set). The latency timer is writable. The
/// device-specific registers (0x40–0xFF: PAM, SMRAM, DRAM rows) read 0 and
/// ignore writes: memory decoding is the VMM's fixed map.
public final class I440FXHostBridge: PCIFunction {
    /// The Intel vendor ID.
    public static let vendorID: UInt16 = 0x8086
    /// The 82441FX device ID.
    public static let deviceID: UInt16 = 0x1237
    /// Class code: base class 0x06 (bridge), sub-class 0x00 (host), interface 0x00.
    public static let classCode: UInt32 = 0x06_0000

    /// The configuration space.
    public private(set) var registers = PCIConfigurationRegisters()

    /// Creates the bridge in its reset state.
    public init() {
        registers = Self.resetRegisters()
    }

    /// The reset-state configuration space.
    public static func resetRegisters() -> PCIConfigurationRegisters {
        var r = PCIConfigurationRegisters()
        r.set(UInt32(vendorID), at: PCIConfigurationRegister.vendorID, size: 2)
        r.set(UInt32(deviceID), at: PCIConfigurationRegister.deviceID, size: 2)
        r.set(0x0006, at: PCIConfigurationRegister.command, size: 2)
        r.setWriteBehaviour(at: PCIConfigurationRegister.command, size: 2, writable: 0x0140)
        r.set(0x0280, at: PCIConfigurationRegister.status, size: 2)
        r.setWriteBehaviour(at: PCIConfigurationRegister.status, size: 2, writable: 0, writeOneToClear: 0xF900)
        r.set(0x02, at: PCIConfigurationRegister.revisionID, size: 1)
        r.set(classCode, at: PCIConfigurationRegister.classCode, size: 3)
        r.setWriteBehaviour(at: PCIConfigurationRegister.latencyTimer, size: 1, writable: 0xF8)
        r.set(0x00, at: PCIConfigurationRegister.headerType, size: 1)
        return r
    }

    /// Replaces the configuration space (restoring a snapshot); a space of the
    /// wrong size is replaced by the reset state.
    public func restore(_ registers: PCIConfigurationRegisters) {
        let valid = registers.bytes.count == 256 && registers.writableMask.count == 256
            && registers.writeOneToClearMask.count == 256
        self.registers = valid ? registers : Self.resetRegisters()
    }

    /// Reads a configuration dword.
    public func readConfiguration(register: UInt8) -> UInt32 { registers.read(register: register) }

    /// Writes the enabled bytes of a configuration dword.
    public func writeConfiguration(register: UInt8, value: UInt32, byteEnables: UInt8) {
        registers.write(register: register, value: value, byteEnables: byteEnables)
    }
}

/// A function's place on the PCI bus.
public struct PCIAddress: Hashable, Codable, Sendable, CustomStringConvertible {
    /// The bus number.
    public var bus: UInt8
    /// The device number, 0–31.
    public var device: UInt8
    /// The function number, 0–7.
    public var function: UInt8

    /// Creates the address, or `nil` when `device` > 31 or `function` > 7.
    public init?(bus: UInt8 = 0, device: UInt8, function: UInt8 = 0) {
        guard device < 32, function < 8 else { return nil }
        self.bus = bus
        self.device = device
        self.function = function
    }

    /// The address in the usual `bb:dd.f` form.
    public var description: String {
        func hex(_ v: UInt8, _ width: Int) -> String {
            let digits = String(v, radix: 16)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(hex(bus, 2)):\(hex(device, 2)).\(function)"
    }

    /// Device and function packed as in CONFIG_ADDRESS bits 15:8.
    var deviceFunction: Int { Int(device & 31) << 3 | Int(function & 7) }
}

/// Why a PCI function could not be registered.
public enum PCIHostError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Only bus 0 exists (there are no PCI-to-PCI bridges).
    case noSuchBus(PCIAddress)
    /// A function is already registered at the address.
    case addressInUse(PCIAddress)

    /// One line naming the problem.
    public var description: String {
        switch self {
        case let .noSuchBus(address): "cannot register a PCI function at \(address): only bus 0 exists"
        case let .addressInUse(address): "cannot register a PCI function at \(address): the address is in use"
        }
    }
}

/// The state of the configuration mechanism.
public struct PCIHostState: Equatable, Codable, Sendable {
    /// CONFIG_ADDRESS: enable (bit 31), bus (23:16), device (15:11),
    /// function (10:8), register (7:2); reserved bits read 0.
    public var configAddress: UInt32 = 0
    /// The power-on state.
    public init() {}
}

/// PCI configuration mechanism #1 and bus 0.
///
/// Map `addressPort` at 0xCF8 with length 1 (0xCF9 is the Reset Control
/// Register; a dword access at 0xCF8 is routed by its first port) and
/// `dataPort` at 0xCFC with length 4.
///
/// - CONFIG_ADDRESS only answers dword accesses at offset 0; any other size
///   or offset reads all ones and ignores writes (on real chipsets such
///   accesses pass through to the ISA bus, where nothing answers).
/// - With CONFIG_ADDRESS bit 31 clear, CONFIG_DATA reads all ones and ignores
///   writes. An access at data-port offset `o` of `size` bytes reaches bytes
///   `register + o …` of the selected dword; bytes past the dword's end read
///   0xFF and are not written.
/// - Functions that are not registered read all ones (vendor ID 0xFFFF: no
///   device) and ignore writes.
public final class PCIHost {
    /// CONFIG_ADDRESS's port.
    public static let configAddressPort: UInt16 = 0xCF8
    /// CONFIG_DATA's first port.
    public static let configDataPort: UInt16 = 0xCFC
    /// CONFIG_ADDRESS bit 31: configuration space mapping enabled.
    public static let enableBit: UInt32 = 1 << 31
    /// The CONFIG_ADDRESS bits that are stored (enable, bus, device, function, register).
    public static let configAddressMask: UInt32 = 0x80FF_FFFC
    /// The bits of CONFIG_ADDRESS kept: also bits 1:0 (reserved, reading 0), which as in QEMU's host bridges
    /// select the byte within the DWORD (ORed with the CONFIG_DATA port offset): kvm-unit-tests'
    /// lib/x86/asm/pci.h reads the device ID as a word at register 2 through port 0xCFC.
    public static let configAddressStoredMask: UInt32 = 0x80FF_FFFF

    /// The state of the mechanism.
    @exclusivity(unchecked) public private(set) var state = PCIHostState()
    /// The host bridge at 00:00.0.
    public let hostBridge: I440FXHostBridge
    private var functions = [(any PCIFunction)?](repeating: nil, count: 256)   // bus 0, by device/function

    /// Port 0xCF8: CONFIG_ADDRESS (dword accesses at offset 0 only).
    public var addressPort: PCIConfigAddressPort { PCIConfigAddressPort(host: self) }
    /// Ports 0xCFC–0xCFF: CONFIG_DATA.
    public var dataPort: PCIConfigDataPort { PCIConfigDataPort(host: self) }

    /// Creates bus 0 with the 440FX host bridge at device 0, function 0.
    public init() {
        hostBridge = I440FXHostBridge()
        functions[0] = hostBridge
    }

    /// Replaces the state (restoring a snapshot; the functions restore their own).
    public func restore(_ state: PCIHostState) {
        self.state = PCIHostState()
        self.state.configAddress = state.configAddress & Self.configAddressStoredMask
    }

    /// Plugs `function` in at `address` (bus 0 only).
    /// - Throws: `PCIHostError.noSuchBus` for another bus, `.addressInUse` when taken.
    public func register(_ function: any PCIFunction, at address: PCIAddress) throws(PCIHostError) {
        guard address.bus == 0 else { throw .noSuchBus(address) }
        let index = address.deviceFunction
        guard functions.indices.contains(index) else { throw .noSuchBus(address) }
        guard functions[index] == nil else { throw .addressInUse(address) }
        functions[index] = function
    }

    /// The function at `address`, if any.
    public func function(at address: PCIAddress) -> (any PCIFunction)? {
        guard address.bus == 0 else { return nil }
        let index = address.deviceFunction
        return functions.indices.contains(index) ? functions[index] : nil
    }

    /// The function CONFIG_ADDRESS selects, if enabled and present.
    private var selectedFunction: (any PCIFunction)? {
        let address = state.configAddress
        guard address & Self.enableBit != 0, (address >> 16) & 0xFF == 0 else { return nil }
        let index = Int((address >> 8) & 0xFF)
        return functions.indices.contains(index) ? functions[index] : nil
    }

    private var selectedRegister: UInt8 { UInt8(truncatingIfNeeded: state.configAddress & 0xFC) }

    fileprivate func readAddress(offset: UInt64, size: Int) -> UInt64 {
        guard offset == 0, size == 4 else { return Bus.allOnes(size: size) }
        return UInt64(state.configAddress & Self.configAddressMask)
    }

    fileprivate func writeAddress(offset: UInt64, size: Int, value: UInt64) {
        guard offset == 0, size == 4 else { return }
        state.configAddress = UInt32(truncatingIfNeeded: value) & Self.configAddressStoredMask
    }

    fileprivate func readData(offset: UInt64, size: Int) -> UInt64 {
        let count = (1...8).contains(size) ? size : 1
        guard let function = selectedFunction else { return Bus.allOnes(size: count) }
        let dword = function.readConfiguration(register: selectedRegister)
        var result: UInt64 = 0
        for index in 0..<count {
            let lane = (offset | UInt64(state.configAddress & 3)) &+ UInt64(index)
            let byte: UInt64 = lane < 4 ? UInt64((dword >> (8 * UInt32(lane))) & 0xFF) : 0xFF
            result |= byte << UInt64(8 * index)
        }
        return result
    }

    fileprivate func writeData(offset: UInt64, size: Int, value: UInt64) {
        let count = (1...8).contains(size) ? size : 1
        guard let function = selectedFunction else { return }
        var enables: UInt8 = 0
        var dword: UInt32 = 0
        for index in 0..<count {
            let lane = (offset | UInt64(state.configAddress & 3)) &+ UInt64(index)
            guard lane < 4 else { continue }
            enables |= 1 << UInt8(lane)
            let byte = UInt32(truncatingIfNeeded: value >> UInt64(8 * index)) & 0xFF
            dword |= byte << (8 * UInt32(lane))
        }
        guard enables != 0 else { return }
        function.writeConfiguration(register: selectedRegister, value: dword, byteEnables: enables)
    }
}

/// CONFIG_ADDRESS (port 0xCF8) as a `Device`.
public final class PCIConfigAddressPort: Device {
    private let host: PCIHost
    fileprivate init(host: PCIHost) { self.host = host }
    /// A dword read at offset 0 returns CONFIG_ADDRESS; anything else all ones.
    public func read(offset: UInt64, size: Int) -> UInt64 { host.readAddress(offset: offset, size: size) }
    /// A dword write at offset 0 sets CONFIG_ADDRESS; anything else is ignored.
    public func write(offset: UInt64, size: Int, value: UInt64) { host.writeAddress(offset: offset, size: size, value: value) }
}

/// CONFIG_DATA (ports 0xCFC–0xCFF) as a `Device`.
public final class PCIConfigDataPort: Device {
    private let host: PCIHost
    fileprivate init(host: PCIHost) { self.host = host }
    /// Reads the byte lanes `offset…` of the selected configuration dword.
    public func read(offset: UInt64, size: Int) -> UInt64 { host.readData(offset: offset, size: size) }
    /// Writes the byte lanes `offset…` of the selected configuration dword.
    public func write(offset: UInt64, size: Int, value: UInt64) { host.writeData(offset: offset, size: size, value: value) }
}
