// A minimal ACPI table set (ACPI Specification 6.5, chapter 5) for a PC
// without firmware: RSDP, XSDT, RSDT, FADT, FACS, DSDT and optionally a MADT,
// laid out as one blob the VMM copies into guest memory. Linux finds the RSDP
// by scanning 0xE0000–0xFFFFF (the default base) or through boot_params'
// acpi_rsdp_addr.
//
// The FADT describes the fixed hardware of `ACPIPowerManagement` (Devices):
// PM1a event block at pmBase, PM1a control block at pmBase + 4, PM timer at
// pmBase + 8; the DSDT's \_S5 names the sleep type that device powers off on.
// Both sides default to base 0x600 and S5 type 5; a VMM that changes one must
// pass the same values to the other.

/// Where the ACPI tables go by default.
public enum ACPILayout {
    /// The RSDP and the tables after it: the start of the BIOS area Linux scans (0xE0000–0xFFFFF).
    public static let defaultBase: UInt64 = 0xE_0000
    /// The PM register block of the FADT (`ACPIPMRegister.suggestedBase` in Devices).
    public static let pmBase: UInt16 = 0x600
    /// PM1a_EVT_BLK's offset from the PM base (PM1_STS, PM1_EN).
    public static let pm1EventOffset: UInt16 = 0
    /// PM1a_CNT_BLK's offset from the PM base.
    public static let pm1ControlOffset: UInt16 = 4
    /// PM_TMR_BLK's offset from the PM base.
    public static let pmTimerOffset: UInt16 = 8
    /// The Reset Control Register the FADT's RESET_REG names.
    public static let resetPort: UInt16 = 0xCF9
    /// The RESET_VALUE written there (SYS_RST | RST_CPU: hard reset).
    public static let resetValue: UInt8 = 0x06
}

/// What the tables describe. The defaults match the devices' defaults.
public struct ACPIConfiguration: Equatable, Sendable {
    /// The first I/O port of the PM block (event block; control +4, timer +8).
    public var pmBase: UInt16 = ACPILayout.pmBase
    /// SCI_INT: the ISA IRQ of the SCI (9 on PCs; declared level, active high in the MADT).
    public var sciInterrupt: UInt8 = 9
    /// The SLP_TYPa/SLP_TYPb value of \_S5 (0–7; taken modulo 8).
    public var s5SleepType: UInt8 = 5
    /// The I/O port of the FADT's RESET_REG (8 bits wide).
    public var resetPort: UInt16 = ACPILayout.resetPort
    /// RESET_VALUE.
    public var resetValue: UInt8 = ACPILayout.resetValue
    /// The CMOS index of the century (FADT CENTURY; 0 = none).
    public var centuryRegister: UInt8 = 0x32
    /// Whether a VGA adapter exists (clear: IAPC_BOOT_ARCH "VGA Not Present").
    public var vgaPresent = false
    /// Whether to build a MADT (and list it in the XSDT and RSDT).
    public var includeMADT = true
    /// Processors, with local APIC IDs and ACPI processor UIDs 0…count−1 (1–255).
    public var processorCount = 1
    /// The local APIC's physical address.
    public var localAPICAddress: UInt32 = 0xFEE0_0000
    /// The I/O APIC's physical address.
    public var ioAPICAddress: UInt32 = 0xFEC0_0000
    /// The I/O APIC's ID (nil: `processorCount`, the first ID no processor uses).
    public var ioAPICID: UInt8?
    /// A DMA Remapping Reporting table (DMAR) for Intel VT-d remapping hardware with its registers here, or nil
    /// for none.
    public var dmarRegisterBase: UInt64?
    /// The DMAR's host address width in bits (the widest DMA address the platform decodes).
    public var dmarHostAddressWidth: UInt8 = 39
    /// The I/O APIC's source-id in the DMAR's device scope (bus << 8 | device << 3 | function).
    public var ioAPICSourceID: UInt16 = 0xFFF0
    /// OEMID of every table: ASCII, cut or padded with spaces to 6 bytes.
    public var oemID = "SWVMX "
    /// OEM Table ID of every table: ASCII, cut or padded with spaces to 8 bytes.
    public var oemTableID = "SWIFTVMX"

