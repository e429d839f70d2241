import Testing
@testable import SandboxCore

@Suite struct ProfileParsing {
    @Test func everyKeyOfTheSchemaIsRead() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.userDir)/chrome.toml", """
            description = "Google Chrome"
            command = ["google-chrome", "--disable-setuid-sandbox"]
            [rootfs]
            mode = "image"
            path = "~/rootfs/chrome"
            [home]
            mode = "tmpfs"
            [idmap]
            passthrough = false
            uid = ["0 100000 1000", "1000 1000 1", "1001 101001 64535"]
            gid = ["1000 1000 1"]
            [devices]
            dri = true
            snd = true
            video = false
            extra = ["/dev/ttyUSB0"]
            required = true
            [x11]
            mode = "untrusted"
            required = false
            [pulse]
            mode = "socket"
            required = true
            [wayland]
            enabled = true
            [network]
            mode = "veth"
            bridge = "br1"
            [env]
            QT_X11_NO_MITSHM = "1"
            [[mount]]
            source = "~/Downloads"
            target = "~/Downloads"
            readonly = false
            optional = true
            [[mount]]
            source = "/srv/music"
            [seccomp]
            profile = "none"
            allow_userns = true
            multiarch = true
            allow = ["ptrace"]
            deny = ["personality"]
            [session]
            stop_timeout = 30
            [image]
            distro = "debian"
            release = "trixie"
            arch = "amd64"
            variant = "apt"
            components = ["main", "contrib"]
            foreign_architectures = ["i386"]
            packages = ["libgl1:i386", "ca-certificates"]
            sources = ["deb [signed-by=/etc/apt/keyrings/linux_signing_key.pub] https://dl.google.com/linux/chrome/deb/ stable main"]
            keys = ["https://dl.google.com/linux/linux_signing_key.pub"]
            key_fingerprints = ["eb4c 1bfd 4f04 2f6d ddcc ec91 7721 f63b d38b 4796"]
            [desktop]
            name = "Google Chrome"
            icon = "google-chrome"
            comment = "Browse the web"
            categories = ["Network", "WebBrowser"]
            mime_types = ["text/html"]
            """)
        let p = try store.load("chrome")
        #expect(p.name == "chrome")
        #expect(p.sourcePath.hasSuffix("config/sandbox/profiles/chrome.toml"))
        #expect(p.description == "Google Chrome")
        #expect(p.command == ["google-chrome", "--disable-setuid-sandbox"])
        #expect(p.rootfs.mode == .image && p.rootfs.path == "~/rootfs/chrome")
        #expect(p.home.mode == .tmpfs)
        #expect(p.idmap.passthrough == false)
        #expect(p.idmap.uid.map(\.description) == ["0 100000 1000", "1000 1000 1", "1001 101001 64535"])
        #expect(p.idmap.gid == [IDMapping(inside: 1000, outside: 1000, count: 1)])
        #expect(p.devices == {
            var d = Profile.Devices()
            d.dri = true; d.snd = true; d.extra = ["/dev/ttyUSB0"]; d.required = true
            return d
        }())
        #expect(p.x11.mode == .untrusted && p.x11.required == false)
        #expect(p.pulse.mode == .socket && p.pulse.required)
        #expect(p.wayland.enabled)
        #expect(p.network.mode == .veth && p.network.bridge == "br1")
        #expect(p.env == ["QT_X11_NO_MITSHM": "1"])
        #expect(p.mounts == [
            Profile.Mount(source: "~/Downloads", target: "~/Downloads", readonly: false, optional: true),
            Profile.Mount(source: "/srv/music", target: "/srv/music", readonly: true, optional: false),
        ])
        #expect(p.seccomp.profile == .none && p.seccomp.allowUserns && p.seccomp.multiarch)
        #expect(p.seccomp.allow == ["ptrace"] && p.seccomp.deny == ["personality"])
        #expect(p.session.stopTimeout == 30)
        #expect(p.image.release == "trixie" && p.image.variant == "apt" && p.image.components == ["main", "contrib"])
        #expect(p.image.foreignArchitectures == ["i386"] && p.image.packages == ["libgl1:i386", "ca-certificates"])
        #expect(p.image.sources.count == 1 && p.image.keys.count == 1)
        #expect(p.image.keyFingerprints == ["EB4C1BFD4F042F6DDDCCEC917721F63BD38B4796"])
        #expect(p.desktop.name == "Google Chrome" && p.desktop.icon == "google-chrome" && p.desktop.comment == "Browse the web")
        #expect(p.desktop.categories == ["Network", "WebBrowser"] && p.desktop.mimeTypes == ["text/html"])
    }

    @Test func defaultsApplyToAnEmptyProfile() throws {
        let tree = TempTree()
        defer { tree.remove() }
        tree.write("\(tree.userDir)/empty.toml", "")
        var expected = Profile(name: "empty", sourcePath: tree.root + "/\(tree.userDir)/empty.toml")
        expected.session.stopTimeout = 10
        expected.sourceFingerprint = ProfileFingerprint.of([])
        #expect(try tree.store().load("empty") == expected)
    }

    @Test func userConfigSuppliesTheStopTimeoutDefault() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("config/sandbox/config.toml", "stop_timeout = 42\nbridge = \"lan0\"\ndata_dir = \"~/sbx\"\n")
        tree.write("\(tree.userDir)/a.toml", "")
        tree.write("\(tree.userDir)/b.toml", "[session]\nstop_timeout = 3\n")
        #expect(try store.load("a").session.stopTimeout == 42)
        #expect(try store.load("b").session.stopTimeout == 3)
        let config = try store.userConfig()
        #expect(config.bridge == "lan0" && config.dataDir == "~/sbx" && config.stopTimeout == 42)
    }

    @Test func inlineTablesAndDottedKeysWork() throws {
        let tree = TempTree()
        defer { tree.remove() }
        tree.write("\(tree.userDir)/inline.toml", """
            x11 = { mode = "trusted", required = false }
            pulse.mode = "module"
            """)
        let p = try tree.store().load("inline")
        #expect(p.x11.mode == .trusted && !p.x11.required)
        #expect(p.pulse.mode == .module)
    }

    @Test func loadsByPathAndSearchOrderIsUserFirst() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.shippedDir)/app.toml", "description = \"shipped\"")
        tree.write("\(tree.systemDir)/app.toml", "description = \"system\"")
        #expect(try store.load("app").description == "system")
        tree.write("\(tree.userDir)/app.toml", "description = \"user\"")
        #expect(try store.load("app").description == "user")
        let byPath = try store.load(tree.root + "/\(tree.shippedDir)/app.toml")
        #expect(byPath.description == "shipped" && byPath.name == "app")
    }

    @Test func listShowsFirstWinsAndShadowing() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.shippedDir)/app.toml", "description = \"shipped\"")
        tree.write("\(tree.shippedDir)/other.toml", "description = \"other\"")
        tree.write("\(tree.userDir)/app.toml", "description = \"mine\"")
        tree.write("\(tree.userDir)/bad name.toml", "")
        let list = store.list()
        #expect(list.map(\.name) == ["app", "other"])
        #expect(list[0].description == "mine")
        #expect(list[0].shadows == [tree.root + "/\(tree.shippedDir)/app.toml"])
        #expect(list[1].path == tree.root + "/\(tree.shippedDir)/other.toml")
    }

    /// Shell completion's names: the same as `list`'s, without reading a file
    /// (an invalid TOML file is still a name to complete; `run` reports its errors).
    @Test func namesAreListsNamesWithoutParsing() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.shippedDir)/app.toml", "description = \"shipped\"")
        tree.write("\(tree.systemDir)/zeta.toml", "not [valid toml")
        tree.write("\(tree.userDir)/app.toml", "description = \"mine\"")
        tree.write("\(tree.userDir)/bad name.toml", "")
        tree.write("\(tree.userDir)/notes.txt", "")
        #expect(store.names() == ["app", "zeta"])
        #expect(store.names() == store.list().map(\.name))
    }
}

@Suite struct IncludesAndMerging {
    @Test func fragmentsMergeInOrderLaterKeysWinTablesMergeArraysReplaceMountsAccumulate() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.shippedDir)/gui.toml", """
            command = ["from-gui"]
            [x11]
            mode = "trusted"
            required = false
            [env]
            A = "gui"
            B = "gui"
            [devices]
            extra = ["/dev/gui"]
            [[mount]]
            source = "/gui"
            """)
        tree.write("\(tree.shippedDir)/sound.toml", """
            [pulse]
            mode = "module"
            [env]
            B = "sound"
            [[mount]]
            source = "/sound"
            """)
        tree.write("\(tree.userDir)/app.toml", """
            include = ["gui", "sound"]
            [x11]
            mode = "untrusted"
            [env]
            C = "app"
            [devices]
            extra = ["/dev/app"]
            [[mount]]
            source = "/app"
            """)
        let p = try store.load("app")
        #expect(p.include == ["gui", "sound"])
        #expect(p.command == ["from-gui"])
        #expect(p.x11.mode == .untrusted)
        #expect(p.x11.required == false)               // table merged key by key
        #expect(p.pulse.mode == .module)
        #expect(p.env == ["A": "gui", "B": "sound", "C": "app"])
        #expect(p.devices.extra == ["/dev/app"])       // arrays replace
        #expect(p.mounts.map(\.source) == ["/gui", "/sound", "/app"])   // mounts accumulate
    }

    @Test func includesResolveNextToTheIncludingFileFirstAndRecursively() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.userDir)/base.toml", "description = \"user base\"")
        tree.write("\(tree.shippedDir)/base.toml", "description = \"shipped base\"\n[home]\nmode = \"tmpfs\"")
        tree.write("\(tree.shippedDir)/mid.toml", "include = [\"base\"]\n[wayland]\nenabled = true")
        tree.write("\(tree.shippedDir)/top.toml", "include = [\"mid\"]")
        let p = try store.load("top")
        #expect(p.description == "shipped base")
        #expect(p.home.mode == .tmpfs && p.wayland.enabled)
    }

    @Test func aFileIncludingItsOwnNameExtendsTheNextOneOnThePath() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.shippedDir)/gui.toml", "[x11]\nmode = \"trusted\"\n[[mount]]\nsource = \"/a\"")
        tree.write("\(tree.userDir)/gui.toml", "include = [\"gui\"]\n[[mount]]\nsource = \"/b\"")
        let p = try store.load("gui")
        #expect(p.x11.mode == .trusted)
        #expect(p.mounts.map(\.source) == ["/a", "/b"])
    }

    @Test func aDiamondIncludeIsMergedOnce() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.userDir)/common.toml", "[[mount]]\nsource = \"/common\"")
        tree.write("\(tree.userDir)/left.toml", "include = [\"common\"]")
        tree.write("\(tree.userDir)/right.toml", "include = [\"common\"]")
        tree.write("\(tree.userDir)/app.toml", "include = [\"left\", \"right\"]")
        #expect(try store.load("app").mounts.map(\.source) == ["/common"])
    }

    @Test func includeByRelativePath() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.userDir)/fragments/net.toml", "[network]\nmode = \"pasta\"")
        tree.write("\(tree.userDir)/app.toml", "include = [\"fragments/net.toml\"]")
        #expect(try store.load("app").network.mode == .pasta)
    }

    /// The fingerprint a running container records is of the top file's bytes as
    /// they were parsed: no second read that could see another text.
    @Test func theFingerprintIsOfTheTopFileAsParsed() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        let text = "include = [\"net\"]\ncommand = [\"true\"]\n"
        tree.write("\(tree.userDir)/net.toml", "[network]\nmode = \"pasta\"")
        tree.write("\(tree.userDir)/app.toml", text)
        let first = try store.load("app")
        #expect(first.sourceFingerprint == ProfileFingerprint.of(Array(text.utf8)))
        #expect(first.sourceFingerprint == (try store.parse(source: text, file: first.sourcePath, name: "app")).sourceFingerprint)
        tree.write("\(tree.userDir)/app.toml", text + "# edited\n")
        let second = try store.load("app")
        #expect(second.sourceFingerprint != first.sourceFingerprint)
        #expect(second.sourceFingerprint == ProfileFingerprint.of(Array((text + "# edited\n").utf8)))
    }
}

/// Issue 9 #5: pasta is outbound only unless the profile names ports.
@Suite struct PastaPortKeys {
    @Test func portsAreReadForPastaAndShownAgain() throws {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        tree.write("\(tree.userDir)/dev.toml", """
            [network]
            mode = "pasta"
            inbound_tcp = [8080, 8081]
            inbound_udp = [5353]
            host_loopback_tcp = [631]
            host_loopback_udp = [53]
            """)
        let p = try store.load("dev")
        #expect(p.network.inboundTCP == [8080, 8081] && p.network.inboundUDP == [5353])
        #expect(p.network.hostLoopbackTCP == [631] && p.network.hostLoopbackUDP == [53])
        let shown = TOMLEmitter.emit(p)
        #expect(shown.contains("inbound_tcp = [8080, 8081]\n") && shown.contains("host_loopback_udp = [53]\n"), "\(shown)")
        var again = try store.parse(source: shown, file: p.sourcePath, name: "dev")
        again.include = p.include
        again.sourceFingerprint = p.sourceFingerprint
        #expect(again == p)
        // Nothing named: nothing shown, nothing open.
        tree.write("\(tree.userDir)/plain.toml", "[network]\nmode = \"pasta\"\n")
        let plain = try store.load("plain")
        #expect(plain.network.inboundTCP.isEmpty && plain.network.hostLoopbackTCP.isEmpty)
        #expect(!TOMLEmitter.emit(plain).contains("inbound_"))
    }

    @Test func badPortListsNameTheKey() {
        let tree = TempTree()
        defer { tree.remove() }
        let store = tree.store()
        func errors(_ body: String) -> [ProfileError] {
            tree.write("\(tree.userDir)/bad.toml", body)
            return store.errors(loading: "bad")
        }
        var e = errors("[network]\nmode = \"none\"\ninbound_tcp = [8080]\n")
        #expect(e.count == 1 && e.first?.kind == .badValue, "\(e)")
        #expect(e.first?.description.contains(":3: key 'network.inbound_tcp': inbound_tcp only applies to network.mode = \"pasta\" (this profile has \"none\")") == true, "\(e)")
        e = errors("[network]\nmode = \"pasta\"\nhost_loopback_tcp = [0, 70000]\n")
        #expect(e.map(\.kind) == [.badValue, .badValue], "\(e)")
        #expect(e.first?.description.contains("port 0 in host_loopback_tcp is out of range") == true, "\(e)")
        e = errors("[network]\nmode = \"pasta\"\ninbound_udp = [53, 53]\n")
        #expect(e.first?.description.contains("port 53 is listed twice in inbound_udp") == true, "\(e)")
        e = errors("[network]\nmode = \"pasta\"\ninbound_tcp = [\"8080\"]\n")
        #expect(e.first?.kind == .wrongType, "\(e)")
        e = errors("[network]\nmode = \"pasta\"\ninbound_tcp = 8080\n")
        #expect(e.first?.description.contains("write inbound_tcp = [8080]") == true, "\(e)")
        // An empty list is fine with any mode.
        #expect(errors("[network]\nmode = \"veth\"\ninbound_tcp = []\n").isEmpty)
    }
}
