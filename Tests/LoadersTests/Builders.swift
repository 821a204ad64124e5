@testable import Loaders

/// Little-endian byte-building helpers for synthetic images.
extension Array where Element == UInt8 {
    mutating func set(_ value: UInt64, at offset: Int, size: Int) {
        if count < offset + size { self += [UInt8](repeating: 0, count: offset + size - count) }
        for i in 0..<size { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    func read(_ offset: Int, _ size: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<size { v |= UInt64(self[offset + i]) << (8 * UInt64(i)) }
        return v
    }
}

/// A minimal bzImage: boot sector + 1 setup sector, setup header fields set, then `payload`.
func makeBzImage(payload: [UInt8] = [UInt8](repeating: 0x90, count: 0x1000), version: UInt16 = 0x020F,
                 xloadflags: UInt16 = 0x3, prefAddress: UInt64 = 0x100_0000, initSize: UInt32 = 0x40_0000,
                 relocatable: Bool = true, cmdlineSize: UInt32 = 2047, initrdAddrMax: UInt32 = 0x7FFF_FFFF) -> [UInt8] {
    var b = [UInt8](repeating: 0, count: 1024)
    b.set(1, at: 0x1F1, size: 1)                                        // setup_sects
    b.set(UInt64((payload.count + 15) / 16), at: 0x1F4, size: 4)       // syssize
    b.set(0xAA55, at: 0x1FE, size: 2)
    b.set(0x6AEB, at: 0x200, size: 2)                                   // jmp short, header ends at 0x26C
    b.set(0x5372_6448, at: 0x202, size: 4)                              // "HdrS"
    b.set(UInt64(version), at: 0x206, size: 2)
    b.set(0x01, at: 0x211, size: 1)                                     // LOADED_HIGH
    b.set(UInt64(initrdAddrMax), at: 0x22C, size: 4)
    b.set(0x20_0000, at: 0x230, size: 4)                                // kernel_alignment
    b.set(relocatable ? 1 : 0, at: 0x234, size: 1)
    b.set(UInt64(xloadflags), at: 0x236, size: 2)
    b.set(UInt64(cmdlineSize), at: 0x238, size: 4)
    b.set(prefAddress, at: 0x258, size: 8)
    b.set(UInt64(initSize), at: 0x260, size: 4)
    return b + payload
}

/// A program header for `makeELF`.
struct PH {
    var type: UInt32 = 1
    var offset: UInt64
    var vaddr: UInt64
    var paddr: UInt64
    var filesz: UInt64
    var memsz: UInt64
}

/// An ELF executable built byte by byte: header, program headers at 64 (ELF64) / 52 (ELF32), then `body`
/// (program-header offsets are file offsets; put contents in `body` at offset - bodyStart).
func makeELF(is64: Bool, machine: UInt16? = nil, entry: UInt64, phs: [PH], body: [UInt8], bodyStart: Int = 0x200) -> [UInt8] {
    var f = [UInt8](repeating: 0, count: bodyStart)
    f.set(0x464C_457F, at: 0, size: 4)
    f.set(is64 ? 2 : 1, at: 4, size: 1)
    f.set(1, at: 5, size: 1)
    f.set(1, at: 6, size: 1)
    f.set(2, at: 16, size: 2)                                          // ET_EXEC
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

/// A multiboot header (12 bytes, or 32 with the a.out addresses).
func multibootHeader(flags: UInt32, checksum: UInt32? = nil, addresses: [UInt32] = []) -> [UInt8] {
    var h: [UInt8] = []
    h.set(0x1BAD_B002, at: 0, size: 4)
    h.set(UInt64(flags), at: 4, size: 4)
    h.set(UInt64(checksum ?? (0 &- (0x1BAD_B002 &+ flags))), at: 8, size: 4)
    for (i, a) in addresses.enumerated() { h.set(UInt64(a), at: 12 + 4 * i, size: 4) }
    return h
}

let ram256 = MemoryMap.standardPC(ramSize: 256 << 20)
