// QEMU's educational PCI device "edu" (QEMU docs/specs/edu.rst): vendor 1234h, device 11E8h, class 00h
// subclass FFh (QEMU writes PCI_CLASS_OTHERS, FFh, into the 16-bit class/subclass field).
// BAR0 is 1 MiB of 32-bit memory with its registers; it raises INTA# or, with MSI enabled, a 64-bit MSI
// (capability at 40h, one message), and copies up to 4 KiB between its buffer (device addresses 40000h–
// 40FFFh) and memory by DMA, as a bus master whose requests carry its source-id.
//
// Unlike QEMU, the factorial and the DMA complete at once (QEMU uses a thread and a 100 ms timer): a guest
// that polls sees them done at its first read. A DMA outside the buffer or bigger than it (which aborts QEMU)
// is dropped, as is one without bus mastering enabled.

/// The edu device's BAR0 register offsets and constants.
public enum EduRegister {
    /// Identification (read only): 0x010000ED.
    public static let identification: UInt64 = 0x00
    /// Liveness check: reads back the bitwise inverse of the value written.
    public static let liveness: UInt64 = 0x04
    /// Factorial: write n, read n! (32 bits, wrapping) once status bit 0 clears.
    public static let factorial: UInt64 = 0x08
    /// Status: bit 0 computing (read only), bit 7 raise interrupt 01h after the factorial.
    public static let status: UInt64 = 0x20
    /// Interrupt status (read only): the causes raised and not yet acknowledged.
    public static let interruptStatus: UInt64 = 0x24
    /// Interrupt raise: ORs the written value into the interrupt status and raises the interrupt.
    public static let interruptRaise: UInt64 = 0x60
    /// Interrupt acknowledge: clears the written bits of the interrupt status.
    public static let interruptAcknowledge: UInt64 = 0x64
    /// DMA source address (64 bits).
    public static let dmaSource: UInt64 = 0x80
    /// DMA destination address (64 bits).
    public static let dmaDestination: UInt64 = 0x88
    /// DMA transfer count in bytes.
    public static let dmaCount: UInt64 = 0x90
    /// DMA command: start, direction, interrupt when done (`EduDevice.dmaStart` …).
    public static let dmaCommand: UInt64 = 0x98
}

/// The device's state: comparable, serializable.
public struct EduState: Equatable, Codable, Sendable {
    /// The inverse of the last value written to the liveness register.
    public var liveness: UInt32 = 0
    /// The factorial register.
    public var factorial: UInt32 = 0
    /// The status register.
    public var status: UInt32 = 0
    /// The interrupt status register.
    public var interruptStatus: UInt32 = 0
    /// The DMA source register.
    public var dmaSource: UInt64 = 0
    /// The DMA destination register.
    public var dmaDestination: UInt64 = 0
    /// The DMA count register.
    public var dmaCount: UInt64 = 0
    /// The DMA command register.
    public var dmaCommand: UInt64 = 0
    /// The 4 KiB DMA buffer.
    public var buffer = [UInt8](repeating: 0, count: EduDevice.bufferSize)
    /// The configuration space.
    public var configuration = EduDevice.resetConfiguration(interruptLine: 0)
    /// Whether INTA# is asserted.
    public var intxAsserted = false

    /// The reset state with `interruptLine` in the Interrupt Line register (as firmware leaves it).
    public init(interruptLine: UInt8 = 0) {
        configuration = EduDevice.resetConfiguration(interruptLine: interruptLine)
    }
}

/// QEMU's edu device: a PCI function (configuration space) and, mapped where BAR0 points, its registers.
public final class EduDevice: Device, PCIFunction {
    /// PCI vendor ID (QEMU's test devices).
    public static let vendorID: UInt16 = 0x1234
    /// PCI device ID.
    public static let deviceID: UInt16 = 0x11E8
    /// The identification register: major version 1, minor 0, 0xED.
    public static let identification: UInt32 = 0x0100_00ED
    /// BAR0's size.
    public static let barSize: UInt64 = 1 << 20
    /// Where the DMA buffer is in the device's address space, and its size.
    public static let bufferStart: UInt64 = 0x40000
    /// The DMA buffer's size in bytes.
    public static let bufferSize = 4096
    /// DMA addresses are clamped to the device's DMA mask: 28 bits.
    public static let dmaMask: UInt64 = (1 << 28) - 1
    /// The MSI capability's offset in configuration space.
    public static let msiCapability: UInt8 = 0x40
    /// Status: computing factorial (read only), raise interrupt 01h after the factorial.
    public static let statusComputing: UInt32 = 0x01
    /// Status bit 7: raise interrupt 01h when the factorial is done.
    public static let statusInterruptOnFactorial: UInt32 = 0x80
    /// DMA command: start, direction (1 = device to memory), raise interrupt 100h when done.
    public static let dmaStart: UInt64 = 0x01
    /// DMA command bit 1: from the device's buffer to memory (clear: memory to the buffer).
    public static let dmaToMemory: UInt64 = 0x02
    /// DMA command bit 2: raise interrupt 100h when the transfer is done.
    public static let dmaInterrupt: UInt64 = 0x04

