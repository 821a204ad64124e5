// Guest programs written with the in-project assembler.
import X86Assembler
