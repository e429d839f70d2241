import SandboxCore
import Testing
@testable import SandboxDesktop
#if canImport(Glibc)
import Glibc
import SandboxTestSupport
#endif

@Suite struct DesktopLayoutTests {
    @Test func x11BindsExactlyTheSocketFileAndTheCookie() {
        let a = DesktopLayout.x11(display: X11Display(number: 77, name: ":77"), xauthority: "/run/user/1000/sandbox/app/Xauthority", uid: 1000)
        #expect(a.mounts == [
            .mkdir(path: "/tmp/.X11-unix", mode: 0o1777),
            .bind(source: "/tmp/.X11-unix/X77", target: "/tmp/.X11-unix/X77", readonly: true, recursive: false, optional: false),
            .mkdir(path: "/run/user/1000", mode: 0o700),
            .bind(source: "/run/user/1000/sandbox/app/Xauthority", target: "/run/user/1000/Xauthority", readonly: true, recursive: false, optional: false),
        ])
        #expect(a.environment == ["DISPLAY": ":77", "XAUTHORITY": "/run/user/1000/Xauthority"])
    }

    @Test func untrustedX11BindsTheProxySocketAtTheDisplaysPath() {
        let a = DesktopLayout.x11(display: X11Display(number: 77, name: ":77"), socket: "/run/user/1000/sandbox/app/x11.sock",
                                  xauthority: "/run/user/1000/sandbox/app/Xauthority", uid: 1000)
        #expect(a.mounts.contains(.bind(source: "/run/user/1000/sandbox/app/x11.sock", target: "/tmp/.X11-unix/X77",
                                        readonly: true, recursive: false, optional: false)))
        #expect(!a.mounts.contains { if case .bind(let source, _, _, _, _) = $0 { return source == "/tmp/.X11-unix/X77" } else { return false } })
        // x11.required = false: the proxy's files are optional binds, skipped if the proxy could not start.
        let optional = DesktopLayout.x11(display: X11Display(number: 77, name: ":77"), socket: "/s/x11.sock",
                                         xauthority: "/s/Xauthority", uid: 1000, optional: true)
        #expect(optional.mounts.contains(.bind(source: "/s/x11.sock", target: "/tmp/.X11-unix/X77", readonly: true, recursive: false, optional: true)))
        #expect(optional.mounts.contains(.bind(source: "/s/Xauthority", target: "/run/user/1000/Xauthority", readonly: true, recursive: false, optional: true)))
    }

    @Test func pulseClientConfDisablesShmAndAutospawn() {
        let lines = DesktopLayout.pulseClientConf.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(lines.contains("enable-shm = no"))
        #expect(lines.contains("autospawn = no"))
    }

    @Test func mediatedPulseBindsTheContainersDirectoryReadOnly() {
        let a = DesktopLayout.pulse(directory: "/run/user/1000/sandbox/app/pulse", uid: 1000)
        #expect(a.environment == ["PULSE_SERVER": "unix:/run/user/1000/pulse/native",
                                  "PULSE_CLIENTCONFIG": "/run/user/1000/pulse/client.conf"])
        #expect(a.mounts == [.mkdir(path: "/run/user/1000/pulse", mode: 0o755),
                             .bind(source: "/run/user/1000/sandbox/app/pulse", target: "/run/user/1000/pulse",
                                   readonly: true, recursive: false, optional: false)])
    }

    @Test func unfilteredPulseUsesTheInsidePathAndClientConfig() {
        let a = DesktopLayout.pulse(socket: "/run/user/1000/pulse/native", uid: 1000)
        #expect(a.environment == ["PULSE_SERVER": "unix:/run/user/1000/pulse/native",
                                  "PULSE_CLIENTCONFIG": "/run/user/1000/pulse/client.conf"])
        #expect(a.mounts.contains(.bind(source: "/run/user/1000/pulse/native", target: "/run/user/1000/pulse/native",
                                        readonly: true, recursive: false, optional: false)))
        #expect(a.mounts.contains(.file(path: "/run/user/1000/pulse/client.conf", contents: DesktopLayout.pulseClientConf, mode: 0o644)))
    }

    @Test func waylandKeepsTheSocketName() {
        let a = DesktopLayout.wayland(socket: "/run/user/1000/wayland-1", uid: 1000)
        #expect(a.environment == ["WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": "/run/user/1000"])
        #expect(a.mounts.last == .bind(source: "/run/user/1000/wayland-1", target: "/run/user/1000/wayland-1",
                                       readonly: true, recursive: false, optional: false))
    }

    @Test func sharedLookBindsOnlyWhatExistsAndNothingIntoHome() {
        let present: Set<String> = ["/usr/share/fonts", "/home/a/.fonts"]
        let a = DesktopLayout.sharedLook(hostHome: "/home/a") { present.contains($0) }
        #expect(a.mounts == [
            .mkdir(path: "/usr/share/fonts", mode: 0o755),
            .bind(source: "/usr/share/fonts", target: "/usr/share/fonts", readonly: true, recursive: true, optional: true),
            .mkdir(path: "/usr/local/share/fonts/sandbox-user-fonts", mode: 0o755),
            .bind(source: "/home/a/.fonts", target: "/usr/local/share/fonts/sandbox-user-fonts", readonly: true, recursive: true, optional: true),
        ])
    }

    @Test func pulseServerFromEnvironment() throws {
        #expect(try PulseServer.host(["XDG_RUNTIME_DIR": "/run/user/5"]) == PulseServer(address: "unix:/run/user/5/pulse/native", socketPath: "/run/user/5/pulse/native"))
        #expect(try PulseServer.host(["PULSE_SERVER": "unix:/tmp/p"]) == PulseServer(address: "unix:/tmp/p", socketPath: "/tmp/p"))
        #expect(try PulseServer.host(["PULSE_SERVER": "/tmp/p tcp:x"]) == PulseServer(address: "unix:/tmp/p", socketPath: "/tmp/p"))
        #expect(try PulseServer.host(["PULSE_SERVER": "tcp:host:4713"]) == PulseServer(address: "tcp:host:4713", socketPath: nil))
        #expect(throws: SandboxError.self) { try PulseServer.host([:]) }
    }
}

