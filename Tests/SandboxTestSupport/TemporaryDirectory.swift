#if canImport(Glibc)
import Glibc
#endif
import SandboxPlan

/// A private directory (mkdtemp) under /tmp for a test's files and sockets.
/// `remove()` deletes it fd-relative with `TreeRemoval`, never following a
/// symlink a test (or the code under test) left inside, and without a shell.
public struct TemporaryDirectory: Sendable {
    public let path: String

    /// Makes /tmp/PREFIX.XXXXXX; a test that cannot get one cannot run.
    public init(prefix: String = "sandbox-test") {
        var template = Array("/tmp/\(prefix).XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp /tmp/\(prefix).XXXXXX: errno \(errno)")
        path = String(cString: made!)
    }

    /// A directory a test already made (with `init(prefix:)`), kept as a path
    /// string, to remove it.
    public init(adopting path: String) { self.path = path }

    /// `path` + "/" + `relative`.
    public func appending(_ relative: String) -> String { path + "/" + relative }

    /// Makes `relative` and its missing parents (mode 0755).
    @discardableResult
    public func makeDirectories(_ relative: String) -> String {
        var current = path
        for part in relative.split(separator: "/") {
            current += "/" + part
            mkdir(current, 0o755)
        }
        return current
    }

    /// Writes `text` to `relative` (mode `mode`), making its parent directories;
    /// returns the file's path.
    @discardableResult
    public func write(_ relative: String, _ text: String, mode: mode_t = 0o644) -> String {
        let parts = relative.split(separator: "/")
        if parts.count > 1 { makeDirectories(parts.dropLast().joined(separator: "/")) }
        let file = appending(relative)
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        precondition(fd >= 0, "cannot create \(file): errno \(errno)")
        defer { close(fd) }
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            precondition(n > 0 || errno == EINTR, "cannot write \(file): errno \(errno)")
            if n > 0 { done += n }
        }
        return file
    }

    /// Deletes the directory and everything in it; returns what could not be removed.
    @discardableResult
    public func remove() -> [TreeRemoval.Problem] {
        let slash = path.lastIndex(of: "/")!
        let parent = slash == path.startIndex ? "/" : String(path[..<slash])
        return TreeRemoval.remove(String(path[path.index(after: slash)...]), in: parent)
    }
}
