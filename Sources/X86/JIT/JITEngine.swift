// The JIT engine: owns the code cache, translates blocks once they are hot and runs their translations from the
// block loop (`CPU.runBatch`).

/// A translation: `(gpr, ctx) -> JITExit word` (Translator.swift).
typealias JITFunction = @convention(c) (UnsafeMutablePointer<UInt64>, UnsafeMutablePointer<UInt64>) -> UInt64

/// Translations of pre-decoded blocks into host code (x86-64 hosts only; `init` fails elsewhere).
final class JITEngine {
    /// Size of the code cache. With the block arena (BlockCache) this bounds the JIT's memory.
    static let codeCacheSize = 8 << 20
    /// Size of the buffer one translation is emitted into before it is installed.
    static let scratchSize = 1 << 15
    /// Runs of a block in the interpreter before it is translated (`CPU.jitHotRuns`). Many blocks of a boot run
    /// a few times only; translating those costs more than it saves, and each installation costs two
    /// protection changes of the code cache (W^X).
    var hotRuns = ExecutionPath.jitHotRunsDefault

    let code: ExecutableMemory
    /// The JIT context (`JITContext`), read and written by translations.
    let context: UnsafeMutablePointer<UInt64>
    private let scratch: UnsafeMutablePointer<UInt8>
    /// Blocks translated, blocks with nothing to translate, code cache resets.
    private(set) var translated = 0, untranslated = 0, resets = 0
    /// Calls of translations and the instructions they retired.
    var runs = 0, retired = 0

    init?() {
        guard let m = ExecutableMemory(size: JITEngine.codeCacheSize) else { return nil }
        code = m
        context = .allocate(capacity: JITContext.words)
        context.initialize(repeating: 0, count: JITContext.words)
        scratch = .allocate(capacity: JITEngine.scratchSize)
        scratch.initialize(repeating: 0, count: JITEngine.scratchSize)
    }

    deinit {
        context.deallocate()
        scratch.deallocate()
    }

    /// Translates block `b` (entries in `arena`) and records the result in its directory entry.
    func translate(_ b: UnsafeMutablePointer<BlockEntry>, arena: UnsafeMutablePointer<Instruction>) {
        var t = Translator(buffer: scratch, capacity: JITEngine.scratchSize)
        // Safe: the block's entries lie in the arena (BlockCache.buildBlock), `count` of them from `start`.
        let k = t.translate(arena + Int(b.pointee.start), count: Int(b.pointee.count))
        var offset = 0
        if k > 0 {
            if let o = code.install(scratch, count: t.e.position) {
                offset = o
            } else {
                // Full: every translation goes; this block is translated again on its next run.
                code.reset()
                resets += 1
                return
            }
        }
        if offset != 0 { translated += 1 } else { untranslated += 1 }
        b.pointee.jitEpoch = code.epoch
        b.pointee.jitCode = UInt32(offset)
        b.pointee.jitCount = UInt16(offset != 0 ? k : 0)
    }
}

