// Jumps, calls, returns, interrupts, string and I/O instructions.

extension Assembler {
    // MARK: Relative branches

    /// Emits a relative branch: `short` is the rel8 opcode (nil if none), `near` the rel16/32 opcode (nil if none).
    func branch(_ name: String, short: [UInt8]?, near: [UInt8]?, to target: Label, _ size: JumpSize, addressPrefix: Bool = false) {
        begin(name)
        var useShort: Bool
        switch size {
        case .short: useShort = true
        case .near: useShort = false
        case .auto:
            useShort = false
            if let s = short, let t = address(of: target) {
                let end = Int64(bitPattern: currentAddress) + Int64(s.count + 1 + (addressPrefix ? 1 : 0))
                let d = Int64(bitPattern: t) - end
                useShort = d >= -128 && d <= 127
            }
        }
        if near == nil { useShort = true }
        if useShort && short == nil { invalid("no rel8 form"); return }
        var i = Inst(useShort ? (short ?? []) : (near ?? []))
        i.addressPrefix = addressPrefix
        let width = useShort ? 1 : (mode == .bits16 ? 2 : 4)
        let range: Fixup.Range = useShort ? .rel8 : (mode == .bits16 ? .wrap16 : (mode == .bits64 ? .signed32 : .any32))
        i.imms.append(Field(value: 0, size: width, label: target, relative: true, range: range))
        commit(i)
    }

    /// JMP to a label (rel8 or rel16/rel32; see `JumpSize`).
    public func jmp(_ target: Label, _ size: JumpSize = .auto) {
        branch("jmp", short: [0xEB], near: [0xE9], to: target, size)
    }

    /// JMP through a register or memory (near absolute indirect).
    public func jmp(_ target: Operand) { indirect("jmp", 4, target) }

    /// CALL a label (rel16/rel32).
    public func call(_ target: Label) {
        branch("call", short: nil, near: [0xE8], to: target, .near)
    }

    /// CALL through a register or memory (near absolute indirect).
    public func call(_ target: Operand) { indirect("call", 2, target) }

    func indirect(_ name: String, _ ext: UInt8, _ target: Operand) {
        begin(name)
        guard isRM(target) else { invalid(); return }
        let sz = bits(target) == 0 ? (mode == .bits64 ? 64 : mode.bits) : bits(target)
        guard sz > 8 else { invalid(); return }
        encodeExt([0xFF], ext, target, size: sz, default64: true)
    }

    /// Jcc: conditional jump to a label.
    public func jcc(_ cc: Condition, _ target: Label, _ size: JumpSize = .auto) {
        branch("jcc", short: [0x70 + cc.code], near: [0x0F, 0x80 + cc.code], to: target, size)
    }

    /// LOOP (rel8).
    public func loop(_ target: Label) { branch("loop", short: [0xE2], near: nil, to: target, .short) }
    /// LOOPE/LOOPZ (rel8).
    public func loope(_ target: Label) { branch("loope", short: [0xE1], near: nil, to: target, .short) }
    /// LOOPNE/LOOPNZ (rel8).
    public func loopne(_ target: Label) { branch("loopne", short: [0xE0], near: nil, to: target, .short) }
    /// LOOPZ (same as LOOPE).
    public func loopz(_ target: Label) { loope(target) }
    /// LOOPNZ (same as LOOPNE).
    public func loopnz(_ target: Label) { loopne(target) }

    /// JCXZ: jump if CX is zero (16/32-bit code).
    public func jcxz(_ target: Label) {
        if mode == .bits64 { begin("jcxz"); invalid("JCXZ is not valid in 64-bit code"); return }
        branch("jcxz", short: [0xE3], near: nil, to: target, .short, addressPrefix: mode != .bits16)
    }

    /// JECXZ: jump if ECX is zero.
    public func jecxz(_ target: Label) {
        branch("jecxz", short: [0xE3], near: nil, to: target, .short, addressPrefix: mode != .bits32)
    }

    /// JRCXZ: jump if RCX is zero (64-bit code).
    public func jrcxz(_ target: Label) {
        if mode != .bits64 { begin("jrcxz"); invalid("JRCXZ needs 64-bit code"); return }
        branch("jrcxz", short: [0xE3], near: nil, to: target, .short)
    }

    // MARK: Far transfers

    /// The default far-pointer offset size: 16 in 16-bit code, 32 otherwise.
    func farOffsetBits(_ bits: Int?) -> Int { bits ?? (mode == .bits16 ? 16 : 32) }

