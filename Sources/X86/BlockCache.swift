// Pre-decoded basic blocks: straight-line runs of decoded instructions laid out one after another, so the
// execution loop steps to the next instruction by a pointer increment instead of a decode-cache lookup.
//
// A block starts at a physical address and holds the instructions that follow it on the same 4 KiB page, up
// to an indirect or out-of-page control transfer, a system instruction, an instruction that does not decode or
// would cross the page, or `BlockCache.maxLength` instructions. A direct JMP or CALL to a target on the same
// page continues the block at its target. Conditional branches do not end a block: when one is taken, RIP
// differs from the next entry's address (its page offset is that of its physical address) and the loop leaves
// the block there.
//
// Validity is that of the decoded-instruction cache (`DecodeCache`): a block is tagged with its physical
// address, the decode mode and the generation of its code page, and any write to the page bumps the
// generation. The loop re-checks generation, mode, TLB epoch and CPL before each instruction after the first
// (a store in the block may rewrite the block itself), so a block never runs an instruction that the
// one-at-a-time path would not have decoded the same way.

/// Directory entry of one block.
struct BlockEntry {
    /// Physical address of the block's first instruction (`~0`: empty).
    var tag: UInt64 = ~0
    /// Generation of the code page when the block was built (`PhysicalMemory.generation(page:)`).
    var generation: UInt32 = 0
    /// Index of the first instruction in the arena.
    var start: UInt32 = 0
    /// Number of instructions.
    var count: UInt16 = 0
    /// Decode mode when the block was built.
    var mode: UInt8 = 0xFF
}

/// Storage of the pre-decoded blocks: a direct-mapped directory and a bump-allocated arena of instructions,
/// emptied as a whole when full.
final class BlockCache {
    /// Instructions per block at most.
    static let maxLength = 48
    /// Directory slots (a power of two).
    static let directorySize = 1 << 13
    /// Arena capacity in instructions.
    static let arenaSize = 1 << 14

    let directory: UnsafeMutablePointer<BlockEntry>
    let arena: UnsafeMutablePointer<Instruction>
    /// Storage of `directory` and `arena`: zero-filled; an all-zero directory entry never validates
    /// (generation 0 is never a code page's generation), and arena slots are written before they are read.
    private let directoryTable: ZeroedTable<BlockEntry>
    private let arenaTable: ZeroedTable<Instruction>
    /// Next free arena index.
    var used = 0

    init() {
        directoryTable = ZeroedTable(count: BlockCache.directorySize, zero: BlockEntry())
        arenaTable = ZeroedTable(count: BlockCache.arenaSize, zero: Instruction())
        directory = directoryTable.base
        arena = arenaTable.base
    }

    deinit {
        directoryTable.free()
        arenaTable.free()
    }

    /// The directory slot for a physical address.
    @inline(__always) func slot(_ pa: UInt64) -> UnsafeMutablePointer<BlockEntry> {
        directory + Int(truncatingIfNeeded: (pa ^ (pa >> 14)) & UInt64(BlockCache.directorySize - 1))
    }

    /// Drops every block (only between blocks: the execution loop holds no arena pointer then).
    func flush() {
        for i in 0..<BlockCache.directorySize { directory[i].tag = ~0 }
        used = 0
    }
}

extension Op {
    /// Whether the instruction after this one (in address order) may run in the same block: false for
    /// unconditional control transfers and every instruction `CPU.executeSystem` handles (mode, paging,
    /// privilege and interrupt-flag changes end a block, so a block never outlives its assumptions).
    var continuesBlock: Bool {
        switch self {
        case .aluRMReg, .aluRegRM, .aluRMImm, .testRMReg, .testRMImm, .incRM, .decRM, .notRM, .negRM,
             .mulRM, .imulRM, .divRM, .idivRM, .imulRegRM, .imulRegRMImm,
             .shiftRMImm, .shiftRM1, .shiftRMCL, .shldImm, .shldCL, .shrdImm, .shrdCL,
             .btRMReg, .btRMImm, .bsf, .bsr, .popcnt, .bswap, .cmpxchg, .cmpxchg8b, .xadd, .xchgRMReg,
             .movbeLoad, .movbeStore, .movRMReg, .movRegRM, .movRMImm, .movRegImm, .movAccMoffs, .movMoffsAcc,
             .movzx, .movsx, .movsxd, .lea, .cmov, .setcc, .cbw, .cwd, .lahf, .sahf, .xlat,
             .pushReg, .popReg, .pushImm, .pushRM, .popRM, .enter, .leave,
             .jcc, .loop, .jcxz, .string, .clc, .stc, .cmc, .cld, .std, .nop, .fence, .x87, .sse:
            return true
        default:
            return false
        }
    }
}

extension CPU {
    /// Builds the block that starts at physical address `pa` (64-bit code; the page already holds decoded
    /// code, so writes to it are tracked) and returns its directory entry, or nil when no block can be built
    /// there (not RAM, not executable, first instruction incomplete on the page).
    func buildBlock(at pa: UInt64) -> UnsafeMutablePointer<BlockEntry>? {
        let page = pa >> 12
        guard page < trackedPages, pageState[Int(truncatingIfNeeded: page)] & 1 != 0,
              let region = memory.region(containing: pa), region.permissions.contains(.execute) else { return nil }
        if blocks.used + BlockCache.maxLength > BlockCache.arenaSize { blocks.flush() }
        // Safe: regions are page-aligned (`PhysicalMemory.map`), so the whole page of `pa` lies in `region`,
        // whose host memory stays mapped while `memory` (owned by this processor) lives.
        let pageHost = UnsafeRawPointer(region.host + Int(truncatingIfNeeded: (pa & ~0xFFF) &- region.base))
        var offset = Int(pa & 0xFFF)
        let first = blocks.used
        var count = 0
        while count < BlockCache.maxLength && offset < 4096 {
            var d = Instruction()
            let available = min(4096 - offset, 15)
            guard decode(UnsafeRawBufferPointer(start: pageHost + offset, count: available), into: &d) == .ok else { break }
            d.tag = (pa & ~0xFFF) | UInt64(offset)
            d.fast = d.fastForm64
            d.fastAccessesMemory = d.fast.rawValue >= FastForm.firstMemoryForm.rawValue
            blocks.arena[first + count] = d
            count += 1
            offset += Int(d.length)
            // A direct JMP or CALL whose target lies on this page continues the block at the target.
            if (d.op == .jmpRel || d.op == .callRel) && d.opSize == 8 {
                let target = Int64(offset) &+ Int64(bitPattern: d.imm)
                if target >= 0 && target < 4096 { offset = Int(target); continue }
                break
            }
            if !d.op.continuesBlock { break }
        }
        guard count > 0 else { return nil }
        blocks.used += count
        let e = blocks.slot(pa)
        e.pointee = BlockEntry(tag: pa, generation: pageState[Int(truncatingIfNeeded: page)] | 1, start: UInt32(first),
                               count: UInt16(count), mode: decodeMode)
        return e
    }
}
