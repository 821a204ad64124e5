// Runs GNU as / objcopy / ld as the reference encoder.
import Foundation
import X86Assembler

/// A failure of the reference toolchain.
struct ReferenceError: Error, CustomStringConvertible {
    let description: String
}

enum GNU {
    static let asPath = "/usr/bin/as"
    static let objcopyPath = "/usr/bin/objcopy"
    static let ldPath = "/usr/bin/ld"

    static var missingTools: String? {
        for p in [asPath, objcopyPath, ldPath] where !FileManager.default.isExecutableFile(atPath: p) {
            return "\(p) not found: install GNU binutils (apt-get install binutils) to run the X86Assembler reference tests"
        }
        return nil
    }

    static func directive(_ mode: Mode) -> String {
        switch mode {
        case .bits16: ".code16"
        case .bits32: ".code32"
        case .bits64: ".code64"
        }
    }

    @discardableResult
    static func run(_ path: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard p.terminationStatus == 0 else {
            throw ReferenceError(description: "\(path) \(args.joined(separator: " ")) failed:\n\(text)")
        }
        return text
    }

    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("x86asm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Assembles each line separately (one `as` run for all of them) and returns each line's bytes.
    static func assembleLines(_ lines: [String], mode: Mode) throws -> [[UInt8]] {
        if let m = missingTools { throw ReferenceError(description: m) }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var src = ".intel_syntax noprefix\n.text\n\(directive(mode))\n"
        for (n, line) in lines.enumerated() { src += ".Le\(n):\n\(line)\n" }
        src += ".Le\(lines.count):\n.data\n"
        for n in 0..<lines.count { src += ".long .Le\(n + 1) - .Le\(n)\n" }
        let s = dir.appendingPathComponent("x.s").path
        let o = dir.appendingPathComponent("x.o").path
        let text = dir.appendingPathComponent("text.bin").path
        let data = dir.appendingPathComponent("data.bin").path
        try src.write(toFile: s, atomically: true, encoding: .utf8)
        do {
            try run(asPath, ["--64", "-o", o, s])
        } catch let e as ReferenceError {
            // Point at the table entries that `as` rejected.
            var msg = e.description
            for case let n? in e.description.split(separator: "\n").compactMap({ l -> Int? in
                let parts = l.split(separator: ":")
                return parts.count > 1 ? Int(parts[1]) : nil
            }) {
                let all = src.split(separator: "\n", omittingEmptySubsequences: false)
                if n - 1 < all.count { msg += "\n  line \(n): \(all[n - 1])" }
            }
            throw ReferenceError(description: msg)
        }
        try run(objcopyPath, ["-O", "binary", "-j", ".text", o, text])
        try run(objcopyPath, ["-O", "binary", "-j", ".data", o, data])
        let code = [UInt8](try Data(contentsOf: URL(fileURLWithPath: text)))
        let lens = [UInt8](try Data(contentsOf: URL(fileURLWithPath: data)))
        var out: [[UInt8]] = []
        var pos = 0
        for n in 0..<lines.count {
            let l = Int(lens[4 * n]) | Int(lens[4 * n + 1]) << 8
            out.append(Array(code[pos..<pos + l]))
            pos += l
        }
        return out
    }

    /// Assembles and links a whole program at `origin` (labels resolved by ld) and returns the flat image.
    static func assembleProgram(_ source: String, origin: UInt64) throws -> [UInt8] {
        if let m = missingTools { throw ReferenceError(description: m) }
        let dir = try tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = dir.appendingPathComponent("p.s").path
        let o = dir.appendingPathComponent("p.o").path
        let bin = dir.appendingPathComponent("p.bin").path
        try (".intel_syntax noprefix\n.text\n" + source + "\n").write(toFile: s, atomically: true, encoding: .utf8)
        try run(asPath, ["--64", "-o", o, s])
        try run(ldPath, ["-m", "elf_x86_64", "-Ttext", "0x" + String(origin, radix: 16), "-e", "0", "--oformat", "binary", "-o", bin, o])
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: bin)))
    }
}

func hex(_ b: [UInt8]) -> String { b.map { String(format: "%02x", $0) }.joined(separator: " ") }