    /// The device state.
    @exclusivity(unchecked) public private(set) var state: EduState
    /// The requester ID of the device's DMA and MSI writes (bus << 8 | device << 3 | function).
    public let sourceID: UInt16
    private let upstream: any BusMasterAccess
    private let intx: any InterruptLine
    /// Called when the memory BAR moves, is enabled or disabled: the base to map the registers at, or nil.
    public var barChanged: ((UInt64?) -> Void)?

    /// Creates the device at `address`, with `upstream` for DMA and MSI, `intx` for INTA# and the Interrupt
    /// Line register preset to `interruptLine`.
    public init(address: PCIAddress, upstream: any BusMasterAccess, intx: any InterruptLine, interruptLine: UInt8) {
        sourceID = UInt16(address.bus) << 8 | UInt16(address.deviceFunction)
        self.upstream = upstream
        self.intx = intx
        state = EduState(interruptLine: interruptLine)
    }

    /// The configuration space at reset: IDs, class 00h subclass FFh, BAR0 (1 MiB memory), the capability list with MSI
    /// (64-bit, one message), INTA#.
    public static func resetConfiguration(interruptLine: UInt8) -> PCIConfigurationRegisters {
        var r = PCIConfigurationRegisters()
        r.set(UInt32(vendorID), at: PCIConfigurationRegister.vendorID, size: 2)
        r.set(UInt32(deviceID), at: PCIConfigurationRegister.deviceID, size: 2)
        r.setWriteBehaviour(at: PCIConfigurationRegister.command, size: 2, writable: 0x0406)   // memory, master, INTx disable
        r.set(0x0010, at: PCIConfigurationRegister.status, size: 2)                          // capabilities list
        r.set(0x10, at: PCIConfigurationRegister.revisionID, size: 1)
        r.set(0x00_FF00, at: PCIConfigurationRegister.classCode, size: 3)
        r.setWriteBehaviour(at: 0x10, size: 4, writable: UInt32(truncatingIfNeeded: ~(barSize - 1)))
        r.set(0x1AF4, at: PCIConfigurationRegister.subsystemVendorID, size: 2)
        r.set(0x1100, at: PCIConfigurationRegister.subsystemID, size: 2)
        r.set(UInt32(msiCapability), at: 0x34, size: 1)
        r.set(UInt32(interruptLine), at: 0x3C, size: 1)
        r.setWriteBehaviour(at: 0x3C, size: 1, writable: 0xFF)
        r.set(1, at: 0x3D, size: 1)                                                          // INTA#
        let msi = msiCapability
        r.set(0x05, at: msi, size: 1)                                                        // MSI, last capability
        r.set(0x0080, at: msi + 2, size: 2)                                                  // 64-bit, 1 message
        r.setWriteBehaviour(at: msi + 2, size: 2, writable: 0x0071)                          // enable, MME
        r.setWriteBehaviour(at: msi + 4, size: 4, writable: 0xFFFF_FFFC)
        r.setWriteBehaviour(at: msi + 8, size: 4, writable: 0xFFFF_FFFF)
        r.setWriteBehaviour(at: msi + 12, size: 2, writable: 0xFFFF)
        return r
    }

    private var command: UInt32 { state.configuration.read(register: PCIConfigurationRegister.command) & 0xFFFF }
    /// Whether the device may master the bus (command bit 2): DMA and MSI writes.
    public var busMaster: Bool { command & 4 != 0 }
    /// Where the registers are mapped now: BAR0 with memory decoding on, else nil.
    public var barAddress: UInt64? {
        let bar = UInt64(state.configuration.read(register: 0x10) & 0xFFF0_0000)
        return command & 2 != 0 && bar != 0 ? bar : nil
    }
    /// Whether MSI is enabled (MSI control bit 0).
    public var msiEnabled: Bool { state.configuration.read(register: Self.msiCapability) >> 16 & 1 != 0 }

    /// Sets BAR0 and turns memory decoding and bus mastering on, as firmware does before the guest runs.
    public func assignBAR(_ base: UInt64) {
        state.configuration.set(UInt32(truncatingIfNeeded: base & ~(Self.barSize - 1)), at: 0x10, size: 4)
        state.configuration.set(command | 0x2, at: PCIConfigurationRegister.command, size: 2)
        barChanged?(barAddress)
    }

    /// Replaces the state (restoring a snapshot); a buffer of the wrong size is cleared.
    public func restore(_ state: EduState) {
        self.state = state
        if state.buffer.count != Self.bufferSize { self.state.buffer = [UInt8](repeating: 0, count: Self.bufferSize) }
        barChanged?(barAddress)
        intx.setLevel(self.state.intxAsserted)
    }

    // MARK: Configuration space

    public func readConfiguration(register: UInt8) -> UInt32 {
        var value = state.configuration.read(register: register)
        if register & 0xFC == 0x04 && state.intxAsserted { value |= 1 << 19 }    // status: interrupt status
        return value
    }

