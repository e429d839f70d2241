#if canImport(Glibc)
import Glibc
#endif
@testable import SandboxCore
import SandboxTestSupport

/// A private temporary directory tree for file-based tests, removed by `remove()`.
struct TempTree {
    let directory = TemporaryDirectory(prefix: "sandbox-profile-test")
    var root: String { directory.path }

    /// Writes `text` to root/relative, creating directories.
    @discardableResult
    func write(_ relative: String, _ text: String) -> String {
        directory.write(relative, text)
    }

    /// Makes the absolute `path` and its missing parents.
    func mkdirs(_ path: String) {
        var current = ""
        for part in path.split(separator: "/") {
            current += "/" + part
            mkdir(current, 0o755)
        }
    }

    func remove() {
        directory.remove()
    }

    /// A store whose search path is user > system > shipped under this tree,
    /// for user alice (uid/gid 1000) with 100000:65536 delegated.
    func store() -> ProfileStore {
        mkdirs(root + "/config/sandbox/profiles")
        mkdirs(root + "/etc/profiles")
        mkdirs(root + "/share/profiles")
        let paths = Paths(configDir: root + "/config/sandbox", dataDir: root + "/data", runtimeDir: root + "/run",
                          profileDirs: [root + "/config/sandbox/profiles", root + "/etc/profiles", root + "/share/profiles"])
        var store = ProfileStore(paths: paths, user: UserIdentity(uid: 1000, gid: 1000, name: "alice", home: "/home/alice"))
        store.subuidFile = write("etc/subuid", "alice:100000:65536\n")
        store.subgidFile = write("etc/subgid", "alice:100000:65536\n")
        return store
    }

    var userDir: String { "config/sandbox/profiles" }
    var systemDir: String { "etc/profiles" }
    var shippedDir: String { "share/profiles" }
}

extension ProfileStore {
    /// The errors `load` throws, or [] when it succeeds.
    func errors(loading name: String) -> [ProfileError] {
        do throws(ProfileErrors) {
            _ = try load(name)
            return []
        } catch {
            return error.errors
        }
    }
}
