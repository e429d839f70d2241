// The mediators a plan asks for, built by the supervisor from the plan's data.
// Each is made BEFORE the spawn when the plan binds something it creates (the
// X11 proxy's socket and Xauthority), and driven by the supervisor's PollLoop
// after it.
import Logging
import SandboxCore
import SandboxMediators

extension X11Proxy {
    /// The X11 proxy for `plan.x11`: cookie minted, container Xauthority
    /// written, socket listening. Without x11.required a failure becomes a
    /// notice and the container starts without X (its binds leave the plan).
    public static func start(for plan: inout LaunchPlan) throws -> X11Proxy? {
        guard let m = plan.x11 else { return nil }
        let name = plan.name
        let clock = Stopwatch()
        do {
            guard !m.trusted else {
                throw MediatorError("the X11 proxy only mediates untrusted clients; trusted mode binds the server's socket")
            }
            let proxy = try X11Proxy(Configuration(display: m.display, serverSocket: m.serverSocket, proxySocket: m.proxySocket,
                                                   userXauthority: m.userXauthority, containerXauthority: m.containerXauthority))
            proxy.report = { line in log.debug("\(name): \(line)") }
            log.debug("\(name): x11: proxy on \(m.proxySocket) for :\(m.display), untrusted cookie \(proxy.authorizationID) minted in \(clock.elapsed)")
            return proxy
        } catch let error as MediatorError {
            guard !m.required else { throw SandboxError(error.message, hint: error.hint) }
            log.info("\(name): x11: \(error.message); starting without X")
            plan.notices.append("x11: \(error.message); starting without X")
            plan.mounts.removeAll {
                if case .bind(let source, _, _, _, _) = $0 { return source == m.proxySocket || source == m.containerXauthority }
                return false
            }
            plan.x11 = nil
            return nil
        }
    }
}
