// What a PCI device's bus-master requests go through: memory reads and writes (DMA) and message-signalled
// interrupts, each tagged with the requester's source-id (PCI bus/device/function, VT-d spec 3.4.1). With
// Intel VT-d both go through the remapping hardware (IntelIOMMU); without it they reach memory and the local
// APICs directly (DirectPlatformAccess).

/// Guest-physical memory as a DMA engine sees it: RAM only, bounds-checked.
public protocol PhysicalMemoryAccess: AnyObject {
    /// The `count` bytes at `address`, or nil if any of them is not readable RAM.
    func readPhysical(at address: UInt64, count: Int) -> [UInt8]?
    /// Writes `bytes` at `address`; writes nothing and returns false if any byte is not writable RAM.
    func writePhysical(_ bytes: [UInt8], at address: UInt64) -> Bool
}

/// Where a PCI function sends its memory requests and interrupt messages (the upstream side of its bus).
public protocol BusMasterAccess: AnyObject {
    /// A DMA read of `count` bytes at bus address `address` by `requester` (source-id); nil if it failed
    /// (a remapping fault, or no RAM there).
    func dmaRead(at address: UInt64, count: Int, requester: UInt16) -> [UInt8]?
    /// A DMA write by `requester`; false if it failed.
    func dmaWrite(_ bytes: [UInt8], at address: UInt64, requester: UInt16) -> Bool
    /// A message-signalled interrupt: a DWORD write of `data` to `address` (0xFEEx_xxxx). `requester` is the
    /// source-id, or nil for a requester whose source-id is not verified (the I/O APIC, as in QEMU).
    /// Returns whether a local APIC accepted the interrupt.
    func deliverMSI(address: UInt64, data: UInt32, requester: UInt16?) -> Bool
}

/// The compatibility-format interrupt message (SDM Vol. 3 11.11, VT-d spec 5.1.2): an address
/// 0xFEEx_xxxx with the destination in bits 19:12 and the destination mode in bit 2, data with the vector in
/// bits 7:0, the delivery mode in bits 10:8 and the trigger mode in bit 15.
public enum CompatibilityInterruptMessage {
    /// Bits 31:20 of every interrupt address.
    public static let addressHead: UInt64 = 0xFEE
    /// Address bit 4: the interrupt format (1 = remappable, VT-d spec 5.1.5.2).
    public static let remappableFormatBit: UInt64 = 1 << 4

    /// Whether `address` is an interrupt request (bits 31:20 = 0xFEE, bits 63:32 = 0).
    public static func isInterrupt(_ address: UInt64) -> Bool { address >> 20 == addressHead }

    /// Decodes a compatibility-format message; nil for an address that is not an interrupt.
    public static func decode(address: UInt64, data: UInt32) -> APICInterruptMessage? {
        guard isInterrupt(address) else { return nil }
        return APICInterruptMessage(vector: UInt8(truncatingIfNeeded: data),
                                    deliveryMode: APICDeliveryMode(field: UInt64(data >> 8)),
                                    logicalDestination: address & 1 << 2 != 0,
                                    destination: UInt8(truncatingIfNeeded: address >> 12),
                                    levelTriggered: data & 1 << 15 != 0)
    }

    /// Encodes `message` in the compatibility format: (address, data).
    public static func encode(_ message: APICInterruptMessage) -> (address: UInt64, data: UInt32) {
        let address = addressHead << 20 | UInt64(message.destination) << 12 | (message.logicalDestination ? 1 << 2 : 0)
        let data = UInt32(message.vector) | UInt32(message.deliveryMode.rawValue & 7) << 8
            | (message.levelTriggered ? 1 << 15 | 1 << 14 : 0)
        return (address, data)
    }
}

/// A platform without DMA remapping: bus addresses are guest-physical addresses, compatibility-format
/// messages go to the local APICs.
public final class DirectPlatformAccess: BusMasterAccess {
    private let memory: any PhysicalMemoryAccess
    private let apics: any APICInterruptSink

    /// Creates the access path over `memory` and the APICs `apics`.
    public init(memory: any PhysicalMemoryAccess, apics: any APICInterruptSink) {
        self.memory = memory
        self.apics = apics
    }

    public func dmaRead(at address: UInt64, count: Int, requester: UInt16) -> [UInt8]? {
        memory.readPhysical(at: address, count: count)
    }

    public func dmaWrite(_ bytes: [UInt8], at address: UInt64, requester: UInt16) -> Bool {
        memory.writePhysical(bytes, at: address)
    }

    public func deliverMSI(address: UInt64, data: UInt32, requester: UInt16?) -> Bool {
        guard let message = CompatibilityInterruptMessage.decode(address: address, data: data) else { return false }
        return apics.deliver(message)
    }
}

/// Guest memory for tests and tools: a byte array at guest-physical 0, every byte readable and writable.
public final class ArrayPhysicalMemory: PhysicalMemoryAccess {
    /// The bytes.
    public var bytes: [UInt8]

    /// `size` zero bytes.
    public init(size: Int) { bytes = [UInt8](repeating: 0, count: max(size, 0)) }

    public func readPhysical(at address: UInt64, count: Int) -> [UInt8]? {
        guard count >= 0, address <= UInt64(bytes.count), UInt64(count) <= UInt64(bytes.count) - address else { return nil }
        return Array(bytes[Int(address)..<Int(address) + count])
    }

    public func writePhysical(_ bytes: [UInt8], at address: UInt64) -> Bool {
        guard address <= UInt64(self.bytes.count), UInt64(bytes.count) <= UInt64(self.bytes.count) - address else { return false }
        self.bytes.replaceSubrange(Int(address)..<Int(address) + bytes.count, with: bytes)
        return true
    }

    /// Reads a little-endian value of `size` (1–8) bytes; 0 outside the array.
    public func load(at address: UInt64, size: Int = 8) -> UInt64 {
        guard let b = readPhysical(at: address, count: min(max(size, 1), 8)) else { return 0 }
        return b.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    /// Writes a little-endian value of `size` (1–8) bytes; nothing outside the array.
    public func store(_ value: UInt64, at address: UInt64, size: Int = 8) {
        _ = writePhysical((0..<min(max(size, 1), 8)).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }, at: address)
    }
}
