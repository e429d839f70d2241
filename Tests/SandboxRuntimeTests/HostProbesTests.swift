import Testing
import SandboxCore
@testable import SandboxRuntime

private let works = TrialOutcome(command: "unshare --user --map-root-user true", succeeded: true, message: "")
private let denied = TrialOutcome(command: "unshare --user --map-root-user true", succeeded: false,
                                  message: "unshare: write failed /proc/self/uid_map: Operation not permitted")

@Test func userNamespacesFailWhenASysctlDisablesThem() {
    let off = HostProbes.assessUserNamespaces(.init(maxUserNamespaces: 0, unprivilegedClone: nil, apparmorRestrict: nil), trial: works)
    #expect(off.status == .fail)
    #expect(off.hint?.contains("user.max_user_namespaces") == true)
    let debian = HostProbes.assessUserNamespaces(.init(maxUserNamespaces: 100, unprivilegedClone: 0, apparmorRestrict: nil), trial: nil)
    #expect(debian.status == .fail)
    #expect(debian.hint?.contains("kernel.unprivileged_userns_clone=1") == true)
}

@Test func userNamespacesReportTheTrial() {
    let ok = HostProbes.assessUserNamespaces(.init(maxUserNamespaces: 100, unprivilegedClone: 1, apparmorRestrict: 0), trial: works)
    #expect(ok.status == .ok)
    let ubuntu = HostProbes.assessUserNamespaces(.init(maxUserNamespaces: 100, unprivilegedClone: nil, apparmorRestrict: 1), trial: denied)
    #expect(ubuntu.status == .fail)
    #expect(ubuntu.finding.contains("AppArmor"))
    #expect(ubuntu.hint?.contains("apparmor_restrict_unprivileged_userns=0") == true)
    let other = HostProbes.assessUserNamespaces(.init(maxUserNamespaces: 100, unprivilegedClone: nil, apparmorRestrict: nil), trial: denied)
    #expect(other.status == .fail)
    #expect(other.finding.contains("Operation not permitted"))
    let untried = HostProbes.assessUserNamespaces(.init(maxUserNamespaces: 100, unprivilegedClone: nil, apparmorRestrict: nil), trial: nil)
    #expect(untried.status == .warn)
}

/// Ubuntu 23.10+ (kernel.apparmor_restrict_unprivileged_userns = 1), described:
/// unshare(1) has no profile, so the trial fails whatever sandbox's own state is.
@Test func appArmorRestrictionIsFineUnderSandboxsProfile() {
    let ubuntu = UserNamespaceSysctls(maxUserNamespaces: 100, unprivilegedClone: nil, apparmorRestrict: 1)
    let profiled = AppArmorConfinement(label: "sandbox (unconfined)", shippedProfile: "/usr/share/sandbox/apparmor/sandbox",
                                       installedProfile: "/etc/apparmor.d/sandbox", installedNamesExecutable: true)
    let ok = HostProbes.assessUserNamespaces(ubuntu, trial: denied, apparmor: profiled)
    #expect(ok.status == .ok)
    #expect(ok.finding.contains("apparmor_restrict_unprivileged_userns = 1"))
    #expect(ok.finding.contains("'sandbox (unconfined)'"))
    // Without unshare(1) to try, the label still decides.
    #expect(HostProbes.assessUserNamespaces(ubuntu, trial: nil, apparmor: profiled).status == .ok)
}

@Test func appArmorRestrictionSaysHowToLoadOrInstallTheProfile() {
    let ubuntu = UserNamespaceSysctls(maxUserNamespaces: 100, unprivilegedClone: nil, apparmorRestrict: 1)
    // The package's profile is in /etc/apparmor.d but was never loaded (AppArmor started later, or the load failed).
    let notLoaded = AppArmorConfinement(label: "unconfined", shippedProfile: "/usr/share/sandbox/apparmor/sandbox",
                                        installedProfile: "/etc/apparmor.d/sandbox", installedNamesExecutable: true)
    let load = HostProbes.assessUserNamespaces(ubuntu, trial: denied, apparmor: notLoaded)
    #expect(load.status == .fail)
    #expect(load.finding.contains("without its AppArmor profile (its label is 'unconfined')"))
    #expect(load.finding.contains("Operation not permitted"))
    #expect(load.hint?.contains("apparmor_parser -r /etc/apparmor.d/sandbox") == true)
    #expect(load.hint?.contains("cp ") == false)
    #expect(load.hint?.contains("sysctl -w kernel.apparmor_restrict_unprivileged_userns=0") == true)

    // A source install in /usr/local: its own profile is to be copied in.
    let source = AppArmorConfinement(label: "unconfined", shippedProfile: "/usr/local/share/sandbox/apparmor/sandbox",
                                     installedProfile: nil, installedNamesExecutable: false)
    let install = HostProbes.assessUserNamespaces(ubuntu, trial: denied, apparmor: source)
    #expect(install.status == .fail)
    #expect(install.hint?.contains("cp /usr/local/share/sandbox/apparmor/sandbox /etc/apparmor.d/sandbox && apparmor_parser -r /etc/apparmor.d/sandbox") == true)
    #expect(install.hint?.contains("replacing") == false)

    // /etc/apparmor.d/sandbox is the package's (/usr/bin/sandbox), this is a /usr/local build.
    let other = AppArmorConfinement(label: "unconfined", shippedProfile: "/usr/local/share/sandbox/apparmor/sandbox",
                                    installedProfile: "/etc/apparmor.d/sandbox", installedNamesExecutable: false)
    #expect(HostProbes.assessUserNamespaces(ubuntu, trial: denied, apparmor: other).hint?
        .contains("replacing /etc/apparmor.d/sandbox, which is for another installation") == true)

    // A build tree: nothing shipped to copy; the hint says what the profile must allow.
    let tree = AppArmorConfinement(label: "unconfined", shippedProfile: nil, installedProfile: nil, installedNamesExecutable: false)
    #expect(HostProbes.assessUserNamespaces(ubuntu, trial: nil, apparmor: tree).hint?.contains("`userns,` rule") == true)

    // The restriction is on but the kernel let unshare(1) through (an older Ubuntu kernel): fine.
    #expect(HostProbes.assessUserNamespaces(ubuntu, trial: works, apparmor: source).status == .ok)
}

