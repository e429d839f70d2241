// What `sandbox doctor` reads from the X and sound servers, parsed from real
// bytes: the set-up replies were captured from Xvfb 21.1 (two screens,
// 1280x1024x24 and 640x480x16; one connection per byte order), the
// PulseAudio replies from pulseaudio 16.1 and pipewire-pulse 0.3.65 (Debian
// 12) answering AUTH, SET_CLIENT_NAME and GET_SERVER_INFO. Then every cut
// and a seeded run of mutations: a hostile reply is nil, never a crash.
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SandboxMediators
import SandboxTestSupport

func fixture(_ name: String, file: String = #filePath) -> [UInt8] {
    let dir = String(file[..<file.lastIndex(of: "/")!])
    let fd = open(dir + "/Fixtures/" + name, O_RDONLY | O_CLOEXEC)
    precondition(fd >= 0, "missing fixture \(name)")
    defer { close(fd) }
    var bytes: [UInt8] = [], chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n <= 0 { return bytes }
        bytes += chunk[0..<n]
    }
}

func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = [], chars = Array(s.utf8)[...]
    while chars.count >= 2 {
        out.append(UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16)!)
        chars = chars.dropFirst(2)
    }
    return out
}


@Suite struct X11SetupReplyTests {
    static let lsb = fixture("xvfb-setup-reply-lsb.bin")
    static let msb = fixture("xvfb-setup-reply-msb.bin")
    /// Xvfb's answer to a wrong MIT-MAGIC-COOKIE-1 (status 0, reason length 30, 11.0, 8 units).
    static let refused = hex("001e0b0000000800496e76616c6964204d49542d4d414749432d434f4f4b49452d31206b65790000")

    @Test func readsVendorReleaseAndScreensInBothByteOrders() throws {
        for (bytes, order) in [(Self.lsb, X11ByteOrder.lsbFirst), (Self.msb, .msbFirst)] {
            let reply = try #require(X11SetupReply(bytes, order: order))
            #expect(reply.majorVersion == 11 && reply.minorVersion == 0)
            #expect(reply.vendor == "The X.Org Foundation")
            #expect(reply.release == 12_101_007)
            #expect(reply.screens.map { [Int($0.width), Int($0.height), Int($0.rootDepth)] } == [[1280, 1024, 24], [640, 480, 16]])
            #expect(reply.screens[0].widthMillimeters > 0)
        }
    }

    @Test func theWrongByteOrderIsNotReadAsAReply() {
        #expect(X11SetupReply(Self.lsb, order: .msbFirst) == nil)
    }

    @Test func aRefusalIsNoReplyButItsReasonIsRead() throws {
        #expect(X11SetupReply(Self.refused, order: .lsbFirst) == nil)
        let prefix = try #require(X11SetupReplyPrefix(Self.refused, order: .lsbFirst))
        #expect(prefix.status == .failed)
        #expect(prefix.additionalLength == Self.refused.count - 8)
        #expect(String(decoding: Self.refused[8..<8 + prefix.reasonLength], as: UTF8.self) == "Invalid MIT-MAGIC-COOKIE-1 key")
    }

    /// Every cut, announcing the length of what is left: the lengths inside
    /// (vendor, formats, screens, depths, visuals) must each be checked.
    @Test func everyCutIsNilOrConsistent() {
        for cut in stride(from: 0, through: Self.lsb.count, by: 4) {
            var b = Array(Self.lsb[0..<cut])
            if b.count >= 8 {
                let units = UInt16((b.count - 8) / 4)
                b[6] = UInt8(units & 0xff); b[7] = UInt8(units >> 8)
            }
            if let r = X11SetupReply(b, order: .lsbFirst) {
                // Only a cut after the last screen's last visual is whole.
                #expect(cut == Self.lsb.count)
                #expect(r.screens.count == 2)
            }
        }
    }

    @Test func hostileCountsAndLengthsAreNil() {
        var b = Self.lsb
        b[28] = 255                       // 255 screens announced, 2 there
        #expect(X11SetupReply(b, order: .lsbFirst) == nil)
        b = Self.lsb
        b[24] = 0xff; b[25] = 0xff        // a 64 KiB vendor
        #expect(X11SetupReply(b, order: .lsbFirst) == nil)
        b = Self.lsb
        // The first screen is at 40 + 20 (vendor) + 6 × 8 (formats) = 108; its
        // first depth at 148: 65535 visuals there run past the end.
        #expect(b[108 + 38] == 24 && b[148] == 24)
        b[150] = 0xff; b[151] = 0xff
        #expect(X11SetupReply(b, order: .lsbFirst) == nil)
        b = Self.lsb
        b[6] = 0xff; b[7] = 0xff          // longer than what arrived
        #expect(X11SetupReply(b, order: .lsbFirst) == nil)
        b = Self.lsb
        b[6] = 0; b[7] = 0                // shorter than the fixed part
        #expect(X11SetupReply(b, order: .lsbFirst) == nil)
        #expect(X11SetupReply([], order: .lsbFirst) == nil)
        #expect(X11SetupReply([UInt8](repeating: 1, count: 39), order: .lsbFirst) == nil)
    }