    /// The defaults.
    public init() {}
}

/// Why the tables could not be built.
public enum ACPITableError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The RSDP must sit on a 16-byte boundary.
    case misalignedBase(UInt64)
    /// The blob would reach past 4 GiB (the RSDT and the 32-bit fields need addresses below 4 GiB).
    case above4GiB(base: UInt64, size: UInt64)
    /// The processor count is outside 1–255.
    case invalidProcessorCount(Int)

    /// One line naming the problem.
    public var description: String {
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        switch self {
        case let .misalignedBase(base): return "ACPI tables at \(hex(base)): the RSDP needs a 16-byte-aligned address"
        case let .above4GiB(base, size): return "ACPI tables at \(hex(base)) of \(size) bytes reach past 4 GiB"
        case let .invalidProcessorCount(count): return "ACPI MADT: \(count) processors, expected 1–255"
        }
    }
}

/// Where one table lies.
public struct ACPITableLocation: Equatable, Sendable {
    /// The signature ("RSD PTR " for the RSDP, "FACP" for the FADT, "APIC" for the MADT…).
    public var signature: String
    /// Guest-physical address.
    public var address: UInt64
    /// Length in bytes.
    public var length: Int
}

/// A built table set: one blob for `[baseAddress, baseAddress + bytes.count)`.
public struct ACPITables: Equatable, Sendable {
    /// Where the blob starts (the RSDP).
    public var baseAddress: UInt64
    /// The blob.
    public var bytes: [UInt8]
    /// The RSDP's address (for boot_params.acpi_rsdp_addr).
    public var rsdpAddress: UInt64
    /// Every table, in blob order.
    public var tables: [ACPITableLocation]

    /// The address of the table with `signature`, if built.
    public func address(of signature: String) -> UInt64? {
        tables.first { $0.signature == signature }?.address
    }

    /// The blob as a load segment named "ACPI tables". The FACS in it is
    /// written by the guest, so the memory must be writable; the VMM reports
    /// the range as ACPI (or reserved) in the e820 map.
    public func segment(kind: LoadSegment.Kind = .ram) -> LoadSegment {
        LoadSegment(guestPhysical: baseAddress, bytes: bytes, kind: kind, name: "ACPI tables")
    }
}

/// Builds the ACPI tables.
///
/// Layout from the base: RSDP (36 bytes), XSDT, RSDT, FADT (each 16-byte
/// aligned), FACS (64-byte aligned, as required), DSDT, MADT. Every table but
/// the FACS (which has none) carries a correct checksum; the RSDP carries both.
///
/// FADT (revision 6, minor 5, 276 bytes; not hardware-reduced):
/// - SMI_CMD 0: the platform is always in ACPI mode.
/// - PM1a_EVT_BLK/PM1a_CNT_BLK/PM_TMR_BLK = pmBase + 0/4/8 with lengths 4/2/4,
///   and the same as System I/O Generic Address Structures in the X_ fields.
///   No PM1b, PM2 or GPE blocks.
/// - FIRMWARE_CTRL 0 and X_FIRMWARE_CTRL = FACS (the specification allows only
///   one to be non-zero); DSDT and X_DSDT both name the DSDT.
/// - P_LVL2_LAT 0x0FFF and P_LVL3_LAT 0x0FFF: no C2/C3.
/// - IAPC_BOOT_ARCH: LEGACY_DEVICES | 8042 (Linux then probes the i8042),
///   plus VGA Not Present unless `vgaPresent`.
/// - Flags: WBINVD, PROC_C1, SLP_BUTTON (no fixed sleep button), FIX_RTC (no
///   RTC wake status), RESET_REG_SUP; PWR_BUTTON clear: the fixed power
///   button of the PM block exists. TMR_VAL_EXT clear: a 24-bit timer.
/// - RESET_REG: System I/O, 8 bits, at `resetPort`; RESET_VALUE `resetValue`.
///
/// DSDT AML (14 bytes), `Name (_S5, Package () { s5, s5, 0, 0 })`:
/// ```
/// 08             NameOp
/// 5F 53 35 5F    NameSeg "_S5_"
/// 12             PackageOp
/// 08             PkgLength: one byte (bits 7:6 = 0), 8 = itself + the 7 bytes after it
/// 04             NumElements
/// 0A nn          BytePrefix s5      (SLP_TYPa)
/// 0A nn          BytePrefix s5      (SLP_TYPb)
/// 00             ZeroOp
/// 00             ZeroOp             (reserved)
/// ```
///
/// MADT (revision 5): local APIC address, PCAT_COMPAT; one Processor Local
/// APIC per processor (enabled); one I/O APIC (GSI base 0); interrupt source
/// overrides ISA IRQ 0 → GSI 2 (conforming) and the SCI's IRQ → same GSI,
/// level-triggered, active high; a Local APIC NMI on LINT1 of every processor.
///
/// DMAR (with `dmarRegisterBase`): see `dmarTable`.
public enum ACPITableBuilder {
    /// The RSDP's length (revision 2).
    static let rsdpLength = 36
    /// The common table header's length.
    static let headerLength = 36
    /// The FADT's length (ACPI 6.0+, with the Hypervisor Vendor Identity).
    static let fadtLength = 276
    /// The FACS's length.
    static let facsLength = 64

