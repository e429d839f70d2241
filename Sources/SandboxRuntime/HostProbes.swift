#if canImport(Glibc)
import Glibc
#endif
import SandboxCore

// `sandbox doctor`'s checks of the host: user namespaces, id mapping helpers and
// ranges, the network helper and its configuration, pasta. Each probe reads the
// real system (and, where it can, simply tries the thing) and turns what it saw
// into DoctorChecks with the pure `assess…` functions, which the unit tests drive.

/// The user-namespace sysctls: nil when the knob does not exist on this kernel.
public struct UserNamespaceSysctls: Sendable, Equatable {
    /// /proc/sys/user/max_user_namespaces
    public var maxUserNamespaces: Int?
    /// /proc/sys/kernel/unprivileged_userns_clone (Debian's patch, older kernels)
    public var unprivilegedClone: Int?
    /// /proc/sys/kernel/apparmor_restrict_unprivileged_userns (Ubuntu 23.10+)
    public var apparmorRestrict: Int?

    public init(maxUserNamespaces: Int?, unprivilegedClone: Int?, apparmorRestrict: Int?) {
        self.maxUserNamespaces = maxUserNamespaces
        self.unprivilegedClone = unprivilegedClone
        self.apparmorRestrict = apparmorRestrict
    }

    public static func read() -> UserNamespaceSysctls {
        func number(_ p: String) -> Int? {
            HostFile.read(p).flatMap { Int($0.filter { !$0.isWhitespace }) }
        }
        return UserNamespaceSysctls(
            maxUserNamespaces: number("/proc/sys/user/max_user_namespaces"),
            unprivilegedClone: number("/proc/sys/kernel/unprivileged_userns_clone"),
            apparmorRestrict: number("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"))
    }
}

/// How AppArmor sees this installation, for hosts that restrict user namespaces
/// to profiled programs (kernel.apparmor_restrict_unprivileged_userns = 1).
public struct AppArmorConfinement: Sendable, Equatable {
    /// This process's AppArmor label, e.g. "unconfined" or "sandbox (unconfined)";
    /// nil when AppArmor does not run.
    public var label: String?
    /// The profile this installation ships: PREFIX/share/sandbox/apparmor/sandbox (nil: not installed).
    public var shippedProfile: String?
    /// /etc/apparmor.d/sandbox when it exists (the package installs it where AppArmor 4 is).
    public var installedProfile: String?
    /// Whether the installed profile names this executable (a /usr/local build is not /usr/bin/sandbox).
    public var installedNamesExecutable: Bool

    public init(label: String?, shippedProfile: String?, installedProfile: String?, installedNamesExecutable: Bool) {
        self.label = label
        self.shippedProfile = shippedProfile
        self.installedProfile = installedProfile
        self.installedNamesExecutable = installedNamesExecutable
    }

    /// The launcher runs under the `sandbox` profile (its `userns` rule applies;
    /// the supervisor's profile comes from the same file).
    public var confinedBySandboxProfile: Bool {
        guard let label else { return false }
        return label == "sandbox" || label.hasPrefix("sandbox ")
    }

    public static let installedPath = "/etc/apparmor.d/sandbox"

    /// Reads /proc/self/attr/apparmor/current (Linux 5.8+; /proc/self/attr/current
    /// before) and looks for the profile files that belong to `executable`.
    public static func read(executable: String) -> AppArmorConfinement {
        var label: String? = nil
        for file in ["/proc/self/attr/apparmor/current", "/proc/self/attr/current"] {
            if let text = HostFile.read(file) {
                let l = String(text.filter { $0 != "\n" && $0 != "\0" })
                if !l.isEmpty { label = l }
                break
            }
        }
        let prefix = HostFile.dirname(HostFile.dirname(executable))
        let shipped = prefix + "/share/sandbox/apparmor/sandbox"
        let installed = HostFile.read(installedPath)
        return AppArmorConfinement(label: label,
                                   shippedProfile: HostFile.exists(shipped) ? shipped : nil,
                                   installedProfile: installed == nil ? nil : installedPath,
                                   installedNamesExecutable: installed?.contains("profile sandbox \(executable) ") ?? false)
    }
}

