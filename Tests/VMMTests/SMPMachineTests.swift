// Several processors on one machine (`--smp N`): application processors wait for SIPI, INIT and start-up
// IPIs from the bootstrap processor bring them up in real mode at the SIPI vector, each sees its own APIC.
import Devices
import Guests
import Hypervisor
import Loaders
import Testing
import X86
@testable import VMM

@Suite("PC machine with several processors")
struct SMPMachineTests {
    /// A 64 KiB ROM (its alias at 0xF0000). At offset 0, 32-bit code for the bootstrap processor: INIT then
    /// start-up (vector 0xF1) to all excluding self through the ICR at 0xFEE00300, wait until APs 1 and 2
    /// have written 0xA1 and 0xA2 at 0x501 and 0x502, then write 7 to isa-debug-exit. At offset 0x1000
    /// (physical 0xF1000, SIPI vector 0xF1), 16-bit code for each AP: its initial APIC ID from CPUID.1:EBX,
    /// byte 0xA0 + ID at 0x500 + ID, then CLI; HLT.
    static func bringUpROM() -> [UInt8] {
        var rom = [UInt8](repeating: 0xF4, count: 0x1_0000)
        let bsp: [UInt8] = [
            0xC7, 0x05, 0x00, 0x03, 0xE0, 0xFE, 0x00, 0x45, 0x0C, 0x00,   // mov dword [0xfee00300], 0x000c4500 (INIT)
            0xC7, 0x05, 0x00, 0x03, 0xE0, 0xFE, 0xF1, 0x46, 0x0C, 0x00,   // mov dword [0xfee00300], 0x000c46f1 (SIPI)
            0x80, 0x3D, 0x01, 0x05, 0x00, 0x00, 0xA1, 0x75, 0xF7,         // 0x14: cmp byte [0x501], 0xa1; jne 0x14
            0x80, 0x3D, 0x02, 0x05, 0x00, 0x00, 0xA2, 0x75, 0xEE,         // cmp byte [0x502], 0xa2; jne 0x14
            0xB0, 0x07, 0xE6, 0xF4, 0xF4,                                 // mov al, 7; out 0xf4, al; hlt
        ]
        rom.replaceSubrange(0..<bsp.count, with: bsp)
        let ap: [UInt8] = [
            0x31, 0xC0, 0x8E, 0xD8,                                       // xor ax, ax; mov ds, ax
            0x66, 0xB8, 0x01, 0x00, 0x00, 0x00, 0x0F, 0xA2,               // mov eax, 1; cpuid
            0x66, 0xC1, 0xEB, 0x18,                                       // shr ebx, 24
            0x88, 0xD8, 0x04, 0xA0,                                       // mov al, bl; add al, 0xa0
            0x88, 0x87, 0x00, 0x05,                                       // mov [bx + 0x500], al
            0xFA, 0xF4, 0xEB, 0xFD,                                       // cli; hlt; jmp hlt
        ]
        rom.replaceSubrange(0x1000..<0x1000 + ap.count, with: ap)
        return rom
    }

    /// A machine booting `bringUpROM` with `processors` processors, processor 0 switched to flat 32-bit
    /// protected mode at the ROM alias's first byte (so it reaches the APIC's page).
    static func bringUpMachine(processors: Int) throws -> PCMachine {
        var configuration = PCMachine.Configuration(boot: .firmware(rom: bringUpROM()))
        configuration.memorySize = 16 << 20
        configuration.clock = .deterministic
        configuration.processorCount = processors
        let machine = try PCMachine(configuration, console: CapturingConsole())
        var v = machine.vcpu.vmcs
        v[.guestCR0] = CR0.pe.rawValue | CR0.ne.rawValue | CR0.et.rawValue
        v[.cr0ReadShadow] = 0
        v.setGuestSegment(.cs, SegmentRegister(selector: 0x08, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC09B))
        for s in [SegmentRegisterName.ss, .ds, .es, .fs, .gs] {
            v.setGuestSegment(s, SegmentRegister(selector: 0x10, base: 0, limit: 0xFFFF_FFFF, accessRights: 0xC093))
        }
        v[.guestRIP] = 0xF_0000
        machine.vcpu.vmcs = v
        return machine
    }

