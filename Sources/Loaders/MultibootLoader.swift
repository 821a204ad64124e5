/// A multiboot v1 header (Multiboot Specification 0.6.96, section 3.1).
public struct MultibootHeader: Equatable, Sendable {
    /// File offset of the header.
    public var offset: UInt64
    /// Flags: bit 0 page-align modules, bit 1 memory info, bit 2 video mode, bit 16 a.out-kludge addresses valid.
    public var flags: UInt32
    /// The a.out-kludge addresses (flags bit 16).
    public struct Addresses: Equatable, Sendable {
        /// Physical address of the header itself.
        public var headerAddress: UInt32
        /// Physical address of the start of the text segment.
        public var loadAddress: UInt32
        /// End of the data segment (0: end of the file).
        public var loadEndAddress: UInt32
        /// End of bss (0: no bss).
        public var bssEndAddress: UInt32
        /// Entry point.
        public var entryAddress: UInt32
    }
    /// Present when flags bit 16 is set.
    public var addresses: Addresses?

    /// Header magic.
    public static let magic: UInt32 = 0x1BAD_B002
    /// EAX at entry.
    public static let bootloaderMagic: UInt32 = 0x2BAD_B002
    /// Bytes searched for the header.
    public static let searchLimit = 8192
    /// Flag bit 16: a.out kludge.
    public static let aoutKludge: UInt32 = 1 << 16
    /// Required-feature bits this loader honours: 0 (page-aligned modules), 1 (memory info), 2 (video: text mode given).
    public static let supportedRequired: UInt32 = 0x7

    /// Finds the first 4-byte-aligned header in the first 8192 bytes whose checksum is valid.
    public static func find(in file: [UInt8]) throws(LoaderError) -> MultibootHeader {
        let r = ByteReader(file)
        var badChecksum: LoaderError?
        var offset: UInt64 = 0
        while offset + 12 <= UInt64(min(file.count, searchLimit)) {
            defer { offset += 4 }
            guard try r.u32(offset, "multiboot magic") == magic else { continue }
            let flags = try r.u32(offset + 4, "multiboot flags")
            let checksum = try r.u32(offset + 8, "multiboot checksum")
            guard magic &+ flags &+ checksum == 0 else {
                if badChecksum == nil { badChecksum = .checksumMismatch(offset: offset, flags: flags, checksum: checksum) }
                continue
            }
            var header = MultibootHeader(offset: offset, flags: flags, addresses: nil)
            if flags & aoutKludge != 0 {
                header.addresses = Addresses(
                    headerAddress: try r.u32(offset + 12, "multiboot header_addr"),
                    loadAddress: try r.u32(offset + 16, "multiboot load_addr"),
                    loadEndAddress: try r.u32(offset + 20, "multiboot load_end_addr"),
                    bssEndAddress: try r.u32(offset + 24, "multiboot bss_end_addr"),
                    entryAddress: try r.u32(offset + 28, "multiboot entry_addr"))
            }
            return header
        }
        throw badChecksum ?? .multibootHeaderNotFound
    }
}

/// A boot module handed to a multiboot kernel.
public struct MultibootModule: Equatable, Sendable {
    /// Contents.
    public var bytes: [UInt8]
    /// Its string (usually a command line).
    public var string: String

    /// Creates a module.
    public init(bytes: [UInt8], string: String = "") {
        self.bytes = bytes
        self.string = string
    }
}

