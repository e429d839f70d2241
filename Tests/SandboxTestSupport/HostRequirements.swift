import SandboxSystem
#if canImport(Glibc)
import Glibc
#endif

/// What the kernel-dependent unit tests need from the machine, each checked once
/// by trying it or by the file the kernel exposes. Used in `.enabled(if:)` so that
/// `swift test` on a machine without it skips those tests and says why, rather
/// than failing somewhere inside a spawn. CI (root, Debian 12) and the
/// development machines have all of it: there every test runs.
public enum HostRequirements {
    /// User, pid and mount namespaces can be created by this process's user:
    /// `unshare --user --map-root-user --pid --mount --fork /bin/true` succeeds.
    public static let namespaces: Bool = run(["/usr/bin/unshare", "--user", "--map-root-user", "--pid", "--mount",
                                              "--fork", "/bin/true"]) == 0

    /// The kernel has seccomp filters (CONFIG_SECCOMP_FILTER): /proc/self/status has a
    /// Seccomp line and /proc/sys/kernel/seccomp/actions_avail lists what a filter returns.
    public static let seccompFilters: Bool = {
        guard let status = read("/proc/self/status"), status.contains("\nSeccomp:") else { return false }
        return read("/proc/sys/kernel/seccomp/actions_avail")?.contains("errno") == true
    }()

    /// A C compiler at /usr/bin/cc (the seccomp tests build Tests/Policy/seccomp-try.c).
    public static let cCompiler: Bool = access("/usr/bin/cc", X_OK) == 0

    /// Multi-range id maps can be written: the setuid newuidmap and newgidmap are
    /// installed, or /etc/subuid gives this user no range (then only its own ids are mapped).
    public static let idMapHelpers: Bool = {
        let ranges = (read("/etc/subuid") ?? "").split(separator: "\n").contains { line in
            let owner = line.split(separator: ":", omittingEmptySubsequences: false).first.map(String.init)
            return owner == userName || owner == String(getuid())
        }
        return !ranges || (isSetuidRoot("/usr/bin/newuidmap") && isSetuidRoot("/usr/bin/newgidmap"))
    }()

    /// What a container spawn needs: namespaces, seccomp filters, and the id-map helpers.
    public static var containers: Bool { namespaces && seccompFilters && idMapHelpers }

    // MARK: -

    private static var userName: String {
        guard let pw = getpwuid(getuid()), let name = pw.pointee.pw_name else { return "" }
        return String(cString: name)
    }

    private static func isSetuidRoot(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && st.st_uid == 0 && st.st_mode & S_ISUID != 0
    }

    private static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            bytes += buffer[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Runs `argv` with stdio on /dev/null; its exit status, or -1 when it could not run.
    private static func run(_ argv: [String]) -> Int32 {
        guard access(argv[0], X_OK) == 0 else { return -1 }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, argv[0], &actions, nil, &cArgs, environ) == 0 else { return -1 }
        var status: Int32 = 0
        guard retryingEINTR({ waitpid(pid, &status, 0) }) >= 0 else { return -1 }
        let decoded = WaitStatus(status)
        return decoded.exited ? decoded.shellStatus : -1
    }
}
