// The gdb remote stub's command handling, independent of sockets and of the machine: packets in, replies
// and run-control actions out, against a `GDBTarget` (the PC machine's vCPU, or a test's model).
import X86

/// What the stub debugs: registers, guest-linear memory, the VMM's stop conditions, monitor commands.
public protocol GDBTarget: AnyObject {
    /// The guest's code size now: 16, 32 or 64.
    var codeSize: Int { get }
    /// A register's bytes, little-endian, `entry.bytes` long.
    func read(_ register: GDBRegister, bytes: Int) -> [UInt8]
    /// Writes a register from little-endian bytes; false when it cannot be written.
    func write(_ register: GDBRegister, _ bytes: [UInt8]) -> Bool
    /// Bytes at a guest-linear address through the guest's paging structures: as many as are mapped from
    /// `address` on (empty when the first is not).
    func readMemory(linear address: UInt64, count: Int) -> [UInt8]
    /// Writes bytes at a guest-linear address; false when any is unmapped (nothing is written then).
    func writeMemory(linear address: UInt64, _ bytes: [UInt8]) -> Bool
    /// The VMM's breakpoints and watchpoints.
    var stops: DebuggerStops { get }
    /// The output of a `monitor` command.
    func monitor(_ command: String) -> String
}

/// Why the guest is stopped, as a stop reply says it.
public enum GDBStopReason: Equatable, Sendable {
    /// SIGTRAP: a single step finished, or the debugger attached (before the first instruction).
    case trap
    /// SIGINT: Ctrl-C.
    case interrupt
    /// A VMM breakpoint or watchpoint.
    case hit(DebuggerStops.Hit)
}

/// The stub: gdb's packets in, replies and run-control actions out.
public final class GDBStub {
    /// What the machine must do after a packet.
    public enum Action: Equatable, Sendable {
        /// Nothing: stay stopped.
        case none
        /// Resume the guest (single-step when `step`); the stop reply is sent when it stops again.
        case resume(step: Bool)
        /// Stop the machine (gdb's `k`).
        case kill
        /// Let the guest run on without the debugger (gdb's `D`).
        case detach
    }

    /// The target.
    public let target: GDBTarget
    /// The register layout gdb was told about (the one of the mode the guest was in when gdb read the target
    /// description; it stays until gdb reads the description again).
    public private(set) var layout: GDBRegisterLayout
    /// Why the guest stopped last.
    public var stopReason: GDBStopReason = .trap

    /// Creates a stub for a target.
    public init(target: GDBTarget) {
        self.target = target
        layout = GDBRegisterLayout(codeSize: target.codeSize)
    }

    /// The stop reply for the current `stopReason` (thread 1).
    public var stopReply: String {
        switch stopReason {
        case .trap: return "T05thread:01;"
        case .interrupt: return "T02thread:01;"
        case .hit(.softwareBreakpoint): return "T05thread:01;swbreak:;"
        case .hit(.hardwareBreakpoint): return "T05thread:01;hwbreak:;"
        case .hit(.watch(let a)): return "T05thread:01;watch:\(String(a, radix: 16));"
        case .hit(.readWatch(let a)): return "T05thread:01;rwatch:\(String(a, radix: 16));"
        case .hit(.accessWatch(let a)): return "T05thread:01;awatch:\(String(a, radix: 16));"
        }
    }

