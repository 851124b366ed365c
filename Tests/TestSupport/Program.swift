import Foundation

/// What a program run to completion left behind.
public struct ProgramResult: Sendable {
    public var status: Int32
    public var output: Data
    public var errorOutput: Data

    public var errorText: String { String(decoding: errorOutput, as: UTF8.self) }
}

/// Runs `arguments` (looked up on PATH) to completion, feeding it `input`.
///
/// Tests share Swift concurrency's pool, which has one thread per core: a
/// test that blocks one in `waitUntilExit` or `readDataToEndOfFile` stalls
/// every other test's tasks on a 2-core machine, until their deadlines pass.
/// Here the output goes to files and the exit arrives through
/// `terminationHandler`, so no pool thread waits.
public func runProgram(_ arguments: [String], input: URL? = nil) async throws -> ProgramResult {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vb-program-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outputFile = directory.appendingPathComponent("stdout"), errorFile = directory.appendingPathComponent("stderr")
    FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    FileManager.default.createFile(atPath: errorFile.path, contents: nil)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardInput = try input.map { try FileHandle(forReadingFrom: $0) } ?? FileHandle.nullDevice
    process.standardOutput = try FileHandle(forWritingTo: outputFile)
    process.standardError = try FileHandle(forWritingTo: errorFile)
    let status: Int32 = try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
            try process.run()
        } catch {
            process.terminationHandler = nil
            continuation.resume(throwing: error)
        }
    }
    return ProgramResult(status: status, output: try Data(contentsOf: outputFile), errorOutput: try Data(contentsOf: errorFile))
}
