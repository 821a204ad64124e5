// How a PC-machine run ends, each with its own exit status (README), and the control registers the VMM owns
// behind the CR0/CR4 guest/host masks: real-mode firmware ROMs that end one way each.
import Devices
import Foundation
import Testing
import X86
@testable import VMM

/// A console whose first read is the user's quit (Ctrl-A x).
final class QuittingConsole: ConsoleIO {
    func write(_ bytes: [UInt8]) {}
    func flush() {}
    func read(waitingAtMost timeout: UInt64) -> ConsoleEvent { .quit }
    var mayProvideInput: Bool { true }
}

@Suite("Exit statuses and owned control registers")
struct ExitStatusTests {
    /// A 64 KiB ROM with `code` at F000:0000 and a jump to it at the reset vector.
    static func rom(_ code: [UInt8]) -> [UInt8] {
        var rom = [UInt8](repeating: 0xF4, count: 0x1_0000)
        rom.replaceSubrange(0..<code.count, with: code)
        rom.replaceSubrange(0xFFF0..<0xFFF3, with: [0xE9, 0x0D, 0x00])      // jmp 0x0000 (rel16 wraps)
        return rom
    }

    static func run(_ code: [UInt8], console: any ConsoleIO = CapturingConsole()) throws -> (PCMachine, MachineOutcome) {
        var configuration = PCMachine.Configuration(boot: .firmware(rom: rom(code)))
        configuration.memorySize = 16 << 20
        configuration.clock = .deterministic
        let machine = try PCMachine(configuration, console: console)
        return (machine, machine.run(instructionLimit: 1_000_000))
    }

    @Test func haltedForeverIsStatus2() throws {
        let (_, outcome) = try Self.run([0xFA, 0xF4])                              // cli; hlt
        #expect(outcome == .halted(rip: 2))
        #expect(outcome.exitStatus == 2)
    }

    @Test func resetThroughPort92StopsWithStatus4() throws {
        let (_, outcome) = try Self.run([0xB0, 0x01, 0xE6, 0x92, 0xF4])            // mov al,1; out 0x92,al; hlt
        guard case .reset = outcome else { Issue.record("outcome \(outcome)"); return }
        #expect(outcome.exitStatus == 4)
    }

    @Test func consoleQuitIsStatus6() throws {
        let (_, outcome) = try Self.run([0xEB, 0xFE], console: QuittingConsole())  // jmp $
        #expect(outcome == .quit)
        #expect(outcome.exitStatus == 6)
    }

    @Test func powerOffAndDebugExitKeepTheirStatuses() {
        #expect(MachineOutcome.powerOff.exitStatus == 0)
        #expect(MachineOutcome.debugExit(status: 1).exitStatus == 1)
        #expect(Set([0, 1, 2, 4, 6]).count == Set([MachineOutcome.powerOff, .error("x"), .halted(rip: 0), .reset("r"), .quit].map(\.exitStatus)).count)
    }

    @Test func guestClearsCR0NEAndReadsItBackWhileVMXKeepsIt() throws {
        let code: [UInt8] = [
            0x0F, 0x20, 0xC0,                       // mov eax, cr0
            0x66, 0x25, 0xDF, 0xFF, 0xFF, 0xFF,     // and eax, ~0x20 (NE)
            0x0F, 0x22, 0xC0,                       // mov cr0, eax     (a CR-access exit: NE is owned)
            0x0F, 0x20, 0xC0,                       // mov eax, cr0     (NE from the read shadow)
            0x66, 0xC1, 0xE8, 0x05,                 // shr eax, 5
            0x24, 0x01,                             // and al, 1
            0xE6, 0xF4,                             // out 0xf4, al     → status (NE << 1) | 1
            0xF4,
        ]
        let (machine, outcome) = try Self.run(code)
        #expect(outcome == .debugExit(status: 1))
        #expect(machine.vcpu.read(.guestCR0) & CR0.ne.rawValue != 0)
        #expect(machine.vcpu.read(.cr0ReadShadow) & CR0.ne.rawValue == 0)
    }

    @Test func settingCR4VMXERaisesGPAndReadsAsClear() throws {
        let handler: UInt8 = 0x21
        let code: [UInt8] = [
            0x31, 0xC0,                             // xor ax, ax
            0x8E, 0xD8,                             // mov ds, ax
            0xC7, 0x06, 0x34, 0x00, handler, 0x00,  // mov word [13*4], handler
            0xC7, 0x06, 0x36, 0x00, 0x00, 0xF0,     // mov word [13*4+2], 0xf000
            0x0F, 0x20, 0xE0,                       // mov eax, cr4
            0x66, 0x0D, 0x00, 0x20, 0x00, 0x00,     // or eax, 0x2000 (VMXE)
            0x0F, 0x22, 0xE0,                       // mov cr4, eax     → #GP(0)
            0xB0, 0x03, 0xE6, 0xF4, 0xF4,           // not reached: status 7
            // handler (0x21): status ((7 + VMXE as read) << 1) | 1
            0x0F, 0x20, 0xE0,                       // mov eax, cr4
            0x66, 0xC1, 0xE8, 0x0D,                 // shr eax, 13
            0x24, 0x01,                             // and al, 1
            0x04, 0x07,                             // add al, 7
            0xE6, 0xF4, 0xF4,                       // out 0xf4, al; hlt
        ]
        #expect(code.count == 0x21 + 14)
        let (_, outcome) = try Self.run(code)
        #expect(outcome == .debugExit(status: 15))
    }

    @Test func machineCheckCapabilitiesReadAsNoBanks() throws {
        let code: [UInt8] = [
            0x66, 0xB9, 0x79, 0x01, 0x00, 0x00,     // mov ecx, 0x179 (IA32_MCG_CAP)
            0x0F, 0x32,                             // rdmsr
            0x04, 0x05,                             // add al, 5
            0xE6, 0xF4, 0xF4,                       // out 0xf4, al → status 11 when MCG_CAP reads 0
        ]
        let (_, outcome) = try Self.run(code)
        #expect(outcome == .debugExit(status: 11))
    }

    @Test func swiftvmxRebootsOnResetUnlessNoReboot() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvmx-reset-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("reset.rom").path
        try Data(Self.rom([0xB0, 0x01, 0xE6, 0x92, 0xF4])).write(to: URL(fileURLWithPath: path))   // reset at once
        let stopped = try CLIRunner.run(["run", "--firmware", path, "--no-reboot", "--memory", "16"])
        #expect(stopped.status == 4 && !stopped.timedOut)
        // Without --no-reboot the machine boots again after every reset, until the instruction limit (counted
        // over all boots) stops it.
        let rebooting = try CLIRunner.run(["run", "--firmware", path, "--memory", "16", "--max-instructions", "20"])
        #expect(rebooting.status == 1 && !rebooting.timedOut)
        #expect(rebooting.standardError.components(separatedBy: "rebooting").count > 3)
    }
}
