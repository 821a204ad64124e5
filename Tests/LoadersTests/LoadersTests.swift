import Foundation
import Testing
import X86Assembler
@testable import Loaders

@Suite("Linux bzImage")
struct LinuxTests {
    @Test func bzImagePlan() throws {
        let payload = (0..<0x1000).map { UInt8(truncatingIfNeeded: $0) }
        let initrd = [UInt8](repeating: 0xAB, count: 0x12345)
        let plan = try LinuxLoader.load(kernel: makeBzImage(payload: payload), initrd: initrd,
                                        commandLine: "console=ttyS0 quiet", memory: ram256)
        #expect(plan.entry.mode == .long64)
        #expect(plan.entry.rip == 0x100_0200)
        #expect(plan.entry.rsi == BootLayout.bootParams)
        #expect(plan.entry.cr3 == BootLayout.pml4 && plan.entry.efer == 0x500 && plan.entry.cr4 == 0x20)
        #expect(plan.entry.cs.selector == 0x10 && plan.entry.ds.selector == 0x18 && plan.entry.cs.accessRights == 0xA09B)
        let kernel = try #require(plan.segment(named: "kernel"))
        #expect(kernel.guestPhysical == 0x100_0000 && kernel.bytes == payload && kernel.size == 0x40_0000)
        let rd = try #require(plan.segment(named: "initrd"))
        #expect(rd.guestPhysical == (0x1000_0000 - 0x12345) & ~0xFFF)
        let cmd = try #require(plan.segment(named: "command line"))
        #expect(cmd.guestPhysical == 0x2_0000 && cmd.bytes == Array("console=ttyS0 quiet".utf8) + [0])
        let zp = try #require(plan.segment(named: "boot_params")).bytes
        #expect(zp.count == 4096)
        #expect(zp.read(0x1FE, 2) == 0xAA55 && zp.read(0x202, 4) == 0x5372_6448 && zp.read(0x206, 2) == 0x020F)
        #expect(zp[0x210] == 0xFF && zp[0x211] == 0x81)
        #expect(zp.read(0x228, 4) == 0x2_0000 && zp.read(0xC8, 4) == 0)
        #expect(zp.read(0x218, 4) == rd.guestPhysical && zp.read(0x21C, 4) == 0x12345)
        #expect(zp[0x1E8] == 4)
        #expect(zp.read(0x2D0 + 3 * 20, 8) == 0x10_0000 && zp.read(0x2D0 + 3 * 20 + 8, 8) == 0xFF0_0000
                && zp.read(0x2D0 + 3 * 20 + 16, 4) == 1)
        let gdt = try #require(plan.segment(named: "GDT"))
        #expect(gdt.guestPhysical == 0x500 && gdt.bytes.read(0x10, 8) == 0x00AF_9B00_0000_FFFF && gdt.bytes.read(0x18, 8) == 0x00CF_9300_0000_FFFF)
        let pt = try #require(plan.segment(named: "page tables")).bytes
        #expect(pt.read(0, 8) == 0xA003 && pt.read(0x1000 + 24, 8) == 0xE003)
        #expect(pt.read(0x2000 + 8 * 2047, 8) == 0xFFE0_0083)             // last 2 MiB page below 4 GiB
        // Sorted and non-overlapping.
        for (a, b) in zip(plan.segments, plan.segments.dropFirst()) { #expect(a.guestPhysical + a.size <= b.guestPhysical) }
    }

    @Test func relocatesWhenPreferredAddressIsNotRAM() throws {
        let memory = MemoryMap(regions: [MemoryRegion(start: 0, size: 0x9_FC00, type: .ram),
                                         MemoryRegion(start: 0x10_0000, size: 0x80_0000, type: .ram)])
        let plan = try LinuxLoader.load(kernel: makeBzImage(initSize: 0x20_0000), memory: memory)
        #expect(plan.entry.rip == 0x20_0200)   // lowest 2 MiB-aligned place at or above 1 MiB
        #expect(plan.segment(named: "initrd") == nil)
    }

