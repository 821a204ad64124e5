// The PC machine as the stub's target: registers from the vCPU and its VMCS guest-state area, memory by
// guest-linear address through the guest's paging structures, and the `monitor` commands (vmcs, exits,
// pagewalk, phys, physwrite).
import Hypervisor
import X86

/// The PC machine seen by the gdb stub.
final class PCMachineDebugTarget: GDBTarget {
    unowned var machine: PCMachine
    let stops = DebuggerStops()

    init(_ machine: PCMachine) { self.machine = machine }

    var vcpu: VCPU { machine.vcpu }

    var codeSize: Int { vcpu.guestCodeSize }

    static let selectorFields: [SegmentRegisterName: VMCSField] = [
        .es: .guestESSelector, .cs: .guestCSSelector, .ss: .guestSSSelector,
        .ds: .guestDSSelector, .fs: .guestFSSelector, .gs: .guestGSSelector,
    ]

    func read(_ register: GDBRegister, bytes: Int) -> [UInt8] {
        let value: UInt64
        switch register {
        case .gpr(let r): value = vcpu.read(r)
        case .rip: value = vcpu.read(.guestRIP)
        case .eflags: value = vcpu.read(.guestRFLAGS)
        case .segment(let s): value = Self.selectorFields[s].map { vcpu.read($0) } ?? 0
        case .st(let i):
            guard let r = vcpu.x87Register(st: i) else { return Array(repeating: 0, count: bytes) }
            return Array((littleEndian(r.significand, count: 8) + littleEndian(UInt64(r.signExponent), count: 2)).prefix(bytes))
        case .fctrl: value = UInt64(vcpu.x87ControlWord)
        case .fstat: value = UInt64(vcpu.x87StatusWord)
        case .ftag: value = UInt64(vcpu.x87TagWord)
        case .fiseg, .fioff, .foseg, .fooff, .fop: value = 0
        case .xmm(let i):
            let x = vcpu.xmm(i)
            return Array((littleEndian(x.low, count: 8) + littleEndian(x.high, count: 8)).prefix(bytes))
        case .mxcsr: value = UInt64(vcpu.mxcsr)
        case .fsBase: value = vcpu.read(.guestFSBase)
        case .gsBase: value = vcpu.read(.guestGSBase)
        case .cr0: value = vcpu.read(.guestCR0)
        case .cr2: value = vcpu.cr2
        case .cr3: value = vcpu.read(.guestCR3)
        case .cr4: value = vcpu.read(.guestCR4)
        case .efer: value = vcpu.read(.guestIA32EFER)
        }
        return littleEndian(value, count: bytes)
    }

    func write(_ register: GDBRegister, _ bytes: [UInt8]) -> Bool {
        let value = fromLittleEndian(bytes[...])
        switch register {
        case .gpr(let r): vcpu.write(r, value)
        case .rip: return (try? vcpu.write(.guestRIP, value)) != nil
        case .eflags: return (try? vcpu.write(.guestRFLAGS, value & 0x3F_7FD7 | 2)) != nil
        case .xmm(let i): vcpu.setXMM(i, low: value, high: fromLittleEndian(bytes.dropFirst(8)))
        case .mxcsr: vcpu.mxcsr = UInt32(truncatingIfNeeded: value)
        case .fctrl: vcpu.x87ControlWord = UInt16(truncatingIfNeeded: value)
        case .fstat: vcpu.x87StatusWord = UInt16(truncatingIfNeeded: value)
        case .fsBase: return (try? vcpu.write(.guestFSBase, value)) != nil
        case .gsBase: return (try? vcpu.write(.guestGSBase, value)) != nil
        case .cr2: vcpu.cr2 = value
        case .cr3: return (try? vcpu.write(.guestCR3, value)) != nil
        case .segment, .st, .ftag, .fiseg, .fioff, .foseg, .fooff, .fop, .cr0, .cr4, .efer:
            return false                        // a selector needs a descriptor load; CR0/CR4/EFER a mode change
        }
        return true
    }

