import SandboxCore
import SandboxMediators
import Testing
@testable import SandboxRuntime
#if canImport(Glibc)
import Glibc
#endif

@Suite struct MediationTests {
    func plan(required: Bool) -> (LaunchPlan, X11Mediation) {
        let m = X11Mediation(display: 98, serverSocket: "/nonexistent/X98", proxySocket: "/nonexistent/x11.sock",
                             userXauthority: "/nonexistent/Xauthority", containerXauthority: "/nonexistent/Xauth",
                             trusted: false, required: required)
        var p = LaunchPlan(name: "t", hostname: "t")
        p.mounts = [
            .mkdir(path: "/tmp/.X11-unix", mode: 0o1777),
            .bind(source: m.proxySocket, target: "/tmp/.X11-unix/X98", readonly: true, recursive: false, optional: false),
            .bind(source: m.containerXauthority, target: "/run/user/1/Xauthority", readonly: true, recursive: false, optional: false),
            .bind(source: "/usr", target: "/usr", readonly: true, recursive: true, optional: false),
        ]
        p.x11 = m
        return (p, m)
    }

    @Test func unreachableDisplayWithoutRequiredStartsWithoutX() throws {
        var (p, _) = plan(required: false)
        let proxy = try X11Proxy.start(for: &p)
        #expect(proxy == nil)
        #expect(p.x11 == nil)
        #expect(p.mounts == [.mkdir(path: "/tmp/.X11-unix", mode: 0o1777),
                             .bind(source: "/usr", target: "/usr", readonly: true, recursive: true, optional: false)])
        #expect(p.notices.count == 1 && p.notices[0].contains("cannot open display :98") && p.notices[0].contains("starting without X"))
    }

    @Test func unreachableDisplayWhenRequiredFailsTheStart() {
        var (p, _) = plan(required: true)
        #expect(throws: SandboxError.self) { _ = try X11Proxy.start(for: &p) }
    }
}
