// The local APIC's x2APIC interface (Intel SDM Vol. 3A §11.12 "Extended XAPIC (x2APIC)"): in x2APIC mode
// (IA32_APIC_BASE.EXTD and EN set) the registers are MSRs 800H–8FFH, one per 16-byte xAPIC offset
// (MSR 800H + offset >> 4), read and written with RDMSR/WRMSR instead of the MMIO page, which is then
// disabled. The differences from xAPIC mode (Table 11-6): the ID register holds the 32-bit x2APIC ID and is
// read-only; the LDR is read-only, derived from the ID (cluster ID << 16 | 1 << (ID & 0xF)); there is no
// DFR, APR or RRD; the ICR is one 64-bit MSR (830H) with a 32-bit destination; SELF IPI (83FH) is new;
// reading a write-only register, writing a read-only one, touching an unlisted address and setting a
// reserved bit raise #GP(0) (§11.12.1.2, §11.12.1.3). The VMM routes RDMSR/WRMSR exits for 800H–8FFH
// here and tells the APIC about IA32_APIC_BASE changes (`apicBaseChanged`).

extension LocalAPIC {
    /// The first x2APIC MSR (MMIO offset 0 is MSR 800H).
    public static let x2APICFirstMSR: UInt32 = 0x800
    /// The last MSR of the x2APIC range the VMM routes to the APIC.
    public static let x2APICLastMSR: UInt32 = 0x8FF
    /// IA32_APIC_BASE.EXTD (bit 10): x2APIC mode.
    public static let apicBaseEXTD: UInt64 = 1 << 10
    /// IA32_APIC_BASE.EN (bit 11): the APIC is enabled.
    public static let apicBaseEN: UInt64 = 1 << 11

    /// Whether the APIC is in x2APIC mode (its MMIO page is then disabled).
    public var x2APICMode: Bool { state.x2APICMode }

    /// The x2APIC ID (zero-extended APIC ID: this machine's IDs fit in 8 bits).
    public var x2APICID: UInt32 { UInt32(initialID) }

    /// The LDR of x2APIC mode (§11.12.10.2): cluster ID (x2APIC ID bits 31:4) in bits 31:16, and bit
    /// (x2APIC ID & 0xF) of the 16-bit logical ID.
    public var x2APICLogicalDestination: UInt32 { (x2APICID >> 4) << 16 | 1 << (x2APICID & 0xF) }

    /// The IA32_APIC_BASE state machine's effect on the APIC, after the processor accepted the write
    /// (the transition rules of §11.12.5 are the MSR's, checked by the processor model): entering x2APIC
    /// mode derives the LDR from the ID; leaving it (to disabled) or disabling the APIC resets the
    /// registers, as a hardware-disabled APIC comes back in its power-up state (§11.4.3, §11.12.5.1).
    public func apicBaseChanged(from old: UInt64, to new: UInt64) {
        let wasX2 = old & Self.apicBaseEN != 0 && old & Self.apicBaseEXTD != 0
        let isX2 = new & Self.apicBaseEN != 0 && new & Self.apicBaseEXTD != 0
        setHardwareEnabled(new & Self.apicBaseEN != 0)     // EN, the global enable: clearing it resets the APIC
        guard wasX2 != isX2 else { return }
        var s = state
        s.x2APICMode = isX2
        if isX2 { s.id = initialID }        // the x2APIC ID is the initial APIC ID (§11.12.5.1)
        restore(s)
        if isX2 {
            // IPIs in x2APIC mode name 32-bit logical destinations; the delivery path matches xAPIC's 8-bit flat
            // model, so the LDR holds this APIC's bit there (`flatDestination` translates the ICR's field).
            writeRegister(.destinationFormat, 0xFFFF_FFFF)
            writeRegister(.logicalDestination, x2APICID < 8 ? UInt32(1) << (24 + x2APICID) : 0)
        }
    }