    /// The guest-physical address of each page of `count` bytes at `address`, up to the first unmapped one.
    func pieces(linear address: UInt64, count: Int) -> [(physical: UInt64, count: Int)] {
        var out: [(UInt64, Int)] = []
        var a = address, left = count
        while left > 0 {
            guard let pa = vcpu.translate(linear: a), vcpu.vm.memory.hostPointer(pa) != nil else { break }
            let n = min(left, Int(4096 - (a & 0xFFF)))
            out.append((pa, n))
            a &+= UInt64(n)
            left -= n
        }
        return out
    }

    func readMemory(linear address: UInt64, count: Int) -> [UInt8] {
        pieces(linear: address, count: count).flatMap { vcpu.vm.memory.read(at: $0.physical, count: $0.count) }
    }

    func writeMemory(linear address: UInt64, _ bytes: [UInt8]) -> Bool {
        let p = pieces(linear: address, count: bytes.count)
        guard p.reduce(0, { $0 + $1.count }) == bytes.count else { return false }
        var at = 0
        for (pa, n) in p {
            vcpu.vm.memory.write(Array(bytes[at..<at + n]), at: pa)
            at += n
        }
        return true
    }

    // MARK: Monitor commands

    func monitor(_ command: String) -> String {
        let words = command.split(separator: " ").map(String.init)
        func number(_ i: Int) -> UInt64? {
            guard i < words.count else { return nil }
            let w = words[i].lowercased()
            return w.hasPrefix("0x") ? UInt64(w.dropFirst(2), radix: 16) : UInt64(w, radix: 10) ?? UInt64(w, radix: 16)
        }
        switch words.first ?? "help" {
        case "vmcs":
            let filter = words.count > 1 ? words[1].lowercased() : nil
            return VMCSField.allCases.filter { filter == nil || "\($0)".lowercased().contains(filter ?? "") }
                .map { "\($0) (0x\(String($0.rawValue, radix: 16))) = 0x\(String(vcpu.read($0), radix: 16))" }
                .joined(separator: "\n")
        case "exits":
            let counts = vcpu.exitCounts.sorted { $0.value > $1.value }
            let total = counts.reduce(0) { $0 + $1.value }
            return (["\(total) exits, \(vcpu.instructionCount) instructions"]
                    + counts.map { "\($0.key) (\($0.key.rawValue)): \($0.value)" }).joined(separator: "\n")
        case "pagewalk":
            guard let a = number(1) else { return "usage: pagewalk LINEAR-ADDRESS" }
            return pageWalk(a)
        case "phys":
            guard let a = number(1) else { return "usage: phys PHYSICAL-ADDRESS [LENGTH]" }
            let n = Int(min(number(2) ?? 64, 4096))
            return hexDump(vcpu.vm.memory.read(at: a, count: n), at: a)
        case "physwrite":
            guard let a = number(1), words.count == 3, let bytes = bytesFromHex(Array(words[2].utf8)) else {
                return "usage: physwrite PHYSICAL-ADDRESS HEXBYTES"
            }
            guard vcpu.vm.memory.hostPointer(a, count: bytes.count) != nil else { return "not RAM: 0x\(String(a, radix: 16))" }
            vcpu.vm.memory.write(bytes, at: a)
            return "wrote \(bytes.count) bytes at physical 0x\(String(a, radix: 16))"
        default:
            return """
                swiftvmx monitor commands:
                  vmcs [NAME]              VMCS fields by SDM name with their values (NAME filters)
                  exits                    VM exits by basic exit reason
                  pagewalk ADDR            the guest's page walk of a linear address
                  phys ADDR [LEN]          guest-physical memory (at most 4096 bytes)
                  physwrite ADDR HEXBYTES  writes guest-physical memory
                """
        }
    }

    func hexDump(_ bytes: [UInt8], at address: UInt64) -> String {
        stride(from: 0, to: bytes.count, by: 16).map { i in
            let line = bytes[i..<min(i + 16, bytes.count)]
            let address = String(address &+ UInt64(i), radix: 16)
            return String(repeating: "0", count: max(0, 8 - address.count)) + address + ": "
                + line.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined(separator: " ")
        }.joined(separator: "\n")
    }

