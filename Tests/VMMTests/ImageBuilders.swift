// The synthetic kernel images (bzImage, ELF, multiboot) come from the shared test-support target.
@_exported import ImageBuilders
