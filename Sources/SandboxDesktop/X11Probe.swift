#if canImport(Glibc)
import Glibc
#endif
import SandboxCore
import SandboxMediators

/// Whether the X display in DISPLAY can be opened, as the app inside the
/// container would: through the display's socket file, presenting the user's
/// cookie, in pure Swift over the X11 protocol (SandboxMediators), no libX11.
public enum X11Probe {
    /// What the server said when it answered.
    public struct ServerInfo: Sendable, Equatable {
        public var display: String
        public var width: Int
        public var height: Int
        public var vendor: String
        public var release: UInt32

        public init(display: String, width: Int, height: Int, vendor: String, release: UInt32) {
            self.display = display
            self.width = width
            self.height = height
            self.vendor = vendor
            self.release = release
        }
    }

    public enum Outcome: Sendable, Equatable {
        case noDisplay
        case reachable(ServerInfo)
        /// A DISPLAY a container cannot use at all (a TCP display, a bad name).
        case unusable(display: String, why: String)
        /// The connection or its set-up failed; `socketPath` is the local socket the
        /// display name points at, `socketExists` whether it is there (no socket: no
        /// server; socket: refused, unauthorized or hung — `reason` says which).
        case unreachable(display: String, socketPath: String?, socketExists: Bool, reason: String? = nil)
    }

    /// Connects to the display's socket with the cookie a client of this host
    /// would present (from `xauthority`), reads the set-up reply and closes.
    /// A server that accepts and never answers is given `timeout` seconds.
    public static func probe(display: String?, xauthority: String, timeout: Double = 5) -> Outcome {
        guard let display, !display.isEmpty else { return .noDisplay }
        let parsed: X11Display
        do { parsed = try X11Display.parse(display) } catch { return .unusable(display: display, why: error.message) }
        let socket = parsed.socketPath
        guard FileIO.fileType(socket) == S_IFSOCK else {
            return .unreachable(display: display, socketPath: socket, socketExists: access(socket, F_OK) == 0)
        }
        do throws(SandboxError) {
            let cookie = XauthSelection.cookie(from: try Xauthority.read(xauthority), display: parsed.number,
                                               hostname: DesktopSetUp.hostname())
            let connection = try X11ServerConnection.open(socket: socket, displayName: display, cookie: cookie,
                                                          deadline: Deadline(seconds: timeout))
            defer { connection.close() }
            guard let setup = connection.setup, let screen = setup.screens.first else {
                return .unreachable(display: display, socketPath: socket, socketExists: true,
                                    reason: "the server's set-up reply is malformed (\(connection.setupReply.count) bytes)")
            }
            return .reachable(ServerInfo(display: display, width: Int(screen.width), height: Int(screen.height),
                                         vendor: setup.vendor.isEmpty ? "unknown vendor" : setup.vendor, release: setup.release))
        } catch {
            return .unreachable(display: display, socketPath: socket, socketExists: true, reason: error.message)
        }
    }

    public static func assess(_ outcome: Outcome) -> DoctorCheck {
        switch outcome {
        case .noDisplay:
            return DoctorCheck("x11", .warn, "DISPLAY is not set; profiles with x11.mode other than \"none\" cannot show windows",
                               hint: "run sandbox from your desktop session, or export DISPLAY=:0 (and XAUTHORITY) first")
        case .reachable(let s):
            return DoctorCheck("x11", .ok, "display \(s.display) reachable: screen \(s.width)x\(s.height), \(s.vendor) (release \(s.release))")
        case .unusable(let d, let why):
            return DoctorCheck("x11", .fail, "cannot use display \(d): \(why)",
                               hint: "use a local display such as DISPLAY=:0, or set x11.mode = \"none\" in profiles")
        case .unreachable(let d, let socket, let exists, let reason):
            if let socket, !exists {
                return DoctorCheck("x11", .fail, "cannot open display \(d): no X server (no socket \(socket))",
                                   hint: "start your X session, or point DISPLAY at the running one (ls /tmp/.X11-unix)")
            }
            // The connection's own message starts "cannot open display D: …".
            let finding = reason ?? "cannot open display \(d): the server refused the connection"
            return DoctorCheck("x11", .fail, finding,
                               hint: "check XAUTHORITY names your cookie file (xauth list \(d)) or that the server is alive")
        }
    }
}
