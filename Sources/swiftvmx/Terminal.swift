// Terminal handling and host files: the one platform-specific file of the CLI. The guest's COM1 is the user's
// terminal: standard input in raw mode when it is a TTY (Ctrl-A x quits, Ctrl-A a sends Ctrl-A, as in QEMU),
// output written through unbuffered. Kernel, initrd and firmware files are read, and the debug console and
// exit trace written, with POSIX calls (no Foundation: the VMM's memory beyond guest RAM stays small).
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

    func write(_ bytes: [UInt8]) { writeAll(1, bytes) }

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

/// `open(2)`, `close(2)` and `fstat(2)` under names that cannot clash with members of the types here.
private func posixOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 {
    #if canImport(Glibc)
    return Glibc.open(path, flags, mode)
    #else
    return Darwin.open(path, flags, mode)
    #endif
}

private func posixClose(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}

/// Writes all of `bytes` to a file descriptor (retrying short writes); false on an error.
@discardableResult
func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
        // Safe: `buffer` is valid for `buffer.count` bytes for the duration of the closure.
        guard var p = buffer.baseAddress else { return true }
        var left = buffer.count
        while left > 0 {
            let n = posixWrite(fd, p, left)
            if n <= 0 { if n < 0 && errno == EINTR { continue }; return false }
            p += n
            left -= n
        }
        return true
    }
}

/// Writes text to standard error.
func writeStandardError(_ text: String) { writeAll(2, Array(text.utf8)) }

/// Seconds since the Unix epoch, from the host's clock.
func unixTime() -> Int64 { Int64(time(nil)) }

/// Why a file could not be read.
enum FileReadError: Error {
    case noSuchFile, isDirectory, unreadable
}

/// The whole contents of a regular file.
func readWholeFile(_ path: String) -> Result<[UInt8], FileReadError> {
    let fd = posixOpen(path, O_RDONLY)
    guard fd >= 0 else { return .failure(errno == ENOENT || errno == ENOTDIR ? .noSuchFile : .unreadable) }
    defer { posixClose(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { return .failure(.unreadable) }
    if info.st_mode & S_IFMT == S_IFDIR { return .failure(.isDirectory) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Int(max(0, info.st_size)))
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { b in
            // Safe: reads at most `b.count` bytes into the array's storage.
            posixRead(fd, b.baseAddress, b.count)
        }
        if n < 0 { if errno == EINTR { continue }; return .failure(.unreadable) }
        if n == 0 { return .success(bytes) }
        bytes += chunk[0..<n]
    }
}

/// A file opened for writing (created or truncated), or standard error.
final class OutputFile {
    private let fd: Int32
    private let owned: Bool

    /// Creates or truncates `path`; nil if that fails.
    init?(path: String) {
        let fd = posixOpen(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return nil }
        self.fd = fd
        owned = true
    }

    /// Standard error.
    static var standardError: OutputFile { OutputFile(descriptor: 2) }

    private init(descriptor: Int32) {
        fd = descriptor
        owned = false
    }

    /// Writes all of `bytes`.
    func write(_ bytes: [UInt8]) { writeAll(fd, bytes) }

    deinit { if owned { posixClose(fd) } }
}
