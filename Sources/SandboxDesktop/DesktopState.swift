import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// What the desktop plumbing changed outside the container, recorded in the
/// container's state dir ($XDG_RUNTIME_DIR/sandbox/NAME/desktop.state) so that
/// `stop` — from this process, another one, or the next start after a crash —
/// can undo exactly that and nothing else.
public struct DesktopState: Sendable, Equatable {
    /// The module-native-protocol-unix instance serving this container's socket.
    /// (An untrusted X cookie needs no record: the supervisor's X11 proxy holds it
    /// in use, and the server drops it seconds after the proxy is gone.)
    public var pulseModule: UInt32?

    public init() {}

    /// "pulse-module 23" lines; unknown lines (an older "x11-untrusted …") are ignored.
    public var text: String {
        var s = ""
        if let m = pulseModule { s += "pulse-module \(m)\n" }
        return s
    }

    public init(text: String) {
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            switch f.first {
            case "pulse-module" where f.count == 2:
                pulseModule = UInt32(f[1])
            default:
                continue
            }
        }
    }
}

/// Files in the container's state dir.
public struct DesktopFiles: Sendable, Equatable {
    public var stateDir: String
    public init(stateDir: String) { self.stateDir = stateDir }
    public var state: String { stateDir + "/desktop.state" }
    public var xauthority: String { stateDir + "/Xauthority" }
    /// The supervisor's X11 proxy listens here (bound at /tmp/.X11-unix/XN inside).
    public var x11ProxySocket: String { stateDir + "/x11.sock" }
    public var pulseDir: String { stateDir + "/pulse" }
    public var pulseSocket: String { pulseDir + "/native" }

    func readState() -> DesktopState {
        guard let text = HostFile.read(state) else { return DesktopState() }
        return DesktopState(text: text)
    }

    func writeState(_ s: DesktopState) throws(SandboxError) {
        try HostFile.writeAtomically(s.text, to: state, mode: 0o600)
    }
}

/// stat(2) facts the desktop plumbing checks (no Foundation on the launch path).
enum FileIO {
    static func fileType(_ path: String) -> mode_t? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return st.st_mode & S_IFMT
    }
}
