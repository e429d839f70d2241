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

    func store() -> ProfileStore {
        let paths = Paths(configDir: "/nonexistent/sandbox", dataDir: "/nonexistent/data", runtimeDir: "/nonexistent/run",
                          profileDirs: [Self.dir])
        var store = ProfileStore(paths: paths, user: UserIdentity(uid: 1000, gid: 1000, name: "alice", home: "/home/alice"))
        store.subuidFile = "/nonexistent/subuid"
        store.subgidFile = "/nonexistent/subgid"
        return store
    }

    @Test func theExpectedProfilesShip() {
        let names = Set(store().list().map(\.name))
        #expect(names.isSuperset(of: ["gui", "demo", "firefox", "chromium", "google-chrome", "steam", "skype"]), "\(names)")
    }

    @Test(arguments: ["demo", "firefox", "chromium", "google-chrome", "steam", "skype"])
    func appProfileIsValidAndComplete(name: String) throws {
        let p = try store().load(name)
        #expect(!p.command.isEmpty)
        #expect(p.include == ["gui"])
        #expect(p.x11.mode == .trusted)          // from the gui fragment
        #expect(p.desktop.name != nil && !p.desktop.categories.isEmpty)
        #expect(!p.description.isEmpty)
        // `profile show` output stands alone and means the same.
        var again = try store().parse(source: TOMLEmitter.emit(p), file: "/nonexistent/\(name).toml", name: name)
        again.sourcePath = p.sourcePath
        again.include = p.include
        #expect(again == p)
    }

    @Test func guiIsAFragment() throws {
        let p = try store().load("gui")
        #expect(p.command.isEmpty && p.desktop.name == nil)
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
