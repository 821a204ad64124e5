// `swiftvmx run`: build a PC around a kernel (or firmware) and run it in VMX non-root operation with the
// terminal as its serial console.
import ArgumentParser
import Devices
import VMM
import X86

/// Boots a kernel or firmware on the PC machine.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a kernel (bzImage, multiboot or ELF) or a firmware ROM in VMX non-root operation.",
        discussion: """
            COM1 is the terminal: Ctrl-A x quits. Exit status: 0 when the guest powers off, (V << 1) | 1 when \
            it writes V to isa-debug-exit (port 0xf4), 1 on a fatal guest or VMM error, 2 when the guest \
            halted with nothing to wake it, 4 when it reset under --no-reboot (else it reboots), 6 on a console \
            quit, 64 on a usage error. --trace records: docs/trace.md.
            """)

    @Option(help: "The kernel: a Linux bzImage, a multiboot v1 kernel or an ELF executable.")
    var kernel: String?

    @Option(help: "A Linux initrd (initramfs) or the multiboot module.")
    var initrd: String?

    // `.unconditional`: the value may begin with "-" (QEMU's -append takes "-exit_monitor_from_l2_test").
    @Option(parsing: .unconditional, help: "The kernel command line (any text, also one beginning with '-').")
    var append: String = ""

    @Option(help: ArgumentHelp("Guest RAM: MiB, or a size with an M or G suffix (16M–64G).", valueName: "size"))
    var memory: String = "512"

    @Option(help: "A firmware ROM (size a multiple of 64 KiB) started at the reset vector instead of a kernel.")
    var firmware: String?

    @Option(help: "Write the guest's port 0xE9 output to this file.")
    var debugcon: String?

    @Flag(help: "Print a table of VM exits by reason (count, share, VMM time) when the guest stops.")
    var stats = false

    @Option(help: "exits or exits=FILE: one JSON line per VM exit (reason, qualification, guest RIP, time; docs/trace.md) to standard error or FILE.")
    var trace: String?

    @Option(help: "realtime (halts wait for the host clock) or deterministic (guest time from the instruction count only).")
    var clock: String = "realtime"

    @Option(help: "Stop after this many guest instructions (exit status 1).")
    var maxInstructions: UInt64?

    @Flag(name: .customLong("no-vmx"), help: "Hide VMX from the guest (by default it may run its own guests, nested).")
    var noVMX = false

    @Flag(help: "Stop when the guest resets (exit status 4) instead of rebooting it, like QEMU's -no-reboot.")
    var noReboot = false

    @Option(help: ArgumentHelp("Serve the GDB remote protocol on tcp::PORT (127.0.0.1) or tcp:HOST:PORT, like QEMU's -gdb (docs/gdb.md).", valueName: "tcp:[HOST]:PORT"))
    var gdb: String?

    @Flag(help: "With --gdb: wait for gdb to connect and stop before the first instruction (QEMU's -S).")
    var gdbWait = false

    @Option(help: ArgumentHelp("Processors, like QEMU's -smp: N vCPUs (1–16), each with its local APIC; processor 0 boots, the others wait for INIT and start-up IPIs.", valueName: "N"))
    var smp: String = "1"

    @Option(help: ArgumentHelp("A device, like QEMU's -device (repeatable): intel-iommu (VT-d remapping hardware at 0xFED90000 with interrupt remapping; QEMU's options intremap=on and eim=off are accepted, they are what it is) or edu (QEMU's edu PCI device).", valueName: "name"))
    var device: [String] = []

    @Option(help: "interpreter or jit: run guest code in the interpreter or translate it to host code (x86-64 hosts; elsewhere jit is the interpreter).")
    var engine: String = "interpreter"

    @Option(help: ArgumentHelp("CPU model, like QEMU's -cpu: default, max, qemu64, Opteron_G1 or Skylake-Server, then +feat, -feat, feat=on|off, vendor=GenuineIntel|AuthenticAMD; a feature SwiftVMX does not implement is an error.", valueName: "MODEL[,OPTION…]"))
    var cpu: String = "default"

    mutating func run() throws {
        do {
            let status = try boot()
            throw ExitCode(status)
        } catch let error as RunError {
            Self.fail(error.message, status: error.usage ? ExitCode.validationFailure : ExitCode.failure)
        }
    }

    /// A failure to report in one line; `usage` for a bad option or combination of options (status 64).
    struct RunError: Error {
        var message: String
        var usage = false

        static func usage(_ message: String) -> RunError { RunError(message: message, usage: true) }
    }

    /// Parses a `--memory` value: a number of MiB, or a number with an M/MiB or G/GiB suffix (any case).
    /// Nil for anything else (including numbers too large to count in MiB).
    static func parseMemory(_ text: String) -> Int? {
        let lower = text.lowercased()
        var digits = Substring(lower), shift = 0
        for (suffix, s) in [("mib", 0), ("gib", 10), ("m", 0), ("g", 10)] where lower.hasSuffix(suffix) {
            digits = lower.dropLast(suffix.count)
            shift = s
            break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits),
              n <= Int.max >> shift else { return nil }
        return n << shift
    }

    func boot() throws(RunError) -> Int32 {
        guard let memory = Self.parseMemory(memory) else {
            throw .usage("--memory takes MiB or a size with an M or G suffix, e.g. 512, 512M, 2G (got '\(memory)')")
        }
        guard (16...65536).contains(memory) else { throw .usage("--memory must be between 16 and 65536 MiB (got \(memory))") }
        guard let path = ExecutionPath(engine: engine) else { throw .usage("--engine must be interpreter or jit (got '\(engine)')") }
        ExecutionPath.processorDefault = path
        guard let clockMode = ClockMode(rawValue: clock) else {
            throw .usage("--clock must be realtime or deterministic (got '\(clock)')")
        }
        guard let processorCount = Int(smp), (1...PCLayout.maximumProcessors).contains(processorCount) else {
            throw .usage("--smp takes a number of processors from 1 to \(PCLayout.maximumProcessors) (got '\(smp)')")
        }
        if processorCount > 1 && gdb != nil { throw .usage("--gdb debugs one processor: use it without --smp") }
        let cpuModel: CPUModel
        do { cpuModel = try CPUModel.parse(cpu) } catch { throw .usage("--cpu: \(error.description)") }
        // The model's CPUID and vendor semantics; VMX for the guest only when the model reports it.
        func configureProcessors(_ machine: PCMachine) {
            for vcpu in machine.vcpus { vcpu.cpuModel = cpuModel; vcpu.nestedVirtualization = !noVMX && cpuModel.reports("vmx") }
        }
        let traceFile: String?? = try parseTrace()
        var gdbSocket: GDBSocket?
        if let gdb {
            guard let (host, port) = GDBSocket.parse(gdb) else { throw .usage("--gdb takes tcp::PORT or tcp:HOST:PORT (got '\(gdb)')") }
            switch GDBSocket.listen(host: host, port: port) {
            case .success(let s): gdbSocket = s
            case .failure(let e): throw RunError(message: e.message)
            }
        } else if gdbWait {
            throw .usage("--gdb-wait needs --gdb")
        }
        let console = TerminalConsole(interactive: true)
        defer { console.restore() }
        var machine: PCMachine
        var configuration: PCMachine.Configuration
        var debugFile: FileSink?
        var traceSink: FileSink?
        do {
            // The file images live only in this scope: the machine keeps none of them once loaded.
            let source: BootSource
            switch (kernel, firmware) {
            case (nil, nil): throw .usage("nothing to boot: give --kernel FILE or --firmware FILE")
            case (.some, .some): throw .usage("--kernel and --firmware exclude each other")
            case (nil, .some(let path)):
                guard initrd == nil else { throw .usage("--initrd needs --kernel") }
                source = .firmware(rom: try Self.readFile(path, what: "firmware"))
            case (.some(let path), nil):
                let image = try Self.readFile(path, what: "kernel")
                let initrdBytes = try initrd.map { (p: String) throws(RunError) -> [UInt8] in try Self.readFile(p, what: "initrd") }
                source = .kernel(image: image, initrd: initrdBytes, commandLine: append)
            }
            configuration = PCMachine.Configuration(boot: source)
            configuration.memorySize = UInt64(memory) << 20
            configuration.clock = clockMode
            configuration.processorCount = processorCount
            for name in device {
                let parts = name.split(separator: ",").map(String.init)
                switch parts.first {
                case "intel-iommu":
                    guard parts.dropFirst().allSatisfy({ $0 == "intremap=on" || $0 == "eim=off" }) else {
                        throw .usage("--device intel-iommu takes only intremap=on and eim=off (got '\(name)')")
                    }
                    configuration.intelIOMMU = true
                case "edu" where parts.count == 1: configuration.edu = true
                default: throw .usage("--device takes intel-iommu or edu (got '\(name)')")
                }
            }
            configuration.startTime = clockMode == .deterministic ? 1_704_067_200 : unixTime()
            if let debugcon {
                guard let sink = FileSink(path: debugcon) else { throw RunError(message: "cannot open --debugcon file '\(debugcon)' for writing") }
                debugFile = sink
                configuration.debugConsole = sink
            }
            if let traceFile {
                if let path = traceFile {
                    guard let sink = FileSink(path: path) else { throw RunError(message: "cannot open --trace file '\(path)' for writing") }
                    traceSink = sink
                } else {
                    traceSink = FileSink(file: .standardError)
                }
            }

            do { machine = try PCMachine(configuration, console: console) } catch {
                throw RunError(message: error.description)
            }
        }
        configureProcessors(machine)
        if let traceSink {
            machine.exitTrace = { traceSink.writeLine($0) }
            // A failed VM entry of the guest's own hypervisor, with the check that failed and its values.
            machine.vcpu.onNestedEntryFailure = { failure, error in
                let text = String(failure.description.flatMap { $0 == "\"" || $0 == "\\" ? ["\\", $0] : [$0] })
                traceSink.writeLine("{\"nestedEntryFailure\":\"\(failure.check)\",\"vmInstructionError\":\(error),\"detail\":\"\(text)\"}")
            }
        }
        var debugger: GDBSession?
        if let gdbSocket {
            if gdbWait { writeStandardError("swiftvmx: waiting for gdb on \(gdbSocket.host):\(gdbSocket.port)\n") }
            debugger = GDBSession(transport: gdbSocket, machine: machine, waitForDebugger: gdbWait)
        }
        // Exit handling is timed only when the table or the trace will show it (two clock reads per exit).
        machine.statistics.timesHandling = stats || traceSink != nil
        let started = ContinuousClock.now
        var outcome = machine.run(instructionLimit: maxInstructions)
        // A reset reboots: a new machine from the same images (RAM, devices and vCPU as at power-on);
        // --max-instructions counts the instructions of every boot.
        var instructionsLeft = maxInstructions
        while case .reset(let cause) = outcome, !noReboot {
            if let left = instructionsLeft { instructionsLeft = left - min(left, machine.vcpu.instructionCount) }
            writeStandardError("\r\nswiftvmx: guest reset (\(cause)): rebooting\r\n")
            do { machine = try PCMachine(configuration, console: console) } catch {
                throw RunError(message: error.description)
            }
            configureProcessors(machine)
            if let traceSink { machine.exitTrace = { traceSink.writeLine($0) } }
            debugger?.attach(machine)
            machine.statistics.timesHandling = stats || traceSink != nil
            outcome = machine.run(instructionLimit: instructionsLeft)
        }
        let wall = ContinuousClock.now - started
        console.restore()
        debugFile?.close()
        traceSink?.close()
        if stats {
            writeStandardError("\n" + machine.statistics.table(
                wallNanoseconds: wall.nanoseconds, instructions: machine.vcpu.instructionCount, guestNanoseconds: machine.guestTime) + "\n")
        }
        let line = "swiftvmx: \(outcome)\n"
        writeStandardError(line)
        return outcome.exitStatus
    }

    /// `--trace exits` → standard error (`.some(nil)`), `--trace exits=FILE` → FILE; nil without the option.
    func parseTrace() throws(RunError) -> String?? {
        guard let trace else { return nil }
        if trace == "exits" { return .some(nil) }
        if trace.hasPrefix("exits="), trace.count > 6 { return .some(String(trace.dropFirst(6))) }
        throw .usage("--trace takes exits or exits=FILE (got '\(trace)')")
    }

    static func readFile(_ path: String, what: String) throws(RunError) -> [UInt8] {
        switch readWholeFile(path) {
        case .failure(.noSuchFile): throw RunError(message: "cannot read \(what) '\(path)': no such file")
        case .failure(.isDirectory): throw RunError(message: "cannot read \(what) '\(path)': it is a directory")
        case .failure(.unreadable): throw RunError(message: "cannot read \(what) '\(path)': permission denied or unreadable")
        case .success(let bytes):
            guard !bytes.isEmpty else { throw RunError(message: "\(what) '\(path)' is empty") }
            return bytes
        }
    }

    /// Prints one "swiftvmx: error: ..." line on standard error and exits with `status` (1, or 64 for usage
    /// errors as ArgumentParser's own).
    static func fail(_ message: String, status: ExitCode = .failure) -> Never {
        writeStandardError("swiftvmx: error: \(message)\n")
        Run.exit(withError: status)
    }
}

/// A file that receives bytes (the debug console) or lines (the exit trace).
final class FileSink: ByteSink {
    private let file: OutputFile
    private var buffer: [UInt8] = []

    init?(path: String) {
        guard let file = OutputFile(path: path) else { return nil }
        self.file = file
    }

    init(file: OutputFile) { self.file = file }

    func write(_ byte: UInt8) {
        buffer.append(byte)
        if buffer.count >= 4096 { drain() }
    }

    func writeLine(_ line: String) {
        buffer += Array(line.utf8)
        buffer.append(10)
        drain()
    }

    private func drain() {
        guard !buffer.isEmpty else { return }
        file.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() { drain() }
}
