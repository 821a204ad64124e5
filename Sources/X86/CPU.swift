// The X86 processor model.
