// The gdb connection's TCP socket: the CLI's one piece of socket code, POSIX calls behind the platform
// imports. It listens on one address and holds at most one debugger connection (`GDBTransport`).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VMM

/// A listening TCP socket for gdb (`--gdb tcp:HOST:PORT`).
final class GDBSocket: GDBTransport {
    private let listener: Int32
    private var client: Int32 = -1
    /// The port listened on (the one given, or the one the system chose for 0).
    let port: UInt16
    /// The address listened on.
    let host: String

    /// Parses `tcp::PORT` or `tcp:HOST:PORT` (HOST an IPv4 address or `localhost`; empty: 127.0.0.1).
    static func parse(_ text: String) -> (host: String, port: UInt16)? {
        guard text.hasPrefix("tcp:") else { return nil }
        let rest = text.dropFirst(4)
        guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else { return nil }
        var host = String(rest[..<colon])
        if host.isEmpty || host == "localhost" { host = "127.0.0.1" }
        return (host, port)
    }

    /// Listens on `host:port`; nil with the reason when the address is bad or in use.
    static func listen(host: String, port: UInt16) -> Result<GDBSocket, SocketError> {
        var address = sockaddr_in()
        #if canImport(Darwin)
        address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        let stream = SOCK_STREAM
        #else
        let stream = Int32(SOCK_STREAM.rawValue)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return .failure(SocketError("not an IPv4 address: '\(host)'")) }
        let fd = socket(AF_INET, stream, 0)
        guard fd >= 0 else { return .failure(SocketError("socket: \(String(cString: strerror(errno)))")) }
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // Safe: the pointer is to a local sockaddr_in of `length` bytes, read by bind/getsockname during the call.
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p -> Bool in
                var n = length
                return bind(fd, p, length) == 0 && CSocket.listen(fd, 1) == 0 && getsockname(fd, p, &n) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(SocketError("cannot listen on \(host):\(port): \(reason)"))
        }
        return .success(GDBSocket(listener: fd, host: host, port: UInt16(bigEndian: address.sin_port)))
    }

    private init(listener: Int32, host: String, port: UInt16) {
        self.listener = listener
        self.host = host
        self.port = port
    }

    deinit {
        disconnect()
        close(listener)
    }

    /// Waits for `fd` to become readable for at most `milliseconds` (-1: no limit).
    private func readable(_ fd: Int32, _ milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let r = poll(&p, 1, milliseconds)
            if r < 0 && errno == EINTR { continue }
            return r > 0
        }
    }

    func accept(waiting: Bool) -> Bool {
        if client >= 0 { return true }
        guard readable(listener, waiting ? -1 : 0) else { return false }
        let fd = CSocket.accept(listener, nil, nil)
        guard fd >= 0 else { return false }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        #if canImport(Darwin)
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        client = fd
        return true
    }

    func receive(waitingAtMost milliseconds: Int?) -> [UInt8]? {
        guard client >= 0 else { return nil }
        guard readable(client, Int32(clamping: milliseconds ?? -1)) else { return [] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        // Safe: read writes at most buffer.count bytes into the array's own storage.
        let n = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { return [] }
        guard n > 0 else { disconnect(); return nil }
        return Array(buffer.prefix(n))
    }

    func send(_ bytes: [UInt8]) {
        var at = 0
        while at < bytes.count && client >= 0 {
            #if canImport(Darwin)
            let flags: Int32 = 0
            #else
            let flags = Int32(MSG_NOSIGNAL)
            #endif
            // Safe: the pointer covers the array's remaining bytes for the duration of the call.
            let n = bytes.withUnsafeBytes { CSocket.send(client, $0.baseAddress.map { $0 + at }, bytes.count - at, flags) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { disconnect(); return }
            at += n
        }
    }

    func disconnect() {
        if client >= 0 { close(client); client = -1 }
    }
}

/// Why the socket could not listen.
struct SocketError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// The C library's socket calls by a name that the methods of the same names do not shadow.
enum CSocket {
    #if canImport(Glibc)
    static let listen = Glibc.listen
    static let accept = Glibc.accept
    static let send = Glibc.send
    #elseif canImport(Darwin)
    static let listen = Darwin.listen
    static let accept = Darwin.accept
    static let send = Darwin.send
    #endif
}