    /// The guest's walk of a linear address through its paging structures (SDM Vol. 3A §4.3-4.5): each
    /// entry read, its physical address and flags, and the result; `VCPU.translate` is the cross-check.
    func pageWalk(_ linear: UInt64) -> String {
        let cr0 = vcpu.read(.guestCR0), cr3 = vcpu.read(.guestCR3), cr4 = vcpu.read(.guestCR4)
        let ia32e = vcpu.read(.vmEntryControls) & UInt64(VMEntryControls.ia32eModeGuest.rawValue) != 0
        var lines = ["linear 0x\(String(linear, radix: 16)): CR0 0x\(String(cr0, radix: 16)) CR3 0x\(String(cr3, radix: 16)) CR4 0x\(String(cr4, radix: 16))"]
        func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }
        func flags(_ e: UInt64, large: Bool) -> String {
            var f: [String] = []
            for (bit, name) in [(0, "P"), (1, "RW"), (2, "US"), (3, "PWT"), (4, "PCD"), (5, "A"), (6, "D")] where e & (1 << UInt64(bit)) != 0 { f.append(name) }
            if large { f.append("PS") }
            if e & (1 << 8) != 0 { f.append("G") }
            if e & (1 << 63) != 0 { f.append("XD") }
            return f.joined(separator: " ")
        }
        guard cr0 & CR0.pg.rawValue != 0 else {
            lines.append("paging is off: physical 0x\(String(linear & 0xFFFF_FFFF, radix: 16))")
            return lines.joined(separator: "\n")
        }
        let memory = vcpu.vm.memory
        var result: UInt64? = nil
        if ia32e || cr4 & CR4.pae.rawValue != 0 {
            let five = ia32e && cr4 & (1 << 12) != 0
            let names = ia32e ? (five ? ["PML5E", "PML4E", "PDPTE", "PDE", "PTE"] : ["PML4E", "PDPTE", "PDE", "PTE"]) : ["PDPTE", "PDE", "PTE"]
            var table = ia32e ? cr3 & 0x000F_FFFF_FFFF_F000 : cr3 & 0xFFFF_FFE0
            for (i, name) in names.enumerated() {
                let level = names.count - i                 // 1 = PTE
                let shift = UInt64(12 + 9 * (level - 1))
                let index = ia32e || level < 3 ? (linear >> shift) & 0x1FF : (linear >> 30) & 3
                let at = table &+ index * 8
                let e = memory.readInteger(at: at, size: 8)
                let large = (level == 2 || (level == 3 && ia32e)) && e & (1 << 7) != 0
                lines.append("\(name)[\(index)] at \(hex(at)) = \(hex(e)) \(flags(e, large: large))")
                guard e & 1 != 0 else { lines.append("not present"); break }
                let frame = e & 0x000F_FFFF_FFFF_F000
                if level == 1 || large {
                    let size: UInt64 = 1 << shift
                    result = (frame & ~(size - 1)) | (linear & (size - 1))
                    break
                }
                table = frame
            }
        } else {
            let pdeAt = (cr3 & 0xFFFF_F000) &+ ((linear >> 22) & 0x3FF) * 4
            let pde = memory.readInteger(at: pdeAt, size: 4)
            let large = cr4 & CR4.pse.rawValue != 0 && pde & (1 << 7) != 0
            lines.append("PDE[\((linear >> 22) & 0x3FF)] at \(hex(pdeAt)) = \(hex(pde)) \(flags(pde, large: large))")
            if pde & 1 == 0 {
                lines.append("not present")
            } else if large {
                result = (pde & 0xFFC0_0000) | ((pde >> 13) & 0xFF) << 32 | (linear & 0x3F_FFFF)
            } else {
                let pteAt = (pde & 0xFFFF_F000) &+ ((linear >> 12) & 0x3FF) * 4
                let pte = memory.readInteger(at: pteAt, size: 4)
                lines.append("PTE[\((linear >> 12) & 0x3FF)] at \(hex(pteAt)) = \(hex(pte)) \(flags(pte, large: false))")
                if pte & 1 == 0 { lines.append("not present") } else { result = (pte & 0xFFFF_F000) | (linear & 0xFFF) }
            }
        }
        if let result { lines.append("physical \(hex(result))") }
        let model = vcpu.translate(linear: linear)
        if model != result { lines.append("(the processor model's walk gives \(model.map(hex) ?? "not mapped"))") }
        return lines.joined(separator: "\n")
    }
}