    /// Builds the tables for a blob starting at `base`.
    /// - Throws: `ACPITableError` when `base` is not 16-byte aligned, the blob
    ///   would reach past 4 GiB, or the processor count is outside 1–255.
    public static func build(at base: UInt64 = ACPILayout.defaultBase,
                             configuration: ACPIConfiguration = ACPIConfiguration()) throws(ACPITableError) -> ACPITables {
        guard base & 0xF == 0 else { throw .misalignedBase(base) }
        guard (1...255).contains(configuration.processorCount) else {
            throw .invalidProcessorCount(configuration.processorCount)
        }
        let dsdt = dsdtTable(configuration)
        let madt = configuration.includeMADT ? madtTable(configuration) : nil
        let dmar = configuration.dmarRegisterBase.map { dmarTable(configuration, registerBase: $0) }
        let fadtEntries = 1 + (madt == nil ? 0 : 1) + (dmar == nil ? 0 : 1)

        // Layout, in absolute addresses (the blob is small: no overflow below 2^32 + 4 KiB).
        func align(_ value: UInt64, _ alignment: UInt64) -> UInt64 { (value &+ alignment &- 1) & ~(alignment &- 1) }
        guard base <= 0xFFFF_FFFF else { throw .above4GiB(base: base, size: 0) }
        let rsdpAddress = base
        let xsdtAddress = align(rsdpAddress + UInt64(rsdpLength), 16)
        let xsdtLength = headerLength + 8 * fadtEntries
        let rsdtAddress = align(xsdtAddress + UInt64(xsdtLength), 16)
        let rsdtLength = headerLength + 4 * fadtEntries
        let fadtAddress = align(rsdtAddress + UInt64(rsdtLength), 16)
        let facsAddress = align(fadtAddress + UInt64(fadtLength), 64)
        let dsdtAddress = align(facsAddress + UInt64(facsLength), 16)
        let madtAddress = align(dsdtAddress + UInt64(dsdt.count), 16)
        let dmarAddress = align(madtAddress + UInt64(madt?.count ?? 0), 16)
        let end = dmarAddress + UInt64(dmar?.count ?? 0)
        guard end <= 0x1_0000_0000 else { throw .above4GiB(base: base, size: end - base) }

        var pointers = [fadtAddress]
        if madt != nil { pointers.append(madtAddress) }
        if dmar != nil { pointers.append(dmarAddress) }

        var xsdt = header(signature: "XSDT", length: xsdtLength, revision: 1, configuration)
        for p in pointers { xsdt.append64(p) }
        var rsdt = header(signature: "RSDT", length: rsdtLength, revision: 1, configuration)
        for p in pointers { rsdt.append32(UInt32(truncatingIfNeeded: p)) }
        let fadt = fadtTable(configuration, facs: facsAddress, dsdt: dsdtAddress)

        var placed: [(String, UInt64, [UInt8])] = [
            ("RSD PTR ", rsdpAddress, rsdp(configuration, rsdt: rsdtAddress, xsdt: xsdtAddress)),
            ("XSDT", xsdtAddress, checksummed(xsdt)),
            ("RSDT", rsdtAddress, checksummed(rsdt)),
            ("FACP", fadtAddress, checksummed(fadt)),
            ("FACS", facsAddress, facsTable()),
            ("DSDT", dsdtAddress, checksummed(dsdt)),
        ]
        if let madt { placed.append(("APIC", madtAddress, checksummed(madt))) }
        if let dmar { placed.append(("DMAR", dmarAddress, checksummed(dmar))) }

        var blob = [UInt8](repeating: 0, count: Int(end - base))
        var locations: [ACPITableLocation] = []
        for (signature, address, bytes) in placed {
            let offset = Int(address - base)
            blob.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
            locations.append(ACPITableLocation(signature: signature, address: address, length: bytes.count))
        }
        return ACPITables(baseAddress: base, bytes: blob, rsdpAddress: rsdpAddress, tables: locations)
    }

