// Physical memory: RAM regions backed by host memory, and a bus for everything else.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A large table that starts all zero: anonymous host pages, zero-filled by the host on first touch, so the
/// untouched part of the table (most of the page-state table, cold parts of the decode caches) costs no host
/// memory. `Element`'s all-zero bit pattern must be a valid value, and it is what every slot starts as.
/// Falls back to the heap, filled with `zero`, when the host refuses the mapping.
struct ZeroedTable<Element> {
    /// The first element.
    let base: UnsafeMutablePointer<Element>
    /// Number of elements.
    let count: Int
    /// Whether `base` is an anonymous mapping (else a heap allocation).
    private let mapped: Bool

    init(count: Int, zero: Element) {
        self.count = count
        let bytes = count * MemoryLayout<Element>.stride
        let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        if let raw, raw != MAP_FAILED {
            // Safe: the mapping is page-aligned (enough for any element), `bytes` long and zero-filled.
            base = UnsafeMutableRawPointer(raw).bindMemory(to: Element.self, capacity: count)
            mapped = true
        } else {
            base = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: Element.self, capacity: count)
            base.initialize(repeating: zero, count: count)
            mapped = false
        }
    }

    /// Releases the table (once, by its owner's deinit).
    func free() {
        if mapped { munmap(base, count * MemoryLayout<Element>.stride) } else { UnsafeMutableRawPointer(base).deallocate() }
    }
}

/// Port I/O and memory-mapped I/O outside RAM. The processor calls it on the slow path only.
public protocol PlatformBus: AnyObject {
    /// Reads `size` (1, 2 or 4) bytes from an I/O port.
    func ioRead(port: UInt16, size: Int) -> UInt32
    /// Writes `size` (1, 2 or 4) bytes to an I/O port.
    func ioWrite(port: UInt16, size: Int, value: UInt32)
    /// Reads `size` (1, 2, 4 or 8) bytes of physical address space that is not RAM.
    func mmioRead(address: UInt64, size: Int) -> UInt64
    /// Writes `size` (1, 2, 4 or 8) bytes of physical address space that is not RAM.
    func mmioWrite(address: UInt64, size: Int, value: UInt64)
}

/// A device's registers in guest-physical address space, for `CPU.executeCompletingMMIO`: accesses it
/// claims at addresses outside RAM are completed by it instead of becoming EPT violations.
public protocol MMIOHandler: AnyObject {
    /// Whether the handler completes an access at `address`.
    func handles(address: UInt64) -> Bool
    /// Reads `size` (1, 2, 4 or 8) bytes at `address`.
    func read(address: UInt64, size: Int) -> UInt64
    /// Writes `size` (1, 2, 4 or 8) bytes at `address`.
    func write(address: UInt64, size: Int, value: UInt64)
}

/// A bus with nothing on it: reads return all ones, writes are dropped.
public final class EmptyBus: PlatformBus {
    /// Creates an empty bus.
    public init() {}
    /// Returns all ones.
    public func ioRead(port: UInt16, size: Int) -> UInt32 { size >= 4 ? 0xFFFF_FFFF : (1 << (size * 8)) - 1 }
    /// Drops the write.
    public func ioWrite(port: UInt16, size: Int, value: UInt32) {}
    /// Returns all ones.
    public func mmioRead(address: UInt64, size: Int) -> UInt64 { size >= 8 ? ~0 : (1 << UInt64(size * 8)) - 1 }
    /// Drops the write.
    public func mmioWrite(address: UInt64, size: Int, value: UInt64) {}
}

/// Guest-physical memory: host buffers mapped at physical ranges with permissions.
///
/// Accesses to unmapped ranges go to the `PlatformBus` (bare execution) or become
/// EPT violations (VMX non-root operation). Each 4 KiB page carries a generation
/// counter so that decoded instructions cached from it are dropped when it is written.
public final class PhysicalMemory: @unchecked Sendable {
    /// Permissions of a mapped range (the EPT read/write/execute bits, SDM Vol. 3C §28.3.2).
    public struct Permissions: OptionSet, Sendable, Hashable {
        public var rawValue: UInt8
        /// Creates permissions from raw bits.
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Readable.
        public static let read = Permissions(rawValue: 1)
        /// Writable.
        public static let write = Permissions(rawValue: 2)
        /// Executable.
        public static let execute = Permissions(rawValue: 4)
        /// Read, write and execute.
        public static let all: Permissions = [.read, .write, .execute]
    }

