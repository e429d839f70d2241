import Testing
@testable import SandboxMediators
#if canImport(Glibc)
import Glibc
import SandboxTestSupport
#endif

/// The proxy's start against servers that are not there or do not answer:
/// real sockets, no X server involved (integration tests use a real Xvfb).
@Suite struct X11ProxySetupTests {
    func configuration(_ dir: String, server: String) -> X11Proxy.Configuration {
        X11Proxy.Configuration(display: 99, serverSocket: server, proxySocket: dir + "/x11.sock",
                               userXauthority: dir + "/no-such-xauthority", containerXauthority: dir + "/Xauthority")
    }

    @Test func noServerIsAClearErrorAndLeavesNothingBehind() {
        let tmp = TemporaryDirectory(prefix: "sandbox-x11proxy-test")
        let dir = tmp.path
        defer { tmp.remove() }
        do {
            _ = try X11Proxy(configuration(dir, server: dir + "/X99"), timeout: 1)
            Issue.record("started without a server")
        } catch {
            #expect(error.message.contains("cannot open display :99"))
            #expect(error.message.contains("is X running? is DISPLAY right?"))
            #expect(error.hint?.contains("x11.mode = \"none\"") == true)
        }
        #expect(access(dir + "/x11.sock", F_OK) != 0 && access(dir + "/Xauthority", F_OK) != 0)
    }

    @Test func aServerThatNeverAnswersTimesOut() throws {
        let tmp = TemporaryDirectory(prefix: "sandbox-x11proxy-test")
        let dir = tmp.path
        let server = dir + "/X99"
        defer { tmp.remove() }
        // Listening, never accepting: the kernel completes the connection and the
        // set-up request sits unread, like a stopped X server.
        let fd = try MediatorSocket.listen(server, mode: 0o600)
        defer { close(fd) }
        let start = Deadline.now()
        do {
            _ = try X11Proxy(configuration(dir, server: server), timeout: 0.3)
            Issue.record("started against a silent server")
        } catch {
            #expect(error.message.contains("did not answer in time"))
        }
        let elapsed = Double(Deadline.now() - start) / 1e9
        #expect(elapsed >= 0.25 && elapsed < 3)
    }

    @Test func aServerThatHangsUpIsAnError() throws {
        let tmp = TemporaryDirectory(prefix: "sandbox-x11proxy-test")
        let dir = tmp.path
        let server = dir + "/X99"
        defer { tmp.remove() }
        let fd = try MediatorSocket.listen(server, mode: 0o600)
        let peer = Thread {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            _ = poll(&pfd, 1, 2000)
            let c = accept(fd, nil, nil)
            if c >= 0 { close(c) }   // hang up without a word
        }
        defer { peer.join(); close(fd) }
        do {
            _ = try X11Proxy(configuration(dir, server: server), timeout: 2)
            Issue.record("started against a server that hung up")
        } catch {
            #expect(error.message.contains("closed the connection"))
        }
    }
}
