/// Why a loader refused an image. Every case names the problem and carries the offending values.
public enum LoaderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file ends before `what` at `offset` (`needed` bytes, file has `fileSize`).
    case truncated(what: String, offset: UInt64, needed: UInt64, fileSize: UInt64)
    /// A magic number or signature is wrong.
    case badMagic(what: String, found: UInt64, expected: UInt64)
    /// The Linux boot protocol version is older than supported.
    case unsupportedProtocolVersion(found: UInt16, minimum: UInt16)
    /// The kernel has no 64-bit entry point (xloadflags XLF_KERNEL_64 clear or protocol < 2.12).
    case no64BitEntry(version: UInt16, xloadflags: UInt16)
    /// A zImage (LOADED_HIGH clear): the kernel wants to load below 1 MiB.
    case notBzImage
    /// The kernel cannot go at its preferred address and is not relocatable.
    case kernelNotRelocatable(preferredAddress: UInt64, size: UInt64)
    /// No aligned place in RAM can hold the kernel's `init_size`.
    case noRoomForKernel(size: UInt64, alignment: UInt64)
    /// The header declares more kernel bytes than the file has.
    case kernelSizeMismatch(declared: UInt64, available: UInt64)
    /// A value from the file overflows address arithmetic.
    case arithmeticOverflow(what: String)
    /// A segment does not lie in usable RAM.
    case segmentOutsideRAM(name: String, start: UInt64, size: UInt64)
    /// Two segments overlap.
    case overlappingSegments(first: String, firstStart: UInt64, second: String, secondStart: UInt64)
    /// No place below the initrd limit can hold the initrd.
    case initrdTooLarge(size: UInt64, limit: UInt64)
    /// The command line is longer than the kernel accepts.
    case commandLineTooLong(length: UInt64, maximum: UInt64)
    /// The memory map has more entries than the structure can hold.
    case tooManyMemoryRegions(count: Int, maximum: Int)
    /// No multiboot header in the first 8192 bytes.
    case multibootHeaderNotFound
    /// A multiboot header whose magic + flags + checksum is not zero.
    case checksumMismatch(offset: UInt64, flags: UInt32, checksum: UInt32)
    /// Multiboot header requires features (bits 0-15) this loader does not provide.
    case unsupportedMultibootFlags(UInt32)
    /// The a.out-kludge addresses are inconsistent.
    case invalidMultibootAddresses(String)
    /// The multiboot information (command line, modules, map) does not fit below 640 KiB.
    case bootInformationTooLarge(size: UInt64, maximum: UInt64)
    /// An address that must fit in 32 bits does not.
    case addressAbove4GiB(what: String, address: UInt64)
    /// An ELF file the loader cannot handle (class, byte order, type, machine).
    case unsupportedELF(String)
    /// An ELF program header with p_filesz > p_memsz.
    case invalidProgramHeader(index: Int, fileSize: UInt64, memorySize: UInt64)
    /// An ELF file with no PT_LOAD segment.
    case noLoadableSegments
    /// A firmware ROM whose size is zero, not a multiple of 64 KiB, or over 16 MiB.
    case invalidFirmwareSize(UInt64)
    /// A flat binary that is empty or whose entry lies outside it / outside the mode's reach.
    case invalidFlatImage(String)

    /// One line naming the problem.
    public var description: String {
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        switch self {
        case let .truncated(what, offset, needed, fileSize):
            return "truncated file: \(what) needs \(needed) bytes at offset \(hex(offset)), file has \(fileSize)"
        case let .badMagic(what, found, expected):
            return "bad magic: \(what) is \(hex(found)), expected \(hex(expected))"
        case let .unsupportedProtocolVersion(found, minimum):
            return "unsupported boot protocol version \(found >> 8).\(found & 0xFF), need \(minimum >> 8).\(minimum & 0xFF) or later"
        case let .no64BitEntry(version, xloadflags):
            return "kernel has no 64-bit entry (protocol \(version >> 8).\(version & 0xFF), xloadflags \(hex(UInt64(xloadflags))))"
        case .notBzImage:
            return "not a bzImage: loadflags LOADED_HIGH is clear (zImage loading below 1 MiB is unsupported)"
        case let .kernelNotRelocatable(preferred, size):
            return "kernel is not relocatable and its preferred range \(hex(preferred))+\(hex(size)) is not free RAM"
        case let .noRoomForKernel(size, alignment):
            return "no \(hex(alignment))-aligned RAM range of \(hex(size)) bytes for the kernel"
        case let .kernelSizeMismatch(declared, available):
            return "kernel size mismatch: header declares \(declared) bytes, file has \(available)"
        case let .arithmeticOverflow(what):
            return "arithmetic overflow: \(what)"
        case let .segmentOutsideRAM(name, start, size):
            return "segment \(name) at \(hex(start))+\(hex(size)) is outside usable RAM"
        case let .overlappingSegments(first, firstStart, second, secondStart):
            return "overlapping segments: \(first) at \(hex(firstStart)) and \(second) at \(hex(secondStart))"
        case let .initrdTooLarge(size, limit):
            return "initrd of \(size) bytes does not fit in free RAM below \(hex(limit))"
        case let .commandLineTooLong(length, maximum):
            return "command line too long: \(length) bytes, maximum \(maximum)"
        case let .tooManyMemoryRegions(count, maximum):
            return "memory map has \(count) regions, maximum \(maximum)"
        case .multibootHeaderNotFound:
            return "no multiboot header (magic 0x1badb002) in the first 8192 bytes"
        case let .checksumMismatch(offset, flags, checksum):
            return "multiboot header at \(hex(offset)): checksum \(hex(UInt64(checksum))) does not cancel magic + flags \(hex(UInt64(flags)))"
        case let .unsupportedMultibootFlags(flags):
            return "multiboot header requires unsupported features: flags \(hex(UInt64(flags)))"
        case let .invalidMultibootAddresses(reason):
            return "invalid multiboot a.out addresses: \(reason)"
        case let .bootInformationTooLarge(size, maximum):
            return "multiboot information of \(size) bytes exceeds \(maximum)"
        case let .addressAbove4GiB(what, address):
            return "\(what) at \(hex(address)) is above 4 GiB"
        case let .unsupportedELF(reason):
            return "unsupported ELF: \(reason)"
        case let .invalidProgramHeader(index, fileSize, memorySize):
            return "ELF program header \(index): p_filesz \(hex(fileSize)) > p_memsz \(hex(memorySize))"
        case .noLoadableSegments:
            return "ELF file has no PT_LOAD segment"
        case let .invalidFirmwareSize(size):
            return "firmware ROM size \(size) is not a non-zero multiple of 64 KiB up to 16 MiB"
        case let .invalidFlatImage(reason):
            return "invalid flat image: \(reason)"
        }
    }
}