@Suite struct DeviceTests {
    /// A fake /dev made of regular files (character devices need root to create).
    func makeTree(_ files: [String]) -> String {
        let root = TemporaryDirectory(prefix: "sandbox-dev-test").path
        for f in files {
            var prefix = root
            for part in f.split(separator: "/").dropLast() { prefix += "/" + part; mkdir(prefix, 0o755) }
            close(open(root + "/" + f, O_CREAT | O_WRONLY, 0o600))
        }
        return root
    }

    func removeTree(_ root: String) {
        TemporaryDirectory(adopting: root).remove()
    }

    @Test func findsEachClassAndSkipsSymlinks() throws {
        let root = makeTree(["dri/card0", "dri/renderD128", "snd/controlC0", "snd/pcmC0D0p", "video0", "video10", "video2",
                             "videodev", "nvidiactl", "nvidia0", "nvidia-caps/nvidia-cap1", "null"])
        defer { removeTree(root) }
        mkdir(root + "/dri/by-path", 0o755)
        symlink("../card0", root + "/dri/by-path/pci-0000:00:02.0-card")
        var devices = Profile.Devices()
        devices.dri = true; devices.snd = true; devices.video = true; devices.extra = ["/dev/null", "/dev/missing"]
        let found = DeviceDiscovery(root: root, acceptRegularFiles: true).discover(devices)
        #expect(found.map(\.key) == ["devices.dri", "devices.snd", "devices.video", "devices.extra", "devices.extra"])
        #expect(found[0].nodes.map(\.path) == ["/dev/dri/card0", "/dev/dri/renderD128", "/dev/nvidia-caps/nvidia-cap1", "/dev/nvidia0", "/dev/nvidiactl"])
        #expect(found[0].nodes[0].source == root + "/dri/card0")
        #expect(found[1].nodes.map(\.path) == ["/dev/snd/controlC0", "/dev/snd/pcmC0D0p"])
        #expect(found[2].nodes.map(\.path) == ["/dev/video0", "/dev/video2", "/dev/video10"])
        #expect(found[3].nodes.map(\.path) == ["/dev/null"])
        #expect(found[4].nodes.isEmpty)
    }

