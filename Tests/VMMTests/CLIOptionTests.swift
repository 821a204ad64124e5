// `swiftvmx` options of issue 17: --append with any value, --version, --memory suffixes, status 64 for
// usage errors, the --stats table and the --trace records (docs/trace.md).
import Foundation
import Guests
import Testing
import VMM

@Suite("swiftvmx options", .serialized)
struct CLIOptionTests {
    /// Boots the multiboot test kernel with `extra` options; returns the result and the debug-console text.
    func bootTestKernel(appending commandLine: [String], memory: String = "48",
                        _ extra: [String] = []) throws -> (CLIResult, String) {
        let directory = try TemporaryDirectory()
        let kernel = try directory.write("kernel", try MultibootTestKernel.build(.aout))
        let debugcon = directory.path("debugcon.txt")
        let result = try CLIRunner.run(["run", "--kernel", kernel] + commandLine + [
            "--memory", memory, "--debugcon", debugcon, "--clock", "deterministic", "--max-instructions", "1000000",
        ] + extra)
        let written = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: debugcon))) ?? Data(), as: UTF8.self)
        return (result, written)
    }

    @Test("--append takes a value beginning with '-', as QEMU's -append does",
          arguments: [["--append", "-exit_monitor_from_l2_test"], ["--append=-exit_monitor_from_l2_test"]])
    func appendTakesAnyValue(arguments: [String]) throws {
        let (result, written) = try bootTestKernel(appending: arguments)
        #expect(result.status == MultibootTestKernel.successStatus, "stderr: \(result.standardError)")
        #expect(written.contains("cmdline=-exit_monitor_from_l2_test\n"), "debugcon: \(written)")
    }

    @Test("--memory takes MiB and M/G suffixes", arguments: [("48", 48), ("48M", 48), ("48m", 48), ("48MiB", 48)])
    func memorySuffixes(text: String, mib: Int) throws {
        let (result, written) = try bootTestKernel(appending: ["--append", "x"], memory: text)
        #expect(result.status == MultibootTestKernel.successStatus, "stderr: \(result.standardError)")
        #expect(written.contains("mem_upper=\((mib - 1) * 1024)"), "debugcon: \(written)")
    }

    @Test("--memory parsing: sizes in MiB from every accepted spelling, nil for the rest")
    func memoryParsing() throws {
        // 1G and 2G boot too slowly to run here: the parse is checked on the CLI's error path instead.
        for (text, mib) in [("1G", 1024), ("64g", 65536), ("2GiB", 2048)] {
            let result = try CLIRunner.run(["run", "--memory", text])          // no kernel: a usage error after parsing
            #expect(result.firstErrorLine == "swiftvmx: error: nothing to boot: give --kernel FILE or --firmware FILE",
                    "\(text) → \(mib) MiB: \(result.standardError)")
        }
        for text in ["65G", "15M", "1T", "G", "12.5M", "-5", "0x10", "99999999999999999999G"] {
            let result = try CLIRunner.run(["run", "--memory", text])
            #expect(result.status == 64, "\(text): status \(result.status): \(result.standardError)")
            #expect(result.firstErrorLine.contains("--memory"), "\(text): \(result.standardError)")
        }
    }

    @Test("--version prints the newest version in CHANGELOG.md")
    func version() throws {
        let result = try CLIRunner.run(["--version"])
        #expect(result.status == 0)
        let changelog = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("CHANGELOG.md")
        let text = try String(contentsOf: changelog, encoding: .utf8)
        let released = text.split(separator: "\n").first { $0.hasPrefix("## [") && !$0.hasPrefix("## [Unreleased]") }
        let version = released.flatMap { $0.split(separator: "[").dropFirst().first?.split(separator: "]").first }
        #expect(version != nil, "no released version in CHANGELOG.md")
        #expect(result.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == version.map(String.init))
    }

    @Test("usage errors exit with status 64", arguments: [
        ["run", "--bogus"], ["run", "--kernel"], ["run", "--memory", "abc"], ["run", "--memory", "15"],
        ["run", "--clock", "bogus", "--kernel", "/dev/null"], ["run", "--trace", "bogus", "--kernel", "/dev/null"], ["run"],
        ["run", "--kernel", "/dev/null", "--firmware", "/dev/null"],
        ["run", "--cpu", "Pentium", "--kernel", "/dev/null"], ["run", "--cpu", "max,+svm", "--kernel", "/dev/null"],
    ])
    func usageStatus(arguments: [String]) throws {
        let result = try CLIRunner.run(arguments)
        #expect(result.status == 64, "\(arguments): \(result.standardError)")
        #expect(!result.firstErrorLine.isEmpty)
    }

    @Test("an unreadable kernel is not a usage error: status 1")
    func fileErrorStatus() throws {
        let result = try CLIRunner.run(["run", "--kernel", "/nonexistent/kernel"])
        #expect(result.status == 1, "\(result.standardError)")
        #expect(result.firstErrorLine.contains("no such file"))
    }

    @Test("--stats: the wall% column and the line below it add up to 100 %")
    func statsShares() throws {
        let (result, _) = try bootTestKernel(appending: ["--append", "x"], ["--stats"])
        #expect(result.status == MultibootTestKernel.successStatus, "stderr: \(result.standardError)")
        let lines = result.standardError.split(separator: "\n").map(String.init)
        guard let header = lines.firstIndex(where: { $0.hasPrefix("reason") && $0.contains("wall%") }) else {
            Issue.record("no table header: \(result.standardError)")
            return
        }
        var total = 0.0, rows = 0
        for line in lines[(header + 1)...] {
            if line.hasPrefix("wall time outside exit handling") {
                total += Double(line.split(separator: " ").last?.dropLast() ?? "") ?? -1000
                break
            }
            let columns = line.split(separator: " ")
            guard columns.count >= 7, let share = Double(columns[columns.count - 2]) else { continue }
            total += share
            rows += 1
        }
        #expect(rows >= 1)
        #expect(abs(total - 100) <= 0.1 * Double(rows + 1), "shares add up to \(total): \(result.standardError)")
    }

    @Test("--trace: one JSON object per exit with numeric fields (docs/trace.md)")
    func traceRecords() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.path("trace.jsonl")
        let (result, _) = try bootTestKernel(appending: ["--append", "x"], ["--trace", "exits=\(trace)"])
        #expect(result.status == MultibootTestKernel.successStatus, "stderr: \(result.standardError)")
        let lines = String(decoding: try Data(contentsOf: URL(fileURLWithPath: trace)), as: UTF8.self).split(separator: "\n")
        #expect(lines.count > 10)
        var outs = 0
        for (i, line) in lines.enumerated() {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            guard let record = object, record["exit"] != nil else { continue }
            #expect(record["exit"] as? Int == i, "\(line)")
            for key in ["code", "qualification", "rip", "guest_ns", "host_ns"] {
                #expect(record[key] is NSNumber, "\(key) in \(line)")
            }
            if record["reason"] as? String == "ioInstruction", let q = record["qualification"] as? Int, q >> 16 == 0xE9 { outs += 1 }
        }
        #expect(outs > 10, "port 0xE9 writes seen in the trace: \(outs)")
    }

    @Test("--trace: an EPT-violation record carries the guest-physical address")
    func eptViolationRecord() throws {
        // MOV EAX, [0xD0000010] (a hole in the memory map), then OUT 0xF4 with AL = 5, HLT.
        let code: [UInt8] = [0xA1, 0x10, 0x00, 0x00, 0xD0, 0xB0, 0x05, 0xE6, 0xF4, 0xF4]
        var configuration = PCMachine.Configuration(boot: .kernel(image: makeMultibootAout(code: code), initrd: nil, commandLine: ""))
        configuration.memorySize = 32 << 20
        configuration.clock = .deterministic
        let machine = try PCMachine(configuration, console: CapturingConsole())
        let lines = LineCollector()
        machine.exitTrace = { lines.lines.append($0) }
        _ = machine.run(instructionLimit: 100_000)
        let records = try lines.lines.compactMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let violations = records.filter { $0["reason"] as? String == "eptViolation" }
        #expect(violations.count >= 1, "\(lines.lines)")
        #expect(violations.first?["gpa"] as? Int == 0xD000_0010, "\(violations)")
        #expect(violations.first?["code"] as? Int == 48)
    }
}

/// Collects trace lines (a reference the trace closure can append to).
final class LineCollector {
    var lines: [String] = []
}
