// The C side's failure reports, {stage, errno, index}, turned into words: a
// container that could not be set up (spawn.c, on the error pipe) is named by
// its step and profile key with a hint; a session that could not start (the
// init's reply on the control socket) by its program, directory or ids.
import CSandboxSpawn
import SandboxPlan
#if canImport(Glibc)
import Glibc
#endif

/// A failure report from the C side ({stage, errno, index}), turned into words:
/// `error(plan:)` for a container that could not be set up, `error(argv:cwd:)`
/// for a session that could not start.
public struct ChildFailure: Sendable, Equatable {
    public var stage: Int32
    public var errno: Int32
    public var index: Int32
    public init(stage: Int32, errno: Int32, index: Int32) {
        self.stage = stage
        self.errno = errno
        self.index = index
    }

    public func error(plan: LaunchPlan) -> SandboxError {
        let op: MountOp? = (stage >= Int32(SBX_STAGE_MOUNT_MKDIR.rawValue) && stage <= Int32(SBX_STAGE_MOUNT_WRITE.rawValue)
                            && index >= 0 && Int(index) < plan.mounts.count) ? plan.mounts[Int(index)] : nil
        switch sbx_stage(rawValue: UInt32(stage)) {
        case SBX_STAGE_WAIT_IDMAP: return SandboxError("\(plan.name): the container start was abandoned before its id maps were written")
        case SBX_STAGE_SETID: return SandboxError("\(plan.name): cannot become root inside the container", errno: errno, hint: "check the id maps (sandbox doctor)")
        case SBX_STAGE_MOUNT_PRIVATE, SBX_STAGE_BASE_TMPFS, SBX_STAGE_PIVOT_BASE:
            return SandboxError("\(plan.name): cannot set up the container's mount namespace", errno: errno,
                                hint: "mounting in a user namespace is not permitted here (a restricted kernel or an outer container)")
        case SBX_STAGE_MOUNT_MKDIR, SBX_STAGE_MOUNT_SOURCE, SBX_STAGE_MOUNT, SBX_STAGE_MOUNT_READONLY, SBX_STAGE_MOUNT_WRITE:
            guard let op else { return SandboxError("\(plan.name): mount step \(index)", errno: errno) }
            return Self.mountError(op: op, stage: stage, errno: errno, name: plan.name)
        case SBX_STAGE_PIVOT_ROOT: return SandboxError("\(plan.name): pivot_root into the container's root failed", errno: errno)
        case SBX_STAGE_HOSTNAME: return SandboxError("\(plan.name): cannot set the hostname '\(plan.hostname)'", errno: errno)
        case SBX_STAGE_INIT: return SandboxError("\(plan.name): the container's init could not start", errno: errno)
        case SBX_STAGE_LIMITS:
            return SandboxError("\(plan.name): cannot set the container's process limit (\(plan.processLimit))", errno: errno,
                                hint: "change [limits] processes in the profile")
        case SBX_STAGE_LOOPBACK:
            return SandboxError("\(plan.name): cannot bring up the loopback interface (lo) in the container's network namespace", errno: errno,
                                hint: "the kernel refused SIOCSIFFLAGS inside a user namespace; network.mode = \"host\" shares the host's network instead")
        default: return error(argv: plan.argv, cwd: plan.workingDirectory)
        }
    }

