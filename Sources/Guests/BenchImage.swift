// The benchmark image: one guest program holding the fixed MIPS workloads, packaged so that SwiftVMX,
// QEMU TCG and Bochs all run the same machine code. SwiftVMX and QEMU load it as a multiboot v1 kernel
// (an a.out-kludge flat image); Bochs boots a hard-disk image whose first sector is a small boot loader
// that reads the very same kernel bytes with INT 13h, copies them to 1 MiB and jumps to the same entry.
import X86Assembler

/// The benchmark guest image (`scripts/bench`, `swiftvmx-dev bench image`).
///
/// The kernel starts in 32-bit protected mode with paging off (multiboot §3.2, or the boot sector's own
/// switch), builds 4-level page tables (0–1 GiB identity-mapped with 2 MiB pages, except 16–48 MiB with
/// 4 KiB pages), enables PAE, long mode, x87 and SSE, and in 64-bit mode at CPL 0 with interrupts
/// disabled runs the workload selected in its parameter block for `units` outer iterations. It reports on
/// the debug console (port 0xE9):
///
///     bench: start <name>
///     bench: end <name> checksum=<16 hex digits>
///     bench: exit
///
/// then writes `exitValue` to isa-debug-exit (port 0xF4: SwiftVMX and QEMU end with status 11) and the
/// string "Shutdown" to port 0x8900 (Bochs' shutdown port ends Bochs), then halts with interrupts off.
///
/// The parameter block sits at a fixed offset in the kernel file (`parameterOffset`) and is patched by
/// the benchmark script: workload number (u32) and units (u32). Units = 0 runs nothing: the baseline run
/// that measures boot and exit, subtracted from the workload runs.
public enum BenchImage {
    /// The physical load address of the kernel (1 MiB).
    public static let loadAddress: UInt64 = 0x10_0000
    /// Guest RAM the image needs, in MiB (the page-walk region ends at 48 MiB).
    public static let ramMiB = 64
    /// Written to isa-debug-exit at the end (exit status (5 << 1) | 1 = 11).
    public static let exitValue: UInt8 = 5
    /// The exit status SwiftVMX and QEMU report after a normal end.
    public static var exitStatus: Int32 { Int32(exitValue) << 1 | 1 }
    /// Written to isa-debug-exit for an unknown workload number (status 3).
    public static let failureValue: UInt8 = 1
    /// Offset of the parameter block in the kernel file: "BENCHPRM", workload (u32), units (u32).
    public static let parameterOffset = 32
    /// Offset of the workload number in the kernel file.
    public static var workloadOffset: Int { parameterOffset + 8 }
    /// Offset of the unit count in the kernel file.
    public static var unitsOffset: Int { parameterOffset + 12 }
    /// The parameter block's tag.
    public static let parameterTag = "BENCHPRM"
    /// Offset of the kernel in the disk image (after the boot sector).
    public static let diskKernelOffset = 512
    /// Disk geometry for Bochs: one cylinder of 16 heads × 63 sectors (the image is padded to it).
    public static let diskCylinders = 1, diskHeads = 16, diskSectorsPerTrack = 63
    /// The disk image's size in bytes.
    public static var diskSize: Int { diskCylinders * diskHeads * diskSectorsPerTrack * 512 }
    /// The I/O port the `io` workload writes (the POST port: nothing is mapped there on SwiftVMX).
    public static let ioPort: UInt8 = 0x80

    /// Physical addresses of the image's memory.
    enum Layout {
        /// PML4, PDPT, PD (2 MiB pages for 0–1 GiB).
        static let pml4: UInt64 = 0x20_0000, pdpt: UInt64 = 0x20_1000, pd: UInt64 = 0x20_2000
        /// 16 page tables for 16–48 MiB (4 KiB pages).
        static let pageTables: UInt64 = 0x21_0000
        /// End of the page-table area (zeroed at boot).
        static let pageTablesEnd: UInt64 = 0x22_0000
        /// The first PD entry that points to a page table (16 MiB / 2 MiB).
        static let firstSmallPDE = 8
        /// The page tables map 16–48 MiB.
        static let smallPagesBase: UInt64 = 0x100_0000
        static let smallPages = 8192
        /// The integer workload's array (256 KiB: eight 32 KiB windows).
        static let intArray: UInt64 = 0x40_0000
        /// String workload buffers.
        static let stringSource: UInt64 = 0x50_0000, stringDestination: UInt64 = 0x50_1000, stringFill: UInt64 = 0x50_2000
        /// Writable floating-point data (its own page: stores never land next to code).
        static let fpData: UInt64 = 0x70_0000
        /// The boot sector loads the kernel here before it switches to protected mode.
        static let diskBuffer: UInt64 = 0x1_0000
        /// Bytes of stack, in the kernel's bss.
        static let stackSize = 0x4000
    }

