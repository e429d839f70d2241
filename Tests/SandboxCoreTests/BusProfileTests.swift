// [dbus]: the decoder accepts exactly what xdg-dbus-proxy accepts (an element
// it would refuse is an error naming the key, with a hint), fragments merge
// their lists, and the bus planner turns the section into binds, variables and
// the proxy's data.
import Testing
@testable import SandboxCore

@Suite struct BusProfileDecoding {
    let messages = ProfileErrorMessages()

    func load(_ text: String, extra: [String: String] = [:]) throws -> Profile {
        let tree = TempTree()
        defer { tree.remove() }
        for (name, body) in extra { tree.write("\(tree.userDir)/\(name).toml", body) }
        tree.write("\(tree.userDir)/t.toml", text)
        return try tree.store().load("t")
    }

    @Test func everyListAndTheSystemBus() throws {
        let p = try load("""
            [dbus]
            mode = "filtered"
            talk = ["org.freedesktop.Notifications", "org.freedesktop.portal.*"]
            own = ["org.mpris.MediaPlayer2.{name}.*", "org.kde.StatusNotifierItem-2-1"]
            see = ["org.example.Seen"]
            call = ["org.example.App=org.example.App.Open@/org/example/*", "org.example.Other=*", "org.x.Y=@/"]
            broadcast = ["org.example.App=org.example.App.*@/org/example"]
            [dbus.system]
            talk = ["org.freedesktop.UPower"]
            """)
        #expect(p.dbus.mode == .filtered)
        #expect(p.dbus.session.talk == ["org.freedesktop.Notifications", "org.freedesktop.portal.*"])
        #expect(p.dbus.session.own.count == 2)
        #expect(p.dbus.session.call.count == 3)
        #expect(p.dbus.system.talk == ["org.freedesktop.UPower"])
        #expect(try load("description = \"x\"\n").dbus.mode == .none)   // the default: no bus
    }

    @Test func malformedNamesNameTheKey() {
        messages.expectOne("[dbus]\ntalk = [\n  \"org.ok.Name\",\n  \"notdotted\",\n]\n", .badValue, line: 4, key: "dbus.talk[1]",
                           mentions: ["is not a valid bus name", "org.freedesktop.Notifications"])
        messages.expectOne("[dbus]\nown = [\"org.1digit.Name\"]\n", .badValue, line: 2, key: "dbus.own[0]", mentions: ["not a valid bus name"])
        messages.expectOne("[dbus]\nsee = [\":1.42\"]\n", .badValue, line: 2, key: "dbus.see[0]")
        messages.expectOne("[dbus]\ntalk = [\"org.foo*\"]\n", .badValue, line: 2, key: "dbus.talk[0]")
        messages.expectOne("[dbus]\ntalk = [\"--own=org.evil.Name\"]\n", .badValue, line: 2, key: "dbus.talk[0]")
        messages.expectOne("[dbus]\ncall = [\"org.x.Y\"]\n", .badValue, line: 2, key: "dbus.call[0]", mentions: ["NAME=RULE"])
        messages.expectOne("[dbus]\ncall = [\"org.x.Y=not a rule\"]\n", .badValue, line: 2, key: "dbus.call[0]")
        messages.expectOne("[dbus]\nbroadcast = [\"org.x.Y=org.x.Y.Sig@relative\"]\n", .badValue, line: 2, key: "dbus.broadcast[0]")
        messages.expectOne("[dbus.system]\ntalk = [\"bad\"]\n", .badValue, line: 2, key: "dbus.system.talk[0]", mentions: ["[dbus.system] talk"])
        messages.expectOne("[dbus]\nmode = \"filterd\"\n", .badValue, line: 2, key: "dbus.mode", mentions: ["did you mean \"filtered\"?"])
        messages.expectOne("[dbus]\ntlak = []\n", .unknownKey, line: 2, key: "dbus.tlak", mentions: ["did you mean \"talk\"?"])
        messages.expectOne("[dbus]\ntalk = \"org.x.Y\"\n", .wrongType, line: 2, key: "dbus.talk", mentions: ["write talk = [\"org.x.Y\"]"])
    }

