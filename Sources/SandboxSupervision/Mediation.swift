// The mediators a plan asks for, built by the supervisor from the plan's data.
// The X11 proxy is made BEFORE the spawn (the container's mounts bind its socket
// and the Xauthority it writes) and driven by the supervisor's PollLoop after it.
import Logging
import SandboxMediators
import SandboxPlan

extension X11Proxy {
    /// The X11 proxy for `plan.x11`: cookie minted, container Xauthority
    /// written, socket listening. Without x11.required a failure is a notice
    /// and the container starts without X: the planner made the proxy's binds
    /// optional then, so the spawn skips their missing sources.
    package static func start(for plan: LaunchPlan) throws(SandboxError) -> (proxy: X11Proxy?, notice: String?) {
        guard let m = plan.x11 else { return (nil, nil) }
        let name = plan.name
        let clock = Stopwatch()
        do throws(SandboxError) {
            guard !m.trusted else {
                throw SandboxError("the X11 proxy only mediates untrusted clients; trusted mode binds the server's socket")
            }
            let proxy = try X11Proxy(Configuration(display: m.display, serverSocket: m.serverSocket, proxySocket: m.proxySocket,
                                                   userXauthority: m.userXauthority, containerXauthority: m.containerXauthority))
            proxy.report = { line in log.debug("\(name): \(line)") }
            log.debug("\(name): x11: proxy on \(m.proxySocket) for :\(m.display), untrusted cookie \(proxy.authorizationID) minted in \(clock.elapsed)")
            return (proxy, nil)
        } catch {
            guard !m.required else { throw error }
            log.info("\(name): x11: \(error.message); starting without X")
            return (nil, "x11: \(error.message); starting without X")
        }
    }
}
