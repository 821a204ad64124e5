// Runs the built `swiftvmx` executable as a child process: finds it next to the test bundle, feeds it no
// input, captures standard output and standard error in files and enforces a wall-clock limit.
import Foundation

/// The result of one `swiftvmx` run.
struct CLIResult: Sendable {
    /// The exit status (or the signal number when `signaled`).
    var status: Int32
    /// Whether the process was ended by a signal (a crash, or the timeout's SIGTERM).
    var signaled: Bool
    /// Whether the run exceeded its time limit and was terminated.
    var timedOut: Bool
    /// Standard output.
    var standardOutput: String
    /// Standard error.
    var standardError: String
    /// Wall-clock seconds the run took.
    var seconds: Double

    /// The first line of standard error ("" when it is empty).
    var firstErrorLine: String {
        String(standardError.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }
}

/// Why the CLI could not be run.
struct CLIRunnerError: Error, CustomStringConvertible {
    var description: String
}

/// Locates and runs the `swiftvmx` executable built with the tests.
enum CLIRunner {
    /// The executable's name.
    static let name = "swiftvmx"

    /// Directories that may hold the executable: the test bundle's directory and its parents (on Linux the
    /// `.xctest` runner lives in `<scratch>/debug/` beside the executables; on macOS the bundle is a directory
    /// `<scratch>/debug/X.xctest/Contents/MacOS/X`), then `$SWIFTVMX_EXECUTABLE`'s.
    static func candidates() -> [URL] {
        var starts: [URL] = []
        let argument0 = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        starts.append(argument0.deletingLastPathComponent())
        starts.append(Bundle.main.bundleURL)
        starts.append(Bundle.main.executableURL?.deletingLastPathComponent() ?? Bundle.main.bundleURL)
        for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
            starts.append(bundle.bundleURL.deletingLastPathComponent())
        }
        var urls: [URL] = []
        if let explicit = ProcessInfo.processInfo.environment["SWIFTVMX_EXECUTABLE"], !explicit.isEmpty {
            urls.append(URL(fileURLWithPath: explicit))
        }
        for start in starts {
            var directory = start
            for _ in 0..<4 {
                urls.append(directory.appendingPathComponent(name))
                directory = directory.deletingLastPathComponent()
            }
        }
        return urls
    }

    /// The executable, or an error that lists every place searched.
    static func executable() throws -> URL {
        let all = candidates()
        for url in all {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: url.path) {
                return url
            }
        }
        throw CLIRunnerError(description: """
            the swiftvmx executable was not found next to the test bundle (build it with \
            `swift build --build-tests`, or set SWIFTVMX_EXECUTABLE); searched: \
            \(all.map(\.path).joined(separator: ", "))
            """)
    }

    /// Runs `swiftvmx arguments…` with standard input from /dev/null, terminating it after `timeout` seconds.
    /// With `addressSpaceLimitKiB` it runs under `/bin/sh -c 'ulimit -v N; exec swiftvmx …'`, so a large
    /// allocation fails at once, as on a host without that much memory, instead of using the host's RAM.
    static func run(_ arguments: [String], timeout: Double = 20, addressSpaceLimitKiB: Int? = nil) throws -> CLIResult {
        let swiftvmx = try executable()
        guard let limit = addressSpaceLimitKiB else { return try runProcess(swiftvmx, arguments, timeout: timeout) }
        return try runProcess(URL(fileURLWithPath: "/bin/sh"),
                              ["-c", "ulimit -v \(limit) && exec \"$0\" \"$@\"", swiftvmx.path] + arguments, timeout: timeout)
    }

    /// An executable found in `$PATH`, or nil.
    static func inPath(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let url = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// Runs `executable arguments…` with standard input from /dev/null, terminating it after `timeout` seconds.
    static func runProcess(_ executable: URL, _ arguments: [String], timeout: Double) throws -> CLIResult {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("swiftvmx-cli-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: outURL.path, contents: nil),
              FileManager.default.createFile(atPath: errURL.path, contents: nil) else {
            throw CLIRunnerError(description: "cannot create output files in \(directory.path)")
        }
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        let started = Date()
        try process.run()
        var timedOut = false
        while process.isRunning {
            if Date().timeIntervalSince(started) > timeout {
                timedOut = true
                process.terminate()                              // our own child, by its handle
                break
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        process.waitUntilExit()
        let seconds = Date().timeIntervalSince(started)
        try out.close()
        try err.close()
        let stdout = String(decoding: (try? Data(contentsOf: outURL)) ?? Data(), as: UTF8.self)
        let stderr = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self)
        return CLIResult(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                         timedOut: timedOut, standardOutput: stdout, standardError: stderr, seconds: seconds)
    }
}

/// A temporary directory removed when the value is released.
final class TemporaryDirectory {
    /// The directory.
    let url: URL

    /// Creates a fresh directory under the system's temporary directory.
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("swiftvmx-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `bytes` to `name` in the directory and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file.path
    }

    /// The path of `name` in the directory (not created).
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}
