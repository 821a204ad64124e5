import Testing
@testable import Devices

/// A software-enabled APIC (SVR = 0x1FF) advanced to guest time `at`.
private func enabledAPIC(id: UInt8 = 0, busHz: UInt64 = 1_000_000_000, tscHz: UInt64 = 1_000_000_000,
                         at time: UInt64 = 0) -> LocalAPIC {
    let apic = LocalAPIC(id: id, busFrequencyHz: busHz, tscHz: tscHz)
    _ = apic.advance(to: time)
    apic.writeRegister(.spuriousInterruptVector, 0x1FF)
    return apic
}

/// Records the EOIs of level-triggered vectors.
private final class RecordingEOIListener: APICEOIListener {
    var vectors: [UInt8] = []
    func endOfInterrupt(vector: UInt8) { vectors.append(vector) }
}

@Test func localAPICResetValues() {
    let apic = LocalAPIC(id: 3)
    #expect(apic.read(offset: 0x20, size: 4) == 0x0300_0000)
    #expect(apic.read(offset: 0x30, size: 4) == 0x0006_0014)
    #expect(apic.readRegister(.spuriousInterruptVector) == 0xFF)
    #expect(apic.readRegister(.destinationFormat) == 0xFFFF_FFFF)
    for register: LocalAPICRegister in [.lvtCMCI, .lvtTimer, .lvtThermalSensor, .lvtPerformanceCounter,
                                        .lvtLINT0, .lvtLINT1, .lvtError] {
        #expect(apic.readRegister(register) == 0x0001_0000)
    }
    #expect(!apic.softwareEnabled)
    #expect(apic.lint0ExtINT)                              // disabled after reset: the 8259A reaches the CPU
    #expect(apic.timerDivisor == 2)
    // Not a 32-bit aligned access: reads 0, writes ignored.
    #expect(apic.read(offset: 0x20, size: 2) == 0)
    #expect(apic.read(offset: 0x24, size: 4) == 0)
    apic.write(offset: 0x80, size: 1, value: 0xFF)
    apic.write(offset: 0x84, size: 4, value: 0xFF)
    #expect(apic.taskPriority == 0)
}

@Test func localAPICSoftwareDisableMasksAndRefuses() {
    let apic = LocalAPIC()
    #expect(!apic.accept(vector: 0x40, levelTriggered: false))
    #expect(apic.highestRequestedVector == nil)
    apic.writeRegister(.lvtTimer, 0x40)                     // unmask attempt while disabled
    #expect(apic.readRegister(.lvtTimer) == 0x0001_0040)
    apic.writeRegister(.spuriousInterruptVector, 0x1FF)
    #expect(!apic.lint0ExtINT)
    apic.writeRegister(.lvtLINT0, 0x700)                    // ExtINT, unmasked: virtual wire mode
    #expect(apic.lint0ExtINT)
    apic.writeRegister(.lvtTimer, 0x40)
    #expect(apic.accept(vector: 0x40, levelTriggered: false))
    apic.writeRegister(.spuriousInterruptVector, 0x0FF)     // disable: every LVT masked, IRR held
    #expect(apic.readRegister(.lvtTimer) == 0x0001_0040)
    #expect(apic.readRegister(.lvtLINT0) == 0x0001_0700)
    #expect(apic.pendingVector() == 0x40)
}

