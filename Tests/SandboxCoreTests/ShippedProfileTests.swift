import Testing
@testable import SandboxCore

/// The profiles in Profiles/ are part of the product: each must load cleanly
/// (as `sandbox profile check` does) and every app profile must be launchable
/// and have a menu entry.
@Suite struct ShippedProfiles {
    static let dir: String = {
        // Tests/SandboxCoreTests/ShippedProfileTests.swift -> <checkout>/Profiles
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        return parts.joined(separator: "/") + "/Profiles"
    }()

    static func store() -> ProfileStore {
        let paths = Paths(configDir: "/nonexistent/sandbox", dataDir: "/nonexistent/data", runtimeDir: "/nonexistent/run",
                          profileDirs: [Self.dir])
        var store = ProfileStore(paths: paths, user: UserIdentity(uid: 1000, gid: 1000, name: "alice", home: "/home/alice"))
        store.subuidFile = "/nonexistent/subuid"
        store.subgidFile = "/nonexistent/subgid"
        return store
    }
    func store() -> ProfileStore { Self.store() }

    /// Every shipped profile but the gui fragment is an app (the catalog of
    /// Tests/Apps/catalog and the image-based ones).
    static let appNames: [String] = store().list().map(\.name).filter { $0 != "gui" }.sorted()

    /// The apps that talk to the network (browsers, mail, chat, torrent, the image-based ones).
    static let networked: Set<String> = ["firefox", "chromium", "google-chrome", "steam", "skype", "netsurf",
                                         "thunderbird", "claws-mail", "pidgin", "hexchat", "transmission", "qbittorrent"]
    /// The apps that play sound: browsers, calls, games' store, media players, music, the audio editor, chat alerts.
    static let sounding: Set<String> = ["demo", "firefox", "chromium", "google-chrome", "steam", "skype",
                                        "vlc", "mpv", "audacious", "rhythmbox", "audacity", "pidgin"]

    @Test func theExpectedProfilesShip() {
        let names = Set(store().list().map(\.name))
        #expect(names.isSuperset(of: ["gui", "demo", "firefox", "chromium", "google-chrome", "steam", "skype"]), "\(names)")
        // Issue 11 #4: at least 30 desktop apps from Debian, besides the image-based ones.
        let catalog = Self.appNames.filter { (try? store().load($0).rootfs.mode) == .host && $0 != "demo" }
        #expect(catalog.count >= 30, "\(catalog)")
    }

    @Test(arguments: ShippedProfiles.appNames)
    func appProfileIsValidAndComplete(name: String) throws {
        let p = try store().load(name)
        #expect(!p.command.isEmpty)
        #expect(p.include == ["gui"])
        #expect(p.x11.mode == .trusted)          // from the gui fragment
        #expect(p.desktop.name != nil && !p.desktop.categories.isEmpty && p.desktop.icon != nil)
        #expect(!p.description.isEmpty)
        // `profile show` output stands alone and means the same.
        var again = try store().parse(source: TOMLEmitter.emit(p), file: "/nonexistent/\(name).toml", name: name)
        again.sourcePath = p.sourcePath
        again.sourceFingerprint = p.sourceFingerprint
        again.include = p.include
        #expect(again == p)
    }

