// Writing the container's uid_map and gid_map. A map beyond the user's own id
// needs the setuid newuidmap/newgidmap (they check /etc/subuid); a single own-id
// map is written directly, after denying setgroups as the kernel requires.
import SandboxPlan
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
            guard HostFile.isSetuidRoot(st) else {
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
        let u = try helper(newuidmap, pid: pid, map: uidMap).start(passing: [])
        let g: HostCommand.Running
        do { g = try helper(newgidmap, pid: pid, map: gidMap).start(passing: []) } catch {
            _ = u.finish()
            throw error
        }
        let uResult = u.finish(), gResult = g.finish()
        if let e = failure(newuidmap, uResult) ?? failure(newgidmap, gResult) {
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
            guard fd >= 0 else { throw SandboxError.system("cannot open \(path)", errno: errno) }
            defer { close(fd) }
            let bytes = Array((text + "\n").utf8)
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard n == bytes.count else {
                throw SandboxError.system("cannot write \(path)", errno: errno)
            }
        }
    }

    /// newuidmap/newgidmap PID INSIDE OUTSIDE COUNT…, with only a PATH of ours.
    static func helper(_ tool: String, pid: Int32, map: [IDMapping]) -> HostCommand {
        var argv = [tool, String(pid)]
        for m in map { argv += [String(m.inside), String(m.outside), String(m.count)] }
        return HostCommand(argv, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
    }

    /// nil on success, else the helper's message.
    static func failure(_ tool: String, _ r: HostCommand.Result) -> String? {
        if r.succeeded { return nil }
        let trimmed = r.errorOutput.split(separator: "\n").joined(separator: "; ")
        return "\(tool) exited with status \(r.status)" + (trimmed.isEmpty ? "" : ": \(trimmed)")
    }
}