/// What trying a command gave: nil when the tool was not there to try.
public struct TrialOutcome: Sendable, Equatable {
    public var command: String
    public var succeeded: Bool
    public var message: String
    public init(command: String, succeeded: Bool, message: String) {
        self.command = command
        self.succeeded = succeeded
        self.message = message
    }
}

public struct HostProbes: Sendable {
    public var user: UserIdentity
    /// The running sandbox binary; PREFIX/libexec/sandbox/sandbox-net is found next to it.
    public var executable: String

    public init(user: UserIdentity, executable: String = Paths.executablePath()) {
        self.user = user
        self.executable = executable
    }

    // MARK: user namespaces

    /// Reads the sysctls, then creates a user namespace for real: `unshare --user
    /// --map-root-user true` writes a one-uid map without any helper, which is what
    /// the kernel (and Ubuntu's AppArmor restriction) must allow for `run` to work.
    /// unshare(1) is used because a namespace cannot be made from a threaded Swift
    /// process (EINVAL), and doctor must not depend on the engine's C spawn code.
    public func userNamespaces() async -> DoctorCheck {
        var trial: TrialOutcome? = nil
        if let unshare = HostCommand.find("unshare") {
            trial = await Self.attempt([unshare, "--user", "--map-root-user", "true"])
        }
        let sysctls = UserNamespaceSysctls.read()
        let apparmor = (sysctls.apparmorRestrict ?? 0) != 0 ? AppArmorConfinement.read(executable: executable) : nil
        return Self.assessUserNamespaces(sysctls, trial: trial, apparmor: apparmor)
    }

    /// `apparmor` describes AppArmor where it restricts user namespaces. The trial
    /// runs unshare(1), which has no profile: under the restriction it fails even
    /// when sandbox's own profile lets the launcher and supervisor create them.
    public static func assessUserNamespaces(_ s: UserNamespaceSysctls, trial: TrialOutcome?,
                                            apparmor: AppArmorConfinement? = nil) -> DoctorCheck {
        let name = "user-namespaces"
        if let max = s.maxUserNamespaces, max <= 0 {
            return DoctorCheck(name, .fail, "disabled: /proc/sys/user/max_user_namespaces is \(max)",
                               hint: "as root: sysctl -w user.max_user_namespaces=15000 (and set it in /etc/sysctl.d/ to keep it)")
        }
        if let clone = s.unprivilegedClone, clone == 0 {
            return DoctorCheck(name, .fail, "disabled for ordinary users: /proc/sys/kernel/unprivileged_userns_clone is 0",
                               hint: "as root: sysctl -w kernel.unprivileged_userns_clone=1 (and set it in /etc/sysctl.d/ to keep it)")
        }
        if let trial {
            if trial.succeeded {
                var finding = "available (`\(trial.command)` works"
                if let max = s.maxUserNamespaces { finding += ", max_user_namespaces \(max)" }
                return DoctorCheck(name, .ok, finding + ")")
            }
            if let r = s.apparmorRestrict, r != 0 {
                return assessAppArmorRestriction(r, apparmor: apparmor, detail: trial.message)
            }
            return DoctorCheck(name, .fail, "cannot create one: `\(trial.command)` failed: \(trial.message)",
                               hint: "check the sysctls user.max_user_namespaces and kernel.unprivileged_userns_clone, and any LSM (AppArmor/SELinux) policy")
        }
        if let r = s.apparmorRestrict, r != 0 {
            return assessAppArmorRestriction(r, apparmor: apparmor, detail: nil)
        }
        return DoctorCheck(name, .warn, "enabled by the sysctls, but not tried: unshare(1) is missing",
                           hint: "apt install util-linux (for unshare) so doctor can try one for real")
    }

