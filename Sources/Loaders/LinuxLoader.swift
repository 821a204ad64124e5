/// The fields of the Linux `struct setup_header` (arch/x86/include/uapi/asm/bootparam.h) a loader reads.
public struct LinuxSetupHeader: Equatable, Sendable {
    /// Size of the real-mode setup in 512-byte sectors (0 read as 4).
    public var setupSects: UInt8
    /// Protected-mode kernel size in 16-byte paragraphs.
    public var sysSize: UInt32
    /// Boot protocol version (0x020F for 2.15).
    public var version: UInt16
    /// LOADED_HIGH (bit 0), CAN_USE_HEAP (bit 7)...
    public var loadFlags: UInt8
    /// Highest address the initrd may occupy (last byte).
    public var initrdAddrMax: UInt32
    /// Physical alignment the kernel needs.
    public var kernelAlignment: UInt32
    /// Whether the kernel may be loaded at any aligned address.
    public var relocatable: Bool
    /// XLF_KERNEL_64 (bit 0), XLF_CAN_BE_LOADED_ABOVE_4G (bit 1)...
    public var xloadflags: UInt16
    /// Maximum command-line length, excluding the terminating NUL.
    public var cmdlineSize: UInt32
    /// Preferred load address.
    public var prefAddress: UInt64
    /// Linear memory the kernel needs from its load address until it has relocated itself.
    public var initSize: UInt32

    /// Offset of the setup header in the image and in boot_params.
    public static let offset: UInt64 = 0x1F1
    /// Minimum protocol version this loader accepts (cmdline_size appears in 2.06).
    public static let minimumVersion: UInt16 = 0x0206
    /// Protocol version that introduced xloadflags (2.12), needed to see the 64-bit entry.
    public static let xloadflagsVersion: UInt16 = 0x020C
    /// loadflags LOADED_HIGH.
    public static let loadedHigh: UInt8 = 0x01
    /// loadflags CAN_USE_HEAP.
    public static let canUseHeap: UInt8 = 0x80
    /// xloadflags XLF_KERNEL_64: a 64-bit entry at load address + 0x200.
    public static let xlfKernel64: UInt16 = 0x1

    /// File offsets of the setup-header fields (Documentation/arch/x86/boot.rst), for the parser here and for
    /// anything that builds or patches an image.
    public enum Field {
        /// setup_sects (1 byte), syssize (4), boot_flag 0xAA55 (2), the jump over the header (2), header
        /// "HdrS" (4), version (2).
        public static let setupSects = 0x1F1, syssize = 0x1F4, bootFlag = 0x1FE, jump = 0x200, magic = 0x202
        public static let version = 0x206
        /// loadflags (1), initrd_addr_max (4), kernel_alignment (4), relocatable_kernel (1), xloadflags (2).
        public static let loadflags = 0x211, initrdAddrMax = 0x22C, kernelAlignment = 0x230, relocatable = 0x234
        public static let xloadflags = 0x236
        /// cmdline_size (4), pref_address (8), init_size (4).
        public static let cmdlineSize = 0x238, prefAddress = 0x258, initSize = 0x260
    }
    /// boot_flag: the boot-sector signature.
    public static let bootFlagValue: UInt16 = 0xAA55
    /// header: "HdrS" as a little-endian word.
    public static let magicValue: UInt32 = 0x5372_6448

    /// Size of the real-mode part (boot sector + setup sectors) in the file.
    public var setupSize: UInt64 { (UInt64(setupSects == 0 ? 4 : setupSects) + 1) * 512 }

    /// Parses and checks the header of a bzImage: 0xAA55 at 0x1FE, "HdrS" at 0x202, version ≥ 2.06.
    public static func parse(_ image: [UInt8]) throws(LoaderError) -> LinuxSetupHeader {
        typealias F = Field
        let r = ByteReader(image)
        let bootFlag = try r.u16(UInt64(F.bootFlag), "boot sector signature")
        guard bootFlag == bootFlagValue else {
            throw .badMagic(what: "boot_flag at 0x1fe", found: UInt64(bootFlag), expected: UInt64(bootFlagValue))
        }
        let magic = try r.u32(UInt64(F.magic), "setup header signature")
        guard magic == magicValue else {
            throw .badMagic(what: "header at 0x202 (\"HdrS\")", found: UInt64(magic), expected: UInt64(magicValue))
        }
        let version = try r.u16(UInt64(F.version), "protocol version")
        guard version >= minimumVersion else { throw .unsupportedProtocolVersion(found: version, minimum: minimumVersion) }
        let has2_10 = version >= 0x020A
        let has2_12 = version >= xloadflagsVersion
        return LinuxSetupHeader(
            setupSects: try r.u8(UInt64(F.setupSects), "setup_sects"),
            sysSize: try r.u32(UInt64(F.syssize), "syssize"),
            version: version,
            loadFlags: try r.u8(UInt64(F.loadflags), "loadflags"),
            initrdAddrMax: try r.u32(UInt64(F.initrdAddrMax), "initrd_addr_max"),
            kernelAlignment: try r.u32(UInt64(F.kernelAlignment), "kernel_alignment"),
            relocatable: try r.u8(UInt64(F.relocatable), "relocatable_kernel") != 0,
            xloadflags: has2_12 ? try r.u16(UInt64(F.xloadflags), "xloadflags") : 0,
            cmdlineSize: try r.u32(UInt64(F.cmdlineSize), "cmdline_size"),
            prefAddress: has2_10 ? try r.u64(UInt64(F.prefAddress), "pref_address") : 0x10_0000,
            initSize: has2_10 ? try r.u32(UInt64(F.initSize), "init_size") : 0)
    }

