// A VM exit is a plain value (no references: it is copied as bytes on every exit), and an entry failure
// still names its check and the offending values.
import Foundation
import Testing
import X86
@testable import Hypervisor

@Test func exitAndFailureArePlainValues() {
    #expect(_isPOD(VMExit.self))
    #expect(_isPOD(EntryFailure.self))
    #expect(_isPOD(GuestRunStop.self))
}

@Test func entryFailureNamesItsValues() throws {
    let (_, vcpu) = try makeGuest { a in a.hlt() }
    try vcpu.write(.guestCR0, 0x11)
    let e = try vcpu.run()
    let f = try #require(e.failedCheck)
    #expect(f.values == [EntryFailureValue(.label(.guestCR0), 0x11)])
    #expect(f.description.hasSuffix("[guest CR0=0x11]"))
    // The exit the vCPU returned is the one the processor recorded.
    #expect(vcpu.read(.exitReason) == UInt64(e.exitReasonField))
}

@Test func entryFailureValueFormsAndLimit() throws {
    let many = (0..<6).map { EntryFailureValue(.label(.value), UInt64($0)) }
    let f = EntryFailure(.guestV86Segment, many)
    #expect(f.values.count == EntryFailure.maximumValues)
    #expect(f.values == Array(many.prefix(EntryFailure.maximumValues)))
    #expect(EntryFailureValue(.segment(.ss, .base), 0x10).description == "ss base=0x10")
    #expect(EntryFailureValue(.field(.hostCSSelector), 3).description == "hostCSSelector=0x3")
    #expect(EntryFailureValue(.label(.msrLoadEntry), 2).description == "MSR-load entry=2")
    // Fewer values compare equal however they were made; Codable keeps check, values and MSR index.
    var g = EntryFailure(.entryMSRLoadEntry, [EntryFailureValue(.label(.msr), 0x10)], msrIndex: 1)
    g.values = [EntryFailureValue(.label(.msr), 0x10)]
    #expect(g == EntryFailure(.entryMSRLoadEntry, [EntryFailureValue(.label(.msr), 0x10)], msrIndex: 1))
    let decoded = try JSONDecoder().decode(EntryFailure.self, from: try JSONEncoder().encode(g))
    #expect(decoded == g)
    var exit = VMExit(reason: .entryFailureMSRLoading)
    exit.entryFailure = true
    exit.failedCheck = g
    #expect(try JSONDecoder().decode(VMExit.self, from: try JSONEncoder().encode(exit)) == exit)
}

@Test func retireInstructionAdvancesRIPAndEndsSTIBlocking() throws {
    let (_, vcpu) = try makeGuest { a in
        a.sti()
        a.cpuid()      // exits inside the STI shadow
        a.cpuid()
    }
    let e = try vcpu.run()
    #expect(e.reason == .cpuid)
    let rip = vcpu.read(.guestRIP)
    #expect(vcpu.read(.guestInterruptibilityState) & 1 == 1)
    vcpu.retireInstruction(length: UInt64(e.instructionLength))
    #expect(vcpu.read(.guestRIP) == rip &+ 2)
    #expect(vcpu.read(.guestInterruptibilityState) & 3 == 0)
    // The next entry runs from there: the second CPUID exits at the new RIP.
    let next = try vcpu.run()
    #expect(next.reason == .cpuid)
    #expect(vcpu.read(.guestRIP) == rip &+ 2)
}
