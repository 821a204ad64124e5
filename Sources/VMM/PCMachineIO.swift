// Port I/O exits (reason 30) turned into bus accesses, string and REP forms included, and the guest page
// walk the string forms need (the VMM reads guest memory the way the guest addresses it).
import Devices
import Hypervisor
import X86

extension PCMachine {
    /// Most elements one REP INS/OUTS exit moves before the instruction is re-entered for the rest.
    static let maximumStringElements: UInt64 = 4096

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
        let addressBits = UInt64(InstructionInformation(rawValue: e.instructionInformation).addressBits)
        let addressMask: UInt64 = addressBits == 64 ? ~0 : (1 << addressBits) - 1
        let countRegister = vcpu.read(.rcx) & addressMask
        if isRep && countRegister == 0 { skip(e); return nil }
        let count = isRep ? min(countRegister, Self.maximumStringElements) : 1
        let down = vcpu.read(.guestRFLAGS) & RFLAGS.df.rawValue != 0
        let step = UInt64(size)
        let indexRegister: GPR = isIn ? .rdi : .rsi
        let index = vcpu.read(indexRegister)
        var linear = e.guestLinearAddress
        for _ in 0..<count {
            if isIn {
                let value = ports.read(address: port, size: size)
                writeGuestLinear(linear, size: size, value: value)
            } else {
                ports.write(address: port, size: size, value: readGuestLinear(linear, size: size))
            }
            linear = down ? linear &- step : linear &+ step
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

    // MARK: Guest memory by linear address

    /// Reads `size` bytes at a guest-linear address (unmapped bytes read as 0xFF). An element inside one
    /// page is translated once; one that crosses a page, byte by byte.
    func readGuestLinear(_ linear: UInt64, size: Int) -> UInt64 {
        if linear & 0xFFF <= 0x1000 - UInt64(size) {
            guard let pa = translate(linear), vm.memory.hostPointer(pa, count: size) != nil else { return Bus.allOnes(size: size) }
            return vm.memory.readInteger(at: pa, size: size)
        }
        var value: UInt64 = 0
        for i in 0..<size {
            let byte = translate(linear &+ UInt64(i)).map { vm.memory.readInteger(at: $0, size: 1) } ?? 0xFF
            value |= byte << (8 * UInt64(i))
        }
        return value
    }

    /// Writes `size` bytes at a guest-linear address (bytes at unmapped addresses are dropped).
    func writeGuestLinear(_ linear: UInt64, size: Int, value: UInt64) {
        if linear & 0xFFF <= 0x1000 - UInt64(size) {
            if let pa = translate(linear) { vm.memory.writeInteger(value, at: pa, size: size) }
            return
        }
        for i in 0..<size {
            if let pa = translate(linear &+ UInt64(i)) {
                vm.memory.writeInteger(value >> (8 * UInt64(i)) & 0xFF, at: pa, size: 1)
            }
        }
    }

    /// Translates a guest-linear address through the guest's paging structures (from the guest-state area):
    /// no paging, 32-bit paging (4 KiB and 4 MiB pages), PAE paging and 4-level paging (SDM Vol. 3A 4.3–4.5).
    /// Nil when a level is not present.
    func translate(_ linear: UInt64) -> UInt64? {
        let cr0 = vcpu.read(.guestCR0), cr4 = vcpu.read(.guestCR4), efer = vcpu.read(.guestIA32EFER)
        guard cr0 & CR0.pg.rawValue != 0 else { return linear & 0xFFFF_FFFF }
        let cr3 = vcpu.read(.guestCR3)
        let frameMask: UInt64 = 0x000F_FFFF_FFFF_F000
        func entry(_ address: UInt64, _ size: Int) -> UInt64? {
            // Paging-structure entries are naturally aligned: one load from the host page.
            guard let host = vm.memory.hostPointer(address, count: size) else { return nil }
            let v = size == 8 ? host.loadUnaligned(as: UInt64.self) : UInt64(host.loadUnaligned(as: UInt32.self))
            return v & 1 != 0 ? v : nil
        }
        if cr4 & CR4.pae.rawValue == 0 {
            // 32-bit paging.
            let l = linear & 0xFFFF_FFFF
            guard let pde = entry((cr3 & 0xFFFF_F000) + (l >> 22) * 4, 4) else { return nil }
            if pde & 0x80 != 0 && cr4 & CR4.pse.rawValue != 0 {
                return (pde & 0xFFC0_0000) | ((pde >> 13 & 0xFF) << 32) | (l & 0x3F_FFFF)
            }
            guard let pte = entry((pde & 0xFFFF_F000) + (l >> 12 & 0x3FF) * 4, 4) else { return nil }
            return (pte & 0xFFFF_F000) | (l & 0xFFF)
        }
        var table: UInt64
        var level: Int
        if efer & EFER.lma.rawValue != 0 {
            table = cr3 & frameMask
            level = 3
        } else {
            // PAE: the four PDPTEs at CR3[31:5].
            let l = linear & 0xFFFF_FFFF
            guard let pdpte = entry((cr3 & 0xFFFF_FFE0) + (l >> 30) * 8, 8) else { return nil }
            table = pdpte & frameMask
            level = 1
        }
        while true {
            let shift = UInt64(12 + 9 * level)
            guard let e = entry(table + ((linear >> shift) & 511) * 8, 8) else { return nil }
            if level == 0 { return (e & frameMask) | (linear & 0xFFF) }
            if level <= 2 && e & 0x80 != 0 {
                let pageMask: UInt64 = (1 << shift) - 1
                return (e & frameMask & ~pageMask) | (linear & pageMask)
            }
            table = e & frameMask
            level -= 1
        }
    }
}
