// Running a guest image: memory map, debug ports, and the run loop, in one place.
// Today the guest runs bare on the processor model; the VMX runner will replace `execute`.
import Guests
import X86

/// The bus the runner gives the guest: port 0xE9 lines, stamped with the instruction count, and the status port.
final class DebugPortBus: PlatformBus {
    /// One line the guest wrote to the debug port.
    struct Line {
        /// The text without the newline.
        var text: String
        /// Instructions retired when the newline was written.
        var instructionCount: UInt64
    }

    /// The processor, read for instruction counts.
    weak var cpu: CPU?
    /// Complete lines so far.
    private(set) var lines: [Line] = []
    /// Bytes of the line being written.
    private var partial: [UInt8] = []
    /// Status bytes written to the status port.
    private(set) var status: [UInt8] = []
    /// Called with each complete line (`--trace-port`).
    let trace: ((String) -> Void)?

    init(trace: ((String) -> Void)?) { self.trace = trace }

    func ioRead(port: UInt16, size: Int) -> UInt32 { size >= 4 ? 0xFFFF_FFFF : (1 << (size * 8)) - 1 }

    func ioWrite(port: UInt16, size: Int, value: UInt32) {
        if port == BootGuest.statusPort { status.append(UInt8(truncatingIfNeeded: value)) }
        guard port == BootGuest.debugPort else { return }
        let byte = UInt8(truncatingIfNeeded: value)
        if byte == UInt8(ascii: "\n") {
            let text = String(decoding: partial, as: UTF8.self)
            lines.append(Line(text: text, instructionCount: cpu?.instructionCount ?? 0))
            partial.removeAll()
            trace?("0xE9: \(text)")
        } else {
            partial.append(byte)
        }
    }

    func mmioRead(address: UInt64, size: Int) -> UInt64 { size >= 8 ? ~0 : (1 << UInt64(size * 8)) - 1 }
    func mmioWrite(address: UInt64, size: Int, value: UInt64) {}
}

/// What a run of the boot guest produced.
struct GuestRun {
    /// Lines reported on the debug port.
    var lines: [DebugPortBus.Line]
    /// Bytes written to the status port.
    var status: [UInt8]
    /// Why the processor stopped.
    var stop: StopReason
    /// Instructions retired in total.
    var totalInstructions: UInt64
    /// Privilege level at the end.
    var cpl: Int
    /// Operating mode at the end.
    var mode: ProcessorMode

    /// One row of the demo table.
    struct Row {
        /// Step name.
        var step: String
        /// The line the guest reported for it, or "(not reported)".
        var reported: String
        /// Instructions retired since the previous report.
        var instructions: UInt64?
    }

    /// Rows for the expected steps plus the final "done" (and any unexpected line, e.g. a FAIL).
    func rows(expected: [String]) -> [Row] {
        var rows: [Row] = []
        var previous: UInt64 = 0
        for (i, line) in lines.enumerated() {
            let name = i < expected.count ? expected[i] : (line.text == "done" ? "done" : "-")
            rows.append(Row(step: name, reported: line.text, instructions: line.instructionCount - previous))
            previous = line.instructionCount
        }
        for step in (expected + ["done"]).dropFirst(lines.count) {
            rows.append(Row(step: step, reported: "(not reported)", instructions: nil))
        }
        return rows
    }

    /// A one-line description of the exit.
    var exitDescription: String {
        let statusText = status.last.map { "status \($0)" } ?? "no status"
        return "\(stop), \(statusText), CPL \(cpl), \(mode)"
    }

    /// nil if every step passed and the guest halted with success status; else a one-line reason.
    func failure(expected: [String]) -> String? {
        if let bad = lines.first(where: { $0.text.hasPrefix("FAIL") }) { return "guest reported: \(bad.text)" }
        for (i, step) in expected.enumerated() {
            guard i < lines.count else { return "guest stopped before step \(step) (\(stop))" }
            let t = lines[i].text
            guard t == "ok \(step)" || t.hasPrefix("ok \(step) ") else { return "step \(step): guest reported \"\(t)\"" }
        }
        guard lines.count == expected.count + 1, lines.last?.text == "done" else { return "guest did not report done" }
        guard stop == .halted, status == [BootGuest.statusSuccess] else { return "unexpected exit: \(exitDescription)" }
        return nil
    }
}

/// Loads and runs guest images.
enum GuestRunner {
    /// Maps RAM and the ROM, resets the processor and runs the guest until it stops.
    static func run(_ guest: BootGuest, instructionLimit: Int, trace: ((String) -> Void)?) throws -> GuestRun {
        let memory = PhysicalMemory(ramSize: BootGuest.ramSize)
        try memory.allocateRAM(at: BootGuest.romBase, size: UInt64(BootGuest.romSize))
        memory.write(guest.rom, at: BootGuest.romBase)
        let bus = DebugPortBus(trace: trace)
        let cpu = CPU(memory: memory, bus: bus)
        bus.cpu = cpu
        let stop = execute(cpu, instructionLimit: instructionLimit)
        return GuestRun(lines: bus.lines, status: bus.status, stop: stop, totalInstructions: cpu.instructionCount,
                        cpl: cpu.cpl, mode: cpu.mode)
    }

    /// Runs the processor from its reset state (bare; later: VMX non-root operation).
    static func execute(_ cpu: CPU, instructionLimit: Int) -> StopReason {
        cpu.reset()
        return cpu.run(instructionLimit: instructionLimit)
    }
}