    /// Ubuntu 23.10+: only programs with an AppArmor profile that has a `userns`
    /// rule may create user namespaces with capabilities in them. Fine when the
    /// launcher runs under sandbox's profile; otherwise says how to install or load it.
    static func assessAppArmorRestriction(_ restrict: Int, apparmor: AppArmorConfinement?, detail: String?) -> DoctorCheck {
        let name = "user-namespaces"
        let sysctl = "kernel.apparmor_restrict_unprivileged_userns = \(restrict)"
        if let apparmor, apparmor.confinedBySandboxProfile {
            return DoctorCheck(name, .ok, "AppArmor restricts them to profiled programs (\(sysctl)); sandbox runs under its AppArmor profile "
                               + "'\(apparmor.label ?? "sandbox")', which allows them (unshare(1), which `sandbox create` runs, needs a profile of its own)")
        }
        var finding = "restricted by AppArmor (\(sysctl)) and sandbox runs without its AppArmor profile"
        if let label = apparmor?.label { finding += " (its label is '\(label)')" }
        if let detail, !detail.isEmpty { finding += ": " + detail }
        let machineWide = "or, for every program on this machine: sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
        let hint: String
        if let installed = apparmor?.installedProfile, apparmor?.installedNamesExecutable == true {
            hint = "the profile is installed but not loaded: as root: apparmor_parser -r \(installed); " + machineWide
        } else if let shipped = apparmor?.shippedProfile {
            let clash = apparmor?.installedProfile.map { " (replacing \($0), which is for another installation)" } ?? ""
            hint = "install this installation's profile (it needs AppArmor 4): as root: cp \(shipped) \(AppArmorConfinement.installedPath)\(clash) "
                + "&& apparmor_parser -r \(AppArmorConfinement.installedPath); " + machineWide
        } else {
            hint = "give the sandbox binary and its sandbox-supervisor an AppArmor profile with a `userns,` rule "
                + "(the package and `make install` ship one in PREFIX/share/sandbox/apparmor/sandbox); " + machineWide
        }
        return DoctorCheck(name, .fail, finding, hint: hint)
    }

    // MARK: newuidmap/newgidmap and subordinate ids

    /// How a privileged id-map helper is installed.
    public enum HelperState: Sendable, Equatable {
        case missing
        case setuidRoot(path: String)
        case fileCapabilities(path: String)
        case unprivileged(path: String)
    }

    public static func helperState(_ name: String) -> HelperState {
        guard let path = HostCommand.find(name) else { return .missing }
        var st = stat()
        guard stat(path, &st) == 0 else { return .missing }
        if HostFile.isSetuidRoot(st) { return .setuidRoot(path: path) }
        // Fedora-style installs grant CAP_SETUID/CAP_SETGID as file capabilities instead.
        if hasFileCapabilities(path) { return .fileCapabilities(path: path) }
        return .unprivileged(path: path)
    }

    public static func assessHelper(_ name: String, _ state: HelperState) -> DoctorCheck {
        switch state {
        case .setuidRoot(let p):
            return DoctorCheck(name, .ok, "\(p) is setuid root")
        case .fileCapabilities(let p):
            return DoctorCheck(name, .ok, "\(p) has file capabilities (security.capability)")
        case .unprivileged(let p):
            return DoctorCheck(name, .warn, "\(p) is neither setuid root nor has file capabilities; only your own id can be mapped",
                               hint: "as root: chown root:root \(p) && chmod 4755 \(p), or reinstall: apt install --reinstall uidmap")
        case .missing:
            return DoctorCheck(name, .warn, "not installed; only your own id can be mapped (files owned by other ids show as nobody)",
                               hint: "as root: apt install uidmap")
        }
    }

    /// The user's ranges in /etc/subuid or /etc/subgid (by name or by number).
    public func subordinateRanges(_ file: String) -> [SubordinateIDRange]? {
        guard let text = HostFile.read(file) else { return nil }
        let id = file.hasSuffix("subgid") ? user.gid : user.uid
        return SubordinateIDs.parse(contents: text, user: user.name, uid: id)
    }

