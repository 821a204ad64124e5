// The JIT's code cache: host memory that holds generated machine code. This is the one platform file of the JIT.
//
// W^X: the region is never writable and executable at once. It is mapped read+execute; to add a translation
// the pages it lands on are made read+write, the code is written, and they are made read+execute again before
// anything runs. The cache is bounded and emptied as a whole when full (`reset`); the translations that pointed
// into it are dropped by bumping `epoch` (BlockEntry.jitEpoch).
//
// The generated code is x86-64, so the cache exists only on x86-64 hosts. On other hosts (Apple silicon: where
// an AArch64 back end would use MAP_JIT and pthread_jit_write_protect_np) `ExecutableMemory.init` fails and the
// processor runs on the interpreter.

#if os(Linux) && arch(x86_64)
import Glibc
#endif

/// A bounded region of executable host memory, written with W^X discipline.
final class ExecutableMemory {
    /// Start of the region.
    let base: UnsafeMutableRawPointer
    /// Size of the region in bytes (a multiple of the page size).
    let size: Int
    /// Offset of the first free byte.
    private(set) var used: Int
    /// Incremented by every `reset`: a translation made under another epoch is gone.
    private(set) var epoch: UInt32 = 1
    /// Bytes never handed out at the start of the region, so an offset of 0 never names code.
    static let reserved = 64

    /// Whether this host can run generated code (an x86-64 Linux host).
    static var hostSupported: Bool {
        #if os(Linux) && arch(x86_64)
        return true
        #else
        return false
        #endif
    }

    /// Maps `size` bytes (rounded up to pages) read+execute; nil when the host cannot run generated code or the
    /// mapping fails.
    init?(size requested: Int) {
        #if os(Linux) && arch(x86_64)
        let bytes = (max(requested, 1 << 16) + 0xFFFF) & ~0xFFFF
        let raw = mmap(nil, bytes, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let raw, raw != MAP_FAILED else { return nil }
        base = raw
        size = bytes
        used = ExecutableMemory.reserved
        #else
        return nil
        #endif
    }

    deinit {
        #if os(Linux) && arch(x86_64)
        // Safe: `base` is the mapping this object created and nothing else unmaps it.
        munmap(base, size)
        #endif
    }

    /// Space left for new code.
    var free: Int { size - used }

    /// Drops every translation: the whole region is free again and `epoch` moves on.
    func reset() {
        used = ExecutableMemory.reserved
        epoch &+= 1
        if epoch == 0 { epoch = 1 }
    }

    /// Copies `count` bytes from `code` into the cache (16-byte aligned) and returns their offset, or nil when
    /// they do not fit (the caller resets the cache and translates again later). The touched pages are made
    /// writable (not executable) for the copy and executable (not writable) again before this returns.
    func install(_ code: UnsafeRawPointer, count: Int) -> Int? {
        let start = (used + 15) & ~15
        guard count > 0, start + count <= size else { return nil }
        #if os(Linux) && arch(x86_64)
        let pageStart = start & ~0xFFF
        let pageEnd = (start + count + 0xFFF) & ~0xFFF
        // Safe: [pageStart, pageEnd) lies inside the mapping (start + count <= size, size is page-aligned).
        let pages = base + pageStart
        guard mprotect(pages, pageEnd - pageStart, PROT_READ | PROT_WRITE) == 0 else { return nil }
        (base + start).copyMemory(from: code, byteCount: count)
        guard mprotect(pages, pageEnd - pageStart, PROT_READ | PROT_EXEC) == 0 else {
            // Not executable: never hand it out.
            return nil
        }
        used = start + count
        return start
        #else
        return nil
        #endif
    }
}
