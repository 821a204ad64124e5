// `swiftvmx demo`: boot the demo guest OS in VMX non-root operation and show each VT-x mechanism at work.
import ArgumentParser
import Hypervisor
import VMM
import X86

/// Boots the demo guest OS under the demo VMM and prints one table row per mechanism.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Boot a small guest OS in VMX non-root operation and show the seven VT-x mechanisms at work.")

    @Flag(name: .customLong("trace-port"), help: "Echo the guest's port 0xE9 output as it is written.")
    var tracePort = false

    mutating func run() throws {
        let machine = try DemoMonitor.demoMachine()
        let report: DemoMonitor.Report
        do {
            report = try DemoMonitor.run(machine, trace: tracePort ? { print("0xE9: \($0)") } : nil)
        } catch {
            Self.fail("\(error)")
        }
        print(Self.table(report))
        if let failure = report.failure { Self.fail(failure) }
    }

    /// Prints one "error: ..." line on standard error and exits with status 1.
    static func fail(_ message: String) -> Never {
        writeStandardError("error: \(message)\n")
        Demo.exit(withError: ExitCode.failure)
    }

    /// "name (n) ×count".
    static func exitText(_ r: ExitReason, _ n: Int) -> String { "\(r) (\(r.rawValue)) ×\(n)" }

    /// The table: mechanism | what the guest (and the VMM) saw | exits; then totals by reason.
    static func table(_ report: DemoMonitor.Report) -> String {
        let mw = report.rows.map(\.mechanism.count).max() ?? 10
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        var out: [String] = []
        out.append("\(pad("mechanism", mw)) | what the guest saw (vmm: what the VMM read from the VMCS) | exits (reason ×count)")
        out.append(String(repeating: "-", count: mw) + "-+-" + String(repeating: "-", count: 72) + "-+-" + String(repeating: "-", count: 30))
        for row in report.rows {
            let saw = row.guestSaw + row.vmmSaw.map { "vmm: " + $0 }
            let exits = row.exits.map { exitText($0.reason, $0.count) }
            for i in 0..<max(saw.count, exits.count) {
                let m = i == 0 ? row.mechanism : ""
                let s = i < saw.count ? saw[i] : ""
                let e = i < exits.count ? exits[i] : ""
                out.append("\(pad(m, mw)) | \(pad(s, 72)) | \(e)")
            }
            out.append(String(repeating: "-", count: mw) + "-+-" + String(repeating: "-", count: 72) + "-+-" + String(repeating: "-", count: 30))
        }
        let total = report.exitCounts.values.reduce(0, +)
        out.append("exits by reason (\(total) in all, \(report.instructions) guest instructions):")
        for (r, n) in report.exitCounts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            out.append("  \(exitText(r, n))")
        }
        out.append(report.failure.map { "result: FAILED — \($0)" } ?? "result: all seven mechanisms observed")
        return out.joined(separator: "\n")
    }
}