    func farDirect(_ name: String, _ opcode: UInt8, selector: UInt16, offset: Immediate, offsetBits: Int?) {
        begin(name)
        guard mode != .bits64 else { invalid("direct far \(name) is not valid in 64-bit code; use an m16:64 memory operand"); return }
        let ob = farOffsetBits(offsetBits)
        guard ob == 16 || ob == 32 else { invalid("far pointer offset must be 16 or 32 bits"); return }
        var i = Inst([opcode])
        setSize(&i, ob)
        i.imms.append(Field(value: offset.value, size: ob / 8, label: offset.label, range: ob == 16 ? .wrap16 : .any32))
        i.imms.append(Field(value: Int64(selector), size: 2, range: .any16))
        commit(i)
    }

    /// JMP ptr16:16/ptr16:32 to a label (16/32-bit code). `offsetBits` defaults to the mode's size;
    /// pass 32 in 16-bit code to enter 32-bit code at an address above 64 KiB (emits 66 EA ptr16:32).
    public func jmpFar(selector: UInt16, to target: Label, offsetBits: Int? = nil) {
        farDirect("jmp far", 0xEA, selector: selector, offset: Immediate(value: 0, label: target), offsetBits: offsetBits)
    }

    /// JMP ptr16:16/ptr16:32 to an absolute offset.
    public func jmpFar(selector: UInt16, offset: UInt32, offsetBits: Int? = nil) {
        farDirect("jmp far", 0xEA, selector: selector, offset: Immediate(value: Int64(offset), label: nil), offsetBits: offsetBits)
    }

    /// CALL ptr16:16/ptr16:32 to a label (16/32-bit code).
    public func callFar(selector: UInt16, to target: Label, offsetBits: Int? = nil) {
        farDirect("call far", 0x9A, selector: selector, offset: Immediate(value: 0, label: target), offsetBits: offsetBits)
    }

    /// CALL ptr16:16/ptr16:32 to an absolute offset.
    public func callFar(selector: UInt16, offset: UInt32, offsetBits: Int? = nil) {
        farDirect("call far", 0x9A, selector: selector, offset: Immediate(value: Int64(offset), label: nil), offsetBits: offsetBits)
    }

    func farIndirect(_ name: String, _ ext: UInt8, _ mem: Operand) {
        begin(name)
        guard case .memory(let m) = mem else { invalid("far indirect needs a memory operand"); return }
        let sz: Int
        switch m.size {
        case 32: sz = 16  // m16:16
        case 48: sz = 32  // m16:32
        case 80: sz = 64  // m16:64
        case 0: sz = mode == .bits16 ? 16 : 32
        default: invalid("far pointer is .dword (m16:16), .fword (m16:32) or .tword (m16:64)"); return
        }
        encodeExt([0xFF], ext, mem, size: sz)
    }

    /// JMP m16:16 (.dword), m16:32 (.fword) or m16:64 (.tword) far indirect.
    public func jmpFar(_ mem: Operand) { farIndirect("jmp far", 5, mem) }
    /// CALL m16:16 (.dword), m16:32 (.fword) or m16:64 (.tword) far indirect.
    public func callFar(_ mem: Operand) { farIndirect("call far", 3, mem) }

    // MARK: Returns and interrupts

    /// RET (near), optionally releasing `pop` bytes of parameters.
    public func ret(_ pop: UInt16? = nil) {
        if let pop { plain("ret", [0xC2, UInt8(pop & 0xFF), UInt8(pop >> 8)]) } else { plain("ret", [0xC3]) }
    }

    /// RETF (far, mode's default operand size), optionally releasing `pop` bytes.
    public func retf(_ pop: UInt16? = nil) {
        if let pop { plain("retf", [0xCA, UInt8(pop & 0xFF), UInt8(pop >> 8)]) } else { plain("retf", [0xCB]) }
    }

    /// RETFQ: far return with 64-bit operand size (64-bit code).
    public func retfq(_ pop: UInt16? = nil) {
        if let pop { plain("retfq", [0xCA, UInt8(pop & 0xFF), UInt8(pop >> 8)], size: 64) } else { plain("retfq", [0xCB], size: 64) }
    }

    /// IRET with the mode's default operand size (16 in 16-bit code, 32 otherwise).
    public func iret() { plain("iret", [0xCF]) }
    /// IRETW: 16-bit interrupt return.
    public func iretw() { plain("iretw", [0xCF], size: 16) }
    /// IRETD: 32-bit interrupt return.
    public func iretd() { plain("iretd", [0xCF], size: 32) }
    /// IRETQ: 64-bit interrupt return (64-bit code).
    public func iretq() { plain("iretq", [0xCF], size: 64) }
    /// INT n.
    public func int(_ vector: UInt8) { plain("int", [0xCD, vector]) }
    /// INT3: breakpoint (CC).
    public func int3() { plain("int3", [0xCC]) }
    /// INT1/ICEBP (F1).
    public func int1() { plain("int1", [0xF1]) }
    /// INTO: interrupt on overflow (16/32-bit code).
    public func into() { plain("into", [0xCE], only: [.bits16, .bits32]) }

