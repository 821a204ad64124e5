// The table of instructions compared byte-for-byte against GNU as.
import X86Assembler

/// One instruction: how to emit it with X86Assembler, and the same instruction in GNU as Intel syntax.
struct Entry: Sendable, CustomStringConvertible {
    let mode: Mode
    let gas: String
    let emit: @Sendable (Assembler) -> Void
    var description: String { "\(mode): \(gas)" }
}

let all: [Mode] = [.bits16, .bits32, .bits64]
let legacy: [Mode] = [.bits16, .bits32]
let real: [Mode] = [.bits16]
let prot: [Mode] = [.bits32]
let long: [Mode] = [.bits64]
let wide: [Mode] = [.bits32, .bits64]

/// Collects table entries.
final class TableBuilder {
    var entries: [Entry] = []
    func e(_ modes: [Mode], _ gas: String, _ emit: @escaping @Sendable (Assembler) -> Void) {
        for m in modes { entries.append(Entry(mode: m, gas: gas, emit: emit)) }
    }
}

typealias Binary = @Sendable (Assembler, Operand, Operand) -> Void
typealias Unary = @Sendable (Assembler, Operand) -> Void
typealias Plain = @Sendable (Assembler) -> Void

func moveEntries(_ t: TableBuilder) {
    t.e(all, "mov eax, ebx") { $0.mov(.eax, .ebx) }
    t.e(all, "mov ax, bx") { $0.mov(.ax, .bx) }
    t.e(all, "mov al, bl") { $0.mov(.al, .bl) }
    t.e(all, "mov ah, bh") { $0.mov(.ah, .bh) }
    t.e(long, "mov rax, rbx") { $0.mov(.rax, .rbx) }
    t.e(long, "mov r8, r9") { $0.mov(.r8, .r9) }
    t.e(long, "mov r12d, eax") { $0.mov(.r12d, .eax) }
    t.e(long, "mov sil, dil") { $0.mov(.sil, .dil) }
    t.e(long, "mov r15b, al") { $0.mov(.r15b, .al) }
    t.e(long, "mov r10w, cx") { $0.mov(.r10w, .cx) }
    t.e(all, "mov eax, 0x12345678") { $0.mov(.eax, 0x12345678) }
    t.e(all, "mov ax, 0x1234") { $0.mov(.ax, 0x1234) }
    t.e(all, "mov al, 0x12") { $0.mov(.al, 0x12) }
    t.e(all, "mov ah, 5") { $0.mov(.ah, 5) }
    t.e(long, "mov rax, 1") { $0.mov(.rax, 1) }
    t.e(long, "mov rax, -1") { $0.mov(.rax, -1) }
    t.e(long, "mov rax, 0x123456789abc") { $0.mov(.rax, 0x1234_5678_9abc) }
    t.e(long, "movabs rcx, 0x8000000000000000") { $0.mov(.rcx, .imm(UInt64(0x8000_0000_0000_0000))) }
    t.e(long, "mov r9, 0x7fffffff") { $0.mov(.r9, 0x7fff_ffff) }
    t.e(long, "mov r9d, 5") { $0.mov(.r9d, 5) }
    t.e(all, "mov dword ptr [ebx+8], eax") { $0.mov(.dword[.ebx + 8], .eax) }
    t.e(all, "mov al, byte ptr [esi]") { $0.mov(.al, .byte[.esi]) }
    t.e(long, "mov rax, qword ptr [rbx+rcx*8+0x10]") { $0.mov(.rax, .qword[.rbx + .rcx * 8 + 0x10]) }
    t.e(long, "mov rax, qword ptr [r12]") { $0.mov(.rax, .qword[.r12]) }
    t.e(long, "mov rax, qword ptr [r13]") { $0.mov(.rax, .qword[.r13]) }
    t.e(long, "mov rax, qword ptr [rsp]") { $0.mov(.rax, .qword[.rsp]) }
    t.e(long, "mov rax, qword ptr [rbp]") { $0.mov(.rax, .qword[.rbp]) }
    t.e(long, "mov eax, dword ptr [r12+r13*2-8]") { $0.mov(.eax, .dword[.r12 + .r13 * 2 - 8]) }
    t.e(long, "mov rax, qword ptr [rsp+0x100]") { $0.mov(.rax, .qword[.rsp + 0x100]) }
    t.e(long, "mov qword ptr [rax*4+0x1000], rbx") { $0.mov(.qword[.rax * 4 + 0x1000], .rbx) }
    t.e(long, "mov r8, qword ptr [r9+r10*1]") { $0.mov(.r8, .qword[.r9 + .r10]) }
    t.e(long, "mov eax, dword ptr [eax+ebx*4]") { $0.mov(.eax, .dword[.eax + .ebx * 4]) }
    t.e(all, "mov ecx, dword ptr [esp]") { $0.mov(.ecx, .dword[.esp]) }
    t.e(all, "mov ecx, dword ptr [ebp]") { $0.mov(.ecx, .dword[.ebp]) }
    t.e(all, "mov ecx, dword ptr [ebp+eax*4+0x12345]") { $0.mov(.ecx, .dword[.ebp + .eax * 4 + 0x12345]) }
    t.e(all, "mov ecx, dword ptr [esp+4]") { $0.mov(.ecx, .dword[.esp + 4]) }
    t.e(long, "mov ecx, dword ptr [0x1000]") { $0.mov(.ecx, .dword[0x1000]) }
    t.e(prot, "mov ecx, dword ptr [0x1000]") { $0.mov(.ecx, .dword[0x1000]) }
    t.e(real, "mov cx, word ptr [0x7c00]") { $0.mov(.cx, .word[0x7c00]) }
    t.e(real, "mov ax, word ptr [bx+si]") { $0.mov(.ax, .word[.bx + .si]) }
    t.e(real, "mov ax, word ptr [bx+di+4]") { $0.mov(.ax, .word[.bx + .di + 4]) }
    t.e(real, "mov ax, word ptr [bp+si-2]") { $0.mov(.ax, .word[.bp + .si - 2]) }
    t.e(real, "mov ax, word ptr [bp+di+0x1234]") { $0.mov(.ax, .word[.bp + .di + 0x1234]) }
    t.e(real, "mov ax, word ptr [si]") { $0.mov(.ax, .word[.si]) }
    t.e(real, "mov ax, word ptr [di+0x80]") { $0.mov(.ax, .word[.di + 0x80]) }
    t.e(real, "mov ax, word ptr [bp]") { $0.mov(.ax, .word[.bp]) }
    t.e(real, "mov ax, word ptr [bx]") { $0.mov(.ax, .word[.bx]) }
    t.e(real, "mov byte ptr [bx+si], 0x12") { $0.mov(.byte[.bx + .si], 0x12) }
    t.e(real, "mov word ptr [bp-4], 0x1234") { $0.mov(.word[.bp - 4], 0x1234) }
    t.e(real, "mov eax, dword ptr [bx+si]") { $0.mov(.eax, .dword[.bx + .si]) }
    t.e(prot, "mov ax, word ptr [bx+si]") { $0.mov(.ax, .word[.bx + .si]) }
    t.e(all, "mov dword ptr [eax], 0x12345678") { $0.mov(.dword[.eax], 0x12345678) }
    t.e(all, "mov byte ptr [eax], 1") { $0.mov(.byte[.eax], 1) }
    t.e(all, "mov word ptr [eax], 0x1234") { $0.mov(.word[.eax], 0x1234) }
    t.e(long, "mov qword ptr [rax], -1") { $0.mov(.qword[.rax], -1) }
    t.e(long, "mov dword ptr [rip+0x100], 5") { $0.mov(.dword[.rip + 0x100], 5) }
    t.e(all, "mov ds, ax") { $0.mov(.ds, .ax) }
    t.e(all, "mov ss, ax") { $0.mov(.ss, .ax) }
    t.e(all, "mov ax, ds") { $0.mov(.ax, .ds) }
    t.e(all, "mov es, word ptr [ebx]") { $0.mov(.es, .word[.ebx]) }
    t.e(all, "mov word ptr [eax], fs") { $0.mov(.word[.eax], .fs) }
    t.e(legacy, "mov eax, ss") { $0.mov(.eax, .ss) }
    t.e(long, "mov rax, ds") { $0.mov(.rax, .ds) }
    t.e(long, "mov gs, eax") { $0.mov(.gs, .eax) }
    t.e(all, "mov eax, dword ptr fs:[ebx]") { $0.mov(.eax, .dword[.fs, .ebx]) }
    t.e(long, "mov rax, qword ptr gs:[rax+8]") { $0.mov(.rax, .qword[.gs, .rax + 8]) }
    t.e(all, "mov byte ptr es:[edi], al") { $0.mov(.byte[.es, .edi], .al) }
    t.e(real, "mov ax, word ptr cs:[bx+si]") { $0.mov(.ax, .word[.cs, .bx + .si]) }
    t.e(legacy, "mov eax, cr0") { $0.mov(.eax, .cr0) }
    t.e(legacy, "mov cr0, eax") { $0.mov(.cr0, .eax) }
    t.e(legacy, "mov cr3, ebx") { $0.mov(.cr3, .ebx) }
    t.e(legacy, "mov cr4, eax") { $0.mov(.cr4, .eax) }
    t.e(legacy, "mov eax, cr2") { $0.mov(.eax, .cr2) }
    t.e(legacy, "mov dr7, eax") { $0.mov(.dr7, .eax) }
    t.e(legacy, "mov eax, dr6") { $0.mov(.eax, .dr6) }
    t.e(long, "mov rax, cr0") { $0.mov(.rax, .cr0) }
    t.e(long, "mov cr3, rax") { $0.mov(.cr3, .rax) }
    t.e(long, "mov cr8, rax") { $0.mov(.cr8, .rax) }
    t.e(long, "mov rax, cr8") { $0.mov(.rax, .cr8) }
    t.e(long, "mov r9, cr4") { $0.mov(.r9, .cr4) }
    t.e(long, "mov dr0, rax") { $0.mov(.dr0, .rax) }
    t.e(long, "mov cr0, r10") { $0.mov(.cr0, .r10) }
    t.e(all, "movzx eax, bl") { $0.movzx(.eax, .bl) }
    t.e(all, "movzx eax, bx") { $0.movzx(.eax, .bx) }
    t.e(all, "movzx ax, bl") { $0.movzx(.ax, .bl) }
    t.e(all, "movsx eax, byte ptr [esi]") { $0.movsx(.eax, .byte[.esi]) }
    t.e(all, "movsx ecx, word ptr [ebx]") { $0.movsx(.ecx, .word[.ebx]) }
    t.e(long, "movzx rax, byte ptr [rsi]") { $0.movzx(.rax, .byte[.rsi]) }
    t.e(long, "movsx r8, r9w") { $0.movsx(.r8, .r9w) }
    t.e(long, "movsxd rax, ebx") { $0.movsxd(.rax, .ebx) }
    t.e(long, "movsxd rax, dword ptr [rbx]") { $0.movsxd(.rax, .dword[.rbx]) }
    t.e(all, "lea eax, [ebx+ecx*2+4]") { $0.lea(.eax, .mem[.ebx + .ecx * 2 + 4]) }
    t.e(real, "lea ax, [bx+si+2]") { $0.lea(.ax, .mem[.bx + .si + 2]) }
    t.e(long, "lea rax, [rip+0x10]") { $0.lea(.rax, .qword[.rip + 0x10]) }
    t.e(long, "lea rax, [rbx+8]") { $0.lea(.rax, .mem[.rbx + 8]) }
    t.e(long, "lea r8d, [rax+rax*4]") { $0.lea(.r8d, .mem[.rax + .rax * 4]) }
    t.e(all, "xchg ebx, ecx") { $0.xchg(.ebx, .ecx) }
    t.e(all, "xchg ecx, eax") { $0.xchg(.ecx, .eax) }
    t.e(all, "xchg eax, ecx") { $0.xchg(.eax, .ecx) }
    t.e(all, "xchg ax, bx") { $0.xchg(.ax, .bx) }
    t.e(all, "xchg bl, cl") { $0.xchg(.bl, .cl) }
    t.e(all, "xchg bl, byte ptr [eax]") { $0.xchg(.bl, .byte[.eax]) }
    t.e(all, "xchg dword ptr [eax], ebx") { $0.xchg(.dword[.eax], .ebx) }
    t.e(long, "xchg rax, r8") { $0.xchg(.rax, .r8) }
    t.e(long, "xchg r8, rax") { $0.xchg(.r8, .rax) }
    t.e(long, "xchg eax, eax") { $0.xchg(.eax, .eax) }
}

