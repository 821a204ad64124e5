// The gdb remote stub without a socket: packet framing and checksums, the register layouts gdb's x86
// architectures expect, and whole sessions against a small guest on the PC machine (breakpoints, a
// single step, a write watchpoint, a hardware breakpoint, memory and register access, Ctrl-C, the exit).
import Hypervisor
import ImageBuilders
import Testing
import VMM
import X86

/// A connection that plays back what gdb sends and records what the stub answers.
final class ScriptedGDB: GDBTransport {
    /// Chunks gdb sends, in order; a chunk that is only 0x03 arrives while the guest runs (Ctrl-C).
    var script: [[UInt8]]
    /// Everything the stub sent.
    var sent: [UInt8] = []

    init(_ packets: [String]) {
        script = packets.map { $0 == "\u{03}" ? [3] : GDBPacketReader.frame(Array($0.utf8)) }
    }

    func accept(waiting: Bool) -> Bool { !script.isEmpty }

    func receive(waitingAtMost milliseconds: Int?) -> [UInt8]? {
        guard let next = script.first else { return nil }
        // A poll while the guest runs sees only Ctrl-C; a blocking read takes the next chunk.
        if milliseconds == 0 && next != [3] { return [] }
        script.removeFirst()
        return next
    }

    func send(_ bytes: [UInt8]) { sent += bytes }
    func disconnect() {}

    /// The payloads of the packets the stub sent (acknowledgements dropped), checksums verified.
    var replies: [String] {
        var reader = GDBPacketReader()
        return reader.feed(sent).compactMap { if case .packet(let p) = $0 { return String(decoding: p, as: UTF8.self) }; return nil }
    }
}

/// hex of a string (qRcmd's argument).
func hex(_ text: String) -> String { text.utf8.map { String(format2: $0) }.joined() }

extension String {
    init(format2 b: UInt8) { self = (b < 16 ? "0" : "") + String(b, radix: 16) }
}

/// The guest: a counter at 0x101000 incremented 5 times in a loop, then written to isa-debug-exit.
///     100000  mov ecx, 5
///     100005  inc dword [0x101000]
///     10000b  dec ecx
///     10000c  jnz 100005
///     10000e  mov eax, [0x101000]
///     100013  out 0xf4, al
///     100015  hlt
let counterGuest: [UInt8] = [0xB9, 5, 0, 0, 0, 0xFF, 0x05, 0x00, 0x10, 0x10, 0x00, 0x49, 0x75, 0xF7,
                             0xA1, 0x00, 0x10, 0x10, 0x00, 0xE6, 0xF4, 0xF4]

/// Runs `body` (32-bit code at 1 MiB) under a scripted gdb attached before the first instruction.
func debugSession(_ body: [UInt8], _ packets: [String], instructionLimit: UInt64 = 10_000_000) throws -> (replies: [String], outcome: MachineOutcome) {
    var configuration = PCMachine.Configuration(boot: .kernel(image: makeELF32(body: body), initrd: nil, commandLine: ""))
    configuration.memorySize = 32 << 20
    configuration.clock = .deterministic
    let machine = try PCMachine(configuration, console: CapturingConsole())
    let gdb = ScriptedGDB(packets)
    _ = GDBSession(transport: gdb, machine: machine, waitForDebugger: true)
    let outcome = machine.run(instructionLimit: instructionLimit)
    return (gdb.replies, outcome)
}