    @Test func fragmentsMergeTheirLists() throws {
        let p = try load("""
            include = ["frag"]
            [dbus]
            talk = ["org.example.Mine"]
            [dbus.system]
            talk = ["org.example.Sys2"]
            """, extra: ["frag": "[dbus]\nmode = \"filtered\"\ntalk = [\"org.freedesktop.Notifications\"]\nown = [\"org.example.Own\"]\n[dbus.system]\ntalk = [\"org.example.Sys1\"]\n"])
        #expect(p.dbus.mode == .filtered)
        #expect(p.dbus.session.talk == ["org.freedesktop.Notifications", "org.example.Mine"])
        #expect(p.dbus.session.own == ["org.example.Own"])
        #expect(p.dbus.system.talk == ["org.example.Sys1", "org.example.Sys2"])
    }

    @Test func theEmitterWritesItBack() throws {
        let p = try load("[dbus]\nmode = \"filtered\"\ntalk = [\"org.a.B\"]\ncall = [\"org.a.C=*\"]\n[dbus.system]\nsee = [\"org.a.D\"]\n")
        let text = TOMLEmitter.emit(p)
        #expect(text.contains("[dbus]\nmode = \"filtered\"\ntalk = [\"org.a.B\"]\ncall = [\"org.a.C=*\"]"), "\(text)")
        #expect(text.contains("[dbus.system]\nsee = [\"org.a.D\"]"), "\(text)")
        let tree = TempTree()
        defer { tree.remove() }
        tree.write("\(tree.userDir)/again.toml", text)
        #expect(try tree.store().load("again").dbus == p.dbus)
    }
}

@Suite struct BusNameRules {
    @Test func namesAsXdgDbusProxyReadsThem() {
        for ok in ["org.a", "org.freedesktop.portal.*", "org.kde.StatusNotifierItem-2-1", "a_b.c-d", "org.mpris.MediaPlayer2.x.*"] {
            #expect(DBusNames.isPolicyName(ok), "\(ok)")
        }
        for bad in ["", "org", "org.", ".org.a", "org..a", "org.1a", ":1.2", "org.a.**", "org.*", "org.a b", "org.a/b",
                    String(repeating: "a.", count: 128) + "a"] {
            #expect(!DBusNames.isPolicyName(bad), "\(bad)")
        }
        for ok in ["*", "org.a.B", "org.a.B.*", "org.a.B.Method", "@/org/a", "@/org/a/*", "org.a.B@/", "@/*", "org.a.*@/x"] {
            #expect(DBusNames.isRule(ok), "\(ok)")
        }
        for bad in ["", "@", "org", "@org/a", "org.a.B@/a/", "org.a.B@/a//b", "org.1.B", "org.a-b.C", "**"] {
            #expect(!DBusNames.isRule(bad), "\(bad)")
        }
    }

    @Test func appIDsAreValidForThePortal() {
        #expect(DBusNames.appID(profile: "firefox") == "org.sandbox.Profile.firefox")
        #expect(DBusNames.appID(profile: "google-chrome") == "org.sandbox.Profile.google-chrome")
        #expect(DBusNames.appID(profile: "my.app") == "org.sandbox.Profile.my_app")
        #expect(DBusNames.appID(profile: "7zip") == "org.sandbox.Profile._7zip")
        for name in ["firefox", "google-chrome", "my.app", "7zip", "a_b-c.d"] {
            #expect(DBusNames.isWellKnownName(DBusNames.appID(profile: name)))
            #expect(DBusNames.isPolicyName("org.mpris.MediaPlayer2." + DBusNames.element(name) + ".*"))
        }
    }