    /// Whether the kernel has the 64-bit entry point (protocol ≥ 2.12 and XLF_KERNEL_64).
    public var has64BitEntry: Bool { version >= Self.xloadflagsVersion && xloadflags & Self.xlfKernel64 != 0 }
}

/// The Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/boot.rst, "64-bit BOOT PROTOCOL").
public enum LinuxLoader {
    /// Offset of the 64-bit entry from the load address.
    public static let entryOffset64: UInt64 = 0x200
    /// Maximum e820 entries in boot_params (E820_MAX_ENTRIES_ZEROPAGE).
    public static let maxE820Entries = 128

    /// Plans the boot of a bzImage: protected-mode kernel at `pref_address` (or the lowest aligned free
    /// RAM if relocatable), boot_params at `BootLayout.bootParams`, command line at `BootLayout.commandLine`,
    /// the initrd at the highest page-aligned place below min(initrd_addr_max, RAM top) clear of the kernel,
    /// GDT and identity page tables; entry in 64-bit mode at load address + 0x200 with RSI = boot_params.
    public static func load(kernel image: [UInt8], initrd: [UInt8]? = nil, commandLine: String = "",
                            memory: MemoryMap) throws(LoaderError) -> LoadPlan {
        let header = try LinuxSetupHeader.parse(image)
        guard header.has64BitEntry else { throw .no64BitEntry(version: header.version, xloadflags: header.xloadflags) }
        guard header.loadFlags & LinuxSetupHeader.loadedHigh != 0 else { throw .notBzImage }

        // Protected-mode kernel: everything after the setup sectors.
        let r = ByteReader(image)
        let setupSize = header.setupSize
        try r.check(0, setupSize, "setup sectors")
        let kernelBytes = r.count - setupSize
        let declared = try checkedMul(UInt64(header.sysSize), 16, "syssize * 16")
        // syssize is rounded up to a paragraph; allow that rounding.
        guard declared <= kernelBytes + 15 else { throw .kernelSizeMismatch(declared: declared, available: kernelBytes) }
        let footprint = try alignUp(max(UInt64(header.initSize), kernelBytes), 0x1000, "kernel footprint")

        // Command line (cmdline_size excludes the NUL; also bounded by the low area).
        let cmd = Array(commandLine.utf8)
        let cmdMax = min(UInt64(header.cmdlineSize), BootLayout.lowLimit - BootLayout.commandLine - 1)
        guard UInt64(cmd.count) <= cmdMax else { throw .commandLineTooLong(length: UInt64(cmd.count), maximum: cmdMax) }

        let loadAddress = try placeKernel(header: header, footprint: footprint, memory: memory)
        guard try checkedAdd(loadAddress, footprint, "kernel end") <= BootStructures.identityMapEnd else {
            throw .addressAbove4GiB(what: "kernel end", address: loadAddress &+ footprint)
        }

        // Initrd.
        var initrdAddress: UInt64 = 0
        if let initrd, !initrd.isEmpty {
            initrdAddress = try placeInitrd(size: UInt64(initrd.count), header: header,
                                            kernel: (loadAddress, footprint), memory: memory)
        }

        // boot_params.
        var e820: [MemoryRegion] = memory.regions.filter { $0.size > 0 }
        e820.sort { $0.start < $1.start }
        guard e820.count <= maxE820Entries else { throw .tooManyMemoryRegions(count: e820.count, maximum: maxE820Entries) }
        var zeroPage = [UInt8](repeating: 0, count: 4096)
        let headerEnd = min(0x202 + UInt64(try r.u8(0x201, "setup header length")), 0x290, r.count)
        for i in Int(LinuxSetupHeader.offset)..<Int(headerEnd) { zeroPage[i] = image[i] }
        zeroPage.put16(0xFFFF, at: 0x1FA)                                            // vid_mode: normal
        zeroPage.put8(0xFF, at: 0x210)                                               // type_of_loader: undefined
        zeroPage.put8(header.loadFlags | LinuxSetupHeader.canUseHeap, at: 0x211)     // loadflags
        zeroPage.put32(UInt32(truncatingIfNeeded: loadAddress), at: 0x214)           // code32_start
        zeroPage.put32(UInt32(truncatingIfNeeded: initrdAddress), at: 0x218)         // ramdisk_image
        zeroPage.put32(UInt32(truncatingIfNeeded: UInt64(initrd?.count ?? 0)), at: 0x21C)  // ramdisk_size
        zeroPage.put16(0xFE00, at: 0x224)                                            // heap_end_ptr
        zeroPage.put32(UInt32(truncatingIfNeeded: BootLayout.commandLine), at: 0x228) // cmd_line_ptr
        zeroPage.put32(UInt32(truncatingIfNeeded: initrdAddress >> 32), at: 0x0C0)   // ext_ramdisk_image
        zeroPage.put32(UInt32(truncatingIfNeeded: UInt64(initrd?.count ?? 0) >> 32), at: 0x0C4)  // ext_ramdisk_size
        zeroPage.put32(UInt32(truncatingIfNeeded: BootLayout.commandLine >> 32), at: 0x0C8)  // ext_cmd_line_ptr
        zeroPage.put8(UInt8(e820.count), at: 0x1E8)                                  // e820_entries
        for (i, region) in e820.enumerated() {
            let o = 0x2D0 + 20 * i
            zeroPage.put64(region.start, at: o)
            zeroPage.put64(region.size, at: o + 8)
            zeroPage.put32(region.type.rawValue, at: o + 16)
        }

        var segments = [
            LoadSegment(guestPhysical: BootLayout.bootParams, bytes: zeroPage, name: "boot_params"),
            LoadSegment(guestPhysical: BootLayout.commandLine, bytes: cmd + [0], name: "command line"),
            LoadSegment(guestPhysical: loadAddress, bytes: Array(image[Int(setupSize)...]),
                        zeroFill: footprint - kernelBytes, name: "kernel"),
        ]
        if let initrd, !initrd.isEmpty {
            segments.append(LoadSegment(guestPhysical: initrdAddress, bytes: initrd, name: "initrd"))
        }
        let system = try BootStructures.entry(mode: .long64, rip: loadAddress + entryOffset64)
        var entry = system.entry
        entry.rsi = BootLayout.bootParams
        return LoadPlan(segments: try BootStructures.validate(segments + system.segments, memory: memory), entry: entry)
    }

