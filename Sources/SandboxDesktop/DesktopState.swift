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
    public var pulseModule: UInt32?
    /// An untrusted X cookie: the display, its id, and the X socket's inode, which
    /// tells whether the server that issued it is still the one listening.
    public var x11Cookie: (display: UInt32, id: UInt, socketInode: UInt64)?

    public init() {}

    public static func == (a: DesktopState, b: DesktopState) -> Bool {
        a.pulseModule == b.pulseModule
            && a.x11Cookie?.display == b.x11Cookie?.display && a.x11Cookie?.id == b.x11Cookie?.id
            && a.x11Cookie?.socketInode == b.x11Cookie?.socketInode
    }

    /// "pulse-module 23" / "x11-untrusted 0 4194305 123456" lines; unknown lines are ignored.
    public var text: String {
        var s = ""
        if let m = pulseModule { s += "pulse-module \(m)\n" }
        if let c = x11Cookie { s += "x11-untrusted \(c.display) \(c.id) \(c.socketInode)\n" }
        return s
    }

    public init(text: String) {
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ")
            switch f.first {
            case "pulse-module" where f.count == 2:
                pulseModule = UInt32(f[1])
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

    func readState() -> DesktopState {
        guard let text = FileIO.read(state) else { return DesktopState() }
        return DesktopState(text: text)
    }

    func writeState(_ s: DesktopState) throws(SandboxError) {
        try FileIO.writeAtomically(s.text, to: state, mode: 0o600)
    }
}

/// Tiny file helpers on Glibc (no Foundation on the launch path).
enum FileIO {
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buf.prefix(n)
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func writeAtomically(_ text: String, to path: String, mode: mode_t) throws(SandboxError) {
        let temp = path + ".tmp"
        unlink(temp)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw SandboxError("cannot write \(temp): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            off += n
        }
        let ok = off == bytes.count && fsync(fd) == 0
        close(fd)
        guard ok, rename(temp, path) == 0 else {
            let e = errno
            unlink(temp)
            throw SandboxError("cannot write \(path): \(String(cString: strerror(e)))")
        }
    }

    /// mkdir -p with `mode` for the directories it creates.
    static func makeDirectories(_ path: String, mode: mode_t) throws(SandboxError) {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            if mkdir(prefix, mode) != 0 && errno != EEXIST {
                throw SandboxError("cannot create \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }

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
