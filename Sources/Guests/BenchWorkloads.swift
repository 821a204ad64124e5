// Benchmark workloads: fixed guest programs whose instruction mix stays the same from run to run,
// so that guest MIPS figures can be compared across changes to the processor model.
import X86Assembler

/// A bare 64-bit integer workload for the `bench` subcommand.
///
/// The guest runs at CPL 0 in 64-bit mode with 4-level paging (identity map, 4 KiB pages for the
/// data so that the TLB is exercised), and executes, per outer iteration:
/// - a pass over a 256 KiB array: load, ALU mix, store back (memory-bound straight-line code);
/// - a dispatch loop: `call` into a routine that does a switch-like `jmp [table + rax*8]` to one
///   of eight small cases, each ending in `ret`;
/// - a pseudo-random walk of loads over the same array (TLB and cache hit-rate bound).
///
/// It ends with HLT. Nothing depends on devices or interrupts.
public struct IntegerBenchWorkload: Sendable {
    /// Guest-physical RAM needed, in bytes.
    public static let ramSize = 8 << 20
    /// Physical address of the PML4 (load into CR3).
    public static let cr3: UInt64 = 0x10000
    /// Entry point (linear = physical).
    public static let entry: UInt64 = 0x100000
    /// Initial stack pointer.
    public static let stackTop: UInt64 = 0xF0000
    /// Physical address of the data array.
    public static let arrayBase: UInt64 = 0x200000
    /// Elements (8 bytes each) of the data array: 256 KiB.
    public static let arrayElements = 32768

    /// Memory contents to load before running: (physical address, bytes).
    public let chunks: [(address: UInt64, bytes: [UInt8])]
    /// Outer iterations the guest performs.
    public let iterations: Int

    /// Assembles the workload for `iterations` outer iterations (about 0.45 M instructions each).
    public init(iterations: Int = 200) throws {
        self.iterations = iterations
        var chunks: [(address: UInt64, bytes: [UInt8])] = []
        chunks.append((IntegerBenchWorkload.entry, try IntegerBenchWorkload.code(iterations: iterations)))
        chunks.append(contentsOf: IntegerBenchWorkload.pageTables())
        self.chunks = chunks
    }

    /// Little-endian bytes of 64-bit values.
    static func qwords(_ values: [UInt64]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * 8)
        for v in values { for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) } }
        return out
    }

    /// Identity map of the first 8 MiB: PML4 at 0x10000, PDPT at 0x11000, PD at 0x12000;
    /// 0–2 MiB and 4–8 MiB as 2 MiB pages, 2–4 MiB (the data array) as 4 KiB pages (PT at 0x13000).
    static func pageTables() -> [(address: UInt64, bytes: [UInt8])] {
        let pml4: UInt64 = 0x10000, pdpt: UInt64 = 0x11000, pd: UInt64 = 0x12000, pt: UInt64 = 0x13000
        let rw: UInt64 = 0x3
        let pdEntries: [UInt64] = [0x0 | rw | 0x80, pt | rw, 0x400000 | rw | 0x80, 0x600000 | rw | 0x80]
        let ptEntries: [UInt64] = (0..<512).map { UInt64(0x200000 + $0 * 4096) | rw }
        return [
            (pml4, qwords([pdpt | rw])),
            (pdpt, qwords([pd | rw])),
            (pd, qwords(pdEntries)),
            (pt, qwords(ptEntries)),
        ]
    }

    /// The guest program.
    static func code(iterations: Int) throws -> [UInt8] {
        let a = Assembler(mode: .bits64, origin: IntegerBenchWorkload.entry)
        let table = a.label("table")
        let dispatch = a.label("dispatch")
        let n = Int64(IntegerBenchWorkload.arrayElements)

        a.mov(.rsp, .imm(IntegerBenchWorkload.stackTop))
        a.mov(.r15, .imm(iterations))
        a.mov(.rsi, .imm(IntegerBenchWorkload.arrayBase))
        a.mov(.rbx, 0x1234_5678)
        a.xor(.r8d, .r8d)
        let outer = a.here("outer")

        // Phase 1: array pass.
        a.xor(.ecx, .ecx)
        let l1 = a.here("pass")
        a.mov(.rax, .qword[.rsi + .rcx * 8])
        a.lea(.rax, .qword[.rax + .rax * 2])
        a.add(.rax, .rcx)
        a.xor(.rax, .rbx)
        a.mov(.qword[.rsi + .rcx * 8], .rax)
        a.add(.rbx, .rax)
        a.shr(.rbx, 3)
        a.inc(.rcx)
        a.cmp(.rcx, .imm(n))
        a.jb(l1)

        // Phase 2: calls and a switch-like indirect jump.
        a.mov(.ecx, 4096)
        let l2 = a.here("calls")
        a.mov(.eax, .ecx)
        a.and(.eax, 7)
        a.call(dispatch)
        a.dec(.ecx)
        a.jnz(l2)

        // Phase 3: pseudo-random walk of loads.
        a.mov(.ecx, 8192)
        a.mov(.rdx, .rbx)
        let l3 = a.here("walk")
        a.imul(.edx, .edx, 1_103_515_245)
        a.add(.edx, 12345)
        a.mov(.eax, .edx)
        a.shr(.eax, 8)
        a.and(.eax, .imm(n - 1))
        a.add(.r8, .qword[.rsi + .rax * 8])
        a.dec(.ecx)
        a.jnz(l3)

        a.dec(.r15)
        a.jnz(outer)
        a.hlt()

        // dispatch: jump through the table on RAX (0–7).
        a.bind(dispatch)
        a.mov(.rdx, .label(table))
        a.jmp(.qword[.rdx + .rax * 8])
        var cases: [Label] = []
        for i in 0..<8 {
            let c = a.here("case\(i)")
            cases.append(c)
            switch i {
            case 0: a.add(.rbx, .rcx)
            case 1: a.sub(.rbx, .rax)
            case 2: a.imul(.rbx, .rbx, 13)
            case 3: a.xor(.rbx, .rcx); a.shr(.rbx, 1)
            case 4: a.push(.rcx); a.add(.rbx, .qword[.rsp]); a.pop(.rcx)
            case 5: a.mov(.rdx, .rbx); a.shl(.rdx, 5); a.sub(.rbx, .rdx)
            case 6: a.or(.rbx, 1); a.ror(.rbx, 3)
            default: a.not(.rbx); a.add(.rbx, .rax)
            }
            a.ret()
        }
        a.align(8)
        a.bind(table)
        for c in cases { a.dq(c) }
        return try a.finish()
    }
}
