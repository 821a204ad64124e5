// `swiftvmx demo`: boot the assembler-written guest and show what it reported.
import ArgumentParser
import Guests

/// A failed demo run; ArgumentParser prints it as one "Error: ..." line and exits with status 1.
struct DemoFailure: Error, CustomStringConvertible {
    /// What went wrong.
    var description: String
}

/// Runs the boot guest from the reset vector and prints one table row per step.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot the built-in guest from the reset vector to ring 3 and back, and report each step.")

    @Flag(name: .customLong("trace-port"), help: "Echo the guest's port 0xE9 output as it is written.")
    var tracePort = false

    /// The guest needs about 3,000 instructions; a broken model that loops stops here.
    static let instructionLimit = 10_000_000

    mutating func run() throws {
        let guest = try BootGuest.build()
        let result = try GuestRunner.run(guest, instructionLimit: Self.instructionLimit,
                                         trace: tracePort ? { print($0) } : nil)
        let rows = result.rows(expected: guest.steps)
        let width = max(4, rows.map(\.step.count).max() ?? 0)
        let reportWidth = max(8, rows.map(\.reported.count).max() ?? 0)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        print("\(pad("step", width))  \(pad("reported", reportWidth))  instructions")
        print("\(String(repeating: "-", count: width))  \(String(repeating: "-", count: reportWidth))  ------------")
        for r in rows {
            print("\(pad(r.step, width))  \(pad(r.reported, reportWidth))  \(r.instructions.map(String.init) ?? "-")")
        }
        print("exit: \(result.exitDescription), \(result.totalInstructions) instructions")
        if let failure = result.failure(expected: guest.steps) {
            throw DemoFailure(description: failure)
        }
    }
}