    @Test func initrdAvoidsKernelAndRespectsLimit() throws {
        // initrd_addr_max just above the kernel's footprint: the initrd must go below the kernel.
        let plan = try LinuxLoader.load(kernel: makeBzImage(initrdAddrMax: 0x140_7FFF),
                                        initrd: [UInt8](repeating: 1, count: 0x10000), memory: ram256)
        let rd = try #require(plan.segment(named: "initrd"))
        #expect(rd.guestPhysical == 0x100_0000 - 0x10000)
    }

    static var debianKernel: Data? {
        let paths = ((try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? [])
            .filter { $0.hasPrefix("vmlinuz") }.sorted()
        return paths.last.flatMap { FileManager.default.contents(atPath: "/boot/" + $0) }
    }

    @Test(.enabled(if: debianKernel != nil, "no readable /boot/vmlinuz* on this machine"))
    func debianKernelIfPresent() throws {
        let data = try #require(Self.debianKernel)
        let header = try LinuxSetupHeader.parse(Array(data))
        #expect(header.version >= 0x020C)
        #expect(header.has64BitEntry)
        let plan = try LinuxLoader.load(kernel: Array(data), commandLine: "console=ttyS0",
                                        memory: MemoryMap.standardPC(ramSize: 512 << 20))
        let kernel = try #require(plan.segment(named: "kernel"))
        #expect(plan.entry.rip == kernel.guestPhysical + 0x200)
    }
}

@Suite("Multiboot")
struct MultibootTests {
    @Test func elfKernelWithModules() throws {
        let a = Assembler(mode: .bits32, origin: 0x10_0000)
        a.cli(); a.hlt()
        let code = try a.finish()
        var body = multibootHeader(flags: 0x3)
        body += code
        let elf = makeELF(is64: false, entry: 0x10_000C,
                          phs: [ProgramHeader(offset: 0x200, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: UInt64(body.count), memsz: 0x3000)],
                          body: body)
        let plan = try MultibootLoader.load(kernel: elf, modules: [MultibootModule(bytes: [1, 2, 3], string: "mod arg")],
                                            commandLine: "kernel -v", memory: ram256)
        #expect(plan.entry.mode == .protected32 && plan.entry.rip == 0x10_000C)
        #expect(plan.entry.rax == 0x2BAD_B002 && plan.entry.rbx == 0x8000)
        #expect(plan.entry.cr0 & 0x8000_0001 == 1 && plan.entry.cs.accessRights == 0xC09B && plan.entry.cs.limit == 0xFFFF_FFFF)
        let k = try #require(plan.segment(named: "kernel segment 0"))
        #expect(k.guestPhysical == 0x10_0000 && k.size == 0x3000 && Array(k.bytes[12...]) == code)
        let mod = try #require(plan.segment(named: "module 0"))
        #expect(mod.guestPhysical == 0x10_3000 && mod.bytes == [1, 2, 3])
        let info = try #require(plan.segment(named: "multiboot information")).bytes
        #expect(info.read(0, 4) == 0x24D)                                 // mem, cmdline, mods, mmap, name
        #expect(info.read(4, 4) == 639 && info.read(8, 4) == (0x1000_0000 - 0x10_0000) / 1024)
        #expect(info.read(20, 4) == 1)
        let mods = Int(info.read(24, 4)) - 0x8000
        #expect(info.read(mods, 4) == 0x10_3000 && info.read(mods + 4, 4) == 0x10_3003)
        let str = Int(info.read(mods + 8, 4)) - 0x8000
        #expect(Array(info[str..<str + 8]) == Array("mod arg".utf8) + [0])
        let cmd = Int(info.read(16, 4)) - 0x8000
        #expect(Array(info[cmd..<cmd + 10]) == Array("kernel -v".utf8) + [0])
        #expect(info.read(44, 4) == 4 * 24)
        let mmap = Int(info.read(48, 4)) - 0x8000
        #expect(info.read(mmap, 4) == 20 && info.read(mmap + 4 + 24 * 3, 8) == 0x10_0000 && info.read(mmap + 20 + 24 * 3, 4) == 1)
    }

