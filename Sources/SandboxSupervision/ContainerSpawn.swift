// LaunchPlan → the C spawn request → a running container init.
//
// Order: clone3 (C) → hooks with the child's pid (network set-up) → id maps
// (newuidmap/newgidmap) → release the child → it mounts, pivots and reports
// ready (EOF) or {stage, errno, index}, which becomes a message naming the
// step (ChildFailure.swift).
import CSandboxSpawn
import Logging
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

/// A started container: its init's pid (host view), a pidfd, and the lifeline
/// whose closing (this process exiting, even by SIGKILL) stops the container.
public final class ContainerProcess: @unchecked Sendable {
    public let pid: Int32
    public let pidfd: OwnedFD
    let lifeline: OwnedFD
    init(pid: Int32, pidfd: OwnedFD, lifeline: OwnedFD) {
        self.pid = pid
        self.pidfd = pidfd
        self.lifeline = lifeline
    }
    /// /proc/PID/ns/net etc. of the container, for helpers that must act inside.
    public func namespacePath(_ ns: String) -> String { "/proc/\(pid)/ns/\(ns)" }
}

/// What the supervisor runs between the clone and the child's release.
public struct ContainerHooks: Sendable {
    /// After clone, before the id maps are written and the child is released:
    /// the child exists with all its namespaces but has run nothing. The network
    /// set-up gets the netns here (ContainerProcess.namespacePath("net")).
    public var beforeRelease: @Sendable (ContainerProcess, LaunchPlan) throws -> Void = { _, _ in }
    public init() {}
}