@Suite("gdb remote stub")
struct GDBStubTests {
    @Test("framing: $payload#checksum, escapes, corrupt packets, Ctrl-C, packets split across reads")
    func framing() {
        #expect(GDBPacketReader.frame(Array("OK".utf8)) == Array("$OK#9a".utf8))
        // '#', '$', '}' and '*' are escaped as '}' then the byte XOR 0x20; the checksum covers the escaped form.
        #expect(GDBPacketReader.frame([0x23, 0x41]) == Array("$}\u{03}A#c1".utf8))
        var r = GDBPacketReader()
        #expect(r.feed(Array("+$qSupported:swbreak+#".utf8)).isEmpty)
        #expect(r.feed(Array("30".utf8)) == [.corrupt])
        let good = GDBPacketReader.frame(Array("m100000,4".utf8))
        #expect(r.feed(good + [3] + Array("$g#00".utf8)) == [.packet(Array("m100000,4".utf8)), .interrupt, .corrupt])
        #expect(r.feed(Array("$X10,2:}\u{03}}\u{5d}#".utf8) + Array(hexSum("X10,2:}\u{03}}\u{5d}").utf8))
                == [.packet(Array("X10,2:".utf8) + [0x23, 0x7D])])
    }

    func hexSum(_ s: String) -> String { String(format2: s.utf8.reduce(0) { $0 &+ $1 }) }

    @Test("register layouts: gdb's i386 and x86-64 orders and sizes, and the XML naming them")
    func layouts() {
        let l64 = GDBRegisterLayout(is64: true), l32 = GDBRegisterLayout(is64: false)
        // x86-64: 16 GPRs, rip, eflags, 6 selectors, 8 x87 + 8 control, 16 XMM, mxcsr, fs_base, gs_base, 5 system.
        #expect(l64.entries.count == 16 + 2 + 6 + 16 + 16 + 1 + 2 + 5)
        #expect(l64.entries.prefix(17).map(\.name) == ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
                                                       "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip"])
        #expect(l64.entries[24].name == "st0" && l64.entries[40].name == "xmm0" && l64.entries[56].name == "mxcsr")
        #expect(l64.entries[57].name == "fs_base" && l64.entries[58].name == "gs_base")
        #expect(l64.packetBytes == 16 * 8 + 8 + 4 + 6 * 4 + 8 * 10 + 8 * 4 + 16 * 16 + 4 + 2 * 8 + 5 * 8)
        // i386: eax ecx edx ebx esp ebp esi edi eip eflags, then the same x87 block, 8 XMM.
        #expect(l32.entries.prefix(10).map(\.name) == ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags"])
        #expect(l32.entries[16].name == "st0" && l32.entries[32].name == "xmm0" && l32.entries[40].name == "mxcsr")
        #expect(l32.packetBytes == 8 * 4 + 4 + 4 + 6 * 4 + 8 * 10 + 8 * 4 + 8 * 16 + 4 + 2 * 4 + 5 * 8)
        #expect(l64.targetXML.contains("<architecture>i386:x86-64</architecture>"))
        #expect(l32.targetXML.contains("<architecture>i386</architecture>"))
        #expect(l64.targetXML.contains("<feature name=\"org.gnu.gdb.i386.segments\">"))
        #expect(l64.targetXML.contains("<reg name=\"xmm15\" bitsize=\"128\" type=\"vec128\" regnum=\"55\""))
        #expect(!l32.targetXML.contains("xmm8"))
        // Real mode: the i386 layout, named i8086 so that gdb disassembles 16-bit code.
        let l16 = GDBRegisterLayout(codeSize: 16)
        #expect(l16.targetXML.contains("<architecture>i8086</architecture>"))
        #expect(l16.packetBytes == l32.packetBytes)
    }

    @Test("a session: software breakpoint, registers, step, write watchpoint, hardware breakpoint, memory write, read watchpoint, exit")
    func session() throws {
        let (replies, outcome) = try debugSession(counterGuest, [
            "qSupported:multiprocess+;swbreak+;hwbreak+",
            "qXfer:features:read:target.xml:0,3fff",
            "?", "g", "Z0,100005,1", "vCont;c",
            "p1", "p8", "s",
            "p8", "z0,100005,1", "m101000,4", "Z2,101000,4", "c",
            "p8", "z2,101000,4", "Z1,10000e,1", "c",
            "m101000,4", "M101000,4:20000000", "z1,10000e,1", "mf0000000,4", "qRcmd," + hex("vmcs guestRIP"),
            "Z3,101000,4", "c", "p8", "z3,101000,4", "c",
        ])
        try #require(replies.count == 28)
        #expect(replies[0].contains("qXfer:features:read+") && replies[0].contains("swbreak+"))
        #expect(replies[1].hasPrefix("l") && replies[1].contains("<architecture>i386</architecture>"))
        #expect(replies[2] == "T05thread:01;")
        let g = replies[3]
        #expect(g.count == 2 * GDBRegisterLayout(is64: false).packetBytes)
        #expect(g.dropFirst(64).prefix(8) == "00001000")                   // eip 0x100000 (little-endian)
        #expect(replies[4] == "OK")
        #expect(replies[5] == "T05thread:01;swbreak:;")                    // at 0x100005, before the INC
        #expect(replies[6] == "05000000")                                  // ecx = 5
        #expect(replies[7] == "05001000")                                  // eip = 0x100005
        #expect(replies[8] == "T05thread:01;")                             // one instruction (monitor trap flag)
        #expect(replies[9] == "0b001000")                                  // eip = 0x10000b
        #expect(replies[11] == "01000000")                                 // the counter after one INC
        #expect(replies[13] == "T05thread:01;watch:101000;")               // the second INC wrote 2
        #expect(replies[14] == "0b001000")                                 // stopped after the writing instruction
        #expect(replies[17] == "T05thread:01;hwbreak:;")
        #expect(replies[18] == "05000000")                                 // five increments
        #expect(replies[19] == "OK")
        #expect(replies[21] == "E14")                                      // not RAM
        let monitor = String(decoding: (0..<replies[22].count / 2).map { i in
            UInt8(replies[22].dropFirst(2 * i).prefix(2), radix: 16) ?? 0 }, as: UTF8.self)
        #expect(monitor.contains("guestRIP (0x681e) = 0x10000e"))
        #expect(replies[23] == "OK")
        #expect(replies[24] == "T05thread:01;rwatch:101000;")              // MOV EAX, [counter] read it
        #expect(replies[25] == "13001000")                                 // stopped after the reading instruction
        #expect(replies[27] == "W41")                                      // (0x20 << 1) | 1
        #expect(outcome == .debugExit(status: 0x41))
    }

    @Test("an access watchpoint stops after the instruction that reads or writes the bytes")
    func accessWatchpoint() throws {
        let (replies, outcome) = try debugSession(counterGuest, ["Z4,101002,1", "c", "p8", "m101000,4", "z4,101002,1", "Z4,101004,4", "c"])
        // INC dword [0x101000] touches byte 0x101002; nothing touches 0x101004.
        #expect(replies == ["OK", "T05thread:01;awatch:101002;", "0b001000", "01000000", "OK", "OK", "W0b"])
        #expect(outcome == .debugExit(status: 11))
    }

    @Test("Ctrl-C stops a running guest (SIGINT), and k ends the run")
    func interrupt() throws {
        let (replies, outcome) = try debugSession([0xEB, 0xFE], ["c", "\u{03}", "p8", "k"], instructionLimit: 100_000)    // jmp $
        #expect(replies == ["T02thread:01;", "00001000"])
        #expect(outcome == .error("killed by the debugger"))
    }

    @Test("gdb going away lets the guest run on without its breakpoints")
    func detach() throws {
        let (replies, outcome) = try debugSession(counterGuest, ["Z0,100005,1", "D"])
        #expect(replies == ["OK", "OK"])
        #expect(outcome == .debugExit(status: 11))                          // 5 increments, no stop
    }
}
