import X86