    @Test func absentDevicesAreNoticesOrErrorsWhenRequired() throws {
        let root = makeTree(["snd/controlC0"])
        defer { removeTree(root) }
        var devices = Profile.Devices()
        devices.dri = true; devices.snd = true
        let user = UserIdentity(uid: 1000, gid: 1000, name: "a", home: "/home/a", groups: [getgid()])
        let found = DeviceDiscovery(root: root, acceptRegularFiles: true).discover(devices)
        let a = try DesktopLayout.devices(found, required: false, user: user)
        // A missing optional device is a fact about the machine: said once (onceNotices).
        #expect(a.notices.isEmpty)
        #expect(a.onceNotices.count == 1)
        #expect(a.onceNotices.first?.contains("devices.dri") == true)
        #expect(a.mounts == [.mkdir(path: "/dev/snd", mode: 0o755),
                             .device(source: root + "/snd/controlC0", target: "/dev/snd/controlC0", optional: true)])
        // The file's group is this process's gid; the user is "in" it, so it is kept.
        #expect(a.supplementaryGroups == [getgid()])
        #expect(throws: SandboxError.self) { try DesktopLayout.devices(found, required: true, user: user) }
    }

    @Test func deviceGroupsRememberTheirNodes() throws {
        let root = makeTree(["snd/controlC0", "snd/timer"])
        defer { removeTree(root) }
        var devices = Profile.Devices()
        devices.snd = true
        let user = UserIdentity(uid: 1000, gid: 1000, name: "a", home: "/home/a", groups: [getgid()])
        let a = try DesktopLayout.devices(DeviceDiscovery(root: root, acceptRegularFiles: true).discover(devices), required: false, user: user)
        #expect(a.groupDevices == [getgid(): ["/dev/snd/controlC0", "/dev/snd/timer"]])
        // Not a member: nothing to keep, nothing to say.
        let outsider = UserIdentity(uid: 1000, gid: 1000, name: "a", home: "/home/a", groups: [])
        let b = try DesktopLayout.devices(DeviceDiscovery(root: root, acceptRegularFiles: true).discover(devices), required: false, user: outsider)
        #expect(b.supplementaryGroups.isEmpty && b.groupDevices.isEmpty)
    }

    @Test func sysfsIsATmpfsWithTheDeviceDirectoriesReadOnly() {
        let a = DesktopLayout.sysfs { $0 != "/sys/block" }
        #expect(a.mounts == [
            .tmpfs(target: "/sys", options: "mode=0755,size=16k"),
            .bind(source: "/sys/bus", target: "/sys/bus", readonly: true, recursive: true, optional: false),
            .bind(source: "/sys/class", target: "/sys/class", readonly: true, recursive: true, optional: false),
            .bind(source: "/sys/dev", target: "/sys/dev", readonly: true, recursive: true, optional: false),
            .bind(source: "/sys/devices", target: "/sys/devices", readonly: true, recursive: true, optional: false),
            .remountReadonly(target: "/sys"),
        ])
        // Nothing of /sys/kernel, /sys/fs (cgroups), /sys/firmware.
        #expect(!a.mounts.contains { if case let .bind(s, _, _, _, _) = $0 { s.hasPrefix("/sys/kernel") || s.hasPrefix("/sys/fs") || s.hasPrefix("/sys/firmware") } else { false } })
        #expect(DesktopLayout.sysfs { _ in false }.mounts.isEmpty)
    }

    @Test func realDevicesRejectRegularFiles() {
        let root = makeTree(["snd/controlC0"])
        defer { removeTree(root) }
        var devices = Profile.Devices()
        devices.snd = true
        #expect(DeviceDiscovery(root: root).discover(devices)[0].nodes.isEmpty)
    }
}

