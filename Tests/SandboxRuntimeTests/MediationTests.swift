import SandboxCore
import SandboxMediators
import SandboxSupervision
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's X11 proxy start from the plan's data, against a display
/// that is not there (no X server involved).
@Suite struct MediationTests {
    func plan(required: Bool) -> LaunchPlan {
        var p = LaunchPlan(name: "t", hostname: "t")
        p.x11 = X11Mediation(display: 98, serverSocket: "/nonexistent/X98", proxySocket: "/nonexistent/x11.sock",
                             userXauthority: "/nonexistent/Xauthority", containerXauthority: "/nonexistent/Xauth",
                             trusted: false, required: required)
        return p
    }

    @Test func unreachableDisplayWithoutRequiredIsANotice() throws {
        let (proxy, notice) = try X11Proxy.start(for: plan(required: false))
        #expect(proxy == nil)
        #expect(notice?.contains("cannot open display :98") == true)
        #expect(notice?.contains("starting without X") == true)
    }

    @Test func unreachableDisplayWhenRequiredFailsTheStart() {
        #expect(throws: SandboxError.self) { _ = try X11Proxy.start(for: plan(required: true)) }
    }

    @Test func noMediationNoProxy() throws {
        let (proxy, notice) = try X11Proxy.start(for: LaunchPlan(name: "t", hostname: "t"))
        #expect(proxy == nil && notice == nil)
    }
}