    public static func assessRanges(file: String, user: String, _ ranges: [SubordinateIDRange]?) -> DoctorCheck {
        let name = file.hasSuffix("subgid") ? "subgid" : "subuid"
        let hint = "as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \(user) (pick a range no other user has)"
        guard let ranges else {
            return DoctorCheck(name, .warn, "\(file) cannot be read; only your own id can be mapped", hint: hint)
        }
        if ranges.isEmpty {
            return DoctorCheck(name, .warn, "no range for \(user) in \(file); only your own id can be mapped", hint: hint)
        }
        let total = ranges.reduce(UInt64(0)) { $0 + UInt64($1.count) }
        let shown = ranges.map { "\($0.start)-\(UInt64($0.start) + UInt64($0.count) - 1)" }.joined(separator: ", ")
        if total < 65536 {
            return DoctorCheck(name, .warn, "\(user) has \(total) ids (\(shown)) in \(file); 65536 are needed to map every id of a distribution image",
                               hint: hint)
        }
        return DoctorCheck(name, .ok, "\(user) has \(total) ids (\(shown))")
    }

    /// Tries the whole multi-id path: `unshare --map-auto` calls newuidmap/newgidmap
    /// with the user's first ranges, as `run` does with passthrough maps.
    public func idMapTrial() async -> DoctorCheck {
        guard let unshare = HostCommand.find("unshare") else {
            return DoctorCheck("id-mapping", .warn, "not tried: unshare(1) is missing", hint: "apt install util-linux")
        }
        let trial = await Self.attempt([unshare, "--user", "--map-auto", "true"])
        if trial.succeeded {
            return DoctorCheck("id-mapping", .ok, "newuidmap/newgidmap map your subordinate ranges (`\(trial.command)` works)")
        }
        return DoctorCheck("id-mapping", .warn, "`\(trial.command)` failed: \(trial.message); run falls back to mapping only your own id",
                           hint: "fix the newuidmap/newgidmap and subuid/subgid lines above")
    }

    // MARK: device groups

    /// Groups that own GPU, camera and sound devices on common distributions.
    public static let deviceGroupNames = ["video", "render", "audio"]

    /// Which of the user's device groups /etc/subgid delegates, so containers keep
    /// them (IDMapPlanner maps each delegated group 1:1). A device group is one of
    /// `deviceGroupNames` or the owner of a node in `deviceOwners` (the gids of the
    /// /dev/dri, /dev/snd and /dev/video* nodes present).
    public func deviceGroups(deviceOwners: [UInt32]) -> DoctorCheck {
        var groups: [(gid: UInt32, name: String)] = []
        for gid in Set(user.groups).sorted() where gid != user.gid {
            let name = Accounts.groupName(gid: gid) ?? String(gid)
            if deviceOwners.contains(gid) || Self.deviceGroupNames.contains(name) { groups.append((gid, name)) }
        }
        return Self.assessDeviceGroups(user: user.name, primaryGID: user.gid, groups: groups,
                                       delegated: subordinateRanges("/etc/subgid"))
    }

    public static func assessDeviceGroups(user: String, primaryGID: UInt32, groups: [(gid: UInt32, name: String)],
                                          delegated: [SubordinateIDRange]?) -> DoctorCheck {
        let name = "device-groups"
        if groups.isEmpty {
            return DoctorCheck(name, .ok, "you are in no device group (\(deviceGroupNames.joined(separator: ", ")) or an owner of /dev/dri, /dev/snd, /dev/video*); apps reach devices through their ACLs for your user")
        }
        func shown(_ gids: [UInt32]) -> String {
            gids.map { g in "\(groups.first { $0.gid == g }?.name ?? String(g)) (\(g))" }.joined(separator: ", ")
        }
        let lines = { (gids: [UInt32]) in gids.map { "echo '\(user):\($0):1' >> /etc/subgid" }.joined(separator: "; ") }
        guard let delegated else {
            return DoctorCheck(name, .warn, "/etc/subgid cannot be read; your device groups \(shown(groups.map(\.gid))) are dropped in containers",
                               hint: "as root: chmod 644 /etc/subgid, and delegate each group: \(lines(groups.map(\.gid)))")
        }
        let split = IDMapPlanner.delegatedGroups(groups.map(\.gid), primary: primaryGID, delegated: delegated)
        if split.undelegated.isEmpty {
            return DoctorCheck(name, .ok, "\(shown(split.delegated)) delegated to \(user) in /etc/subgid: sandboxed apps keep them")
        }
        var finding = "\(shown(split.undelegated)) not delegated to \(user) in /etc/subgid: sandboxed apps lose "
            + (split.undelegated.count == 1 ? "this group" : "these groups")
            + " and reach those devices only through ACLs for your user (systemd-logind's uaccess)"
        if !split.delegated.isEmpty { finding += "; kept: \(shown(split.delegated))" }
        return DoctorCheck(name, .warn, finding,
                           hint: "as root, delegate each group to \(user) 1:1 (sandbox then maps it into every container): \(lines(split.undelegated))")
    }