    @Test func proxyArguments() {
        let m = DBusMediation(
            proxy: "/usr/bin/xdg-dbus-proxy", appID: "org.sandbox.Profile.app",
            session: DBusProxiedBus(upstream: "unix:path=/run/user/1000/bus", socketPath: "/run/user/1000/sandbox/app/bus",
                                    rules: DBusRules(talk: ["org.a.B"], own: ["org.c.D.*"], see: ["org.e.F"], call: ["org.g.H=*"], broadcast: ["org.g.H=@/g"])),
            system: DBusProxiedBus(upstream: "unix:path=/run/dbus/system_bus_socket", socketPath: "/run/user/1000/sandbox/app/system-bus",
                                   rules: DBusRules(talk: ["org.freedesktop.UPower"])),
            identity: "", log: true)
        #expect(m.proxyArguments(readyFD: 7) == [
            "/usr/bin/xdg-dbus-proxy", "--fd=7",
            "unix:path=/run/user/1000/bus", "/run/user/1000/sandbox/app/bus", "--filter", "--log",
            "--see=org.e.F", "--talk=org.a.B", "--own=org.c.D.*", "--call=org.g.H=*", "--broadcast=org.g.H=@/g",
            "unix:path=/run/dbus/system_bus_socket", "/run/user/1000/sandbox/app/system-bus", "--filter", "--log",
            "--talk=org.freedesktop.UPower",
        ])
        var quiet = m
        quiet.log = false
        quiet.system = nil
        #expect(!quiet.proxyArguments(readyFD: 3).contains("--log"))
        #expect(quiet.proxyArguments(readyFD: 3).filter { $0 == "--filter" }.count == 1)
    }

    @Test func theIdentityFileIsWhatThePortalReads() {
        let text = FlatpakInfo.render(appID: "org.sandbox.Profile.app", instance: "app", network: false, sessionBusProxy: true, systemBusProxy: false)
        #expect(text.hasPrefix("[Application]\nname=org.sandbox.Profile.app\n"))
        #expect(text.contains("[Instance]\ninstance-id=app\n"))
        #expect(text.contains("shared=ipc;"))
        #expect(!text.contains("network"))
    }

    @Test func doctorSaysWhetherTheBusCanWork() {
        struct Host: HostFilesystem {
            var present: Set<String>
            func kind(of path: String) -> HostPathKind { present.contains(path) ? (path.hasSuffix("by-app") ? .directory : .file) : .missing }
            func contents(of path: String) -> String? { nil }
        }
        let env = ["XDG_RUNTIME_DIR": "/run/user/7"]
        let ok = BusPlanner.assess(hostEnvironment: env, host: Host(present: ["/run/user/7/bus", "/run/user/7/doc/by-app"]), proxy: "/usr/bin/xdg-dbus-proxy")
        #expect(ok.status == .ok)
        #expect(ok.finding == "/run/user/7/bus, filtered through /usr/bin/xdg-dbus-proxy; the document portal is mounted at /run/user/7/doc")
        let noProxy = BusPlanner.assess(hostEnvironment: env, host: Host(present: ["/run/user/7/bus"]), proxy: nil)
        #expect(noProxy.status == .warn && noProxy.hint == "apt install xdg-dbus-proxy")
        let noBus = BusPlanner.assess(hostEnvironment: env, host: Host(present: []), proxy: "/p")
        #expect(noBus.status == .warn && noBus.finding.contains("/run/user/7/bus does not exist"))
        let abstract = BusPlanner.assess(hostEnvironment: ["DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/x"], host: Host(present: []), proxy: "/p")
        #expect(abstract.status == .warn && abstract.finding.contains("not a unix:path= socket"))
    }

    @Test func addressesOfTheHostBus() {
        // Only a socket file can be bound into a container: abstract and relative entries are passed over.
        #expect(BusPlanner.socketFile("unix:path=/tmp/a%20b,guid=0123") == "/tmp/a b")
        #expect(BusPlanner.socketFile("unix:abstract=/tmp/dbus-x;unix:path=bus;unix:path=/run/b") == "/run/b")
        #expect(BusPlanner.socketFile("unix:abstract=/tmp/dbus-x,guid=1") == nil)
        #expect(BusPlanner.socketFile("tcp:host=localhost,port=1") == nil)
        #expect(BusPlanner.sessionBusPath(["XDG_RUNTIME_DIR": "/run/user/7"]) == .success("/run/user/7/bus"))
        guard case .failure(let why) = BusPlanner.sessionBusPath(["DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/x"]) else {
            Issue.record("an abstract address was accepted"); return
        }
        #expect(why.contains("abstract"))
    }
}
