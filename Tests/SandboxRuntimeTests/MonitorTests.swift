// The supervisor's hand-over to sandbox-monitor: the teardown record it passes
// to itself across two execve()s, and the control socket's admission rule both
// programs apply (gate.c). The monitor itself runs in
// Tests/Integration/supervisor.test.sh, in a real container.
import Testing
import CSandboxSpawn
import SandboxCore
import SandboxTestSupport
@testable import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

@Suite struct HandoverTests {
    static let sample = Handover(initPid: 4242, vethInterface: "sbx4242h", vethAddress: "10.0.3.7",
                                 startedUs: 0x1_2345_6789, plan: Array("SBXPLAN\u{7}…the plan".utf8))

    @Test func roundTrips() throws {
        #expect(try Handover.decode(Self.sample.encoded) == Self.sample)
        var bare = Self.sample
        bare.vethInterface = nil
        bare.vethAddress = nil
        bare.plan = []
        #expect(try Handover.decode(bare.encoded) == bare)
    }

    @Test func everyCutBeforeThePlanIsRefused() {
        let bytes = Self.sample.encoded
        let header = bytes.count - Self.sample.plan.count
        for n in 0..<header {
            #expect(throws: PlanDecodingError.self) { try Handover.decode(Array(bytes.prefix(n))) }
        }
    }

    @Test func aForeignOrNewerRecordIsRefused() {
        var bytes = Self.sample.encoded
        bytes[7] = 2   // version
        #expect(throws: PlanDecodingError.self) { try Handover.decode(bytes) }
        #expect(throws: PlanDecodingError.self) { try Handover.decode(Array("SBXPLAN\u{7}".utf8)) }
        var zeroPid = Self.sample
        zeroPid.initPid = 0
        #expect(throws: PlanDecodingError.self) { try Handover.decode(zeroPid.encoded) }
    }

    @Test func mutatedRecordsNeverCrashTheDecoder() {
        let base = Self.sample.encoded
        var rng = SplitMix(seed: 0x6d6f6e69)
        for _ in 0..<5_000 {
            var b = base
            let i = Int(rng.next() % UInt64(b.count))
            switch rng.next() % 3 {
            case 0: b[i] ^= UInt8(1 << (rng.next() % 8))
            case 1: b[i] = 0xff
            default: b.removeSubrange(i..<min(b.count, i + Int(rng.next() % 8)))
            }
            _ = try? Handover.decode(b)
        }
    }
}

@Suite struct ControlGateRuleTests {
    /// A listening socket, our handoff end and the init's end, as ControlGate makes them.
    struct Gate {
        let dir = TemporaryDirectory(prefix: "sandbox-gate-test")
        let listening: OwnedFD
        let handoff: OwnedFD
        let initEnd: OwnedFD
        init() throws {
            listening = try UnixSocket.listen(path: dir.appending("control.sock"), type: .seqpacket)
            _ = fcntl(listening.raw, F_SETFL, O_NONBLOCK)
            var pair: [Int32] = [-1, -1]
            try #require(sbx_socketpair_seqpacket_cloexec(&pair) == 0)
            handoff = OwnedFD(pair[0])
            initEnd = OwnedFD(pair[1])
        }
        func connect() throws -> OwnedFD {
            let fd = OwnedFD(sbx_socket_seqpacket_cloexec())
            let r = withUnixSocketAddress(dir.appending("control.sock")) { addr, len in Glibc.connect(fd.raw, addr, len) }
            try #require(r == 0)
            return fd
        }
        func admit() -> (Int, String) {
            var why = [CChar](repeating: 0, count: 256)
            let verdict = Int(sbx_gate_admit(listening.raw, handoff.raw, getuid(), &why, why.count))
            return (verdict, why.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
    }

    @Test func nothingPendingIsEmpty() throws {
        let gate = try Gate()
        defer { _ = gate.dir.remove() }
        #expect(gate.admit().0 == SBX_GATE_EMPTY)
    }

    /// This process: the same uid, our own pid namespace. The init's end gets the connection.
    @Test func theUsersOwnProcessIsAdmittedAndHandedToTheInit() throws {
        let gate = try Gate()
        defer { _ = gate.dir.remove() }
        let client = try gate.connect()
        #expect(gate.admit().0 == SBX_GATE_ADMITTED)
        #expect(gate.admit().0 == SBX_GATE_EMPTY)
        // What the init receives is a socket connected to our client.
        var byte: UInt8 = 0
        var iov = iovec(iov_base: withUnsafeMutablePointer(to: &byte) { UnsafeMutableRawPointer($0) }, iov_len: 1)
        var control = [UInt8](repeating: 0, count: 64)
        let n = control.withUnsafeMutableBytes { c in
            withUnsafeMutablePointer(to: &iov) { iovp in
                var msg = msghdr(msg_name: nil, msg_namelen: 0, msg_iov: iovp, msg_iovlen: 1,
                                 msg_control: c.baseAddress, msg_controllen: c.count, msg_flags: 0)
                return recvmsg(gate.initEnd.raw, &msg, 0)
            }
        }
        #expect(n == 1)
        // cmsghdr: len (8), level (4), type (4), then the fd.
        let passed = control.withUnsafeBytes { $0.load(fromByteOffset: 16, as: Int32.self) }
        let handed = OwnedFD(passed)
        #expect(write(handed.raw, "ok", 2) == 2)
        var got = [UInt8](repeating: 0, count: 8)
        #expect(read(client.raw, &got, got.count) == 2)
    }

    /// The init is gone (its end closed): the connection is admitted but not taken.
    @Test func aStoppingInitDoesNotTakeTheConnection() throws {
        let gate = try Gate()
        defer { _ = gate.dir.remove() }
        gate.initEnd.close()
        let client = try gate.connect()
        let (verdict, why) = gate.admit()
        #expect(verdict == SBX_GATE_UNTAKEN)
        #expect(why.contains("did not take"))
        // The client sees its connection closed, unread.
        var got = [UInt8](repeating: 0, count: 8)
        #expect(read(client.raw, &got, got.count) == 0)
    }
}
