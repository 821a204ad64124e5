// `swiftvmx-dev fuzz`: runs random instruction streams in every operating mode, in worker
// processes so that a crash of the model is counted (and located) instead of ending the run.
import ArgumentParser
import Dispatch
import Foundation
import X86
import X86Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Options shared by the fuzzing subcommands.
struct FuzzOptions: ParsableArguments {
    @Argument(help: "Number of cases.")
    var count: UInt64 = 10000

    @Option(help: "Seed of the case stream (case i of seed S is always the same case).")
    var seed: UInt64 = 1

    @Option(help: "Worker processes to run at once (default: the number of processors).")
    var jobs: Int?

    @Option(help: "Cases per worker process.")
    var chunk: UInt64 = 4000

    @Option(help: "Print every failing case's details up to this many.")
    var show: Int = 40

    @Option(help: "interpreter or jit: the engine the model runs guest code on.")
    var engine: String = "interpreter"

    @Option(help: .hidden)
    var worker: String?

    /// The `--worker start:end` range, if this process is a worker.
    func workerRange() throws -> Range<UInt64>? {
        guard let path = ExecutionPath(engine: engine) else { throw ValidationError("--engine must be interpreter or jit") }
        ExecutionPath.processorDefault = path
        // Every block is translated at its first run, so code that runs once is checked on its translation.
        ExecutionPath.jitHotRunsDefault = 0
        guard let w = worker else { return nil }
        let parts = w.split(separator: ":").compactMap { UInt64($0) }
        guard parts.count == 2, parts[0] <= parts[1] else { throw ValidationError("--worker wants start:end") }
        return parts[0]..<parts[1]
    }

    /// Runs all cases in worker processes of `subcommand`, prints failures, the `summary` of the outcome
    /// counts and the closing line `N passed, M failed`; throws exit status 1 on any failure.
    func runDriver(subcommand: String, summary: (FuzzState, Double) -> String) throws {
        guard chunk > 0 else { throw ValidationError("--chunk must be positive") }
        let driver = FuzzDriver(seed: seed, count: count, chunk: chunk,
                                jobs: max(1, jobs ?? ProcessInfo.processInfo.activeProcessorCount))
        driver.subcommand = subcommand
        driver.extraArguments = ["--engine", engine]
        let start = Date()
        driver.runAll()
        let seconds = Date().timeIntervalSince(start)
        let failures = driver.state.failures.sorted { $0.index < $1.index }
        for f in failures.prefix(show) {
            print("FAIL case \(f.index): \(f.message)")
            print("  replay: swiftvmx-dev \(subcommand) --seed \(seed) --worker \(f.index):\(f.index + 1)")
        }
        if failures.count > show { print("... and \(failures.count - show) more failures") }
        let s = driver.state
        print(summary(s, seconds))
        print("\(s.passed) passed, \(s.failures.count) failed")
        if !failures.isEmpty { throw ExitCode(1) }
    }
}

/// Runs cases in this process, reporting on stdout with unbuffered writes:
/// `C i` (every case below i is reported), `F i message`, `S a b c d` (outcome counts), `E end`.
/// `body` runs one case and returns its outcome class (0–3) and an invariant violation, if any.
func runFuzzWorker(_ range: Range<UInt64>, _ body: (UInt64) -> (outcome: Int, violation: String?)) {
    func emit(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
    var outcomes: [UInt64] = [0, 0, 0, 0]
    for i in range {
        if (i - range.lowerBound) % 16 == 0 { emit("C \(i)") }
        // A case that takes this long is a hang in the model: SIGALRM ends the worker, the driver replays.
        alarm(20)
        let r = body(i)
        outcomes[r.outcome & 3] += 1
        if let v = r.violation { emit("F \(i) \(v)") }
    }
    alarm(0)
    emit("S \(outcomes.map(String.init).joined(separator: " "))")
    emit("E \(range.upperBound)")
}

/// Robustness fuzzing of the processor model.
struct Fuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Run random instruction streams in every mode; every case must end architecturally.",
        discussion: "The last line printed is `N passed, M failed`; the exit status is 0 only if M is 0.")

    @OptionGroup var options: FuzzOptions

    func run() throws {
        if let range = try options.workerRange() {
            let machine = Fuzzer.Machine()
            runFuzzWorker(range) { i in
                let r = Fuzzer.run(seed: options.seed, index: i, machine: machine)
                let outcome: Int
                switch r.stop {
                case .halted: outcome = 0
                case .shutdown: outcome = 1
                case .exception: outcome = 2
                default: outcome = 3
                }
                let v = r.violation.map { "\(r.environment.rawValue) CPL\(r.cpl), \(r.stop) after \(r.instructions) instructions: \($0) [code \(r.codePrefix)]" }
                return (outcome, v)
            }
            return
        }
        try options.runDriver(subcommand: "fuzz") { s, seconds in
            String(format: "%.1f s, %.0f cases/s; outcomes: %llu halted, %llu shutdown, %llu exception, %llu step limit; %llu crashes",
                   seconds, Double(options.count) / max(seconds, 1e-9), s.outcomes[0], s.outcomes[1], s.outcomes[2], s.outcomes[3], s.crashes)
        }
    }
}

/// Shared counters of the driver's worker threads.
final class FuzzState: @unchecked Sendable {
    let lock = NSLock()
    var pending: [Range<UInt64>] = []
    var passed: UInt64 = 0
    var failures: [(index: UInt64, message: String)] = []
    var outcomes: [UInt64] = [0, 0, 0, 0]
    var crashes: UInt64 = 0
    var done: UInt64 = 0