    // MARK: networking

    /// PREFIX/libexec/sandbox/sandbox-net for PREFIX/bin/sandbox.
    public var netHelperPath: String {
        let bin = HostFile.dirname(executable)
        return HostFile.dirname(bin) + "/libexec/sandbox/sandbox-net"
    }

    public func netHelper() -> DoctorCheck {
        let path = netHelperPath
        var st = stat()
        guard stat(path, &st) == 0 else {
            return DoctorCheck("sandbox-net", .warn, "\(path) is not installed; network.mode = \"veth\" will not work",
                               hint: "as root: make install (installs the setuid helper), or use network.mode = \"pasta\"")
        }
        if HostFile.isSetuidRoot(st) && (st.st_mode & S_IXOTH) != 0 {
            return DoctorCheck("sandbox-net", .ok, "\(path) is setuid root")
        }
        return DoctorCheck("sandbox-net", .warn, "\(path) is not setuid root (owner uid \(st.st_uid), mode \(String(st.st_mode & 0o7777, radix: 8))); network.mode = \"veth\" will not work",
                           hint: "as root: chown root:root \(path) && chmod 4755 \(path)")
    }

    /// Group names of the user (primary and supplementary), for @GROUP lines.
    public var groupNames: [String] {
        var names: [String] = []
        for gid in [user.gid] + user.groups {
            if let n = Accounts.groupName(gid: gid), !names.contains(n) { names.append(n) }
        }
        return names
    }

    /// The user's quota in the usernet file, and whether each allowed bridge exists.
    public func usernet(file: String = "/etc/sandbox/usernet", defaultBridge: String) -> [DoctorCheck] {
        guard let text = HostFile.read(file) else {
            return [DoctorCheck("usernet", .warn, "\(file) is missing or unreadable; network.mode = \"veth\" will not work",
                                hint: "as root: echo '\(user.name) veth \(defaultBridge) 4' >> \(file)")]
        }
        let parsed = UsernetFile(parsing: text, file: file)
        let allowed = parsed.allowance(user: user.name, groups: groupNames)
        return Self.assessUsernet(file: file, user: user.name, parsed: parsed, allowed: allowed,
                                  defaultBridge: defaultBridge, bridgeExists: Self.bridgeExists)
    }

    public static func bridgeExists(_ name: String) -> Bool {
        !name.contains("/") && name != "." && name != ".." && HostFile.exists("/sys/class/net/\(name)/bridge")
    }