@Suite struct ApplyTests {
    func session(_ additions: DesktopAdditions, profileEnv: [String: String] = [:]) -> DesktopSession {
        var profile = Profile(name: "app", sourcePath: "/p/app.toml")
        profile.env = profileEnv
        let user = UserIdentity(uid: 1000, gid: 1000, name: "alice", home: "/home/alice", groups: [29, 44])
        return DesktopSession(additions: additions, profile: profile,
                              setUp: DesktopSetUp(profile: profile, user: user, hostEnvironment: [:], stateDir: "/run/user/1000/sandbox/app"))
    }

    @Test func mountsGoBeforeTheFinalReadOnlyRemounts() {
        var plan = LaunchPlan(name: "app", hostname: "app")
        plan.mounts = [.tmpfs(target: "/", options: ""), .tmpfs(target: "/tmp", options: ""), .remountReadonly(target: "/")]
        var a = DesktopAdditions()
        a.mounts = [.mkdir(path: "/tmp/.X11-unix", mode: 0o1777)]
        session(a).apply(to: &plan)
        #expect(plan.mounts == [.tmpfs(target: "/", options: ""), .tmpfs(target: "/tmp", options: ""),
                                .mkdir(path: "/tmp/.X11-unix", mode: 0o1777), .remountReadonly(target: "/")])
    }

    @Test func theSoundMediationBecomesThePlansData() {
        var plan = LaunchPlan(name: "app", hostname: "app")
        session(DesktopAdditions()).apply(to: &plan)
        #expect(plan.sound == nil)
        var a = DesktopLayout.pulse(directory: "/run/user/1000/sandbox/app/pulse", uid: 1000)
        a.sound = SoundMediation(socketPath: "/run/user/1000/sandbox/app/pulse/native",
                                 upstream: "/run/user/1000/pulse/native", microphone: false)
        var merged = DesktopAdditions()
        merged.add(a)
        session(merged).apply(to: &plan)
        #expect(plan.sound == a.sound)
        // The plan's equality sees it (the plan is compared, and soon encoded, as data).
        var other = plan
        other.sound?.microphone = true
        #expect(other != plan)
    }

    @Test func desktopVariablesReplaceTheEnginesButNotTheProfiles() {
        var plan = LaunchPlan(name: "app", hostname: "app")
        plan.environment = ["HOME=/home/alice", "DISPLAY=:9", "container=sandbox", "PULSE_SERVER=tcp:x"]
        var a = DesktopAdditions()
        a.environment = ["DISPLAY": ":0", "PULSE_SERVER": "unix:/run/user/1000/pulse/native", "XAUTHORITY": "/run/user/1000/Xauthority"]
        session(a, profileEnv: ["PULSE_SERVER": "tcp:x"]).apply(to: &plan)
        #expect(plan.environment == ["HOME=/home/alice", "DISPLAY=:0", "container=sandbox", "PULSE_SERVER=tcp:x",
                                     "XAUTHORITY=/run/user/1000/Xauthority"])
    }

    @Test func onlyGroupsMappedOneToOneAreKept() {
        var plan = LaunchPlan(name: "app", hostname: "app")
        plan.gid = 1000
        plan.gidMap = [IDMapping(inside: 0, outside: 100000, count: 44), IDMapping(inside: 44, outside: 44, count: 1),
                       IDMapping(inside: 45, outside: 100045, count: 955), IDMapping(inside: 1000, outside: 1000, count: 1)]
        var a = DesktopAdditions()
        a.supplementaryGroups = [29, 44]
        a.groupNames = [29: "audio", 44: "video"]
        a.groupDevices = [29: ["/dev/snd/controlC0", "/dev/snd/pcmC0D0p", "/dev/snd/pcmC0D0c", "/dev/snd/timer"], 44: ["/dev/video0"]]
        session(a).apply(to: &plan)
        #expect(plan.supplementaryGroups == [44])
        #expect(plan.notices.count == 1)
        let notice = plan.notices.first ?? ""
        #expect(notice.contains("your group audio (29), which owns /dev/snd/controlC0, /dev/snd/pcmC0D0p, /dev/snd/pcmC0D0c and 1 more"))
        #expect(notice.hasSuffix("an administrator adds this line to /etc/subgid: alice:29:1"))
    }

    @Test func withoutSetgroupsNothingIsDroppedSoNothingIsSaid() {
        // A gid map of only the user's own gid: setgroups is denied and the sessions
        // keep the launcher's groups as they are.
        var plan = LaunchPlan(name: "app", hostname: "app")
        plan.gid = 1000
        plan.gidMap = [IDMapping(inside: 1000, outside: 1000, count: 1)]
        var a = DesktopAdditions()
        a.supplementaryGroups = [29, 44]
        session(a).apply(to: &plan)
        #expect(plan.supplementaryGroups.isEmpty)
        #expect(plan.notices.isEmpty)
    }

    @Test func engineKeptGroupsStayWhenDevicesAddNone() {
        var plan = LaunchPlan(name: "app", hostname: "app")
        plan.gid = 1000
        plan.gidMap = [IDMapping(inside: 0, outside: 100000, count: 65536), IDMapping(inside: 70000, outside: 70000, count: 1)]
        plan.supplementaryGroups = [70000]
        session(DesktopAdditions()).apply(to: &plan)
        #expect(plan.supplementaryGroups == [70000])
    }
}

