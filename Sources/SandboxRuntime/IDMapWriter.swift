// Writing the container's uid_map and gid_map. A map beyond the user's own id
// needs the setuid newuidmap/newgidmap (they check /etc/subuid); a single own-id
// map is written directly, after denying setgroups as the kernel requires.
import SandboxCore
#if canImport(Glibc)
import Glibc
#endif

public enum IDMapWriter {
    public static let newuidmap = "/usr/bin/newuidmap"
    public static let newgidmap = "/usr/bin/newgidmap"

    /// True when the maps are just the caller's own uid and gid (no helper needed).
    public static func isOwnIDsOnly(uidMap: [IDMapping], gidMap: [IDMapping], uid: UInt32, gid: UInt32) -> Bool {
        uidMap == [IDMapping(inside: uid, outside: uid, count: 1)] && gidMap == [IDMapping(inside: gid, outside: gid, count: 1)]
    }

    /// Checks newuidmap/newgidmap exist and are setuid root; the error says how to fix it.
    public static func checkHelpers() throws(SandboxError) {
        for tool in [newuidmap, newgidmap] {
            var st = stat()
            guard stat(tool, &st) == 0 else {
                throw SandboxError("\(tool) is missing: it is needed to map the container's ids from /etc/subuid and /etc/subgid",
                                   hint: "install it (Debian/Ubuntu: apt install uidmap), or set [idmap] passthrough = false for a single-id container")
            }
            guard st.st_uid == 0, st.st_mode & S_ISUID != 0 else {
                throw SandboxError("\(tool) is not setuid root (mode \(String(st.st_mode & 0o7777, radix: 8)), owner \(st.st_uid)): it cannot write the id maps",
                                   hint: "as root: chown root:root \(tool) && chmod 4755 \(tool) (or reinstall the uidmap package)")
            }
        }
    }

    /// Writes both maps for `pid`: the setuid helpers in parallel, or directly for own ids only.
    public static func write(pid: Int32, uidMap: [IDMapping], gidMap: [IDMapping], uid: UInt32, gid: UInt32) throws(SandboxError) {
        if isOwnIDsOnly(uidMap: uidMap, gidMap: gidMap, uid: uid, gid: gid) {
            try writeDirectly(pid: pid, uidMap: uidMap, gidMap: gidMap)
            return
        }
        try checkHelpers()
        let u = try startHelper(newuidmap, pid: pid, map: uidMap)
        let g = try startHelper(newgidmap, pid: pid, map: gidMap)
        let uErr = finish(u), gErr = finish(g)
        if let e = uErr ?? gErr {
            throw SandboxError("writing the container's id maps failed: \(e)",
                               hint: "check the ranges for this user in /etc/subuid and /etc/subgid (sandbox doctor)")
        }
    }

    static func writeDirectly(pid: Int32, uidMap: [IDMapping], gidMap: [IDMapping]) throws(SandboxError) {
        // The kernel refuses an unprivileged gid_map while setgroups is allowed.
        for (file, text) in [("setgroups", "deny"), ("uid_map", uidMap.map(\.description).joined(separator: "\n")),
                             ("gid_map", gidMap.map(\.description).joined(separator: "\n"))] {
            let path = "/proc/\(pid)/\(file)"
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SandboxError("cannot open \(path): \(errnoText(errno))") }
            defer { close(fd) }
            let bytes = Array((text + "\n").utf8)
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n == bytes.count else {
                throw SandboxError("cannot write \(path): \(errnoText(errno))")
            }
        }
    }

    struct RunningHelper {
        var tool: String
        var pid: pid_t
        var stderr: OwnedFD
    }

    static func startHelper(_ tool: String, pid: Int32, map: [IDMapping]) throws(SandboxError) -> RunningHelper {
        var args = [tool, String(pid)]
        for m in map { args += [String(m.inside), String(m.outside), String(m.count)] }
        let errPipe: (read: OwnedFD, write: OwnedFD)
        do { errPipe = try makePipe() } catch { throw SandboxError("\(tool): \(error)") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, errPipe.write.raw, 2)
        let cargs = args.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        let env: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin"), nil]
        defer { env.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, tool, &actions, nil, cargs, env)
        errPipe.write.close()
        guard rc == 0 else { throw SandboxError("cannot run \(tool): \(errnoText(rc))") }
        return RunningHelper(tool: tool, pid: child, stderr: errPipe.read)
    }

    /// Waits for a helper; nil on success, else its message.
    static func finish(_ h: RunningHelper) -> String? {
        let output = String(decoding: readAll(h.stderr.raw, limit: 4096), as: UTF8.self)
        var status: Int32 = 0
        while waitpid(h.pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        if exited && ((status >> 8) & 0xff) == 0 { return nil }
        let trimmed = output.split(separator: "\n").joined(separator: "; ")
        return "\(h.tool) exited with status \((status >> 8) & 0xff)" + (trimmed.isEmpty ? "" : ": \(trimmed)")
    }
}