// Bus clock 3 MHz (333.3 ns per clock), divide by 4, initial count 1000:
// the count reaches 0 after 4000 clocks = 1_333_333.3 ns, i.e. at +1_333_334 ns.
@Test func localAPICOneShotTimerIsExact() {
    let start: UInt64 = 5_000
    let apic = enabledAPIC(busHz: 3_000_000, at: start)
    apic.writeRegister(.divideConfiguration, 0x1)           // divide by 4
    apic.writeRegister(.lvtTimer, 0x40)                     // one-shot, vector 0x40
    apic.writeRegister(.initialCount, 1000)
    #expect(apic.readRegister(.currentCount) == 1000)
    let deadline = start + 1_333_334
    #expect(apic.nextDeadline == deadline)
    // The count drops by one every 4 clocks: at +t it is 1000 - floor(floor(t * 3e6 / 1e9) / 4).
    for t: UInt64 in [1, 333, 334, 1_333, 1_334, 500_000, 1_000_000, 1_333_000, 1_333_333] {
        #expect(apic.advance(to: start + t) == deadline)
        let expected = 1000 - (t * 3 / 1000) / 4
        #expect(UInt64(apic.readRegister(.currentCount)) == expected, "at +\(t) ns")
        #expect(apic.highestRequestedVector == nil)
    }
    #expect(apic.readRegister(.currentCount) == 1)
    #expect(apic.advance(to: deadline) == nil)
    #expect(apic.readRegister(.currentCount) == 0)
    #expect(apic.pendingVector() == 0x40)
    #expect(apic.acknowledge() == 0x40)
    apic.writeRegister(.endOfInterrupt, 0)
    _ = apic.advance(to: deadline + 10_000_000)             // one-shot: no second interrupt
    #expect(apic.pendingVector() == nil)
    // Writing 0 to the initial count stops the timer.
    apic.writeRegister(.initialCount, 10)
    #expect(apic.nextDeadline != nil)
    apic.writeRegister(.initialCount, 0)
    #expect(apic.nextDeadline == nil)
    #expect(apic.readRegister(.currentCount) == 0)
}

// Bus clock 33_333_333 Hz, divide by 1, initial count 1000: the period is
// 30_000.0003 ns, so the k-th expiry is at ceil(k * 10^12 / 33_333_333) ns. A
// timer that restarted from each rounded-up deadline would drift 1 ns per
// period; one with a 30_000 ns period would be 3 ns early after 10^4 periods.
@Test func localAPICPeriodicTimerDoesNotDrift() {
    let busHz: UInt64 = 33_333_333
    let apic = enabledAPIC(busHz: busHz)
    apic.writeRegister(.divideConfiguration, 0xB)           // divide by 1
    apic.writeRegister(.lvtTimer, 0x2_0055)                 // periodic, vector 0x55
    apic.writeRegister(.initialCount, 1000)
    var deadline = apic.nextDeadline ?? 0
    for k: UInt64 in 1...10_000 {
        let expected = (k * 1_000_000_000_000 + busHz - 1) / busHz
        #expect(deadline == expected)
        #expect(apic.advance(to: deadline - 1) == deadline)
        #expect(apic.pendingVector() == nil)
        let next = apic.advance(to: deadline) ?? 0
        #expect(apic.acknowledge() == 0x55)
        #expect(apic.readRegister(.currentCount) == 1000)   // reloaded
        apic.writeRegister(.endOfInterrupt, 0)
        deadline = next
    }
    #expect(deadline == 300_030_004)                         // ceil(10_001e12 / 33_333_333), not 10_001 * 30_000
    // Half way through a period the count is exact too.
    _ = apic.advance(to: 300_000_004 + 15_000)               // 500 clocks after the 10_000th expiry
    #expect(apic.readRegister(.currentCount) == 500)
}

@Test func localAPICDivideConfiguration() {
    let codes: [(UInt32, UInt64)] = [(0x0, 2), (0x1, 4), (0x2, 8), (0x3, 16), (0x8, 32), (0x9, 64), (0xA, 128), (0xB, 1)]
    for (code, divisor) in codes {
        let apic = enabledAPIC()
        apic.writeRegister(.divideConfiguration, code)
        #expect(apic.timerDivisor == divisor)
        apic.writeRegister(.lvtTimer, 0x40)
        apic.writeRegister(.initialCount, 100)
        #expect(apic.nextDeadline == 100 * divisor)           // 1 GHz bus: one clock per ns
    }
}

