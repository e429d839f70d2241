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
        readBytes(path).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A profile's bytes, at most 1 MiB (a profile is a few kilobytes).
    static func readBytes(_ path: String) -> Result<[UInt8], Errno> {
        HostFile.readBytes(path, limit: 1 << 20)
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
