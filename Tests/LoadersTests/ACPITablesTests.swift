import Foundation
import Testing
@testable import Loaders

/// Where `iasl` (Debian package acpica-tools) is, if installed.
private let iaslPath: String? = ["/usr/bin/iasl", "/usr/local/bin/iasl", "/opt/homebrew/bin/iasl"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite("ACPI tables")
struct ACPITablesTests {
    /// The bytes of the table at `address` (its length from the header, or 36 for the RSDP, 64 for the FACS).
    private func table(_ tables: ACPITables, at address: UInt64) throws -> [UInt8] {
        let offset = Int(address - tables.baseAddress)
        try #require(offset >= 0 && offset + 8 <= tables.bytes.count)
        let length = Int(tables.bytes.read(offset + 4, 4))
        try #require(offset + length <= tables.bytes.count)
        return Array(tables.bytes[offset..<(offset + length)])
    }

    private func signature(_ bytes: [UInt8]) -> String { String(decoding: bytes.prefix(4), as: UTF8.self) }
    private func sum(_ bytes: some Sequence<UInt8>) -> UInt8 { bytes.reduce(0, &+) }

    @Test func checksumsAndRSDP() throws {
        let tables = try ACPITableBuilder.build()
        #expect(tables.baseAddress == 0xE_0000 && tables.rsdpAddress == 0xE_0000)
        let rsdp = Array(tables.bytes[0..<36])
        #expect(String(decoding: rsdp[0..<8], as: UTF8.self) == "RSD PTR ")
        #expect(sum(rsdp[0..<20]) == 0)                                   // ACPI 1.0 checksum
        #expect(sum(rsdp) == 0)                                           // extended checksum
        #expect(rsdp[15] == 2)                                            // revision
        #expect(rsdp.read(20, 4) == 36)
        #expect(String(decoding: rsdp[9..<15], as: UTF8.self) == "SWVMX ")
        #expect(rsdp.read(16, 4) == tables.address(of: "RSDT"))
        #expect(rsdp.read(24, 8) == tables.address(of: "XSDT"))
        // Every table with a checksum sums to 0; all lie inside the blob, aligned.
        for location in tables.tables where location.signature != "RSD PTR " {
            let bytes = try table(tables, at: location.address)
            #expect(signature(bytes) == location.signature)
            #expect(bytes.count == location.length)
            if location.signature != "FACS" { #expect(sum(bytes) == 0, "checksum of \(location.signature)") }
            #expect(location.address % (location.signature == "FACS" ? 64 : 16) == 0)
        }
        #expect(Set(tables.tables.map(\.signature)) == ["RSD PTR ", "XSDT", "RSDT", "FACP", "FACS", "DSDT", "APIC"])
        // Tables do not overlap.
        let sorted = tables.tables.sorted { $0.address < $1.address }
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(a.address + UInt64(a.length) <= b.address) }
        #expect(tables.segment().guestPhysical == 0xE_0000 && tables.segment().bytes == tables.bytes)
    }

    @Test func rootTablesPointAtFADTAndMADT() throws {
        let tables = try ACPITableBuilder.build()
        let fadt = try #require(tables.address(of: "FACP"))
        let madt = try #require(tables.address(of: "APIC"))
        let xsdt = try table(tables, at: try #require(tables.address(of: "XSDT")))
        #expect(xsdt.count == 36 + 16)
        #expect(xsdt.read(36, 8) == fadt && xsdt.read(44, 8) == madt)
        let rsdt = try table(tables, at: try #require(tables.address(of: "RSDT")))
        #expect(rsdt.count == 36 + 8)
        #expect(rsdt.read(36, 4) == fadt && rsdt.read(40, 4) == madt)

        var configuration = ACPIConfiguration()
        configuration.includeMADT = false
        let withoutMADT = try ACPITableBuilder.build(at: 0x10_0000, configuration: configuration)
        #expect(withoutMADT.address(of: "APIC") == nil)
        let xsdt2 = try table(withoutMADT, at: try #require(withoutMADT.address(of: "XSDT")))
        #expect(xsdt2.count == 44 && xsdt2.read(36, 8) == withoutMADT.address(of: "FACP"))
    }

    @Test func fadtFields() throws {
        let tables = try ACPITableBuilder.build()
        let fadt = try table(tables, at: try #require(tables.address(of: "FACP")))
        let dsdt = try #require(tables.address(of: "DSDT"))
        let facs = try #require(tables.address(of: "FACS"))
        #expect(fadt.count == 276 && fadt[8] == 6 && fadt[131] == 5)
        #expect(fadt.read(36, 4) == 0 && fadt.read(132, 8) == facs)     // FIRMWARE_CTRL / X_FIRMWARE_CTRL
        #expect(fadt.read(40, 4) == dsdt && fadt.read(140, 8) == dsdt)  // DSDT / X_DSDT
        #expect(fadt.read(46, 2) == 9 && fadt.read(48, 4) == 0)         // SCI_INT, SMI_CMD
        // The PM block of ACPIPowerManagement (Devices): 0x600 / 0x604 / 0x608.
        #expect(fadt.read(56, 4) == 0x600 && fadt.read(64, 4) == 0x604 && fadt.read(76, 4) == 0x608)
        #expect(fadt.read(60, 4) == 0 && fadt.read(68, 4) == 0 && fadt.read(72, 4) == 0 && fadt.read(80, 4) == 0)
        #expect(fadt[88] == 4 && fadt[89] == 2 && fadt[90] == 0 && fadt[91] == 4 && fadt[92] == 0)
        #expect(fadt.read(109, 2) == 0x7)                               // LEGACY_DEVICES | 8042 | VGA Not Present
        let flags = fadt.read(112, 4)
        #expect(flags & (1 << 0) != 0 && flags & (1 << 2) != 0)         // WBINVD, PROC_C1
        #expect(flags & (1 << 4) == 0 && flags & (1 << 5) != 0)         // fixed power button, no sleep button
        #expect(flags & (1 << 8) == 0 && flags & (1 << 10) != 0)        // 24-bit timer, RESET_REG_SUP
        #expect(flags & (1 << 20) == 0)                                 // not HW_REDUCED_ACPI
        // RESET_REG: System I/O, 8 bits, port 0xCF9, value 6.
        #expect(Array(fadt[116..<120]) == [1, 8, 0, 1] && fadt.read(120, 8) == 0xCF9 && fadt[128] == 6)
        // X_ blocks: System I/O GAS with bit widths 32/16/32.
        #expect(fadt[148] == 1 && fadt[149] == 32 && fadt.read(152, 8) == 0x600)
        #expect(fadt[172] == 1 && fadt[173] == 16 && fadt.read(176, 8) == 0x604)
        #expect(fadt[208] == 1 && fadt[209] == 32 && fadt.read(212, 8) == 0x608)
        #expect(fadt[160..<172].allSatisfy { $0 == 0 } && fadt[220..<244].allSatisfy { $0 == 0 })  // no PM1b, GPE0/1
        #expect(fadt[108] == 0x32)                                      // CENTURY
        let facsBytes = try table(tables, at: facs)
        #expect(signature(facsBytes) == "FACS" && facsBytes.count == 64)
    }

    @Test func dsdtDefinesS5() throws {
        let tables = try ACPITableBuilder.build()
        let dsdt = try table(tables, at: try #require(tables.address(of: "DSDT")))
        #expect(dsdt[8] == 2)                                           // revision 2: 64-bit integers
        #expect(Array(dsdt[36...]) == [0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x08, 0x04,
                                       0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00])
        var configuration = ACPIConfiguration()
        configuration.s5SleepType = 7
        let custom = try ACPITableBuilder.build(configuration: configuration)
        let dsdt7 = try table(custom, at: try #require(custom.address(of: "DSDT")))
        #expect(dsdt7[45] == 7 && dsdt7[47] == 7 && sum(dsdt7) == 0)
    }

    @Test func madtEntries() throws {
        var configuration = ACPIConfiguration()
        configuration.processorCount = 2
        let tables = try ACPITableBuilder.build(configuration: configuration)
        let madt = try table(tables, at: try #require(tables.address(of: "APIC")))
        #expect(madt.read(36, 4) == 0xFEE0_0000 && madt.read(40, 4) == 1)  // LAPIC address, PCAT_COMPAT
        var entries: [[UInt8]] = []
        var offset = 44
        while offset + 2 <= madt.count {
            let length = Int(madt[offset + 1])
            try #require(length >= 2 && offset + length <= madt.count)
            entries.append(Array(madt[offset..<(offset + length)]))
            offset += length
        }
        #expect(offset == madt.count)
        #expect(entries.count == 6)
        #expect(entries[0] == [0, 8, 0, 0, 1, 0, 0, 0])                  // processor 0, enabled
        #expect(entries[1] == [0, 8, 1, 1, 1, 0, 0, 0])                  // processor 1, enabled
        #expect(entries[2] == [1, 12, 2, 0, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0])   // I/O APIC ID 2 at 0xFEC00000
        #expect(entries[3] == [2, 10, 0, 0, 2, 0, 0, 0, 0, 0])           // IRQ0 → GSI 2
        #expect(entries[4] == [2, 10, 0, 9, 9, 0, 0, 0, 0x0D, 0])        // SCI: level, active high
        #expect(entries[5] == [4, 6, 0xFF, 0, 0, 1])                     // NMI on LINT1
    }

    @Test func invalidInputsThrow() throws {
        #expect(throws: ACPITableError.misalignedBase(0xE_0008)) { try ACPITableBuilder.build(at: 0xE_0008) }
        #expect(throws: ACPITableError.self) { try ACPITableBuilder.build(at: 0xFFFF_FF00) }
        #expect(throws: ACPITableError.self) { try ACPITableBuilder.build(at: 0x1_0000_0000) }
        #expect(throws: ACPITableError.self) { try ACPITableBuilder.build(at: UInt64.max & ~0xF) }
        var configuration = ACPIConfiguration()
        configuration.processorCount = 0
        #expect(throws: ACPITableError.invalidProcessorCount(0)) { try ACPITableBuilder.build(configuration: configuration) }
        configuration.processorCount = 256
        #expect(throws: ACPITableError.invalidProcessorCount(256)) { try ACPITableBuilder.build(configuration: configuration) }
        // Odd OEM strings are cut/padded, never trap.
        configuration.processorCount = 255
        configuration.oemID = "ünïcode-and-long"
        configuration.oemTableID = ""
        let tables = try ACPITableBuilder.build(configuration: configuration)
        #expect(String(decoding: tables.bytes[9..<15], as: UTF8.self) == "?n?cod")
        #expect(sum(tables.bytes[0..<36]) == 0)
    }

    /// Disassembles every table with ACPICA's iasl, which checks lengths,
    /// checksums and the AML. Skipped (reported as skipped, not passed) when
    /// iasl is not installed: `apt-get install acpica-tools`.
    @Test(.enabled(if: iaslPath != nil, "iasl (Debian package acpica-tools) is not installed"))
    func iaslDisassemblesTheTables() throws {
        let iasl = try #require(iaslPath)
        let tables = try ACPITableBuilder.build()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("acpi-tables-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for location in tables.tables where location.signature != "RSD PTR " {
            let bytes = try table(tables, at: location.address)
            let name = location.signature.lowercased()
            let input = directory.appendingPathComponent("\(name).dat")
            try Data(bytes).write(to: input)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: iasl)
            process.arguments = ["-d", input.path]
            process.currentDirectoryURL = directory
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "iasl -d \(name).dat:\n\(log)")
            let dsl = try String(contentsOf: directory.appendingPathComponent("\(name).dsl"), encoding: .utf8)
            #expect(!dsl.localizedCaseInsensitiveContains("Incorrect checksum"), "\(name): \(dsl)")
            #expect(!dsl.contains("**** Invalid"), "\(name): \(dsl)")
            if location.signature == "DSDT" {
                #expect(dsl.contains("Name (_S5, Package (0x04)"), "\(dsl)")
            }
            if location.signature == "FACP" {
                #expect(dsl.contains("PM1A Event Block Address : 00000600"), "\(dsl)")
            }
        }
    }
}
