// Memory-mapped I/O: an EPT-violation exit (reason 48) at a guest-physical address where a device lives
// gives the address and whether the access read or wrote, but not the data or the register (SDM Vol. 3C
// 27.2.1: no instruction information for EPT violations). The VMM decodes the instruction at the guest's
// RIP itself — as KVM and Hypervisor.framework VMMs do — for the forms drivers use for MMIO: MOV between a
// register or an immediate and memory, MOVZX from memory, XCHG with memory.
import Devices
import Hypervisor
import X86

/// One decoded MMIO instruction.
struct MMIOInstruction: Equatable {
    /// What the instruction does with the memory operand.
    enum Kind: Equatable {
        /// MOV/MOVZX from memory into a register (zero-extending `size` bytes to the register's width).
        case load(register: Int, registerSize: Int, highByte: Bool)
        /// MOV from a register to memory.
        case store(register: Int, highByte: Bool)
        /// MOV of an immediate to memory.
        case storeImmediate(UInt64)
        /// XCHG of a register with memory.
        case exchange(register: Int, highByte: Bool)
    }

    /// The operation.
    var kind: Kind
    /// Bytes accessed in memory (1, 2, 4 or 8).
    var size: Int
    /// Instruction length in bytes.
    var length: Int

    /// Decodes `bytes` (at least the whole instruction) in a code segment of `codeSize` bytes (2, 4 or 8).
    /// Nil for anything else (the VMM reports it instead of guessing).
    static func decode(_ bytes: [UInt8], codeSize: Int) -> MMIOInstruction? {
        var i = 0
        var operandOverride = false, addressOverride = false
        var rex: UInt8 = 0
        func byte() -> UInt8? { i < bytes.count ? bytes[i] : nil }
        // Legacy prefixes.
        while let b = byte(), [0x66, 0x67, 0x2E, 0x36, 0x3E, 0x26, 0x64, 0x65, 0xF2, 0xF3].contains(b) {
            if b == 0x66 { operandOverride = true }
            if b == 0x67 { addressOverride = true }
            i += 1
        }
        if codeSize == 8, let b = byte(), b & 0xF0 == 0x40 { rex = b; i += 1 }
        guard var opcode = byte().map(UInt16.init) else { return nil }
        i += 1
        if opcode == 0x0F {
            guard let second = byte() else { return nil }
            opcode = 0x0F00 | UInt16(second)
            i += 1
        }
        let rexW = rex & 8 != 0, rexR = rex & 4 != 0
        var wide: Int
        if rexW { wide = 8 } else if codeSize == 2 { wide = operandOverride ? 4 : 2 } else { wide = operandOverride ? 2 : 4 }
        // ModRM, SIB and displacement: only their length matters (the address is the exit's GPA).
        guard let modrm = byte() else { return nil }
        i += 1
        let mod = modrm >> 6, rm = modrm & 7
        let reg = Int(modrm >> 3 & 7) | (rexR ? 8 : 0)
        guard mod != 3 else { return nil }
        let addressSize = codeSize == 8 ? (addressOverride ? 4 : 8) : (codeSize == 4) != addressOverride ? 4 : 2
        if addressSize == 2 {
            if mod == 0 && rm == 6 { i += 2 } else if mod == 1 { i += 1 } else if mod == 2 { i += 2 }
        } else {
            var base = rm
            if rm == 4 {
                guard let sib = byte() else { return nil }
                i += 1
                base = sib & 7
            }
            if mod == 0 && base == 5 { i += 4 } else if mod == 1 { i += 1 } else if mod == 2 { i += 4 }
        }
        // 8-bit register operands without REX name AH, CH, DH, BH for 4–7.
        let highByte = rex == 0 && reg >= 4 && reg < 8
        let byteRegister = highByte ? reg - 4 : reg
        switch opcode {
        case 0x88:
            return MMIOInstruction(kind: .store(register: byteRegister, highByte: highByte), size: 1, length: i)
        case 0x89:
            return MMIOInstruction(kind: .store(register: reg, highByte: false), size: wide, length: i)
        case 0x8A:
            return MMIOInstruction(kind: .load(register: byteRegister, registerSize: 1, highByte: highByte), size: 1, length: i)
        case 0x8B:
            return MMIOInstruction(kind: .load(register: reg, registerSize: wide, highByte: false), size: wide, length: i)
        case 0x86:
            return MMIOInstruction(kind: .exchange(register: byteRegister, highByte: highByte), size: 1, length: i)
        case 0x87:
            return MMIOInstruction(kind: .exchange(register: reg, highByte: false), size: wide, length: i)
        case 0xC6:
            guard reg & 7 == 0, let imm = byte() else { return nil }
            return MMIOInstruction(kind: .storeImmediate(UInt64(imm)), size: 1, length: i + 1)
        case 0xC7:
            guard reg & 7 == 0 else { return nil }
            let immediateSize = wide == 2 ? 2 : 4
            guard i + immediateSize <= bytes.count else { return nil }
            var imm: UInt64 = 0
            for k in 0..<immediateSize { imm |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
            if wide == 8, imm & 0x8000_0000 != 0 { imm |= 0xFFFF_FFFF_0000_0000 }    // sign-extended imm32
            return MMIOInstruction(kind: .storeImmediate(imm), size: wide, length: i + immediateSize)
        case 0x0FB6:
            return MMIOInstruction(kind: .load(register: reg, registerSize: wide, highByte: false), size: 1, length: i)
        case 0x0FB7:
            return MMIOInstruction(kind: .load(register: reg, registerSize: wide, highByte: false), size: 2, length: i)
        default:
            return nil
        }
    }
}

extension PCMachine {
    /// Emulates the instruction that touched MMIO at `e.guestPhysicalAddress` on the MMIO bus.
    func emulateMMIO(_ e: VMExit) -> MachineOutcome? {
        let rip = vcpu.read(.guestRIP)
        let csBase = vcpu.read(.guestCSBase)
        let codeSize: Int
        let csRights = vcpu.read(.guestCSAccessRights)
        if vcpu.read(.guestIA32EFER) & EFER.lma.rawValue != 0 && csRights & (1 << 13) != 0 { codeSize = 8 }
        else if csRights & (1 << 14) != 0 { codeSize = 4 } else { codeSize = 2 }
        let linear = codeSize == 8 ? rip : (csBase &+ rip) & 0xFFFF_FFFF
        // Up to 15 instruction bytes, translated once per page (an instruction spans at most two).
        var bytes: [UInt8] = []
        bytes.reserveCapacity(15)
        var fetch = linear
        while bytes.count < 15 {
            let inPage = min(15 - bytes.count, Int(0x1000 - (fetch & 0xFFF)))
            guard let pa = translate(fetch), let host = vm.memory.hostPointer(pa, count: inPage) else { break }
            for k in 0..<inPage { bytes.append(host.load(fromByteOffset: k, as: UInt8.self)) }
            fetch &+= UInt64(inPage)
        }
        guard let instruction = MMIOInstruction.decode(bytes, codeSize: codeSize) else {
            let shown = bytes.prefix(8).map { String($0, radix: 16) }.joined(separator: " ")
            return .error("MMIO access at 0x\(String(e.guestPhysicalAddress, radix: 16)) by an instruction the VMM does not emulate "
                          + "(rip 0x\(String(rip, radix: 16)), bytes \(shown))")
        }
        let address = e.guestPhysicalAddress
        let mask = Bus.allOnes(size: instruction.size)
        switch instruction.kind {
        case let .load(register, registerSize, highByte):
            let value = mmio.read(address: address, size: instruction.size) & mask
            setRegister(register, size: registerSize, highByte: highByte, value)
        case let .store(register, highByte):
            mmio.write(address: address, size: instruction.size, value: registerValue(register, highByte: highByte) & mask)
        case let .storeImmediate(value):
            mmio.write(address: address, size: instruction.size, value: value & mask)
        case let .exchange(register, highByte):
            let old = mmio.read(address: address, size: instruction.size) & mask
            mmio.write(address: address, size: instruction.size, value: registerValue(register, highByte: highByte) & mask)
            setRegister(register, size: instruction.size, highByte: highByte, old)
        }
        retire(length: UInt64(instruction.length))
        return nil
    }

    /// General-purpose register `index` (or AH/CH/DH/BH).
    func registerValue(_ index: Int, highByte: Bool) -> UInt64 {
        guard let r = GPR(rawValue: index) else { return 0 }
        let v = vcpu.read(r)
        return highByte ? v >> 8 & 0xFF : v
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
}