    /// One mapped range.
    public struct Region: @unchecked Sendable {
        /// First guest-physical address.
        public var base: UInt64
        /// Size in bytes (a multiple of 4 KiB).
        public var size: UInt64
        /// Host memory backing the range.
        public var host: UnsafeMutableRawPointer
        /// Access permissions.
        public var permissions: Permissions
    }

    /// Errors from mapping calls.
    public enum MapError: Error, Equatable {
        /// Base or size not 4 KiB aligned, or zero size.
        case misaligned
        /// The range overlaps an existing mapping.
        case overlap
        /// The range extends past the 52-bit physical address space.
        case outOfRange
        /// The host could not provide the memory.
        case hostOutOfMemory(bytes: UInt64)
    }

    /// The mapped regions, sorted by base.
    @exclusivity(unchecked) public private(set) var regions: [Region] = []
    /// Owned allocations to free at deinit.
    private var owned: [(pointer: UnsafeMutableRawPointer, size: Int)] = []
    /// Per-page state for the decoded-instruction cache: bit 0 "holds decoded code",
    /// bits 1... a generation counter. Indexed by physical page number below `trackedPages`.
    let pageState: UnsafeMutablePointer<UInt32>
    /// Number of pages tracked by `pageState` (covers the highest RAM address below 64 GiB).
    let trackedPages: Int
    /// Storage of `pageState`.
    private let pageStateTable: ZeroedTable<UInt32>
    /// Incremented on every map/unmap so processors flush their TLBs.
    @exclusivity(unchecked) public private(set) var mapGeneration: UInt64 = 0

    /// Creates physical memory tracking pages up to `trackedLimit` bytes (default 4 GiB + 64 MiB).
    public init(trackedLimit: UInt64 = (4 << 30) + (64 << 20)) {
        trackedPages = Int(trackedLimit >> 12)
        // Zero (no decoded code, generation 0) is every page's initial state.
        pageStateTable = ZeroedTable(count: trackedPages, zero: 0)
        pageState = pageStateTable.base
    }

    /// Creates physical memory with `size` bytes of zeroed RAM at physical address 0.
    public convenience init(ramSize: Int) {
        self.init(trackedLimit: max(UInt64(ramSize), 4 << 30) + (64 << 20))
        _ = try? allocateRAM(at: 0, size: UInt64(ramSize))
    }

    deinit {
        pageStateTable.free()
        // Safe: each pair is a mapping this object created with mmap and nobody else frees.
        for (p, size) in owned { munmap(p, size) }
    }

    /// Allocates zeroed host memory and maps it at `base` with all permissions. Returns the host pointer.
    @discardableResult
    public func allocateRAM(at base: UInt64, size: UInt64, permissions: Permissions = .all) throws(MapError) -> UnsafeMutableRawPointer {
        guard size > 0, base & 0xFFF == 0, size & 0xFFF == 0 else { throw .misaligned }
        guard size <= 1 << 40 else { throw .outOfRange }
        // Anonymous mappings are page-aligned, zero-filled and backed lazily (a guest's untouched RAM costs
        // no host memory), and fail with MAP_FAILED instead of trapping when the host has no room.
        let raw = mmap(nil, Int(size), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let raw, raw != MAP_FAILED else { throw .hostOutOfMemory(bytes: size) }
        let p = UnsafeMutableRawPointer(raw)
        do { try map(host: p, at: base, size: size, permissions: permissions) } catch {
            munmap(p, Int(size)); throw error
        }
        owned.append((p, Int(size)))
        return p
    }

    /// Maps caller-owned host memory at a guest-physical range (Hypervisor.framework's `hv_vm_map`).
    /// The caller keeps the memory alive until it is unmapped.
    public func map(host: UnsafeMutableRawPointer, at base: UInt64, size: UInt64, permissions: Permissions) throws(MapError) {
        guard size > 0, base & 0xFFF == 0, size & 0xFFF == 0 else { throw .misaligned }
        let (end, overflow) = base.addingReportingOverflow(size)
        guard !overflow, end <= 1 << 52 else { throw .outOfRange }
        for r in regions where base < r.base &+ r.size && r.base < end { throw .overlap }
        regions.append(Region(base: base, size: size, host: host, permissions: permissions))
        regions.sort { $0.base < $1.base }
        mapGeneration &+= 1
        invalidateCode(from: base, size: size)
    }

    /// Removes the mappings that lie inside a range (`hv_vm_unmap`).
    public func unmap(at base: UInt64, size: UInt64) {
        regions.removeAll { $0.base >= base && $0.base &+ $0.size <= base &+ size }
        mapGeneration &+= 1
        invalidateCode(from: base, size: size)
    }

    /// Changes the permissions of mapped regions inside a range (`hv_vm_protect`).
    public func protect(at base: UInt64, size: UInt64, permissions: Permissions) {
        for i in regions.indices where regions[i].base >= base && regions[i].base &+ regions[i].size <= base &+ size {
            regions[i].permissions = permissions
        }
        mapGeneration &+= 1
    }

    /// The region containing a physical address, if any.
    @inline(__always)
    func region(containing address: UInt64) -> Region? {
        var lo = 0, hi = regions.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let r = regions[mid]
            if address < r.base { hi = mid } else if address &- r.base >= r.size { lo = mid + 1 } else { return r }
        }
        return nil
    }

