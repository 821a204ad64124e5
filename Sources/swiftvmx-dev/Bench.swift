// `swiftvmx-dev bench`: benchmark tools. `bench cpu` (the default) measures guest MIPS of the processor model
// on a fixed integer workload; `bench image` writes the benchmark guest image that `scripts/bench` runs on
// SwiftVMX, QEMU and Bochs; `bench verify` checks that image's instruction counts on the processor model.
import ArgumentParser
import Foundation
import Guests
import X86

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nanoseconds of CPU time consumed by the calling thread (immune to other processes on a shared machine).
func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Monotonic wall-clock nanoseconds.
func wallNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// The benchmark tools.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: processor-model MIPS, and the guest image scripts/bench runs on SwiftVMX, QEMU and Bochs.",
        subcommands: [BenchCPU.self, BenchImageCommand.self, BenchVerify.self],
        defaultSubcommand: BenchCPU.self)
}

/// Runs the fixed integer workload several times and prints guest MIPS (min/median/max).
/// MIPS are per second of the running thread's CPU time; wall-clock MIPS are shown beside them.
struct BenchCPU: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cpu",
        abstract: "Measure guest MIPS of the bare processor model on a fixed 64-bit integer workload (paging on, CPL 0).")

    @Option(help: "Number of timed runs.")
    var runs: Int = 5

    @Option(help: "Outer iterations of the workload per run (about 0.45 M instructions each).")
    var iterations: Int = 200

    func run() throws {
        guard runs > 0, iterations > 0 else { throw ValidationError("runs and iterations must be positive") }
        let workload = try IntegerBenchWorkload(iterations: iterations)
        var mips: [Double] = []
        var instructions: UInt64 = 0
        // One untimed warm-up run, then the timed runs.
        for i in 0...runs {
            let (count, seconds, wall) = try runOnce(workload)
            instructions = count
            if i > 0 {
                let m = Double(count) / seconds / 1e6
                mips.append(m)
                print(String(format: "run %d: %llu instructions in %.3f s CPU (%.3f s wall): %.1f MIPS (%.1f wall)",
                             i, count, seconds, wall, m, Double(count) / wall / 1e6))
            }
        }
        mips.sort()
        let median = mips[mips.count / 2]
        print(String(format: "integer workload, %llu instructions/run: min %.1f, median %.1f, max %.1f MIPS (CPU time)",
                     instructions, mips[0], median, mips[mips.count - 1]))
    }

    /// Loads the workload into fresh memory and a fresh processor, runs it to HLT,
    /// returns (instructions, CPU seconds, wall seconds).
    func runOnce(_ workload: IntegerBenchWorkload) throws -> (UInt64, Double, Double) {
        let mem = PhysicalMemory(ramSize: IntegerBenchWorkload.ramSize)
        for chunk in workload.chunks {
            guard mem.write(chunk.bytes, at: chunk.address) else { throw ValidationError("workload does not fit in RAM") }
        }
        let cpu = CPU(memory: mem)
        cpu.cr3 = IntegerBenchWorkload.cr3
        cpu.cr4 = CR4.pae.rawValue
        cpu.efer = EFER.lme.rawValue | EFER.lma.rawValue
        cpu.cr0 = CR0.pe.rawValue | CR0.pg.rawValue
        cpu.setSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xA09B))
        cpu.setSegment(.ss, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
        cpu.setSegment(.ds, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
        cpu.setSegment(.es, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
        cpu.rip = IntegerBenchWorkload.entry
        cpu.exceptionIntercept = 0xFFFF_FFFF
        let start = wallNanoseconds()
        let cpuStart = threadCPUNanoseconds()
        let r = cpu.run(instructionLimit: Int.max)
        let cpuEnd = threadCPUNanoseconds()
        let end = wallNanoseconds()
        guard r == .halted else {
            throw ValidationError("workload stopped with \(r) at RIP \(String(cpu.rip, radix: 16)) after \(cpu.instructionCount) instructions")
        }
        return (cpu.instructionCount, Double(cpuEnd - cpuStart) / 1e9, Double(end - start) / 1e9)
    }
}

/// What `bench image` writes beside the image: how to patch it and what each workload retires.
struct BenchManifest: Codable {
    var kernel: String
    var disk: String
    var ramMiB: Int
    var exitStatus: Int32
    var workloadOffset: Int
    var unitsOffset: Int
    var diskKernelOffset: Int
    var diskCylinders: Int
    var diskHeads: Int
    var diskSectorsPerTrack: Int
    var workloads: [BenchImage.Workload]
}

/// Writes the benchmark guest image: the multiboot kernel, the Bochs disk image and a JSON manifest.
struct BenchImageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Write the benchmark guest image (multiboot kernel, Bochs disk image, manifest.json) to a directory.",
        discussion: """
            The kernel runs under `swiftvmx run --kernel K` and `qemu-system-x86_64 -kernel K`; the disk image \
            boots in Bochs. The workload and unit count are little-endian u32s at the manifest's offsets \
            (add diskKernelOffset in the disk image); --workload/--units set them here.
            """)

    @Option(help: "Directory to write bench-kernel.bin, bench-disk.img and manifest.json to.")
    var output: String

    @Option(help: "Workload name to preset (default: the baseline, which runs nothing).")
    var workload: String?

    @Option(help: "Units to preset (default: the workload's default units; 0 with no workload).")
    var units: Int?

    func run() throws {
        var number = 0, presetUnits = 0
        if let workload {
            guard let w = BenchImage.workload(named: workload) else {
                throw ValidationError("unknown workload '\(workload)' (one of: \(BenchImage.workloads.map(\.name).joined(separator: ", ")))")
            }
            number = w.number
            presetUnits = w.defaultUnits
        }
        if let units { presetUnits = units }
        guard presetUnits >= 0, presetUnits <= Int(UInt32.max) else { throw ValidationError("--units must fit in 32 bits") }
        let kernel = try BenchImage.kernel(workload: number, units: presetUnits)
        let disk = try BenchImage.disk(kernel: kernel)
        let dir = URL(fileURLWithPath: output, isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let manifest = BenchManifest(
            kernel: "bench-kernel.bin", disk: "bench-disk.img", ramMiB: BenchImage.ramMiB, exitStatus: BenchImage.exitStatus,
            workloadOffset: BenchImage.workloadOffset, unitsOffset: BenchImage.unitsOffset,
            diskKernelOffset: BenchImage.diskKernelOffset, diskCylinders: BenchImage.diskCylinders,
            diskHeads: BenchImage.diskHeads, diskSectorsPerTrack: BenchImage.diskSectorsPerTrack,
            workloads: BenchImage.workloads)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            try Data(kernel).write(to: dir.appendingPathComponent(manifest.kernel))
            try Data(disk).write(to: dir.appendingPathComponent(manifest.disk))
            try encoder.encode(manifest).write(to: dir.appendingPathComponent("manifest.json"))
        } catch {
            throw ValidationError("cannot write to '\(output)': \(error.localizedDescription)")
        }
        print("wrote \(manifest.kernel) (\(kernel.count) bytes), \(manifest.disk) (\(disk.count) bytes), manifest.json to \(output)")
    }
}

