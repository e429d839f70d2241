// sandbox-supervisor: the one process that lives as long as a container.
// Started by the launcher (`sandbox run/exec/start`), never by hand:
//   fd 3  the encoded SupervisorPlan (read to EOF; empty: the launcher gave up)
//   fd 4  status records back to the launcher (notices, ready, failure)
//   fd 5  the launcher's first client connection (absent for a persistent start)
// or, as `sandbox-supervisor --finish NAME`, by the monitor it became
// (Monitor.swift) once the init has exited:
//   fd 3  the teardown record (Handover)
// It links no CLI parser, TOML reader, libpulse or libX11: the launcher planned
// everything; this only carries the plan out (Docs/architecture.md).
import Logging
import SandboxPlan
import SandboxSupervision
#if canImport(Glibc)
import Glibc
#endif

let planFD: Int32 = 3, statusFD: Int32 = 4, clientFD: Int32 = 5

/// An error on stderr in the one message shape, then exit.
func complain(_ message: String, status: Int32 = 1) -> Never {
    let text = Console.format(.error, message, program: "sandbox-supervisor") + "\n"
    _ = try? HostFile.writeAll(2, Array(text.utf8))
    exit(status)
}

/// A start's failure: a record for the launcher that waits on fd 4, and stderr.
func fail(_ message: String) -> Never {
    _ = try? HostFile.writeAll(statusFD, StatusRecord.failure(SandboxError(message)).encoded)
    complain(message)
}

/// fd 3 to its end (a plan's bound, plus one read: longer is the decoder's error), then closed; nil on a read error.
func readFD3(limit: Int) -> [UInt8]? {
    defer { close(planFD) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while bytes.count <= limit {
        let n = chunk.withUnsafeMutableBytes { buf in retryingEINTR { read(planFD, buf.baseAddress, buf.count) } }
        if n < 0 { return nil }
        if n == 0 { break }
        bytes += chunk.prefix(n)
    }
    return bytes
}

/// Everything in a function: top-level globals of main.swift are initialised in
/// an order the optimiser may not respect across a `do`/`catch` (a decoded plan
/// read through such a global crashed in swift_retain).
func supervise() -> Never {
    // Only the launcher starts us: without its descriptors there is nothing to do.
    guard fcntl(planFD, F_GETFD) >= 0, fcntl(statusFD, F_GETFD) >= 0 else {
        complain("started by `sandbox run`, `exec` and `start`; it is not run by hand", status: 2)
    }
    guard let bytes = readFD3(limit: PlanCodec.maxPlan) else { fail("cannot read the plan: \(errnoText(errno))") }
    // No plan at all: the launcher starts us before it plans (so our start-up
    // overlaps its planning) and closes the pipe empty when planning fails.
    // Nothing was started; there is nothing to report.
    if bytes.isEmpty { exit(0) }
    let spec: SupervisorPlan
    do { spec = try PlanCodec.decode(bytes) } catch { fail("\(error) (is the launcher from the same installation?)") }
    for fd in [statusFD, spec.persistent ? -1 : clientFD] where fd >= 0 {
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)   // none of our children inherits them
    }
    do {
        try LogSetup.bootstrap(level: Logger.Level(rawValue: spec.logLevel) ?? .notice, file: spec.logFile)
    } catch {
        fail("\(error)")
    }
    let supervisor = Supervisor(spec: spec, encoded: bytes)
    exit(supervisor.run(statusFD: statusFD, firstClientFD: spec.persistent ? -1 : clientFD))
}

/// The teardown, executed by sandbox-monitor. Nobody waits for a status here:
/// errors go to stderr, which is the log file (-o) or /dev/null.
func finish() -> Never {
    guard fcntl(planFD, F_GETFD) >= 0 else { complain("--finish is run by sandbox-monitor; it is not run by hand") }
    guard let bytes = readFD3(limit: PlanCodec.maxPlan + 4096) else { complain("cannot read the teardown record: \(errnoText(errno))") }
    let record: Handover, spec: SupervisorPlan
    do {
        record = try Handover.decode(bytes)
        spec = try PlanCodec.decode(record.plan)
    } catch {
        complain("a damaged teardown record: \(error)")
    }
    do { try LogSetup.bootstrap(level: Logger.Level(rawValue: spec.logLevel) ?? .notice, file: spec.logFile) } catch { complain("\(error)") }
    exit(Supervisor(spec: spec, encoded: record.plan).finish(record))
}

if CommandLine.arguments.count == 3 && CommandLine.arguments[1] == "--finish" { finish() }
supervise()