func stackEntries(_ t: TableBuilder) {
    t.e(legacy, "push eax") { $0.push(.eax) }
    t.e(legacy, "pop ebx") { $0.pop(.ebx) }
    t.e(all, "push ax") { $0.push(.ax) }
    t.e(all, "pop di") { $0.pop(.di) }
    t.e(long, "push rax") { $0.push(.rax) }
    t.e(long, "push r12") { $0.push(.r12) }
    t.e(long, "pop r15") { $0.pop(.r15) }
    t.e(all, "push 0x12") { $0.push(0x12) }
    t.e(all, "push -1") { $0.push(-1) }
    t.e(wide, "push 0x12345678") { $0.push(0x12345678) }
    t.e(real, "push 0x1234") { $0.push(0x1234) }
    t.e(legacy, "push dword ptr [eax]") { $0.push(.dword[.eax]) }
    t.e(all, "push word ptr [eax]") { $0.push(.word[.eax]) }
    t.e(legacy, "pop dword ptr [ebx+4]") { $0.pop(.dword[.ebx + 4]) }
    t.e(long, "push qword ptr [rax]") { $0.push(.qword[.rax]) }
    t.e(long, "pop qword ptr [rbx+8]") { $0.pop(.qword[.rbx + 8]) }
    t.e(legacy, "push es") { $0.push(.es) }
    t.e(legacy, "push cs") { $0.push(.cs) }
    t.e(legacy, "push ss") { $0.push(.ss) }
    t.e(legacy, "push ds") { $0.push(.ds) }
    t.e(legacy, "pop es") { $0.pop(.es) }
    t.e(legacy, "pop ss") { $0.pop(.ss) }
    t.e(legacy, "pop ds") { $0.pop(.ds) }
    t.e(all, "push fs") { $0.push(.fs) }
    t.e(all, "push gs") { $0.push(.gs) }
    t.e(all, "pop fs") { $0.pop(.fs) }
    t.e(all, "pop gs") { $0.pop(.gs) }
    t.e(all, "pushf") { $0.pushf() }
    t.e(all, "popf") { $0.popf() }
    t.e(all, "pushfw") { $0.pushfw() }
    t.e(all, "popfw") { $0.popfw() }
    t.e(legacy, "pushfd") { $0.pushfd() }
    t.e(legacy, "popfd") { $0.popfd() }
    t.e(long, "pushfq") { $0.pushfq() }
    t.e(long, "popfq") { $0.popfq() }
    t.e(legacy, "pusha") { $0.pusha() }
    t.e(legacy, "popa") { $0.popa() }
    t.e(all, "enter 16, 0") { $0.enter(16, 0) }
    t.e(all, "enter 0x1234, 3") { $0.enter(0x1234, 3) }
    t.e(all, "leave") { $0.leave() }
}

