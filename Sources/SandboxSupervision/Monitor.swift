// The supervisor's waiting form. Once the container runs, a supervisor with no
// mediator to drive (no sound, X11 or bus proxy) has three jobs left: hold the
// init's lifeline, admit launchers to the control socket, and notice the init's
// exit. A static Swift process costs ~6.5 MB of resident memory for that (its
// runtime's text alone is ~4.5 MB of it; Docs/benchmarks.md), so the supervisor
// becomes `sandbox-monitor` (C, helper/sandbox-monitor.c) by execve: the same
// pid — still the init's parent, still the pid in the state file — a fraction of
// the memory. When the init exits the monitor executes the supervisor again, the
// very binary it came from (an open descriptor of it, so an upgrade in between
// changes nothing), as `sandbox-supervisor --finish NAME`, which tears down from
// the record this file defines.
import Logging
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

/// What the supervisor hands to its own teardown across the monitor: the init's
/// pid, the veth lease to give back, when the container started (for the log),
/// and the encoded plan. Not the plan file in the state directory: once our init
/// has exited a new container of the same name may have replaced it.
public struct Handover: Equatable, Sendable {
    public var initPid: Int32
    /// The host side of a leased veth pair, and its address (for the log).
    public var vethInterface: String?
    public var vethAddress: String?
    /// CLOCK_MONOTONIC at the start, in microseconds.
    public var startedUs: UInt64
    public var plan: [UInt8]

    public init(initPid: Int32, vethInterface: String?, vethAddress: String?, startedUs: UInt64, plan: [UInt8]) {
        self.initPid = initPid
        self.vethInterface = vethInterface
        self.vethAddress = vethAddress
        self.startedUs = startedUs
        self.plan = plan
    }

    static let magic: [UInt8] = Array("SBXHAND".utf8)
    static let version: UInt8 = 1

    /// "SBXHAND" u8 version | init pid u32 | veth interface? | veth address? |
    /// started µs as two u32 (low, high) | the encoded plan, to the end.
    public var encoded: [UInt8] {
        var w = PlanCodec.Writer()
        w.bytes(Self.magic)
        w.u8(Self.version)
        w.u32(UInt32(bitPattern: initPid))
        w.optionalString(vethInterface)
        w.optionalString(vethAddress)
        w.u32(UInt32(truncatingIfNeeded: startedUs))
        w.u32(UInt32(truncatingIfNeeded: startedUs >> 32))
        w.bytes(plan)
        return w.out
    }

    public static func decode(_ bytes: [UInt8]) throws(PlanDecodingError) -> Handover {
        var r = PlanCodec.Reader(bytes: bytes)
        guard Array(try r.take(magic.count)) == magic else { throw r.error("not a teardown record") }
        let v = try r.u8()
        guard v == version else { throw r.error("version \(v), this build reads \(version)") }
        let pid = Int32(bitPattern: try r.u32())
        guard pid > 0 else { throw r.error("init pid \(pid)") }
        let interface = try r.optionalString()
        let address = try r.optionalString()
        let low = UInt64(try r.u32()), high = UInt64(try r.u32())
        let plan = Array(try r.take(bytes.count - r.offset))
        return Handover(initPid: pid, vethInterface: interface, vethAddress: address, startedUs: high << 32 | low, plan: plan)
    }
}

extension Supervisor {
    /// How long a container runs before its supervisor becomes the monitor. The
    /// hand-over and the teardown's second execve cost about a millisecond of CPU
    /// together; a container that lives less than this (a script's `sandbox run
    /// APP -- CMD`) does not pay them, while one that runs for minutes sheds its
    /// memory after half a second.
    static let handOverAfterMilliseconds = 500

    /// `sandbox-monitor`, installed beside the supervisor (PREFIX/libexec/sandbox,
    /// or the build directory).
    static func monitorPath() -> String? {
        let path = HostFile.dirname(Paths.executablePath()) + "/sandbox-monitor"
        return access(path, X_OK) == 0 ? path : nil
    }

    /// Becomes the monitor: returns only when that could not happen (no monitor
    /// installed, execve failed), with every descriptor as it was, and the Swift
    /// loop goes on serving the gate instead.
    func handOver(container: ContainerProcess, gate: ControlGate, network: NetworkSetUp, clock: Stopwatch) {
        let name = plan.name
        guard let monitor = Self.monitorPath() else {
            log.debug("\(name): no sandbox-monitor beside the supervisor; the supervisor keeps waiting itself")
            return
        }
        let record = Handover(initPid: container.pid, vethInterface: network.held?.hostInterface,
                              vethAddress: network.held?.address, startedUs: clock.startMicroseconds, plan: encoded)
        let selfExe = OwnedFD(open("/proc/self/exe", O_RDONLY | O_CLOEXEC))
        let recordFile: OwnedFD
        do { recordFile = try makeMemoryFile("sandbox-teardown", holding: record.encoded) } catch {
            log.info("\(name): cannot hand over to sandbox-monitor (\(error)); the supervisor keeps waiting itself")
            return
        }
        guard selfExe.raw >= 0 else {
            log.info("\(name): cannot open /proc/self/exe (\(errnoText(errno))); the supervisor keeps waiting itself")
            return
        }
        // The monitor's refusals go where ours would (info and above, -o only: our
        // stderr is /dev/null by now).
        let logFD = LogSetup.openInfoFile()
        let passed = [container.pidfd.raw, gate.descriptors.listening, gate.descriptors.handoff,
                      container.lifeline.raw, selfExe.raw, recordFile.raw]
        // `sandbox-monitor NAME` is what ps shows; the descriptors go in the environment.
        log.debug("\(name): becoming sandbox-monitor after \(clock.elapsed)")
        if logFD >= 0 { dup2(logFD, 2) }
        let failure = becomeProgram(monitor, argv: ["sandbox-monitor", name], keeping: passed,
                                    environment: [("SANDBOX_MONITOR_FDS", passed.map(String.init).joined(separator: " "))])
        // Still here: put stderr back and wait in Swift.
        if logFD >= 0 {
            let null = open("/dev/null", O_RDWR | O_CLOEXEC)
            if null >= 0 { dup2(null, 2); close(null) }
            close(logFD)
        }
        log.info("\(name): cannot execute \(monitor) (\(errnoText(failure))); the supervisor keeps waiting itself")
    }

    /// `sandbox-supervisor --finish NAME`, executed by the monitor when the init
    /// has exited: the same teardown as a supervisor that waited itself.
    public func finish(_ record: Handover) -> Int32 {
        let network = NetworkSetUp(attachment: spec.network, name: plan.name)
        if let interface = record.vethInterface {
            network.held = (hostInterface: interface, address: record.vethAddress ?? "?")
        }
        tearDown(initPid: record.initPid, network: network, clock: Stopwatch(startMicroseconds: record.startedUs))
        return 0
    }
}