    /// RDMSR of x2APIC MSR `index` (800H–8FFH): the register's value, or `nil` for #GP(0) — not in x2APIC
    /// mode, an address Table 11-6 does not list, or a write-only register (EOI, SELF IPI).
    public func readX2APICMSR(_ index: UInt32) -> UInt64? {
        guard x2APICMode, index >= Self.x2APICFirstMSR, index <= Self.x2APICLastMSR else { return nil }
        let n = index - Self.x2APICFirstMSR
        switch n {
        case 0x02: return UInt64(x2APICID)
        case 0x0D: return UInt64(x2APICLogicalDestination)
        case 0x30:                                        // ICR: low word in 31:0, destination in 63:32
            let high = UInt64(readRegister(.interruptCommandHigh) >> 24)
            return high << 32 | UInt64(readRegister(.interruptCommandLow) & ~LocalVectorTableEntry.deliveryStatusBit)
        case 0x03, 0x08, 0x0A, 0x0F, 0x10...0x28, 0x2F, 0x32...0x39, 0x3E:
            return UInt64(readRegister(LocalAPICRegister(rawValue: UInt64(n) << 4)))
        default:
            return nil                                    // reserved, or EOI (0x0B) / SELF IPI (0x3F): write-only
        }
    }

    /// WRMSR of x2APIC MSR `index`; returns false for #GP(0): not in x2APIC mode, an unlisted address, a
    /// read-only register, or a reserved bit set (bits 63:32 of every register but the ICR, and the bits
    /// each register reserves).
    public func writeX2APICMSR(_ index: UInt32, _ value: UInt64) -> Bool {
        guard x2APICMode, index >= Self.x2APICFirstMSR, index <= Self.x2APICLastMSR else { return false }
        let n = index - Self.x2APICFirstMSR
        if n != 0x30 && value >> 32 != 0 { return false }
        let low = UInt32(truncatingIfNeeded: value)
        func checked(_ writable: UInt32, _ register: LocalAPICRegister) -> Bool {
            guard low & ~writable == 0 else { return false }
            writeRegister(register, low)
            return true
        }
        switch n {
        case 0x08: return checked(0xFF, .taskPriority)
        case 0x0B: return checked(0, .endOfInterrupt)                 // only 0 may be written
        case 0x0F: return checked(0x3FF, .spuriousInterruptVector)
        case 0x28: return checked(0, .errorStatus)                    // only 0: latches the errors
        case 0x2F: return checked(0x0001_07FF, .lvtCMCI)
        case 0x30: writeX2APICInterruptCommand(value); return true
        case 0x32: return checked(0x0007_00FF, .lvtTimer)
        case 0x33: return checked(0x0001_07FF, .lvtThermalSensor)
        case 0x34: return checked(0x0001_07FF, .lvtPerformanceCounter)
        case 0x35: return checked(0x0001_A7FF, .lvtLINT0)
        case 0x36: return checked(0x0001_A7FF, .lvtLINT1)
        case 0x37: return checked(0x0001_00FF, .lvtError)
        case 0x38: return checked(0xFFFF_FFFF, .initialCount)
        case 0x3E: return checked(0xB, .divideConfiguration)
        case 0x3F:                                                     // SELF IPI: a fixed, edge IPI to self
            guard low & ~0xFF == 0 else { return false }
            let vector = UInt8(truncatingIfNeeded: low)
            if vector < 16 {
                var s = state
                s.pendingErrors.formUnion(.sendIllegalVector)
                restore(s)
            }
            accept(vector: vector, levelTriggered: false)
            return true
        default:
            return false      // read-only (ID, version, PPR, LDR, ISR/TMR/IRR, current count) or reserved
        }
    }

    /// The 64-bit ICR write of x2APIC mode, through the xAPIC ICR path: the destination (bits 63:32) goes
    /// to the 8-bit field of ICR high as `flatDestination` translates it, then the low word sends the IPI.
    private func writeX2APICInterruptCommand(_ value: UInt64) {
        let low = UInt32(truncatingIfNeeded: value)
        let destination = UInt32(truncatingIfNeeded: value >> 32)
        let logical = low & (1 << 11) != 0
        writeRegister(.interruptCommandHigh, UInt32(Self.flatDestination(destination, logical: logical)) << 24)
        writeRegister(.interruptCommandLow, low)
    }

    /// An x2APIC destination as the 8-bit destination of the xAPIC delivery path: physical FFFF_FFFFH is the
    /// broadcast (FFH) and IDs below FFH stay; a logical destination (cluster in 31:16, member bits in 15:0)
    /// names APICs of cluster 0 with IDs 0–7 in the flat model the LDR holds in x2APIC mode
    /// (`apicBaseChanged`). Destinations beyond those (IDs this machine does not assign) match no APIC.
    public static func flatDestination(_ destination: UInt32, logical: Bool) -> UInt8 {
        if logical {
            return destination >> 16 == 0 ? UInt8(truncatingIfNeeded: destination) : 0
        }
        if destination == 0xFFFF_FFFF { return 0xFF }
        return destination < 0xFF ? UInt8(destination) : 0xFE
    }
}
