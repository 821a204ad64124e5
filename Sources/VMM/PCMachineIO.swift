// Port I/O exits (reason 30) turned into bus accesses, string and REP forms included; MMIO exits (EPT
// violations at a device's address) completed by the processor model with the MMIO bus as its handler.
import Devices
import Hypervisor
import X86

extension PCMachine {
    /// Most elements one REP INS/OUTS exit moves before the instruction is re-entered for the rest.
    static let maximumStringElements: UInt64 = 4096

    /// Completes an EPT-violation exit at a device's address: the processor model executes the instruction
    /// once with the MMIO bus completing its device accesses. An exit that happened instead is handled here.
    func emulateMMIO(_ e: VMExit) -> MachineOutcome? {
        let next: VMExit?
        do { next = try vcpu.completeMMIO(mmioHandler) } catch { return .error("VM entry failed: \(error)") }
        guard let next else { return nil }
        if next.reason == .eptViolation && next.guestPhysicalAddress == e.guestPhysicalAddress {
            return .error("MMIO access at 0x\(String(e.guestPhysicalAddress, radix: 16)) not completed (rip 0x\(String(vcpu.read(.guestRIP), radix: 16)))")
        }
        return handle(next)
    }

    /// Writes a destination register of `size` bytes as the architecture does: 4-byte writes zero-extend
    /// to 64 bits, 1- and 2-byte writes keep the rest.
    func setRegister(_ index: Int, size: Int, highByte: Bool, _ value: UInt64) {
        guard let r = GPR(rawValue: index) else { return }
        let old = vcpu.read(r)
        switch (size, highByte) {
        case (1, true): vcpu.write(r, (old & ~0xFF00) | (value & 0xFF) << 8)
        case (1, false): vcpu.write(r, (old & ~0xFF) | (value & 0xFF))
        case (2, _): vcpu.write(r, (old & ~0xFFFF) | (value & 0xFFFF))
        case (4, _): vcpu.write(r, value & 0xFFFF_FFFF)
        default: vcpu.write(r, value)
        }
    }

    /// Emulates IN, OUT, INS and OUTS from the exit qualification (SDM Vol. 3C Table 27-5): size in bits
    /// 2:0, direction in bit 3, string in bit 4, REP in bit 5, port in bits 31:16; INS/OUTS also use the
    /// instruction-information field (address size, segment) and the guest-linear address.
    func emulatePortIO(_ e: VMExit) -> MachineOutcome? {
        let q = IOQualification(rawValue: e.qualification)
        let size = q.size, isIn = q.isInput, isString = q.isString, isRep = q.isREP
        let port = UInt64(q.port)
        guard size == 1 || size == 2 || size == 4 else {
            return .error("I/O exit with access size \(size) (qualification 0x\(String(q.rawValue, radix: 16)))")
        }
        if !isString {
            if isIn {
                // IN AL/AX keep the rest of RAX; IN EAX zero-extends into RAX (a 32-bit destination).
                setRegister(GPR.rax.rawValue, size: size, highByte: false, ports.read(address: port, size: size))
            } else {
                ports.write(address: port, size: size, value: vcpu.read(.rax) & Bus.allOnes(size: size))
            }
            skip(e)
            return nil
        }
        // String forms: the address size is in instruction-information bits 9:7 (0: 16, 1: 32, 2: 64).
        let information = InstructionInformation(rawValue: e.instructionInformation)
        let addressBits = UInt64(information.addressBits)
        let addressMask: UInt64 = addressBits == 64 ? ~0 : (1 << addressBits) - 1
        let countRegister = vcpu.read(.rcx) & addressMask
        if isRep && countRegister == 0 { skip(e); return nil }
        let count = isRep ? min(countRegister, Self.maximumStringElements) : 1
        let down = vcpu.read(.guestRFLAGS) & RFLAGS.df.rawValue != 0
        let step = UInt64(size)
        let indexRegister: GPR = isIn ? .rdi : .rsi
        let index = vcpu.read(indexRegister)
        // INS writes ES:[rDI], which no prefix overrides (its segment field is undefined, SDM Vol. 3C
        // Table 27-8); OUTS reads from the segment the field names: DS, or the override prefix's. In
        // 64-bit mode only FS and GS have a base.
        let segment = isIn ? 0 : information.segment
        let segmentBase: UInt64 = addressBits == 64 && segment < 4 ? 0 : vcpu.read(Self.guestSegmentBase[segment & 7])
        var offset = index & addressMask
        for _ in 0..<count {
            let linear = addressBits == 64 ? offset : (segmentBase &+ offset) & 0xFFFF_FFFF
            if isIn {
                let value = ports.read(address: port, size: size)
                writeGuestLinear(linear, size: size, value: value)
            } else {
                ports.write(address: port, size: size, value: readGuestLinear(linear, size: size))
            }
            offset = (down ? offset &- step : offset &+ step) & addressMask
        }
        emulatedWork &+= count               // each element is work done for the guest (instruction limit)
        let moved = count &* step
        let newIndex = down ? index &- moved : index &+ moved
        vcpu.write(indexRegister, (index & ~addressMask) | (newIndex & addressMask))
        if isRep {
            let left = countRegister &- count
            vcpu.write(.rcx, (vcpu.read(.rcx) & ~addressMask) | left)
            if left != 0 { return nil }             // re-enter the same instruction for the rest
        }
        skip(e)
        return nil
    }

