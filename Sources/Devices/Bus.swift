// The buses own the address map (STYLE point 1): a device is registered at a
// range, overlapping ranges are refused, and a device only ever sees the offset
// of an access inside its own range.

/// A half-open range of addresses `[base, base + length)` on a bus.
public struct AddressRange: Equatable, Hashable, Codable, Sendable, CustomStringConvertible {
    /// The first address of the range.
    public var base: UInt64
    /// The number of addresses in the range (at least 1).
    public var length: UInt64

    /// Creates the range `[base, base + length)`.
    public init(base: UInt64, length: UInt64) {
        self.base = base
        self.length = length
    }

    /// The last address inside the range (saturating at `UInt64.max`).
    public var last: UInt64 { TimeArithmetic.add(base, length &- 1) }

    /// Whether `address` falls inside the range.
    public func contains(_ address: UInt64) -> Bool {
        address >= base && address &- base < length
    }

    /// Whether the two ranges share at least one address.
    public func overlaps(_ other: AddressRange) -> Bool {
        base <= other.last && other.base <= last
    }

    /// The range in hexadecimal, e.g. `0x3f8..<0x400`.
    public var description: String {
        "0x\(String(base, radix: 16))..<0x\(String(base &+ length, radix: 16))"
    }
}

/// Why a bus refused to map a device.
public enum BusError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The requested range overlaps a range already mapped on the bus.
    case overlap(requested: AddressRange, existing: AddressRange)
    /// The requested range is empty or runs past the end of the bus's address space.
    case invalidRange(AddressRange, addressSpaceSize: UInt64)

    /// A one-line explanation naming both ranges.
    public var description: String {
        switch self {
        case let .overlap(requested, existing):
            "cannot map \(requested): it overlaps the device already mapped at \(existing)"
        case let .invalidRange(range, size):
            "cannot map \(range): empty, or beyond the bus's address space of 0x\(String(size, radix: 16)) addresses"
        }
    }
}

/// Which address space a bus serves.
public enum BusKind: String, Equatable, Codable, Sendable {
    /// The x86 I/O port space: 65536 ports, `IN`/`OUT`.
    case portIO
    /// Guest-physical memory-mapped I/O: the whole 64-bit space.
    case mmio
}

/// An address space with devices mapped at non-overlapping ranges.
///
/// Reads of an address no device claims return all ones (of the access size)
/// and are counted; writes to one are dropped and counted. An access is routed
/// by its first address; the device receives `address - base` and the size.
public final class Bus {
    private struct Mapping {
        var range: AddressRange
        var device: any Device
        /// Index of the device in `devices`.
        var slot = 0
    }

    /// When a device was last brought to a time, and the deadline it reported then.
    private struct Timing {
        var time: UInt64 = 0
        var deadline: UInt64? = nil
        /// False until the device has been advanced (and after `deviceStateChanged()`).
        var current = false
    }

    /// The address space this bus serves.
    public let kind: BusKind
    /// The number of addresses in the space (`nil`: all 2^64 addresses).
    public let addressSpaceSize: UInt64?
    @exclusivity(unchecked) private var mappings: [Mapping] = []   // sorted by base, never overlapping
    /// `mappings[k].range` for every k: the lookup searches these plain values (no device references to
    /// retain on the way, as every I/O exit pays the lookup).
    @exclusivity(unchecked) private var rangeIndex: [AddressRange] = []
    /// For the port-I/O bus: per port, 1 + the index in `mappings` of the mapping that holds it, or 0.
    /// One load finds an I/O exit's device (128 KiB, rebuilt at the first access after a map/unmap).
    @exclusivity(unchecked) private var portSlots: [UInt16] = []
    /// Whether `portSlots` must be rebuilt before its next use.
    @exclusivity(unchecked) private var portSlotsStale = true
    /// Each mapped device once (a device mapped at several ranges appears once), for `advance(to:)`.
    @exclusivity(unchecked) private var devices: [any Device] = []
    /// Per device of `devices`: its time and deadline.
    @exclusivity(unchecked) private var timing: [Timing] = []
    /// The latest time given to `advance(to:)`.
    @exclusivity(unchecked) private var now: UInt64 = 0
    /// The earliest deadline of `timing`, valid while `timingChanged` is false: `advance(to:)` before it
    /// has nothing to do (the VMM calls it on every exit).
    @exclusivity(unchecked) private var earliestDeadline: UInt64? = nil
    /// Whether `timing` changed since `earliestDeadline` was computed.
    @exclusivity(unchecked) private var timingChanged = true