    /// ENTER: make a stack frame of `size` bytes at nesting `level`.
    public func enter(_ size: UInt16, _ level: UInt8) { plain("enter", [0xC8, UInt8(size & 0xFF), UInt8(size >> 8), level]) }
    /// LEAVE: tear down a stack frame.
    public func leave() { plain("leave", [0xC9]) }

    // MARK: String instructions (combine with rep()/repe()/repne())

    /// MOVSB.
    public func movsb() { plain("movsb", [0xA4]) }
    /// MOVSW.
    public func movsw() { plain("movsw", [0xA5], size: 16) }
    /// MOVSD (string move, not SSE).
    public func movsd() { plain("movsd", [0xA5], size: 32) }
    /// MOVSQ (64-bit code).
    public func movsq() { plain("movsq", [0xA5], size: 64) }
    /// CMPSB.
    public func cmpsb() { plain("cmpsb", [0xA6]) }
    /// CMPSW.
    public func cmpsw() { plain("cmpsw", [0xA7], size: 16) }
    /// CMPSD (string compare).
    public func cmpsd() { plain("cmpsd", [0xA7], size: 32) }
    /// CMPSQ (64-bit code).
    public func cmpsq() { plain("cmpsq", [0xA7], size: 64) }
    /// SCASB.
    public func scasb() { plain("scasb", [0xAE]) }
    /// SCASW.
    public func scasw() { plain("scasw", [0xAF], size: 16) }
    /// SCASD.
    public func scasd() { plain("scasd", [0xAF], size: 32) }
    /// SCASQ (64-bit code).
    public func scasq() { plain("scasq", [0xAF], size: 64) }
    /// LODSB.
    public func lodsb() { plain("lodsb", [0xAC]) }
    /// LODSW.
    public func lodsw() { plain("lodsw", [0xAD], size: 16) }
    /// LODSD.
    public func lodsd() { plain("lodsd", [0xAD], size: 32) }
    /// LODSQ (64-bit code).
    public func lodsq() { plain("lodsq", [0xAD], size: 64) }
    /// STOSB.
    public func stosb() { plain("stosb", [0xAA]) }
    /// STOSW.
    public func stosw() { plain("stosw", [0xAB], size: 16) }
    /// STOSD.
    public func stosd() { plain("stosd", [0xAB], size: 32) }
    /// STOSQ (64-bit code).
    public func stosq() { plain("stosq", [0xAB], size: 64) }
    /// INSB: input byte from port DX to [rDI].
    public func insb() { plain("insb", [0x6C]) }
    /// INSW.
    public func insw() { plain("insw", [0x6D], size: 16) }
    /// INSD.
    public func insd() { plain("insd", [0x6D], size: 32) }
    /// OUTSB: output byte [rSI] to port DX.
    public func outsb() { plain("outsb", [0x6E]) }
    /// OUTSW.
    public func outsw() { plain("outsw", [0x6F], size: 16) }
    /// OUTSD.
    public func outsd() { plain("outsd", [0x6F], size: 32) }

    // MARK: Port I/O

    /// IN AL/AX/EAX, imm8 or DX.
    public func `in`(_ dst: Operand, _ port: Operand) {
        begin("in")
        guard let d = gpr(dst), d.number == 0, !d.isHigh8, d.size <= 32 else { invalid("IN destination is AL, AX or EAX"); return }
        let w: UInt8 = d.size == 8 ? 0 : 1
        if let p = immediate(port) {
            var i = Inst([0xE4 + w])
            setSize(&i, d.size)
            i.imms.append(Field(value: p.value, size: 1, label: p.label, range: .any8))
            commit(i)
        } else if port.register == .dx {
            var i = Inst([0xEC + w])
            setSize(&i, d.size)
            commit(i)
        } else {
            invalid("IN port is an imm8 or DX")
        }
    }

    /// OUT imm8 or DX, AL/AX/EAX.
    public func out(_ port: Operand, _ src: Operand) {
        begin("out")
        guard let s = gpr(src), s.number == 0, !s.isHigh8, s.size <= 32 else { invalid("OUT source is AL, AX or EAX"); return }
        let w: UInt8 = s.size == 8 ? 0 : 1
        if let p = immediate(port) {
            var i = Inst([0xE6 + w])
            setSize(&i, s.size)
            i.imms.append(Field(value: p.value, size: 1, label: p.label, range: .any8))
            commit(i)
        } else if port.register == .dx {
            var i = Inst([0xEE + w])
            setSize(&i, s.size)
            commit(i)
        } else {
            invalid("OUT port is an imm8 or DX")
        }
    }
}
