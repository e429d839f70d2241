import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// What the desktop plumbing changed outside the container, recorded in the
/// container's state dir ($XDG_RUNTIME_DIR/sandbox/NAME/desktop.state) so that
/// `stop` — from this process, another one, or the next start after a crash —
/// can undo exactly that and nothing else.
public struct DesktopState: Sendable, Equatable {
    /// An untrusted X cookie: the display, its id, and the X socket's inode, which
    /// tells whether the server that issued it is still the one listening.
    public var x11Cookie: (display: UInt32, id: UInt, socketInode: UInt64)?

    public init() {}

    public static func == (a: DesktopState, b: DesktopState) -> Bool {
        a.x11Cookie?.display == b.x11Cookie?.display && a.x11Cookie?.id == b.x11Cookie?.id
            && a.x11Cookie?.socketInode == b.x11Cookie?.socketInode
    }

    /// "x11-untrusted 0 4194305 123456" lines; unknown lines (an older version's
    /// "pulse-module 23") are ignored.
    public var text: String {
        var s = ""
        if let c = x11Cookie { s += "x11-untrusted \(c.display) \(c.id) \(c.socketInode)\n" }
        return s
    }

    public init(text: String) {
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            switch f.first {
            case "x11-untrusted" where f.count == 4:
                if let d = UInt32(f[1]), let id = UInt(f[2]), let ino = UInt64(f[3]) { x11Cookie = (d, id, ino) }
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
    public var pulseDir: String { stateDir + "/pulse" }
    public var pulseSocket: String { pulseDir + "/native" }
    public var pulseClientConf: String { pulseDir + "/client.conf" }

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

    static func inode(_ path: String) -> UInt64? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return UInt64(st.st_ino)
    }
}
