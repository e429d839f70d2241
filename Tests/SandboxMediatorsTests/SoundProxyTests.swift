import SandboxMediators
import SandboxSystem
import Testing
#if canImport(Glibc)
import Glibc
import SandboxTestSupport
#endif

/// The proxy between real unix sockets: an app end the test writes, and an
/// upstream end the test reads (what arrives there is what a sound server would
/// get). The protocol decisions are SoundPolicyTests'; these check the socket
/// work: credentials, refusals in the stream, descriptors, backpressure.
@Suite(.serialized) struct SoundProxyTests {
    final class Rig {
        let tmp: TemporaryDirectory
        var dir: String { tmp.path }
        let upstreamListener: Int32
        let proxy: SoundProxy
        init() throws {
            let tmp = TemporaryDirectory(prefix: "sandbox-soundproxy")
            let dir = tmp.path
            let l = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            _ = withUnixSocketAddress(dir + "/server") { bind(l, $0, $1) }
            listen(l, 4)
            self.tmp = tmp
            upstreamListener = l
            proxy = try SoundProxy(listeningAt: dir + "/native", upstream: "unix:" + dir + "/server", microphone: false)
        }
        deinit {
            proxy.shutdown()
            close(upstreamListener)
            tmp.remove()
        }

        /// An app connection to the proxy, accepted by it, and the upstream end it opened.
        func connectApp() -> (app: Int32, server: Int32) {
            let app = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            #expect(withUnixSocketAddress(dir + "/native") { connect(app, $0, $1) } == 0)
            pump(times: 3)
            let server = accept(upstreamListener, nil, nil)
            #expect(server >= 0)
            return (app, server)
        }

        /// Runs the proxy's side of the poll loop a few times.
        func pump(times: Int = 5, timeout: Int32 = 20) {
            for _ in 0..<times {
                var fds: [pollfd] = []
                proxy.interest { fds.append(pollfd(fd: $0, events: $1, revents: 0)) }
                _ = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
                for f in fds where f.revents != 0 { proxy.ready(fd: f.fd, revents: f.revents) }
            }
        }

        /// The descriptors the proxy would read now.
        func reading() -> Int {
            var n = 0
            proxy.interest { _, events in if events & Int16(POLLIN) != 0 { n += 1 } }
            return n
        }
    }

