#if canImport(Glibc)
import Glibc
#endif
import SandboxRuntime
import SandboxCore
import SandboxTestSupport
import Testing

/// The supervisor's reports to its launcher: typed records, a failure with its
/// parts (what, errno, cause, hint) rather than a line of text.
@Suite struct StatusRecordTests {
    static let samples: [StatusRecord] = [
        .notice("dbus: no session bus; the app starts without one"),
        .failure(SandboxError.system("cannot bind /run/user/1000/sandbox/x/control.sock", errno: EADDRINUSE,
                                     hint: "is another supervisor running?")),
        .failure(SandboxError.wrapping(SandboxError("newuidmap exited with status 1"), "writing the container's id maps")),
        .failure(SandboxError("plain")),
        .ready(pid: 4242),
    ]

    @Test func recordsComeBackAsTheyWereSent() {
        let bytes = Self.samples.flatMap(\.encoded)
        let back = StatusRecord.decodeAll(bytes)
        #expect(back == Self.samples)
        guard case .failure(let e) = back[1] else { Issue.record("not a failure: \(back[1])"); return }
        #expect(e.errno == EADDRINUSE)
        #expect(e.message.hasSuffix(": address already in use"))
    }

    /// Cut or damaged streams end in one failure record; nothing traps or hangs.
    @Test func damagedStreamsEndInAFailure() {
        let bytes = Self.samples.flatMap(\.encoded)
        for cut in 0..<bytes.count {
            let records = StatusRecord.decodeAll(Array(bytes.prefix(cut)))
            #expect(records.count <= Self.samples.count)
        }
        var rng = SplitMix(seed: 0x5EED_5747)
        for _ in 0..<3_000 {
            var damaged = bytes
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                damaged[Int.random(in: 0..<damaged.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            let records = StatusRecord.decodeAll(damaged)
            #expect(records.count <= damaged.count)
        }
    }
}