    /// One workload: what it does and exactly how many instructions it retires.
    public struct Workload: Sendable, Equatable, Codable {
        /// The number written to the parameter block.
        public let number: Int
        /// A short name (table column).
        public let name: String
        /// What one unit does.
        public let summary: String
        /// Instructions retired per unit (outer iteration), counted from the code below; a REP-prefixed
        /// string instruction counts as one instruction however many elements it moves.
        public let instructionsPerUnit: Int
        /// Instructions retired once per run besides the units (the CALL into the workload, its setup and RET).
        public let fixedInstructions: Int
        /// Elements moved or compared by REP-prefixed string instructions per unit (0 for the others).
        public let repElementsPerUnit: Int
        /// OUT instructions per unit (the `io` workload).
        public let portWritesPerUnit: Int
        /// Units of the default run: about 2 s on SwiftVMX and Bochs on a 2.5 GHz Xeon (10–100 M instructions).
        public let defaultUnits: Int
        /// True for the MIPS workloads; false for the I/O exit loop.
        public let isMIPS: Bool

        /// Instructions retired by a run of `units` units (0 for the baseline).
        public func instructions(units: Int) -> Int { units == 0 ? 0 : fixedInstructions + units * instructionsPerUnit }
    }

    /// The workloads, by number (1-based; 0 is the baseline that runs nothing).
    public static let workloads: [Workload] = [
        Workload(number: 1, name: "int-mem",
                 summary: "pass over a 32 KiB window of a 256 KiB array: load, LEA/ADD/XOR/SHR mix, store back (4096 elements)",
                 instructionsPerUnit: 5 + 4096 * 10 + 2, fixedInstructions: 2, repElementsPerUnit: 0, portWritesPerUnit: 0,
                 defaultUnits: 2_500, isMIPS: true),
        Workload(number: 2, name: "call-ret",
                 summary: "256 calls into a 4-deep chain (push/pop, one indirect CALL through memory), each level returning",
                 instructionsPerUnit: 1 + 256 * 25 + 2, fixedInstructions: 2, repElementsPerUnit: 0, portWritesPerUnit: 0,
                 defaultUnits: 16_000, isMIPS: true),
        Workload(number: 3, name: "string",
                 summary: "REP MOVSQ 512 B, REP STOSB 256 B, REPE CMPSB 512 B, REPNE SCASB 256 B, a 64-step LODSQ loop",
                 instructionsPerUnit: 19 + 64 * 4 + 2, fixedInstructions: 2, repElementsPerUnit: 64 + 256 + 512 + 256, portWritesPerUnit: 0,
                 defaultUnits: 40_000, isMIPS: true),
        Workload(number: 4, name: "page-walk",
                 summary: "MOV CR3 (TLB flush), then load+store on 512 distinct 4 KiB pages (one 2 MiB window of 32 MiB)",
                 instructionsPerUnit: 7 + 512 * 7 + 2, fixedInstructions: 2, repElementsPerUnit: 0, portWritesPerUnit: 0,
                 defaultUnits: 5_000, isMIPS: true),
        Workload(number: 5, name: "interp",
                 summary: "bytecode interpreter: a 13-byte program looping 64 times through a bounds-checked jump table",
                 instructionsPerUnit: 6 + 9 + 63 * 52 + 51 + 6, fixedInstructions: 2, repElementsPerUnit: 0, portWritesPerUnit: 0,
                 defaultUnits: 30_000, isMIPS: true),
        Workload(number: 6, name: "x87-sse",
                 summary: "256 × (x87 FLD/FMUL/FADD/FSTP, SSE2 MOVSD/MULSD/ADDSD/SQRTSD/MOVSD, ADDPD/MULPD)",
                 instructionsPerUnit: 1 + 256 * 13 + 2, fixedInstructions: 18, repElementsPerUnit: 0, portWritesPerUnit: 0,
                 defaultUnits: 8_000, isMIPS: true),
        Workload(number: 7, name: "io",
                 summary: "16 × OUT 0x80, AL (each a VM exit to the VMM's port bus on SwiftVMX)",
                 instructionsPerUnit: 16 + 2, fixedInstructions: 2, repElementsPerUnit: 0, portWritesPerUnit: 16,
                 defaultUnits: 200_000, isMIPS: false),
    ]

    /// The workload named `name`.
    public static func workload(named name: String) -> Workload? { workloads.first { $0.name == name } }

    /// The kernel file (multiboot v1, a.out kludge) with `workload` and `units` in its parameter block.
    public static func kernel(workload: Int = 0, units: Int = 0) throws -> [UInt8] {
        var bytes = try assembleKernel()
        patch(&bytes, at: workloadOffset, UInt32(truncatingIfNeeded: workload))
        patch(&bytes, at: unitsOffset, UInt32(truncatingIfNeeded: units))
        return bytes
    }

