// The multiboot test kernel booted on the PC machine (through the API and through the `swiftvmx run` CLI):
// the loader's information structure as the guest sees it, and the isa-debug-exit status.
import Devices
import Foundation
import Guests
import Hypervisor
import Loaders
import Testing
import VMM
import X86

/// Boots the multiboot test kernel on a PC with `memoryMiB` of RAM and a capturing debug console.
func bootMultibootTestKernel(_ format: MultibootTestKernel.Format, memoryMiB: UInt64 = 64, commandLine: String,
                             initrd: [UInt8]? = nil, before: (PCMachine) -> Void = { _ in })
    throws -> (outcome: MachineOutcome, lines: [String], serial: String) {
    let image = try MultibootTestKernel.build(format)
    var configuration = PCMachine.Configuration(boot: .kernel(image: image, initrd: initrd, commandLine: commandLine))
    configuration.memorySize = memoryMiB << 20
    configuration.clock = .deterministic
    let debug = CapturingByteSink()
    configuration.debugConsole = debug
    let console = CapturingConsole()
    let machine = try PCMachine(configuration, console: console)
    before(machine)
    let outcome = machine.run(instructionLimit: 1_000_000)
    let lines = debug.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    return (outcome, lines.last == "" ? Array(lines.dropLast()) : lines, console.text)
}

/// mem_upper for `memoryMiB` of RAM on the PC layout: KiB of contiguous RAM from 1 MiB up to the 3 GiB hole.
func expectedMemUpper(memoryMiB: UInt64) -> UInt64 { (min(memoryMiB << 20, PCLayout.lowRAMLimit) - 0x10_0000) / 1024 }

@Suite("Multiboot test kernel")
struct MultibootTests {
    @Test("the image: header magic, flags and checksum, found by the loader", arguments: MultibootTestKernel.Format.allCases)
    func image(format: MultibootTestKernel.Format) throws {
        let image = try MultibootTestKernel.build(format)
        let header = try MultibootHeader.find(in: image)
        let magic = image.read(Int(header.offset), 4), flags = image.read(Int(header.offset) + 4, 4)
        let checksum = image.read(Int(header.offset) + 8, 4)
        #expect(magic == 0x1BAD_B002)
        #expect(UInt32(truncatingIfNeeded: magic &+ flags &+ checksum) == 0)
        #expect(header.flags & MultibootTestKernel.flagMemoryInfo != 0)
        switch format {
        case .aout:
            #expect(header.offset == 0)
            #expect(header.flags & MultibootTestKernel.flagAddresses != 0)
            let a = try #require(header.addresses)
            #expect(UInt64(a.loadAddress) == MultibootTestKernel.loadAddress)
            #expect(a.headerAddress == a.loadAddress)
            #expect(UInt64(a.loadEndAddress) == MultibootTestKernel.loadAddress + UInt64(image.count))
            #expect(a.bssEndAddress == a.loadEndAddress + UInt32(MultibootTestKernel.stackSize))
            #expect(a.entryAddress > a.loadAddress && a.entryAddress < a.loadEndAddress)
        case .elf:
            #expect(image.read(0, 4) == 0x464C_457F)
            #expect(header.flags & MultibootTestKernel.flagAddresses == 0)
            let elf = try ELFImage.parse(image)
            #expect(!elf.is64Bit && elf.machine == 3)
            #expect(elf.loadSegments.count == 1)
            #expect(elf.loadSegments.first?.physicalAddress == MultibootTestKernel.loadAddress)
        }
    }

