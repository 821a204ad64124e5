// QEMU's firmware configuration device (docs/specs/fw_cfg.rst in QEMU), the
// traditional I/O-port interface only: a 16-bit selector register at port
// 0x510 and an 8-bit data register at 0x511. No DMA interface (FW_CFG_ID bit
// 1 is clear) and no writes through the data register (ignored, as QEMU ≥ 2.4).

/// Selector keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h).
public enum FwCfgKey {
    /// 0x0000 FW_CFG_SIGNATURE: "QEMU".
    public static let signature: UInt16 = 0x0000
    /// 0x0001 FW_CFG_ID: feature bitmap, 32-bit little-endian (bit 0 traditional interface, bit 1 DMA).
    public static let id: UInt16 = 0x0001
    /// 0x0002 FW_CFG_UUID: 16 bytes.
    public static let uuid: UInt16 = 0x0002
    /// 0x0003 FW_CFG_RAM_SIZE: 64-bit little-endian.
    public static let ramSize: UInt16 = 0x0003
    /// 0x0004 FW_CFG_NOGRAPHIC: 16-bit.
    public static let noGraphic: UInt16 = 0x0004
    /// 0x0005 FW_CFG_NB_CPUS: 16-bit little-endian.
    public static let numberOfCPUs: UInt16 = 0x0005
    /// 0x000F FW_CFG_MAX_CPUS: 16-bit little-endian.
    public static let maximumCPUs: UInt16 = 0x000F
    /// 0x0014 FW_CFG_CMDLINE_SIZE: 32-bit little-endian, including the terminating NUL.
    public static let commandLineSize: UInt16 = 0x0014
    /// 0x0015 FW_CFG_CMDLINE_DATA: the command line, NUL-terminated.
    public static let commandLineData: UInt16 = 0x0015
    /// 0x0019 FW_CFG_FILE_DIR: the file directory.
    public static let fileDirectory: UInt16 = 0x0019
    /// 0x0020 FW_CFG_FILE_FIRST: the first selector given to a file.
    public static let firstFile: UInt16 = 0x0020
    /// Bit 14: the write channel (ignored: the key without it is read).
    public static let writeChannel: UInt16 = 0x4000
    /// Bit 15: architecture-specific item (a separate key space, kept as part of the key).
    public static let architectureLocal: UInt16 = 0x8000
    /// The last selector a file can get (the generic space ends at 0x3FFF).
    public static let lastFile: UInt16 = 0x3FFF
}

/// Why an item or file could not be added.
public enum FwCfgError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file name is empty, contains NUL, or is longer than 55 bytes of UTF-8.
    case invalidFileName(String)
    /// A file of that name exists.
    case duplicateFileName(String)
    /// Every file selector (0x0020–0x3FFF) is taken.
    case tooManyFiles
    /// The key is the file directory's or belongs to the file range.
    case reservedKey(UInt16)
    /// An item longer than 2³² − 1 bytes (its size field is 32 bits).
    case itemTooLarge(Int)

    /// One line naming the problem.
    public var description: String {
        switch self {
        case let .invalidFileName(name): "invalid fw_cfg file name \"\(name)\": 1–55 bytes of UTF-8 without NUL"
        case let .duplicateFileName(name): "fw_cfg file \"\(name)\" already exists"
        case .tooManyFiles: "no fw_cfg file selector left (0x0020–0x3fff all taken)"
        case let .reservedKey(key): "fw_cfg key 0x\(String(key, radix: 16)) is reserved for the file directory or files"
        case let .itemTooLarge(size): "fw_cfg item of \(size) bytes exceeds 2^32 - 1"
        }
    }
}

/// One entry of the file directory.
public struct FwCfgFile: Equatable, Codable, Sendable {
    /// The name ("etc/…", "opt/…").
    public var name: String
    /// The selector that reads the file.
    public var selector: UInt16
    /// The size in bytes.
    public var size: UInt32
}

/// The guest-visible state of the interface.
public struct FwCfgState: Equatable, Codable, Sendable {
    /// The selector last written (write-channel bit included as written).
    public var selector: UInt16 = FwCfgKey.signature
    /// The data offset inside the selected item.
    public var offset: UInt32 = 0
    /// The power-on state.
    public init() {}
}

/// The fw_cfg device. Map it at 0x510 with length 2 (the two ports overlap in
/// QEMU's decoding and cannot be mapped separately).
///
/// - Offset 0, 16-bit write: selects the item `value & ~0x4000` (the write
///   channel is ignored) and resets the data offset. Other sizes are ignored.
/// - Offset 1, 8-bit read: the next byte of the selected item; past its end,
///   or for an unknown selector, 0 (the offset stops advancing at the end).
/// - Everything else reads all ones and ignores writes.
///
/// Items: signature, ID (traditional interface only), RAM size, CPU count
/// (and maximum), the kernel command line (when given), the file directory
/// (big-endian count and 64-byte entries, sorted by name) and any items or
/// files added later.
public final class FwCfg: Device {
    /// The selector port.
    public static let selectorPort: UInt16 = 0x510
    /// The data port.
    public static let dataPort: UInt16 = 0x511
    /// The longest file name: 55 bytes plus the NUL of the 56-byte field.
    public static let maximumFileNameLength = 55