    public static func assessUsernet(file: String, user: String, parsed: UsernetFile, allowed: [(bridge: String, count: Int)],
                                     defaultBridge: String, bridgeExists: (String) -> Bool) -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let usable = allowed.filter { $0.count > 0 }
        if usable.isEmpty {
            var finding = "no veth quota for \(user) or their groups in \(file); network.mode = \"veth\" will not work"
            if !parsed.problems.isEmpty { finding += " (unreadable lines: " + parsed.problems.joined(separator: "; ") + ")" }
            checks.append(DoctorCheck("usernet", .warn, finding,
                                      hint: "as root: echo '\(user) veth \(defaultBridge) 4' >> \(file)"))
        } else {
            let shown = usable.map { "\($0.count) on \($0.bridge)" }.joined(separator: ", ")
            if parsed.problems.isEmpty {
                checks.append(DoctorCheck("usernet", .ok, "\(user) may create \(shown)"))
            } else {
                checks.append(DoctorCheck("usernet", .warn, "\(user) may create \(shown); unreadable lines: " + parsed.problems.joined(separator: "; "),
                                          hint: "fix those lines: 'USER|@GROUP veth BRIDGE COUNT'"))
            }
        }
        var bridges = usable.map(\.bridge)
        if bridges.isEmpty { bridges = [defaultBridge] }
        for b in bridges {
            if bridgeExists(b) {
                checks.append(DoctorCheck("bridge \(b)", .ok, "present"))
            } else {
                checks.append(DoctorCheck("bridge \(b)", .warn, "no bridge named \(b); network.mode = \"veth\" will not work",
                                          hint: "as root: ip link add \(b) type bridge && ip link set \(b) up (give it an address and NAT, or use your distribution's network config)"))
            }
        }
        return checks
    }

    /// pasta(1) and /dev/net/tun, for network.mode = "pasta".
    public func pasta() -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        if let p = HostCommand.find("pasta") {
            checks.append(DoctorCheck("pasta", .ok, "\(p) present"))
        } else {
            checks.append(DoctorCheck("pasta", .warn, "pasta is not installed; network.mode = \"pasta\" will not work",
                                      hint: "as root: apt install passt"))
        }
        var st = stat()
        if stat("/dev/net/tun", &st) != 0 {
            checks.append(DoctorCheck("/dev/net/tun", .warn, "missing; pasta needs it", hint: "as root: modprobe tun"))
        } else if access("/dev/net/tun", R_OK | W_OK) == 0 {
            checks.append(DoctorCheck("/dev/net/tun", .ok, "read-write for you (mode \(String(st.st_mode & 0o777, radix: 8)))"))
        } else {
            checks.append(DoctorCheck("/dev/net/tun", .warn,
                                      "not accessible to you (mode \(String(st.st_mode & 0o777, radix: 8)), owner uid \(st.st_uid)); network.mode = \"pasta\" will not work",
                                      hint: "as root: chmod 0666 /dev/net/tun (desktop distributions ship it 0666 through udev)"))
        }
        return checks
    }

    // MARK: images

    /// mmdebstrap, which `sandbox create` runs for rootfs.mode = "image" profiles.
    public func imageBuilder() -> DoctorCheck {
        if let p = HostCommand.find("mmdebstrap") {
            return DoctorCheck("mmdebstrap", .ok, "\(p) present (sandbox create can build images)")
        }
        return DoctorCheck("mmdebstrap", .warn, "not installed; `sandbox create` cannot build images for rootfs.mode = \"image\" profiles",
                           hint: "as root: apt install mmdebstrap")
    }

    // MARK: helpers

    /// Whether `path` carries a security.capability xattr. <sys/xattr.h> is not part of
    /// Swift's Glibc module, so getxattr(2)'s libc wrapper is looked up by name.
    static func hasFileCapabilities(_ path: String) -> Bool {
        typealias GetXattr = @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?, Int) -> Int
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "getxattr") else { return false }
        let getxattr = unsafeBitCast(sym, to: GetXattr.self)
        return getxattr(path, "security.capability", nil, 0) > 0
    }

    static func attempt(_ argv: [String]) async -> TrialOutcome {
        let shown = argv.map { $0.hasPrefix("/") ? String($0.split(separator: "/").last ?? "") : $0 }.joined(separator: " ")
        do {
            let r = try await HostCommand(argv).run(capture: .combined)
            let msg = r.output.split(separator: "\n").last.map(String.init) ?? "exit status \(r.status)"
            return TrialOutcome(command: shown, succeeded: r.succeeded, message: r.succeeded ? "" : msg)
        } catch {
            return TrialOutcome(command: shown, succeeded: false, message: error.message)
        }
    }
}