    @Test func informationMovesAfterAKernelLinkedOverItsUsualPlace() throws {
        // A kernel at 0x8000 (like kvm-unit-tests' realmode.flat): the information goes after the image.
        let body = multibootHeader(flags: 0x3) + [0xF4]
        let elf = makeELF(is64: false, entry: 0x800C,
                          phs: [ProgramHeader(offset: 0x200, vaddr: 0x8000, paddr: 0x8000, filesz: UInt64(body.count), memsz: 0x2100)],
                          body: body)
        let plan = try MultibootLoader.load(kernel: elf, commandLine: "x", memory: ram256)
        let info = try #require(plan.segment(named: "multiboot information"))
        #expect(plan.entry.rbx == 0x10_0000 && info.guestPhysical == 0x10_0000)    // page-aligned, above the image and 1 MiB
        let cmd = Int(info.bytes.read(16, 4)) - 0x10_0000
        #expect(Array(info.bytes[cmd..<cmd + 2]) == Array("x".utf8) + [0])
    }

    @Test func elf64ObjcopiedAndVirtualEntry() throws {
        // An ELF64 with a higher-half virtual address: entry is translated to physical.
        let body = multibootHeader(flags: 0) + [0xF4]
        let elf = makeELF(is64: true, entry: 0xFFFF_FFFF_8020_000C,
                          phs: [ProgramHeader(offset: 0x200, vaddr: 0xFFFF_FFFF_8020_0000, paddr: 0x20_0000, filesz: 13, memsz: 13)], body: body)
        let plan = try MultibootLoader.load(kernel: elf, memory: ram256)
        #expect(plan.entry.rip == 0x20_000C && plan.entry.mode == .protected32)
    }

    @Test func aoutKludge() throws {
        // File: 0x40 bytes of padding, header at 0x40 (header_addr 0x200040), code after; bss to 0x202000.
        var file = [UInt8](repeating: 0, count: 0x40)
        file += multibootHeader(flags: 0x1_0000, addresses: [0x20_0040, 0x20_0000, 0, 0x20_2000, 0x20_0060])
        file += [UInt8](repeating: 0x90, count: 0x40)
        let plan = try MultibootLoader.load(kernel: file, memory: ram256)
        let k = try #require(plan.segment(named: "kernel"))
        #expect(k.guestPhysical == 0x20_0000 && k.bytes == file && k.zeroFill == 0x2000 - UInt64(file.count))
        #expect(plan.entry.rip == 0x20_0060)
    }
}

@Suite("ELF, flat, firmware")
struct PlainTests {
    @Test func elf32() throws {
        let elf = makeELF(is64: false, entry: 0x10_0010,
                          phs: [ProgramHeader(offset: 0x200, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x20, memsz: 0x100),
                                ProgramHeader(type: 4, offset: 0, vaddr: 0, paddr: 0, filesz: 0, memsz: 0)],
                          body: [UInt8](repeating: 0xCC, count: 0x20))
        let plan = try ELFLoader.load(elf, memory: ram256)
        #expect(plan.entry.mode == .protected32 && plan.entry.rip == 0x10_0010)
        let s = try #require(plan.segment(named: "ELF segment 0"))
        #expect(s.bytes.count == 0x20 && s.zeroFill == 0xE0)
        #expect(plan.segments.count == 2)   // segment + GDT
    }

    @Test func elf64() throws {
        let elf = makeELF(is64: true, entry: 0x40_0000,
                          phs: [ProgramHeader(offset: 0x200, vaddr: 0x40_0000, paddr: 0x40_0000, filesz: 4, memsz: 4),
                                ProgramHeader(offset: 0x204, vaddr: 0x50_0000, paddr: 0x50_0000, filesz: 4, memsz: 0x1000)],
                          body: [1, 2, 3, 4, 5, 6, 7, 8])
        let plan = try ELFLoader.load(elf, memory: ram256)
        #expect(plan.entry.mode == .long64 && plan.entry.rip == 0x40_0000 && plan.entry.cr3 == 0x9000)
        #expect(plan.segment(named: "ELF segment 1")?.bytes == [5, 6, 7, 8])
    }

    @Test func flatRealMode() throws {
        let plan = try FlatLoader.load([0xF4], at: 0x7C00, mode: .real, memory: ram256)
        #expect(plan.entry.mode == .real && plan.entry.cs.selector == 0x7C0 && plan.entry.cs.base == 0x7C00 && plan.entry.rip == 0)
    }

