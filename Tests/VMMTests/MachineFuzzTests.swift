// A hostile guest against the whole PC machine: random code, salted with the instructions that reach the
// VMM (port I/O and string I/O with REP, MMIO to the APICs, HLT, STI/CLI, CPUID, RDMSR/WRMSR, XSETBV),
// started in 32-bit protected mode by the multiboot loader. Whatever it does, the VMM must return an
// outcome and never trap.
import Devices
import Testing
@testable import VMM

@Suite("PC machine fuzzing")
struct MachineFuzzTests {
    /// Instruction fragments that exit to the VMM.
    static let salt: [[UInt8]] = [
        [0xE6, 0x80], [0xE4, 0x61], [0xEC], [0xEE], [0xED], [0xEF], [0x66, 0xED],     // IN/OUT imm8 and DX
        [0xF3, 0x6E], [0xF3, 0x6C], [0xF3, 0x66, 0x6F], [0xFD, 0xF3, 0x6D],          // REP OUTS/INS, DF=1
        [0xBA, 0xF8, 0x03, 0x00, 0x00], [0xBA, 0x70, 0x00, 0x00, 0x00], [0xBA, 0x20, 0x00, 0x00, 0x00],
        [0xBA, 0xF8, 0x0C, 0x00, 0x00], [0xBA, 0x10, 0x05, 0x00, 0x00], [0xBA, 0x04, 0x06, 0x00, 0x00],
        [0xA3, 0xB0, 0x00, 0xE0, 0xFE], [0xA1, 0x20, 0x03, 0xE0, 0xFE],             // moffs forms (refused)
        [0x89, 0x05, 0x80, 0x03, 0xE0, 0xFE], [0x8B, 0x05, 0x00, 0x00, 0xC0, 0xFE], // MOV to/from the APICs
        [0xC7, 0x05, 0x20, 0x03, 0xE0, 0xFE, 0x30, 0x00, 0x02, 0x00],               // LVT timer periodic
        [0xC7, 0x05, 0x80, 0x03, 0xE0, 0xFE, 0x10, 0x00, 0x00, 0x00],               // initial count
        [0x87, 0x05, 0x10, 0x00, 0xC0, 0xFE], [0x0F, 0xB6, 0x05, 0x00, 0x00, 0xE0, 0xFE],
        [0xF4], [0xFB], [0xFA], [0xFB, 0xF4], [0x0F, 0xA2], [0x0F, 0x32], [0x0F, 0x30], [0x0F, 0x01, 0xD1],
        [0xB9, 0xE0, 0x06, 0x00, 0x00], [0x31, 0xC0], [0x0F, 0x01, 0xC1], [0xCD, 0x80], [0xCC],
    ]

    static func guest(seed: UInt64) -> [UInt8] {
        var x = seed | 1
        func next() -> UInt64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
        var code: [UInt8] = []
        while code.count < 3000 {
            if next() % 3 == 0 {
                code += salt[Int(next() % UInt64(salt.count))]
            } else {
                code.append(UInt8(truncatingIfNeeded: next()))
            }
        }
        return code
    }

    @Test("random guests salted with exiting instructions never trap the VMM", arguments: 0..<4)
    func randomGuests(batch: Int) throws {
        var outcomes: [String: Int] = [:]
        for k in 0..<60 {
            let seed = UInt64(batch * 1000 + k) &* 0x9E37_79B9_7F4A_7C15
            var configuration = PCMachine.Configuration(boot: .kernel(image: makeMultibootAout(code: Self.guest(seed: seed)),
                                                                      initrd: nil, commandLine: "fuzz"))
            configuration.memorySize = 16 << 20
            configuration.clock = .deterministic
            let machine = try PCMachine(configuration, console: CapturingConsole(input: Array("input".utf8)))
            let started = ContinuousClock.now
            let outcome = machine.run(instructionLimit: 20_000)
            let elapsed = ContinuousClock.now - started
            #expect(elapsed < .seconds(20), "seed \(seed): \(outcome) took \(elapsed)")
            #expect(!outcome.description.isEmpty)
            if case .error(let text) = outcome, text.contains("no progress") { Issue.record("seed \(seed): \(text)") }
            let key: String
            switch outcome {
            case .error: key = "error"
            case .instructionLimit: key = "limit"
            default: key = "\(outcome)".components(separatedBy: " ").prefix(2).joined(separator: " ")
            }
            outcomes[key, default: 0] += 1
        }
        #expect(outcomes.values.reduce(0, +) == 60)
    }
}
