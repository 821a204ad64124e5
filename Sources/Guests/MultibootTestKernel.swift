// The multiboot test kernel: a 32-bit kernel that a multiboot v1 boot loader (the VMM's, GRUB, QEMU's
// -kernel) starts, which reads what the loader handed it and reports it on port 0xE9, then ends the run
// through QEMU's isa-debug-exit. Built with the assembler as an a.out-kludge image or a 32-bit ELF file.
import X86Assembler

/// A multiboot v1 test kernel.
///
/// Entered the way the Multiboot Specification 0.6.96 §3.2 says: 32-bit protected mode, paging off,
/// flat CS/DS/ES/SS, EAX = 0x2BADB002, EBX = the physical address of the information structure. The kernel
/// sets up its own stack (in its bss), checks EAX, then writes these lines to `debugPort`:
///
///     multiboot test kernel: magic ok
///     mem_lower=<KiB>
///     mem_upper=<KiB>
///     cmdline=<the command line>
///     loader=<boot_loader_name>
///     mods=<count>
///     mod0=<bytes>                       (only with a module)
///     multiboot test kernel: done
///
/// and writes `successCode` to `exitPort` (isa-debug-exit: the VMM exits with status 11). A check that fails
/// writes "multiboot test kernel: FAIL <what>" (with the offending value in hex) and `failureCode`
/// (status 3). Numbers are decimal; a field whose `flags` bit is clear prints as "(none)".
public enum MultibootTestKernel {
    /// How the kernel file is packaged.
    public enum Format: String, Sendable, CaseIterable {
        /// A flat image whose multiboot header carries the load addresses (flags bit 16, the "a.out kludge").
        case aout
        /// A 32-bit ELF executable with one PT_LOAD segment; the multiboot header has no address fields.
        case elf
    }

    /// Physical address the kernel is loaded at (1 MiB).
    public static let loadAddress: UInt64 = 0x10_0000
    /// The port that receives the report lines (the Bochs/QEMU debug console).
    public static let debugPort: UInt16 = 0xE9
    /// QEMU's isa-debug-exit port: writing V ends the run with status (V << 1) | 1.
    public static let exitPort: UInt16 = 0xF4
    /// Written to `exitPort` when every check passed (exit status 11).
    public static let successCode: UInt8 = 5
    /// Written to `exitPort` when a check failed (exit status 3).
    public static let failureCode: UInt8 = 1
    /// The exit status the VMM reports after `successCode`.
    public static var successStatus: Int32 { Int32(successCode) << 1 | 1 }
    /// The exit status the VMM reports after `failureCode`.
    public static var failureStatus: Int32 { Int32(failureCode) << 1 | 1 }
    /// Bytes of stack in the kernel's bss.
    public static let stackSize = 0x1000
    /// The first report line.
    public static let magicLine = "multiboot test kernel: magic ok"
    /// The last report line.
    public static let doneLine = "multiboot test kernel: done"

    /// The header magic (Multiboot Specification §3.1.1).
    public static let headerMagic: UInt32 = 0x1BAD_B002
    /// EAX at entry (§3.2).
    public static let bootloaderMagic: UInt32 = 0x2BAD_B002
    /// Header flag bit 1: the kernel requires mem_lower/mem_upper (and the memory map).
    public static let flagMemoryInfo: UInt32 = 1 << 1
    /// Header flag bit 16: the header's address fields are valid (§3.1.3).
    public static let flagAddresses: UInt32 = 1 << 16

    /// Offsets in the multiboot information structure (§3.3) and the flags bits that make them valid.
    enum Info {
        /// `flags`.
        static let flags = 0
        /// `mem_lower` (KiB from 0), `mem_upper` (KiB from 1 MiB); valid with flags bit 0.
        static let memLower = 4, memUpper = 8, memoryBit = 0
        /// `cmdline` (physical address of a NUL-terminated string); valid with flags bit 2.
        static let commandLine = 16, commandLineBit = 2
        /// `mods_count`, `mods_addr` (16-byte entries: start, end, string, reserved); valid with flags bit 3.
        static let modsCount = 20, modsAddress = 24, modulesBit = 3
        /// `boot_loader_name`; valid with flags bit 9.
        static let loaderName = 64, loaderNameBit = 9
    }

