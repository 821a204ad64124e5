/// Bounds-checked little-endian reads from an image; every offset and size from the file goes
/// through checked arithmetic, so a malformed image gives a `LoaderError`, never a trap.
struct ByteReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var count: UInt64 { UInt64(bytes.count) }

    /// Throws `.truncated` unless `[offset, offset + size)` lies in the file.
    func check(_ offset: UInt64, _ size: UInt64, _ what: String) throws(LoaderError) {
        let (end, overflow) = offset.addingReportingOverflow(size)
        if overflow || end > count {
            throw .truncated(what: what, offset: offset, needed: size, fileSize: count)
        }
    }

    func u8(_ offset: UInt64, _ what: String) throws(LoaderError) -> UInt8 {
        try check(offset, 1, what)
        return bytes[Int(offset)]
    }

    func u16(_ offset: UInt64, _ what: String) throws(LoaderError) -> UInt16 {
        UInt16(truncatingIfNeeded: try le(offset, 2, what))
    }

    func u32(_ offset: UInt64, _ what: String) throws(LoaderError) -> UInt32 {
        UInt32(truncatingIfNeeded: try le(offset, 4, what))
    }

    func u64(_ offset: UInt64, _ what: String) throws(LoaderError) -> UInt64 {
        try le(offset, 8, what)
    }

    func le(_ offset: UInt64, _ size: Int, _ what: String) throws(LoaderError) -> UInt64 {
        try check(offset, UInt64(size), what)
        var value: UInt64 = 0
        let base = Int(offset)
        for i in 0..<size { value |= UInt64(bytes[base + i]) << (8 * UInt64(i)) }
        return value
    }

    /// The bytes `[offset, offset + size)`.
    func slice(_ offset: UInt64, _ size: UInt64, _ what: String) throws(LoaderError) -> [UInt8] {
        try check(offset, size, what)
        return Array(bytes[Int(offset)..<Int(offset + size)])
    }
}

/// `a + b`, or `.arithmeticOverflow(what)`.
func checkedAdd(_ a: UInt64, _ b: UInt64, _ what: String) throws(LoaderError) -> UInt64 {
    let (r, o) = a.addingReportingOverflow(b)
    if o { throw .arithmeticOverflow(what: what) }
    return r
}

/// `a * b`, or `.arithmeticOverflow(what)`.
func checkedMul(_ a: UInt64, _ b: UInt64, _ what: String) throws(LoaderError) -> UInt64 {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    if o { throw .arithmeticOverflow(what: what) }
    return r
}

/// `value` rounded up to a power-of-two `alignment`, or `.arithmeticOverflow`.
func alignUp(_ value: UInt64, _ alignment: UInt64, _ what: String) throws(LoaderError) -> UInt64 {
    let mask = alignment &- 1
    return try checkedAdd(value, mask, what) & ~mask
}

/// Little-endian stores into a buffer the loader builds itself (offsets are loader constants).
extension Array where Element == UInt8 {
    mutating func put(_ value: UInt64, at offset: Int, size: Int) {
        for i in 0..<size { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    mutating func put8(_ value: UInt8, at offset: Int) { self[offset] = value }
    mutating func put16(_ value: UInt16, at offset: Int) { put(UInt64(value), at: offset, size: 2) }
    mutating func put32(_ value: UInt32, at offset: Int) { put(UInt64(value), at: offset, size: 4) }
    mutating func put64(_ value: UInt64, at offset: Int) { put(value, at: offset, size: 8) }
    mutating func append32(_ value: UInt32) { for i in 0..<4 { append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) } }
    mutating func append64(_ value: UInt64) { for i in 0..<8 { append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) } }
}