    /// The hard-disk image for Bochs: the boot sector, then the kernel bytes unchanged, padded to one
    /// cylinder (`diskCylinders`/`diskHeads`/`diskSectorsPerTrack`).
    public static func disk(kernel: [UInt8]) throws -> [UInt8] {
        let sectors = (kernel.count + 511) / 512
        guard sectors <= 127, 512 + sectors * 512 <= diskSize else { throw BenchImageError.kernelTooLarge(bytes: kernel.count) }
        var image = try bootSector(kernelSectors: sectors, kernelBytes: kernel.count)
        image += kernel
        image += [UInt8](repeating: 0, count: diskSize - image.count)
        return image
    }

    /// Writes `value` little-endian at `offset`.
    static func patch(_ bytes: inout [UInt8], at offset: Int, _ value: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
    }

    /// The kernel's entry point (the a.out-kludge `entry_addr`), for the boot sector.
    static func entryAddress() throws -> UInt64 { try assemble().entry }

    /// The kernel file with an empty parameter block (the baseline).
    static func assembleKernel() throws -> [UInt8] { try assemble().bytes }

    /// x87 and SSE encodings the assembler lacks, with `[rdi + disp8]` operands (64-bit mode).
    enum FP {
        /// ModRM for `[rdi + disp8]` with `reg` in the reg field.
        static func rdi(_ reg: UInt8, _ disp: UInt8) -> [UInt8] { [0x47 | (reg << 3), disp] }
        static func fldQword(_ d: UInt8) -> [UInt8] { [0xDD] + rdi(0, d) }            // DD /0
        static func fmulQword(_ d: UInt8) -> [UInt8] { [0xDC] + rdi(1, d) }           // DC /1
        static func faddQword(_ d: UInt8) -> [UInt8] { [0xDC] + rdi(0, d) }           // DC /0
        static func fstpQword(_ d: UInt8) -> [UInt8] { [0xDD] + rdi(3, d) }           // DD /3
        static let fninit: [UInt8] = [0xDB, 0xE3]
        static func movsdLoad(_ x: UInt8, _ d: UInt8) -> [UInt8] { [0xF2, 0x0F, 0x10] + rdi(x, d) }
        static func movsdStore(_ d: UInt8, _ x: UInt8) -> [UInt8] { [0xF2, 0x0F, 0x11] + rdi(x, d) }
        static func movupdLoad(_ x: UInt8, _ d: UInt8) -> [UInt8] { [0x66, 0x0F, 0x10] + rdi(x, d) }
        static func rr(_ prefix: UInt8, _ op: UInt8, _ dst: UInt8, _ src: UInt8) -> [UInt8] { [prefix, 0x0F, op, 0xC0 | dst << 3 | src] }
        static func mulsd(_ d: UInt8, _ s: UInt8) -> [UInt8] { rr(0xF2, 0x59, d, s) }
        static func addsd(_ d: UInt8, _ s: UInt8) -> [UInt8] { rr(0xF2, 0x58, d, s) }
        static func sqrtsd(_ d: UInt8, _ s: UInt8) -> [UInt8] { rr(0xF2, 0x51, d, s) }
        static func addpd(_ d: UInt8, _ s: UInt8) -> [UInt8] { rr(0x66, 0x58, d, s) }
        static func mulpd(_ d: UInt8, _ s: UInt8) -> [UInt8] { rr(0x66, 0x59, d, s) }
        static func xorpd(_ d: UInt8, _ s: UInt8) -> [UInt8] { rr(0x66, 0x57, d, s) }
        /// MOVQ RAX, XMM4 (66 REX.W 0F 7E /r).
        static let movqRAXFromXMM4: [UInt8] = [0x66, 0x48, 0x0F, 0x7E, 0xE0]
    }

