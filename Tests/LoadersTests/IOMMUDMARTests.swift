import Testing
@testable import Loaders

/// The DMAR (Intel VT-d spec 8.1) built for `--device intel-iommu`, decoded field by field as Linux's
/// drivers/iommu/intel/dmar.c reads it.
@Test func dmarTableDescribesTheRemappingUnitAndTheIOAPIC() throws {
    func le(_ b: [UInt8], _ offset: Int, _ size: Int) -> UInt64 {
        (0..<size).reduce(0) { $0 | UInt64(b[offset + $1]) << (8 * UInt64($1)) }
    }
    var configuration = ACPIConfiguration()
    configuration.processorCount = 4
    #expect(try ACPITableBuilder.build(configuration: configuration).address(of: "DMAR") == nil)
    configuration.dmarRegisterBase = 0xFED9_0000
    let tables = try ACPITableBuilder.build(configuration: configuration)
    let address = try #require(tables.address(of: "DMAR"))
    let offset = Int(address - tables.baseAddress)
    let length = Int(le(tables.bytes, offset + 4, 4))
    try #require(length == 36 + 12 + 16 + 8 && offset + length <= tables.bytes.count)
    let dmar = Array(tables.bytes[offset..<offset + length])
    #expect(dmar.reduce(0, &+) == 0)                                // checksum
    #expect(String(decoding: dmar[0..<4], as: UTF8.self) == "DMAR")
    #expect(dmar[36] == 38 && dmar[37] == 1)                        // HAW − 1, INTR_REMAP
    #expect(le(dmar, 48, 2) == 0 && le(dmar, 50, 2) == 24)          // DRHD, its length
    #expect(dmar[52] == 1 && le(dmar, 54, 2) == 0)                  // INCLUDE_PCI_ALL, segment 0
    #expect(le(dmar, 56, 8) == 0xFED9_0000)
    #expect(Array(dmar[64..<72]) == [3, 8, 0, 0, 4, 0xFF, 0x1E, 0]) // I/O APIC 4 at FF:1E.0
    // The XSDT lists it after the FADT and MADT.
    let xsdt = Int(try #require(tables.address(of: "XSDT")) - tables.baseAddress)
    #expect(le(tables.bytes, xsdt + 4, 4) == 36 + 24 && le(tables.bytes, xsdt + 52, 8) == address)
}
