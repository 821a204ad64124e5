/// A parsed ELF executable (ELF32 or ELF64, little-endian, x86).
public struct ELFImage: Equatable, Sendable {
    /// One PT_LOAD program header.
    public struct Segment: Equatable, Sendable {
        /// Index in the program-header table.
        public var index: Int
        /// File offset of the contents.
        public var offset: UInt64
        /// Virtual address.
        public var virtualAddress: UInt64
        /// Physical address (where the loaders put it).
        public var physicalAddress: UInt64
        /// Bytes present in the file.
        public var fileSize: UInt64
        /// Bytes in memory (the rest is zero).
        public var memorySize: UInt64
    }

    /// true for ELFCLASS64.
    public var is64Bit: Bool
    /// e_machine (3 = EM_386, 62 = EM_X86_64).
    public var machine: UInt16
    /// e_entry.
    public var entry: UInt64
    /// PT_LOAD segments with a non-zero memory size, in file order.
    public var loadSegments: [Segment]

    /// ELF magic "\u{7f}ELF" read as a little-endian word.
    public static let magic: UInt32 = 0x464C_457F

    /// Parses the ELF header and program headers; every offset and size is bounds- and overflow-checked.
    public static func parse(_ file: [UInt8]) throws(LoaderError) -> ELFImage {
        let r = ByteReader(file)
        let found = try r.u32(0, "ELF magic")
        guard found == magic else { throw .badMagic(what: "ELF magic", found: UInt64(found), expected: UInt64(magic)) }
        let cls = try r.u8(4, "EI_CLASS")
        guard cls == 1 || cls == 2 else { throw .unsupportedELF("EI_CLASS \(cls)") }
        let is64 = cls == 2
        guard try r.u8(5, "EI_DATA") == 1 else { throw .unsupportedELF("not little-endian") }
        let type = try r.u16(16, "e_type")
        guard type == 2 else { throw .unsupportedELF("e_type \(type) is not ET_EXEC") }
        let machine = try r.u16(18, "e_machine")
        guard machine == 3 || machine == 62 else { throw .unsupportedELF("e_machine \(machine) is not x86") }
        let entry = is64 ? try r.u64(24, "e_entry") : UInt64(try r.u32(24, "e_entry"))
        let phoff = is64 ? try r.u64(32, "e_phoff") : UInt64(try r.u32(28, "e_phoff"))
        let phentsize = UInt64(try r.u16(is64 ? 54 : 42, "e_phentsize"))
        let phnum = UInt64(try r.u16(is64 ? 56 : 44, "e_phnum"))
        let minimum: UInt64 = is64 ? 56 : 32
        guard phnum == 0 || phentsize >= minimum else { throw .unsupportedELF("e_phentsize \(phentsize) < \(minimum)") }
        try r.check(phoff, try checkedMul(phentsize, phnum, "e_phentsize * e_phnum"), "program headers")

        var segments: [Segment] = []
        for i in 0..<phnum {
            let ph = phoff + i * phentsize
            guard try r.u32(ph, "p_type") == 1 else { continue }  // PT_LOAD
            let s: Segment
            if is64 {
                s = Segment(index: Int(i), offset: try r.u64(ph + 8, "p_offset"), virtualAddress: try r.u64(ph + 16, "p_vaddr"),
                            physicalAddress: try r.u64(ph + 24, "p_paddr"), fileSize: try r.u64(ph + 32, "p_filesz"),
                            memorySize: try r.u64(ph + 40, "p_memsz"))
            } else {
                s = Segment(index: Int(i), offset: UInt64(try r.u32(ph + 4, "p_offset")), virtualAddress: UInt64(try r.u32(ph + 8, "p_vaddr")),
                            physicalAddress: UInt64(try r.u32(ph + 12, "p_paddr")), fileSize: UInt64(try r.u32(ph + 16, "p_filesz")),
                            memorySize: UInt64(try r.u32(ph + 20, "p_memsz")))
            }
            guard s.fileSize <= s.memorySize else {
                throw .invalidProgramHeader(index: Int(i), fileSize: s.fileSize, memorySize: s.memorySize)
            }
            try r.check(s.offset, s.fileSize, "segment \(i) contents")
            _ = try checkedAdd(s.physicalAddress, s.memorySize, "segment \(i) p_paddr + p_memsz")
            if s.memorySize > 0 { segments.append(s) }
        }
        guard !segments.isEmpty else { throw .noLoadableSegments }
        return ELFImage(is64Bit: is64, machine: machine, entry: entry, loadSegments: segments)
    }

    /// The PT_LOAD segments as plan segments at their physical addresses (`name` prefix + index).
    func planSegments(_ file: [UInt8], name: String) -> [LoadSegment] {
        loadSegments.map { s in
            LoadSegment(guestPhysical: s.physicalAddress,
                        bytes: Array(file[Int(s.offset)..<Int(s.offset + s.fileSize)]),
                        zeroFill: s.memorySize - s.fileSize, name: "\(name) segment \(s.index)")
        }
    }

    /// e_entry translated from virtual to physical when it lies in a segment whose p_vaddr ≠ p_paddr.
    var physicalEntry: UInt64 {
        for s in loadSegments where s.virtualAddress != s.physicalAddress {
            if entry >= s.virtualAddress, entry - s.virtualAddress < s.memorySize {
                return s.physicalAddress &+ (entry - s.virtualAddress)
            }
        }
        return entry
    }
}

/// Plain ELF executables: PT_LOAD segments at their physical addresses, entry at e_entry.
public enum ELFLoader {
    /// Plans an ELF executable. The entry mode defaults to 32-bit protected mode (paging off) for ELF32 and
    /// 64-bit long mode with 4 GiB identity paging for ELF64; pass `mode` to override.
    public static func load(_ file: [UInt8], memory: MemoryMap, mode: ExecutionMode? = nil) throws(LoaderError) -> LoadPlan {
        let elf = try ELFImage.parse(file)
        let system = try BootStructures.entry(mode: mode ?? (elf.is64Bit ? .long64 : .protected32), rip: elf.entry)
        let segments = elf.planSegments(file, name: "ELF")
        return LoadPlan(segments: try BootStructures.validate(segments + system.segments, memory: memory), entry: system.entry)
    }
}
