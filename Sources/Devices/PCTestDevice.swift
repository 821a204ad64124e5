// QEMU's pc-testdev, the ISA test device kvm-unit-tests talks to (QEMU's hw/misc/pc-testdev.c, read for the
// facts): a 32-bit test register at ports 0xE0–0xE3 (and, byte-wise, 0xE8–0xEB), a "flush page" port at 0xE4,
// one port per ISA interrupt line at 0x2000 + n (a non-zero write raises line n, zero lowers it), and 64 KiB
// of plain memory-mapped storage at 0xFF000000.

/// The pc-testdev: four register blocks to map on the buses (see `PCLayout` for where).
public final class PCTestDevice {
    /// Ports 0xE0–0xE3 and 0xE8–0xEB: one 32-bit register; an access at byte `offset & 3` of `size` bytes
    /// reads or replaces those bytes.
    public let testRegister: Device
    /// Port 0xE4: a guest writes a guest-physical address to make the host drop its mapping of that page
    /// (QEMU re-protects it). Guest memory here has no host-side state to flush: writes are accepted.
    public let flushPage: Device
    /// Ports 0x2000–0x2017: writing a non-zero byte at offset n raises interrupt line n, zero lowers it.
    public let interruptLines: Device
    /// 0xFF000000–0xFF00FFFF: 64 KiB of storage reached through MMIO (kvm-unit-tests' emulator test).
    public let memory: Device
    /// Number of interrupt-line ports.
    public static let lineCount = 24
    /// Size of `memory` in bytes.
    public static let memorySize = 0x1_0000

    /// Creates the device; `line(n)` is the interrupt line port 0x2000 + n drives.
    public init(line: (Int) -> any InterruptLine) {
        let register = TestRegister()
        testRegister = register
        flushPage = FlushPage()
        interruptLines = Lines((0..<Self.lineCount).map(line))
        memory = Storage()
    }

    final class TestRegister: Device {
        var data: UInt32 = 0
        func read(offset: UInt64, size: Int) -> UInt64 {
            let shift = UInt32(offset & 3) * 8
            return UInt64(data >> shift) & Bus.allOnes(size: size)
        }
        func write(offset: UInt64, size: Int, value: UInt64) {
            let shift = UInt32(offset & 3) * 8
            let mask = UInt32(truncatingIfNeeded: Bus.allOnes(size: min(size, 4))) &<< shift
            data = (data & ~mask) | (UInt32(truncatingIfNeeded: value) &<< shift & mask)
        }
    }

    final class FlushPage: Device {
        func read(offset: UInt64, size: Int) -> UInt64 { Bus.allOnes(size: size) }
        func write(offset: UInt64, size: Int, value: UInt64) {}
    }

    final class Lines: ByteRegisterDevice {
        let lines: [any InterruptLine]
        init(_ lines: [any InterruptLine]) { self.lines = lines }
        func readByte(offset: UInt64) -> UInt8 { 0xFF }
        func writeByte(offset: UInt64, value: UInt8) {
            guard offset < UInt64(lines.count) else { return }
            lines[Int(offset)].setLevel(value != 0)
        }
    }

    final class Storage: Device {
        var bytes = [UInt8](repeating: 0, count: PCTestDevice.memorySize)
        func read(offset: UInt64, size: Int) -> UInt64 {
            var v: UInt64 = 0
            for i in 0..<min(max(size, 0), 8) where offset &+ UInt64(i) < UInt64(bytes.count) {
                v |= UInt64(bytes[Int(offset &+ UInt64(i))]) << (8 * UInt64(i))
            }
            return v
        }
        func write(offset: UInt64, size: Int, value: UInt64) {
            for i in 0..<min(max(size, 0), 8) where offset &+ UInt64(i) < UInt64(bytes.count) {
                bytes[Int(offset &+ UInt64(i))] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))
            }
        }
    }
}