func arithmeticEntries(_ t: TableBuilder) {
    let alus: [(String, Binary)] = [
        ("add", { $0.add($1, $2) }), ("or", { $0.or($1, $2) }), ("adc", { $0.adc($1, $2) }), ("sbb", { $0.sbb($1, $2) }),
        ("and", { $0.and($1, $2) }), ("sub", { $0.sub($1, $2) }), ("xor", { $0.xor($1, $2) }), ("cmp", { $0.cmp($1, $2) }),
    ]
    for (n, f) in alus {
        t.e(all, "\(n) eax, ebx") { f($0, .eax, .ebx) }
        t.e(all, "\(n) ecx, dword ptr [ebx+4]") { f($0, .ecx, .dword[.ebx + 4]) }
        t.e(all, "\(n) dword ptr [ebx+4], ecx") { f($0, .dword[.ebx + 4], .ecx) }
        t.e(all, "\(n) al, 0x12") { f($0, .al, 0x12) }
        t.e(all, "\(n) bl, 0x92") { f($0, .bl, 0x92) }
        t.e(all, "\(n) eax, 0x12") { f($0, .eax, 0x12) }
        t.e(all, "\(n) eax, 0x12345") { f($0, .eax, 0x12345) }
        t.e(all, "\(n) ecx, 0x12345") { f($0, .ecx, 0x12345) }
        t.e(all, "\(n) word ptr [eax], 0x1234") { f($0, .word[.eax], 0x1234) }
        t.e(all, "\(n) ax, 0xfffe") { f($0, .ax, 0xfffe) }
        t.e(legacy, "\(n) esi, 0xffffff80") { f($0, .esi, 0xffff_ff80) }
        t.e(long, "\(n) rax, rbx") { f($0, .rax, .rbx) }
        t.e(long, "\(n) r8, 0x7f") { f($0, .r8, 0x7f) }
        t.e(long, "\(n) rax, 0x1000") { f($0, .rax, 0x1000) }
        t.e(long, "\(n) qword ptr [rsp+8], -0x80") { f($0, .qword[.rsp + 8], -0x80) }
        t.e(long, "\(n) r9b, byte ptr [r10]") { f($0, .r9b, .byte[.r10]) }
    }
    t.e(all, "test eax, ebx") { $0.test(.eax, .ebx) }
    t.e(all, "test al, 1") { $0.test(.al, 1) }
    t.e(all, "test eax, 0x100") { $0.test(.eax, 0x100) }
    t.e(all, "test ebx, 1") { $0.test(.ebx, 1) }
    t.e(all, "test ax, 0x8000") { $0.test(.ax, 0x8000) }
    t.e(all, "test byte ptr [eax], 0x80") { $0.test(.byte[.eax], 0x80) }
    t.e(all, "test dword ptr [eax], ebx") { $0.test(.dword[.eax], .ebx) }
    t.e(long, "test rax, rax") { $0.test(.rax, .rax) }
    t.e(long, "test r8b, r8b") { $0.test(.r8b, .r8b) }
    let unaries: [(String, Unary)] = [
        ("inc", { $0.inc($1) }), ("dec", { $0.dec($1) }), ("neg", { $0.neg($1) }), ("not", { $0.not($1) }),
        ("mul", { $0.mul($1) }), ("imul", { $0.imul($1) }), ("div", { $0.div($1) }), ("idiv", { $0.idiv($1) }),
    ]
    for (n, f) in unaries {
        t.e(all, "\(n) ecx") { f($0, .ecx) }
        t.e(all, "\(n) bl") { f($0, .bl) }
        t.e(all, "\(n) word ptr [eax]") { f($0, .word[.eax]) }
        t.e(long, "\(n) r9") { f($0, .r9) }
    }
    t.e(all, "inc eax") { $0.inc(.eax) }
    t.e(all, "dec di") { $0.dec(.di) }
    t.e(long, "inc r8d") { $0.inc(.r8d) }
    t.e(all, "imul eax, ebx") { $0.imul(.eax, .ebx) }
    t.e(all, "imul eax, dword ptr [ebx]") { $0.imul(.eax, .dword[.ebx]) }
    t.e(all, "imul eax, ebx, 10") { $0.imul(.eax, .ebx, 10) }
    t.e(all, "imul eax, ebx, 1000") { $0.imul(.eax, .ebx, 1000) }
    t.e(all, "imul eax, 5") { $0.imul(.eax, 5) }
    t.e(all, "imul cx, word ptr [eax], -3") { $0.imul(.cx, .word[.eax], -3) }
    t.e(long, "imul rax, r9, -3") { $0.imul(.rax, .r9, -3) }
    let shifts: [(String, Binary)] = [
        ("rol", { $0.rol($1, $2) }), ("ror", { $0.ror($1, $2) }), ("rcl", { $0.rcl($1, $2) }), ("rcr", { $0.rcr($1, $2) }),
        ("shl", { $0.shl($1, $2) }), ("shr", { $0.shr($1, $2) }), ("sar", { $0.sar($1, $2) }), ("sal", { $0.sal($1, $2) }),
    ]
    for (n, f) in shifts {
        t.e(all, "\(n) eax, 1") { f($0, .eax, 1) }
        t.e(all, "\(n) eax, cl") { f($0, .eax, .cl) }
        t.e(all, "\(n) ebx, 4") { f($0, .ebx, 4) }
        t.e(all, "\(n) byte ptr [eax], 3") { f($0, .byte[.eax], 3) }
        t.e(long, "\(n) rax, 63") { f($0, .rax, 63) }
    }
    t.e(all, "shld eax, ebx, 4") { $0.shld(.eax, .ebx, 4) }
    t.e(all, "shld eax, ebx, cl") { $0.shld(.eax, .ebx, .cl) }
    t.e(all, "shrd dword ptr [eax], ecx, 8") { $0.shrd(.dword[.eax], .ecx, 8) }
    t.e(all, "shrd ax, bx, cl") { $0.shrd(.ax, .bx, .cl) }
    t.e(long, "shld rax, r9, 1") { $0.shld(.rax, .r9, 1) }
    t.e(all, "bt eax, 3") { $0.bt(.eax, 3) }
    t.e(all, "bts dword ptr [eax], 31") { $0.bts(.dword[.eax], 31) }
    t.e(all, "btr eax, ebx") { $0.btr(.eax, .ebx) }
    t.e(all, "btc word ptr [eax], bx") { $0.btc(.word[.eax], .bx) }
    t.e(all, "bt dword ptr [eax], ecx") { $0.bt(.dword[.eax], .ecx) }
    t.e(long, "bt rax, 63") { $0.bt(.rax, 63) }
    t.e(long, "bts r8, rax") { $0.bts(.r8, .rax) }
    t.e(all, "bsf eax, ebx") { $0.bsf(.eax, .ebx) }
    t.e(all, "bsr ecx, dword ptr [eax]") { $0.bsr(.ecx, .dword[.eax]) }
    t.e(all, "popcnt eax, ebx") { $0.popcnt(.eax, .ebx) }
    t.e(all, "popcnt ax, word ptr [ebx]") { $0.popcnt(.ax, .word[.ebx]) }
    t.e(long, "popcnt rax, r9") { $0.popcnt(.rax, .r9) }
    t.e(all, "bswap eax") { $0.bswap(.eax) }
    t.e(long, "bswap rax") { $0.bswap(.rax) }
    t.e(long, "bswap r9d") { $0.bswap(.r9d) }
    t.e(all, "cmpxchg dword ptr [eax], ecx") { $0.cmpxchg(.dword[.eax], .ecx) }
    t.e(all, "cmpxchg bl, cl") { $0.cmpxchg(.bl, .cl) }
    t.e(all, "xadd eax, ebx") { $0.xadd(.eax, .ebx) }
    t.e(all, "xadd byte ptr [eax], al") { $0.xadd(.byte[.eax], .al) }
    t.e(all, "cmpxchg8b qword ptr [eax]") { $0.cmpxchg8b(.qword[.eax]) }
    t.e(long, "cmpxchg16b xmmword ptr [rax]") { $0.cmpxchg16b(.xmmword[.rax]) }
    t.e(long, "lock cmpxchg qword ptr [rbx], rcx") { $0.lock().cmpxchg(.qword[.rbx], .rcx) }
    t.e(all, "lock add dword ptr [eax], 1") { $0.lock().add(.dword[.eax], 1) }
    t.e(all, "lock xadd dword ptr [eax], ecx") { $0.lock().xadd(.dword[.eax], .ecx) }
    t.e(all, "lock inc dword ptr [eax]") { $0.lock().inc(.dword[.eax]) }
    t.e(all, "movbe eax, dword ptr [ebx]") { $0.movbe(.eax, .dword[.ebx]) }
    t.e(all, "movbe word ptr [ebx], ax") { $0.movbe(.word[.ebx], .ax) }
    t.e(long, "movbe rax, qword ptr [rbx]") { $0.movbe(.rax, .qword[.rbx]) }
    t.e(all, "cbw") { $0.cbw() }
    t.e(all, "cwde") { $0.cwde() }
    t.e(all, "cwd") { $0.cwd() }
    t.e(all, "cdq") { $0.cdq() }
    t.e(long, "cdqe") { $0.cdqe() }
    t.e(long, "cqo") { $0.cqo() }
    t.e(legacy, "daa") { $0.daa() }
    t.e(legacy, "das") { $0.das() }
    t.e(legacy, "aaa") { $0.aaa() }
    t.e(legacy, "aas") { $0.aas() }
    t.e(legacy, "aam") { $0.aam() }
    t.e(legacy, "aad") { $0.aad() }
    t.e(legacy, "aam 16") { $0.aam(16) }
    t.e(all, "xlatb") { $0.xlat() }
    let ccs: [(String, Condition)] = [
        ("o", .o), ("no", .no), ("b", .b), ("ae", .ae), ("e", .e), ("ne", .ne), ("be", .be), ("a", .a),
        ("s", .s), ("ns", .ns), ("p", .p), ("np", .np), ("l", .l), ("ge", .ge), ("le", .le), ("g", .g),
    ]
    for (n, cc) in ccs {
        t.e(all, "set\(n) al") { $0.setcc(cc, .al) }
        t.e(all, "cmov\(n) eax, ebx") { $0.cmovcc(cc, .eax, .ebx) }
    }
    t.e(all, "setz byte ptr [eax]") { $0.setz(.byte[.eax]) }
    t.e(long, "setnz r9b") { $0.setnz(.r9b) }
    t.e(long, "cmovc rax, qword ptr [rbx]") { $0.cmovc(.rax, .qword[.rbx]) }
    t.e(all, "cmovnae cx, dx") { $0.cmovnae(.cx, .dx) }
}

