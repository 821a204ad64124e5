// Debug ports that emulators provide for test guests.

/// The Bochs/QEMU debug console (port 0xE9): every byte written goes to a sink;
/// reads return 0xE9, which guests use to detect the port.
public final class DebugConsole: ByteRegisterDevice {
    private let output: any ByteSink

    /// Creates the port writing to `output`.
    public init(output: any ByteSink) { self.output = output }

    /// Returns 0xE9 at offset 0, all ones elsewhere.
    public func readByte(offset: UInt64) -> UInt8 { offset == 0 ? 0xE9 : 0xFF }

    /// Sends a byte written at offset 0 to the sink.
    public func writeByte(offset: UInt64, value: UInt8) {
        if offset == 0 { output.write(value) }
    }
}

/// Receives a guest's request to end the virtual machine.
public protocol ExitRequestHandler: AnyObject {
    /// The guest asked to exit with `status` (for isa-debug-exit, `(value << 1) | 1`).
    func requestExit(status: UInt64)
}

/// An exit handler that records the requests it receives.
public final class RecordingExitHandler: ExitRequestHandler {
    /// Statuses requested so far, oldest first.
    public private(set) var statuses: [UInt64] = []
    /// Creates the handler.
    public init() {}
    /// Records the status.
    public func requestExit(status: UInt64) { statuses.append(status) }
}

/// QEMU's isa-debug-exit (conventionally port 0xF4): writing V requests exit
/// status `(V << 1) | 1`, so a guest can never report plain success (0).
/// Reads return 0. Any access size works; the value is the bytes written.
public final class ISADebugExit: Device {
    private let handler: any ExitRequestHandler

    /// Creates the device reporting to `handler`.
    public init(handler: any ExitRequestHandler) { self.handler = handler }

    /// Reads 0.
    public func read(offset: UInt64, size: Int) -> UInt64 { 0 }

    /// Requests exit with status `(value << 1) | 1` (the value truncated to `size` bytes).
    public func write(offset: UInt64, size: Int, value: UInt64) {
        let value = value & Bus.allOnes(size: size)
        handler.requestExit(status: (value &<< 1) | 1)
    }
}
