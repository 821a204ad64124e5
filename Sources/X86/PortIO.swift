// IN, OUT and the string I/O instructions' port access: the I/O-permission check (SDM Vol. 1 §19.5) and the
// VMX I/O intercepts on the way to the bus.

extension CPU {
    /// Checks IOPL and the TSS I/O permission bitmap (SDM Vol. 1 §19.5).
    func checkIOPermission(port: UInt16, size: Int) throws(Abort) {
        guard protectedMode && (cpl > iopl || mode == .virtual8086) else { return }
        let tr = seg[Seg.tr]
        guard !tr.unusable, tr.type & 8 != 0, tr.limit >= 0x67 else { throw Abort.gp(0) }
        let mapBase = try readLinear(maskLinear(tr.base &+ 0x66), 2, user: false)
        let byteOff = mapBase &+ UInt64(port >> 3)
        if byteOff &+ 1 > UInt64(tr.limit) { throw Abort.gp(0) }
        let bits = try readLinear(maskLinear(tr.base &+ byteOff), 2, user: false)
        let mask = UInt64((1 << size) - 1) << UInt64(port & 7)
        if bits & mask != 0 { throw Abort.gp(0) }
    }

    /// IN with the permission check.
    func portIn(_ port: UInt16, _ size: Int) throws(Abort) -> UInt32 {
        try checkIOPermission(port: port, size: size)
        return try portRead(port, size)
    }

    /// OUT with the permission check.
    func portOut(_ port: UInt16, _ size: Int, _ value: UInt32) throws(Abort) {
        try checkIOPermission(port: port, size: size)
        try portWrite(port, size, value)
    }

    /// Reads a port through the bus (or causes a VM exit).
    func portRead(_ port: UInt16, _ size: Int) throws(Abort) -> UInt32 {
        let size = min(size, 4)   // REX.W does not widen I/O: 64-bit operand size means 32 bits.
        try hookIO(port: port, size: size, input: true)
        let v = bus.ioRead(port: port, size: size)
        return size == 4 ? v : v & ((1 << UInt32(size * 8)) - 1)
    }

    /// Writes a port through the bus (or causes a VM exit).
    func portWrite(_ port: UInt16, _ size: Int, _ value: UInt32) throws(Abort) {
        let size = min(size, 4)   // REX.W does not widen I/O: 64-bit operand size means 32 bits.
        try hookIO(port: port, size: size, input: false)
        bus.ioWrite(port: port, size: size, value: size == 4 ? value : value & ((1 << UInt32(size * 8)) - 1))
    }
}