func controlEntries(_ t: TableBuilder) {
    t.e(legacy, "jmp eax") { $0.jmp(.eax) }
    t.e(legacy, "call ebx") { $0.call(.ebx) }
    t.e(prot, "call dword ptr [eax]") { $0.call(.dword[.eax]) }
    t.e(real, "jmp ax") { $0.jmp(.ax) }
    t.e(real, "call word ptr [bx]") { $0.call(.word[.bx]) }
    t.e(long, "jmp rax") { $0.jmp(.rax) }
    t.e(long, "call r9") { $0.call(.r9) }
    t.e(long, "jmp qword ptr [rax+8]") { $0.jmp(.qword[.rax + 8]) }
    t.e(long, "call qword ptr [rip+0x40]") { $0.call(.qword[.rip + 0x40]) }
    t.e(legacy, "jmp 0x08:0x1000") { $0.jmpFar(selector: 0x08, offset: 0x1000) }
    t.e(legacy, "call 0x10:0x2000") { $0.callFar(selector: 0x10, offset: 0x2000) }
    t.e(prot, "jmp fword ptr [eax]") { $0.jmpFar(.fword[.eax]) }
    t.e(prot, "call fword ptr [ebx]") { $0.callFar(.fword[.ebx]) }
    t.e(real, "jmp dword ptr [bx]") { $0.jmpFar(.dword[.bx]) }
    t.e(real, "jmp fword ptr [bx]") { $0.jmpFar(.fword[.bx]) }
    t.e(long, "jmp fword ptr [rax]") { $0.jmpFar(.fword[.rax]) }
    t.e(long, "rex64 jmp fword ptr [rax]") { $0.jmpFar(.tword[.rax]) }
    t.e(long, "rex64 call fword ptr [rax]") { $0.callFar(.tword[.rax]) }
    t.e(all, "ret") { $0.ret() }
    t.e(all, "ret 8") { $0.ret(8) }
    t.e(all, "retf") { $0.retf() }
    t.e(all, "retf 16") { $0.retf(16) }
    t.e(long, "retfq") { $0.retfq() }
    t.e(all, "iret") { $0.iret() }
    t.e(all, "iretd") { $0.iretd() }
    t.e(all, "iretw") { $0.iretw() }
    t.e(long, "iretq") { $0.iretq() }
    t.e(all, "int 0x80") { $0.int(0x80) }
    t.e(all, "int3") { $0.int3() }
    t.e(all, "int1") { $0.int1() }
    t.e(legacy, "into") { $0.into() }
    let strings: [(String, Plain)] = [
        ("movsb", { $0.movsb() }), ("movsw", { $0.movsw() }), ("movsd", { $0.movsd() }),
        ("cmpsb", { $0.cmpsb() }), ("cmpsw", { $0.cmpsw() }), ("cmpsd", { $0.cmpsd() }),
        ("scasb", { $0.scasb() }), ("scasw", { $0.scasw() }), ("scasd", { $0.scasd() }),
        ("lodsb", { $0.lodsb() }), ("lodsw", { $0.lodsw() }), ("lodsd", { $0.lodsd() }),
        ("stosb", { $0.stosb() }), ("stosw", { $0.stosw() }), ("stosd", { $0.stosd() }),
        ("insb", { $0.insb() }), ("insw", { $0.insw() }), ("insd", { $0.insd() }),
        ("outsb", { $0.outsb() }), ("outsw", { $0.outsw() }), ("outsd", { $0.outsd() }),
    ]
    for (n, f) in strings { t.e(all, n, f) }
    let strings64: [(String, Plain)] = [
        ("movsq", { $0.movsq() }), ("cmpsq", { $0.cmpsq() }), ("scasq", { $0.scasq() }), ("lodsq", { $0.lodsq() }), ("stosq", { $0.stosq() }),
    ]
    for (n, f) in strings64 { t.e(long, n, f) }
    t.e(all, "rep movsb") { $0.rep().movsb() }
    t.e(all, "rep movsd") { $0.rep().movsd() }
    t.e(all, "rep stosw") { $0.rep().stosw() }
    t.e(all, "repe cmpsb") { $0.repe().cmpsb() }
    t.e(all, "repne scasb") { $0.repne().scasb() }
    t.e(all, "rep insb") { $0.rep().insb() }
    t.e(all, "rep outsw") { $0.rep().outsw() }
    t.e(long, "rep stosq") { $0.rep().stosq() }
    t.e(long, "rep movsq") { $0.rep().movsq() }
    t.e(all, "in al, 0x60") { $0.in(.al, 0x60) }
    t.e(all, "in ax, 0x60") { $0.in(.ax, 0x60) }
    t.e(all, "in eax, 0x60") { $0.in(.eax, 0x60) }
    t.e(all, "in al, dx") { $0.in(.al, .dx) }
    t.e(all, "in ax, dx") { $0.in(.ax, .dx) }
    t.e(all, "in eax, dx") { $0.in(.eax, .dx) }
    t.e(all, "out 0xe9, al") { $0.out(0xE9, .al) }
    t.e(all, "out 0x80, ax") { $0.out(0x80, .ax) }
    t.e(all, "out 0x80, eax") { $0.out(0x80, .eax) }
    t.e(all, "out dx, al") { $0.out(.dx, .al) }
    t.e(all, "out dx, ax") { $0.out(.dx, .ax) }
    t.e(all, "out dx, eax") { $0.out(.dx, .eax) }
}

