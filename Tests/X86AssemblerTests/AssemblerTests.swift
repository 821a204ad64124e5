// X86Assembler tests: every table entry against GNU as, plus labels, errors and mode switching.
import Testing
import X86Assembler

/// GNU as output for every table entry, one `as` run per mode.
let gnuReference: [Mode: Result<[[UInt8]], ReferenceError>] = {
    var out: [Mode: Result<[[UInt8]], ReferenceError>] = [:]
    for mode in all {
        let lines = encodingTable.filter { $0.mode == mode }.map(\.gas)
        do {
            out[mode] = .success(try GNU.assembleLines(lines, mode: mode))
        } catch let e as ReferenceError {
            out[mode] = .failure(e)
        } catch {
            out[mode] = .failure(ReferenceError(description: "\(error)"))
        }
    }
    return out
}()

/// The reference bytes of one entry.
func referenceBytes(_ entry: Entry) throws -> [UInt8] {
    guard let result = gnuReference[entry.mode] else { throw ReferenceError(description: "no reference for \(entry.mode)") }
    let all = try result.get()
    let index = encodingTable.filter { $0.mode == entry.mode }.firstIndex { $0.gas == entry.gas } ?? 0
    return all[index]
}

func assemble(_ mode: Mode, origin: UInt64 = 0, _ body: (Assembler) -> Void) throws -> [UInt8] {
    let a = Assembler(mode: mode, origin: origin)
    body(a)
    return try a.finish()
}

@Suite("Encodings compared with GNU as")
struct GNUComparisonTests {
    @Test("GNU binutils are installed (CI must install binutils)")
    func toolsPresent() {
        #expect(GNU.missingTools == nil, "\(GNU.missingTools ?? "")")
    }

    @Test("The table covers at least 300 instructions")
    func tableSize() {
        #expect(encodingTable.count >= 300)
        #expect(Set(encodingTable.map(\.mode)) == Set(all))
    }

    @Test("Instruction encodes exactly as GNU as", arguments: encodingTable)
    func matchesGNU(_ entry: Entry) throws {
        let expected = try referenceBytes(entry)
        let a = Assembler(mode: entry.mode)
        entry.emit(a)
        let actual = try a.finish()
        #expect(hex(actual) == hex(expected), "\(entry)")
    }
}