    /// How many reads hit no device.
    @exclusivity(unchecked) public private(set) var unmappedReads: UInt64 = 0
    /// How many writes hit no device.
    @exclusivity(unchecked) public private(set) var unmappedWrites: UInt64 = 0

    /// Creates an empty bus of the given kind.
    public init(kind: BusKind) {
        self.kind = kind
        self.addressSpaceSize = kind == .portIO ? 0x1_0000 : nil
    }

    /// An empty port-I/O bus (ports 0x0000–0xFFFF).
    public static func portIO() -> Bus { Bus(kind: .portIO) }
    /// An empty MMIO bus (the 64-bit guest-physical space).
    public static func mmio() -> Bus { Bus(kind: .mmio) }

    /// The mapped ranges, lowest first.
    public var ranges: [AddressRange] { mappings.map(\.range) }

    /// Maps `device` at `[base, base + length)`.
    /// - Throws: `BusError.overlap` when the range overlaps a mapped one,
    ///   `BusError.invalidRange` when it is empty or leaves the address space.
    public func map(_ device: any Device, at base: UInt64, length: UInt64) throws(BusError) {
        let range = AddressRange(base: base, length: length)
        let (end, wrapped) = base.addingReportingOverflow(length)
        let fits: Bool
        if let size = addressSpaceSize { fits = !wrapped && end <= size } else { fits = !wrapped || end == 0 }
        guard length > 0, fits else {
            throw .invalidRange(range, addressSpaceSize: addressSpaceSize ?? 0)
        }
        let index = insertionIndex(for: base)
        if index > 0, mappings[index - 1].range.overlaps(range) {
            throw .overlap(requested: range, existing: mappings[index - 1].range)
        }
        if index < mappings.count, mappings[index].range.overlaps(range) {
            throw .overlap(requested: range, existing: mappings[index].range)
        }
        mappings.insert(Mapping(range: range, device: device), at: index)
        renumberDevices()
    }

    /// Removes the mapping that starts at `base`; returns whether there was one.
    @discardableResult
    public func unmap(at base: UInt64) -> Bool {
        guard let index = mappings.firstIndex(where: { $0.range.base == base }) else { return false }
        mappings.remove(at: index)
        renumberDevices()
        return true
    }

    /// The device mapped at `address` and the offset of `address` inside its range.
    public func device(at address: UInt64) -> (device: any Device, offset: UInt64)? {
        guard let m = mapping(at: address) else { return nil }
        return (m.device, address &- m.range.base)
    }

    /// The mapping that contains `address`.
    private func mapping(at address: UInt64) -> Mapping? {
        if portSlotsStale { rebuildPortSlots() }
        if !portSlots.isEmpty {
            guard address < UInt64(portSlots.count) else { return nil }
            let slot = Int(portSlots[Int(address)])
            return slot == 0 ? nil : mappings[slot - 1]
        }
        let index = upperBound(for: address)   // first mapping with base > address
        guard index > 0, rangeIndex[index - 1].contains(address) else { return nil }
        return mappings[index - 1]
    }

    /// Reads `size` bytes at `address`; all ones of that size when unmapped.
    public func read(address: UInt64, size: Int) -> UInt64 {
        guard let m = mapping(at: address) else {
            unmappedReads &+= 1
            return Bus.allOnes(size: size)
        }
        bringCurrent(m.slot)
        let value = m.device.read(offset: address &- m.range.base, size: size) & Bus.allOnes(size: size)
        advanceDevice(m.slot)
        return value
    }