    /// The kernel's load address: `pref_address` if `[pref, pref + footprint)` is usable RAM, else the lowest
    /// `kernel_alignment`-aligned usable place at or above 1 MiB if the kernel is relocatable.
    static func placeKernel(header: LinuxSetupHeader, footprint: UInt64, memory: MemoryMap) throws(LoaderError) -> UInt64 {
        let preferred = header.prefAddress
        if preferred >= BootLayout.highMemory, memory.isUsableRAM(start: preferred, size: footprint) { return preferred }
        guard header.relocatable else { throw .kernelNotRelocatable(preferredAddress: preferred, size: footprint) }
        var alignment = UInt64(header.kernelAlignment)
        if alignment == 0 || alignment & (alignment - 1) != 0 { alignment = 0x20_0000 }
        for region in memory.usable {
            guard let start = try? alignUp(max(region.start, BootLayout.highMemory), alignment, "kernel address") else { continue }
            let (end, o) = start.addingReportingOverflow(footprint)
            if !o, end <= region.end, end <= BootStructures.identityMapEnd { return start }
        }
        throw .noRoomForKernel(size: footprint, alignment: alignment)
    }

    /// The highest page-aligned address for the initrd below min(initrd_addr_max + 1, RAM top), at or above
    /// 1 MiB, outside the kernel's footprint.
    static func placeInitrd(size: UInt64, header: LinuxSetupHeader, kernel: (start: UInt64, size: UInt64),
                            memory: MemoryMap) throws(LoaderError) -> UInt64 {
        let limit = min(UInt64(header.initrdAddrMax) + 1, BootStructures.identityMapEnd)
        let kernelEnd = kernel.start &+ kernel.size
        // Free ranges: usable RAM ∩ [1 MiB, limit) minus the kernel.
        var free: [(UInt64, UInt64)] = []
        for region in memory.usable {
            let lo = max(region.start, BootLayout.highMemory), hi = min(region.end, limit)
            guard lo < hi else { continue }
            if kernelEnd <= lo || kernel.start >= hi {
                free.append((lo, hi))
            } else {
                if lo < kernel.start { free.append((lo, kernel.start)) }
                if kernelEnd < hi { free.append((kernelEnd, hi)) }
            }
        }
        for (lo, hi) in free.sorted(by: { $0.1 > $1.1 }) where hi - lo >= size {
            let address = (hi - size) & ~0xFFF
            if address >= lo { return address }
        }
        throw .initrdTooLarge(size: size, limit: limit)
    }
}
