// Test support: synthetic kernel images (bzImage, ELF, multiboot) built byte by byte, for the loader, VMM and
// CLI tests. The setup-header offsets and the magic numbers are the ones `Loaders` parses with.
import Loaders

/// Little-endian byte-building helpers.
extension Array where Element == UInt8 {
    /// Stores `value` as `size` little-endian bytes at `offset`, growing the array with zeros if needed.
    public mutating func set(_ value: UInt64, at offset: Int, size: Int) {
        if count < offset + size { self += [UInt8](repeating: 0, count: offset + size - count) }
        for i in 0..<size { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    /// The `size`-byte little-endian value at `offset`.
    public func read(_ offset: Int, _ size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(self[offset + i]) << (8 * UInt64(i)) }
        return v
    }
}

/// Offsets of the Linux setup header, as `Loaders` reads them.
public typealias SetupHeader = LinuxSetupHeader.Field

/// A minimal bzImage: boot sector + 1 setup sector with the setup header filled in, then `payload`
/// (the protected-mode kernel; 0x90 bytes by default, which a 64-bit entry executes as NOPs).
public func makeBzImage(payload: [UInt8] = [UInt8](repeating: 0x90, count: 0x1000), version: UInt16 = 0x020F,
                 xloadflags: UInt16 = 0x3, prefAddress: UInt64 = 0x100_0000, initSize: UInt32 = 0x40_0000,
                 relocatable: Bool = true, cmdlineSize: UInt32 = 2047, initrdAddrMax: UInt32 = 0x7FFF_FFFF) -> [UInt8] {
    typealias H = LinuxSetupHeader.Field
    var b = [UInt8](repeating: 0, count: 1024)
    b.set(1, at: H.setupSects, size: 1)
    b.set(UInt64((payload.count + 15) / 16), at: H.syssize, size: 4)
    b.set(UInt64(LinuxSetupHeader.bootFlagValue), at: H.bootFlag, size: 2)
    b.set(0x6AEB, at: H.jump, size: 2)                                   // jmp short over the header (ends at 0x26C)
    b.set(UInt64(LinuxSetupHeader.magicValue), at: H.magic, size: 4)
    b.set(UInt64(version), at: H.version, size: 2)
    b.set(UInt64(LinuxSetupHeader.loadedHigh), at: H.loadflags, size: 1)
    b.set(UInt64(initrdAddrMax), at: H.initrdAddrMax, size: 4)
    b.set(0x20_0000, at: H.kernelAlignment, size: 4)
    b.set(relocatable ? 1 : 0, at: H.relocatable, size: 1)
    b.set(UInt64(xloadflags), at: H.xloadflags, size: 2)
    b.set(UInt64(cmdlineSize), at: H.cmdlineSize, size: 4)
    b.set(prefAddress, at: H.prefAddress, size: 8)
    b.set(UInt64(initSize), at: H.initSize, size: 4)
    return b + payload
}

/// A program header for `makeELF`.
public struct ProgramHeader {
    /// p_type (1 = PT_LOAD, 4 = PT_NOTE).
    public var type: UInt32 = 1
    /// p_offset, p_vaddr, p_paddr, p_filesz, p_memsz.
    public var offset: UInt64, vaddr: UInt64, paddr: UInt64, filesz: UInt64, memsz: UInt64