// TSC at 3 GHz: deadline 1_000_001 is reached at ceil(1_000_001 / 3) = 333_334 ns.
@Test func localAPICTSCDeadlineTimer() {
    let apic = enabledAPIC(tscHz: 3_000_000_000)
    apic.writeTSCDeadline(1_000_001)                         // not in TSC-deadline mode: ignored
    #expect(apic.readTSCDeadline() == 0)
    apic.writeRegister(.initialCount, 50)                    // a running one-shot countdown…
    apic.writeRegister(.lvtTimer, 0x4_0041)                  // …disarmed by switching to TSC-deadline mode
    #expect(apic.readRegister(.initialCount) == 0)
    apic.writeRegister(.initialCount, 50)                    // ignored in TSC-deadline mode
    #expect(apic.readRegister(.currentCount) == 0)
    #expect(apic.nextDeadline == nil)
    apic.writeTSCDeadline(1_000_001)
    #expect(apic.readTSCDeadline() == 1_000_001)
    #expect(apic.nextDeadline == 333_334)
    #expect(apic.advance(to: 333_333) == 333_334)            // TSC 999_999
    #expect(apic.pendingVector() == nil)
    #expect(apic.advance(to: 333_334) == nil)                // TSC 1_000_002: fires, disarms itself
    #expect(apic.pendingVector() == 0x41)
    #expect(apic.readTSCDeadline() == 0)
    #expect(apic.acknowledge() == 0x41)
    apic.writeRegister(.endOfInterrupt, 0)
    // Writing 0 disarms.
    apic.writeTSCDeadline(3_000_000)
    #expect(apic.nextDeadline == 1_000_000)
    apic.writeTSCDeadline(0)
    #expect(apic.advance(to: 5_000_000) == nil)
    #expect(apic.pendingVector() == nil)
    // A deadline already passed fires at the next advance.
    apic.writeTSCDeadline(10)
    #expect(apic.nextDeadline == 5_000_000)
    #expect(apic.pendingVector() == nil)
    _ = apic.advance(to: 5_000_000)
    #expect(apic.pendingVector() == 0x41)
    // Leaving TSC-deadline mode disarms and hides the MSR.
    apic.writeTSCDeadline(100_000_000)
    apic.writeRegister(.lvtTimer, 0x41)
    #expect(apic.readTSCDeadline() == 0)
    #expect(apic.nextDeadline == nil)
}

@Test func localAPICMaskedTimerDoesNotRaise() {
    let apic = enabledAPIC()
    apic.writeRegister(.lvtTimer, 0x1_0040)                  // masked one-shot
    apic.writeRegister(.initialCount, 1000)                  // expires at 2000 ns (divide by 2)
    #expect(apic.nextDeadline == nil)
    _ = apic.advance(to: 5_000)
    #expect(apic.readRegister(.currentCount) == 0)
    #expect(apic.highestRequestedVector == nil)
    apic.writeRegister(.lvtTimer, 0x40)                      // unmasking later raises nothing
    _ = apic.advance(to: 10_000)
    #expect(apic.highestRequestedVector == nil)
    // Masked periodic timer: counts, never raises.
    apic.writeRegister(.lvtTimer, 0x3_0040)
    apic.writeRegister(.initialCount, 100)
    for time in stride(from: UInt64(10_000), through: 20_000, by: 77) { _ = apic.advance(to: time) }
    #expect(apic.highestRequestedVector == nil)
    // The same with a masked TSC deadline: it expires silently.
    apic.writeRegister(.lvtTimer, 0x5_0040)
    apic.writeTSCDeadline(25_000)
    _ = apic.advance(to: 30_000)
    #expect(apic.readTSCDeadline() == 0)
    #expect(apic.highestRequestedVector == nil)
}

@Test func localAPICPeriodicSwitchesAndDivideChanges() {
    let apic = enabledAPIC()
    apic.writeRegister(.divideConfiguration, 0xB)            // divide by 1: one tick per ns
    apic.writeRegister(.lvtTimer, 0x2_0040)                  // periodic
    apic.writeRegister(.initialCount, 100)
    _ = apic.advance(to: 250)
    #expect(apic.readRegister(.currentCount) == 50)
    apic.writeRegister(.lvtTimer, 0x40)                      // one-shot from count 50
    #expect(apic.nextDeadline == 300)
    apic.writeRegister(.divideConfiguration, 0x0)            // divide by 2: the last 50 ticks take 100 ns
    #expect(apic.nextDeadline == 350)
    #expect(apic.advance(to: 350) == nil)
    #expect(apic.readRegister(.currentCount) == 0)
    apic.writeRegister(.lvtTimer, 0x2_0040)                  // an ended one-shot stays stopped
    #expect(apic.nextDeadline == nil)
}

