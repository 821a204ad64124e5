// `swiftvmx demo` as a test: the demo guest OS under the demo VMM, every mechanism row and its exits.
// (In X86Tests because this target sees both Guests and, through X86Testing, Hypervisor.)
import Testing
import X86
import Guests
import Hypervisor
import VMM

@Test func demoShowsEveryMechanism() throws {
    let r = try DemoMonitor.run(try DemoMonitor.demoMachine())
    #expect(r.failure == nil, "\(r.failure ?? "")\n\(r.lines.joined(separator: "\n"))")
    #expect(r.lines.last == "done")
    #expect(r.rows.count == 7)
    func row(_ name: String) -> DemoMonitor.Row? { r.rows.first { $0.mechanism.hasPrefix(name) } }
    func exits(_ name: String) -> [ExitReason: Int] {
        Dictionary(uniqueKeysWithValues: (row(name)?.exits ?? []).map { ($0.reason, $0.count) })
    }
    func saw(_ name: String) -> String { (row(name)?.guestSaw ?? []).joined(separator: " | ") }
    func vmm(_ name: String) -> String { (row(name)?.vmmSaw ?? []).joined(separator: " | ") }

    // 1. Intended privilege: kernel CPL 0, user CPL 3, the user's write to a kernel page is the guest's own #PF.
    #expect(saw("VMX non-root").contains("kernel: mov ax,cs = 0x8 (CPL 0)") || saw("VMX non-root").contains("mov ax,cs = 0x8 (CPL 0)"))
    #expect(saw("VMX non-root").contains("mov ax,cs = 0x2b (CPL 3)"))
    #expect(saw("VMX non-root").contains("CPL-3 write to 0x50000 -> guest #PF handler err=0x7, page unchanged=0x0"))
    #expect(exits("VMX non-root") == [.exceptionOrNMI: 0, .tripleFault: 0])

    // 2. Address-space compression: the guest's own CR3 in the VMCS at an exit; the host state untouched.
    #expect(saw("Address-space").contains("own CR3=0x60000 CR0=0x80000031 CR4=0x20"))
    #expect(vmm("Address-space").contains("guest CR3=0x60000 (entered with 0x1000)"))
    #expect(vmm("Address-space").contains("CS=0x2b SS=0x23"))
    #expect(vmm("Address-space").contains("host-state area"))
    #expect(!vmm("Address-space").contains("FAIL"))

    // 3. Non-faulting access to privileged state: six instructions without exits, then one exit 46.
    #expect(saw("Non-faulting").contains("LGDT LIDT LTR SGDT SIDT STR at CPL 0"))
    #expect(saw("Non-faulting").contains("tr=0x38"))
    #expect(saw("Non-faulting").contains("SGDT with descriptor-table exiting stored base="))
    #expect(vmm("Non-faulting").contains("exit 46 (SGDT"))
    #expect(exits("Non-faulting") == [.accessToGDTRorIDTR: 1, .accessToLDTRorTR: 0])

    // 4. Guest system calls: SYSCALL/SYSRET between CPL 3 and CPL 0 without exits.
    #expect(saw("Guest system calls").contains("0x6 SYSCALLs entered cs=0x8 via LSTAR; SYSRETQ to cs=0x2b"))
    #expect(exits("Guest system calls") == [.rdmsr: 0, .wrmsr: 0, .exceptionOrNMI: 0])

    // 5. Interrupt virtualization: injection, interrupt window, external-interrupt exiting.
    let irq = saw("Interrupt virtualization")
    #expect(irq.contains("one tick right after STI+NOP"))
    #expect(irq.contains("interrupted user cs=0x2b"))
    #expect(irq.contains("ext-int") == false)     // the tag is stripped
    let e5 = exits("Interrupt virtualization")
    #expect((e5[.interruptWindow] ?? 0) >= 1)
    #expect((e5[.externalInterrupt] ?? 0) >= DemoOS.ticksPerPhase)
    #expect((e5[.vmxPreemptionTimerExpired] ?? 0) >= 2 * DemoOS.ticksPerPhase)
    #expect(r.ticksDelivered >= 2 + 2 * DemoOS.ticksPerPhase)

    // 6. Hidden state: activity state HLT saved at the exit, the injected tick wakes the guest after HLT.
    #expect(saw("Hidden state").contains("HLT at IF=1 woke on tick 2"))
    #expect(vmm("Hidden state").contains("activity state HLT (1)"))
    #expect(vmm("Hidden state").contains("CS access rights 0xa0fb"))
    #expect(exits("Hidden state") == [.hlt: 1])

    // 7. TPR shadow: CR8 5 and 4 without exits, 2 exits with reason 43 (threshold 3); no CR-access exits.
    #expect(saw("TPR shadow").contains("MOV CR8,5 read back 0x5"))
    #expect(saw("TPR shadow").contains("MOV CR8,4 then MOV CR8,2 read back 0x4,0x2"))
    #expect(vmm("TPR shadow").contains("VTPR=5: TPR threshold 3 programmed"))
    #expect(vmm("TPR shadow").contains("VTPR=2 < threshold 3"))
    #expect(exits("TPR shadow") == [.tprBelowThreshold: 1, .controlRegisterAccess: 0])

    // Totals: only the exits the table names, plus the debug port and the hypercalls.
    let named: Set<ExitReason> = [.ioInstruction, .vmcall, .accessToGDTRorIDTR, .tprBelowThreshold, .hlt,
                                  .vmxPreemptionTimerExpired, .interruptWindow, .externalInterrupt]
    #expect(Set(r.exitCounts.keys).isSubset(of: named), "\(r.exitCounts)")
    #expect(r.exitCounts[.vmcall] == 4)
    #expect(r.exitCounts[.ioInstruction] == r.lines.count)
    #expect(r.instructions < 1_000_000)
}
