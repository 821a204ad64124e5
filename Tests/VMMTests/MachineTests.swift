// The PC machine beyond boot protocols: a firmware ROM at the reset vector in real mode.
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

    /// A 64 KiB ROM whose reset vector jumps to `code` at F000:FEF0, and a machine (16 MiB, deterministic clock)
    /// started from it with its port 0xE9 output captured.
    static func machine(runningAtFEF0 code: [UInt8]) throws -> (PCMachine, CapturingByteSink) {
        var rom = [UInt8](repeating: 0xFF, count: 0x1_0000)
        rom.replaceSubrange(0xFFF0 - 0x100..<0xFFF0 - 0x100 + code.count, with: code)
        rom.replaceSubrange(0xFFF0..<0xFFF3, with: [0xE9, 0xFD, 0xFE])                   // jmp near 0xfef0 (0xfff3 - 0x103)
        var configuration = PCMachine.Configuration(boot: .firmware(rom: rom))
        configuration.memorySize = 16 << 20
        configuration.clock = .deterministic
        let debug = CapturingByteSink()
        configuration.debugConsole = debug
        return (try PCMachine(configuration, console: CapturingConsole()), debug)
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

    /// REP OUTSB with an FS override (SDM Vol. 3C Table 27-8: the exit's instruction information names the
    /// segment) reads from FS, not DS: the ROM's "XY" at F000:0100 reaches port 0xE9, not two bytes of RAM.
    @Test("REP OUTSB reads through its segment-override prefix")
    func stringOutputHonoursSegmentOverride() throws {
        var rom = [UInt8](repeating: 0xFF, count: 0x1_0000)
        let code: [UInt8] = [
            0xB8, 0x00, 0xF0, 0x8E, 0xE0,   // mov ax, 0xf000; mov fs, ax
            0x31, 0xC0, 0x8E, 0xD8,         // xor ax, ax; mov ds, ax (DS:0100 is RAM, zeros)
            0xBE, 0x00, 0x01,               // mov si, 0x100
            0xBA, 0xE9, 0x00,               // mov dx, 0xe9
            0xB9, 0x02, 0x00, 0xFC,         // mov cx, 2; cld
            0x64, 0xF3, 0x6E,               // fs rep outsb
            0xB0, 0x02, 0xE6, 0xF4, 0xF4,   // mov al, 2; out 0xf4, al; hlt
        ]
        rom.replaceSubrange(0..<code.count, with: code)
        rom.replaceSubrange(0x100..<0x102, with: [0x58, 0x59])                          // "XY"
        rom.replaceSubrange(0xFFF0..<0xFFF5, with: [0xEA, 0x00, 0x00, 0x00, 0xF0])      // jmp far f000:0000
        var configuration = PCMachine.Configuration(boot: .firmware(rom: rom))
        configuration.memorySize = 16 << 20
        configuration.clock = .deterministic
        let debug = CapturingByteSink()
        configuration.debugConsole = debug
        let machine = try PCMachine(configuration, console: CapturingConsole())
        #expect(machine.run(instructionLimit: 1000) == .debugExit(status: 5))
        #expect(debug.text == "XY")
    }
    /// VMCALL exits to the VMM, which answers with KVM's hypercall convention (`emulateHypercall`): no
    /// hypercall is implemented, so RAX becomes -1000 (KVM_ENOSYS) and the instruction retires; #UD would
    /// run the ROM's 0xFF filler at vector 6's real-mode handler (address 0), never reaching port 0xE9.
    @Test("VMCALL returns KVM's 'no such hypercall' in RAX and retires")
    func hypercallReturnsNotImplemented() throws {
        let code: [UInt8] = [
            0x66, 0xB8, 0x34, 0x12, 0x00, 0x00, // mov eax, 0x1234 (no such hypercall)
            0x0F, 0x01, 0xC1,                   // vmcall
            0xE6, 0xE9,                         // out 0xe9, al  (0x18)
            0x88, 0xE0, 0xE6, 0xE9,             // mov al, ah; out 0xe9, al  (0xfc)
            0x66, 0xC1, 0xE8, 0x10,             // shr eax, 16
            0xE6, 0xE9,                         // out 0xe9, al  (0xff)
            0xB0, 0x02, 0xE6, 0xF4, 0xF4,       // mov al, 2; out 0xf4, al; hlt
        ]
        let (machine, debug) = try Self.machine(runningAtFEF0: code)
        #expect(machine.run(instructionLimit: 1000) == .debugExit(status: 5))
        #expect(debug.bytes == [0x18, 0xFC, 0xFF])
    }

    /// KVM_HC_SEND_IPI (hypercall 10; outside 64-bit mode its arguments are 32 bits): bit 0 of the bitmap with
    /// first APIC ID 0 reaches the one APIC (RAX = 1 APIC reached); a first ID no APIC has reaches none (0); a
    /// shorthand in the ICR word is refused with KVM_EINVAL (-22, low byte 0xEA).
    @Test("VMCALL KVM_HC_SEND_IPI delivers to the APIC IDs of its bitmap")
    func sendIPIHypercall() throws {
        let sendIPI: [UInt8] = [0x66, 0xB8, 0x0A, 0, 0, 0]               // mov eax, 10 (KVM_HC_SEND_IPI)
        let vmcallAndShow: [UInt8] = [0x0F, 0x01, 0xC1, 0xE6, 0xE9]      // vmcall; out 0xe9, al
        let code: [UInt8] =
            [0xFA] +                                                     // cli
            sendIPI + [0x66, 0xBB, 1, 0, 0, 0,                           // mov ebx, 1 (APIC ID first + 0)
                       0x66, 0x31, 0xC9, 0x66, 0x31, 0xD2,               // xor ecx, ecx; xor edx, edx (first ID 0)
                       0x66, 0xBE, 0x40, 0, 0, 0] + vmcallAndShow +      // mov esi, 0x40 (fixed, vector 0x40)
            sendIPI + [0x66, 0xBA, 0xFF, 0xFF, 0xFF, 0xFF] + vmcallAndShow + // mov edx, -1: no such APIC
            sendIPI + [0x66, 0x31, 0xD2,
                       0x66, 0xBE, 0x40, 0, 0x0C, 0] + vmcallAndShow +   // mov esi, 0xC0040: shorthand "all but self"
            [0xB0, 0x02, 0xE6, 0xF4, 0xF4]                               // mov al, 2; out 0xf4, al; hlt
        let (machine, debug) = try Self.machine(runningAtFEF0: code)
        // Software-enable the APIC (SVR bit 8), as an OS does first: a disabled APIC accepts no fixed interrupt.
        machine.localAPIC?.writeRegister(.spuriousInterruptVector, 0x1FF)
        #expect(machine.run(instructionLimit: 1000) == .debugExit(status: 5))
        #expect(debug.bytes == [1, 0, 0xEA])
        #expect(machine.localAPIC?.pendingVector() == 0x40)     // the IPI waits in the IRR (interrupts are off)
    }
}