    @Test func firmware() throws {
        var rom = [UInt8](repeating: 0, count: 0x4_0000)
        rom[0x3_FFF0] = 0xEA
        let plan = try FirmwareLoader.load(rom: rom)
        #expect(plan.entry.mode == .real && plan.entry.rip == 0xFFF0 && plan.entry.cs.base == 0xFFFF_0000 && plan.entry.cs.selector == 0xF000)
        let high = try #require(plan.segment(named: "firmware"))
        #expect(high.guestPhysical == 0xFFFC_0000 && high.kind == .rom)
        let low = try #require(plan.segment(named: "firmware (below 1 MiB)"))
        #expect(low.guestPhysical == 0xE_0000 && low.bytes.count == 0x2_0000 && low.bytes[0x1_FFF0] == 0xEA)
    }
}

/// One malformed input and the error it must give.
struct Malformed: Sendable, CustomTestStringConvertible {
    let name: String
    let run: @Sendable () throws(LoaderError) -> LoadPlan
    let expected: @Sendable (LoaderError) -> Bool
    var testDescription: String { name }
}

private func patched(_ b: [UInt8], _ value: UInt64, at offset: Int, size: Int) -> [UInt8] {
    var b = b
    b.set(value, at: offset, size: size)
    return b
}

let goodBz = makeBzImage()
let mbBody = multibootHeader(flags: 0) + [0xF4]
let malformed: [Malformed] = [
    Malformed(name: "empty bzImage", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: [], memory: ram256) },
              expected: { if case .truncated(_, 0x1FE, 2, 0) = $0 { true } else { false } }),
    Malformed(name: "bzImage truncated in setup header", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: Array(goodBz[..<0x204]), memory: ram256) },
              expected: { if case .truncated(_, 0x202, 4, 0x204) = $0 { true } else { false } }),
    Malformed(name: "bzImage truncated in setup sectors", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: Array(goodBz[..<0x300]), memory: ram256) },
              expected: { if case .truncated(_, 0, 1024, 0x300) = $0 { true } else { false } }),
    Malformed(name: "bzImage truncated kernel", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: Array(goodBz[..<0x800]), memory: ram256) },
              expected: { $0 == .kernelSizeMismatch(declared: 0x1000, available: 0x400) }),
    Malformed(name: "no 0xAA55", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: patched(goodBz, 0, at: 0x1FE, size: 2), memory: ram256) },
              expected: { if case .badMagic(_, 0, 0xAA55) = $0 { true } else { false } }),
    Malformed(name: "no HdrS", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: patched(goodBz, 0x1234, at: 0x202, size: 4), memory: ram256) },
              expected: { if case .badMagic(_, 0x1234, _) = $0 { true } else { false } }),
    Malformed(name: "protocol 2.04", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: makeBzImage(version: 0x0204), memory: ram256) },
              expected: { $0 == .unsupportedProtocolVersion(found: 0x0204, minimum: 0x0206) }),
    Malformed(name: "no XLF_KERNEL_64", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: makeBzImage(xloadflags: 0), memory: ram256) },
              expected: { $0 == .no64BitEntry(version: 0x020F, xloadflags: 0) }),
    Malformed(name: "zImage", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: patched(goodBz, 0, at: 0x211, size: 1), memory: ram256) },
              expected: { $0 == .notBzImage }),
    Malformed(name: "huge syssize", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: patched(goodBz, 0xFFFF_FFFF, at: 0x1F4, size: 4), memory: ram256) },
              expected: { if case .kernelSizeMismatch = $0 { true } else { false } }),
    Malformed(name: "huge init_size, not relocatable", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: makeBzImage(initSize: 0xFFFF_F000, relocatable: false), memory: ram256) },
              expected: { $0 == .kernelNotRelocatable(preferredAddress: 0x100_0000, size: 0xFFFF_F000) }),
    Malformed(name: "huge init_size, relocatable", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: makeBzImage(initSize: 0xFFFF_F000), memory: ram256) },
              expected: { $0 == .noRoomForKernel(size: 0xFFFF_F000, alignment: 0x20_0000) }),
    Malformed(name: "command line too long", run: { () throws(LoaderError) in try LinuxLoader.load(kernel: makeBzImage(cmdlineSize: 4), commandLine: "quiet", memory: ram256) },
              expected: { $0 == .commandLineTooLong(length: 5, maximum: 4) }),
    Malformed(name: "initrd larger than RAM", run: { () throws(LoaderError) in
        try LinuxLoader.load(kernel: goodBz, initrd: [UInt8](repeating: 0, count: 300 << 20), memory: ram256) },
              expected: { $0 == .initrdTooLarge(size: 300 << 20, limit: 0x8000_0000) }),
    Malformed(name: "too many e820 regions", run: { () throws(LoaderError) in
        try LinuxLoader.load(kernel: goodBz, memory: MemoryMap(regions: ram256.regions + (0..<130).map { MemoryRegion(start: 0x2000_0000 + UInt64($0) * 0x1000, size: 0x1000, type: .reserved) })) },
              expected: { $0 == .tooManyMemoryRegions(count: 134, maximum: 128) }),
    Malformed(name: "ELF bad magic", run: { () throws(LoaderError) in try ELFLoader.load([0x7F, 0x45, 0x4C, 0x46 ^ 1] + [UInt8](repeating: 0, count: 60), memory: ram256) },
              expected: { if case .badMagic = $0 { true } else { false } }),
    Malformed(name: "ELF truncated program headers", run: { () throws(LoaderError) in
        try ELFLoader.load(Array(makeELF(is64: true, entry: 0x10_0000, phs: [ProgramHeader(offset: 0x200, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 1, memsz: 1)], body: [0])[..<100]), memory: ram256) },
              expected: { if case .truncated(_, 64, 56, 100) = $0 { true } else { false } }),
    Malformed(name: "ELF segment contents past end of file", run: { () throws(LoaderError) in
        try ELFLoader.load(makeELF(is64: false, entry: 0x10_0000, phs: [ProgramHeader(offset: 0x200, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x1000, memsz: 0x1000)], body: [0]), memory: ram256) },
              expected: { if case .truncated(_, 0x200, 0x1000, 0x201) = $0 { true } else { false } }),
    Malformed(name: "ELF p_paddr + p_memsz overflows", run: { () throws(LoaderError) in
        try ELFLoader.load(makeELF(is64: true, entry: 0, phs: [ProgramHeader(offset: 0x200, vaddr: 0, paddr: 0xFFFF_FFFF_FFFF_F000, filesz: 0, memsz: 0x2000)], body: [0]), memory: ram256) },
              expected: { if case .arithmeticOverflow = $0 { true } else { false } }),
    Malformed(name: "ELF p_filesz > p_memsz", run: { () throws(LoaderError) in
        try ELFLoader.load(makeELF(is64: false, entry: 0, phs: [ProgramHeader(offset: 0x200, vaddr: 0, paddr: 0x10_0000, filesz: 2, memsz: 1)], body: [0, 0]), memory: ram256) },
              expected: { $0 == .invalidProgramHeader(index: 0, fileSize: 2, memorySize: 1) }),
    Malformed(name: "ELF overlapping segments", run: { () throws(LoaderError) in
        try ELFLoader.load(makeELF(is64: false, entry: 0x10_0000, phs: [ProgramHeader(offset: 0x200, vaddr: 0, paddr: 0x10_0000, filesz: 1, memsz: 0x2000),
                                                                           ProgramHeader(offset: 0x200, vaddr: 0, paddr: 0x10_1000, filesz: 1, memsz: 0x10)], body: [0]), memory: ram256) },
              expected: { $0 == .overlappingSegments(first: "ELF segment 0", firstStart: 0x10_0000, second: "ELF segment 1", secondStart: 0x10_1000) }),
    Malformed(name: "ELF segment outside RAM", run: { () throws(LoaderError) in
        try ELFLoader.load(makeELF(is64: false, entry: 0xF000_0000, phs: [ProgramHeader(offset: 0x200, vaddr: 0, paddr: 0xF000_0000, filesz: 1, memsz: 1)], body: [0]), memory: ram256) },
              expected: { $0 == .segmentOutsideRAM(name: "ELF segment 0", start: 0xF000_0000, size: 1) }),
    Malformed(name: "ELF big-endian", run: { () throws(LoaderError) in
        try ELFLoader.load(patched(makeELF(is64: false, entry: 0, phs: [], body: []), 2, at: 5, size: 1), memory: ram256) },
              expected: { if case .unsupportedELF = $0 { true } else { false } }),
    Malformed(name: "ELF without PT_LOAD", run: { () throws(LoaderError) in try ELFLoader.load(makeELF(is64: false, entry: 0, phs: [], body: []), memory: ram256) },
              expected: { $0 == .noLoadableSegments }),
    Malformed(name: "multiboot checksum wrong", run: { () throws(LoaderError) in try MultibootLoader.load(kernel: multibootHeader(flags: 0, checksum: 1) + [0xF4], memory: ram256) },
              expected: { $0 == .checksumMismatch(offset: 0, flags: 0, checksum: 1) }),
    Malformed(name: "multiboot header missing", run: { () throws(LoaderError) in try MultibootLoader.load(kernel: [UInt8](repeating: 0, count: 9000) + mbBody, memory: ram256) },
              expected: { $0 == .multibootHeaderNotFound }),
    Malformed(name: "multiboot unsupported required flag", run: { () throws(LoaderError) in try MultibootLoader.load(kernel: multibootHeader(flags: 0x8) + [0xF4], memory: ram256) },
              expected: { $0 == .unsupportedMultibootFlags(0x8) }),
    Malformed(name: "multiboot a.out header truncated", run: { () throws(LoaderError) in try MultibootLoader.load(kernel: multibootHeader(flags: 0x1_0000) + [0, 0, 0, 0], memory: ram256) },
              expected: { if case .truncated(_, 16, 4, 16) = $0 { true } else { false } }),
    Malformed(name: "multiboot a.out load before file start", run: { () throws(LoaderError) in
        try MultibootLoader.load(kernel: multibootHeader(flags: 0x1_0000, addresses: [0x20_1000, 0x20_0000, 0, 0, 0x20_1000]), memory: ram256) },
              expected: { if case .invalidMultibootAddresses = $0 { true } else { false } }),
    Malformed(name: "multiboot a.out load_end past file", run: { () throws(LoaderError) in
        try MultibootLoader.load(kernel: multibootHeader(flags: 0x1_0000, addresses: [0x20_0000, 0x20_0000, 0xFFFF_FFFF, 0, 0x20_0000]), memory: ram256) },
              expected: { if case .truncated(_, 0, 0xFFDF_FFFF, 32) = $0 { true } else { false } }),
    Malformed(name: "multiboot module larger than RAM", run: { () throws(LoaderError) in
        try MultibootLoader.load(kernel: makeELF(is64: false, entry: 0x10_0000, phs: [ProgramHeader(offset: 0x200, vaddr: 0, paddr: 0x10_0000, filesz: 13, memsz: 13)], body: mbBody),
                                 modules: [MultibootModule(bytes: [UInt8](repeating: 0, count: 300 << 20))], memory: ram256) },
              expected: { $0 == .segmentOutsideRAM(name: "module 0", start: 0x10_1000, size: 300 << 20) }),
    Malformed(name: "firmware of odd size", run: { () throws(LoaderError) in try FirmwareLoader.load(rom: [0, 1, 2]) },
              expected: { $0 == .invalidFirmwareSize(3) }),
    Malformed(name: "flat image wrapping the address space", run: { () throws(LoaderError) in try FlatLoader.load([1, 2], at: UInt64.max, mode: .long64, memory: ram256) },
              expected: { if case .arithmeticOverflow = $0 { true } else { false } }),
]

@Test("malformed images give their named error", arguments: malformed)
func malformedImage(_ m: Malformed) {
    do {
        let plan = try m.run()
        Issue.record("\(m.name): expected an error, got a plan with \(plan.segments.count) segments")
    } catch {
        #expect(m.expected(error), "\(m.name): got \(error.description)")
        #expect(!error.description.isEmpty && !error.description.contains("\n"))
    }
}

@Test func malformedTableIsLarge() { #expect(malformed.count >= 15) }
