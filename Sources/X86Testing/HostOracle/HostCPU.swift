// The host-processor oracle: runs generated user-mode sequences natively.
// Pure Swift over the CHostCPU C target; does not depend on the processor model.

import CHostCPU

/// A user-mode register state: the 16 GPRs, RIP and RFLAGS.
public struct HostState: Equatable, Sendable {
    /// RAX RCX RDX RBX RSP RBP RSI RDI R8..R15, in encoding order (16 entries).
    public var gpr: [UInt64]
    /// The instruction pointer (start: `HostCPU.codeAddress`; after a fault: the faulting instruction).
    public var rip: UInt64
    /// RFLAGS. Only CF PF AF ZF SF DF OF are settable on input; bit 1 and IF read as 1.
    public var rflags: UInt64

    /// Creates a state; `gpr` must have 16 entries.
    public init(gpr: [UInt64], rip: UInt64, rflags: UInt64) {
        self.gpr = gpr
        self.rip = rip
        self.rflags = rflags
    }
}

/// How a native run ended.
public enum HostOutcome: Equatable, Sendable {
    /// Execution reached the end of the sequence.
    case completed
    /// An exception: `vector` (0 #DE, 1 #DB, 3 #BP, 6 #UD, 12 #SS, 13 #GP, 14 #PF, 17 #AC) and the RIP the
    /// host reported (the faulting instruction for faults, the next instruction for traps such as #BP).
    case exception(vector: UInt8, faultRIP: UInt64)
}

/// Extra information about an exception, as the host kernel reported it.
public struct HostFaultDetail: Equatable, Sendable {
    /// The signal number (SIGSEGV etc.) and its si_code.
    public var signal: Int32
    public var signalCode: Int32
    /// The error code the kernel saw (for #PF the U/S bit is set, since the code ran in ring 3).
    public var errorCode: UInt64
    /// For #PF the faulting linear address (CR2); otherwise si_addr.
    public var faultAddress: UInt64
}

/// RFLAGS bit masks used by the oracle.
public enum HostFlags {
    public static let cf: UInt64 = 1 << 0
    public static let pf: UInt64 = 1 << 2
    public static let af: UInt64 = 1 << 4
    public static let zf: UInt64 = 1 << 6
    public static let sf: UInt64 = 1 << 7
    public static let df: UInt64 = 1 << 10
    public static let of: UInt64 = 1 << 11
    /// CF PF AF ZF SF OF.
    public static let arithmetic: UInt64 = 0x8D5
    /// The flags compared by the oracle (the arithmetic flags and DF), before masking undefined ones.
    public static let compared: UInt64 = 0xCD5
}

/// The native runner. Memory layout: the code is copied to `codeAddress` (a 64 KiB RWX area) and the
/// 64 KiB data area at `dataAddress` (which also holds the stack) is initialised from the sequence's
/// `initialData`. The sequence is followed by a 14-byte `jmp [rip+0]` back into the runner, outside the
/// compared state. Runs are serialised by a lock inside the C runner.
public enum HostCPU {
    /// True on x86-64 Linux hosts where the fixed areas could be mapped.
    public static var isAvailable: Bool { hostcpu_available() != 0 }
    /// True when sequences of `mode` can run natively (16-bit code also needs modify_ldt(2)).
    public static func isAvailable(_ mode: CodeSegmentMode) -> Bool { hostcpu_mode_available(Int32(mode.rawValue)) != 0 }
    /// Linear address of the first code byte.
    public static let codeAddress: UInt64 = 0x1000_0000
    /// Size of the code area (the sequence may use all but the last 46 bytes: the jump back and a trampoline).
    public static let codeSize: Int = 0x10000
    /// Linear address of the data area (also the stack).
    public static let dataAddress: UInt64 = 0x1001_0000
    /// The longest sequence (`HOSTCPU_MAX_CODE`: the code area less the 32-byte trampoline tail and the
    /// 14-byte jump back).
    public static let maxCodeSize: Int = 0x10000 - 32 - 14
    /// Size of the data area in bytes.
    public static let dataSize: Int = 0x10000

    /// Runs `s` natively: returns the final state (or the state at the exception), the data area
    /// afterwards, and how the run ended. On hosts without the runner returns the initial state,
    /// data and `.exception(vector: 0xFF, faultRIP: 0)`.
    public static func run(_ s: GeneratedSequence) -> (HostState, [UInt8], HostOutcome) {
        let r = runDetailed(code: s.code, state: s.initialState, data: s.initialData, mode: s.mode, stack32: s.stack32)
        return (r.state, r.data, r.outcome)
    }