public enum ContainerSpawner {
    /// Starts the container's init. `listenFD` is the control socket; `firstClientFD`
    /// (or -1) a connection already counted as a client; `persistent` keeps the container
    /// when no client is left (`sandbox start`).
    public static func spawn(plan: LaunchPlan, listenFD: Int32, firstClientFD: Int32, persistent: Bool,
                             hooks: ContainerHooks = ContainerHooks()) throws -> ContainerProcess {
        guard plan.seccompFilter.count % 8 == 0, plan.seccompFilter.count / 8 <= 4096 else {
            throw SandboxError("internal error: the seccomp filter is \(plan.seccompFilter.count) bytes, not a sock_filter array")
        }
        let sync = try makePipe()
        let errors = try makePipe()
        let lifeline = try makePipe()

        let strings = CStrings()
        defer { strings.free() }
        func c(_ s: String?) -> UnsafePointer<CChar>? { UnsafePointer(strings.copy(s)) }
        var ops: [sbx_mount_op] = []
        for op in plan.mounts {
            var o = sbx_mount_op()
            switch op {
            case let .bind(source, target, readonly, recursive, optional):
                o.kind = Int32(SBX_MOUNT_BIND.rawValue); o.source = c(source); o.target = c(target)
                o.readonly = readonly ? 1 : 0; o.recursive = recursive ? 1 : 0; o.optional = optional ? 1 : 0
            case let .device(source, target, optional):
                o.kind = Int32(SBX_MOUNT_DEVICE.rawValue); o.source = c(source); o.target = c(target)
                o.optional = optional ? 1 : 0
            case let .tmpfs(target, options):
                o.kind = Int32(SBX_MOUNT_TMPFS.rawValue); o.target = c(target); o.data = c(options)
            case let .proc(target):
                o.kind = Int32(SBX_MOUNT_PROC.rawValue); o.target = c(target)
            case let .devpts(target):
                o.kind = Int32(SBX_MOUNT_DEVPTS.rawValue); o.target = c(target)
            case let .mkdir(path, mode):
                o.kind = Int32(SBX_MOUNT_MKDIR.rawValue); o.target = c(path); o.mode = mode
            case let .symlink(target, path):
                o.kind = Int32(SBX_MOUNT_SYMLINK.rawValue); o.target = c(path); o.data = c(target)
            case let .file(path, contents, mode):
                o.kind = Int32(SBX_MOUNT_FILE.rawValue); o.target = c(path); o.data = c(contents)
                o.data_len = contents.utf8.count; o.mode = mode
            case let .userBind(source, target, optional):
                o.kind = Int32(SBX_MOUNT_BIND.rawValue); o.source = c(source); o.target = c(target)
                o.optional = optional ? 1 : 0; o.as_user = 1
            case let .remountReadonly(target):
                o.kind = Int32(SBX_MOUNT_REMOUNT_RO.rawValue); o.target = c(target)
            }
            ops.append(o)
        }
        let groups = plan.supplementaryGroups
        let rootMapped = plan.uidMap.contains { $0.inside == 0 } && plan.gidMap.contains { $0.inside == 0 }

        var pidfd: Int32 = -1
        let pid: pid_t = ops.withUnsafeBufferPointer { opsBuf in
            plan.seccompFilter.withUnsafeBufferPointer { filter in
                groups.withUnsafeBufferPointer { groupBuf in
                    var req = sbx_spawn_request()
                    req.namespaces = plan.namespaces.rawValue
                    req.hostname = c(plan.hostname)
                    req.mounts = opsBuf.baseAddress
                    req.mount_count = opsBuf.count
                    req.seccomp_filter = filter.baseAddress
                    req.seccomp_len = filter.count
                    req.groups = groupBuf.baseAddress
                    req.group_count = groupBuf.count
                    // newgidmap denies setgroups when no gid range came from /etc/subgid.
                    req.setgroups_allowed = plan.setgroupsAllowed ? 1 : 0
                    req.become_root = rootMapped ? 1 : 0
                    req.sync_fd = sync.read.raw
                    req.error_fd = errors.write.raw
                    req.lifeline_fd = lifeline.read.raw
                    req.listen_fd = listenFD
                    req.first_client_fd = firstClientFD
                    req.persistent = persistent ? 1 : 0
                    req.stop_timeout = Int32(clamping: plan.stopTimeout)
                    req.process_limit = UInt64(max(0, plan.processLimit))
                    req.session_uid = plan.uid
                    req.session_gid = plan.gid
                    req.root_allowed = rootMapped ? 1 : 0
                    return sbx_spawn_container(&req, &pidfd)
                }
            }
        }
        guard pid > 0 else { throw spawnErrnoMessage(errno) }
        log.debug("\(plan.name): clone3: init pid \(pid) in namespaces [\(plan.namespaces.names)]")
        let process = ContainerProcess(pid: pid, pidfd: OwnedFD(pidfd), lifeline: OwnedFD(lifeline.write.release()))
        sync.read.close()
        errors.write.close()
        lifeline.read.close()

        do {
            try hooks.beforeRelease(process, plan)
            let clock = Stopwatch()
            try IDMapWriter.write(pid: pid, uidMap: plan.uidMap, gidMap: plan.gidMap, uid: plan.uid, gid: plan.gid)
            let how = IDMapWriter.isOwnIDsOnly(uidMap: plan.uidMap, gidMap: plan.gidMap, uid: plan.uid, gid: plan.gid)
                ? "directly (own ids only)" : "by newuidmap/newgidmap"
            log.debug("\(plan.name): id maps written \(how) in \(clock.elapsed)")
        } catch {
            // Closing sync without a byte makes the child exit; reap it.
            sync.write.close()
            reap(pid)
            throw error
        }
        try writeAll(sync.write.raw, [1])
        sync.write.close()
        let setUp = Stopwatch()

        let report = readAll(errors.read.raw, limit: MemoryLayout<sbx_spawn_error>.size)
        if report.count == MemoryLayout<sbx_spawn_error>.size {
            let e = report.withUnsafeBytes { $0.loadUnaligned(as: sbx_spawn_error.self) }
            reap(pid)
            throw ChildFailure(stage: e.stage, errno: e.err, index: e.index).error(plan: plan)
        }
        log.debug("\(plan.name): \(plan.mounts.count) mount steps, pivot_root and the init ready in \(setUp.elapsed)")
        return process
    }

    package static func reap(_ pid: pid_t) {
        var status: Int32 = 0
        _ = retryingEINTR { waitpid(pid, &status, 0) }
    }

    package static func spawnErrnoMessage(_ e: Int32) -> SandboxError {
        switch e {
        case EPERM, EACCES:
            return SandboxError.system("cannot create a user namespace", errno: e,
                                hint: "unprivileged user namespaces are disabled; as root: sysctl -w kernel.unprivileged_userns_clone=1 (Debian) or user.max_user_namespaces=15000; on Ubuntu 24.04+ also kernel.apparmor_restrict_unprivileged_userns=0")
        case ENOSPC, EUSERS:
            return SandboxError("cannot create a user namespace: the limit is reached (\(errnoText(e)))",
                                hint: "raise user.max_user_namespaces (cat /proc/sys/user/max_user_namespaces); 0 means they are disabled")
        case EINVAL:
            return SandboxError.system("cannot create the container's namespaces", errno: e,
                                hint: "the kernel lacks clone3 or one of user/mount/pid/ipc/uts/net/cgroup namespaces (Linux 5.3+ needed)")
        default:
            return SandboxError.system("cannot create the container: clone3", errno: e)
        }
    }
}