    /// Writes the low `size` bytes of `value` at `address`; counted and dropped when unmapped.
    public func write(address: UInt64, size: Int, value: UInt64) {
        guard let m = mapping(at: address) else {
            unmappedWrites &+= 1
            return
        }
        bringCurrent(m.slot)
        m.device.write(offset: address &- m.range.base, size: size, value: value & Bus.allOnes(size: size))
        advanceDevice(m.slot)
    }

    /// Brings the mapped devices to `now` and returns the earliest deadline any of them reported. A device
    /// mapped at several ranges counts once. Devices are advanced lazily: one whose last reported deadline
    /// lies after `now` is left where it is (by the `Device.advance(to:)` contract nothing happens to it
    /// before its deadline) and is brought to `now` just before its next access through this bus. A device
    /// changed other than through this bus (input delivered to it directly) needs `deviceStateChanged()`.
    public func advance(to now: UInt64) -> UInt64? {
        self.now = max(self.now, now)
        // Every device current, and none due yet: nothing to advance, and the earliest deadline stands.
        if !timingChanged && earliestDeadline.map({ self.now < $0 }) ?? true { return earliestDeadline }
        var earliest: UInt64?
        for slot in devices.indices {
            let t = timing[slot]
            if !t.current || (t.deadline.map { $0 <= self.now } ?? false) { advanceDevice(slot) }
            if let deadline = timing[slot].deadline {
                earliest = min(earliest ?? deadline, deadline)
            }
        }
        earliestDeadline = earliest
        timingChanged = false
        return earliest
    }

    /// Makes the next `advance(to:)` advance every device: call it after changing a device's state other
    /// than through `read`/`write` (its deadline may have moved).
    public func deviceStateChanged() {
        for slot in timing.indices { timing[slot].current = false }
        timingChanged = true
    }

    /// Advances the device in `slot` to the bus's time and records the deadline it reports (also after an
    /// access, which may have reprogrammed it).
    private func advanceDevice(_ slot: Int) {
        timing[slot] = Timing(time: now, deadline: devices[slot].advance(to: now), current: true)
        timingChanged = true
    }

    /// Advances the device in `slot` to the bus's time unless it is there already.
    private func bringCurrent(_ slot: Int) {
        if !timing[slot].current || timing[slot].time != now { advanceDevice(slot) }
    }

    /// Lists each mapped device once and points every mapping at its device's slot (after each map/unmap).
    private func renumberDevices() {
        rangeIndex = mappings.map(\.range)
        portSlotsStale = true
        var slots: [ObjectIdentifier: Int] = [:]
        devices = []
        for k in mappings.indices {
            let id = ObjectIdentifier(mappings[k].device)
            if let slot = slots[id] {
                mappings[k].slot = slot
            } else {
                slots[id] = devices.count
                mappings[k].slot = devices.count
                devices.append(mappings[k].device)
            }
        }
        timing = Array(repeating: Timing(), count: devices.count)
        timingChanged = true
    }

    /// Fills `portSlots` from `mappings` (a port-sized address space only; other buses search `rangeIndex`).
    private func rebuildPortSlots() {
        portSlotsStale = false
        guard let size = addressSpaceSize, size <= 0x1_0000, mappings.count < Int(UInt16.max) else {
            portSlots = []
            return
        }
        portSlots = Array(repeating: 0, count: Int(size))
        for (k, m) in mappings.enumerated() {
            // The range lies inside the address space (`map` refused any other).
            for a in m.range.base..<(m.range.base &+ m.range.length) { portSlots[Int(a)] = UInt16(k + 1) }
        }
    }

    /// All ones in the low `size` bytes (8 bytes for sizes outside 1...7).
    public static func allOnes(size: Int) -> UInt64 {
        (1...7).contains(size) ? (UInt64(1) &<< UInt64(8 * size)) &- 1 : UInt64.max
    }

    private func upperBound(for address: UInt64) -> Int {
        var low = 0, high = rangeIndex.count
        while low < high {
            let mid = (low + high) / 2
            if rangeIndex[mid].base <= address { low = mid + 1 } else { high = mid }
        }
        return low
    }

    private func insertionIndex(for base: UInt64) -> Int {
        var low = 0, high = mappings.count
        while low < high {
            let mid = (low + high) / 2
            if mappings[mid].range.base < base { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
