// What a session runs, and the RUN message that asks the container's init to
// run it: a header, then NUL-separated cwd, argv and env; the stdio (or a pty
// slave) travels alongside as fds.
import CSandboxSpawn
import SandboxCore

/// What to run.
public struct SessionRequest: Sendable, Equatable {
    public var argv: [String]
    public var environment: [String]
    public var workingDirectory: String
    public var uid: UInt32
    public var gid: UInt32
    /// `exec --root`: root of the container's user namespace, with its capabilities
    /// (but CAP_SYS_ADMIN). A user who is root on the host still runs apps without.
    public var asContainerRoot = false
    public init(argv: [String], environment: [String], workingDirectory: String, uid: UInt32, gid: UInt32) {
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.uid = uid
        self.gid = gid
    }

    /// The container's app: the profile's command plus `extraArgs` (`run NAME -- ARGS`),
    /// in the launcher's directory when a bind makes it visible inside, else the home.
    public static func app(of plan: LaunchPlan, extraArgs: [String], hostWorkingDirectory: String) -> SessionRequest {
        SessionRequest(argv: plan.command + extraArgs, environment: plan.environment,
                       workingDirectory: plan.containerPath(forHost: hostWorkingDirectory) ?? plan.home,
                       uid: plan.uid, gid: plan.gid)
    }

    /// Another program in the container (`exec`), as the user or as root of the
    /// container's user namespace.
    public static func program(_ argv: [String], of plan: LaunchPlan, hostWorkingDirectory: String,
                               asRoot: Bool) throws -> SessionRequest {
        var request = app(of: plan, extraArgs: [], hostWorkingDirectory: hostWorkingDirectory)
        request.argv = argv
        guard asRoot else { return request }
        guard plan.uidMap.contains(where: { $0.inside == 0 }), plan.gidMap.contains(where: { $0.inside == 0 }) else {
            throw SandboxError("exec --root: uid 0 is not mapped in \(plan.name)'s container",
                               hint: "give your user a range in /etc/subuid and /etc/subgid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER) and keep [idmap] passthrough = true")
        }
        request.uid = 0
        request.gid = 0
        request.asContainerRoot = true
        request.environment = request.environment.map { e in
            if e.hasPrefix("HOME=") { return "HOME=/root" }
            if e.hasPrefix("USER=") { return "USER=root" }
            if e.hasPrefix("LOGNAME=") { return "LOGNAME=root" }
            return e
        }
        if request.workingDirectory == plan.home { request.workingDirectory = "/" }
        return request
    }

    /// The RUN message: header then NUL-separated cwd, argv, env.
    public func encoded(flags: UInt32) -> [UInt8] {
        var strings: [UInt8] = []
        for s in [workingDirectory] + argv + environment {
            strings += Array(s.utf8.filter { $0 != 0 })
            strings.append(0)
        }
        var m = sbx_ctl_message()
        m.type = UInt32(SBX_CTL_RUN.rawValue)
        m.uid = uid
        m.gid = gid
        m.flags = flags | (asContainerRoot ? UInt32(SBX_RUN_ROOT.rawValue) : 0)
        m.argc = UInt32(argv.count)
        m.envc = UInt32(environment.count)
        m.strings_len = UInt32(strings.count)
        return withUnsafeBytes(of: m) { Array($0) } + strings
    }
}