@Test func localAPICTaskPriorityMasksLowerClasses() {
    let apic = enabledAPIC()
    #expect(apic.accept(vector: 0x45, levelTriggered: false))
    #expect(apic.accept(vector: 0x32, levelTriggered: false))
    apic.taskPriority = 0x50
    #expect(apic.readRegister(.processorPriority) == 0x50)
    #expect(apic.pendingVector() == nil)
    #expect(apic.acknowledge() == nil)
    apic.taskPriority = 0x40                                 // same class as 0x45: still held
    #expect(apic.pendingVector() == nil)
    apic.write(offset: 0x80, size: 4, value: 0x3F)           // through MMIO
    #expect(apic.taskPriority == 0x3F)
    #expect(apic.pendingVector() == 0x45)
    #expect(apic.accept(vector: 0x61, levelTriggered: false))
    #expect(apic.pendingVector() == 0x61)                    // a higher class goes first
    // The arbitration priority (P6 definition) follows the highest class.
    #expect(apic.readRegister(.arbitrationPriority) == 0x60)
}

@Test func localAPICNestedPrioritiesAndEOI() {
    let apic = enabledAPIC()
    apic.accept(vector: 0x45, levelTriggered: false)
    apic.accept(vector: 0x61, levelTriggered: false)
    #expect(apic.acknowledge() == 0x61)
    #expect(apic.readRegister(.processorPriority) == 0x60)
    #expect(apic.readRegister(.inService(3)) == 1 << 1)      // 0x61 = 3 * 32 + 1
    #expect(apic.readRegister(.interruptRequest(2)) == 1 << 5)   // 0x45 = 2 * 32 + 5
    #expect(apic.pendingVector() == nil)                     // 0x45 is below the in-service class
    apic.accept(vector: 0x68, levelTriggered: false)
    #expect(apic.pendingVector() == nil)                     // same class as the one in service
    apic.accept(vector: 0x70, levelTriggered: false)
    #expect(apic.acknowledge() == 0x70)                      // nests above 0x61
    #expect(apic.readRegister(.processorPriority) == 0x70)
    apic.writeRegister(.endOfInterrupt, 0)                   // retires 0x70, the highest
    #expect(apic.highestInServiceVector == 0x61)
    #expect(apic.pendingVector() == nil)
    apic.write(offset: 0xB0, size: 4, value: 0)              // retires 0x61
    #expect(apic.highestInServiceVector == nil)
    #expect(apic.acknowledge() == 0x68)
    apic.writeRegister(.endOfInterrupt, 0)
    #expect(apic.acknowledge() == 0x45)
    apic.writeRegister(.endOfInterrupt, 0)
    #expect(apic.pendingVector() == nil)
    apic.writeRegister(.endOfInterrupt, 0)                   // nothing in service: no effect
    // The same vector can be queued twice: once in service, once requested.
    apic.accept(vector: 0x80, levelTriggered: false)
    #expect(apic.acknowledge() == 0x80)
    apic.accept(vector: 0x80, levelTriggered: false)
    apic.accept(vector: 0x80, levelTriggered: false)         // merges with the request
    #expect(apic.pendingVector() == nil)
    apic.writeRegister(.endOfInterrupt, 0)
    #expect(apic.acknowledge() == 0x80)
    apic.writeRegister(.endOfInterrupt, 0)
    #expect(apic.pendingVector() == nil)
}

@Test func localAPICLevelEOIIsReported() {
    let apic = enabledAPIC()
    let listener = RecordingEOIListener()
    apic.eoiListener = listener
    apic.accept(vector: 0x50, levelTriggered: true)
    apic.accept(vector: 0x51, levelTriggered: false)
    #expect(apic.readRegister(.triggerMode(2)) == 1 << 16)  // 0x50 = 2 * 32 + 16
    #expect(apic.acknowledge() == 0x51)
    apic.writeRegister(.endOfInterrupt, 0)
    #expect(listener.vectors.isEmpty)                        // edge: no EOI message
    #expect(apic.acknowledge() == 0x50)
    apic.writeRegister(.endOfInterrupt, 0)
    #expect(listener.vectors == [0x50])
}