    /// The interface state.
    @exclusivity(unchecked) public private(set) var state = FwCfgState()
    /// Every item by key (files included).
    public private(set) var items: [UInt16: [UInt8]] = [:]
    /// The files, in the directory's order (by name).
    public private(set) var files: [FwCfgFile] = []
    private var nextFileSelector = FwCfgKey.firstFile
    private var current: [UInt8] = []

    /// Creates the device with the standard items for `ramSize` bytes of RAM,
    /// `cpuCount` processors and, when given, a kernel command line.
    public init(ramSize: UInt64, cpuCount: UInt16, commandLine: String? = nil) {
        items[FwCfgKey.signature] = Array("QEMU".utf8)
        items[FwCfgKey.id] = Self.littleEndian(UInt64(1), bytes: 4)
        items[FwCfgKey.ramSize] = Self.littleEndian(ramSize, bytes: 8)
        items[FwCfgKey.numberOfCPUs] = Self.littleEndian(UInt64(cpuCount), bytes: 2)
        items[FwCfgKey.maximumCPUs] = Self.littleEndian(UInt64(cpuCount), bytes: 2)
        if let commandLine {
            let data = Array(commandLine.utf8) + [0]
            items[FwCfgKey.commandLineSize] = Self.littleEndian(UInt64(data.count), bytes: 4)
            items[FwCfgKey.commandLineData] = data
        }
        rebuildDirectory()
        select(state.selector)
    }

    /// Replaces the interface state (restoring a snapshot; items are configuration).
    public func restore(_ state: FwCfgState) {
        select(state.selector)
        self.state.offset = min(state.offset, UInt32(truncatingIfNeeded: current.count))
    }

    /// Sets a numbered item (e.g. an architecture-specific 0x8000+ key).
    /// - Throws: `.reservedKey` for the file directory and the file range
    ///   0x0020–0x3FFF (use `addFile`), `.itemTooLarge` past 2³² − 1 bytes.
    public func setItem(_ key: UInt16, bytes: [UInt8]) throws(FwCfgError) {
        let key = key & ~FwCfgKey.writeChannel
        guard key != FwCfgKey.fileDirectory, !(FwCfgKey.firstFile...FwCfgKey.lastFile).contains(key) else {
            throw .reservedKey(key)
        }
        guard UInt64(bytes.count) <= UInt64(UInt32.max) else { throw .itemTooLarge(bytes.count) }
        items[key] = bytes
        refreshCurrent()
    }

    /// Adds a named file, listed in the directory; returns its selector.
    /// - Throws: `.invalidFileName`, `.duplicateFileName`, `.tooManyFiles`, `.itemTooLarge`.
    @discardableResult
    public func addFile(_ name: String, bytes: [UInt8]) throws(FwCfgError) -> UInt16 {
        let utf8 = Array(name.utf8)
        guard !utf8.isEmpty, utf8.count <= Self.maximumFileNameLength, !utf8.contains(0) else {
            throw .invalidFileName(name)
        }
        guard !files.contains(where: { $0.name == name }) else { throw .duplicateFileName(name) }
        guard nextFileSelector <= FwCfgKey.lastFile else { throw .tooManyFiles }
        guard UInt64(bytes.count) <= UInt64(UInt32.max) else { throw .itemTooLarge(bytes.count) }
        let selector = nextFileSelector
        nextFileSelector += 1
        items[selector] = bytes
        files.append(FwCfgFile(name: name, selector: selector, size: UInt32(truncatingIfNeeded: bytes.count)))
        files.sort { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        rebuildDirectory()
        refreshCurrent()
        return selector
    }

    /// Reads the data register (offset 1, one byte); all ones elsewhere.
    public func read(offset: UInt64, size: Int) -> UInt64 {
        guard offset == 1, size == 1 else { return Bus.allOnes(size: size) }
        let index = Int(state.offset)
        guard current.indices.contains(index) else { return 0 }
        state.offset &+= 1
        return UInt64(current[index])
    }

    /// Writes the selector (offset 0, two bytes); everything else is ignored.
    public func write(offset: UInt64, size: Int, value: UInt64) {
        guard offset == 0, size == 2 else { return }
        select(UInt16(truncatingIfNeeded: value))
    }

    private func select(_ selector: UInt16) {
        state.selector = selector
        state.offset = 0
        refreshCurrent()
    }

    private func refreshCurrent() {
        current = items[state.selector & ~FwCfgKey.writeChannel] ?? []
    }

    /// FWCfgFiles: big-endian count, then per file big-endian size, select, reserved, name[56].
    private func rebuildDirectory() {
        var bytes = Self.bigEndian(UInt64(files.count), bytes: 4)
        for file in files {
            bytes += Self.bigEndian(UInt64(file.size), bytes: 4)
            bytes += Self.bigEndian(UInt64(file.selector), bytes: 2)
            bytes += [0, 0]
            var name = Array(file.name.utf8.prefix(Self.maximumFileNameLength))
            name += [UInt8](repeating: 0, count: 56 - name.count)
            bytes += name
        }
        items[FwCfgKey.fileDirectory] = bytes
    }

    private static func littleEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> UInt64(8 * $0)) }
    }

    private static func bigEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
        littleEndian(value, bytes: bytes).reversed()
    }
}