    /// Host pointer for a physical address inside RAM, with at least `count` bytes in the same region.
    public func hostPointer(_ address: UInt64, count: Int = 1) -> UnsafeMutableRawPointer? {
        guard let r = region(containing: address), address &- r.base &+ UInt64(count) <= r.size else { return nil }
        return r.host + Int(address &- r.base)
    }

    /// Copies bytes into RAM (a loader or DMA write). Bytes outside RAM are dropped; returns false if any were.
    @discardableResult
    public func write(_ bytes: [UInt8], at address: UInt64) -> Bool {
        var ok = true
        for (i, b) in bytes.enumerated() {
            let a = address &+ UInt64(i)
            if let p = hostPointer(a) { p.storeBytes(of: b, as: UInt8.self) } else { ok = false }
        }
        invalidateCode(from: address, size: UInt64(bytes.count))
        return ok
    }

    /// Reads bytes from RAM; bytes outside RAM read as 0xFF.
    public func read(at address: UInt64, count: Int) -> [UInt8] {
        (0..<count).map { i in hostPointer(address &+ UInt64(i))?.load(as: UInt8.self) ?? 0xFF }
    }

    /// Reads a little-endian value of `size` bytes from RAM (0xFF bytes outside RAM).
    public func readInteger(at address: UInt64, size: Int) -> UInt64 {
        var v: UInt64 = 0
        if (1...8).contains(size), let p = hostPointer(address, count: size) {
            // Safe: `hostPointer` checked that all `size` bytes lie in one RAM region.
            for i in 0..<size { v |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << (8 * i) }
            return v
        }
        for (i, b) in read(at: address, count: size).enumerated() { v |= UInt64(b) << (8 * i) }
        return v
    }

    /// Writes a little-endian value of `size` bytes to RAM.
    public func writeInteger(_ value: UInt64, at address: UInt64, size: Int) {
        if (1...8).contains(size), let p = hostPointer(address, count: size) {
            // Safe: `hostPointer` checked that all `size` bytes lie in one RAM region.
            for i in 0..<size { p.storeBytes(of: UInt8(truncatingIfNeeded: value >> (8 * i)), toByteOffset: i, as: UInt8.self) }
            invalidateCode(from: address, size: UInt64(size))
            return
        }
        write((0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }, at: address)
    }

    /// Marks a physical page as holding decoded instructions.
    @inline(__always)
    func markCode(page: UInt64) -> Bool {
        guard page < UInt64(trackedPages) else { return false }
        pageState[Int(page)] |= 1
        return true
    }

    /// Whether a physical page holds decoded instructions.
    @inline(__always)
    func isCode(page: UInt64) -> Bool {
        page < UInt64(trackedPages) && pageState[Int(page)] & 1 != 0
    }

    /// Generation of a physical page (changes when decoded code on it is invalidated).
    @inline(__always)
    func generation(page: UInt64) -> UInt32 {
        page < UInt64(trackedPages) ? pageState[Int(page)] | 1 : 0
    }

    /// Drops decoded code on a page after a write.
    @inline(__always)
    func invalidateCode(page: UInt64) {
        guard page < UInt64(trackedPages) else { return }
        let s = pageState[Int(page)]
        if s & 1 != 0 { pageState[Int(page)] = (s &+ 2) & ~1 }
    }

    /// Drops decoded code on every page of a range.
    public func invalidateCode(from address: UInt64, size: UInt64) {
        guard size > 0 else { return }
        var p = address >> 12
        let last = (address &+ size &- 1) >> 12
        while p <= last && p < UInt64(trackedPages) { invalidateCode(page: p); p &+= 1 }
    }
}