func systemEntries(_ t: TableBuilder) {
    let simple: [(String, Plain)] = [
        ("lahf", { $0.lahf() }), ("sahf", { $0.sahf() }), ("clc", { $0.clc() }), ("stc", { $0.stc() }), ("cmc", { $0.cmc() }),
        ("cld", { $0.cld() }), ("std", { $0.std() }), ("cli", { $0.cli() }), ("sti", { $0.sti() }), ("hlt", { $0.hlt() }),
        ("nop", { $0.nop() }), ("pause", { $0.pause() }), ("ud2", { $0.ud2() }), ("cpuid", { $0.cpuid() }),
        ("rdtsc", { $0.rdtsc() }), ("rdtscp", { $0.rdtscp() }), ("rdmsr", { $0.rdmsr() }), ("wrmsr", { $0.wrmsr() }),
        ("sysenter", { $0.sysenter() }), ("clts", { $0.clts() }), ("wbinvd", { $0.wbinvd() }),
        ("invd", { $0.invd() }), ("lfence", { $0.lfence() }), ("mfence", { $0.mfence() }), ("sfence", { $0.sfence() }),
        ("vmcall", { $0.vmcall() }), ("vmlaunch", { $0.vmlaunch() }), ("vmresume", { $0.vmresume() }), ("vmxoff", { $0.vmxoff() }),
    ]
    for (n, f) in simple { t.e(all, n, f) }
    t.e(long, "syscall") { $0.syscall() }
    t.e(long, "sysretd") { $0.sysret() }
    t.e(legacy, "sysexit") { $0.sysexit() }
    t.e(long, "sysexitd") { $0.sysexit() }
    t.e(long, "sysretq") { $0.sysretq() }
    t.e(long, "sysexitq") { $0.sysexitq() }
    t.e(long, "swapgs") { $0.swapgs() }
    t.e(all, "nop dword ptr [eax]") { $0.nop(.dword[.eax]) }
    t.e(all, "nop eax") { $0.nop(.eax) }
    t.e(all, "nop word ptr [eax+eax*1+0x10]") { $0.nop(.word[.eax + .eax + 0x10]) }
    t.e(legacy, "lgdt fword ptr [eax]") { $0.lgdt(.fword[.eax]) }
    t.e(real, "lgdt [bx]") { $0.lgdt(.mem[.bx]) }
    t.e(real, "lidt fword ptr [bx+4]") { $0.lidt(.fword[.bx + 4]) }
    t.e(real, "lidt [0x500]") { $0.lidt(.mem[0x500]) }
    t.e(legacy, "lidt [eax]") { $0.lidt(.mem[.eax]) }
    t.e(legacy, "sgdt [eax]") { $0.sgdt(.mem[.eax]) }
    t.e(legacy, "sidt [eax]") { $0.sidt(.mem[.eax]) }
    t.e(long, "lgdt [rax]") { $0.lgdt(.mem[.rax]) }
    t.e(long, "lidt [rax+8]") { $0.lidt(.tword[.rax + 8]) }
    t.e(long, "sgdt [rax]") { $0.sgdt(.mem[.rax]) }
    t.e(long, "sidt [rbx]") { $0.sidt(.mem[.rbx]) }
    t.e(all, "lldt ax") { $0.lldt(.ax) }
    t.e(all, "ltr ax") { $0.ltr(.ax) }
    t.e(all, "ltr word ptr [eax]") { $0.ltr(.word[.eax]) }
    t.e(all, "sldt ax") { $0.sldt(.ax) }
    t.e(all, "sldt eax") { $0.sldt(.eax) }
    t.e(all, "str ax") { $0.str(.ax) }
    t.e(all, "str eax") { $0.str(.eax) }
    t.e(long, "sldt rax") { $0.sldt(.rax) }
    t.e(all, "sldt word ptr [eax]") { $0.sldt(.word[.eax]) }
    t.e(all, "verr ax") { $0.verr(.ax) }
    t.e(all, "verw word ptr [eax]") { $0.verw(.word[.eax]) }
    t.e(all, "lar eax, bx") { $0.lar(.eax, .bx) }
    t.e(all, "lsl eax, bx") { $0.lsl(.eax, .bx) }
    t.e(all, "lar ax, word ptr [eax]") { $0.lar(.ax, .word[.eax]) }
    t.e(legacy, "arpl ax, bx") { $0.arpl(.ax, .bx) }
    t.e(legacy, "arpl word ptr [eax], cx") { $0.arpl(.word[.eax], .cx) }
    t.e(all, "invlpg [eax]") { $0.invlpg(.mem[.eax]) }
    t.e(long, "invlpg [rax+0x1000]") { $0.invlpg(.byte[.rax + 0x1000]) }
    t.e(all, "clflush byte ptr [eax]") { $0.clflush(.byte[.eax]) }
    t.e(long, "vmxon qword ptr [rax]") { $0.vmxon(.qword[.rax]) }
    t.e(long, "vmptrld qword ptr [rax]") { $0.vmptrld(.qword[.rax]) }
    t.e(long, "vmptrst qword ptr [rbx]") { $0.vmptrst(.qword[.rbx]) }
    t.e(long, "vmclear qword ptr [rcx]") { $0.vmclear(.qword[.rcx]) }
    t.e(long, "vmread rax, rbx") { $0.vmread(.rax, .rbx) }
    t.e(long, "vmread qword ptr [rax], rbx") { $0.vmread(.qword[.rax], .rbx) }
    t.e(long, "vmwrite rax, rbx") { $0.vmwrite(.rax, .rbx) }
    t.e(long, "vmwrite r9, qword ptr [rax]") { $0.vmwrite(.r9, .qword[.rax]) }
    t.e(long, "invept rax, xmmword ptr [rbx]") { $0.invept(.rax, .xmmword[.rbx]) }
    t.e(long, "invvpid rcx, xmmword ptr [rdx]") { $0.invvpid(.rcx, .xmmword[.rdx]) }
    t.e(prot, "vmxon qword ptr [eax]") { $0.vmxon(.qword[.eax]) }
    t.e(prot, "vmclear qword ptr [eax]") { $0.vmclear(.qword[.eax]) }
    t.e(prot, "vmread eax, ebx") { $0.vmread(.eax, .ebx) }
    t.e(prot, "vmwrite eax, ebx") { $0.vmwrite(.eax, .ebx) }
    t.e(prot, "invept eax, xmmword ptr [ebx]") { $0.invept(.eax, .xmmword[.ebx]) }
}

/// Every entry of the table.
let encodingTable: [Entry] = {
    let t = TableBuilder()
    moveEntries(t)
    stackEntries(t)
    arithmeticEntries(t)
    controlEntries(t)
    systemEntries(t)
    return t.entries
}()
