// VM exits counted by reason with the host time the VMM spent handling each (`--stats`, like
// `perf kvm stat`).
import X86
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Counts of VM exits and VMM handling time by basic exit reason.
public final class ExitStatistics {
    /// Number of reason slots (basic exit reasons are below 80).
    static let slots = 80
    /// Exits and handling nanoseconds by reason number, in buffers allocated once: the per-exit update
    /// is two adds, with no copy-on-write or exclusivity check.
    private let countBuffer: UnsafeMutablePointer<UInt64>
    private let timeBuffer: UnsafeMutablePointer<UInt64>
    /// Exits by reason number.
    public var counts: [UInt64] { Array(UnsafeBufferPointer(start: countBuffer, count: Self.slots)) }
    /// Host nanoseconds spent handling exits, by reason number (zero while `timesHandling` is off).
    public var handlingNanoseconds: [UInt64] { Array(UnsafeBufferPointer(start: timeBuffer, count: Self.slots)) }
    /// All exits.
    @exclusivity(unchecked) public private(set) var total: UInt64 = 0
    /// Whether the VMM's handling of each exit is timed (two host-clock reads per exit). Counts are kept
    /// either way.
    @exclusivity(unchecked) public var timesHandling = true

    /// Creates empty statistics.
    public init() {
        countBuffer = .allocate(capacity: Self.slots)
        countBuffer.initialize(repeating: 0, count: Self.slots)
        timeBuffer = .allocate(capacity: Self.slots)
        timeBuffer.initialize(repeating: 0, count: Self.slots)
    }

    deinit {
        countBuffer.deallocate()
        timeBuffer.deallocate()
    }

    /// The start of handling one exit (0 when handling is not timed).
    @inline(__always) func begin() -> UInt64 { timesHandling ? Self.monotonicNanoseconds() : 0 }

    /// Records one exit of `reason` whose handling began at `start` (from `begin()`).
    @inline(__always) func end(_ reason: ExitReason, since start: UInt64) {
        let index = Int(reason.rawValue)
        guard index < Self.slots else { return }
        // Safe: `index` is below `slots`, the buffers' capacity.
        countBuffer[index] &+= 1
        total &+= 1
        if timesHandling { timeBuffer[index] &+= Self.monotonicNanoseconds() &- start }
    }

    /// The host's monotonic clock in nanoseconds: one `clock_gettime` (a vDSO call on Linux) and integer
    /// arithmetic, a fraction of `ContinuousClock.now` with its `Duration` arithmetic.
    static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(truncatingIfNeeded: ts.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: ts.tv_nsec)
    }

    /// A table of exits by reason, most frequent first: count, share of exits, VMM handling time (host time
    /// from the exit to the end of its handling; the guest's idle waits are not in it), that time as a share
    /// of the run's wall time (`wall%`; with the line below the table the shares add up to 100 %), mean time
    /// per exit; with the run's wall time and guest instructions above it.
    public func table(wallNanoseconds: UInt64, instructions: UInt64, guestNanoseconds: UInt64) -> String {
        let counts = self.counts, handlingNanoseconds = self.handlingNanoseconds
        let handled = handlingNanoseconds.reduce(0, &+)
        var lines: [String] = []
        func ms(_ ns: UInt64) -> String { String(format1(Double(ns) / 1e6)) }
        lines.append("VM exits: \(total) in \(ms(wallNanoseconds)) ms wall, \(instructions) guest instructions, guest clock \(ms(guestNanoseconds)) ms")
        lines.append(pad("reason", 32) + pad("code", 6, right: true) + pad("count", 12, right: true) + pad("exits%", 9, right: true)
                     + pad("vmm ms", 11, right: true) + pad("wall%", 8, right: true) + pad("mean ns", 10, right: true))
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
        lines.append("wall time outside exit handling (guest running, idle waits, start-up): \(format1(guestShare))%")
        lines.append("vmm ms: host time handling the exits; wall%: its share of the wall time; mean ns: per exit")
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
