import ArgumentParser
import SandboxCore
import SandboxDesktop
import SandboxLaunch
import SandboxRuntime

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check whether this machine and user are ready to run sandboxed apps.",
        discussion: """
            Prints one line per check: `ok|WARN|FAIL  CHECK: FINDING`, and a hint line \
            with the fix when it is not ok. Exits 0 when `sandbox run` can work (WARN \
            lines are optional features: sound, networking, extra ids), 1 when a check failed.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the checks as one JSON object.")
    var json = false

    func run() async throws {
        _ = try global.bootstrap()
        let env = Environment.current
        let user = UserIdentity.current(environment: env)
        let paths = Paths.current(environment: env, user: user)
        let host = HostProbes(user: user)
        // A broken config.toml is reported by `profile check`; doctor still runs with the default bridge.
        let bridge = (try? ProfileStore(paths: paths, user: user).userConfig().bridge) ?? UserConfig().bridge

        let userNamespaces = await host.userNamespaces()
        var checks: [DoctorCheck] = [userNamespaces]
        checks.append(HostProbes.assessHelper("newuidmap", HostProbes.helperState("newuidmap")))
        checks.append(HostProbes.assessHelper("newgidmap", HostProbes.helperState("newgidmap")))
        checks.append(HostProbes.assessRanges(file: "/etc/subuid", user: user.name, host.subordinateRanges("/etc/subuid")))
        checks.append(HostProbes.assessRanges(file: "/etc/subgid", user: user.name, host.subordinateRanges("/etc/subgid")))
        // Overlapping delegations, and which host ids the id map and `create` take.
        for kind in [IDKind.uid, .gid] {
            guard let text = HostFile.read(kind.subordinateFile) else { continue }
            checks.append(SubordinateAudit.audit(contents: text, kind: kind, user: user.name,
                                                 id: kind == .uid ? user.uid : user.gid,
                                                 sharedIDs: kind == .gid ? user.groups + [user.gid] : []).check)
        }
        // The multi-id trial only means something once a plain user namespace works.
        if userNamespaces.status == .ok { checks.append(await host.idMapTrial()) }
        let xauthority = env["XAUTHORITY"].flatMap { $0.isEmpty ? nil : $0 } ?? user.home + "/.Xauthority"
        checks.append(X11Probe.assess(X11Probe.probe(display: env["DISPLAY"], xauthority: xauthority)))
        checks.append(PulseProbe.assess(PulseProbe.probe(environment: env, home: user.home)))
        checks.append(BusPlanner.assess(hostEnvironment: env, host: LiveHostFilesystem(),
                                        proxy: HostFacts.findExecutable("xdg-dbus-proxy", environment: env)))
        checks.append(host.deviceGroups(deviceOwners: DeviceDiscovery().deviceOwners()))
        checks.append(host.netHelper())
        checks += host.usernet(defaultBridge: bridge)
        checks += host.pasta()
        checks.append(host.imageBuilder())

        let report = DoctorReport(checks)
        if json {
            Console.out(report.json)
        } else {
            Console.out(report.text + (report.runCanWork ? "sandbox run can work here." : "sandbox run cannot work until the FAIL lines are fixed."))
        }
        if report.exitStatus != 0 { throw ExitCode(report.exitStatus) }
    }
}