    func withLock<T>(_ body: () -> T) -> T { lock.lock(); defer { lock.unlock() }; return body() }
}

/// Splits the cases into ranges and runs them in worker processes, replaying around crashes.
final class FuzzDriver: @unchecked Sendable {
    let seed: UInt64, count: UInt64, jobs: Int
    /// The subcommand whose hidden `--worker` option runs a range of cases.
    var subcommand = "fuzz"
    /// Options every worker process gets (the engine).
    var extraArguments: [String] = []
    let state = FuzzState()
    let executable: String

    init(seed: UInt64, count: UInt64, chunk: UInt64, jobs: Int) {
        self.seed = seed; self.count = count; self.jobs = jobs
        executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
        // Smaller ranges at first would only add process starts; keep ranges even so all workers finish together.
        let per = max(1, min(chunk, (count + UInt64(jobs) - 1) / UInt64(jobs)))
        var s: UInt64 = 0
        while s < count { state.pending.append(s..<min(count, s + per)); s += per }
        state.pending.reverse()
    }

    func runAll() {
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while let range = state.withLock({ state.pending.popLast() }) { runRange(range) }
        }
    }

    /// What one worker process reported.
    struct WorkerReport {
        var checkpoint: UInt64
        var failures: [(index: UInt64, message: String)] = []
        var outcomes: [UInt64] = [0, 0, 0, 0]
        var completed = false
        var crashMessage = ""
    }

    /// Starts a worker process on a range and collects its report.
    func launch(_ range: Range<UInt64>) -> WorkerReport {
        var report = WorkerReport(checkpoint: range.lowerBound)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = [subcommand, "--seed", "\(seed)", "--worker", "\(range.lowerBound):\(range.upperBound)"] + extraArguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch {
            report.crashMessage = "could not start worker: \(error)"
            return report
        }
        // Stderr is read on another thread so that neither pipe can fill up and block the worker.
        let errBox = ErrorText()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            group.leave()
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        group.wait()
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 2)
            guard fields.count >= 2 else { continue }
            switch fields[0] {
            case "C": if let c = UInt64(fields[1]) { report.checkpoint = c }
            case "F": if let i = UInt64(fields[1]) { report.failures.append((i, fields.count > 2 ? String(fields[2]) : "")) }
            case "S":
                let counts = line.split(separator: " ").dropFirst().compactMap { UInt64($0) }
                if counts.count == 4 { report.outcomes = counts }
            case "E": report.completed = true
            default: break
            }
        }
        if !(report.completed && p.terminationReason == .exit && p.terminationStatus == 0) {
            report.completed = false
            let how = p.terminationReason == .uncaughtSignal ? "signal \(p.terminationStatus)" : "exit status \(p.terminationStatus)"
            // The runtime's message and the first frame in the model name the bug.
            let lines = errBox.text.split(separator: "\n")
            var what = lines.filter { $0.contains("runtime failure") || $0.contains("Fatal error") }.prefix(1).map(String.init)
            if let frame = lines.first(where: { $0.contains("/Sources/") && $0.contains(" at ") }),
               let at = frame.range(of: " at ") {
                let symbol = frame.split(separator: " ").first(where: { $0.contains("(") }) ?? ""
                what.append("\(symbol) at \(frame[at.upperBound...])")
            }
            report.crashMessage = "worker died (\(how)): " + what.joined(separator: " | ")
        }
        return report
    }

    /// Runs a range; if its worker dies, replays the unreported cases one per process to find the
    /// crashing case, counts it failed, and queues the rest of the range again.
    func runRange(_ range: Range<UInt64>) {
        let report = launch(range)
        if report.completed {
            record(range, report)
            return
        }
        // Everything below the last checkpoint was reported.
        let reported = range.lowerBound..<report.checkpoint
        var partial = report
        partial.failures = report.failures.filter { reported.contains($0.index) }
        partial.outcomes = [0, 0, 0, 0]
        record(reported, partial)
        var i = report.checkpoint
        if i >= range.upperBound {
            // Died after reporting every case (while exiting): count it against the last case.
            state.withLock { state.failures.append((range.upperBound - 1, report.crashMessage)); state.crashes += 1 }
            return
        }
        var reproduced = false
        defer {
            if !reproduced {
                state.withLock {
                    state.failures.append((report.checkpoint, "worker died in cases \(report.checkpoint)..<\(range.upperBound) but no case crashes alone: \(report.crashMessage)"))
                    state.crashes += 1
                    if state.passed > 0 { state.passed -= 1 }   // that case was counted as passed by its replay
                }
            }
        }
        while i < range.upperBound {
            let single = launch(i..<(i + 1))
            if single.completed {
                record(i..<(i + 1), single)
                i += 1
                continue
            }
            reproduced = true
            state.withLock {
                state.failures.append((i, single.crashMessage))
                state.crashes += 1
                state.done += 1
                if i + 1 < range.upperBound { state.pending.append((i + 1)..<range.upperBound) }
            }
            return
        }
    }

    /// Adds a finished range's results.
    func record(_ range: Range<UInt64>, _ report: WorkerReport) {
        state.withLock {
            let n = UInt64(range.count)
            state.passed += n - UInt64(report.failures.count)
            state.failures += report.failures
            for k in 0..<4 { state.outcomes[k] += report.outcomes[k] }
            let before = state.done * 10 / max(count, 1)
            state.done += n
            if state.done * 10 / max(count, 1) != before {
                FileHandle.standardError.write(Data("fuzz: \(state.done)/\(count) cases, \(state.failures.count) failed\n".utf8))
            }
        }
    }
}

/// Text read on another thread.
final class ErrorText: @unchecked Sendable {
    var text = ""
}