@Suite struct SessionEnvironmentTests {
    let user = UserIdentity(uid: 1000, gid: 1000, name: "alice", home: "/home/alice")

    func desktopSetUp(x11: Profile.X11.Mode, pulse: Profile.Pulse.Mode, env: [String: String] = [:]) -> DesktopSetUp {
        var profile = Profile(name: "app", sourcePath: "/p/app.toml")
        profile.x11.mode = x11
        profile.pulse.mode = pulse
        profile.env = env
        return DesktopSetUp(profile: profile, user: user, hostEnvironment: ["DISPLAY": ":3.0", "XDG_RUNTIME_DIR": "/run/user/1000"],
                            stateDir: "/run/user/1000/sandbox/app")
    }

    @Test func everyEnabledPartSetsItsVariables() {
        #expect(desktopSetUp(x11: .untrusted, pulse: .module).sessionEnvironment() == [
            "DISPLAY": ":3", "XAUTHORITY": "/run/user/1000/Xauthority",
            "PULSE_SERVER": "unix:/run/user/1000/pulse/native", "PULSE_CLIENTCONFIG": "/run/user/1000/pulse/client.conf",
        ])
    }

    @Test func noneModesSetNothing() {
        #expect(desktopSetUp(x11: .none, pulse: .none).sessionEnvironment().isEmpty)
    }

    @Test func profileEnvWinsOverDesktopVariables() {
        let env = desktopSetUp(x11: .trusted, pulse: .socket, env: ["DISPLAY": ":9"])
            .sessionEnvironment(adding: ["HOME=/home/alice", "DISPLAY=:0"])
        #expect(env.first == "HOME=/home/alice")
        #expect(env.contains("DISPLAY=:0"))   // the engine's list already carries the profile's value
        #expect(!env.contains("DISPLAY=:3"))
        #expect(env.contains("PULSE_SERVER=unix:/run/user/1000/pulse/native"))
    }
}

@Suite struct X11MediationPlanTests {
    @Test func applyCarriesTheMediationIntoThePlan() {
        var additions = DesktopAdditions()
        let m = X11Mediation(display: 7, serverSocket: "/tmp/.X11-unix/X7", proxySocket: "/run/user/1/sandbox/a/x11.sock",
                             userXauthority: "/home/u/.Xauthority", containerXauthority: "/run/user/1/sandbox/a/Xauthority",
                             trusted: false, required: true)
        var x = DesktopAdditions()
        x.x11 = m
        additions.add(x)
        additions.add(DesktopAdditions())   // a later part without X keeps it
        #expect(additions.x11 == m)
        var a = LaunchPlan(name: "a", hostname: "a")
        var b = a
        a.x11 = m
        #expect(a != b)   // part of the plan's equality (the plan is what crosses to the supervisor)
        b.x11 = m
        #expect(a == b)
    }
}