    public func writeConfiguration(register: UInt8, value: UInt32, byteEnables: UInt8) {
        let before = barAddress
        state.configuration.write(register: register, value: value, byteEnables: byteEnables)
        if barAddress != before { barChanged?(barAddress) }
        updateINTx()
    }

    // MARK: Registers (BAR0)

    public func read(offset: UInt64, size: Int) -> UInt64 {
        // 32-bit accesses everywhere, 64-bit ones from 80h on; anything else reads all ones.
        guard size == 4 || (size == 8 && offset >= 0x80) else { return Bus.allOnes(size: size) }
        switch offset {
        case EduRegister.identification: return UInt64(Self.identification)
        case EduRegister.liveness: return UInt64(state.liveness)
        case EduRegister.factorial: return UInt64(state.factorial)
        case EduRegister.status: return UInt64(state.status)
        case EduRegister.interruptStatus: return UInt64(state.interruptStatus)
        case EduRegister.dmaSource: return sized(state.dmaSource, size)
        case EduRegister.dmaDestination: return sized(state.dmaDestination, size)
        case EduRegister.dmaCount: return sized(state.dmaCount, size)
        case EduRegister.dmaCommand: return sized(state.dmaCommand, size)
        default: return Bus.allOnes(size: size)
        }
    }

    private func sized(_ value: UInt64, _ size: Int) -> UInt64 { size == 8 ? value : value & 0xFFFF_FFFF }

    public func write(offset: UInt64, size: Int, value: UInt64) {
        guard size == 4 || (size == 8 && offset >= 0x80) else { return }
        let word = UInt32(truncatingIfNeeded: value)
        switch offset {
        case EduRegister.liveness: state.liveness = ~word
        case EduRegister.factorial:
            state.factorial = Self.factorial(word)
            if state.status & Self.statusInterruptOnFactorial != 0 { raiseInterrupt(0x01) }
        case EduRegister.status:
            state.status = (state.status & ~Self.statusInterruptOnFactorial) | (word & Self.statusInterruptOnFactorial)
        case EduRegister.interruptRaise: raiseInterrupt(word)
        case EduRegister.interruptAcknowledge:
            state.interruptStatus &= ~word
            updateINTx()
        case EduRegister.dmaSource: state.dmaSource = value
        case EduRegister.dmaDestination: state.dmaDestination = value
        case EduRegister.dmaCount: state.dmaCount = value
        case EduRegister.dmaCommand:
            guard value & Self.dmaStart != 0 else { return }
            state.dmaCommand = value
            runDMA()
        default: break
        }
    }

    /// n! in 32 bits (wrapping, as QEMU's does). A product of 34 consecutive numbers is a multiple of 34!, so
    /// of 2^32: the loop stops once the product is 0, after at most 34 steps.
    public static func factorial(_ n: UInt32) -> UInt32 {
        var result: UInt32 = 1
        var i = n
        while i > 1 && result != 0 { result = result &* i; i -= 1 }
        return result
    }

    /// ORs `bits` into the interrupt status and signals it: an MSI when enabled, else INTA#.
    private func raiseInterrupt(_ bits: UInt32) {
        state.interruptStatus |= bits
        guard state.interruptStatus != 0 else { return }
        if msiEnabled {
            sendMSI()
        } else {
            updateINTx()
        }
    }

    /// INTA# follows the interrupt status, unless MSI is on or the command register disables INTx.
    private func updateINTx() {
        let asserted = state.interruptStatus != 0 && !msiEnabled && command & 0x400 == 0
        guard asserted != state.intxAsserted else { return }
        state.intxAsserted = asserted
        intx.setLevel(asserted)
    }

    private func sendMSI() {
        guard busMaster else { return }
        let cap = Self.msiCapability
        let address = UInt64(state.configuration.read(register: cap + 4)) | UInt64(state.configuration.read(register: cap + 8)) << 32
        let data = state.configuration.read(register: cap + 12) & 0xFFFF
        _ = upstream.deliverMSI(address: address, data: data, requester: sourceID)
    }

    /// Carries out the DMA command and clears its start bit.
    private func runDMA() {
        defer { state.dmaCommand &= ~Self.dmaStart }
        let count = state.dmaCount
        guard busMaster, count <= UInt64(Self.bufferSize) else { return }
        let toMemory = state.dmaCommand & Self.dmaToMemory != 0
        let deviceAddress = toMemory ? state.dmaSource : state.dmaDestination
        let busAddress = (toMemory ? state.dmaDestination : state.dmaSource) & Self.dmaMask
        guard deviceAddress >= Self.bufferStart, deviceAddress - Self.bufferStart <= UInt64(Self.bufferSize) - count else { return }
        let start = Int(deviceAddress - Self.bufferStart), length = Int(count)
        if toMemory {
            _ = upstream.dmaWrite(Array(state.buffer[start..<start + length]), at: busAddress, requester: sourceID)
        } else if let bytes = upstream.dmaRead(at: busAddress, count: length, requester: sourceID), bytes.count == length {
            state.buffer.replaceSubrange(start..<start + length, with: bytes)
        }
        if state.dmaCommand & Self.dmaInterrupt != 0 { raiseInterrupt(0x100) }
    }
}