@Test func localAPICSelfIPI() {
    let apic = enabledAPIC(id: 3)
    apic.writeRegister(.interruptCommandLow, 0x0004_0055)    // shorthand self, fixed, vector 0x55
    #expect(apic.highestRequestedVector == 0x55)
    #expect(apic.readRegister(.interruptCommandLow) & 0x1000 == 0)   // delivery status idle
    #expect(apic.readRegister(.interruptCommandLow) == 0x0004_0055)
    apic.writeRegister(.interruptCommandHigh, 0x0300_0000)   // physical destination 3: this APIC
    apic.write(offset: 0x300, size: 4, value: 0x66)
    #expect(apic.pendingVector() == 0x66)
    #expect(apic.ignoredIPIs == 0)
    apic.writeRegister(.interruptCommandHigh, 0x0500_0000)   // another APIC
    apic.writeRegister(.interruptCommandLow, 0x77)
    apic.writeRegister(.interruptCommandLow, 0x0000_4500)    // INIT
    apic.writeRegister(.interruptCommandLow, 0x000C_4608)    // SIPI to all excluding self
    apic.writeRegister(.interruptCommandLow, 0x000C_0088)    // fixed to all excluding self
    #expect(apic.ignoredIPIs == 4)
    #expect(apic.highestRequestedVector == 0x66)
    apic.writeRegister(.interruptCommandLow, 0x0008_0090)    // fixed to all including self
    #expect(apic.highestRequestedVector == 0x90)
    #expect(apic.ignoredIPIs == 4)
    // Logical destination, flat model: LDR bit 2.
    apic.writeRegister(.logicalDestination, 0x0400_0000)
    apic.writeRegister(.interruptCommandHigh, 0x0600_0000)
    apic.writeRegister(.interruptCommandLow, 0x0000_08A0)    // logical, fixed, vector 0xA0
    #expect(apic.highestRequestedVector == 0xA0)
}

@Test func localAPICIllegalVectorsSetESR() {
    let apic = enabledAPIC()
    #expect(!apic.accept(vector: 5, levelTriggered: false))
    #expect(apic.highestRequestedVector == nil)
    #expect(apic.readRegister(.errorStatus) == 0)            // visible only after a write
    apic.writeRegister(.errorStatus, 0)
    #expect(apic.readRegister(.errorStatus) == LocalAPICErrors.receivedIllegalVector.rawValue)
    apic.writeRegister(.errorStatus, 0)
    #expect(apic.readRegister(.errorStatus) == 0)
    // A self-IPI with an illegal vector: send and receive errors.
    apic.writeRegister(.interruptCommandLow, 0x0004_0003)
    apic.writeRegister(.errorStatus, 0)
    #expect(apic.readRegister(.errorStatus) == 0x60)
    // A timer LVT with an illegal vector, with the error LVT unmasked at vector 0xFE.
    apic.writeRegister(.lvtError, 0xFE)
    apic.writeRegister(.lvtTimer, 0x0F)
    apic.writeRegister(.initialCount, 1)
    _ = apic.advance(to: 1_000)
    #expect(apic.highestRequestedVector == 0xFE)
    apic.writeRegister(.errorStatus, 0)
    #expect(apic.readRegister(.errorStatus) == 0x40)
    // A reserved register: illegal register address.
    #expect(apic.read(offset: 0x290, size: 4) == 0)
    apic.writeRegister(.errorStatus, 0)
    #expect(apic.readRegister(.errorStatus) == 0x80)
}