extension CPU {
    /// Runs the translation of block `b`, which starts at RIP `ip`, when it has one (translating it on its
    /// `CPU.jitHotRuns`-th run) and it fits `budget` instructions; returns the number of instructions it retired (0: nothing ran and
    /// nothing changed). Afterwards RIP, the registers, the flags, memory and the instruction count are what the
    /// interpreter would have left after the same instructions.
    @inline(__always)
    func runTranslated(_ b: UnsafeMutablePointer<BlockEntry>, at ip: UInt64, budget: Int) -> Int {
        guard let jit = blocks.jit else { return 0 }
        if b.pointee.jitEpoch != jit.code.epoch {
            if b.pointee.jitHeat < jit.hotRuns {
                b.pointee.jitHeat &+= 1
                return 0
            }
            jit.translate(b, arena: blocks.arena)
        }
        // Translations do not raise #AC and do not end interrupt shadows: those cases stay in the interpreter.
        guard b.pointee.jitCode != 0, b.pointee.jitEpoch == jit.code.epoch, Int(b.pointee.jitCount) <= budget,
              interruptibilityValue == 0, !alignmentCheck else { return 0 }
        let ctx = jit.context
        ctx[JITContext.cpu] = UInt64(UInt(bitPattern: Unmanaged.passUnretained(self).toOpaque()))
        let user = cplValue == 3
        ctx[JITContext.page] = ip & ~0xFFF
        ctx[JITContext.readTags] = UInt64(UInt(bitPattern: tlbTags + TLB.slot(0, .read, user)))
        ctx[JITContext.readHosts] = UInt64(UInt(bitPattern: tlbHosts + TLB.slot(0, .read, user)))
        ctx[JITContext.writeTags] = UInt64(UInt(bitPattern: tlbTags + TLB.slot(0, .write, user)))
        ctx[JITContext.writeHosts] = UInt64(UInt(bitPattern: tlbHosts + TLB.slot(0, .write, user)))
        ctx[JITContext.tlbGeneration] = tlbGeneration.pointee
        // Safe: the code at this offset was installed (executable, not writable) under the current epoch, and
        // it touches only the 16 registers at `gpr`, the context words and TLB-hit guest RAM pages.
        let f = unsafeBitCast(jit.code.base + Int(b.pointee.jitCode), to: JITFunction.self)
        let r = f(gpr, ctx)
        let retired = Int(truncatingIfNeeded: r & 0xFFFF)
        ripValue = (ip & ~0xFFF) &+ ((r >> 16) & 0x1FFF)
        if r & (1 << 33) != 0 { flagsBase = (flagsBase & ~CPU.cfBit) | (ctx[JITContext.carry] & 1) }
        if r & (1 << 32) != 0 {
            lazy = LazyFlags(op: FlagOp(rawValue: UInt8(truncatingIfNeeded: r >> 40)) ?? .none,
                             size: UInt8(truncatingIfNeeded: r >> 48), dst: ctx[JITContext.lazyDst],
                             src: ctx[JITContext.lazySrc], res: ctx[JITContext.lazyRes])
        }
        instructionCount &+= UInt64(retired)
        #if DEBUG
        jit.runs += 1
        jit.retired += retired
        #endif
        return retired
    }
}

/// The interpreter's handler of one register-only specialised form (`FastForm.runsThroughInterpreter`), called
/// from a translation: `cpu` is the processor (unretained), `entry` the instruction in the block arena, `state`
/// the translation's flag state so far (the `JITExit` bits 32–55), installed first as `CPU.runTranslated` does.
func jitInterpretOne(_ cpu: UnsafeMutableRawPointer, _ entry: UnsafeMutableRawPointer, _ state: UInt64) {
    // Safe: the translation passes the processor that runs it (`runTranslated` stored it for this call) and an
    // entry of its block, which stays in the arena while the translation can run.
    Unmanaged<CPU>.fromOpaque(cpu).takeUnretainedValue()
        .interpretOne(entry.assumingMemoryBound(to: Instruction.self), state: state)
}

/// The address of `jitInterpretOne` as a C function, embedded in translations.
let jitInterpretOneAddress: UInt64 = {
    let f: @convention(c) (UnsafeMutableRawPointer, UnsafeMutableRawPointer, UInt64) -> Void = jitInterpretOne
    return UInt64(UInt(bitPattern: unsafeBitCast(f, to: UnsafeRawPointer.self)))
}()

extension CPU {
    /// See `jitInterpretOne`.
    func interpretOne(_ p: UnsafeMutablePointer<Instruction>, state: UInt64) {
        guard let jit = blocks.jit else { return }
        let ctx = jit.context
        if state & (1 << 33) != 0 { flagsBase = (flagsBase & ~CPU.cfBit) | (ctx[JITContext.carry] & 1) }
        if state & (1 << 32) != 0 {
            lazy = LazyFlags(op: FlagOp(rawValue: UInt8(truncatingIfNeeded: state >> 40)) ?? .none,
                             size: UInt8(truncatingIfNeeded: state >> 48), dst: ctx[JITContext.lazyDst],
                             src: ctx[JITContext.lazySrc], res: ctx[JITContext.lazyRes])
        }
        startRIP = ctx[JITContext.page] | (p.pointee.tag & 0xFFF)
        ripValue = startRIP &+ UInt64(p.pointee.length)
        do throws(Abort) {
            try executeFast(p, p.pointee.fast)
        } catch {
            // Unreachable: these forms raise nothing (they only read and write registers and flags).
            assertionFailure("register-only form \(p.pointee.fast) raised \(error)")
        }
    }
}
