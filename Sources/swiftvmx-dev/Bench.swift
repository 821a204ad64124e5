// `swiftvmx-dev bench`: guest MIPS of the processor model on a fixed integer workload.
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

/// Runs the fixed integer workload several times and prints guest MIPS (min/median/max).
/// MIPS are per second of the running thread's CPU time; wall-clock MIPS are shown beside them.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure guest MIPS on a fixed 64-bit integer workload (paging on, CPL 0).")

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
        let start = DispatchTime.now().uptimeNanoseconds
        let cpuStart = threadCPUNanoseconds()
        let r = cpu.run(instructionLimit: Int.max)
        let cpuEnd = threadCPUNanoseconds()
        let end = DispatchTime.now().uptimeNanoseconds
        guard r == .halted else {
            throw ValidationError("workload stopped with \(r) at RIP \(String(cpu.rip, radix: 16)) after \(cpu.instructionCount) instructions")
        }
        return (cpu.instructionCount, Double(cpuEnd - cpuStart) / 1e9, Double(end - start) / 1e9)
    }
}
