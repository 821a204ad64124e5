// VM exits counted by reason with the host time the VMM spent handling each (`--stats`, like
// `perf kvm stat`).
import X86

/// Counts of VM exits and VMM handling time by basic exit reason.
public final class ExitStatistics {
    /// Exits by reason number.
    public private(set) var counts = [UInt64](repeating: 0, count: 80)
    /// Host nanoseconds spent handling exits, by reason number.
    public private(set) var handlingNanoseconds = [UInt64](repeating: 0, count: 80)
    /// All exits.
    public private(set) var total: UInt64 = 0
    private let origin = ContinuousClock.now

    /// Creates empty statistics.
    public init() {}

    /// The start of handling one exit.
    func begin() -> ContinuousClock.Instant { ContinuousClock.now }

    /// Records one exit of `reason` whose handling began at `start`.
    func end(_ reason: ExitReason, since start: ContinuousClock.Instant) {
        let index = Int(reason.rawValue)
        guard index < counts.count else { return }
        counts[index] &+= 1
        total &+= 1
        handlingNanoseconds[index] &+= (ContinuousClock.now - start).nanoseconds
    }


    /// A table of exits by reason, most frequent first: count, share of exits, VMM handling time and its
    /// share, mean time per exit; with the run's wall time and guest instructions above it.
    public func table(wallNanoseconds: UInt64, instructions: UInt64, guestNanoseconds: UInt64) -> String {
        let handled = handlingNanoseconds.reduce(0, &+)
        var lines: [String] = []
        func ms(_ ns: UInt64) -> String { String(format1(Double(ns) / 1e6)) }
        lines.append("VM exits: \(total) in \(ms(wallNanoseconds)) ms wall, \(instructions) guest instructions, guest clock \(ms(guestNanoseconds)) ms")
        lines.append(pad("reason", 32) + pad("code", 6, right: true) + pad("count", 12, right: true) + pad("exits%", 9, right: true)
                     + pad("vmm ms", 11, right: true) + pad("time%", 8, right: true) + pad("mean ns", 10, right: true))
        let order = counts.indices.filter { counts[$0] > 0 }.sorted { counts[$0] > counts[$1] }
        for i in order {
            let name = ExitReason(rawValue: UInt16(i)).map { "\($0)" } ?? "reason \(i)"
            let share = total == 0 ? 0 : Double(counts[i]) * 100 / Double(total)
            let timeShare = wallNanoseconds == 0 ? 0 : Double(handlingNanoseconds[i]) * 100 / Double(wallNanoseconds)
            lines.append(pad(name, 32) + pad("\(i)", 6, right: true) + pad("\(counts[i])", 12, right: true)
                         + pad(format1(share), 9, right: true) + pad(ms(handlingNanoseconds[i]), 11, right: true)
                         + pad(format1(timeShare), 8, right: true) + pad("\(handlingNanoseconds[i] / max(1, counts[i]))", 10, right: true))
        }
        let guestShare = wallNanoseconds == 0 ? 0 : Double(wallNanoseconds &- min(wallNanoseconds, handled)) * 100 / Double(wallNanoseconds)
        lines.append("time outside exit handling (guest running, idle waits): \(format1(guestShare))%")
        return lines.joined(separator: "\n")
    }

    private func format1(_ v: Double) -> String {
        let scaled = (v * 10).rounded()
        guard scaled.isFinite, abs(scaled) < 1e15 else { return "-" }
        let i = Int64(scaled)
        return "\(i / 10).\(abs(i % 10))"
    }

    private func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }
}

extension Duration {
    /// The duration in whole nanoseconds (negative durations count as zero).
    public var nanoseconds: UInt64 {
        let (s, atto) = components
        return UInt64(max(0, s)) &* 1_000_000_000 &+ UInt64(max(0, atto) / 1_000_000_000)
    }
}