    /// Handles one packet's payload: the reply to send (nil: none, after `k`) and the action.
    public func handle(_ packet: [UInt8]) -> (reply: [UInt8]?, action: Action) {
        let text = String(decoding: packet, as: UTF8.self)
        guard let first = packet.first else { return (Array("".utf8), .none) }
        let rest = packet.dropFirst()
        func reply(_ s: String, _ a: Action = .none) -> ([UInt8]?, Action) { (Array(s.utf8), a) }
        switch first {
        case UInt8(ascii: "?"): return reply(stopReply)
        case UInt8(ascii: "g"): return reply(String(decoding: hexBytes(readAllRegisters()), as: UTF8.self))
        case UInt8(ascii: "G"):
            guard let bytes = bytesFromHex(rest) else { return reply("E01") }
            return reply(writeAllRegisters(bytes) ? "OK" : "E01")
        case UInt8(ascii: "p"):
            guard let n = hexNumber(rest), Int(n) < layout.entries.count else { return reply("E01") }
            let e = layout.entries[Int(n)]
            return reply(String(decoding: hexBytes(target.read(e.register, bytes: e.bytes)), as: UTF8.self))
        case UInt8(ascii: "P"):
            let parts = rest.split(separator: UInt8(ascii: "="), maxSplits: 1)
            guard parts.count == 2, let n = hexNumber(parts[0]), Int(n) < layout.entries.count,
                  let bytes = bytesFromHex(parts[1]), bytes.count == layout.entries[Int(n)].bytes else { return reply("E01") }
            return reply(target.write(layout.entries[Int(n)].register, bytes) ? "OK" : "E01")
        case UInt8(ascii: "m"):
            guard let (address, length) = addressAndLength(rest), length <= GDBPacketReader.maximumPayload / 2 else { return reply("E01") }
            let bytes = target.readMemory(linear: address, count: length)
            return reply(bytes.isEmpty && length > 0 ? "E14" : String(decoding: hexBytes(bytes), as: UTF8.self))
        case UInt8(ascii: "M"):
            let parts = rest.split(separator: UInt8(ascii: ":"), maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let (address, length) = addressAndLength(parts[0]),
                  let bytes = bytesFromHex(parts[1]), bytes.count == length else { return reply("E01") }
            return reply(target.writeMemory(linear: address, bytes) ? "OK" : "E14")
        case UInt8(ascii: "X"):
            guard let colon = rest.firstIndex(of: UInt8(ascii: ":")),
                  let (address, length) = addressAndLength(rest[..<colon]) else { return reply("E01") }
            let bytes = Array(rest[rest.index(after: colon)...])
            guard bytes.count == length else { return reply("E01") }
            return reply(length == 0 || target.writeMemory(linear: address, bytes) ? "OK" : "E14")
        case UInt8(ascii: "c"), UInt8(ascii: "s"), UInt8(ascii: "C"), UInt8(ascii: "S"):
            // c [addr], s [addr]: resume at addr when given; C sig[;addr], S sig[;addr]: the signal is ignored.
            var addressText = rest[...]
            if first == UInt8(ascii: "C") || first == UInt8(ascii: "S") {
                addressText = rest.split(separator: UInt8(ascii: ";"), maxSplits: 1).dropFirst().first ?? []
            }
            if !addressText.isEmpty {
                guard let a = hexNumber(addressText) else { return reply("E01") }
                _ = target.write(.rip, littleEndian(a, count: 8))
            }
            return (nil, .resume(step: first == UInt8(ascii: "s") || first == UInt8(ascii: "S")))
        case UInt8(ascii: "k"): return (nil, .kill)
        case UInt8(ascii: "D"): return reply("OK", .detach)
        case UInt8(ascii: "H"), UInt8(ascii: "T"): return reply("OK")      // one thread: always thread 1
        case UInt8(ascii: "Z"), UInt8(ascii: "z"): return reply(breakpoint(insert: first == UInt8(ascii: "Z"), rest))
        case UInt8(ascii: "v"):
            if text == "vCont?" { return reply("vCont;c;C;s;S") }
            if text.hasPrefix("vCont;") {
                // One thread: the first action decides (s, S: step; c, C: continue).
                let action = text.dropFirst(6).first
                if action == "s" || action == "S" { return (nil, .resume(step: true)) }
                if action == "c" || action == "C" { return (nil, .resume(step: false)) }
                return reply("E01")
            }
            if text.hasPrefix("vKill") { return reply("OK", .kill) }
            return reply("")
        case UInt8(ascii: "q"):
            return reply(query(text))
        default:
            return reply("")                                                // not supported
        }
    }

    /// The `q` packets.
    func query(_ text: String) -> String {
        if text.hasPrefix("qSupported") {
            return "PacketSize=\(String(GDBPacketReader.maximumPayload, radix: 16));qXfer:features:read+;swbreak+;hwbreak+;vContSupported+"
        }
        if text.hasPrefix("qXfer:features:read:") {
            // qXfer:features:read:ANNEX:OFFSET,LENGTH
            let fields = text.dropFirst("qXfer:features:read:".count).split(separator: ":", maxSplits: 1)
            guard fields.count == 2, fields[0] == "target.xml",
                  let (offset, length) = addressAndLength(Array(fields[1].utf8)[...]) else { return "E00" }
            if offset == 0 { layout = GDBRegisterLayout(codeSize: target.codeSize) }
            let xml = Array(layout.targetXML.utf8)
            guard offset <= UInt64(xml.count) else { return "E01" }
            let start = Int(offset), end = min(xml.count, start + length)
            return (end == xml.count ? "l" : "m") + String(decoding: xml[start..<end], as: UTF8.self)
        }
        switch text {
        case "qC": return "QC01"
        case "qfThreadInfo": return "m01"
        case "qsThreadInfo": return "l"
        case "qAttached": return "1"
        case "qSymbol::": return "OK"
        case "qOffsets": return "Text=0;Data=0;Bss=0"
        default: break
        }
        if text.hasPrefix("qRcmd,") {
            guard let command = bytesFromHex(text.utf8.dropFirst(6)) else { return "E01" }
            var output = target.monitor(String(decoding: command, as: UTF8.self))
            if !output.hasSuffix("\n") { output += "\n" }
            return String(decoding: hexBytes(Array(output.utf8)), as: UTF8.self)
        }
        return ""
    }

    /// Z/z TYPE,ADDR,KIND: breakpoints (0 software, 1 hardware) at RIP values; write (2), read (3) and
    /// access (4) watchpoints over KIND bytes.
    func breakpoint(insert: Bool, _ arguments: ArraySlice<UInt8>) -> String {
        let parts = arguments.split(separator: UInt8(ascii: ","))
        guard parts.count >= 3, let type = hexNumber(parts[0]), let address = hexNumber(parts[1]),
              let kind = hexNumber(parts[2].prefix { $0 != UInt8(ascii: ";") }) else { return "E01" }
        let stops = target.stops
        switch type {
        case 0: stops.setSoftwareBreakpoint(address, insert); return "OK"
        case 1: stops.setHardwareBreakpoint(address, insert); return "OK"
        case 2:
            guard kind >= 1 && kind <= 4096 else { return "E01" }
            if !insert { stops.removeWatch(address, length: Int(kind)); return "OK" }
            let now = target.readMemory(linear: address, count: Int(kind))
            return stops.addWatch(address, length: Int(kind), current: now.count == Int(kind) ? now : nil) ? "OK" : "E01"
        case 3, 4:
            guard kind >= 1 && kind <= 4096 else { return "E01" }
            if !insert { stops.removeAccessWatch(address, length: Int(kind), includesWrites: type == 4); return "OK" }
            return stops.addAccessWatch(address, length: Int(kind), includesWrites: type == 4) ? "OK" : "E01"
        default: return ""
        }
    }

    /// ADDR,LENGTH in hex.
    func addressAndLength(_ text: ArraySlice<UInt8>) -> (UInt64, Int)? {
        let parts = text.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard parts.count == 2, let a = hexNumber(parts[0]), let n = hexNumber(parts[1]), n <= 1 << 20 else { return nil }
        return (a, Int(n))
    }

    /// The `g` reply's bytes: every register of the layout in order.
    func readAllRegisters() -> [UInt8] {
        layout.entries.flatMap { target.read($0.register, bytes: $0.bytes) }
    }

    /// `G`: every register from the layout's bytes; a shorter packet writes the registers it covers.
    func writeAllRegisters(_ bytes: [UInt8]) -> Bool {
        var at = 0
        for e in layout.entries {
            guard at + e.bytes <= bytes.count else { break }
            let value = Array(bytes[at..<at + e.bytes])
            // Unchanged registers are not written back (segment selectors and x87 pointers cannot be).
            if value != target.read(e.register, bytes: e.bytes) { _ = target.write(e.register, value) }
            at += e.bytes
        }
        return at > 0
    }
}
