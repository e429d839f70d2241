// Removing the desktop files in a container's state directory. It needs nothing
// but the directory, so whoever finds them (a stop, the next start, the
// plumbing command `_desktop stop`) can remove them, as often as it likes.
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

/// Undoes what the state dir records. Used by stop(), and by start() to clean up
/// after a launcher that died without stopping.
public struct DesktopTeardown: Sendable {
    public var stateDir: String
    public var hostEnvironment: [String: String]
    public init(stateDir: String, hostEnvironment: [String: String]) {
        self.stateDir = stateDir
        self.hostEnvironment = hostEnvironment
    }

    /// Returns what it did or could not do, for the log.
    @discardableResult
    public func run() -> [String] {
        let files = DesktopFiles(stateDir: stateDir)
        unlink(files.xauthority)
        unlink(files.x11ProxySocket)
        unlink(files.pulseSocket)
        unlink(files.pulseClientConf)
        rmdir(files.pulseDir)
        unlink(files.state)   // left by versions that recorded a loaded module or a minted cookie
        return []
    }
}
