// The PC machine beyond boot protocols: a firmware ROM at the reset vector in real mode, and the MMIO
// instruction decoder the VMM uses on EPT-violation exits.
import Devices
import Testing
@testable import VMM

@Suite("PC machine")
struct MachineTests {
    /// A 64 KiB ROM whose reset vector (F000:FFF0) writes "A" to port 0xE9 and 2 to isa-debug-exit.
    static func resetVectorROM() -> [UInt8] {
        var rom = [UInt8](repeating: 0xFF, count: 0x1_0000)
        let code: [UInt8] = [0xB0, 0x41, 0xE6, 0xE9, 0xB0, 0x02, 0xE6, 0xF4, 0xF4]   // mov al,'A'; out 0xe9,al; mov al,2; out 0xf4,al; hlt
        rom.replaceSubrange(0xFFF0..<0xFFF0 + code.count, with: code)
        return rom
    }

    @Test("a firmware ROM starts at the reset vector in real mode (unrestricted guest) and exits with status 5")
    func firmwareAtResetVector() throws {
        var configuration = PCMachine.Configuration(boot: .firmware(rom: Self.resetVectorROM()))
        configuration.memorySize = 16 << 20
        configuration.clock = .deterministic
        let debug = CapturingByteSink()
        configuration.debugConsole = debug
        let machine = try PCMachine(configuration, console: CapturingConsole())
        #expect(machine.vcpu.read(.guestCSBase) == 0xFFFF_0000)
        #expect(machine.vcpu.read(.guestRIP) == 0xFFF0)
        let outcome = machine.run(instructionLimit: 1000)
        #expect(outcome == .debugExit(status: 5))
        #expect(outcome.exitStatus == 5)
        #expect(debug.text == "A")
        // The ROM's alias below 1 MiB is mapped read-only over what would otherwise be RAM.
        #expect(machine.vm.memory.readInteger(at: 0xFFFF0, size: 1) == 0xB0)
    }

    /// (bytes, code size, kind, access size, length) — encodings checked against GNU as.
    static let decodeTable: [([UInt8], Int, MMIOInstruction.Kind, Int, Int)] = [
        ([0x89, 0x87, 0xB0, 0x00, 0x00, 0x00], 8, .store(register: 0, highByte: false), 4, 6),      // mov %eax,0xb0(%rdi)
        ([0x8B, 0x87, 0x20, 0x03, 0x00, 0x00], 8, .load(register: 0, registerSize: 4, highByte: false), 4, 6), // mov 0x320(%rdi),%eax
        ([0x48, 0x89, 0x10], 8, .store(register: 2, highByte: false), 8, 3),                        // mov %rdx,(%rax)
        ([0x44, 0x89, 0x00], 8, .store(register: 8, highByte: false), 4, 3),                        // mov %r8d,(%rax)
        ([0x88, 0x20], 8, .store(register: 0, highByte: true), 1, 2),                               // mov %ah,(%rax)
        ([0x40, 0x88, 0x30], 8, .store(register: 6, highByte: false), 1, 3),                        // mov %sil,(%rax)
        ([0x66, 0x89, 0x08], 8, .store(register: 1, highByte: false), 2, 3),                        // mov %cx,(%rax)
        ([0xC7, 0x04, 0x25, 0xB0, 0x00, 0xE0, 0xFE, 0x00, 0x00, 0x00, 0x00], 8, .storeImmediate(0), 4, 11), // movl $0,0xfee000b0
        ([0x48, 0xC7, 0x00, 0xFF, 0xFF, 0xFF, 0xFF], 8, .storeImmediate(~0), 8, 7),                 // movq $-1,(%rax)
        ([0xC6, 0x40, 0x10, 0x7F], 8, .storeImmediate(0x7F), 1, 4),                                 // movb $0x7f,0x10(%rax)
        ([0x0F, 0xB6, 0x08], 8, .load(register: 1, registerSize: 4, highByte: false), 1, 3),       // movzbl (%rax),%ecx
        ([0x0F, 0xB7, 0x48, 0x04], 8, .load(register: 1, registerSize: 4, highByte: false), 2, 4),  // movzwl 0x4(%rax),%ecx
        ([0x87, 0x07], 8, .exchange(register: 0, highByte: false), 4, 2),                           // xchg %eax,(%rdi)
        ([0x8B, 0x05, 0x10, 0x00, 0x00, 0x00], 8, .load(register: 0, registerSize: 4, highByte: false), 4, 6), // mov 0x10(%rip),%eax
        ([0x8B, 0x44, 0x24, 0x08], 8, .load(register: 0, registerSize: 4, highByte: false), 4, 4),  // mov 0x8(%rsp),%eax
        ([0x8B, 0x07], 2, .load(register: 0, registerSize: 2, highByte: false), 2, 2),              // 16-bit: mov (%bx),%ax
        ([0x66, 0x89, 0x47, 0x02], 2, .store(register: 0, highByte: false), 4, 4),                  // 16-bit: mov %eax,2(%bx)
    ]

    @Test("the MMIO decoder: operation, access size and instruction length", arguments: 0..<decodeTable.count)
    func decode(index: Int) {
        let (bytes, codeSize, kind, size, length) = Self.decodeTable[index]
        let decoded = MMIOInstruction.decode(bytes + [0x90, 0x90], codeSize: codeSize)
        #expect(decoded == MMIOInstruction(kind: kind, size: size, length: length))
    }

    @Test("forms the VMM does not emulate are refused, and no byte string traps the decoder")
    func decodeRefusesAndSurvivesGarbage() {
        #expect(MMIOInstruction.decode([0x01, 0x07], codeSize: 8) == nil)          // add %eax,(%rdi)
        #expect(MMIOInstruction.decode([0x89, 0xC0], codeSize: 8) == nil)          // register form
        #expect(MMIOInstruction.decode([], codeSize: 8) == nil)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            let bytes = (0..<Int.random(in: 0...15, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = MMIOInstruction.decode(bytes, codeSize: [2, 4, 8][Int.random(in: 0...2, using: &generator)])
        }
    }
}