@Test func localAPICStateRestores() {
    let apic = enabledAPIC(busHz: 100_000_000)
    apic.writeRegister(.lvtTimer, 0x2_0040)
    apic.writeRegister(.initialCount, 1234)
    apic.accept(vector: 0x99, levelTriggered: true)
    _ = apic.advance(to: 77_777)
    let snapshot = apic.state
    let copy = LocalAPIC(busFrequencyHz: 100_000_000)
    copy.restore(snapshot)
    #expect(copy.state == snapshot)
    #expect(copy.readRegister(.currentCount) == apic.readRegister(.currentCount))
    #expect(copy.advance(to: 1_000_000) == apic.advance(to: 1_000_000))
    #expect(copy.state == apic.state)
    apic.reset()
    #expect(apic.state.interruptRequest.highest == nil)
    #expect(apic.readRegister(.spuriousInterruptVector) == 0xFF)
    // A snapshot with malformed vector sets never traps.
    var broken = snapshot
    broken.inService.registers = [1]
    broken.interruptRequest.registers = Array(repeating: 0xFFFF_FFFF, count: 12)
    copy.restore(broken)
    #expect(copy.highestRequestedVector == 0xFF)
}

/// Any offset, size, value and time from a guest must leave the host running,
/// for the local APIC and an I/O APIC wired to it.
@Test func apicsSurviveArbitraryAccesses() {
    let apic = LocalAPIC(busFrequencyHz: 7_000_001, tscHz: 2_999_999_999)
    let ioapic = IOAPIC(sink: apic)
    apic.eoiListener = ioapic
    var seed: UInt64 = 0x0123_4567_89AB_CDEF
    func next() -> UInt64 { seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return seed >> 7 }
    var now: UInt64 = 0
    for _ in 0..<100_000 {
        let choice = next() % 16
        let size = Int(truncatingIfNeeded: next() % 10) - 1
        let value = next() & 1 == 0 ? next() : next() & 0x1FF
        switch choice {
        case 0...4:
            let offset = next() & 1 == 0 ? next() % 0x1010 : next() << 7
            if next() & 1 == 0 { apic.write(offset: offset, size: size, value: value) } else { _ = apic.read(offset: offset, size: size) }
        case 5:
            apic.writeRegister(LocalAPICRegister(rawValue: (next() % 0x40) << 4), UInt32(truncatingIfNeeded: value))
        case 6...8:
            let offset = next() & 1 == 0 ? (next() % 5) << 4 : next()
            if next() & 1 == 0 { ioapic.write(offset: offset, size: size, value: value) } else { _ = ioapic.read(offset: offset, size: size) }
        case 9:
            ioapic.line(Int(truncatingIfNeeded: next() % 30) - 3).setLevel(next() & 1 == 0)
        case 10:
            ioapic.writeRegister(IOAPICRegister(rawValue: UInt8(truncatingIfNeeded: next())), UInt32(truncatingIfNeeded: value))
        case 11:
            apic.accept(vector: UInt8(truncatingIfNeeded: next()), levelTriggered: next() & 1 == 0)
        case 12:
            if apic.acknowledge() != nil && next() & 1 == 0 { apic.endOfInterrupt() }
        case 13:
            apic.writeTSCDeadline(next() & 1 == 0 ? next() : apic.tsc(at: now) &+ next() % 100_000)
        case 14:
            ioapic.endOfInterrupt(vector: UInt8(truncatingIfNeeded: next()))
        default:
            apic.endOfInterrupt()
        }
        now &+= next() % 20_000
        _ = apic.advance(to: next() % 64 == 0 ? next() : now)
    }
    _ = apic.advance(to: UInt64.max)
    _ = apic.readTSCDeadline()
    #expect(apic.read(offset: 0x30, size: 4) == 0x0006_0014)
    #expect(ioapic.read(offset: 0x20, size: 4) == 0)
}

@Test func nmiIPIToSelfRaisesTheNMILineNotTheIRR() {
    let apic = LocalAPIC()
    var nmis = 0
    apic.nmiHandler = { nmis += 1 }
    apic.writeRegister(.spuriousInterruptVector, 0x1FF)
    apic.writeRegister(.interruptCommandLow, 0x0004_0400)    // shorthand self, NMI
    #expect(nmis == 1)
    #expect(apic.highestRequestedVector == nil)
    apic.writeRegister(.interruptCommandHigh, 0x0100_0000)   // another APIC's ID: not this one
    apic.writeRegister(.interruptCommandLow, 0x0000_0400)
    #expect(nmis == 1)
}
