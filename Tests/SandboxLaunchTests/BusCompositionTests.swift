// profile [dbus] → the plan: the proxy's data, the socket bind, the variables,
// and every fallback a notice (no proxy installed, no reachable bus).
import SandboxCore
import SandboxLaunch
import SandboxRuntime
import Testing

@Suite struct BusCompositionTests {
    let base = LaunchComposerTests()

    func facts(_ env: [String: String] = ["XDG_RUNTIME_DIR": "/run/user/1000"], proxy: String? = "/usr/bin/xdg-dbus-proxy",
               busExists: Bool = true) -> HostFacts {
        var host = base.host
        if busExists { host.kinds["/run/user/1000/bus"] = .file }
        host.kinds["/run/dbus/system_bus_socket"] = .file
        return HostFacts(user: base.ann, paths: base.paths, environment: env, workingDirectory: "/home/ann",
                         filesystem: host, bridgeAddress: { _ in nil }, busProxy: proxy)
    }

    func value(_ plan: LaunchPlan, _ key: String) -> String? {
        plan.environment.last { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
    }

    @Test func filteredGetsTheProxyItsSocketAndAnIdentity() throws {
        let p = try base.profile("""
            command = ["app"]
            [dbus]
            mode = "filtered"
            talk = ["org.freedesktop.Notifications"]
            own = ["org.mpris.MediaPlayer2.{name}.*"]
            """)
        let plan = try LaunchComposer.plan(for: p, bridge: nil, facts: facts(), logBus: true)
        let m = try #require(plan.dbus)
        #expect(m.appID == "org.sandbox.Profile.app")
        #expect(m.log)
        #expect(m.proxy == "/usr/bin/xdg-dbus-proxy")
        let session = try #require(m.session)
        #expect(session.upstream == "unix:path=/run/user/1000/bus")
        #expect(session.socketPath == "/run/user/1000/sandbox/app/dbus/bus")
        #expect(session.rules.talk == ["org.freedesktop.Notifications"])
        // Its own app id (as flatpak), then the profile's names with {name} expanded.
        #expect(session.rules.own == ["org.sandbox.Profile.app", "org.sandbox.Profile.app.*", "org.mpris.MediaPlayer2.app.*"])
        #expect(m.system == nil)
        #expect(m.identity.hasPrefix("[Application]\nname=org.sandbox.Profile.app\n"))
        // The proxy's directory, read-only, and $XDG_RUNTIME_DIR/bus a link into it.
        #expect(plan.mounts.contains(.bind(source: "/run/user/1000/sandbox/app/dbus", target: "/run/user/1000/.dbus-proxy",
                                           readonly: true, recursive: false, optional: true)))
        #expect(plan.mounts.contains(.symlink(target: ".dbus-proxy/bus", path: "/run/user/1000/bus")))
        #expect(value(plan, "DBUS_SESSION_BUS_ADDRESS") == "unix:path=/run/user/1000/bus")
        #expect(value(plan, "DBUS_SYSTEM_BUS_ADDRESS") == nil)
        // Binds come before the final read-only remount of the root.
        #expect(plan.mounts.last == .remountReadonly(target: "/"))
    }

    @Test func noneFailsAtOnceAndNothingIsBound() throws {
        let p = try base.profile("command = [\"app\"]\n")
        let plan = try LaunchComposer.plan(for: p, bridge: nil, facts: facts())
        #expect(plan.dbus == nil)
        #expect(value(plan, "DBUS_SESSION_BUS_ADDRESS") == "disabled:")
        #expect(!plan.mounts.contains { if case .bind(_, let t, _, _, _) = $0 { return t.hasSuffix("/bus") } else { return false } })
        // The profile's [env] still wins.
        let own = try base.profile("command = [\"app\"]\n[env]\nDBUS_SESSION_BUS_ADDRESS = \"unix:path=/x\"\n")
        #expect(value(try LaunchComposer.plan(for: own, bridge: nil, facts: facts()), "DBUS_SESSION_BUS_ADDRESS") == "unix:path=/x")
    }

    @Test func hostBindsTheUsersBusAndSaysSo() throws {
        let p = try base.profile("command = [\"app\"]\n[dbus]\nmode = \"host\"\n")
        let plan = try LaunchComposer.plan(for: p, bridge: nil, facts: facts(["DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1000/bus,guid=ab"]))
        #expect(plan.dbus == nil)
        #expect(plan.mounts.contains(.bind(source: "/run/user/1000/bus", target: "/run/user/1000/bus", readonly: false, recursive: false, optional: false)))
        #expect(plan.notices.contains { $0.contains("unfiltered") })
    }

    @Test func whatCannotBeHadIsANoticeAndNoBus() throws {
        let p = try base.profile("command = [\"app\"]\n[dbus]\nmode = \"filtered\"\n")
        let noProxy = try LaunchComposer.plan(for: p, bridge: nil, facts: facts(proxy: nil))
        #expect(noProxy.dbus == nil)
        #expect(noProxy.onceNotices.contains { $0.contains("xdg-dbus-proxy is not installed") })
        #expect(value(noProxy, "DBUS_SESSION_BUS_ADDRESS") == "disabled:")
        let noBus = try LaunchComposer.plan(for: p, bridge: nil, facts: facts(busExists: false))
        #expect(noBus.dbus == nil)
        #expect(noBus.onceNotices.contains { $0.contains("/run/user/1000/bus does not exist") })
        #expect(value(noBus, "DBUS_SESSION_BUS_ADDRESS") == "disabled:")
        let abstract = try LaunchComposer.plan(for: p, bridge: nil, facts: facts(["DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/dbus-1"]))
        #expect(abstract.dbus == nil)
        #expect(abstract.onceNotices.contains { $0.contains("not a unix:path= socket") })
    }

    @Test func theSystemBusOnlyWithNames() throws {
        let p = try base.profile("command = [\"app\"]\n[dbus.system]\ntalk = [\"org.freedesktop.UPower\"]\n")
        let plan = try LaunchComposer.plan(for: p, bridge: nil, facts: facts())
        let m = try #require(plan.dbus)
        #expect(m.session == nil)   // mode is "none": no session bus
        #expect(m.system?.upstream == "unix:path=/run/dbus/system_bus_socket")
        #expect(m.system?.rules.talk == ["org.freedesktop.UPower"])
        #expect(value(plan, "DBUS_SYSTEM_BUS_ADDRESS") == "unix:path=/run/dbus/system_bus_socket")
        #expect(plan.mounts.contains(.symlink(target: "/run/user/1000/.dbus-proxy/system-bus", path: "/run/dbus/system_bus_socket")))
        #expect(!plan.mounts.contains(.symlink(target: ".dbus-proxy/bus", path: "/run/user/1000/bus")))
        let none = try LaunchComposer.plan(for: try base.profile("command = [\"app\"]\n[dbus]\nmode = \"filtered\"\n"), bridge: nil, facts: facts())
        #expect(none.dbus?.system == nil)
    }

    @Test func theDocumentStoreIsTheAppsOwnView() throws {
        let portals = try base.profile("command = [\"app\"]\n[dbus]\nmode = \"filtered\"\ntalk = [\"org.freedesktop.portal.*\"]\n")
        var f = facts()
        var host = f.filesystem as! DescribedHost
        host.kinds["/run/user/1000/doc/by-app"] = .directory
        f.filesystem = host
        let plan = try LaunchComposer.plan(for: portals, bridge: nil, facts: f)
        #expect(plan.mounts.contains(.userBind(source: "/run/user/1000/doc/by-app/org.sandbox.Profile.app", target: "/run/user/1000/doc", optional: true)))
        #expect(plan.dbus?.documents == "/run/user/1000/doc/by-app/org.sandbox.Profile.app")
        // Without the portals allowed, or without a running document portal: no view.
        let noPortals = try base.profile("command = [\"app\"]\n[dbus]\nmode = \"filtered\"\ntalk = [\"org.freedesktop.Notifications\"]\n")
        #expect(try LaunchComposer.plan(for: noPortals, bridge: nil, facts: f).dbus?.documents == nil)
        #expect(try LaunchComposer.plan(for: portals, bridge: nil, facts: facts()).dbus?.documents == nil)
        #expect(!(try LaunchComposer.plan(for: portals, bridge: nil, facts: facts()).mounts.contains { if case .userBind = $0 { true } else { false } }))
    }

    @Test func theGuiFragmentAllowsNotificationsTrayMprisAndPortals() throws {
        // The shipped fragment, as a profile that includes it would get it.
        let here = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let text = try #require(HostFile.read("/" + here + "/Profiles/gui.toml"))
        let p = try base.profile(text)
        let plan = try LaunchComposer.plan(for: p, bridge: nil, facts: facts())
        let rules = try #require(plan.dbus?.session?.rules)
        #expect(rules.talk.contains("org.freedesktop.Notifications"))
        #expect(rules.talk.contains("org.kde.StatusNotifierWatcher"))
        #expect(rules.talk.contains("org.freedesktop.portal.*"))
        #expect(rules.own.contains("org.mpris.MediaPlayer2.app.*"))
        #expect(rules.own.contains("org.kde.StatusNotifierItem-2-1"))
    }
}
