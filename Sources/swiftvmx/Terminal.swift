// Terminal handling: the one platform-specific file of the CLI. The guest's COM1 is the user's terminal:
// standard input in raw mode when it is a TTY (Ctrl-A x quits, Ctrl-A a sends Ctrl-A, as in QEMU), output
// written through unbuffered.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VMM

/// The process's standard input and output as the guest's serial console.
final class TerminalConsole: ConsoleIO {
    private var saved = termios()
    private var rawMode = false
    private var inputOpen = true
    private var escape = false

    /// Puts standard input in raw mode when it is a terminal and `interactive` is set.
    init(interactive: Bool) {
        guard interactive, isatty(0) != 0, tcgetattr(0, &saved) == 0 else { return }
        var raw = saved
        raw.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN)
        raw.c_cflag &= ~tcflag_t(CSIZE | PARENB)
        raw.c_cflag |= tcflag_t(CS8)
        // Output processing stays on (newline handling), as QEMU's stdio backend does.
        if tcsetattr(0, TCSANOW, &raw) == 0 { rawMode = true }
    }

    /// Restores the terminal.
    func restore() {
        if rawMode { _ = tcsetattr(0, TCSANOW, &saved); rawMode = false }
    }

    deinit { restore() }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            // Safe: `buffer` is valid for `buffer.count` bytes for the duration of the closure.
            guard var p = buffer.baseAddress else { return }
            var left = buffer.count
            while left > 0 {
                let n = posixWrite(1, p, left)
                if n <= 0 { if errno == EINTR { continue }; return }
                p += n
                left -= n
            }
        }
    }

    func flush() {}

    var mayProvideInput: Bool { inputOpen }

    func read(waitingAtMost timeout: UInt64) -> ConsoleEvent {
        guard inputOpen else {
            if timeout > 0 { usleep(useconds_t(min(timeout / 1000, 1_000_000))) }
            return .none
        }
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(min(timeout / 1_000_000, 1000))
        let ready = poll(&descriptor, 1, milliseconds)
        guard ready > 0 else { return .none }
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = buffer.withUnsafeMutableBytes { b in
            // Safe: reads at most `b.count` bytes into the array's storage.
            posixRead(0, b.baseAddress, b.count)
        }
        if n <= 0 {
            if n == 0 || (errno != EINTR && errno != EAGAIN) { inputOpen = false }
            return .none
        }
        var out: [UInt8] = []
        for byte in buffer[0..<n] {
            if !rawMode { out.append(byte); continue }
            if escape {
                escape = false
                switch byte {
                case UInt8(ascii: "x"), UInt8(ascii: "X"): return .quit
                case UInt8(ascii: "a"), 0x01: out.append(0x01)
                default: out.append(byte)
                }
            } else if byte == 0x01 {
                escape = true
            } else {
                out.append(byte)
            }
        }
        return out.isEmpty ? .none : .input(out)
    }
}

/// `write(2)` under a name that does not clash with the console's own `write`.
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, p, n)
    #else
    return Darwin.write(fd, p, n)
    #endif
}

/// `read(2)` under a name that does not clash with the console's own `read`.
private func posixRead(_ fd: Int32, _ p: UnsafeMutableRawPointer?, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, p, n)
    #else
    return Darwin.read(fd, p, n)
    #endif
}
