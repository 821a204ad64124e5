// The single-step trap of an instruction the VMM emulated (SDM Vol. 3B §18.3.1.4): an instruction that
// exits (CPUID, IN/OUT, HLT, RDMSR/WRMSR…) does not retire in the processor, so its #DB trap with DR6.BS,
// when the guest's RFLAGS.TF is set, is the VMM's to raise as it retires the instruction — injected at the
// next entry, before the next instruction, as KVM does.
import Hypervisor
import X86

extension PCMachine {
    /// Injects the single-step #DB after an emulated instruction when the guest's RFLAGS.TF is set, unless
    /// the instruction ran in MOV SS blocking (which holds debug traps back: the trap is lost, as in the
    /// processor model) or an event is already being injected.
    func singleStepTrap(afterMovSS movSS: Bool) {
        guard vcpu.read(.guestRFLAGS) & RFLAGS.tf.rawValue != 0, !movSS, !injectionPending else { return }
        vcpu.debugStatus = (vcpu.debugStatus & ~0xF) | 1 << 14          // BS, no breakpoint match
        injectException(1)
    }
}
