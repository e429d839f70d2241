// HostCommand off the launch path: swift-subprocess (the type and its
// posix_spawn primitive live in SandboxSupervision; see its header).
import CSandboxSpawn
import SandboxCore
import SandboxSupervision
import Subprocess
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

extension HostCommand {
    /// Collected output beyond this is an error rather than memory without bound.
    static let outputLimit = 4 << 20

    /// Runs the program to its end with stdin from /dev/null.
    public func run(capture: Capture) async throws(SandboxError) -> Result {
        do {
            switch capture {
            case .combined:
                let r = try await Subprocess.run(executable, arguments: arguments, environment: subprocessEnvironment,
                                                 output: .string(limit: Self.outputLimit), error: .combinedWithOutput)
                return Result(status: Self.status(r.terminationStatus), output: r.standardOutput, errorOutput: "")
            case .separate:
                let r = try await Subprocess.run(executable, arguments: arguments, environment: subprocessEnvironment,
                                                 output: .string(limit: Self.outputLimit), error: .string(limit: Self.outputLimit))
                return Result(status: Self.status(r.terminationStatus), output: r.standardOutput,
                              errorOutput: r.standardError)
            }
        } catch {
            throw Self.failure(program, error)
        }
    }

    /// `producer | consumer`: the producer's stdout feeds the consumer's stdin; both
    /// stderrs and the consumer's stdout are ours. Returns both exit statuses (producer, consumer).
    public static func pipeline(_ producer: HostCommand, _ consumer: HostCommand) async throws(SandboxError) -> (Int32, Int32) {
        let pipe = try makePipe()
        // swift-subprocess closes each end once its process is spawned (or failed to
        // spawn): a consumer that never started gives the producer EPIPE, a producer
        // that never started gives the consumer EOF.
        let writeEnd = FileDescriptor(rawValue: pipe.write.release())
        let readEnd = FileDescriptor(rawValue: pipe.read.release())
        async let produced = producer.status(input: .none, output: .fileDescriptor(writeEnd, closeAfterSpawningProcess: true))
        async let consumed = consumer.status(input: .fileDescriptor(readEnd, closeAfterSpawningProcess: true),
                                             output: .currentStandardOutput)
        // Both are awaited before either error is thrown, so no child outlives the call.
        let (a, b) = await (produced, consumed)
        return (try a.get(), try b.get())
    }

    /// Runs to the end with stderr ours; the exit status.
    func status<Input: InputProtocol, Output: OutputProtocol>(input: Input, output: Output) async -> Swift.Result<Int32, SandboxError> {
        do {
            let r = try await Subprocess.run(executable, arguments: arguments, environment: subprocessEnvironment,
                                             input: input, output: output, error: .currentStandardError)
            return .success(Self.status(r.terminationStatus))
        } catch {
            return .failure(Self.failure(program, error))
        }
    }


    var executable: Executable {
        program.contains("/") ? .path(FilePath(program)) : .name(program)
    }

    var arguments: Arguments {
        guard executablePath != nil, let name = argv.first else { return Arguments(Array(argv.dropFirst())) }
        return Arguments(executablePathOverride: name, remainingValues: Array(argv.dropFirst()))
    }

    var subprocessEnvironment: Subprocess.Environment {
        guard let environment else { return .inherit }
        var custom: [Subprocess.Environment.Key: String] = [:]
        for (k, v) in environment {
            if let key = Subprocess.Environment.Key(rawValue: k) { custom[key] = v }
        }
        return .custom(custom)
    }

    static func status(_ s: TerminationStatus) -> Int32 {
        switch s {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }

    static func failure(_ program: String, _ error: any Error) -> SandboxError {
        if let e = error as? SubprocessError, let underlying = e.underlyingError {
            return SandboxError.system("cannot run \(program)", errno: underlying.rawValue)
        }
        return SandboxError.wrapping(error, "cannot run \(program)")
    }
}
