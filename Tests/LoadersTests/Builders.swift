// The synthetic kernel images (bzImage, ELF, multiboot) come from the shared test-support target.
@_exported import ImageBuilders
@testable import Loaders

let ram256 = MemoryMap.standardPC(ramSize: 256 << 20)
