import ArgumentParser
import Foundation
import X86Testing

/// `swiftvmx-dev x87-table`: runs the x87 transcendental instructions (F2XM1, FYL2X, FYL2XP1, FPTAN, FPATAN,
/// FSIN, FCOS, FSINCOS) on the processor model and on the host CPU over a table of inputs and writes every
/// row (input, model result, host result) as tab-separated text for scripts/x87-accuracy, which compares
/// both with a high-precision reference. Prints a summary per instruction against the host; exits non-zero
/// when a special case (NaN, ±∞, zero results, exact FSW bits) differs from the host.
struct X87Table: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "x87-table",
        abstract: "Write the x87 transcendental accuracy table (model and host results) for scripts/x87-accuracy.")

    @Option(help: "Inputs per instruction (edge cases first, then random values).")
    var count: Int = 10_200

    @Option(help: "Output file (tab-separated; '-' for standard output).")
    var output: String = "-"

    func run() throws {
        var lines = ["# instruction\tx\ty\tmodel_fsw\tmodel_st0\tmodel_st1\thost_fsw\thost_st0\thost_st1"]
        var special = 0
        var summary: [String] = []
        for op in X87Transcendental.allCases {
            guard let rows = X87TranscendentalTable.run(op, inputs: op.inputs(count: count)) else {
                FileHandle.standardError.write(Data("host CPU oracle unavailable (needs an x86-64 Linux host)\n".utf8))
                throw ExitCode(1)
            }
            let worst = rows.compactMap(\.worstULPs).max() ?? 0
            let mismatched = rows.filter { !$0.specialCaseMismatches.isEmpty }
            special += mismatched.count
            summary.append("\(op.rawValue): \(rows.count) inputs, worst \(worst) ulp vs host, \(mismatched.count) special-case mismatches")
            for row in mismatched.prefix(5) {
                summary.append("    x = \(row.x.hex), y = \(row.y.hex): " + row.specialCaseMismatches.joined(separator: "; "))
            }
            lines += rows.map(\.tsv)
        }
        let text = lines.joined(separator: "\n") + "\n"
        if output == "-" {
            print(text, terminator: "")
        } else {
            try text.write(toFile: output, atomically: true, encoding: .utf8)
        }
        FileHandle.standardError.write(Data((summary.joined(separator: "\n") + "\n").utf8))
        if special != 0 { throw ExitCode(1) }
    }
}
