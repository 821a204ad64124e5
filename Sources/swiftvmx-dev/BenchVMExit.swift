// `swiftvmx-dev bench-vmexit`: the cost of a VM exit and re-entry (guest VMCALL in a loop, handler in Swift).
import ArgumentParser
import Foundation
import Hypervisor
import X86
import X86Assembler
import Guests
import X86Testing

/// Measures nanoseconds per VM exit + entry round trip.
struct BenchVMExit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-vmexit",
        abstract: "Measure a VM exit + entry round trip: a guest VMCALL loop with the handler in Swift.")

    @Option(help: "Round trips per timed run.")
    var iterations: Int = 200_000

    @Option(help: "Number of timed runs.")
    var runs: Int = 5

    @Flag(help: "Print one JSON object (nanoseconds per round trip: min, median, max) instead of text.")
    var json = false

    @Flag(help: "Measure the nested round trip instead: L2's CPUID handled by the guest hypervisor L1 (L2 → L1 → L2), inside the model.")
    var nested = false

    func run() throws {
        guard iterations > 0, runs > 0 else { throw ValidationError("iterations and runs must be positive") }
        var results: [Double] = []
        for r in 0...runs {
            let ns = try nested ? measureNested(iterations) : measure(iterations)
            if r > 0 { results.append(ns) }
        }
        results.sort()
        let median = results[results.count / 2]
        if json {
            print(String(format: "{\"iterations\": %d, \"runs\": %d, \"min\": %.1f, \"median\": %.1f, \"max\": %.1f}",
                         iterations, runs, results[0], median, results[results.count - 1]))
            return
        }
        if nested {
            print(String(format: "L2 CPUID round trip through L1 (L2 → L1 → L2, nested): min %.0f ns, median %.0f ns, max %.0f ns  (target ≤ 200 ns)",
                         results[0], median, results[results.count - 1]))
            return
        }
        print(String(format: "VM exit + entry round trip (VMCALL, Swift handler): min %.0f ns, median %.0f ns, max %.0f ns  (target ≤ 100 ns)",
                     results[0], median, results[results.count - 1]))
    }

    /// One timed run of the guest hypervisor (Sources/Guests) with nesting on: its L2 executes CPUID `n` times,
    /// each an exit to L1 handled by L1's code and a VMRESUME; L0 sees one exit, L1's final HLT. The time
    /// includes L1's set-up (about 200 instructions), negligible against `n` round trips. L1 gives L2 a VPID,
    /// as KVM does, so L2's translations are not flushed at every exit and entry.
    func measureNested(_ n: Int) throws -> Double {
        let image = try GuestHypervisor(cpuidCount: n, vpid: 1)
        let vm = VirtualMachine()
        try vm.allocate(guestPhysical: 0, size: GuestHypervisor.ramSize)
        let vcpu = makeGuestHypervisorVCPU(vm, chunks: image.chunks, cr3: GuestHypervisor.cr3, entry: GuestHypervisor.entry,
                                           stackTop: GuestHypervisor.stackTop)
        let start = DispatchTime.now().uptimeNanoseconds
        let e = try vcpu.run()
        let end = DispatchTime.now().uptimeNanoseconds
        guard e.reason == .hlt, vcpu.read(.r15) == GuestHypervisor.done, vcpu.read(.r12) == UInt64(n) else {
            throw ValidationError("the guest hypervisor stopped with \(e.reason), R15 0x\(String(vcpu.read(.r15), radix: 16)), \(vcpu.read(.r12)) CPUID exits")
        }
        return Double(end - start) / Double(n)
    }

    /// One timed run: `n` VMCALL exits, each handled by advancing RIP past the instruction.
    func measure(_ n: Int) throws -> Double {
        let vm = VirtualMachine()
        try vm.allocate(guestPhysical: 0, size: 1 << 20)
        let a = Assembler(mode: .bits32, origin: 0x1000)
        let loop = a.here()
        a.vmcall()
        a.jmp(loop)
        vm.memory.write(try a.finish(), at: 0x1000)
        let vcpu = vm.makeVCPU()
        try vcpu.write(.guestRIP, 0x1000)
        let start = DispatchTime.now().uptimeNanoseconds
        var count = 0
        while count < n {
            let e = try vcpu.run()
            guard e.reason == .vmcall else { throw ValidationError("unexpected exit \(e.reason)") }
            try vcpu.write(.guestRIP, vcpu.read(.guestRIP) &+ UInt64(e.instructionLength))
            count += 1
        }
        let end = DispatchTime.now().uptimeNanoseconds
        return Double(end - start) / Double(n)
    }
}