    @Test("application processors wait for SIPI; INIT and start-up IPIs start them in real mode at the vector")
    func initSIPIBringsUpAPs() throws {
        let machine = try Self.bringUpMachine(processors: 3)
        let vcpus = machine.vcpus
        #expect(vcpus.count == 3)
        #expect(!vcpus[0].isWaitingForSIPI && vcpus[1].isWaitingForSIPI && vcpus[2].isWaitingForSIPI)
        // IA32_APIC_BASE: enabled at 0xFEE00000 on every processor, the BSP flag (bit 8) on processor 0 only.
        #expect(vcpus[0].readMSR(MSRIndex.apicBase) == 0xFEE0_0900)
        #expect(vcpus[1].readMSR(MSRIndex.apicBase) == 0xFEE0_0800)
        let outcome = machine.run(instructionLimit: 200_000)
        #expect(outcome == .debugExit(status: 15))           // (7 << 1) | 1
        #expect(machine.vm.memory.readInteger(at: 0x501, size: 2) == 0xA2A1)
        for i in 1...2 {
            #expect(!vcpus[i].isWaitingForSIPI)
            #expect(vcpus[i].read(.guestCSSelector) == 0xF100)
            #expect(vcpus[i].read(.guestCSBase) == 0xF_1000)
            #expect(vcpus[i].read(.guestCR0) & CR0.pe.rawValue == 0)             // real mode
            #expect(vcpus[i].instructionCount > 0 && vcpus[i].instructionCount < 20)
        }
    }

    @Test("the processors interleave the same way run after run (--clock deterministic)")
    func deterministicInterleaving() throws {
        func run() throws -> [UInt64] {
            let machine = try Self.bringUpMachine(processors: 3)
            #expect(machine.run(instructionLimit: 200_000) == .debugExit(status: 15))
            return machine.vcpus.map(\.instructionCount) + [machine.guestTime]
        }
        let first = try run()
        #expect(first[0] > 0 && first[1] > 0 && first[2] > 0)
        #expect(try run() == first)
    }

    @Test("with one processor the ICR reaches only itself and there is no APIC bus")
    func oneProcessorHasNoBus() throws {
        let machine = try Self.bringUpMachine(processors: 1)
        #expect(machine.apicBus == nil && machine.vcpus.count == 1)
        // The INIT and SIPI reach nobody: the BSP spins until the instruction limit.
        #expect(machine.run(instructionLimit: 20_000) == .instructionLimit(20_000))
        #expect(machine.localAPIC?.ignoredIPIs == 2)
    }

    @Test("the MADT lists every processor and fw_cfg counts them")
    func tablesListEveryProcessor() throws {
        var configuration = PCMachine.Configuration(boot: .kernel(image: try MultibootTestKernel.build(), initrd: nil, commandLine: ""))
        configuration.memorySize = 16 << 20
        configuration.processorCount = 4
        let machine = try PCMachine(configuration, console: CapturingConsole())
        // fw_cfg: select FW_CFG_NB_CPUS (5), read its 16-bit little-endian value.
        machine.ports.write(address: UInt64(PCLayout.fwCfg), size: 2, value: 5)
        let low = machine.ports.read(address: UInt64(PCLayout.fwCfg) + 1, size: 1)
        let high = machine.ports.read(address: UInt64(PCLayout.fwCfg) + 1, size: 1)
        #expect(low | high << 8 == 4)
        // The MADT (signature "APIC"): four Processor Local APIC entries (type 0), APIC IDs 0–3.
        var ids: [UInt8] = []
        let base = PCLayout.acpiTables
        for offset in stride(from: UInt64(0), to: PCLayout.acpiTablesSize, by: 4)
            where machine.vm.memory.readInteger(at: base + offset, size: 4) == 0x4349_5041 {
            let length = machine.vm.memory.readInteger(at: base + offset + 4, size: 4)
            var entry = base + offset + 44
            while entry < base + offset + length {
                let type = machine.vm.memory.readInteger(at: entry, size: 1), size = machine.vm.memory.readInteger(at: entry + 1, size: 1)
                if type == 0 { ids.append(UInt8(machine.vm.memory.readInteger(at: entry + 3, size: 1))) }
                guard size > 0 else { break }
                entry += size
            }
        }
        #expect(ids == [0, 1, 2, 3])
    }

    @Test("--smp out of range is refused with one line")
    func badProcessorCount() {
        for count in [0, PCLayout.maximumProcessors + 1] {
            var configuration = PCMachine.Configuration(boot: .firmware(rom: Self.bringUpROM()))
            configuration.memorySize = 16 << 20
            configuration.processorCount = count
            #expect(throws: MachineError.self) { _ = try PCMachine(configuration, console: CapturingConsole()) }
        }
    }

    @Test("swiftvmx run --smp takes 1–16 processors: anything else is a one-line usage error (status 64)",
          arguments: ["0", "17", "two", ""])
    func smpOptionUsage(value: String) throws {
        let result = try CLIRunner.run(["run", "--smp", value, "--kernel", "/dev/null"])
        #expect(result.status == 64, "\(value): \(result.standardError)")
        #expect(result.standardError.split(separator: "\n").count == 1)
    }
}