    /// Little-endian bytes of IEEE doubles.
    static func doubles(_ values: [Double]) -> [UInt8] {
        values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * UInt64($0))) } }
    }

    /// Assembles the kernel: multiboot header, parameter block, 32-bit setup, 64-bit dispatcher, the workloads,
    /// tables and data; returns the file's bytes and the entry address.
    static func assemble() throws -> (bytes: [UInt8], entry: UInt64) {
        typealias L = Layout
        let a = Assembler(mode: .bits32, origin: loadAddress)
        let header = a.label("multiboot-header"), entry = a.label("entry"), imageEnd = a.label("image-end")
        let workloadParameter = a.label("workload"), unitsParameter = a.label("units")
        let gdt = a.label("gdt"), gdtPointer = a.label("gdt-pointer"), long64 = a.label("long64")
        let puts = a.label("puts"), putHex = a.label("put-hex"), finish = a.label("finish"), bad = a.label("bad-workload")
        let names = a.label("names"), entries = a.label("entries"), fpInit = a.label("fp-init")

        // --- Multiboot header (§3.1) with the a.out-kludge address fields, then the parameter block ---
        let flags = MultibootTestKernel.flagAddresses
        a.bind(header)
        a.dd(MultibootTestKernel.headerMagic, flags, 0 &- (MultibootTestKernel.headerMagic &+ flags))
        a.dd(header)                                       // header_addr
        a.dd(UInt32(truncatingIfNeeded: loadAddress))      // load_addr
        a.dd(imageEnd)                                     // load_end_addr
        a.dd(imageEnd, plus: Int64(L.stackSize))           // bss_end_addr: the stack
        a.dd(entry)                                        // entry_addr
        precondition(a.offset == parameterOffset)
        a.db(parameterTag)
        a.bind(workloadParameter)
        a.dd(0)
        a.bind(unitsParameter)
        a.dd(0)

        var strings: [(Label, String)] = []
        func text(_ s: String) -> Label {
            let l = a.label("string-\(strings.count)")
            strings.append((l, s))
            return l
        }

        // --- 32-bit entry: page tables, PAE, long mode ---
        a.bind(entry)
        a.cli()
        a.cld()
        a.mov(.esp, .label(imageEnd, plus: Int64(L.stackSize)))
        a.mov(.edi, .imm(L.pml4))
        a.xor(.eax, .eax)
        a.mov(.ecx, .imm((L.pageTablesEnd - L.pml4) / 4))
        a.rep().stosd()
        a.mov(.dword[.absolute(Int64(L.pml4))], .imm(L.pdpt | 3))      // present, writable
        a.mov(.dword[.absolute(Int64(L.pdpt))], .imm(L.pd | 3))
        a.mov(.edi, .imm(L.pd))                                         // 512 × 2 MiB: 0–1 GiB
        a.mov(.eax, 0x83)                                               // present, writable, PS
        a.mov(.ecx, 512)
        let pdLoop = a.here("pd-loop")
        a.mov(.dword[.edi], .eax)
        a.add(.eax, .imm(0x20_0000))
        a.add(.edi, 8)
        a.dec(.ecx)
        a.jnz(pdLoop)
        a.mov(.edi, .imm(L.pd + UInt64(L.firstSmallPDE * 8)))            // 16–48 MiB: page tables
        a.mov(.eax, .imm(L.pageTables | 3))
        a.mov(.ecx, .imm(L.smallPages / 512))
        let pdeLoop = a.here("pde-loop")
        a.mov(.dword[.edi], .eax)
        a.add(.eax, 0x1000)
        a.add(.edi, 8)
        a.dec(.ecx)
        a.jnz(pdeLoop)
        a.mov(.edi, .imm(L.pageTables))
        a.mov(.eax, .imm(L.smallPagesBase | 3))
        a.mov(.ecx, .imm(L.smallPages))
        let pteLoop = a.here("pte-loop")
        a.mov(.dword[.edi], .eax)
        a.add(.eax, 0x1000)
        a.add(.edi, 8)
        a.dec(.ecx)
        a.jnz(pteLoop)
        a.mov(.eax, .cr4)
        a.or(.eax, .imm(0x620))                                         // CR4.PAE | OSFXSR | OSXMMEXCPT
        a.mov(.cr4, .eax)
        a.mov(.eax, .imm(L.pml4))
        a.mov(.cr3, .eax)
        a.mov(.ecx, .imm(0xC000_0080))                                  // IA32_EFER
        a.rdmsr()
        a.or(.eax, .imm(0x100))                                         // EFER.LME
        a.wrmsr()
        a.lgdt(.fword[gdtPointer])
        a.mov(.eax, .cr0)
        a.and(.eax, .imm(0xFFFF_FFF3))                                  // clear CR0.EM, CR0.TS
        a.or(.eax, .imm(0x8000_0003))                                   // CR0.PG | MP | PE
        a.mov(.cr0, .eax)
        a.jmpFar(selector: 0x08, to: long64)

        // --- 64-bit mode: dispatch ---
        a.setMode(.bits64)
        a.bind(long64)
        a.mov(.ax, 0x10)
        for s in [Operand.ds, .es, .ss, .fs, .gs] { a.mov(s, .ax) }
        a.mov(.rsp, .label(imageEnd, plus: Int64(L.stackSize)))
        a.emit(FP.fninit)
        a.mov(.r14d, .dword[workloadParameter])
        a.cmp(.r14d, .imm(workloads.count))
        a.ja(bad, .near)
        a.mov(.esi, .label(text("bench: start ")))
        a.call(puts)
        a.mov(.rsi, .qword[.r14 * 8 + names])
        a.call(puts)
        a.mov(.esi, .label(text("\n")))
        a.call(puts)
        a.xor(.ebx, .ebx)
        a.mov(.r15d, .dword[unitsParameter])
        a.test(.r15, .r15)
        a.jz(finish, .near)
        a.call(.qword[.r14 * 8 + entries])
        a.bind(finish)
        a.mov(.esi, .label(text("bench: end ")))
        a.call(puts)
        a.mov(.rsi, .qword[.r14 * 8 + names])
        a.call(puts)
        a.mov(.esi, .label(text(" checksum=")))
        a.call(puts)
        a.mov(.rax, .rbx)
        a.call(putHex)
        a.mov(.esi, .label(text("\nbench: exit\n")))
        a.call(puts)
        a.mov(.al, .imm(exitValue))
        let exit = a.here("exit")
        a.out(.imm(MultibootTestKernel.exitPort), .al)                 // SwiftVMX, QEMU: isa-debug-exit
        a.mov(.dx, .imm(0x8900))                                        // Bochs: the shutdown port
        for c in "Shutdown".utf8 {
            a.mov(.al, .imm(c))
            a.out(.dx, .al)
        }
        a.cli()
        let stop = a.here("stop")
        a.hlt()
        a.jmp(stop)
        a.bind(bad)
        a.mov(.esi, .label(text("bench: FAIL unknown workload\n")))
        a.call(puts)
        a.mov(.al, .imm(failureValue))
        a.jmp(exit)

        // puts: writes the NUL-terminated string at RSI to port 0xE9. Clobbers RAX, RSI.
        a.bind(puts)
        let putsDone = a.label("puts-done")
        let putsLoop = a.here("puts-loop")
        a.movzx(.eax, .byte[.rsi])
        a.test(.al, .al)
        a.jz(putsDone)
        a.out(.imm(MultibootTestKernel.debugPort), .al)
        a.inc(.rsi)
        a.jmp(putsLoop)
        a.bind(putsDone)
        a.ret()

        // put-hex: writes RAX as 16 hex digits through a table (the same instruction count for every value, so
        // the printed checksum does not change a run's count). Clobbers RAX, RCX, RDX.
        let hexDigits = a.label("hex-digits")
        a.bind(putHex)
        a.mov(.rdx, .rax)
        a.mov(.ecx, 16)
        let nibble = a.here("nibble")
        a.rol(.rdx, 4)
        a.mov(.eax, .edx)
        a.and(.eax, 0xF)
        a.movzx(.eax, .byte[.rax + hexDigits])
        a.out(.imm(MultibootTestKernel.debugPort), .al)
        a.dec(.ecx)
        a.jnz(nibble)
        a.ret()
        a.bind(hexDigits)
        a.db("0123456789abcdef")

        // --- The workloads: entered by CALL with R15 = units (≥ 1) and RBX = 0; the checksum is left in
        // RBX. Instruction counts per unit are in `workloads`; the comments count them. ---
        var workloadEntries: [Label] = []

        // 1 int-mem: per unit 5 + 4096 × 10 + 2.
        workloadEntries.append(a.here("int-mem"))
        do {
            let outer = a.here("int-outer")
            a.mov(.ecx, .r15d)                                          // 1
            a.and(.ecx, 7)                                              // 2
            a.shl(.ecx, 15)                                             // 3: window = (unit & 7) × 32 KiB
            a.lea(.rsi, .qword[.rcx + Int(L.intArray)])                 // 4
            a.xor(.ecx, .ecx)                                           // 5
            let inner = a.here("int-inner")
            a.mov(.rax, .qword[.rsi + .rcx * 8])                        // 1
            a.lea(.rax, .qword[.rax + .rax * 2])                        // 2
            a.add(.rax, .rcx)                                           // 3
            a.xor(.rax, .rbx)                                           // 4
            a.mov(.qword[.rsi + .rcx * 8], .rax)                        // 5
            a.add(.rbx, .rax)                                           // 6
            a.shr(.rbx, 3)                                              // 7
            a.inc(.ecx)                                                 // 8
            a.cmp(.ecx, 4096)                                           // 9
            a.jb(inner)                                                 // 10
            a.dec(.r15)
            a.jnz(outer)
            a.ret()
        }

        // 2 call-ret: per unit 1 + 256 × (5 + 6 + 7 + 4 + 3) + 2.
        workloadEntries.append(a.here("call-ret"))
        do {
            let f1 = a.label("f1"), f2 = a.label("f2"), f3 = a.label("f3"), f4 = a.label("f4"), f4Pointer = a.label("f4-pointer")
            let outer = a.here("call-outer")
            a.mov(.ecx, 256)                                            // 1
            let inner = a.here("call-inner")
            a.mov(.edi, .ecx)                                           // 1
            a.call(f1)                                                  // 2
            a.add(.rbx, .rax)                                           // 3
            a.dec(.ecx)                                                 // 4
            a.jnz(inner)                                                // 5
            a.dec(.r15)
            a.jnz(outer)
            a.ret()
            a.bind(f1)                                                  // 6
            a.push(.rbp)
            a.lea(.rbp, .qword[.rdi + 1])
            a.call(f2)
            a.add(.rax, .rbp)
            a.pop(.rbp)
            a.ret()
            a.bind(f2)                                                  // 7
            a.push(.r12)
            a.mov(.r12, .rdi)
            a.shl(.r12, 1)
            a.call(f3)
            a.sub(.rax, .r12)
            a.pop(.r12)
            a.ret()
            a.bind(f3)                                                  // 4
            a.mov(.rax, .rdi)
            a.call(.qword[f4Pointer])
            a.xor(.rax, .rdi)
            a.ret()
            a.bind(f4)                                                  // 3
            a.imul(.rax, .rax, 3)
            a.add(.rax, 7)
            a.ret()
            a.align(8)
            a.bind(f4Pointer)
            a.dq(f4)
        }

        // 3 string: per unit 19 + 64 × 4 + 2.
        workloadEntries.append(a.here("string"))
        do {
            let outer = a.here("string-outer")
            a.mov(.qword[.absolute(Int64(L.stringSource + 8))], .r15)   // 1: source data varies by unit
            a.mov(.esi, .imm(L.stringSource))                           // 2
            a.mov(.edi, .imm(L.stringDestination))                      // 3
            a.mov(.ecx, 64)                                             // 4
            a.rep().movsq()                                             // 5: 512 bytes
            a.mov(.edi, .imm(L.stringFill))                             // 6
            a.mov(.eax, 0x5A)                                           // 7
            a.mov(.ecx, 256)                                            // 8
            a.rep().stosb()                                             // 9: 256 bytes
            a.mov(.esi, .imm(L.stringSource))                           // 10
            a.mov(.edi, .imm(L.stringDestination))                      // 11
            a.mov(.ecx, 512)                                            // 12
            a.repe().cmpsb()                                            // 13: 512 equal bytes
            a.mov(.esi, .imm(L.stringDestination))                      // 14
            a.mov(.ecx, 64)                                             // 15
            let lods = a.here("string-lods")
            a.lodsq()                                                   // 64 × 4
            a.add(.rbx, .rax)
            a.dec(.ecx)
            a.jnz(lods)
            a.mov(.edi, .imm(L.stringFill))                             // 16
            a.mov(.eax, 0xA5)                                           // 17
            a.mov(.ecx, 256)                                            // 18
            a.repne().scasb()                                           // 19: 256 bytes, no match
            a.dec(.r15)
            a.jnz(outer)
            a.ret()
        }

        // 4 page-walk: per unit 7 + 512 × 7 + 2.
        workloadEntries.append(a.here("page-walk"))
        do {
            let outer = a.here("page-outer")
            a.mov(.rax, .cr3)                                           // 1
            a.mov(.cr3, .rax)                                           // 2: flushes the (non-global) TLB
            a.mov(.edx, .r15d)                                          // 3
            a.and(.edx, 7)                                              // 4
            a.shl(.edx, 22)                                             // 5: window = (unit & 7) × 4 MiB
            a.lea(.rdi, .qword[.rdx + Int(L.smallPagesBase)])           // 6
            a.mov(.ecx, 512)                                            // 7
            let inner = a.here("page-inner")
            a.mov(.rax, .qword[.rdi])                                   // 1
            a.add(.rax, .rcx)                                           // 2
            a.mov(.qword[.rdi + 8], .rax)                               // 3
            a.add(.rbx, .rax)                                           // 4
            a.add(.rdi, .imm(4096 + 64))                                      // 5: next page, next cache line
            a.dec(.ecx)                                                 // 6
            a.jnz(inner)                                                // 7
            a.dec(.r15)
            a.jnz(outer)
            a.ret()
        }

        // 5 interp: per unit 6 + LOADI 9 + 63 × 52 + 51 + END 6 (dispatch 5 + handler).
        workloadEntries.append(a.here("interp"))
        do {
            let dispatch = a.label("dispatch"), table = a.label("op-table"), program = a.label("program")
            let badOp = a.label("bad-op"), loopDone = a.label("loop-done")
            let outer = a.here("interp-outer")
            a.mov(.esi, .label(program))                                // 1
            a.mov(.r10d, 64)                                            // 2
            a.call(dispatch)                                            // 3
            a.add(.rbx, .r8)                                            // 4
            a.dec(.r15)                                                 // 5
            a.jnz(outer)                                                // 6
            a.ret()
            a.bind(dispatch)                                            // 5 per bytecode
            a.movzx(.eax, .byte[.rsi])
            a.inc(.rsi)
            a.cmp(.eax, 6)
            a.ja(badOp)
            a.jmp(.qword[.rax * 8 + table])
            let opEnd = a.here("op-end")                                // 0 END: 1
            a.ret()
            let opLoadI = a.here("op-loadi")                            // 1 LOADI imm8: 4
            a.movzx(.edx, .byte[.rsi])
            a.inc(.rsi)
            a.mov(.r8, .rdx)
            a.jmp(dispatch)
            let opAddI = a.here("op-addi")                              // 2 ADDI imm8: 4
            a.movzx(.edx, .byte[.rsi])
            a.inc(.rsi)
            a.add(.r8, .rdx)
            a.jmp(dispatch)
            let opMulI = a.here("op-muli")                              // 3 MULI imm8: 4
            a.movzx(.edx, .byte[.rsi])
            a.inc(.rsi)
            a.imul(.r8, .rdx)
            a.jmp(dispatch)
            let opStore = a.here("op-store")                            // 4 STORE: 2
            a.lea(.r9, .qword[.r8 + .r9 * 2])
            a.jmp(dispatch)
            let opXor = a.here("op-xor")                                // 5 XORR: 2
            a.xor(.r8, .r9)
            a.jmp(dispatch)
            let opLoop = a.here("op-loop")                              // 6 LOOP rel8: 6 taken, 5 not
            a.movsx(.rdx, .byte[.rsi])
            a.inc(.rsi)
            a.dec(.r10)
            a.jz(loopDone)
            a.add(.rsi, .rdx)
            a.jmp(dispatch)
            a.bind(loopDone)
            a.jmp(dispatch)
            a.bind(badOp)
            a.ud2()
            a.align(8)
            a.bind(table)
            for op in [opEnd, opLoadI, opAddI, opMulI, opStore, opXor, opLoop] { a.dq(op) }
            // LOADI 1; L: ADDI 3; MULI 5; STORE; XORR; ADDI 7; LOOP L; END
            a.bind(program)
            a.db(1, 1, 2, 3, 3, 5, 4, 5, 2, 7, 6, UInt8(bitPattern: -10), 0)
        }

        // 6 x87-sse: fixed 18 (CALL, 10 setup, 6 after the loop, RET), per unit 1 + 256 × 13 + 2.
        workloadEntries.append(a.here("x87-sse"))
        do {
            a.mov(.esi, .label(fpInit))                                 // 1
            a.mov(.edi, .imm(L.fpData))                                 // 2
            a.mov(.ecx, 14)                                             // 3
            a.rep().movsq()                                             // 4: the constants to their own page
            a.mov(.edi, .imm(L.fpData))                                 // 5
            a.emit(FP.movupdLoad(1, 48))                                // 6: xmm1 = 1.0000001
            a.emit(FP.movupdLoad(2, 64))                                // 7: xmm2 = 0.25
            a.emit(FP.movupdLoad(5, 80))                                // 8: xmm5 = (1e-3, 2e-3)
            a.emit(FP.movupdLoad(6, 96))                                // 9: xmm6 = 1.0
            a.emit(FP.xorpd(4, 4))                                      // 10: xmm4 = 0
            let outer = a.here("fp-outer")
            a.mov(.ecx, 256)                                            // 1
            let inner = a.here("fp-inner")
            a.emit(FP.fldQword(0))                                      // 1
            a.emit(FP.fmulQword(8))                                     // 2
            a.emit(FP.faddQword(16))                                    // 3
            a.emit(FP.fstpQword(24))                                    // 4
            a.emit(FP.movsdLoad(0, 32))                                 // 5
            a.emit(FP.mulsd(0, 1))                                      // 6
            a.emit(FP.addsd(0, 2))                                      // 7
            a.emit(FP.sqrtsd(3, 0))                                     // 8
            a.emit(FP.movsdStore(40, 3))                                // 9
            a.emit(FP.addpd(4, 5))                                      // 10
            a.emit(FP.mulpd(5, 6))                                      // 11
            a.dec(.ecx)                                                 // 12
            a.jnz(inner)                                                // 13
            a.dec(.r15)
            a.jnz(outer)
            a.emit(FP.movqRAXFromXMM4)                                  // after the loop: 1
            a.add(.rbx, .rax)                                           // 2
            a.mov(.rax, .qword[.rdi + 24])                              // 3: the x87 result
            a.add(.rbx, .rax)                                           // 4
            a.mov(.rax, .qword[.rdi + 40])                              // 5: the SSE result
            a.add(.rbx, .rax)                                           // 6
            a.ret()
        }

        // 7 io: per unit 16 + 2.
        workloadEntries.append(a.here("io"))
        do {
            let outer = a.here("io-outer")
            for _ in 0..<16 { a.out(.imm(ioPort), .al) }
            a.dec(.r15)
            a.jnz(outer)
            a.ret()
        }

        // Tables: names and entry points by workload number (0: the baseline, which never calls its entry).
        a.align(8)
        a.bind(names)
        a.dq(text("baseline"))
        for w in workloads { a.dq(text(w.name)) }
        a.bind(entries)
        a.dq(finish)
        for e in workloadEntries { a.dq(e) }

        // GDT: null, 64-bit code (0x08), data (0x10).
        a.align(8)
        a.bind(gdt)
        a.dq(0, 0x00AF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF)
        a.bind(gdtPointer)
        a.dw(0x17)
        a.dd(gdt)

        // Floating-point constants (copied to `Layout.fpData`): +0 1.5, +8 1.000001, +16 0.5, +24 result,
        // +32 2.0, +40 result, +48 (1.0000001, 1.0000001), +64 (0.25, 0.25), +80 (1e-3, 2e-3), +96 (1.0, 1.0).
        a.align(8)
        a.bind(fpInit)
        a.db(doubles([1.5, 1.000001, 0.5, 0, 2.0, 0, 1.0000001, 1.0000001, 0.25, 0.25, 1e-3, 2e-3, 1.0, 1.0]))

        for (label, s) in strings {
            a.bind(label)
            a.db(s)
            a.db(0)
        }
        // The stack (bss) starts on its own page: no store lands on a page that holds code.
        a.align(4096, fill: 0)
        a.bind(imageEnd)
        let bytes = try a.finish()
        guard let entryAddress = a.address(of: entry) else { throw BenchImageError.unboundLabel }
        return (bytes, entryAddress)
    }

    /// The boot sector for Bochs (real mode at 0x7C00, DL = boot drive): reads `kernelSectors` sectors from
    /// LBA 1 to `Layout.diskBuffer` with INT 13h AH=42h, enables A20 (port 0x92), enters 32-bit protected mode,
    /// copies the kernel to `loadAddress` and jumps to its entry as a multiboot loader would.
    static func bootSector(kernelSectors: Int, kernelBytes: Int) throws -> [UInt8] {
        let entryPoint = try entryAddress()
        let a = Assembler(mode: .bits16, origin: 0x7C00)
        let dap = a.label("dap"), gdt = a.label("boot-gdt"), gdtPointer = a.label("boot-gdt-pointer")
        let protected32 = a.label("protected32"), fail = a.label("fail")
        a.cli()
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.mov(.es, .ax)
        a.mov(.ss, .ax)
        a.mov(.sp, 0x7C00)
        a.sti()
        a.mov(.si, .label(dap))
        a.mov(.ah, 0x42)                                    // extended read; DL is the BIOS's boot drive
        a.int(0x13)
        a.jc(fail, .near)
        a.`in`(.al, .imm(0x92))                               // fast A20
        a.or(.al, 2)
        a.and(.al, .imm(0xFE))
        a.out(.imm(0x92), .al)
        a.cli()
        a.lgdt(.fword[gdtPointer])
        a.mov(.eax, .cr0)
        a.or(.eax, 1)
        a.mov(.cr0, .eax)
        a.jmpFar(selector: 0x08, to: protected32, offsetBits: 32)
        a.bind(fail)
        a.mov(.al, .imm(UInt8(ascii: "E")))
        a.out(.imm(MultibootTestKernel.debugPort), .al)
        let halt = a.here("halt")
        a.hlt()
        a.jmp(halt)

        a.setMode(.bits32)
        a.bind(protected32)
        a.mov(.ax, 0x10)
        for s in [Operand.ds, .es, .ss, .fs, .gs] { a.mov(s, .ax) }
        a.mov(.esi, .imm(Layout.diskBuffer))
        a.mov(.edi, .imm(loadAddress))
        a.mov(.ecx, .imm((kernelBytes + 3) / 4))
        a.rep().movsd()
        a.mov(.eax, .imm(MultibootTestKernel.bootloaderMagic))
        a.xor(.ebx, .ebx)
        a.mov(.edx, .imm(entryPoint))
        a.jmp(.edx)

        a.align(8, fill: 0)
        a.bind(gdt)
        a.dq(0, 0x00CF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF)
        a.bind(gdtPointer)
        a.dw(0x17)
        a.dd(gdt)
        a.bind(dap)                                         // INT 13h AH=42h disk address packet
        a.db(16, 0)
        a.dw(UInt16(kernelSectors))
        a.dw(UInt16(Layout.diskBuffer & 0xF), UInt16(Layout.diskBuffer >> 4))   // offset, segment
        a.dq(1)                                             // LBA 1: the sector after this one
        let used = a.offset
        guard used <= 510 else { throw BenchImageError.bootSectorOverflow(bytes: used) }
        a.space(510 - used)
        a.db(0x55, 0xAA)
        return try a.finish()
    }
}

/// Why the benchmark image could not be built.
public enum BenchImageError: Error, Equatable, CustomStringConvertible {
    /// A label was never bound (a bug in the builder).
    case unboundLabel
    /// The boot sector's code does not fit in 510 bytes.
    case bootSectorOverflow(bytes: Int)
    /// The kernel is larger than one INT 13h read (127 sectors) or the disk image.
    case kernelTooLarge(bytes: Int)

    /// A one-line description.
    public var description: String {
        switch self {
        case .unboundLabel: "bench image: a label is unbound"
        case .bootSectorOverflow(let n): "bench image: the boot sector needs \(n) bytes (at most 510)"
        case .kernelTooLarge(let n): "bench image: the kernel (\(n) bytes) does not fit one INT 13h read of 127 sectors"
        }
    }
}