/// Port I/O of a bare-processor run of the benchmark image: the debug console and the exit port.
final class BenchBus: PlatformBus {
    /// Bytes written to port 0xE9.
    private(set) var console: [UInt8] = []
    /// The first value written to port 0xF4 (isa-debug-exit), if any.
    private(set) var exitValue: UInt32?

    /// Unmapped: all ones.
    func ioRead(port: UInt16, size: Int) -> UInt32 { size >= 4 ? 0xFFFF_FFFF : (1 << (size * 8)) - 1 }

    /// Records writes to the debug console and the exit port; drops the rest.
    func ioWrite(port: UInt16, size: Int, value: UInt32) {
        switch port {
        case MultibootTestKernel.debugPort: console.append(UInt8(truncatingIfNeeded: value))
        case MultibootTestKernel.exitPort: if exitValue == nil { exitValue = value & 0xFF }
        default: break
        }
    }

    /// Unmapped: all ones.
    func mmioRead(address: UInt64, size: Int) -> UInt64 { size >= 8 ? ~0 : (1 << UInt64(size * 8)) - 1 }
    /// Dropped.
    func mmioWrite(address: UInt64, size: Int, value: UInt64) {}
}

/// Runs the benchmark image on the bare processor model and checks each workload's stated instruction count.
struct BenchVerify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the benchmark image's instruction counts on the processor model (units 0, 1, 2 of each workload).",
        discussion: """
            For each workload, the processor model's retired-instruction count with N units minus the count with \
            0 units must equal the count the image states. The model counts a REP string instruction as one \
            instruction per chunk of up to 1024 elements; the image's REP counts stay below that. With --units N \
            it also times N units per workload on the bare model (no VMX) and prints MIPS.
            """)

    @Option(help: "Also time this many units of each MIPS workload on the bare model (0: only check the counts).")
    var units: Int = 0

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// The result of one run of the image on the processor model.
    struct Outcome {
        var instructions: UInt64
        var console: String
        var seconds: Double
    }

    /// Boots the image as a multiboot loader would (32-bit protected mode, paging off) and runs it to HLT.
    static func run(workload: Int, units: Int) throws -> Outcome {
        let kernel = try BenchImage.kernel(workload: workload, units: units)
        let mem = PhysicalMemory(ramSize: BenchImage.ramMiB << 20)
        guard mem.write(kernel, at: BenchImage.loadAddress) else { throw ValidationError("the image does not fit in RAM") }
        let bus = BenchBus()
        let cpu = CPU(memory: mem, bus: bus)
        cpu.cr0 = CR0.pe.rawValue | CR0.et.rawValue                 // protected mode, paging off (multiboot §3.2)
        let code = SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC09B)
        let data = SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093)
        cpu.setSegment(.cs, code)
        for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] { cpu.setSegment(s, data) }
        cpu.rip = try entryPoint(kernel)
        cpu.exceptionIntercept = 0xFFFF_FFFF
        let start = wallNanoseconds()
        let r = cpu.run(instructionLimit: Int.max)
        let end = wallNanoseconds()
        let text = String(decoding: bus.console, as: UTF8.self)
        guard r == .halted, bus.exitValue == UInt32(BenchImage.exitValue) else {
            throw ValidationError("workload \(workload) × \(units) stopped with \(r) at RIP 0x\(String(cpu.rip, radix: 16)); console: \(text)")
        }
        return Outcome(instructions: cpu.instructionCount, console: text, seconds: Double(end - start) / 1e9)
    }

    /// The a.out-kludge entry address (the header's eighth dword).
    static func entryPoint(_ kernel: [UInt8]) throws -> UInt64 {
        guard kernel.count >= 32 else { throw ValidationError("the image has no multiboot header") }
        return (0..<4).reduce(UInt64(0)) { $0 | UInt64(kernel[28 + $1]) << (8 * UInt64($1)) }
    }

    /// The checksum the image printed ("checksum=<hex>").
    static func checksum(_ console: String) -> String {
        guard let r = console.range(of: "checksum=") else { return "" }
        return String(console[r.upperBound...].prefix(16))
    }

    func run() throws {
        guard units >= 0 else { throw ValidationError("--units must not be negative") }
        var rows: [[String: Any]] = []
        var failures = 0
        for w in BenchImage.workloads {
            let base = try Self.run(workload: w.number, units: 0)
            let one = try Self.run(workload: w.number, units: 1)
            let two = try Self.run(workload: w.number, units: 2)
            let measuredFixed = Int(one.instructions) - Int(base.instructions) - (Int(two.instructions) - Int(one.instructions))
            let measuredPerUnit = Int(two.instructions) - Int(one.instructions)
            let ok = measuredPerUnit == w.instructionsPerUnit && measuredFixed == w.fixedInstructions
            if !ok { failures += 1 }
            var row: [String: Any] = [
                "name": w.name, "statedPerUnit": w.instructionsPerUnit, "measuredPerUnit": measuredPerUnit,
                "statedFixed": w.fixedInstructions, "measuredFixed": measuredFixed, "ok": ok,
            ]
            var timing = ""
            if units > 0 && w.isMIPS {
                let timed = try Self.run(workload: w.number, units: units)
                let seconds = max(1e-9, timed.seconds - base.seconds)
                let mips = Double(w.instructions(units: units)) / seconds / 1e6
                row["units"] = units
                row["seconds"] = seconds
                row["mips"] = mips
                row["checksum"] = Self.checksum(timed.console)
                timing = String(format: "  %d units: %.3f s, %.1f MIPS (bare model), checksum %@", units, seconds, mips, Self.checksum(timed.console))
            }
            rows.append(row)
            if !json {
                print("\(w.name): per unit stated \(w.instructionsPerUnit), measured \(measuredPerUnit); fixed stated \(w.fixedInstructions), measured \(measuredFixed): \(ok ? "ok" : "MISMATCH")\(timing)")
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["workloads": rows, "ok": failures == 0], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