    /// A program header; `type` 1 is PT_LOAD.
    public init(type: UInt32 = 1, offset: UInt64, vaddr: UInt64, paddr: UInt64, filesz: UInt64, memsz: UInt64) {
        self.type = type; self.offset = offset; self.vaddr = vaddr; self.paddr = paddr
        self.filesz = filesz; self.memsz = memsz
    }
}

/// An ELF executable built byte by byte: header, program headers at 64 (ELF64) / 52 (ELF32), then `body`
/// starting at file offset `bodyStart`. `elfClass` overrides EI_CLASS (1 = 32-bit, 2 = 64-bit).
public func makeELF(is64: Bool, elfClass: UInt8? = nil, machine: UInt16? = nil, entry: UInt64, phs: [ProgramHeader],
             body: [UInt8], bodyStart: Int = 0x200) -> [UInt8] {
    var f = [UInt8](repeating: 0, count: bodyStart)
    f.set(0x464C_457F, at: 0, size: 4)                                   // "\x7fELF"
    f.set(UInt64(elfClass ?? (is64 ? 2 : 1)), at: 4, size: 1)
    f.set(1, at: 5, size: 1)                                             // little-endian
    f.set(1, at: 6, size: 1)
    f.set(2, at: 16, size: 2)                                            // ET_EXEC
    f.set(UInt64(machine ?? (is64 ? 62 : 3)), at: 18, size: 2)
    f.set(1, at: 20, size: 4)
    if is64 {
        f.set(entry, at: 24, size: 8); f.set(64, at: 32, size: 8)
        f.set(64, at: 52, size: 2); f.set(56, at: 54, size: 2); f.set(UInt64(phs.count), at: 56, size: 2)
        for (i, p) in phs.enumerated() {
            let o = 64 + 56 * i
            f.set(UInt64(p.type), at: o, size: 4); f.set(7, at: o + 4, size: 4)
            f.set(p.offset, at: o + 8, size: 8); f.set(p.vaddr, at: o + 16, size: 8); f.set(p.paddr, at: o + 24, size: 8)
            f.set(p.filesz, at: o + 32, size: 8); f.set(p.memsz, at: o + 40, size: 8); f.set(0x1000, at: o + 48, size: 8)
        }
    } else {
        f.set(entry, at: 24, size: 4); f.set(52, at: 28, size: 4)
        f.set(52, at: 40, size: 2); f.set(32, at: 42, size: 2); f.set(UInt64(phs.count), at: 44, size: 2)
        for (i, p) in phs.enumerated() {
            let o = 52 + 32 * i
            f.set(UInt64(p.type), at: o, size: 4); f.set(p.offset, at: o + 4, size: 4); f.set(p.vaddr, at: o + 8, size: 4)
            f.set(p.paddr, at: o + 12, size: 4); f.set(p.filesz, at: o + 16, size: 4); f.set(p.memsz, at: o + 20, size: 4)
            f.set(7, at: o + 24, size: 4); f.set(0x1000, at: o + 28, size: 4)
        }
    }
    return f + body
}

/// A small valid 32-bit ELF: one PT_LOAD of `body` at `address` (default 1 MiB), entry at its start.
public func makeELF32(address: UInt64 = 0x10_0000, body: [UInt8] = [0xF4, 0xEB, 0xFD]) -> [UInt8] {
    makeELF(is64: false, entry: address,
            phs: [ProgramHeader(offset: 0x200, vaddr: address, paddr: address, filesz: UInt64(body.count), memsz: UInt64(body.count))],
            body: body)
}

/// A multiboot header: magic, flags, checksum (computed unless given), then the a.out address fields.
public func multibootHeader(flags: UInt32, checksum: UInt32? = nil, addresses: [UInt32] = []) -> [UInt8] {
    var h: [UInt8] = []
    h.set(UInt64(MultibootHeader.magic), at: 0, size: 4)
    h.set(UInt64(flags), at: 4, size: 4)
    h.set(UInt64(checksum ?? (0 &- (MultibootHeader.magic &+ flags))), at: 8, size: 4)
    for (i, a) in addresses.enumerated() { h.set(UInt64(a), at: 12 + 4 * i, size: 4) }
    return h
}

/// An a.out-kludge multiboot kernel: the header at file offset 0 loaded at `load`, then `code`
/// (entry at `entry`, default the first byte of `code`); `flags` bit 16 is always set.
public func makeMultibootAout(flags: UInt32 = 0, load: UInt32 = 0x10_0000, entry: UInt32? = nil, checksum: UInt32? = nil,
                       code: [UInt8] = [0xF4, 0xEB, 0xFD]) -> [UInt8] {
    let f = flags | MultibootHeader.aoutKludge
    let end = load + 32 + UInt32(code.count)
    return multibootHeader(flags: f, checksum: checksum, addresses: [load, load, end, 0, entry ?? load + 32]) + code
}

/// Deterministic non-image bytes (no ELF, multiboot or bzImage signature).
public func garbage(_ count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
    var x = seed
    var bytes = (0..<count).map { _ in
        x ^= x << 13; x ^= x >> 7; x ^= x << 17                          // xorshift64
        return UInt8(truncatingIfNeeded: x >> 24)
    }
    if !bytes.isEmpty { bytes[0] = 0 }                                   // never "\x7fELF"
    return bytes
}
