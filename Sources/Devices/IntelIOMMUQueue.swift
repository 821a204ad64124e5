// The VT-d invalidation queue (VT-d spec 6.5.2) and interrupt remapping (VT-d spec 5.1) of IntelIOMMU.

/// Invalidation descriptor types (VT-d spec 6.5.2, bits 3:0 of a 128-bit descriptor).
public enum VTdDescriptorType: UInt64, Sendable {
    case contextCache = 1
    case iotlb = 2
    case deviceTLB = 3
    case interruptEntryCache = 4
    case invalidationWait = 5
}

extension IntelIOMMU {
    /// Descriptors in the queue: 256 × 2^QS (128-bit descriptors).
    var queueEntries: UInt64 { 256 << (state.invalidationQueueAddress & 7) }

    /// Fetches and carries out descriptors from IQH up to IQT while queued invalidation is enabled. An invalid
    /// descriptor (or a tail beyond the queue) sets FSTS.IQE and stops with IQH at it.
    func processInvalidationQueue() {
        guard isSet(VTdGlobal.queuedInvalidation), state.faultStatus & 1 << 4 == 0 else { return }
        let entries = queueEntries
        let tail = state.invalidationQueueTail >> 4
        guard tail < entries else { queueError(); return }
        var head = (state.invalidationQueueHead >> 4) % entries
        let base = state.invalidationQueueAddress & ~0xFFF
        var budget = entries                 // at most one lap
        while head != tail && budget > 0 {
            budget -= 1
            guard let low = loadQword(base &+ head * 16), let high = loadQword(base &+ head * 16 &+ 8),
                  carryOut(low: low, high: high) else {
                state.invalidationQueueHead = head << 4
                queueError()
                return
            }
            state.descriptorsProcessed &+= 1
            head = (head + 1) % entries
        }
        state.invalidationQueueHead = head << 4
    }

    /// FSTS.IQE and the fault event.
    private func queueError() {
        state.faultStatus |= 1 << 4
        faultEvent()
    }

    /// Carries out one descriptor; false if it is invalid (an unsupported type or reserved bits set).
    private func carryOut(low: UInt64, high: UInt64) -> Bool {
        guard low & 0xE00 == 0, let type = VTdDescriptorType(rawValue: low & 0xF) else { return false }
        switch type {
        case .contextCache:
            // G (5:4), DID, SID, FM: nothing is cached, so the invalidation is complete.
            return high == 0 && low >> 50 == 0 && (low >> 4) & 3 != 0
        case .iotlb:
            // G (5:4), DR, DW, DID; ADDR/IH/AM in the high QWORD.
            return low >> 32 == 0 && (low >> 4) & 3 != 0 && high & 0xF80 == 0
        case .interruptEntryCache:
            // G (4), IM (31:27), IIDX (47:32).
            return low >> 48 == 0 && low & 0x07FF_FFE0 == 0 && high == 0
        case .invalidationWait:
            // IF (4), SW (5), FN (6), PD (7); status data 63:32, status address 127:66.
            guard low & 0x100 == 0, high & 3 == 0 else { return false }
            if low & 1 << 5 != 0 {
                let data = UInt32(truncatingIfNeeded: low >> 32)
                let bytes = (0..<4).map { UInt8(truncatingIfNeeded: data >> (8 * UInt32($0))) }
                _ = physicalMemory.writePhysical(bytes, at: high & ~3)
            }
            if low & 1 << 4 != 0 {
                state.invalidationCompletionStatus |= 1                       // ICS.IWC
                invalidationEvent()                                           // or IECTL.IP while masked
            }
            return true
        case .deviceTLB:
            return false                                                      // ECAP.DT = 0
        }
    }

    // MARK: Interrupt remapping

    /// The result of remapping an interrupt request.
    public enum InterruptRemapping: Equatable, Sendable {
        /// The message the IRTE (or a compatibility-format request passed through) describes.
        case message(APICInterruptMessage)
        /// The request was blocked.
        case fault(VTdFaultReason)
    }