    static func readAvailable(_ fd: Int32) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n <= 0 { return out }
            out += buf[0..<n]
        }
    }

    static let auth = command(.auth, tag: 0) { $0.u32(35 | 0xC000_0000); $0.arbitrary([UInt8](repeating: 0, count: 256)) }

    @Test func authArrivesWithOurCredentialsAndWithoutSharedMemory() throws {
        let rig = try Rig()
        let (app, server) = rig.connectApp()
        defer { close(app); close(server) }
        // SO_PASSCRED (16) only now, after the proxy connected and maybe sent:
        // credentials must come with the AUTH anyway (they are sent explicitly).
        var on: Int32 = 1
        setsockopt(server, SOL_SOCKET, 16, &on, socklen_t(MemoryLayout<Int32>.size))
        let bytes = Self.auth.bytes
        #expect(send(app, bytes, bytes.count, 0) == bytes.count)
        rig.pump()
        var buf = [UInt8](repeating: 0, count: 4096)
        var control = [UInt64](repeating: 0, count: 8)
        let (n, controlLength): (Int, Int) = buf.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctl in
                var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var msg = msghdr()
                    msg.msg_iov = iovp
                    msg.msg_iovlen = 1
                    msg.msg_control = ctl.baseAddress
                    msg.msg_controllen = ctl.count
                    let n = recvmsg(server, &msg, Int32(MSG_DONTWAIT))
                    return (n, Int(msg.msg_controllen))
                }
            }
        }
        #expect(n == bytes.count)
        var framer = PulseFramer()
        framer.append(buf[0..<max(n, 0)])
        let forwarded = try #require(try framer.next())
        #expect(PulseWire.leadingU32s(forwarded.payload, count: 1) == [35])
        // cmsghdr: len 28, SOL_SOCKET, SCM_CREDENTIALS (2), then pid, uid, gid.
        #expect(controlLength >= 28)
        control.withUnsafeBytes { c in
            #expect(c.load(fromByteOffset: 12, as: Int32.self) == 2)
            #expect(c.load(fromByteOffset: 16, as: Int32.self) == getpid())
            #expect(c.load(fromByteOffset: 20, as: UInt32.self) == getuid())
        }
    }

    @Test func aRefusalComesBackBetweenWholeServerPackets() throws {
        let rig = try Rig()
        let (app, server) = rig.connectApp()
        defer { close(app); close(server) }
        let load = command(.loadModule, tag: 9) { $0.string("module-ladspa-sink"); $0.string("plugin=/x.so") }
        let request = Self.auth.bytes + load.bytes
        #expect(send(app, request, request.count, 0) == request.count)
        // The server answers AUTH in two pieces around the moment the refusal is made.
        let reply = command(.reply, tag: 0) { $0.u32(35) }.bytes
        #expect(send(server, Array(reply[0..<7]), 7, 0) == 7)
        rig.pump()
        #expect(send(server, Array(reply[7...]), reply.count - 7, 0) == reply.count - 7)
        rig.pump()
        var framer = PulseFramer()
        framer.append(Self.readAvailable(app))
        var got: [PulsePacket] = []
        while let p = try framer.next() { got.append(p) }
        #expect(got == [PulseWire.errorReply(tag: 9), command(.reply, tag: 0) { $0.u32(35) }])
        // Upstream saw the AUTH only.
        var up = PulseFramer()
        up.append(Self.readAvailable(server))
        #expect(try up.next().map { PulseWire.header($0.payload)?.command } == PulseCommand.auth.rawValue)
        #expect(try up.next() == nil)
    }

    @Test func passedDescriptorsCloseTheConnection() throws {
        let rig = try Rig()
        let (app, server) = rig.connectApp()
        defer { close(app); close(server) }
        var control = [UInt64](repeating: 0, count: 4)
        control.withUnsafeMutableBytes { c in
            c.storeBytes(of: UInt64(16 + 4), toByteOffset: 0, as: UInt64.self)
            c.storeBytes(of: SOL_SOCKET, toByteOffset: 8, as: Int32.self)
            c.storeBytes(of: Int32(SCM_RIGHTS), toByteOffset: 12, as: Int32.self)
            c.storeBytes(of: Int32(0), toByteOffset: 16, as: Int32.self)
        }
        var data = Self.auth.bytes
        let sent = data.withUnsafeMutableBytes { d in
            control.withUnsafeMutableBytes { ctl in
                var iov = iovec(iov_base: d.baseAddress, iov_len: d.count)
                return withUnsafeMutablePointer(to: &iov) { iovp in
                    var msg = msghdr()
                    msg.msg_iov = iovp
                    msg.msg_iovlen = 1
                    msg.msg_control = ctl.baseAddress
                    msg.msg_controllen = 24
                    return sendmsg(app, &msg, 0)
                }
            }
        }
        #expect(sent == data.count)
        rig.pump()
        #expect(rig.proxy.connectionCount == 0)
        var b: UInt8 = 0
        #expect(recv(app, &b, 1, 0) == 0)          // the app sees EOF
        #expect(Self.readAvailable(server).isEmpty)  // and nothing reached the server
    }

    @Test func aClientThatDoesNotReadStopsTheServerSideBeingRead() throws {
        let rig = try Rig()
        rig.proxy.highWater = 4096
        let (app, server) = rig.connectApp()
        defer { close(app); close(server) }
        var small: Int32 = 4096
        setsockopt(app, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        #expect(rig.reading() == 3)   // listener, app, server
        // 256 audio-sized packets from the server; the app reads none of them.
        let packet = PulsePacket(channel: 0, payload: [UInt8](repeating: 1, count: 4000)).bytes
        _ = fcntl(server, F_SETFL, fcntl(server, F_GETFL) | O_NONBLOCK)
        var written = 0
        for _ in 0..<256 {
            let n = send(server, packet, packet.count, Int32(MSG_DONTWAIT))
            if n > 0 { written += n }
            rig.pump(times: 1, timeout: 1)
        }
        rig.pump()
        #expect(written > 8 * packet.count)
        // Only the listener is still read: the proxy buffers a bounded amount.
        #expect(rig.reading() == 1)
        // Once the app reads, the relay goes on.
        _ = Self.readAvailable(app)
        rig.pump()
        #expect(rig.reading() == 3)
    }
}
