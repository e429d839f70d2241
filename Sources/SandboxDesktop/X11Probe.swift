#if canImport(Glibc)
import Glibc
#endif
import CX11
import SandboxCore

/// Whether the X display in DISPLAY can be opened, as the app inside the container would.
public enum X11Probe {
    /// What the server said when it answered.
    public struct ServerInfo: Sendable, Equatable {
        public var display: String
        public var width: Int32
        public var height: Int32
        public var vendor: String
        public var release: Int32
    }

    public enum Outcome: Sendable, Equatable {
        case noDisplay
        case reachable(ServerInfo)
        /// XOpenDisplay failed; `socketPath` is the local socket the display name points at, if any,
        /// and `socketExists` whether it is there (no socket: no server; socket: refused/unauthorized).
        case unreachable(display: String, socketPath: String?, socketExists: Bool)
    }

    /// Opens the display with libX11 (using XAUTHORITY like any client) and closes it again.
    public static func probe(display: String?) -> Outcome {
        guard let display, !display.isEmpty else { return .noDisplay }
        guard let dpy = XOpenDisplay(display) else {
            let socket = localSocket(for: display)
            return .unreachable(display: display, socketPath: socket, socketExists: socket.map { access($0, F_OK) == 0 } ?? false)
        }
        defer { XCloseDisplay(dpy) }
        let screen = XDefaultScreen(dpy)
        let vendor = XServerVendor(dpy).map { String(cString: $0) } ?? "unknown vendor"
        return .reachable(ServerInfo(display: display, width: XDisplayWidth(dpy, screen), height: XDisplayHeight(dpy, screen),
                                     vendor: vendor, release: XVendorRelease(dpy)))
    }

    /// ":N", ":N.S" and "unix:N" name the socket /tmp/.X11-unix/XN; host:N is TCP.
    public static func localSocket(for display: String) -> String? {
        var rest = Substring(display)
        if rest.hasPrefix("unix:") { rest = rest.dropFirst(5) } else if rest.hasPrefix(":") { rest = rest.dropFirst() } else { return nil }
        let number = rest.prefix { $0.isNumber }
        return number.isEmpty ? nil : "/tmp/.X11-unix/X\(number)"
    }

    public static func assess(_ outcome: Outcome) -> DoctorCheck {
        switch outcome {
        case .noDisplay:
            return DoctorCheck("x11", .warn, "DISPLAY is not set; profiles with x11.mode other than \"none\" cannot show windows",
                               hint: "run sandbox from your desktop session, or export DISPLAY=:0 (and XAUTHORITY) first")
        case .reachable(let s):
            return DoctorCheck("x11", .ok, "display \(s.display) reachable: screen \(s.width)x\(s.height), \(s.vendor) (release \(s.release))")
        case .unreachable(let d, let socket, let exists):
            if let socket, !exists {
                return DoctorCheck("x11", .fail, "cannot open display \(d): no X server (no socket \(socket))",
                                   hint: "start your X session, or point DISPLAY at the running one (ls /tmp/.X11-unix)")
            }
            return DoctorCheck("x11", .fail, "cannot open display \(d): the server refused the connection",
                               hint: "check XAUTHORITY names your cookie file (xauth list \(d)) or that the server is alive")
        }
    }
}