    /// Remaps the interrupt request `address`/`data` from `requester` (nil: not verified), recording a fault
    /// if it is blocked (VT-d spec 5.1.4).
    public func remapInterrupt(address: UInt64, data: UInt32, requester: UInt16?) -> InterruptRemapping {
        let remappable = address & CompatibilityInterruptMessage.remappableFormatBit != 0
        guard isSet(VTdGlobal.interruptRemapping) else {
            guard let message = CompatibilityInterruptMessage.decode(address: address, data: data) else { return .fault(.interruptReservedField) }
            return .message(message)
        }
        guard remappable else {
            if isSet(VTdGlobal.compatibilityFormatInterrupt),
               let message = CompatibilityInterruptMessage.decode(address: address, data: data) {
                return .message(message)
            }
            recordFault(VTdFaultRecord(faultInfo: 0, sourceID: requester ?? 0,
                                       reason: VTdFaultReason.compatibilityFormatBlocked.rawValue, read: true), disabled: false)
            return .fault(.compatibilityFormatBlocked)
        }
        let handle = (address >> 5) & 0x7FFF | ((address >> 2) & 1) << 15
        let index = address & 1 << 3 != 0 ? (handle &+ UInt64(data & 0xFFFF)) & 0xFFFF : handle    // SHV: + subhandle
        var fpd = false
        let result = irte(index: index, requester: requester, faultProcessingDisabled: &fpd)
        switch result {
        case let .fault(reason):
            recordFault(VTdFaultRecord(faultInfo: index << 48, sourceID: requester ?? 0, reason: reason.rawValue, read: true),
                        disabled: fpd)
        case .message:
            state.interruptsRemapped &+= 1
        }
        return result
    }

    private func irte(index: UInt64, requester: UInt16?, faultProcessingDisabled fpd: inout Bool) -> InterruptRemapping {
        let table = state.interruptRemapTable
        let size: UInt64 = 2 << (table & 0xF)                // 2^(S+1) entries
        guard index < size else { return .fault(.interruptIndexBeyondTable) }
        let base = table & ~0xFFF
        guard let low = loadQword(base &+ index * 16), let high = loadQword(base &+ index * 16 &+ 8) else {
            return .fault(.interruptTableAddressInvalid)
        }
        guard low & 1 != 0 else { return .fault(.interruptEntryNotPresent) }
        fpd = low & 2 != 0
        // Reserved in an xAPIC-mode remapped-format IRTE: bits 14:12, 31:24, DST 7:0 and 31:16 (bits 39:32,
        // 63:48), bits 127:84; IM (bit 15) = 1 is a posted IRTE, reserved without ECAP.PI.
        guard low & 0xFFFF_00FF_FF00_F000 == 0, high >> 20 == 0 else { return .fault(.interruptEntryReserved) }
        if let requester {
            let sid = UInt16(truncatingIfNeeded: high), qualifier = (high >> 16) & 3
            switch (high >> 18) & 3 {
            case 0: break
            case 1:
                let ignored: [UInt16] = [0, 0b100, 0b110, 0b111]
                let mask = ~ignored[Int(qualifier)]
                guard sid & mask == requester & mask else { return .fault(.interruptSourceIDInvalid) }
            case 2:
                let bus = requester >> 8
                guard bus >= sid >> 8, bus <= sid & 0xFF else { return .fault(.interruptSourceIDInvalid) }
            default:
                return .fault(.interruptEntryReserved)
            }
        }
        return .message(APICInterruptMessage(vector: UInt8(truncatingIfNeeded: low >> 16),
                                             deliveryMode: APICDeliveryMode(field: low >> 5),
                                             logicalDestination: low & 1 << 2 != 0,
                                             destination: UInt8(truncatingIfNeeded: low >> 40),
                                             levelTriggered: low & 1 << 4 != 0))
    }

    public func deliverMSI(address: UInt64, data: UInt32, requester: UInt16?) -> Bool {
        guard CompatibilityInterruptMessage.isInterrupt(address) else { return false }
        guard case let .message(message) = remapInterrupt(address: address, data: data, requester: requester) else { return false }
        return apicSink.deliver(message)
    }
}