@Test func appArmorProfileIsReadFromTheInstalledFile() throws {
    // On this host AppArmor may not run: only the label may be nil, the paths are computed.
    let exe = "/nonexistent-prefix/bin/sandbox"
    let read = AppArmorConfinement.read(executable: exe)
    #expect(read.shippedProfile == nil)
    #expect(read.installedNamesExecutable == false)
    #expect(!read.confinedBySandboxProfile)
    #expect(AppArmorConfinement(label: "sandbox (unconfined)", shippedProfile: nil, installedProfile: nil, installedNamesExecutable: false).confinedBySandboxProfile)
    #expect(!AppArmorConfinement(label: "sandboxed-thing (enforce)", shippedProfile: nil, installedProfile: nil, installedNamesExecutable: false).confinedBySandboxProfile)
}

@Test func subordinateRangeSizes() {
    #expect(HostProbes.assessRanges(file: "/etc/subuid", user: "u", [SubordinateIDRange(start: 100000, count: 65536)]).status == .ok)
    let small = HostProbes.assessRanges(file: "/etc/subuid", user: "u", [SubordinateIDRange(start: 100000, count: 1000)])
    #expect(small.status == .warn)
    #expect(small.finding.contains("1000 ids"))
    let none = HostProbes.assessRanges(file: "/etc/subgid", user: "u", [])
    #expect(none.name == "subgid")
    #expect(none.status == .warn)
    #expect(none.finding.contains("no range for u"))
    #expect(none.hint?.contains("usermod --add-subuids 100000-165535 --add-subgids 100000-165535 u") == true)
}

@Test func helperStates() {
    #expect(HostProbes.assessHelper("newuidmap", .setuidRoot(path: "/usr/bin/newuidmap")).status == .ok)
    #expect(HostProbes.assessHelper("newuidmap", .fileCapabilities(path: "/usr/bin/newuidmap")).status == .ok)
    #expect(HostProbes.assessHelper("newuidmap", .unprivileged(path: "/usr/bin/newuidmap")).status == .warn)
    let missing = HostProbes.assessHelper("newgidmap", .missing)
    #expect(missing.status == .warn)
    #expect(missing.hint == "as root: apt install uidmap")
}

@Test func usernetQuotaAndBridges() {
    let file = UsernetFile(parsing: "u veth br0 2\n@g veth br1 1\n")
    let checks = HostProbes.assessUsernet(file: "/etc/sandbox/usernet", user: "u", parsed: file,
                                          allowed: file.allowance(user: "u", groups: ["g"]),
                                          defaultBridge: "sandboxbr0", bridgeExists: { $0 == "br0" })
    #expect(checks.map(\.name) == ["usernet", "bridge br0", "bridge br1"])
    #expect(checks.map(\.status) == [.ok, .ok, .warn])
    #expect(checks[0].finding == "u may create 2 on br0, 1 on br1")
    let none = HostProbes.assessUsernet(file: "/f", user: "v", parsed: file, allowed: [], defaultBridge: "sandboxbr0",
                                        bridgeExists: { _ in false })
    #expect(none.map(\.status) == [.warn, .warn])
    #expect(none[0].hint == "as root: echo 'v veth sandboxbr0 4' >> /f")
    #expect(none[1].name == "bridge sandboxbr0")
}

@Test func netHelperIsFoundUnderPrefixLibexec() {
    let probes = HostProbes(user: UserIdentity(uid: 1, gid: 1, name: "u", home: "/h"), executable: "/opt/sb/bin/sandbox")
    #expect(probes.netHelperPath == "/opt/sb/libexec/sandbox/sandbox-net")
}

@Test func deviceGroupsSayWhichAreDelegatedAndTheLineToAdd() {
    let none = HostProbes.assessDeviceGroups(user: "alice", primaryGID: 1000, groups: [], delegated: [])
    #expect(none.status == .ok)
    #expect(none.name == "device-groups")
    let groups: [(gid: UInt32, name: String)] = [(29, "audio"), (44, "video"), (105, "render")]
    let partly = HostProbes.assessDeviceGroups(user: "alice", primaryGID: 1000, groups: groups,
                                               delegated: [SubordinateIDRange(start: 100000, count: 65536), SubordinateIDRange(start: 44, count: 1)])
    #expect(partly.status == .warn)
    #expect(partly.finding.hasPrefix("audio (29), render (105) not delegated to alice in /etc/subgid"))
    #expect(partly.finding.hasSuffix("kept: video (44)"))
    #expect(partly.hint?.contains("echo 'alice:29:1' >> /etc/subgid; echo 'alice:105:1' >> /etc/subgid") == true)
    let all = HostProbes.assessDeviceGroups(user: "alice", primaryGID: 1000, groups: groups,
                                            delegated: [SubordinateIDRange(start: 29, count: 1), SubordinateIDRange(start: 44, count: 1),
                                                        SubordinateIDRange(start: 100, count: 10)])
    #expect(all.status == .ok)
    #expect(all.finding == "audio (29), video (44), render (105) delegated to alice in /etc/subgid: sandboxed apps keep them")
    let unreadable = HostProbes.assessDeviceGroups(user: "alice", primaryGID: 1000, groups: groups, delegated: nil)
    #expect(unreadable.status == .warn)
}
