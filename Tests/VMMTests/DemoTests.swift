// `swiftvmx demo` as a test: the demo guest OS under the demo VMM, every mechanism row, its exits and the
// values its lines report (read out of the lines by key, so that rewording a line does not break the test
// and a wrong value does).
import Testing
import X86
import Guests
import Hypervisor
import VMM

/// The numbers that follow `key` in `lines` (hexadecimal with 0x, else decimal; a comma-separated list counts
/// as several), in order of appearance. An empty key reads the number each line starts with.
func demoValues(_ key: String, in lines: [String]) -> [UInt64] {
    var out: [UInt64] = []
    for line in lines {
        var rest = Substring(line)
        if key.isEmpty {
            let token = rest.prefix { $0 != " " }
            let v = token.hasPrefix("0x") ? UInt64(token.dropFirst(2), radix: 16) : UInt64(token)
            if let v { out.append(v) }
            continue
        }
        while let r = rest.firstRange(of: key) {
            rest = rest[r.upperBound...]
            var more = true
            while more {
                rest = rest.drop { $0 == " " }
                let hex = rest.hasPrefix("0x")
                let digits = (hex ? rest.dropFirst(2) : rest).prefix { hex ? $0.isHexDigit : $0.isNumber }
                guard !digits.isEmpty, let v = UInt64(digits, radix: hex ? 16 : 10) else { break }
                out.append(v)
                rest = rest[digits.endIndex...]
                more = rest.hasPrefix(",")
                if more { rest = rest.dropFirst() }
            }
        }
    }
    return out
}

@Test func demoValuesReadsNumbersByKey() {
    #expect(demoValues("cs=", in: ["entered cs=0x8 via LSTAR; SYSRETQ to cs=0x2b"]) == [0x8, 0x2B])
    #expect(demoValues("read back", in: ["MOV CR8,4 then MOV CR8,2 read back 0x4,0x2"]) == [4, 2])
    #expect(demoValues("tick", in: ["woke on tick 2"]) == [2])
    #expect(demoValues("CR3=", in: ["no such key"]).isEmpty)
    #expect(demoValues("", in: ["0x6 SYSCALLs", "none"]) == [6])
}

@Test func demoShowsEveryMechanism() throws {
    let r = try DemoMonitor.run(try DemoMonitor.demoMachine())
    #expect(r.failure == nil, "\(r.failure ?? "")\n\(r.lines.joined(separator: "\n"))")
    #expect(r.rows.count == 7)
    func row(_ name: String) -> DemoMonitor.Row? { r.rows.first { $0.mechanism.hasPrefix(name) } }
    func exits(_ name: String) -> [ExitReason: Int] {
        Dictionary(uniqueKeysWithValues: (row(name)?.exits ?? []).map { ($0.reason, $0.count) })
    }
    func guest(_ name: String, _ key: String) -> [UInt64] { demoValues(key, in: row(name)?.guestSaw ?? []) }
    func vmm(_ name: String, _ key: String) -> [UInt64] { demoValues(key, in: row(name)?.vmmSaw ?? []) }

    // 1. Intended privilege: kernel CPL 0 (CS 08h), user CPL 3 (CS 2Bh); the user's write to a kernel page is
    //    the guest's own #PF (error code 7: present, write, user) and leaves the page as it was.
    #expect(guest("VMX non-root", "cs =") == [0x08, 0x2B])
    #expect(guest("VMX non-root", "CPL ") == [0, 3])
    #expect(guest("VMX non-root", "err=") == [0x7])
    #expect(guest("VMX non-root", "unchanged=") == [0])
    #expect(exits("VMX non-root") == [.exceptionOrNMI: 0, .tripleFault: 0])

    // 2. Address-space compression: the guest's own CR3 in the VMCS at an exit; the host state untouched.
    #expect(guest("Address-space", "CR3=") == [0x60000])
    #expect(guest("Address-space", "CR0=") == [0x8000_0031])
    #expect(guest("Address-space", "CR4=") == [0x20])
    #expect(vmm("Address-space", "CR3=") == [0x60000])
    #expect(vmm("Address-space", "entered with") == [0x1000])
    #expect(vmm("Address-space", "CS=") == [0x2B])
    #expect(vmm("Address-space", "SS=") == [0x23])

    // 3. Non-faulting access to privileged state: six instructions without exits, then one exit 46.
    #expect(guest("Non-faulting", "tr=") == [0x38])
    #expect(vmm("Non-faulting", "exit") == [46])
    #expect(exits("Non-faulting") == [.accessToGDTRorIDTR: 1, .accessToLDTRorTR: 0])

    // 4. Guest system calls: 6 SYSCALLs into CS 08h through LSTAR, SYSRETQ back to CS 2Bh, no exits.
    #expect(guest("Guest system calls", "") == [6])
    #expect(guest("Guest system calls", "cs=") == [0x08, 0x2B])
    #expect(exits("Guest system calls") == [.rdmsr: 0, .wrmsr: 0, .exceptionOrNMI: 0])

    // 5. Interrupt virtualization: injection, interrupt window, external-interrupt exiting; the tick
    //    interrupted user code (CS 2Bh).
    let interrupted = guest("Interrupt virtualization", "cs=")
    #expect(!interrupted.isEmpty && Set(interrupted) == [0x2B])
    let e5 = exits("Interrupt virtualization")
    #expect((e5[.interruptWindow] ?? 0) >= 1)
    #expect((e5[.externalInterrupt] ?? 0) >= DemoOS.ticksPerPhase)
    #expect((e5[.vmxPreemptionTimerExpired] ?? 0) >= 2 * DemoOS.ticksPerPhase)
    #expect(r.ticksDelivered >= 2 + 2 * DemoOS.ticksPerPhase)

    // 6. Hidden state: HLT with IF=1, woken by tick 2; activity state HLT (1) and CS access rights A0FBh saved.
    #expect(guest("Hidden state", "IF=") == [1])
    #expect(guest("Hidden state", "tick") == [2])
    #expect(vmm("Hidden state", "HLT (") == [1])
    #expect(vmm("Hidden state", "access rights") == [0xA0FB])
    #expect(exits("Hidden state") == [.hlt: 1])

    // 7. TPR shadow: CR8 5, then 4 and 2, read back without exits; one exit 43 when VTPR 2 < threshold 3.
    #expect(guest("TPR shadow", "read back") == [5, 4, 2])
    #expect(vmm("TPR shadow", "VTPR=") == [5, 2])
    #expect(vmm("TPR shadow", "threshold") == [3, 3])
    #expect(exits("TPR shadow") == [.tprBelowThreshold: 1, .controlRegisterAccess: 0])

    // Totals: only the exits the table names, plus the debug port and the hypercalls.
    let named: Set<ExitReason> = [.ioInstruction, .vmcall, .accessToGDTRorIDTR, .tprBelowThreshold, .hlt,
                                  .vmxPreemptionTimerExpired, .interruptWindow, .externalInterrupt]
    #expect(Set(r.exitCounts.keys).isSubset(of: named), "\(r.exitCounts)")
    #expect(r.exitCounts[.vmcall] == 4)
    #expect(r.exitCounts[.ioInstruction] == r.lines.count)
    #expect(r.instructions < 1_000_000)
}