    /// Runs raw code with an explicit state and data area (`data` is zero-padded or truncated to
    /// `dataSize`). Also returns the kernel's fault details on an exception.
    /// `mode` selects the code segment (see `CodeSegmentMode`); RIP values are then offsets in it. `stack32`
    /// (16-bit code only) makes SS a 32-bit stack segment.
    public static func runDetailed(code: [UInt8], state: HostState, data: [UInt8], mode: CodeSegmentMode = .mode64,
                                   stack32: Bool = false)
        -> (state: HostState, data: [UInt8], outcome: HostOutcome, fault: HostFaultDetail?)
    {
        var input = [UInt64](repeating: 0, count: 18)
        for i in 0..<min(16, state.gpr.count) { input[i] = state.gpr[i] }
        input[16] = state.rip
        input[17] = state.rflags
        var output = [UInt64](repeating: 0, count: 18)
        var dataIn = data
        if dataIn.count != dataSize {
            dataIn = Array(dataIn.prefix(dataSize)) + [UInt8](repeating: 0, count: max(0, dataSize - dataIn.count))
        }
        var dataOut = [UInt8](repeating: 0, count: dataSize)
        var fault = hostcpu_fault()
        // Safe: every buffer is a live Swift array of the size the C function reads or writes
        // (code: code.count bytes; registers: 18 words each; data: dataSize bytes each), and the
        // pointers do not escape the closures (hostcpu_run copies what it needs before returning).
        let status = code.withUnsafeBufferPointer { codeBuf in
            input.withUnsafeBufferPointer { inBuf in
                output.withUnsafeMutableBufferPointer { outBuf in
                    dataIn.withUnsafeBufferPointer { dIn in
                        dataOut.withUnsafeMutableBufferPointer { dOut in
                            hostcpu_run_mode(Int32(mode == .mode16 && stack32 ? 17 : mode.rawValue), codeBuf.baseAddress, codeBuf.count, inBuf.baseAddress,
                                        dIn.baseAddress, dOut.baseAddress, outBuf.baseAddress, &fault)
                        }
                    }
                }
            }
        }
        if status < 0 {
            return (state, dataIn, .exception(vector: 0xFF, faultRIP: 0), nil)
        }
        let final = HostState(gpr: Array(output[0..<16]), rip: output[16], rflags: output[17])
        if status == 0 {
            return (final, dataOut, .completed, nil)
        }
        let detail = HostFaultDetail(signal: fault.signal, signalCode: fault.si_code,
                                     errorCode: fault.error_code, faultAddress: fault.fault_address)
        return (final, dataOut, .exception(vector: UInt8(truncatingIfNeeded: fault.vector), faultRIP: output[16]),
                detail)
    }

    /// CPUID on the host (zeros where unavailable): (eax, ebx, ecx, edx).
    public static func cpuid(_ leaf: UInt32, _ subleaf: UInt32 = 0) -> (UInt32, UInt32, UInt32, UInt32) {
        var out = [UInt32](repeating: 0, count: 4)
        // Safe: the C function writes exactly four words into the four-element array.
        _ = out.withUnsafeMutableBufferPointer { hostcpu_cpuid(leaf, subleaf, $0.baseAddress) }
        return (out[0], out[1], out[2], out[3])
    }

    /// Host support for optional instructions the generator may emit.
    public struct Features: Equatable, Sendable {
        public var movbe: Bool
        public var popcnt: Bool
        public var cmpxchg16b: Bool
        public var lahfSahf: Bool
        /// Everything on (for generating sequences for the model alone).
        public static let all = Features(movbe: true, popcnt: true, cmpxchg16b: true, lahfSahf: true)
    }

    /// The host's optional-instruction support, from CPUID (all off on other hosts).
    public static var hostFeatures: Features {
        let l1 = cpuid(1)
        let e1 = cpuid(0x8000_0001)
        return Features(movbe: l1.2 & (1 << 22) != 0, popcnt: l1.2 & (1 << 23) != 0,
                        cmpxchg16b: l1.2 & (1 << 13) != 0, lahfSahf: e1.2 & 1 != 0)
    }

    /// Fills a data area with pseudo-random bytes derived from `seed` (fast in debug builds too).
    public static func randomData(seed: UInt64, count: Int = dataSize) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: count)
        // Safe: the C function writes exactly `count` bytes into the `count`-byte array.
        d.withUnsafeMutableBufferPointer { hostcpu_fill_random($0.baseAddress, $0.count, seed) }
        return d
    }
}
