// `swiftvmx run` given malformed kernels, initrds, firmware and flags: every case must end with a non-zero
// status and one error line on standard error that names the problem — never a crash, never a long run.
import Foundation
import Testing

/// One malformed invocation of `swiftvmx run`.
struct BadInput: Sendable, CustomTestStringConvertible {
    /// What is wrong.
    var name: String
    /// A substring the first line of standard error must contain (it names the problem).
    var expected: String
    /// Builds the files the case needs in a fresh directory and returns the arguments after `run`.
    var arguments: @Sendable (TemporaryDirectory) throws -> [String]
    /// Runs the CLI with its address space limited to this many KiB (`ulimit -v`).
    var addressSpaceLimitKiB: Int?
    /// A known defect this case shows (file:line and what is wrong): the case's failures are expected
    /// until it is fixed, and the test fails once they stop, so the marker gets removed.
    var knownIssue: String?

    /// A case named `name` whose first error line must contain `expected`.
    init(_ name: String, expect expected: String, addressSpaceLimitKiB: Int? = nil, knownIssue: String? = nil,
         _ arguments: @escaping @Sendable (TemporaryDirectory) throws -> [String]) {
        self.name = name
        self.expected = expected
        self.addressSpaceLimitKiB = addressSpaceLimitKiB
        self.knownIssue = knownIssue
        self.arguments = arguments
    }

    /// The case's name in test output.
    var testDescription: String { name }
}

/// A multiboot a.out kernel that loads and halts: for cases where only the initrd or a flag is wrong.
private let goodMultiboot = makeMultibootAout()

/// A 64-byte command line.
private let longCommandLine = String(repeating: "console=ttyS0 ", count: 5)

