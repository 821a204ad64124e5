// A PC-machine example: a multiboot kernel written with X86Assembler, checked with Loaders, booted on the
// VMM's PCMachine with its port 0xE9 output captured by a Devices sink.
import Devices
import Loaders
import VMM
import X86Assembler

/// A multiboot v1 kernel (a.out kludge, loaded at 1 MiB) that writes `message` to port 0xE9 and then
/// `status` to isa-debug-exit (port 0xF4).
func multibootKernel(message: String, status: UInt8) throws -> [UInt8] {
    let load: UInt32 = 0x10_0000, headerSize: UInt32 = 32
    let a = Assembler(mode: .bits32, origin: UInt64(load + headerSize))
    a.mov(.edx, .imm(0xE9))
    for byte in message.utf8 {
        a.mov(.al, .imm(byte))
        a.out(.dx, .al)
    }
    a.mov(.al, .imm(status))
    a.out(.imm(0xF4), .al)
    a.hlt()
    let code = try a.finish()
    let flags = MultibootHeader.aoutKludge
    let end = load + headerSize + UInt32(code.count)
    let words: [UInt32] = [MultibootHeader.magic, flags, 0 &- (MultibootHeader.magic &+ flags),
                           load, load, end, 0, load + headerSize]
    var header = words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> ($0 * 8)) } }
    header += [UInt8](repeating: 0, count: Int(headerSize) - header.count)
    return header + code
}

/// Boots the kernel on a PC machine; returns the entry address its multiboot header names, the outcome and
/// what the guest wrote to port 0xE9.
func pcMachineExample() throws -> (entry: UInt32?, outcome: MachineOutcome, debugConsole: String) {
    let kernel = try multibootKernel(message: "hello from a multiboot kernel\n", status: 5)
    let header = try MultibootHeader.find(in: kernel)            // Loaders: the header a boot loader reads
    var configuration = PCMachine.Configuration(boot: .kernel(image: kernel, initrd: nil, commandLine: "consumer"))
    configuration.memorySize = 32 << 20
    configuration.clock = .deterministic
    let debugConsole = CapturingByteSink()
    configuration.debugConsole = debugConsole
    let machine = try PCMachine(configuration, console: CapturingConsole())
    let outcome = machine.run(instructionLimit: 1_000_000)
    return (header.addresses?.entryAddress, outcome, debugConsole.text)
}