    @Test func mutatedRepliesNeverCrash() {
        var rng = XorShift64Star(seed: 0x5eed_0f_0d0c)
        var parsed = 0
        for _ in 0..<3000 {
            var b = Self.lsb
            // Mostly the header and the first screen, where the counts are.
            for _ in 0..<(1 + rng.below(4)) {
                let at = rng.below(4) == 0 ? rng.below(b.count) : rng.below(min(b.count, 200))
                b[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.below(3) == 0 { b = Array(b[0..<rng.below(b.count)]) }
            if let r = X11SetupReply(b, order: .lsbFirst) {
                parsed += 1
                #expect(r.screens.count <= 255)
            }
        }
        #expect(parsed > 0)
    }
}

@Suite struct PulseServerInfoTests {
    static let pulseaudioInfo = hex("4c000000024c000000027470756c7365617564696f007431362e31007473626e780074766d006103020000ac447469746e756c6c007469746e756c6c2e6d6f6e69746f72004ce004d28d6d020102")
    static let pipewireInfo = hex("4c000000024c000000027450756c7365417564696f20286f6e20506970655769726520302e332e363529007431352e302e30007473626e780074766d006105020000bb80746175746f5f6e756c6c00746175746f5f6e756c6c2e6d6f6e69746f72004ca5ab26f06d020102")
    /// AUTH's REPLY (tag 0, protocol version 35, no SHM flag) and the ERROR a
    /// server sends a client of another uid without its cookie (Access denied).
    static let authReply = hex("4c000000024c000000004c00000023")
    static let authRefused = hex("4c000000004c000000004c00000001")

    @Test func readsPulseAudiosAndPipeWiresAnswers() throws {
        let pa = try #require(PulseServerInfo(reply: Self.pulseaudioInfo))
        #expect(pa == PulseServerInfo(name: "pulseaudio", version: "16.1", userName: "sbnx", hostName: "vm",
                                      defaultSink: "itnull", defaultSource: "itnull.monitor"))
        let pw = try #require(PulseServerInfo(reply: Self.pipewireInfo))
        #expect(pw.name == "PulseAudio (on PipeWire 0.3.65)")
        #expect(pw.version == "15.0.0")
        #expect(pw.defaultSink == "auto_null")
    }

    @Test func otherRepliesAreNotServerInfo() {
        #expect(PulseServerInfo(reply: Self.authReply) == nil)
        #expect(PulseServerInfo(reply: Self.authRefused) == nil)
        #expect(PulseServerInfo(reply: []) == nil)
        #expect(PulseWire.header(Self.authRefused)?.command == PulseCommand.error.rawValue)
        #expect(PulseWire.leadingU32s(Self.authRefused, count: 1) == [PulseWire.errAccess])
        #expect(PulseWire.errorText(PulseWire.errAccess) == "Access denied")
        #expect(PulseWire.errorText(PulseWire.errProtocol) == "Protocol error")
        #expect(PulseWire.errorText(9999) == "error 9999")
    }

    @Test func everyCutBeforeTheDefaultSourceIsNil() {
        for reply in [Self.pulseaudioInfo, Self.pipewireInfo] {
            let sourceEnd = reply.count - 9   // cookie 'L'+4 and channel map 'm'+1+2 follow
            for cut in 0..<reply.count {
                let r = PulseServerInfo(reply: Array(reply[0..<cut]))
                #expect((r != nil) == (cut >= sourceEnd), "cut at \(cut)")
            }
        }
    }

    @Test func mutatedRepliesNeverCrash() {
        var rng = XorShift64Star(seed: 0xa0d10)
        for _ in 0..<5000 {
            var b = rng.below(2) == 0 ? Self.pulseaudioInfo : Self.pipewireInfo
            for _ in 0..<(1 + rng.below(3)) { b[rng.below(b.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = PulseServerInfo(reply: b)
        }
    }
}

/// PulseClient's failures against real sockets that are not a sound server.
@Suite struct PulseClientFailureTests {
    @Test func noServerIsAConnectError() {
        #expect(throws: PulseClientError.connect(socket: "/nonexistent/sandbox-test/native", errno: ENOENT)) {
            try PulseClient.serverInfo(socket: "/nonexistent/sandbox-test/native", cookie: [], clientName: "t", timeoutMilliseconds: 500)
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() throws {
        let tmp = TemporaryDirectory(prefix: "sandbox-pulse-test")
        defer { tmp.remove() }
        let path = tmp.appending("native")
        let listener = try MediatorSocket.listen(path, mode: 0o600)
        defer { close(listener) }
        let start = Deadline.now()
        #expect(throws: PulseClientError.timedOut(step: "AUTH")) {
            try PulseClient.serverInfo(socket: path, cookie: [], clientName: "t", timeoutMilliseconds: 300)
        }
        #expect(Deadline.now() - start < 3_000_000_000)
    }
}