    static func mountError(op: MountOp, stage: Int32, errno: Int32, name: String) -> SandboxError {
        // Mount points are resolved inside the container's root (openat2 RESOLVE_IN_ROOT): a
        // /proc magic link or a symlink loop on the way is refused (ELOOP), never followed out.
        let refused = stage == Int32(SBX_STAGE_MOUNT_MKDIR.rawValue) && errno == ELOOP
        let (what, source, target): (String, String?, String) = {
            switch op {
            case let .bind(s, t, _, _, _): return ("binding", s, t)
            case let .device(s, t, _): return ("binding device", s, t)
            case let .tmpfs(t, _): return ("mounting a tmpfs on", nil, t)
            case let .proc(t): return ("mounting /proc on", nil, t)
            case let .devpts(t): return ("mounting devpts on", nil, t)
            case let .mkdir(p, _): return ("creating directory", nil, p)
            case let .symlink(_, p): return ("creating symlink", nil, p)
            case let .file(p, _, _): return ("writing", nil, p)
            case let .remountReadonly(t): return ("making read-only", nil, t)
            case let .userBind(s, t, _): return ("binding", s, t)
            }
        }()
        let subject = source.map { "\($0) on \(target)" } ?? target
        var hint: String? = nil
        if case .device(let s, _, _) = op {
            if s.hasPrefix("/dev/dri") { hint = "set devices.dri = false or plug the device in" }
            else if s.hasPrefix("/dev/snd") { hint = "set devices.snd = false or plug the device in" }
            else if s.hasPrefix("/dev/video") { hint = "set devices.video = false or plug the camera in" }
            else { hint = "remove it from the profile's devices, or plug the device in" }
        } else if case .bind = op, stage == Int32(SBX_STAGE_MOUNT_SOURCE.rawValue) {
            hint = "create it, or mark the mount optional = true"
        } else if refused {
            hint = "in an image rootfs, find the link with `sandbox exec --root \(name) -- namei -l \(target)` and replace it with a directory"
        } else if stage == Int32(SBX_STAGE_MOUNT_MKDIR.rawValue) && errno == ENOSYS {
            hint = "this kernel lacks openat2 (Linux 5.6+), which sandbox needs to resolve mount points without following symlinks out of the container's root"
        } else if stage == Int32(SBX_STAGE_MOUNT_MKDIR.rawValue) {
            hint = "the mount point cannot be created; in an image rootfs create it with `sandbox exec --root \(name) -- mkdir -p \(target)`"
        } else if case .proc = op {
            hint = "this kernel refuses a new /proc here (is /proc partly hidden by an outer container?)"
        }
        let stageText: String
        switch sbx_stage(rawValue: UInt32(stage)) {
        case SBX_STAGE_MOUNT_MKDIR: stageText = " (creating the mount point)"
        case SBX_STAGE_MOUNT_READONLY: stageText = " (making it read-only)"
        default: stageText = ""
        }
        return SandboxError("\(name): \(what) \(subject)\(stageText)", errno: refused ? nil : errno,
                            cause: refused ? "a symlink on the way loops or leads out of the container's root" : nil, hint: hint)
    }
}

extension ChildFailure {
    /// A session that could not start.
    public func error(argv: [String], cwd: String) -> SandboxError {
        let program = argv.first ?? "?"
        switch sbx_stage(rawValue: UInt32(stage)) {
        case SBX_STAGE_SESSION_EXEC:
            if errno == ENOENT {
                return SandboxError("\(program): command not found inside the container", code: .commandNotFound,
                                    hint: "install it in the rootfs, or fix `command` in the profile")
            }
            return SandboxError("cannot execute \(program) inside the container", code: .commandNotExecutable, errno: errno)
        case SBX_STAGE_SESSION_CHDIR: return SandboxError("cannot change to \(cwd) inside the container", errno: errno)
        case SBX_STAGE_SESSION_SETUID:
            return SandboxError("cannot switch to uid \(index) inside the container", errno: errno,
                                hint: index == 0 ? "uid 0 is not mapped: give the user a range in /etc/subuid (exec --root needs it)" : nil)
        case SBX_STAGE_SESSION_SETGID: return SandboxError("cannot switch to gid \(index) inside the container", errno: errno)
        case SBX_STAGE_SESSION_GROUPS: return SandboxError("cannot set the supplementary groups inside the container", errno: errno)
        case SBX_STAGE_SESSION_SECCOMP: return SandboxError("cannot load the seccomp filter", errno: errno)
        case SBX_STAGE_SESSION_CAPS: return SandboxError("cannot drop capabilities (cap \(index))", errno: errno)
        case SBX_STAGE_SESSION_NO_NEW_PRIVS: return SandboxError("cannot set no_new_privs", errno: errno)
        case SBX_STAGE_SESSION_CTTY: return SandboxError("cannot attach the terminal to the session", errno: errno)
        case SBX_STAGE_SESSION_SETSID: return SandboxError("setsid failed", errno: errno)
        case SBX_STAGE_SESSION_STDIO: return SandboxError("cannot set up the session's standard fd \(index)", errno: errno)
        case SBX_STAGE_SESSION_FORK: return SandboxError("cannot start a process in the container", errno: errno)
        case SBX_STAGE_SESSION_REQUEST: return SandboxError("the container's init refused the request", errno: errno)
        case SBX_STAGE_STOPPING: return SandboxError("the container is stopping")
        default: return SandboxError("session failed at step \(stage)", errno: errno)
        }
    }
}