    /// The report lines the kernel writes when the loader provides `memLowerKiB`/`memUpperKiB`, the
    /// command line, the loader name and the modules with `moduleSizes` bytes (without the trailing newline).
    public static func expectedLines(memLowerKiB: UInt64, memUpperKiB: UInt64, commandLine: String,
                                     loaderName: String, moduleSizes: [Int] = []) -> [String] {
        var lines = [magicLine, "mem_lower=\(memLowerKiB)", "mem_upper=\(memUpperKiB)", "cmdline=\(commandLine)",
                     "loader=\(loaderName)", "mods=\(moduleSizes.count)"]
        if let first = moduleSizes.first { lines.append("mod0=\(first)") }
        lines.append(doneLine)
        return lines
    }

    /// The kernel file in `format`.
    public static func build(_ format: Format = .aout) throws -> [UInt8] {
        switch format {
        case .aout:
            return try assemble(origin: loadAddress, addressFields: true).bytes
        case .elf:
            // ELF header (52 bytes) and one program header (32 bytes), padded so the multiboot header that
            // starts the code is 16-byte aligned; the PT_LOAD segment is the whole file, loaded at 1 MiB.
            let headersSize = 0x60
            let body = try assemble(origin: loadAddress + UInt64(headersSize), addressFields: false)
            let fileSize = headersSize + body.bytes.count
            var file = [UInt8](repeating: 0, count: headersSize)
            func put(_ value: UInt64, at offset: Int, size: Int) {
                for i in 0..<size { file[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
            }
            put(0x464C_457F, at: 0, size: 4)                     // "\x7fELF"
            put(1, at: 4, size: 1)                               // ELFCLASS32
            put(1, at: 5, size: 1)                               // ELFDATA2LSB
            put(1, at: 6, size: 1)                               // EV_CURRENT
            put(2, at: 16, size: 2)                              // ET_EXEC
            put(3, at: 18, size: 2)                              // EM_386
            put(1, at: 20, size: 4)                              // e_version
            put(body.entry, at: 24, size: 4)                     // e_entry
            put(52, at: 28, size: 4)                             // e_phoff
            put(52, at: 40, size: 2)                             // e_ehsize
            put(32, at: 42, size: 2)                             // e_phentsize
            put(1, at: 44, size: 2)                              // e_phnum
            let ph = 52
            put(1, at: ph, size: 4)                              // PT_LOAD
            put(0, at: ph + 4, size: 4)                          // p_offset
            put(loadAddress, at: ph + 8, size: 4)                // p_vaddr
            put(loadAddress, at: ph + 12, size: 4)               // p_paddr
            put(UInt64(fileSize), at: ph + 16, size: 4)          // p_filesz
            put(UInt64(fileSize + stackSize), at: ph + 20, size: 4) // p_memsz: the stack is bss
            put(7, at: ph + 24, size: 4)                         // PF_R | PF_W | PF_X
            put(0x1000, at: ph + 28, size: 4)                    // p_align
            return file + body.bytes
        }
    }

    /// Assembles the multiboot header and the code at `origin`; `addressFields` adds the a.out-kludge
    /// fields (load range, bss end, entry) to the header.
    static func assemble(origin: UInt64, addressFields: Bool) throws -> (bytes: [UInt8], entry: UInt64) {
        let a = Assembler(mode: .bits32, origin: origin)
        let header = a.label("multiboot-header"), entry = a.label("entry"), imageEnd = a.label("image-end")
        let puts = a.label("puts"), putDecimal = a.label("put-decimal"), putHex = a.label("put-hex")
        let fail = a.label("fail"), finish = a.label("finish")

        // --- Multiboot header (§3.1): magic, flags, checksum, then the address fields ---
        let flags = flagMemoryInfo | (addressFields ? flagAddresses : 0)
        a.bind(header)
        a.dd(headerMagic, flags, 0 &- (headerMagic &+ flags))
        if addressFields {
            a.dd(header)                                         // header_addr
            a.dd(UInt32(truncatingIfNeeded: origin))             // load_addr: the file's first byte
            a.dd(imageEnd)                                       // load_end_addr
            a.dd(imageEnd, plus: Int64(stackSize))               // bss_end_addr: the stack
            a.dd(entry)                                          // entry_addr
        }

        // Strings and small pieces of code emitted inline.
        var strings: [(Label, String)] = []
        func text(_ s: String) -> Label {
            let l = a.label("string-\(strings.count)")
            strings.append((l, s))
            return l
        }
        func write(_ s: String) {
            a.mov(.esi, .label(text(s)))
            a.call(puts)
        }
        /// Prints `name=` then the value of the info field at `offset` with `printer`, or "(none)" when
        /// `flags` bit `bit` is clear; EBP holds the information structure's address.
        func field(_ name: String, bit: Int, _ body: () -> Void) {
            let absent = a.label("absent-\(name)"), next = a.label("next-\(name)")
            write("\(name)=")
            a.test(.dword[.ebp + Info.flags], .imm(1 << bit))
            a.jz(absent, .near)
            body()
            a.jmp(next, .near)
            a.bind(absent)
            write("(none)")
            a.bind(next)
            write("\n")
        }

        // --- Entry: 32-bit protected mode, paging off, EAX = magic, EBX = info ---
        a.bind(entry)
        a.cli()
        a.cld()
        a.mov(.esp, .label(imageEnd, plus: Int64(stackSize)))
        a.mov(.ebp, .ebx)
        a.cmp(.eax, .imm(bootloaderMagic))
        let magicOK = a.label("magic-ok")
        a.je(magicOK, .near)
        a.push(.eax)                                             // bad magic: report EAX in hex and fail
        write("multiboot test kernel: FAIL magic eax=0x")
        a.pop(.eax)
        a.call(putHex)
        a.jmp(fail, .near)
        a.bind(magicOK)
        write(magicLine + "\n")

        // CR0.PG must be clear and CR0.PE set (§3.2).
        a.mov(.eax, .cr0)
        a.mov(.ecx, .eax)
        a.and(.ecx, .imm(0x8000_0001))
        a.cmp(.ecx, 1)
        let modeOK = a.label("mode-ok")
        a.je(modeOK, .near)
        a.push(.eax)
        write("multiboot test kernel: FAIL cr0=0x")
        a.pop(.eax)
        a.call(putHex)
        a.jmp(fail, .near)
        a.bind(modeOK)

        // The header asked for memory information (flags bit 1): the loader must provide it.
        a.test(.dword[.ebp + Info.flags], .imm(1 << Info.memoryBit))
        let memoryOK = a.label("memory-ok")
        a.jnz(memoryOK, .near)
        write("multiboot test kernel: FAIL no memory information, flags=0x")
        a.mov(.eax, .dword[.ebp + Info.flags])
        a.call(putHex)
        a.jmp(fail, .near)
        a.bind(memoryOK)

        field("mem_lower", bit: Info.memoryBit) {
            a.mov(.eax, .dword[.ebp + Info.memLower])
            a.call(putDecimal)
        }
        field("mem_upper", bit: Info.memoryBit) {
            a.mov(.eax, .dword[.ebp + Info.memUpper])
            a.call(putDecimal)
        }
        field("cmdline", bit: Info.commandLineBit) {
            a.mov(.esi, .dword[.ebp + Info.commandLine])
            a.call(puts)
        }
        field("loader", bit: Info.loaderNameBit) {
            a.mov(.esi, .dword[.ebp + Info.loaderName])
            a.call(puts)
        }
        field("mods", bit: Info.modulesBit) {
            a.mov(.eax, .dword[.ebp + Info.modsCount])
            a.call(putDecimal)
        }
        // The first module's size (end - start), when there is one.
        let noModule = a.label("no-module")
        a.test(.dword[.ebp + Info.flags], .imm(1 << Info.modulesBit))
        a.jz(noModule, .near)
        a.cmp(.dword[.ebp + Info.modsCount], 0)
        a.je(noModule, .near)
        a.mov(.ebx, .dword[.ebp + Info.modsAddress])
        write("mod0=")
        a.mov(.eax, .dword[.ebx + 4])
        a.sub(.eax, .dword[.ebx])
        a.call(putDecimal)
        write("\n")
        a.bind(noModule)

        write(doneLine + "\n")
        a.mov(.al, .imm(successCode))
        a.jmp(finish, .near)

        a.bind(fail)
        write("\n")
        a.mov(.al, .imm(failureCode))
        // AL = the isa-debug-exit value; halts with interrupts off if the write does not end the run.
        a.bind(finish)
        a.out(.imm(exitPort), .al)
        let halt = a.here("halt")
        a.cli()
        a.hlt()
        a.jmp(halt)

        // puts: writes the NUL-terminated string at ESI to the debug port. Clobbers EAX, ESI.
        a.bind(puts)
        let putsLoop = a.here("puts-loop"), putsDone = a.label("puts-done")
        a.lodsb()
        a.test(.al, .al)
        a.jz(putsDone)
        a.out(.imm(debugPort), .al)
        a.jmp(putsLoop)
        a.bind(putsDone)
        a.ret()

        // put-decimal: writes EAX in decimal. Clobbers EAX, ECX, EDX, EDI.
        a.bind(putDecimal)
        a.mov(.ecx, 10)
        a.xor(.edi, .edi)
        let divide = a.here("divide")
        a.xor(.edx, .edx)
        a.div(.ecx)
        a.push(.edx)
        a.inc(.edi)
        a.test(.eax, .eax)
        a.jnz(divide)
        let digit = a.here("digit")
        a.pop(.eax)
        a.add(.al, .imm(UInt8(ascii: "0")))
        a.out(.imm(debugPort), .al)
        a.dec(.edi)
        a.jnz(digit)
        a.ret()

        // put-hex: writes EAX as 8 hex digits. Clobbers EAX, ECX, EDX.
        a.bind(putHex)
        a.mov(.edx, .eax)
        a.mov(.ecx, 8)
        let nibble = a.here("nibble"), isDigit = a.label("is-digit")
        a.rol(.edx, 4)
        a.mov(.eax, .edx)
        a.and(.eax, 0xF)
        a.add(.al, .imm(UInt8(ascii: "0")))
        a.cmp(.al, .imm(UInt8(ascii: "9")))
        a.jbe(isDigit)
        a.add(.al, .imm(UInt8(ascii: "a") - UInt8(ascii: "9") - 1))
        a.bind(isDigit)
        a.out(.imm(debugPort), .al)
        a.dec(.ecx)
        a.jnz(nibble)
        a.ret()

        for (label, s) in strings {
            a.bind(label)
            a.db(s)
            a.db(0)
        }
        a.align(4, fill: 0)
        a.bind(imageEnd)
        let bytes = try a.finish()
        guard let entryAddress = a.address(of: entry) else { throw MultibootTestKernelError.unboundEntry }
        return (bytes, entryAddress)
    }
}

/// Why the multiboot test kernel could not be built.
public enum MultibootTestKernelError: Error, Equatable, CustomStringConvertible {
    /// The entry label was never bound (a bug in the builder).
    case unboundEntry

    /// A one-line description.
    public var description: String {
        switch self {
        case .unboundEntry: "multiboot test kernel: the entry label is unbound"
        }
    }
}
