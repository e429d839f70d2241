// The few file operations profile loading needs, on Glibc directly: profile
// loading is on the launch path, where Foundation would cost start-up time.
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

enum ProfileFiles {
    /// The whole file as UTF-8 text, or the errno that stopped us. Profiles are
    /// small: past 1 MiB it is clearly not one.
    static func readText(_ path: String) -> Result<String, Errno> {
        HostFile.readBytes(path, limit: 1 << 20).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Names in a directory (no . and ..), sorted; nil when it cannot be opened.
    static func list(_ dir: String) -> [String]? {
        guard let d = opendir(dir) else { return nil }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Why someone other than `uid` (or root) could change `path`, or nil.
    /// Like ssh's StrictModes: a profile decides what runs as the user, so the
    /// file and its directory must be owned by the user or root and not
    /// writable by others (group-writable only for the user's own primary group).
    static func writableByOthers(_ path: String, uid: UInt32, gid: UInt32) -> String? {
        for (what, p) in [("file", path), ("directory", HostFile.dirname(path))] {
            var st = stat()
            guard stat(p, &st) == 0 else { continue }
            let mode = UInt32(st.st_mode) & 0o7777
            if st.st_uid != uid && st.st_uid != 0 {
                return "its \(what) \(p) is owned by uid \(st.st_uid), not by you (\(uid)) or root"
            }
            if mode & 0o002 != 0 {
                return "its \(what) \(p) is writable by every user (mode \(String(mode, radix: 8)))"
            }
            if mode & 0o020 != 0 && st.st_gid != gid {
                return "its \(what) \(p) is writable by group \(st.st_gid) (mode \(String(mode, radix: 8)))"
            }
        }
        return nil
    }

    static func isRegularFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    /// The canonical path (symlinks resolved), or the path itself when it cannot be resolved.
    static func canonical(_ path: String) -> String {
        guard let p = realpath(path, nil) else { return path }
        defer { free(p) }
        return String(cString: p)
    }
}
