// The README's "Use it from Swift" example, verbatim between the markers (scripts/test-consumer checks that
// the README's block and this one are the same text).
import Hypervisor
import X86

/// Runs the README's example and returns the exit it printed.
func readmeExample() throws -> VMExit {
    // README example begins
    let guestCode: [UInt8] = [0xF4]                            // HLT
    let vm = VirtualMachine()
    try vm.allocate(guestPhysical: 0, size: 1 << 20)          // guest RAM (the EPT of this model)
    vm.memory.write(guestCode, at: 0x1000)
    let vcpu = vm.makeVCPU()                                   // a VMCS that passes every entry check
    try vcpu.write(.guestRIP, 0x1000)
    try vcpu.write(.primaryProcessorBasedControls,
                   vcpu.read(.primaryProcessorBasedControls) | UInt64(PrimaryProcessorControls.hltExiting.rawValue))
    let exit = try vcpu.run()                                  // a VMExit value
    print(exit.reason, exit.reason.explanation, exit.qualification, exit.instructionLength)
    // README example ends
    return exit
}