    @Test("boots through PCMachine: magic ok, memory, command line, debug-exit status 11",
          arguments: MultibootTestKernel.Format.allCases, [UInt64(16), 64, 256])
    func bootsOnPCMachine(format: MultibootTestKernel.Format, memoryMiB: UInt64) throws {
        let commandLine = "console=ttyS0 root=/dev/null multiboot-test x=\(format.rawValue)"
        let (outcome, lines, _) = try bootMultibootTestKernel(format, memoryMiB: memoryMiB, commandLine: commandLine)
        #expect(outcome == .debugExit(status: 11))
        #expect(outcome.exitStatus == 11)
        #expect(outcome.exitStatus == MultibootTestKernel.successStatus)
        #expect(lines.first == MultibootTestKernel.magicLine)
        #expect(lines.contains("mem_upper=\(expectedMemUpper(memoryMiB: memoryMiB))"))
        #expect(lines.contains("cmdline=\(commandLine)"))
        #expect(lines == MultibootTestKernel.expectedLines(
            memLowerKiB: 639, memUpperKiB: expectedMemUpper(memoryMiB: memoryMiB), commandLine: commandLine,
            loaderName: "SwiftVMX"))
    }

    @Test("an empty command line and a module (the initrd)")
    func emptyCommandLineAndModule() throws {
        let module = [UInt8](repeating: 0xA5, count: 12345)
        let (outcome, lines, _) = try bootMultibootTestKernel(.aout, memoryMiB: 32, commandLine: "", initrd: module)
        #expect(outcome == .debugExit(status: 11))
        #expect(lines == MultibootTestKernel.expectedLines(
            memLowerKiB: 639, memUpperKiB: 31 * 1024, commandLine: "", loaderName: "SwiftVMX", moduleSizes: [12345]))
    }

    @Test("the magic check can fail: EAX changed before the first entry gives FAIL and status 3")
    func badMagicFails() throws {
        let (outcome, lines, _) = try bootMultibootTestKernel(.aout, commandLine: "x") { machine in
            machine.vcpu.write(GPR.rax, 0x1234_5678)
        }
        #expect(outcome == .debugExit(status: 3))
        #expect(outcome.exitStatus == MultibootTestKernel.failureStatus)
        #expect(lines == ["multiboot test kernel: FAIL magic eax=0x12345678"])
    }

    @Test("swiftvmx run: exit status 11 and the --debugcon file", arguments: MultibootTestKernel.Format.allCases)
    func bootsThroughCLI(format: MultibootTestKernel.Format) throws {
        let directory = try TemporaryDirectory()
        let kernel = try directory.write("multiboot-test-kernel-\(format.rawValue)", try MultibootTestKernel.build(format))
        let debugcon = directory.path("debugcon.txt")
        let commandLine = "hello from the CLI"
        let result = try CLIRunner.run([
            "run", "--kernel", kernel, "--append", commandLine, "--memory", "48", "--debugcon", debugcon,
            "--clock", "deterministic", "--max-instructions", "1000000",
        ])
        #expect(!result.signaled && !result.timedOut, "\(result.standardError)")
        #expect(result.status == 11, "stderr: \(result.standardError)")
        #expect(result.standardError.contains("swiftvmx: guest wrote to isa-debug-exit: exit status 11"), "\(result.standardError)")
        let written = String(decoding: try Data(contentsOf: URL(fileURLWithPath: debugcon)), as: UTF8.self)
        let expected = MultibootTestKernel.expectedLines(memLowerKiB: 639, memUpperKiB: 47 * 1024, commandLine: commandLine,
                                                         loaderName: "SwiftVMX")
        #expect(written == expected.joined(separator: "\n") + "\n")
    }

    /// The same kernel file under QEMU (when installed): the reference loader must give the same report
    /// and status, so the kernel tests multiboot itself and not just this VMM's reading of it. QEMU passes
    /// "<kernel path> <append>" as the command line and the loader name "qemu".
    @Test("the same kernel under QEMU: magic ok, mem_upper, cmdline and status 11",
          .enabled(if: CLIRunner.inPath("qemu-system-x86_64") != nil, "qemu-system-x86_64 is not installed"),
          arguments: MultibootTestKernel.Format.allCases)
    func bootsUnderQEMU(format: MultibootTestKernel.Format) throws {
        let qemu = try #require(CLIRunner.inPath("qemu-system-x86_64"))
        let directory = try TemporaryDirectory()
        let kernel = try directory.write("kernel-\(format.rawValue)", try MultibootTestKernel.build(format))
        let debugcon = directory.path("debugcon.txt")
        let commandLine = "checked against qemu"
        let result = try CLIRunner.runProcess(qemu, [
            "-nodefaults", "-display", "none", "-serial", "none", "-monitor", "none", "-no-reboot", "-m", "64",
            "-kernel", kernel, "-append", commandLine, "-debugcon", "file:\(debugcon)",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        ], timeout: 60)
        #expect(!result.timedOut && !result.signaled, "\(result.standardError)")
        #expect(result.status == 11, "stderr: \(result.standardError)")
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: debugcon)), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        #expect(lines.first == MultibootTestKernel.magicLine, "\(lines)")
        // QEMU's firmware keeps the top 128 KiB below the RAM size for itself (mem_upper 64384 for 64 MiB).
        let upper = lines.first { $0.hasPrefix("mem_upper=") }.flatMap { UInt64($0.dropFirst("mem_upper=".count)) }
        #expect(upper.map { (expectedMemUpper(memoryMiB: 64) - 1024...expectedMemUpper(memoryMiB: 64)).contains($0) } == true, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("cmdline=") && $0.hasSuffix(commandLine) }, "\(lines)")
        #expect(lines.last == MultibootTestKernel.doneLine, "\(lines)")
    }

    @Test("swiftvmx run: the kernel with a module passed as --initrd")
    func moduleThroughCLI() throws {
        let directory = try TemporaryDirectory()
        let kernel = try directory.write("kernel", try MultibootTestKernel.build(.elf))
        let initrd = try directory.write("initrd", [UInt8](repeating: 1, count: 4096 + 7))
        let debugcon = directory.path("debugcon.txt")
        let result = try CLIRunner.run([
            "run", "--kernel", kernel, "--initrd", initrd, "--debugcon", debugcon, "--memory", "16",
            "--clock", "deterministic", "--max-instructions", "1000000",
        ])
        #expect(result.status == 11, "stderr: \(result.standardError)")
        let written = String(decoding: try Data(contentsOf: URL(fileURLWithPath: debugcon)), as: UTF8.self)
        #expect(written.contains("mem_upper=15360\n"))
        #expect(written.contains("cmdline=\n"))
        #expect(written.contains("mods=1\nmod0=4103\n"))
        #expect(written.hasSuffix(MultibootTestKernel.doneLine + "\n"))
    }
}