    // MARK: Tables

    /// RSDP revision 2: checksum over the first 20 bytes, extended checksum over all 36.
    static func rsdp(_ configuration: ACPIConfiguration, rsdt: UInt64, xsdt: UInt64) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: rsdpLength)
        b.replaceSubrange(0..<8, with: Array("RSD PTR ".utf8))
        b.replaceSubrange(9..<15, with: ascii(configuration.oemID, length: 6))
        b.put8(2, at: 15)                                           // Revision: ACPI 2.0+
        b.put32(UInt32(truncatingIfNeeded: rsdt), at: 16)           // RsdtAddress
        b.put32(UInt32(rsdpLength), at: 20)                         // Length
        b.put64(xsdt, at: 24)                                       // XsdtAddress
        b.put8(checksum(b[0..<20]), at: 8)                          // Checksum (first 20 bytes)
        b.put8(checksum(b[0..<rsdpLength]), at: 32)                 // Extended Checksum
        return b
    }

    /// The 36-byte System Description Table header (checksum left 0).
    static func header(signature: String, length: Int, revision: UInt8, _ configuration: ACPIConfiguration) -> [UInt8] {
        var b = [UInt8](repeating: 0, count: headerLength)
        b.replaceSubrange(0..<4, with: ascii(signature, length: 4))
        b.put32(UInt32(truncatingIfNeeded: length), at: 4)
        b.put8(revision, at: 8)
        b.replaceSubrange(10..<16, with: ascii(configuration.oemID, length: 6))
        b.replaceSubrange(16..<24, with: ascii(configuration.oemTableID, length: 8))
        b.put32(1, at: 24)                                          // OEM Revision
        b.replaceSubrange(28..<32, with: Array("SVMX".utf8))        // Creator ID
        b.put32(1, at: 32)                                          // Creator Revision
        return b
    }

    /// A System I/O Generic Address Structure (ACPI 6.5 §5.2.3.2).
    static func systemIO(port: UInt16, bitWidth: UInt8, accessSize: UInt8) -> [UInt8] {
        var b: [UInt8] = [1, bitWidth, 0, accessSize]               // Address Space ID 1: System I/O
        b.append64(UInt64(port))
        return b
    }

    /// FADT revision 6 (ACPI 6.5 §5.2.9, Table 5.9).
    static func fadtTable(_ c: ACPIConfiguration, facs: UInt64, dsdt: UInt64) -> [UInt8] {
        var b = header(signature: "FACP", length: fadtLength, revision: 6, c)
        b += [UInt8](repeating: 0, count: fadtLength - headerLength)
        let pm1Event = c.pmBase &+ ACPILayout.pm1EventOffset
        let pm1Control = c.pmBase &+ ACPILayout.pm1ControlOffset
        let pmTimer = c.pmBase &+ ACPILayout.pmTimerOffset
        b.put32(0, at: 36)                                          // FIRMWARE_CTRL (X_FIRMWARE_CTRL is used)
        b.put32(UInt32(truncatingIfNeeded: dsdt), at: 40)           // DSDT
        b.put8(0, at: 45)                                           // Preferred_PM_Profile: unspecified
        b.put16(UInt16(c.sciInterrupt), at: 46)                     // SCI_INT
        b.put32(0, at: 48)                                          // SMI_CMD: none, always ACPI mode
        b.put32(UInt32(pm1Event), at: 56)                           // PM1a_EVT_BLK
        b.put32(UInt32(pm1Control), at: 64)                         // PM1a_CNT_BLK
        b.put32(UInt32(pmTimer), at: 76)                            // PM_TMR_BLK
        b.put8(4, at: 88)                                           // PM1_EVT_LEN
        b.put8(2, at: 89)                                           // PM1_CNT_LEN
        b.put8(4, at: 91)                                           // PM_TMR_LEN
        b.put16(0x0FFF, at: 96)                                     // P_LVL2_LAT: C2 unsupported
        b.put16(0x0FFF, at: 98)                                     // P_LVL3_LAT: C3 unsupported
        b.put8(c.centuryRegister, at: 108)                          // CENTURY
        var bootArch: UInt16 = 0x0001 | 0x0002                      // LEGACY_DEVICES | 8042
        if !c.vgaPresent { bootArch |= 0x0004 }                     // VGA Not Present
        b.put16(bootArch, at: 109)                                  // IAPC_BOOT_ARCH
        let flags: UInt32 = 1 << 0                                  // WBINVD
            | 1 << 2                                                // PROC_C1
            | 1 << 5                                                // SLP_BUTTON: no fixed sleep button
            | 1 << 6                                                // FIX_RTC: no RTC_STS wake
            | 1 << 10                                               // RESET_REG_SUP
        b.put32(flags, at: 112)                                     // Flags
        b.replaceSubrange(116..<128, with: systemIO(port: c.resetPort, bitWidth: 8, accessSize: 1))  // RESET_REG
        b.put8(c.resetValue, at: 128)                               // RESET_VALUE
        b.put8(5, at: 131)                                          // FADT Minor Version (6.5)
        b.put64(facs, at: 132)                                      // X_FIRMWARE_CTRL
        b.put64(dsdt, at: 140)                                      // X_DSDT
        b.replaceSubrange(148..<160, with: systemIO(port: pm1Event, bitWidth: 32, accessSize: 2))   // X_PM1a_EVT_BLK
        b.replaceSubrange(172..<184, with: systemIO(port: pm1Control, bitWidth: 16, accessSize: 2)) // X_PM1a_CNT_BLK
        b.replaceSubrange(208..<220, with: systemIO(port: pmTimer, bitWidth: 32, accessSize: 3))    // X_PM_TMR_BLK
        b.replaceSubrange(268..<276, with: Array("SwiftVMX".utf8))  // Hypervisor Vendor Identity
        return b
    }

    /// FACS (ACPI 6.5 §5.2.10): no checksum; waking vectors and global lock 0.
    static func facsTable() -> [UInt8] {
        var b = [UInt8](repeating: 0, count: facsLength)
        b.replaceSubrange(0..<4, with: Array("FACS".utf8))
        b.put32(UInt32(facsLength), at: 4)
        b.put8(2, at: 32)                                           // Version
        return b
    }

    /// The AML of `Name (_S5, Package () { s5, s5, 0, 0 })` (see the type's documentation).
    static func s5AML(sleepType: UInt8) -> [UInt8] {
        let type = sleepType & 0x7
        return [0x08, 0x5F, 0x53, 0x35, 0x5F,                      // NameOp "_S5_"
                0x12, 0x08, 0x04,                                   // PackageOp, PkgLength 8, NumElements 4
                0x0A, type, 0x0A, type,                             // BytePrefix SLP_TYPa, SLP_TYPb
                0x00, 0x00]                                         // ZeroOp, ZeroOp
    }

    /// DSDT revision 2 (64-bit AML integers) holding `\_S5`.
    static func dsdtTable(_ c: ACPIConfiguration) -> [UInt8] {
        let aml = s5AML(sleepType: c.s5SleepType)
        return header(signature: "DSDT", length: headerLength + aml.count, revision: 2, c) + aml
    }

    /// MADT revision 5 (ACPI 6.5 §5.2.12).
    static func madtTable(_ c: ACPIConfiguration) -> [UInt8] {
        var body: [UInt8] = []
        body.append32(c.localAPICAddress)                           // Local Interrupt Controller Address
        body.append32(1)                                            // Flags: PCAT_COMPAT
        let count = min(max(c.processorCount, 1), 255)
        for id in 0..<count {                                       // Processor Local APIC (type 0)
            body += [0, 8, UInt8(truncatingIfNeeded: id), UInt8(truncatingIfNeeded: id)]
            body.append32(1)                                        // Enabled
        }
        let ioAPICID = c.ioAPICID ?? UInt8(truncatingIfNeeded: count)
        body += [1, 12, ioAPICID, 0]                                // I/O APIC (type 1)
        body.append32(c.ioAPICAddress)
        body.append32(0)                                            // Global System Interrupt Base
        body += [2, 10, 0, 0]                                       // Interrupt Source Override: ISA IRQ 0
        body.append32(2)                                            //   → GSI 2
        body += [0x00, 0x00]                                        //   conforming
        if c.sciInterrupt != 0 {
            body += [2, 10, 0, c.sciInterrupt]                      // Interrupt Source Override: SCI
            body.append32(UInt32(c.sciInterrupt))                   //   → same GSI
            body += [0x0D, 0x00]                                    //   active high (01), level (11 << 2)
        }
        body += [4, 6, 0xFF, 0x00, 0x00, 1]                         // Local APIC NMI: all processors, LINT1
        return header(signature: "APIC", length: headerLength + body.count, revision: 5, c) + body
    }

    /// DMAR revision 1 (Intel VT-d spec 8.1): the host address width, INTR_REMAP; one DMA-remapping hardware
    /// unit definition (DRHD) with INCLUDE_PCI_ALL for segment 0 at `registerBase`, whose device scope names
    /// the I/O APIC (ID and source-id), as interrupt remapping needs.
    static func dmarTable(_ c: ACPIConfiguration, registerBase: UInt64) -> [UInt8] {
        var body: [UInt8] = [c.dmarHostAddressWidth &- 1, 1]       // Host Address Width − 1; Flags: INTR_REMAP
        body += [UInt8](repeating: 0, count: 10)                   // Reserved
        let ioAPICID = c.ioAPICID ?? UInt8(truncatingIfNeeded: min(max(c.processorCount, 1), 255))
        let sid = c.ioAPICSourceID
        let scope: [UInt8] = [3, 8, 0, 0, ioAPICID, UInt8(truncatingIfNeeded: sid >> 8),   // I/O APIC, start bus
                              UInt8(truncatingIfNeeded: sid >> 3) & 0x1F, UInt8(truncatingIfNeeded: sid) & 7]
        body += [0, 0]                                              // DRHD (type 0)
        body += [UInt8(16 + scope.count), 0]                        // Length
        body += [1, 0]                                              // Flags: INCLUDE_PCI_ALL; Size: one page
        body += [0, 0]                                              // Segment 0
        body.append64(registerBase)
        body += scope
        return header(signature: "DMAR", length: headerLength + body.count, revision: 1, c) + body
    }

    // MARK: Helpers

    /// The table with its header checksum (byte 9) set so that all bytes sum to 0.
    static func checksummed(_ table: [UInt8]) -> [UInt8] {
        var t = table
        guard t.count > 9 else { return t }
        t[9] = 0
        t[9] = checksum(t[...])
        return t
    }

    /// The byte that makes `bytes` sum to 0 modulo 256.
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt8 {
        var sum: UInt8 = 0
        for b in bytes { sum &+= b }
        return 0 &- sum
    }

    /// `text` as ASCII (other characters become "?"), cut or padded with spaces to `length`.
    static func ascii(_ text: String, length: Int) -> [UInt8] {
        let bytes = text.unicodeScalars.map { $0.isASCII ? UInt8(truncatingIfNeeded: $0.value) : UInt8(ascii: "?") }
        return Array((bytes + [UInt8](repeating: 0x20, count: length)).prefix(length))
    }
}
