// profile → complete plan, on a described host: every planner's part is there,
// in order, computed from the facts given (no kernel, no X, no sound server).
import SandboxCore
import SandboxLaunch
import SandboxRuntime
import Testing

struct DescribedHost: HostFilesystem {
    var kinds: [String: HostPathKind]
    var files: [String: String]
    func kind(of path: String) -> HostPathKind { kinds[path] ?? (files[path] != nil ? .file : .missing) }
    func contents(of path: String) -> String? { files[path] }
}

@Suite struct LaunchComposerTests {
    let ann = UserIdentity(uid: 1000, gid: 1000, name: "ann", home: "/home/ann", shell: "/bin/bash")
    var paths: Paths {
        Paths(configDir: "/home/ann/.config/sandbox", dataDir: "/home/ann/.local/share/sandbox",
              runtimeDir: "/run/user/1000/sandbox", profileDirs: [])
    }
    var host: DescribedHost {
        DescribedHost(
            kinds: ["/usr": .directory, "/etc": .directory, "/bin": .symlink("usr/bin"), "/lib": .symlink("usr/lib"),
                    "/lib64": .symlink("usr/lib64"), "/home/ann": .directory, "/home/ann/Downloads": .directory,
                    "/tmp/.X11-unix/X0": .file],
            files: ["/etc/subuid": "ann:100000:65536\n", "/etc/subgid": "ann:200000:65536\n",
                    "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nann:x:1000:1000::/home/ann:/bin/bash\n",
                    "/etc/group": "root:x:0:\nann:x:1000:\n",
                    "/etc/resolv.conf": "nameserver 127.0.0.53\n"])
    }
    func facts(cwd: String = "/home/ann/Downloads") -> HostFacts {
        HostFacts(user: ann, paths: paths,
                  environment: ["DISPLAY": ":0", "XDG_RUNTIME_DIR": "/run/user/1000", "LANG": "C.UTF-8", "SECRET_TOKEN": "x"],
                  workingDirectory: cwd, filesystem: host,
                  bridgeAddress: { $0 == "sbxbr0" ? "10.77.0.1" : nil })
    }
    func profile(_ text: String) throws -> Profile {
        try ProfileStore(paths: paths, user: ann).parse(source: text, file: "/home/ann/.config/sandbox/profiles/app.toml", name: "app")
    }

    @Test func aDesktopProfileBecomesACompletePlan() throws {
        let p = try profile("""
            command = ["app", "--flag"]
            [x11]
            mode = "trusted"
            [network]
            mode = "veth"
            bridge = "sbxbr0"
            [[mount]]
            source = "~/Downloads"
            target = "~/Downloads"
            """)
        let plan = try LaunchComposer.plan(for: p, extraArgs: ["file.txt"], bridge: "sbxbr0", facts: facts())
        // Id maps from the described /etc/subuid and /etc/subgid, the user passed through.
        #expect(plan.uidMap.contains(IDMapping(inside: 1000, outside: 1000, count: 1)))
        #expect(plan.uidMap.contains(IDMapping(inside: 0, outside: 100_000, count: 1000)))
        #expect(plan.gidMap.contains(IDMapping(inside: 0, outside: 200_000, count: 1000)))
        // The app and where it runs: the profile's command, then the launch's arguments; the
        // launcher's directory is visible through the [[mount]], so it is kept.
        #expect(plan.command == ["app", "--flag"])
        #expect(plan.argv == ["app", "--flag", "file.txt"])
        #expect(plan.workingDirectory == "/home/ann/Downloads")
        // The policy compiler ran: a real BPF program (8 bytes an instruction).
        #expect(plan.seccompFilter.count > 8 && plan.seccompFilter.count % 8 == 0)
        // The desktop's variables are in the environment, the host's secrets are not.
        #expect(plan.environment.contains("DISPLAY=:0"))
        #expect(!plan.environment.contains { $0.hasPrefix("SECRET_TOKEN=") })
        // The host resolves through a loopback stub, so resolv.conf names the bridge (the veth
        // gateway, from the facts), and it comes before the final read-only remount.
        let resolv = plan.mounts.firstIndex { if case .file("/etc/resolv.conf", let text, _) = $0 { text.contains("10.77.0.1") } else { false } }
        #expect(resolv != nil)
        if let resolv, let last = plan.mounts.indices.last { #expect(resolv < last) }
        #expect(plan.mounts.last == .remountReadonly(target: "/"))
    }

    @Test func theWorkingDirectoryFallsBackToTheHomeWhenHidden() throws {
        let plan = try LaunchComposer.plan(for: try profile("command = [\"app\"]"), bridge: nil, facts: facts(cwd: "/srv/private"))
        #expect(plan.workingDirectory == plan.home)
        #expect(plan.argv == ["app"])
    }

    @Test func hostNetworkKeepsTheNamespaceAndSaysSo() throws {
        let plan = try LaunchComposer.plan(for: try profile("command = [\"app\"]\n[network]\nmode = \"host\""), bridge: nil, facts: facts())
        #expect(!plan.namespaces.contains(.net))
        #expect(plan.notices.contains { $0.contains("shares your network namespace") })
    }

    @Test func noSubordinateRangeGivesASingleIdMapAndANotice() throws {
        var f = facts()
        var h = host
        h.files["/etc/subuid"] = ""
        h.files["/etc/subgid"] = ""
        f.filesystem = h
        let plan = try LaunchComposer.plan(for: try profile("command = [\"app\"]"), bridge: nil, facts: f)
        #expect(plan.uidMap == [IDMapping(inside: 1000, outside: 1000, count: 1)])
        #expect(!plan.notices.isEmpty)
    }

    @Test func thePlanSurvivesItsEncodingWhole() throws {
        let plan = try LaunchComposer.plan(for: try profile("command = [\"app\"]"), bridge: nil, facts: facts())
        let spec = SupervisorPlan(plan: plan, persistent: false, runtimeDir: paths.runtimeDir,
                                  profilePath: "/home/ann/.config/sandbox/profiles/app.toml", profileFingerprint: "1:2")
        #expect(try PlanCodec.decode(PlanCodec.encode(spec)) == spec)
    }
}