    /// The guest-state base field of each segment register, in the SDM's order (ES, CS, SS, DS, FS, GS);
    /// the two undefined encodings of the segment field read as DS.
    static let guestSegmentBase: [VMCSField] = [.guestESBase, .guestCSBase, .guestSSBase, .guestDSBase,
                                                 .guestFSBase, .guestGSBase, .guestDSBase, .guestDSBase]

    // MARK: Guest memory by linear address

    /// Reads `size` bytes at a guest-linear address: RAM, or a device on the MMIO bus; unmapped bytes read
    /// as 0xFF. An element inside one page is translated once; one that crosses a page, byte by byte.
    func readGuestLinear(_ linear: UInt64, size: Int) -> UInt64 {
        if linear & 0xFFF <= 0x1000 - UInt64(size) {
            guard let pa = translate(linear) else { return Bus.allOnes(size: size) }
            return readGuestPhysical(pa, size: size)
        }
        var value: UInt64 = 0
        for i in 0..<size {
            let byte = translate(linear &+ UInt64(i)).map { readGuestPhysical($0, size: 1) } ?? 0xFF
            value |= byte << (8 * UInt64(i))
        }
        return value
    }

    /// Writes `size` bytes at a guest-linear address: RAM, or a device on the MMIO bus; bytes at unmapped
    /// addresses are dropped.
    func writeGuestLinear(_ linear: UInt64, size: Int, value: UInt64) {
        if linear & 0xFFF <= 0x1000 - UInt64(size) {
            if let pa = translate(linear) { writeGuestPhysical(pa, size: size, value: value) }
            return
        }
        for i in 0..<size {
            if let pa = translate(linear &+ UInt64(i)) { writeGuestPhysical(pa, size: 1, value: value >> (8 * UInt64(i)) & 0xFF) }
        }
    }

    /// Whether `pa` is in the VMM's private pages (mapped without guest permissions).
    func isVMMPrivate(_ pa: UInt64) -> Bool { pa >= PCLayout.vmmPrivate && pa - PCLayout.vmmPrivate < vmmPrivateSize }

    /// Reads guest-physical memory (RAM, ROM) or a device on the MMIO bus.
    func readGuestPhysical(_ pa: UInt64, size: Int) -> UInt64 {
        if !isVMMPrivate(pa), vm.memory.hostPointer(pa, count: size) != nil { return vm.memory.readInteger(at: pa, size: size) }
        return mmio.device(at: pa) != nil ? mmio.read(address: pa, size: size) : Bus.allOnes(size: size)
    }

    /// Writes guest-physical memory (RAM) or a device on the MMIO bus.
    func writeGuestPhysical(_ pa: UInt64, size: Int, value: UInt64) {
        if vm.memory.hostPointer(pa, count: size) != nil {
            if !isVMMPrivate(pa) { vm.memory.writeInteger(value, at: pa, size: size) }
        } else if mmio.device(at: pa) != nil {
            mmio.write(address: pa, size: size, value: value)
        }
    }

    /// The guest-physical address of a guest-linear address (the processor model's walk), or nil.
    func translate(_ linear: UInt64) -> UInt64? { vcpu.translate(linear: linear) }
}

/// The MMIO bus as the processor model's handler for `VCPU.completeMMIO`: it claims the addresses a device
/// is mapped at.
final class MMIOBusHandler: MMIOHandler {
    let bus: Bus
    init(_ bus: Bus) { self.bus = bus }
    func handles(address: UInt64) -> Bool { bus.device(at: address) != nil }
    func read(address: UInt64, size: Int) -> UInt64 { bus.read(address: address, size: size) }
    func write(address: UInt64, size: Int, value: UInt64) { bus.write(address: address, size: size, value: value) }
}
