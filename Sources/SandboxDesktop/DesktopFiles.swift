import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// Files in the container's state dir.
public struct DesktopFiles: Sendable, Equatable {
    public var stateDir: String
    public init(stateDir: String) { self.stateDir = stateDir }
    /// Written by versions that loaded a sound module or minted an X cookie here; only removed now.
    public var state: String { stateDir + "/desktop.state" }
    public var xauthority: String { stateDir + "/Xauthority" }
    /// The supervisor's X11 proxy listens here (bound at /tmp/.X11-unix/XN inside).
    public var x11ProxySocket: String { stateDir + "/x11.sock" }
    public var pulseDir: String { stateDir + "/pulse" }
    public var pulseSocket: String { pulseDir + "/native" }
    public var pulseClientConf: String { pulseDir + "/client.conf" }
}

/// stat(2) facts the desktop plumbing checks (no Foundation on the launch path).
enum FileIO {
    static func fileType(_ path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & S_IFMT
    }
}
