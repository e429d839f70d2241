#if canImport(Glibc)
import Glibc
#endif
import Testing
import SandboxCore
import SandboxMediators
@testable import SandboxDesktop
import SandboxTestSupport

@Test func x11Assessment() {
    #expect(X11Probe.assess(.noDisplay).status == .warn)
    let dead = X11Probe.assess(.unreachable(display: ":9", socketPath: "/tmp/.X11-unix/X9", socketExists: false))
    #expect(dead.status == .fail)
    #expect(dead.finding.contains("no X server"))
    #expect(dead.hint != nil)
    let refused = X11Probe.assess(.unreachable(display: ":9", socketPath: "/tmp/.X11-unix/X9", socketExists: true))
    #expect(refused.hint?.contains("XAUTHORITY") == true)
    // The connection's own words, when it has them (the server's reason, a timeout).
    let reason = X11Probe.assess(.unreachable(display: ":9", socketPath: "/tmp/.X11-unix/X9", socketExists: true,
                                              reason: "cannot open display :9: the X server refused the connection: Invalid MIT-MAGIC-COOKIE-1 key"))
    #expect(reason.status == .fail)
    #expect(reason.finding.hasSuffix("Invalid MIT-MAGIC-COOKIE-1 key"))
}

@Test func x11NetworkDisplayIsUnusable() {
    // A container has no route to a TCP display (ssh -X's localhost:10.0): say so, do not connect.
    let outcome = X11Probe.probe(display: "localhost:10.0", xauthority: "/nonexistent")
    guard case .unusable(let d, let why) = outcome else { Issue.record("\(outcome)"); return }
    #expect(d == "localhost:10.0")
    #expect(why.contains("network display"))
    #expect(X11Probe.assess(outcome).status == .fail)
}

@Test func x11NoServerOnAnUnusedDisplay() {
    // A display number nobody uses: the probe must fail, not hang.
    if case .unreachable(let d, let socket, let exists, _) = X11Probe.probe(display: ":6789", xauthority: "/nonexistent") {
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
    let env = ["PULSE_SERVER": "unix:/nonexistent/sandbox-test/native"]
    guard case .unreachable(let why) = PulseProbe.probe(environment: env, home: "/nonexistent", timeoutMilliseconds: 500) else {
        Issue.record("no server should be reachable at a nonexistent socket"); return
    }
    #expect(why == "cannot connect to /nonexistent/sandbox-test/native: no such file or directory")
}

@Test func pulseOverTCPIsNotProbed() {
    guard case .unreachable(let why) = PulseProbe.probe(environment: ["PULSE_SERVER": "tcp:localhost:4713"], home: "/nonexistent") else {
        Issue.record("a TCP server was probed"); return
    }
    #expect(why.contains("not a local unix socket"))
}

@Test func pulseCookieComesFromWhereLibpulseLooks() throws {
    let tmp = TemporaryDirectory(prefix: "sandbox-pulse-cookie")
    defer { tmp.remove() }
    let home = tmp.path
    // None: zeros (the server then decides by our credentials).
    #expect(PulseProbe.cookie(environment: [:], home: home) == [UInt8](repeating: 0, count: 256))
    mkdir(home + "/.config", 0o700); mkdir(home + "/.config/pulse", 0o700)
    try HostFile.writeAtomically(Array(repeating: 7, count: 256), to: home + "/.config/pulse/cookie", mode: 0o600)
    #expect(PulseProbe.cookie(environment: [:], home: home) == [UInt8](repeating: 7, count: 256))
    try HostFile.writeAtomically(Array(repeating: 9, count: 256), to: home + "/explicit", mode: 0o600)
    #expect(PulseProbe.cookie(environment: ["PULSE_COOKIE": home + "/explicit"], home: home) == [UInt8](repeating: 9, count: 256))
    // A short file is no cookie.
    try HostFile.writeAtomically([1, 2, 3], to: home + "/explicit", mode: 0o600)
    #expect(PulseProbe.cookie(environment: ["PULSE_COOKIE": home + "/explicit"], home: home) == [UInt8](repeating: 7, count: 256))
}
