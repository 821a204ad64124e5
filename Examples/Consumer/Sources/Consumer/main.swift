// Runs both examples and checks what they produced; exits with status 1 when something differs.
import Foundation
import Hypervisor
import VMM
import X86

var failures = 0
@MainActor func check(_ condition: Bool, _ what: String) {
    print((condition ? "ok: " : "FAILED: ") + what)
    if !condition { failures += 1 }
}

do {
    let exit = try readmeExample()
    check(exit.reason == .hlt && exit.instructionLength == 1, "README example: HLT exit (got \(exit.reason), length \(exit.instructionLength))")
    let (entry, outcome, text) = try pcMachineExample()
    check(entry == 0x10_0020, "Loaders: the multiboot header's entry address (got 0x\(String(entry ?? 0, radix: 16)))")
    check(outcome == .debugExit(status: 11), "PC machine: isa-debug-exit status 11 (got \(outcome))")
    check(text == "hello from a multiboot kernel\n", "PC machine: port 0xE9 output (got \(text.debugDescription))")
} catch {
    print("FAILED: \(error)")
    failures += 1
}
if failures > 0 {
    print("consumer: \(failures) check(s) failed")
    exit(1)
}
print("consumer: all checks passed")
