#if canImport(Glibc)
import Glibc
#endif
import Testing
import SandboxCore
@testable import SandboxDesktop

@Test func x11SocketNames() {
    #expect(X11Probe.localSocket(for: ":0") == "/tmp/.X11-unix/X0")
    #expect(X11Probe.localSocket(for: ":77.0") == "/tmp/.X11-unix/X77")
    #expect(X11Probe.localSocket(for: "unix:3") == "/tmp/.X11-unix/X3")
    #expect(X11Probe.localSocket(for: "host:0") == nil)
}

@Test func x11Assessment() {
    #expect(X11Probe.assess(.noDisplay).status == .warn)
    let dead = X11Probe.assess(.unreachable(display: ":9", socketPath: "/tmp/.X11-unix/X9", socketExists: false))
    #expect(dead.status == .fail)
    #expect(dead.finding.contains("no X server"))
    #expect(dead.hint != nil)
    let refused = X11Probe.assess(.unreachable(display: ":9", socketPath: "/tmp/.X11-unix/X9", socketExists: true))
    #expect(refused.hint?.contains("XAUTHORITY") == true)
}

@Test func x11NoServerOnAnUnusedDisplay() {
    // A display number nobody uses: the real libX11 must fail, not hang.
    if case .unreachable(let d, let socket, let exists) = X11Probe.probe(display: ":6789") {
        #expect(d == ":6789")
        #expect(socket == "/tmp/.X11-unix/X6789")
        #expect(!exists)
    } else {
        Issue.record("display :6789 should be unreachable")
    }
}

@Test func pulseOnPipeWireAndPulseAudioAreBothMediated() {
    let pw = PulseProbe.assess(.reachable(.init(name: "PulseAudio (on PipeWire 0.3.65)", version: "15.0.0", address: "/run/user/1/pulse/native")))
    #expect(pw.status == .ok)
    #expect(pw.finding.contains("sound mediator"))
    let pa = PulseProbe.assess(.reachable(.init(name: "pulseaudio", version: "16.1", address: "/run/user/1/pulse/native")))
    #expect(pa.status == .ok)
    #expect(pa.finding.contains("pulseaudio 16.1"))
    #expect(PulseProbe.assess(.unreachable("Connection refused")).finding.contains("unreachable"))
}

@Test func pulseWithNoServerReturnsWithinTheTimeout() {
    // PULSE_SERVER is read by libpulse; point it at a socket path nobody listens on.
    setenv("PULSE_SERVER", "unix:/nonexistent/sandbox-test/native", 1)
    defer { unsetenv("PULSE_SERVER") }
    if case .reachable = PulseProbe.probe(timeoutMilliseconds: 500) {
        Issue.record("no server should be reachable at a nonexistent socket")
    }
}
