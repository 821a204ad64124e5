/// An e820 address-range type (ACPI specification, "Address Range Types").
public struct E820Type: RawRepresentable, Hashable, Sendable, Codable {
    /// The raw e820 type value.
    public var rawValue: UInt32
    /// Creates a type from its raw value.
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// 1: usable RAM.
    public static let ram = E820Type(rawValue: 1)
    /// 2: reserved.
    public static let reserved = E820Type(rawValue: 2)
    /// 3: ACPI reclaimable.
    public static let acpi = E820Type(rawValue: 3)
    /// 4: ACPI non-volatile storage.
    public static let nvs = E820Type(rawValue: 4)
    /// 5: unusable.
    public static let unusable = E820Type(rawValue: 5)
}

/// One range of the guest-physical memory map.
public struct MemoryRegion: Equatable, Sendable, Codable {
    /// First address.
    public var start: UInt64
    /// Size in bytes.
    public var size: UInt64
    /// e820 type.
    public var type: E820Type

    /// Creates a region.
    public init(start: UInt64, size: UInt64, type: E820Type) {
        self.start = start
        self.size = size
        self.type = type
    }

    /// One past the last address (saturating).
    public var end: UInt64 {
        let (e, o) = start.addingReportingOverflow(size)
        return o ? UInt64.max : e
    }
}

/// The guest's memory map: what the loaders place things in and report to the guest (e820, multiboot mmap).
public struct MemoryMap: Equatable, Sendable, Codable {
    /// The regions, in the order given.
    public var regions: [MemoryRegion]

    /// Creates a memory map from regions.
    public init(regions: [MemoryRegion]) { self.regions = regions }

    /// A PC map for `ramSize` bytes of RAM: 0–0x9FC00 RAM, EBDA and 0xF0000–0xFFFFF reserved,
    /// RAM from 1 MiB up to min(ramSize, 3 GiB), the rest of RAM from 4 GiB.
    public static func standardPC(ramSize: UInt64) -> MemoryMap {
        let lowTop: UInt64 = 0xC000_0000
        var regions = [
            MemoryRegion(start: 0, size: 0x9_FC00, type: .ram),
            MemoryRegion(start: 0x9_FC00, size: 0x400, type: .reserved),
            MemoryRegion(start: 0xF_0000, size: 0x1_0000, type: .reserved),
        ]
        if ramSize > 0x10_0000 {
            regions.append(MemoryRegion(start: 0x10_0000, size: min(ramSize, lowTop) - 0x10_0000, type: .ram))
        }
        if ramSize > lowTop {
            regions.append(MemoryRegion(start: 0x1_0000_0000, size: ramSize - lowTop, type: .ram))
        }
        return MemoryMap(regions: regions)
    }

    /// The usable-RAM regions, sorted by start.
    var usable: [MemoryRegion] {
        regions.filter { $0.type == .ram && $0.size > 0 }.sorted { $0.start < $1.start }
    }

    /// Whether `[start, start + size)` lies inside one usable-RAM region.
    public func isUsableRAM(start: UInt64, size: UInt64) -> Bool {
        let (end, o) = start.addingReportingOverflow(size)
        if o { return false }
        return usable.contains { $0.start <= start && end <= $0.end }
    }
}
