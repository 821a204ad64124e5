/// Flat binaries: bytes copied at one address, started at an entry in a chosen mode.
public enum FlatLoader {
    /// Plans `image` at `address`, entered at `entry` (default: `address`) in `mode`
    /// (real mode: CS = entry >> 4, IP = entry & 0xF).
    public static func load(_ image: [UInt8], at address: UInt64, entry: UInt64? = nil, mode: ExecutionMode,
                            memory: MemoryMap) throws(LoaderError) -> LoadPlan {
        guard !image.isEmpty else { throw .invalidFlatImage("empty image") }
        let end = try checkedAdd(address, UInt64(image.count), "flat image end")
        let rip = entry ?? address
        guard rip >= address, rip < end else { throw .invalidFlatImage("entry outside the image") }
        let system = try BootStructures.entry(mode: mode, rip: rip)
        let segments = [LoadSegment(guestPhysical: address, bytes: image, name: "flat image")] + system.segments
        return LoadPlan(segments: try BootStructures.validate(segments, memory: memory), entry: system.entry)
    }
}

/// Firmware ROMs (SeaBIOS, OVMF...): mapped just below 4 GiB, with their last 128 KiB (or all of a
/// smaller ROM) aliased just below 1 MiB; started at the reset vector F000:FFF0 with CS base 0xFFFF0000.
public enum FirmwareLoader {
    /// Largest ROM accepted.
    public static let maximumSize: UInt64 = 16 << 20
    /// Size of the alias below 1 MiB.
    public static let lowAliasSize: UInt64 = 128 << 10

    /// Plans a firmware ROM. Both segments are `.rom`; the VMM maps them read-only.
    public static func load(rom: [UInt8]) throws(LoaderError) -> LoadPlan {
        let size = UInt64(rom.count)
        guard size > 0, size % 0x1_0000 == 0, size <= maximumSize else { throw .invalidFirmwareSize(size) }
        let aliasSize = min(size, lowAliasSize)
        let segments = [
            LoadSegment(guestPhysical: 0x10_0000 - aliasSize, bytes: Array(rom[Int(size - aliasSize)...]), kind: .rom, name: "firmware (below 1 MiB)"),
            LoadSegment(guestPhysical: 0x1_0000_0000 - size, bytes: rom, kind: .rom, name: "firmware"),
        ]
        let entry = BootStructures.realEntry(codeSelector: 0xF000, codeBase: 0xFFFF_0000, ip: 0xFFF0)
        return LoadPlan(segments: segments, entry: entry)
    }
}