@Suite("Labels, data and errors")
struct LabelTests {
    @Test func forwardAndBackwardJumps() throws {
        let code = try assemble(.bits32, origin: 0x1000) { a in
            let top = a.here("top")
            a.nop()
            let fwd = a.label("fwd")
            a.jmp(fwd)          // forward: rel32
            a.jz(top)           // backward within reach: rel8
            a.bind(fwd)
            a.jmp(top)          // rel8
            a.jnz(fwd, .near)   // forced rel32
            a.call(top)
        }
        #expect(code == [0x90, 0xE9, 0x02, 0, 0, 0, 0x74, 0xF8, 0xEB, 0xF6,
                         0x0F, 0x85, 0xF8, 0xFF, 0xFF, 0xFF, 0xE8, 0xEB, 0xFF, 0xFF, 0xFF])
    }

    @Test func sixteenBitJumpsUseRel16() throws {
        let code = try assemble(.bits16, origin: 0x7C00) { a in
            let end = a.label()
            a.jmp(end)
            a.je(end)
            a.bind(end)
        }
        #expect(code == [0xE9, 0x04, 0x00, 0x0F, 0x84, 0x00, 0x00])
    }

    @Test func loopsAndCountJumps() throws {
        let code = try assemble(.bits64) { a in
            let top = a.here()
            a.loop(top)
            a.loope(top)
            a.loopne(top)
            a.jrcxz(top)
            a.jecxz(top)
        }
        #expect(code == [0xE2, 0xFE, 0xE1, 0xFC, 0xE0, 0xFA, 0xE3, 0xF8, 0x67, 0xE3, 0xF5])
    }

    @Test func shortJumpOutOfRangeThrows() {
        let a = Assembler(mode: .bits64)
        let far = a.label("far")
        a.jmp(far, .short)
        a.space(200)
        a.bind(far)
        #expect(throws: AssemblerError.self) { try a.finish() }
        do {
            _ = try a.finish()
        } catch let e as AssemblerError {
            #expect(e.kind == .rel8OutOfRange)
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func loopOutOfRangeThrows() {
        let a = Assembler(mode: .bits32)
        let top = a.here()
        a.space(300)
        a.loop(top)
        #expect(throws: AssemblerError.self) { try a.finish() }
    }

    @Test func unboundLabelThrows() {
        let a = Assembler(mode: .bits32)
        let nowhere = a.label("nowhere")
        a.call(nowhere)
        do {
            _ = try a.finish()
            Issue.record("finish() should throw")
        } catch let e as AssemblerError {
            #expect(e.kind == .unboundLabel)
            #expect(e.message.contains("nowhere"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func labelBoundTwiceThrows() {
        let a = Assembler(mode: .bits32)
        let l = a.here()
        a.bind(l)
        #expect(throws: AssemblerError.self) { try a.finish() }
    }

    @Test func labelsAsImmediatesDisplacementsAndData() throws {
        let code = try assemble(.bits32, origin: 0x10000) { a in
            let data = a.label()
            a.mov(.eax, .label(data))            // B8 imm32
            a.mov(.ebx, .dword[data])            // 8B 1D disp32
            a.mov(.ecx, .dword[.esi + data])     // 8B 8E disp32
            a.push(.label(data, plus: 4))        // 68 imm32
            a.bind(data)
            a.dd(data)
            a.dw(data)
            a.dq(data, plus: 1)
        }
        #expect(code == [0xB8, 0x16, 0x00, 0x01, 0x00,
                         0x8B, 0x1D, 0x16, 0x00, 0x01, 0x00,
                         0x8B, 0x8E, 0x16, 0x00, 0x01, 0x00,
                         0x68, 0x1A, 0x00, 0x01, 0x00,
                         0x16, 0x00, 0x01, 0x00,
                         0x16, 0x00,
                         0x17, 0x00, 0x01, 0x00, 0, 0, 0, 0])
    }

    @Test func ripRelativeLabelAccountsForImmediate() throws {
        let code = try assemble(.bits64, origin: 0x40_0000) { a in
            let v = a.label()
            a.mov(.dword[.rip + v], 5)     // C7 05 disp32 imm32: 10 bytes
            a.lea(.rax, .qword[.rip + v])  // 48 8D 05 disp32: 7 bytes
            a.bind(v)
        }
        #expect(code == [0xC7, 0x05, 0x07, 0, 0, 0, 5, 0, 0, 0, 0x48, 0x8D, 0x05, 0, 0, 0, 0])
    }

    @Test func dataAndAlign() throws {
        let code = try assemble(.bits32, origin: 0x1001) { a in
            a.db(1, 2)
            a.align(4, fill: 0)
            a.dw(0x1234)
            a.dd(0xDEADBEEF)
            a.db([9])
            a.db("OK")
            a.align(8)
            a.dq(0x0102_0304_0506_0708)
        }
        #expect(code == [1, 2, 0, 0x34, 0x12, 0xEF, 0xBE, 0xAD, 0xDE, 9, 0x4F, 0x4B, 0x90, 0x90, 0x90,
                         8, 7, 6, 5, 4, 3, 2, 1])
    }

    @Test func multiByteNops() throws {
        for n in 0...20 {
            let code = try assemble(.bits64) { $0.nop(bytes: n) }
            #expect(code.count == n)
        }
    }
}

