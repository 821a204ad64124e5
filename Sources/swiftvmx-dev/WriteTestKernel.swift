// `swiftvmx-dev write-test-kernel FILE`: writes the multiboot test kernel, for `swiftvmx run --kernel FILE`
// (or QEMU's `-kernel FILE -device isa-debug-exit -debugcon stdio`, which runs it the same way).
import ArgumentParser
import Foundation
import Guests

/// Writes the multiboot test kernel to a file.
struct WriteTestKernel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-test-kernel",
        abstract: "Write the multiboot v1 test kernel (a.out-kludge image or 32-bit ELF) to a file.",
        discussion: """
            Run it with `swiftvmx run --kernel FILE --append TEXT --debugcon OUT`: it reports magic, memory, \
            command line and modules on port 0xE9, then writes 5 to isa-debug-exit (exit status 11).
            """)

    @Argument(help: "The file to write.")
    var file: String

    @Option(help: "aout (multiboot header with load addresses) or elf (32-bit ELF executable).")
    var format: String = MultibootTestKernel.Format.aout.rawValue

    func run() throws {
        guard let kind = MultibootTestKernel.Format(rawValue: format) else {
            throw ValidationError("--format must be aout or elf (got '\(format)')")
        }
        let bytes = try MultibootTestKernel.build(kind)
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: file))
        } catch {
            throw ValidationError("cannot write '\(file)': \(error.localizedDescription)")
        }
        print("wrote \(bytes.count) bytes (\(kind.rawValue)) to \(file)")
    }
}
