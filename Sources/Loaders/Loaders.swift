// Loaders: Linux boot protocol, multiboot v1, ELF, flat binaries, firmware ROMs.
