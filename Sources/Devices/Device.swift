// The one protocol every device implements, and the injected objects a device
// talks to (interrupt lines, byte sinks, exit handlers). Devices are blind:
// they see an offset inside their own range and an access size, never a port
// base, a bus or the CPU.

/// A port-mapped or memory-mapped device.
///
/// The bus that owns the address map hands the device the offset of an access
/// inside the device's range and its size in bytes (1, 2, 4 or 8). A device
/// must accept any offset, size and value without trapping: registers it does
/// not have read as all ones (or a documented value) and ignore writes.
public protocol Device: AnyObject {
    /// Reads `size` bytes at `offset` inside the device's range; the result is
    /// zero-extended (only the low `size` bytes are meaningful).
    func read(offset: UInt64, size: Int) -> UInt64
    /// Writes the low `size` bytes of `value` at `offset` inside the device's range.
    func write(offset: UInt64, size: Int, value: UInt64)
    /// Brings the device to guest time `now` (nanoseconds since the machine
    /// started), raising or lowering its interrupt lines as time requires, and
    /// returns the next guest time at which it needs `advance(to:)` again, or
    /// `nil` when nothing is scheduled. Time never goes backwards: a `now`
    /// earlier than one already seen is treated as the latest seen.
    func advance(to now: UInt64) -> UInt64?
}

extension Device {
    /// Devices without a notion of time need no deadline.
    public func advance(to now: UInt64) -> UInt64? { nil }
}

/// A device whose registers are bytes (every ISA device here). A wider access
/// is split into byte accesses at consecutive offsets, little-endian, as the
/// ISA bus does.
public protocol ByteRegisterDevice: Device {
    /// Reads the byte register at `offset`.
    func readByte(offset: UInt64) -> UInt8
    /// Writes the byte register at `offset`.
    func writeByte(offset: UInt64, value: UInt8)
}

extension ByteRegisterDevice {
    /// Splits the access into byte reads (sizes outside 1...8 read one byte).
    public func read(offset: UInt64, size: Int) -> UInt64 {
        let count = (1...8).contains(size) ? size : 1
        var result: UInt64 = 0
        for index in 0..<count {
            let byte = UInt64(readByte(offset: offset &+ UInt64(index)))
            result |= byte &<< UInt64(8 * index)
        }
        return result
    }

    /// Splits the access into byte writes (sizes outside 1...8 write one byte).
    public func write(offset: UInt64, size: Int, value: UInt64) {
        let count = (1...8).contains(size) ? size : 1
        for index in 0..<count {
            let byte = UInt8(truncatingIfNeeded: value &>> UInt64(8 * index))
            writeByte(offset: offset &+ UInt64(index), value: byte)
        }
    }
}

/// A level-triggered interrupt line, injected into a device. The device sets
/// the level; whatever is on the other end (a PIC input, an IOAPIC pin, a test
/// recorder) decides what an edge or a level means.
public protocol InterruptLine: AnyObject {
    /// Drives the line high (`true`, asserted) or low (`false`).
    func setLevel(_ high: Bool)
}

extension InterruptLine {
    /// Asserts the line.
    public func raise() { setLevel(true) }
    /// Deasserts the line.
    public func lower() { setLevel(false) }
}

/// An interrupt line connected to nothing: a device with no wiring.
public final class DisconnectedInterruptLine: InterruptLine {
    /// Creates a line that ignores its level.
    public init() {}
    /// Ignores the level.
    public func setLevel(_ high: Bool) {}
}

/// An interrupt line that remembers its level and counts its rising edges
/// (for tests, and for a VMM that polls a line).
public final class RecordingInterruptLine: InterruptLine {
    /// The current level.
    public private(set) var level = false
    /// How many low-to-high transitions the line has seen.
    public private(set) var risingEdges = 0
    /// Creates a low line.
    public init() {}
    /// Sets the level, counting a rising edge when it goes from low to high.
    public func setLevel(_ high: Bool) {
        if high && !level { risingEdges &+= 1 }
        level = high
    }
}

/// Where a device sends the bytes it outputs (a UART's transmitter, a debug
/// console port).
public protocol ByteSink: AnyObject {
    /// Receives one output byte.
    func write(_ byte: UInt8)
}

/// A sink that keeps every byte it receives.
public final class CapturingByteSink: ByteSink {
    /// The bytes received so far, oldest first.
    public private(set) var bytes: [UInt8] = []
    /// Creates an empty sink.
    public init() {}
    /// Appends the byte.
    public func write(_ byte: UInt8) { bytes.append(byte) }
    /// The bytes received so far decoded as UTF-8 (invalid sequences repaired).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
    /// Forgets the bytes received so far.
    public func removeAll() { bytes.removeAll() }
}

/// A sink that discards its bytes.
public final class DiscardingByteSink: ByteSink {
    /// Creates the sink.
    public init() {}
    /// Discards the byte.
    public func write(_ byte: UInt8) {}
}

/// Overflow-safe time arithmetic shared by the timers.
enum TimeArithmetic {
    /// `a * b / c` without intermediate overflow, saturating at `UInt64.max`
    /// (and `UInt64.max` when `c` is zero).
    static func mulDiv(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        guard c != 0 else { return UInt64.max }
        let product = a.multipliedFullWidth(by: b)
        guard product.high < c else { return UInt64.max }
        return c.dividingFullWidth(product).quotient
    }

    /// `ceil(a * b / c)`, saturating at `UInt64.max`.
    static func mulDivCeil(_ a: UInt64, _ b: UInt64, _ c: UInt64) -> UInt64 {
        guard c != 0 else { return UInt64.max }
        let product = a.multipliedFullWidth(by: b)
        guard product.high < c else { return UInt64.max }
        let (quotient, remainder) = c.dividingFullWidth(product)
        if remainder == 0 { return quotient }
        return quotient == UInt64.max ? UInt64.max : quotient + 1
    }

    /// `a + b`, saturating at `UInt64.max`.
    static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? UInt64.max : sum
    }
}
