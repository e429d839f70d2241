import Testing
import SandboxCore
@testable import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The one way sandbox starts host programs (swift-subprocess, and the posix_spawn
/// primitive for inherited descriptors), with real processes.
@Suite struct HostCommandTests {
    @Test func separateCaptureSplitsTheStreamsAndAnEnvironmentReplacesOurs() async throws {
        let r = try await HostCommand(["/bin/sh", "-c", "echo out; echo err >&2; env; kill -TERM $$"],
                                      environment: ["ONLY": "this"]).run(capture: .separate)
        #expect(r.status == 128 + SIGTERM)
        #expect(r.errorOutput == "err\n")
        let lines = r.output.split(separator: "\n")
        #expect(lines.first == "out")
        #expect(lines.contains("ONLY=this"))
        // Only what the shell sets itself besides ONLY (PWD, maybe SHLVL and _).
        #expect(!lines.contains { $0.hasPrefix("HOME=") || $0.hasPrefix("PATH=") }, "\(lines)")
    }

    @Test func combinedCaptureKeepsBothStreamsAndTheStatus() async throws {
        let r = try await HostCommand(["sh", "-c", "echo out; echo err >&2; exit 3"]).run(capture: .combined)
        #expect(r.status == 3)
        #expect(r.output == "out\nerr\n")
        await #expect(throws: SandboxError.self) { try await HostCommand(["/nonexistent/program"]).run(capture: .combined) }
    }

    @Test func aNameIsSearchedInPath() async throws {
        let r = try await HostCommand(["true"]).run(capture: .combined)
        #expect(r.succeeded)
    }

    /// A consumer that cannot start closes the pipe: the producer (which would write
    /// forever) gets EPIPE, and the call reports the consumer instead of hanging.
    @Test(.timeLimit(.minutes(1)))
    func aPipelineWhoseConsumerCannotStartDoesNotHang() async {
        let e = await #expect(throws: SandboxError.self) {
            _ = try await HostCommand.pipeline(HostCommand(["/usr/bin/yes"]), HostCommand(["/nonexistent/consumer"]))
        }
        #expect(e?.message.contains("/nonexistent/consumer") == true)
    }

    /// How the supervisor is started: its own session, fds 3 and 4 as given (in that
    /// order), stdout /dev/null, argv[0] as the caller spelled it.
    @Test func startDetachedGivesANewSessionAndTheDescriptorsInOrder() throws {
        let report = try makePipe()
        let marker = try makePipe()
        let script = "set -- $(cat /proc/$$/stat); echo \"$0 ${6} $$\" >&3; o=$(readlink /proc/$$/fd/1); echo \"$o\" >&3; "
            + "echo fd4 >&4; ls /proc/self/fd | sort -n | tr '\\n' ' ' >&3"
        let command = HostCommand(["sbx-name", "-c", script], executablePath: "/bin/sh")
        let pid = try command.startDetached(passing: [report.write.raw, marker.write.raw])
        report.write.close()
        marker.write.close()
        let lines = String(decoding: readAll(report.read.raw), as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(HostCommand.wait(pid) == 0)
        #expect(String(decoding: readAll(marker.read.raw), as: UTF8.self) == "fd4\n")
        let fields = lines.first?.split(separator: " ") ?? []
        #expect(fields.count == 3 && fields[0] == "sbx-name", "\(lines)")
        #expect(fields.count == 3 && fields[1] == fields[2], "the session id is the child's own pid: \(lines)")
        #expect(lines.count > 1 && lines[1] == "/dev/null", "\(lines)")
        // 0-4 and the fd `ls` opens for /proc/self/fd itself; nothing else of ours.
        #expect(lines.count > 2 && lines[2] == "0 1 2 3 4 5 ", "\(lines)")
    }

    @Test func thePrimitiveRefusesARelativeProgram() {
        #expect(throws: SandboxError.self) { try HostCommand(["sh", "-c", "true"]).run(passing: []) }
    }
}