    /// The narrowest grants: a network, sound or the webcam only where the app
    /// needs it, never the host's home, never recording, binds only of the
    /// user's XDG folders (read-only for viewers and players).
    @Test(arguments: ShippedProfiles.appNames)
    func appProfileGrantsOnlyWhatItNeeds(name: String) throws {
        let p = try store().load(name)
        #expect((p.network.mode != .none) == Self.networked.contains(name), "network \(p.network.mode)")
        #expect(p.network.mode != .host)
        #expect((p.pulse.mode != .none) == Self.sounding.contains(name), "pulse \(p.pulse.mode)")
        #expect(p.devices.snd == Self.sounding.contains(name), "devices.snd")
        #expect(!p.devices.video || ["firefox", "chromium", "google-chrome", "steam", "skype", "demo"].contains(name), "webcam")
        #expect(p.pulse.microphone == (name == "skype"), "microphone")
        #expect(p.home.mode == .private || p.home.mode == .tmpfs)
        #expect(p.seccomp.profile == .default)
        let xdg: Set<String> = ["~/Documents", "~/Downloads", "~/Pictures", "~/Music", "~/Videos"]
        #expect(p.mounts.first == Self.fontCache, "the gui fragment's mounts come first")
        for m in p.mounts.dropFirst() {
            #expect(xdg.contains(m.source) && m.target == m.source && m.optional, "\(m.source) -> \(m.target)")
        }
        let viewers: Set<String> = ["evince", "zathura", "xpdf", "eog", "ristretto", "feh", "vlc", "mpv", "audacious", "rhythmbox"]
        if viewers.contains(name) {
            #expect(!p.mounts.isEmpty && p.mounts.allSatisfy(\.readonly), "a viewer's binds are read-only")
        }
    }

    /// The only bind the gui fragment adds: the host's font caches, read-only.
    static let fontCache = Profile.Mount(source: "/var/cache/fontconfig", target: "/var/cache/fontconfig", readonly: true, optional: true)

    @Test func guiIsAFragment() throws {
        let p = try store().load("gui")
        #expect(p.command.isEmpty && p.desktop.name == nil)
        #expect(p.mounts == [Self.fontCache])
        #expect(p.devices.dri && p.devices.snd && p.devices.video && p.pulse.mode == .module)
    }

    @Test func recipeDetails() throws {
        let chrome = try store().load("google-chrome")
        #expect(chrome.command == ["google-chrome", "--disable-setuid-sandbox"])
        #expect(chrome.rootfs.mode == .image)
        #expect(chrome.image.sources.first?.contains("https://dl.google.com/linux/chrome/deb/ stable main") == true)
        let steam = try store().load("steam")
        #expect(steam.image.foreignArchitectures == ["i386"] && steam.seccomp.multiarch)
        let skype = try store().load("skype")
        #expect(skype.env["QT_X11_NO_MITSHM"] == "1" && skype.env["GNOME_DESKTOP_SESSION_ID"] != nil)
        // A call client records; everything else including gui leaves the microphone off.
        let googleChrome = try store().load("google-chrome")
        #expect(skype.pulse.microphone && !googleChrome.pulse.microphone)
        let demo = try store().load("demo")
        #expect(demo.network.mode == .none && demo.home.mode == .tmpfs && demo.command.joined(separator: " ").contains("xeyes"))
    }
}

/// The man page must document every key the parser accepts, in its section.
@Suite struct ManPageCoverage {
    @Test func everySchemaKeyIsDocumented() throws {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)
        let path = parts.joined(separator: "/") + "/Docs/man/sandbox-profile.5"
        guard case .success(let text) = ProfileFiles.readText(path) else {
            Issue.record("cannot read \(path)")
            return
        }
        // Split into sections at ".SH" lines.
        var sections: [String: [String]] = [:]
        var current = ""
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix(".SH ") { current = String(line.dropFirst(4)); continue }
            sections[current, default: []].append(line)
        }
        func documented(_ key: String, in section: String) -> Bool {
            (sections[section] ?? []).contains { $0 == ".B \(key)" || $0.hasPrefix(".B \(key) ") }
        }
        for key in ["description", "command"] { #expect(documented(key, in: "TOP-LEVEL KEYS"), "\(key)") }
        #expect(documented("include", in: "INCLUDES AND MERGING"))
        for (table, keys) in ProfileSchema.tables {
            let section = table == "mount" ? "[[mount]]" : "[\(table)]"
            for key in keys { #expect(documented(key, in: section), "\(section) \(key)") }
        }
        for key in ProfileSchema.userConfig { #expect(documented(key, in: "PER-USER SETTINGS"), "\(key)") }
        #expect(sections["[env]"] != nil)
    }
}