@Suite("swiftvmx run rejects bad input", .serialized)
struct BadInputTests {
    static let cases: [BadInput] = [
        // --- the kernel file ---
        BadInput("missing kernel file", expect: "no such file") { d in ["--kernel", d.path("does-not-exist")] },
        BadInput("kernel is a directory", expect: "is a directory") { d in ["--kernel", d.url.path] },
        BadInput("empty kernel", expect: "is empty") { d in ["--kernel", try d.write("empty", [])] },
        BadInput("100 bytes of garbage", expect: "not a bzImage, multiboot kernel or ELF") { d in
            ["--kernel", try d.write("garbage", garbage(100))]
        },
        BadInput("8 KiB of garbage", expect: "not a bzImage, multiboot kernel or ELF") { d in
            ["--kernel", try d.write("garbage", garbage(8192))]
        },
        // --- bzImage ---
        BadInput("bzImage truncated after the setup header", expect: "truncated") { d in
            ["--kernel", try d.write("bzImage", Array(makeBzImage().prefix(0x270)))]
        },
        BadInput("bzImage with a wrong HdrS signature", expect: "bad magic") { d in
            var image = makeBzImage()
            image.set(0x5872_6448, at: SetupHeader.magic, size: 4)                  // "HdrX"
            return ["--kernel", try d.write("bzImage", image)]
        },
        BadInput("bzImage boot protocol 2.00 (too old)", expect: "unsupported boot protocol version 2.0") { d in
            ["--kernel", try d.write("bzImage", makeBzImage(version: 0x0200))]
        },
        BadInput("bzImage without a 64-bit entry (xloadflags 0)", expect: "no 64-bit entry") { d in
            ["--kernel", try d.write("bzImage", makeBzImage(xloadflags: 0))]
        },
        BadInput("bzImage whose syssize exceeds the file", expect: "kernel size mismatch") { d in
            var image = makeBzImage()
            image.set(0x10_0000, at: SetupHeader.syssize, size: 4)                  // 16 MiB declared
            return ["--kernel", try d.write("bzImage", image)]
        },
        BadInput("--append longer than the kernel's cmdline_size", expect: "command line too long") { d in
            ["--kernel", try d.write("bzImage", makeBzImage(cmdlineSize: 16)), "--append", longCommandLine]
        },
        BadInput("bzImage not relocatable, preferred address beyond RAM", expect: "not relocatable") { d in
            ["--kernel", try d.write("bzImage", makeBzImage(prefAddress: 0x4000_0000, relocatable: false)), "--memory", "16"]
        },
        BadInput("bzImage whose init_size exceeds RAM", expect: "no 0x200000-aligned RAM range") { d in
            ["--kernel", try d.write("bzImage", makeBzImage(initSize: 0x4000_0000)), "--memory", "16"]
        },
        BadInput("bzImage with a bad boot_flag", expect: "boot_flag") { d in
            var image = makeBzImage()
            image.set(0, at: SetupHeader.bootFlag, size: 2)
            return ["--kernel", try d.write("bzImage", image)]
        },
        // --- multiboot ---
        BadInput("multiboot header with a bad checksum", expect: "checksum") { d in
            ["--kernel", try d.write("multiboot", makeMultibootAout(checksum: 0x1234_5678))]
        },
        BadInput("multiboot header requiring unsupported features", expect: "unsupported features") { d in
            ["--kernel", try d.write("multiboot", makeMultibootAout(flags: 1 << 3))]
        },
        BadInput("multiboot entry outside the loaded image", expect: "invalid multiboot a.out addresses") { d in
            ["--kernel", try d.write("multiboot", makeMultibootAout(entry: 0x20_0000))]
        },
        BadInput("multiboot kernel loaded beyond RAM", expect: "outside usable RAM") { d in
            ["--kernel", try d.write("multiboot", makeMultibootAout(load: 0x4000_0000)), "--memory", "16"]
        },
        BadInput("multiboot header_addr below load_addr", expect: "header_addr < load_addr") { d in
            let image = multibootHeader(flags: 1 << 16, addresses: [0x10_0000, 0x10_1000, 0, 0, 0x10_1000]) + [0xF4]
            return ["--kernel", try d.write("multiboot", image)]
        },
        BadInput("multiboot load_end_addr beyond the file", expect: "truncated") { d in
            let image = multibootHeader(flags: 1 << 16, addresses: [0x10_0000, 0x10_0000, 0x20_0000, 0, 0x10_0020]) + [0xF4]
            return ["--kernel", try d.write("multiboot", image)]
        },
        BadInput("multiboot bss_end_addr below load_end_addr", expect: "bss_end_addr < load_end_addr") { d in
            let image = multibootHeader(flags: 1 << 16, addresses: [0x10_0000, 0x10_0000, 0x10_0021, 0x10_0010, 0x10_0020]) + [0xF4]
            return ["--kernel", try d.write("multiboot", image)]
        },
        // --- ELF ---
        BadInput("ELF with a bad class", expect: "EI_CLASS 3") { d in
            ["--kernel", try d.write("elf", makeELF(is64: false, elfClass: 3, entry: 0x10_0000, phs: [], body: [0xF4]))]
        },
        BadInput("ELF for another machine (ARM)", expect: "e_machine 40") { d in
            ["--kernel", try d.write("elf", makeELF(is64: false, machine: 40, entry: 0x10_0000, phs: [], body: [0xF4]))]
        },
        BadInput("ELF with no PT_LOAD segment", expect: "no PT_LOAD") { d in
            let note = ProgramHeader(type: 4, offset: 0x200, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 1, memsz: 1)
            return ["--kernel", try d.write("elf", makeELF(is64: false, entry: 0x10_0000, phs: [note], body: [0xF4]))]
        },
        BadInput("ELF segment beyond RAM", expect: "outside usable RAM") { d in
            ["--kernel", try d.write("elf", makeELF32(address: 0x4000_0000)), "--memory", "16"]
        },
        BadInput("ELF64 segment beyond 4 GiB of a 16 MiB machine", expect: "outside usable RAM") { d in
            let ph = ProgramHeader(offset: 0x200, vaddr: 0x2_0000_0000, paddr: 0x2_0000_0000, filesz: 1, memsz: 1)
            return ["--kernel", try d.write("elf", makeELF(is64: true, entry: 0x2_0000_0000, phs: [ph], body: [0xF4])), "--memory", "16"]
        },
        BadInput("ELF with p_filesz > p_memsz", expect: "p_filesz") { d in
            let ph = ProgramHeader(offset: 0x200, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 2, memsz: 1)
            return ["--kernel", try d.write("elf", makeELF(is64: false, entry: 0x10_0000, phs: [ph], body: [0xF4, 0xF4]))]
        },
        BadInput("ELF segment contents beyond the end of the file", expect: "truncated") { d in
            let ph = ProgramHeader(offset: 0x200, vaddr: 0x10_0000, paddr: 0x10_0000, filesz: 0x10_0000, memsz: 0x10_0000)
            return ["--kernel", try d.write("elf", makeELF(is64: false, entry: 0x10_0000, phs: [ph], body: [0xF4]))]
        },
        // --- the initrd ---
        BadInput("initrd missing", expect: "cannot read initrd") { d in
            ["--kernel", try d.write("bzImage", makeBzImage()), "--initrd", d.path("no-initrd")]
        },
        BadInput("initrd is a directory", expect: "is a directory") { d in
            ["--kernel", try d.write("bzImage", makeBzImage()), "--initrd", d.url.path]
        },
        BadInput("initrd larger than RAM (bzImage)", expect: "initrd of") { d in
            ["--kernel", try d.write("bzImage", makeBzImage()),
             "--initrd", try d.write("initrd", [UInt8](repeating: 0x55, count: 20 << 20)), "--memory", "16"]
        },
        BadInput("multiboot module larger than RAM", expect: "module 0") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot),
             "--initrd", try d.write("initrd", [UInt8](repeating: 0x55, count: 20 << 20)), "--memory", "16"]
        },
        // --- firmware ---
        BadInput("--kernel and --firmware together", expect: "--kernel and --firmware") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--firmware", try d.write("rom", [UInt8](repeating: 0xF4, count: 0x1_0000))]
        },
        BadInput("firmware size not a multiple of 64 KiB", expect: "firmware ROM size 1000") { d in
            ["--firmware", try d.write("rom", [UInt8](repeating: 0xF4, count: 1000))]
        },
        BadInput("firmware missing", expect: "cannot read firmware") { d in ["--firmware", d.path("no-rom")] },
        BadInput("--initrd with --firmware", expect: "--initrd needs --kernel") { d in
            ["--firmware", try d.write("rom", [UInt8](repeating: 0xF4, count: 0x1_0000)), "--initrd", try d.write("initrd", [1])]
        },
        BadInput("nothing to boot", expect: "nothing to boot") { _ in [] },
        // --- flags ---
        BadInput("--memory 0", expect: "--memory must be between 16 and 65536") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--memory", "0"]
        },
        BadInput("--memory 15", expect: "--memory must be between 16 and 65536") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--memory", "15"]
        },
        BadInput("--memory 999999", expect: "--memory must be between 16 and 65536") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--memory", "999999"]
        },
        BadInput("--memory more than the host can allocate", expect: "cannot allocate 4096 MiB of guest memory",
                 addressSpaceLimitKiB: 2 << 20) { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--memory", "4096"]
        },
        BadInput("--memory abc", expect: "'abc'") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--memory", "abc"]
        },
        BadInput("--memory -5", expect: "--memory") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--memory=-5"]
        },
        BadInput("--max-instructions abc", expect: "'abc'") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--max-instructions", "abc"]
        },
        BadInput("--kernel without a value", expect: "--kernel") { _ in ["--kernel"] },
        BadInput("an unknown flag", expect: "--bogus") { d in ["--kernel", try d.write("multiboot", goodMultiboot), "--bogus"] },
        BadInput("--clock bogus", expect: "--clock must be realtime or deterministic") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--clock", "bogus"]
        },
        BadInput("--trace bogus", expect: "--trace takes exits or exits=FILE") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--trace", "bogus"]
        },
        BadInput("--trace exits= a file in a nonexistent directory", expect: "cannot open --trace file") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--trace", "exits=" + d.path("no-such-directory/trace.jsonl")]
        },
        BadInput("--debugcon in a nonexistent directory", expect: "cannot open --debugcon file") { d in
            ["--kernel", try d.write("multiboot", goodMultiboot), "--debugcon", d.path("no-such-directory/debugcon.txt")]
        },
    ]

    /// The arguments every case gets unless it sets them itself: a kernel that does load cannot run long.
    static func bounded(_ arguments: [String]) -> [String] {
        var all = ["run"] + arguments
        let given = Set(arguments.map { String($0.split(separator: "=", maxSplits: 1).first ?? "") })
        if !given.contains("--max-instructions") { all += ["--max-instructions", "1000000"] }
        if !given.contains("--clock") { all += ["--clock", "deterministic"] }
        return all
    }

    @Test("the table has at least 20 cases with distinct names")
    func tableSize() {
        #expect(Self.cases.count >= 20)
        #expect(Set(Self.cases.map(\.name)).count == Self.cases.count)
    }

    @Test("a malformed input gives one clear error line and a non-zero status, quickly", arguments: cases)
    func rejects(_ input: BadInput) throws {
        if let issue = input.knownIssue {
            try withKnownIssue(Comment(rawValue: issue)) { try check(input) }
        } else {
            try check(input)
        }
    }

    /// Runs one case and checks the status, the first line of standard error, crash markers and the time.
    func check(_ input: BadInput) throws {
        let directory = try TemporaryDirectory()
        let arguments = Self.bounded(try input.arguments(directory))
        let result = try CLIRunner.run(arguments, timeout: 20, addressSpaceLimitKiB: input.addressSpaceLimitKiB)
        let shown = "swiftvmx \(arguments.joined(separator: " "))\nstatus \(result.status)\nstderr:\n\(result.standardError)"
        #expect(!result.timedOut, "did not finish within 20 s: \(shown)")
        #expect(!result.signaled, "terminated by signal \(result.status): \(shown)")
        #expect(result.status != 0, "exit status 0: \(shown)")
        #expect(result.status <= 128, "exit status > 128 (a crash): \(shown)")
        let first = result.firstErrorLine
        #expect(first.hasPrefix("swiftvmx: error:") || first.hasPrefix("Error:"), "first line of stderr: \(shown)")
        #expect(first.contains(input.expected), "first line does not name the problem ('\(input.expected)'): \(shown)")
        for marker in ["Fatal error", "Stack dump", "Segmentation fault", "Illegal instruction", "Aborted", "Trace/breakpoint trap"] {
            #expect(!result.standardError.contains(marker) && !result.standardOutput.contains(marker), "'\(marker)': \(shown)")
        }
        #expect(result.seconds < 5, "took \(result.seconds) s: \(shown)")
    }
}
