// The GDB remote serial protocol's framing: `$payload#cs` packets with a two-digit modulo-256 checksum,
// `+`/`-` acknowledgements, `}`-escaping of binary data, and the Ctrl-C byte (0x03) that interrupts a
// running target (gdb's "Remote Serial Protocol" appendix, "Overview").

/// What arrived from gdb, in order.
public enum GDBInput: Equatable, Sendable {
    /// A packet whose checksum was right: its payload, unescaped.
    case packet([UInt8])
    /// A packet with a wrong checksum (to be answered with `-`).
    case corrupt
    /// The interrupt byte 0x03 (Ctrl-C) outside a packet.
    case interrupt
}

/// Splits the byte stream from gdb into packets, acknowledgements and interrupts.
public struct GDBPacketReader {
    private enum State { case idle, payload, checksum1, checksum2 }
    private var state = State.idle
    private var payload: [UInt8] = []
    private var sum: UInt8 = 0
    private var escaped = false
    private var expected: UInt8 = 0
    /// Longest payload accepted (what qSupported advertises); longer packets are dropped as corrupt.
    public static let maximumPayload = 0x4000

    /// Creates a reader.
    public init() {}

    /// Consumes bytes; returns the complete inputs they finish. Acknowledgements (`+`, `-`) are dropped:
    /// the stub never retransmits (TCP does not lose bytes).
    public mutating func feed(_ bytes: [UInt8]) -> [GDBInput] {
        var out: [GDBInput] = []
        for b in bytes {
            switch state {
            case .idle:
                if b == 0x24 { state = .payload; payload = []; sum = 0; escaped = false }   // '$'
                else if b == 0x03 { out.append(.interrupt) }
            case .payload:
                if b == 0x23 { state = .checksum1; continue }                               // '#'
                sum &+= b
                if escaped { payload.append(b ^ 0x20); escaped = false }
                else if b == 0x7D { escaped = true }                                        // '}'
                else { payload.append(b) }
                if payload.count > Self.maximumPayload { state = .idle; out.append(.corrupt) }
            case .checksum1:
                guard let h = hexValue(b) else { state = .idle; out.append(.corrupt); continue }
                expected = h << 4
                state = .checksum2
            case .checksum2:
                state = .idle
                guard let l = hexValue(b) else { out.append(.corrupt); continue }
                out.append(expected | l == sum ? .packet(payload) : .corrupt)
            }
        }
        return out
    }

    /// A packet as sent on the wire: `$`, the payload with `$ # } *` escaped, `#`, the checksum.
    public static func frame(_ payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x24]
        var sum: UInt8 = 0
        for b in payload {
            if b == 0x24 || b == 0x23 || b == 0x7D || b == 0x2A {
                out.append(0x7D); out.append(b ^ 0x20)
                sum &+= 0x7D &+ (b ^ 0x20)
            } else {
                out.append(b)
                sum &+= b
            }
        }
        out.append(0x23)
        out += hexBytes([sum])
        return out
    }
}

/// The value of a hex digit, or nil.
func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x61...0x66: return c - 0x61 + 10
    case 0x41...0x46: return c - 0x41 + 10
    default: return nil
    }
}

/// Bytes as lower-case hex digits, two per byte, in order.
func hexBytes(_ bytes: [UInt8]) -> [UInt8] {
    let digits: [UInt8] = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return out
}

/// Hex digit pairs as bytes; nil for an odd count or a non-hex digit.
func bytesFromHex<S: Collection>(_ text: S) -> [UInt8]? where S.Element == UInt8 {
    guard text.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(text.count / 2)
    var high: UInt8? = nil
    for c in text {
        guard let v = hexValue(c) else { return nil }
        if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
    }
    return out
}

/// A hex number (at most 16 digits); nil for anything else.
func hexNumber<S: Collection>(_ text: S) -> UInt64? where S.Element == UInt8 {
    guard !text.isEmpty, text.count <= 16 else { return nil }
    var v: UInt64 = 0
    for c in text {
        guard let d = hexValue(c) else { return nil }
        v = v << 4 | UInt64(d)
    }
    return v
}

/// `value`'s low `count` bytes, least significant first.
func littleEndian(_ value: UInt64, count: Int) -> [UInt8] {
    (0..<count).map { $0 < 8 ? UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) : 0 }
}

/// Up to 8 little-endian bytes as a number.
func fromLittleEndian(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var v: UInt64 = 0
    for (i, b) in bytes.prefix(8).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
    return v
}