@Suite("Invalid operands are thrown, never trapped")
struct ErrorTests {
    static let invalid: [(String, @Sendable (Assembler) -> Void)] = [
        ("ah with REX", { $0.mov(.ah, .sil) }),
        ("ah with r8b", { $0.add(.ah, .r8b) }),
        ("64-bit register in 32-bit code", { $0.setMode(.bits32); $0.mov(.rax, .rbx) }),
        ("r8 in 16-bit code", { $0.setMode(.bits16); $0.inc(.r8w) }),
        ("size mismatch", { $0.mov(.eax, .bx) }),
        ("no size", { $0.mov(.mem[.rax], 1) }),
        ("imm to imm", { $0.add(1, 2) }),
        ("imm out of range", { $0.mov(.al, 0x1234) }),
        ("rsp as index", { $0.mov(.eax, .dword[.rax + .rsp * 2]) }),
        ("bad scale", { $0.mov(.eax, .dword[.rax + .rbx * 3]) }),
        ("16-bit addressing in 64-bit code", { $0.mov(.ax, .word[.bx + .si]) }),
        ("bad 16-bit pair", { $0.setMode(.bits16); $0.mov(.ax, .word[.bx + .bp]) }),
        ("push r32 in 64-bit code", { $0.push(.eax) }),
        ("far direct jmp in 64-bit code", { $0.jmpFar(selector: 8, offset: 0) }),
        ("into in 64-bit code", { $0.into() }),
        ("arpl in 64-bit code", { $0.arpl(.ax, .bx) }),
        ("push cs in 64-bit code", { $0.push(.cs) }),
        ("pop cs", { $0.setMode(.bits32); $0.pop(.cs) }),
        ("mov cs", { $0.mov(.cs, .ax) }),
        ("mov cr0 with 32-bit reg in 64-bit code", { $0.mov(.cr0, .eax) }),
        ("shift by bl", { $0.shl(.eax, .bl) }),
        ("lgdt register", { $0.lgdt(.rax) }),
        ("in from bx", { $0.in(.al, .bx) }),
        ("rip in 32-bit code", { $0.setMode(.bits32); $0.mov(.eax, .dword[.rip + 4]) }),
        ("imm64 ALU", { $0.add(.rax, .imm(0x1_0000_0000)) }),
    ]

    @Test("Invalid instruction is reported by finish()", arguments: invalid.map(\.0))
    func invalidThrows(_ name: String) {
        guard let body = Self.invalid.first(where: { $0.0 == name })?.1 else { return }
        let a = Assembler(mode: .bits64)
        body(a)
        #expect(throws: AssemblerError.self, "\(name)") { try a.finish() }
    }
}

@Suite("Mode switching in one image")
struct ModeSwitchTests {
    /// A real-mode start that enters 32-bit protected mode and then 64-bit code, compared with GNU as + ld.
    @Test func realToProtectedToLong() throws {
        let origin: UInt64 = 0x7C00
        let a = Assembler(mode: .bits16, origin: origin)
        let pm32 = a.label("pm32"), lm64 = a.label("lm64"), gdt = a.label("gdt"), gdtPointer = a.label("gdtptr")
        a.cli()
        a.lgdt(.fword[gdtPointer])
        a.mov(.eax, .cr0)
        a.or(.eax, 1)
        a.mov(.cr0, .eax)
        a.jmpFar(selector: 0x08, to: pm32)
        a.bind(pm32)
        a.setMode(.bits32)
        a.mov(.ax, 0x10)
        a.mov(.ds, .ax)
        a.mov(.eax, .label(gdt))
        a.mov(.ebx, .dword[gdtPointer + 2])
        a.jmpFar(selector: 0x18, to: lm64)
        a.bind(lm64)
        a.setMode(.bits64)
        a.lea(.rax, .qword[.rip + gdt])
        a.mov(.rbx, .qword[.rip + gdtPointer])
        a.out(0xE9, .al)
        a.hlt()
        a.jmp(lm64)
        a.align(8, fill: 0)
        a.bind(gdt)
        a.dq(0, 0x00CF_9A00_0000_FFFF, 0x00CF_9200_0000_FFFF, 0x00AF_9A00_0000_FFFF)
        a.bind(gdtPointer)
        a.dw(0x1F)
        a.dd(gdt)
        let mine = try a.finish()

        let source = """
        .code16
        cli
        lgdt fword ptr [gdtptr]
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        jmp 0x08:pm32
        .code32
        pm32:
        mov ax, 0x10
        mov ds, ax
        mov eax, offset gdt
        mov ebx, dword ptr [gdtptr+2]
        jmp 0x18:lm64
        .code64
        lm64:
        lea rax, [rip+gdt]
        mov rbx, qword ptr [rip+gdtptr]
        out 0xe9, al
        hlt
        jmp lm64
        .balign 8, 0
        gdt:
        .quad 0, 0x00cf9a000000ffff, 0x00cf92000000ffff, 0x00af9a000000ffff
        gdtptr:
        .word 0x1f
        .long gdt
        """
        let reference = try GNU.assembleProgram(source, origin: origin)
        #expect(hex(mine) == hex(reference))
    }