/// Multiboot v1: ELF (PT_LOAD at p_paddr; ELF64 accepted when everything is below 4 GiB) or the a.out kludge;
/// the information structure with mem_lower/mem_upper, cmdline, modules (page-aligned after the kernel),
/// memory map and boot loader name; entry in 32-bit protected mode, paging off, EAX = 0x2BADB002, EBX = info.
public enum MultibootLoader {
    /// Plans a multiboot kernel.
    public static func load(kernel file: [UInt8], modules: [MultibootModule] = [], commandLine: String = "",
                            memory: MemoryMap) throws(LoaderError) -> LoadPlan {
        let header = try MultibootHeader.find(in: file)
        let unsupported = header.flags & 0xFFFF & ~MultibootHeader.supportedRequired
        guard unsupported == 0 else { throw .unsupportedMultibootFlags(header.flags) }

        var segments: [LoadSegment]
        var entry: UInt64
        if let a = header.addresses {
            (segments, entry) = try aoutSegments(file, header: header, addresses: a)
        } else {
            let elf = try ELFImage.parse(file)
            segments = elf.planSegments(file, name: "kernel")
            entry = elf.physicalEntry
        }
        guard entry <= UInt64(UInt32.max) else { throw .addressAbove4GiB(what: "entry", address: entry) }
        var kernelEnd: UInt64 = 0
        for s in segments {
            let end = try checkedAdd(s.guestPhysical, s.size, "\(s.name) end")
            guard end <= 0x1_0000_0000 else { throw .addressAbove4GiB(what: s.name, address: s.guestPhysical) }
            kernelEnd = max(kernelEnd, end)
        }

        // Modules, page-aligned after the kernel.
        var next = try alignUp(max(kernelEnd, BootLayout.highMemory), 0x1000, "module address")
        var moduleRanges: [(UInt64, UInt64)] = []
        for (i, module) in modules.enumerated() {
            let end = try checkedAdd(next, UInt64(module.bytes.count), "module \(i) end")
            guard end <= 0x1_0000_0000 else { throw .addressAbove4GiB(what: "module \(i)", address: next) }
            segments.append(LoadSegment(guestPhysical: next, bytes: module.bytes, name: "module \(i)"))
            moduleRanges.append((next, end))
            next = try alignUp(end, 0x1000, "module address")
        }

        // The information structure and what it points to, in one blob at BootLayout.multibootInfo — or, when
        // the image or a module covers that (a kernel linked low, like kvm-unit-tests' realmode.flat), right
        // after the image and its modules, page-aligned, as QEMU places it.
        func information(at base: UInt64) -> [UInt8] {
            var info = [UInt8](repeating: 0, count: 0x80)
            func addString(_ s: String) -> UInt32 {
                let address = UInt32(truncatingIfNeeded: base + UInt64(info.count))
                info += Array(s.utf8) + [0]
                return address
            }
            func align() { while info.count % 8 != 0 { info.append(0) } }
            var flags: UInt32 = 0
            let usable = memory.usable
            let lower = usable.first { $0.start == 0 }.map { min($0.end, 0xA_0000) / 1024 } ?? 0
            let upper = usable.first { $0.start <= BootLayout.highMemory && $0.end > BootLayout.highMemory }
                .map { (min($0.end, 0x1_0000_0000) - BootLayout.highMemory) / 1024 } ?? 0
            info.put32(UInt32(lower), at: 4)
            info.put32(UInt32(truncatingIfNeeded: upper), at: 8)
            flags |= 1 << 0                                      // mem_lower/mem_upper
            info.put32(addString(commandLine), at: 16)
            flags |= 1 << 2                                      // cmdline
            info.put32(addString("SwiftVMX"), at: 64)
            flags |= 1 << 9                                      // boot_loader_name
            let regions = memory.regions.filter { $0.size > 0 }.sorted { $0.start < $1.start }
            align()
            let mmapAddress = base + UInt64(info.count)
            for region in regions {
                info.append32(20)
                info.append64(region.start)
                info.append64(region.size)
                info.append32(region.type.rawValue)
            }
            info.put32(UInt32(truncatingIfNeeded: regions.count * 24), at: 44)
            info.put32(UInt32(truncatingIfNeeded: mmapAddress), at: 48)
            flags |= 1 << 6                                      // mmap
            let strings = modules.map { $0.string }
            align()
            let modsAddress = base + UInt64(info.count)
            info += [UInt8](repeating: 0, count: 16 * modules.count)
            for (i, (start, end)) in moduleRanges.enumerated() {
                let o = Int(modsAddress - base) + 16 * i
                info.put32(UInt32(truncatingIfNeeded: start), at: o)
                info.put32(UInt32(truncatingIfNeeded: end), at: o + 4)
                info.put32(addString(strings[i]), at: o + 8)
            }
            info.put32(UInt32(modules.count), at: 20)
            info.put32(UInt32(truncatingIfNeeded: modsAddress), at: 24)
            flags |= 1 << 3                                      // mods
            info.put32(flags, at: 0)
            return info
        }
        var base = BootLayout.multibootInfo
        var info = information(at: base)
        let overlapsImage = segments.contains { $0.guestPhysical < base + UInt64(info.count) && base < $0.guestPhysical + $0.size }
        if overlapsImage || base + UInt64(info.count) > BootLayout.lowLimit {
            base = next
            info = information(at: base)
            guard base + UInt64(info.count) <= 0x1_0000_0000 else { throw .addressAbove4GiB(what: "multiboot information", address: base) }
        }
        segments.append(LoadSegment(guestPhysical: base, bytes: info, name: "multiboot information"))

        let system = try BootStructures.entry(mode: .protected32, rip: entry)
        var state = system.entry
        state.rax = UInt64(MultibootHeader.bootloaderMagic)
        state.rbx = base
        return LoadPlan(segments: try BootStructures.validate(segments + system.segments, memory: memory), entry: state)
    }

    /// The a.out-kludge image: file bytes from header_offset - (header_addr - load_addr), up to load_end_addr
    /// (or the end of the file), then zeros to bss_end_addr.
    static func aoutSegments(_ file: [UInt8], header: MultibootHeader,
                             addresses a: MultibootHeader.Addresses) throws(LoaderError) -> ([LoadSegment], UInt64) {
        guard a.headerAddress >= a.loadAddress else { throw .invalidMultibootAddresses("header_addr < load_addr") }
        let delta = UInt64(a.headerAddress - a.loadAddress)
        guard delta <= header.offset else { throw .invalidMultibootAddresses("load_addr lies before the start of the file") }
        let fileOffset = header.offset - delta
        let loadEnd: UInt64
        if a.loadEndAddress == 0 {
            loadEnd = UInt64(a.loadAddress) + (UInt64(file.count) - fileOffset)
        } else {
            guard a.loadEndAddress >= a.loadAddress else { throw .invalidMultibootAddresses("load_end_addr < load_addr") }
            loadEnd = UInt64(a.loadEndAddress)
        }
        let size = loadEnd - UInt64(a.loadAddress)
        let bytes = try ByteReader(file).slice(fileOffset, size, "multiboot a.out image")
        var zeroFill: UInt64 = 0
        if a.bssEndAddress != 0 {
            guard UInt64(a.bssEndAddress) >= loadEnd else { throw .invalidMultibootAddresses("bss_end_addr < load_end_addr") }
            zeroFill = UInt64(a.bssEndAddress) - loadEnd
        }
        guard a.entryAddress >= a.loadAddress, UInt64(a.entryAddress) < loadEnd else {
            throw .invalidMultibootAddresses("entry_addr outside the loaded image")
        }
        let segment = LoadSegment(guestPhysical: UInt64(a.loadAddress), bytes: bytes, zeroFill: zeroFill, name: "kernel")
        return ([segment], UInt64(a.entryAddress))
    }
}