    @Test func farJumpWithThirtyTwoBitOffsetFromRealMode() throws {
        let code = try assemble(.bits16, origin: 0xF0000) { a in
            let pm = a.label()
            a.jmpFar(selector: 0x08, to: pm, offsetBits: 32)
            a.bind(pm)
            a.setMode(.bits32)
            a.mov(.eax, .label(pm))
        }
        #expect(code == [0x66, 0xEA, 0x08, 0x00, 0x0F, 0x00, 0x08, 0x00, 0xB8, 0x08, 0x00, 0x0F, 0x00])
    }
}

@Suite("Branches compared with GNU as + ld")
struct BranchTests {
    static let conditions: [(String, @Sendable (Assembler, Label) -> Void)] = [
        ("jo", { $0.jo($1) }), ("jno", { $0.jno($1) }), ("jb", { $0.jb($1) }), ("jc", { $0.jc($1) }), ("jnae", { $0.jnae($1) }),
        ("jae", { $0.jae($1) }), ("jnb", { $0.jnb($1) }), ("jnc", { $0.jnc($1) }), ("je", { $0.je($1) }), ("jz", { $0.jz($1) }),
        ("jne", { $0.jne($1) }), ("jnz", { $0.jnz($1) }), ("jbe", { $0.jbe($1) }), ("jna", { $0.jna($1) }), ("ja", { $0.ja($1) }),
        ("jnbe", { $0.jnbe($1) }), ("js", { $0.js($1) }), ("jns", { $0.jns($1) }), ("jp", { $0.jp($1) }), ("jpe", { $0.jpe($1) }),
        ("jnp", { $0.jnp($1) }), ("jpo", { $0.jpo($1) }), ("jl", { $0.jl($1) }), ("jnge", { $0.jnge($1) }), ("jge", { $0.jge($1) }),
        ("jnl", { $0.jnl($1) }), ("jle", { $0.jle($1) }), ("jng", { $0.jng($1) }), ("jg", { $0.jg($1) }), ("jnle", { $0.jnle($1) }),
        ("jmp", { $0.jmp($1) }), ("call", { $0.call($1) }), ("loop", { $0.loop($1) }), ("loope", { $0.loope($1) }),
        ("loopne", { $0.loopne($1) }),
    ]

    /// Backward short and near branches with every condition alias (GNU as picks rel8 when it reaches, like `.auto`).
    @Test("All branch mnemonics, short and near, backward", arguments: all)
    func backwardBranches(_ mode: Mode) throws {
        let a = Assembler(mode: mode, origin: 0x1000)
        let top = a.here()
        var source = GNU.directive(mode) + "\ntop:\n"
        for (name, emit) in Self.conditions {
            emit(a, top)
            source += "\(name) top\n"
        }
        let counter = mode == .bits16 ? "jcxz" : (mode == .bits32 ? "jecxz" : "jrcxz")
        switch mode {
        case .bits16: a.jcxz(top)
        case .bits32: a.jecxz(top)
        case .bits64: a.jrcxz(top)
        }
        source += "\(counter) top\n"
        a.space(200)
        source += ".fill 200, 1, 0\n"
        for (name, emit) in Self.conditions where !name.hasPrefix("loop") {
            emit(a, top)
            source += "\(name) top\n"
        }
        let mine = try a.finish()
        let reference = try GNU.assembleProgram(source, origin: 0x1000)
        #expect(hex(mine) == hex(reference))
    }
}
